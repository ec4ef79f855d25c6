"""Human keypoint annotations, as read from any labelling tool: one typed, tidy model.

Every importer (CVAT, COCO, Labelbox) returns an :class:`AnnotationSet`. Its tables are long ("tidy"), one row
per observation, so that QC rules, inter-rater statistics and the study's 2-D reference all read the same
columns whatever tool the labels came from.

Visibility follows COCO's convention, whichever tool wrote the file:

- ``0`` not labelled (COCO v=0; a CVAT point with ``outside="1"``; a keypoint a rater did not place). Its
  ``x``/``y`` are NaN even when the file stores coordinates (CVAT keeps the last position of an outside
  element; COCO writes 0, 0);
- ``1`` labelled but not visible (COCO v=1, CVAT ``occluded="1"``);
- ``2`` labelled and visible.

Coordinates are pixels in the image (x right, y down, origin at the top-left corner of the top-left pixel, as
CVAT, COCO and Labelbox all use).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError

#: Formats an importer can read (``stancebench annotations import --format``).
ANNOTATION_FORMATS = ("cvat-images", "cvat-video", "coco", "labelbox")

VISIBILITY_NOT_LABELLED, VISIBILITY_OCCLUDED, VISIBILITY_VISIBLE = 0, 1, 2

#: Columns (and dtypes) of :attr:`AnnotationSet.items`: one row per image or video frame that was annotated.
ITEM_COLUMNS = {
    "item": "string",     # unique key of the image or frame within the set: the image file name, or "frame:N"
    "frame": "Int64",     # video frame number (0-based, absolute in the video), <NA> for a still image
    "time_s": "float64",  # that frame's timestamp in the matching video (NaN without a video, or past its end)
    "width": "Int64",     # image size in pixels (<NA> when the file does not say)
    "height": "Int64",
    "name": "string",     # the image's file name as written in the export ("" for a video frame)
}
#: Columns of :attr:`AnnotationSet.points`: one row per (annotator, item, person, keypoint).
POINT_COLUMNS = {
    "annotator": "string",
    "item": "string",
    "person": "string",          # a person within the item; for tracks the track id, stable across frames
    "keypoint": "string",        # name in the target schema (or the source name when unmapped)
    "source_keypoint": "string",  # name as written in the file
    "x": "float64",               # pixels; NaN when visibility is 0
    "y": "float64",
    "visibility": "int8",         # 0 / 1 / 2, see the module docstring
    "outside": "bool",            # CVAT's outside flag (the element left the frame); False for other formats
    "keyframe": "bool",           # drawn by the annotator (True) or interpolated between keyframes (False)
}
#: Columns of :attr:`AnnotationSet.tags`: categorical labels (attributes, classifications) per item or person.
TAG_COLUMNS = {
    "annotator": "string",
    "item": "string",
    "person": "string",   # "" for a label of the whole image or frame
    "name": "string",     # attribute or classification name
    "value": "string",
}


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def typed_frame(rows: list[dict[str, Any]] | pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``rows`` as a frame with exactly ``columns`` in order and their dtypes (missing columns are an error)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=list(columns))
    if frame.empty:
        return empty_frame(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"annotation table lacks columns {missing}")
    return frame[list(columns)].astype(columns).reset_index(drop=True)


@dataclass
class AnnotationSet:
    """The keypoint annotations of one export file.

    Attributes
    ----------
    source : str
        Path of the file read.
    format : str
        One of :data:`ANNOTATION_FORMATS`.
    schema : str or None
        ``"blazepose33"`` or ``"coco17"`` when the keypoint names were mapped to a project schema (names with
        no counterpart keep their source name and are counted in ``unmapped``); None when kept as in the file.
    items, points, tags : pandas.DataFrame
        Tidy tables with the columns of :data:`ITEM_COLUMNS`, :data:`POINT_COLUMNS`, :data:`TAG_COLUMNS`.
    edges : tuple of (str, str)
        Skeleton edges by keypoint name (as mapped), when the file defines a skeleton.
    unmapped : dict
        Source keypoint names that have no counterpart in ``schema`` → number of points with that name.
    notes : list of str
        What the importer did that a reader should know (quirks handled, values dropped, with counts).
    meta : dict
        Provenance: sha256 of the file, tool version or dump time when the file states them, the video used.
    """

    source: str
    format: str
    schema: str | None
    items: pd.DataFrame
    points: pd.DataFrame
    tags: pd.DataFrame = field(default_factory=lambda: empty_frame(TAG_COLUMNS))
    edges: tuple[tuple[str, str], ...] = ()
    unmapped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in ANNOTATION_FORMATS:
            raise ValueError(f"unknown annotation format {self.format!r}")
        self.items = typed_frame(self.items, ITEM_COLUMNS)
        self.points = typed_frame(self.points, POINT_COLUMNS)
        self.tags = typed_frame(self.tags, TAG_COLUMNS)
        if self.items["item"].duplicated().any():
            dup = self.items.loc[self.items["item"].duplicated(), "item"].iloc[0]
            raise ValueError(f"item {dup!r} listed twice in {self.source}")
        unknown = set(self.points["item"]) - set(self.items["item"])
        if unknown:
            raise ValueError(f"points refer to items not listed: {sorted(unknown)[:3]}")
        # a not-labelled point carries no position, whatever the file stored there
        hidden = self.points["visibility"] == VISIBILITY_NOT_LABELLED
        self.points.loc[hidden, ["x", "y"]] = np.nan

    # ------------------------------------------------------------------ summaries
    @property
    def annotators(self) -> list[str]:
        return sorted(set(self.points["annotator"]) | set(self.tags["annotator"]))

    @property
    def keypoints(self) -> list[str]:
        """Keypoint names present, in first-seen order."""
        return list(dict.fromkeys(self.points["keypoint"]))

    def summary(self) -> dict[str, Any]:
        """What was read: counts a user checks before trusting the import (``annotations import --json``)."""
        p = self.points
        persons = p[["annotator", "item", "person"]].drop_duplicates()
        return {
            "file": self.source, "format": self.format, "schema": self.schema,
            "annotators": self.annotators,
            "items": int(len(self.items)),
            "frames": int(self.items["frame"].notna().sum()),
            "images": int(self.items["frame"].isna().sum()),
            "persons": int(len(persons)),
            "tracks": int(len(p[["annotator", "person"]].drop_duplicates())) if self.format == "cvat-video" else None,
            "keypoints": self.keypoints,
            "points": int(len(p)),
            "visible": int((p["visibility"] == VISIBILITY_VISIBLE).sum()),
            "occluded": int((p["visibility"] == VISIBILITY_OCCLUDED).sum()),
            "not_labelled": int((p["visibility"] == VISIBILITY_NOT_LABELLED).sum()),
            "outside": int(p["outside"].sum()),
            "interpolated": int((~p["keyframe"]).sum()),
            "tags": int(len(self.tags)),
            "unmapped": dict(self.unmapped),
            "notes": list(self.notes),
        }

    def for_annotator(self, annotator: str) -> "AnnotationSet":
        if annotator not in self.annotators:
            raise InputError(f"no annotator {annotator!r} in {self.source}", field="annotator",
                             expected=f"one of {', '.join(self.annotators) or '(none)'}")
        keep = self.points["annotator"] == annotator
        return AnnotationSet(self.source, self.format, self.schema, self.items, self.points[keep],
                             self.tags[self.tags["annotator"] == annotator], self.edges, dict(self.unmapped),
                             list(self.notes), dict(self.meta))


def combine(sets: list[AnnotationSet]) -> pd.DataFrame:
    """The points of several sets (typically one per annotator) in one table with a ``file`` column.

    Items are matched by their key (image file name or ``frame:N``), so two raters' exports of the same task
    line up whatever tool or order they used.
    """
    frames = []
    for s in sets:
        f = s.points.copy()
        f.insert(0, "file", s.source)
        frames.append(f)
    if not frames:
        return typed_frame(pd.DataFrame(columns=["file", *POINT_COLUMNS]), {"file": "string", **POINT_COLUMNS})
    return pd.concat(frames, ignore_index=True)
