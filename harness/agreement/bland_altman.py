"""Bland-Altman limits of agreement: classic, log/ratio, percentage, regression-based and replicated designs.

All differences are **candidate − reference** (a positive bias means the candidate reads high).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError, check_option, validate_type

from ._checks import check_confidence, check_positive, paired_arrays

LOA_CI_METHODS = ("approximate", "approximate-1986", "exact", "mover")
SCALES = ("difference", "log", "percent")
DIFFERENCE_CONVENTION = "difference = candidate - reference (positive bias: candidate reads high)"


@dataclass
class BlandAltmanResult:
    """Bias, SD of differences and limits of agreement, each with its confidence interval in separate fields."""

    method: str
    n: int
    bias: float
    bias_ci_low: float
    bias_ci_high: float
    sd: float
    multiplier: float
    loa_lower: float
    loa_lower_ci_low: float
    loa_lower_ci_high: float
    loa_upper: float
    loa_upper_ci_low: float
    loa_upper_ci_high: float
    confidence: float = 0.95
    loa_ci_method: str = "approximate"
    scale: str = "difference"
    n_subjects: int | None = None
    se_bias: float = float("nan")
    se_loa: float = float("nan")
    convention: str = DIFFERENCE_CONVENTION
    extra: dict = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        """Flat dict (schema names of docs/results-schema.md "agreement"); ``extra`` is merged in."""
        d = asdict(self)
        extra = d.pop("extra")
        d.update(extra)
        return d

    def to_json_dict(self) -> dict:
        """The CLI form: CI bounds as ``[low, high]`` lists (``bias_ci``, ``loa_lower_ci``, ``loa_upper_ci``)."""
        d = self.to_dict()
        for key in ("bias", "loa_lower", "loa_upper"):
            d[f"{key}_ci"] = [d.pop(f"{key}_ci_low"), d.pop(f"{key}_ci_high")]
        return d


def _differences(ref, cand, scale):
    if scale == "log":
        if np.any(ref <= 0) or np.any(cand <= 0):
            raise InputError("log limits of agreement need strictly positive values", field="scale",
                             expected="positive measurements, or scale='difference'")
        return np.log(cand) - np.log(ref)
    if scale == "percent":
        mean = (ref + cand) / 2.0
        if np.any(mean == 0):
            raise InputError("percentage differences are undefined where the pair mean is 0", field="scale",
                             expected="non-zero pair means, or scale='difference'")
        return 100.0 * (cand - ref) / mean
    return cand - ref


def _check_spread(d, what="differences"):
    if np.ptp(d) == 0:
        raise InputError(f"all {d.size} {what} are identical ({d[0]!r}); their SD is 0 and limits of "
                         f"agreement are degenerate", field="candidate",
                         expected="measurements with some disagreement")


def bland_altman(reference, candidate, *, multiplier: float = 1.96, confidence: float = 0.95,
                 loa_ci: str = "approximate", scale: str = "difference") -> BlandAltmanResult:
    """Bland-Altman limits of agreement of paired measurements (one pair per subject).

    Parameters
    ----------
    reference, candidate : array-like of shape (n,)
        Paired measurements; differences are ``candidate - reference``.
    multiplier : float
        Limits are ``bias ± multiplier · SD`` (1.96 for 95 % limits; 2 as in Bland & Altman 1986).
    confidence : float
        Level of the confidence intervals of the bias and of each limit.
    loa_ci : {'approximate', 'approximate-1986', 'exact'}
        CI of each limit: 'approximate' uses SE = s·sqrt(1/n + multiplier²/(2(n−1))) (Bland & Altman 1999
        §2.2) with t(n−1); 'approximate-1986' uses SE = sqrt(3 s²/n) (Bland & Altman 1986, for the 1.96/2
        multiplier) with t(n−1); 'exact' uses the non-central t distribution (Carkeet 2015).
    scale : {'difference', 'log', 'percent'}
        'log': differences of natural logs (limits of the ratio candidate/reference, back-transformed in
        ``extra['ratio*']``; Bland & Altman 1999 §3.1). 'percent': 100·(c − r)/mean(c, r).

    Returns
    -------
    BlandAltmanResult
        Also in ``extra``: proportional bias (OLS of difference on pair mean: slope, its CI and p).

    Notes
    -----
    Read the bias as the average amount the candidate reads above the reference, and the limits as the range
    holding about 95 % of single-subject differences; their CIs say how well 'n' pairs pin them down. SD uses
    ddof=1. A significant proportional-bias slope means the limits are not constant over the range: use
    :func:`bland_altman_regression` or ``scale='log'``.

    References
    ----------
    Bland JM, Altman DG (1986) Lancet i:307-310. Bland JM, Altman DG (1999) Stat Methods Med Res 8:135-160.
    Carkeet A (2015) Optom Vis Sci 92:e71-e80.
    """
    check_option("scale", scale, SCALES)
    check_option("loa_ci", loa_ci, LOA_CI_METHODS[:3], extra="(use bland_altman_replicates for 'mover')")
    multiplier = check_positive(multiplier, "multiplier")
    confidence = check_confidence(confidence)
    ref, cand = paired_arrays(reference, candidate, min_n=3)
    d = _differences(ref, cand, scale)
    _check_spread(d)
    n = d.size
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    alpha = 1.0 - confidence
    t = stats.t.ppf(1 - alpha / 2, n - 1)
    se_bias = sd / np.sqrt(n)
    lo, hi = bias - multiplier * sd, bias + multiplier * sd
    if loa_ci == "exact":
        # Carkeet 2015: (LoA - bias)/s ~ noncentral t; the exact limits use its quantiles.
        nc = multiplier * np.sqrt(n)
        q_lo, q_hi = stats.nct.ppf([alpha / 2, 1 - alpha / 2], n - 1, nc) / np.sqrt(n)
        up_ci = (bias + q_lo * sd, bias + q_hi * sd)
        low_ci = (bias - q_hi * sd, bias - q_lo * sd)
        se_loa = float("nan")
    else:
        if loa_ci == "approximate":
            se_loa = sd * np.sqrt(1.0 / n + multiplier ** 2 / (2.0 * (n - 1)))
        else:
            se_loa = np.sqrt(3.0 * sd ** 2 / n)
        low_ci = (lo - t * se_loa, lo + t * se_loa)
        up_ci = (hi - t * se_loa, hi + t * se_loa)
    mean = (ref + cand) / 2.0
    extra = _proportional_bias(mean, d, confidence)
    if scale == "log":
        extra.update(ratio=float(np.exp(bias)), ratio_ci_low=float(np.exp(bias - t * se_bias)),
                     ratio_ci_high=float(np.exp(bias + t * se_bias)), ratio_loa_lower=float(np.exp(lo)),
                     ratio_loa_upper=float(np.exp(hi)))
    method = {"difference": "classic", "log": "log", "percent": "percent"}[scale]
    return BlandAltmanResult(
        method=method, n=n, bias=bias, bias_ci_low=float(bias - t * se_bias), bias_ci_high=float(bias + t * se_bias),
        sd=sd, multiplier=multiplier, loa_lower=float(lo), loa_lower_ci_low=float(low_ci[0]),
        loa_lower_ci_high=float(low_ci[1]), loa_upper=float(hi), loa_upper_ci_low=float(up_ci[0]),
        loa_upper_ci_high=float(up_ci[1]), confidence=confidence, loa_ci_method=loa_ci, scale=scale,
        se_bias=float(se_bias), se_loa=float(se_loa), extra=extra,
        note={"log": "differences are ln(candidate) - ln(reference); exp() gives ratios candidate/reference",
              "percent": "differences are 100*(candidate - reference)/mean(candidate, reference)",
              "difference": ""}[scale])


def _proportional_bias(mean, d, confidence):
    if np.ptp(mean) == 0:
        return {"prop_bias_slope": float("nan"), "prop_bias_slope_ci_low": float("nan"),
                "prop_bias_slope_ci_high": float("nan"), "prop_bias_p": float("nan")}
    fit = stats.linregress(mean, d)
    tq = stats.t.ppf(0.5 + confidence / 2, d.size - 2)
    return {"prop_bias_slope": float(fit.slope), "prop_bias_intercept": float(fit.intercept),
            "prop_bias_slope_ci_low": float(fit.slope - tq * fit.stderr),
            "prop_bias_slope_ci_high": float(fit.slope + tq * fit.stderr), "prop_bias_p": float(fit.pvalue)}


@dataclass
class RegressionLoA:
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
        return d

    def to_json_dict(self) -> dict:
        """The CLI form: CI bounds as ``[low, high]`` lists (``bias_ci``, ``loa_lower_ci``, ``loa_upper_ci``)."""
        d = self.to_dict()
        for key in ("bias", "loa_lower", "loa_upper"):
            d[f"{key}_ci"] = [d.pop(f"{key}_ci_low"), d.pop(f"{key}_ci_high")]
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
    multiplier = check_positive(multiplier, "multiplier")
    confidence = check_confidence(confidence)
    ref, cand = paired_arrays(reference, candidate, min_n=4)
    d = cand - ref
    a = (cand + ref) / 2.0
    if np.ptp(a) == 0:
        raise InputError("all pair means are equal: no regression on magnitude is possible", field="reference",
                         expected="measurements spread over a range")
    _check_spread(d)
    b1, b0 = np.polyfit(a, d, 1)
    resid = d - (b0 + b1 * a)
    c1, c0 = np.polyfit(a, np.abs(resid), 1)
    n = int(d.size)
    res_sd = float(np.sqrt(np.sum(resid ** 2) / (n - 2)))
    abs_sd = float(np.sqrt(np.sum((np.abs(resid) - (c0 + c1 * a)) ** 2) / (n - 2)))
    return RegressionLoA(n=n, bias_intercept=float(b0), bias_slope=float(b1), sd_intercept=float(c0),
                         sd_slope=float(c1), multiplier=multiplier, residual_sd=res_sd, mean_of_means=float(a.mean()),
                         confidence=confidence, se_bias=res_sd / np.sqrt(n),
                         se_sd=float(np.sqrt(np.pi / 2.0) * abs_sd / np.sqrt(n)))


# --------------------------------------------------------------------------------------------------------------
# Replicated measurements per subject
# --------------------------------------------------------------------------------------------------------------

def _mover_sum(components, confidence):
    """MOVER CI of sum_k c_k·s²_k where s²_k has df_k (chi-square); Zou 2013 / Newcombe."""
    alpha = 1 - confidence
    est = sum(c * s2 for c, s2, _ in components)
    lo2 = hi2 = 0.0
    for c, s2, df in components:
        if df <= 0 or c == 0 or s2 == 0:
            continue
        l_k = s2 * df / stats.chi2.ppf(1 - alpha / 2, df)
        u_k = s2 * df / stats.chi2.ppf(alpha / 2, df)
        if c > 0:
            lo2 += (c * (s2 - l_k)) ** 2
            hi2 += (c * (u_k - s2)) ** 2
        else:
            lo2 += (c * (u_k - s2)) ** 2
            hi2 += (c * (s2 - l_k)) ** 2
    return est, max(est - np.sqrt(lo2), 0.0), est + np.sqrt(hi2)


def _delta_var_sum(components):
    """Delta-method variance of sum_k c_k·s²_k with var(s²_k) = 2 s⁴_k / df_k."""
    return sum((c ** 2) * 2 * s2 ** 2 / df for c, s2, df in components if df > 0)


def _loa_cis(bias, se_bias, df_bias, var_components, multiplier, confidence, loa_ci, var_bias_loa=None):
    """Limits and CIs from bias and a variance that is a sum of chi-square components.

    ``var_bias_loa`` is the bias variance used in the approximate LoA interval (default ``se_bias**2``).
    """
    alpha = 1 - confidence
    var_d = sum(c * s2 for c, s2, _ in var_components)
    sd = np.sqrt(var_d)
    tq = stats.t.ppf(1 - alpha / 2, df_bias)
    b_lo, b_hi = bias - tq * se_bias, bias + tq * se_bias
    lo, hi = bias - multiplier * sd, bias + multiplier * sd
    if loa_ci == "mover":
        _, v_lo, v_hi = _mover_sum(var_components, confidence)
        s_lo, s_hi = np.sqrt(v_lo), np.sqrt(v_hi)
        # MOVER for bias ± k·sd (Zou 2013): the bias term uses the normal quantile as in the paper (and in
        # SimplyAgree::agree_reps, which reproduces its example)
        eb = stats.norm.ppf(1 - alpha / 2) * se_bias
        up_ci = (hi - np.sqrt(eb ** 2 + multiplier ** 2 * (sd - s_lo) ** 2),
                 hi + np.sqrt(eb ** 2 + multiplier ** 2 * (s_hi - sd) ** 2))
        low_ci = (lo - np.sqrt(eb ** 2 + multiplier ** 2 * (s_hi - sd) ** 2),
                  lo + np.sqrt(eb ** 2 + multiplier ** 2 * (sd - s_lo) ** 2))
        se_loa = float("nan")
    else:
        # Bland & Altman 1999 §5.1: var(LoA) = var(bias) + k²·var(sd), var(sd) = var(sd²)/(4 sd²);
        # the paper uses the normal quantile for this interval.
        var_sd = _delta_var_sum(var_components) / (4 * var_d)
        vb = se_bias ** 2 if var_bias_loa is None else var_bias_loa
        se_loa = np.sqrt(vb + multiplier ** 2 * var_sd)
        zq = stats.norm.ppf(1 - alpha / 2)
        low_ci = (lo - zq * se_loa, lo + zq * se_loa)
        up_ci = (hi - zq * se_loa, hi + zq * se_loa)
    return sd, (b_lo, b_hi), (lo, low_ci), (hi, up_ci), se_loa


def bland_altman_replicates(data: pd.DataFrame, *, subject: str, reference: str, candidate: str,
                            method: str = "ba1999", multiplier: float = 1.96, confidence: float = 0.95,
                            loa_ci: str = "approximate") -> BlandAltmanResult:
    """Limits of agreement with several measurements per subject (replicates), equal or unequal in number.

    Parameters
    ----------
    data : DataFrame
        Long format: one row per replicate; rows with the same ``subject`` are that subject's replicates. A
        missing value in one column (NaN) means that method has fewer replicates for that subject.
    subject, reference, candidate : str
        Column names.
    method : {'ba1999', 'ba2007'}
        'ba1999': the true value is constant within a subject and replicates are not paired (Bland & Altman
        1999 §5.1-5.2, = Bland & Altman 2007 §2). Per-subject mean differences d̄ᵢ = ȳᵢ − x̄ᵢ, bias = mean(d̄ᵢ),
        s²_d = s²(d̄ᵢ) + (1 − mean(1/m_yᵢ))·s²_yw + (1 − mean(1/m_xᵢ))·s²_xw, with s²_w the within-subject
        variance of each method (one-way ANOVA).
        'ba2007': the true value varies and replicates are made in pairs (Bland & Altman 2007 §3): one-way
        ANOVA of the paired differences, σ²_d = (MSB − MSW)/λ + MSW with λ = (N² − Σmᵢ²)/((n − 1)N);
        bias = mean of all differences.
    loa_ci : {'approximate', 'mover'}
        'approximate': var(LoA) = var(bias) + k²·var(s_d), var(s_d) by the delta method from the chi-square
        variance components, normal quantile (Bland & Altman 1999 §5.1; for 'ba1999' the bias term is s²_d/n as
        in the paper, which reproduces its published intervals). 'mover': method of variance estimates
        recovery (Zou 2013; normal quantile for the bias term as in the paper), which keeps the limits' CIs
        from being too narrow when there are few subjects.

    Notes
    -----
    The limits describe single measurements (one candidate reading against one reference reading), not
    subject means. The bias CI uses t(n_subjects − 1). Zou GY (2013) Stat Methods Med Res 22:630-642.
    """
    validate_type(data, pd.DataFrame, "data")
    check_option("method", method, ("ba1999", "ba2007"))
    check_option("loa_ci", loa_ci, ("approximate", "mover"))
    multiplier = check_positive(multiplier, "multiplier")
    confidence = check_confidence(confidence)
    for col in (subject, reference, candidate):
        if col not in data.columns:
            raise InputError(f"no column named {col!r}", field=col, expected=f"one of {list(data.columns)}")
    try:
        x = pd.to_numeric(data[reference], errors="raise").to_numpy(float)
        y = pd.to_numeric(data[candidate], errors="raise").to_numpy(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"values are not numbers ({exc})", field=f"{reference}/{candidate}") from None
    codes, subjects = pd.factorize(data[subject], sort=True)
    if (codes < 0).any():
        raise InputError("missing subject identifier(s)", field=subject, expected="an id on every row")
    if method == "ba1999":
        return _ba1999(codes, len(subjects), x, y, multiplier, confidence, loa_ci)
    return _ba2007(codes, len(subjects), x, y, multiplier, confidence, loa_ci)


def _group_stats(codes, n_groups, v):
    ok = np.isfinite(v)
    m = np.bincount(codes[ok], minlength=n_groups).astype(float)
    s = np.bincount(codes[ok], weights=v[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / m
    ss = np.bincount(codes[ok], weights=(v[ok] - mean[codes[ok]]) ** 2, minlength=n_groups)
    return m, mean, ss


def _ba1999(codes, n_groups, x, y, multiplier, confidence, loa_ci):
    mx, xbar, ssx = _group_stats(codes, n_groups, x)
    my, ybar, ssy = _group_stats(codes, n_groups, y)
    keep = (mx > 0) & (my > 0)
    n = int(keep.sum())
    dropped = n_groups - n
    if n < 3:
        raise InputError(f"only {n} subject(s) have both methods measured", field="subject",
                         expected="at least 3 subjects with at least one value of each method")
    mx, my, xbar, ybar, ssx, ssy = (a[keep] for a in (mx, my, xbar, ybar, ssx, ssy))
    dfx, dfy = mx.sum() - n, my.sum() - n
    if dfx <= 0 and dfy <= 0:
        raise InputError("no subject has replicates", field="subject",
                         expected="several rows per subject (use bland_altman for one pair per subject)")
    s2xw = ssx.sum() / dfx if dfx > 0 else 0.0
    s2yw = ssy.sum() / dfy if dfy > 0 else 0.0
    dbar = ybar - xbar
    _check_spread(dbar, "subject mean differences")
    bias = float(dbar.mean())
    s2dbar = float(dbar.var(ddof=1))
    cx, cy = 1 - np.mean(1 / mx), 1 - np.mean(1 / my)
    comps = [(1.0, s2dbar, n - 1), (cy, s2yw, dfy), (cx, s2xw, dfx)]
    se_bias = np.sqrt(s2dbar / n)
    # Bland & Altman 1999 §5.1 use s_d²/n for the bias term of var(LoA) (slightly conservative); this
    # reproduces their published intervals (-63.5, -49.9) and (18.7, 32.2) for Table 1.
    var_total = s2dbar + cy * s2yw + cx * s2xw
    sd, b_ci, (lo, lo_ci), (hi, hi_ci), se_loa = _loa_cis(bias, se_bias, n - 1, comps, multiplier, confidence,
                                                          loa_ci, var_bias_loa=var_total / n)
    note = "true value constant within subject; replicates not paired"
    if dropped:
        note += f"; {dropped} subject(s) without both methods excluded"
    return BlandAltmanResult(
        method="replicates-ba1999", n=int(np.isfinite(x).sum() + np.isfinite(y).sum()), n_subjects=n, bias=bias,
        bias_ci_low=float(b_ci[0]), bias_ci_high=float(b_ci[1]), sd=float(sd), multiplier=multiplier,
        loa_lower=float(lo), loa_lower_ci_low=float(lo_ci[0]), loa_lower_ci_high=float(lo_ci[1]),
        loa_upper=float(hi), loa_upper_ci_low=float(hi_ci[0]), loa_upper_ci_high=float(hi_ci[1]),
        confidence=confidence, loa_ci_method=loa_ci, se_bias=float(se_bias), se_loa=float(se_loa),
        extra={"var_within_reference": float(s2xw), "var_within_candidate": float(s2yw),
               "var_subject_mean_diff": s2dbar, "n_reference": int(mx.sum()), "n_candidate": int(my.sum())},
        note=note)


def _ba2007(codes, n_groups, x, y, multiplier, confidence, loa_ci):
    ok = np.isfinite(x) & np.isfinite(y)
    d = y[ok] - x[ok]
    c = codes[ok]
    m, dbar_i, ssw = _group_stats(c, n_groups, d)
    keep = m > 0
    m, dbar_i, ssw = m[keep], dbar_i[keep], ssw[keep]
    n, big_n = int(keep.sum()), float(m.sum())
    if n < 3:
        raise InputError(f"only {n} subject(s) have paired measurements", field="subject",
                         expected="at least 3 subjects")
    if big_n - n <= 0:
        raise InputError("no subject has paired replicates", field="subject",
                         expected="several paired rows per subject (use bland_altman for one pair per subject)")
    _check_spread(d)
    bias = float(d.mean())
    msb = float(np.sum(m * (dbar_i - bias) ** 2) / (n - 1))
    msw = float(ssw.sum() / (big_n - n))
    lam = (big_n ** 2 - np.sum(m ** 2)) / ((n - 1) * big_n)
    var_b = max((msb - msw) / lam, 0.0)
    comps = [(1 / lam, msb, n - 1), (1 - 1 / lam, msw, big_n - n)]
    if var_b == 0.0:  # between-subject component truncated at 0: only the within part remains
        comps = [(1.0, msw, big_n - n)]
    se_bias = np.sqrt(np.sum(m ** 2) * var_b / big_n ** 2 + msw / big_n)
    sd, b_ci, (lo, lo_ci), (hi, hi_ci), se_loa = _loa_cis(bias, se_bias, n - 1, comps, multiplier, confidence,
                                                          loa_ci)
    note = "true value varies within subject; replicates paired"
    n_unpaired = int((~ok & (np.isfinite(x) | np.isfinite(y))).sum())
    if n_unpaired:
        note += f"; {n_unpaired} unpaired row(s) ignored"
    if var_b == 0.0:
        note += "; between-subject variance of differences estimated <= 0, set to 0"
    return BlandAltmanResult(
        method="replicates-ba2007", n=int(big_n), n_subjects=n, bias=bias, bias_ci_low=float(b_ci[0]),
        bias_ci_high=float(b_ci[1]), sd=float(sd), multiplier=multiplier, loa_lower=float(lo),
        loa_lower_ci_low=float(lo_ci[0]), loa_lower_ci_high=float(lo_ci[1]), loa_upper=float(hi),
        loa_upper_ci_low=float(hi_ci[0]), loa_upper_ci_high=float(hi_ci[1]), confidence=confidence,
        loa_ci_method=loa_ci, se_bias=float(se_bias), se_loa=float(se_loa),
        extra={"var_between": float(var_b), "var_within": msw, "msb": msb, "msw": msw, "lambda": float(lam)},
        note=note)
