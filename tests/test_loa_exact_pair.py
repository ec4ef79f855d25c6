"""Exact confidence limits of the limits of agreement, individually and as a pair (Carkeet 2015).

Carkeet's own tables (Optom Vis Sci 92:e71-e80, factors for 1 to 1000 degrees of freedom) could not be read: only
the abstract and first page of the paper are stored in the search corpus. The pair factors are therefore checked
against (1) the reference table of pyCompare (jaketmp/pyCompare, tests/referenceCIs.csv), a Python package whose
README states its 'exact paired' method is "the exact paired method described by Carkeet", and (2) the exact
two-sided tolerance factors of ISO 16269-6:2014 Annex F, which is what Carkeet's pair method uses ("two-sided
tolerance factors for a normal distribution", abstract). The individual factors are the one-sided tolerance
factors of Montgomery & Runger (2018) Table XII. No published table of the individual factors at Carkeet's own
levels (content Phi(1.96) = 0.975, confidence 0.025 / 0.975) was found.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from scipy import stats

from ground_truth.kernel import InputError
from harness.agreement import bland_altman, bland_altman_replicates
from harness.agreement.bland_altman.exact_pair import (LOA_CI_NAMES, carkeet_factors, one_sided_tolerance_factor,
                                                       two_sided_tolerance_factor)
from harness.cli import main

PAIR = "exact, the two limits as a pair (Carkeet 2015)"
INDIVIDUAL = "exact, each limit individually (Carkeet 2015)"

# pyCompare tests/referenceCIs.csv (commit 7e9f505f), rows v = degrees of freedom, 4 decimals, computed for limits
# d ± 1.96 s. Its columns are headed 0.025, 0.5, 0.95, 0.975; the second holds the factor at 0.05 (the inner
# bound of a 90 % CI): its values lie between those at 0.025 and 0.95 and, at v = 74, are far below the median
# factor (which is near 1.96), so "0.5" is read as 0.05.
PYCOMPARE = {  # v: (0.025, 0.05, 0.95, 0.975)
    1: (0.9744, 1.1237, 36.5192, 73.0772),
    2: (1.1051, 1.2333, 9.7888, 13.9396),
    4: (1.2397, 1.3481, 5.0769, 6.1569),
    7: (1.3457, 1.4387, 3.7455, 4.2478),
    9: (1.3915, 1.4778, 3.3934, 3.7706),
    16: (1.4900, 1.5619, 2.8683, 3.0824),
    29: (1.5808, 1.6393, 2.5549, 2.6854),
    74: (1.6982, 1.7390, 2.2862, 2.3534),
}


@pytest.mark.parametrize("v", sorted(PYCOMPARE))
def test_pair_factors_match_the_carkeet_table_of_pycompare(v):
    # rel 3e-5: pyCompare's Simpson integration is off by ~2e-5 relative at v = 1 (36.5192 for 36.5198, whose
    # confidence is 0.95000 to 1e-7 by adaptive quadrature); abs 1.5e-4: 4-decimal rounding
    f95 = carkeet_factors(v + 1, multiplier=1.96, confidence=0.95, pair=True)
    f90 = carkeet_factors(v + 1, multiplier=1.96, confidence=0.90, pair=True)
    got = (f95.inner, f90.inner, f90.outer, f95.outer)
    assert got == pytest.approx(PYCOMPARE[v], rel=3e-5, abs=1.5e-4)
    assert f95.method == PAIR and "Carkeet" in f95.citation


# ISO 16269-6:2014 Annex F, column m = 1 (one sample), as quoted in the tests of the toleranceinterval package
# (cjekel/tolerance_interval_py, tests/test_twoside_normal_factor_iso.py, by J. Ludlow): the standard's values are
# rounded UP at the 4th decimal. (content, confidence): {n: k}
ISO_16269_6 = {
    (0.95, 0.95): {5: 5.0769, 10: 3.3935, 26: 2.6188, 90: 2.2519, 200: 2.1430, 1000: 2.0362},  # Table F.5
    (0.95, 0.90): {3: 6.8233, 9: 3.1323, 30: 2.4166, 150: 2.1276},  # Table F.2
    (0.95, 0.99): {2: 182.7201, 9: 4.5810, 40: 2.6836},  # Table F.8
    (0.90, 0.95): {8: 3.1561, 35: 2.0943},  # Table F.4
    (0.99, 0.99): {7: 7.1908, 70: 3.2284},  # Table F.9
}


@pytest.mark.parametrize("level", sorted(ISO_16269_6))
def test_two_sided_factor_matches_iso_16269_6(level):
    content, confidence = level
    for n, table in ISO_16269_6[level].items():
        k = two_sided_tolerance_factor(n, content, confidence)
        assert table - 1e-4 < k <= table + 1e-9, (n, k, table)


# Montgomery DC, Runger GC (2018) Applied Statistics and Probability for Engineers, 7th ed., Table XII (one-sided
# tolerance factors), as quoted in cjekel/tolerance_interval_py tests/test_oneside_normal.py; 3 decimals.
# columns (content, confidence): (.90,.90) (.95,.90) (.99,.90) (.90,.95) (.95,.95) (.99,.95) (.90,.99) (.95,.99)
# (.99,.99)
MONTGOMERY_XII = {
    5: (2.742, 3.400, 4.666, 3.407, 4.203, 5.741, 5.362, 6.578, 8.939),
    10: (2.066, 2.568, 3.532, 2.355, 2.911, 3.981, 3.048, 3.738, 5.074),
    30: (1.657, 2.080, 2.884, 1.777, 2.220, 3.064, 2.030, 2.515, 3.447),
    100: (1.470, 1.861, 2.601, 1.527, 1.927, 2.684, 1.639, 2.056, 2.850),
}
LEVELS = [(p, g) for g in (0.90, 0.95, 0.99) for p in (0.90, 0.95, 0.99)]


@pytest.mark.parametrize("n", sorted(MONTGOMERY_XII))
def test_one_sided_factor_matches_montgomery_table_xii(n):
    got = [one_sided_tolerance_factor(n, p, g) for p, g in LEVELS]
    assert got == pytest.approx(MONTGOMERY_XII[n], abs=6e-4)


def test_bland_altman_bounds_are_bias_plus_the_tabulated_factors_times_sd():
    # n = 10 differences; the bounds must be bias + factor·s with the factors of the tables above.
    d = np.array([3.1, -1.2, 0.4, 2.2, -0.7, 1.9, -2.5, 0.8, 1.1, -0.3])
    ref = np.zeros_like(d)
    b, s = d.mean(), d.std(ddof=1)
    pair = bland_altman(ref, d, multiplier=1.96, confidence=0.95, loa_ci="exact-pair")
    lo, hi = PYCOMPARE[9][0], PYCOMPARE[9][3]
    assert (pair.loa_upper_ci_low, pair.loa_upper_ci_high) == (pytest.approx(b + lo * s, abs=2e-4 * s),
                                                               pytest.approx(b + hi * s, abs=2e-4 * s))
    assert (pair.loa_lower_ci_low, pair.loa_lower_ci_high) == (pytest.approx(b - hi * s, abs=2e-4 * s),
                                                               pytest.approx(b - lo * s, abs=2e-4 * s))
    assert pair.loa_ci_method == "exact-pair" and pair.loa_ci_name == PAIR
    assert pair.to_dict()["loa_ci_name"] == PAIR and pair.to_json_dict()["loa_ci_name"] == PAIR
    # individually, 95 % limits (z = 1.6449, content 0.95) with a 90 % CI: the upper bound is the one-sided
    # factor at confidence 0.95, Montgomery & Runger Table XII n = 10: 2.911
    ind = bland_altman(ref, d, multiplier=float(stats.norm.ppf(0.95)), confidence=0.90, loa_ci="exact")
    assert ind.loa_upper_ci_high == pytest.approx(b + 2.911 * s, abs=6e-4 * s)
    assert ind.loa_lower_ci_low == pytest.approx(b - 2.911 * s, abs=6e-4 * s)
    assert ind.loa_ci_method == "exact" and ind.loa_ci_name == INDIVIDUAL
    assert bland_altman(ref, d).loa_ci_name == "approximate (Bland & Altman 1999)"


def test_pair_against_individual():
    # The pair carries the uncertainty of the SD and only second-order that of the bias (shifting the band
    # changes its content by O(shift²)), so it is NOT wider in general. At n = 3 it is (pair: pyCompare v = 2,
    # 1.1051 to 13.9396; individual: non-central t quantiles of scipy, Carkeet's equation for single limits).
    nct = stats.nct.ppf([0.025, 0.975], 2, 1.96 * np.sqrt(3)) / np.sqrt(3)
    assert PYCOMPARE[2][3] - PYCOMPARE[2][0] > nct[1] - nct[0]
    p3, i3 = carkeet_factors(3), carkeet_factors(3, pair=False)
    assert p3.outer - p3.inner > i3.outer - i3.inner
    assert (i3.inner, i3.outer) == pytest.approx(tuple(nct), rel=1e-9)
    # from n = 30 on it is narrower: the width ratio tends to m/sqrt(2 + m²) (half-widths z·m/sqrt(2n) for the
    # SD alone against z·sqrt(1/n + m²/(2n)), Bland & Altman 1999 §2.2)
    for n in (30, 100, 1000):
        p, i = carkeet_factors(n), carkeet_factors(n, pair=False)
        assert p.outer - p.inner < i.outer - i.inner
    # the pair's inner bound is always nearer the limit (a band holding < 95 % is a weaker statement)
    for n in (3, 5, 10, 30, 100, 1000):
        assert carkeet_factors(n).inner > carkeet_factors(n, pair=False).inner


def test_large_n_individual_tends_to_bland_altman_1999_and_pair_to_howe():
    n, m = 100_000, 1.96
    t = stats.t.ppf(0.975, n - 1)
    half = t * np.sqrt(1 / n + m ** 2 / (2 * (n - 1)))  # Bland & Altman 1999 §2.2
    ind, pair = carkeet_factors(n, pair=False), carkeet_factors(n)
    assert (ind.outer - m) / half == pytest.approx(1, abs=0.005)
    assert (m - ind.inner) / half == pytest.approx(1, abs=0.005)
    # Howe (1969) J Am Stat Assoc 64:610, approximate two-sided factor m·sqrt(nu(1 + 1/n)/chi²_{nu, 1-gamma})
    nu = n - 1
    howe = [m * np.sqrt(nu * (1 + 1 / n) / stats.chi2.ppf(q, nu)) for q in (0.975, 0.025)]
    assert (pair.inner - m) / (howe[0] - m) == pytest.approx(1, abs=1e-4)
    assert (pair.outer - m) / (howe[1] - m) == pytest.approx(1, abs=1e-4)
    assert (pair.outer - pair.inner) / (2 * half) == pytest.approx(m / np.sqrt(2 + m ** 2), abs=1e-3)


@pytest.mark.parametrize("n", [10, 40])
def test_pair_coverage_by_simulation(n):
    # What the pair promises (Carkeet 2015; two-sided tolerance intervals): with probability 0.95 the outer band
    # holds at least 95 % of the differences AND the inner band less than 95 %. The factors depend on n only,
    # so they are read off one bland_altman call; 40000 studies of N(0, 1) differences, SE of a rate 0.0011.
    rng = np.random.default_rng(2015)
    one = rng.normal(size=n)
    r = bland_altman(np.zeros(n), one, loa_ci="exact-pair")
    inner, outer = (r.loa_upper_ci_low - r.bias) / r.sd, (r.loa_upper_ci_high - r.bias) / r.sd
    sims = rng.normal(size=(40000, n))
    mean, sd = sims.mean(axis=1), sims.std(axis=1, ddof=1)
    content = 2 * stats.norm.cdf(1.96) - 1

    def held(k):
        return stats.norm.cdf(mean + k * sd) - stats.norm.cdf(mean - k * sd)

    outer_ok, inner_ok = held(outer) >= content, held(inner) < content
    assert abs(np.mean(outer_ok & inner_ok) - 0.95) < 0.005
    assert abs(np.mean(outer_ok) - 0.975) < 0.004 and abs(np.mean(inner_ok) - 0.975) < 0.004
    # and what it does not promise: each true limit (±1.96) inside its interval is less likely than 95 %
    upper = (mean + inner * sd <= 1.96) & (1.96 <= mean + outer * sd)
    assert np.mean(upper) < 0.92


def test_cli_names_the_method_in_json_and_text(capsys):
    path = str(shared_path("agreement", "ba1986_pefr.csv"))
    base = ["agreement", path, "--reference", "mini1", "--candidate", "wright1"]
    assert main(base + ["--loa-ci", "exact-pair", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["loa_ci_method"] == "exact-pair" and d["loa_ci_name"] == PAIR and d["n"] == 17
    # n = 17: pyCompare v = 16, factors 1.4900 and 3.0824
    lo, hi = PYCOMPARE[16][0], PYCOMPARE[16][3]
    assert d["loa_upper_ci"] == [pytest.approx(d["bias"] + lo * d["sd"], abs=2e-4 * d["sd"]),
                                 pytest.approx(d["bias"] + hi * d["sd"], abs=2e-4 * d["sd"])]
    assert main(base + ["--loa-ci", "exact"]) == 0
    assert f"CI of the limits: {INDIVIDUAL}" in capsys.readouterr().out
    assert main(base + ["--loa-ci", "exact-pair"]) == 0
    assert f"CI of the limits: {PAIR}" in capsys.readouterr().out
    assert main(base) == 0
    assert "CI of the limits: approximate (Bland & Altman 1999)" in capsys.readouterr().out
    # not for replicates nor regression limits: exit 2 naming the option
    rep = str(shared_path("agreement", "ba1999_table4_cardiac_rv_ic.csv"))
    assert main(["agreement", rep, "--reference", "IC", "--candidate", "RV", "--subject", "subject", "--method",
                 "replicates-ba2007", "--loa-ci", "exact-pair"]) == 2
    assert "--loa-ci" in capsys.readouterr().err
    assert main(base + ["--method", "regression", "--loa-ci", "exact-pair"]) == 2
    assert "--loa-ci" in capsys.readouterr().err


def test_study_rows_use_the_pair_and_name_it():
    from types import SimpleNamespace

    from harness.aggregate import agreement_sections

    rng = np.random.default_rng(7)
    truth = rng.normal(10, 2, 8)
    rows = [{"status": "ok", "kind": "paired", "candidate": "cam", "trial_id": f"t{i}", "subject": f"S{i}",
             "protocol": "p", "condition": "c",
             "kpis": [{"kpi": "sway_test_len", "unit": "cm", "reference": float(truth[i]),
                       "candidate": float(truth[i] + rng.normal(0.3, 0.5))}]} for i in range(8)]
    manifest = SimpleNamespace(settings=SimpleNamespace(loa_multiplier=1.96, confidence=0.95, bootstrap=100, seed=0),
                               baseline=None)
    row = agreement_sections(rows, manifest)["agreement"][0]
    assert row["loa_ci_method"] == "exact-pair" and row["loa_ci_name"] == PAIR
    lo, hi = PYCOMPARE[7][0], PYCOMPARE[7][3]  # n = 8 subjects: v = 7
    assert row["loa_upper_ci_low"] == pytest.approx(row["bias"] + lo * row["sd"], abs=2e-4 * row["sd"])
    assert row["loa_upper_ci_high"] == pytest.approx(row["bias"] + hi * row["sd"], abs=2e-4 * row["sd"])
    # several trials per subject: MOVER (Zou 2013), named as such
    for r in rows:
        r["subject"] = f"S{int(r['trial_id'][1:]) // 2}"
    row = agreement_sections(rows, manifest)["agreement"][0]
    assert row["loa_ci_method"] == "mover" and row["loa_ci_name"] == LOA_CI_NAMES["mover"]


def test_replicates_and_bad_input():
    d = np.array([1.0, 2.0, 1.5, 0.5])
    frame = {"s": [1, 1, 2, 2, 3, 3], "r": [1.0, 1.2, 2.0, 2.1, 3.0, 2.9], "c": [1.1, 1.4, 2.2, 2.0, 3.3, 3.1]}
    res = bland_altman_replicates(pd.DataFrame(frame), subject="s", reference="r", candidate="c", loa_ci="mover")
    assert res.loa_ci_name == "MOVER (Zou 2013)"
    with pytest.raises(InputError, match="mover"):
        bland_altman(np.zeros(4), d, loa_ci="mover")
    with pytest.raises(InputError, match="n is"):
        carkeet_factors(1)
    with pytest.raises(InputError, match="n is"):
        carkeet_factors(4.5)
    with pytest.raises(InputError, match="content"):
        two_sided_tolerance_factor(10, 1.0, 0.95)
    with pytest.raises(InputError, match="confidence"):
        carkeet_factors(10, confidence=1.0)
    with pytest.raises(InputError, match="multiplier"):
        carkeet_factors(10, multiplier=-1)
    # extreme but valid multipliers stay finite: the content is solved on the log of the tail mass
    far = carkeet_factors(5, multiplier=40.0, confidence=0.999)
    assert 0 < far.inner < 40.0 < far.outer < np.inf


def test_the_report_sentence_reads_the_pair_bounds_as_a_tolerance_statement():
    # the pair bounds are not a CI of each limit (docs/agreement.md): the report must not read them as one
    from reports.language import agreement_sentences
    row = {"candidate": "c", "unit": "cm", "bias": 0.1, "loa_lower": -1.0, "loa_upper": 1.2, "multiplier": 1.96,
           "loa_lower_ci_low": -1.5, "loa_upper_ci_high": 1.7}
    pair = " ".join(agreement_sentences({**row, "loa_ci_method": "exact-pair"}))
    single = " ".join(agreement_sentences({**row, "loa_ci_method": "exact"}))
    assert "with 97.5% confidence at least 95% of differences lie within it" in pair
    assert "97.5%" not in single and "could be as wide as" in single
