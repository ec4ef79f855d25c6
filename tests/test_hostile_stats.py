"""Hostile input to ``stancebench kappa|icc|agreement`` (issue 15, findings 3, 7 and 8): labels are typed by
value, names given twice are refused, and a statistic that cannot be computed says why (never a bare null).

Every hostile file is a copy of a real published example in ``../shared/data`` with one thing changed; expected
values come from an independent implementation (scikit-learn, statsmodels) or from the published numbers.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from sklearn.metrics import cohen_kappa_score

from ground_truth.kernel import InputError
from harness.agreement import bland_altman, cohen_kappa, icc, kappa
from harness.cli import main


def _run(capsys, argv):
    capsys.readouterr()
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _rows(name):
    with open(shared_path(*name.split("/")), newline="") as fh:
        return list(csv.reader(fh))


def _write(path, rows):
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


# ------------------------------------------------------------------------------------------------------ kappa
def test_one_text_cell_does_not_split_categories(capsys, tmp_path):
    # Artstein & Poesio Table 4 (scikit-learn's test vectors). One cell of y1 becomes 'x': pandas then reads the
    # whole y1 column as text, and its '0', '1', '2' never met y2's 0, 1, 2 (kappa came out as 0.0).
    rows = _rows("agreement_peer/sklearn_artstein_poesio_table4.csv")
    rows[5][0] = "x"
    path = _write(tmp_path / "t4_x.csv", rows)
    rc, out, _ = _run(capsys, ["kappa", str(path), "--raters", "y1,y2", "--json"])
    assert rc == 0
    d = json.loads(out)
    # expected, independently: 'x' is a category of its own, every other label matched by value
    # (scikit-learn on the labels as text, where '1' is '1' on both sides)
    frame = pd.read_csv(path, dtype=str)
    expected = cohen_kappa_score(frame["y1"], frame["y2"])
    assert d["kappa"] == pytest.approx(expected, rel=1e-12)
    assert d["kappa"] > 0.7 and d["labels"] == [0, 1, 2, "x"]
    assert "matched by value" in d["note"] and "'y1'" in d["note"]
    # the same file with the cell restored gives scikit-learn's kappa of the original vectors
    rows[5][0] = _rows("agreement_peer/sklearn_artstein_poesio_table4.csv")[5][0]
    rc, out, _ = _run(capsys, ["kappa", str(_write(tmp_path / "t4.csv", rows)), "--raters", "y1,y2", "--json"])
    orig = pd.read_csv(tmp_path / "t4.csv")
    assert json.loads(out)["kappa"] == pytest.approx(cohen_kappa_score(orig["y1"], orig["y2"]), rel=1e-12)


def test_labels_are_one_category_whatever_their_spelling():
    # columns of numbers: 1, '1', ' 1 ', '1.0' and 1.0 are one category
    r = cohen_kappa([1, "1", " 1 ", "1.0", 2, 2.0], [1.0, 1, "1", 1, "2", " 2"])
    assert r.kappa == pytest.approx(1.0) and r.labels == [1, 2] and r.note == ""
    # one text column, one numeric: matched by value across them, and the note says so
    r = cohen_kappa(["1", "2", "x", "1"], [1, 2, 3, 1.0])
    assert r.labels == [1, 2, 3, "x"] and r.confusion.loc[1, 1] == 2 and "matched by value" in r.note
    # text columns: blanks around a label do not make another category
    assert cohen_kappa(["ankle ", "hip", "hip"], [" ankle", "hip", "hip"]).kappa == pytest.approx(1.0)


def test_a_rater_named_twice_is_refused(capsys):
    path = shared_path("agreement", "irr_anxiety.csv")
    rc, _, err = _run(capsys, ["kappa", str(path), "--raters", "rater1,rater1"])
    assert rc == 2 and "'rater1' is given twice" in err and str(path) in err
    rc, _, err = _run(capsys, ["kappa", str(path), "--raters", "rater1,rater2,rater1", "--json"])
    assert rc == 2 and "twice" in err
    with pytest.raises(InputError, match="given twice"):
        kappa(pd.read_csv(path), ["rater2", "rater2"])


def test_a_repeated_label_is_refused(capsys):
    # irr anxiety, raters 1 and 2, linear weights: 0.189 (statsmodels, tests/test_kappa.py). A label given twice
    # shifted the category order the weights are built on and changed it.
    path = shared_path("agreement", "irr_anxiety.csv")
    base = ["kappa", str(path), "--raters", "rater1,rater2", "--weights", "linear", "--json"]
    rc, out, _ = _run(capsys, base + ["--labels", "1,2,3,4,5,6"])
    assert rc == 0 and json.loads(out)["kappa"] == pytest.approx(0.18918918918918903, rel=1e-12)
    for labels in ("1,2,3,4,5,6,6", "1,2,3,4,5,6,6.0", "1,2,2,3,4,5,6"):
        rc, _, err = _run(capsys, base + ["--labels", labels])
        assert rc == 2 and "given twice" in err, labels


# -------------------------------------------------------------------------------------------------------- icc
def test_icc_columns_named_twice_are_refused(capsys):
    path = shared_path("agreement", "realstats_wine_icc_long.csv")
    for targets, raters, ratings in (("Wine", "Wine", "Scores"), ("Wine", "Judge", "Judge")):
        rc, _, err = _run(capsys, ["icc", str(path), "--targets", targets, "--raters", raters, "--ratings", ratings])
        assert rc == 2 and "both name column" in err
    with pytest.raises(InputError, match="both name column"):
        icc(pd.read_csv(path), "Wine", "Wine", "Scores")


def test_icc_ids_are_typed_by_value(capsys, tmp_path):
    # a judge written ' A ' in one row was a fifth judge; a wine written '3.0' a ninth wine
    rows = _rows("agreement/realstats_wine_icc_long.csv")
    header = rows[0]
    j, w = header.index("Judge"), header.index("Wine")
    rows[3][j] = " " + rows[3][j] + " "
    rows[4][w] = rows[4][w] + ".0"
    path = _write(tmp_path / "wine.csv", rows)
    rc, out, _ = _run(capsys, ["icc", str(path), "--targets", "Wine", "--raters", "Judge", "--ratings", "Scores",
                               "--json"])
    assert rc == 0
    # published: 0.728 0.728 0.729 0.914 0.914 0.915 (8 wines x 4 judges)
    d = json.loads(out)
    assert [round(r["icc"], 3) for r in d] == [0.728, 0.728, 0.729, 0.914, 0.914, 0.915]
    assert d[0]["n_targets"] == 8 and d[0]["k_raters"] == 4


# ----------------------------------------------------------------------------------- values beyond float64
def test_agreement_with_1e308_is_refused_naming_file_and_column(capsys, tmp_path):
    rows = _rows("agreement/giavarina2015.csv")
    rows[4][rows[0].index("A")] = "1e308"
    path = _write(tmp_path / "big.csv", rows)
    rc, out, err = _run(capsys, ["agreement", str(path), "--reference", "B", "--candidate", "A", "--json"])
    assert rc == 2 and out == ""
    assert str(path) in err and "field 'A'" in err and "overflow" in err


def test_icc_with_1e300_is_refused_naming_file_and_column(capsys, tmp_path):
    frame = pd.read_csv(shared_path("agreement", "realstats_wine_icc_long.csv"))
    frame["Scores"] = frame["Scores"] * 1e300
    path = tmp_path / "wine_big.csv"
    frame.to_csv(path, index=False)
    rc, _, err = _run(capsys, ["icc", str(path), "--targets", "Wine", "--raters", "Judge", "--ratings", "Scores"])
    assert rc == 2 and str(path) in err and "field 'Scores'" in err and "overflow" in err


def test_tiny_values_are_computed_not_zeroed(capsys, tmp_path):
    # Giavarina 2015 in a unit 1e300 times larger: every Bland-Altman figure scales, and the ICC does not change.
    # Squared deviations of 1e-300 underflow to 0: the SD came out as 0 (limits = bias) and the ICC as null.
    frame = pd.read_csv(shared_path("agreement", "giavarina2015.csv")).astype(float)
    path = tmp_path / "tiny.csv"
    (frame * 1e-300).to_csv(path, index=False)
    rc, out, _ = _run(capsys, ["agreement", str(path), "--reference", "B", "--candidate", "A", "--json"])
    assert rc == 0
    d = json.loads(out)
    # Giavarina 2015: bias -27.17, SD 34.81, limits -95.39 to 41.05
    assert d["bias"] == pytest.approx(-27.17e-300, rel=2e-4) and d["sd"] == pytest.approx(34.81e-300, rel=2e-4)
    assert d["loa_lower"] == pytest.approx(-95.39e-300, rel=1e-4) and d["note"] == ""
    wine = pd.read_csv(shared_path("agreement", "realstats_wine_icc_long.csv"))
    tiny = wine.assign(Scores=wine["Scores"] * 1e-300)
    np.testing.assert_allclose(icc(tiny, "Wine", "Judge", "Scores")["icc"].to_numpy(),
                               icc(wine, "Wine", "Judge", "Scores")["icc"].to_numpy(), rtol=1e-12)


def test_a_minus_inf_reference_names_the_reference_column_and_the_file(capsys, tmp_path):
    rows = _rows("agreement/giavarina2015.csv")
    rows[6][rows[0].index("B")] = "-inf"
    path = _write(tmp_path / "ninf.csv", rows)
    rc, _, err = _run(capsys, ["agreement", str(path), "--reference", "B", "--candidate", "A"])
    assert rc == 2 and str(path) in err and "field 'B'" in err and "infinite" in err and "row 7" in err
    # the library names the argument that holds it (it said 'candidate' for a reference value)
    ref = np.array([1.0, 2.0, -np.inf, 4.0])
    with pytest.raises(InputError, match="field 'reference'"):
        bland_altman(ref, np.arange(4.0))


def test_a_huge_multiplier_is_refused(capsys):
    path = shared_path("agreement", "giavarina2015.csv")
    rc, _, err = _run(capsys, ["agreement", str(path), "--reference", "B", "--candidate", "A", "--multiplier",
                               "1e308"])
    assert rc == 2 and "--multiplier" in err


@pytest.mark.parametrize("command", [["agreement", "--reference", "a", "--candidate", "b"],
                                     ["icc", "--targets", "t", "--raters", "r", "--ratings", "y"],
                                     ["kappa", "--raters", "a,b"]])
def test_directory_or_non_utf8_file_is_a_clear_error(capsys, tmp_path, command):
    rc, _, err = _run(capsys, [command[0], str(tmp_path)] + command[1:])
    assert rc == 2 and "is a directory" in err and str(tmp_path) in err
    bad = tmp_path / "latin1.csv"
    # a real example saved in Latin-1 with one accented header
    text = shared_path("agreement", "giavarina2015.csv").read_text().replace("A,B", "a,b,t,r,y\u00e9")
    bad.write_bytes(text.encode("latin-1"))
    rc, _, err = _run(capsys, [command[0], str(bad)] + command[1:])
    assert rc == 2 and "not utf-8" in err and "line 1" in err


def test_a_row_with_extra_fields_is_refused_not_shifted(capsys, tmp_path):
    # pandas reads a first data row longer than the header as an index plus values: every value moves one
    # column to the left and the statistics are computed on the wrong columns, with exit 0
    rows = _rows("agreement/giavarina2015.csv")
    rows[1] = rows[1] + ["99"]
    path = _write(tmp_path / "extra.csv", rows)
    for argv in (["agreement", "--reference", "B", "--candidate", "A"], ["kappa", "--raters", "A,B"]):
        rc, _, err = _run(capsys, [argv[0], str(path)] + argv[1:])
        assert rc == 2 and "line 2 has 3 field(s) but the header has 2" in err and str(path) in err


# -------------------------------------------------------------------------------- no null without a reason
_HOSTILE = ["x", "", "inf", "-inf", "nan", "1e308", "1e-320", "1e153", "-0", " 1 "]
_CORE = {"agreement": ("bias", "sd", "loa_lower", "loa_upper", "bias_ci", "loa_lower_ci", "loa_upper_ci",
                       "prop_bias_slope"),
         "icc": ("icc", "ci_low", "ci_high", "f", "p"), "kappa": ("kappa", "se", "ci_low", "ci_high")}


@pytest.mark.parametrize("name, argv", [
    ("agreement/giavarina2015.csv", ["agreement", "--reference", "B", "--candidate", "A"]),
    ("agreement/realstats_wine_icc_long.csv", ["icc", "--targets", "Wine", "--raters", "Judge", "--ratings",
                                               "Scores", "--nan-policy", "omit"]),
    ("agreement/irr_anxiety.csv", ["kappa", "--raters", "rater1,rater2", "--weights", "quadratic"]),
])
def test_hostile_cells_never_give_a_bare_null(capsys, tmp_path, name, argv):
    """Each cell of the first rows replaced by each hostile value: exit 0 or 2 (an unexpected exception fails
    the test: STANCEBENCH_STRICT), and at exit 0 every statistic is a number or the note says why not."""
    rows = _rows(name)
    path = tmp_path / "m.csv"
    counts = {0: 0, 2: 0}
    for r in (1, 5):
        for c in range(len(rows[0])):
            for value in _HOSTILE:
                mutated = [row[:] for row in rows]
                mutated[r][c] = value
                _write(path, mutated)
                rc, out, err = _run(capsys, [argv[0], str(path)] + argv[1:] + ["--json"])
                assert rc in (0, 2), (r, c, value, err)
                counts[rc] += 1
                if rc == 2:
                    assert err.startswith(f"stancebench {argv[0]}: error:") and err.count("\n") == 1
                    continue
                d = json.loads(out)
                for rec in d if isinstance(d, list) else [d]:
                    nulls = [k for k in _CORE[argv[0]] if rec.get(k) is None
                             or (isinstance(rec[k], list) and None in rec[k])]
                    assert not nulls or rec["note"], (r, c, value, nulls)
    assert counts[0]
