"""Importers: OpenPose per-frame JSON, COCO results, CSV, OpenSim .trc (3-D), track JSON. Files are written
here by independent writers of each published format; times come from a real generated VFR video."""
from __future__ import annotations

import json

import numpy as np
import pytest

from candidates.importers import (ImportedCandidate, read_coco_results, read_keypoint_csv, read_keypoints,
                                  read_openpose, read_trc_keypoints)
from candidates.skeletons import COCO17
from ground_truth.kernel import InputError, ReaderError

TIMES = np.array([0.0, 0.04, 0.07, 0.12])


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from candidates.video import write_video
    frames = np.zeros((4, 48, 64, 3), np.uint8)
    return write_video(tmp_path_factory.mktemp("v") / "v.mp4", frames, TIMES)


def _body25(seed):
    rng = np.random.default_rng(seed)
    a = np.column_stack([rng.uniform(0, 64, 25), rng.uniform(0, 48, 25), rng.uniform(0.2, 1, 25)])
    a[20] = 0  # left small toe not found → OpenPose writes 0, 0, 0
    return a


def _openpose_folder(tmp_path, frames, start=0):
    d = tmp_path / "op"
    d.mkdir()
    for i, arr in enumerate(frames):
        people = [] if arr is None else [{"pose_keypoints_2d": arr.ravel().tolist()}]
        (d / f"vid_{start + i:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return d


def test_openpose_body25(tmp_path, video):
    arrs = [_body25(0), None, _body25(2), _body25(3)]
    track = read_openpose(_openpose_folder(tmp_path, arrs), video=video)
    assert track.schema == "blazepose33"
    np.testing.assert_allclose(track.times_s, TIMES, atol=1e-4)
    # BODY_25 index 12 is LHip → BlazePose 'left_hip'; 22 (RBigToe) → 'right_foot_index'; 21 LHeel.
    np.testing.assert_allclose(track.keypoint("left_hip")[0], arrs[0][12, :2])
    np.testing.assert_allclose(track.keypoint("right_foot_index")[3], arrs[3][22, :2])
    np.testing.assert_allclose(track.keypoint("left_heel")[2], arrs[2][21, :2])
    assert track.detected.tolist() == [True, False, True, True]
    assert np.all(np.isnan(track.keypoint("left_eye_inner")))       # not in BODY_25


def test_openpose_picks_the_most_confident_person(tmp_path, video):
    d = tmp_path / "op"
    d.mkdir()
    weak, strong = _body25(5), _body25(6)
    weak[:, 2] = 0.1
    strong[:, 2] = 0.9
    for i in range(4):
        people = [{"pose_keypoints_2d": weak.ravel().tolist()}, {"pose_keypoints_2d": strong.ravel().tolist()}]
        (d / f"x_{i:012d}_keypoints.json").write_text(json.dumps({"people": people}))
    track = read_openpose(d, video=video)
    np.testing.assert_allclose(track.keypoint("nose")[0], strong[0, :2])


def test_openpose_gap_in_frames_is_an_error(tmp_path, video):
    d = _openpose_folder(tmp_path, [_body25(0)] * 4)
    (d / "vid_000000000002_keypoints.json").unlink()
    with pytest.raises(ReaderError, match="jump from 1 to 3") as err:
        read_openpose(d, video=video)
    assert str(d) in str(err.value)


def test_openpose_wrong_count_and_wrong_keypoint_number(tmp_path, video):
    d = _openpose_folder(tmp_path, [_body25(0)] * 3)
    with pytest.raises(ReaderError, match="3 keypoint frames for a video of 4 frames"):
        read_openpose(d, video=video)
    bad = tmp_path / "op2"
    bad.mkdir()
    (bad / "a_000000000000_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 60}]}))
    with pytest.raises(ReaderError, match="20 keypoints") as err:
        read_openpose(bad, video=video)
    assert "25 (BODY_25) or 18 (COCO)" in str(err.value)
    with pytest.raises(InputError, match="pass the matching video"):
        read_openpose(d)


def _coco_entry(image_id, seed, score=0.9):
    rng = np.random.default_rng(seed)
    kp = np.column_stack([rng.uniform(0, 64, 17), rng.uniform(0, 48, 17), np.full(17, 2.0)])
    return {"image_id": image_id, "category_id": 1, "keypoints": kp.ravel().tolist(), "score": score}


def test_coco_results(tmp_path, video):
    rows = [_coco_entry(0, 0), _coco_entry(2, 1, 0.5), _coco_entry(2, 2, 0.8), _coco_entry(3, 3)]
    p = tmp_path / "res.json"
    p.write_text(json.dumps(rows))
    track = read_coco_results(p, video=video)
    assert track.schema == "coco17" and track.detected.tolist() == [True, False, True, True]
    want = np.asarray(rows[2]["keypoints"]).reshape(17, 3)      # the higher-scoring entry of frame 2
    np.testing.assert_allclose(track.keypoints[2], want[:, :2])
    np.testing.assert_allclose(track.confidence[2], 1.0)          # COCO v = 2 (visible) → 1
    rows.append({"image_id": 1, "keypoints": [1.0] * 30})
    p.write_text(json.dumps(rows))
    with pytest.raises(ReaderError, match="51 values"):
        read_coco_results(p, video=video)
    p.write_text(json.dumps([_coco_entry(9, 0)]))
    with pytest.raises(ReaderError, match="outside the video's 4 frames"):
        read_coco_results(p, video=video)


def test_csv_with_time_and_with_frames(tmp_path, video):
    import pandas as pd
    rng = np.random.default_rng(0)
    cols = {"time_s": TIMES}
    for n in COCO17:
        cols[f"{n}_x"] = rng.uniform(0, 64, 4)
        cols[f"{n}_y"] = rng.uniform(0, 48, 4)
    cols["nose_x"][1] = np.nan
    p = tmp_path / "kp.csv"
    pd.DataFrame(cols).to_csv(p, index=False)
    track = read_keypoint_csv(p, image_size=(64, 48))
    assert track.schema == "coco17"
    np.testing.assert_allclose(track.times_s, TIMES)
    np.testing.assert_allclose(track.keypoint("left_knee")[:, 0], cols["left_knee_x"])
    assert np.isnan(track.confidence[1, 0]) and track.confidence[0, 0] == 1.0
    # frame-indexed CSV takes the video's times
    df = pd.DataFrame(cols).drop(columns="time_s")
    df.insert(0, "frame", range(4))
    df.to_csv(p, index=False)
    np.testing.assert_allclose(read_keypoint_csv(p, video=video).times_s, TIMES, atol=1e-4)
    df.drop(columns=["left_ankle_x"]).to_csv(p, index=False)
    with pytest.raises(ReaderError, match="left_ankle_x"):
        read_keypoint_csv(p, video=video)


def _write_trc(path, names, xyz_mm, times):
    n, m = xyz_mm.shape[:2]
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"60\t60\t{n}\t{m}\tmm\t60\t1\t{n}",
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
             "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(m))]
    for i in range(n):
        lines.append(f"{i + 1}\t{times[i]:.6f}\t" + "\t".join(f"{v:.3f}" for v in xyz_mm[i].ravel()))
    path.write_text("\n".join(lines) + "\n")


def test_trc_3d_keypoints_in_metres(tmp_path):
    names = ["Nose", "RHip", "LHip", "LBigToe", "Neck"]    # Pose2Sim spellings; Neck has no BlazePose twin
    rng = np.random.default_rng(3)
    xyz = rng.uniform(-1000, 1000, (5, 5, 3))
    p = tmp_path / "pose.trc"
    _write_trc(p, names, xyz, np.arange(5) / 60)
    track = read_trc_keypoints(p)
    assert track.keypoints.shape == (5, 33, 3) and track.meta["units"] == "m"
    np.testing.assert_allclose(track.keypoint("right_hip"), xyz[:, 1] / 1000, atol=1e-6)
    np.testing.assert_allclose(track.keypoint("left_foot_index"), xyz[:, 3] / 1000, atol=1e-6)
    assert "Neck" not in track.meta["matched_markers"]
    assert np.isnan(track.keypoint("left_knee")).all()


def test_auto_format_and_candidate(tmp_path, video):
    d = _openpose_folder(tmp_path, [_body25(i) for i in range(4)])
    assert read_keypoints(d, video=video).meta["format"] == "openpose"
    cand = ImportedCandidate(d)
    track = cand.run(video)
    assert track.candidate["kind"] == "imported" and track.candidate["runtime"] == "import:openpose"
    assert len(track.candidate["model_sha256"]) == 64
