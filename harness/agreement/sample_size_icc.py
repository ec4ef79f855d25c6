"""How many subjects an intraclass correlation needs for a confidence interval of a given width (Bonett 2002),
and the width a given number of subjects is expected to give."""
from __future__ import annotations

import math

from scipy import stats

from ground_truth.kernel import check_range, validate_type

from ._checks import check_confidence
from .sample_size import SampleSizeResult, check_n

BONETT_2002 = ("Bonett DG (2002) Sample size requirements for estimating intraclass correlations with desired "
               "precision. Statistics in Medicine 21(9):1331-1335")

#: Fewest subjects planned: stancebench's ``icc`` needs 3 complete targets.
MIN_SUBJECTS = 3
#: Bonett's adjustment for two ratings per subject applies from this ICC on (n + 5·ICC).
CORRECTION_FROM = 0.7


def _check_icc_inputs(icc, raters, confidence):
    k = check_n(raters, "raters", 2)
    rho = check_range(icc, "icc", -1.0 / (k - 1), 1.0, low_open=True)
    return rho, k, check_confidence(confidence)


def _correction(rho: float, k: int, correction: bool) -> float:
    """Subjects Bonett adds to his approximation for k = 2 and ρ ≥ 0.7 (0 elsewhere or when turned off)."""
    return 5.0 * rho if correction and k == 2 and rho >= CORRECTION_FROM else 0.0


def _numerator(rho: float, k: int, confidence: float) -> float:
    """8 z² (1 − ρ)² (1 + (k − 1)ρ)² / (k (k − 1)): n − 1 = this / w²."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    return 8.0 * z ** 2 * (1 - rho) ** 2 * (1 + (k - 1) * rho) ** 2 / (k * (k - 1))


def icc_sample_size(icc: float, width: float, *, raters: int = 2, confidence: float = 0.95,
                    correction: bool = True) -> SampleSizeResult:
    """Subjects needed to estimate an intraclass correlation with a confidence interval of a given width.

    Parameters
    ----------
    icc : float
        Expected (planning) ICC ρ, in (−1/(k − 1), 1]; e.g. a pilot estimate.
    width : float
        Desired full width w of the confidence interval (upper minus lower bound), in (0, 2].
    raters : int
        Ratings per subject k (2 for candidate vs reference; the number of trials for a test-retest ICC).
    confidence : float
        Level of the interval.
    correction : bool
        Apply Bonett's adjustment for k = 2 and ρ ≥ 0.7 (add 5ρ subjects).

    Returns
    -------
    SampleSizeResult
        ``n`` subjects (at least 3); ``achieved['width']`` the expected width at ``n``
        (:func:`icc_ci_width`); ``extra['n_approx']`` Bonett's n₀ before rounding and adjustment.

    Notes
    -----
    Bonett (2002): n₀ = 8 z²(1 − ρ)²(1 + (k − 1)ρ)² / (k(k − 1)w²) + 1 with z the normal quantile of the level,
    rounded up; it is the n at which a Fisher-type large-sample interval has width w, and approximates the n at
    which the exact F-based interval has expected width w. For k = 2 and ρ ≥ 0.7 it falls short by a few
    subjects and Bonett adds 5ρ: n = ceil(n₀ + 5ρ). The adjustment as stated by the ptenklooster.nl calculator
    that implements the paper (its example: ρ = 0.8, k = 2, w = 0.2 gives 51, adjusted 55); the paper itself
    could not be read here. R's ``ICC::Nest`` computes n₀ without the adjustment (``correction=False``).

    Read n as the subjects a study needs so that its ICC interval is, on average, no wider than ``width``: half
    the studies of that size will see a wider one. The formula assumes the one-way (or consistency) model; for
    ICC(A,1) (absolute agreement, stancebench's candidate-vs-reference ICC) a systematic offset between the
    methods widens the interval, so treat n as a lower bound.

    Examples
    --------
    >>> icc_sample_size(0.8, 0.2).n   # 51 by Bonett's n0, plus 5 * 0.8
    55
    """
    rho, k, confidence = _check_icc_inputs(icc, raters, confidence)
    w = check_range(width, "width", 0.0, 2.0, low_open=True)
    validate_type(correction, bool, "correction")
    n0 = _numerator(rho, k, confidence) / w ** 2 + 1.0
    add = _correction(rho, k, correction)
    n = max(MIN_SUBJECTS, math.ceil(n0 + add))
    notes = []
    if add:
        notes.append(f"k = 2 and ICC >= {CORRECTION_FROM:g}: Bonett's adjustment adds 5 x ICC = {add:g} subjects to "
                     f"n0 = {n0:.4g}")
    if n == MIN_SUBJECTS and n0 + add < MIN_SUBJECTS:
        notes.append(f"the formula asks for {n0 + add:.3g}; an ICC needs at least {MIN_SUBJECTS} subjects")
    return SampleSizeResult(
        n=n, method="icc-bonett-2002",
        inputs={"icc": rho, "width": w, "raters": k, "confidence": confidence, "correction": correction},
        achieved={"width": icc_ci_width(rho, n, raters=k, confidence=confidence, correction=correction)},
        citation=BONETT_2002, note="; ".join(notes), extra={"n_approx": n0})


def icc_ci_width(icc: float, n: int, *, raters: int = 2, confidence: float = 0.95, correction: bool = True) -> float:
    """Expected width of the confidence interval of an ICC from ``n`` subjects: the inverse of
    :func:`icc_sample_size`.

    Parameters
    ----------
    icc : float
        Expected ICC ρ.
    n : int
        Subjects (at least 2).
    raters, confidence, correction
        As in :func:`icc_sample_size`.

    Returns
    -------
    float
        w = sqrt(8 z²(1 − ρ)²(1 + (k − 1)ρ)² / (k(k − 1)(n − 1 − c))) with c = 5ρ where Bonett's adjustment
        applies (k = 2, ρ ≥ 0.7) and 0 elsewhere; ``inf`` when n − 1 − c ≤ 0 (too few subjects for the formula).

    Notes
    -----
    Bonett's (2002) formula solved for w, so that ``icc_ci_width(ρ, icc_sample_size(ρ, w).n) <= w`` and one
    subject fewer gives more than w (except where the minimum of 3 subjects applies). Use it for the report's
    "achieved" column: the width a study of n subjects can expect, to set beside the width it observed.
    """
    rho, k, confidence = _check_icc_inputs(icc, raters, confidence)
    n = check_n(n, "n", 2)
    validate_type(correction, bool, "correction")
    room = n - 1.0 - _correction(rho, k, correction)
    if room <= 0:
        return math.inf
    return math.sqrt(_numerator(rho, k, confidence) / room)


__all__ = ["BONETT_2002", "icc_ci_width", "icc_sample_size"]
