"""Results dictionaries for the gate and report tests, built by real computations on real published data.

No invented numbers: agreement rows come from Bland & Altman's 1986 peak-flow data (Wright vs mini Wright
meter, ``../shared/data/agreement/ba1986_pefr.csv``), the categorical row from Fleiss's 1971 psychiatric
diagnoses (raters 1 and 2), and device rows from real benchmark-tool logs parsed by ``device_runners``. The
statistics are computed here independently of ``harness.agreement`` (plain numpy + pingouin), and the test below
checks them against the numbers printed in the paper. Those data are not balance KPIs: the KPI names say what
they are ("peak_expiratory_flow"), so the report shows what it does with KPIs outside the registry.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import shared_path

PEFR_KPI, PEFR_UNIT = "peak_expiratory_flow", "l/min"


def _bland_altman_row(candidate: str, kpi: str, unit: str, ref: np.ndarray, cand: np.ndarray,
                      multiplier: float = 2.0, seed: int = 0) -> dict:
    """Bland & Altman 1986 limits with their approximate CIs (SE of a limit = sqrt(3 s² / n))."""
    d = cand - ref
    n = d.size
    bias, sd = d.mean(), d.std(ddof=1)
    t = stats.t.ppf(0.975, n - 1)
    se_bias, se_loa = sd / math.sqrt(n), math.sqrt(3 * sd ** 2 / n)
    lo, hi = bias - multiplier * sd, bias + multiplier * sd
    import pingouin as pg
    long = pd.DataFrame({"target": np.r_[np.arange(n), np.arange(n)], "rater": ["ref"] * n + ["cand"] * n,
                         "score": np.r_[ref, cand]})
    icc = pg.intraclass_corr(long, targets="target", raters="rater", ratings="score").set_index("Type")
    icc2 = icc.loc["ICC(A,1)"]  # two-way random, absolute agreement, single measure (McGraw & Wong 1996)
    sxy = np.mean((ref - ref.mean()) * (cand - cand.mean()))
    ccc = 2 * sxy / (ref.var() + cand.var() + (ref.mean() - cand.mean()) ** 2)  # Lin 1989, ddof 0
    rng = np.random.default_rng(seed)
    boot = np.abs(d)[rng.integers(0, n, size=(2000, n))].mean(axis=1)
    ci_low, ci_high = float(icc2["CI95"][0]), float(icc2["CI95"][1])
    interp = _koo_li(ci_low), _koo_li(ci_high)
    return {"candidate": candidate, "kpi": kpi, "condition": "all", "unit": unit, "n": int(n), "n_subjects": int(n),
            "bias": bias, "bias_ci_low": bias - t * se_bias, "bias_ci_high": bias + t * se_bias, "sd": sd,
            "multiplier": multiplier,
            "loa_lower": lo, "loa_lower_ci_low": lo - t * se_loa, "loa_lower_ci_high": lo + t * se_loa,
            "loa_upper": hi, "loa_upper_ci_low": hi - t * se_loa, "loa_upper_ci_high": hi + t * se_loa,
            "icc_type": "ICC(A,1)", "icc": float(icc2["ICC"]), "icc_ci_low": ci_low, "icc_ci_high": ci_high,
            "icc_interpretation": interp[0] if interp[0] == interp[1] else f"{interp[0]} to {interp[1]}",
            "ccc": float(ccc), "ccc_ci_low": None, "ccc_ci_high": None,
            "mae": float(np.abs(d).mean()), "mae_ci_low": float(np.percentile(boot, 2.5)),
            "mae_ci_high": float(np.percentile(boot, 97.5)), "n_censored": 0,
            "note": "test fixture: Bland & Altman 1986 convention (bias ± 2 SD, SE of a limit sqrt(3s²/n))"}


def _koo_li(x: float) -> str:
    return "poor" if x < 0.5 else "moderate" if x < 0.75 else "good" if x < 0.9 else "excellent"


def _kappa_row(candidate: str, kpi: str, ref: list[str], cand: list[str]) -> dict:
    labels = sorted(set(ref) | set(cand))
    idx = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(m, ([idx[r] for r in ref], [idx[c] for c in cand]), 1)
    n = m.sum()
    po = np.trace(m) / n
    pe = (m.sum(0) * m.sum(1)).sum() / n ** 2
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))  # Cohen 1960 large-sample SE
    return {"candidate": candidate, "kpi": kpi, "labels": labels, "confusion": m.tolist(), "kappa": kappa,
            "kappa_ci_low": kappa - 1.96 * se, "kappa_ci_high": kappa + 1.96 * se, "weights": "none", "n": int(n)}


def _paired_bootstrap_mae_diff(ref, cand, base, seed=0, n_boot=2000):
    """Subject-resampled bootstrap of MAE(candidate) − MAE(baseline) (one reading per subject)."""
    e_c, e_b = np.abs(cand - ref), np.abs(base - ref)
    rng = np.random.default_rng(seed)
    ix = rng.integers(0, ref.size, size=(n_boot, ref.size))
    diffs = e_c[ix].mean(1) - e_b[ix].mean(1)
    return float(e_c.mean() - e_b.mean()), float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))


def device_rows(candidate_sha: dict[str, str]) -> list[dict]:
    """Real benchmark-tool logs parsed by device_runners, joined to candidates by sha256 (as the study does)."""
    parsers = pytest.importorskip("device_runners.parsers.litert_benchmark",
                                  reason="device_runners parsers are not available")
    from device_runners.parsers.benchmark_model import parse_benchmark_model
    js = shared_path("device_outputs", "litert_python_benchmark_litert_model_pose_landmark_full.json")
    txt = shared_path("device_outputs", "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt")
    recs = parsers.parse_litert_benchmark(js.read_text(), file=js) + parse_benchmark_model(txt.read_text(), file=txt)
    rows = []
    names = list(candidate_sha)
    for i, rec in enumerate(recs[:3]):
        d = rec.to_dict()
        d["model"]["sha256"] = candidate_sha[names[min(i, len(names) - 1)]]
        rows.append(d)
    return rows


def pefr_results(with_device: bool = True) -> dict:
    """A results.json-shaped dict from real published data (see module docstring)."""
    df = pd.read_csv(shared_path("agreement", "ba1986_pefr.csv"))
    ref = df["wright1"].to_numpy(float)
    cands = {"mini-wright": df["mini1"].to_numpy(float), "mini-wright-2nd": df["mini2"].to_numpy(float)}
    # Stand-in model files: real models shipped with mediapipe (their real sizes and sha256), so that model-size
    # gates, the device join by sha256 and the size-vs-accuracy chart run on real values.
    mp = pytest.importorskip("mediapipe", reason="mediapipe (model files) not installed")
    from pathlib import Path
    mods = Path(mp.__file__).parent / "modules"
    model_files = {"mini-wright": mods / "pose_landmark" / "pose_landmark_full.tflite",
                   "mini-wright-2nd": mods / "pose_detection" / "pose_detection.tflite"}
    sha = {name: hashlib.sha256(f.read_bytes()).hexdigest() for name, f in model_files.items()}
    diag_path = shared_path("agreement", "irr_diagnoses_fleiss1971.csv")
    diag = pd.read_csv(diag_path)
    candidates, trials, agreement = [], [], []
    for i, (name, values) in enumerate(cands.items()):
        candidates.append({"name": name, "kind": "imported", "model_sha256": sha[name],
                           "model_bytes": model_files[name].stat().st_size, "precision": "fp32",
                           "runtime": f"stand-in model file {model_files[name].name}", "baseline": i == 0})
        agreement.append(_bland_altman_row(name, PEFR_KPI, PEFR_UNIT, ref, values))
        for s, r, c in zip(df["subject"], ref, values):
            trials.append({"trial_id": f"S{s:02d}-1", "subject": f"S{s:02d}", "protocol": "peak_flow_1986",
                           "condition": "first_reading", "candidate": name, "status": "ok", "reason": None,
                           "detection_rate": 1.0, "alignment": None,
                           "kpis": [{"kpi": PEFR_KPI, "unit": PEFR_UNIT, "reference": float(r), "candidate": float(c),
                                     "reference_method": "Wright peak flow meter, first reading",
                                     "candidate_method": "mini Wright meter", "censored": False}]})
    diff, lo, hi = _paired_bootstrap_mae_diff(ref, cands["mini-wright-2nd"], cands["mini-wright"])
    comparisons = [{"candidate": "mini-wright-2nd", "baseline": "mini-wright", "kpi": PEFR_KPI, "metric": "mae",
                    "diff": diff, "diff_ci_low": lo, "diff_ci_high": hi, "n_subjects": int(ref.size),
                    "method": "paired subject-clustered bootstrap"}]
    categorical = [_kappa_row("mini-wright", "diagnosis", diag["rater1"].tolist(), diag["rater2"].tolist())]
    return {
        "schema_version": 1,
        "study": {"name": "report test: published agreement examples", "kind": "manifest", "manifest": None,
                  "seed": 0, "created_utc": "2026-01-01T00:00:00+00:00",
                  "software": {"stancebench": "0.1.0", "numpy": np.__version__}},
        "provenance": {"files": [{"path": str(shared_path("agreement", "ba1986_pefr.csv")),
                                  "sha256": hashlib.sha256(shared_path("agreement", "ba1986_pefr.csv")
                                                           .read_bytes()).hexdigest(), "role": "gold-standard"}],
                       "licences": [{"data": "Bland & Altman 1986 PEFR data", "licence": "published table",
                                     "source": "Lancet 1986;i:307-310"}]},
        "candidates": candidates,
        "subjects": [{"subject": f"S{s:02d}", "height_m": None, "mass_kg": None, "leg_length_m": None}
                     for s in df["subject"]],
        "trials": trials, "agreement": agreement, "categorical": categorical, "comparisons": comparisons,
        "device": device_rows(sha) if with_device else [], "gates": [], "figures_data": {},
    }


def test_pefr_fixture_matches_bland_altman_1986():
    res = pefr_results(with_device=False)
    row = res["agreement"][0]
    # Published (Bland & Altman 1986; ../shared/data/agreement/README.md): difference Wright − mini is −2.1,
    # SD 38.8, limits −79.7 to 75.5, SE of a limit 16.3, lower-limit CI −114.3 to −45.1. Our difference is
    # candidate − reference = mini − Wright, so signs flip.
    assert row["bias"] == pytest.approx(2.1, abs=0.05)
    assert row["sd"] == pytest.approx(38.8, abs=0.05)
    assert (row["loa_lower"], row["loa_upper"]) == pytest.approx((-75.5, 79.7), abs=0.1)
    assert row["loa_upper_ci_low"] == pytest.approx(45.1, abs=0.2)
    assert row["loa_upper_ci_high"] == pytest.approx(114.3, abs=0.2)
    assert row["bias_ci_low"] == pytest.approx(-17.8, abs=0.1)
    assert 0 < row["icc_ci_low"] < row["icc"] < row["icc_ci_high"] <= 1
    kap = res["categorical"][0]
    assert sum(map(sum, kap["confusion"])) == 30 and -1 <= kap["kappa"] <= 1
