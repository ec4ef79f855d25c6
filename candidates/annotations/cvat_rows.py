"""The rows both CVAT layouts produce: points with the COCO visibility (``outside`` → 0, ``occluded`` → 1, else
2) and tags, the keypoint names of a ``<points>`` shape, the check of one keypoint name per person, and a
``<skeleton>`` written without elements split over its sublabels. The rules are stated in the docstring of
:mod:`candidates.annotations.cvat` ("Keypoints", "Items and persons").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cvat_meta import _Meta
from .cvat_xml import _Ctx, _xy

_KEYPOINT_SHAPES = ("points", "skeleton")
_OTHER_SHAPES = ("box", "polygon", "polyline", "cuboid", "ellipse", "mask")
_SHAPES = _KEYPOINT_SHAPES + _OTHER_SHAPES


@dataclass
class _Rows:
    items: list[dict] = field(default_factory=list)
    points: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)

    def point(self, annotator: str, item: str, person: str, name: str, xy, *, occluded: bool, outside: bool,
              keyframe: bool) -> None:
        vis = 0 if outside else (1 if occluded else 2)
        self.points.append({"annotator": annotator, "item": item, "person": person, "source_keypoint": name,
                            "x": float(xy[0]), "y": float(xy[1]), "visibility": vis, "outside": outside,
                            "keyframe": keyframe})

    def tag(self, annotator: str, item: str, person: str, name: str, value: str) -> None:
        self.tags.append({"annotator": annotator, "item": item, "person": person, "name": name, "value": value})


def _point_names(label: str, n: int) -> list[str]:
    return [label] if n == 1 else [f"{label}_{k}" for k in range(1, n + 1)]


def _check_unique(rows: list[dict], start: int, ctx: _Ctx, where_of) -> None:
    """One keypoint name per person: two would make a person with two noses (see :mod:`.cvat`)."""
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows[start:]:
        key = (row["item"], row["person"], row["source_keypoint"])
        if key in seen:
            raise ctx.error(f"{where_of(row)}: person {row['person']!r} has two keypoints named "
                            f"{row['source_keypoint']!r}", "label",
                            "one point per keypoint name and person (distinct labels within a group_id or "
                            "a skeleton)")
        seen[key] = 1


def _skeleton_points(el, label, where, meta: _Meta, ctx) -> tuple[np.ndarray, list[str]]:
    """A skeleton written without elements: its ``points`` split over the sublabels in <meta> order."""
    sub = meta.sublabels(label)
    xy = _xy(el, "points", f"{where} (<skeleton label={label!r}> without elements)", ctx)
    if len(xy) != len(sub):
        raise ctx.error(f"{where}{ctx.line(el)}: <skeleton label={label!r}> has no elements and {len(xy)} points "
                        f"for {len(sub)} sublabels in <meta>", "<skeleton> points",
                        "child <points label=...> elements, or one point per sublabel")
    ctx.count("skeleton without elements")
    return xy, sub
