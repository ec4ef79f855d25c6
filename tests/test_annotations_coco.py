"""COCO person-keypoints import (candidates.annotations.coco): COCO's visibility semantics, num_keypoints,
iscrowd, persons per image, skeleton bases, PoseTrack/CrowdPose quirks, and the real files of
../shared/data/annotations/coco_keypoints.

Expected numbers come from COCO's format documentation (v=0 not labelled with x=y=0, v=1 labelled not visible,
v=2 visible), from the data README (counts it states), from hand-written files below, or from the real files
read with a regex (never with the code under test)."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from conftest import shared_path

from candidates.annotations.coco import persons_table, read_coco
from candidates.annotations.mapping import KeypointMapping
from ground_truth.kernel import InputError, ReaderError

COCO_DIR = ("annotations", "coco_keypoints")


def _regex_visibilities(text: str) -> list[int]:
    """Every third value of every "keypoints": [...] array, read with a regex (independent of the reader)."""
    out = []
    for arr in re.findall(r'"keypoints"\s*:\s*\[([^\]]*)\]', text):
        vals = [v.strip() for v in arr.split(",") if v.strip()]
        if vals and not vals[0].startswith('"'):      # skip the categories' name lists
            out.extend(int(float(v)) for v in vals[2::3])
    return out


def _write(tmp_path, data, name="gt.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def _toy(**ann_extra):
    """A hand-written COCO file: 3 keypoints, one person with v = 0, 1, 2, one empty image."""
    ann = {"id": 7, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 50.0, "bbox": [1, 2, 10, 20],
           "keypoints": [0, 0, 0, 5, 6, 1, 7.5, 8.25, 2], "num_keypoints": 2}
    ann.update(ann_extra)
    return {"images": [{"id": 1, "file_name": "img_a.png", "width": 64, "height": 48},
                       {"id": 2, "file_name": "img_b.png", "width": 64, "height": 48}],
            "annotations": [ann],
            "categories": [{"id": 1, "name": "person", "keypoints": ["nose", "left_hip", "right_hip"],
                            "skeleton": [[1, 2], [2, 3]]}]}


# ------------------------------------------------------------------------------------------ semantics
def test_visibility_semantics_of_coco(tmp_path):
    s = read_coco(_write(tmp_path, _toy()))
    p = s.points.set_index("keypoint")
    # v=0: not labelled, its (0, 0) is no position
    assert p.loc["nose", "visibility"] == 0 and math.isnan(p.loc["nose", "x"]) and math.isnan(p.loc["nose", "y"])
    assert p.loc["left_hip", "visibility"] == 1 and (p.loc["left_hip", "x"], p.loc["left_hip", "y"]) == (5, 6)
    assert p.loc["right_hip", "visibility"] == 2 and (p.loc["right_hip", "x"], p.loc["right_hip", "y"]) == (7.5, 8.25)
    assert s.schema == "coco17" and s.unmapped == {}
    # the image with no annotation is still an item (seen, nobody labelled); the person id is the annotation id
    assert list(s.items["item"]) == ["img_a.png", "img_b.png"]
    assert set(s.points["person"]) == {"7"}
    assert any("1 image(s) have no person" in n for n in s.notes)
    # 1-based skeleton [[1,2],[2,3]] over (nose, left_hip, right_hip)
    assert s.edges == (("nose", "left_hip"), ("left_hip", "right_hip"))
    summary = s.summary()
    assert (summary["visible"], summary["occluded"], summary["not_labelled"]) == (1, 1, 1)


def test_area_and_bbox_kept_for_oks(tmp_path):
    s = read_coco(_write(tmp_path, _toy()))
    t = persons_table(s)
    assert len(t) == 1
    row = t.iloc[0]
    assert (row["area"], row["bbox_x"], row["bbox_y"], row["bbox_w"], row["bbox_h"]) == (50.0, 1, 2, 10, 20)
    assert s.meta["persons"][0]["annotation_id"] == 7


def test_num_keypoints_mismatch_is_noted(tmp_path):
    s = read_coco(_write(tmp_path, _toy(num_keypoints=3)))     # 2 keypoints have v>0
    assert any("num_keypoints differs" in n and "3 stated, 2 labelled" in n for n in s.notes)


def test_v0_with_coordinates_is_nan_and_noted(tmp_path):
    s = read_coco(_write(tmp_path, _toy(keypoints=[4, 4, 0, 5, 6, 1, 7, 8, 2])))
    assert math.isnan(s.points.loc[s.points["keypoint"] == "nose", "x"].iloc[0])
    assert any("v=0 carry coordinates" in n for n in s.notes)


def test_crowd_and_box_only_annotations_are_not_persons(tmp_path):
    data = _toy()
    data["annotations"].append({"id": 8, "image_id": 1, "category_id": 1, "iscrowd": 1,
                                "keypoints": [1, 1, 2] * 3})
    data["annotations"].append({"id": 9, "image_id": 2, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 1, 1]})
    s = read_coco(_write(tmp_path, data))
    assert set(s.points["person"]) == {"7"}
    assert any("1 annotation(s) with iscrowd=1" in n for n in s.notes)
    assert any("1 annotation(s) without keypoints" in n for n in s.notes)


def test_several_persons_per_image_and_annotator_precedence(tmp_path):
    data = _toy(annotator="rater_a")
    data["annotations"].append({"id": 11, "image_id": 1, "category_id": 1, "rater": "rater_b",
                                "keypoints": [1, 1, 2, 2, 2, 2, 3, 3, 2]})
    p = _write(tmp_path, data)
    s = read_coco(p)
    assert s.annotators == ["rater_a", "rater_b"]
    assert s.summary()["persons"] == 2
    assert read_coco(p, annotator="me").annotators == ["me"]      # the argument wins
    plain = _toy()
    assert read_coco(_write(tmp_path, plain, "stem_name.json")).annotators == ["stem_name"]


def test_track_id_names_the_person_across_frames(tmp_path):
    data = _toy(track_id=3)
    data["images"][0].update({"vid_id": "000042", "frame_id": 5, "nframes": 40})
    s = read_coco(_write(tmp_path, data))
    assert set(s.points["person"]) == {"000042/3"}
    # frame_id 5 < nframes 40: a within-video index, used as the frame (not the name's digits)
    assert s.items.set_index("item").loc["img_a.png", "frame"] == 5


def test_global_frame_id_falls_back_to_the_file_name(tmp_path):
    data = _toy()
    data["images"][0].update({"file_name": "images/val/000042_mpii/000012.jpg", "frame_id": 10000420012,
                              "nframes": 40})
    s = read_coco(_write(tmp_path, data))
    assert s.items.set_index("item").loc["images/val/000042_mpii/000012.jpg", "frame"] == 12
    assert any("not a within-video index" in n for n in s.notes)


def test_zero_based_skeleton_is_detected(tmp_path):
    data = _toy()
    data["categories"][0]["skeleton"] = [[0, 1], [1, 2]]
    s = read_coco(_write(tmp_path, data))
    assert s.edges == (("nose", "left_hip"), ("left_hip", "right_hip"))
    assert any("0-based" in n for n in s.notes)


def test_skeleton_beyond_the_keypoints_is_dropped(tmp_path):
    data = _toy()
    data["categories"][0]["skeleton"] = [[1, 2], [3, 4]]      # index 4 of 3 keypoints
    s = read_coco(_write(tmp_path, data))
    assert s.edges == ()
    assert any("written for another keypoint list" in n for n in s.notes)


def test_mapping_object_and_ignored_names(tmp_path):
    m = KeypointMapping("coco17", {"nose": ""})
    s = read_coco(_write(tmp_path, _toy()), mapping=m)
    assert "nose" not in set(s.points["keypoint"])
    assert s.edges == (("left_hip", "right_hip"),)


# ------------------------------------------------------------------------------------------ refusals
def test_results_file_is_refused(tmp_path):
    p = _write(tmp_path, [{"image_id": 1, "category_id": 1, "keypoints": [0] * 51, "score": 0.9}])
    with pytest.raises(ReaderError, match="results file is model output.*read_keypoints"):
        read_coco(p)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["annotations"][0].update(keypoints=[1, 2, 2, 3, 4, 2]), r"annotations\[0\]\.keypoints"),
    (lambda d: d["annotations"][0].update(keypoints=[1, "2", 2, 3, 4, 2, 5, 6, 2]),
     r"annotations\[0\]\.keypoints\[1\]"),
    (lambda d: d["annotations"][0].pop("image_id"), r"annotations\[0\]\.image_id"),
    (lambda d: d["annotations"][0].update(image_id=99), r"annotations\[0\]\.image_id"),
    (lambda d: d["annotations"][0].update(keypoints=[1, 2, 3, 3, 4, 2, 5, 6, 2]),
     r"annotations\[0\]\.keypoints\[2\]"),
    (lambda d: d["annotations"][0].update(category_id=5), r"annotations\[0\]\.category_id"),
    (lambda d: d["images"][1].update(file_name="img_a.png"), r"images\[1\]\.file_name"),
    (lambda d: d.pop("categories"), "categories"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), r"annotations\[0\]\.bbox"),
])
def test_malformed_files_name_the_key(tmp_path, mutate, field):
    data = _toy()
    mutate(data)
    p = _write(tmp_path, data)
    with pytest.raises(ReaderError, match=field) as exc:
        read_coco(p)
    assert str(p) in str(exc.value)


def test_truncated_json_names_line_and_column(tmp_path):
    p = tmp_path / "cut.json"
    p.write_text(json.dumps(_toy(), indent=1)[:-40])
    with pytest.raises(ReaderError, match=r"not valid JSON at line \d+, column \d+"):
        read_coco(p)


def test_unknown_mapping_name_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_coco(_write(tmp_path, _toy()), mapping="no_such_mapping")


# ------------------------------------------------------------------------------------------ real files
def test_mmpose_coco_val2017_subset_counts():
    path = shared_path(*COCO_DIR, "mmpose_test_coco.json")
    s = read_coco(path)
    summary = s.summary()
    # the README's counts: 4 images, 14 persons, v=2:164, v=1:17, v=0:57 ...
    assert (summary["items"], summary["persons"]) == (4, 14)
    assert (summary["visible"], summary["occluded"], summary["not_labelled"]) == (164, 17, 57)
    # ... and the same counts read with a regex
    vis = _regex_visibilities(path.read_text())
    assert (vis.count(2), vis.count(1), vis.count(0)) == (164, 17, 57)
    assert s.schema == "coco17" and s.unmapped == {} and len(s.keypoints) == 17
    assert s.points.loc[s.points["visibility"] == 0, ["x", "y"]].isna().all().all()
    # COCO's standard 1-based skeleton has 19 edges; its first, [16, 14], is left_ankle-left_knee
    assert len(s.edges) == 19 and s.edges[0] == ("left_ankle", "left_knee")
    # area of annotation 442619 as written in the file
    area = float(re.search(r'"area"\s*:\s*([0-9.]+)[^{}]*"id"\s*:\s*442619\b', path.read_text()).group(1))
    t = persons_table(s).set_index("person")
    assert t.loc["442619", "area"] == pytest.approx(area)


def test_posetrack18_frames_tracks_and_mapping():
    path = shared_path(*COCO_DIR, "mmpose_test_posetrack18_val.json")
    text = path.read_text()
    s = read_coco(path, mapping="posetrack18")
    # 3 frames "…/000000.jpg": frame 0 from the name, not the global frame_id 10128340000
    assert list(s.items["frame"]) == [0, 0, 0]
    n_persons = len(re.findall(r'"track_id"\s*:', text))
    assert s.summary()["persons"] == n_persons == 14
    assert "012834/0" in set(s.points["person"])
    # head_bottom and head_top have no COCO-17 counterpart: kept, counted once per person
    assert s.unmapped == {"head_bottom": 14, "head_top": 14}
    # PoseTrack never writes v=2 (README)
    assert s.summary()["visible"] == 0
    assert any("none v=2" in n for n in s.notes)
    ears = s.points[s.points["keypoint"].isin(["left_ear", "right_ear"])]
    assert (ears["visibility"] == 0).all() and len(ears) == 28


def test_crowdpose_mapping_skeleton_and_num_keypoints():
    path = shared_path(*COCO_DIR, "xtcocoapi_example_crowdpose_val.json")
    text = path.read_text()
    s = read_coco(path, mapping="crowdpose")
    assert s.summary()["persons"] == 10 and len(s.keypoints) == 14
    assert s.unmapped == {"head": 10, "neck": 10}
    assert s.edges == ()          # COCO's 17-point skeleton copied onto 14 points
    # num_keypoints vs count of v>0, per annotation, read with a regex
    stated = [int(n) for n in re.findall(r'"num_keypoints"\s*:\s*(\d+)', text)]
    arrays = re.findall(r'"keypoints"\s*:\s*\[([^\]"]*)\]', text)
    labelled = [sum(1 for v in a.split(",")[2::3] if int(v) > 0) for a in arrays]
    n_mismatch = sum(a != b for a, b in zip(stated, labelled))
    assert n_mismatch > 0
    assert any(f"for {n_mismatch} person(s)" in n for n in s.notes)


def test_ochuman_float_coordinates():
    s = read_coco(shared_path(*COCO_DIR, "mmpose_test_ochuman.json"))
    assert s.summary()["persons"] == 5 and s.summary()["items"] == 3
    nose = s.points[(s.points["person"] == "1") & (s.points["keypoint"] == "nose")].iloc[0]
    assert nose["x"] == pytest.approx(371.5701271305881)


@pytest.mark.parametrize("name, k_names", [
    ("datumaro-openvino_person_keypoints_train.json", ["1", "2", "3"]),
    ("datumaro-cvat_person_keypoints_val.json", ["a_1", "a_2", "a_3"]),
])
def test_datumaro_fixtures(name, k_names):
    s = read_coco(shared_path(*COCO_DIR, name))
    assert s.keypoints == k_names
    assert any("0-based" in n for n in s.notes)
    assert s.edges == ((k_names[0], k_names[1]), (k_names[1], k_names[2]))
    assert s.schema is None


def test_datumaro_crowd_and_attributes():
    s = read_coco(shared_path(*COCO_DIR, "datumaro-cvat_person_keypoints_val.json"))
    assert any("1 annotation(s) with iscrowd=1" in n for n in s.notes)
    tags = dict(zip(s.tags["name"], s.tags["value"]))
    assert tags == {"x": "1", "y": "hello"}


@pytest.mark.parametrize("name", ["xtcocoapi_example_coco_preds.json", "xtcocoapi_example_crowdpose_preds.json"])
def test_real_results_files_are_refused(name):
    with pytest.raises(ReaderError, match="model output"):
        read_coco(shared_path(*COCO_DIR, name))


def test_visibility_only_0_1_2_in_real_files():
    for name in ("mmpose_test_coco.json", "mmpose_test_ochuman.json", "xtcocoapi_example_crowdpose_val.json"):
        s = read_coco(shared_path(*COCO_DIR, name))
        assert set(np.unique(s.points["visibility"])) <= {0, 1, 2}
