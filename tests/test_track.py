"""KeypointTrack: validation, the JSON exchange format (null for missing), schema conversion."""
from __future__ import annotations

import json

import numpy as np
import pytest

from candidates.skeletons import COCO17_TO_BLAZEPOSE33
from candidates.track import KeypointTrack
from ground_truth.kernel import InputError, ReaderError


def _track(n=4, k=33, dims=2, schema="blazepose33"):
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, 500, (n, k, dims))
    conf = rng.uniform(0, 1, (n, k))
    kp[1] = np.nan          # a frame with no person
    conf[1] = np.nan
    kp[2, 5] = np.nan       # one keypoint missing
    conf[2, 5] = np.nan
    return KeypointTrack(np.array([0.0, 0.033, 0.070, 0.101])[:n], kp, conf, schema, 640, 480,
                         candidate={"name": "x", "model_sha256": "0" * 64, "params": {"a": np.float32(1.5)}})


def test_json_round_trip_keeps_nan_and_identity(tmp_path):
    tr = _track()
    path = tr.to_json(tmp_path / "t.json")
    raw = json.loads(path.read_text())
    # The stable format: nulls for a missing frame and a missing keypoint, [x, y, conf] triples.
    assert raw["schema"] == "blazepose33" and raw["image_width"] == 640 and raw["image_height"] == 480
    assert raw["keypoints"][1][0] == [None, None, None]
    assert raw["keypoints"][2][5] == [None, None, None]
    assert len(raw["keypoints"][0][0]) == 3
    assert raw["candidate"]["params"]["a"] == 1.5
    back = KeypointTrack.from_json(path)
    np.testing.assert_array_equal(back.keypoints, tr.keypoints)
    np.testing.assert_array_equal(back.confidence, tr.confidence)
    np.testing.assert_array_equal(back.times_s, tr.times_s)
    assert back.detected.tolist() == [True, False, True, True]
    assert back.detection_rate == 0.75 and back.n_missing_frames == 1


def test_3d_round_trip(tmp_path):
    tr = _track(dims=3)
    back = KeypointTrack.from_json(tr.to_json(tmp_path / "t.json"))
    assert back.keypoints.shape == (4, 33, 3)
    np.testing.assert_array_equal(back.keypoints, tr.keypoints)


def test_schema_conversion_uses_the_documented_mapping():
    tr = _track()
    coco = tr.to_schema("coco17")
    assert coco.keypoints.shape == (4, 17, 2)
    np.testing.assert_array_equal(coco.keypoints[0], tr.keypoints[0, list(COCO17_TO_BLAZEPOSE33)])
    # COCO 'left_hip' (11) is BlazePose 'left_hip' (23).
    np.testing.assert_array_equal(coco.keypoint("left_hip"), tr.keypoint("left_hip"))
    back = coco.to_schema("blazepose33")
    assert np.all(np.isnan(back.keypoints[:, 1]))  # left_eye_inner has no COCO counterpart


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(times_s=[0.0, 0.1, 0.1, 0.2]), "times_s"),
    (lambda d: d["keypoints"][2].pop(), "keypoints"),
    (lambda d: d["keypoints"].pop(), "keypoints"),
    (lambda d: d.pop("schema"), "schema"),
    (lambda d: d.update(schema="body25"), "schema"),
    (lambda d: d["keypoints"][0].__setitem__(0, [1.0, 2.0]), "keypoints"),
    (lambda d: d["keypoints"][0].__setitem__(0, [1.0, 2.0, 1.7]), "confidence"),
    (lambda d: d.update(image_width=0), "image_width"),
])
def test_bad_track_json_names_file_and_field(tmp_path, mutate, field):
    data = _track().to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        KeypointTrack.from_json(path)
    assert err.value.field == field
    assert str(path) in str(err.value)


def test_not_json_is_a_reader_error(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(ReaderError, match="not valid JSON"):
        KeypointTrack.from_json(p)


def test_wrong_landmark_count_is_explained(tmp_path):
    data = _track().to_dict()
    for frame in data["keypoints"]:
        del frame[17:]
    p = tmp_path / "k17.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ReaderError, match="17 landmarks") as err:
        KeypointTrack.from_json(p)
    assert "33 landmarks per frame" in str(err.value)


def test_validate_rejects_non_monotonic_times():
    tr = _track()
    tr.times_s = tr.times_s[::-1].copy()
    with pytest.raises(InputError, match="strictly increasing"):
        tr.validate()


def test_tidy_table_and_csv_round_trip(tmp_path):
    from candidates.importers import read_keypoint_csv
    tr = _track()
    df = tr.to_dataframe()
    assert len(df) == 4 * 33 and list(df.columns) == ["time_s", "frame", "keypoint", "x", "y", "confidence"]
    row = df[(df.frame == 3) & (df.keypoint == "left_hip")].iloc[0]
    assert row.x == tr.keypoint("left_hip")[3, 0] and row.time_s == tr.times_s[3]
    back = read_keypoint_csv(tr.to_csv(tmp_path / "t.csv"), image_size=(640, 480))
    assert back.schema == "blazepose33"
    np.testing.assert_allclose(back.keypoints, tr.keypoints, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(back.confidence, tr.confidence, rtol=1e-5, equal_nan=True)
