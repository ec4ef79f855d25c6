"""Labelbox import (candidates.annotations.labelbox): the v1 JSON export, the v2 NDJSON export and the NDJSON
import (MAL) payload; grouping named points into persons, visibility from classifications, nested
classifications as tags, 1-based video frames, and the real files of ../shared/data/annotations/labelbox.

Expected values come from the data README (the point at x=660.353, y=140.867 ...), from the real files read
with a regex, or from the hand-written rows below."""
from __future__ import annotations

import json
import re

import pytest
from conftest import shared_path

from candidates.annotations.labelbox import read_labelbox
from ground_truth.kernel import InputError, ReaderError

LB_DIR = ("annotations", "labelbox")


def _point(title, x, y, **extra):
    return {"featureId": f"f-{title}-{x}", "schemaId": "s1", "title": title, "value": title,
            "point": {"x": x, "y": y}, **extra}


def _v1_row(objects, created_by="Rater.One@example.org", external_id="frame_000010.jpg", classifications=()):
    return {"ID": "label1", "DataRow ID": "dr1", "External ID": external_id, "Created By": created_by,
            "Label": {"objects": list(objects), "classifications": list(classifications)}}


def _write(tmp_path, data, name="export.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


# ------------------------------------------------------------------------------------------ v1 export
def test_v1_points_grouped_into_persons(tmp_path):
    row = _v1_row([_point("person_1_left_knee", 10.5, 20.0), _point("person_1_right_knee", 30.0, 21.0),
                   _point("person_2_left_knee", 110.0, 120.0),
                   {"featureId": "b1", "title": "box", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}])
    s = read_labelbox(_write(tmp_path, [row]))
    p = s.points.set_index(["person", "keypoint"])
    assert p.loc[("1", "left_knee"), "x"] == 10.5 and p.loc[("2", "left_knee"), "y"] == 120.0
    assert s.summary()["persons"] == 2
    assert s.schema == "coco17"
    # the e-mail's local part only
    assert s.annotators == ["Rater.One"]
    assert any("part before '@'" in n for n in s.notes)
    assert any("1 bbox" in n for n in s.notes)
    # items keyed by External ID; its digits give the frame
    assert list(s.items["item"]) == ["frame_000010.jpg"] and s.items["frame"].iloc[0] == 10
    assert (s.points["visibility"] == 2).all()


def test_v1_single_person_names_and_custom_pattern(tmp_path):
    row = _v1_row([_point("Left Knee", 1, 2), _point("person_right_knee", 3, 4)])
    s = read_labelbox(_write(tmp_path, row))      # a single object, not a list
    assert set(s.points["person"]) == {"1"}
    assert set(s.points["keypoint"]) == {"left_knee", "right_knee"}
    row = _v1_row([_point("A:left_hip", 1, 2), _point("B:left_hip", 3, 4), _point("nose", 5, 6)])
    s = read_labelbox(_write(tmp_path, row), person_pattern=r"(?P<person>[AB]):(?P<keypoint>.+)")
    assert sorted(zip(s.points["person"], s.points["keypoint"])) == [("1", "nose"), ("A", "left_hip"),
                                                                     ("B", "left_hip")]
    assert any("do not match person_pattern" in n and "nose" in n for n in s.notes)


def test_bad_person_pattern_is_refused(tmp_path):
    p = _write(tmp_path, _v1_row([_point("nose", 1, 2)]))
    with pytest.raises(InputError, match="no group named 'keypoint'"):
        read_labelbox(p, person_pattern=r"(?P<person>\d+)_(.+)")
    with pytest.raises(InputError, match="not a regular expression"):
        read_labelbox(p, person_pattern=r"(")


def test_two_points_of_one_name_are_an_error(tmp_path):
    p = _write(tmp_path, _v1_row([_point("nose", 1, 2), _point("nose", 3, 4)]))
    second_then_first = r"Label\.objects\[1\]'.*a second point 'nose'.*first is \$\.Label\.objects\[0\]"
    with pytest.raises(ReaderError, match=second_then_first):
        read_labelbox(p)


def test_occluded_classification_and_nested_lists(tmp_path):
    occluded = {"title": "occluded", "answer": {"title": "True", "value": "true"}}
    vis = [[{"title": "visibility", "answer": {"title": "not visible"}}]]      # a list of lists
    row = _v1_row([_point("nose", 1, 2, classifications=[occluded]), _point("left_eye", 3, 4, classifications=vis),
                   _point("right_eye", 5, 6, classifications=[{"title": "occluded", "answer": "no"}])],
                  classifications=[{"title": "quality", "answers": [{"title": "sharp"}, {"title": "bright"}]}])
    s = read_labelbox(_write(tmp_path, row))
    v = dict(zip(s.points["keypoint"], s.points["visibility"]))
    assert v == {"nose": 1, "left_eye": 1, "right_eye": 2}
    tags = {(t.person, t.name): t.value for t in s.tags.itertuples()}
    assert tags[("", "quality")] == "bright|sharp"         # a checklist, sorted and joined
    assert tags[("1", "nose/occluded")] == "True"
    assert tags[("1", "left_eye/visibility")] == "not visible"


def test_v1_video_frames_are_one_based(tmp_path):
    row = {"ID": "l1", "DataRow ID": "dr1", "External ID": "clip.mp4", "Created By": "a@b.c",
           "Label": [{"frameNumber": 1, "objects": [_point("nose", 1, 2, keyframe=True)]},
                     {"frameNumber": 2, "objects": [_point("nose", 2, 3, keyframe=False)]}]}
    s = read_labelbox(_write(tmp_path, [row]))
    assert list(s.items["item"]) == ["frame:0", "frame:1"]
    assert list(s.items["frame"]) == [0, 1]
    assert list(s.points["keyframe"]) == [True, False]
    assert any("from 1" in n for n in s.notes)


def test_frames_at_a_url_and_skipped_rows_are_counted(tmp_path):
    rows = [{"ID": "l1", "DataRow ID": "dr1", "Created By": "a@b.c", "Label": {"frames": "https://x/frames"}},
            {"ID": "l2", "DataRow ID": "dr2", "Created By": "a@b.c", "Skipped": True, "Label": {}}]
    s = read_labelbox(_write(tmp_path, rows))
    assert len(s.points) == 0
    assert any("at a URL" in n for n in s.notes) and any("Skipped" in n for n in s.notes)


# ------------------------------------------------------------------------------------------ v2 NDJSON export
def _v2_line(row_id, labels, external_id=None, width=640, height=480):
    return json.dumps({"data_row": {"id": row_id, "external_id": external_id},
                       "media_attributes": {"width": width, "height": height},
                       "projects": {"p1": {"name": "proj", "labels": labels}}})


def _v2_label(email, objects, label_id="L1"):
    return {"id": label_id, "label_details": {"created_by": email},
            "annotations": {"objects": objects, "classifications": [], "relationships": []}}


def _v2_point(name, x, y):
    return {"feature_id": f"f{name}{x}", "name": name, "annotation_kind": "ImagePoint", "classifications": [],
            "point": {"x": x, "y": y}}


def test_v2_ndjson_two_raters_on_one_image(tmp_path):
    text = "\n".join([
        _v2_line("dr1", [_v2_label("ann@x.org", [_v2_point("left_hip", 10, 20)], "L1"),
                         _v2_label("bob@x.org", [_v2_point("left_hip", 12, 21)], "L2")], external_id="img1.png"),
        _v2_line("dr2", [_v2_label("ann@x.org", [_v2_point("left_hip", 1, 2)], "L3")]),
    ]) + "\n"
    s = read_labelbox(_write(tmp_path, text, "export.ndjson"))
    assert s.annotators == ["ann", "bob"]
    assert list(s.items["item"]) == ["img1.png", "dr2"]
    assert list(s.items["width"]) == [640, 640]
    both = s.points[s.points["item"] == "img1.png"].set_index("annotator")
    assert both.loc["bob", "x"] == 12
    assert s.meta["layout"] == "v2 NDJSON export"


def test_v2_video_frames_and_keyframes(tmp_path):
    label = {"id": "L1", "label_details": {"created_by": "ann@x.org"},
             "annotations": {"frames": {"13": {"objects": {"fa": _v2_point("nose", 5, 6)}, "classifications": []},
                                        "14": {"objects": {"fa": _v2_point("nose", 6, 7)}, "classifications": []}},
                             "segments": {"fa": [[13, 14]]},
                             "key_frame_feature_map": {"fa": {"13": True, "14": False}}, "classifications": []}}
    s = read_labelbox(_write(tmp_path, _v2_line("dr1", [label], external_id="clip.mp4")))
    assert list(s.items["item"]) == ["frame:12", "frame:13"]
    assert list(s.points["keyframe"]) == [True, False]
    assert s.summary()["interpolated"] == 1


def test_bad_ndjson_line_is_named(tmp_path):
    text = _v2_line("dr1", [_v2_label("a@b", [_v2_point("nose", 1, 2)])]) + "\n{\"data_row\": \n"
    with pytest.raises(ReaderError, match="line 2 is not valid JSON"):
        read_labelbox(_write(tmp_path, text, "x.ndjson"))


@pytest.mark.parametrize("bad, match", [
    ({"x": "660.3", "y": 1.0}, r"point\.x"),
    ({"y": 1.0}, r"point has no x"),
    ({"x": True, "y": 1.0}, r"point\.x"),
])
def test_bad_coordinates_are_named(tmp_path, bad, match):
    row = _v1_row([{"title": "nose", "point": bad}])
    with pytest.raises(ReaderError, match=match):
        read_labelbox(_write(tmp_path, [row]))


def test_truncated_and_unknown_files(tmp_path):
    with pytest.raises(ReaderError, match="not valid JSON at line 1"):
        read_labelbox(_write(tmp_path, json.dumps([_v1_row([_point("nose", 1, 2)])])[:-30]))
    with pytest.raises(ReaderError, match="has keys"):
        read_labelbox(_write(tmp_path, [{"foo": 1}]))


# ------------------------------------------------------------------------------------------ MAL payload
def test_mal_payload_names_and_annotator(tmp_path):
    rows = [{"uuid": "u1", "name": "left_ankle", "dataRow": {"id": "dr9"}, "point": {"x": 1.5, "y": 2.5}},
            {"uuid": "u2", "schemaId": "sch", "dataRow": {"id": "dr9"}, "point": {"x": 3, "y": 4}},
            {"uuid": "u3", "name": "nose", "dataRow": {"globalKey": "clip.mp4"},
             "segments": [{"keyframes": [{"frame": 1, "point": {"x": 7, "y": 8}},
                                         {"frame": 5, "point": {"x": 9, "y": 10}}]}]}]
    s = read_labelbox(_write(tmp_path, rows, "mal.json"), annotator="model_v1")
    assert s.annotators == ["model_v1"]
    assert set(s.points["keypoint"]) == {"left_ankle", "sch", "nose"}
    assert {"frame:0", "frame:4", "dr9"} == set(s.items["item"])
    assert any("names no annotator" in n for n in s.notes)
    assert any("only a schemaId" in n for n in s.notes)


# ------------------------------------------------------------------------------------------ real files
def test_real_v1_image_export():
    path = shared_path(*LB_DIR, "labelbox-v1_image_export.json")
    text = path.read_text()
    s = read_labelbox(path)
    assert len(s.points) == 1
    p = s.points.iloc[0]
    # the README: {"title":"point","value":"point","point":{"x":660.353,"y":140.867}}
    assert (p["x"], p["y"], p["source_keypoint"], p["visibility"]) == (660.353, 140.867, "point", 2)
    created = re.search(r'"Created By"\s*:\s*"([^"@]+)@', text).group(1)
    assert s.annotators == [created]
    data_row = re.search(r'"DataRow ID"\s*:\s*"([^"]+)"', text).group(1)      # External ID is null
    assert list(s.items["item"]) == [data_row]
    n_bbox = len(re.findall(r'"bbox"\s*:', text))
    assert any(f"{n_bbox} bbox" in n for n in s.notes)
    # classifications of the boxes: one tag per answered classification, read with a regex
    n_answers = len(re.findall(r'"answer"\s*:', text))
    assert len(s.tags) == n_answers


def test_real_v1_highly_nested_single_object():
    path = shared_path(*LB_DIR, "labelbox-v1_highly_nested_image.json")
    assert path.read_text().lstrip().startswith("{")      # the README's quirk: one object, not a list
    s = read_labelbox(path)
    p = s.points.iloc[0]
    assert (p["source_keypoint"], p["x"], p["y"]) == ("deer_nose", 73.054, 165.495)
    tags = {(t.person, t.name): t.value for t in s.tags.itertuples()}
    # the point's classifications are a list of lists; a checklist joins its answers
    assert tags[("1", "deer_nose/description")] == "dry|wet"
    assert tags[("", "image_description")] == "bright|dark|not_blurry"


def test_real_ndjson_import_payload():
    path = shared_path(*LB_DIR, "labelbox-ndjson-import_image_import.json")
    s = read_labelbox(path)
    p = s.points.iloc[0]
    assert (p["x"], p["y"]) == (2122.0, 1457.0)
    schema_id = re.search(r'"schemaId"\s*:\s*"([^"]+)"\s*,\s*"dataRow"[^}]*}\s*,\s*"point"', path.read_text())
    assert schema_id is not None and p["source_keypoint"] == schema_id.group(1)
    assert s.annotators == [path.stem]
    assert any("NDJSON import (MAL)" in n for n in s.notes)
