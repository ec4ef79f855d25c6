"""Krippendorff's alpha for nominal, ordinal, interval and ratio data with missing ratings, and its bootstrap CI."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ground_truth.kernel import InputError, as_float_array, check_option, validate_type

from ._checks import check_confidence, check_distinct, check_magnitude, normalise_labels
from .bootstrap import _rng, check_resamples, cluster_counts, cluster_indices

LEVELS = ("nominal", "ordinal", "interval", "ratio")

#: How the CI is obtained: the option value and what it means (printed in notes and the docs).
CI_METHODS = {
    "krippendorff": "Krippendorff's bootstrap of the coincidences (Hayes & Krippendorff 2007, as KALPHA 3.0 "
                    "implements it)",
    "units": "percentile bootstrap resampling units with replacement (Zapf et al. 2016)",
}

#: Work arrays of the batched computations are kept below about this many float64 elements (32 MB).
_BATCH_ELEMENTS = 4_000_000


@dataclass
class AlphaResult:
    """Krippendorff's alpha with its bootstrap CI, the counts it rests on and a note on what was dropped.

    ``n_units`` and ``n_values`` count the *pairable* units (rated by two or more raters) and their ratings;
    ``n_dropped_units`` the units with fewer than two ratings. ``q_below_min`` is the bootstrap probability
    that alpha is below ``alpha_min``. NaN where undefined (``note`` says why).
    """

    alpha: float
    ci_low: float
    ci_high: float
    level: str
    n_units: int
    n_raters: int
    n_values: int
    n_dropped_units: int
    q_below_min: float
    alpha_min: float
    confidence: float
    ci_method: str
    n_resamples: int
    d_observed: float
    d_expected: float
    categories: list = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["categories"] = [_plain(c) for c in self.categories]
        return d

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: every scalar field (the category list stays in :meth:`to_dict`)."""
        d = self.to_dict()
        d.pop("categories")
        return pd.DataFrame([d])


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


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


# --------------------------------------------------------------------------------------------- the front end
def _missing_cell(value) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):   # list-like cells are labels of their own, not missing
        return False


def _unit_name(frame: pd.DataFrame, position: int) -> str:
    """How an error names a unit: by its index label unless the index is the default one, and by its row (counted
    from 1, or from ``frame.attrs['file_row_offset']`` as a line of the file the table was read from)."""
    offset = frame.attrs.get("file_row_offset")
    row = f"row {position + offset} of the file" if offset is not None else f"row {position + 1}"
    index = frame.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return row if default else f"unit {_plain(index[position])!r} ({row})"


def _typed_matrix(frame: pd.DataFrame, raters: list, level: str, categories) -> tuple[np.ndarray, list, str]:
    """The (raters x units) float matrix of the ``raters`` columns of ``frame`` for ``level``, the categories
    (nominal/ordinal) and a note on how labels were matched."""
    columns = {str(c): [None if _missing_cell(v) else v for v in frame[c]] for c in raters}
    if categories is not None and level in ("interval", "ratio"):
        raise InputError(f"categories given at the {level} level", field="categories",
                         expected="no categories: they order the labels of nominal or ordinal data, and "
                                  f"{level} data are numbers")
    if categories is not None and (isinstance(categories, (str, bytes)) or not hasattr(categories, "__iter__")):
        raise InputError(f"categories is {categories!r}", field="categories", expected="a list of labels in order")
    typed, cats, note = normalise_labels(columns, None if categories is None else list(categories),
                                         labels_field="categories")
    observed_text = [(name, i, v) for name, vals in typed.items() for i, v in enumerate(vals) if isinstance(v, str)]
    if level in ("interval", "ratio") and observed_text:
        name, i, v = observed_text[0]
        raise InputError(f"{v!r} in {_unit_name(frame, i)} is not a number", field=name,
                         expected=f"numbers at the {level} level (an empty cell for a missing rating)")
    if level == "ordinal" and categories is None and observed_text:
        name, i, v = observed_text[0]
        raise InputError(f"text label {v!r} in {_unit_name(frame, i)} has no order", field=name,
                         expected="numbers, or categories giving the order of the text labels (--categories "
                                  "L1,L2,... on the command line)")
    if level in ("interval", "ratio"):
        matrix = np.array([[np.nan if v is None else float(v) for v in typed[str(c)]] for c in raters], dtype=float)
        if level == "ratio" and (matrix < 0).any():
            r, u = (int(i[0]) for i in np.nonzero(matrix < 0))
            raise InputError(f"negative value {_plain(typed[str(raters[r])][u])!r} in {_unit_name(frame, u)}",
                             field=str(raters[r]), expected="values >= 0 at the ratio level (an absolute zero)")
        for r, c in enumerate(raters):
            check_magnitude(matrix[r], str(c), n=max(int(np.isfinite(matrix).sum()), 1) ** 2)
        return matrix, [], note
    index = {c: i for i, c in enumerate(cats)}
    for name, vals in typed.items():
        for i, v in enumerate(vals):
            if v is not None and v not in index:
                raise InputError(f"label {v!r} in {_unit_name(frame, i)} is not among the categories",
                                 field=name, expected=f"labels among {cats}")
    matrix = np.array([[np.nan if v is None else float(index[v]) for v in typed[str(c)]] for c in raters],
                      dtype=float)
    return matrix, cats, note


def krippendorff_alpha(data: pd.DataFrame, raters=None, *, level: str = "nominal", categories=None,
                       confidence: float = 0.95, n_resamples: int = 2000, seed=None, alpha_min: float = 0.667,
                       ci_method: str = "krippendorff") -> AlphaResult:
    """Krippendorff's alpha of the rater columns of a wide table, with a bootstrap CI.

    Parameters
    ----------
    data : DataFrame
        One row per unit (item, clip, image), one column per rater. A missing rating is NaN, None or an empty
        (or blank) string.
    raters : list of column names, optional
        The rater columns (default: every column). A column named twice is refused.
    level : {'nominal', 'ordinal', 'interval', 'ratio'}
        Level of measurement. Labels are matched by value as in :func:`harness.agreement.kappa` (1, '1' and
        '1.0' are one category of a numeric column). Text labels are allowed for nominal data, and for ordinal
        data with ``categories`` giving their order; interval and ratio data must be numbers, ratio data >= 0.
    categories : list, optional
        The categories in order (nominal: the allowed labels; ordinal: their order, needed for text labels).
        Every observed label must be among them; a category given twice is refused.
    confidence : float
        Level of the CI.
    n_resamples : int
        Bootstrap resamples (>= 100), or 0 for no CI.
    seed : int or numpy Generator, optional
        Makes the bootstrap reproducible.
    alpha_min : float
        The smallest acceptable alpha: ``q_below_min`` is the bootstrap probability of an alpha below it
        (Krippendorff's 0.667 by default).
    ci_method : {'krippendorff', 'units'}
        Krippendorff's bootstrap of the coincidences (default) or a bootstrap of units.

    Returns
    -------
    AlphaResult

    Raises
    ------
    InputError
        Not a DataFrame, an unknown or repeated rater column, fewer than two raters, no unit rated twice, a
        label that does not fit the level, a bad option.

    Notes
    -----
    alpha = 1 - D_o/D_e over the coincidence matrix o_ck of the pairable values (units with two or more
    ratings; the others are dropped and counted): D_o = (1/n) sum_ck o_ck delta²_ck, D_e = 1/(n(n-1))
    sum_ck n_c n_k delta²_ck, with n the number of pairable values and n_c their frequencies. Differences
    delta²_ck: nominal 0 if c = k else 1; ordinal (sum_{g=c..k} n_g - (n_c + n_k)/2)², which uses the marginal
    frequencies of the values, not their spacing; interval (c - k)²; ratio ((c - k)/(c + k))². Krippendorff K
    (2011) Computing Krippendorff's alpha-reliability, Annenberg School for Communication Departmental Papers
    43, whose worked examples this reproduces (tests/test_krippendorff.py). When every pairable value is the
    same, D_e = 0 and alpha is undefined: NaN with a note.

    CI ``ci_method='krippendorff'``: the bootstrap of Hayes AF & Krippendorff K (2007) Answering the call for a
    standard reliability measure for coding data, Commun Methods Meas 1:77-89, as Krippendorff specifies it
    ("Algorithm for bootstrapping a distribution of alpha", 2006, rev. 2011) and Hayes' KALPHA macro 3.0
    implements it (the description in the 2007 paper alone does not fix the number of draws): each resample
    draws M = min(25·Q, (m - 1)·n/2) pairs of values from the observed coincidences (Q non-empty cells, m
    raters) and takes alpha = 1 - (mean difference of the draws)/D_e; alphas below -1 are set to -1 and
    resamples without variation to 0, and the CI is KALPHA's pair of order statistics of the sorted alphas.
    It keeps D_e fixed and treats pairs as independent, so it can be narrower than a units bootstrap when
    units hold many raters (Gwet 2015, "Standard error of Krippendorff's alpha coefficient"). With
    ``ci_method='units'``: a percentile bootstrap over units (Efron & Tibshirani 1993, ch. 13), the approach
    Zapf A et al. (2016) BMC Med Res Methodol 16:93 recommend with alpha; resamples without variation are
    dropped (counted in the note; more than 10 % leave the CI undefined). Reading of alpha:
    :func:`harness.agreement.interpret.krippendorff_reading` (Krippendorff 2004).
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a DataFrame, got {type(data).__name__}", field="data",
                         expected="a table with one row per unit and one column per rater")
    check_option("level", level, LEVELS)
    check_option("ci_method", ci_method, tuple(CI_METHODS))
    confidence = check_confidence(confidence)
    validate_type(alpha_min, "numeric", "alpha_min")
    if not (math.isfinite(alpha_min) and -1 <= alpha_min <= 1):
        raise InputError(f"alpha_min is {alpha_min}", field="alpha_min", expected="a number in [-1, 1]")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)):
        raise InputError(f"n_resamples is {n_resamples!r}", field="n_resamples",
                         expected="an integer >= 100, or 0 for no CI")
    n_resamples = 0 if n_resamples == 0 else check_resamples(n_resamples)
    if not (seed is None or isinstance(seed, np.random.Generator)
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise InputError(f"seed is {seed!r}", field="seed", expected="None, an integer >= 0 or a numpy Generator")
    if raters is None:
        raters = check_distinct(data.columns, "data", what="rater column")
    else:
        if isinstance(raters, (str, bytes)) or not hasattr(raters, "__iter__"):
            raise InputError(f"raters is {raters!r}", field="raters", expected="a list of rater column names")
        raters = check_distinct(raters, "raters", what="rater column")
        check_distinct(data.columns, "data", what="column")
        for col in raters:
            if col not in data.columns:
                raise InputError(f"no column named {col!r}", field=str(col), expected=f"one of {list(data.columns)}")
    check_distinct([str(c) for c in raters], "raters", what="rater column")
    if len(raters) < 2:
        raise InputError(f"{len(raters)} rater column(s) given", field="raters", expected="at least 2 raters")
    if len(data) == 0:
        raise InputError("the table has no rows", field="data", expected="one row per unit")
    matrix, cats, type_note = _typed_matrix(data, list(raters), level, categories)
    p = _pairable(matrix, level)
    if p.n_units == 0:
        raise InputError(f"none of the {matrix.shape[1]} unit(s) has ratings from two or more raters",
                         field="raters", expected="at least one unit rated by two or more raters")
    alpha_arr, d_o, d_e = _weighted_alpha(p, None)
    alpha, d_observed, d_expected = float(alpha_arr[0]), float(d_o[0]), float(d_e[0])
    nan = float("nan")
    dropped = (f"{p.n_dropped} unit(s) with fewer than 2 ratings dropped (not pairable)" if p.n_dropped else "")
    note = _join(type_note, dropped)
    method = ci_method if n_resamples else "none"
    lo = hi = q = nan
    if math.isnan(alpha):
        value = p.values[0] if p.values.size else nan
        label = cats[int(value)] if cats else _plain(value)
        note = _join(note, f"all {p.n_values} pairable ratings are {label!r}: with no variation the expected "
                           "disagreement is 0 and alpha = 1 - 0/0 is undefined")
        method = "none"
    elif n_resamples:
        rng = _rng(seed)
        if ci_method == "krippendorff":
            boot, draws = _krippendorff_bootstrap(p, d_expected, len(raters), n_resamples, rng)
            lo, hi = _order_statistic_ci(boot, confidence)
            q = float(np.mean(boot < alpha_min))
            note = _join(note, f"CI: {CI_METHODS[ci_method]}, {n_resamples} resamples of M = {draws} pairable "
                               "values")
        elif p.n_units < 3:
            note = _join(note, f"CI undefined: a bootstrap of units needs at least 3 pairable units, "
                               f"there are {p.n_units}")
        else:
            boot = _units_bootstrap(p, n_resamples, rng)
            ok = np.isfinite(boot)
            n_failed = int((~ok).sum())
            note = _join(note, f"CI: {CI_METHODS[ci_method]}, {n_resamples} resamples")
            if n_failed > 0.1 * n_resamples:
                note = _join(note, f"CI undefined: {n_failed} of {n_resamples} resamples of units had no variation")
            else:
                tail = (1 - confidence) / 2
                lo, hi = (float(x) for x in np.quantile(boot[ok], [tail, 1 - tail]))
                q = float(np.mean(boot[ok] < alpha_min))
                if n_failed:
                    note = _join(note, f"{n_failed} resample(s) without variation left out of the CI")
    return AlphaResult(alpha=alpha, ci_low=lo, ci_high=hi, level=level, n_units=p.n_units, n_raters=len(raters),
                       n_values=p.n_values, n_dropped_units=p.n_dropped, q_below_min=q, alpha_min=float(alpha_min),
                       confidence=confidence, ci_method=method, n_resamples=n_resamples if method != "none" else 0,
                       d_observed=d_observed, d_expected=d_expected, categories=list(cats), note=note)
