"""`stancebench demo` end to end on a small synthetic study (2 subjects x 2 conditions, short trials).

One demo run (and a second run into the same folder, which must reuse the generated data and the inference
cache) is shared by every test through a session-scoped fixture. The truths the assertions use are the ones the
generator injected and wrote beside the data (DIR/data/generated.json): clock offsets, time-to-failure and
censoring, so nothing here compares the pipeline with itself.
"""
from __future__ import annotations

import csv
import json
import shutil
import time

import numpy as np
import pytest

from harness.cli import main

pytestmark = pytest.mark.slow

FPS = 30.0  # the demo's video frame rate (DemoConfig.fps)


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    argv = ["demo", "--out", str(out), "--subjects", "2", "--duration", "3", "--seed", "3", "--no-progress"]
    t0 = time.perf_counter()
    rc1 = main(argv)
    t1 = time.perf_counter()
    first = json.loads((out / "results.json").read_text())
    rc2 = main(argv)
    t2 = time.perf_counter()
    second = json.loads((out / "results.json").read_text())
    return {"out": out, "rc": (rc1, rc2), "first": first, "second": second,
            "seconds": (t1 - t0, t2 - t1), "truth": json.loads((out / "data" / "generated.json").read_text())}


def test_exit_code_and_files(demo_runs):
    out = demo_runs["out"]
    assert demo_runs["rc"] == (0, 0)
    for name in ("results.json", "report.html", "policy.toml", "trials.csv", "agreement.csv", "device.csv",
                 "gates.csv", "data/study.toml", "data/camera.toml"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "S01" in html


def test_report_draws_the_pipelines_stabilograms_and_alignment(demo_runs):
    # the figures come from the study's own arrays (figures_data), not from a test fixture
    fd = demo_runs["first"]["figures_data"]["trials"]
    st = next(iter(fd.values()))["stabilogram"]
    assert st["unit"] == "cm" and st["axis"] == "ml" and len(st["reference"]["t"]) == len(st["reference"]["y"]) > 30
    assert abs(np.mean(st["reference"]["y"])) < 0.05         # each side minus its mean
    html = (demo_runs["out"] / "report.html").read_text()
    sec = html[html.index('id="stabilograms"'):html.index('id="alignment"')]
    assert sec.count("<img") >= 1 and "Stabilogram COM ML displacement" in sec and "not measured" not in sec
    al = html[html.index('id="alignment"'):]
    assert "<img" in al.split("</section>")[0]


def test_results_structure(demo_runs):
    r = demo_runs["first"]
    assert r["schema_version"] == 3
    assert r["study"]["kind"] == "synthetic-demo" and r["study"]["seed"] == 3
    for key in ("provenance", "candidates", "subjects", "trials", "agreement", "categorical", "comparisons",
                "device", "gates", "figures_data", "synthetic"):
        assert key in r, key
    names = [c["name"] for c in r["candidates"]]
    # the real backbone from the frontal phone (the baseline) and triangulated, and both controls in both modes
    assert names == ["blazepose-tflite", "positive-control", "negative-control", "blazepose-tflite-3d",
                     "positive-control-3d", "negative-control-3d"]
    by = {c["name"]: c for c in r["candidates"]}
    assert by["blazepose-tflite"]["baseline"] and sum(c["baseline"] for c in r["candidates"]) == 1
    assert {n: by[n]["control"] for n in names if by[n]["control"]} == {
        "positive-control": "positive", "negative-control": "negative", "positive-control-3d": "positive",
        "negative-control-3d": "negative"}
    assert by["blazepose-tflite-3d"]["view"] == "triangulated" and by["blazepose-tflite"]["view"] == "front"
    assert all(c.get("model_sha256") for c in r["candidates"])
    assert all(by[n]["model_bytes"] > 0 for n in ("blazepose-tflite", "blazepose-tflite-3d", "negative-control"))
    # the subjects' true parameters, drawn from the cited distributions, are recorded
    assert [p["subject_id"] for p in r["synthetic"]["population"]] == ["S01", "S02"]
    # 2 subjects x 2 conditions x 1 trial, each with every candidate
    assert len(r["trials"]) == 4 * len(names)
    roles = {f["role"] for f in r["provenance"]["files"]}
    assert {"gold-standard", "video", "calibration"} <= roles
    assert all(len(f["sha256"]) == 64 for f in r["provenance"]["files"])
    # the C3D round-trip self-check of the synthetic generator is carried into the results
    rt = r["synthetic"]["roundtrip"]
    assert rt["n_trials"] == 4


def test_alignment_recovers_injected_offsets_within_one_frame(demo_runs):
    r = demo_runs["first"]
    injected = {(t["trial_id"], v["camera"]): v["offset_s"] for t in demo_runs["truth"]["trials"]
                for v in t["views"]}
    checked = 0
    for row in r["trials"]:
        assert row["status"] == "ok", f"{row['trial_id']} {row['candidate']}: {row['reason']}"
        if row["candidate"].startswith("negative-control"):
            continue      # its latency and smoothing shift the estimate on purpose (the clock gate blocks it)
        a = row["alignment"]
        # a triangulated row aligns every camera on its own; a one-camera row its one camera
        views = a["views"] if "views" in a else [a]
        cams = ["front", "side"] if "views" in a else [row["view"]]
        for cam, v in zip(cams, views, strict=True):
            assert v["true_offset_s"] == pytest.approx(injected[(row["trial_id"], cam)])
            assert abs(v["offset_s"] - v["true_offset_s"]) < 1.0 / FPS, (row["trial_id"], row["candidate"], cam, v)
            checked += 1
    assert checked == 4 * (1 + 2 + 1 + 2)


def test_kpis_pair_on_both_sides(demo_runs):
    r = demo_runs["first"]
    truth = {t["trial_id"]: t for t in demo_runs["truth"]["trials"]}
    for row in r["trials"]:
        k = {x["kpi"]: x for x in row["kpis"]}
        # the negative control's swaps may leave no foot event or knee angle: its missing values are reasons
        negative = row["candidate"].startswith("negative-control")
        for name in ("com_rms_ml", "com_path_length", "cop_rms_ml") + (() if negative else (
                "time_to_failure", "strategy_label", "knee_frontal_excursion")):
            assert k[name]["paired"], (row["trial_id"], row["candidate"], name, k[name])
        if row["candidate"].endswith("-3d"):
            # two phones triangulated: both horizontal axes, 2-D measures, and the COP estimate in 2-D
            for name in ("com_rms_ap", "com_area_95_ellipse", "com_mean_frequency", "cop_rms_ap"):
                assert k[name]["paired"], (row["trial_id"], row["candidate"], name, k[name])
        else:
            # the AP axis is along the frontal camera's line of sight: not observable, said so, never a zero
            assert k["com_rms_ap"]["candidate"] is None and "not observable" in k["com_rms_ap"]["candidate_status"]
        # the keypoints' COP is an inverted-pendulum estimate from their COM, labelled as such
        assert k["cop_rms_ml"]["candidate"] > 0 and "ESTIMATE" in k["cop_rms_ml"]["candidate_method"]
        if negative:
            continue      # degraded on purpose: its times and angles are checked by the gates, not here
        # time-to-failure of the gold standard follows the injected loss of balance or censoring
        t = truth[row["trial_id"]]
        ttf = k["time_to_failure"]
        assert ttf["censored_reference"] == t["true_censored"]
        assert ttf["reference"] == pytest.approx(t["true_time_to_failure_s"], abs=0.05)
        # ... and so does the keypoints' reading of the same video: censoring agrees, and a loss of balance is
        # timed within 0.35 s (measured: 0.02-0.22 s early in the 9 uncensored runs; the plates unload ~0.1 s before
        # the foot visibly rises). Keypoint jitter used to stop the clock at 0.03-0.2 s in a third of the runs.
        assert ttf["censored_candidate"] == t["true_censored"], (row["trial_id"], row["candidate"], ttf)
        if not t["true_censored"]:
            assert abs(ttf["candidate"] - t["true_time_to_failure_s"]) < 0.35, (row["trial_id"], row["candidate"], ttf)
    agree = {(a["candidate"], a["kpi"], a["condition"]): a for a in r["agreement"]}
    a = agree[("blazepose-tflite", "com_rms_ml", "all")]
    assert a["n"] == 4 and a["unit"] == "cm" and a["icc_type"] == "ICC(A,1)"
    assert a["loa_lower"] <= a["bias"] <= a["loa_upper"]
    # 2 subjects: too few for replicate-aware limits, and the row says what was done instead
    assert a["n_subjects"] == 2 and "treated as independent" in a["note"]
    per_cond = agree[("blazepose-tflite", "com_rms_ml", "eyes_open_firm")]
    assert per_cond["n"] == 2 and per_cond.get("icc") is None and "too few" in per_cond["note"]
    cat = [c for c in r["categorical"] if c["kpi"] == "strategy_label"]
    assert {c["candidate"] for c in cat} == {c["name"] for c in r["candidates"]}


def test_trials_csv_is_tidy(demo_runs):
    with open(demo_runs["out"] / "trials.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"trial_id", "candidate", "kpi", "reference_value", "candidate_value", "unit"} <= set(rows[0])
    assert len({(x["trial_id"], x["candidate"], x["kpi"]) for x in rows}) == len(rows)


def test_gates_and_device(demo_runs):
    r = demo_runs["first"]
    assert r["exit_code"] == 0
    blocking = [g for g in r["gates"] if g["severity"] == "blocking" and not g.get("control")]
    assert blocking and all(g["status"] in ("pass", "not-evaluable") and not g["blocks"] for g in blocking)
    assert any(g["rule_id"] == "model-size" for g in blocking)
    # the controls behave as expected: the harness passes a near-perfect model and blocks a degraded one
    expect = {g["candidate"]: g for g in r["gates"] if g["rule_id"] == "control-expectation"}
    assert set(expect) == {"positive-control", "negative-control", "positive-control-3d", "negative-control-3d"}
    assert all(g["status"] == "pass" for g in expect.values()), expect
    # host device records are joined to candidates by name and model sha256
    by_name = {c["name"]: c for c in r["candidates"]}
    assert r["device"], r.get("device_status")
    for rec in r["device"]:
        assert rec["model"]["sha256"] == by_name[rec["candidate"]]["model_sha256"]
        assert rec["latency"]["p50_ms"] > 0


def test_second_run_reuses_data_and_inference_cache(demo_runs):
    second = demo_runs["second"]
    assert second["synthetic"]["generation_status"].startswith("reused")
    # every inferred video is read from the cache (the positive control reads the renderer's truth, no inference)
    hits = [row["inference"]["cache_hit"] for row in second["trials"]
            if not row["candidate"].startswith("positive-control")]
    assert hits and all(hits)
    # same data and cached tracks: the same numbers
    first = {(t["trial_id"], t["candidate"]): t for t in demo_runs["first"]["trials"]}
    for t in second["trials"]:
        assert t["alignment"]["offset_s"] == pytest.approx(first[(t["trial_id"], t["candidate"])]
                                                           ["alignment"]["offset_s"])


@pytest.fixture(scope="module")
def demo_sides(demo_runs):
    """Both sides of every demo trial x candidate (real C3D files, real inference from the demo's cache)."""
    from harness.manifest import load_manifest
    from harness.pipeline.candidate import build_candidate_side
    from harness.pipeline.reference import build_reference_side
    from harness.pipeline.views import trial_view
    m = load_manifest(demo_runs["out"] / "data" / "study.toml", check_candidates=False)
    out = []
    for tr in m.trials:
        subject = m.subject(tr.subject).__dict__
        ref = build_reference_side(tr.__dict__, subject, bipedal=False)
        # the real backbone's one-camera sides, one per phone (each on its own clock)
        for i, cam in enumerate(tr.camera_name):
            view = trial_view(tr.__dict__, i)
            for spec in m.candidates:
                if spec.control or spec.view == "triangulated":
                    continue
                cand = build_candidate_side(spec.__dict__, view, subject, {}, bipedal=False)
                assert cand.inference["cache_hit"], "the demo's inference must be cached"
                out.append((view, f"{spec.name} ({cam})", ref, cand))
    return out


# Measured on these 12 trial x candidate pairs (|offset error|, ms; 2026-12-02, ai-edge-litert 2.3.0,
# mediapipe 0.10.21): vertical COM <= 9.1, its velocity <= 7.6, vertical GRF (plates vs mass x keypoint COM
# acceleration) <= 14, motion energy <= 35.4 (S02-EC int8; 22.5 for the fp32 TFLite: the sum of squared keypoint
# speeds is dominated by jitter, the least precise of the signals), foot events <= 79 or refused (the two events
# disagreeing by more than 0.1 s). One frame is 33 ms.
@pytest.mark.parametrize("signal, bound_s", [("com_vertical", 1 / FPS), ("com_vertical_velocity", 1 / FPS),
                                             ("motion_energy", 1.5 / FPS), ("vertical_grf", 1.5 / FPS)])
def test_every_correlation_signal_aligns_the_demo_videos(demo_sides, signal, bound_s):
    from ground_truth.kernel import AlignmentError
    from harness.pipeline.clock import align_clocks
    aligned = 0
    for trial, name, ref, cand in demo_sides:
        try:
            a = align_clocks(ref, cand, {"alignment_signal": signal, "max_lag_s": 2.0}, trial)
        except AlignmentError as exc:
            # Motion energy (the sum of squared keypoint speeds) is mostly jitter when the subject barely moves
            # (measured: peak correlation 0.20 on S01-EC, a tall subject with small sway): refused with the
            # reason, never a wrong offset.
            assert signal == "motion_energy" and "below 0.5" in str(exc), (trial["id"], name, str(exc))
            continue
        assert a.signal == signal and abs(a.offset_error_s) < bound_s, (trial["id"], name, a)
        aligned += 1
    assert aligned >= len(demo_sides) // 2


def test_event_alignment_is_within_three_frames_or_refused_with_the_reason(demo_sides):
    from ground_truth.kernel import AlignmentError
    from harness.pipeline.clock import align_clocks
    aligned = 0
    # The frontal phone only: from the side, the keypoints' lifted-foot height confuses the two feet (measured:
    # a single foot_lift 1.40 s off on S01-EO, seed 3), so event alignment of a sagittal view is not trusted;
    # the study aligns it on the vertical COM (tested above).
    frontal = [s for s in demo_sides if s[1].endswith("(front)")]
    for trial, name, ref, cand in frontal:
        try:
            a = align_clocks(ref, cand, {"alignment_signal": "event", "max_lag_s": 2.0}, trial)
        except AlignmentError as exc:
            assert "event offsets disagree" in str(exc), (trial["id"], name, str(exc))
            continue
        assert a.signal == "event" and "foot markers" in a.method
        assert abs(a.offset_error_s) < 3 / FPS, (trial["id"], name, a)
        aligned += 1
    assert frontal and aligned >= len(frontal) // 2


def test_plates_without_markers_align_on_the_vertical_grf(demo_sides):
    # a force-plate-only gold standard: auto falls through the marker signals to the vertical GRF
    import copy

    from harness.pipeline.clock import align_clocks
    for trial, name, ref, cand in demo_sides:
        plates = copy.copy(ref)
        plates.signals = {k: v for k, v in ref.signals.items() if k in ("cop", "grf_vertical", "com")}
        plates.kinematic_events = None
        a = align_clocks(plates, cand, {"alignment_signal": "auto", "max_lag_s": 2.0}, trial)
        assert a.signal == "vertical_grf" and abs(a.offset_error_s) < 1.5 / FPS, (trial["id"], name, a)


def test_a_bipedal_protocol_times_the_first_step(demo_runs, tmp_path):
    # The demo's recordings read as mCTSIB trials: the person stands on both feet until one foot leaves the
    # floor, which for a bipedal protocol is a step, the failure. Both sides time it from the start of the
    # analysis window (the start of the video, on the mocap clock); the truth is the generator's foot lift.
    # Measured over the 12 trial x candidate runs: plates 33-40 ms before the truth, keypoints within 0.19 s
    # of the plates.
    import dataclasses

    from harness.manifest import load_manifest
    from harness.study import run_study
    m = load_manifest(demo_runs["out"] / "data" / "study.toml", check_candidates=False)
    m = dataclasses.replace(m, trials=[dataclasses.replace(t, protocol="mctsib", duration_s=None) for t in m.trials],
                            candidates=m.candidates[:1])
    r = run_study(m, tmp_path / "mctsib", workers=1, progress=False, device=False, report=False)
    truth = {t["trial_id"]: t for t in demo_runs["truth"]["trials"]}
    errors = []
    for row in r["trials"]:
        assert row["status"] == "ok", row.get("reason")
        t = truth[row["trial_id"]]
        lift = next(e["time"] for e in t["events"] if e["name"] == "foot_lift")
        start = row["window_s"][0]
        assert start == pytest.approx(t["offset_s"], abs=0.05)            # the video starts later
        assert row["window_s"][1] == pytest.approx(lift, abs=0.06)        # sway measured up to the step
        ttf = {k["kpi"]: k for k in row["kpis"]}["time_to_failure"]
        assert not ttf["censored_reference"] and not ttf["censored_candidate"], ttf
        assert ttf["reference"] == pytest.approx(lift - start, abs=0.06)  # plates: 20 N crossing ~35 ms early
        assert "step" in ttf["reference_method"] and "either foot" in ttf["candidate_method"]
        errors.append(abs(ttf["candidate"] - ttf["reference"]))
    # The keypoints time the step within 0.25 s, but a foot may seem to rise during the knee dip (measured with
    # seed 3: S02-EC, 1.52 m tall, read 0.73 s against 2.98 s; 0.04-0.09 s in the other three): a candidate's
    # error the report shows, at most one trial in four here.
    assert sum(e < 0.25 for e in errors) >= len(errors) - 1, errors
    agree = {(a["kpi"], a["condition"]): a for a in r["agreement"]}
    assert agree[("time_to_failure", "all")]["protocol"] == "mctsib"


def test_validate_runs_a_users_paired_study_from_the_command_line(demo_runs, tmp_path, capsys):
    # `stancebench validate` on the demo's own manifest (real C3D files, rendered videos, cached inference) with
    # the sample policy of a real study, whose agreement gates block: exit 1 (a small study cannot pass them),
    # the verdicts, results and report written; --check alone validates and exits 0.
    from importlib import resources
    data = demo_runs["out"] / "data"
    manifest = data / "study.toml"
    assert main(["validate", str(manifest), "--out", str(tmp_path / "v"), "--data-root", str(data), "--check"]) == 0
    policy = resources.files("harness.gates").joinpath("sample_policy.toml")
    capsys.readouterr()
    # the demo's journal is this manifest's: --resume reads every trial x candidate from it (same inputs, same
    # settings; the worker count and output folder are not part of a key) and computes none
    shutil.copytree(demo_runs["out"] / "journal", tmp_path / "v" / "journal")
    rc = main(["validate", str(manifest), "--out", str(tmp_path / "v"), "--data-root", str(data), "--policy",
               str(policy), "--no-device", "--no-progress", "--workers", "2", "--resume"])
    out = capsys.readouterr().out
    r = json.loads((tmp_path / "v" / "results.json").read_text())
    engine = r["study"]["engine"]
    assert engine["computed"] == 0 and engine["from_journal"] == len(demo_runs["second"]["trials"])
    # the same KPI values as the demo's own run (compared as JSON text: NaN equals NaN there)
    second = {(t["trial_id"], t["candidate"]): json.dumps(t["kpis"], sort_keys=True)
              for t in demo_runs["second"]["trials"]}
    assert all(json.dumps(t["kpis"], sort_keys=True) == second[(t["trial_id"], t["candidate"])] for t in r["trials"])
    assert rc == r["exit_code"] == 1 and "BLOCKED" in out
    assert r["study"]["kind"] == "manifest" and all(t["status"] == "ok" for t in r["trials"])
    assert any(a["kpi"] == "com_rms_ml" and a["icc"] is not None for a in r["agreement"])
    assert any(g["severity"] == "blocking" and g["status"] == "fail" for g in r["gates"])
    assert (tmp_path / "v" / "report.html").is_file() and (tmp_path / "v" / "gates.csv").is_file()
