"""The HTML report: section order, plain-language text, embedded figures with alt text, "not measured" notes,
offline self-containment. Results come from real published data (tests/test_report_fixtures.py) and real COP
recordings (Santos & Duarte 2016, ../shared/data/cop_bds)."""
from __future__ import annotations

import base64
import copy
import re

import numpy as np
import pytest

from harness.gates import evaluate_policy, load_policy, sample_policy_path
from reports import build_report, build_sections, environment, render_html
from reports.language import agreement_sentences
from test_report_fixtures import pefr_results, with_report_sections

from conftest import shared_path


def figures_data_from_real_cop(trial: str = "BDS00001.txt", delay_s: float = 0.25) -> dict:
    """figures_data from a real force-plate COP trace (Santos & Duarte 2016, trial 1, 100 Hz).

    Test construction, stated in the figure title: the "candidate" is that same trace resampled at 30 Hz on a
    clock that runs ``delay_s`` late, then re-aligned by the peak of the cross-correlation computed here.
    """
    from ground_truth.readers.bmclab import read_bmclab
    rec = read_bmclab(shared_path("cop_bds", trial))
    t, cop = rec.horizontal_cop()
    cop = (cop - np.nanmean(cop, axis=0)) * 100.0  # m -> cm, about the mean
    keep = t <= t[0] + 20.0
    t, ap, ml = t[keep] - t[0], cop[keep, 0], cop[keep, 1]
    tc = np.arange(0.0, t[-1], 1 / 30)
    cml = np.interp(tc, t, ml)
    tc_late = tc + delay_s  # the candidate clock reads delay_s late
    # cross-correlation of the candidate (on its own clock) with the reference resampled at 30 Hz
    ref30 = np.interp(tc, t, ml)
    lags = np.arange(-30, 31)
    a = (ref30 - ref30.mean()) / ref30.std()
    b = (cml - cml.mean()) / cml.std()
    corr = np.array([np.mean(a[max(0, -k):len(a) - max(0, k)] * b[max(0, k):len(b) - max(0, -k)]) for k in lags])
    lag_s = lags / 30 + delay_s  # the clocks' offset for each tested lag
    est = lag_s[int(np.argmax(corr))]
    return {"trials": {"BDS00001|resampled-30Hz": {
        "stabilogram": {"signal": "COP (real trace; candidate = same trace resampled at 30 Hz)", "unit": "cm",
                        "reference": {"ml": ml.tolist(), "ap": ap.tolist()},
                        "candidate": {"ml": cml.tolist(), "ap": np.interp(tc, t, ap).tolist()}},
        "time_series": {"signal": "COP ML", "unit": "cm", "reference": {"t": t.tolist(), "y": ml.tolist()},
                        "candidate": {"t": (tc_late - est).tolist(), "y": cml.tolist()},
                        "candidate_raw": {"t": tc_late.tolist(), "y": cml.tolist()},
                        "events": [{"name": "start of window", "time": 0.0}]},
        "lag_correlation": {"lag_s": lag_s.tolist(), "corr": corr.tolist()}}}}


@pytest.fixture(scope="module")
def results():
    res = pefr_results()
    res["gates"] = [v.to_dict() for v in evaluate_policy(res, load_policy(sample_policy_path()))]
    return res


@pytest.fixture(scope="module")
def html(results, tmp_path_factory):
    path = build_report(results, tmp_path_factory.mktemp("rep") / "sub" / "report.html",
                        figures_data=figures_data_from_real_cop())
    return path.read_text(encoding="utf-8")


def section(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', html, re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def test_report_is_self_contained(html):
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert "url(" not in html
    # no attribute loads anything from the network
    assert not re.search(r'(src|href|action|poster)\s*=\s*"(?!data:|#)', html), \
        re.findall(r'(?:src|href)\s*=\s*"[^"]{0,40}', html)
    assert "<style>" in html and "@media print" in html


def test_verdict_comes_first_and_states_blocking(html, results):
    ids = re.findall(r'<section id="([^"]+)"', html)
    # the verdict, then whether the study can discriminate at all (the controls), then the summary
    assert ids[:3] == ["verdict", "controls", "summary"]
    assert {"bland-altman", "icc", "stabilograms", "alignment", "time-to-failure", "strategy", "device",
            "size-accuracy", "methods", "provenance", "licences"} <= set(ids)
    v = section(html, "verdict")
    # the sample policy's balance KPIs are absent from peak-flow results: blocking rules cannot be evaluated
    assert "BLOCKED" in v and "mini-wright-2nd" in v
    assert "model size 6.441 MB ≤ 30 MB: pass" in v
    assert ("ICC(A,1) lower 95% bound of com_path_length ≥ 0.75: not-evaluable (no agreement row for candidate "
            "mini-wright with kpi=com_path_length, condition=all)") in v
    no_gates = render_html({**results, "gates": [], "gates_status": "no policy given: no gates evaluated"})
    assert "not measured: gates not evaluated: no policy given" in section(no_gates, "verdict")
    assert "NOT GATED" in section(no_gates, "verdict")


def test_plain_language_summary_in_kpi_units(html):
    s = section(html, "summary")
    # mini − Wright (Bland & Altman 1986 data): bias 2.12, limits (±2 SD) −75.4 to 79.6 l/min
    assert ("On average mini-wright reads 2.12 l/min higher than the reference (95% confidence interval "
            "-17.8 l/min to 22 l/min; this includes zero, so no systematic difference was shown).") in s
    assert ("For about 95% (±2 SD) of measurements, mini-wright&#39;s value lies between -75.4 l/min and "
            "79.6 l/min") in s
    assert ("by the guideline of Koo &amp; Li (2016), applied to both bounds of the 95% confidence interval, the "
            "reliability is good to excellent") in s
    assert "not a KPI of the stancebench registry" in s
    assert ("Cohen&#39;s kappa = 0.65 (95% CI 0.46 to 0.85): by the scale of Landis &amp; Koch (1977), the strength "
            "of agreement is substantial") in s


def test_not_measured_kpis_of_the_protocol_are_listed_with_reason(results):
    res = copy.deepcopy(results)
    for t in res["trials"]:
        t["protocol"] = "single_leg_stance"
    s = section(render_html(with_report_sections(res)), "summary")
    for kpi in ("com_path_length", "time_to_failure", "strategy_label", "knee_frontal_excursion"):
        assert f"<strong>{kpi}</strong> — not measured: not computed for any trial in this study" in s
    # by design: the protocol says keypoints cannot give COP, and the report says so
    assert "<strong>cop_path_length</strong> — not measured: pose keypoints carry no force" in s


def test_every_figure_is_an_embedded_png_with_alt_text(html):
    imgs = re.findall(r"<img ([^>]*)>", html)
    assert len(imgs) >= 7  # BA, forest, stabilogram, time series, confusion, latency, size-accuracy
    for attrs in imgs:
        src = re.search(r'src="data:image/png;base64,([^"]+)"', attrs).group(1)
        assert base64.b64decode(src)[:8] == b"\x89PNG\r\n\x1a\n"
        alt = re.search(r'alt="([^"]*)"', attrs).group(1)
        assert len(alt) > 40
    ba = section(html, "bland-altman")
    assert "difference (candidate − reference)" in ba
    assert "mini-wright: 17 paired trials, bias 2.12, limits of agreement -75.4 to 79.6 l/min" in ba
    ts = section(html, "alignment")
    # the cross-correlation recovers the constructed 0.25 s clock offset (one 30 Hz sample = 0.033 s)
    peak = float(re.search(r"for a lag of (-?[0-9.]+) s", ts).group(1))
    assert abs(peak - 0.25) < 1 / 30 + 1e-9


def test_device_and_size_sections_use_real_tool_output(html):
    d = section(html, "device")
    # LiteRT benchmark JSON (2-vCPU VM): p50 21.7 ms over 50 runs; no p90/p99 printed by the tool
    assert "<td>50</td><td>21.7</td><td>n/a</td><td>n/a</td>" in d
    assert "p50 21.7 ms, p90 n/a ms" in d
    assert "not measured" in d  # energy
    s = section(html, "size-accuracy")
    assert "mini-wright 6.44 MB, MAE 28.9 l/min" in s


def test_time_to_failure_marks_censoring(results):
    # Constructed rows (not measured data) to check the rendering of right-censored times.
    res = copy.deepcopy(results)
    res["trials"].append({"trial_id": "constructed-1", "candidate": "mini-wright", "status": "ok",
                          "condition": "eyes_closed_foam",
                          "kpis": [{"kpi": "time_to_failure", "unit": "s", "reference": 45.0, "candidate": 45.0,
                                    "censored": True}]})
    res["trials"].append({"trial_id": "constructed-2", "candidate": "mini-wright", "status": "ok",
                          "kpis": [{"kpi": "time_to_failure", "unit": "s", "reference": 12.5, "candidate": 13.0,
                                    "censored": False}]})
    res["trials"].append({"trial_id": "constructed-3", "candidate": "mini-wright", "status": "failed",
                          "reason": "constructed failure reason", "kpis": []})
    html = render_html(res)
    t = section(html, "time-to-failure")
    assert '<tr class="censored"><td>constructed-1</td>' in t
    assert "≥ 45 s (censored)" in t and "— (censored)" in t
    assert "<td>12.5 s</td><td>13 s</td><td>0.5 s</td>" in t
    tr = section(html, "trials")
    assert "<td>constructed-3</td><td>mini-wright</td><td>failed</td><td>constructed failure reason</td>" in tr


def test_results_without_data_render_not_measured_everywhere(tmp_path):
    out = build_report({"schema_version": 1}, tmp_path / "empty.html")
    html = out.read_text(encoding="utf-8")
    for sid in ("verdict", "summary", "bland-altman", "icc", "stabilograms", "alignment", "time-to-failure",
                "strategy", "device", "size-accuracy", "trials", "licences"):
        assert "not measured:" in section(html, sid), sid
    assert "<img" not in html


def test_a_broken_row_is_reported_not_fatal(results, monkeypatch):
    res = copy.deepcopy(results)
    res["agreement"].append({"candidate": "x", "kpi": "k", "condition": "all", "icc": "high"})
    # strict (the suite's default): the section's error surfaces with its traceback
    with pytest.raises(TypeError):
        render_html(res)
    # not strict (a user's run): the section says what went wrong and the rest of the report renders
    monkeypatch.delenv("STANCEBENCH_STRICT")
    html = render_html(res)
    # the forest plot (drawn in the report's figure pool) fails, and says so where it would be
    assert "figure could not be drawn: TypeError" in section(html, "icc")
    assert "ICC(A,1) = high" not in html and "ICC = high" in section(html, "summary")
    assert "On average mini-wright reads 2.12 l/min higher" in html


def test_environment_is_cached_and_no_pyplot_figure_left_open(results):
    import matplotlib.pyplot as plt
    assert environment() is environment()
    before = plt.get_fignums()
    sections = build_sections(results, figures_data_from_real_cop())
    assert plt.get_fignums() == before == []
    assert [s.id for s in sections][0] == "verdict"


def test_report_words_are_the_rows_readings_not_its_own():
    # reports holds no thresholds: it prints the reading the row carries (harness.agreement.interpret), whatever
    # the number, and prints no words for a row without one
    row = {"icc_type": "ICC(A,1)", "icc": 0.95, "icc_ci_low": 0.9, "icc_ci_high": 0.97, "icc_reading": "WORD",
           "icc_reading_scale": {"name": "Scale X", "applied_to": "the CI"}}
    text = " ".join(agreement_sentences(row))
    assert "ICC(A,1) = 0.95 (95% CI 0.9 to 0.97): by the guideline of Scale X, applied to the CI, the reliability " \
           "is WORD." in text
    row.pop("icc_reading")
    assert "ICC(A,1) = 0.95 (95% CI 0.9 to 0.97)." in " ".join(agreement_sentences(row))


def test_sentences_for_negative_bias_and_censoring():
    row = {"candidate": "c", "unit": "s", "bias": -0.4, "bias_ci_low": -0.6, "bias_ci_high": -0.2,
           "multiplier": 1.96, "loa_lower": -1.5, "loa_upper": 0.7, "n": 30, "n_subjects": 10, "n_censored": 4}
    text = " ".join(agreement_sentences(row, "censored"))
    assert "c reads 0.4 s lower than the reference (95% confidence interval -0.6 s to -0.2 s)." in text
    assert "For 95% of measurements" in text and "4 trial(s) reached the maximum duration" in text
    assert "Based on 30 paired trial(s) from 10 subject(s)." in text


def test_kpi_without_statistics_is_listed_as_not_measured_with_its_note(results):
    res = copy.deepcopy(results)
    for r in res["agreement"]:
        for k in ("bias", "loa_lower", "loa_upper", "icc", "mae"):
            r[k] = None
        r["note"] = "too few complete pairs for agreement statistics (n=2, need 3; 4 censored pair(s) excluded)"
    html = render_html(res)
    s = section(html, "summary")
    assert ("<strong>peak_expiratory_flow</strong> — not measured: mini-wright, mini-wright-2nd: too few complete "
            "pairs for agreement "
            "statistics (n=2, need 3; 4 censored pair(s) excluded)") in s
    assert "On average" not in s
    # per-condition kappas go to a table, the pooled one to the sentence and the confusion matrix
    res = copy.deepcopy(results)
    pooled = dict(res["categorical"][0], condition="all")
    res["categorical"] = [pooled, dict(pooled, condition="eyes_closed_foam", kappa=0.2)]
    st = section(render_html(res), "strategy")
    assert st.count("<img") == 1 and "<td>diagnosis</td><td>eyes_closed_foam</td><td>mini-wright</td><td>0.2</td>" in st
    assert section(render_html(res), "summary").count("Cohen&#39;s kappa") == 1
    # a kappa without an interval says why
    from harness.agreement import kappa_reading_fields  # the test builds the row as harness.aggregate does
    res["categorical"] = [dict(pooled, kappa=0.0, kappa_ci_low=None, kappa_ci_high=None,
                               note="rater1 used a single category ('ankle') for every subject",
                               **kappa_reading_fields(0.0))]
    st = section(render_html(res), "strategy")
    # Landis & Koch 1977: "0.00-0.20 slight", so chance agreement (kappa = 0) reads slight, not poor
    assert "Cohen&#39;s kappa = 0: by the scale of Landis &amp; Koch (1977), the strength of agreement is slight" in st
    assert "Note: rater1 used a single category (&#39;ankle&#39;) for every subject." in st


def test_candidate_only_trials_are_labelled_and_missing_reasons_name_the_side(results):
    # Constructed rows in the orchestration's layout (harness.pipeline.pairs.pair_rows) for a trial with video only.
    res = copy.deepcopy(results)
    res["trials"] = [dict(t, protocol="single_leg_stance") for t in res["trials"]]
    res["trials"].append({"trial_id": "video-only-1", "candidate": "mini-wright", "status": "ok",
                          "kind": "candidate-only", "protocol": "single_leg_stance", "condition": "eyes_open_firm",
                          "kpis": [{"kpi": "com_path_length", "unit": "cm", "reference": None, "candidate": 12.5,
                                    "reference_method": "no gold standard (candidate-only trial)",
                                    "candidate_method": "keypoint COM"},
                                   {"kpi": "time_to_failure", "unit": "s", "reference": None, "candidate": None,
                                    "candidate_status": "no foot lift detected"}]})
    html = render_html(with_report_sections(res))
    co = section(html, "candidate-only")
    assert "cannot be checked against a reference" in co
    assert ("<td>video-only-1</td><td>mini-wright</td><td>eyes_open_firm</td><td>com_path_length</td>"
            "<td>12.5 cm</td>") in co
    assert "not measured: no foot lift detected" in co
    s = section(html, "summary")
    assert ("<strong>com_path_length</strong> — not measured: reference missing in 1 of 1 trial(s) (no gold standard "
            "(candidate-only trial))") in s
    assert "not measured: no candidate-only trials in this study" in section(render_html(results), "candidate-only")


def test_html_elements_are_balanced(html):
    from html.parser import HTMLParser
    void = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}

    class Check(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.errors = [], []

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            else:
                self.stack.pop()
    c = Check()
    c.feed(html)
    assert c.errors == [] and c.stack == []
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # unique anchors for the table of contents


def test_methods_cite_every_convention_and_figures_use_the_colour_blind_palette(results, html):
    from reports import build_sections
    from reports import figures as F
    methods = next(s for s in build_sections(results) if s.id == "methods")
    # every method and registry KPI is cited (this fixture's own KPIs and protocol are not stancebench's)
    uncited = [topic for topic, text, citation in methods.entries if not citation and topic != "Differences"
               and "not a KPI of the stancebench registry" not in text and "not a built-in protocol" not in text]
    assert not uncited, uncited
    m = section(html, "methods")
    for needle in ("Bland JM, Altman DG", "McGraw KO, Wong SP", "Koo TK", "Lin LI", "Cohen J", "Springer BA",
                   "Reddi VJ", "Okabe M, Ito K"):
        assert needle in m, needle
    # Okabe & Ito's colour-universal-design palette, in their order; the reference is black
    assert F.OKABE_ITO[:4] == ("#0072B2", "#E69F00", "#009E73", "#D55E00") and F.REFERENCE_COLOR == "#000000"
    assert [F.color(i) for i in range(9)][8] == F.OKABE_ITO[0]
    # the Bland-Altman section says what its shaded bands are, the forest plot's alt text gives every CI
    assert "shaded bands are their 95% confidence intervals" in section(html, "bland-altman")
    forest_alt = re.search(r'alt="(ICC forest plot:[^"]*)"', section(html, "icc")).group(1)
    assert forest_alt.count("95% CI") == len([r for r in results["agreement"] if r.get("icc") is not None
                                               and r.get("condition", "all") == "all"])


def test_reports_import_only_the_results_model_and_the_kernel():
    # The architectural rule: reports reads what the harness wrote (harness.results) and the shared kernel,
    # nothing else of the project, so KPI metadata and pairs cannot be re-derived beside the harness.
    import ast
    from pathlib import Path

    import reports
    project = {"ground_truth", "candidates", "protocols", "harness", "device_runners", "reports"}
    allowed = ("harness.results", "ground_truth.kernel")
    bad = []
    for path in sorted(Path(reports.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in project and top != "reports" and not any(name == a or name.startswith(a + ".")
                                                                    for a in allowed):
                    bad.append(f"{path.name}:{node.lineno}: {name}")
    assert not bad, bad


def test_report_renders_with_the_protocols_package_unavailable(results, tmp_path):
    # Run in a fresh interpreter where importing protocols (or the harness's statistics) fails: the KPI
    # descriptions and the protocol's by-design reasons must come from the results themselves.
    import json
    import subprocess
    import sys

    from harness.results import write_results
    res = copy.deepcopy(results)
    for t in res["trials"]:
        t["protocol"] = "single_leg_stance"
    res["agreement"][0]["kpi"] = "com_path_length"   # a registry KPI, so that its description is printed
    for t in res["trials"]:
        t["kpis"][0]["kpi"] = "com_path_length"
    write_results(with_report_sections(res), tmp_path)
    script = (
        "import sys\n"
        "for name in ('protocols', 'harness.aggregate', 'harness.agreement', 'harness.study'):\n"
        "    sys.modules[name] = None   # import of these now raises ImportError\n"
        "from harness.results import load_results\n"
        "from reports import build_report\n"
        f"build_report(load_results({str(tmp_path / 'results.json')!r}), {str(tmp_path / 'r.html')!r})\n"
        "assert 'protocols' not in sys.modules or sys.modules['protocols'] is None\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = section((tmp_path / "r.html").read_text(encoding="utf-8"), "summary")
    assert "Total distance the body&#39;s centre of mass travelled during the trial." in s
    assert "<strong>cop_path_length</strong> — not measured: pose keypoints carry no force" in s
    assert json.loads((tmp_path / "results.json").read_text())["protocols"][0]["name"] == "single_leg_stance"


def test_a_newer_schema_version_is_refused_with_a_clear_message(results, tmp_path):
    import json

    from ground_truth.kernel import ReaderError
    from harness.results import SCHEMA_VERSION, StudyResults, load_results
    newer = dict(results, schema_version=SCHEMA_VERSION + 1)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(newer), encoding="utf-8")
    with pytest.raises(ReaderError) as err:
        load_results(path)
    msg = str(err.value)
    assert str(path) in msg and "field 'schema_version'" in msg
    assert f"schema_version {SCHEMA_VERSION + 1} is not supported: the file was written by a newer stancebench" in msg
    with pytest.raises(ReaderError, match="schema_version"):
        build_report(newer, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()
    # an older document (schema 1, before kpis and pairs) is still read; its missing sections read as empty
    old = StudyResults.from_dict(dict(results, schema_version=1, pairs=None))
    assert old.schema_version == 1 and old.pairs == []
    with pytest.raises(ReaderError, match="field 'trials'.*not a list"):
        StudyResults.from_dict(dict(results, trials={"a": 1}))


def test_trials_that_failed_on_an_unexpected_error_show_type_message_and_traceback(results):
    res = copy.deepcopy(results)
    trace = ('Traceback (most recent call last):\n  File "pipeline.py", line 3, in run\n'
             "ZeroDivisionError: division by zero\n")
    res["trials"].append({"trial_id": "crashed-1", "candidate": "mini-wright", "status": "failed",
                          "error_type": "ZeroDivisionError", "reason": "division by zero", "traceback": trace,
                          "kpis": []})
    tr = section(render_html(res), "trials")
    assert "<td>crashed-1</td><td>mini-wright</td><td>failed</td><td>division by zero</td>" in tr
    assert "<td>crashed-1</td><td>mini-wright</td><td>ZeroDivisionError</td><td>division by zero</td>" in tr
    assert ("<details><summary>Traceback of trial crashed-1, mini-wright (ZeroDivisionError)</summary><pre>"
            "Traceback (most recent call last):") in tr
    assert "line 3, in run\nZeroDivisionError: division by zero\n</pre></details>" in tr


# ----------------------------------------------------------------------------------------------------- controls
def _control_report(tmp_path, policy_text: str) -> str:
    """The report of results with a positive and a negative control (tests/control_fixtures.py), gated, written
    by the results writer and read back from results.json, as the harness does."""
    from control_fixtures import policy, results_with_controls
    from harness.results import load_results, write_results
    res = results_with_controls()
    res["gates"] = [v.to_dict() for v in evaluate_policy(res, policy(policy_text))]
    path = write_results(res, tmp_path)["results"]
    return build_report(load_results(path), tmp_path / "report.html").read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).replace("&#34;", '"').replace("&#39;", "'")


def test_controls_section_says_the_study_discriminates_and_labels_controls_everywhere(tmp_path):
    from control_fixtures import DISCRIMINATING, NEGATIVE, POSITIVE
    html = _control_report(tmp_path, DISCRIMINATING)
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids[:3] == ["verdict", "controls", "summary"]
    c = _text(section(html, "controls"))
    assert c.startswith(" Controls: can this study tell a good model from a bad one? Yes. The positive control")
    assert f"{POSITIVE} (positive control)" in c and f"{NEGATIVE} (negative control)" in c
    # expected against actual, for each control, with the rule verdicts behind it
    assert ("expected blocked by at least one blocking gate on a balance measure actual blocked by 1 gate "
            "verdict(s) (pefr-bias) as expected? YES") in c
    assert "expected passes every blocking gate actual not blocked: it passed every blocking gate as expected? YES" in c
    assert "|bias| of peak_expiratory_flow 17.12 l/min ≤ 10 l/min: fail (stops this control)" in c
    assert "Made with: source = mini Wright meter, first reading + 15 l/min" in c
    # no verdict card for a control: it is no release candidate
    v = section(html, "verdict")
    assert 'aria-label="verdict for mini-wright"' in v and f'aria-label="verdict for {NEGATIVE}"' not in v
    assert "Warning" not in v and f"{NEGATIVE}: negative control" in _text(v)
    # the controls' rows in the tables and the summary are tagged
    for sid in ("icc", "agreement-table", "trials", "summary"):
        assert f"{NEGATIVE} (negative control)" in _text(section(html, sid)), sid
    assert f"{POSITIVE} (positive control)" in _text(section(html, "icc"))
    assert re.search(rf'alt="Bland-Altman plot[^"]*{POSITIVE} \(positive control\)', html)
    assert "positive control" in _text(section(html, "provenance"))
    assert "<script" not in html.lower()


def test_controls_that_misbehave_are_a_warning_above_the_verdicts(tmp_path):
    from control_fixtures import BLOCKS_POSITIVE, POSITIVE
    html = _control_report(tmp_path, BLOCKS_POSITIVE)
    v = _text(section(html, "verdict"))
    assert v.startswith(" Verdict per candidate Warning: this study's controls show that, with this policy, it "
                        "cannot tell a good model from a bad one")
    c = _text(section(html, "controls"))
    assert (f"No. The positive control {POSITIVE} was expected to pass every blocking gate, but it was blocked by 1 "
            f"gate verdict(s) (pefr-bias-low).") in c
    assert "as expected? NO" in c and "as expected? YES" in c
    assert 'class="card control-card control-not-as-expected"' in section(html, "controls")


def test_a_study_without_controls_says_so(html):
    assert ("not measured: this study has no control candidates, so it does not show whether its gates can tell a "
            "good model from a bad one") in section(html, "controls")


def test_an_icc_or_kappa_interval_reaching_zero_is_said_in_plain_words():
    """An ICC interval whose lower bound is at or below 0 includes no agreement (ICC 0 = none); a kappa interval
    reaching 0 includes chance agreement: the report says the study cannot show agreement."""
    from reports.language import agreement_sentences, kappa_sentence
    row = {"candidate": "m", "unit": "deg", "bias": 0.3, "icc": 0.26, "icc_ci_low": -0.76, "icc_ci_high": 0.86,
           "icc_type": "ICC(A,1)", "n": 6, "n_subjects": 3}
    text = " ".join(agreement_sentences(row))
    assert "cannot show that m measures this at all" in text
    assert "cannot show" not in " ".join(agreement_sentences(dict(row, icc_ci_low=0.4)))
    assert "not shown" in kappa_sentence({"kappa": 0.33, "kappa_ci_low": -0.01, "kappa_ci_high": 0.67, "n": 6})
    assert "not shown" not in kappa_sentence({"kappa": 0.8, "kappa_ci_low": 0.5, "kappa_ci_high": 1.0, "n": 6})


def test_study_notes_reach_the_trials_section(results, tmp_path):
    # a study whose worker died says so where the trials are listed, not only in results.json
    res = copy.deepcopy(results)
    note = "worker processes: 1 died with signal SIGSEGV; 1 trial x candidate run(s) failed with them: T1"
    res.setdefault("study", {})["notes"] = [note]
    html = build_report(res, tmp_path / "r.html").read_text(encoding="utf-8")
    assert note in section(html, "trials")
