"""The one interpretation vocabulary (harness.agreement.interpret): every boundary of every scale, missing input,
and the same words in the CLI, the results rows and the rendered report."""
from __future__ import annotations

import itertools
import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ground_truth.kernel import InputError
from harness import agreement
from harness.aggregate import agreement_sections
from harness.agreement import summary
from harness.agreement.interpret import (
    KOO_LI_2016,
    LANDIS_KOCH_1977,
    NOT_INTERPRETABLE,
    icc_reading_fields,
    kappa_reading_fields,
    koo_li,
    koo_li_category,
    landis_koch,
)
from harness.cli import main
from reports import render_html


def below(x: float) -> float:
    return float(np.nextafter(x, -np.inf))


def above(x: float) -> float:
    return float(np.nextafter(x, np.inf))


# (boundary, reading just below, reading at, reading just above)
KOO_LI_BOUNDARIES = [
    # "less than 0.5 ... poor": strict, so 0.5 is moderate
    (0.5, "poor", "moderate", "moderate"),
    # 0.75 is named in "between 0.5 and 0.75" and "between 0.75 and 0.9": read as good (lower limit, like 0.5)
    (0.75, "moderate", "good", "good"),
    # "greater than 0.90 ... excellent": strict, so 0.90 is good
    (0.9, "good", "good", "excellent"),
]
LANDIS_KOCH_BOUNDARIES = [
    # "<0.00 poor; 0.00-0.20 slight": kappa = 0 (chance agreement) is slight
    (0.0, "poor", "slight", "slight"),
    # each printed upper limit belongs to its band; values above it take the next band
    (0.2, "slight", "slight", "fair"),
    (0.4, "fair", "fair", "moderate"),
    (0.6, "moderate", "moderate", "substantial"),
    (0.8, "substantial", "substantial", "almost perfect"),
]


@pytest.mark.parametrize("bound, lower, at, upper", KOO_LI_BOUNDARIES)
def test_koo_li_every_boundary_and_either_side(bound, lower, at, upper):
    assert koo_li_category(below(bound)) == lower
    assert koo_li_category(bound) == at
    assert koo_li_category(above(bound)) == upper
    # a CI whose two bounds sit on the boundary reads one word; either side of it, two
    assert koo_li(bound, bound) == at
    assert koo_li(below(bound), bound) == (at if lower == at else f"{lower} to {at}")
    assert koo_li(bound, above(bound)) == (at if upper == at else f"{at} to {upper}")


@pytest.mark.parametrize("bound, lower, at, upper", LANDIS_KOCH_BOUNDARIES)
def test_landis_koch_every_boundary_and_either_side(bound, lower, at, upper):
    assert landis_koch(below(bound)) == lower
    assert landis_koch(bound) == at
    assert landis_koch(above(bound)) == upper


def test_values_between_the_printed_two_decimal_limits_and_at_the_ends():
    # Landis & Koch print 0.00-0.20 slight, 0.21-0.40 fair: 0.205 is above the last slight value
    assert [landis_koch(v) for v in (0.205, 0.21, 0.41, 0.61, 0.81)] == [
        "fair", "fair", "moderate", "substantial", "almost perfect"]
    assert landis_koch(-1.0) == "poor" and landis_koch(1.0) == "almost perfect"
    assert koo_li_category(-0.3) == "poor" and koo_li_category(1.0) == "excellent"
    # the report prints 2 significant digits; the reading uses the unrounded value
    assert koo_li_category(0.9004) == "excellent"
    # Koo & Li's own example: a 95% CI of 0.83 to 0.94 reads "good to excellent"
    assert koo_li(0.83, 0.94) == "good to excellent"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, np.float32("nan"), float("inf"), -np.inf])
def test_missing_input_reads_not_interpretable(missing):
    assert NOT_INTERPRETABLE == "not interpretable"
    assert koo_li_category(missing) == NOT_INTERPRETABLE
    assert landis_koch(missing) == NOT_INTERPRETABLE
    assert koo_li(missing, 0.8) == koo_li(0.8, missing) == koo_li(missing, missing) == NOT_INTERPRETABLE
    assert icc_reading_fields(missing, 0.95)["icc_reading"] == NOT_INTERPRETABLE
    assert kappa_reading_fields(missing)["kappa_reading"] == NOT_INTERPRETABLE


def test_bad_input_raises():
    for bad in ("0.9", True, [0.9]):
        with pytest.raises(InputError):
            koo_li_category(bad)
        with pytest.raises(InputError):
            landis_koch(bad)
    with pytest.raises(InputError, match="above icc_ci_high"):
        koo_li(0.9, 0.8)


@pytest.mark.parametrize("scale", [KOO_LI_2016, LANDIS_KOCH_1977])
def test_scales_are_contiguous_and_each_boundary_belongs_to_exactly_one_band(scale):
    bands = scale.bands
    assert bands[0].low is None and bands[-1].high is None
    for a, b in itertools.pairwise(bands):
        assert a.high == b.low and a.high_included != b.low_included
    for a in bands[:-1]:
        assert sum(band.contains(a.high) for band in bands) == 1


def test_rules_and_sources_state_the_boundaries():
    assert KOO_LI_2016.rule() == ("below 0.50 poor; 0.50 to below 0.75 moderate; 0.75 to 0.90 good; above 0.90 "
                                  "excellent; missing: not interpretable")
    assert LANDIS_KOCH_1977.rule().startswith("below 0.00 poor; 0.00 to 0.20 slight; above 0.20 to 0.40 fair")
    assert "J Chiropr Med. 2016;15(2):155-163" in icc_reading_fields(0.8, 0.9)["icc_reading_source"]
    assert "Biometrics. 1977;33(1):159-174" in kappa_reading_fields(0.5)["kappa_reading_source"]
    scale = icc_reading_fields(0.8, 0.9)["icc_reading_scale"]
    assert json.loads(json.dumps(scale)) == scale  # JSON-able as results.json stores it


# ---- the same words in the CLI, the results row and the report ----

def _paired_rows() -> list[dict]:
    """Trial rows in the orchestration's layout: a continuous KPI and the categorical strategy label, where
    the reference uses one label only (kappa = 0 exactly: observed agreement equals chance agreement)."""
    rng = np.random.default_rng(3)
    truth = rng.normal(10, 2, 8)
    cand_labels = ["ankle", "hip", "mixed", "ankle", "hip", "ankle", "hip", "ankle"]
    rows = []
    for i in range(8):
        rows.append({"status": "ok", "kind": "paired", "candidate": "cam", "trial_id": f"t{i}", "subject": f"S{i}",
                     "protocol": "p", "condition": "c",
                     "kpis": [{"kpi": "sway_test_len", "unit": "cm", "reference": float(truth[i]),
                               "candidate": float(truth[i] + rng.normal(0, 0.5))},
                              {"kpi": "strategy_label", "unit": "", "reference": "ankle",
                               "candidate": cand_labels[i]}]})
    return rows


def _manifest():
    return SimpleNamespace(settings=SimpleNamespace(loa_multiplier=1.96, confidence=0.95, bootstrap=100, seed=0),
                           baseline=None)


def _ci_at(table: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    table = table.copy()
    table["ci_low"], table["ci_high"] = low, high
    return table


def _summary_text(html: str) -> str:
    m = re.search(r'<section id="summary"[^>]*>(.*?)</section>', html, re.S)
    assert m
    return m.group(1)


@pytest.mark.parametrize("low, high, expected", [(0.9, 0.9, "good"), (0.75, above(0.9), "good to excellent"),
                                                 (below(0.5), 0.5, "poor to moderate")])
def test_cli_results_row_and_report_agree_at_icc_boundaries(low, high, expected, monkeypatch, capsys, tmp_path):
    # The ICC's CI bounds are set exactly on Koo & Li's boundaries (no data set gives them exactly); the three
    # paths (CLI, results row via harness.aggregate, rendered report) must print the same words.
    real_icc, real_table = agreement.icc, summary.icc_table
    monkeypatch.setattr(agreement, "icc", lambda *a, **k: _ci_at(real_icc(*a, **k), low, high))
    monkeypatch.setattr(summary, "icc_table", lambda *a, **k: _ci_at(real_table(*a, **k), low, high))
    long = pd.DataFrame([{"t": r["trial_id"], "rater": side, "y": r["kpis"][0][side]}
                         for r in _paired_rows() for side in ("reference", "candidate")])
    path = tmp_path / "icc.csv"
    long.to_csv(path, index=False)
    assert main(["icc", str(path), "--targets", "t", "--raters", "rater", "--ratings", "y", "--json"]) == 0
    cli = {r["type"]: r for r in json.loads(capsys.readouterr().out)}["ICC(A,1)"]
    assert main(["icc", str(path), "--targets", "t", "--raters", "rater", "--ratings", "y"]) == 0
    cli_text = capsys.readouterr().out

    sections = agreement_sections(_paired_rows(), _manifest())
    row = next(r for r in sections["agreement"] if r["kpi"] == "sway_test_len")
    assert (row["icc_ci_low"], row["icc_ci_high"]) == (low, high)
    assert cli["interpretation"] == row["icc_reading"] == row["icc_interpretation"] == expected
    assert cli["interpretation_source"] == row["icc_reading_source"] == KOO_LI_2016.reference
    assert re.search(rf"ICC\(A,1\) .*  {re.escape(expected)}\n", cli_text)

    html = render_html({"study": {"name": "boundary"}, **sections})
    assert (f"applied to both bounds of the 95% confidence interval, the reliability is {expected}."
            in _summary_text(html))
    assert f"<td>{expected}</td>" in re.search(r'<section id="icc"[^>]*>(.*?)</section>', html, re.S).group(1)
    assert KOO_LI_2016.rule() in html and "J Chiropr Med. 2016;15(2):155-163" in html


def test_cli_results_row_and_report_agree_for_kappa_zero(capsys, tmp_path):
    rows = _paired_rows()
    labels = pd.DataFrame({"reference": [r["kpis"][1]["reference"] for r in rows],
                           "candidate": [r["kpis"][1]["candidate"] for r in rows]})
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    assert main(["kappa", str(path), "--raters", "reference,candidate", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    row = agreement_sections(rows, _manifest())["categorical"][0]
    assert cli["kappa"] == row["kappa"] == 0.0
    assert cli["interpretation"] == row["kappa_reading"] == "slight"
    assert cli["interpretation_source"] == row["kappa_reading_source"] == LANDIS_KOCH_1977.reference
    html = render_html({"study": {"name": "kappa"}, "categorical": [row]})
    assert "by the scale of Landis &amp; Koch (1977), the strength of agreement is slight" in html


def test_rows_without_statistics_read_not_interpretable_and_the_report_says_so():
    rows = _paired_rows()[:2]  # too few pairs for any statistic
    sections = agreement_sections(rows, _manifest())
    assert sections["agreement"][0]["icc_reading"] == NOT_INTERPRETABLE
    assert sections["categorical"][0]["kappa_reading"] == NOT_INTERPRETABLE
    row = dict(sections["agreement"][0], icc_type="ICC(A,1)", icc=0.8, icc_ci_low=None, icc_ci_high=None, bias=0.1)
    html = render_html({"study": {"name": "nan"}, "agreement": [row]})
    assert "ICC(A,1) = 0.8: by the guideline of Koo &amp; Li (2016)" in html
    assert "the reliability is not interpretable." in html
