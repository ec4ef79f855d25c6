"""Bland-Altman limits of agreement with replicated measurements per subject (Bland & Altman 1999 §5,
2007), with approximate or MOVER confidence intervals of the limits."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError, check_option, validate_type

from .._checks import check_confidence, check_magnitude, check_multiplier, normalise_ids
from .classic import BlandAltmanResult, _check_spread, check_sd


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
    sd = check_sd(float(np.sqrt(var_d)))
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
    multiplier = check_multiplier(multiplier)
    confidence = check_confidence(confidence)
    for col in (subject, reference, candidate):
        if col not in data.columns:
            raise InputError(f"no column named {col!r}", field=col, expected=f"one of {list(data.columns)}")
    try:
        x = pd.to_numeric(data[reference], errors="raise").to_numpy(float)
        y = pd.to_numeric(data[candidate], errors="raise").to_numpy(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"values are not numbers ({exc})", field=f"{reference}/{candidate}") from None
    for name, v in ((reference, x), (candidate, y)):
        # NaN is a missing replicate; an infinity is not missing, it is wrong
        if np.isinf(v).any():
            raise InputError(f"{int(np.isinf(v).sum())} value(s) are infinite (first at index "
                             f"{int(np.flatnonzero(np.isinf(v))[0])})", field=name,
                             expected="finite numbers (NaN for a missing replicate)")
        check_magnitude(v, name, n=v.size)
    # subject ids typed by value, as kappa labels are: ' 7', '7' and 7.0 are one subject
    codes, subjects = pd.factorize(pd.Series(normalise_ids(list(data[subject])), dtype=object), sort=True)
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
