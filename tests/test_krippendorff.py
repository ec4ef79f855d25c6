"""Krippendorff's alpha (harness.agreement.krippendorff) and ``stancebench alpha``: Krippendorff's own worked
examples, the ``krippendorff`` package on random data, label typing, undefined alpha, the bootstraps, the
reading and the command line."""
from __future__ import annotations

import itertools
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ground_truth.kernel import InputError
from harness.agreement import (KRIPPENDORFF_2004, AlphaResult, alpha_from_reliability_matrix, alpha_reading_fields,
                               coincidence_matrix, krippendorff_alpha, krippendorff_reading)
from harness.cli import main

LEVELS = ("nominal", "ordinal", "interval", "ratio")
nan = np.nan

# Krippendorff K (2011) Computing Krippendorff's alpha-reliability, Annenberg School for Communication Departmental
# Papers 43: the reliability data of section C ("Nominal data, any number of observers, missing data"), four
# observers A-D x twelve units, which the sections on the ordinal, interval and ratio metrics reuse. Printed
# alphas: nominal .743, ordinal .815, interval .849, ratio .797. (The same matrix is irr::kripp.alpha's "C data
# from Krippendorff", and the krippendorff package's tests assert .815 and .797 on it. Page numbers are not cited:
# the stored copies of the paper that could be searched did not show them.)
PAPER_C = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
           [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
           [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
           [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
PAPER_C_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Same paper, section A ("Binary or dichotomous data, two observers, no missing data"): ten units, alpha .095.
PAPER_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
           [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


def wide(matrix, names="ABCD") -> pd.DataFrame:
    """(raters x units) reliability data as the wide table the statistic reads (one row per unit)."""
    arr = np.asarray(matrix, dtype=float)
    return pd.DataFrame(arr.T, columns=list(names[:arr.shape[0]]))


def slow_alpha(matrix, level: str) -> float:
    """The definition looped over pairs of ratings in pure Python (an independent control): every ordered pair of
    ratings of one unit by different raters counts 1/(m_u - 1) in o_ck, alpha = 1 - (n - 1) sum o delta / sum
    n_c n_k delta."""
    arr = np.asarray(matrix, dtype=float)
    pairs: dict = {}
    for u in range(arr.shape[1]):
        vals = [v for v in arr[:, u] if not np.isnan(v)]
        if len(vals) < 2:
            continue
        for i, j in itertools.permutations(range(len(vals)), 2):
            pairs[(vals[i], vals[j])] = pairs.get((vals[i], vals[j]), 0.0) + 1 / (len(vals) - 1)
    freq: dict = {}
    for (c, _), o in pairs.items():
        freq[c] = freq.get(c, 0.0) + o
    order = sorted(freq)
    n = sum(freq.values())

    def delta(c, k):
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = sorted((order.index(c), order.index(k)))
        return (sum(freq[order[g]] for g in range(lo, hi + 1)) - (freq[c] + freq[k]) / 2) ** 2

    observed = sum(o * delta(c, k) for (c, k), o in pairs.items())
    expected = sum(freq[c] * freq[k] * delta(c, k) for c in order for k in order)
    return 1 - (n - 1) * observed / expected


def random_matrix(rng, raters, units, values, missing):
    arr = rng.choice(values, size=(raters, units)).astype(float)
    # some agreement, so that alpha is not ~0 everywhere
    arr[1] = np.where(rng.random(units) < 0.6, arr[0], arr[1])
    arr[rng.random(arr.shape) < missing] = nan
    return arr


# ------------------------------------------------------------------------------------ published worked examples
@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_four_observer_example(level):
    res = krippendorff_alpha(wide(PAPER_C), level=level, n_resamples=0)
    assert res.alpha == pytest.approx(PAPER_C_ALPHA[level], abs=5e-4)
    assert alpha_from_reliability_matrix(PAPER_C, level) == pytest.approx(res.alpha, abs=1e-12)
    assert res.alpha == pytest.approx(slow_alpha(PAPER_C, level), abs=1e-12)
    # the paper's counts: unit 12 has one value (not pairable), n = 40 pairable values
    assert (res.n_units, res.n_dropped_units, res.n_values, res.n_raters) == (11, 1, 40, 4)
    assert "1 unit(s) with fewer than 2 ratings dropped" in res.note


def test_krippendorff_2011_coincidences_by_hand():
    """Section C's coincidence matrix, counted by hand: e.g. unit 6 (values 1, 2, 3, 4 from four observers) adds
    1/3 to every off-diagonal cell among 1-4; unit 1 (1, 1, 1) adds 3·2/2 = 3 to o_11. n_c = 9, 13, 10, 5, 3."""
    o = coincidence_matrix(PAPER_C)
    third = 1 / 3
    expected = np.array([[7, 4 * third, third, third, 0],
                         [4 * third, 10, 4 * third, third, 0],
                         [third, 4 * third, 8, third, 0],
                         [third, third, third, 4, 0],
                         [0, 0, 0, 0, 3]])
    assert list(o.index) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(o.to_numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(o.sum(axis=1), [9, 13, 10, 5, 3])
    # nominal alpha from it by hand: 1 - (n - 1)(n - sum o_cc)/(n² - sum n_c²) = 1 - 39·8/(1600 - 384)
    assert alpha_from_reliability_matrix(PAPER_C, "nominal") == pytest.approx(1 - 39 * 8 / 1216, abs=1e-12)


def test_krippendorff_2011_binary_two_observers():
    # by hand: o_00 = 10, o_11 = 2, o_01 = o_10 = 4, n = 20, n_0 = 14, n_1 = 6:
    # alpha = 1 - (n - 1)·(o_01 + o_10)/(n² - n_0² - n_1²) = 1 - 19·8/168 = 0.0952
    res = krippendorff_alpha(wide(PAPER_A, "ab"), level="nominal", n_resamples=0)
    assert res.alpha == pytest.approx(0.095, abs=5e-4)
    assert res.alpha == pytest.approx(1 - 19 * 8 / 168, abs=1e-12)
    assert (res.n_units, res.n_values, res.n_dropped_units) == (10, 20, 0)


# ----------------------------------------------------------------------------- the peer package, random data
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("raters, units, values, missing", [
    (3, 40, [1, 2, 3, 4, 5], 0.3), (2, 60, [0, 1], 0.2), (5, 30, [0, 1, 2.5, 7, 10], 0.45),
    (4, 25, [1, 2, 4, 5], 0.35)], ids=["3x40", "2x60-binary", "5x30-uneven", "4x25-gapped"])
def test_matches_krippendorff_package(level, raters, units, values, missing):
    kr = pytest.importorskip("krippendorff", reason="the peer package 'krippendorff' (test extra) is not installed")
    rng = np.random.default_rng(raters * 100 + units)
    arr = random_matrix(rng, raters, units, values, missing)
    ours = krippendorff_alpha(pd.DataFrame(arr.T), level=level, n_resamples=0).alpha
    assert ours == pytest.approx(kr.alpha(reliability_data=arr, level_of_measurement=level), abs=1e-10)
    assert ours == pytest.approx(slow_alpha(arr, level), abs=1e-10)


@pytest.mark.parametrize("level", LEVELS)
def test_matches_krippendorff_package_on_continuous_values(level):
    kr = pytest.importorskip("krippendorff", reason="the peer package 'krippendorff' (test extra) is not installed")
    rng = np.random.default_rng(7)
    truth = rng.gamma(4.0, 2.0, 60)
    arr = np.round(truth[None, :] + rng.normal(0, 1, (3, 60)).clip(-truth, None), 2)
    arr[rng.random(arr.shape) < 0.25] = nan
    ours = alpha_from_reliability_matrix(arr, level)
    assert ours == pytest.approx(kr.alpha(reliability_data=arr, level_of_measurement=level), abs=1e-10)


def test_ordinal_text_labels_with_categories_match_the_numeric_codes():
    # the krippendorff package's own test of ordinal strings with a value domain gives the paper's .815
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    text = wide(PAPER_C).apply(lambda col: col.map(names))
    res = krippendorff_alpha(text, level="ordinal", categories=list(names.values()), n_resamples=0)
    assert res.alpha == pytest.approx(krippendorff_alpha(wide(PAPER_C), level="ordinal", n_resamples=0).alpha,
                                      abs=1e-12)
    assert res.categories == list(names.values())
    with pytest.raises(InputError, match="'very low'.*has no order") as err:
        krippendorff_alpha(text, level="ordinal")
    assert err.value.field == "A"


# ------------------------------------------------------------------------------------------------ label typing
def test_text_and_numeric_labels_are_matched_by_value():
    numeric = pd.DataFrame({"a": [1, 2, 3, 1, 2], "b": [1.0, 2.0, 3.0, 2.0, 2.0]})
    text = pd.DataFrame({"a": ["1", " 2", "3.0", "1", "2"], "b": [1, 2, 3, 2, 2]})
    for level in ("nominal", "ordinal", "interval"):
        a = krippendorff_alpha(numeric, level=level, n_resamples=0)
        b = krippendorff_alpha(text, level=level, n_resamples=0)
        assert b.alpha == pytest.approx(a.alpha, abs=1e-12)
    # a text column among numeric ones: labels matched by value, and the note says so
    mixed = pd.DataFrame({"a": ["1", "2", "x", "1"], "b": [1, 2, 2, 1]})
    res = krippendorff_alpha(mixed, level="nominal", n_resamples=0)
    assert res.categories == [1, 2, "x"]
    assert "matched by value" in res.note


def test_empty_strings_and_none_are_missing():
    with_nan = wide(PAPER_C)
    with_blank = with_nan.astype(object).where(with_nan.notna(), "")
    with_blank.iloc[0, 2] = None
    with_blank.iloc[1, 0] = "  "
    with_nan.iloc[1, 0] = nan
    a = krippendorff_alpha(with_nan, level="interval", n_resamples=0)
    b = krippendorff_alpha(with_blank, level="interval", n_resamples=0)
    assert (b.alpha, b.n_values) == (pytest.approx(a.alpha, abs=1e-12), a.n_values)


def test_labels_that_do_not_fit_the_level_are_refused_naming_column_and_value():
    frame = pd.DataFrame({"r1": [1, 2, 3], "r2": [1, "two", 3]})
    with pytest.raises(InputError, match="'two'.*row 2.*not a number") as err:
        krippendorff_alpha(frame, level="interval")
    assert err.value.field == "r2"
    assert krippendorff_alpha(frame, level="nominal", n_resamples=0).categories == [1, 2, 3, "two"]
    with pytest.raises(InputError, match="negative value -1") as err:
        krippendorff_alpha(pd.DataFrame({"r1": [0, 1, 2], "r2": [0, -1, 2]}), level="ratio")
    assert err.value.field == "r2"
    with pytest.raises(InputError, match="not among the categories") as err:
        krippendorff_alpha(frame, level="nominal", categories=[1, 2, 3])
    assert err.value.field == "r2"
    with pytest.raises(InputError, match="given twice"):
        krippendorff_alpha(frame, level="ordinal", categories=["1", "1.0", "two", "3"])
    with pytest.raises(InputError, match="categories given at the interval level"):
        krippendorff_alpha(frame, level="interval", categories=[1, 2, 3])


def test_ratio_zeros_agree():
    # the krippendorff package's test: identical ratios including 0 agree perfectly (0/0 is no difference)
    assert alpha_from_reliability_matrix([[0, 1, 2], [0, 1, 2]], "ratio") == 1.0


def test_duplicate_or_missing_raters_are_refused():
    frame = wide(PAPER_C)
    with pytest.raises(InputError, match="'A' is given twice"):
        krippendorff_alpha(frame, ["A", "B", "A"])
    with pytest.raises(InputError, match="no column named 'E'"):
        krippendorff_alpha(frame, ["A", "E"])
    with pytest.raises(InputError, match="at least 2 raters"):
        krippendorff_alpha(frame, ["A"])
    twice = pd.concat([frame[["A"]], frame[["A"]]], axis=1)
    with pytest.raises(InputError, match="given twice"):
        krippendorff_alpha(twice)
    with pytest.raises(InputError, match="DataFrame"):
        krippendorff_alpha(np.asarray(PAPER_C))
    with pytest.raises(InputError, match="none of the 3 unit"):
        krippendorff_alpha(pd.DataFrame({"a": [1, nan, 3], "b": [nan, 2, nan]}))


def test_all_identical_values_give_nan_with_a_note_and_no_warning():
    # unit 4 has a single rating; every pairable value is 2
    frame = pd.DataFrame({"a": [2, 2, 2, nan], "b": [2, 2, nan, 2], "c": [2, nan, 2, nan]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for level in LEVELS:
            res = krippendorff_alpha(frame, level=level, seed=0, n_resamples=200)
            assert np.isnan(res.alpha) and np.isnan(res.ci_low) and np.isnan(res.q_below_min)
            assert "no variation" in res.note and "undefined" in res.note
            assert res.ci_method == "none" and res.n_dropped_units == 1
            assert np.isnan(alpha_from_reliability_matrix(frame.to_numpy(float).T, level))
    assert np.isnan(alpha_from_reliability_matrix([[1, nan], [nan, 2]]))   # nothing pairable


# --------------------------------------------------------------------------------------------------- bootstrap
@pytest.mark.parametrize("ci_method", ["krippendorff", "units"])
def test_bootstrap_ci_contains_the_estimate_and_is_reproducible(ci_method):
    frame = wide(PAPER_C)
    for level in LEVELS:
        res = krippendorff_alpha(frame, level=level, n_resamples=300, seed=5, ci_method=ci_method)
        assert res.ci_low <= res.alpha <= res.ci_high
        assert 0 <= res.q_below_min <= 1 and res.ci_method == ci_method and res.n_resamples == 300
        again = krippendorff_alpha(frame, level=level, n_resamples=300, seed=5, ci_method=ci_method)
        assert (again.ci_low, again.ci_high, again.q_below_min) == (res.ci_low, res.ci_high, res.q_below_min)
    other = krippendorff_alpha(frame, level="interval", n_resamples=300, seed=6, ci_method=ci_method)
    assert (other.ci_low, other.ci_high) != (res.ci_low, res.ci_high)
    assert ("KALPHA" in res.note) == (ci_method == "krippendorff")
    # q is the share of bootstrap alphas below alpha_min: none is below -1, and a wider CI level widens the CI
    assert krippendorff_alpha(frame, n_resamples=300, seed=5, alpha_min=-1, ci_method=ci_method).q_below_min == 0
    wider = krippendorff_alpha(frame, n_resamples=300, seed=5, confidence=0.99, ci_method=ci_method)
    narrow = krippendorff_alpha(frame, n_resamples=300, seed=5, confidence=0.8, ci_method=ci_method)
    assert wider.ci_low <= narrow.ci_low and narrow.ci_high <= wider.ci_high


def test_krippendorff_bootstrap_sets_invariant_resamples_to_zero():
    """Krippendorff's correction, worked by hand: two raters agree on three units of 0 and one of 1, so
    o_00 = 6, o_11 = 2, n = 8, Q = 2 non-empty cells and M = min(25·2, (2 - 1)·8/2) = 4 draws. Every draw is a
    diagonal cell (alpha = 1), and round(X·((6/8)^4 + (2/8)^4)) = round(1000·0.3203) = 320 of the X = 1000
    resamples, the expected number drawn from one cell only, are set to 0."""
    frame = pd.DataFrame({"a": [0, 0, 0, 1], "b": [0, 0, 0, 1]})
    res = krippendorff_alpha(frame, n_resamples=1000, seed=1, alpha_min=0.5)
    assert res.alpha == 1.0
    assert res.q_below_min == pytest.approx(0.320, abs=1e-12)
    assert "M = 4 pairable values" in res.note
    assert (res.ci_low, res.ci_high) == (0.0, 1.0)


def test_bootstrap_options_are_checked():
    frame = wide(PAPER_C)
    for bad in (5, 99.5, True, "200"):
        with pytest.raises(InputError, match="n_resamples"):
            krippendorff_alpha(frame, n_resamples=bad)
    with pytest.raises(InputError, match="ci_method"):
        krippendorff_alpha(frame, ci_method="bca")
    for bad in (-1, 1.5, "x", True):
        with pytest.raises(InputError, match="seed"):
            krippendorff_alpha(frame, seed=bad)
    with pytest.raises(InputError, match="alpha_min"):
        krippendorff_alpha(frame, alpha_min=1.5)
    with pytest.raises(InputError, match="level"):
        krippendorff_alpha(frame, level="circular")
    none = krippendorff_alpha(frame, n_resamples=0)
    assert none.ci_method == "none" and np.isnan(none.ci_low) and np.isnan(none.q_below_min)


def test_result_as_dict_and_tidy_row():
    res = krippendorff_alpha(wide(PAPER_C), level="ordinal", n_resamples=200, seed=0)
    assert isinstance(res, AlphaResult)
    d = res.to_dict()
    assert d["categories"] == [1, 2, 3, 4, 5] and all(type(c) is int for c in d["categories"])
    row = res.to_frame()
    assert row.shape[0] == 1 and "categories" not in row.columns
    assert {"alpha", "ci_low", "ci_high", "level", "n_units", "n_raters", "n_values", "n_dropped_units",
            "q_below_min", "confidence", "ci_method", "note"} <= set(row.columns)


# ------------------------------------------------------------------------------------------------- the reading
@pytest.mark.parametrize("value, expected", [
    (np.nextafter(0.667, 0), "not reliable"), (0.667, "tentative conclusions only"),
    (np.nextafter(0.8, 0), "tentative conclusions only"), (0.8, "reliable"), (1.0, "reliable"),
    (-0.2, "not reliable"), (None, "not interpretable"), (nan, "not interpretable")])
def test_krippendorff_2004_reading_at_its_boundaries(value, expected):
    # Krippendorff (2004, p. 241): rely on alpha >= .800, .667 <= alpha < .800 only for tentative conclusions
    assert krippendorff_reading(value) == expected
    fields = alpha_reading_fields(value)
    assert fields["alpha_reading"] == expected
    assert "Krippendorff" in fields["alpha_reading_source"] and "2004" in fields["alpha_reading_source"]
    assert fields["alpha_reading_scale"]["rule"] == KRIPPENDORFF_2004.rule()
    assert "below 0.667 not reliable" in KRIPPENDORFF_2004.rule()


# ------------------------------------------------------------------------------------------------- command line
def paper_csv(tmp_path, *, unit=True):
    rows = ["unit,A,B,C,D"] if unit else ["A,B,C,D"]
    for u, col in enumerate(np.asarray(PAPER_C, dtype=float).T, start=1):
        cells = ["" if np.isnan(v) else f"{v:g}" for v in col]
        rows.append(",".join(([f"u{u}"] if unit else []) + cells))
    path = tmp_path / "paper.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("level", LEVELS)
def test_cli_reproduces_the_paper_and_prints_json(tmp_path, capsys, level):
    path = paper_csv(tmp_path)
    rc = main(["alpha", str(path), "--level", level, "--unit", "unit", "--resamples", "200", "--seed", "3",
               "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha"] == pytest.approx(PAPER_C_ALPHA[level], abs=5e-4)
    assert out["raters"] == ["A", "B", "C", "D"] and out["n_units"] == 11 and out["n_dropped_units"] == 1
    assert out["ci_low"] <= out["alpha"] <= out["ci_high"]
    assert out["interpretation"] == krippendorff_reading(out["alpha"])
    assert out["interpretation_source"] == KRIPPENDORFF_2004.reference


def test_cli_text_output(tmp_path, capsys):
    path = paper_csv(tmp_path, unit=False)
    assert main(["alpha", str(path), "--level", "interval", "--resamples", "200", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Krippendorff's alpha (interval), 11 pairable units x 4 raters, 40 pairable ratings: 0.849" in out
    assert "95% CI [" in out and "probability that alpha < 0.667" in out
    assert "reading: reliable (Krippendorff (2004)" in out and "p. 241" in out


def test_cli_all_identical_is_undefined_not_an_error(tmp_path, capsys):
    path = tmp_path / "same.csv"
    path.write_text("a,b\nx,x\nx,x\nx,\n", encoding="utf-8")
    assert main(["alpha", str(path), "--level", "nominal", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha"] is None and out["ci_low"] is None and out["interpretation"] == "not interpretable"
    assert "undefined" in out["note"]


@pytest.mark.parametrize("text, args, message", [
    ("A,B,A\n1,1,1\n2,2,2\n", [], "column 'A' is given twice"),
    ("A,B\n1,1\n2,2\n", ["--raters", "A,A"], "column 'A' is given twice"),
    ("A,B\n1,1\n2,2\n", ["--raters", "A,C"], "no column named 'C'"),
    ("A,B\nlow,high\nhigh,high\n", ["--level", "ordinal"], "'low'.*has no order"),
    ("A,B\n1,1\n2,two\n", ["--level", "interval"], "field 'B'.*'two' in row 3 of the file is not a number"),
    ("id,A,B\nu1,1,1\nu2,2,two\n", ["--level", "interval", "--unit", "id"],
     "'two' in unit 'u2' \\(row 3 of the file\\)"),
    ("A,B\n1,1\n2,2\n", ["--seed", "-1"], "--seed is -1"),
    ("A,B\n1,1\n2,-2\n", ["--level", "ratio"], "field 'B'.*negative value -2"),
    ("A,B\n1,1\n2,2\n", ["--resamples", "10"], "--resamples is 10"),
    ("A,B\n1,1\n2,2\n", ["--categories", "1,2", "--level", "interval"], "--categories"),
    ("id,A,B\nu1,1,1\nu1,2,2\n", ["--unit", "id"], "unit 'u1' is on rows 2 and 3"),
    ("id,A,B\nu1,1,1\nu2,2,2\n", ["--unit", "id", "--raters", "id,A"], "both name column 'id'"),
    (",A,B\n0,1,1\n1,2,2\n", [], "column 1 has no name"),
    ("A,B\n1,\n,2\n", [], "none of the 2 unit"),
    ("A,B\n1,1\n2,2,3\n", [], "line 3 has 3 field"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, text, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    argv = ["alpha", str(path)] + (args if "--level" in args else args + ["--level", "nominal"])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("stancebench alpha: error:") and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_cli_ordinal_text_labels_with_categories(tmp_path, capsys):
    path = tmp_path / "likert.csv"
    path.write_text("r1,r2,r3\nlow,low,mid\nmid,mid,mid\nhigh,high,mid\nlow,mid,\nhigh,high,high\n",
                    encoding="utf-8")
    assert main(["alpha", str(path), "--level", "ordinal", "--categories", "low,mid,high", "--resamples", "0",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    codes = [[0, 1, 2, 0, 2], [0, 1, 2, 1, 2], [1, 1, 1, nan, 2]]
    assert out["alpha"] == pytest.approx(slow_alpha(codes, "ordinal"), abs=1e-12)
    assert out["categories"] == ["low", "mid", "high"] and out["ci_method"] == "none"
