"""What every annotation importer shares: checked scalars read from an export, and the assembly of an
importer's rows into an :class:`~candidates.annotations.model.AnnotationSet` (names mapped, edges mapped, frame
times from the video)."""
from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

from ground_truth.kernel import ReaderError

from .frames import attach_video_times
from .mapping import MappingLike, apply_mapping, resolve_mapping
from .model import ITEM_COLUMNS, POINT_COLUMNS, AnnotationSet, typed_frame


def number(value: Any, path: Path, field: str, *, finite: bool = True) -> float:
    """``value`` as a float; a string, bool, list, null (or a non-finite number) is an error naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReaderError(f"{value!r} is not a number", file=path, field=field, expected="a number")
    if finite and not math.isfinite(value):
        raise ReaderError(f"{value!r} is not a finite number", file=path, field=field, expected="a finite number")
    return float(value)


def optional_int(value: Any, path: Path, field: str) -> int | None:
    """An image size or similar: None when absent or null, else a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise ReaderError(f"{value!r} is not a whole number", file=path, field=field,
                          expected="a non-negative integer")
    return int(value)


def build_set(path: Path, fmt: str, items: list[dict], points: list[dict], tags: list[dict],
              edges: list[tuple[str, str]], notes: list[str], meta: dict, mapping: MappingLike,
              video: str | PathLike | None) -> AnnotationSet:
    """The AnnotationSet of an importer's rows: names mapped, edges mapped, frame times from the video."""
    for row in points:
        row.setdefault("keypoint", row["source_keypoint"])
    table = typed_frame(points, POINT_COLUMNS)
    m = resolve_mapping(mapping, [str(n) for n in table["source_keypoint"]] +
                        [n for e in edges for n in e], notes)
    unmapped: dict[str, int] = {}
    schema = None
    if m is not None:
        table, unmapped = apply_mapping(table, m)
        schema = m.schema
        if m.source:
            meta["mapping"] = m.source
        mapped_edges = []
        for a, b in edges:
            ta, tb = m.target(a), m.target(b)
            if ta == "" or tb == "":
                continue
            mapped_edges.append((ta or a, tb or b))
        edges = mapped_edges
    item_table = typed_frame(items, ITEM_COLUMNS)
    if video is not None:
        item_table = attach_video_times(item_table, video, notes)
        meta["video"] = str(video)
    return AnnotationSet(str(path), fmt, schema, item_table, table, tags, tuple(dict.fromkeys(edges)), unmapped,
                         notes, meta)
