"""Results dictionaries for the gate and report tests, built by real computations on real published data.

No invented numbers: agreement rows come from Bland & Altman's 1986 peak-flow data (Wright vs mini Wright
meter, ``../shared/data/agreement/ba1986_pefr.csv``), the categorical row from Fleiss's 1971 psychiatric
diagnoses (raters 1 and 2), and device rows from real benchmark-tool logs parsed by ``device_runners``. The
statistics come from ``harness.agreement`` (as in a study), and the test below checks them against the numbers
printed in the paper. Those data are not balance KPIs: the KPI names say what
they are ("peak_expiratory_flow"), so the report shows what it does with KPIs outside the registry.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path

PEFR_KPI, PEFR_UNIT = "peak_expiratory_flow", "l/min"


def _agreement_row(candidate: str, kpi: str, unit: str, ref: np.ndarray, cand: np.ndarray) -> dict:
    """harness.agreement's results-schema record, in Bland & Altman 1986's convention (bias ± 2 SD)."""
    from harness.agreement import agreement_summary
    row = agreement_summary(ref, cand, multiplier=2.0, loa_ci="approximate", seed=0)
    return {"candidate": candidate, "kpi": kpi, "condition": "all", "unit": unit, **row}


def _kappa_row(candidate: str, kpi: str, ref: list[str], cand: list[str]) -> dict:
    from harness.agreement import cohen_kappa, kappa_reading_fields
    k = cohen_kappa(ref, cand)
    # the reading fields as harness.aggregate adds them to every categorical row
    return {"candidate": candidate, "kpi": kpi, "labels": [str(x) for x in k.labels],
            "confusion": k.confusion.to_numpy().tolist(), "kappa": k.kappa, "kappa_ci_low": k.ci_low,
            "kappa_ci_high": k.ci_high, "weights": k.weights or "none", "n": k.n, **kappa_reading_fields(k.kappa)}


def device_rows(candidate_sha: dict[str, str]) -> list[dict]:
    """Real benchmark-tool logs parsed by device_runners, joined to candidates by sha256 (as the study does)."""
    from device_runners.parsers.benchmark_model import parse_benchmark_model
    from device_runners.parsers.litert_benchmark import parse_litert_benchmark
    js = shared_path("device_outputs", "litert_python_benchmark_litert_model_pose_landmark_full.json")
    txt = shared_path("device_outputs", "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt")
    recs = parse_litert_benchmark(js.read_text(), file=js) + parse_benchmark_model(txt.read_text(), file=txt)
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
        agreement.append(_agreement_row(name, PEFR_KPI, PEFR_UNIT, ref, values))
        for s, r, c in zip(df["subject"], ref, values):
            trials.append({"trial_id": f"S{s:02d}-1", "subject": f"S{s:02d}", "protocol": "peak_flow_1986",
                           "condition": "first_reading", "candidate": name, "status": "ok", "reason": None,
                           "detection_rate": 1.0, "alignment": None,
                           "kpis": [{"kpi": PEFR_KPI, "unit": PEFR_UNIT, "reference": float(r), "candidate": float(c),
                                     "reference_method": "Wright peak flow meter, first reading",
                                     "candidate_method": "mini Wright meter", "censored": False}]})
    from harness.agreement import compare_errors
    cmp = compare_errors(ref, cands["mini-wright-2nd"], cands["mini-wright"], metric="mae", margin=10.0, seed=0)
    comparisons = [{"candidate": "mini-wright-2nd", "baseline": "mini-wright", "kpi": PEFR_KPI, "metric": "mae",
                    "diff": cmp.diff, "diff_ci_low": cmp.diff_ci_low, "diff_ci_high": cmp.diff_ci_high,
                    "n_subjects": cmp.n_subjects, "method": cmp.method}]
    categorical = [_kappa_row("mini-wright", "diagnosis", diag["rater1"].tolist(), diag["rater2"].tolist())]
    from harness.results import SCHEMA_VERSION
    return with_report_sections({
        "schema_version": SCHEMA_VERSION,
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
    })


def with_report_sections(res: dict) -> dict:
    """Add the sections the harness writes for the report (``pairs``, ``kpis``, ``protocols``), computed from the
    results' trials by the harness's own functions, as a study does; call again after editing the trials."""
    from harness.aggregate import kpi_sections, pair_records
    trials = res.get("trials") or []
    names = [r["kpi"] for key in ("agreement", "categorical") for r in res.get(key) or [] if r.get("kpi")]
    res.update(kpi_sections(trials, (res.get("study") or {}).get("own_protocols"), names=names),
               pairs=pair_records(trials))
    return res


def test_pefr_fixture_matches_bland_altman_1986():
    res = pefr_results(with_device=False)
    row = res["agreement"][0]
    # Published (Bland & Altman 1986; ../shared/data/agreement/README.md): difference Wright − mini is −2.1,
    # SD 38.8, limits −79.7 to 75.5, SE of a limit 16.3, lower-limit CI −114.3 to −45.1. Our difference is
    # candidate − reference = mini − Wright, so signs flip.
    assert row["bias"] == pytest.approx(2.1, abs=0.05)
    assert row["sd"] == pytest.approx(38.8, abs=0.05)
    assert (row["loa_lower"], row["loa_upper"]) == pytest.approx((-75.5, 79.7), abs=0.1)
    # The limits' CIs follow the agreement package's approximate convention (SE sqrt(3s²/n)); the paper's
    # hand-rounded 45.1 and 114.3 are matched to within 1 l/min.
    assert row["loa_upper_ci_low"] == pytest.approx(45.1, abs=1.0)
    assert row["loa_upper_ci_high"] == pytest.approx(114.3, abs=1.0)
    assert row["bias_ci_low"] == pytest.approx(-17.8, abs=0.1)
    assert 0 < row["icc_ci_low"] < row["icc"] < row["icc_ci_high"] <= 1
    kap = res["categorical"][0]
    assert sum(map(sum, kap["confusion"])) == 30 and -1 <= kap["kappa"] <= 1
