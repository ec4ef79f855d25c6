"""CLI contracts of ``stancebench agreement|icc|kappa|align --json`` (run in-process)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from harness.cli import main


def _run(capsys, argv):
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_agreement_classic_json(capsys):
    path = shared_path("agreement", "giavarina2015.csv")
    rc, out, _ = _run(capsys, ["agreement", str(path), "--reference", "B", "--candidate", "A", "--json",
                               "--loa-ci", "approximate-1986"])
    assert rc == 0
    d = json.loads(out)
    for key in ("n", "method", "bias", "sd", "loa_lower", "loa_upper", "bias_ci", "loa_lower_ci", "loa_upper_ci"):
        assert key in d
    assert d["n"] == 30 and d["method"] == "classic"
    # Giavarina 2015: bias -27.17, limits -95.39 to 41.05, bias CI -40.16 to -14.17
    assert d["bias"] == pytest.approx(-27.17, abs=0.005)
    assert d["loa_lower"] == pytest.approx(-95.39, abs=0.005) and d["loa_upper"] == pytest.approx(41.05, abs=0.005)
    assert d["bias_ci"] == [pytest.approx(-40.16, abs=0.005), pytest.approx(-14.17, abs=0.005)]
    assert d["multiplier"] == 1.96


def test_agreement_replicates_and_exact(capsys):
    path = shared_path("agreement", "ba1999_table4_cardiac_rv_ic.csv")
    rc, out, _ = _run(capsys, ["agreement", str(path), "--reference", "IC", "--candidate", "RV", "--subject",
                               "subject", "--method", "replicates-ba2007", "--loa-ci", "mover", "--json"])
    assert rc == 0
    d = json.loads(out)
    assert d["method"] == "replicates-ba2007" and d["n_subjects"] == 12 and d["loa_ci_method"] == "mover"
    lo, hi = d["loa_lower_ci"]
    assert lo < d["loa_lower"] < hi
    rc, out, _ = _run(capsys, ["agreement", str(shared_path("agreement", "ba1986_pefr.csv")), "--reference",
                               "mini1", "--candidate", "wright1", "--loa-ci", "exact", "--multiplier", "2", "--json"])
    assert rc == 0 and json.loads(out)["loa_ci_method"] == "exact"


def test_agreement_errors_exit_2(capsys, tmp_path):
    path = shared_path("agreement", "ba1999_table4_cardiac_rv_ic.csv")
    rc, _, err = _run(capsys, ["agreement", str(path), "--reference", "IC", "--candidate", "RV", "--subject",
                               "subject"])
    assert rc == 2 and "replicates" in err
    rc, _, err = _run(capsys, ["agreement", str(path), "--reference", "nope", "--candidate", "RV"])
    assert rc == 2 and "nope" in err and str(path) in err
    rc, _, err = _run(capsys, ["agreement", str(tmp_path / "missing.csv"), "--reference", "a", "--candidate", "b"])
    assert rc == 2 and "not found" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("r,c\n1,2\n2,x\n3,4\n")
    rc, _, err = _run(capsys, ["agreement", str(bad), "--reference", "r", "--candidate", "c"])
    assert rc == 2 and "field 'c'" in err


def test_icc_json(capsys):
    path = shared_path("agreement", "realstats_wine_icc_long.csv")
    rc, out, _ = _run(capsys, ["icc", str(path), "--targets", "Wine", "--raters", "Judge", "--ratings", "Scores",
                               "--json"])
    assert rc == 0
    rows = json.loads(out)
    assert [r["type"] for r in rows] == ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
    for r in rows:
        assert {"type", "icc", "ci_low", "ci_high", "f", "df1", "df2", "p"} <= set(r)
    # wine example: 0.728 0.728 0.729 0.914 0.914 0.915
    assert [round(r["icc"], 3) for r in rows] == [0.728, 0.728, 0.729, 0.914, 0.914, 0.915]
    rc, out, _ = _run(capsys, ["icc", str(path), "--targets", "Wine", "--raters", "Judge", "--ratings", "Scores",
                               "--confidence", "0.9", "--json"])
    assert json.loads(out)[0]["confidence"] == 0.9


def test_icc_one_rater_level_exit_2(capsys, tmp_path):
    p = tmp_path / "one.csv"
    pd.DataFrame({"t": range(5), "r": ["a"] * 5, "y": np.arange(5.0)}).to_csv(p, index=False)
    rc, _, err = _run(capsys, ["icc", str(p), "--targets", "t", "--raters", "r", "--ratings", "y"])
    assert rc == 2 and "1 level" in err


def test_kappa_json(capsys):
    path = shared_path("agreement", "irr_diagnoses_fleiss1971.csv")
    raters = ",".join(f"rater{i}" for i in range(1, 7))
    rc, out, _ = _run(capsys, ["kappa", str(path), "--raters", raters, "--json"])
    assert rc == 0
    d = json.loads(out)
    assert list(d)[:3] == ["kappa", "z", "p"]
    assert d["kappa"] == pytest.approx(0.430, abs=0.0005) and d["z"] == pytest.approx(17.7, abs=0.05)
    assert d["method"] == "fleiss"
    rc, out, _ = _run(capsys, ["kappa", str(shared_path("agreement", "irr_anxiety.csv")), "--raters",
                               "rater1,rater2", "--weights", "quadratic", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["method"] == "cohen" and len(d["confusion"]) == len(d["labels"])


def _write_signal(path, t, x):
    pd.DataFrame({"t": t, "value": x}).to_csv(path, index=False)


def test_align_json(capsys, tmp_path):
    rng = np.random.default_rng(0)
    f = rng.uniform(0.1, 4, 30)
    ph = rng.uniform(0, 6, 30)

    def s(t):
        return np.sin(2 * np.pi * f * t[:, None] + ph).sum(axis=1)

    tr = np.arange(0, 40, 0.01)
    tc = np.arange(0, 30, 1 / 30) + rng.uniform(-0.002, 0.002, 900)
    _write_signal(tmp_path / "ref.csv", tr, s(tr))
    _write_signal(tmp_path / "cand.csv", tc, s(tc + 0.6180))
    rc, out, _ = _run(capsys, ["align", str(tmp_path / "ref.csv"), str(tmp_path / "cand.csv"), "--max-lag", "2",
                               "--drift", "--json"])
    assert rc == 0
    d = json.loads(out)
    assert {"offset_s", "drift_ppm", "peak_corr", "method"} <= set(d)
    assert d["offset_s"] == pytest.approx(0.618, abs=0.002) and d["method"] == "xcorr+drift"
    # a static candidate is refused: JSON says why, exit status 2, reason on stderr
    _write_signal(tmp_path / "static.csv", tc, 1e-6 * rng.normal(size=tc.size))
    rc, out, err = _run(capsys, ["align", str(tmp_path / "ref.csv"), str(tmp_path / "static.csv"), "--json"])
    assert rc == 2 and json.loads(out)["reliable"] is False and "refused" in err


@pytest.mark.parametrize("method, key", [("log", "ratio_loa_lower"), ("percent", "bias"),
                                         ("regression", "bias_slope")])
def test_agreement_other_methods(capsys, method, key):
    path = shared_path("agreement", "ba1999_table2_plasma_volume.csv")
    rc, out, _ = _run(capsys, ["agreement", str(path), "--reference", "Hurley", "--candidate", "Nadler",
                               "--method", method, "--json"])
    assert rc == 0
    d = json.loads(out)
    assert d["method"] == method and key in d and d["n"] == 99
    # every method prints the contract's keys, CIs as [low, high] around the estimate
    for k in ("bias", "sd", "loa_lower", "loa_upper"):
        assert np.isfinite(d[k]), k
    for k in ("bias", "loa_lower", "loa_upper"):
        lo, hi = d[f"{k}_ci"]
        assert lo < d[k] < hi, k


def test_agreement_regression_confidence_and_loa_ci(capsys):
    path = shared_path("agreement", "ba1999_table2_plasma_volume.csv")
    base = ["agreement", str(path), "--reference", "Hurley", "--candidate", "Nadler", "--method", "regression",
            "--json"]
    d95 = json.loads(_run(capsys, base)[1])
    d99 = json.loads(_run(capsys, base + ["--confidence", "0.99"])[1])
    assert d99["bias"] == d95["bias"] and d99["bias_ci"][0] < d95["bias_ci"][0]
    rc, _, err = _run(capsys, base + ["--loa-ci", "exact"])
    assert rc == 2 and "--loa-ci" in err


def test_agreement_ba1999_replicates_published_via_cli(capsys, tmp_path):
    # Bland & Altman 1999 §5.1: J - S limits -56.68 to 25.44, CIs -63.5 to -49.9 and 18.7 to 32.2
    wide = pd.read_csv(shared_path("agreement", "ba1999_table1_sbp.csv"))
    long = pd.DataFrame({"subject": np.repeat(wide["subject"].to_numpy(), 3),
                         "J": wide[["J1", "J2", "J3"]].to_numpy().ravel(),
                         "S": wide[["S1", "S2", "S3"]].to_numpy().ravel()})
    path = tmp_path / "sbp_long.csv"
    long.to_csv(path, index=False)
    rc, out, _ = _run(capsys, ["agreement", str(path), "--reference", "S", "--candidate", "J", "--subject", "subject",
                               "--method", "replicates-ba1999", "--json"])
    d = json.loads(out)
    assert rc == 0 and d["n_subjects"] == 85
    assert d["loa_lower"] == pytest.approx(-56.68, abs=0.005) and d["loa_upper"] == pytest.approx(25.44, abs=0.005)
    assert d["loa_lower_ci"] == [pytest.approx(-63.5, abs=0.05), pytest.approx(-49.9, abs=0.05)]
    assert d["loa_upper_ci"] == [pytest.approx(18.7, abs=0.05), pytest.approx(32.2, abs=0.05)]


def test_label_columns_keep_na_as_a_label_numeric_columns_read_it_as_missing(capsys, tmp_path):
    # a rater who wrote "NA" (not applicable) chose a category; pandas' default reading would drop it as missing
    # and shrink n. Hand count: 4 subjects, both raters agree on every one, categories {"NA", "yes"}: kappa = 1.
    labels = tmp_path / "labels.csv"
    labels.write_text("r1,r2\nNA,NA\nyes,yes\nNA,NA\nyes,yes\n")
    assert main(["kappa", str(labels), "--raters", "r1,r2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 4 and out["kappa"] == pytest.approx(1.0)
    # R writes NA for a missing number: in a numeric column it stays missing, not an error
    from harness.agreement._io import read_table
    nums = tmp_path / "nums.csv"
    nums.write_text("t,value\n0,NA\n1,2.5\n")
    frame = read_table(nums, ["t", "value"], numeric=["t", "value"])
    assert frame["value"].isna().tolist() == [True, False]
