"""Agreement of categorical tags between raters: Krippendorff's alpha per tag name, with an item-clustered
bootstrap CI (part of :func:`harness.annotations.irr.keypoint_irr`, its ``tags`` table).

**Tags**: Krippendorff's alpha (:func:`harness.agreement.krippendorff_core.alpha_from_reliability_matrix`), one
unit per (item, person, tag name); tags of a person follow the person matching. A tag of a person with no
labelled keypoint (e.g. an attribute of a CVAT box) cannot be matched across raters and forms no pairable
unit (the row's note says when no unit was tagged by two raters).

The CI resamples *items* with replacement (cluster bootstrap, Field & Welsh 2007, J R Stat Soc B 69:369), so the
units of one image stay together, and reads percentile bounds off the alphas of the resampled reliability
matrices (Efron & Tibshirani 1993, ch. 13).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError
from harness.agreement.bootstrap import cluster_indices

from .irr_stats import ci_or_nan

#: Columns of the tags table.
TAG_COLUMNS = ["tag", "level", "n_units", "n_values", "n_raters", "n_categories", "alpha", "alpha_ci_low",
               "alpha_ci_high", "note"]


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


def tag_alpha(tags: pd.DataFrame, raters: list[str], level: str, confidence: float, n_resamples: int, rng
              ) -> pd.DataFrame:
    """One row per tag name (columns :data:`TAG_COLUMNS`) of the tags of ``raters`` (``annotator, item, person,
    name, value``, persons already matched across raters); what could not be computed is in each row's note.
    InputError when a tag has a non-numeric value at a numeric ``level``."""
    from harness.agreement.krippendorff_core import alpha_from_reliability_matrix

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
                lo, hi = ci_or_nan(alpha, boot, confidence, n_items, f"alpha of tag {name!r}", note)
            elif n_resamples:
                note.append(f"no CI: {n_items} item(s), the item-clustered bootstrap needs at least 3")
        rows.append({"tag": str(name), "level": level, "n_units": n_units,
                     "n_values": int(np.isfinite(M[:, pairable]).sum()),
                     "n_raters": int((np.isfinite(M[:, pairable]).sum(1) > 0).sum()),
                     "n_categories": int(np.unique(codes).size), "alpha": alpha, "alpha_ci_low": lo,
                     "alpha_ci_high": hi, "note": "; ".join(note)})
    return pd.DataFrame(rows, columns=TAG_COLUMNS)


__all__ = ["TAG_COLUMNS", "tag_alpha"]
