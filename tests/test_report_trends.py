"""Trends in the report (issue 13, item 4): earlier runs of the same study recorded in a real SQLite store, read
back by ``harness.store.trends.trend_section`` and drawn by the report's trend section.

The runs are the report fixture's real results (Bland & Altman 1986 peak-flow data, agreement computed by
harness.agreement). To get runs whose numbers differ, each run's candidate values are moved towards the reference
by a factor k (candidate' = reference + k × (candidate − reference)) and the agreement rows recomputed by the same
harness function: every difference scales by k, so the LoA width is exactly k × the published width (4 × SD, SD
38.8 l/min in the paper) — the expectation comes from that arithmetic and the paper, not from the code under test.
The fixture's device logs report no p90, so each run's p90 latency is set here (stated test inputs).
"""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from harness.results import StudyResults, load_results, write_results
from harness.store import open_store
from harness.store.trends import trend_section
from reports import build_report
from reports.language import number
from test_report_fixtures import PEFR_KPI, PEFR_UNIT, _agreement_row, pefr_results, with_report_sections

#: Bland & Altman 1986: SD of the differences 38.8 l/min, limits bias ± 2 SD, so the width is 4 SD.
PUBLISHED_WIDTH = 4 * 38.8
MANIFEST_A, MANIFEST_B = "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def pefr():
    return pefr_results()


def _run(pefr: dict, k: float, p90: float, started: str) -> dict:
    """The fixture's results with every candidate − reference difference scaled by ``k`` (agreement recomputed)
    and the given p90 latency on every device record."""
    res = copy.deepcopy(pefr)
    ref: dict[str, list[float]] = {}
    cand: dict[str, list[float]] = {}
    for t in res["trials"]:
        kp = t["kpis"][0]
        kp["candidate"] = kp["reference"] + k * (kp["candidate"] - kp["reference"])
        ref.setdefault(t["candidate"], []).append(kp["reference"])
        cand.setdefault(t["candidate"], []).append(kp["candidate"])
    res["agreement"] = [_agreement_row(name, PEFR_KPI, PEFR_UNIT, np.array(ref[name]), np.array(cand[name]))
                        for name in ref]
    for rec in res["device"]:
        rec["latency"]["p90_ms"] = p90
    res["study"]["created_utc"] = started
    return with_report_sections(res)


def _section(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', html, re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def _width(res: dict, cand: str) -> float:
    row = next(r for r in res["agreement"] if r["candidate"] == cand)
    return row["loa_upper"] - row["loa_lower"]


def test_first_run_of_a_study_has_no_trend_section(pefr, tmp_path):
    with open_store(tmp_path / "s.db") as store:
        assert trend_section(store, pefr) is None
        # a run of ANOTHER study is no history of this one
        other = copy.deepcopy(pefr)
        other["study"]["name"] = "another study"
        store.record_run(other, command="validate")
        assert trend_section(store, pefr) is None
    res = copy.deepcopy(pefr)
    out = build_report(res, tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert 'id="trends"' not in html and "Trends across the runs" not in html
    write_results(res, tmp_path)
    assert "history" not in (tmp_path / "results.json").read_text(encoding="utf-8")  # absent, not null


def test_trend_section_and_report_with_three_runs_and_a_promotion(pefr, tmp_path):
    runs = [_run(pefr, 1.0, 30.0, "2026-01-05T10:00:00+00:00"), _run(pefr, 0.75, 25.0, "2026-02-01T10:00:00+00:00")]
    this = _run(pefr, 0.5, 20.0, "2026-03-01T10:00:00+00:00")
    this["study"]["manifest_sha256"] = MANIFEST_B
    with open_store(tmp_path / "s.db") as store:
        # recorded out of order: the trend follows the order they were run (started), not recorded
        ids = [None, None]
        ids[1] = store.record_run(runs[1], command="validate", label="app 1.1", manifest_sha256=MANIFEST_B)
        ids[0] = store.record_run(runs[0], command="validate", label="app 1.0", manifest_sha256=MANIFEST_A)
        sha = next(c["model_sha256"] for c in runs[1]["candidates"] if c["name"] == "mini-wright")
        store.connection.execute(
            "INSERT INTO promotions (time_utc, channel, candidate, model_sha256, run_id, reason, promoted_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("2026-02-02T09:00:00+00:00", "production", "mini-wright", sha, ids[1], "passes policy v3", "qa"))
        # before the study runs, the command knows only the study's name and manifest: that is enough
        early = trend_section(store, {"study": {"name": this["study"]["name"], "manifest_sha256": MANIFEST_B}},
                              label="app 1.2")
        hist = trend_section(store, this, label="app 1.2")
        assert early == hist
        # the run whose report is built again after it was recorded is left out of its own history
        assert [r["run_id"] for r in trend_section(store, this, exclude_run=ids[1][:8])["runs"]] == [ids[0]]
        assert len(trend_section(store, this, limit=1)["runs"]) == 1
    assert hist["n_earlier"] == 2 and [r["run_id"] for r in hist["runs"]] == ids
    assert [r["same_manifest"] for r in hist["runs"]] == [False, True]
    assert len(hist["points"]) == 4 and len(hist["latency"]) == 2 * len(pefr["device"])
    w = {(p["run_id"], p["candidate"]): p["loa_width"] for p in hist["points"]}
    assert w[(ids[0], "mini-wright")] == pytest.approx(PUBLISHED_WIDTH, abs=0.2)
    assert w[(ids[1], "mini-wright")] == pytest.approx(0.75 * w[(ids[0], "mini-wright")], rel=1e-9)
    assert [(p["channel"], p["run_id"]) for p in hist["promotions"]] == [("production", ids[1])]

    this["history"] = hist
    write_results(this, tmp_path / "out")                       # the typed section survives results.json
    loaded = load_results(tmp_path / "out" / "results.json")
    assert loaded.history is not None and loaded.history.to_dict() == StudyResults.from_dict(this).history.to_dict()
    html = build_report(loaded, tmp_path / "report.html").read_text(encoding="utf-8")
    sec = _section(html, "trends")
    ids_in_order = re.findall(r'<section id="([^"]+)"', html)
    assert ids_in_order.index("trends") == ids_in_order.index("summary") + 1

    first, last = _width(runs[0], "mini-wright"), _width(this, "mini-wright")
    assert last == pytest.approx(0.5 * first, rel=1e-9)
    text = re.sub(r"\s+", " ", sec)
    assert text.count("Over the last 3 runs of this study") == 1
    assert (f"the LoA width of {PEFR_KPI} narrowed from {number(first)} to {number(last)} l/min for candidate "
            f"mini-wright, and its ICC lower bound rose from") in text
    assert "The production model since 2026-02-02 is mini-wright" in text
    assert "the same model as this run&#39;s mini-wright" in text
    assert "1 of the 2 earlier run(s) shown used a manifest whose sha256 differs" in text

    alts = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]*)"', sec)
    assert len(alts) == 2                                       # agreement trend and latency trend
    series = re.search(rf"{PEFR_KPI}, mini-wright: LoA width ([^;]*) l/min", alts[0]).group(1)
    assert series.count("→") == 2                               # three points: two stored runs and this run
    assert "promotion to production judged on run 2" in alts[0]
    assert "30 → 25 → 20 ms" in alts[1]
    assert sec.count("<tr>") >= 1 + 3                           # runs table: header and three runs
    assert "app 1.0" in sec and "app 1.2" in sec and "differs (different data)" in sec
    assert "passes policy v3" in sec                            # the promotion log


def test_a_widening_trend_is_named_as_such(pefr, tmp_path):
    from reports.builders.history import history_section
    with open_store(tmp_path / "s.db") as store:
        store.record_run(_run(pefr, 0.5, 20.0, "2026-01-05T10:00:00+00:00"), command="demo")
        this = _run(pefr, 1.0, 20.0, "2026-02-05T10:00:00+00:00")
        this["history"] = trend_section(store, this)
    sec = history_section(StudyResults.from_dict(this))
    lead = sec.blocks[0].text
    assert "Over the last 2 runs" in lead and f"the LoA width of {PEFR_KPI} widened from" in lead
    assert "ICC lower bound fell from" in lead
    assert "No model has been promoted to a channel yet" in lead
