"""ICC: equal to pingouin.intraclass_corr at full precision, and to published examples."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from conftest import shared_path

from ground_truth.kernel import InputError
from harness.agreement import ICC_TYPES, bootstrap_icc, icc, koo_li, koo_li_category, sem_mdc


def _long(name, id_col):
    wide = pd.read_csv(shared_path("agreement", name))
    return wide.melt(id_vars=id_col, var_name="rater", value_name="y")


@pytest.fixture
def unrounded_pingouin():
    # pingouin rounds the CI95 column to 2 decimals by default (pingouin.config: options["round.column.CI95"] = 2,
    # applied in utils._postprocess_dataframe); switch that off for a full-precision comparison.
    old = dict(pg.options)
    pg.options["round"] = None
    pg.options["round.column.CI95"] = None
    yield
    pg.options.clear()
    pg.options.update(old)


def _assert_same_as_pingouin(data, targets, raters, ratings):
    ours = icc(data, targets, raters, ratings)
    ref = pg.intraclass_corr(data=data, targets=targets, raters=raters, ratings=ratings)
    assert list(ours["type"]) == list(ref["Type"])
    np.testing.assert_allclose(ours["icc"], ref["ICC"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours["f"], ref["F"], rtol=1e-12)
    np.testing.assert_allclose(ours["p"], ref["pval"], rtol=1e-9, atol=1e-300)
    np.testing.assert_array_equal(ours["df1"], ref["df1"])
    np.testing.assert_allclose(ours["df2"], ref["df2"], rtol=1e-12)
    ci = np.vstack(ref["CI95"].to_numpy())
    np.testing.assert_allclose(ours[["ci_low", "ci_high"]].to_numpy(), ci, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, id_col", [("shrout_fleiss_1979.csv", "target"), ("irr_anxiety.csv", "subject"),
                                          ("weir2005_dataset_A.csv", "subject")])
def test_equals_pingouin_full_precision(unrounded_pingouin, name, id_col):
    _assert_same_as_pingouin(_long(name, id_col), id_col, "rater", "y")


def test_equals_pingouin_on_wine_long_format(unrounded_pingouin):
    data = pd.read_csv(shared_path("agreement", "realstats_wine_icc_long.csv"))
    _assert_same_as_pingouin(data, "Wine", "Judge", "Scores")
    # published wine example (README of ../shared/data/agreement; pingouin docs):
    # 0.728, 0.728, 0.729, 0.914, 0.914, 0.915
    vals = icc(data, "Wine", "Judge", "Scores")["icc"].to_numpy()
    np.testing.assert_allclose(vals, [0.728, 0.728, 0.729, 0.914, 0.914, 0.915], atol=5e-4)


def test_equals_pingouin_random_data(unrounded_pingouin):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(40, 1)) + rng.normal(size=(40, 5)) + np.arange(5) * 0.3
    data = pd.DataFrame(y).rename_axis("t").reset_index().melt(id_vars="t", var_name="r", value_name="y")
    _assert_same_as_pingouin(data, "t", "r", "y")


def test_shrout_fleiss_1979_published():
    # Shrout & Fleiss 1979 Table 2 data as printed by R psych::ICC (README of ../shared/data/agreement):
    # ICC(1,1) 0.17 [-0.133, 0.72]; ICC(A,1) 0.29 [0.019, 0.76]; ICC(C,1) 0.71 [0.342, 0.95];
    # ICC(1,k) 0.44 [-0.884, 0.91]; ICC(A,k) 0.62 [0.071, 0.93]; ICC(C,k) 0.91 [0.676, 0.99];
    # one-way F 1.79 (p 0.165), two-way F 11.03 (p 0.000135).
    t = icc(_long("shrout_fleiss_1979.csv", "target"), "target", "rater", "y").set_index("type")
    published = {"ICC(1,1)": (0.17, -0.133, 0.72), "ICC(A,1)": (0.29, 0.019, 0.76), "ICC(C,1)": (0.71, 0.342, 0.95),
                 "ICC(1,k)": (0.44, -0.884, 0.91), "ICC(A,k)": (0.62, 0.071, 0.93), "ICC(C,k)": (0.91, 0.676, 0.99)}
    for name, (v, lo, hi) in published.items():
        assert t.loc[name, "icc"] == pytest.approx(v, abs=0.005)
        assert t.loc[name, "ci_low"] == pytest.approx(lo, abs=0.0005)
        assert t.loc[name, "ci_high"] == pytest.approx(hi, abs=0.005)
    assert t.loc["ICC(1,1)", "f"] == pytest.approx(1.79, abs=0.005)
    assert t.loc["ICC(1,1)", "p"] == pytest.approx(0.165, abs=0.0005)
    assert t.loc["ICC(A,1)", "f"] == pytest.approx(11.03, abs=0.005)
    assert t.loc["ICC(A,1)", "p"] == pytest.approx(0.000135, abs=5e-7)
    assert list(t["shrout_fleiss"]) == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


def test_irr_anxiety_agreement():
    # R irr docs, icc(anxiety, model = "twoway", type = "agreement"): ICC(A,1) = 0.198, F = 1.83,
    # 95%-CI -0.039 < ICC < 0.494. (irr's p = 0.0543 uses a Satterthwaite df2 of 39.7 for this test; we report the
    # McGraw & Wong F test with df2 = (n-1)(k-1) = 38 like pingouin, so p differs in the third decimal.)
    t = icc(_long("irr_anxiety.csv", "subject"), "subject", "rater", "y").set_index("type")
    assert t.loc["ICC(A,1)", "icc"] == pytest.approx(0.198, abs=0.0005)
    assert t.loc["ICC(A,1)", "f"] == pytest.approx(1.83, abs=0.005)
    assert t.loc["ICC(A,1)", "ci_low"] == pytest.approx(-0.039, abs=0.0005)
    assert t.loc["ICC(A,1)", "ci_high"] == pytest.approx(0.494, abs=0.0005)


def test_weir_2005_dataset_a():
    # Weir 2005 J Strength Cond Res 19:231, data set A (8 subjects x 2 trials): single-measure ICCs 0.95 and
    # average-measure ICCs 0.97 (as printed, two decimals).
    t = icc(_long("weir2005_dataset_A.csv", "subject"), "subject", "rater", "y").set_index("type")
    for name in ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)"):
        assert t.loc[name, "icc"] == pytest.approx(0.95, abs=0.005)
    for name in ("ICC(1,k)", "ICC(A,k)", "ICC(C,k)"):
        assert t.loc[name, "icc"] == pytest.approx(0.97, abs=0.005)


def test_weir_dataset_a_trials_test_and_average_consistency():
    # The same 8-subject, two-day 1RM data analysed in SPSS in the slides "Test-Retest Reliability (ICC) and Day to
    # Day Variation" (slideserve.com, siobhan-crofton): no difference between trials F(1,7) = .530, p = .49;
    # ICC = .973 (mixed model, consistency, average measures = ICC(C,k)).
    data = _long("weir2005_dataset_A.csv", "subject")
    out = sem_mdc(data, "subject", "rater", "y", icc_type="ICC(C,k)")
    assert out["f_raters"] == pytest.approx(0.530, abs=0.0005)
    assert out["df_raters"] == (1, 7)
    assert out["p_raters"] == pytest.approx(0.49, abs=0.005)
    assert out["icc"] == pytest.approx(0.973, abs=0.0005)


def test_sem_and_mdc_formulas():
    data = _long("weir2005_dataset_A.csv", "subject")
    out = sem_mdc(data, "subject", "rater", "y")
    y = data.pivot(index="subject", columns="rater", values="y").to_numpy()
    d = y[:, 1] - y[:, 0]
    # with two trials MS_error = var(differences)/2, so SEM = SD_diff/sqrt(2) (Weir 2005)
    assert out["sem"] == pytest.approx(d.std(ddof=1) / np.sqrt(2))
    assert out["mdc"] == pytest.approx(1.959963985 * np.sqrt(2) * out["sem"])
    assert out["sem_icc"] == pytest.approx(y.std(ddof=1) * np.sqrt(1 - out["icc"]))


def test_other_confidence_levels_nest():
    data = _long("shrout_fleiss_1979.csv", "target")
    t95 = icc(data, "target", "rater", "y", confidence=0.95)
    t90 = icc(data, "target", "rater", "y", confidence=0.90)
    t99 = icc(data, "target", "rater", "y", confidence=0.99)
    assert np.all(t99["ci_low"] < t95["ci_low"]) and np.all(t95["ci_low"] < t90["ci_low"])
    assert np.all(t90["ci_high"] < t95["ci_high"]) and np.all(t95["ci_high"] < t99["ci_high"])
    np.testing.assert_array_equal(t90["icc"], t95["icc"])


def test_koo_li_on_the_ci():
    # Koo & Li 2016 J Chiropr Med 15:155: poor < 0.5 <= moderate < 0.75 <= good <= 0.90 < excellent, read on the
    # CI (every boundary: tests/test_interpret.py)
    assert koo_li(0.65, 0.94) == "moderate to excellent"
    assert koo_li(0.76, 0.89) == "good"
    assert koo_li(-0.1, 0.4) == "poor"
    assert koo_li_category(0.75) == "good" and koo_li_category(0.9) == "good"
    assert koo_li(float("nan"), 0.5) == "not interpretable"


def test_bootstrap_icc_is_batched_and_consistent():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(60, 1)) + 0.5 * rng.normal(size=(60, 3))
    res = bootstrap_icc(y, icc_type="ICC(A,1)", n_resamples=500, seed=1)
    data = pd.DataFrame(y).rename_axis("t").reset_index().melt(id_vars="t", var_name="r", value_name="y")
    point = icc(data, "t", "r", "y").set_index("type").loc["ICC(A,1)"]
    assert res.estimate == pytest.approx(point["icc"])
    assert res.ci_low < res.estimate < res.ci_high
    # the subject bootstrap and the F interval agree roughly for normal data
    assert res.ci_low == pytest.approx(point["ci_low"], abs=0.07)
    assert res.ci_high == pytest.approx(point["ci_high"], abs=0.07)
    again = bootstrap_icc(y, icc_type="ICC(A,1)", n_resamples=500, seed=1)
    assert again.ci_low == res.ci_low  # reproducible for a seed


def _frame(rows):
    return pd.DataFrame(rows, columns=["t", "r", "y"])


def test_bad_input():
    ok = [(i, j, float(i + j + (i * j) % 3)) for i in range(5) for j in range(3)]
    with pytest.raises(InputError, match="rater column has 1 level"):
        icc(_frame([(i, "a", float(i)) for i in range(5)]), "t", "r", "y")
    with pytest.raises(InputError, match="identical"):
        icc(_frame([(i, j, 3.0) for i in range(5) for j in range(3)]), "t", "r", "y")
    with pytest.raises(InputError, match="missing ratings"):
        icc(_frame(ok[:-1]), "t", "r", "y")
    with pytest.raises(InputError, match="only 2 complete target"):
        icc(_frame(ok[:6]), "t", "r", "y")
    with pytest.raises(InputError, match="duplicated"):
        icc(_frame(ok + [ok[0]]), "t", "r", "y")
    with pytest.raises(InputError, match="not numbers"):
        icc(_frame([(0, 0, "x")] + ok[1:]), "t", "r", "y")
    with pytest.raises(InputError, match="no column named 'z'"):
        icc(_frame(ok), "t", "r", "z")
    dropped = icc(_frame(ok[:-1]), "t", "r", "y", nan_policy="omit")
    assert dropped["n_targets"][0] == 4 and "1 target(s)" in dropped["note"][0]
    assert set(ICC_TYPES) == set(dropped["type"])


def test_zero_residual_gives_explicit_nan_cis():
    # ratings that differ between raters only by a constant: ICC(C,1) = 1 but F is infinite
    data = _frame([(i, j, float(i * 2 + j)) for i in range(6) for j in range(3)])
    t = icc(data, "t", "r", "y").set_index("type")
    assert t.loc["ICC(C,1)", "icc"] == pytest.approx(1.0)
    assert t["ci_low"].isna().all() and "residual mean square is 0" in t["note"].iloc[0]
