"""Results with control candidates, built from real published data for the gate, CLI and report tests.

Bland & Altman's 1986 peak-flow data (``../shared/data/agreement/ba1986_pefr.csv``: 17 subjects, two readings
on the Wright meter, the gold standard, and two on the mini Wright meter) as in tests/test_report_fixtures.py,
with two control candidates added (``candidates[].control``, results schema 3):

- positive control ``wright-2nd-reading``: the gold-standard meter's own second reading, i.e. the truth measured
  again with its own measurement noise (what "the renderer's truth with detection jitter" is in a video study);
- negative control ``mini-wright-offset``: the mini meter's first reading with a systematic offset of
  :data:`OFFSET` l/min added (a real instrument degraded in a way that happens in practice: a miscalibration).

Numbers the tests rely on, each derivable by hand from the CSV (differences candidate − reference = wright1):
mean(wright2 − wright1) = −84/17 = −4.941 l/min; mean(mini1 − wright1) = 36/17 = 2.118 l/min (published 2.1);
mean(mini2 − wright1) = 85/17 = 5.000 l/min; the offset control's bias is therefore 2.118 + 15 = 17.118 l/min.
The ICC(A,1) lower 95 % bounds come from harness.agreement (not the code these tests check): 0.955 (wright
second reading), 0.857 (mini), 0.839 (mini 2nd), 0.824 (mini + 15 l/min); pingouin 0.6.1 prints 0.96, 0.86,
0.84 and 0.82 (its ICC(A,1) row, CI rounded to 2 decimals).
"""
from __future__ import annotations

import copy
import tomllib

import numpy as np
import pandas as pd

from conftest import shared_path
from test_report_fixtures import PEFR_KPI, PEFR_UNIT, _agreement_row, pefr_results, with_report_sections

POSITIVE, NEGATIVE = "wright-2nd-reading", "mini-wright-offset"
OFFSET = 15.0  # l/min

_ICC = f"""
[[rule]]
id = "pefr-icc"
metric = "agreement.icc_ci_low"
kpi = "{PEFR_KPI}"
op = ">="
threshold = 0.75
"""
_ABS_BIAS = f"""
[[rule]]
id = "pefr-bias"
metric = "agreement.bias"
abs = true
kpi = "{PEFR_KPI}"
op = "<="
threshold = 10.0
"""
#: Blocking ICC lower bound and |bias| rules: the real candidates and the positive control pass both, the
#: negative control passes the ICC rule (0.824) but fails |bias| (17.1 > 10): both controls as expected. The
#: model-size rule judges the real candidates only (a control ships no model).
DISCRIMINATING = '[policy]\nname = "discriminating"\n' + _ICC + _ABS_BIAS + """
[[rule]]
id = "model-size"
metric = "candidates.model_bytes"
scale = 1e-6
unit = "MB"
op = "<="
threshold = 30.0
"""
#: The ICC rule alone: a 15 l/min offset keeps the ICC lower bound at 0.824 >= 0.75, so the negative control
#: passes: the policy cannot tell the degraded meter from the real ones.
ICC_ONLY = '[policy]\nname = "icc only"\n' + _ICC
#: A one-sided bias rule (reads at most 4 l/min low) that blocks the positive control (−4.94) and no real
#: candidate (+2.12, +5.00); with the |bias| rule the negative control is still blocked (17.1).
BLOCKS_POSITIVE = '[policy]\nname = "blocks the positive control"\n' + f"""
[[rule]]
id = "pefr-bias-low"
metric = "agreement.bias"
kpi = "{PEFR_KPI}"
op = ">="
threshold = -4.0
""" + _ABS_BIAS


def policy(text: str):
    """A policy TOML text of this module as a Policy (through the policy parser, as a file would be)."""
    from harness.gates import policy_from_dict
    return policy_from_dict(tomllib.loads(text))


def results_with_controls() -> dict:
    """pefr_results (two real candidates, mini-wright the baseline) plus the two controls, their trials and their
    agreement rows (harness.agreement, as a study computes them), their pairs, KPI and protocol sections."""
    res = copy.deepcopy(pefr_results(with_device=False))
    df = pd.read_csv(shared_path("agreement", "ba1986_pefr.csv"))
    ref = df["wright1"].to_numpy(float)
    controls = {POSITIVE: ("positive", df["wright2"].to_numpy(float), "Wright peak flow meter, second reading"),
                NEGATIVE: ("negative", df["mini1"].to_numpy(float) + OFFSET,
                           f"mini Wright meter, first reading + {OFFSET:g} l/min")}
    for name, (kind, values, method) in controls.items():
        res["candidates"].append({"name": name, "kind": "imported", "model_sha256": None, "model_bytes": None,
                                  "precision": None, "runtime": None, "baseline": False, "control": kind,
                                  "view": "first", "params": {"source": method}})
        res["agreement"].append(_agreement_row(name, PEFR_KPI, PEFR_UNIT, ref, values))
        for s, r, c in zip(df["subject"], ref, values):
            res["trials"].append({"trial_id": f"S{s:02d}-1", "subject": f"S{s:02d}", "protocol": "peak_flow_1986",
                                  "condition": "first_reading", "candidate": name, "status": "ok", "reason": None,
                                  "detection_rate": 1.0, "alignment": None,
                                  "kpis": [{"kpi": PEFR_KPI, "unit": PEFR_UNIT, "reference": float(r),
                                            "candidate": float(c),
                                            "reference_method": "Wright peak flow meter, first reading",
                                            "candidate_method": method, "censored": False}]})
    return with_report_sections(res)


def hand_biases() -> dict[str, float]:
    """Mean difference candidate − wright1 of each candidate, computed here with numpy from the CSV."""
    df = pd.read_csv(shared_path("agreement", "ba1986_pefr.csv"))
    ref = df["wright1"].to_numpy(float)
    return {"mini-wright": float(np.mean(df["mini1"] - ref)), "mini-wright-2nd": float(np.mean(df["mini2"] - ref)),
            POSITIVE: float(np.mean(df["wright2"] - ref)), NEGATIVE: float(np.mean(df["mini1"] + OFFSET - ref))}
