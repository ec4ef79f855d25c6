"""Krippendorff's alpha on a reliability matrix (raters × units, NaN = missing): the pairable values, the
coincidences and the difference functions of the four levels, and the two bootstraps of its CI.

:mod:`harness.agreement.krippendorff` is the front end (a table of ratings in, :class:`AlphaResult` out);
this module holds the statistic itself, which :func:`alpha_from_reliability_matrix` exposes for callers that
already have numeric codes (the inter-rater reliability of annotation tags).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ground_truth.kernel import InputError, as_float_array, check_option

from ._checks import check_magnitude
from .bootstrap import BATCH_ELEMENTS as _BATCH_ELEMENTS
from .bootstrap import cluster_counts, cluster_indices

LEVELS = ("nominal", "ordinal", "interval", "ratio")



def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


# ------------------------------------------------------------------------------------------- the statistic
@dataclass
class _Pairable:
    """The pairable part of a reliability matrix, in the sparse form every computation here works on.

    ``values`` are the distinct pairable values (sorted), ``counts`` (units x values) how often each unit got
    each value, ``unit_cells`` (units x cells) each unit's contribution to the cells ``(cell_c, cell_k)`` of
    the coincidence matrix (both orders of every pair), ``m`` the number of ratings of each unit.
    """

    level: str
    values: np.ndarray
    counts: sparse.csr_matrix
    unit_cells: sparse.csr_matrix
    cell_c: np.ndarray
    cell_k: np.ndarray
    m: np.ndarray
    n_dropped: int

    @property
    def n_units(self) -> int:
        return int(self.m.size)

    @property
    def n_values(self) -> int:
        return int(self.m.sum())


def _pairable(matrix: np.ndarray, level: str) -> _Pairable:
    """Index the pairable values of a (raters x units) float matrix (NaN = missing, already checked)."""
    present = ~np.isnan(matrix)
    m_all = present.sum(axis=0)
    keep = m_all >= 2
    sub, pres = matrix[:, keep], present[:, keep]
    m = m_all[keep].astype(float)
    n_units = int(keep.sum())
    values = np.unique(sub[pres])
    rater_idx, unit_idx = np.nonzero(pres)
    codes = np.searchsorted(values, sub[rater_idx, unit_idx])
    counts = sparse.csr_matrix((np.ones(codes.size), (unit_idx, codes)), shape=(n_units, values.size))
    counts.sum_duplicates()
    counts.sort_indices()
    # o_ck = sum over units of (number of ordered pairs of ratings (c, k) from different raters) / (m_u - 1):
    # per unit, n_uc * n_uk pairs for c != k and n_uc * (n_uc - 1) for c == k (Krippendorff 2011, eq. for o_ck)
    indptr, idx, cnt = counts.indptr, counts.indices.astype(np.int64), counts.data
    per_unit = np.diff(indptr)
    unit_of = np.repeat(np.arange(n_units), per_unit)
    reps = per_unit[unit_of]
    e = np.repeat(np.arange(idx.size), reps)
    starts = np.cumsum(reps) - reps
    f = indptr[unit_of[e]] + (np.arange(e.size) - np.repeat(starts, reps))
    weight = (cnt[e] * cnt[f] - np.where(e == f, cnt[e], 0.0)) / (m[unit_of[e]] - 1.0)
    nonzero = weight > 0
    cell = idx[e] * values.size + idx[f]
    cells, inverse = np.unique(cell[nonzero], return_inverse=True)
    unit_cells = sparse.csr_matrix((weight[nonzero], (unit_of[e][nonzero], inverse)), shape=(n_units, cells.size))
    unit_cells.sum_duplicates()
    return _Pairable(level=level, values=values, counts=counts, unit_cells=unit_cells,
                     cell_c=cells // values.size, cell_k=cells % values.size, m=m,
                     n_dropped=int((~keep).sum()))


def _ratio_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """((a - b)/(a + b))², 0 where both are 0 (the same value: no difference)."""
    s = a + b
    return np.square(np.divide(a - b, s, out=np.zeros(np.broadcast(a, b).shape), where=s > 0))


def _fixed_delta(p: _Pairable) -> np.ndarray:
    """The difference of each coincidence cell for the levels whose differences do not depend on the data."""
    vc, vk = p.values[p.cell_c], p.values[p.cell_k]
    if p.level == "nominal":
        return (p.cell_c != p.cell_k).astype(float)
    if p.level == "interval":
        return np.square(vc - vk)
    return _ratio_delta(vc, vk)


def _ratio_expected(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """sum_c sum_k n_c n_k delta_ck for the ratio metric, one per row of ``counts``; delta is built in blocks of
    columns so that many distinct values do not need a (values x values) matrix at once."""
    v = values.size
    block = max(1, _BATCH_ELEMENTS // max(v, 1))
    out = np.zeros(counts.shape[0])
    for s in range(0, v, block):
        delta = _ratio_delta(values[:, None], values[None, s:s + block])
        out += np.einsum("bk,bk->b", counts @ delta, counts[:, s:s + block])
    return out


def _weighted_alpha(p: _Pairable, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha of the pairable units weighted by the rows of ``weights`` (resamples x units; None: each unit once).

    Returns (alpha, D_o, D_e), one per row; NaN where fewer than two distinct values are left (D_e = 0).
    alpha = 1 - D_o/D_e with D_o = sum o_ck delta_ck / n and D_e = sum n_c n_k delta_ck / (n (n - 1)).
    """
    w = np.ones((1, p.n_units)) if weights is None else weights
    counts = np.asarray((p.counts.T @ w.T).T)                       # n_c per resample
    n = counts.sum(axis=1)
    if p.level == "ordinal":
        # the ordinal difference of c and k is the squared distance of their mid-ranks cum_c - n_c/2 (it depends
        # on the frequencies, so it changes with every resample); centred on n/2, the mean mid-rank
        ranks = np.cumsum(counts, axis=1) - counts / 2 - n[:, None] / 2
        coinc = np.asarray((p.unit_cells.T @ w.T).T)
        observed = np.einsum("bk,bk->b", coinc, np.square(ranks[:, p.cell_c] - ranks[:, p.cell_k]))
        expected = 2 * (n * (counts * ranks ** 2).sum(axis=1) - (counts * ranks).sum(axis=1) ** 2)
    else:
        observed = w @ (p.unit_cells @ _fixed_delta(p))
        if p.level == "nominal":
            expected = n ** 2 - (counts ** 2).sum(axis=1)
        elif p.level == "interval":
            v = p.values - p.values.mean()
            expected = 2 * (n * (counts @ v ** 2) - (counts @ v) ** 2)
        else:
            expected = _ratio_expected(counts, p.values)
    # fewer than two distinct values: no variation, D_e = 0 and alpha = 1 - 0/0 (tested on the counts, not on a
    # D_e that rounding may leave a hair above 0)
    defined = ((counts > 0).sum(axis=1) >= 2) & (expected > 0)
    nan = np.full(n.shape, np.nan)
    d_o = np.divide(observed, n, out=nan.copy(), where=n > 0)
    d_e = np.divide(expected, n * (n - 1), out=nan.copy(), where=defined)
    alpha = 1 - np.divide((n - 1) * observed, expected, out=nan.copy(), where=defined)
    alpha[~defined] = np.nan
    return alpha, d_o, np.where(defined, d_e, 0.0)


def _check_matrix(values, level: str) -> np.ndarray:
    """A (raters x units) float matrix of ratings: NaN missing, no infinities, ratio values non-negative."""
    check_option("level", level, LEVELS)
    matrix = as_float_array(values, "values", ndim=2)
    inf = np.isinf(matrix)
    if inf.any():
        r, u = (int(i[0]) for i in np.nonzero(inf))
        raise InputError(f"{int(inf.sum())} value(s) are infinite (first: rater {r}, unit {u})", field="values",
                         expected="finite values (NaN for a missing rating)")
    if level == "ratio" and (matrix < 0).any():
        r, u = (int(i[0]) for i in np.nonzero(matrix < 0))
        raise InputError(f"negative value {matrix[r, u]} (rater {r}, unit {u}) at the ratio level", field="values",
                         expected="values >= 0 (ratio data have an absolute zero)")
    if level in ("interval", "ratio"):
        finite = matrix[~np.isnan(matrix)]
        check_magnitude(finite, "values", n=max(finite.size, 1) ** 2)
    return matrix


def alpha_from_reliability_matrix(values, level: str = "nominal") -> float:
    """Krippendorff's alpha of a reliability matrix, computed from its coincidence matrix.

    Parameters
    ----------
    values : array-like (n_raters, n_units)
        One row per rater (coder, annotator), one column per unit, floats; NaN is a missing rating. Categories
        of nominal (or ordinal) data are given as numeric codes (in their order for ordinal data).
    level : {'nominal', 'ordinal', 'interval', 'ratio'}
        Level of measurement, which sets the difference function.

    Returns
    -------
    float
        Alpha, or NaN when it is undefined: no unit has two ratings, or every pairable rating is the same value.

    Raises
    ------
    InputError
        Not a 2-D array of numbers, an infinite value, a negative value at the ratio level.

    Notes
    -----
    Units with fewer than two ratings are not pairable and are left out. See :func:`krippendorff_alpha` for the
    method, its sources and a result with the counts, a CI and notes.
    """
    matrix = _check_matrix(values, level)
    p = _pairable(matrix, level)
    if p.n_units == 0:
        return float("nan")
    return float(_weighted_alpha(p, None)[0][0])


def coincidence_matrix(values) -> pd.DataFrame:
    """The coincidence matrix o_ck of a (raters x units) reliability matrix (NaN = missing).

    Rows and columns are the distinct pairable values; o_ck = sum over units of the number of ordered pairs
    (c, k) of ratings by different raters, divided by the unit's number of ratings minus one (Krippendorff
    2011). It is symmetric and its row sums are the frequencies n_c of the pairable values.
    """
    p = _pairable(_check_matrix(values, "nominal"), "nominal")
    o = np.zeros((p.values.size, p.values.size))
    np.add.at(o, (p.cell_c, p.cell_k), np.asarray(p.unit_cells.sum(axis=0)).ravel())
    index = pd.Index([_plain(v) for v in p.values], name="value")
    return pd.DataFrame(o, index=index, columns=index.rename("value_k"))


# ------------------------------------------------------------------------------------------ the bootstraps
def _order_statistic_ci(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """The CI bounds KALPHA reads off the sorted bootstrap alphas: the trunc(t·X)-th and (trunc((1 - t)·X) + 1)-th
    of X (1-based), t = (1 - confidence)/2."""
    b = np.sort(boot)
    x = b.size
    tail = (1 - confidence) / 2
    lo = max(int(math.floor(round(tail * x, 9))), 1)
    hi = min(int(math.floor(round((1 - tail) * x, 9))) + 1, x)
    return float(b[lo - 1]), float(b[hi - 1])


def _alias_table(prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of a discrete distribution (Vose's construction): draw i uniformly, keep it with
    probability ``accept[i]``, else take ``alias[i]``; O(1) per draw however many outcomes there are."""
    g = prob.size
    scaled = prob * g
    accept = np.ones(g)
    alias = np.arange(g)
    small = [int(i) for i in np.flatnonzero(scaled < 1)]
    large = [int(i) for i in np.flatnonzero(scaled >= 1)]
    while small and large:
        s, big = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], big
        scaled[big] += scaled[s] - 1
        (small if scaled[big] < 1 else large).append(big)
    return accept, alias


def _krippendorff_bootstrap(p: _Pairable, d_expected: float, n_raters: int, n_resamples: int,
                            rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Bootstrap distribution of alpha by Krippendorff's algorithm; returns (alphas, M draws per resample).

    Each resample draws M pairs of values with replacement from the observed coincidences (cell c <= k with
    probability 2·o_ck/n, c = k with o_cc/n), M = min(25·Q, (m - 1)·n/2) with Q the number of non-empty
    cells and m the number of raters, and gives alpha = 1 - (sum of the M differences)/(M·D_e) with the
    sample's D_e. Alphas below -1 are set to -1; a resample in which every draw fell in one diagonal cell has
    no variation and is set to 0, which for several non-empty diagonal cells is done for the expected number
    X·sum_c (o_cc/n)^M of the resamples with alpha = 1.
    """
    o = np.asarray(p.unit_cells.sum(axis=0)).ravel()
    n = float(p.m.sum())
    if p.level == "ordinal":
        counts = np.asarray(p.counts.sum(axis=0)).ravel()
        ranks = np.cumsum(counts) - counts / 2
        delta = np.square(ranks[p.cell_c] - ranks[p.cell_k])
    else:
        delta = _fixed_delta(p)
    upper = p.cell_c <= p.cell_k
    diagonal = p.cell_c[upper] == p.cell_k[upper]
    prob = np.where(diagonal, o[upper], 2 * o[upper]) / n
    # only the difference of a drawn pair matters: cells with equal differences are pooled, and the sum of the
    # M differences is drawn as multinomial counts of the distinct differences when there are few of them
    # (nominal: two), else as M draws of the pooled cells (the same distribution, sampled directly)
    differences, pool = np.unique(delta[upper], return_inverse=True)
    pooled = np.bincount(pool, weights=prob, minlength=differences.size)
    pooled /= pooled.sum()
    q = int(np.count_nonzero(o))
    draws = max(1, min(25 * q, int(math.floor((n_raters - 1) * n / 2))))
    boot = np.empty(n_resamples)
    few = differences.size <= 256
    step = max(1, _BATCH_ELEMENTS // (differences.size if few else draws))
    if not few:
        accept, alias = _alias_table(pooled)
    for s in range(0, n_resamples, step):
        size = min(step, n_resamples - s)
        if few:
            total = rng.multinomial(draws, pooled, size=size) @ differences
        else:
            cell = rng.integers(0, differences.size, size=(size, draws))
            cell = np.where(rng.random((size, draws)) < accept[cell], cell, alias[cell])
            total = differences[cell].sum(axis=1)
        boot[s:s + size] = 1 - total / (draws * d_expected)
    np.maximum(boot, -1.0, out=boot)
    ones = np.flatnonzero(boot == 1.0)
    diag_o = o[upper][diagonal]
    if np.count_nonzero(diag_o) == 1:
        boot[ones] = 0.0
    elif ones.size:
        expected_ones = int(round(n_resamples * float(np.sum((diag_o / n) ** draws))))
        boot[ones[:min(expected_ones, ones.size)]] = 0.0
    return boot, draws


def _units_bootstrap(p: _Pairable, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Alpha of ``n_resamples`` resamples of the pairable units drawn with replacement (NaN: no variation)."""
    boot = np.empty(n_resamples)
    step = max(1, _BATCH_ELEMENTS // max(p.n_units, p.values.size, p.unit_cells.shape[1]))
    for s in range(0, n_resamples, step):
        size = min(step, n_resamples - s)
        weights = cluster_counts(cluster_indices(p.n_units, size, rng), p.n_units)
        boot[s:s + size] = _weighted_alpha(p, weights)[0]
    return boot
