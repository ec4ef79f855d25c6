"""The real-data test manifest (tests/manifests/shared_data.toml) over ../shared/data.

It holds only one-sided, clearly labelled sections (no recording there has both a gold standard and a video of
the same trial): reference-only force-plate trials must reproduce the COP mean velocity published with the BDS
data set, and nothing one-sided may be paired or enter agreement statistics.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import shared_path
from harness.manifest import load_manifest

MANIFEST = Path(__file__).parent / "manifests" / "shared_data.toml"


@pytest.fixture(scope="module")
def shared_study(tmp_path_factory):
    root = shared_path("cop_bds", "BDS00001.txt").parents[1]
    from harness.study import run_study
    m = load_manifest(MANIFEST, data_root=root, check_candidates=False)
    # reference-only trials only: the candidate-only video section is exercised by the manifest check below
    m.trials = [t for t in m.trials if t.kind == "reference-only"]
    out = tmp_path_factory.mktemp("shared_study")
    res = run_study(m, out, workers=1, progress=False, device=False, report=False)
    return root, out, res


def test_manifest_loads_with_labelled_one_sided_sections():
    root = shared_path("cop_bds", "BDS00001.txt").parents[1]
    m = load_manifest(MANIFEST, data_root=root, check_candidates=False)
    kinds = {t.kind for t in m.trials}
    assert kinds == {"reference-only", "candidate-only"}
    assert all(t.video == [] for t in m.trials if t.kind == "reference-only")
    assert all(t.gold_standard == [] and t.camera is not None for t in m.trials if t.kind == "candidate-only")
    assert {l["licence"] for l in m.licences} == {"CC-BY-4.0", "BSD-3-Clause"}


def test_reference_only_cop_velocity_matches_published_bds(shared_study):
    root, out, res = shared_study
    published = {}
    with open(root / "cop_bds" / "BDSinfoCOP_trials001-200.tsv") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["COPvelo"]:  # published for trials 1-100 (Santos & Duarte 2016), mean COP velocity, cm/s
                published[r["Trial"]] = float(r["COPvelo"])
    rows = {r["trial_id"]: r for r in res["trials"]}
    checked = 0
    for tid, row in rows.items():
        assert row["status"] == "ok", row["reason"]
        assert row["kind"] == "reference-only" and row["candidate"] is None
        if tid in published:
            vel = next(k for k in row["kpis"] if k["kpi"] == "cop_mean_velocity")
            assert vel["reference"] == pytest.approx(published[tid], rel=1e-6)
            assert vel["candidate"] is None and vel["paired"] is False
            checked += 1
    assert checked == 8
    # PDS two-plate trials give a net COP (y-up file: COP plane x-z)
    pds = next(k for k in rows["PDS13OR1"]["kpis"] if k["kpi"] == "cop_path_length")
    assert pds["reference"] > 0


def test_one_sided_trials_never_enter_agreement(shared_study):
    _, out, res = shared_study
    assert res["agreement"] == [] and res["categorical"] == [] and res["comparisons"] == []
    doc = json.loads((out / "results.json").read_text())
    assert doc["schema_version"] == 3 and doc["study"]["kind"] == "manifest"
    # no markers in a force-plate export: the horizontal COM comes from the plate (and says so)
    com = next(k for k in doc["trials"][0]["kpis"] if k["kpi"] == "com_path_length")
    assert com["reference"] > 0 and "horizontal grf" in com["reference_method"].lower()
    assert (out / "trials.csv").read_text().count("BDS00001") >= 9


@pytest.mark.slow
def test_candidate_only_real_video_with_qualisys_calibration(tmp_path):
    """The real Pose2Sim video (cam01 of a calibrated 4-camera rig): candidate KPIs only, clearly labelled."""
    root = shared_path("video", "pose2sim_balancing", "cam01.mp4").parents[2]
    from harness.study import run_study
    m = load_manifest(MANIFEST, data_root=root, check_candidates=False)
    m.trials = [t for t in m.trials if t.id == "P2S-balancing-cam01"]
    m.candidates = [c for c in m.candidates if c.name == "mediapipe-full"]
    res = run_study(m, tmp_path, workers=1, progress=False, device=False, report=False)
    (row,) = res["trials"]
    assert row["status"] == "ok", row["reason"]
    assert row["kind"] == "candidate-only" and row["alignment"] is None
    assert row["detection_rate"] > 0.9   # a person is in view on every frame of this clip
    kpis = {k["kpi"]: k for k in row["kpis"]}
    for k in kpis.values():
        assert k["reference"] is None and k["paired"] is False
        assert k["reference_method"] == "no gold standard (candidate-only trial)"
    assert res["agreement"] == []
