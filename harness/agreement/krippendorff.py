"""Krippendorff's alpha for nominal, ordinal, interval and ratio data with missing ratings, and its bootstrap CI: the
front end (a table of ratings in, :class:`AlphaResult` out). The statistic on a reliability matrix and its
bootstraps are in :mod:`harness.agreement.krippendorff_core`."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, check_option, validate_type

from ._checks import check_confidence, check_distinct, check_magnitude, normalise_labels
from .bootstrap import _rng, check_resamples
from .krippendorff_core import (LEVELS, _krippendorff_bootstrap, _order_statistic_ci, _pairable, _plain,
                                _units_bootstrap, _weighted_alpha)

#: How the CI is obtained: the option value and what it means (printed in notes and the docs).
CI_METHODS = {
    "krippendorff": "Krippendorff's bootstrap of the coincidences (Hayes & Krippendorff 2007, as KALPHA 3.0 "
                    "implements it)",
    "units": "percentile bootstrap resampling units with replacement (Zapf et al. 2016)",
}


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


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


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
