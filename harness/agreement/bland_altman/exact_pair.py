"""Exact confidence limits of Bland-Altman limits of agreement (Carkeet 2015): the factors q such that a bound is
bias + q·SD, for the two limits considered individually (one-sided tolerance factors, non-central t) or as a
pair (two-sided tolerance factors, by numerical integration).

Both assume normally distributed differences; they depend only on n, the multiplier and the confidence level.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

from ground_truth.kernel import InputError, check_range, validate_type

from .._checks import check_confidence, check_multiplier

#: the exact name of each CI method of the limits, as every output (results rows, CLI, report) spells it
LOA_CI_NAMES = {
    "approximate": "approximate (Bland & Altman 1999)",
    "approximate-1986": "approximate (Bland & Altman 1986)",
    "exact": "exact, each limit individually (Carkeet 2015)",
    "exact-pair": "exact, the two limits as a pair (Carkeet 2015)",
    "mover": "MOVER (Zou 2013)",
}
CARKEET_2015 = ("Carkeet A (2015) Exact parametric confidence intervals for Bland-Altman limits of agreement. "
                "Optom Vis Sci 92(3):e71-e80")

# Gauss-Legendre nodes for the integral over |U| = sqrt(n)·|mean - mu|/sigma, a half-normal variable: beyond
# 12 its density is below 1e-31, and 200 nodes integrate the smooth integrand to ~1e-12 (checked against
# adaptive quadrature for 1 to 10^6 degrees of freedom).
_X, _W = np.polynomial.legendre.leggauss(200)
_U_MAX = 12.0
_U = (_X + 1.0) * (_U_MAX / 2.0)
_WEIGHTS = _W * (_U_MAX / 2.0) * 2.0 * stats.norm.pdf(_U)
_LOG2 = math.log(2.0)


def loa_ci_name(method: str) -> str:
    """The exact name of a ``loa_ci`` method (:data:`LOA_CI_NAMES`); an unknown key is returned as given."""
    return LOA_CI_NAMES.get(method, method)


def _check_n(n) -> int:
    validate_type(n, "numeric", "n")
    if not (math.isfinite(float(n)) and float(n) == int(n) and int(n) >= 2):
        raise InputError(f"n is {n!r}", field="n", expected="a whole number >= 2 (the SD needs 1 degree of freedom)")
    return int(n)


@lru_cache(maxsize=1024)
def _half_widths(n: int, z: float) -> np.ndarray:
    """r(u) at the integration nodes: the half-width (in SDs) of an interval centred u/sqrt(n) away from the
    mean that holds the normal content 2·Phi(z) - 1.

    Solved on the log of the tail mass, logaddexp(log sf(r + c), log sf(r - c)) = log(2 sf(z)), so that a
    content of 1 - 1e-300 is as exact as one of 0.95. The root lies in [z, z + c] (the content of the centred
    interval of half-width z is the target; shifting by c can only lose content), and bisection there is
    guaranteed to converge.
    """
    c = _U / math.sqrt(n)
    target = _LOG2 + stats.norm.logsf(z)
    lo, hi = np.full_like(c, z), z + c
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        log_tail = np.logaddexp(stats.norm.logsf(mid + c), stats.norm.logsf(mid - c))
        above = log_tail > target  # still too much outside: widen
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 0.5 * (lo + hi)


@lru_cache(maxsize=4096)
def _two_sided(n: int, z: float, confidence: float) -> float:
    """Factor k with P(content of mean ± k·s >= 2·Phi(z) - 1) = confidence (Odeh & Owen 1980; Howe 1969)."""
    nu = n - 1
    r2 = _half_widths(n, z) ** 2

    def excess(log_k: float) -> float:
        # P(chi2_nu > nu r² / k²) averaged over the half-normal offset of the mean
        return float(_WEIGHTS @ special.chdtrc(nu, nu * r2 * math.exp(-2.0 * log_k))) - confidence

    lo = hi = math.log(z)
    while excess(lo) > 0:
        lo -= 1.0
    while excess(hi) < 0:
        hi += 1.0
    return math.exp(optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-14))


def _one_sided(n: int, z: float, confidence: float) -> float:
    """Factor k with P(mean + k·s >= mu + z·sigma) = confidence: non-central t quantile / sqrt(n)."""
    return float(stats.nct.ppf(confidence, n - 1, z * math.sqrt(n)) / math.sqrt(n))


def two_sided_tolerance_factor(n: int, content: float, confidence: float) -> float:
    """Exact two-sided normal tolerance factor: mean ± k·s holds at least ``content`` of the population with
    probability ``confidence``.

    Parameters
    ----------
    n : int
        Sample size (at least 2); the SD has n − 1 degrees of freedom.
    content : float
        Proportion of the population the interval must hold, in (0, 1).
    confidence : float
        Probability that it does, in (0, 1).

    Returns
    -------
    float
        The factor k.

    Notes
    -----
    Solves sqrt(2n/π) ∫₀^∞ P(χ²_ν > ν r(x)²/k²) exp(−n x²/2) dx = confidence, where r(x) is the half-width of
    the interval centred x from the mean that holds ``content`` (Φ(x + r) − Φ(x − r) = content): the
    equation of Odeh & Owen (1980), integrated by 200-point Gauss-Legendre quadrature. It equals the tables
    of ISO 16269-6:2014 Annex F (m = 1) to their last digit.

    References
    ----------
    Howe WG (1969) J Am Stat Assoc 64:610-620. Odeh RE, Owen DB (1980) Tables for normal tolerance limits,
    sampling plans, and screening. Marcel Dekker. ISO 16269-6:2014, Annex F.
    """
    n = _check_n(n)
    content = check_range(content, "content", 0.0, 1.0, low_open=True, high_open=True)
    return _two_sided(n, float(stats.norm.isf((1.0 - content) / 2.0)), check_confidence(confidence))


def one_sided_tolerance_factor(n: int, content: float, confidence: float) -> float:
    """Exact one-sided normal tolerance factor: mean + k·s lies above at least ``content`` of the population
    with probability ``confidence``: k = t'_confidence(n − 1, z_content·√n)/√n (non-central t).

    Parameters and Returns as in :func:`two_sided_tolerance_factor`.

    References
    ----------
    Owen DB (1968) Technometrics 10:445-478. Montgomery DC, Runger GC (2018) Applied statistics and probability
    for engineers, 7th ed., Table XII.
    """
    n = _check_n(n)
    content = check_range(content, "content", 0.0, 1.0, low_open=True, high_open=True)
    return _one_sided(n, float(stats.norm.ppf(content)), check_confidence(confidence))


@dataclass(frozen=True)
class CarkeetFactors:
    """Factors of the exact CIs of the limits bias ± multiplier·SD: the CI of the upper limit is
    ``bias + inner·SD`` to ``bias + outer·SD``, that of the lower limit ``bias − outer·SD`` to
    ``bias − inner·SD``."""

    n: int
    multiplier: float
    confidence: float
    pair: bool
    inner: float
    outer: float
    method: str
    citation: str = CARKEET_2015

    def to_dict(self) -> dict:
        return asdict(self)


def carkeet_factors(n: int, *, multiplier: float = 1.96, confidence: float = 0.95,
                    pair: bool = True) -> CarkeetFactors:
    """Exact confidence limits of Bland-Altman limits of agreement, as factors of the SD (Carkeet 2015).

    Parameters
    ----------
    n : int
        Number of differences (at least 2).
    multiplier : float
        Limits are bias ± multiplier·SD (1.96: 95 % limits).
    confidence : float
        Level of the two-sided CI of the limits; each bound is a (1 + confidence)/2 one.
    pair : bool
        True: the two limits considered as a pair (two-sided tolerance factors for a content of
        2Φ(multiplier) − 1). False: each limit individually (one-sided factors for a content Φ(multiplier)).

    Returns
    -------
    CarkeetFactors
        ``inner`` (the factor at confidence (1 − confidence)/2) and ``outer`` (at (1 + confidence)/2), with
        ``method`` naming which construction (:data:`LOA_CI_NAMES`).

    Notes
    -----
    How to read them, for 95 % limits and a 95 % CI:

    - *individually*: each limit's own CI; the true upper limit μ + 1.96σ lies in ``bias + [inner, outer]·SD``
      with probability 95 % (and likewise the lower), so both do with probability about 91 %.
    - *as a pair*: a statement about the band the two limits enclose. With probability 97.5 % the outer band
      bias ± outer·SD holds at least 95 % of all differences, and with probability 97.5 % the inner band
      bias ± inner·SD holds less than 95 % of them: both together hold with probability 95 % exactly. It is
      what one needs to say "95 % of differences lie within ±Δ" against a clinical limit Δ, and the use Carkeet
      recommends for most studies. It is not a CI of where each limit lies: the true limits fall in their pair
      intervals less often (about 88 % each and 78-79 % both for n from 10 to 100, by simulation).

    The pair is computed by numerical integration over the sample mean, as two-sided tolerance factors
    (:func:`two_sided_tolerance_factor`); the individual factors from the non-central t. For large n the
    individual interval tends to the approximate one of Bland & Altman (1999); the pair's does not: it carries
    the uncertainty of the SD only (the bias shifts the band, which changes its content only to second order),
    and is narrower by a factor tending to multiplier/sqrt(2 + multiplier²) (0.81 for 1.96). It is wider only
    for n <= 4; its outer factor exceeds the individual one for n <= 8 only (95 % CI of 95 % limits); its inner
    factor is always nearer the limit.

    References
    ----------
    Carkeet A (2015) Optom Vis Sci 92:e71-e80 (Methods: individual limits by one-sided, the pair by two-sided
    tolerance factors; tables for 1 to 1000 degrees of freedom). Carkeet A, Goh YT (2018) Stat Methods Med Res
    27:1559-1574.
    """
    n = _check_n(n)
    multiplier = check_multiplier(multiplier)
    confidence = check_confidence(confidence)
    validate_type(pair, bool, "pair")
    alpha = 1.0 - confidence
    factor = _two_sided if pair else _one_sided
    return CarkeetFactors(n=n, multiplier=multiplier, confidence=confidence, pair=pair,
                          inner=factor(n, multiplier, alpha / 2.0), outer=factor(n, multiplier, 1.0 - alpha / 2.0),
                          method=LOA_CI_NAMES["exact-pair" if pair else "exact"])
