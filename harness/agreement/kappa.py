"""Cohen's kappa (unweighted, linear, quadratic) and Fleiss' kappa for categorical labels."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError, check_option

from ._checks import check_confidence, check_distinct, normalise_labels

WEIGHTS = (None, "none", "linear", "quadratic")


@dataclass
class KappaResult:
    """Kappa with its CI (non-null SE), z test against kappa = 0 (null SE) and the confusion matrix."""

    method: str
    kappa: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    n: int
    n_raters: int
    labels: list
    weights: str
    p_observed: float
    p_expected: float
    confusion: pd.DataFrame | None = None
    confidence: float = 0.95
    n_dropped: int = 0
    note: str = ""
    per_category: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["confusion"] = None if self.confusion is None else self.confusion.to_numpy().tolist()
        d["labels"] = [_plain(v) for v in self.labels]
        d["per_category"] = {str(k): v for k, v in self.per_category.items()}
        return d


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _complete_rows(ratings: pd.DataFrame):
    missing = ratings.isna().any(axis=1)
    return ratings.loc[~missing], int(missing.sum())


def cohen_kappa(rater1, rater2, *, weights: str | None = None, labels=None,
                confidence: float = 0.95, names: tuple[str, str] = ("rater1", "rater2")) -> KappaResult:
    """Cohen's kappa between two raters, unweighted or with linear/quadratic disagreement weights.

    Parameters
    ----------
    rater1, rater2 : array-like
        Labels per subject; categories are matched by value (not by position or spelling: 1, '1' and '1.0'
        are one category, see :func:`harness.agreement._checks.normalise_labels`), pairs with a missing label
        are dropped (counted in ``n_dropped``).
    weights : {None, 'none', 'linear', 'quadratic'}
        Agreement weights 1 − |i − j|/(q − 1) (linear) or 1 − (i − j)²/(q − 1)² (quadratic) over the ordered
        ``labels``; weights need an order, so give ``labels`` for non-numeric ordinal categories.
    labels : list, optional
        All categories in order (default: sorted union of observed labels); a category given twice is refused.
    names : (str, str)
        What to call the two raters in notes and errors (e.g. their column names).

    Returns
    -------
    KappaResult
        ``confusion`` rows are rater1's labels and columns rater2's.

    Notes
    -----
    kappa = (p_o − p_e)/(1 − p_e): 0 is chance agreement, 1 perfect. ``z``/``p`` test kappa = 0 with the
    null variance and the CI uses the non-null large-sample variance, both from Fleiss, Cohen & Everitt
    (1969) Psychol Bull 72:323-327. Cohen J (1960) Educ Psychol Meas 20:37-46; Cohen J (1968) Psychol Bull
    70:213-220. Landis & Koch (1977) words: :func:`harness.agreement.interpret.landis_koch`.
    """
    check_option("weights", weights, WEIGHTS)
    weights = "none" if weights is None else weights
    confidence = check_confidence(confidence)
    check_distinct(names, "names", what="rater name")
    a, b = list(np.asarray(rater1, dtype=object).ravel()), list(np.asarray(rater2, dtype=object).ravel())
    if len(a) != len(b):
        raise InputError(f"{names[0]} has {len(a)} labels but {names[1]} has {len(b)}", field=names[1],
                         expected="one label per subject from each rater")
    typed, cats, type_note = normalise_labels({names[0]: a, names[1]: b}, labels)
    frame, n_dropped = _complete_rows(pd.DataFrame({"a": pd.Series(typed[names[0]], dtype=object),
                                                    "b": pd.Series(typed[names[1]], dtype=object)}))
    n = len(frame)
    if n < 2:
        raise InputError(f"only {n} subject(s) rated by both raters", field=names[0], expected="at least 2")
    unknown = set(frame.a) | set(frame.b)
    unknown -= set(cats)
    if unknown:
        raise InputError(f"labels {sorted(map(str, unknown))} are not in the given labels", field="labels",
                         expected=f"all observed labels among {cats}")
    q = len(cats)
    index = {c: i for i, c in enumerate(cats)}
    ia = frame.a.map(index).to_numpy(int)
    ib = frame.b.map(index).to_numpy(int)
    table = np.zeros((q, q))
    np.add.at(table, (ia, ib), 1)
    p = table / n
    pr, pc = p.sum(axis=1), p.sum(axis=0)
    i, j = np.indices((q, q))
    if weights == "none" or q < 2:
        w = (i == j).astype(float)
    elif weights == "linear":
        w = 1 - np.abs(i - j) / (q - 1)
    else:
        w = 1 - (i - j) ** 2 / (q - 1) ** 2
    po = float(np.sum(w * p))
    pe = float(np.sum(w * np.outer(pr, pc)))
    if np.isclose(pe, 1.0):
        raise InputError(f"both raters used a single category ({cats[int(np.argmax(pr))]!r}) for every subject: "
                         "chance agreement is 1 and kappa is undefined", field=names[0],
                         expected="ratings that use at least two categories")
    constant = [name for name, marg in ((names[0], pr), (names[1], pc)) if np.isclose(marg.max(), 1.0)]
    confusion = pd.DataFrame(table.astype(int), index=pd.Index(cats, name="rater1"),
                             columns=pd.Index(cats, name="rater2"))
    base_note = _join(type_note, f"{n_dropped} subject(s) with a missing label dropped" if n_dropped else "")
    if weights != "none" and labels is None and any(isinstance(c, str) for c in cats):
        base_note = _join(base_note, f"{weights} weights follow the sorted order of the categories {cats} "
                                     "(give labels to set their order)")
    if constant:
        # One rater never varies: observed agreement equals chance agreement whatever the other does, so kappa
        # is 0 by construction and its large-sample SE degenerates to 0 (z, p and CI would be meaningless).
        nan = float("nan")
        which = constant[0]
        cat = cats[int(np.argmax(pr if which == names[0] else pc))]
        note = "; ".join(x for x in (base_note, f"{which} used a single category ({cat!r}) for every subject: "
                                     "kappa is 0 by construction (no agreement beyond chance is possible); "
                                     "SE, z, p and CI are undefined") if x)
        return KappaResult(method="cohen", kappa=0.0, se=nan, ci_low=nan, ci_high=nan, z=nan, p=nan, n=n,
                           n_raters=2, labels=cats, weights=weights, p_observed=po, p_expected=pe,
                           confusion=confusion, confidence=confidence, n_dropped=n_dropped, note=note)
    kappa = (po - pe) / (1 - pe)
    wr = w @ pc          # w̄_i.
    wc = pr @ w          # w̄_.j
    var0 = (np.sum(np.outer(pr, pc) * (w - (wr[:, None] + wc[None, :])) ** 2) - pe ** 2) / (n * (1 - pe) ** 2)
    var1 = (np.sum(p * (w - (wr[:, None] + wc[None, :]) * (1 - kappa)) ** 2)
            - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    se0, se1 = np.sqrt(max(var0, 0.0)), np.sqrt(max(var1, 0.0))
    if se0 > 1e-12:
        z = kappa / se0
    else:
        z = float("nan")
        base_note = "; ".join(x for x in (base_note, "the SE under the null is 0 (a degenerate table): z and p "
                                          "are undefined") if x)
    zq = stats.norm.ppf(0.5 + confidence / 2)
    lo, hi, note = _wald_ci(kappa, se1, zq, base_note)
    return KappaResult(method="cohen", kappa=float(kappa), se=float(se1), ci_low=lo, ci_high=hi, z=float(z),
                       p=float(2 * stats.norm.sf(abs(z))), n=n, n_raters=2, labels=cats, weights=weights,
                       p_observed=po, p_expected=pe, confusion=confusion, confidence=confidence,
                       n_dropped=n_dropped, note=note)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _wald_ci(kappa: float, se: float, zq: float, note: str) -> tuple[float, float, str]:
    """kappa ± z·SE, truncated to kappa's range [-1, 1]; the large-sample interval can cross 1 on small or
    nearly perfect tables, and a bound above 1 is not a possible kappa. Truncation is stated in the note."""
    lo, hi = kappa - zq * se, kappa + zq * se
    if lo < -1 or hi > 1:
        lo, hi = max(lo, -1.0), min(hi, 1.0)
        note = "; ".join(x for x in (note, "Wald CI truncated to kappa's range [-1, 1]") if x)
    return float(lo), float(hi), note


def fleiss_kappa(ratings, *, labels=None, confidence: float = 0.95) -> KappaResult:
    """Fleiss' kappa for m ≥ 2 raters per subject on nominal categories.

    Parameters
    ----------
    ratings : DataFrame or 2-D array (n_subjects, m_raters)
        Labels; subjects with any missing label are dropped (counted), as in irr::kappam.fleiss. Labels are
        typed as in :func:`cohen_kappa`; a rater column given twice is refused.

    Notes
    -----
    kappa = (P̄ − P̄_e)/(1 − P̄_e) with P̄ the mean pairwise agreement per subject and P̄_e = Σ p_j² (Fleiss
    1971, Psychol Bull 76:378-382). The raters need not be the same people across subjects. ``z``/``p`` test
    kappa = 0 with the null SE of Fleiss, Nee & Landis (1979) Psychol Bull 86:974-977; the CI uses the same
    SE (a large-sample approximation). ``per_category`` holds the category-wise kappas. Reproduces Fleiss'
    diagnoses example: kappa 0.430.
    """
    confidence = check_confidence(confidence)
    frame = pd.DataFrame(ratings)
    check_distinct(frame.columns, "ratings", what="rater column")
    typed, cats, type_note = normalise_labels({str(c): list(frame[c]) for c in frame.columns}, labels)
    frame = pd.DataFrame({c: pd.Series(typed[str(c)], dtype=object) for c in frame.columns})
    frame, n_dropped = _complete_rows(frame)
    n, m = frame.shape
    if m < 2:
        raise InputError(f"only {m} rater column(s)", field="ratings", expected="at least 2 raters")
    if n < 2:
        raise InputError(f"only {n} subject(s) with complete ratings", field="ratings", expected="at least 2")
    index = {c: i for i, c in enumerate(cats)}
    codes = frame.apply(lambda col: col.map(index)).to_numpy()
    if pd.isna(codes).any():
        raise InputError("some labels are not in the given labels", field="labels", expected=f"labels among {cats}")
    codes = codes.astype(int)
    q = len(cats)
    counts = np.zeros((n, q))
    np.add.at(counts, (np.repeat(np.arange(n), m), codes.ravel()), 1)
    pj = counts.sum(axis=0) / (n * m)
    pe = float(np.sum(pj ** 2))
    if np.isclose(pe, 1.0):
        raise InputError(f"every rating is {cats[int(np.argmax(pj))]!r}: chance agreement is 1 and kappa is "
                         "undefined", field="ratings", expected="ratings that use at least two categories")
    pi = (np.sum(counts ** 2, axis=1) - m) / (m * (m - 1))
    pbar = float(pi.mean())
    kappa = (pbar - pe) / (1 - pe)
    qj = 1 - pj
    s = np.sum(pj * qj)
    se0 = np.sqrt(2.0 / (n * m * (m - 1))) * np.sqrt(s ** 2 - np.sum(pj * qj * (qj - pj))) / s
    z = kappa / se0
    zq = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        kj = 1 - np.sum(counts * (m - counts), axis=0) / (n * m * (m - 1) * pj * qj)
    lo, hi, note = _wald_ci(kappa, se0, zq,
                            _join(type_note, f"{n_dropped} subject(s) with a missing label dropped" if n_dropped
                                  else ""))
    return KappaResult(method="fleiss", kappa=float(kappa), se=float(se0), ci_low=lo, ci_high=hi, z=float(z),
                       p=float(2 * stats.norm.sf(abs(z))), n=n, n_raters=m, labels=cats, weights="none",
                       p_observed=pbar, p_expected=pe, confusion=None, confidence=confidence,
                       n_dropped=n_dropped, note=note,
                       per_category={c: float(v) for c, v in zip(cats, kj)})


def kappa(data: pd.DataFrame, raters: list[str], *, weights: str | None = None, labels=None,
          confidence: float = 0.95) -> KappaResult:
    """Kappa of the ``raters`` columns of ``data``: Cohen's for two raters, Fleiss' for more.

    Weights apply to Cohen's kappa only (Fleiss' kappa is for nominal categories). A column named twice in
    ``raters`` is refused (a rater always agrees with itself).
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a DataFrame, got {type(data).__name__}", field="data")
    raters = check_distinct(raters, "raters", what="rater column")
    for col in raters:
        if col not in data.columns:
            raise InputError(f"no column named {col!r}", field=col, expected=f"one of {list(data.columns)}")
    if len(raters) < 2:
        raise InputError(f"{len(raters)} rater column(s) given", field="raters", expected="at least 2")
    if len(raters) == 2:
        return cohen_kappa(data[raters[0]], data[raters[1]], weights=weights, labels=labels,
                           confidence=confidence, names=(str(raters[0]), str(raters[1])))
    if weights not in (None, "none"):
        raise InputError(f"weights={weights!r} with {len(raters)} raters", field="weights",
                         expected="'none': Fleiss' kappa (more than two raters) is for nominal categories")
    return fleiss_kappa(data[raters], labels=labels, confidence=confidence)
