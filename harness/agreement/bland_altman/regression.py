"""Regression-based Bland-Altman limits of agreement, for differences that change with magnitude."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError

from .._checks import check_confidence, check_multiplier, paired_arrays, unit_scale
from .classic import _CORE_FIELDS, DIFFERENCE_CONVENTION, _check_spread, _explain_nonfinite, _JsonCIForm


@dataclass
class RegressionLoA(_JsonCIForm):
    """Regression-based limits (Bland & Altman 1999 §3.2): bias(A) = b0 + b1·A, LoA(A) = bias(A) ± k·sd(A)."""

    n: int
    bias_intercept: float
    bias_slope: float
    sd_intercept: float
    sd_slope: float
    multiplier: float
    residual_sd: float
    mean_of_means: float
    confidence: float = 0.95
    se_bias: float = float("nan")
    se_sd: float = float("nan")
    convention: str = DIFFERENCE_CONVENTION

    def sd_at(self, mean):
        """SD of differences at pair mean(s) ``mean``: sqrt(pi/2)·(c0 + c1·A) from the absolute residuals."""
        return np.sqrt(np.pi / 2.0) * (self.sd_intercept + self.sd_slope * np.asarray(mean, dtype=float))

    def limits_at(self, mean) -> pd.DataFrame:
        """Bias and limits at the given pair means, as a DataFrame (mean, bias, loa_lower, loa_upper)."""
        a = np.atleast_1d(np.asarray(mean, dtype=float))
        b = self.bias_intercept + self.bias_slope * a
        s = self.sd_at(a)
        return pd.DataFrame({"mean": a, "bias": b, "loa_lower": b - self.multiplier * s,
                             "loa_upper": b + self.multiplier * s})

    def at_mean(self) -> dict:
        """Bias, SD and limits at the mean of the pair means, with approximate CIs.

        The fitted bias at the mean of the regressor has SE ``residual_sd / sqrt(n)`` (the slope term vanishes
        there); the fitted SD has SE ``sqrt(pi/2) · s_abs / sqrt(n)`` from the absolute-residual regression; a
        limit's SE is ``sqrt(se_bias² + k²·se_sd²)``, as in the approximate method of Bland & Altman 1999 §2;
        t quantiles with n − 2 degrees of freedom.
        """
        at = self.limits_at(self.mean_of_means).iloc[0]
        t = stats.t.ppf(0.5 + self.confidence / 2, self.n - 2)
        se_loa = float(np.hypot(self.se_bias, self.multiplier * self.se_sd))
        b, lo, hi = float(at["bias"]), float(at["loa_lower"]), float(at["loa_upper"])
        return {"bias": b, "sd": float(self.sd_at(self.mean_of_means)), "loa_lower": lo, "loa_upper": hi,
                "bias_ci_low": b - t * self.se_bias, "bias_ci_high": b + t * self.se_bias,
                "loa_lower_ci_low": lo - t * se_loa, "loa_lower_ci_high": lo + t * se_loa,
                "loa_upper_ci_low": hi - t * se_loa, "loa_upper_ci_high": hi + t * se_loa, "se_loa": se_loa}

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(method="regression", **self.at_mean(), loa_ci_method="approximate (at the mean of the pair means)",
                 note="bias and limits are linear in the pair mean; the scalar values and their CIs are at the "
                      "mean of the pair means")
        d["note"] = _explain_nonfinite(d["note"], {k: d[k] for k in _CORE_FIELDS})
        return d


def bland_altman_regression(reference, candidate, *, multiplier: float = 1.96,
                            confidence: float = 0.95) -> RegressionLoA:
    """Regression-based limits of agreement for differences that change with magnitude.

    Regresses the difference D on the pair mean A (D = b0 + b1·A), then the absolute residuals |R| on A
    (|R| = c0 + c1·A). Since E|R| = σ·sqrt(2/π) for normal residuals, the SD at A is sqrt(π/2)·(c0 + c1·A) and
    the limits are b0 + b1·A ± multiplier·sqrt(π/2)·(c0 + c1·A).

    Notes
    -----
    Use when the Bland-Altman plot fans out or slopes and a log transform does not fix it. Read the limits at a
    given magnitude with :meth:`RegressionLoA.limits_at`; :meth:`RegressionLoA.at_mean` gives them with
    approximate ``confidence`` CIs at the mean of the pair means. Reference: Bland JM, Altman DG (1999) Stat
    Methods Med Res 8:135-160, §3.2.
    """
    multiplier = check_multiplier(multiplier)
    confidence = check_confidence(confidence)
    ref, cand = paired_arrays(reference, candidate, min_n=4)
    d = cand - ref
    a = (cand + ref) / 2.0
    if np.ptp(a) == 0:
        raise InputError("all pair means are equal: no regression on magnitude is possible", field="reference",
                         expected="measurements spread over a range")
    _check_spread(d)
    # fitted in units near 1 (exact powers of two), so that squares of tiny or huge values stay in range;
    # slopes scale by ud/ua, intercepts and SDs by ud
    ua, ud = unit_scale(a), unit_scale(d)
    a_u, d_u = a / ua, d / ud
    b1, b0 = np.polyfit(a_u, d_u, 1)
    resid = d_u - (b0 + b1 * a_u)
    c1, c0 = np.polyfit(a_u, np.abs(resid), 1)
    n = int(d.size)
    res_sd = float(np.sqrt(np.sum(resid ** 2) / (n - 2))) * ud
    abs_sd = float(np.sqrt(np.sum((np.abs(resid) - (c0 + c1 * a_u)) ** 2) / (n - 2))) * ud
    b1, b0, c1, c0 = b1 * ud / ua, b0 * ud, c1 * ud / ua, c0 * ud
    return RegressionLoA(n=n, bias_intercept=float(b0), bias_slope=float(b1), sd_intercept=float(c0),
                         sd_slope=float(c1), multiplier=multiplier, residual_sd=res_sd, mean_of_means=float(a.mean()),
                         confidence=confidence, se_bias=res_sd / np.sqrt(n),
                         se_sd=float(np.sqrt(np.pi / 2.0) * abs_sd / np.sqrt(n)))
