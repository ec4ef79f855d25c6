"""Labelbox exports with point annotations as an AnnotationSet.

Three layouts are read (the format is told from the keys of the rows):

- the legacy **v1 JSON export**: a list of rows, or a single row object (both occur), each with ``ID``,
  ``DataRow ID``, ``External ID``, ``Created By`` and ``Label`` = ``{"objects": [...], "classifications": [...]}``
  for an image, or ``Label`` = a list of frames ``{"frameNumber", "objects", "classifications"}`` for a video
  (objects carry ``keyframe``); a ``Label.frames`` URL (frames not in the file) is counted in the notes;
- the **NDJSON export (v2)**: one JSON object per line with ``data_row``, ``media_attributes`` and
  ``projects.<id>.labels[]``, each label with ``label_details.created_by`` and ``annotations`` =
  ``{"objects", "classifications"}`` (image) or ``{"frames": {"<n>": {"objects": {feature_id: ...}}},
  "key_frame_feature_map"}`` (video);
- the **NDJSON import (MAL) payload**: a JSON array (or NDJSON lines) of ``{"point", "dataRow": {"id"}, "schemaId"
  or "name"}``, video points under ``segments[].keyframes[]``. It names no annotator, and no keypoint unless
  ``name`` is present (the schemaId is used then); both are said in the notes.

Labelbox has no keypoint tool: each joint is a named ``point`` object (``title``, else ``value``, else ``name``).
Points are grouped into persons by their names: by default ``person_<n>_<keypoint>`` (person ``n``),
``person_<keypoint>`` or ``<keypoint>`` (person ``"1"``, one person per image); ``person_pattern`` is a regular
expression with named groups ``keypoint`` and optionally ``person``, matched against the whole name (names it
does not match keep their whole name as the keypoint, person ``"1"``, and are counted). Two points of one person
with one keypoint name are an error (the grouping would be a guess). Labelbox stores no visibility: a point is
``2`` (visible), or ``1`` when a classification on it named ``occluded``/``occlusion``/``is_occluded``/``hidden``
answers true/yes, or one named ``visibility``/``visible``/``is_visible`` answers occluded/not visible/hidden/
false/no (``classifications`` may be a list of lists, a quirk of nested exports). Other objects (boxes,
polygons, lines, segmentation masks) are counted in the notes. Classifications (nested ones too, named
``parent/child``) go to the ``tags`` table: a checklist's answers joined with ``|`` in sorted order; person
``""`` for the image or frame, the point's person for a point, the object's feature id for another object.

The annotator is ``Created By`` (v1) or ``label_details.created_by`` (v2): an e-mail, of which only the part
before ``@`` is kept (said in the notes); else the ``annotator=`` argument, else the file stem. A rater with two
labels of one data row gets ``name#2`` for the second. Items are keyed by ``External ID`` (v2: ``external_id``,
else ``global_key``), else the data row id; video frames are ``frame:N`` (``<key>:frame:N`` when the file holds
several videos). **Labelbox numbers video frames from 1** (the v1 video export in labelbox-python's tests runs
``frameNumber`` 1..100 for a 100-frame clip); they are stored 0-based, as the video's own frame index.

:mod:`.labelbox_json` reads the file's rows and tells the layout; :mod:`.labelbox_layouts` walks each layout's
rows into items, points (grouped into persons, visibility from classifications) and tags; this module checks
the grouping over the whole file, keys the items and writes the notes.
"""
from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from ground_truth.kernel import ReaderError, file_sha256, read_text_file

from .frames import frame_from_name
from .labelbox_json import _WHAT, _layout, _rows
from .labelbox_layouts import DEFAULT_PERSON_PATTERN, SINGLE_PERSON, _Reader
from .mapping import MappingLike
from .model import AnnotationSet
from .rows import build_set

__all__ = ["DEFAULT_PERSON_PATTERN", "SINGLE_PERSON", "read_labelbox"]


def read_labelbox(path: str | PathLike, *, mapping: MappingLike = None, annotator: str | None = None,
                  video: str | PathLike | None = None, person_pattern: str | None = None) -> AnnotationSet:
    """Read a Labelbox export (v1 JSON, v2 NDJSON) or NDJSON import payload with point annotations.

    Parameters
    ----------
    path : path-like
        The export file.
    mapping : KeypointMapping, path-like or str, optional
        Point names (after the person prefix is removed) → a project schema; default: by spelling.
    annotator : str, optional
        The rater when the file names none (an import payload, or rows without ``Created By``).
    video : path-like, optional
        The labelled video: frame times from its packet timestamps.
    person_pattern : str, optional
        Regular expression with named groups ``keypoint`` and ``person`` splitting a point's name.

    Returns
    -------
    AnnotationSet
        ``format="labelbox"``.

    Notes
    -----
    Layouts after Labelbox's documentation ("Export image annotations", "Export video annotations", "Import
    image annotations") and the fixtures of labelbox-python (``tests/data/assets/labelbox_v1/*.json``,
    ``tests/data/assets/ndjson/image_import.json``); v2 video frames and ``key_frame_feature_map`` after
    labelbox-python's export tests (``test_export_video.py``).
    """
    path = Path(path)
    rows = _rows(read_text_file(path, what=_WHAT), path)
    layout = _layout(rows, path)
    r = _Reader(path, annotator, person_pattern)
    for where, row in rows:
        getattr(r, layout)(row, where)

    # duplicate (annotator, item, person, keypoint): the grouping of points into persons cannot be trusted
    seen: dict[tuple, str] = {}
    for p, w in zip(r.points, r.point_where):
        key = (p["annotator"], p["key"], p["person"], p["source_keypoint"])
        if key in seen:
            raise ReaderError(f"a second point {p['source_keypoint']!r} for person {p['person']!r} of "
                              f"{p['key'][0]!r} (the first is {seen[key]})", file=path, field=w,
                              expected="one point per keypoint per person: name the points "
                                       "person_<n>_<keypoint>, or pass person_pattern")
        seen[key] = w

    videos = {k for k, f in r.items if f is not None}
    items, names = [], {}
    for (row_key, frame), info in r.items.items():
        if frame is None:
            label = row_key
        else:
            label = f"frame:{frame}" if len(videos) == 1 else f"{row_key}:frame:{frame}"
        names[(row_key, frame)] = label
        items.append({"item": label, "name": info.get("name", "") if frame is None else "",
                      "frame": frame if frame is not None else frame_from_name(info.get("name") or ""),
                      "time_s": np.nan, "width": info["width"], "height": info["height"]})
    if len({i["item"] for i in items}) != len(items):
        dup = next(i["item"] for i in items if sum(j["item"] == i["item"] for j in items) > 1)
        raise ReaderError(f"item {dup!r} is both an image key and a video frame key", file=path,
                          expected="distinct data row keys")
    for p in r.points:
        p["item"] = names[p.pop("key")]
    for t in r.tags:
        t["item"] = names[t.pop("key")]

    notes = []
    if layout == "mal":
        notes.append("an NDJSON import (MAL) payload: pre-labels to be imported into Labelbox, not an export of "
                     f"a rater's work; it names no annotator (used: {r.fallback!r})"
                     + (f"; {r.counts['confidence']} row(s) carry a model confidence" if r.counts.get("confidence")
                        else ""))
    if r.emails:
        notes.append(f"annotator names are the part before '@' of the Labelbox e-mail ({len(r.emails)} "
                     f"annotator(s))")
    elif layout != "mal":
        notes.append(f"no row names its creator: annotator {r.fallback!r} "
                     f"({'the annotator argument' if annotator is not None else 'the file stem'})")
    if r.counts.get("schema_named"):
        notes.append(f"{r.counts['schema_named']} point(s) have no name, only a schemaId: the schemaId is used as "
                     f"the keypoint name (map it in a mapping file)")
    if r.counts.get("second_label"):
        notes.append(f"{r.counts['second_label']} label(s) are a rater's second label of one data row: annotator "
                     f"written name#2 (#3, ...)")
    if r.other_kinds:
        notes.append("objects that are not points, not read as keypoints: " +
                     ", ".join(f"{n} {k}" for k, n in sorted(r.other_kinds.items())))
    if r.points:
        how = "the default pattern person_<n>_<keypoint> or <keypoint>" if person_pattern is None else \
            f"person_pattern {person_pattern!r}"
        notes.append(f"{len(r.points)} point(s) grouped into persons by name ({how}); "
                     f"Labelbox has no visibility flag: points are visible (2) unless a classification marks them "
                     f"occluded ({sum(p['visibility'] == 1 for p in r.points)} so marked)")
    if r.unmatched:
        notes.append(f"{len(r.unmatched)} point name(s) do not match person_pattern, kept whole as the keypoint of "
                     f"person {SINGLE_PERSON!r}: {', '.join(sorted(r.unmatched)[:5])}")
    if r.vis_unknown:
        notes.append(f"visibility classification value(s) not understood (point kept visible): "
                     f"{', '.join(sorted(r.vis_unknown)[:5])}")
    if videos:
        notes.append("Labelbox numbers video frames from 1: stored as the 0-based frame index (Labelbox frame - 1)")
    if r.counts.get("frames_url"):
        notes.append(f"{r.counts['frames_url']} video row(s) keep their frames at a URL (Label.frames), not in the "
                     f"file: nothing read from them (download the frames NDJSON)")
    if r.counts.get("skipped"):
        notes.append(f"{r.counts['skipped']} row(s) were skipped by the rater (Skipped: true): not read")
    if r.tags:
        notes.append(f"{len(r.tags)} classification answer(s) kept as tags")
    meta = {"sha256": file_sha256(path), "layout": {"v1": "v1 JSON export", "v2": "v2 NDJSON export",
                                                    "mal": "NDJSON import (MAL)"}[layout]}
    return build_set(path, "labelbox", items, r.points, r.tags, [], notes, meta, mapping, video)
