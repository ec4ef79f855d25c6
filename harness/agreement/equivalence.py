"""Equivalence (TOST) and non-inferiority tests used by the release gates."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError, check_option

from ._checks import check_confidence, paired_arrays
from .bootstrap import check_resamples, cluster_counts, cluster_indices


@dataclass
class TOSTResult:
    """Two one-sided tests of the paired mean difference (candidate − reference) against [low, high]."""

    bias: float
    ci_low: float
    ci_high: float
    low: float
    high: float
    t_lower: float
    t_upper: float
    p_lower: float
    p_upper: float
    p: float
    equivalent: bool
    n: int
    df: int
    alpha: float

    def to_dict(self) -> dict:
        return asdict(self)


def tost_paired(reference, candidate, *, low: float, high: float, alpha: float = 0.05) -> TOSTResult:
    """Equivalence of paired measurements by two one-sided t tests (Schuirmann 1987).

    H0: bias ≤ low or bias ≥ high; equivalence is declared when both one-sided p-values are below ``alpha``,
    i.e. when the (1 − 2α) CI of the bias (reported here) lies inside [low, high].

    Notes
    -----
    Bias is the mean of candidate − reference. Equivalence of the *mean* says nothing about single-subject
    agreement: combine it with the limits of agreement. Schuirmann DJ (1987) J Pharmacokinet Biopharm
    15:657-680; Lakens D (2017) Soc Psychol Personal Sci 8:355-362.
    """
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InputError(f"equivalence bounds are ({low}, {high})", field="low/high",
                         expected="finite bounds with low < high")
    if not 0 < alpha < 0.5:
        raise InputError(f"alpha is {alpha}", field="alpha", expected="a number in (0, 0.5)")
    ref, cand = paired_arrays(reference, candidate, min_n=3)
    d = cand - ref
    n = d.size
    sd = d.std(ddof=1)
    if sd == 0:
        raise InputError("all differences are identical: the t tests are undefined", field="candidate",
                         expected="differences with some spread")
    se = sd / np.sqrt(n)
    m = d.mean()
    t_lo, t_hi = (m - low) / se, (m - high) / se
    p_lo, p_hi = stats.t.sf(t_lo, n - 1), stats.t.cdf(t_hi, n - 1)
    tq = stats.t.ppf(1 - alpha, n - 1)
    p = max(p_lo, p_hi)
    return TOSTResult(bias=float(m), ci_low=float(m - tq * se), ci_high=float(m + tq * se), low=float(low),
                      high=float(high), t_lower=float(t_lo), t_upper=float(t_hi), p_lower=float(p_lo),
                      p_upper=float(p_hi), p=float(p), equivalent=bool(p < alpha), n=int(n), df=int(n - 1),
                      alpha=float(alpha))


@dataclass
class ComparisonResult:
    """Paired, subject-clustered comparison of two candidates' errors against the same reference."""

    metric: str
    candidate_value: float
    baseline_value: float
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    margin: float
    non_inferior: bool
    p_non_inferior: float
    n: int
    n_subjects: int
    n_resamples: int
    confidence: float
    method: str = "paired subject-clustered bootstrap"
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def compare_errors(reference, candidate, baseline, *, subjects=None, margin: float = 0.0,
                   metric: str = "mae", confidence: float = 0.95, n_resamples: int = 2000,
                   seed=0) -> ComparisonResult:
    """Non-inferiority of a candidate's error against a baseline's, by a paired subject-clustered bootstrap.

    Parameters
    ----------
    reference, candidate, baseline : array-like of shape (n,)
        The same trials measured by the gold standard and by the two candidates (rows are paired).
    subjects : array-like, optional
        Subject of each row; resampling draws subjects (all their trials) with replacement, keeping the
        candidate and baseline errors of a trial together (paired). Default: each row is a subject.
    margin : float
        Non-inferiority margin δ, in the metric's units (≥ 0): the candidate may be worse by less than δ.
    metric : {'mae', 'rmse', 'abs_bias'}
        'mae' mean absolute error, 'rmse' root mean squared error, 'abs_bias' |mean error|.
    confidence : float
        One-sided level: ``diff_ci_high`` is the one-sided ``confidence`` upper bound (and ``diff_ci_low`` the
        matching lower bound, so [low, high] is a two-sided 1 − 2(1 − confidence) interval, 90 % by default).

    Returns
    -------
    ComparisonResult
        ``diff`` = metric(candidate) − metric(baseline) (positive: candidate worse); ``non_inferior`` is
        ``diff_ci_high < margin``; ``p_non_inferior`` is the bootstrap proportion of resamples with
        diff ≥ margin.

    Notes
    -----
    Rows with a missing value in any of the three columns are dropped (counted in ``note``). Cluster
    bootstrap: Field CA, Welsh AH (2007) J R Stat Soc B 69:369-390; non-inferiority logic: Walker E,
    Nowacki AS (2011) J Gen Intern Med 26:192-196.
    """
    check_option("metric", metric, ("mae", "rmse", "abs_bias"))
    confidence = check_confidence(confidence)
    n_resamples = check_resamples(n_resamples)
    if not (np.isfinite(margin) and margin >= 0):
        raise InputError(f"margin is {margin}", field="margin", expected="a finite number >= 0")
    ref = np.asarray(reference, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    base = np.asarray(baseline, dtype=float)
    if not (ref.shape == cand.shape == base.shape) or ref.ndim != 1:
        raise InputError(f"shapes differ: reference {ref.shape}, candidate {cand.shape}, baseline {base.shape}",
                         field="baseline", expected="three 1-D arrays of the same length (paired trials)")
    subj = np.arange(ref.size) if subjects is None else np.asarray(subjects)
    if subj.shape != ref.shape:
        raise InputError(f"subjects has {subj.size} labels for {ref.size} rows", field="subjects",
                         expected="one subject label per row")
    ok = np.isfinite(ref) & np.isfinite(cand) & np.isfinite(base)
    n_dropped = int((~ok).sum())
    ref, cand, base, subj = ref[ok], cand[ok], base[ok], subj[ok]
    codes, uniq = pd.factorize(pd.Series(subj), sort=True)
    ns = len(uniq)
    if ns < 3:
        raise InputError(f"only {ns} subject(s) with complete rows", field="subjects",
                         expected="at least 3 subjects")
    ec, eb = cand - ref, base - ref
    if metric == "mae":
        fc, fb = np.abs(ec), np.abs(eb)
    elif metric == "rmse":
        fc, fb = ec ** 2, eb ** 2
    else:
        fc, fb = ec, eb
    sc = np.bincount(codes, weights=fc, minlength=ns)
    sb = np.bincount(codes, weights=fb, minlength=ns)
    cnt = np.bincount(codes, minlength=ns).astype(float)

    def finish(a):
        return np.sqrt(a) if metric == "rmse" else (np.abs(a) if metric == "abs_bias" else a)

    vc, vb = finish(sc.sum() / cnt.sum()), finish(sb.sum() / cnt.sum())
    w = cluster_counts(cluster_indices(ns, n_resamples, seed), ns)
    tot = w @ cnt
    boot = finish((w @ sc) / tot) - finish((w @ sb) / tot)
    alpha = 1 - confidence
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    diff = float(vc - vb)
    return ComparisonResult(metric=metric, candidate_value=float(vc), baseline_value=float(vb), diff=diff,
                            diff_ci_low=float(lo), diff_ci_high=float(hi), margin=float(margin),
                            non_inferior=bool(hi < margin), p_non_inferior=float(np.mean(boot >= margin)),
                            n=int(ref.size), n_subjects=int(ns), n_resamples=n_resamples, confidence=confidence,
                            note="" if not n_dropped else f"{n_dropped} row(s) with a missing value dropped")
