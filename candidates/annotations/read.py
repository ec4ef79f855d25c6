"""Which labelling tool wrote an annotation file, and one entry point that reads any of them.

:func:`detect_format` tells the format from the content, never from the file name alone:

- XML (CVAT): the root must be ``<annotations>``; ``<track>`` elements → ``cvat-video``, ``<image>`` elements →
  ``cvat-images``, neither → the task's ``<mode>`` (``interpolation`` → ``cvat-video``), the rule
  :func:`candidates.annotations.cvat.read_cvat` applies with ``kind="auto"``. A DTD or entity declaration is
  refused before parsing.
- JSON: an object with ``images``/``annotations``/``categories`` → ``coco``; a bare list of detections with
  ``score`` (a COCO *results* file) → ``coco`` too, which :func:`read_coco` refuses with a pointer to the
  candidate importers; Labelbox rows (v1: ``DataRow ID``/``Label``; v2 NDJSON: ``data_row``; import payload:
  ``dataRow``) → ``labelbox``.
- anything else is a ReaderError saying what was read (the XML root, the JSON top-level keys).
"""
from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

from ground_truth.kernel import (SEVERAL_DOCUMENTS, ReaderError, check_input_file, check_option, parse_json,
                                 read_text_file)

from .coco import read_coco
from .cvat import parse_xml, read_cvat
from .labelbox import read_labelbox
from .mapping import MappingLike
from .model import ANNOTATION_FORMATS, AnnotationSet

_WHAT = "an annotation export: CVAT XML 1.1, COCO person-keypoints JSON or a Labelbox export"
_LABELBOX_V1 = {"DataRow ID", "Label", "External ID"}


def _json_shape(text: str, path: Path):
    """The first JSON document of ``text`` (the first line of NDJSON)."""
    body = text.lstrip("\ufeff")
    data = parse_json(body, file=path, expected=_WHAT, several_ok=True)
    if data is not SEVERAL_DOCUMENTS:
        return data
    first = next((line for line in body.splitlines() if line.strip()), "")
    try:
        return json.loads(first)
    except json.JSONDecodeError as exc:
        raise ReaderError(f"line 1 is not valid JSON (column {exc.colno}: {exc.msg})", file=path,
                          expected="one JSON object per line (NDJSON)") from None


def _keys(obj) -> str:
    return ", ".join(sorted(map(str, obj))[:10]) or "none"


def detect_format(path: str | PathLike) -> str:
    """The format of an annotation file: one of :data:`ANNOTATION_FORMATS`.

    Notes
    -----
    The CVAT rule is CVAT's own layout (``dump_as_cvat_annotation`` writes ``<image>``,
    ``dump_as_cvat_interpolation`` writes ``<track>``; cvat-ai/cvat ``cvat/apps/dataset_manager/formats/cvat.py``);
    the COCO keys are those of COCO's data format page; the Labelbox keys those of its v1/v2 exports and NDJSON
    import payload (docs.labelbox.com, "Export image annotations", "Import image annotations").
    """
    path = check_input_file(path, what="annotation file")
    text = read_text_file(path, what=_WHAT)
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        root, _ = parse_xml(text, path, _WHAT)
        if root.tag != "annotations":
            raise ReaderError(f"an XML document whose root element is <{root.tag}>", file=path,
                              field="root element", expected="<annotations> (CVAT for images/video 1.1)")
        if root.find("track") is not None:
            return "cvat-video"
        if root.find("image") is not None:
            return "cvat-images"
        mode = root.find("meta//mode")
        return "cvat-video" if mode is not None and (mode.text or "").strip() == "interpolation" else "cvat-images"
    if not head.startswith(("{", "[")):
        raise ReaderError(f"starts with {head[:20]!r}", file=path, expected=_WHAT)
    data = _json_shape(text, path)
    if isinstance(data, dict):
        if {"images", "annotations"} & set(data) or "categories" in data:
            return "coco"
        if "data_row" in data or "dataRow" in data or _LABELBOX_V1 & set(data):
            return "labelbox"
        raise ReaderError(f"a JSON object with keys {_keys(data)}", file=path, expected=_WHAT)
    if isinstance(data, list):
        rows = [r for r in data if isinstance(r, dict)]
        if not rows:
            raise ReaderError(f"a JSON list of {len(data)} entries and no object among them", file=path,
                              expected=_WHAT)
        first = rows[0]
        if "dataRow" in first or "data_row" in first or _LABELBOX_V1 & set(first):
            return "labelbox"
        if "score" in first or ("image_id" in first and "keypoints" in first):
            return "coco"     # a results list: read_coco refuses it and says where it belongs
        raise ReaderError(f"a JSON list of objects with keys {_keys(first)}", file=path, expected=_WHAT)
    raise ReaderError(f"a JSON {type(data).__name__}", file=path, expected=_WHAT)


def read_annotations(path: str | PathLike, format: str = "auto", *, mapping: MappingLike = None,
                     annotator: str | None = None, video: str | PathLike | None = None) -> AnnotationSet:
    """Read any supported annotation export into an :class:`AnnotationSet`.

    Parameters
    ----------
    path : path-like
        The export file.
    format : {"auto", "cvat-images", "cvat-video", "coco", "labelbox"}
        ``"auto"`` tells it from the content (:func:`detect_format`).
    mapping : KeypointMapping, path-like or str, optional
        A mapping file (TOML), or the name of a shipped one (``coco17``, ``crowdpose``, ``posetrack18``);
        default: names matched to a schema by spelling.
    annotator : str, optional
        The rater's name when the file names none (see each importer for the order of precedence).
    video : path-like, optional
        The labelled video: frame times from its packet timestamps (never frame / fps).

    Notes
    -----
    Dispatches to :func:`~candidates.annotations.cvat.read_cvat`, :func:`~candidates.annotations.coco.read_coco`
    and :func:`~candidates.annotations.labelbox.read_labelbox`; their Notes cite the sources of each format.
    """
    check_option("format", format, ("auto", *ANNOTATION_FORMATS))
    path = check_input_file(path, what="annotation file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt in ("cvat-images", "cvat-video"):
        # with "auto", read_cvat decides images/video by the same rule and notes why
        kind = "auto" if format == "auto" else fmt.removeprefix("cvat-")
        return read_cvat(path, kind=kind, mapping=mapping, annotator=annotator, video=video)
    if fmt == "coco":
        return read_coco(path, mapping=mapping, annotator=annotator, video=video)
    return read_labelbox(path, mapping=mapping, annotator=annotator, video=video)
