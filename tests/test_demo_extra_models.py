"""The demo's extra models (issue 11): the installed lite/heavy BlazePose models join the synthetic single-leg
study on a subsample of trials, a missing one is named with the install command, and installing one later only
rewrites the manifest (the generated videos are reused)."""
from __future__ import annotations

import tomllib

from conftest import shared_path
from harness.demo_candidates import EXTRA_MODELS, extra_model_candidates, extra_model_trials
from harness.synthetic_study import DemoConfig


def _trials(conditions, subjects=("S01", "S02", "S03")):
    return [{"trial_id": f"{s}-{c}", "condition": c} for s in subjects for c in conditions]


def test_subsample_is_the_first_conditions_trials_topped_up_to_three():
    cfg = DemoConfig()
    trials = _trials(cfg.conditions)
    assert extra_model_trials(cfg, trials) == ["S01-eyes_open_firm", "S02-eyes_open_firm", "S03-eyes_open_firm"]
    two = _trials(cfg.conditions, subjects=("S01", "S02"))
    # two subjects: both eyes-open trials and the first other one (3 pairs: the least agreement statistics need)
    assert extra_model_trials(cfg, two) == ["S01-eyes_open_firm", "S02-eyes_open_firm", "S01-eyes_closed_firm"]


def test_missing_models_are_named_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCEBENCH_MODELS", str(tmp_path / "empty"))
    specs, notes = extra_model_candidates(["T1", "T2", "T3"])
    assert specs == []
    assert [n.split(" not compared")[0] for n in notes[:-1]] == list(EXTRA_MODELS)
    assert notes[-1].startswith("to compare them: run `stancebench models install`")
    # a corrupt file (other bytes under the model's name) is named with its sha256, not used
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pose_landmark_lite.tflite").write_bytes(b"not the model")
    monkeypatch.setenv("STANCEBENCH_MODELS", str(tmp_path / "bad"))
    specs, notes = extra_model_candidates(["T1", "T2", "T3"], names=("blazepose-lite-tflite",))
    assert specs == [] and "has sha256" in notes[0] and "not the pinned" in notes[0]
    assert "pose_landmark_lite.tflite into" in notes[1]


def test_an_installed_model_joins_the_manifest_on_the_subsample(tmp_path, monkeypatch):
    lite = shared_path("models", "blazepose", "pose_landmark_lite.tflite")
    heavy = shared_path("models", "blazepose", "pose_landmark_heavy.tflite")
    from candidates.model_install import install_from
    monkeypatch.setenv("STANCEBENCH_MODELS", str(tmp_path / "models"))
    install_from(lite)
    specs, notes = extra_model_candidates(["T1", "T2", "T3"])
    assert [s["name"] for s in specs] == ["blazepose-lite-tflite"]
    assert specs[0]["trials"] == ["T1", "T2", "T3"] and "frame_step" not in specs[0]
    assert notes[0].startswith("blazepose-heavy-tflite not compared: model blazepose-heavy not installed")
    install_from(heavy)
    specs, notes = extra_model_candidates(["T1", "T2", "T3"], exclude=("blazepose-lite-tflite",))
    assert [(s["name"], s.get("frame_step")) for s in specs] == [("blazepose-heavy-tflite", 2)] and notes == []


def test_the_manifest_is_rewritten_when_models_change(tmp_path, monkeypatch):
    """A study generated without the models gets them on its next run without being generated again."""
    lite = shared_path("models", "blazepose", "pose_landmark_lite.tflite")
    from candidates.model_install import install_from
    from harness.manifest import load_manifest
    from harness.synthetic_study import generate_demo_study
    monkeypatch.setenv("STANCEBENCH_MODELS", str(tmp_path / "models"))
    # one subject, one condition: the subsample is that one trial (the smallest study that shows the rewrite)
    cfg = DemoConfig(n_subjects=1, duration_s=1.0, cameras=1, controls=False, width=96, height=160,
                     conditions=("eyes_open_firm",), extra_models=tuple(EXTRA_MODELS))
    first = generate_demo_study(tmp_path / "demo", cfg, workers=1, progress=False)
    assert first.generation_status == "generated"
    assert [c["name"] for c in tomllib.loads(first.manifest_path.read_text())["candidates"]] == ["blazepose-tflite"]
    assert len(first.model_notes) == 3
    install_from(lite)
    again = generate_demo_study(tmp_path / "demo", cfg, workers=1, progress=False)
    assert again.generation_status.startswith("reused")
    doc = tomllib.loads(again.manifest_path.read_text())
    extra = doc["candidates"][-1]
    assert extra["name"] == "blazepose-lite-tflite" and extra["trials"] == [t["id"] for t in doc["trials"]]
    assert "compared on a subsample" in again.model_notes[0] and "blazepose-heavy-tflite not" in again.model_notes[1]
    m = load_manifest(again.manifest_path, data_root=again.manifest_path.parent, check_candidates=False)
    assert m.candidates[-1].trials == extra["trials"]
