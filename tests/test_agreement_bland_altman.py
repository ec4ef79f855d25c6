"""Bland-Altman limits of agreement against the published worked examples.

Published numbers are quoted with their source; the tolerance is the paper's rounding.
Differences are candidate - reference throughout, so each example names which column plays which role.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from scipy import stats

from ground_truth.kernel import InputError
from harness.agreement import bland_altman, bland_altman_regression, bland_altman_replicates


def _csv(name):
    return pd.read_csv(shared_path("agreement", name))


def test_ba1986_pefr_first_readings():
    # Bland & Altman 1986 Lancet i:307, PEFR first readings, difference Wright - mini Wright, limits bias ± 2 SD:
    # bias -2.1, SD 38.8, limits -79.7 to 75.5, SE bias 9.4, bias CI -22.0 to 17.8, SE limit sqrt(3s²/n) = 16.3,
    # lower limit CI -114.3 to -45.1, upper 40.9 to 110.1 (as listed in ../shared/data/agreement/README.md).
    d = _csv("ba1986_pefr.csv")
    r = bland_altman(d["mini1"], d["wright1"], multiplier=2, loa_ci="approximate-1986")
    assert r.n == 17
    assert r.bias == pytest.approx(-2.1, abs=0.05)
    assert r.sd == pytest.approx(38.8, abs=0.05)
    # the paper computes the limits from the rounded bias and SD (-2.1 ± 2·38.8), hence 0.06
    assert (r.loa_lower, r.loa_upper) == (pytest.approx(-79.7, abs=0.06), pytest.approx(75.5, abs=0.1))
    assert r.se_bias == pytest.approx(9.4, abs=0.05)
    assert (r.bias_ci_low, r.bias_ci_high) == (pytest.approx(-22.0, abs=0.05), pytest.approx(17.8, abs=0.05))
    assert r.se_loa == pytest.approx(16.3, abs=0.05)
    # the paper multiplies the rounded SE 16.3 by t = 2.12, hence 0.15 tolerance on the bounds
    assert r.loa_lower_ci_low == pytest.approx(-114.3, abs=0.15)
    assert r.loa_lower_ci_high == pytest.approx(-45.1, abs=0.15)
    assert r.loa_upper_ci_low == pytest.approx(40.9, abs=0.15)
    assert r.loa_upper_ci_high == pytest.approx(110.1, abs=0.2)


def test_giavarina_2015():
    # Giavarina 2015 Biochem Med 25:141, difference A - B: bias -27.17, SD 34.81, limits -95.39 to 41.05, SE bias 6.35,
    # bias CI -40.16 to -14.17, SE limit 11.01, lower limit CI -117.9 to -72.88, upper limit CI lower bound 18.54.
    d = _csv("giavarina2015.csv")
    r = bland_altman(d["B"], d["A"], loa_ci="approximate-1986")
    assert r.bias == pytest.approx(-27.17, abs=0.005)
    assert r.sd == pytest.approx(34.81, abs=0.005)
    assert r.loa_lower == pytest.approx(-95.39, abs=0.005)
    assert r.loa_upper == pytest.approx(41.05, abs=0.005)
    assert r.se_bias == pytest.approx(6.35, abs=0.005)
    assert (r.bias_ci_low, r.bias_ci_high) == (pytest.approx(-40.16, abs=0.005), pytest.approx(-14.17, abs=0.005))
    assert r.se_loa == pytest.approx(11.01, abs=0.005)
    assert r.loa_lower_ci_low == pytest.approx(-117.9, abs=0.05)
    assert r.loa_lower_ci_high == pytest.approx(-72.88, abs=0.01)
    assert r.loa_upper_ci_low == pytest.approx(18.54, abs=0.01)


def test_ba1999_section2_first_readings_j_minus_s():
    # Bland & Altman 1999 Stat Methods Med Res 8:135, §2 and §2.2 (pages 136-142), observer J minus machine S, first
    # readings: bias -16.29, SD 19.61, limits -54.7 to 22.1, bias CI -20.5 to -12.1, lower limit CI -61.9 to -47.5,
    # upper 14.9 to 29.3 (the paper centres the rounded limits; 0.15 tolerance). Values as quoted in
    # erikhuizinga/Bland-Altman-Analysis bademo.m.
    d = _csv("ba1999_table1_sbp.csv")
    r = bland_altman(d["S1"], d["J1"])
    assert r.bias == pytest.approx(-16.29, abs=0.005)
    assert r.sd == pytest.approx(19.61, abs=0.005)
    assert (r.loa_lower, r.loa_upper) == (pytest.approx(-54.7, abs=0.05), pytest.approx(22.1, abs=0.05))
    assert (r.bias_ci_low, r.bias_ci_high) == (pytest.approx(-20.5, abs=0.05), pytest.approx(-12.1, abs=0.05))
    assert r.loa_lower_ci_low == pytest.approx(-61.9, abs=0.15)
    assert r.loa_lower_ci_high == pytest.approx(-47.5, abs=0.15)
    assert r.loa_upper_ci_low == pytest.approx(14.9, abs=0.15)
    assert r.loa_upper_ci_high == pytest.approx(29.3, abs=0.15)


def test_ba1999_section5_equal_replicates():
    # Bland & Altman 1999 §5.1 (pp. 151-153), J vs S with 3 replicates each: within-subject variances 37.408 (J) and
    # 83.141 (S), bias -15.62, SD 20.95, limits -56.68 to 25.44, CIs of the limits -63.5 to -49.9 and 18.7 to 32.2.
    d = _csv("ba1999_table1_sbp.csv")
    long = pd.DataFrame({"subject": np.repeat(d["subject"].to_numpy(), 3),
                         "J": d[["J1", "J2", "J3"]].to_numpy().ravel(), "S": d[["S1", "S2", "S3"]].to_numpy().ravel()})
    r = bland_altman_replicates(long, subject="subject", reference="S", candidate="J", method="ba1999")
    assert r.n_subjects == 85
    assert r.extra["var_within_candidate"] == pytest.approx(37.408, abs=0.0005)
    assert r.extra["var_within_reference"] == pytest.approx(83.141, abs=0.0005)
    assert r.bias == pytest.approx(-15.62, abs=0.005)
    assert r.sd == pytest.approx(20.95, abs=0.005)
    assert (r.loa_lower, r.loa_upper) == (pytest.approx(-56.68, abs=0.005), pytest.approx(25.44, abs=0.005))
    assert (r.loa_lower_ci_low, r.loa_lower_ci_high) == (pytest.approx(-63.5, abs=0.05), pytest.approx(-49.9, abs=0.05))
    assert (r.loa_upper_ci_low, r.loa_upper_ci_high) == (pytest.approx(18.7, abs=0.05), pytest.approx(32.2, abs=0.05))
    # MOVER (Zou 2013) intervals contain the limits and are no narrower on the side the chi-square skews
    m = bland_altman_replicates(long, subject="subject", reference="S", candidate="J", loa_ci="mover")
    assert m.loa_lower_ci_low < m.loa_lower < m.loa_lower_ci_high
    assert m.loa_upper_ci_high - m.loa_upper > m.loa_upper - m.loa_upper_ci_low


def test_ba1999_log_limits_plasma_volume():
    # Bland & Altman 1999 §3.1 (p. 143-145), log(Nadler) - log(Hurley): mean 0.099, limits 0.056 to 0.141, lower limit
    # CI 0.049 to 0.064; back-transformed ratio limits 1.06 to 1.15.
    d = _csv("ba1999_table2_plasma_volume.csv")
    r = bland_altman(d["Hurley"], d["Nadler"], scale="log")
    assert r.bias == pytest.approx(0.099, abs=0.0005)
    assert (r.loa_lower, r.loa_upper) == (pytest.approx(0.056, abs=0.0005), pytest.approx(0.141, abs=0.0005))
    assert (r.loa_lower_ci_low, r.loa_lower_ci_high) == (pytest.approx(0.049, abs=0.0005),
                                                         pytest.approx(0.064, abs=0.0005))
    assert r.extra["ratio_loa_lower"] == pytest.approx(1.06, abs=0.005)
    assert r.extra["ratio_loa_upper"] == pytest.approx(1.15, abs=0.005)
    with pytest.raises(InputError, match="positive"):
        bland_altman([1.0, 2.0, -1.0], [1.0, 2.5, 1.0], scale="log")


def test_ba1999_regression_limits_milk_fat():
    # Bland & Altman 1999 §3.2 (p. 145-148), Trig - Gerber: residual SD of the difference-on-mean regression 0.08033
    # (value as computed in erikhuizinga/Bland-Altman-Analysis bademo.m from Table 3).
    d = _csv("ba1999_table3_milk_fat.csv")
    r = bland_altman_regression(d["Gerber"], d["Trig"])
    assert r.residual_sd == pytest.approx(0.08033, abs=5e-6)
    # independent check of the two regressions with scipy
    diff, mean = d["Trig"] - d["Gerber"], (d["Trig"] + d["Gerber"]) / 2
    fit = stats.linregress(mean, diff)
    assert (r.bias_slope, r.bias_intercept) == (pytest.approx(fit.slope), pytest.approx(fit.intercept))
    fit2 = stats.linregress(mean, np.abs(diff - fit.intercept - fit.slope * mean))
    lim = r.limits_at([2.0, 4.0])
    expected_sd = np.sqrt(np.pi / 2) * (fit2.intercept + fit2.slope * np.array([2.0, 4.0]))
    np.testing.assert_allclose(lim["loa_upper"] - lim["bias"], 1.96 * expected_sd)
    # the scalar values are those at the mean of the pair means, with their CIs
    at = r.at_mean()
    assert at["bias"] == pytest.approx(float(r.limits_at(r.mean_of_means)["bias"][0]))
    assert at["bias_ci_low"] < at["bias"] < at["bias_ci_high"] and at["loa_upper_ci_low"] < at["loa_upper"]
    assert at["bias_ci_high"] - at["bias"] == pytest.approx(
        stats.t.ppf(0.975, r.n - 2) * r.residual_sd / np.sqrt(r.n))


def test_regression_limit_cis_cover_near_nominal_rate():
    # Approximate CIs at the mean of the pair means (delta method). Simulated studies of n = 40 pairs whose bias
    # and SD both grow with magnitude; measured over 3000 studies: bias 94.1%, upper limit 92.7% (the
    # approximate limits undercover a little at small n, as the classic approximate method does).
    rng = np.random.default_rng(1)
    hit_b = hit_u = 0
    n_sim = 1500
    for _ in range(n_sim):
        a = rng.uniform(1, 5, 40)
        d = 0.1 + 0.05 * a + rng.normal(0, 1, 40) * (0.05 + 0.05 * a)
        r = bland_altman_regression(a - d / 2, a + d / 2)
        at, m = r.at_mean(), r.mean_of_means
        hit_b += at["bias_ci_low"] <= 0.1 + 0.05 * m <= at["bias_ci_high"]
        hit_u += at["loa_upper_ci_low"] <= 0.1 + 0.05 * m + 1.96 * (0.05 + 0.05 * m) <= at["loa_upper_ci_high"]
    assert 0.93 < hit_b / n_sim < 0.97 and 0.90 < hit_u / n_sim < 0.96, (hit_b / n_sim, hit_u / n_sim)


def test_proportional_bias_and_percent_scale():
    # Milk fat (BA1999 Table 3): Trig - Gerber grows with the fat content. The proportional-bias slope is the
    # regression of the difference on the pair mean (BA1999 §3.2), with its t-based CI and p.
    d = _csv("ba1999_table3_milk_fat.csv")
    ref, cand = d["Gerber"].to_numpy(float), d["Trig"].to_numpy(float)
    r = bland_altman(ref, cand)
    fit = stats.linregress((ref + cand) / 2, cand - ref)
    tq = stats.t.ppf(0.975, ref.size - 2)
    assert r.extra["prop_bias_slope"] == pytest.approx(fit.slope)
    assert r.extra["prop_bias_p"] == pytest.approx(fit.pvalue)
    assert (r.extra["prop_bias_slope_ci_low"], r.extra["prop_bias_slope_ci_high"]) == (
        pytest.approx(fit.slope - tq * fit.stderr), pytest.approx(fit.slope + tq * fit.stderr))
    # percent: differences as a percentage of the pair mean, then the classic method on them
    pc = bland_altman(ref, cand, scale="percent")
    pct = 100 * (cand - ref) / ((cand + ref) / 2)
    assert pc.bias == pytest.approx(pct.mean()) and pc.sd == pytest.approx(pct.std(ddof=1))
    assert pc.loa_upper == pytest.approx(pct.mean() + 1.96 * pct.std(ddof=1)) and "100*" in pc.note


def test_exact_carkeet_intervals_cover_at_nominal_rate():
    # Carkeet 2015 Optom Vis Sci 92:e71: exact CIs of the limits from the non-central t. The bounds are
    # bias + s·q with q depending only on n, so q is read off one call and the coverage of the true upper
    # limit (1.96 for N(0, 1) differences) is checked on 20000 simulated studies of n = 10, where the
    # approximate interval is known to undercover.
    rng = np.random.default_rng(42)
    n = 10
    one = rng.normal(size=n)
    e = bland_altman(np.zeros(n), one, loa_ci="exact")
    a = bland_altman(np.zeros(n), one, loa_ci="approximate")
    q_exact = (np.array([e.loa_upper_ci_low, e.loa_upper_ci_high]) - e.bias) / e.sd
    q_approx = (np.array([a.loa_upper_ci_low, a.loa_upper_ci_high]) - a.bias) / a.sd
    sims = rng.normal(size=(20000, n))
    m, s = sims.mean(axis=1), sims.std(axis=1, ddof=1)
    cover_exact = np.mean((m + q_exact[0] * s <= 1.96) & (1.96 <= m + q_exact[1] * s))
    cover_approx = np.mean((m + q_approx[0] * s <= 1.96) & (1.96 <= m + q_approx[1] * s))
    assert abs(cover_exact - 0.95) < 0.006
    assert cover_approx < cover_exact - 0.01


def test_exact_and_approximate_agree_for_large_n():
    rng = np.random.default_rng(0)
    r = rng.normal(10, 1, 4000)
    c = r + rng.normal(0.5, 1, 4000)
    e = bland_altman(r, c, loa_ci="exact")
    a = bland_altman(r, c, loa_ci="approximate")
    assert e.loa_lower_ci_low == pytest.approx(a.loa_lower_ci_low, abs=0.01)
    assert e.loa_upper_ci_high == pytest.approx(a.loa_upper_ci_high, abs=0.01)


def test_replicates_unequal_numbers_and_paired_methods():
    d = _csv("ba1999_table4_cardiac_rv_ic.csv")  # RV vs IC, 12 subjects, 1-6 replicates (BA1999 Table 4, BA2007)
    r99 = bland_altman_replicates(d, subject="subject", reference="IC", candidate="RV", method="ba1999")
    r07 = bland_altman_replicates(d, subject="subject", reference="IC", candidate="RV", method="ba2007")
    assert r99.n_subjects == r07.n_subjects == 12
    # ba1999 bias is the mean of the subject mean differences; ba2007 the mean of all paired differences
    diffs = d["RV"] - d["IC"]
    assert r07.bias == pytest.approx(diffs.mean())
    assert r99.bias == pytest.approx(diffs.groupby(d["subject"]).mean().mean())
    # ba2007 variance components equal the one-way ANOVA of the differences (independent: statsmodels)
    import statsmodels.api as sm
    from statsmodels.formula.api import ols
    frame = pd.DataFrame({"d": diffs, "s": d["subject"].astype(str)})
    aov = sm.stats.anova_lm(ols("d ~ C(s)", frame).fit())
    assert r07.extra["msb"] == pytest.approx(aov["mean_sq"].iloc[0])
    assert r07.extra["msw"] == pytest.approx(aov["mean_sq"].iloc[1])
    m = d.groupby("subject").size().to_numpy()
    lam = (m.sum() ** 2 - (m ** 2).sum()) / ((len(m) - 1) * m.sum())
    var = (aov["mean_sq"].iloc[0] - aov["mean_sq"].iloc[1]) / lam + aov["mean_sq"].iloc[1]
    assert r07.sd == pytest.approx(np.sqrt(var))
    mover = bland_altman_replicates(d, subject="subject", reference="IC", candidate="RV", method="ba2007",
                                    loa_ci="mover")
    assert mover.loa_lower_ci_low < mover.loa_lower < mover.loa_lower_ci_high
    assert mover.loa_upper_ci_low < mover.loa_upper < mover.loa_upper_ci_high


def test_ba1999_unequal_reduces_to_equal_and_missing_means_fewer_replicates():
    d = _csv("ba1999_table1_sbp.csv").iloc[:30]
    long = pd.DataFrame({"s": np.repeat(d["subject"].to_numpy(), 3), "J": d[["J1", "J2", "J3"]].to_numpy().ravel(),
                         "S": d[["S1", "S2", "S3"]].to_numpy().ravel()})
    full = bland_altman_replicates(long, subject="s", reference="S", candidate="J")
    # dropping one J reading of subject 1 changes its replicate count, not the analysis' validity
    gap = long.copy()
    gap.loc[0, "J"] = np.nan
    part = bland_altman_replicates(gap, subject="s", reference="S", candidate="J")
    assert part.extra["n_candidate"] == full.extra["n_candidate"] - 1
    assert part.sd == pytest.approx(full.sd, rel=0.05)


@pytest.mark.parametrize("bad, match", [
    (([1, 2, 3], [1, 2]), "has 3 values but candidate has 2"),
    (([1, 2], [1, 2]), "at least 3 pairs"),
    (([1, 2, np.nan, 4], [1, 2, 3, 4]), "NaN"),
    (([1, 2, 3, 4], [2, 3, 4, 5]), "identical"),
])
def test_bad_input_is_a_clear_error(bad, match):
    with pytest.raises(InputError, match=match):
        bland_altman(*bad)


def test_replicates_bad_input():
    frame = pd.DataFrame({"s": [1, 2, 3], "r": [1.0, 2.0, 3.0], "c": [1.5, 2.0, 3.5]})
    with pytest.raises(InputError, match="no subject has replicates"):
        bland_altman_replicates(frame, subject="s", reference="r", candidate="c")
    with pytest.raises(InputError, match="no column named 'x'"):
        bland_altman_replicates(frame, subject="x", reference="r", candidate="c")


def test_mover_matches_zou_2013_formula_written_out():
    # Zou 2013 Stat Methods Med Res 22:630, true value constant (the formula as implemented in
    # SimplyAgree::agree_reps, whose test reproduces Zou's example): written out here step by step on the
    # BA1999 Table 4 cardiac output data and compared with bland_altman_replicates(..., loa_ci='mover').
    from scipy.stats import chi2, norm
    d = _csv("ba1999_table4_cardiac_rv_ic.csv")
    g = d.groupby("subject")
    mx, my = g["IC"].count(), g["RV"].count()
    dbar = g["RV"].mean() - g["IC"].mean()
    n = len(dbar)
    sxw = (g["IC"].var(ddof=1) * (mx - 1)).sum() / (mx.sum() - n)
    syw = (g["RV"].var(ddof=1) * (my - 1)).sum() / (my.sum() - n)
    cx, cy = 1 - (1 / mx).mean(), 1 - (1 / my).mean()
    tot = dbar.var(ddof=1) + cx * sxw + cy * syw
    comps = [(dbar.var(ddof=1), n - 1, 1.0), (sxw, mx.sum() - n, cx), (syw, my.sum() - n, cy)]
    lo_v = tot - np.sqrt(sum((c * v * (1 - df / chi2.ppf(0.975, df))) ** 2 for v, df, c in comps))
    hi_v = tot + np.sqrt(sum((c * v * (1 - df / chi2.ppf(0.025, df))) ** 2 for v, df, c in comps))
    z = norm.ppf(0.975)
    lme = np.sqrt(z ** 2 * dbar.var(ddof=1) / n + 1.96 ** 2 * (np.sqrt(hi_v) - np.sqrt(tot)) ** 2)
    rme = np.sqrt(z ** 2 * dbar.var(ddof=1) / n + 1.96 ** 2 * (np.sqrt(tot) - np.sqrt(lo_v)) ** 2)
    loa_l = dbar.mean() - 1.96 * np.sqrt(tot)
    r = bland_altman_replicates(d, subject="subject", reference="IC", candidate="RV", loa_ci="mover")
    assert r.loa_lower == pytest.approx(loa_l)
    assert (r.loa_lower_ci_low, r.loa_lower_ci_high) == (pytest.approx(loa_l - lme), pytest.approx(loa_l + rme))
