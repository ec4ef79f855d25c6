"""Study manifests: a valid manifest loads with every path resolved; each kind of mistake gives a
ManifestError naming the manifest file and the field."""
from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from ground_truth.kernel import ManifestError
from harness.manifest import load_manifest


def _write(tmp_path: Path, body: str, files=("gs/S01.c3d", "vid/S01.mp4", "cam.toml")) -> Path:
    for f in files:
        p = tmp_path / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent(body))
    return path


GOOD = """
    [study]
    name = "pilot"

    [settings]
    seed = 7
    workers = 1
    kpis = ["com_path_length", "time_to_failure"]

    [[subjects]]
    id = "S01"
    height_m = 1.72
    mass_kg = 68.0
    leg_length_m = 0.88
    sex = "F"

    [[trials]]
    id = "S01-EO-1"
    subject = "S01"
    protocol = "single_leg_stance"
    condition = "eyes_open_firm"
    stance_leg = "left"
    gold_standard = "gs/S01.c3d"
    video = ["vid/S01.mp4"]
    camera = "cam.toml"
    known_clock_offset_s = 0.25

    [[candidates]]
    name = "mediapipe-full"
    baseline = true

    [[candidates]]
    name = "blazepose-int8"
    backbone = "blazepose-tflite"
    """


def test_good_manifest_loads_and_resolves_paths(tmp_path):
    m = load_manifest(_write(tmp_path, GOOD), check_candidates=False)
    assert m.name == "pilot"
    assert m.settings.seed == 7 and m.settings.kpis == ["com_path_length", "time_to_failure"]
    t = m.trials[0]
    assert t.gold_standard == [(tmp_path / "gs/S01.c3d").resolve()]
    assert t.video[0].is_absolute() and t.camera.name == "cam.toml"
    assert t.known_clock_offset_s == [0.25] and t.kind == "paired"   # one entry per video
    assert m.baseline.name == "mediapipe-full"
    assert m.candidates[1].backbone == "blazepose-tflite"
    assert m.subject("S01").leg_length_m == 0.88


def test_data_root_from_argument_and_environment(tmp_path, monkeypatch):
    root = tmp_path / "data"
    _write(root, GOOD)  # files under root
    manifest = tmp_path / "elsewhere" / "study.toml"
    manifest.parent.mkdir()
    manifest.write_text(textwrap.dedent(GOOD))
    with pytest.raises(ManifestError, match="file not found"):
        load_manifest(manifest, check_candidates=False)
    assert load_manifest(manifest, data_root=root, check_candidates=False).data_root == root.resolve()
    monkeypatch.setenv("STANCEBENCH_DATA_ROOT", str(root))
    assert load_manifest(manifest, check_candidates=False).trials[0].video[0].parent == (root / "vid").resolve()


@pytest.mark.parametrize("edit, field, words", [
    (('video = ["vid/S01.mp4"]', 'video = ["vid/missing.mp4"]'), "trials[0] (id 'S01-EO-1').video[0]",
     "file not found"),
    (('protocol = "single_leg_stance"', 'protocol = "tightrope"'), "trials[0] (id 'S01-EO-1').protocol",
     "unknown protocol 'tightrope'"),
    (('subject = "S01"', 'subject = "S99"'), "trials[0] (id 'S01-EO-1').subject", "unknown subject 'S99'"),
    (('condition = "eyes_open_firm"', 'condition = "eyes_half_open"'), "trials[0] (id 'S01-EO-1').condition",
     "unknown condition"),
    (('height_m = 1.72', 'height_m = 172'), "subjects[0] (id 'S01').height_m", "outside the plausible range"),
    (('mass_kg = 68.0', 'mass_kg = "heavy"'), "subjects[0] (id 'S01').mass_kg", "is 'heavy'"),
    (('stance_leg = "left"', 'stance_leg = "middle"'), "trials[0] (id 'S01-EO-1').stance_leg", "left or right"),
    (('seed = 7', 'seed = -1'), "settings.seed", "is -1"),
    (('"time_to_failure"]', '"time_to_fail"]'), "settings.kpis", "unknown KPI(s) 'time_to_fail'"),
    (('"time_to_failure"]', '"time_to_failure", "ybt_composite"]'), "settings.kpis",
     "KPI(s) 'ybt_composite' are reported by none of the study's protocols (single_leg_stance)"),
    (('condition = "eyes_open_firm"', 'condition = "eyes_open_firm"\nduration_s = 60.0'),
     "trials[0] (id 'S01-EO-1').duration_s", "longer than the 45 s of 'single_leg_stance'"),
    (('name = "blazepose-int8"', 'name = "mediapipe-full"'), "candidates[1].name", "duplicate candidate"),
])
def test_each_mistake_names_file_and_field(tmp_path, edit, field, words):
    body = GOOD.replace(*edit)
    assert body != GOOD
    path = _write(tmp_path, body)
    with pytest.raises(ManifestError) as info:
        load_manifest(path, check_candidates=False)
    msg = str(info.value)
    assert str(path.resolve()) in msg and field in msg and words in msg


def test_duplicate_trial_ids_and_all_problems_listed_at_once(tmp_path):
    body = GOOD + """
    [[trials]]
    id = "S01-EO-1"
    subject = "S02"
    protocol = "single_leg_stance"
    condition = "eyes_open_firm"
    gold_standard = "gs/S01.c3d"
    video = "vid/S01.mp4"
    """
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, body), check_candidates=False)
    msg = str(info.value)
    assert "2 problems" in msg
    assert "duplicate trial id 'S01-EO-1'" in msg and "unknown subject 'S02'" in msg


def test_one_sided_trials_are_labelled(tmp_path):
    body = GOOD.replace('gold_standard = "gs/S01.c3d"\n', 'kind = "candidate-only"\n')
    m = load_manifest(_write(tmp_path, body), check_candidates=False)
    assert m.trials[0].kind == "candidate-only" and m.trials[0].gold_standard == []
    # a paired trial without a gold standard is an error, not a silent candidate-only trial
    body = GOOD.replace('gold_standard = "gs/S01.c3d"\n', "")
    with pytest.raises(ManifestError, match=r"gold_standard': is missing"):
        load_manifest(_write(tmp_path, body), check_candidates=False)


def test_unknown_fields_and_bad_toml(tmp_path):
    with pytest.raises(ManifestError, match="unknown trial field"):
        load_manifest(_write(tmp_path, GOOD.replace("stance_leg =", "stance_lge =")), check_candidates=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nname=1")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(bad)
    with pytest.raises(ManifestError, match="manifest file not found"):
        load_manifest(tmp_path / "nope.toml")


def test_candidate_that_cannot_run_here(tmp_path):
    body = GOOD.replace('name = "blazepose-int8"\n    backbone = "blazepose-tflite"', 'name = "no-such-backbone"')
    with pytest.raises(ManifestError, match=r"candidates\[1\].*'no-such-backbone' cannot run here"):
        load_manifest(_write(tmp_path, body))


def test_cli_validate_check_reports_bad_manifest_with_exit_2(tmp_path, capsys):
    from harness.cli import main
    path = _write(tmp_path, GOOD.replace('subject = "S01"', 'subject = "S99"'))
    rc = main(["validate", str(path), "--out", str(tmp_path / "out"), "--check"])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown subject 'S99'" in err and "study.toml" in err


def test_every_accepted_alignment_signal_is_implemented():
    # the manifest must not accept a signal the orchestration then cannot use
    from harness.manifest import ALIGNMENT_SIGNALS
    from harness.pipeline.clock import ALIGNMENT_SIGNALS as IMPLEMENTED
    assert set(ALIGNMENT_SIGNALS) == set(IMPLEMENTED) | {"auto", "event", "known"}


def test_own_protocol_files(tmp_path):
    # protocols = [...] resolve against the manifest's folder; a bad file is one more listed problem
    import shutil
    from pathlib import Path
    src = Path(__file__).parent / "manifests" / "bds_quiet_standing.toml"
    shutil.copy(src, tmp_path / "quiet.toml")
    body = 'protocols = ["quiet.toml"]\n' + GOOD.replace('protocol = "single_leg_stance"',
                                                        'protocol = "bds_quiet_standing"')
    m = load_manifest(_write(tmp_path, body), check_candidates=False)
    assert m.trials[0].protocol == "bds_quiet_standing" and "bds_quiet_standing" in m.protocol_defs
    (tmp_path / "bad.toml").write_text('name = "mctsib"\n')
    with pytest.raises(ManifestError, match=r"protocols\[0\]"):
        load_manifest(_write(tmp_path, 'protocols = ["bad.toml"]\n' + GOOD), check_candidates=False)


def test_several_cameras_views_controls_and_marker_map(tmp_path):
    """Per-video fields are lists in the order of 'video' (or one value for all); a candidate names its view;
    a control is declared; marker_map names a built-in mapping."""
    body = GOOD.replace('''    video = ["vid/S01.mp4"]
    camera = "cam.toml"
    known_clock_offset_s = 0.25
''', '''    video = ["vid/S01.mp4", "vid/S01-side.mp4"]
    camera = "cam.toml"
    camera_name = ["front", "side"]
    known_clock_offset_s = [0.25, 0.5]
    known_drift_ppm = 10.0
    marker_map = "plug_in_gait"
''').replace('''    name = "blazepose-int8"
    backbone = "blazepose-tflite"
''', '''    name = "blazepose-int8"
    backbone = "blazepose-tflite"
    view = "triangulated"

    [[candidates]]
    name = "truth"
    backbone = "render-truth"
    view = "side"
    control = "positive"
''')
    m = load_manifest(_write(tmp_path, body, files=("gs/S01.c3d", "vid/S01.mp4", "vid/S01-side.mp4", "cam.toml")),
                      check_candidates=False)
    t = m.trials[0]
    assert t.camera_name == ["front", "side"] and t.known_clock_offset_s == [0.25, 0.5]
    assert t.known_drift_ppm == [10.0, 10.0] and t.truth == [None, None] and t.marker_map == "plug_in_gait"
    views = {c.name: (c.view, c.control) for c in m.candidates}
    assert views == {"mediapipe-full": ("first", None), "blazepose-int8": ("triangulated", None),
                     "truth": ("side", "positive")}
    from harness.pipeline.views import trial_view, view_indices
    d = dataclasses.asdict(t)
    assert view_indices(d, "side") == [1] and view_indices(d, "triangulated") == [0, 1]
    v = trial_view(d, 1)
    assert v["video"] == [t.video[1]] and v["camera_name"] == "side" and v["known_clock_offset_s"] == 0.5


def test_per_view_lists_of_the_wrong_length_and_bad_views_are_named(tmp_path):
    body = GOOD.replace('''    known_clock_offset_s = 0.25
''', '''    known_clock_offset_s = [0.25, 0.5]
    camera_name = ["front"]
    marker_map = "vicon_whatever"
''').replace('''    backbone = "blazepose-tflite"
''', '''    backbone = "blazepose-tflite"
    view = "top"
    control = "maybe"
''')
    with pytest.raises(ManifestError) as err:
        load_manifest(_write(tmp_path, body), check_candidates=False)
    msg = str(err.value)
    for fld in ("known_clock_offset_s", "marker_map", "candidates[1].view", "candidates[1].control"):
        assert fld in msg, (fld, msg)
    assert "lists 2 values for 1 video(s)" in msg and "plug_in_gait" in msg


def test_a_candidate_limited_to_some_trials_and_frames(tmp_path):
    """``trials = [...]`` on a candidate: study._tasks gives it those trials only; unknown ids are named.
    ``frame_step`` is a positive integer."""
    from harness.study import _tasks
    two = GOOD.replace('[[candidates]]\n    name = "mediapipe-full"',
                       'known_clock_offset_s = 0.3\n    [[trials]]\n    id = "S01-EO-2"\n    subject = "S01"\n'
                       '    protocol = "single_leg_stance"\n    condition = "eyes_open_firm"\n'
                       '    gold_standard = "gs/S01.c3d"\n    video = ["vid/S01.mp4"]\n\n'
                       '    [[candidates]]\n    name = "mediapipe-full"', 1)
    two = two.replace('    known_clock_offset_s = 0.25\n', '', 1)
    body = two.replace('backbone = "blazepose-tflite"',
                       'backbone = "blazepose-tflite"\n    trials = ["S01-EO-2"]\n    frame_step = 2')
    m = load_manifest(_write(tmp_path, body), check_candidates=False)
    assert [c.trials for c in m.candidates] == [None, ["S01-EO-2"]]
    assert [c.frame_step for c in m.candidates] == [1, 2]
    pairs = [(t["trial"]["id"], t["candidate"]["name"]) for t in _tasks(m)]
    assert pairs == [("S01-EO-1", "mediapipe-full"), ("S01-EO-2", "mediapipe-full"),
                     ("S01-EO-2", "blazepose-int8")]
    for bad, words in ((' ["S09-X"]', "'S09-X', which is no trial"), (" []", "non-empty list"),
                       (' ["S01-EO-2", "S01-EO-2"]', "names a trial twice"),
                       (' ["S01-EO-2"]\n    frame_step = 0', "is 0.*positive integer")):
        body = two.replace('backbone = "blazepose-tflite"', f'backbone = "blazepose-tflite"\n    trials ={bad}')
        with pytest.raises(ManifestError, match=rf"candidates\[1\]\.(trials|frame_step).*{words}"):
            load_manifest(_write(tmp_path, body), check_candidates=False)
