"""Evaluate a gate policy on study results: one verdict per rule × candidate (× device for device rules).

Statuses
--------
pass / fail
    The value was found and compared with the threshold.
not-evaluable
    The value is not in the results (section empty, no matching row, field null/NaN, no baseline). A
    *blocking* rule that is not evaluable BLOCKS the release (a missing measurement is no evidence of
    safety) unless the rule says ``allow_missing = true``.
error
    The value exists but cannot be judged (not a number, several rows match where one was expected, division
    by a zero baseline). A blocking error blocks.
"""
from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ManifestError

from .policy import OPERATORS, SECTION_FIELDS, GateRule, Policy, load_policy, policy_from_dict

STATUSES = ("pass", "fail", "error", "not-evaluable")
_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
            "!=": operator.ne}
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


class _NotEvaluable(Exception):
    pass


class _Error(Exception):
    pass


def _device_key(row: dict) -> str:
    """Short name of the device and runtime a device record was measured on."""
    dev = row.get("device") if isinstance(row.get("device"), dict) else {}
    rt = row.get("runtime") if isinstance(row.get("runtime"), dict) else {}
    bits = [b for b in (dev.get("model") or dev.get("platform") or row.get("device_name"), rt.get("name"),
                        rt.get("delegate")) if b]
    if rt.get("threads"):
        bits.append(f"{rt['threads']} thread{'s' if rt['threads'] != 1 else ''}")
    return ", ".join(str(b) for b in bits) or "unnamed device"


def _get(row: dict, path: tuple[str, ...]) -> Any:
    cur: Any = row
    for i, key in enumerate(path):
        if not isinstance(cur, dict) or key not in cur:
            raise _NotEvaluable(f"field {'.'.join(path[:i + 1])} is absent from the row")
        cur = cur[key]
    return cur


def _stat(arr: np.ndarray, stat: str) -> float:
    if stat.startswith("p"):
        # nearest-rank, the convention of device_runners and TFLite's benchmark_model
        rank = max(1, math.ceil(float(stat[1:]) / 100.0 * arr.size))
        return float(np.sort(arr)[rank - 1])
    return float(getattr(np, stat)(arr))


def _to_number(value: Any, rule: GateRule) -> float:
    """The rule's number from one field value (a number, or a list reduced by ``stat``); abs applied."""
    if value is None:
        raise _NotEvaluable(f"{rule.metric} is null (not measured or not computable)")
    if isinstance(value, (list, tuple)):
        if rule.stat is None:
            raise _Error(f"{rule.metric} is a list of {len(value)} values; the rule needs stat = "
                         f"mean|median|min|max|p50|p90|p95|p99")
        try:
            arr = np.asarray([np.nan if v is None else v for v in value], dtype=float)
        except (TypeError, ValueError):
            raise _Error(f"{rule.metric} holds non-numeric values") from None
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            raise _NotEvaluable(f"{rule.metric} has no finite values")
        return _stat(np.abs(arr) if rule.abs else arr, rule.stat)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Error(f"{rule.metric} is {value!r}, not a number")
    value = float(value)
    if math.isnan(value):
        raise _NotEvaluable(f"{rule.metric} is NaN (not computable, e.g. too few pairs)")
    return abs(value) if rule.abs else value


def _rows_for(results: dict, rule: GateRule, candidate: dict, baseline: str | None) -> list[dict]:
    section = rule.section
    rows = results.get(section) or []
    name = candidate.get("name")
    if section == "candidates":
        out = [r for r in rows if isinstance(r, dict) and r.get("name") == name]
    elif section == "device":
        sha = candidate.get("model_sha256")

        def mine(r):
            if "candidate" in r:
                return r["candidate"] == name
            model = r.get("model") if isinstance(r.get("model"), dict) else {}
            rsha = model.get("sha256", r.get("model_sha256"))
            return sha is not None and rsha == sha
        out = [r for r in rows if isinstance(r, dict) and mine(r)]
    else:
        out = [r for r in rows if isinstance(r, dict) and r.get("candidate") == name]
        if section == "comparisons" and baseline is not None:
            out = [r for r in out if r.get("baseline") == baseline]
    where = dict(rule.where)
    if "condition" not in where and any(r.get("condition") == "all" for r in out):
        where["condition"] = "all"  # rows per condition plus a pooled "all" row: the pooled one by default
    for key, value in where.items():
        if value != "*":  # "*": any value (e.g. every condition, aggregated with stat)
            out = [r for r in out if r.get(key) == value]
    return out


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


def _value(row: dict, rule: GateRule) -> float:
    return _to_number(_get(row, rule.path), rule) * rule.scale


def _value_over_rows(rows: list[dict], rule: GateRule) -> float:
    """``stat`` over the field of several matching rows (e.g. min detection rate over a candidate's trials, or
    max |bias| over conditions); rows where the value is missing are skipped and counted."""
    vals, missing = [], 0
    for row in rows:
        try:
            v = _get(row, rule.path)
        except _NotEvaluable:
            v = None
        if v is None or (isinstance(v, float) and math.isnan(v)):
            missing += 1
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _Error(f"{rule.metric} is {v!r} in a row, not a number")
        vals.append(abs(float(v)) if rule.abs else float(v))
    if not vals:
        raise _NotEvaluable(f"{rule.metric} is missing in all {len(rows)} matching rows")
    return _stat(np.asarray(vals), rule.stat) * rule.scale


def _check_fields(results: dict, rule: GateRule, file) -> None:
    """Unknown metric or where fields are a policy error (exit 2), not a missing measurement."""
    section = rule.section
    rows = [r for r in results.get(section) or [] if isinstance(r, dict)]
    known = set(SECTION_FIELDS[section] or ())
    for r in rows:
        known.update(r)
    if section == "device" and not rows:
        return  # nothing to check against: the verdicts say "not-evaluable: no device results"
    if rule.path[0] not in known:
        raise ManifestError(f"unknown metric path {rule.metric!r}: section '{section}' has no field "
                            f"'{rule.path[0]}'", file=file, field=f"rule '{rule.id}'.metric",
                            expected=f"one of {', '.join(sorted(known))}")
    for key in rule.where:
        if key not in known:
            raise ManifestError(f"unknown field '{key}' in where of section '{section}'", file=file,
                                field=f"rule '{rule.id}'.where", expected=f"one of {', '.join(sorted(known))}")


def _candidates(results: dict) -> list[dict]:
    cands = [c for c in results.get("candidates") or [] if isinstance(c, dict) and c.get("name")]
    if cands:
        return cands
    names: list[str] = []
    for section in ("agreement", "categorical", "comparisons", "device"):
        for r in results.get(section) or []:
            if isinstance(r, dict) and isinstance(r.get("candidate"), str) and r["candidate"] not in names:
                names.append(r["candidate"])
    return [{"name": n} for n in names]


def _baseline_name(results: dict, rule: GateRule) -> str | None:
    if rule.baseline:
        return rule.baseline
    flagged = [c["name"] for c in _candidates(results) if c.get("baseline") is True]
    return flagged[0] if len(flagged) == 1 else None


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
                       description=rule.description)


def _evaluate_rule(results: dict, rule: GateRule) -> list[GateVerdict]:
    def _v(*args, **kwargs):
        return _verdict(*args, results=results, **kwargs)
    cands = _candidates(results)
    by_name = {c["name"]: c for c in cands}
    names = list(rule.candidates) if rule.candidates else list(by_name)
    baseline = _baseline_name(results, rule) if rule.mode != "absolute" else None
    if rule.mode != "absolute":
        names = [n for n in names if n != baseline]
    out: list[GateVerdict] = []
    if not names:
        return [_v(rule, "(none)", "not-evaluable", reason="no candidate in results to judge")]
    section_label = rule.section
    for name in names:
        if name not in by_name:
            out.append(_v(rule, name, "not-evaluable", reason=f"candidate {name!r} is not in the results"))
            continue
        if rule.mode != "absolute" and baseline is None:
            out.append(_v(rule, name, "not-evaluable", reason="no baseline candidate (set baseline in the "
                          "policy or rule, or flag exactly one candidate baseline=true)"))
            continue
        if rule.mode in ("difference", "ratio") and baseline not in by_name:
            out.append(_v(rule, name, "not-evaluable", baseline=baseline,
                          reason=f"baseline candidate {baseline!r} is not in the results"))
            continue
        rows = _rows_for(results, rule, by_name[name], baseline if rule.section == "comparisons" else None)
        if not rows:
            filt = ", ".join(f"{k}={v}" for k, v in rule.where.items())
            if "condition" not in rule.where and any(isinstance(r, dict) and r.get("condition") == "all"
                                                     for r in results.get(rule.section) or []):
                filt = ", ".join(x for x in (filt, "condition=all") if x)
            what = f" with {filt}" if filt else ""
            extra = f" against baseline {baseline}" if rule.section == "comparisons" and baseline else ""
            if not results.get(rule.section):
                reason = f"results have no '{section_label}' section (not measured in this study)"
            else:
                reason = f"no {section_label} row for candidate {name}{what}{extra}"
            out.append(_v(rule, name, "not-evaluable", reason=reason, baseline=baseline))
            continue
        if len(rows) > 1 and rule.section != "device" and rule.stat is not None:
            try:
                actual = _value_over_rows(rows, rule)
                status = "pass" if _COMPARE[rule.op](actual, rule.threshold) else "fail"
                out.append(_v(rule, name, status, actual=actual, unit=_unit(rule, rows[0], results),
                              row=rows[0], baseline=baseline, label=_label(rule, rows[0], baseline,
                                                                           n_rows=len(rows))))
            except (_NotEvaluable, _Error) as exc:
                out.append(_v(rule, name, "error" if isinstance(exc, _Error) else "not-evaluable",
                              reason=str(exc), row=rows[0], baseline=baseline))
            continue
        if len(rows) > 1 and rule.section != "device":
            varying = sorted(k for k in rows[0] if any(r.get(k) != rows[0].get(k) for r in rows)
                             and not isinstance(rows[0].get(k), (int, float, list, dict)))
            out.append(_v(rule, name, "error", baseline=baseline, row=rows[0],
                          reason=f"{len(rows)} {section_label} rows match; narrow the rule with where "
                                 f"({', '.join(varying) or 'more fields'})"))
            continue
        base_rows = None
        if rule.mode in ("difference", "ratio"):
            base_rows = _rows_for(results, rule, by_name[baseline], None)
        for row in rows:
            device = _device_key(row) if rule.section == "device" else None
            unit = _unit(rule, row, results)
            try:
                actual = _value(row, rule)
                if base_rows is not None:
                    match = [b for b in base_rows if rule.section != "device" or _device_key(b) == device]
                    if len(match) != 1:
                        raise _NotEvaluable(f"{len(match)} matching rows for baseline {baseline}")
                    bval = _value(match[0], rule)
                    if rule.mode == "difference":
                        actual = actual - bval
                    else:
                        if bval == 0:
                            raise _Error(f"baseline {baseline} value is 0; a ratio is undefined")
                        actual = actual / bval
                status = "pass" if _COMPARE[rule.op](actual, rule.threshold) else "fail"
                out.append(_v(rule, name, status, actual=actual, unit=unit, row=row, baseline=baseline,
                              device=device))
            except _NotEvaluable as exc:
                reason = str(exc)
                # say why, when the results say it: the row's note, or the reason beside a null value
                # (e.g. device energy: {"value": null, "reason": "no powercap interface"})
                parent = row
                for key in rule.path[:-1]:
                    parent = parent.get(key) if isinstance(parent, dict) else None
                if isinstance(parent, dict) and parent is not row and parent.get("reason"):
                    reason += f"; reason: {parent['reason']}"
                if isinstance(row.get("note"), str) and row.get("note"):
                    reason += f"; note: {row['note']}"
                out.append(_v(rule, name, "not-evaluable", unit=unit, reason=reason, row=row,
                              baseline=baseline, device=device))
            except _Error as exc:
                out.append(_v(rule, name, "error", unit=unit, reason=str(exc), row=row, baseline=baseline,
                              device=device))
    return out


def evaluate_policy(results: dict, policy: Policy | dict | str) -> list[GateVerdict]:
    """Judge study results against a gate policy.

    Parameters
    ----------
    results : dict
        Parsed ``results.json`` (docs/results-schema.md).
    policy : Policy, dict or path-like
        A loaded policy, its TOML data as a dict, or the path of a policy TOML file.

    Returns
    -------
    list of GateVerdict
        In rule order, then candidate order (then device order for device rules).

    Raises
    ------
    ManifestError
        The policy names a field that neither the results schema nor the results have (a typo), or is invalid.
    InputError
        ``results`` is not a results dictionary.

    Notes
    -----
    Read ``blocks`` rather than ``status``: a blocking rule that cannot be evaluated blocks the release
    (unless it says ``allow_missing = true``); advisory rules never block. Non-inferiority rules read the
    upper bound of the paired, subject-clustered bootstrap CI of the error difference candidate − baseline
    (``comparisons[].diff_ci_high``) and pass when it stays below the margin δ (Walker & Nowacki 2011).
    """
    if not isinstance(results, dict):
        raise InputError(f"results must be a dict parsed from results.json, got {type(results).__name__}",
                         field="results")
    if isinstance(policy, dict):
        policy = policy_from_dict(policy)
    elif not isinstance(policy, Policy):
        policy = load_policy(policy)
    verdicts: list[GateVerdict] = []
    for rule in policy.rules:
        _check_fields(results, rule, policy.source)
        verdicts.extend(_evaluate_rule(results, rule))
    return verdicts


def exit_code(verdicts: list[GateVerdict]) -> int:
    """1 when any verdict blocks the release, else 0."""
    return 1 if any(v.blocks for v in verdicts) else 0


def summarize(verdicts: list[GateVerdict]) -> dict[str, Any]:
    """Counts per status, blocking count and per-candidate outcome ('pass' or 'blocked')."""
    counts = {s: sum(v.status == s for v in verdicts) for s in STATUSES}
    per_cand: dict[str, str] = {}
    for v in verdicts:
        per_cand.setdefault(v.candidate, "pass")
        if v.blocks:
            per_cand[v.candidate] = "blocked"
    return {"n": len(verdicts), **counts, "blocking": sum(v.blocks for v in verdicts),
            "candidates": per_cand, "exit_code": exit_code(verdicts)}
