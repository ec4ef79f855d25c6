"""The raters of several annotation files: who is one rater, and their points and tags pooled in one table.

One rater is one (file, annotator): an annotator name found in several files is taken as one rater per file,
named ``"<annotator> (<file name>)"``, and points or tags without an annotator name are attributed to their file
(named by its stem). :func:`rater_names` applies that rule; the inter-rater statistics
(:func:`harness.annotations.irr.keypoint_irr`, through :func:`gather_raters`) and the study's annotation scores
(:func:`harness.annotations.reference.rater_points`) both use it, so a rater has one name in every table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from candidates.annotations.model import AnnotationSet
from ground_truth.kernel import InputError

_FRAME_KEY = re.compile(r"^frame:\d+$")
_AREA_COLUMNS = ["annotator", "item", "person", "area"]


@dataclass(frozen=True)
class RaterNames:
    """The annotator names of several sets and how each becomes a rater name (:func:`rater_names`)."""

    files_of: dict[str, int]      # annotator name ("" for none) -> number of sets it occurs in
    nameless: bool                # some point or tag has no annotator name

    def name(self, s: AnnotationSet, annotator: str) -> str:
        """The rater name of ``annotator`` (a string, "" for none) in the set ``s``."""
        if not annotator:
            return Path(s.source).stem
        return f"{annotator} ({Path(s.source).name})" if self.files_of.get(annotator, 0) > 1 else annotator

    def column(self, s: AnnotationSet, annotators: pd.Series) -> pd.Series:
        """The rater names of a column of annotator names of ``s`` (missing names read "")."""
        return annotators.fillna("").astype(str).map(lambda a: self.name(s, a))

    @property
    def renamed(self) -> list[str]:
        """The annotator names found in several sets (each set's is a separate rater)."""
        return sorted(a for a, n in self.files_of.items() if n > 1 and a)

    def notes(self) -> list[str]:
        out = []
        if self.renamed:
            out.append(f"annotator name(s) {self.renamed} occur in several files: each file's is taken as a separate "
                       f"rater, named '<annotator> (<file>)'")
        if self.nameless:
            out.append("points or tags without an annotator name are attributed to their file (named by its stem)")
        return out


def rater_names(sets: list[AnnotationSet]) -> RaterNames:
    """The naming of the raters of ``sets`` (see the module docstring), from their points' and tags' annotators."""
    files_of: dict[str, int] = {}
    nameless = False
    for s in sets:
        found = set(s.points["annotator"].fillna("").astype(str)) | set(s.tags["annotator"].fillna("").astype(str))
        nameless = nameless or "" in found
        for a in found:
            files_of[a] = files_of.get(a, 0) + 1
    return RaterNames(files_of, nameless)


@dataclass
class RaterTables:
    """What :func:`gather_raters` gives the inter-rater statistics."""

    points: pd.DataFrame          # the points of every rater, ``annotator`` the rater name
    tags: pd.DataFrame            # the tags likewise
    areas: pd.DataFrame           # annotator, item, person, area: persons' segmentation areas (COCO exports)
    order: dict[str, dict[str, int]]   # rater -> item -> position of the item in that rater's own order
    frames: bool                  # every item is a video frame
    notes: list[str] = field(default_factory=list)


def gather_raters(sets_or_points) -> RaterTables:
    """The points, tags, persons' areas and item orders of one or several sets (or of a points table).

    A points table is taken as it is (its ``annotator`` column names the raters; no tags, no areas; each rater's
    item order is the order of its rows). InputError when the argument is neither.
    """
    if isinstance(sets_or_points, pd.DataFrame):
        pts = sets_or_points.copy()
        tags = pd.DataFrame(columns=["annotator", "item", "person", "name", "value"])
        if "annotator" in pts.columns and "item" in pts.columns:
            order = {str(a): {it: i for i, it in enumerate(dict.fromkeys(g.astype(str)))}
                     for a, g in pts.groupby(pts["annotator"].astype(str), sort=False)["item"]}
        else:
            order = {}
        frames = bool(len(pts)) and "item" in pts.columns and \
            bool(pts["item"].astype(str).str.fullmatch(_FRAME_KEY.pattern).all())
        return RaterTables(pts, tags, pd.DataFrame(columns=_AREA_COLUMNS), order, frames)
    if not isinstance(sets_or_points, (AnnotationSet, list, tuple)):
        raise InputError(f"got a {type(sets_or_points).__name__}", field="sets_or_points",
                         expected="AnnotationSets (a list of them, or one with several annotators) or a points "
                                  "DataFrame")
    sets = [sets_or_points] if isinstance(sets_or_points, AnnotationSet) else list(sets_or_points)
    for i, s in enumerate(sets):
        if not isinstance(s, AnnotationSet):
            raise InputError(f"element {i} is a {type(s).__name__}", field="sets_or_points",
                             expected="AnnotationSets (one per rater or one with several) or a points DataFrame")
    names = rater_names(sets)
    point_frames, tag_frames, area_rows, order = [], [], [], {}
    frames = True
    for s in sets:
        p = s.points.assign(annotator=names.column(s, s.points["annotator"]))
        t = s.tags.assign(annotator=names.column(s, s.tags["annotator"]))
        point_frames.append(p)
        tag_frames.append(t)
        for person in s.meta.get("persons", []) if isinstance(s.meta.get("persons"), list) else []:
            if isinstance(person, dict) and person.get("area") is not None:
                area_rows.append({"annotator": names.name(s, str(person.get("annotator") or "")),
                                  "item": str(person.get("item")), "person": str(person.get("person")),
                                  "area": float(person["area"])})
        items = s.items
        by_frame = items["frame"].notna().all() and len(items) > 0
        frames = frames and bool(by_frame)
        seq = items.sort_values("frame", kind="stable")["item"] if by_frame else items["item"]
        rank = {str(it): i for i, it in enumerate(seq.astype(str))}
        for a in set(p["annotator"]) | set(t["annotator"]):
            order.setdefault(a, {}).update(rank)
    pts = pd.concat(point_frames, ignore_index=True) if point_frames else pd.DataFrame()
    tags = pd.concat(tag_frames, ignore_index=True) if tag_frames else pd.DataFrame()
    return RaterTables(pts, tags, pd.DataFrame(area_rows, columns=_AREA_COLUMNS), order, frames, names.notes())


__all__ = ["RaterNames", "RaterTables", "gather_raters", "rater_names"]
