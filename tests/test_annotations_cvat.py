"""CVAT for images / CVAT for video XML importer: the real exports in ../shared/data/annotations/cvat (counts read
from the raw text with regular expressions, independently of the parser), the interpolation between keyframes
checked against CVAT's own unit test and against what CVAT's exporter wrote, and every error a user can meet.

Synthetic documents below follow the layout of CVAT's exporter (cvat-ai/cvat
``cvat/apps/dataset_manager/formats/cvat.py``: ``dump_as_cvat_annotation`` / ``dump_as_cvat_interpolation``)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import shared_path

from candidates.annotations.cvat import read_cvat
from ground_truth.kernel import InputError, ReaderError

CVAT = ("annotations", "cvat")
COLS = ["item", "person", "source_keypoint", "x", "y", "visibility", "outside", "keyframe"]


def _pairs(text: str, where: str = "") -> int:
    """Number of x,y pairs in the ``points="..."`` attribute of the <points> tags that contain ``where``."""
    tags = [t for t in re.findall(r"<points\b[^>]*>", text) if where in t]
    return sum(len(re.search(r'\spoints="([^"]*)"', t).group(1).split(";")) for t in tags)


def _write(tmp_path, body: str, name: str = "annotations.xml"):
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


def _video_doc(tracks: str, *, start=0, stop=6, step=1, size=None, people="<owner><username>bob</username>"
               "<email>bob@example.org</email></owner><assignee></assignee>", labels="") -> str:
    size = size if size is not None else (stop - start) // step + 1
    filt = f"step={step}" if step != 1 else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id><name>clip</name><size>{size}</size><mode>interpolation</mode><overlap>0</overlap>
      <start_frame>{start}</start_frame><stop_frame>{stop}</stop_frame><frame_filter>{filt}</frame_filter>
      <labels>{labels}</labels>
      {people}
      <original_size><width>64</width><height>48</height></original_size>
    </task>
    <dumped>2024-01-01 00:00:00+00:00</dumped>
  </meta>
{tracks}
</annotations>
"""


def _images_doc(images: str, meta: str = "<task><mode>annotation</mode></task>") -> str:
    return f"<annotations><version>1.1</version><meta>{meta}</meta>{images}</annotations>"


# ------------------------------------------------------------------------------------------ real exports
def test_real_images_export_with_skeleton():
    path = shared_path(*CVAT, "datumaro-cvat_for_images_train_skeleton.xml")
    text = path.read_text()
    s = read_cvat(path)
    assert s.format == "cvat-images"
    # one row per x,y pair of every <points> element (skeleton elements and the 3-point shape): 4 + 3 + 4 = 11
    assert len(s.points) == _pairs(text) == 11
    # elements with outside="1" (README: element "1" of img0 and "3" of img1): visibility 0, no position
    n_out = len(re.findall(r'<points\b[^>]*outside="1"', text))
    assert int(s.points["outside"].sum()) == n_out == 2
    out = s.points[s.points["outside"]]
    assert (out["visibility"] == 0).all() and out[["x", "y"]].isna().all().all()
    assert set(s.items["item"]) == set(re.findall(r'<image [^>]*name="([^"]+)"', text))
    assert s.items.set_index("item").loc["img1.jpg", ["width", "height"]].tolist() == [10, 10]
    # the 3-point shape <points label="label2" points="1,2;3,4;5,6"> is one person with keypoints label2_1..3
    p = s.points[s.points["source_keypoint"].str.startswith("label2")]
    assert p["source_keypoint"].tolist() == ["label2_1", "label2_2", "label2_3"]
    assert p[["x", "y"]].to_numpy().tolist() == [[1, 2], [3, 4], [5, 6]] and p["person"].nunique() == 1
    # edges from the escaped svg: data-node-from/to pairs, the nodes named by data-label-name
    pairs = re.findall(r'data-node-from="(\d+)"[^&]*?data-node-to="(\d+)"', text)
    assert s.edges == tuple(pairs) == (("3", "2"), ("1", "4"))
    # the box's 4 <attribute> elements are person-level tags
    assert len(s.tags) == len(re.findall(r"<attribute name=", text)) == 4
    assert s.tags.set_index("name").loc["a2", "value"] == "v3"
    assert any("1 <box>, 1 <polygon>, 1 <polyline>" in n for n in s.notes)


def test_real_task_export_without_skeleton():
    path = shared_path(*CVAT, "datumaro-openvino_for_images_export_task_train.xml")
    text = path.read_text()
    s = read_cvat(path)
    assert len(s.points) == _pairs(text) == 3 and len(s.items) == text.count("<image ") == 2
    assert s.annotators == [path.stem]   # no <owner>/<assignee> in this meta
    assert s.edges == ()


def test_real_project_export_repeats_names_across_subsets():
    path = shared_path(*CVAT, "datumaro-openvino_for_images_export_project_annotations.xml")
    text = path.read_text()
    s = read_cvat(path)
    subsets = re.findall(r'<image [^>]*name="([^"]+)" subset="([^"]+)"', text)
    assert len(subsets) == 6 and len(set(n for n, _ in subsets)) == 2   # README: names/ids repeat per subset
    assert sorted(s.items["item"]) == sorted(f"{sub}/{n}" for n, sub in subsets)
    assert len(s.points) == _pairs(text) == 9
    assert s.annotators == ["tester"]                                   # <owner><username>tester</username>
    assert "tester@intel.com" not in repr(s.summary()) + repr(s.meta)   # e-mails are never kept
    assert len(s.tags) == text.count("<attribute name=") == 12


def test_real_video_export_points_track_and_frame_step():
    path = shared_path(*CVAT, "datumaro-openvino_for_video_annotations.xml")
    text = path.read_text()
    s = read_cvat(path)
    assert s.format == "cvat-video" and "it holds <track> elements" in s.notes[0]
    # README: start_frame=10, stop_frame=19, step=3 → frames 10, 13, 16, 19 (absolute, as written)
    assert s.items["item"].tolist() == ["frame:10", "frame:13", "frame:16", "frame:19"]
    assert s.items["width"].tolist() == [25] * 4 and s.items["height"].tolist() == [20] * 4
    # the <points> track: 3 points at frame 10; its frame-13 shape has outside="1", which ends the track
    assert len(s.points) == _pairs(text, 'outside="0"') == 3
    assert set(s.points["item"]) == {"frame:10"} and s.points["keyframe"].all()
    assert s.annotators == ["max"]
    # the mutable attribute hgl is read per frame: only frame 10 is inside the track
    assert s.tags[["item", "person", "name", "value"]].values.tolist() == [["frame:10", "1", "hgl", "hgkf"]]


def test_real_video_export_skeleton_track():
    path = shared_path(*CVAT, "datumaro-cvat_for_video_annotations_skeleton.xml")
    text = path.read_text()
    s = read_cvat(path)
    sk = s.points[s.points["person"] == "3"]
    # every x,y pair of a <points outside="0"> inside the skeleton's nested element tracks (10), plus element "3":
    # outside at its frame-13 keyframe and, not written at 16, still outside there (CVAT interpolates elements
    # with include_outside=True), so 12 rows
    nested = text[text.index('<track id="3" label="skeleton"'):]
    assert _pairs(nested, 'outside="0"') == 10
    assert len(sk) == 12 and int(sk["outside"].sum()) == 2
    assert sk[sk["outside"]]["item"].tolist() == ["frame:13", "frame:16"]
    # frames written with keyframe="0" stay interpolated (keyframe False)
    assert sk[sk["item"] == "frame:16"]["keyframe"].tolist() == [False] * 4
    assert s.edges == (("3", "2"), ("1", "4"))


def test_interpolation_matches_what_cvat_wrote(tmp_path):
    """Delete the frames CVAT's exporter interpolated (keyframe="0") and fill them again."""
    path = shared_path(*CVAT, "datumaro-cvat_for_video_annotations_skeleton.xml")
    text = path.read_text()
    stripped, n = re.subn(r'[ \t]*<(skeleton|points)\b[^>]*keyframe="0"[^>]*>\s*</\1>\n', "", text)
    assert n == text.count('keyframe="0"') == 8
    full = read_cvat(path).points[COLS]
    again = read_cvat(_write(tmp_path, stripped)).points[COLS]
    merged = full.merge(again, on=["item", "person", "source_keypoint"], how="left", suffixes=("", "_again"))
    for c in ("x", "y", "visibility", "outside", "keyframe"):
        assert merged[c].equals(merged[f"{c}_again"].astype(merged[c].dtype)), c
    # the keyframe-only copy also holds the last keyframe on frame 19, the task's last frame (size 4), which
    # CVAT's propagate() reaches and this hand-made fixture does not write
    extra = again.merge(full, on=["item", "person", "source_keypoint"], how="left", indicator=True)
    assert set(extra.loc[extra["_merge"] == "left_only", "item"]) == {"frame:19"}
    assert any("filled by CVAT's track interpolation" in n for n in read_cvat(_write(tmp_path, stripped)).notes)


# ------------------------------------------------------------------------------------------ interpolation
def test_cvat_unit_test_point_interpolation(tmp_path):
    """CVAT's own TrackManagerTest.test_point_interpolation (cvat/apps/dataset_manager/tests/test_annotation.py):
    shapes at 0 ([1,2]), 2 ([3,4,5,6], outside) and 4 ([3,4,5,6]) interpolated to end_frame 7 give frames
    0 (key), 1 (interpolated), 2 (key, outside), 4 (key), 5 and 6 (interpolated); 3 is skipped (outside)."""
    track = """<track id="0" label="p">
  <points frame="0" outside="0" occluded="0" keyframe="1" points="1.00,2.00" z_order="0"/>
  <points frame="2" outside="1" occluded="0" keyframe="1" points="3.00,4.00;5.00,6.00" z_order="0"/>
  <points frame="4" outside="0" occluded="0" keyframe="1" points="3.00,4.00;5.00,6.00" z_order="0"/>
</track>"""
    s = read_cvat(_write(tmp_path, _video_doc(track, stop=6)))
    p = s.points
    frames = p.groupby("item", sort=False)["keyframe"].first()
    assert frames.to_dict() == {"frame:0": True, "frame:1": False, "frame:4": True, "frame:5": False,
                                "frame:6": False}
    # 1 point then 2 points: points_interpolation copies the earlier shape (no linear move)
    assert p[p["item"] == "frame:1"][["x", "y"]].to_numpy().tolist() == [[1, 2]]
    assert p[p["item"] == "frame:6"][["source_keypoint", "x", "y"]].values.tolist() == [["p_1", 3, 4],
                                                                                     ["p_2", 5, 6]]
    assert len(s.items) == 7   # the task's frames 0..6


def test_single_point_moves_linearly_on_the_task_frame_grid(tmp_path):
    # task frames 10, 13, 16, 19, 22 (start 10, step 3); keyframes at 10 (0, 0) and 19 (9, 3):
    # frame 13 is 1/3 of the way → (3, 1); frame 16 is 2/3 → (6, 2); 22 holds the last keyframe (9, 3)
    track = """<track id="4" label="nose">
  <points frame="10" outside="0" occluded="1" keyframe="1" points="0.00,0.00" z_order="0">
    <attribute name="side">left</attribute>
  </points>
  <points frame="19" outside="0" occluded="0" keyframe="1" points="9.00,3.00" z_order="0"/>
</track>"""
    s = read_cvat(_write(tmp_path, _video_doc(track, start=10, stop=22, step=3)))
    p = s.points.set_index("item")
    assert p[["x", "y"]].to_numpy().tolist() == [[0, 0], [3, 1], [6, 2], [9, 3], [9, 3]]
    assert p["keyframe"].tolist() == [True, False, False, True, False]
    # filled shapes copy the earlier shape's flags: occluded at 13 and 16 (visibility 1), visible from 19
    assert p["visibility"].tolist() == [1, 1, 1, 2, 2]
    # the attribute is copied to filled frames and carried into the keyframe that does not repeat it
    assert s.tags["item"].tolist() == ["frame:10", "frame:13", "frame:16", "frame:19", "frame:22"]
    assert set(s.tags["value"]) == {"left"}
    assert s.schema == "coco17" and set(s.points["keypoint"]) == {"nose"}


def test_multi_point_shape_is_held_not_moved(tmp_path):
    track = """<track id="0" label="body">
  <points frame="0" outside="0" occluded="0" keyframe="1" points="0.00,0.00;10.00,10.00" z_order="0"/>
  <points frame="2" outside="0" occluded="0" keyframe="1" points="4.00,4.00;20.00,20.00" z_order="0"/>
  <points frame="3" outside="1" occluded="0" keyframe="1" points="4.00,4.00;20.00,20.00" z_order="0"/>
</track>"""
    s = read_cvat(_write(tmp_path, _video_doc(track, stop=5)))
    p = s.points
    assert p[p["item"] == "frame:1"][["x", "y"]].to_numpy().tolist() == [[0, 0], [10, 10]]
    assert sorted(set(p["item"])) == ["frame:0", "frame:1", "frame:2"]   # outside at 3 ends the track


def _skeleton_labels(nodes):
    sub = "".join(f"<label><name>{n}</name><type>points</type><parent>body</parent></label>" for n in nodes)
    return "<label><name>body</name><type>skeleton</type></label>" + sub


def test_skeleton_track_cvat2_layout_keyframes_only(tmp_path):
    # CVAT 2.x: <skeleton frame keyframe> holding <points label keyframe outside occluded>, no outside on the
    # skeleton. Element "1": (0,0) occluded at 0 → (4,8) at 4, linear: frame 1 (1,2), 2 (2,4), 3 (3,6), occluded
    # copied from frame 0. Element "2": (10,10) at 0, outside at 2, (14,14) at 4: frame 1 is linear
    # (11,11); frame 3 is a copy of the outside keyframe (include_outside=True for elements) → visibility 0.
    def sk(f, e1, e2):
        return f'<skeleton frame="{f}" keyframe="1" z_order="0">{e1}{e2}</skeleton>'

    def el(n, xy, out="0", occ="0"):
        return f'<points label="{n}" keyframe="1" outside="{out}" occluded="{occ}" points="{xy}"/>'

    track = (f'<track id="0" label="body" source="manual">'
             f'{sk(0, el("1", "0.00,0.00", occ="1"), el("2", "10.00,10.00"))}'
             f'{sk(2, "", el("2", "12.00,12.00", out="1"))}'
             f'{sk(4, el("1", "4.00,8.00"), el("2", "14.00,14.00"))}</track>'
             # a second skeleton whose elements all leave at frame 2: no person from frame 2 on
             f'<track id="1" label="body" source="manual">'
             f'{sk(0, el("1", "30.00,30.00"), el("2", "40.00,40.00"))}'
             f'{sk(2, el("1", "30.00,30.00", out="1"), el("2", "40.00,40.00", out="1"))}</track>')
    s = read_cvat(_write(tmp_path, _video_doc(track, stop=4, labels=_skeleton_labels(["1", "2"]))))
    p = s.points[s.points["person"] == "0"]
    e1 = p[p["source_keypoint"] == "1"].set_index("item")
    assert e1[["x", "y"]].to_numpy().tolist() == [[0, 0], [1, 2], [2, 4], [3, 6], [4, 8]]
    assert e1["visibility"].tolist() == [1, 1, 1, 1, 2]
    e2 = p[p["source_keypoint"] == "2"].set_index("item")
    assert e2.loc["frame:1", ["x", "y"]].tolist() == [11, 11]
    assert e2["outside"].tolist() == [False, False, True, True, False]
    assert e2["keyframe"].tolist() == [True, False, True, False, True]
    assert sorted(set(s.points.loc[s.points["person"] == "1", "item"])) == ["frame:0", "frame:1"]


# ------------------------------------------------------------------------------------------ images layout
def test_grouped_single_points_are_one_person_and_tags(tmp_path):
    image = """<image id="0" name="frame_000042.png" width="64" height="48">
  <points label="nose" source="manual" occluded="0" points="10.00,5.00" z_order="0" group_id="1"/>
  <points label="left_eye" source="manual" occluded="1" points="12.00,4.00" z_order="0" group_id="1"/>
  <points label="right_eye" source="auto" occluded="0" points="8.00,4.00" z_order="0" group_id="1"/>
  <box label="person" source="manual" occluded="0" xtl="1" ytl="1" xbr="20" ybr="40" z_order="0" group_id="1">
    <attribute name="strategy">hip</attribute>
  </box>
  <points label="nose" source="manual" occluded="0" points="50.00,5.00" z_order="0"/>
  <tag label="fall" source="manual"><attribute name="severity">low</attribute></tag>
</image>"""
    meta = ("<task><mode>interpolation</mode><owner><username>bob</username></owner>"
            "<assignee><username>alice</username><email>alice@example.org</email></assignee></task>")
    s = read_cvat(_write(tmp_path, _images_doc(image, meta)))
    assert s.annotators == ["alice"] and "alice@example.org" not in repr(s.summary())
    assert s.items[["item", "frame", "width", "height"]].values.tolist() == [["frame_000042.png", 42, 64, 48]]
    assert s.schema == "coco17"
    g = s.points[s.points["person"] == "group1"]
    assert g["keypoint"].tolist() == ["nose", "left_eye", "right_eye"] and g["visibility"].tolist() == [2, 1, 2]
    assert s.points[s.points["person"] == "4"]["x"].tolist() == [50]   # ungrouped: own person, id = position
    tags = s.tags[["person", "name", "value"]].values.tolist()
    assert ["group1", "strategy", "hip"] in tags
    assert ["", "tag", "fall"] in tags and ["", "fall.severity", "low"] in tags
    assert any("source='auto'" in n for n in s.notes) and any("video task" in n for n in s.notes)
    assert read_cvat(_write(tmp_path, _images_doc(image, meta)), annotator="rater2").annotators == ["rater2"]


def test_two_keypoints_of_one_name_in_a_group_is_an_error(tmp_path):
    image = """<image id="0" name="a.jpg" width="8" height="8">
  <points label="nose" points="1,1" group_id="2"/><points label="nose" points="2,2" group_id="2"/>
</image>"""
    with pytest.raises(ReaderError, match=r"image 'a.jpg'.*group2.*two keypoints named 'nose'"):
        read_cvat(_write(tmp_path, _images_doc(image)))


def test_mapping_file_maps_skeleton_nodes_and_edges(tmp_path):
    path = shared_path(*CVAT, "datumaro-cvat_for_images_train_skeleton.xml")
    toml = tmp_path / "map.toml"
    toml.write_text('schema = "coco17"\n[keypoints]\n"1" = "nose"\n"2" = "left_eye"\n"3" = "right_eye"\n'
                    '"4" = "left_ear"\n')
    s = read_cvat(path, mapping=toml)
    assert s.schema == "coco17"
    assert s.edges == (("right_eye", "left_eye"), ("nose", "left_ear"))
    assert s.unmapped == {"label2_1": 1, "label2_2": 1, "label2_3": 1}
    assert set(s.points["keypoint"]) >= {"nose", "left_eye", "right_eye", "left_ear"}


def test_job_export_assignee_and_frame_times(tmp_path):
    from candidates.video import write_video
    times = [0.0, 0.05, 0.09, 0.16, 0.2]                      # a variable frame rate, written into the video
    video = write_video(tmp_path / "v.mp4", np.zeros((5, 48, 64, 3), np.uint8), times)
    doc = """<annotations><version>1.1</version><meta>
  <job><id>3</id><size>3</size><mode>interpolation</mode><start_frame>2</start_frame><stop_frame>4</stop_frame>
    <frame_filter></frame_filter><owner><username>bob</username></owner>
    <assignee><username>carol</username><email>c@example.org</email></assignee></job>
  <original_size><width>64</width><height>48</height></original_size></meta>
  <track id="0" label="nose"><points frame="2" outside="0" occluded="0" keyframe="1" points="1,1"/></track>
</annotations>"""
    s = read_cvat(_write(tmp_path, doc), video=video)
    assert s.annotators == ["carol"]
    assert s.items["frame"].tolist() == [2, 3, 4] and s.items["width"].tolist() == [64] * 3
    assert np.allclose(s.items["time_s"], times[2:])
    assert s.points["item"].tolist() == ["frame:2", "frame:3", "frame:4"]   # held to the job's end


# ------------------------------------------------------------------------------------------ errors
def test_not_xml_and_truncated_xml_name_the_line(tmp_path):
    with pytest.raises(ReaderError, match=r"not\.xml.*not valid XML at line 1"):
        read_cvat(_write(tmp_path, "hello, not xml\n", "not.xml"))
    doc = _video_doc('<track id="0" label="a"><points frame="0" points="1,2"/></track>')
    cut = doc[: doc.index("</track>")]
    with pytest.raises(ReaderError, match=rf"not valid XML at line {cut.count(chr(10)) + 1}"):
        read_cvat(_write(tmp_path, cut))


def test_bad_numbers_name_image_track_frame_and_element(tmp_path):
    img = _images_doc('<image id="0" name="a.jpg" width="8" height="8">\n<points label="n" points="1,2;x"/></image>')
    with pytest.raises(ReaderError, match=r"image 'a.jpg', shape 0 \(line 2\): <points> points='1,2;x': 'x' is "
                                          r"not one x,y pair"):
        read_cvat(_write(tmp_path, img))
    with pytest.raises(ReaderError, match=r"<points> points='1,2;3,y': 'y' is not a number"):
        read_cvat(_write(tmp_path, img.replace("1,2;x", "1,2;3,y")))
    trk = _video_doc('<track id="5" label="n">\n<points frame="3" outside="0" keyframe="1" points="1,nan"/>'
                     '</track>')
    with pytest.raises(ReaderError, match=r"track 5 \('n'\), frame 3 \(line \d+\): <points>.*not finite"):
        read_cvat(_write(tmp_path, trk))
    off = _video_doc('<track id="5" label="n"><points frame="4" keyframe="1" points="1,1"/></track>', step=3)
    with pytest.raises(ReaderError, match=r"frame=\"4\"> is not a frame of the task \(start_frame 0, "
                                          r"frame_filter step=3\)"):
        read_cvat(_write(tmp_path, off))


def test_dtd_unknown_root_and_wrong_kind(tmp_path):
    bomb = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><annotations>&x;</annotations>'
    with pytest.raises(ReaderError, match="DTD or entities"):
        read_cvat(_write(tmp_path, bomb))
    with pytest.raises(ReaderError, match=r"root element is <dataset>.*CVAT for images 1.1 or CVAT for video"):
        read_cvat(_write(tmp_path, "<dataset><image/></dataset>"))
    video = _write(tmp_path, _video_doc('<track id="0" label="n"><points frame="0" points="1,1"/></track>'))
    with pytest.raises(ReaderError, match="is a CVAT for video export"):
        read_cvat(video, kind="images")
    assert read_cvat(video, kind="cvat-video").format == "cvat-video"
    with pytest.raises(InputError, match="invalid value 'coco' for kind"):
        read_cvat(video, kind="coco")


def test_project_video_export_keys_and_annotators_per_task(tmp_path):
    # two tasks with their own assignees and frame ranges; CVAT's exporter names each track's task_id
    task = ("<task><id>{id}</id><size>{n}</size><mode>interpolation</mode><start_frame>{a}</start_frame>"
            "<stop_frame>{b}</stop_frame><frame_filter></frame_filter><assignee><username>{who}</username>"
            "</assignee></task>")
    doc = (f"<annotations><version>1.1</version><meta><project><id>1</id><tasks>"
           f"{task.format(id=10, n=3, a=0, b=2, who='ann')}{task.format(id=11, n=2, a=5, b=6, who='ben')}"
           f"</tasks><owner><username>own</username></owner></project></meta>"
           f'<track id="0" label="nose" task_id="10"><points frame="0" outside="0" keyframe="1" points="1,1"/>'
           f'<points frame="2" outside="0" keyframe="1" points="3,3"/></track>'
           f'<track id="1" label="nose" task_id="11"><points frame="5" outside="0" keyframe="1" points="1,1"/>'
           f"</track></annotations>")
    s = read_cvat(_write(tmp_path, doc))
    assert s.items["item"].tolist() == ["task10/frame:0", "task10/frame:1", "task10/frame:2", "task11/frame:5",
                                        "task11/frame:6"]
    p = s.points.set_index("item")
    assert p["annotator"].to_dict() == {"task10/frame:0": "ann", "task10/frame:1": "ann", "task10/frame:2": "ann",
                                        "task11/frame:5": "ben", "task11/frame:6": "ben"}
    assert p.loc["task10/frame:1", ["x", "y"]].tolist() == [2, 2]   # halfway between (1, 1) and (3, 3)
