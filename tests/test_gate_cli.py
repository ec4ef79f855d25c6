"""``stancebench gate`` in-process: printed verdicts, JSON and JUnit outputs, exit codes 0/1/2."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main
from test_report_fixtures import pefr_results

PASSING = """
[policy]
name = "peak flow"
[[rule]]
id = "icc"
metric = "agreement.icc_ci_low"
kpi = "peak_expiratory_flow"
op = ">="
threshold = 0.75
[[rule]]
id = "loa"
metric = "agreement.loa_upper"
kpi = "peak_expiratory_flow"
op = "<="
threshold = 50
severity = "advisory"
"""
FAILING = PASSING + """
[[rule]]
id = "bias"
metric = "agreement.bias"
abs = true
kpi = "peak_expiratory_flow"
op = "<="
threshold = 1.0
"""


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gate") / "results.json"
    path.write_text(json.dumps(pefr_results(with_device=False)), encoding="utf-8")
    return path


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_gate_passes_with_advisory_failure(tmp_path, results_file, capsys):
    pol = write(tmp_path, "ok.toml", PASSING)
    rc = main(["gate", str(results_file), "--policy", str(pol), "--json", str(tmp_path / "v.json"),
               "--junit", str(tmp_path / "v.xml")])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("[ PASS] blocking mini-wright  icc: ICC(A,1) lower 95% bound of peak_expiratory_flow 0.8574 ≥ 0.75: "
            "pass") in out
    assert ("[ FAIL] advisory mini-wright  loa: upper limit of agreement of peak_expiratory_flow 79.65 l/min ≤ "
            "50 l/min: fail") in out
    assert "mini-wright: gates passed" in out
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["kind"] == "stancebench.gate-verdicts" and doc["summary"]["exit_code"] == 0
    assert doc["policy"]["sha256"] and len(doc["verdicts"]) == 4
    assert doc["verdicts"][0]["actual"] == pytest.approx(0.8574, abs=1e-4) and doc["verdicts"][0]["status"] == "pass"
    root = ET.parse(tmp_path / "v.xml").getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0" and root.get("skipped") == "2"


def test_gate_exits_1_when_blocking_rule_fails(tmp_path, results_file, capsys):
    pol = write(tmp_path, "fail.toml", FAILING)
    rc = main(["gate", str(results_file), "--policy", str(pol), "--junit", str(tmp_path / "j.xml")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "|bias| of peak_expiratory_flow 2.118 l/min ≤ 1 l/min: fail BLOCKS" in out
    assert "mini-wright: release blocked" in out
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "2"
    # without --json the verdicts JSON still goes beside the results (the contract: print, write JSON)
    doc = json.loads(results_file.with_name("gates.json").read_text())
    assert any(v["status"] == "fail" and v["blocks"] for v in doc["verdicts"])


@pytest.mark.parametrize("policy_text, needle", [
    ("[[rule]]\nid = 'x'\nmetric = 'agreement.icc'\nop = '=>'\nthreshold = 1\n",
     "field 'rule 'x'.op': unknown operator '=>'"),
    ("[[rule]]\nid = 'x'\nmetric = 'agreement.icc_lower'\nop = '>='\nthreshold = 1\n",
     "field 'rule 'x'.metric': unknown metric path 'agreement.icc_lower'"),
    ("[[rule]]\nid = 'x'\nmetric = 'latency.p90'\nop = '>='\nthreshold = 1\n",
     "field 'rule 'x'.metric': unknown metric path 'latency.p90'"),
    ("[[rule]\nid = 'x'\n", "not valid TOML"),
])
def test_gate_exits_2_on_bad_policy(tmp_path, results_file, capsys, policy_text, needle):
    pol = write(tmp_path, "bad.toml", policy_text)
    rc = main(["gate", str(results_file), "--policy", str(pol)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("stancebench gate: error: ") and str(pol) in err and needle in err


def test_gate_exits_2_on_bad_results(tmp_path, capsys):
    pol = write(tmp_path, "ok.toml", PASSING)
    bad = write(tmp_path, "results.json", "{not json")
    assert main(["gate", str(bad), "--policy", str(pol)]) == 2
    assert "results.json: not valid JSON" in capsys.readouterr().err
    assert main(["gate", str(tmp_path / "missing.json"), "--policy", str(pol)]) == 2
    assert "missing.json: results file not found" in capsys.readouterr().err
    newer = write(tmp_path, "v9.json", json.dumps({"schema_version": 9}))
    assert main(["gate", str(newer), "--policy", str(pol)]) == 2
    assert "schema_version 9 is not supported" in capsys.readouterr().err


def test_gate_reads_schema_3_files_written_through_the_model_and_schema_2_and_1_files(tmp_path, capsys):
    from harness.results import SCHEMA_VERSION, write_results
    pol = write(tmp_path, "ok.toml", PASSING)
    res = pefr_results(with_device=False)
    written = write_results(res, tmp_path / "v3")["results"]
    assert json.loads(written.read_text())["schema_version"] == SCHEMA_VERSION == 3
    # older files have no candidates[].control / view: they read as real candidates (no controls)
    old = [write(tmp_path, f"v{v}.json", json.dumps(dict(res, schema_version=v))) for v in (1, 2)]
    for path in (written, *old):
        assert main(["gate", str(path), "--policy", str(pol), "--json", str(tmp_path / "v.json")]) == 0
        assert "[ PASS] blocking mini-wright  icc: ICC(A,1) lower 95% bound of peak_expiratory_flow 0.8574" in \
            capsys.readouterr().out


# ----------------------------------------------------------------------------------------------------- controls
@pytest.fixture(scope="module")
def control_results_file(tmp_path_factory):
    """results.json with a positive and a negative control (tests/control_fixtures.py), written by the writer."""
    from control_fixtures import results_with_controls
    from harness.results import write_results
    return write_results(results_with_controls(), tmp_path_factory.mktemp("ctl"))["results"]


def test_gate_with_controls_as_expected_exits_0_and_says_the_harness_discriminates(tmp_path, control_results_file,
                                                                                    capsys):
    from control_fixtures import DISCRIMINATING, NEGATIVE, POSITIVE
    pol = write(tmp_path, "p.toml", DISCRIMINATING)
    rc = main(["gate", str(control_results_file), "--policy", str(pol), "--json", str(tmp_path / "v.json"),
               "--junit", str(tmp_path / "v.xml")])
    out = capsys.readouterr().out
    assert rc == 0
    # the negative control's failing rule is printed like any verdict, and does not block the release
    assert (f"[ FAIL] blocking {NEGATIVE} (negative control)  pefr-bias: |bias| of peak_expiratory_flow 17.12 "
            f"l/min ≤ 10 l/min: fail (stops this control)") in out
    assert f"[ PASS] control  {NEGATIVE} (negative control): expected blocked, actual blocked" in out
    assert f"[ PASS] control  {POSITIVE} (positive control): expected not blocked, actual not blocked" in out
    assert (f"controls: positive control {POSITIVE} passed, negative control {NEGATIVE} blocked: the harness "
            f"discriminates") in out
    assert f"{NEGATIVE}: release blocked" not in out and "mini-wright: gates passed" in out
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["schema_version"] == 2 and doc["summary"]["controls"]["discriminates"] is True
    assert doc["summary"]["exit_code"] == 0 and NEGATIVE not in doc["summary"]["candidates"]
    exp = [v for v in doc["verdicts"] if v["rule_id"] == "control-expectation"]
    assert [(v["candidate"], v["expected_outcome"], v["actual_outcome"]) for v in exp] == [
        (POSITIVE, "not blocked", "not blocked"), (NEGATIVE, "blocked", "blocked")]
    names = [c.get("name") for c in ET.parse(tmp_path / "v.xml").getroot().iter("testcase")]
    assert f"control {NEGATIVE} is blocked as expected" in names
    assert f"control {POSITIVE} passes every blocking gate as expected" in names


@pytest.mark.parametrize("which, needle", [
    ("BLOCKS_POSITIVE", "positive control wright-2nd-reading BLOCKED (expected to pass)"),
    ("ICC_ONLY", "negative control mini-wright-offset NOT blocked (expected blocked)"),
])
def test_gate_exits_1_when_a_control_misbehaves_though_real_candidates_pass(tmp_path, control_results_file, capsys,
                                                                           which, needle):
    import control_fixtures
    pol = write(tmp_path, "p.toml", getattr(control_fixtures, which))
    rc = main(["gate", str(control_results_file), "--policy", str(pol), "--junit", str(tmp_path / "j.xml")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "mini-wright: gates passed" in out and "mini-wright-2nd: gates passed" in out
    assert needle in out and "the harness does NOT discriminate a good model from a bad one" in out
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "1"


def test_study_commands_print_what_the_controls_say(control_results_file, capsys):
    """The lines `stancebench demo|validate` print (harness/commands/_study.py) from the results' gate verdicts."""
    from control_fixtures import DISCRIMINATING, ICC_ONLY
    from control_fixtures import policy as ctl_policy
    from harness.commands._study import control_summary_lines, print_outputs
    from harness.gates import evaluate_policy
    from harness.results import read_results_json
    res = read_results_json(control_results_file)
    assert control_summary_lines(res) == []          # not gated: nothing to say
    good = dict(res, gates=[v.to_dict() for v in evaluate_policy(res, ctl_policy(DISCRIMINATING))],
                paths={"results": str(control_results_file)}, report_status="not built in this test")
    print_outputs(good)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("controls: positive control wright-2nd-reading passed, negative control "
                             "mini-wright-offset blocked: the harness discriminates")
    assert out[-2:] == [f"results: {control_results_file}", "report: not built in this test"]
    bad = dict(res, gates=[v.to_dict() for v in evaluate_policy(res, ctl_policy(ICC_ONLY))])
    lines = control_summary_lines(bad)
    assert "does NOT discriminate" in lines[0] and lines[1].startswith("  negative control mini-wright-offset is NOT "
                                                                       "blocked, expected blocked")
    # gated results without controls say that nothing shows the gates discriminate
    plain = pefr_results(with_device=False)
    plain["gates"] = [v.to_dict() for v in evaluate_policy(plain, ctl_policy(DISCRIMINATING))]
    assert control_summary_lines(plain)[0].startswith("controls: none in this study")
