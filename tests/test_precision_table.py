"""Precision and sample size per candidate × KPI (harness.precision_table, results ``precision``, report section).

Data: the agreement rows of Bland & Altman's (1986) peak-flow data (``test_report_fixtures.pefr_results``: Wright
vs mini Wright meter, 17 subjects, limits bias ± 2 SD, the limits' CIs by Bland & Altman 1999 §2.2). Every expected
number is computed here by hand from the published formulas, never by the code under test:

- Bonett (2002): n₀ = 8 z²(1 − ρ)²(1 + ρ)² / (2 w²) + 1 for k = 2, plus 5ρ when ρ ≥ 0.7, rounded up; and the
  ptenklooster.nl calculator's worked example of the paper (ICC 0.8, w 0.2: 51, adjusted 55; docs/sample-size.md).
- Bland & Altman (1999) §2.2: CI of a limit = limit ± t₀.₉₇₅,ₙ₋₁ · s · √(1/n + k²/(2(n − 1))); the plan is the
  smallest n whose half-width is ≤ 0.5 s.
- Kish (1965) §5.4: m trials per subject with within-subject correlation ρ need ⌈n_pairs (1 + (m − 1)ρ)/m⌉
  subjects.
"""
from __future__ import annotations

import copy
import csv
import math

import pytest
from scipy import stats

from ground_truth.kernel import InputError
from harness.precision_table import precision_section
from harness.results import load_results, write_results
from reports.builders.precision import precision_section_block
from reports.report import build_sections, environment
from test_report_fixtures import pefr_results

Z = stats.norm.ppf(0.975)


def bonett_n(rho: float, w: float) -> int:
    """Bonett (2002) for k = 2 with his adjustment for ρ ≥ 0.7 (docs/sample-size.md), at least 3."""
    n0 = 8 * Z ** 2 * (1 - rho) ** 2 * (1 + rho) ** 2 / (2 * w ** 2) + 1
    return max(3, math.ceil(n0 + (5 * rho if rho >= 0.7 else 0)))


def ba1999_half_width_sd(n: int, k: float) -> float:
    """Half-width of a limit's CI in units of s, Bland & Altman (1999) §2.2."""
    return stats.t.ppf(0.975, n - 1) * math.sqrt(1 / n + k ** 2 / (2 * (n - 1)))


def ba1999_n(target_sd: float, k: float) -> int:
    n = 3
    while ba1999_half_width_sd(n, k) > target_sd:
        n += 1
    return n


@pytest.fixture(scope="module")
def pefr():
    return pefr_results(with_device=False)


def test_achieved_widths_and_plans_match_the_formulas(pefr):
    sec = precision_section(pefr)
    assert sec["status"] == "ok" and [r["candidate"] for r in sec["rows"]] == ["mini-wright", "mini-wright-2nd"]
    src = pefr["agreement"][0]
    row = sec["rows"][0]
    assert (row["n"], row["n_subjects"], row["trials_per_subject"]) == (17, 17, 1.0)
    assert row["icc_ci_width"] == pytest.approx(src["icc_ci_high"] - src["icc_ci_low"])
    # each limit's CI as reported, and its width by BA 1999 §2.2 with k = 2 (the 1986 paper's ±2 SD)
    assert row["loa_upper_ci_width"] == pytest.approx(2 * ba1999_half_width_sd(17, 2.0) * src["sd"], rel=1e-9)
    assert row["loa_lower_ci_width"] == pytest.approx(row["loa_upper_ci_width"], rel=1e-9)
    # ICC plan at the observed ICC (~0.95: Bonett's adjustment applies)
    assert row["icc_plan"]["n"] == bonett_n(src["icc"], 0.2) and row["icc_plan"]["trials"] == 1
    assert "Bonett" in row["icc_plan"]["citation"] and row["icc_plan_status"] == "ok"
    # Bonett's width expected at the study's 17 subjects: the formula solved for w with n − 1 − 5ρ
    rho = src["icc"]
    assert row["icc_ci_width_expected"] == pytest.approx(
        math.sqrt(8 * Z ** 2 * (1 - rho) ** 2 * (1 + rho) ** 2 / (2 * (17 - 1 - 5 * rho))), rel=1e-9)
    # LoA plan: ±0.5 SD with the row's own interval (approximate, k = 2)
    assert row["loa_plan"]["n"] == ba1999_n(0.5, 2.0)
    assert row["loa_plan"]["inputs"]["half_width"] == pytest.approx(0.5 * src["sd"])
    assert row["loa_plan"]["method"] == "loa-precision-approximate"
    assert sec["sentence"].startswith("With 17 subjects the 95% CI of the ICC of peak_expiratory_flow for "
                                      "mini-wright is ")
    assert "pin each limit to ±0.5 SD" in sec["sentence"]


def test_bonett_worked_example_and_other_targets(pefr):
    """ICC 0.8, w 0.2: 55 subjects (51 + Bonett's adjustment; the ptenklooster.nl calculator's example)."""
    res = copy.deepcopy(pefr)
    res["agreement"][0]["icc"] = 0.8
    row = precision_section(res)["rows"][0]
    assert row["icc_plan"]["n"] == 55
    wide = precision_section(res, icc_width=0.4, loa_half_width_sd=1.0)["rows"][0]
    assert wide["icc_plan"]["n"] == bonett_n(0.8, 0.4)
    assert wide["loa_plan"]["n"] == ba1999_n(1.0, 2.0)
    for bad in ({"icc_width": 0}, {"icc_width": 2.5}, {"loa_half_width_sd": -1}, {"loa_half_width_sd": math.nan}):
        with pytest.raises(InputError, match=next(iter(bad))):
            precision_section(res, **bad)


def test_nan_or_out_of_range_icc_is_not_computable(pefr):
    res = copy.deepcopy(pefr)
    res["agreement"][0]["icc"] = math.nan
    res["agreement"][1]["icc"] = -1.0           # at −1/(k − 1): outside Bonett's range
    rows = precision_section(res)["rows"]
    assert rows[0]["icc_plan"] is None and rows[0]["icc_plan_status"].startswith("not computable: ")
    assert "no finite ICC" in rows[0]["icc_plan_status"]
    assert rows[1]["icc_plan"] is None and "icc" in rows[1]["icc_plan_status"]
    assert rows[0]["loa_plan"]["n"] == ba1999_n(0.5, 2.0)          # the LoA plan does not need the ICC
    res["agreement"][0]["sd"] = None
    assert precision_section(res)["rows"][0]["loa_plan_status"].startswith("not computable")


def test_replicates_use_the_design_effect_and_say_what_was_assumed(pefr):
    res = copy.deepcopy(pefr)
    row = res["agreement"][0]
    row.update(n=30, n_subjects=10)
    n_pairs = ba1999_n(0.5, 2.0)
    out = precision_section(res)["rows"][0]
    assert out["trials_per_subject"] == 3.0 and out["within_correlation"] == 0.0
    assert out["within_correlation_source"].startswith("assumed 0")
    assert (out["loa_plan"]["n"], out["loa_plan"]["trials"]) == (math.ceil(n_pairs / 3), 3)
    row["within_correlation"] = 0.5
    out = precision_section(res)["rows"][0]
    assert out["within_correlation_source"] == "agreement row"
    assert out["loa_plan"]["n"] == math.ceil(n_pairs * (1 + 2 * 0.5) / 3)
    # a replicate row's MOVER interval has no plan: the exact interval stands in, and the note says so
    row["loa_ci_method"] = "mover"
    out = precision_section(res)["rows"][0]
    assert out["loa_plan"]["method"] == "loa-precision-exact" and "planned with the exact" in out["loa_plan"]["note"]


def test_controls_and_conditions_left_out(pefr):
    res = copy.deepcopy(pefr)
    res["candidates"][1]["control"] = "negative"
    res["agreement"].append(dict(res["agreement"][0], condition="first_reading"))
    sec = precision_section(res)
    assert [r["candidate"] for r in sec["rows"]] == ["mini-wright"]
    assert sec["notes"] == ["control candidate(s) left out: mini-wright-2nd"]
    assert precision_section({"agreement": []}) is None


def test_written_csv_and_report_section(pefr, tmp_path):
    res = copy.deepcopy(pefr)
    res["precision"] = precision_section(res)
    paths = write_results(res, tmp_path)
    back = load_results(paths["results"])
    assert back.precision is not None and back.precision.rows[0].icc_plan["n"] == bonett_n(
        pefr["agreement"][0]["icc"], 0.2)
    with open(paths["precision_csv"], newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 2 and table[0]["loa_plan_subjects_needed"] == str(ba1999_n(0.5, 2.0))
    assert table[0]["icc_plan_target"] == "0.2" and "icc_plan" not in table[0]
    sec = precision_section_block(back)
    assert sec.blocks[0].text == res["precision"]["sentence"]            # the plain sentence first
    html = environment().get_template(sec.template).render(**sec.context())
    assert "Targets: a 95% CI of the ICC 0.2 wide" in html
    assert '<th scope="col">ICC 95% CI low</th><th scope="col">ICC 95% CI high</th>' in html
    ids = [s.id for s in build_sections(back)]
    assert ids[ids.index("agreement-table") + 1] == "precision"
    # results without the section: no section in the report
    assert "precision" not in [s.id for s in build_sections(pefr)]


def test_manifest_settings_keys():
    from ground_truth.kernel import ManifestError
    from harness.manifest.fields import Problems
    from harness.manifest.parse import _settings
    ok = _settings(Problems(None), {"settings": {"precision_icc_width": 0.3, "precision_loa_half_width_sd": 0.25}})
    assert (ok.precision_icc_width, ok.precision_loa_half_width_sd) == (0.3, 0.25)
    problems = Problems(None)
    _settings(problems, {"settings": {"precision_icc_width": 3}})
    with pytest.raises(ManifestError, match="settings.precision_icc_width"):
        problems.raise_if_any()
