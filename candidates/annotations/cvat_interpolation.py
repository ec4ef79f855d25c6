"""Filling a CVAT track's frames the way CVAT's ``TrackManager.get_interpolated_shapes`` does
(``cvat/apps/dataset_manager/annotation.py``; repository cvat-ai/cvat).

CVAT writes every frame of a track (``keyframe="0"`` for the frames it interpolated) up to the end of the task or
job, but a file may carry only keyframes. The frames between two written shapes of a track are filled on the
task's frame grid (CVAT interpolates relative frame indices, ``bindings.py`` ``abs_frame_id``): a single-point
``<points>`` shape and every skeleton element (a single point) move linearly (``simple_interpolation``); a
multi-point ``<points>`` shape, or one whose point count changes, is held at the earlier shape
(``points_interpolation``); the filled shape copies the earlier shape's ``occluded`` flag and attributes, and a
shape's missing attributes are taken from the one before it (CVAT's attribute propagation). Nothing is filled
after an ``outside="1"`` shape (the track ends there until its next shape; skeleton elements are the exception:
CVAT interpolates them with ``include_outside=True``, so an element that left the frame stays outside, visibility
0, while its skeleton is present). After a track's last written shape, a keyframe that is not outside is held to
the end of the task or job (CVAT's ``propagate``); a last shape with ``keyframe="0"`` is where the exporter stopped
writing, so nothing is added after it. Filled frames have ``keyframe`` False. Filling between written shapes
rather than keyframes only gives the same positions (a written interpolated shape lies on the line between its
keyframes), up to the 2-decimal rounding of the file.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class _Node:
    """One shape of a track: written in the file, or filled between written ones."""

    frame: int                    # relative index on the task's frame grid
    xy: np.ndarray | None
    outside: bool
    occluded: bool
    keyframe: bool
    attrs: tuple[tuple[str, str], ...] = ()
    written: bool = True


def _interpolate_track(nodes: list[_Node], end: int | None, *, include_outside: bool) -> list[_Node]:
    """The shapes of a track on every grid frame it covers, as CVAT's ``get_interpolated_shapes`` makes them.

    ``nodes`` are the written shapes (sorted by relative frame, one per frame); ``end`` is the number of frames
    of the task or job (None: unknown, nothing is held past the last shape). See the module docstring for the
    rules; written shapes are returned as they are (outside ones too, as CVAT keeps keyframes).
    """
    out: list[_Node] = []
    prev: _Node | None = None
    for node in nodes:
        if prev is not None:
            names = {a for a, _ in node.attrs}
            missing = tuple(av for av in prev.attrs if av[0] not in names)
            if missing:
                node = replace(node, attrs=node.attrs + missing)
            if not prev.outside or include_outside:
                out.extend(_between(prev, node))
        out.append(node)
        prev = node
    if prev is not None and end is not None and prev.keyframe and (not prev.outside or include_outside):
        out.extend(replace(prev, frame=f, keyframe=False, written=False) for f in range(prev.frame + 1, end))
    return out


def _between(a: _Node, b: _Node) -> list[_Node]:
    gap = b.frame - a.frame
    linear = a.xy is not None and b.xy is not None and len(a.xy) == 1 and len(b.xy) == 1
    out = []
    for f in range(a.frame + 1, b.frame):
        xy = a.xy + (b.xy - a.xy) * ((f - a.frame) / gap) if linear else a.xy
        out.append(replace(a, frame=f, xy=xy, keyframe=False, written=False))
    return out
