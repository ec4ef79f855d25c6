"""QC of keypoint annotations against a labelling guideline (harness.annotations.guideline / .qc and
``stancebench annotations qc``).

The synthetic sets are hand-built: one COCO-17 person standing face-on to the camera, drawn at the coordinates of
``_POSE`` (the person's left side at larger x, as a person facing the camera appears), walking 2 px to the right
per frame over frames 0..5 of a 640×480 video. Each test plants one defect and states the numbers it expects,
computed by hand in the comments.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from candidates.annotations.model import AnnotationSet
from harness.annotations.guideline import KINDS, guideline_from_dict, load_guideline, sample_guideline_path
from harness.annotations.qc import COCO_SIGMAS, run_qc
from harness.cli import main

# A person facing the camera: left_* at larger x than right_*, y down. Its keypoint box spans x 155..245 and
# y 95..410, so its size sqrt(90 * 315) = 168.4 px, and min_separation 0.1 means 16.8 px.
_POSE = {
    "nose": (200, 100), "left_eye": (205, 95), "right_eye": (195, 95), "left_ear": (212, 100),
    "right_ear": (188, 100), "left_shoulder": (230, 150), "right_shoulder": (170, 150), "left_elbow": (240, 200),
    "right_elbow": (160, 200), "left_wrist": (245, 250), "right_wrist": (155, 250), "left_hip": (220, 250),
    "right_hip": (180, 250), "left_knee": (220, 330), "right_knee": (180, 330), "left_ankle": (220, 410),
    "right_ankle": (180, 410),
}
_SIZE = math.sqrt(90 * 315)
N_FRAMES = 6


def _rows(item: str, person: str, dx: float, *, edit=None, annotator: str = "ann1") -> list[dict]:
    """One person's 17 points shifted by dx; ``edit`` maps keypoint -> (x, y, v) to plant a defect."""
    rows = []
    for name, (x, y) in _POSE.items():
        v = 2
        x, y = x + dx, y
        if edit and name in edit:
            x, y, v = edit[name]
        rows.append({"annotator": annotator, "item": item, "person": person, "keypoint": name,
                     "source_keypoint": name, "x": x, "y": y, "visibility": v, "outside": False, "keyframe": True})
    return rows


def _track(edits: dict[int, dict] | None = None, *, extra: list[dict] | None = None, meta=None,
           times=None) -> AnnotationSet:
    """Frames 0..5 of one track (person "1"), each frame's edit planted; ``extra`` rows added."""
    edits = edits or {}
    items = [{"item": f"frame:{f}", "frame": f, "time_s": np.nan if times is None else times[f], "width": 640,
              "height": 480, "name": ""} for f in range(N_FRAMES)]
    points = [r for f in range(N_FRAMES) for r in _rows(f"frame:{f}", "1", 2 * f, edit=edits.get(f))]
    return AnnotationSet("clip.xml", "cvat-video", "coco17", pd.DataFrame(items), pd.DataFrame(points + (extra or [])),
                         meta=dict(meta or {}))


def _guide(kind: str, **params) -> object:
    return guideline_from_dict({"rule": [{"id": "r", "kind": kind, **params}]})


def _find(aset, kind, **params) -> pd.DataFrame:
    result = run_qc([aset], _guide(kind, **params))
    return result.findings


def _shift(name: str, f: int, dx: float = 0.0, dy: float = 0.0, v: int = 2) -> dict:
    x, y = _POSE[name]
    return {name: (x + 2 * f + dx, y + dy, v)}


# ------------------------------------------------------------------------------------------------ clean set
def test_clean_set_has_no_findings_for_any_kind():
    clean = _track(meta={"video": "clip.mp4"}, times=[i / 30 for i in range(N_FRAMES)])
    params = {"required-keypoints": {"keypoints": list(_POSE)}, "frames-beyond-video": {"frame_count": 6},
              "visibility": {"forbidden": {"nose": [1]}}, "duplicate-persons": {"allow_missing": True}}
    rules = [{"id": k, "kind": k, **params.get(k, {})} for k in KINDS]
    result = run_qc([clean], guideline_from_dict({"rule": rules}))
    assert result.findings.empty, result.findings["message"].tolist()
    # one person per frame: no pair of persons for duplicate-persons to compare
    assert [v.status for v in result.verdicts] == ["not-evaluable" if k == "duplicate-persons" else "pass"
                                                   for k in KINDS]
    assert result.exit_code == 0
    # units examined, counted by hand: 6 frames x 17 required points; 102 points; 4 pairs x 6 frames (every
    # pair 40-60 px = 0.24-0.36 sizes apart) plus 6 persons whose face and torso both tell; 4 pairs x 6 frames;
    # 6 frames x 12 bones; 5 steps x 17 keypoints
    assert result.examined["required-keypoints"] == 6 * 17
    assert result.examined["visibility"] == 6 * 17
    assert result.examined["left-right-swap-geometry"] == 6 * 4 + 6
    assert result.examined["left-right-swap-temporal"] == 6 * 4
    assert result.examined["bone-length"] == 6 * 12
    assert result.examined["outside-image"] == 6 * 17
    assert result.examined["frames-beyond-video"] == 6
    assert result.examined["sudden-jump"] == 5 * 17


# ------------------------------------------------------------------------------------------- one defect each
def test_required_keypoints_finds_an_unlabelled_ankle():
    aset = _track({3: {"left_ankle": (np.nan, np.nan, 0)}})
    f = _find(aset, "required-keypoints", keypoints=["left_ankle", "right_ankle"])
    assert f[["frame", "keypoint", "annotator", "file"]].values.tolist() == [[3, "left_ankle", "ann1", "clip.xml"]]
    assert "not labelled (v=0)" in f["message"][0]
    # v=1 satisfies min_visibility 1 but not 2
    occluded = _track({3: {"left_ankle": (222, 410, 1)}})
    assert _find(occluded, "required-keypoints", keypoints=["left_ankle"]).empty
    assert len(_find(occluded, "required-keypoints", keypoints=["left_ankle"], min_visibility=2)) == 1


def test_visibility_rules():
    aset = _track({1: {"nose": (202, 100, 1)}, 2: {"left_wrist": (np.nan, np.nan, 2)}, 4: {"right_hip": (188, 250, 3)}})
    f = _find(aset, "visibility", forbidden={"nose": [1]})
    got = sorted(zip(f["frame"], f["keypoint"]))
    assert got == [(1, "nose"), (2, "left_wrist"), (4, "right_hip")]
    msg = dict(zip(f["keypoint"], f["message"]))
    assert "not allowed for nose" in msg["nose"] and "no coordinates" in msg["left_wrist"]
    assert "visibility 3 is not allowed" in msg["right_hip"]
    # without the nose and coordinate clauses only the visibility 3 remains
    assert _find(aset, "visibility", require_coordinates=False)["keypoint"].tolist() == ["right_hip"]


def test_outside_image_with_tolerance():
    # frame 2: left_wrist at x = 650 is 10 px beyond the 640-px width; frame 3: right_wrist at x = 641, 1 px out
    aset = _track({2: {"left_wrist": (650, 250, 2)}, 3: {"right_wrist": (641, 250, 2)}})
    f = _find(aset, "outside-image", tolerance_px=2)
    assert f[["frame", "keypoint"]].values.tolist() == [[2, "left_wrist"]]
    assert f["value"][0] == pytest.approx(10.0)
    assert len(_find(aset, "outside-image", tolerance_px=0)) == 2


def test_outside_image_not_evaluable_without_image_size():
    aset = _track()
    aset.items["width"] = pd.array([pd.NA] * N_FRAMES, dtype="Int64")
    result = run_qc([aset], _guide("outside-image"))
    assert result.verdicts[0].status == "not-evaluable" and result.verdicts[0].blocks
    assert "unknown size" in result.verdicts[0].reason
    assert run_qc([aset], _guide("outside-image", width=640)).verdicts[0].status == "pass"


def test_duplicate_person_found_by_oks():
    # frame 4 holds a second person "2" drawn 1 px right and 1 px down of person "1": d² = 2 px² for every keypoint
    dup = _rows("frame:4", "2", 2 * 4 + 1, edit={n: (x + 8 + 1, y + 1, 2) for n, (x, y) in _POSE.items()})
    far = _rows("frame:4", "3", 2 * 4 + 300)      # another subject 300 px away: OKS ~ 0
    f = _find(_track(extra=dup + far), "duplicate-persons")
    assert f[["frame", "person"]].values.tolist() == [[4, "1"]]
    assert "persons 1 and 2" in f["message"][0]
    # OKS by hand (cocoeval computeOks): both boxes 90 x 315, s² = 28350; mean over 17 keypoints of
    # exp(-2 / (2 * 28350 * (2 sigma)²)) with COCO's sigmas
    sig = np.array(list(COCO_SIGMAS.values()))
    assert f["value"][0] == pytest.approx(np.mean(np.exp(-2 / (2 * 28350 * (2 * sig) ** 2))))
    assert f["value"][0] > 0.98
    assert _find(_track(extra=far), "duplicate-persons").empty


def test_frames_beyond_declared_count_and_video():
    f = _find(_track(), "frames-beyond-video", frame_count=5)      # frames 0..4 exist; 5 does not
    assert f[["frame", "annotator", "keypoint"]].values.tolist() == [[5, "ann1", ""]]
    # a video was given and frame 5 has no time on its clock
    times = [0.0, 0.033, 0.067, 0.1, 0.133, np.nan]
    f = _find(_track(meta={"video": "clip.mp4"}, times=times), "frames-beyond-video")
    assert f["frame"].tolist() == [5] and "clip.mp4" in f["message"][0]
    # the export declares its last frame (CVAT's stop_frame of its one task): frame 5 is past stop_frame 4
    f = _find(_track(meta={"tasks": [{"stop_frame": 4}]}), "frames-beyond-video")
    assert f["frame"].tolist() == [5] and "stop_frame" in f["message"][0]
    assert _find(_track(meta={"tasks": [{"stop_frame": 4}]}), "frames-beyond-video", use_export_range=False,
                 frame_count=6).empty
    # no video, no frame_count: nothing to compare with
    r = run_qc([_track()], _guide("frames-beyond-video", allow_missing=True))
    assert r.verdicts[0].status == "not-evaluable" and not r.verdicts[0].blocks


def test_sudden_jump():
    # frame 3: left_wrist 60 px right of its path. Steps of the wrist: 2, 2, 62, 58, 2 px; median 2 px;
    # 62 and 58 exceed both 5 x 2 = 10 px and the 20 px floor; every other keypoint steps 2 px
    f = _find(_track({3: _shift("left_wrist", 3, dx=60)}), "sudden-jump", k=5, min_px=20)
    assert sorted(zip(f["frame"], f["keypoint"], f["value"])) == [(3, "left_wrist", 62.0), (4, "left_wrist", 58.0)]
    assert "from frame 2 to frame 3" in f.sort_values("frame")["message"].iloc[0]
    # a 15-px hop stays under the floor
    assert _find(_track({3: _shift("left_wrist", 3, dx=15)}), "sudden-jump", min_px=20).empty


def test_bone_length_change():
    # frame 3: left_ankle 80 px lower, so left_knee-left_ankle is 160 px instead of 80 px: |160-80|/80 = 100%;
    # the track's median over frames 0..5 (80, 80, 80, 160, 80, 80) is 80
    f = _find(_track({3: _shift("left_ankle", 3, dy=80)}), "bone-length", max_change=0.5)
    assert f[["frame", "keypoint"]].values.tolist() == [[3, "left_knee-left_ankle"]]
    assert f["value"][0] == pytest.approx(1.0)
    assert _find(_track({3: _shift("left_ankle", 3, dy=30)}), "bone-length", max_change=0.5).empty  # 37.5%


# -------------------------------------------------------------------------------------------- left/right swaps
def _knees_swapped(f: int = 2) -> dict:
    (lx, ly), (rx, ry) = _POSE["left_knee"], _POSE["right_knee"]
    return {f: {"left_knee": (rx + 2 * f, ry, 2), "right_knee": (lx + 2 * f, ly, 2)}}


def test_swap_in_one_frame_found_by_geometry_and_by_time():
    aset = _track(_knees_swapped(2))
    # geometry: body axis up (0, -1), so cross = (Lx - Rx); frame 2 has left_knee 40 px LEFT of right_knee:
    # -40 / 168.4 = -0.24 person sizes, opposite to the torso's "facing the camera" (shoulders +60, hips +40 px)
    geo = _find(aset, "left-right-swap-geometry")
    assert geo[["frame", "keypoint"]].values.tolist() == [[2, "left_knee"]]
    assert geo["value"][0] == pytest.approx(-40 / _SIZE)
    assert "from the torso" in geo["message"][0]
    # time: step 1->2 keeps cost |184-222| + |224-182| = 80 px, exchanged cost |184-182| + |224-222| = 4 px:
    # ratio 0.05 < 0.5; step 2->3 likewise; parities 0,0,1,0,0,0: frame 2 is the minority
    tmp = _find(aset, "left-right-swap-temporal")
    assert tmp[["frame", "keypoint"]].values.tolist() == [[2, "left_knee"]]
    assert tmp["value"][0] == pytest.approx(4 / 80)
    assert "from frame 1 to frame 2" in tmp["message"][0]


_NO_FACE = {n: (np.nan, np.nan, 0) for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")}


def test_geometry_face_breaks_a_torso_tie_and_majority_without_face():
    # frame 2: shoulders exchanged, hips not: the torso pairs disagree (-60 px vs +40 px), so the torso does not
    # tell; the visible nose says "facing the camera" and the shoulders are the wrong pair
    (lx, ly), (rx, ry) = _POSE["left_shoulder"], _POSE["right_shoulder"]
    swapped = {"left_shoulder": (rx + 4, ry, 2), "right_shoulder": (lx + 4, ly, 2)}
    f = _find(_track({2: swapped}), "left-right-swap-geometry")
    assert f[["frame", "keypoint"]].values.tolist() == [[2, "left_shoulder"]] and "from the face" in f["message"][0]
    # without a face: hips, knees, ankles + against shoulders -: a lead of 3 - 1 = 2 decides
    f = _find(_track({2: {**_NO_FACE, **swapped}}), "left-right-swap-geometry")
    assert f[["frame", "keypoint"]].values.tolist() == [[2, "left_shoulder"]] and "majority" in f["message"][0]
    # and with the knees exchanged too, 2 against 2: no facing, not judged, said in the notes
    both = {**_NO_FACE, **swapped, **_knees_swapped(2)[2]}
    r = run_qc([_track({2: both})], _guide("left-right-swap-geometry"))
    assert r.findings.empty and "facing direction unknown" in r.notes["r"][0]


def test_geometry_without_face_uses_torso_and_respects_facing_away():
    edits = {f: dict(_NO_FACE) for f in range(N_FRAMES)}
    edits[2].update(_knees_swapped(2)[2])
    f = _find(_track(edits), "left-right-swap-geometry")
    assert f[["frame", "keypoint"]].values.tolist() == [[2, "left_knee"]] and "from the torso" in f["message"][0]
    # a person seen from behind: mirrored about x = 200 (left now at smaller x), face hidden, ears visible.
    # Every pair is then negative, as it should be for a person facing away, and the visible ears without a
    # face say "facing away" too: no finding in 6 x 4 pairs and 6 face checks
    back = {f: {n: (400 - x - 2 * f, y, 0 if n in ("nose", "left_eye", "right_eye") else 2)
                for n, (x, y) in _POSE.items()} for f in range(N_FRAMES)}
    for f in range(N_FRAMES):
        for n in ("nose", "left_eye", "right_eye"):
            back[f][n] = (np.nan, np.nan, 0)
    r = run_qc([_track(back)], _guide("left-right-swap-geometry"))
    assert r.findings.empty and r.examined["r"] == 6 * 4 + 6
    # the same mirrored person with a visible nose: the face says "facing the camera", the torso "facing away":
    # a whole-body exchange (or a head turned over the shoulder), one finding per frame; the pairs agree with
    # the torso
    for f in range(N_FRAMES):
        back[f]["nose"] = (200, 100, 2)
    f = _find(_track(back), "left-right-swap-geometry")
    assert f["frame"].tolist() == list(range(N_FRAMES)) and set(f["keypoint"]) == {""}
    assert "whole body" in f["message"][0]
    assert _find(_track(back), "left-right-swap-geometry", face_torso_conflict=False).empty


def test_temporal_rule_ignores_pairs_too_close_to_tell():
    # ankles 4 px apart (0.02 sizes < 0.1) in every frame, exchanged in frame 2: not decidable, not judged
    close = {f: {"left_ankle": (202 + 2 * f, 410, 2), "right_ankle": (198 + 2 * f, 410, 2)} for f in range(N_FRAMES)}
    close[2] = {"left_ankle": (198 + 4, 410, 2), "right_ankle": (202 + 4, 410, 2)}
    r = run_qc([_track(close)], _guide("left-right-swap-temporal", pairs=["ankle"]))
    assert r.findings.empty and r.verdicts[0].status == "not-evaluable"


# ------------------------------------------------------------------------------------------------- verdicts
def test_thresholds_count_and_fraction():
    aset = _track({3: {"left_ankle": (np.nan, np.nan, 0)}})
    kp = {"keypoints": list(_POSE)}
    v = run_qc([aset], _guide("required-keypoints", **kp, max_findings=1)).verdicts[0]
    assert (v.status, v.actual, v.threshold, v.unit) == ("pass", 1.0, 1.0, "findings")
    # 1 of 102 required points = 0.98% > 0.5%
    v = run_qc([aset], _guide("required-keypoints", **kp, max_fraction=0.005)).verdicts[0]
    assert v.status == "fail" and v.blocks and v.actual == pytest.approx(100 / 102)
    assert "1 of 102 required points" in v.message and "≤ 0.5%" in v.message
    v = run_qc([aset], _guide("required-keypoints", **kp, severity="advisory")).verdicts[0]
    assert v.status == "fail" and not v.blocks


def test_required_keypoint_outside_the_schema_is_an_error_verdict():
    v = run_qc([_track()], _guide("required-keypoints", keypoints=["left_heel"])).verdicts[0]
    assert v.status == "error" and v.blocks and "left_heel" in v.reason


@pytest.mark.parametrize("rule, key, text", [
    ({"kind": "elbow-angle"}, "kind", "unknown rule kind"),
    ({"kind": "duplicate-persons", "min_oks": 2}, "min_oks", "out of range"),
    ({"kind": "sudden-jump", "k": "five"}, "k", "not a finite number"),
    ({"kind": "outside-image", "tolerance": 2}, "tolerance", "unknown key"),
    ({"kind": "required-keypoints"}, "keypoints", "needs keypoints"),
    ({"kind": "required-keypoints", "keypoints": ["left_nee"]}, "keypoints[0]", "not a keypoint name"),
    ({"kind": "left-right-swap-geometry", "pairs": ["nose"]}, "pairs[0]", "names no left/right pair"),
    ({"kind": "visibility", "severity": "fatal"}, "severity", "unknown severity"),
    ({"kind": "visibility", "max_findings": 1, "max_fraction": 0.1}, "max_fraction", "not both"),
])
def test_guideline_errors_exit_2_naming_file_rule_and_key(tmp_path, capsys, rule, key, text):
    import tomli_w
    guide = tmp_path / "guide.toml"
    guide.write_text(tomli_w.dumps({"rule": [{"id": "my-rule", **rule}]}))
    rc = main(["annotations", "qc", str(_coco_file(tmp_path)), "--guideline", str(guide)])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(guide) in err and f"rule 'my-rule'.{key}" in err and text in err


def test_sample_guideline_loads_and_names_every_kind():
    g = load_guideline(sample_guideline_path())
    assert g.sample and {r.kind for r in g.rules} == set(KINDS)


# ------------------------------------------------------------------------------------------------------ CLI
def _coco_file(tmp_path, *, planted: bool = False):
    """A COCO person-keypoints file of one image (640x480) and one person at _POSE; ``planted`` hides the
    left ankle (v=0)."""
    from candidates.skeletons import COCO17
    kps = []
    for name in COCO17:
        x, y = _POSE[name]
        v = 0 if planted and name == "left_ankle" else 2
        kps += [0, 0, 0] if v == 0 else [x, y, v]
    data = {"images": [{"id": 1, "file_name": "img.jpg", "width": 640, "height": 480}],
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17), "skeleton": []}],
            "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "keypoints": kps, "iscrowd": 0,
                             "num_keypoints": sum(1 for i in range(2, 51, 3) if kps[i] > 0),
                             "bbox": [155, 95, 90, 315], "area": 28350}]}
    path = tmp_path / ("planted.json" if planted else "clean.json")
    path.write_text(json.dumps(data))
    return path


def test_cli_exit_codes_and_outputs(tmp_path, capsys):
    import tomli_w
    guide = tmp_path / "g.toml"
    guide.write_text(tomli_w.dumps({"guideline": {"name": "ankles"}, "rule": [
        {"id": "ankles", "kind": "required-keypoints", "keypoints": ["left_ankle", "right_ankle"]}]}))
    assert main(["annotations", "qc", str(_coco_file(tmp_path)), "--guideline", str(guide)]) == 0
    assert "[ PASS] blocking" in capsys.readouterr().out
    findings, junit = tmp_path / "f.csv", tmp_path / "j.xml"
    rc = main(["annotations", "qc", str(_coco_file(tmp_path, planted=True)), "--guideline", str(guide),
               "--findings", str(findings), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "[ FAIL] blocking" in out and "left_ankle" in out and "BLOCKS" in out
    table = pd.read_csv(findings)
    assert table[["keypoint", "rule_id"]].values.tolist() == [["left_ankle", "ankles"]]
    assert "<failure" in junit.read_text()
    rc = main(["annotations", "qc", str(_coco_file(tmp_path, planted=True)), "--guideline", str(guide), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and doc["summary"]["fail"] == 1 and doc["findings"][0]["keypoint"] == "left_ankle"


def test_cli_without_guideline_uses_the_sample_and_says_so(tmp_path, capsys):
    main(["annotations", "qc", str(_coco_file(tmp_path))])
    assert "sample guideline" in capsys.readouterr().out


def test_real_fixture_files_run_through_qc(capsys):
    folder = shared_path("annotations")
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".xml"))
    ran = 0
    for path in files:
        rc = main(["annotations", "qc", str(path), "--json"])
        captured = capsys.readouterr()
        # a file the importer refuses (COCO results, an NDJSON import) exits 2 with one line naming it
        assert rc in (0, 1, 2), (path, captured.err)
        if rc == 2:
            assert str(path) in captured.err or path.name in captured.err
            continue
        doc = json.loads(captured.out)
        assert len(doc["verdicts"]) == len(load_guideline(sample_guideline_path()).rules)
        ran += 1
    assert ran >= 10
