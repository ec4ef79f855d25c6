"""COCO person-keypoints *ground truth* JSON (``images``, ``annotations``, ``categories``) as an AnnotationSet.

What is read, and how (COCO's data format page, "Keypoint Detection", and ``pycocotools/coco.py``):

- keypoint names from ``categories[].keypoints`` (a category with an empty list gets the names ``"1".."K"`` by
  position, as CVAT names unnamed skeleton nodes); skeleton edges from ``categories[].skeleton``, 1-based in COCO.
  Datumaro writes them 0-based: an edge naming index 0 marks a 0-based skeleton (said in the notes); a skeleton
  that names an index beyond the K keypoints was written for another keypoint list (CrowdPose copies COCO's
  17-point skeleton onto its 14 points) and is dropped, with a note.
- ``keypoints`` is ``[x1, y1, v1, ...]`` with v=0 not labelled (x=y=0 in the file; NaN here), v=1 labelled but
  not visible, v=2 labelled and visible. ``num_keypoints`` is checked against the count of v>0 (mismatches noted;
  the count of v>0 is what the table holds).
- one person per annotation (``person`` = the annotation id; with a ``track_id``, as in PoseTrack, the track id,
  prefixed ``<vid_id>/`` when the image names its video, so one person keeps one id across frames);
  ``iscrowd=1`` annotations mark crowds, not persons, and are counted in the notes; annotations without
  ``keypoints`` (plain boxes) are counted too.
- ``area`` (segmentation area, which OKS uses) and ``bbox`` of each person are kept in ``meta["persons"]``: a list
  of dicts ``{annotator, item, person, annotation_id, image_id, category, area, bbox, num_keypoints, track_id}``.
- items are the images (keyed by ``file_name``), including images with no annotation (a rater saw them and
  labelled nobody). The frame number is an explicit ``frame_index``/``frame_id`` when it is a within-video index
  (below ``nframes`` when the image states it, else below 10 million); PoseTrack's ``frame_id`` is a global id
  (``10000000000 + video * 10000 + frame``, far above its ``nframes``), so the frame is then read from the file
  name digits (:func:`frame_from_name`), as for every image without an explicit index.
- the annotator is the ``annotator=`` argument, else an ``annotator``/``rater`` key on the annotation (an
  extension some datasets use), else the file stem.

COCO *results* files (a bare list of detections with ``score``) are model outputs, not annotations, and are
refused with a pointer to :func:`candidates.importers.read_keypoints` (``format="coco"``).
"""
from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ground_truth.kernel import ReaderError, file_sha256, parse_json, read_text_file

from .frames import frame_from_name
from .mapping import MappingLike
from .model import AnnotationSet
from .rows import build_set, number, optional_int

#: A within-video frame index is below this when the image does not state ``nframes`` (10 million frames is
#: 46 hours at 60 fps; PoseTrack's global ids are 10^10 and above).
MAX_WITHIN_VIDEO_FRAME = 10_000_000

_RESULTS_HINT = ("model output, not human annotations: read it as a candidate's keypoints with "
                 "candidates.importers.read_keypoints(path, format='coco') or a candidate manifest with "
                 "kind = \"imported\" and format = \"coco\" (docs/candidates.md)")

# ------------------------------------------------------------------------------------------ COCO
def _list_of_objects(data: dict, key: str, path: Path) -> list[dict]:
    if key not in data:
        raise ReaderError(f"no '{key}' key (top-level keys: {', '.join(map(str, data)) or 'none'})", file=path,
                          field=key, expected="a COCO person-keypoints file with images, annotations, categories")
    value = data[key]
    if not isinstance(value, list):
        raise ReaderError(f"'{key}' is a {type(value).__name__}", file=path, field=key, expected="a list")
    for i, obj in enumerate(value):
        if not isinstance(obj, dict):
            raise ReaderError(f"entry {i} is a {type(obj).__name__}", file=path, field=f"{key}[{i}]",
                              expected="a JSON object")
    return value


def _scalar_id(obj: dict, key: str, path: Path, where: str):
    if key not in obj or obj[key] is None:
        raise ReaderError(f"{where} has no {key}", file=path, field=f"{where}.{key}", expected=f"a {key}")
    value = obj[key]
    if isinstance(value, (dict, list, bool, float)):
        raise ReaderError(f"{where}.{key} is {value!r}", file=path, field=f"{where}.{key}",
                          expected="an integer or string id")
    return value


def _edge_base(skeleton: list, k: int) -> tuple[int | None, str]:
    """0 or 1 (the index of the first keypoint in ``skeleton``), or None when it cannot index ``k`` keypoints."""
    flat = [i for e in skeleton for i in e]
    if not flat:
        return 1, ""
    if min(flat) == 0:
        return (0, "0-based") if max(flat) <= k - 1 else (None, "0-based but indexes beyond")
    if max(flat) > k:
        return None, "indexes beyond"
    return 1, ""


def _read_categories(data: dict, path: Path) -> dict:
    cats = {}
    for i, c in enumerate(_list_of_objects(data, "categories", path)):
        where = f"categories[{i}]"
        cid = _scalar_id(c, "id", path, where)
        if cid in cats:
            raise ReaderError(f"category id {cid!r} listed twice", file=path, field=f"{where}.id",
                              expected="unique category ids")
        names = c.get("keypoints", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ReaderError(f"{where}.keypoints is {names!r}", file=path, field=f"{where}.keypoints",
                              expected="a list of keypoint names")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ReaderError(f"keypoint name {dup!r} listed twice", file=path, field=f"{where}.keypoints",
                              expected="unique keypoint names")
        skeleton = c.get("skeleton", [])
        if not isinstance(skeleton, list) or not all(
                isinstance(e, list) and len(e) == 2 and all(isinstance(j, int) and not isinstance(j, bool)
                                                            and j >= 0 for j in e) for e in skeleton):
            raise ReaderError(f"{where}.skeleton is not a list of [i, j] index pairs", file=path,
                              field=f"{where}.skeleton", expected="pairs of non-negative keypoint indices")
        cats[cid] = {"name": str(c.get("name", cid)), "names": list(names), "skeleton": skeleton, "k": None}
    return cats


def _frame_of(image: dict, file_name: str) -> tuple[int | None, str]:
    """(frame, how): an explicit within-video index, else the file name's digits."""
    nframes = image.get("nframes")
    for key in ("frame_index", "frame_id"):
        value = image.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            continue
        limit = nframes if isinstance(nframes, int) and not isinstance(nframes, bool) and nframes > 0 \
            else MAX_WITHIN_VIDEO_FRAME
        if value < limit:
            return value, key
        frame = frame_from_name(file_name)
        return frame, "global_id"
    frame = frame_from_name(file_name)
    return frame, "name" if frame is not None else "none"


def _check_not_results(data: Any, path: Path) -> None:
    if isinstance(data, list):
        if data and all(isinstance(d, dict) for d in data) and any("score" in d for d in data):
            raise ReaderError(f"a list of {len(data)} detections with 'score': a COCO keypoint results file is "
                              f"{_RESULTS_HINT}", file=path, expected="COCO person-keypoints ground truth")
        raise ReaderError("the top level is a list", file=path,
                          expected="a COCO ground-truth object with images, annotations and categories "
                                   "(a bare list is a results file: " + _RESULTS_HINT + ")")
    if not isinstance(data, dict):
        raise ReaderError(f"the top level is a {type(data).__name__}", file=path,
                          expected="a JSON object with images, annotations and categories")
    anns = data.get("annotations")
    if "images" not in data and isinstance(anns, list) and any(isinstance(a, dict) and "score" in a
                                                                for a in anns):
        raise ReaderError(f"'annotations' holds detections with 'score' and there is no 'images': a results file "
                          f"is {_RESULTS_HINT}", file=path, expected="COCO person-keypoints ground truth")


def read_coco(path: str | PathLike, *, mapping: MappingLike = None, annotator: str | None = None,
              video: str | PathLike | None = None) -> AnnotationSet:
    """Read a COCO person-keypoints ground-truth JSON.

    Parameters
    ----------
    path : path-like
        The JSON file (``images``, ``annotations``, ``categories``).
    mapping : KeypointMapping, path-like or str, optional
        Keypoint names → a project schema (a TOML mapping file, or the name of a shipped one: ``"crowdpose"``,
        ``"posetrack18"``). Default: names matched by spelling to the schema most of them spell.
    annotator : str, optional
        The rater's name for every annotation (else the ``annotator``/``rater`` key, else the file stem).
    video : path-like, optional
        The video the images are frames of: frame times from its packet timestamps.

    Returns
    -------
    AnnotationSet
        ``format="coco"``; area and bbox per person in ``meta["persons"]``.

    Notes
    -----
    Visibility, ``num_keypoints``, ``iscrowd``, ``area`` and the 1-based skeleton follow COCO's data format
    documentation (cocodataset.org/#format-data, "Keypoint Detection") and ``pycocotools/coco.py``; PoseTrack's
    ``frame_id``/``track_id`` follow the PoseTrack 2018 annotation files (mmpose ``tests/data/posetrack18``).
    """
    path = Path(path)
    what = "a COCO person-keypoints JSON (images, annotations, categories)"
    data = parse_json(read_text_file(path, what=what), file=path, expected=what)
    _check_not_results(data, path)
    notes: list[str] = []
    cats = _read_categories(data, path)
    images = _list_of_objects(data, "images", path)
    anns = _list_of_objects(data, "annotations", path)

    items: list[dict] = []
    by_id: dict[Any, dict] = {}
    seen_names: dict[str, int] = {}
    how_counts: dict[str, int] = {}
    for i, im in enumerate(images):
        where = f"images[{i}]"
        iid = _scalar_id(im, "id", path, where)
        if iid in by_id:
            raise ReaderError(f"image id {iid!r} listed twice", file=path, field=f"{where}.id",
                              expected="unique image ids")
        name = im.get("file_name")
        if not isinstance(name, str) or not name:
            raise ReaderError(f"{where} (id {iid!r}) has no file_name", file=path, field=f"{where}.file_name",
                              expected="the image's file name (items are keyed by it)")
        if name in seen_names:
            raise ReaderError(f"file_name {name!r} listed twice (images[{seen_names[name]}] and {where})",
                              file=path, field=f"{where}.file_name", expected="one entry per image file")
        seen_names[name] = i
        frame, how = _frame_of(im, name)
        how_counts[how] = how_counts.get(how, 0) + 1
        row = {"item": name, "frame": frame, "time_s": np.nan, "name": name,
               "width": optional_int(im.get("width"), path, f"{where}.width"),
               "height": optional_int(im.get("height"), path, f"{where}.height")}
        items.append(row)
        vid = im.get("vid_id", im.get("video_id"))
        by_id[iid] = {"row": row, "video": None if vid is None else str(vid)}
    if how_counts.get("global_id"):
        notes.append(f"{how_counts['global_id']} image(s) carry a frame_id/frame_index that is not a within-video "
                     f"index (at or above nframes, e.g. PoseTrack's global ids): their frame is read from the file "
                     f"name digits instead")
    if how_counts.get("name"):
        notes.append(f"{how_counts['name']} image(s) get their frame number from the digits of their file name "
                     f"(a video's frames; for still images the number is only part of the name)")

    points: list[dict] = []
    tags: list[dict] = []
    persons_meta: list[dict] = []
    seen_person: dict[tuple, Any] = {}
    crowd = no_kp = v0_coords = 0
    mismatches: list[str] = []
    used_cats: set = set()
    stem = path.stem
    for j, ann in enumerate(anns):
        aid = _scalar_id(ann, "id", path, f"annotations[{j}]")
        where = f"annotations[{j}] (id {aid})"
        iid = _scalar_id(ann, "image_id", path, f"annotations[{j}]")
        if iid not in by_id:
            raise ReaderError(f"{where}: image_id {iid!r} is not among the images", file=path,
                              field=f"annotations[{j}].image_id", expected="the id of an image listed in 'images'")
        cid = _scalar_id(ann, "category_id", path, f"annotations[{j}]")
        if cid not in cats:
            raise ReaderError(f"{where}: category_id {cid!r} is not among the categories", file=path,
                              field=f"annotations[{j}].category_id", expected="the id of a listed category")
        iscrowd = ann.get("iscrowd", 0)
        if iscrowd not in (0, 1):
            raise ReaderError(f"{where}: iscrowd is {iscrowd!r}", file=path, field=f"annotations[{j}].iscrowd",
                              expected="0 or 1")
        if iscrowd:
            crowd += 1
            continue
        if "keypoints" not in ann:
            no_kp += 1
            continue
        cat = cats[cid]
        kp = ann["keypoints"]
        if not isinstance(kp, list) or len(kp) % 3:
            raise ReaderError(f"{where}: keypoints has {len(kp) if isinstance(kp, list) else 'no list of'} values",
                              file=path, field=f"annotations[{j}].keypoints",
                              expected="x, y, v for each keypoint (a multiple of 3 values)")
        k = len(cat["names"]) or cat["k"] or len(kp) // 3
        if len(kp) != 3 * k:
            raise ReaderError(f"{where}: keypoints has {len(kp)} values", file=path,
                              field=f"annotations[{j}].keypoints",
                              expected=f"{3 * k} (x, y, v for the {k} keypoints of category {cat['name']!r})")
        cat["k"] = k
        used_cats.add(cid)
        names = cat["names"] or [str(n + 1) for n in range(k)]
        who = annotator
        if who is None:
            tagged = ann.get("annotator", ann.get("rater"))
            who = str(tagged) if tagged is not None and str(tagged) != "" else stem
        image = by_id[iid]
        item = image["row"]["item"]
        track = ann.get("track_id")
        if track is not None:
            person = f"{image['video']}/{track}" if image["video"] is not None else str(track)
        else:
            person = str(aid)
        key = (who, item, person)
        if key in seen_person:
            raise ReaderError(f"{where}: person {person!r} of image {item!r} is already annotation "
                              f"{seen_person[key]}", file=path, field=f"annotations[{j}]",
                              expected="one annotation per person (annotation id, or track_id) per image")
        seen_person[key] = aid
        n_labelled = 0
        for n in range(k):
            fx, fy, fv = (f"annotations[{j}].keypoints[{3 * n + c}]" for c in range(3))
            x = number(kp[3 * n], path, fx)
            y = number(kp[3 * n + 1], path, fy)
            v = number(kp[3 * n + 2], path, fv)
            if v not in (0.0, 1.0, 2.0):
                raise ReaderError(f"{where}: visibility of keypoint {names[n]!r} is {kp[3 * n + 2]!r}", file=path,
                                  field=fv, expected="0 (not labelled), 1 (labelled, not visible) or 2 (visible)")
            if v == 0 and (x != 0 or y != 0):
                v0_coords += 1
            n_labelled += v > 0
            points.append({"annotator": who, "item": item, "person": person, "source_keypoint": names[n],
                           "x": x, "y": y, "visibility": int(v), "outside": False, "keyframe": True})
        stated = ann.get("num_keypoints")
        if stated is not None:
            stated_n = number(stated, path, f"annotations[{j}].num_keypoints")
            if stated_n != n_labelled:
                mismatches.append(f"id {aid}: {stated} stated, {n_labelled} labelled")
        bbox = ann.get("bbox")
        if bbox is not None:
            if not isinstance(bbox, list) or len(bbox) != 4:
                raise ReaderError(f"{where}: bbox is {bbox!r}", file=path, field=f"annotations[{j}].bbox",
                                  expected="[x, y, width, height]")
            bbox = [number(b, path, f"annotations[{j}].bbox[{q}]") for q, b in enumerate(bbox)]
        area = ann.get("area")
        if area is not None:
            area = number(area, path, f"annotations[{j}].area")
        persons_meta.append({"annotator": who, "item": item, "person": person, "annotation_id": aid,
                             "image_id": iid, "category": cat["name"], "area": area, "bbox": bbox,
                             "num_keypoints": n_labelled, "track_id": track})
        attrs = ann.get("attributes")
        if isinstance(attrs, dict):
            for name, value in attrs.items():
                tags.append({"annotator": who, "item": item, "person": person, "name": str(name),
                             "value": "" if value is None else str(value)})
    if len(used_cats) > 1:
        for pm in persons_meta:
            tags.append({"annotator": pm["annotator"], "item": pm["item"], "person": pm["person"],
                         "name": "category", "value": pm["category"]})

    edges: list[tuple[str, str]] = []
    for cid, cat in cats.items():
        k = len(cat["names"]) or cat["k"]
        # the skeleton of a category no person belongs to says nothing about the points read
        if cid not in used_cats or not cat["skeleton"] or not k:
            continue
        names = cat["names"] or [str(n + 1) for n in range(k)]
        base, how = _edge_base(cat["skeleton"], k)
        if base is None:
            notes.append(f"category {cat['name']!r}: its skeleton ({how} the {k} keypoints listed) was written "
                         f"for another keypoint list; its {len(cat['skeleton'])} edges are dropped")
            continue
        if how:
            notes.append(f"category {cat['name']!r}: skeleton edges are 0-based (an edge names index 0), not "
                         f"1-based as COCO defines them (Datumaro writes them so); read as 0-based")
        edges.extend((names[a - base], names[b - base]) for a, b in cat["skeleton"])
    for cid, cat in cats.items():
        if not cat["names"] and cat["k"]:
            notes.append(f"category {cat['name']!r} lists no keypoint names: its {cat['k']} keypoints are named "
                         f"'1'..'{cat['k']}' by position")

    if crowd:
        notes.append(f"{crowd} annotation(s) with iscrowd=1 mark crowd regions, not persons: not read")
    if no_kp:
        notes.append(f"{no_kp} annotation(s) without keypoints (boxes or masks only): not read")
    if mismatches:
        notes.append(f"num_keypoints differs from the number of keypoints with v>0 for {len(mismatches)} "
                     f"person(s) ({'; '.join(mismatches[:3])}{'; ...' if len(mismatches) > 3 else ''}); the "
                     f"count of v>0 is used")
    if v0_coords:
        notes.append(f"{v0_coords} keypoint(s) with v=0 carry coordinates other than (0, 0): v=0 means not "
                     f"labelled, so they are NaN")
    vis = np.array([p["visibility"] for p in points], dtype=int)
    if vis.size and (vis == 1).any() and not (vis == 2).any():
        notes.append(f"every one of the {int((vis > 0).sum())} labelled keypoints has v=1 and none v=2: some "
                     f"datasets (PoseTrack) write 1 for every labelled point, so 'occluded' may only mean "
                     f"'labelled' here")
    no_person = len(items) - len({p["item"] for p in points})
    if no_person:
        notes.append(f"{no_person} image(s) have no person annotated (kept as items: seen, nobody labelled)")

    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    meta = {"sha256": file_sha256(path), "persons": persons_meta,
            "keypoint_names": {cat["name"]: cat["names"] for cat in cats.values()},
            **{f"info_{k}": info[k] for k in ("description", "version", "date_created") if info.get(k)}}
    return build_set(path, "coco", items, points, tags, edges, notes, meta, mapping, video)


def persons_table(aset: AnnotationSet) -> pd.DataFrame:
    """``meta["persons"]`` of a COCO set as a table (annotator, item, person, area, bbox_x/y/w/h, ...)."""
    rows = []
    for p in aset.meta.get("persons", []):
        bbox = p.get("bbox") or [np.nan] * 4
        rows.append({"annotator": p["annotator"], "item": p["item"], "person": p["person"],
                     "area": np.nan if p.get("area") is None else p["area"],
                     "bbox_x": bbox[0], "bbox_y": bbox[1], "bbox_w": bbox[2], "bbox_h": bbox[3],
                     "num_keypoints": p.get("num_keypoints"), "category": p.get("category")})
    columns = ["annotator", "item", "person", "area", "bbox_x", "bbox_y", "bbox_w", "bbox_h", "num_keypoints",
               "category"]
    return pd.DataFrame(rows, columns=columns)
