"""Subject-clustered bootstrap, equivalence / non-inferiority, CCC and censoring."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from statsmodels.stats.weightstats import ttost_paired

from ground_truth.kernel import InputError
from harness.agreement import (agreement_summary, bootstrap_ci, ccc, censored_at, compare_errors, handle_censored,
                               tost_paired)


def test_vectorized_and_loop_bootstrap_agree():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    cl = np.repeat(np.arange(20), 3)
    loop = bootstrap_ci(np.mean, x, clusters=cl, n_resamples=400, seed=5)
    vec = bootstrap_ci(lambda a: a.mean(axis=-1), x, clusters=cl, n_resamples=400, seed=5, vectorized=True)
    assert (loop.ci_low, loop.ci_high) == (pytest.approx(vec.ci_low), pytest.approx(vec.ci_high))
    assert loop.n_clusters == 20


def test_cluster_bootstrap_is_wider_than_row_bootstrap_for_clustered_data():
    # strong subject effect: resampling rows ignores the clustering and understates the uncertainty
    rng = np.random.default_rng(1)
    subj = np.repeat(np.arange(15), 8)
    x = rng.normal(size=15)[subj] + 0.2 * rng.normal(size=subj.size)
    by_subject = bootstrap_ci(np.mean, x, clusters=subj, n_resamples=1000)
    by_row = bootstrap_ci(np.mean, x, n_resamples=1000)
    assert (by_subject.ci_high - by_subject.ci_low) > 2 * (by_row.ci_high - by_row.ci_low)


def test_tost_equals_statsmodels():
    rng = np.random.default_rng(2)
    r = rng.normal(10, 2, 30)
    c = r + rng.normal(0.2, 0.5, 30)
    t = tost_paired(r, c, low=-0.5, high=0.5)
    p, lower, upper = ttost_paired(c, r, -0.5, 0.5)
    assert t.p == pytest.approx(p)
    assert (t.t_lower, t.t_upper) == (pytest.approx(lower[0]), pytest.approx(upper[0]))
    assert t.equivalent == (p < 0.05)
    assert t.ci_low > -0.5 and t.ci_high < 0.5  # equivalence <=> 90 % CI inside the bounds


def test_compare_errors_non_inferiority():
    rng = np.random.default_rng(3)
    subj = np.repeat(np.arange(30), 4)
    ref = rng.normal(20, 5, subj.size)
    noise = rng.normal(size=subj.size)
    baseline = ref + 1.0 * noise
    same = ref + 1.0 * rng.normal(size=subj.size)
    worse = ref + 2.5 * rng.normal(size=subj.size)
    ok = compare_errors(ref, same, baseline, subjects=subj, margin=0.4)
    bad = compare_errors(ref, worse, baseline, subjects=subj, margin=0.4)
    assert ok.non_inferior and not bad.non_inferior
    assert ok.diff == pytest.approx(np.mean(np.abs(same - ref)) - np.mean(np.abs(baseline - ref)))
    assert ok.diff_ci_low < ok.diff < ok.diff_ci_high < 0.4
    assert bad.diff_ci_low > 0.4
    assert ok.n_subjects == 30 and ok.method == "paired subject-clustered bootstrap"
    rm = compare_errors(ref, same, baseline, subjects=subj, metric="rmse")
    assert rm.candidate_value == pytest.approx(np.sqrt(np.mean((same - ref) ** 2)))


def test_compare_errors_is_paired():
    # a candidate equal to the baseline plus a tiny shift: pairing makes the difference CI tight around the shift
    rng = np.random.default_rng(4)
    ref = rng.normal(size=200)
    base = ref + rng.normal(size=200) * 3 + 10  # all errors positive and large
    cand = base + 0.01
    out = compare_errors(ref, cand, base, margin=0.05)
    assert out.diff == pytest.approx(0.01)
    assert out.diff_ci_high - out.diff_ci_low < 1e-9
    assert out.non_inferior


def test_ccc_published_and_formula():
    # torchmetrics ConcordanceCorrCoef docs: target [3, -0.5, 2, 7], preds [2.5, 0, 2, 8] -> 0.9777. torchmetrics
    # uses n-1 moments; Lin (1989) uses n, which gives 0.97679 on the same data. Both conventions are checked.
    t, p = np.array([3, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])
    r = ccc(t, p)
    assert r.ccc == pytest.approx(0.97679, abs=5e-6)
    s1 = np.cov(t, p, ddof=1)
    assert 2 * s1[0, 1] / (s1[0, 0] + s1[1, 1] + (t.mean() - p.mean()) ** 2) == pytest.approx(0.9777, abs=5e-5)
    d = pd.read_csv(shared_path("agreement", "ba1986_pefr.csv"))
    x, y = d["mini1"].to_numpy(float), d["wright1"].to_numpy(float)
    res = ccc(x, y)
    # Lin 1989: 2 s_xy / (s_x² + s_y² + (mean difference)²), moments with denominator n; CCC = r · C_b
    s = np.cov(x, y, ddof=0)
    assert res.ccc == pytest.approx(2 * s[0, 1] / (s[0, 0] + s[1, 1] + (x.mean() - y.mean()) ** 2))
    assert res.ccc == pytest.approx(res.pearson_r * res.bias_correction)
    assert res.ccc_ci_low < res.ccc < res.ccc_ci_high <= 1
    with pytest.raises(InputError, match="constant"):
        ccc([1, 1, 1, 1], [1, 2, 3, 4])


def test_ccc_ci_coverage():
    rng = np.random.default_rng(7)
    rho, n, hits, reps = 0.8, 40, 0, 400
    cov = [[1, rho], [rho, 1]]
    for _ in range(reps):
        xy = rng.multivariate_normal([0, 0], cov, n)
        r = ccc(xy[:, 0], xy[:, 1])
        hits += r.ccc_ci_low <= rho <= r.ccc_ci_high
    assert abs(hits / reps - 0.95) < 0.04


def test_censoring_is_explicit():
    ttf_ref = np.array([12.0, 30.0, 25.0, 30.0, 8.0])
    ttf_cand = np.array([11.0, 30.0, 30.0, 27.0, 9.0])
    cap = 30.0
    keep, rep = handle_censored(ttf_ref, ttf_cand, reference_censored=censored_at(ttf_ref, cap),
                                candidate_censored=censored_at(ttf_cand, cap))
    assert keep.tolist() == [True, False, False, False, True]
    assert rep.n_censored == 3 and "censored" in rep.note
    with pytest.raises(InputError, match="censored"):
        handle_censored(ttf_ref, ttf_cand, reference_censored=censored_at(ttf_ref, cap), policy="raise")
    # per-trial caps (trials of different lengths)
    assert censored_at([10, 20, np.nan], [10, 30, 30]).tolist() == [True, False, False]


def test_agreement_summary_schema_fields_and_censoring():
    rng = np.random.default_rng(8)
    subj = np.repeat(np.arange(12), 3)
    ref = rng.uniform(5, 30, subj.size)
    cand = ref + rng.normal(0.5, 1.0, subj.size)
    cens = censored_at(ref, 29.0)
    out = agreement_summary(ref, cand, subjects=subj, reference_censored=cens, n_resamples=300)
    for key in ("n", "n_subjects", "bias", "bias_ci_low", "bias_ci_high", "sd", "multiplier", "loa_lower",
                "loa_lower_ci_low", "loa_lower_ci_high", "loa_upper", "loa_upper_ci_low", "loa_upper_ci_high",
                "icc_type", "icc", "icc_ci_low", "icc_ci_high", "icc_interpretation", "ccc", "ccc_ci_low",
                "ccc_ci_high", "mae", "mae_ci_low", "mae_ci_high", "n_censored", "note"):
        assert key in out
    assert out["n"] == subj.size - cens.sum() and out["n_censored"] == cens.sum()
    assert out["ba_method"] == "replicates-ba2007"
    assert (cens.sum() == 0) or "censored" in out["note"]
    assert out["mae_ci_low"] < out["mae"] < out["mae_ci_high"]


def test_bootstrap_bad_input():
    with pytest.raises(InputError, match="at least 3 subjects"):
        bootstrap_ci(np.mean, np.arange(4.0), clusters=[1, 1, 2, 2])
    with pytest.raises(InputError, match="n_resamples"):
        bootstrap_ci(np.mean, np.arange(10.0), n_resamples=5)
    with pytest.raises(InputError, match="equal size"):
        bootstrap_ci(lambda a: a.mean(-1), np.arange(7.0), clusters=[1, 1, 2, 2, 3, 3, 3], vectorized=True)
