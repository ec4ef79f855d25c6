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
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from candidates.annotations.model import AnnotationSet
from ground_truth.kernel import InputError, check_option, check_range
from harness.agreement._checks import check_confidence
from harness.agreement.bootstrap import _check_resamples, _summarise, cluster_counts, cluster_indices
from harness.agreement.icc import icc_values

from .keypoint_metrics import (COCO17_SIGMAS, _cube, check_points, coco_sigmas, keypoint_similarity,
                               match_persons, modal_visibility, person_scale)

DEFAULT_PCK_THRESHOLD = 0.1
#: A rater whose PCK against the others' consensus is below this is flagged (``flag_below``).
DEFAULT_FLAG_BELOW = 0.8
DEFAULT_RESAMPLES = 2000
TAG_LEVELS = ("nominal", "ordinal", "interval", "ratio")

REFERENCE = ("person scale s = sqrt(w * h) of the bounding box of the raters' consensus keypoints (COCO's s is "
             "sqrt(segment area), which annotation exports do not carry)")
SIGMA_DEFINITION = ("sigma_k^2 = mean over persons of [sum_r |p_r - mean p|^2 / (n - 1)] / s^2: the unbiased "
                    "variance of the n raters' points (x and y summed) per person scale squared, i.e. E[d^2/s^2] "
                    "with d the distance of one annotation from the true point (COCO keypoint evaluation, "
                    "section 1.3)")
REFERENCE_AREA = ("person scale s = sqrt(area), the median over raters of the person's segmentation area as the "
                  "COCO export gives it (COCO keypoint evaluation page, 1.2)")
DRIFT_DEFINITION = ("slope of the rater's per-person mean normalised distance to the others' consensus against "
                    "the item's position in that rater's own order scaled to 0..1 (video frame number when every "
                    "item is a frame, else the order of the rater's file): the change from first to last item")

_BATCH_ELEMENTS = 4_000_000   # work arrays of the batched bootstrap stay below ~32 MB of float64


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
        Person matching per annotator (:func:`~harness.annotations.keypoint_metrics.match_persons`).
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


# ------------------------------------------------------------------------------------------------ input
_FRAME_KEY = re.compile(r"^frame:\d+$")


_AREA_COLUMNS = ["annotator", "item", "person", "area"]


def _gather(sets_or_points) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, bool, list[str]]:
    """Points, tags, persons' segmentation areas (COCO), each annotator's item order, whether every item is a
    video frame, and notes."""
    notes: list[str] = []
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
        return pts, tags, pd.DataFrame(columns=_AREA_COLUMNS), order, frames, notes
    if not isinstance(sets_or_points, (AnnotationSet, list, tuple)):
        raise InputError(f"got a {type(sets_or_points).__name__}", field="sets_or_points",
                         expected="AnnotationSets (a list of them, or one with several annotators) or a points "
                                  "DataFrame")
    sets = [sets_or_points] if isinstance(sets_or_points, AnnotationSet) else list(sets_or_points)
    for i, s in enumerate(sets):
        if not isinstance(s, AnnotationSet):
            raise InputError(f"element {i} is a {type(s).__name__}", field="sets_or_points",
                             expected="AnnotationSets (one per rater or one with several) or a points DataFrame")
    names = []
    for s in sets:
        found = set(s.points["annotator"].fillna("").astype(str)) | set(s.tags["annotator"].fillna("").astype(str))
        names.append(found)
    seen: dict[str, int] = {}
    for found in names:
        for a in found:
            seen[a] = seen.get(a, 0) + 1
    point_frames, tag_frames, area_rows, order = [], [], [], {}
    frames = True
    for s, found in zip(sets, names):
        stem = Path(s.source).stem

        def rename(a: str, s=s, stem=stem) -> str:
            if not a:
                return stem
            return f"{a} ({Path(s.source).name})" if seen.get(a, 0) > 1 else a

        p = s.points.assign(annotator=s.points["annotator"].fillna("").astype(str).map(rename))
        t = s.tags.assign(annotator=s.tags["annotator"].fillna("").astype(str).map(rename))
        point_frames.append(p)
        tag_frames.append(t)
        for person in s.meta.get("persons", []) if isinstance(s.meta.get("persons"), list) else []:
            if isinstance(person, dict) and person.get("area") is not None:
                area_rows.append({"annotator": rename(str(person.get("annotator") or "")),
                                  "item": str(person.get("item")), "person": str(person.get("person")),
                                  "area": float(person["area"])})
        items = s.items
        by_frame = items["frame"].notna().all() and len(items) > 0
        frames = frames and bool(by_frame)
        seq = items.sort_values("frame", kind="stable")["item"] if by_frame else items["item"]
        rank = {str(it): i for i, it in enumerate(seq.astype(str))}
        for a in set(p["annotator"]) | set(t["annotator"]):
            order.setdefault(a, {}).update(rank)
    renamed = sorted(a for a, n in seen.items() if n > 1 and a)
    if renamed:
        notes.append(f"annotator name(s) {renamed} occur in several files: each file's is taken as a separate "
                     f"rater, named '<annotator> (<file>)'")
    if any("" in found for found in names):
        notes.append("points or tags without an annotator name are attributed to their file (named by its stem)")
    pts = pd.concat(point_frames, ignore_index=True) if point_frames else pd.DataFrame()
    tags = pd.concat(tag_frames, ignore_index=True) if tag_frames else pd.DataFrame()
    return pts, tags, pd.DataFrame(area_rows, columns=_AREA_COLUMNS), order, frames, notes


def _tracks_auto(pts: pd.DataFrame, frames: bool) -> bool:
    """Persons are tracks when every item is a video frame and each rater's person ids recur across frames."""
    if not frames or pts.empty:
        return False
    per = pts.groupby(["annotator", "person"])["item"].nunique()
    return bool((per.groupby(level=0).max() > 1).all())


def _labelled_rows(pts: pd.DataFrame) -> pd.Series:
    return (pts["visibility"].astype(int) > 0) & np.isfinite(pts[["x", "y"]].to_numpy(dtype=float)).all(1)


# ------------------------------------------------------------------------------------------- bootstrap
def _ci(estimate: float, boot: np.ndarray | None, confidence: float, n_clusters: int, what: str,
        notes: list[str]) -> tuple[float, float]:
    """Percentile CI of one statistic; NaN bounds (with a note) when the bootstrap is not possible."""
    if boot is None or not np.isfinite(estimate):
        return np.nan, np.nan
    try:
        r = _summarise(estimate, boot, confidence, n_clusters, method="percentile, item-clustered")
    except InputError as exc:
        notes.append(f"{what}: no CI ({exc.reason})")
        return np.nan, np.nan
    return r.ci_low, r.ci_high


def _safe_div(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


class _Data:
    """The matched annotations as arrays: U persons (units) x R raters x K keypoints."""

    def __init__(self, X, A, keypoints, raters, unit_item, t, threshold, area=None):
        self.keypoints, self.raters = keypoints, raters
        U, R, K, _ = X.shape
        lab = np.isfinite(X).all(-1)                                   # (U, R, K)
        with warnings.catch_warnings():
            # keypoints nobody (or only this rater) labelled give all-NaN slices: NaN, masked below
            warnings.simplefilter("ignore", RuntimeWarning)
            cons = np.nanmedian(X, axis=1)                             # (U, K, 2)
            mean = np.nanmean(X, axis=1)
            loo = np.stack([np.nanmedian(np.delete(X, r, axis=1), axis=1) for r in range(R)], axis=1) \
                if R > 2 else X[:, ::-1]
        self.scale = person_scale(cons, area=area)                      # (U,)
        s = self.scale
        ok_s = np.isfinite(s)
        n = lab.sum(1)                                                  # (U, K)
        dev2 = np.where(lab, ((X - mean[:, None]) ** 2).sum(-1), 0.0).sum(1)
        self.m = ((n >= 2) & ok_s[:, None]).astype(float)                # units that inform sigma
        self.v = np.where(self.m > 0, _safe_div(dev2, (n - 1) * (s ** 2)[:, None]), 0.0)
        d = np.linalg.norm(X - loo, axis=-1)                            # (U, R, K)
        self.delta = d / np.where(ok_s, s, np.nan)[:, None, None]
        self.q = np.isfinite(self.delta)
        self.delta0 = np.where(self.q, self.delta, 0.0)
        self.qf = self.q.astype(float)
        self.hit = np.where(self.q, self.delta0 < threshold, False).astype(float)
        others = np.isfinite(loo).all(-1)
        self.g = (A[:, :, None] & others & ok_s[:, None, None]).astype(float)
        self.G = self.g.sum(-1)                                         # (U, R) OKS denominators
        self.missing = (A[:, :, None] & others & ~lab).sum((0, 2))        # (R,) keypoints others labelled, not r
        self.coco = coco_sigmas(keypoints)
        self.has_coco = np.isfinite(self.coco)
        if self.has_coco.any():
            sig = np.where(self.has_coco, self.coco, 1.0)
            ks = keypoint_similarity(d, s[:, None], sig)
            num = np.where(self.q & self.has_coco, ks, 0.0).sum(-1)
            den = (self.g * self.has_coco).sum(-1)
            self.oks_coco_ur = _safe_div(num, den)
            self.coco_valid = (den > 0).astype(float)
        else:
            self.oks_coco_ur = np.full((U, R), np.nan)
            self.coco_valid = np.zeros((U, R))
        self.cons, self.lab, self.A, self.unit_item, self.X = cons, lab, A, unit_item, X
        # drift: each rater's per-person error against its own position in the item order
        qs = self.qf.sum(-1)
        self.err = _safe_div(self.delta0.sum(-1), qs)                  # (U, R)
        self.err_valid = (qs > 0).astype(float)
        self.t = t                                                      # (U, R) in [0, 1]
        # the compared points (q) as flat lists, and sparse sums of them per keypoint and per rater (each point
        # weighted by 1 / the number of keypoints of its OKS, so that the sum per rater is sum_u OKS_ur)
        u_m, r_m, k_m = np.nonzero(self.q)
        self.u_m, self.k_m, self.d2_m = u_m, k_m, self.delta0[u_m, r_m, k_m] ** 2
        M = u_m.size
        self.to_k = sparse.csr_matrix((np.ones(M), (np.arange(M), k_m)), shape=(M, K))
        self.to_r = sparse.csr_matrix((1.0 / self.G[u_m, r_m], (np.arange(M), r_m)), shape=(M, R))
        # ICC targets: persons every rater labelled, per keypoint; coordinates centred (a shift changes no mean
        # square) so that the weighted sums of the bootstrap stay well conditioned
        self.icc_rows = A.all(1)[:, None] & lab.all(1)                   # (U, K)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # a keypoint with no ICC target: NaN, never used
            self.icc_y = X - np.nanmean(np.where(self.icc_rows[:, None, :, None], X, np.nan), axis=(0, 1))

    def stats(self, W: np.ndarray) -> dict[str, np.ndarray]:
        """All the ratio-of-sums statistics for unit weights ``W`` (b, U): the point estimate for W = 1, one
        bootstrap resample per row otherwise."""
        out = {}
        U, R, K = self.delta.shape
        b = W.shape[0]

        def per_rk(values):            # sum over persons, weighted: (b, R, K)
            return (W @ values.reshape(U, R * K)).reshape(b, R, K)

        sig2 = _safe_div(W @ (self.m * self.v), W @ self.m)              # (b, K)
        out["sigma"] = np.sqrt(sig2)
        q_rk, d_rk, h_rk = per_rk(self.qf), per_rk(self.delta0), per_rk(self.hit)
        qsum, rq = q_rk.sum(1), q_rk.sum(2)
        out["kp_dist"] = _safe_div(d_rk.sum(1), qsum)
        out["kp_pck"] = _safe_div(h_rk.sum(1), qsum)
        out["r_dist"] = _safe_div(d_rk.sum(2), rq)
        out["r_pck"] = _safe_div(h_rk.sum(2), rq)
        out["all_dist"] = _safe_div(d_rk.sum((1, 2)), rq.sum(-1))
        out["all_pck"] = _safe_div(h_rk.sum((1, 2)), rq.sum(-1))
        # keypoint similarity exp(-d^2/(2 s^2 (2 sigma)^2)) with the sigma of the same resample, over the M
        # compared points only (the q entries), summed through sparse indicator matrices
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # 1 / (2 k^2) with k = 2 sigma; sigma = 0 (raters identical) is kept finite so that d = 0 scores 1,
            # and a sigma no resampled person informs (NaN) only meets points of weight 0
            inv = np.nan_to_num(1.0 / (8.0 * np.maximum(sig2, 1e-300)), nan=0.0, posinf=0.0)
            WE = inv[:, self.k_m]                                          # (b, M), in place from here
            WE *= -self.d2_m
            np.exp(WE, out=WE)
            WE *= W[:, self.u_m]
        out["kp_sim"] = _safe_div(np.asarray((self.to_k.T @ WE.T).T), qsum)
        valid = (self.G > 0).astype(float)
        n_valid = W @ valid                                                # (b, R)
        oks_r = np.asarray((self.to_r.T @ WE.T).T)                          # sum_u w_u OKS_ur, (b, R)
        out["r_oks"] = _safe_div(oks_r, n_valid)
        out["all_oks"] = _safe_div(oks_r.sum(-1), n_valid.sum(-1))
        oc = np.where(self.coco_valid > 0, self.oks_coco_ur, 0.0)
        out["r_oks_coco"] = _safe_div(W @ oc, W @ self.coco_valid)
        # weighted least-squares slope of error on position, per rater
        w = W[:, :, None] * self.err_valid[None]                          # (b, U, R)
        sw = w.sum(1)
        t = np.where(self.err_valid > 0, self.t, 0.0)
        e_ = np.where(self.err_valid > 0, self.err, 0.0)
        st, se = (w * t).sum(1), (w * e_).sum(1)
        stt, ste = (w * t * t).sum(1), (w * t * e_).sum(1)
        num = ste - _safe_div(st * se, sw)
        den = stt - _safe_div(st * st, sw)
        # a rater whose compared items all sit at one position has no slope (den = 0)
        out["r_drift"] = np.where(den > 1e-12, _safe_div(num, np.where(den > 1e-12, den, 1.0)), np.nan)
        for axis, key in ((0, "icc_x"), (1, "icc_y")):
            out[key] = np.stack([_icc_a1_weighted(self.icc_y[self.icc_rows[:, k], :, k, axis],
                                                  W[:, self.icc_rows[:, k]]) for k in range(K)], axis=1)
        return out


def _bootstrap_stats(data: _Data, n_items: int, n_resamples: int, rng) -> dict[str, np.ndarray]:
    U, R, K = data.delta.shape
    idx = cluster_indices(n_items, n_resamples, rng)
    step = max(1, _BATCH_ELEMENTS // max(1, U * R * K))
    parts: dict[str, list] = {}
    for s in range(0, n_resamples, step):
        counts = cluster_counts(idx[s:s + step], n_items)
        W = counts[:, data.unit_item]
        for key, val in data.stats(W).items():
            parts.setdefault(key, []).append(val)
    return {k: np.concatenate(v, axis=0) for k, v in parts.items()}


# ------------------------------------------------------------------------------------------------- ICC
def _icc_a1(y: np.ndarray) -> float:
    """ICC(A,1) of a complete (targets x raters) matrix by :func:`harness.agreement.icc.icc_values`; NaN with
    fewer than 3 targets or no variation."""
    if y.shape[0] < 3 or np.ptp(y) == 0:
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(icc_values(y)["ICC(A,1)"])


def _icc_a1_weighted(y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """ICC(A,1) of ``y`` (n targets x k raters) with the targets repeated ``W`` (b, n) times, one per row of W:
    the bootstrap resamples, without building the repeated matrices.

    The two-way mean squares of the repeated matrix (N = sum of the weights rows) are those of
    :func:`harness.agreement.icc.mean_squares`, written with weighted sums: SS_total = sum w_i sum_j y_ij^2 -
    N k g^2, SS_targets = sum w_i r_i^2 / k - N k g^2 (r_i the row sums), SS_raters = sum_j C_j^2 / N - N k g^2
    (C_j the weighted column sums), SS_error the rest; ICC(A,1) = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ -
    MSE) / N) (McGraw & Wong 1996). tests/test_annotations_irr.py checks it against ``icc_values`` of the
    repeated matrices."""
    b = W.shape[0]
    n, k = y.shape
    if n < 3 or k < 2:
        return np.full(b, np.nan)
    N = W.sum(axis=1)
    r = y.sum(axis=1)
    g = (W @ r) / (N * k)
    base = N * k * g ** 2
    ss_total = W @ (y ** 2).sum(axis=1) - base
    ss_b = (W @ r ** 2) / k - base
    ss_j = ((W @ y) ** 2).sum(axis=1) / N - base
    ss_e = ss_total - ss_b - ss_j
    with np.errstate(invalid="ignore", divide="ignore"):
        msb, msj, mse = ss_b / (N - 1), ss_j / (k - 1), ss_e / ((N - 1) * (k - 1))
        icc = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / N)
    # fewer than 3 distinct targets drawn, or no variation: undefined, as for the point estimate
    distinct = (W > 0).sum(axis=1)
    return np.where((distinct >= 3) & (ss_total > 0) & np.isfinite(icc), icc, np.nan)


def _resampled_rows(clusters: np.ndarray, n_resamples: int, rng) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Row indices of each cluster-bootstrap resample, grouped by the resample's number of rows.

    Returns a list of (resample numbers, rows (n_b, L)) pairs, one per distinct length L, and the number of
    clusters. Whole clusters are drawn with replacement (:func:`~harness.agreement.bootstrap.cluster_indices`),
    so a resample holds every row of each drawn cluster."""
    codes, uniq = pd.factorize(pd.Series(clusters), sort=True)
    n_clusters = len(uniq)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_clusters)
    starts = np.cumsum(sizes) - sizes
    idx = cluster_indices(n_clusters, n_resamples, rng)
    seg_len = sizes[idx].ravel()
    seg_start = starts[idx].ravel()
    total = int(seg_len.sum())
    within = np.arange(total) - np.repeat(np.cumsum(seg_len) - seg_len, seg_len)
    flat = order[np.repeat(seg_start, seg_len) + within]
    lengths = sizes[idx].sum(1)
    offsets = np.cumsum(lengths) - lengths
    groups = []
    for L in np.unique(lengths):
        which = np.flatnonzero(lengths == L)
        groups.append((which, flat[offsets[which][:, None] + np.arange(L)]))
    return groups, n_clusters


# ------------------------------------------------------------------------------------------------ tags
def _tag_alpha(tags: pd.DataFrame, raters: list[str], level: str, confidence: float, n_resamples: int, rng,
               notes: list[str]) -> pd.DataFrame:
    from harness.agreement.krippendorff import alpha_from_reliability_matrix

    cols = ["tag", "level", "n_units", "n_values", "n_raters", "n_categories", "alpha", "alpha_ci_low",
            "alpha_ci_high", "note"]
    rows = []
    for name, grp in tags.groupby("name", sort=True):
        note = []
        dup = grp.duplicated(["annotator", "item", "person"])
        if dup.any():
            note.append(f"{int(dup.sum())} repeated (annotator, item, person) value(s): the first is kept")
            grp = grp[~dup]
        values = grp["value"].fillna("").astype(str).str.strip()
        keep = values != ""
        grp, values = grp[keep], values[keep]
        if level == "nominal":
            codes = pd.factorize(values, sort=True)[0].astype(float)
        else:
            num = pd.to_numeric(values, errors="coerce")
            if num.isna().any():
                bad = values[num.isna()].iloc[0]
                raise InputError(f"tag {name!r} has the non-numeric value {bad!r}", field="tag_level",
                                 expected=f"numbers for the {level} level, or tag_level='nominal'")
            codes = num.to_numpy(dtype=float)
        units = pd.MultiIndex.from_frame(grp[["item", "person"]].astype(str)).drop_duplicates()
        u_pos = units.get_indexer(pd.MultiIndex.from_frame(grp[["item", "person"]].astype(str)))
        r_pos = grp["annotator"].map({a: i for i, a in enumerate(raters)}).to_numpy()
        M = np.full((len(raters), len(units)), np.nan)
        M[r_pos, u_pos] = codes
        pairable = (np.isfinite(M).sum(0) >= 2)
        n_units = int(pairable.sum())
        alpha = alpha_from_reliability_matrix(M, level) if n_units else np.nan
        lo = hi = np.nan
        if n_units == 0:
            note.append("no unit was tagged by two or more raters")
        elif not np.isfinite(alpha):
            note.append("every pairable value is the same: alpha is undefined (no variation)")
        else:
            item_codes, item_names = pd.factorize(units.get_level_values(0))
            n_items = len(item_names)
            if n_resamples and n_items >= 3:
                boot = np.empty(n_resamples)
                for which, cols_b in _resampled_rows(item_codes, n_resamples, rng)[0]:
                    for b, sel in zip(which, cols_b):
                        boot[b] = alpha_from_reliability_matrix(M[:, sel], level)
                lo, hi = _ci(alpha, boot, confidence, n_items, f"alpha of tag {name!r}", note)
            elif n_resamples:
                note.append(f"no CI: {n_items} item(s), the item-clustered bootstrap needs at least 3")
        rows.append({"tag": str(name), "level": level, "n_units": n_units,
                     "n_values": int(np.isfinite(M[:, pairable]).sum()),
                     "n_raters": int((np.isfinite(M[:, pairable]).sum(1) > 0).sum()),
                     "n_categories": int(np.unique(codes).size), "alpha": alpha, "alpha_ci_low": lo,
                     "alpha_ci_high": hi, "note": "; ".join(note)})
    return pd.DataFrame(rows, columns=cols)


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
    **Persons** are matched across raters by :func:`~harness.annotations.keypoint_metrics.match_persons`
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

    **Sigma** (per-keypoint OKS constant) is estimated from the raters as COCO derived its constants from
    redundant annotations, sigma_i^2 = E[d_i^2 / s^2] (COCO keypoint evaluation page, section 1.3; Ronchi MR,
    Perona P (2017) Benchmarking and error diagnosis in multi-instance pose estimation, ICCV, section 3).
    Neither states which point ``d_i`` is measured from; here it is the distance of one annotation from the
    true point, estimated without bias from the n >= 2 raters of a person by the sample variance,
    ``sum_r |p_r - mean_r p_r|^2 / (n - 1)`` (x and y summed), per ``s^2``, averaged over persons. For raters
    with independent isotropic errors of SD tau_r per axis this estimates ``2 * mean_r(tau_r^2) / s^2``
    (E[sum_r (x_r - mean x)^2] = (n - 1)/n * sum_r tau_r^2), whatever the mix of good and bad raters.

    **OKS** per rater and person: COCO's keypoint similarity ``exp(-d^2 / (2 s^2 k^2))``, ``k = 2 sigma`` with
    the estimated sigmas, averaged over the keypoints the others labelled (cocoeval ``computeOks``);
    ``oks_coco`` uses COCO's published sigmas (keypoints COCO does not define are left out of it).
    ``similarity`` per keypoint is the mean keypoint similarity over the comparisons. With sigmas estimated
    from the same raters it is nearly fixed for Gaussian errors: against the true point d^2/s^2 = sigma^2/2
    chi2_2, so the similarity is exp(-chi2_2/16) with mean 1/(1 + 2/16) = 0.89 (COCO page: "75%" of human
    keypoints above 0.88); against one other rater (two raters) d^2 doubles and the mean is 1/(1 + 2/8) = 0.8;
    against the consensus of several it lies between. Differences between raters, not between keypoints, are
    what it shows.

    **ICC(A,1)** (two-way random, absolute agreement, single rater; McGraw & Wong 1996, via
    :func:`harness.agreement.icc.icc_values`) of the x coordinates and, separately, of the y coordinates, with
    the persons labelled by every rater as targets. It depends on how much the keypoint moves between targets
    (images): a keypoint that hardly moves has a low ICC even when raters agree to a pixel. The bootstrap
    ICCs use the same resamples as every other statistic, from weighted sums of the mean squares
    (``_icc_a1_weighted``, checked against ``icc_values`` of the resampled matrices).

    **Tags**: Krippendorff's alpha (:func:`harness.agreement.krippendorff.alpha_from_reliability_matrix`), one
    unit per (item, person, tag name); tags of a person follow the person matching. A tag of a person with no
    labelled keypoint (e.g. an attribute of a CVAT box) cannot be matched across raters and forms no pairable
    unit (the row's note says when no unit was tagged by two raters).

    **Drift**: per rater, the least-squares slope of its per-person mean normalised distance against the
    item's position in its own order (0 = first, 1 = last; frame number for video, else the order of the
    rater's file): the change in error from the first to the last item.

    **CIs**: percentile bootstrap (Efron & Tibshirani 1993) resampling *items* with replacement (cluster
    bootstrap, Field & Welsh 2007), so the persons of one image stay together; every statistic, including
    the estimated sigmas inside OKS, is recomputed on each resample. Frames of one video are resampled as
    independent items, which understates the uncertainty when errors persist over consecutive frames.

    **Flag**: a rater is flagged when its PCK (point estimate) is below ``flag_below``.
    """
    pck_threshold = check_range(pck_threshold, "pck_threshold", 0.0, np.inf, low_open=True, high_open=True)
    flag_below = check_range(flag_below, "flag_below", 0.0, 1.0)
    confidence = check_confidence(confidence)
    n_resamples = 0 if n_resamples == 0 else _check_resamples(n_resamples)
    check_option("tag_level", tag_level, TAG_LEVELS)
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed

    pts, tags, areas, order, frames, notes = _gather(sets_or_points)
    if pts.empty and not len(pts.columns):
        pts = pd.DataFrame(columns=["annotator", "item", "person", "keypoint", "x", "y", "visibility"])
    pts = check_points(pts)
    pts = pts.assign(annotator=pts["annotator"].astype(str), item=pts["item"].astype(str),
                     person=pts["person"].astype(str), keypoint=pts["keypoint"].astype(str))
    lab = _labelled_rows(pts) if len(pts) else pd.Series(dtype=bool)
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
    tag_table = pd.DataFrame(columns=["tag", "level", "n_units", "n_values", "n_raters", "n_categories", "alpha",
                                      "alpha_ci_low", "alpha_ci_high", "note"])
    if len(tag_raters) >= 2:
        t = tags[tags["item"].isin(tag_common) & tags["annotator"].isin(tag_raters)]
        keyed = list(zip(t["annotator"], t["item"], t["person"]))
        t = t.assign(person=[p if p == "" else mapping.get(k, f"{k[0]}:{p}") for k, p in zip(keyed, t["person"])])
        tag_table = _tag_alpha(t, tag_raters, tag_level, confidence, n_resamples, rng, notes)
    summary["flagged"] = [a for a, f in zip(r_table["annotator"], r_table["flagged"]) if f]
    summary["n_annotators"] = len(summary["annotators"])
    return IRRResult(kp_table, r_table, tag_table, persons, cons_table, summary, notes)


def _empty_tables():
    kp = pd.DataFrame(columns=KEYPOINT_COLUMNS)
    r = pd.DataFrame(columns=RATER_COLUMNS)
    persons = pd.DataFrame(columns=["annotator", "persons", "matched", "unmatched", "missed"])
    cons = pd.DataFrame(columns=["item", "person", "keypoint", "x", "y", "visibility", "n_raters", "n_annotators",
                                 "scale"])
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
    units = matched[["item", "person"]].drop_duplicates().reset_index(drop=True)
    u_index = {k: i for i, k in enumerate(zip(units["item"], units["person"]))}
    r_index = {a: i for i, a in enumerate(raters)}
    k_index = {k: i for i, k in enumerate(keypoints)}
    X, V, A = _cube(matched, u_index, r_index, k_index)
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
    data = _Data(X, A, keypoints, raters, item_codes, np.nan_to_num(t, nan=0.0), threshold, area)
    data.err_valid = data.err_valid * np.isfinite(t)
    n_noscale = int((~np.isfinite(data.scale)).sum())
    if n_noscale:
        notes.append(f"{n_noscale} person(s) have no scale (fewer than two consensus keypoints, or a box of zero "
                     f"width or height) and are not compared")
    point = {k: v[0] for k, v in data.stats(np.ones((1, len(units)))).items()}
    boot = None
    if n_resamples and n_items >= 3:
        boot = _bootstrap_stats(data, n_items, n_resamples, rng)
    elif n_resamples:
        notes.append(f"no CIs: {n_items} item(s) compared, the item-clustered bootstrap needs at least 3")

    def ci(key, j, what):
        est = float(point[key][j]) if j is not None else float(point[key])
        b = None if boot is None else (boot[key][:, j] if j is not None else boot[key])
        return (est, *_ci(est, b, confidence, n_items, what, notes))

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
            est = _icc_a1(y)
            if not np.isfinite(est):
                reason = ("fewer than 3 persons labelled by every rater" if y.shape[0] < 3 else
                          "no variation in the coordinates")
                no_icc.setdefault(reason, []).append(f"{name} ({col[-1]})")
            b = None if boot is None else boot[col][:, k]
            row.update(zip(_with_ci(col), (est, *_ci(est, b, confidence, n_items, f"{col} of {name}", notes))))
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

    cons = pd.DataFrame({
        "item": np.repeat(units["item"].to_numpy(), len(keypoints)),
        "person": np.repeat(units["person"].to_numpy(), len(keypoints)),
        "keypoint": np.tile(np.array(keypoints, dtype=object), len(units)),
        "x": data.cons[..., 0].ravel(), "y": data.cons[..., 1].ravel(),
        "visibility": modal_visibility(V, A).ravel().astype("int8"),
        "n_raters": data.lab.sum(1).ravel().astype(int), "n_annotators": np.repeat(A.sum(1), len(keypoints)),
        "scale": np.repeat(data.scale, len(keypoints)),
    })
    summary = {"n_units": int(len(units)), "n_compared_items": int(n_items), "keypoints": keypoints,
               "reference": REFERENCE if area is None else REFERENCE_AREA}
    for col, key in (("oks", "all_oks"), ("pck", "all_pck"), ("mean_distance", "all_dist")):
        summary.update(zip(_with_ci(col), ci(key, None, f"pooled {col}")))
    return kp_table, r_table, cons, summary
