"""A gate verdict and its wording: the label and unit of the judged value, the message, the summary and the
exit code of a list of verdicts."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ground_truth.kernel import InputError

from .policy import OPERATORS, GateRule

STATUSES = ("pass", "fail", "error", "not-evaluable")

_FIELD_LABELS = {
    "icc": "{icc_type}", "icc_ci_low": "{icc_type} lower 95% bound", "icc_ci_high": "{icc_type} upper 95% bound",
    "bias": "bias", "bias_ci_low": "bias lower 95% bound", "bias_ci_high": "bias upper 95% bound",
    "sd": "SD of differences", "mae": "MAE", "mae_ci_low": "MAE lower 95% bound",
    "mae_ci_high": "MAE upper 95% bound", "ccc": "CCC", "ccc_ci_low": "CCC lower 95% bound",
    "ccc_ci_high": "CCC upper 95% bound", "loa_lower": "lower limit of agreement",
    "loa_upper": "upper limit of agreement", "kappa": "Cohen's kappa", "kappa_ci_low": "kappa lower 95% bound",
    "kappa_ci_high": "kappa upper 95% bound", "model_bytes": "model size",
    "diff": "{metric_name} difference vs {baseline}",
    "diff_ci_high": "{metric_name} difference vs {baseline}, upper 95% bound",
    "diff_ci_low": "{metric_name} difference vs {baseline}, lower 95% bound",
}
_SUFFIX_UNITS = {"_ms": "ms", "_mb": "MB", "_bytes": "bytes", "_s": "s", "_mah": "mAh", "_c": "°C"}


@dataclass
class GateVerdict:
    """The outcome of one rule for one candidate (and device, for device rules).

    ``blocks`` is True when this verdict stops a release: a blocking rule that failed, errored, or could not be
    evaluated (unless the rule allows missing values). ``message`` states actual against threshold, e.g.
    "ICC(A,1) lower 95% bound of com_path_length 0.81 ≥ 0.75: pass".

    ``would_block`` is what the verdict does to the candidate it judges. For a real candidate it equals
    ``blocks``. A control candidate (``control`` = "positive" or "negative") is judged by the same rules, but its
    verdicts never stop a release themselves (``blocks`` is False, ``would_block`` keeps the outcome): what stops
    the release is the control's expectation verdict (``rule_id`` = ``"control-expectation"``, see
    :mod:`harness.gates.controls`), which states ``expected_outcome`` against ``actual_outcome`` and blocks when
    the control did not behave as expected.
    """

    rule_id: str
    candidate: str
    status: str
    severity: str
    blocks: bool
    metric: str
    label: str
    op: str
    threshold: float
    actual: float | None
    unit: str
    message: str
    reason: str | None = None
    mode: str = "absolute"
    baseline: str | None = None
    kpi: str | None = None
    condition: str | None = None
    device: str | None = None
    description: str = ""
    control: str | None = None
    would_block: bool | None = None
    expected_outcome: str | None = None
    actual_outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["actual"] is not None and not math.isfinite(d["actual"]):
            d["actual"] = None
        return d


def format_number(x: float | None) -> str:
    """Short human form: 4 significant digits, no exponent below 10^6, thousands separated."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    ax = abs(x)
    if ax >= 1e6 or (0 < ax < 1e-3):
        return f"{x:.3g}"
    if ax >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _with_unit(x: float | None, unit: str) -> str:
    s = format_number(x)
    if not unit or s == "n/a":
        return s
    return f"{s}{unit}" if unit in ("%", "×", "°") else f"{s} {unit}"


def _unit(rule: GateRule, row: dict | None, results: dict) -> str:
    row = dict(row or {})
    row.setdefault("kpi", rule.where.get("kpi"))
    if rule.unit is not None:
        return rule.unit
    if rule.mode == "ratio":
        return "×"
    leaf = rule.path[-1]
    if rule.section in ("agreement", "comparisons") and not leaf.startswith(("icc", "ccc", "n")):
        unit = row.get("unit")
        if unit is None and row.get("kpi"):
            for a in results.get("agreement") or []:
                if a.get("kpi") == row["kpi"] and a.get("unit") is not None:
                    unit = a["unit"]
                    break
            else:
                try:
                    from protocols import get_kpi
                    unit = get_kpi(row["kpi"]).unit
                except InputError:
                    unit = None
        return unit or ""
    if rule.section == "device" and rule.path[0] == "energy":
        energy = row.get("energy") if isinstance(row.get("energy"), dict) else {}
        return {"assessment_mah": "mAh", "assessment_j": "J"}.get(leaf) or energy.get("unit") or ""
    if rule.scale == 1.0:
        for suffix, unit in _SUFFIX_UNITS.items():
            if leaf.endswith(suffix):
                return unit
    return ""


def _label(rule: GateRule, row: dict | None, baseline: str | None = None, n_rows: int = 0) -> str:
    row = row or {}
    leaf = rule.path[-1]
    if rule.label:
        base = rule.label
    elif rule.section == "device" and rule.path[0] == "latency" and leaf.endswith("_ms") and leaf[0] == "p":
        base = f"{leaf[:-3]} latency"
    elif rule.section == "device" and rule.path == ("energy", "value"):
        base = "energy"
    elif rule.section == "device" and rule.path[0] == "energy" and leaf.startswith("assessment_"):
        base = "energy of one assessment"
    elif leaf in _FIELD_LABELS:
        metric_name = str(row.get("metric", rule.where.get("metric", "error"))).upper()
        base = _FIELD_LABELS[leaf].format(icc_type=row.get("icc_type", "ICC(A,1)"), metric_name=metric_name,
                                          baseline=baseline or rule.baseline or "baseline")
    else:
        base = ".".join(rule.path).replace("_", " ")
    if rule.abs:
        base = f"|{base}|"
    if rule.stat:
        base = f"{rule.stat} of {base}" + (f" over {n_rows} {rule.section} rows" if n_rows else "")
    kpi = rule.where.get("kpi", row.get("kpi"))
    if kpi and rule.section != "candidates":
        base += f" of {kpi}"
    cond = rule.where.get("condition", None if n_rows else row.get("condition"))
    if cond == "*":
        base += " (any condition)"
    elif cond and cond != "all":
        base += f" ({cond})"
    if rule.mode == "difference":
        base += f", minus baseline {baseline}"
    elif rule.mode == "ratio":
        base += f", relative to baseline {baseline}"
    return base


def _verdict(rule: GateRule, cand: str, status: str, *, actual=None, unit=None, reason=None, row=None,
             baseline=None, device=None, label=None, results=None) -> GateVerdict:
    label = label or _label(rule, row, baseline)
    if unit is None:
        unit = _unit(rule, row, results or {})
    sym = OPERATORS[rule.op]
    if rule.mode == "non-inferiority":
        thr = f"margin {_with_unit(rule.threshold, unit)}"
    else:
        thr = _with_unit(rule.threshold, unit)
    on = f" on {device}" if device else ""
    if status in ("pass", "fail"):
        message = f"{label}{on} {_with_unit(actual, unit)} {sym} {thr}: {status}"
    else:
        message = f"{label}{on} {sym} {thr}: {status} ({reason})"
    blocks = rule.blocking and (status in ("fail", "error") or (status == "not-evaluable" and not rule.allow_missing))
    row = row or {}
    return GateVerdict(rule_id=rule.id, candidate=cand, status=status, severity=rule.severity, blocks=blocks,
                       metric=rule.metric, label=label, op=rule.op, threshold=rule.threshold, actual=actual,
                       unit=unit, message=message, reason=reason, mode=rule.mode, baseline=baseline,
                       kpi=rule.where.get("kpi", row.get("kpi")),
                       condition=rule.where.get("condition", row.get("condition")), device=device,
                       description=rule.description, would_block=blocks)


def exit_code(verdicts: list[GateVerdict]) -> int:
    """1 when any verdict blocks the release, else 0.

    A real candidate's blocking verdict blocks; a control's rule verdicts never do (their ``blocks`` is False),
    its expectation verdict does when the control misbehaved (a positive control blocked, a negative control
    not blocked): the harness then failed to tell a good model from a bad one, and no release should rest on it.
    """
    return 1 if any(v.blocks for v in verdicts) else 0


def summarize(verdicts: list[GateVerdict]) -> dict[str, Any]:
    """Counts per status, blocking count, per-candidate outcome ('pass' or 'blocked') of the real candidates, and
    the controls' outcomes (``controls``: :func:`harness.gates.controls.controls_summary`)."""
    from .controls import controls_summary
    counts = {s: sum(v.status == s for v in verdicts) for s in STATUSES}
    per_cand: dict[str, str] = {}
    for v in verdicts:
        if v.control:
            continue  # a control is not a release candidate: its outcome is in "controls"
        per_cand.setdefault(v.candidate, "pass")
        if v.blocks:
            per_cand[v.candidate] = "blocked"
    return {"n": len(verdicts), **counts, "blocking": sum(v.blocks for v in verdicts),
            "candidates": per_cand, "controls": controls_summary([v.to_dict() for v in verdicts]),
            "exit_code": exit_code(verdicts)}
