"""How many subjects limits of agreement need: for power to show agreement within a clinical limit (Lu et al.
2016), or for a confidence interval of each limit no wider than a target (the intervals of ``bland_altman``)."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

from ground_truth.kernel import InputError, check_option, check_range, validate_type

from ._checks import check_confidence, check_multiplier, check_positive
from .bland_altman.classic import LOA_CI_METHODS, bland_altman
from .sample_size import SampleSizeResult, check_n, smallest_n

LU_2016 = ("Lu MJ, Zhong WH, Liu YX, Miao HZ, Li YC, Ji MH (2016) Sample size for assessing agreement between two "
           "methods of measurement by Bland-Altman method. Int J Biostat 12(2):20150039, eqs. 3-5")
LOA_CI_CITATIONS = {
    "approximate": "Bland JM, Altman DG (1999) Stat Methods Med Res 8:135-160, §2.2 (SE of a limit "
                   "s·sqrt(1/n + k²/(2(n-1))))",
    "approximate-1986": "Bland JM, Altman DG (1986) Lancet i:307-310 (SE of a limit sqrt(3s²/n))",
    "exact": "Carkeet A (2015) Optom Vis Sci 92:e71-e80 (exact interval of each limit from the non-central t)",
    "exact-pair": "Carkeet A (2015) Optom Vis Sci 92:e71-e80 (exact bounds of the two limits as a pair, from "
                  "two-sided tolerance factors)",
}
#: The CIs of a limit that ``bland_altman`` computes for one pair per subject (MOVER is for replicates).
LOA_PRECISION_METHODS = tuple(m for m in LOA_CI_METHODS if m != "mover")
#: Fewest pairs planned: ``bland_altman`` needs 3.
MIN_PAIRS = 3


def _lu_parts(n: int, mean_diff: float, sd_diff: float, delta: float, alpha: float, agreement: float):
    """Power and the type II errors of the upper and lower limit (Lu et al. 2016, eqs. 3-5)."""
    z = stats.norm.ppf(0.5 + agreement / 2)
    # in units of the SD, so that measurements in any unit neither overflow nor underflow
    se = math.sqrt(1.0 / n + z ** 2 / (2.0 * (n - 1)))
    t = stats.t.ppf(1 - alpha / 2, n - 1)
    tau_upper = (delta / sd_diff - mean_diff / sd_diff - z) / se
    tau_lower = (delta / sd_diff + mean_diff / sd_diff - z) / se
    beta_upper = float(stats.nct.cdf(t, n - 1, tau_upper))
    beta_lower = float(stats.nct.cdf(t, n - 1, tau_lower))
    return max(0.0, 1.0 - beta_upper - beta_lower), beta_upper, beta_lower


def _check_lu(mean_diff, sd_diff, delta, alpha, agreement):
    validate_type(mean_diff, "numeric", "mean_diff")
    if not math.isfinite(float(mean_diff)):
        raise InputError(f"mean_diff is {mean_diff!r}", field="mean_diff", expected="a finite number")
    return (float(mean_diff), check_positive(sd_diff, "sd_diff"), check_positive(delta, "delta"),
            check_range(alpha, "alpha", 0.0, 1.0, low_open=True, high_open=True),
            check_confidence(agreement, "agreement"))


def loa_power_lu(n: int, mean_diff: float, sd_diff: float, delta: float, *, alpha: float = 0.05,
                 agreement: float = 0.95) -> float:
    """Power of a Bland-Altman study of ``n`` pairs to show that both limits of agreement lie within ±delta.

    Parameters
    ----------
    n : int
        Pairs (subjects), at least 2.
    mean_diff, sd_diff : float
        Expected mean μ and SD σ of the differences candidate − reference.
    delta : float
        Clinically acceptable difference Δ (> 0, same unit): agreement is shown when the upper CI bound of the
        upper limit is below Δ and the lower CI bound of the lower limit above −Δ.
    alpha : float
        The CIs of the limits are 1 − alpha intervals (two-sided).
    agreement : float
        Coverage of the limits, μ ± z σ with z the normal quantile (0.95: z = 1.96).

    Returns
    -------
    float
        1 − β₁ − β₂ (Lu et al. 2016, eq. 5), clipped at 0.

    Notes
    -----
    With se = σ·sqrt(1/n + z²/(2(n − 1))) (the SE of a limit, Bland & Altman 1999) and t the 1 − α/2 quantile
    of t(n − 1), the type II error of the upper limit is β₁ = T(t; n − 1, τ₁) with τ₁ = (Δ − μ − zσ)/se and that
    of the lower limit β₂ = T(t; n − 1, τ₂) with τ₂ = (Δ + μ − zσ)/se, T the non-central t distribution function
    (Lu et al. 2016, eqs. 3 and 4). Read the power as the chance that a study of n pairs, in a population where
    the differences have mean μ and SD σ, ends with both CIs inside ±Δ.
    """
    n = check_n(n, "n", 2)
    return _lu_parts(n, *_check_lu(mean_diff, sd_diff, delta, alpha, agreement))[0]


def loa_sample_size_lu(mean_diff: float, sd_diff: float, delta: float, *, alpha: float = 0.05,
                       power: float = 0.8, agreement: float = 0.95) -> SampleSizeResult:
    """Pairs needed to show, with a given power, that the limits of agreement lie within ±delta (Lu et al. 2016).

    Parameters
    ----------
    mean_diff, sd_diff, delta, alpha, agreement
        As in :func:`loa_power_lu`.
    power : float
        Desired power 1 − β.

    Returns
    -------
    SampleSizeResult
        ``n``: the smallest number of pairs (at least 3) whose power (:func:`loa_power_lu`) reaches ``power``;
        ``achieved``: ``power``, ``beta_upper``, ``beta_lower`` at n; ``extra``: the population limits
        ``loa_lower``, ``loa_upper`` (μ ∓ zσ).

    Notes
    -----
    Lu et al. iterate n until 1 − β₁ − β₂ ≥ 1 − β (their eq. 5). Their worked example (Section 5: μ = 0.001167,
    σ = 0.001129, Δ = 0.004, α = 0.05, β = 0.2) reports n = 83; eq. 5 itself gives 79, as do PASS and
    SimplyAgree::blandPowerCurve (SimplyAgree issue #44; the 83 is attributed to the paper's approximate eq. 6). Δ must
    exceed the population limit |μ| + zσ: otherwise no study, however large, shows agreement. With replicated
    trials per subject, see :func:`~harness.agreement.sample_size.with_replicates`.
    """
    mu, sd, dlt, alpha, agreement = _check_lu(mean_diff, sd_diff, delta, alpha, agreement)
    target = check_range(power, "power", 0.0, 1.0, low_open=True, high_open=True)
    z = stats.norm.ppf(0.5 + agreement / 2)
    margin = dlt / sd - abs(mu) / sd - z
    if not margin > 0:
        raise InputError(f"delta {dlt:g} does not exceed the population limit of agreement |mean_diff| + "
                         f"{z:.3f} x sd_diff = {abs(mu) + z * sd:g}: no study size shows agreement", field="delta",
                         expected=f"a clinically acceptable difference above {abs(mu) + z * sd:g}")
    # large-sample start: margin/se = z_(1-alpha/2) + z_power with se ~ sqrt((1 + z²/2)/n)
    guess = ((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target)) / margin) ** 2 * (1 + z ** 2 / 2)
    n = smallest_n(lambda m: _lu_parts(m, mu, sd, dlt, alpha, agreement)[0] >= target, start=MIN_PAIRS,
                   guess=guess, field="power", target=f"power {target:g}")
    achieved, beta_upper, beta_lower = _lu_parts(n, mu, sd, dlt, alpha, agreement)
    return SampleSizeResult(
        n=n, method="loa-lu-2016",
        inputs={"mean_diff": mu, "sd_diff": sd, "delta": dlt, "alpha": alpha, "power": target,
                "agreement": agreement},
        achieved={"power": achieved, "beta_upper": beta_upper, "beta_lower": beta_lower},
        citation=LU_2016,
        note=(f"power that both {1 - alpha:g} CIs of the {agreement:g} limits of agreement fall within "
              f"+/-{dlt:g}"),
        extra={"loa_lower": mu - z * sd, "loa_upper": mu + z * sd, "z": float(z)})


@lru_cache(maxsize=4096)
def _limit_ci_factors(n: int, method: str, confidence: float, multiplier: float) -> tuple[float, float]:
    """Bounds of the CI of a limit of agreement, minus the limit, in units of the sample SD.

    They depend on n, the method, the level and the multiplier only (not on the data), so they are read off
    ``bland_altman`` itself on n differences of mean 0 and SD 1: the plan uses exactly the intervals that the
    analysis of the study will report.
    """
    d = np.linspace(-1.0, 1.0, n)
    d = (d - d.mean()) / d.std(ddof=1)
    # pairs whose means are all 0: the differences are d, and no proportional-bias regression is fitted
    r = bland_altman(-d / 2, d / 2, multiplier=multiplier, confidence=confidence, loa_ci=method)
    return (r.loa_upper_ci_low - r.loa_upper) / r.sd, (r.loa_upper_ci_high - r.loa_upper) / r.sd


def _check_precision(sd_diff, confidence, method, multiplier):
    check_option("method", method, LOA_PRECISION_METHODS)
    return check_positive(sd_diff, "sd_diff"), check_confidence(confidence), check_multiplier(multiplier)


def loa_ci_width(sd_diff: float, n: int, *, confidence: float = 0.95, method: str = "exact",
                 multiplier: float = 1.96) -> float:
    """Width of the confidence interval of each limit of agreement from ``n`` pairs whose differences have SD
    ``sd_diff``: the inverse of :func:`loa_precision_sample_size`.

    Parameters
    ----------
    sd_diff : float
        SD of the differences (a planning value, or the SD a study observed).
    n : int
        Pairs (subjects), at least 3.
    confidence : float
        Level of the interval.
    method : {'exact', 'approximate', 'approximate-1986'}
        The interval of ``bland_altman(..., loa_ci=method)``: exact (Carkeet 2015, non-central t), Bland &
        Altman 1999 §2.2, or sqrt(3s²/n) (Bland & Altman 1986).
    multiplier : float
        Limits are bias ± multiplier·SD.

    Returns
    -------
    float
        Upper minus lower bound of the CI of one limit (the same for both limits).

    Notes
    -----
    The width does not depend on the bias and is proportional to the SD: it is the width ``bland_altman``
    reports for a study of n pairs that observes SD = ``sd_diff``. A study's observed SD scatters around σ, so
    its width will too.
    """
    sd, confidence, multiplier = _check_precision(sd_diff, confidence, method, multiplier)
    n = check_n(n, "n", MIN_PAIRS)
    low, high = _limit_ci_factors(n, method, confidence, multiplier)
    return float((high - low) * sd)


def loa_precision_sample_size(sd_diff: float, half_width: float, *, confidence: float = 0.95,
                              method: str = "exact", multiplier: float = 1.96) -> SampleSizeResult:
    """Pairs needed for the confidence interval of each limit of agreement to have a target half-width.

    Parameters
    ----------
    sd_diff : float
        Expected SD σ of the differences candidate − reference.
    half_width : float
        Target half-width of the CI of each limit (same unit as ``sd_diff``).
    confidence, method, multiplier
        As in :func:`loa_ci_width`.

    Returns
    -------
    SampleSizeResult
        ``n``: the smallest number of pairs (at least 3) with ``loa_ci_width(sd_diff, n) / 2 <= half_width``;
        ``achieved``: ``half_width`` and ``ci_width`` at n, and how far the interval reaches ``below`` and
        ``above`` the limit (equal for the approximate methods; the exact interval reaches further above).

    Notes
    -----
    A precision plan, as Bland suggests for agreement studies: choose n so that the limits are pinned down to
    ± half_width. The approximate 1986 interval gives n ≈ 3(t σ / h)²; the exact one (Carkeet 2015), the
    default, is wider for small n and asymmetric, so its half-width is half its full width. The plan sets the
    sample SD to σ. See :func:`loa_sample_size_lu` for a plan by power against a clinical limit.
    """
    sd, confidence, multiplier = _check_precision(sd_diff, confidence, method, multiplier)
    h = check_positive(half_width, "half_width")
    z = stats.norm.ppf(0.5 + confidence / 2)
    guess = (z * sd / h) ** 2 * (1 + multiplier ** 2 / 2)

    def ok(n):
        low, high = _limit_ci_factors(n, method, confidence, multiplier)
        return (high - low) * sd / 2 <= h

    n = smallest_n(ok, start=MIN_PAIRS, guess=guess, field="half_width", target=f"half-width {h:g}")
    low, high = _limit_ci_factors(n, method, confidence, multiplier)
    return SampleSizeResult(
        n=n, method=f"loa-precision-{method}",
        inputs={"sd_diff": sd, "half_width": h, "confidence": confidence, "method": method,
                "multiplier": multiplier},
        achieved={"half_width": float((high - low) * sd / 2), "ci_width": float((high - low) * sd),
                  "below": float(-low * sd), "above": float(high * sd)},
        citation=LOA_CI_CITATIONS.get(method, f"bland_altman(loa_ci={method!r})"),
        note=f"{confidence:g} CI of each limit bias +/- {multiplier:g} SD, with the sample SD equal to sd_diff")
