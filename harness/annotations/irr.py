"""Inter-rater reliability of keypoint annotations: how well two or more annotators who labelled the same images
(or video frames) agree, per keypoint and per rater, with CIs from a bootstrap clustered by item.

>>> from harness.annotations.irr import keypoint_irr
>>> res = keypoint_irr([set_a, set_b, set_c])          # AnnotationSets, one per rater (or one with several)
>>> res.keypoints, res.raters, res.tags                   # tidy tables, two CI columns per statistic

What is computed (the Notes of :func:`keypoint_irr` give the definitions and sources):

- per keypoint: the per-keypoint constant sigma estimated from the raters (COCO's sigma_i^2 = E[d_i^2/s^2]),
  the mean distance to the other raters' consensus normalised by the person scale, PCK at a threshold, the mean
  COCO keypoint similarity with the estimated sigmas, and ICC(A,1) of the x and of the y coordinates;
- per rater: the same distance, PCK and OKS against the leave-one-out consensus of the others, OKS with COCO's
  sigmas, drift over the rater's own item order, unmatched/missed persons and missing keypoints, and a flag for
  raters whose PCK is below a threshold;
- per categorical tag (``AnnotationSet.tags``): Krippendorff's alpha.

This module is the front end (:func:`keypoint_irr`, :class:`IRRResult`, the tables' columns). The raters are
gathered by :mod:`.raters`, persons matched and their consensus built by :mod:`.consensus`, the statistics and
their bootstrap computed by :mod:`.irr_stats` and the tags' alpha by :mod:`.irr_tags`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, check_option, check_range
from harness.agreement._checks import check_confidence
from harness.agreement.bootstrap import check_resamples

from .consensus import (CONSENSUS_COLUMNS, check_points, consensus_frame, labelled_rows, match_persons, rater_cube,
                        string_ids)
from .irr_stats import DRIFT_DEFINITION, SIGMA_DEFINITION, RaterArrays, bootstrap_stats, ci_or_nan, icc_a1
from .irr_tags import TAG_COLUMNS, tag_alpha
from .keypoint_metrics import COCO17_SIGMAS
from .raters import gather_raters

DEFAULT_PCK_THRESHOLD = 0.1
#: A rater whose PCK against the others' consensus is below this is flagged (``flag_below``).
DEFAULT_FLAG_BELOW = 0.8
DEFAULT_RESAMPLES = 2000
TAG_LEVELS = ("nominal", "ordinal", "interval", "ratio")

REFERENCE = ("person scale s = sqrt(w * h) of the bounding box of the raters' consensus keypoints (COCO's s is "
             "sqrt(segment area), which annotation exports do not carry)")
REFERENCE_AREA = ("person scale s = sqrt(area), the median over raters of the person's segmentation area as the "
                  "COCO export gives it (COCO keypoint evaluation page, 1.2)")


@dataclass
class IRRResult:
    """Inter-rater reliability of keypoint annotations.

    Attributes
    ----------
    keypoints : DataFrame
        One row per keypoint: ``n_units`` (persons labelled by two or more raters), ``n_comparisons``,
        ``sigma`` (estimated), ``coco_sigma`` (COCO's, for reference), ``mean_distance``, ``pck``,
        ``similarity`` (mean keypoint similarity with the estimated sigma), ``icc_x``, ``icc_y``,
        ``n_icc_targets``; each statistic with ``*_ci_low`` and ``*_ci_high``.
    raters : DataFrame
        One row per annotator: counts, ``mean_distance``, ``pck``, ``oks``, ``oks_coco``, ``drift`` (each with
        two CI columns), ``flagged`` and ``flag_reason``.
    tags : DataFrame
        One row per tag name: Krippendorff's ``alpha`` with ``alpha_ci_low``, ``alpha_ci_high`` and counts.
    persons : DataFrame
        Person matching per annotator (:func:`~harness.annotations.consensus.match_persons`).
    consensus : DataFrame
        The consensus keypoints of the persons compared (median over raters).
    summary : dict
        Pooled OKS, PCK and distance with CIs, the settings and the definitions used.
    notes : list of str
        What was left out and why, with counts.
    """

    keypoints: pd.DataFrame
    raters: pd.DataFrame
    tags: pd.DataFrame
    persons: pd.DataFrame
    consensus: pd.DataFrame
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self, *, consensus: bool = False) -> dict[str, Any]:
        out = {"summary": dict(self.summary), "keypoints": self.keypoints, "raters": self.raters,
               "tags": self.tags, "persons": self.persons, "notes": list(self.notes)}
        if consensus:
            out["consensus"] = self.consensus
        return out



def _tracks_auto(pts: pd.DataFrame, frames: bool) -> bool:
    """Persons are tracks when every item is a video frame and each rater's person ids recur across frames."""
    if not frames or pts.empty:
        return False
    per = pts.groupby(["annotator", "person"])["item"].nunique()
    return bool((per.groupby(level=0).max() > 1).all())



# -------------------------------------------------------------------------------------------- front end
def keypoint_irr(sets_or_points, *, pck_threshold: float = DEFAULT_PCK_THRESHOLD, confidence: float = 0.95,
                 n_resamples: int = DEFAULT_RESAMPLES, seed=None, flag_below: float = DEFAULT_FLAG_BELOW,
                 tracks: bool | None = None, tag_level: str = "nominal") -> IRRResult:
    """Inter-rater reliability of keypoint annotations of the same items by two or more annotators.

    Parameters
    ----------
    sets_or_points : AnnotationSet, list of AnnotationSet, or DataFrame
        One set per rater, or sets holding several annotators, or a points table (columns of
        ``AnnotationSet.points``). Items are matched by their key (image name or ``frame:N``); only items
        labelled by two or more annotators are compared. An annotator name found in several files is taken as
        one rater per file (noted); points without an annotator name are named after their file.
    pck_threshold : float
        PCK counts a point as correct when its distance to the others' consensus is below this fraction of the
        person scale (default 0.1).
    confidence : float
        Level of the CIs.
    n_resamples : int
        Bootstrap resamples (>= 100), or 0 for no CIs.
    seed : int or numpy Generator, optional
        Makes the bootstrap reproducible.
    flag_below : float
        A rater whose PCK against the others' consensus is below this is flagged (default 0.8).
    tracks : bool, optional
        Match persons as whole tracks (video) rather than per item; default: tracks when every item is a video
        frame and each rater's person ids recur across frames.
    tag_level : {'nominal', 'ordinal', 'interval', 'ratio'}
        Level of measurement of the tags for Krippendorff's alpha (default nominal: categories).

    Returns
    -------
    IRRResult

    Raises
    ------
    InputError
        Fewer than two annotators labelled common items; bad options.

    Notes
    -----
    **Persons** are matched across raters by :func:`~harness.annotations.consensus.match_persons`
    (Hungarian assignment on OKS; whole tracks for video). A person labelled by one rater only is counted
    (``unmatched``/``missed`` in ``persons`` and ``raters``) and not compared.

    **Person scale** ``s``: COCO's ``sqrt(segment area)`` (COCO keypoint evaluation page, 1.2), the area being
    the median over the raters' ``area`` of the person, when the sets carry one for every person compared
    (COCO exports: ``meta["persons"]``); otherwise, for every person, ``sqrt(w * h)`` of the bounding box of the
    person's consensus (median) keypoints, which is larger than COCO's (``summary["reference"]`` says which).

    **Distances** are taken between a rater's point and the *leave-one-out consensus*, the coordinate-wise
    median of the other raters who labelled that point (for two raters: the other rater's point), divided by
    ``s``. Only keypoints both labelled (v > 0) count; a keypoint the others labelled and this rater did not is
    counted in ``missing_keypoints`` (and scores 0 in OKS, as a missing detection would in COCO).
    ``mean_distance`` is their mean, ``pck`` the fraction below ``pck_threshold`` (strict, as mmpose's
    ``_distance_acc``).

    **Sigma** (per-keypoint OKS constant): COCO's sigma_i^2 = E[d_i^2 / s^2] estimated from the raters (COCO
    keypoint evaluation page, section 1.3; Ronchi & Perona 2017, ICCV, section 3). **OKS** per rater and person,
    and ``similarity`` per keypoint: COCO's keypoint similarity with the estimated sigmas (cocoeval
    ``computeOks``); ``oks_coco`` with COCO's published sigmas. **ICC(A,1)** of the x and of the y coordinates
    (McGraw & Wong 1996). **Drift**: the slope of a rater's error over its own item order. **CIs**: percentile
    bootstrap of items (Efron & Tibshirani 1993; cluster bootstrap, Field & Welsh 2007). The definitions, their
    sources and their limits are in :mod:`harness.annotations.irr_stats`.

    **Tags**: Krippendorff's alpha per tag name, tags following the person matching (:mod:`.irr_tags`).

    **Flag**: a rater is flagged when its PCK (point estimate) is below ``flag_below``.
    """
    pck_threshold = check_range(pck_threshold, "pck_threshold", 0.0, np.inf, low_open=True, high_open=True)
    flag_below = check_range(flag_below, "flag_below", 0.0, 1.0)
    confidence = check_confidence(confidence)
    n_resamples = 0 if n_resamples == 0 else check_resamples(n_resamples)
    check_option("tag_level", tag_level, TAG_LEVELS)
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed

    gathered = gather_raters(sets_or_points)
    pts, tags, areas, order, frames, notes = (gathered.points, gathered.tags, gathered.areas, gathered.order,
                                              gathered.frames, gathered.notes)
    if pts.empty and not len(pts.columns):
        pts = pd.DataFrame(columns=["annotator", "item", "person", "keypoint", "x", "y", "visibility"])
    pts = string_ids(check_points(pts), ("annotator", "item", "person", "keypoint"))
    lab = labelled_rows(pts) if len(pts) else pd.Series(dtype=bool)
    raters_of_item = pts[lab].groupby("item")["annotator"].nunique() if len(pts) else pd.Series(dtype=int)
    common = set(raters_of_item.index[raters_of_item >= 2])
    if len(tags):
        tags = tags.assign(annotator=tags["annotator"].astype(str), item=tags["item"].astype(str),
                           person=tags["person"].fillna("").astype(str))
        tag_items = tags.groupby("item")["annotator"].nunique()
        tag_common = set(tag_items.index[tag_items >= 2])
    else:
        tag_common = set()
    point_raters = sorted(set(pts.loc[lab & pts["item"].isin(common), "annotator"]))
    tag_raters = sorted(set(tags.loc[tags["item"].isin(tag_common), "annotator"])) if len(tags) else []
    all_raters = sorted(set(pts["annotator"]) | (set(tags["annotator"]) if len(tags) else set()))
    if len(point_raters) < 2 and len(tag_raters) < 2:
        raise InputError(f"{len(all_raters)} annotator(s) ({', '.join(all_raters) or 'none'}) and no item labelled "
                         f"by two or more of them", field="annotators",
                         expected="two or more annotators who labelled the same items (matched by image name or "
                                  "frame number)")
    dropped = sorted(set(all_raters) - set(point_raters) - set(tag_raters))
    if dropped:
        notes.append(f"annotator(s) {dropped} labelled no item another annotator labelled: not compared")
    if tracks is None:
        tracks = _tracks_auto(pts[lab & pts["item"].isin(common)], frames)

    kp_table, r_table, persons, cons_table = _empty_tables()
    summary: dict[str, Any] = {
        "annotators": sorted(set(point_raters) | set(tag_raters)), "n_items": len(common), "tracks": bool(tracks),
        "pck_threshold": pck_threshold, "reference": REFERENCE, "sigma_definition": SIGMA_DEFINITION,
        "drift_definition": DRIFT_DEFINITION, "flag_below": flag_below, "flag_statistic": "pck",
        "confidence": confidence, "n_resamples": n_resamples, "ci_method": "percentile bootstrap of items",
        "seed": seed if not isinstance(seed, np.random.Generator) else None,
    }
    mapping = {}
    if len(point_raters) >= 2:
        use = pts[lab & pts["item"].isin(common) & pts["annotator"].isin(point_raters)]
        n_unlab = int((~lab).sum())
        if n_unlab:
            notes.append(f"{n_unlab} point(s) not labelled (v = 0 or no coordinates) are not compared")
        matched, persons = match_persons(use, tracks=tracks)
        cols = [matched[c].to_numpy(dtype=object) for c in ("annotator", "item", "source_person", "person")]
        mapping = dict(zip(zip(*cols[:3]), cols[3]))
        area_of = dict(zip(zip(areas["annotator"], areas["item"], areas["person"]), areas["area"]))
        matched = matched.assign(area=[area_of.get(k, np.nan) for k in zip(*cols[:3])] if area_of else np.nan)
        kp_table, r_table, cons_table, psum = _keypoint_part(matched, persons, point_raters, order, pck_threshold,
                                                             confidence, n_resamples, rng, flag_below, notes)
        summary.update(psum)
    else:
        notes.append("fewer than two annotators labelled keypoints of the same items: no keypoint statistics")
    tag_table = pd.DataFrame(columns=TAG_COLUMNS)
    if len(tag_raters) >= 2:
        t = tags[tags["item"].isin(tag_common) & tags["annotator"].isin(tag_raters)]
        keyed = list(zip(t["annotator"], t["item"], t["person"]))
        t = t.assign(person=[p if p == "" else mapping.get(k, f"{k[0]}:{p}") for k, p in zip(keyed, t["person"])])
        tag_table = tag_alpha(t, tag_raters, tag_level, confidence, n_resamples, rng)
    summary["flagged"] = [a for a, f in zip(r_table["annotator"], r_table["flagged"]) if f]
    summary["n_annotators"] = len(summary["annotators"])
    return IRRResult(kp_table, r_table, tag_table, persons, cons_table, summary, notes)


def _empty_tables():
    kp = pd.DataFrame(columns=KEYPOINT_COLUMNS)
    r = pd.DataFrame(columns=RATER_COLUMNS)
    persons = pd.DataFrame(columns=["annotator", "persons", "matched", "unmatched", "missed"])
    cons = pd.DataFrame(columns=[*CONSENSUS_COLUMNS, "scale"])
    return kp, r, persons, cons


def _with_ci(name: str) -> list[str]:
    return [name, f"{name}_ci_low", f"{name}_ci_high"]


KEYPOINT_COLUMNS = (["keypoint", "n_units", "n_comparisons", *_with_ci("sigma"), "coco_sigma",
                     *_with_ci("mean_distance"), *_with_ci("pck"), *_with_ci("similarity"), *_with_ci("icc_x"),
                     *_with_ci("icc_y"), "n_icc_targets"])
RATER_COLUMNS = (["annotator", "n_items", "n_persons", "n_comparisons", "missing_keypoints", "unmatched_persons",
                  "missed_persons", *_with_ci("mean_distance"), *_with_ci("pck"), *_with_ci("oks"),
                  *_with_ci("oks_coco"), *_with_ci("drift"), "flagged", "flag_reason"])


def _keypoint_part(matched, persons, raters, order, threshold, confidence, n_resamples, rng, flag_below, notes):
    keypoints = list(dict.fromkeys(matched["keypoint"]))
    units, X, V, A = rater_cube(matched, raters, keypoints)
    both = A.sum(1) >= 2
    if (~both).any():
        notes.append(f"{int((~both).sum())} person(s) labelled by one annotator only are not compared")
    X, V, A, units = X[both], V[both], A[both], units[both].reset_index(drop=True)
    item_codes, item_names = pd.factorize(units["item"])
    n_items = len(item_names)
    per_unit = matched.groupby(["item", "person"])["area"].median()
    area = per_unit.reindex(pd.MultiIndex.from_frame(units[["item", "person"]])).to_numpy(dtype=float)
    if not (np.isfinite(area).all() and (area > 0).all()):
        if np.isfinite(area).any():
            notes.append(f"{int(np.isfinite(area).sum())} of {len(area)} persons have a segmentation area: the "
                         f"person scale is taken from the keypoints' box for all, so that it is one measure")
        area = None
    # each rater's position of the item in its own order, scaled to 0..1
    t = np.full(A.shape, np.nan)
    for r, a in enumerate(raters):
        rank = order.get(a, {})
        pos = np.array([rank.get(it, np.nan) for it in units["item"]], dtype=float)
        used = np.unique(pos[A[:, r] & np.isfinite(pos)])
        if used.size > 1:
            t[:, r] = np.interp(pos, used, np.linspace(0.0, 1.0, used.size))
    data = RaterArrays(X, A, keypoints, raters, item_codes, np.nan_to_num(t, nan=0.0), threshold, area)
    data.err_valid = data.err_valid * np.isfinite(t)
    n_noscale = int((~np.isfinite(data.scale)).sum())
    if n_noscale:
        notes.append(f"{n_noscale} person(s) have no scale (fewer than two consensus keypoints, or a box of zero "
                     f"width or height) and are not compared")
    point = {k: v[0] for k, v in data.stats(np.ones((1, len(units)))).items()}
    boot = None
    if n_resamples and n_items >= 3:
        boot = bootstrap_stats(data, n_items, n_resamples, rng)
    elif n_resamples:
        notes.append(f"no CIs: {n_items} item(s) compared, the item-clustered bootstrap needs at least 3")

    def ci(key, j, what):
        est = float(point[key][j]) if j is not None else float(point[key])
        b = None if boot is None else (boot[key][:, j] if j is not None else boot[key])
        return (est, *ci_or_nan(est, b, confidence, n_items, what, notes))

    kp_rows = []
    no_icc: dict[str, list[str]] = {}
    for k, name in enumerate(keypoints):
        row = {"keypoint": name, "n_units": int(data.m[:, k].sum()), "n_comparisons": int(data.q[:, :, k].sum()),
               "coco_sigma": COCO17_SIGMAS.get(name, np.nan)}
        for col, key in (("sigma", "sigma"), ("mean_distance", "kp_dist"), ("pck", "kp_pck"),
                         ("similarity", "kp_sim")):
            row.update(zip(_with_ci(col), ci(key, k, f"{col} of {name}")))
        rows_ok = data.icc_rows[:, k]
        for axis, col in ((0, "icc_x"), (1, "icc_y")):
            y = X[rows_ok, :, k, axis]
            est = icc_a1(y)
            if not np.isfinite(est):
                reason = ("fewer than 3 persons labelled by every rater" if y.shape[0] < 3 else
                          "no variation in the coordinates")
                no_icc.setdefault(reason, []).append(f"{name} ({col[-1]})")
            b = None if boot is None else boot[col][:, k]
            row.update(zip(_with_ci(col), (est, *ci_or_nan(est, b, confidence, n_items, f"{col} of {name}", notes))))
        row["n_icc_targets"] = int(rows_ok.sum())
        kp_rows.append(row)
    kp_table = pd.DataFrame(kp_rows, columns=KEYPOINT_COLUMNS)
    for reason, which in no_icc.items():
        shown = ", ".join(which[:6]) + (", ..." if len(which) > 6 else "")
        notes.append(f"ICC not computed for {len(which)} keypoint coordinate(s) ({shown}): {reason}")

    prow = persons.set_index("annotator")
    r_rows = []
    for r, a in enumerate(raters):
        row = {"annotator": a, "n_items": int(np.unique(item_codes[A[:, r]]).size), "n_persons": int(A[:, r].sum()),
               "n_comparisons": int(data.q[:, r].sum()), "missing_keypoints": int(data.missing[r]),
               "unmatched_persons": int(prow.loc[a, "unmatched"]) if a in prow.index else 0,
               "missed_persons": int(prow.loc[a, "missed"]) if a in prow.index else 0}
        for col, key in (("mean_distance", "r_dist"), ("pck", "r_pck"), ("oks", "r_oks"), ("oks_coco", "r_oks_coco"),
                         ("drift", "r_drift")):
            row.update(zip(_with_ci(col), ci(key, r, f"{col} of annotator {a}")))
        pck = row["pck"]
        row["flagged"] = bool(np.isfinite(pck) and pck < flag_below)
        row["flag_reason"] = (f"PCK@{threshold:g} against the others' consensus is {pck:.3f}, below {flag_below:g}"
                              if row["flagged"] else ("" if np.isfinite(pck) else "no comparable keypoints"))
        r_rows.append(row)
    r_table = pd.DataFrame(r_rows, columns=RATER_COLUMNS)

    cons = consensus_frame(units, keypoints, X, V, A, median=data.cons).assign(
        scale=np.repeat(data.scale, len(keypoints)))
    summary = {"n_units": int(len(units)), "n_compared_items": int(n_items), "keypoints": keypoints,
               "reference": REFERENCE if area is None else REFERENCE_AREA}
    for col, key in (("oks", "all_oks"), ("pck", "all_pck"), ("mean_distance", "all_dist")):
        summary.update(zip(_with_ci(col), ci(key, None, f"pooled {col}")))
    return kp_table, r_table, cons, summary


__all__ = ["DEFAULT_FLAG_BELOW", "DEFAULT_PCK_THRESHOLD", "DEFAULT_RESAMPLES", "DRIFT_DEFINITION", "IRRResult",
           "KEYPOINT_COLUMNS", "RATER_COLUMNS", "REFERENCE", "REFERENCE_AREA", "SIGMA_DEFINITION", "TAG_LEVELS",
           "keypoint_irr"]
