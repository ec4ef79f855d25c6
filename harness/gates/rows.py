"""Reading a rule's value out of study results: the candidates and baseline, the rows a rule matches, the
number in a row (or a statistic over rows), and the check that a rule names fields the results can have.

A value that is not there raises :class:`_NotEvaluable`; one that is there but cannot be judged :class:`_Error`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ground_truth.kernel import ManifestError

from .policy import SECTION_FIELDS, GateRule


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
    # a control never serves as the baseline (the manifest refuses it; hand-built results might not)
    flagged = [c["name"] for c in _candidates(results) if c.get("baseline") is True and not c.get("control")]
    return flagged[0] if len(flagged) == 1 else None
