"""Gate policies and their evaluation on results built from real published data (tests/test_report_fixtures.py).

Reference values: mini − Wright peak flow (Bland & Altman 1986, first readings): bias 2.12 l/min (published),
ICC(A,1) lower 95% bound 0.8574 (harness.agreement; pingouin 0.6.1 prints 0.86); MAE difference mini-2nd − mini
one-sided 95% upper bootstrap bound 8.003 l/min (harness.agreement.compare_errors, seed 0); device p95 latencies
22.9 ms (LiteRT JSON log) and 106.281 / 116.62 ms (benchmark_model log) as printed by the tools.
"""
from __future__ import annotations

import copy
import math
import xml.etree.ElementTree as ET

import pytest

from ground_truth.kernel import InputError, ManifestError
from harness.gates import (evaluate_policy, exit_code, junit_xml, load_policy, policy_from_dict,
                           sample_policy_path, summarize, write_sample_policy)
from test_report_fixtures import PEFR_KPI, pefr_results


@pytest.fixture(scope="module")
def results():
    return pefr_results()


def rule(**kw):
    base = {"id": "r1", "metric": "agreement.icc_ci_low", "kpi": PEFR_KPI, "op": ">=", "threshold": 0.75}
    base.update(kw)
    return base


def policy(*rules, **head):
    return policy_from_dict({"policy": {"name": "test", **head}, "rule": list(rules)})


def by_cand(verdicts):
    return {v.candidate + (f"@{v.device}" if v.device else ""): v for v in verdicts}


def test_icc_lower_bound_passes_and_message_states_actual_against_threshold(results):
    vs = evaluate_policy(results, policy(rule()))
    assert [v.candidate for v in vs] == ["mini-wright", "mini-wright-2nd"]
    v = vs[0]
    assert v.status == "pass" and not v.blocks and v.actual == pytest.approx(0.8574, abs=1e-4)
    assert v.message == "ICC(A,1) lower 95% bound of peak_expiratory_flow 0.8574 ≥ 0.75: pass"
    assert exit_code(vs) == 0


def test_abs_bias_fails_blocking_and_advisory_does_not_block(results):
    vs = evaluate_policy(results, policy(
        rule(id="bias", metric="agreement.bias", abs=True, op="<=", threshold=1.0),
        rule(id="loa", metric="agreement.loa_upper", op="<=", threshold=50.0, severity="advisory")))
    bias = vs[0]
    assert bias.status == "fail" and bias.blocks and bias.actual == pytest.approx(2.1176, abs=1e-3)
    assert bias.message == "|bias| of peak_expiratory_flow 2.118 l/min ≤ 1 l/min: fail"
    loa = [v for v in vs if v.rule_id == "loa"]
    assert all(v.status == "fail" and not v.blocks for v in loa)
    assert exit_code(vs) == 1
    assert exit_code(loa) == 0
    s = summarize(vs)
    assert s["fail"] == 4 and s["blocking"] == 2 and s["candidates"] == {"mini-wright": "blocked",
                                                                        "mini-wright-2nd": "blocked"}


def test_non_inferiority_judged_on_upper_bound_of_paired_bootstrap(results):
    ni = dict(id="ni", mode="non-inferiority", kpi=PEFR_KPI, where={"metric": "mae"})
    del_keys = {"metric", "op", "threshold"}
    base = {k: v for k, v in rule().items() if k not in del_keys}
    ok = evaluate_policy(results, policy({**base, **ni, "margin": 10.0}))
    # the baseline (flagged baseline=true) is not compared with itself
    assert [v.candidate for v in ok] == ["mini-wright-2nd"]
    assert ok[0].status == "pass" and ok[0].baseline == "mini-wright"
    assert ok[0].actual == pytest.approx(results["comparisons"][0]["diff_ci_high"])
    assert ok[0].message == ("MAE difference vs mini-wright, upper 95% bound of peak_expiratory_flow "
                             "8.003 l/min < margin 10 l/min: pass")
    bad = evaluate_policy(results, policy({**base, **ni, "margin": 5.0}))
    assert bad[0].status == "fail" and bad[0].blocks
    other = evaluate_policy(results, policy({**base, **ni, "margin": 5.0, "baseline": "mini-wright-2nd"}))
    assert other[0].candidate == "mini-wright" and other[0].status == "not-evaluable" and other[0].blocks
    assert "against baseline mini-wright-2nd" in other[0].reason
    with pytest.raises(ManifestError, match="upper CI bound"):
        policy({**base, **ni, "margin": 5.0, "metric": "comparisons.diff"})


def test_relative_to_baseline_difference_and_ratio(results):
    vs = evaluate_policy(results, policy(
        {"id": "size-ratio", "metric": "candidates.model_bytes", "mode": "ratio", "op": "<=", "threshold": 0.5},
        {"id": "size-diff", "metric": "candidates.model_bytes", "mode": "difference", "op": "<=",
         "threshold": 0.0, "scale": 1e-6, "unit": "MB"}))
    ratio, diff = vs
    # file sizes 2,959,046 / 6,440,512 bytes = 0.45944 by hand; difference −3.481466 MB
    assert ratio.actual == pytest.approx(2959046 / 6440512) and ratio.status == "pass"
    assert "relative to baseline mini-wright" in ratio.message and "0.4594×" in ratio.message
    assert diff.actual == pytest.approx(-3.481466) and diff.status == "pass" and diff.unit == "MB"
    none = copy.deepcopy(results)
    for c in none["candidates"]:
        c["baseline"] = False
    v = evaluate_policy(none, policy({"id": "x", "metric": "candidates.model_bytes", "mode": "ratio", "op": "<=",
                                      "threshold": 1.0}))
    assert {x.status for x in v} == {"not-evaluable"} and "no baseline candidate" in v[0].reason


def test_device_rules_give_one_verdict_per_device_record(results):
    vs = evaluate_policy(results, policy({"id": "p95", "metric": "device.latency.p95_ms", "op": "<=",
                                          "threshold": 100.0}))
    got = {(v.candidate, v.device): (v.status, v.actual) for v in vs}
    assert got[("mini-wright", "litert (benchmark_litert_model), cpu, 1 thread")] == ("pass", 22.9)
    assert got[("mini-wright-2nd", "benchmark_model, xnnpack")] == ("fail", 106.281)
    assert got[("mini-wright-2nd", "benchmark_model, gpu")] == ("fail", 116.62)
    assert vs[0].message == "p95 latency on litert (benchmark_litert_model), cpu, 1 thread 22.9 ms ≤ 100 ms: pass"
    # the tools print no p90: a p90 rule is not evaluable, and blocks unless allow_missing
    p90 = evaluate_policy(results, policy({"id": "p90", "metric": "device.latency.p90_ms", "op": "<=",
                                           "threshold": 100.0}))
    assert {v.status for v in p90} == {"not-evaluable"} and all(v.blocks for v in p90)
    assert "latency.p90_ms is null" in p90[0].reason
    allowed = evaluate_policy(results, policy({"id": "p90", "metric": "device.latency.p90_ms", "op": "<=",
                                               "threshold": 100.0, "allow_missing": True}))
    assert not any(v.blocks for v in allowed) and exit_code(allowed) == 0


def test_stat_over_a_list_of_per_run_latencies_uses_nearest_rank():
    # Hand-made per-run list (not measured data): nearest-rank p90 of 10, 20, ..., 100 is the 9th value, 90.
    res = {"candidates": [{"name": "m", "model_sha256": "abc"}],
           "device": [{"model": {"sha256": "abc"}, "device": {"platform": "linux"}, "runtime": {"name": "litert"},
                       "latency": {"raw_ms": [float(x) for x in range(100, 0, -10)]}}]}
    p = policy({"id": "p90", "metric": "device.latency.raw_ms", "stat": "p90", "op": "<=", "threshold": 90})
    v = evaluate_policy(res, p)[0]
    assert v.actual == 90.0 and v.status == "pass" and v.message.startswith("p90 of latency.raw ms on linux")
    no_stat = evaluate_policy(res, policy({"id": "x", "metric": "device.latency.raw_ms", "op": "<=",
                                           "threshold": 90}))[0]
    assert no_stat.status == "error" and "needs stat" in no_stat.reason and no_stat.blocks


def test_missing_and_unjudgeable_values(results):
    res = copy.deepcopy(results)
    res["agreement"][0]["icc_ci_low"] = None
    vs = evaluate_policy(res, policy(rule(), rule(id="adv", severity="advisory")))
    assert vs[0].status == "not-evaluable" and vs[0].blocks and "null" in vs[0].reason
    assert vs[0].message.endswith("≥ 0.75: not-evaluable (agreement.icc_ci_low is null (not measured or not "
                                  "computable))")
    assert vs[2].status == "not-evaluable" and not vs[2].blocks
    res["agreement"][0]["icc_ci_low"] = float("nan")
    assert "NaN" in evaluate_policy(res, policy(rule()))[0].reason
    text = evaluate_policy(results, policy(rule(metric="agreement.icc_interpretation")))[0]
    assert text.status == "error" and "'good to excellent', not a number" in text.reason and text.blocks
    dup = copy.deepcopy(results)
    dup["agreement"].append(dict(dup["agreement"][0], unit="L/min"))
    amb = evaluate_policy(dup, policy(rule()))[0]
    assert amb.status == "error" and "2 agreement rows match" in amb.reason and "unit" in amb.reason
    absent = evaluate_policy(results, policy(rule(kpi="com_path_length")))[0]
    assert absent.status == "not-evaluable" and "kpi=com_path_length, condition=all" in absent.reason
    empty = evaluate_policy({"candidates": [{"name": "m"}]}, policy(rule()))[0]
    assert "no 'agreement' section" in empty.reason
    only = evaluate_policy(results, policy(rule(candidates=["ghost"])))[0]
    assert only.status == "not-evaluable" and "'ghost' is not in the results" in only.reason


def test_policy_errors_name_file_rule_and_field(tmp_path, results):
    def load(text):
        path = tmp_path / "p.toml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)
    good = '[[rule]]\nid = "a"\nmetric = "agreement.icc"\nop = ">="\nthreshold = 0.5\n'
    assert load(good).rules[0].op == ">="
    assert load(good.replace('">="', '"≥"')).rules[0].op == ">="
    with pytest.raises(ManifestError, match=r"p.toml: field 'rule 'a'.op': unknown operator '=>'"):
        load(good.replace('">="', '"=>"'))
    with pytest.raises(ManifestError, match=r"p.toml.*rule 'a'.metric.*unknown metric path 'agreemnt.icc'"):
        load(good.replace("agreement.icc", "agreemnt.icc"))
    with pytest.raises(ManifestError, match=r"p.toml.*not valid TOML"):
        load(good + "threshold = [")
    with pytest.raises(ManifestError, match=r"rule 'a'.threshold.*not a finite number"):
        load(good.replace("0.5", '"high"'))
    with pytest.raises(ManifestError, match=r"rule 'a'.severity.*'fatal'"):
        load(good + 'severity = "fatal"\n')
    with pytest.raises(ManifestError, match=r"duplicate rule id"):
        load(good + good)
    with pytest.raises(ManifestError, match=r"rule 'a'.treshold.*unknown field"):
        load(good + "treshold = 1\n")
    with pytest.raises(ManifestError, match="at least one"):
        load('[policy]\nname = "empty"\n')
    with pytest.raises(ManifestError, match="policy file not found"):
        load_policy(tmp_path / "nope.toml")
    # a field neither the schema nor the results know is a typo: error, not a silent not-evaluable
    typo = load(good.replace("agreement.icc", "agreement.icc_lo"))
    with pytest.raises(ManifestError, match=r"rule 'a'.metric.*section 'agreement' has no field 'icc_lo'"):
        evaluate_policy(results, typo)
    with pytest.raises(ManifestError, match=r"unknown field 'kpi_name' in where"):
        evaluate_policy(results, load(good + 'where = { kpi_name = "x" }\n'))
    with pytest.raises(InputError, match="must be a dict"):
        evaluate_policy([], typo)


def test_sample_policy_loads_and_is_written_by_demo_helper(tmp_path, results):
    p = load_policy(sample_policy_path())
    assert {"com-path-icc", "ttf-bias", "com-path-noninferior", "latency-p90", "model-size",
            "energy-60s"} <= {r.id for r in p.rules}
    out = write_sample_policy(tmp_path)
    assert out == tmp_path / "policy.toml" and load_policy(out).rules == p.rules
    vs = evaluate_policy(results, p)
    size = [v for v in vs if v.rule_id == "model-size"]
    assert [v.message for v in size] == ["model size 6.441 MB ≤ 30 MB: pass", "model size 2.959 MB ≤ 30 MB: pass"]
    # the sample's balance KPIs are absent from these (peak-flow) results: blocking rules are not evaluable
    # and block; energy (allow_missing) does not.
    icc = [v for v in vs if v.rule_id == "com-path-icc"]
    assert all(v.status == "not-evaluable" and v.blocks for v in icc)
    assert not any(v.blocks for v in vs if v.rule_id == "energy-60s")


def test_junit_xml_is_well_formed_and_counts_match(results):
    vs = evaluate_policy(results, policy(
        rule(), rule(id="bias", metric="agreement.bias", abs=True, op="<=", threshold=1.0),
        rule(id="adv", metric="agreement.loa_upper", op="<=", threshold=50.0, severity="advisory"),
        rule(id="err", metric="agreement.icc_interpretation")))
    root = ET.fromstring(ET.tostring(junit_xml(vs, policy_name="test").getroot()))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(vs) == int(root.get("tests"))
    # schema-like checks (JUnit XSD as read by GitHub Actions reporters, Fastlane trainer and Bitrise):
    for suite in root.findall("testsuite"):
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp", "id"):
            assert suite.get(attr) is not None, attr
        n = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
        sc = suite.findall("testcase")
        assert n["tests"] == len(sc)
        assert n["failures"] == sum(c.find("failure") is not None for c in sc)
        assert n["errors"] == sum(c.find("error") is not None for c in sc)
        assert n["skipped"] == sum(c.find("skipped") is not None for c in sc)
    for c in cases:
        assert c.get("name") and c.get("classname", "").startswith("stancebench.gates.")
        assert not math.isnan(float(c.get("time")))
        outcome = [ch for ch in c if ch.tag in ("failure", "error", "skipped")]
        assert len(outcome) <= 1
        for ch in outcome:
            assert ch.get("message")
    failures = root.findall(".//failure")
    assert len(failures) == 2 and failures[0].get("type") == "fail"
    assert failures[0].get("message") == "|bias| of peak_expiratory_flow 2.118 l/min ≤ 1 l/min: fail"
    assert len(root.findall(".//error")) == 2  # the blocking non-numeric rule, per candidate
    skipped = root.findall(".//skipped")
    assert len(skipped) == 2 and skipped[0].get("message").startswith("advisory (does not block): ")
    assert int(root.get("failures")) == 2 and int(root.get("errors")) == 2 and int(root.get("skipped")) == 2


def test_pooled_condition_row_is_the_default_and_notes_explain_missing_values(results):
    res = copy.deepcopy(results)
    pooled = dict(res["categorical"][0], condition="all")
    res["categorical"] = [pooled, dict(pooled, condition="eyes_open_firm", kappa_ci_low=0.1)]
    rule_k = {"id": "k", "metric": "categorical.kappa_ci_low", "kpi": "diagnosis", "op": ">=", "threshold": 0.4}
    v = evaluate_policy(res, policy(rule_k))[0]
    assert v.status == "pass" and v.condition == "all" and v.actual == pytest.approx(pooled["kappa_ci_low"])
    per_cond = evaluate_policy(res, policy({**rule_k, "condition": "eyes_open_firm"}))[0]
    assert per_cond.status == "fail" and per_cond.message.endswith("(eyes_open_firm) 0.1 ≥ 0.4: fail")
    # an agreement row without statistics: the reason carries the row's note
    res["agreement"][0].update(bias=None, note="too few complete pairs for agreement statistics (n=2, need 3)")
    nb = evaluate_policy(res, policy(rule(id="b", metric="agreement.bias", abs=True, op="<=", threshold=1)))[0]
    assert nb.status == "not-evaluable" and nb.reason.endswith("note: too few complete pairs for agreement "
                                                               "statistics (n=2, need 3)")


def test_reason_beside_a_null_value_is_carried_into_the_verdict():
    # device record layout of device_runners (energy not measurable on a Linux host)
    res = {"candidates": [{"name": "m", "model_sha256": "abc"}],
           "device": [{"model": {"sha256": "abc"}, "device": {"platform": "linux"}, "runtime": {"name": "litert"},
                       "energy": {"value": None, "unit": None, "method": "not measured",
                                  "reason": "/sys/class/powercap absent"}}]}
    v = evaluate_policy(res, policy({"id": "e", "metric": "device.energy.value", "op": "<=", "threshold": 5,
                                     "unit": "mAh", "allow_missing": True}))[0]
    assert v.status == "not-evaluable" and not v.blocks
    assert v.reason == ("device.energy.value is null (not measured or not computable); reason: "
                        "/sys/class/powercap absent")
    assert v.message == ("energy on linux, litert ≤ 5 mAh: not-evaluable (device.energy.value is null (not "
                         "measured or not computable); reason: /sys/class/powercap absent)")


def test_energy_of_one_assessment_is_judged():
    # device_runners.record.assessment_energy: a phone's batterystats charge scaled to a 60-s, 30-fps assessment
    rec = {"model": {"sha256": "abc"}, "device": {"platform": "android", "model": "Pixel 7"},
           "runtime": {"name": "benchmark_model", "delegate": "gpu"},
           "energy": {"value": 0.9, "unit": "mAh", "method": "batterystats estimate", "assessment_mah": 6.4,
                      "assessment_basis": "0.9 mAh over 253 inferences, scaled to a 60-s assessment"}}
    res = {"candidates": [{"name": "m", "model_sha256": "abc"}], "device": [rec]}
    rule = {"id": "e", "metric": "device.energy.assessment_mah", "op": "<=", "threshold": 5}
    v = evaluate_policy(res, policy(rule))[0]
    assert v.status == "fail" and v.actual == 6.4 and v.unit == "mAh"
    assert v.message == "energy of one assessment on Pixel 7, benchmark_model, gpu 6.4 mAh ≤ 5 mAh: fail"
    rec["energy"]["assessment_mah"] = 3.2
    assert evaluate_policy(res, policy(rule))[0].status == "pass"


def test_stat_over_several_rows_trials_and_conditions(results):
    # every trial of the fixture has detection_rate 1.0
    v = evaluate_policy(results, policy({"id": "det", "metric": "trials.detection_rate", "stat": "min",
                                         "op": ">=", "threshold": 0.9}))
    assert [x.status for x in v] == ["pass", "pass"] and v[0].actual == 1.0
    assert v[0].message == "min of detection rate over 17 trials rows 1 ≥ 0.9: pass"
    no_stat = evaluate_policy(results, policy({"id": "det", "metric": "trials.detection_rate", "op": ">=",
                                               "threshold": 0.9}))[0]
    assert no_stat.status == "error" and "17 trials rows match" in no_stat.reason
    # max |bias| over every condition: per-condition rows added with biases of opposite sign (constructed)
    res = copy.deepcopy(results)
    res["agreement"] += [dict(res["agreement"][0], condition="c1", bias=-3.5),
                         dict(res["agreement"][0], condition="c2", bias=1.0)]
    r = rule(id="maxbias", metric="agreement.bias", abs=True, stat="max", condition="*", op="<=", threshold=3.0)
    m = evaluate_policy(res, policy(r))[0]
    assert m.actual == 3.5 and m.status == "fail"
    assert m.message == ("max of |bias| over 3 agreement rows of peak_expiratory_flow (any condition) 3.5 l/min "
                         "≤ 3 l/min: fail")


# ----------------------------------------------------------------------------------------------------- controls
# Results with a positive and a negative control (tests/control_fixtures.py: Bland & Altman 1986 peak flow; the
# expected biases are computed there by hand with numpy from the CSV), written by the results writer and read
# back from the file, as `stancebench gate` reads them.

@pytest.fixture(scope="module")
def control_results(tmp_path_factory):
    from control_fixtures import results_with_controls
    from harness.results import read_results_json, write_results
    path = write_results(results_with_controls(), tmp_path_factory.mktemp("controls"))["results"]
    return read_results_json(path)


def expectation(vs, name):
    from harness.gates import CONTROL_RULE_ID
    [v] = [v for v in vs if v.rule_id == CONTROL_RULE_ID and v.candidate == name]
    return v


def test_controls_are_judged_like_candidates_and_both_as_expected_exit_0(control_results):
    from control_fixtures import DISCRIMINATING, NEGATIVE, POSITIVE, hand_biases
    from control_fixtures import policy as ctl_policy
    vs = evaluate_policy(control_results, ctl_policy(DISCRIMINATING))
    bias = {v.candidate: v for v in vs if v.rule_id == "pefr-bias"}
    # same rule, actual against threshold, for every candidate: the controls too
    for name, expected in hand_biases().items():
        assert bias[name].actual == pytest.approx(abs(expected), abs=1e-9)
    assert bias[NEGATIVE].status == "fail" and bias[NEGATIVE].control == "negative"
    # a control's verdict says what it does to the control and never blocks the release itself
    assert bias[NEGATIVE].would_block is True and bias[NEGATIVE].blocks is False
    assert bias[NEGATIVE].message == "|bias| of peak_expiratory_flow 17.12 l/min ≤ 10 l/min: fail"
    # the model-size rule judges the shipped model: the real candidates only
    assert {v.candidate for v in vs if v.rule_id == "model-size"} == {"mini-wright", "mini-wright-2nd"}
    pos, neg = expectation(vs, POSITIVE), expectation(vs, NEGATIVE)
    assert (pos.status, pos.expected_outcome, pos.actual_outcome, pos.blocks) == ("pass", "not blocked",
                                                                                   "not blocked", False)
    assert (neg.status, neg.expected_outcome, neg.actual_outcome, neg.blocks) == ("pass", "blocked", "blocked",
                                                                                   False)
    assert neg.message == ("negative control mini-wright-offset is blocked, as expected: 1 of the 2 blocking KPI "
                           "gate(s) that measured it fail it (pefr-bias)")
    assert exit_code(vs) == 0
    s = summarize(vs)
    assert s["candidates"] == {"mini-wright": "pass", "mini-wright-2nd": "pass"}   # controls are no candidates
    assert s["controls"]["discriminates"] is True
    assert s["controls"]["text"].startswith(f"controls: positive control {POSITIVE} passed, negative control "
                                            f"{NEGATIVE} blocked: the harness discriminates")


def test_positive_control_blocked_exits_1_with_a_message(control_results):
    from control_fixtures import BLOCKS_POSITIVE, NEGATIVE, POSITIVE
    from control_fixtures import policy as ctl_policy
    vs = evaluate_policy(control_results, ctl_policy(BLOCKS_POSITIVE))
    # no real candidate is blocked: mini +2.12 and mini 2nd +5.00 l/min read at most 4 l/min low
    assert not any(v.blocks for v in vs if v.control is None)
    pos = expectation(vs, POSITIVE)
    # wright 2nd − 1st reading: −84/17 = −4.941 l/min, below −4
    assert pos.status == "fail" and pos.blocks and pos.actual == 1 and pos.actual_outcome == "blocked"
    assert pos.message == ("positive control wright-2nd-reading is BLOCKED, expected not blocked: the gates reject "
                           "a near-perfect model (1 blocking verdict(s): bias of peak_expiratory_flow -4.941 l/min "
                           "≥ -4 l/min: fail)")
    assert expectation(vs, NEGATIVE).status == "pass"
    assert exit_code(vs) == 1
    assert summarize(vs)["controls"]["discriminates"] is False


def test_negative_control_that_passes_exits_1(control_results):
    from control_fixtures import ICC_ONLY, NEGATIVE
    from control_fixtures import policy as ctl_policy
    vs = evaluate_policy(control_results, ctl_policy(ICC_ONLY))
    # an offset of 15 l/min leaves the ICC(A,1) lower bound at 0.824 (harness.agreement; pingouin 0.82) >= 0.75
    neg = expectation(vs, NEGATIVE)
    assert (neg.status, neg.actual_outcome, neg.blocks, neg.actual) == ("fail", "not blocked", True, 0)
    assert "every blocking KPI gate passed it (pefr-icc)" in neg.message
    assert exit_code(vs) == 1 and not any(v.blocks for v in vs if v.rule_id != "control-expectation")
    assert "the harness does NOT discriminate" in summarize(vs)["controls"]["text"]


def test_controls_not_judged_or_blocked_only_by_missing_values_block(control_results):
    from control_fixtures import NEGATIVE, POSITIVE
    # a blocking rule on a KPI the negative control has no row for; nothing blocking judges the positive control
    vs = evaluate_policy(control_results, policy(
        {"id": "k", "metric": "categorical.kappa_ci_low", "kpi": "diagnosis", "op": ">=", "threshold": 0.4,
         "candidates": ["mini-wright", NEGATIVE]},
        rule(id="adv", severity="advisory")))
    neg, pos = expectation(vs, NEGATIVE), expectation(vs, POSITIVE)
    # blocked, but only because no value was found: that shows nothing about discrimination
    assert (neg.status, neg.actual_outcome, neg.blocks) == ("not-evaluable", "blocked only by missing values", True)
    assert (pos.status, pos.actual_outcome, pos.blocks) == ("not-evaluable", "not judged", True)
    assert exit_code(vs) == 1
    s = summarize(vs)["controls"]
    assert s["discriminates"] is None and "is NOT shown" in s["text"]


def test_controls_never_serve_as_the_baseline(control_results):
    from control_fixtures import POSITIVE
    res = copy.deepcopy(control_results)
    for c in res["candidates"]:
        c["baseline"] = c["name"] == POSITIVE   # hand-edited: the manifest would refuse it
    ni = {"id": "ni", "mode": "non-inferiority", "kpi": PEFR_KPI, "where": {"metric": "mae"}, "margin": 10.0}
    vs = [v for v in evaluate_policy(res, policy(ni)) if v.rule_id == "ni"]
    assert {v.status for v in vs} == {"not-evaluable"} and all("no baseline candidate" in v.reason for v in vs)
    named = [v for v in evaluate_policy(control_results, policy({**ni, "baseline": POSITIVE})) if v.rule_id == "ni"]
    assert named and all(v.status == "not-evaluable" and "never serves as the baseline" in v.reason for v in named)


def test_junit_has_one_case_per_control_named_for_its_expectation(control_results):
    from control_fixtures import BLOCKS_POSITIVE, DISCRIMINATING, NEGATIVE, POSITIVE
    from control_fixtures import policy as ctl_policy
    ok = ET.fromstring(ET.tostring(junit_xml(evaluate_policy(control_results, ctl_policy(DISCRIMINATING)),
                                             policy_name="p").getroot()))
    suites = {s.get("name"): s for s in ok.findall("testsuite")}
    neg = suites[f"p: control {NEGATIVE}"].findall("testcase")
    assert [c.get("name") for c in neg] == [f"control {NEGATIVE} is blocked as expected"]
    # the negative control doing its job is a passing test, with its failing rule in system-out
    assert neg[0].find("failure") is None and "fail (stops this control)" in neg[0].find("system-out").text
    pos = suites[f"p: control {POSITIVE}"].findall("testcase")
    assert [c.get("name") for c in pos] == [f"control {POSITIVE} passes every blocking gate as expected"]
    assert ok.get("failures") == "0" and ok.get("tests") == str(3 + 3 + 1 + 1)
    bad = ET.fromstring(ET.tostring(junit_xml(evaluate_policy(control_results, ctl_policy(BLOCKS_POSITIVE)),
                                              policy_name="p").getroot()))
    [fail] = bad.findall(".//failure")
    assert fail.get("type") == "fail" and fail.get("message").startswith(f"positive control {POSITIVE} is BLOCKED")
    assert bad.find(f"./testsuite[@name='p: control {POSITIVE}']").get("failures") == "1"
    assert bad.get("failures") == "1"


def test_control_expectation_rule_id_is_reserved():
    with pytest.raises(ManifestError, match="reserved for the controls"):
        policy(rule(id="control-expectation"))


def test_results_json_candidates_carry_control_and_view(tmp_path):
    """harness.study._candidate_identity writes the manifest's control and view; schema 3 keeps them and older
    files (no such fields) read as real candidates seen by one camera."""
    from harness.manifest.model import CandidateSpec
    from harness.results import StudyResults, load_results, write_results
    from harness.study import _candidate_identity
    spec = CandidateSpec("truth", backbone="truth", view="triangulated", control="positive")
    rows = [{"candidate": "truth", "candidate_identity": {"name": "x", "kind": "truth", "control": None}}]
    ident = _candidate_identity(spec, rows)
    assert (ident["control"], ident["view"], ident["kind"]) == ("positive", "triangulated", "truth")
    path = write_results({"schema_version": 3, "candidates": [ident, {"name": "real"}]}, tmp_path)["results"]
    back = load_results(path)
    assert [(c.control, c.view, c.is_control) for c in back.candidates] == [("positive", "triangulated", True),
                                                                           (None, None, False)]
    assert back.controls() == {"truth": "positive"}
    old = StudyResults.from_dict({"schema_version": 2, "candidates": [{"name": "a", "baseline": True}]})
    assert old.controls() == {} and old.candidates[0].control is None
