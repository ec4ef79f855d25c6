"""Cohen's and Fleiss' kappa against published results and statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, to_table
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from ground_truth.kernel import InputError
from harness.agreement import cohen_kappa, fleiss_kappa, kappa, landis_koch


def _csv(name):
    return pd.read_csv(shared_path("agreement", name))


def test_fleiss_1971_diagnoses():
    # Fleiss 1971 Psychol Bull 76:378, 30 patients x 6 raters: kappa 0.430; R irr::kappam.fleiss(diagnoses) prints
    # Kappa = 0.43, z = 17.7, p-value = 0; category-wise kappas (detail=TRUE) 0.245, 0.245, 0.520, 0.471, 0.566.
    d = _csv("irr_diagnoses_fleiss1971.csv")
    r = fleiss_kappa(d.drop(columns="subject"))
    assert r.kappa == pytest.approx(0.430, abs=0.0005)
    assert r.z == pytest.approx(17.7, abs=0.05)
    assert r.p < 1e-10
    np.testing.assert_allclose(list(r.per_category.values()), [0.245, 0.245, 0.520, 0.471, 0.566], atol=0.0005)
    # independent implementation: statsmodels
    table, _ = aggregate_raters(d.drop(columns="subject").to_numpy())
    assert r.kappa == pytest.approx(sm_fleiss(table, method="fleiss"))


def test_fleiss_first_three_raters():
    # irr::kappam.fleiss(diagnoses[, 1:3]): Kappa = 0.534, z = 9.89 (printed in a worked example of the irr package,
    # e.g. blog.csdn.net/weixin_39974030/article/details/117938889)
    d = _csv("irr_diagnoses_fleiss1971.csv")
    r = kappa(d, ["rater1", "rater2", "rater3"])
    assert r.method == "fleiss"
    assert r.kappa == pytest.approx(0.534, abs=0.0005)
    assert r.z == pytest.approx(9.89, abs=0.005)


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_cohen_equals_statsmodels(weights):
    # irr anxiety ratings, raters 1 and 2; statsmodels.stats.inter_rater.cohens_kappa is the independent reference
    # for kappa, its null SE (z test) and its non-null SE (Fleiss, Cohen & Everitt 1969).
    d = _csv("irr_anxiety.csv")
    r = cohen_kappa(d["rater1"], d["rater2"], weights=weights)
    table, _ = to_table(d[["rater1", "rater2"]].to_numpy())
    ref = cohens_kappa(table, wt=None if weights == "none" else weights)
    assert r.kappa == pytest.approx(ref.kappa, rel=1e-12)
    assert r.se == pytest.approx(ref.std_kappa, rel=1e-9)
    assert r.z == pytest.approx(ref.kappa / ref.std_kappa0, rel=1e-9)
    assert r.confusion.to_numpy().sum() == 20


def test_labels_are_matched_by_label_not_position():
    a = ["hip", "ankle", "ankle", "mixed", "hip", "ankle"]
    b = ["hip", "ankle", "hip", "mixed", "hip", "ankle"]
    r1 = cohen_kappa(a, b)
    # a category used by only one rater still counts; reversing label order must not change unweighted kappa
    r2 = cohen_kappa(a, b, labels=["mixed", "hip", "ankle"])
    assert r1.kappa == pytest.approx(r2.kappa)
    assert r1.labels == ["ankle", "hip", "mixed"]
    assert r1.confusion.loc["ankle", "hip"] == 1
    po, pe = 5 / 6, (3 * 2 + 2 * 3 + 1 * 1) / 36
    assert r1.kappa == pytest.approx((po - pe) / (1 - pe))
    c = cohen_kappa(["x", "y", "x", "z"], ["x", "y", "x", "y"])
    assert c.labels == ["x", "y", "z"] and c.confusion.loc["z", "y"] == 1


def test_missing_labels_dropped_and_counted():
    r = cohen_kappa(["a", "b", None, "a"], ["a", "b", "b", "b"])
    assert r.n == 3 and r.n_dropped == 1 and "dropped" in r.note


def test_bad_input():
    with pytest.raises(InputError, match="single category"):
        cohen_kappa(["a"] * 5, ["a"] * 5)
    with pytest.raises(InputError, match="every rating is"):
        fleiss_kappa(pd.DataFrame({"r1": ["a"] * 4, "r2": ["a"] * 4, "r3": ["a"] * 4}))
    with pytest.raises(InputError, match="has 3 labels but rater2 has 2"):
        cohen_kappa(["a", "b", "a"], ["a", "b"])
    with pytest.raises(InputError, match="nominal"):
        kappa(pd.DataFrame({"a": [1, 2], "b": [1, 2], "c": [2, 2]}), ["a", "b", "c"], weights="linear")
    with pytest.raises(InputError, match="no column named 'q'"):
        kappa(pd.DataFrame({"a": [1, 2]}), ["a", "q"])


def test_a_rater_with_one_level_gives_kappa_0_and_says_why(tmp_path, capsys):
    # observed agreement equals chance agreement whatever the other rater does: kappa is 0 by construction,
    # and the large-sample SE degenerates (it came out as 8e-9, giving "z 0, p 1, CI +-1.6e-8")
    for w in ("none", "linear", "quadratic"):
        r = cohen_kappa(["x"] * 6, ["x", "y", "z", "x", "y", "x"], weights=w)
        assert r.kappa == 0.0 and np.isnan(r.se) and np.isnan(r.z) and np.isnan(r.p) and np.isnan(r.ci_low)
        assert "rater1 used a single category ('x')" in r.note and "by construction" in r.note
    # through the CLI: JSON null for what is undefined, and the note
    from harness.cli import main
    path = tmp_path / "k.csv"
    pd.DataFrame({"a": ["x"] * 5, "b": ["x", "y", "x", "y", "y"]}).to_csv(path, index=False)
    capsys.readouterr()
    assert main(["kappa", str(path), "--raters", "a,b", "--json"]) == 0
    import json
    d = json.loads(capsys.readouterr().out)
    assert d["kappa"] == 0.0 and d["z"] is None and d["p"] is None and "single category" in d["note"]


def test_landis_koch_words():
    # Landis & Koch 1977 Biometrics 33:159 bands
    assert [landis_koch(v) for v in (-0.1, 0.1, 0.3, 0.5, 0.7, 0.9)] == [
        "poor", "slight", "fair", "moderate", "substantial", "almost perfect"]


def test_wald_ci_is_truncated_to_kappas_range():
    # 9 of 10 subjects agree: kappa is high and its large-sample interval would cross 1.
    from harness.agreement import cohen_kappa

    a = ["ankle"] * 5 + ["hip"] * 5
    b = ["ankle"] * 5 + ["hip"] * 4 + ["ankle"]
    res = cohen_kappa(a, b)
    assert res.kappa == pytest.approx(0.8)
    assert res.ci_high == 1.0 and res.ci_low < 0.8
    assert "truncated" in res.note
