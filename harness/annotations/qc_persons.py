"""What the labelling QC rules examine: one annotation set's persons as arrays, the tracks they form, and the
record of a finding (the rules themselves are in :mod:`.qc_person_rules` and :mod:`.qc_track_rules`, run by
:func:`harness.annotations.qc.run_qc`).

Definitions shared by the rules (one measure each, used everywhere)
-------------------------------------------------------------------
labelled point
    visibility >= 1 (COCO's v=1 or v=2) with finite coordinates
    (:func:`harness.annotations.keypoint_metrics.labelled_mask`).
person
    the points of one (annotator, item, person) in one file.
person size ``s``
    the square root of the area of the bounding box of the person's labelled points, ``sqrt(w * h)``
    (:func:`harness.annotations.keypoint_metrics.person_scale`). COCO's OKS uses ``s = sqrt(area)`` of the
    person's segment (cocoeval.py, ``computeOks``); annotations without a segment offer only their keypoints, and
    their box is the standard stand-in. NaN with fewer than two labelled points or a box of zero area; rules that
    need it skip that person and say how many they skipped.
track
    the persons of one (file, annotator, person id) over the items that carry a frame number, in frame order; a
    *step* joins two consecutive labelled frames of a track (``max_gap`` limits how far apart they may be). Two
    items of one track with the same frame number (items from different videos) make no step and are counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from candidates.annotations.model import AnnotationSet
from harness.gates import format_number

from .keypoint_metrics import labelled_mask, person_scale


@dataclass
class Persons:
    """The points of one set as arrays: one row per (annotator, item, person), one column per keypoint."""

    file: str
    schema: str | None
    video: str | None
    stop_frame: int | None        # the last frame the export declares (CVAT's stop_frame of its one task)
    keys: pd.DataFrame            # annotator, item, person, frame (float, NaN for an image), width, height, time_s
    names: list[str]
    x: np.ndarray                 # (P, K) pixels, NaN when absent or not labelled
    y: np.ndarray
    v: np.ndarray                 # (P, K) visibility as float, NaN when the file has no row for that point
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.col = {n: i for i, n in enumerate(self.names)}
        self.xy_all = np.stack([self.x, self.y], axis=-1)                # (P, K, 2)
        self.labelled = labelled_mask(self.xy_all, self.v)
        self.size = person_scale(self.xy_all, self.labelled)
        self.frame = self.keys["frame"].to_numpy(dtype=float)
        self.tracks = _tracks(self.keys, self.frame)
        self.steps, self.gaps, self.same_frame = _steps(self.tracks, self.frame)

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y and the labelled mask of one keypoint for every person (all NaN / False when absent)."""
        if name not in self.col:
            nan = np.full(len(self.keys), np.nan)
            return nan, nan, np.zeros(len(self.keys), bool)
        k = self.col[name]
        return self.x[:, k], self.y[:, k], self.labelled[:, k]

    def steps_within(self, max_gap: int | None) -> np.ndarray:
        return self.steps if max_gap is None else self.steps[self.gaps <= max_gap]


def _tracks(keys: pd.DataFrame, frame: np.ndarray) -> list[np.ndarray]:
    """Person indices of each track (annotator, person id), tracks in sorted order, each in frame order."""
    has = np.flatnonzero(np.isfinite(frame))
    if not len(has):
        return []
    sub = keys.iloc[has][["annotator", "person"]].astype(str)
    groups = sub.groupby(["annotator", "person"], sort=True).indices
    return [has[g][np.argsort(frame[has[g]], kind="stable")] for g in groups.values()]


def _steps(tracks: list[np.ndarray], frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(S, 2) person indices of consecutive frames of each track, their frame gaps, and the same-frame count."""
    pairs = [np.column_stack([t[:-1], t[1:]]) for t in tracks if len(t) > 1]
    if not pairs:
        return np.zeros((0, 2), int), np.zeros(0), 0
    steps = np.concatenate(pairs)
    gaps = frame[steps[:, 1]] - frame[steps[:, 0]]
    keep = gaps > 0
    return steps[keep], gaps[keep], int(np.count_nonzero(gaps == 0))


def persons_of(s: AnnotationSet) -> Persons:
    """The :class:`Persons` of one set (a point repeated for one person: the first is used, and noted)."""
    notes: list[str] = []
    p = s.points
    dup = p.duplicated(["annotator", "item", "person", "keypoint"])
    if dup.any():
        notes.append(f"{int(dup.sum())} point(s) repeat a keypoint of one person; the first of each was used")
        p = p[~dup]
    keys = p[["annotator", "item", "person"]].drop_duplicates().reset_index(drop=True)
    pid = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(p[["annotator", "item", "person"]]))
    kcodes, knames = pd.factorize(p["keypoint"].astype(str))
    shape = (len(keys), len(knames))
    x, y, v = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    x[pid, kcodes] = p["x"].to_numpy(dtype=float)
    y[pid, kcodes] = p["y"].to_numpy(dtype=float)
    v[pid, kcodes] = p["visibility"].to_numpy(dtype=float)
    items = s.items.set_index("item")
    for col in ("frame", "width", "height", "time_s"):
        keys[col] = keys["item"].map(items[col].astype("float64")).astype(float)
    video = s.meta.get("video")
    tasks = s.meta.get("tasks") or []
    stops = [t.get("stop_frame") for t in tasks if isinstance(t, dict)]
    stop = stops[0] if len(stops) == 1 and isinstance(stops[0], int) else None
    return Persons(str(s.source), s.schema, None if video is None else str(video), stop, keys, list(knames), x, y,
                   v, notes)


# ---------------------------------------------------------------------------------------------------- findings
@dataclass
class Outcome:
    """What one rule found in one set: findings (records of :func:`finding`), units examined, notes, error."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    examined: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def finding(ps: Persons, i: int, keypoint: str, message: str, value: float) -> dict[str, Any]:
    """One finding about person ``i`` (the columns of :data:`harness.annotations.qc.FINDING_COLUMNS` but the
    rule's, which :func:`~harness.annotations.qc.run_qc` adds)."""
    k = ps.keys
    frame = ps.frame[i]
    return {"file": ps.file, "item": str(k.at[i, "item"]), "frame": None if math.isnan(frame) else int(frame),
            "annotator": str(k.at[i, "annotator"]), "person": str(k.at[i, "person"]), "keypoint": keypoint,
            "message": message, "value": float(value)}


def fmt(x: float) -> str:
    """A number as the findings and verdicts write it (:func:`harness.gates.format_number`)."""
    return format_number(float(x))


__all__ = ["Outcome", "Persons", "finding", "fmt", "persons_of"]
