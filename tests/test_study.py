"""Orchestration without video: reference-only trials from real C3D files written by the synthetic generator,
a corrupt file that must fail alone, `stancebench validate` exit codes, the progress bar and results writer."""
from __future__ import annotations

import io
import json
import textwrap

import numpy as np
import pytest

from conftest import reference_only_study
from harness.cli import main
from harness.progress import Progress


@pytest.fixture(scope="module")
def c3d_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("c3d_study")
    (root / "broken.c3d").write_bytes(b"this is not a C3D file" * 10)
    manifest, truth = reference_only_study(
        root, "reference-only", ["cop_path_length", "cop_rms_ap", "com_rms_ml", "time_to_failure"],
        [("T0", "eyes_open_firm", None, 10), ("T1", "eyes_closed_firm", 2.5, 11)], extra_toml="""
        [[trials]]
        id = "BROKEN"
        subject = "S01"
        protocol = "single_leg_stance"
        condition = "eyes_open_firm"
        kind = "reference-only"
        gold_standard = "broken.c3d"
        """)
    return root, manifest, truth


def test_validate_runs_and_a_failed_trial_does_not_stop_the_study(c3d_study, tmp_path, capsys):
    root, manifest, truth = c3d_study
    out = tmp_path / "out"
    rc = main(["validate", str(manifest), "--out", str(out), "--no-progress", "--no-device", "--no-report"])
    printed = capsys.readouterr().out
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    rows = {r["trial_id"]: r for r in res["trials"]}
    assert rows["BROKEN"]["status"] == "failed" and "broken.c3d" in rows["BROKEN"]["reason"]
    assert "failed: BROKEN" in printed
    for tid in ("T0", "T1"):
        row = rows[tid]
        assert row["status"] == "ok", row["reason"]
        k = {x["kpi"]: x for x in row["kpis"]}
        # time-to-failure from the plates' foot events against the generator's truth (1 plate frame = 1 ms;
        # the plate event detector debounces over 50 ms)
        ttf = truth[tid]
        assert k["time_to_failure"]["reference"] == pytest.approx(ttf["time_to_failure_s"], abs=0.06)
        assert k["time_to_failure"]["censored_reference"] == ttf["censored"]
        assert k["cop_path_length"]["reference"] > 0 and k["com_rms_ml"]["reference"] > 0
        assert k["time_to_failure"]["candidate_method"] == "no video (reference-only trial)"
    # the analysis window is the single-leg period: foot lift (3.5 s in the generator) to touch-down
    assert rows["T1"]["window_s"][0] == pytest.approx(3.5, abs=0.06)
    assert rows["T1"]["window_s"][1] == pytest.approx(3.5 + 2.5, abs=0.06)
    assert res["agreement"] == []


def test_validate_exit_1_when_a_blocking_gate_cannot_be_met(c3d_study, tmp_path):
    root, manifest, _ = c3d_study
    policy = tmp_path / "policy.toml"
    policy.write_text(textwrap.dedent("""
        [[rule]]
        id = "path-icc"
        metric = "agreement.icc_ci_low"
        kpi = "com_rms_ml"
        op = ">="
        threshold = 0.75
        severity = "blocking"
        """))
    rc = main(["validate", str(manifest), "--out", str(tmp_path / "o"), "--policy", str(policy), "--no-progress",
               "--no-device", "--no-report"])
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    # reference-only trials give no agreement rows: the blocking rule is not evaluable, which blocks
    assert rc == 1 and res["exit_code"] == 1
    assert res["gates"] and all(g["blocks"] for g in res["gates"])


def test_validate_bad_policy_is_exit_2(c3d_study, tmp_path, capsys):
    _, manifest, _ = c3d_study
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]]\nid = 'x'\nmetric = 'nosuchsection.icc'\nop = '>='\nthreshold = 1\n")
    rc = main(["validate", str(manifest), "--out", str(tmp_path / "o"), "--policy", str(bad), "--no-progress",
               "--no-device", "--no-report"])
    assert rc == 2 and "bad.toml" in capsys.readouterr().err
    assert not (tmp_path / "o" / "results.json").exists()   # refused before the study ran


def test_progress_bar_lines_when_not_a_terminal():
    buf = io.StringIO()
    with Progress(3, "trials", stream=buf) as bar:
        bar.update(note="a")
        bar.update(note="b", failed=True)
        bar.update(note="c")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("trials [") and "3/3" in lines[-1] and "1 failed" in lines[-1]


def test_results_json_has_no_nan_and_csv_flattening(tmp_path):
    from harness.results import write_results
    res = {"schema_version": 1, "trials": [{"trial_id": "a", "candidate": "c", "status": "ok", "kpis": [
        {"kpi": "x", "reference": np.float64("nan"), "candidate": np.float32(1.5)}],
        "alignment": {"offset_s": np.float64(0.25)}}], "agreement": [], "device": [], "gates": []}
    paths = write_results(res, tmp_path)
    text = paths["results"].read_text()
    assert "NaN" not in text and json.loads(text)["trials"][0]["kpis"][0]["reference"] is None
    rows = paths["trials_csv"].read_text().splitlines()
    assert rows[0].split(",")[:3] == ["trial_id", "subject", "protocol"] and "alignment_offset_s" in rows[0]
    assert "0.25" in rows[1] and "1.5" in rows[1]


def _sides(cand_signal):
    from harness.pipeline.sides import CandidateSide, ReferenceSide
    t_ref = np.arange(0, 12, 0.01)                       # mocap clock, 100 Hz
    dip = -0.05 * np.exp(-((t_ref - 1.4) / 0.25) ** 2)   # a knee dip moves the COM down 5 cm
    ref = ReferenceSide("reference")
    ref.add("com_vertical", t_ref, 0.9 + dip, "m", "test")
    t_cand = np.arange(0, 11, 1 / 30)                    # video clock, 30 fps
    cand = CandidateSide("candidate")
    cand.add("com_vertical", t_cand, cand_signal(t_cand), "m", "test")
    return ref, cand


def test_alignment_recovers_offset_and_refuses_a_static_trial():
    from ground_truth.kernel import AlignmentError
    from harness.pipeline.clock import align_clocks
    offset = 0.437   # t_ref = t_video + offset
    ref, cand = _sides(lambda t: 0.9 - 0.05 * np.exp(-((t + offset - 1.4) / 0.25) ** 2))
    trial = {"id": "T", "known_clock_offset_s": offset, "known_drift_ppm": 0.0}
    a = align_clocks(ref, cand, {"alignment_signal": "auto", "max_lag_s": 2.0}, trial)
    assert abs(a.offset_error_s) < 0.002 and a.true_offset_s == offset and a.signal == "com_vertical"
    assert a.measured and a.to_dict()["offset_error_s"] == a.offset_error_s
    # a candidate that never moves gives no correlation peak: refused with the reason, never used
    ref, cand = _sides(lambda t: np.full(t.shape, 0.9))
    with pytest.raises(AlignmentError, match="no reliable clock alignment.*constant"):
        align_clocks(ref, cand, {"alignment_signal": "auto", "max_lag_s": 2.0}, trial)
    # 'known' uses the manifest's offset as given: it is not a measurement, so it has no error (not 0.0)
    k = align_clocks(ref, cand, {"alignment_signal": "known"}, trial)
    assert k.offset_s == offset and k.method.startswith("known") and not k.measured
    assert k.to_dict()["offset_error_s"] is None and k.to_dict()["true_offset_s"] == offset


def test_agreement_is_never_pooled_across_protocols(tmp_path):
    # The same KPI name in two protocols measures two tasks: one-leg COM path (candidate reads +1 cm) and
    # two-feet mCTSIB COM path (candidate reads -1 cm). Pooled, the biases would cancel to ~0.
    from types import SimpleNamespace

    from harness.aggregate import agreement_sections
    from harness.manifest import Settings
    from reports import render_html

    rng = np.random.default_rng(0)
    rows = []
    for protocol, condition, shift in (("single_leg_stance", "eyes_open_firm", 1.0),
                                       ("mctsib", "eyes_open_firm", -1.0)):
        for i in range(6):
            ref = float(rng.uniform(3, 9))
            rows.append({"trial_id": f"{protocol}-{i}", "subject": f"S{i}", "protocol": protocol,
                         "condition": condition, "candidate": "m", "status": "ok", "kind": "paired",
                         "kpis": [{"kpi": "com_path_length", "unit": "cm", "reference": ref,
                                   "candidate": ref + shift + float(rng.normal(0, 0.1)), "paired": True}]})
    manifest = SimpleNamespace(settings=Settings(bootstrap=100), baseline=None)
    sections = agreement_sections(rows, manifest)
    agree = sections["agreement"]
    by_protocol = {a["protocol"]: a for a in agree if a["condition"] == "all"}
    assert set(by_protocol) == {"single_leg_stance", "mctsib"} and len(agree) == 2
    assert by_protocol["single_leg_stance"]["bias"] == pytest.approx(1.0, abs=0.1) and by_protocol["mctsib"]["n"] == 6
    assert by_protocol["mctsib"]["bias"] == pytest.approx(-1.0, abs=0.1)
    # the report tells the two rows apart
    html = render_html({"study": {"name": "two protocols"}, "trials": rows, **sections})
    assert "m (single_leg_stance)" in html and "m (mctsib)" in html
    # the Bland-Altman panels plot the pairs the harness wrote, one protocol each
    assert len(sections["pairs"]) == 12 and {p["protocol"] for p in sections["pairs"]} == {"single_leg_stance",
                                                                                           "mctsib"}
    assert "m (single_leg_stance): 6 paired trials" in html and "m (mctsib): 6 paired trials" in html


def test_results_model_round_trip_on_a_real_results_json(c3d_study, tmp_path):
    from harness.results import SCHEMA_VERSION, StudyResults, load_results
    from reports import render_html
    _, manifest, _ = c3d_study
    out = tmp_path / "out"
    assert main(["validate", str(manifest), "--out", str(out), "--no-progress", "--no-device", "--no-report"]) == 0
    data = json.loads((out / "results.json").read_text())
    model = load_results(out / "results.json")
    assert model.schema_version == SCHEMA_VERSION == 3
    # the file is written through the model: reading and writing it back changes nothing
    assert model.to_dict() == data
    assert StudyResults.from_dict(model.to_dict()) == model
    # what the report needs travels in the results: KPI metadata and the protocol's definition
    com = model.kpi("com_rms_ml")
    assert com.registered and com.unit == "cm" and "side-to-side" in com.description
    assert model.kpi("cop_path_length").not_measured_reason.startswith("pose keypoints carry no force")
    proto = model.protocol("single_leg_stance")
    assert proto.known and proto.source == "built-in" and "eyes_closed_firm" in proto.conditions
    # reference-only trials have no candidate: no pairs, and the report says why from the trial rows
    assert model.pairs == []
    broken = next(t for t in model.trials if t.trial_id == "BROKEN")
    assert broken.status == "failed" and "broken.c3d" in broken.reason
    assert "reference-only" in render_html(model)


def test_a_fall_right_after_the_lift_keeps_its_time_to_failure(tmp_path):
    """A single-leg period shorter than a sway measure needs (here 0.8 s, the shortest fall the simulator makes)
    is not refused: the window measures say why they are missing and the time-to-failure is measured."""
    from ground_truth import synthetic
    from harness.pipeline.kpis import compute_kpis
    from harness.pipeline.reference import build_reference_side
    from harness.pipeline.window import MIN_WINDOW_S, analysis_window

    subject = synthetic.Subject(subject_id="F1", height_m=1.7, mass_kg=65.0, sex="female")
    trial = synthetic.simulate_single_leg_stance(subject, condition="eyes_closed_firm", fail_at_s=0.8, seed=4,
                                                 duration_s=30.0, max_duration_s=30.0)
    path = synthetic.write_c3d(trial, tmp_path / "fall.c3d")
    t = {"id": "F1-EC", "gold_standard": [path], "stance_leg": "right", "kind": "reference-only",
         "protocol": "single_leg_stance", "condition": "eyes_closed_firm"}
    s = {"id": "F1", "height_m": 1.7, "mass_kg": 65.0, "sex": "F"}
    ref = build_reference_side(t, s, bipedal=False)
    window = analysis_window(ref, None, None, 30.0, bipedal=False)
    assert window[1] - window[0] < MIN_WINDOW_S
    vals = compute_kpis(ref, None, ["com_rms_ml", "cop_path_length", "knee_frontal_excursion", "time_to_failure"],
                        window, None, trial=t, subject=s, fs=100.0, lowpass_hz=5.0, max_duration_s=30.0,
                        bipedal=False).reference
    assert "shorter than the 1 s" in vals["com_rms_ml"].status and vals["com_rms_ml"].value is None
    assert "shorter than the 1 s" in vals["knee_frontal_excursion"].status
    # the truth: 0.8 s from the lift to the touch-down (plates see them ~0.1 s apart from the kinematic events)
    assert vals["time_to_failure"].value == pytest.approx(trial.truth["time_to_failure_s"], abs=0.15)


def test_batches_share_one_inference_and_split_other_backbones():
    """Candidates reading one backbone's inference of a trial run in one batch (the negative control degrades
    that backbone's keypoints; the triangulated view reads the same front video); another backbone is a batch of
    its own; the positive control (nothing inferred) and reference-only tasks join their trial's first batch."""
    from harness.trial_tasks import _batches
    full = {"name": "bp", "params": {"smooth_landmarks": False}}
    specs = [full, {"name": "positive-control", "backbone": "render-truth", "params": {}},
             {"name": "negative-control", "backbone": "degraded",
              "params": {"base": "bp", "base_params": {"smooth_landmarks": False}}},
             {"name": "bp-3d", "backbone": "bp", "params": {"smooth_landmarks": False}},
             {"name": "heavy", "params": {"smooth_landmarks": False}}]
    tasks = [{"trial": {"id": t}, "candidate": c} for t in ("T1", "T2") for c in specs]
    tasks.append({"trial": {"id": "R"}, "candidate": None})
    assert _batches(tasks) == [[0, 1, 2, 3], [4], [5, 6, 7, 8], [9], [10]]
    # a control listed first still joins the backbone's batch
    first = [{"trial": {"id": "T"}, "candidate": specs[1]}, {"trial": {"id": "T"}, "candidate": full}]
    assert _batches(first) == [[0, 1]]
