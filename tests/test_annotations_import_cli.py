"""``stancebench annotations import`` and format detection (candidates.annotations.read): every real export in
../shared/data/annotations imports or fails with one line naming the file; malformed inputs exit 2.

Expected counts come from the data README or from the real files read with a regex or the csv module."""
from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import SHARED_DATA, shared_path

from candidates.annotations.read import detect_format, read_annotations
from ground_truth.kernel import InputError, ReaderError
from harness.cli import main

# every file of the annotations folder with its format, or None when it must be refused (COCO results)
REAL_FILES = {
    "cvat/datumaro-cvat_for_images_train_skeleton.xml": "cvat-images",
    "cvat/datumaro-cvat_for_video_annotations_skeleton.xml": "cvat-video",
    "cvat/datumaro-openvino_for_images_export_project_annotations.xml": "cvat-images",
    "cvat/datumaro-openvino_for_images_export_task_train.xml": "cvat-images",
    "cvat/datumaro-openvino_for_video_annotations.xml": "cvat-video",
    "coco_keypoints/datumaro-cvat_person_keypoints_train.json": "coco",
    "coco_keypoints/datumaro-cvat_person_keypoints_val.json": "coco",
    "coco_keypoints/datumaro-openvino_person_keypoints_train.json": "coco",
    "coco_keypoints/datumaro-openvino_person_keypoints_val.json": "coco",
    "coco_keypoints/mmpose_test_coco.json": "coco",
    "coco_keypoints/mmpose_test_ochuman.json": "coco",
    "coco_keypoints/mmpose_test_posetrack18_val.json": "coco",
    "coco_keypoints/xtcocoapi_example_crowdpose_val.json": "coco",
    "coco_keypoints/xtcocoapi_example_coco_preds.json": None,
    "coco_keypoints/xtcocoapi_example_crowdpose_preds.json": None,
    "labelbox/labelbox-v1_image_export.json": "labelbox",
    "labelbox/labelbox-v1_highly_nested_image.json": "labelbox",
    "labelbox/labelbox-ndjson-import_image_import.json": "labelbox",
}


def _run(capsys, argv):
    rc = main(["annotations", "import", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_the_list_covers_the_folder():
    folder = SHARED_DATA / "annotations"
    if not folder.is_dir():
        pytest.skip(f"real reference data not available: {folder} is absent")
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix in (".json", ".xml")}
    assert present == set(REAL_FILES)


@pytest.mark.parametrize("rel", sorted(REAL_FILES))
def test_every_real_file_imports_or_fails_clearly(capsys, rel):
    path = shared_path("annotations", *rel.split("/"))
    expected = REAL_FILES[rel]
    rc, out, err = _run(capsys, [str(path), "--json"])
    if expected is None:
        assert rc == 2
        assert err.count("\n") == 1 and str(path) in err and "model output" in err
        return
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["format"] == expected == detect_format(path)
    assert summary["items"] >= 1


def test_mmpose_summary_and_points_table(capsys, tmp_path):
    path = shared_path("annotations", "coco_keypoints", "mmpose_test_coco.json")
    out_csv = tmp_path / "points.csv"
    rc, out, err = _run(capsys, [str(path), "--json", "--out", str(out_csv)])
    assert rc == 0, err
    s = json.loads(out)
    # the README: 4 images, 14 persons, v=2:164, v=1:17, v=0:57
    assert (s["items"], s["persons"], s["visible"], s["occluded"], s["not_labelled"]) == (4, 14, 164, 17, 57)
    assert s["points_csv"] == str(out_csv)
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 14 * 17
    assert sum(r["visibility"] == "0" for r in rows) == 57
    assert all(r["x"] == "" for r in rows if r["visibility"] == "0")     # not labelled: no position


def test_text_output_and_shipped_mapping_by_name(capsys):
    path = shared_path("annotations", "coco_keypoints", "xtcocoapi_example_crowdpose_val.json")
    rc, out, err = _run(capsys, [str(path), "--mapping", "crowdpose", "--annotator", "rater1"])
    assert rc == 0, err
    assert "annotators    1: rater1" in out
    assert "unmapped      head (10), neck (10)" in out
    assert "note:" in out


def test_labelbox_v1_point_via_cli(capsys):
    path = shared_path("annotations", "labelbox", "labelbox-v1_image_export.json")
    rc, out, err = _run(capsys, [str(path), "--json"])
    assert rc == 0, err
    s = json.loads(out)
    assert (s["points"], s["visible"], s["keypoints"]) == (1, 1, ["point"])


# ------------------------------------------------------------------------------------------ detection
def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, fmt", [
    ('<?xml version="1.0"?>\n<annotations><version>1.1</version><meta><task><mode>interpolation</mode></task>'
     '</meta></annotations>', "cvat-video"),
    ('<annotations><image id="0" name="a.png" width="4" height="4"/></annotations>', "cvat-images"),
    ('{"images": [], "annotations": [], "categories": []}', "coco"),
    ('[{"image_id": 1, "keypoints": [], "score": 0.5}]', "coco"),
    ('{"ID": "x", "DataRow ID": "y", "Label": {}}', "labelbox"),
    ('{"data_row": {"id": "a"}}\n{"data_row": {"id": "b"}}\n', "labelbox"),
    ('[{"dataRow": {"id": "a"}, "point": {"x": 1, "y": 2}}]', "labelbox"),
])
def test_detect_format(tmp_path, text, fmt):
    assert detect_format(_write(tmp_path, "f.dat", text)) == fmt


@pytest.mark.parametrize("text, match", [
    ('<dataset><item/></dataset>', "root element is <dataset>"),
    ('{"foo": 1, "bar": 2}', "keys bar, foo"),
    ('[1, 2]', "no object"),
    ('hello', "starts with"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><annotations/>', "DTD"),
])
def test_unknown_shapes_are_refused(tmp_path, text, match):
    with pytest.raises(ReaderError, match=match):
        detect_format(_write(tmp_path, "f.dat", text))


def test_forced_format_and_bad_option(tmp_path):
    coco = _write(tmp_path, "gt.json", '{"images": [], "annotations": [], "categories": []}')
    with pytest.raises(ReaderError, match="not valid XML"):
        read_annotations(coco, "cvat-images")
    with pytest.raises(InputError, match="format"):
        read_annotations(coco, "yolo")


# ------------------------------------------------------------------------------------------ CLI errors
def _toy_coco(**ann):
    a = {"id": 1, "image_id": 1, "category_id": 1, "keypoints": [1, 2, 2, 3, 4, 2]}
    a.update(ann)
    return {"images": [{"id": 1, "file_name": "a.png"}], "annotations": [a],
            "categories": [{"id": 1, "name": "person", "keypoints": ["left_hip", "right_hip"]}]}


@pytest.mark.parametrize("content, needle", [
    (json.dumps(_toy_coco())[:-25], "not valid JSON at line 1"),
    (json.dumps(_toy_coco(keypoints=[1, 2, 2])), "annotations[0].keypoints"),
    (json.dumps(_toy_coco(keypoints=[1, "2", 2, 3, 4, 2])), "annotations[0].keypoints[1]"),
    (json.dumps({k: v for k, v in _toy_coco().items()} | {"annotations": [{"id": 1, "category_id": 1}]}),
     "annotations[0].image_id"),
    (json.dumps([{"ID": "l", "DataRow ID": "d", "Label": {"objects": [{"title": "nose", "point": {"x": "a",
                                                                                               "y": 1}}]}}]),
     "$[0].Label.objects[0].point.x"),
])
def test_malformed_inputs_exit_2_naming_file_and_key(capsys, tmp_path, content, needle):
    p = _write(tmp_path, "bad.json", content)
    rc, out, err = _run(capsys, [str(p)])
    assert rc == 2
    assert err.count("\n") == 1 and str(p) in err and needle in err, err


def test_out_with_wrong_suffix_is_refused_before_reading(capsys, tmp_path):
    p = _write(tmp_path, "gt.json", json.dumps(_toy_coco()))
    rc, out, err = _run(capsys, [str(p), "--out", str(tmp_path / "points.txt")])
    assert rc == 2 and "--out" in err and ".csv" in err
    assert not (tmp_path / "points.txt").exists()


def test_missing_file_and_mapping(capsys, tmp_path):
    rc, _, err = _run(capsys, [str(tmp_path / "nope.json")])
    assert rc == 2 and "nope.json" in err and "not found" in err
    p = _write(tmp_path, "gt.json", json.dumps(_toy_coco()))
    rc, _, err = _run(capsys, [str(p), "--mapping", str(tmp_path / "map.toml")])
    assert rc == 2 and "map.toml" in err


def test_frame_times_come_from_the_video(capsys, tmp_path):
    import numpy as np

    from candidates.video import write_video

    # variable frame rate: the times are the packets', not frame / fps
    times = [0.0, 0.033, 0.070, 0.090]
    video = write_video(tmp_path / "clip.mp4", np.zeros((4, 16, 16, 3), np.uint8), times)
    data = _toy_coco()
    data["images"] = [{"id": 1, "file_name": "frame_000002.png"}, {"id": 2, "file_name": "frame_000009.png"}]
    p = _write(tmp_path, "gt.json", json.dumps(data))
    aset = read_annotations(p, video=video)
    t = aset.items.set_index("item")["time_s"]
    assert t["frame_000002.png"] == pytest.approx(0.070, abs=1 / 90000)
    assert np.isnan(t["frame_000009.png"])       # beyond the 4 frames of the video
    assert any("beyond the 4 frames" in n for n in aset.notes)
    # Labelbox frame 3 (1-based) is the video's frame index 2
    row = {"ID": "l", "DataRow ID": "d", "External ID": "clip.mp4", "Created By": "a@b.c",
           "Label": [{"frameNumber": 3, "objects": [{"title": "nose", "point": {"x": 1, "y": 2}}]}]}
    lb = read_annotations(_write(tmp_path, "lb.json", json.dumps([row])), video=video)
    assert lb.items["time_s"].iloc[0] == pytest.approx(0.070, abs=1 / 90000)
    rc, out, err = _run(capsys, [str(p), "--video", str(video), "--json"])
    assert rc == 0, err
    assert json.loads(out)["frames"] == 2


def test_errors_name_the_subcommand(tmp_path, capsys):
    # "stancebench annotations: error" would not say which of import/qc/irr refused the input
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["annotations", "import", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("stancebench annotations import: error:")
