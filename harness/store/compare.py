"""Comparing two stored runs: what changed in agreement and latency, and in which direction that is better.

Rows are matched by candidate name (a candidate whose model sha256 differs between the runs is still matched,
and says so), then KPI × protocol × condition for agreement and device × runtime for latency. Per row and quantity:
A's value, B's value, the difference B − A, the direction that is better and one word:

=================  ================  ==============================================
quantity           better            why
=================  ================  ==============================================
bias               (none)            its sign says where, not how good; see |bias|
abs_bias           lower             a smaller systematic error
loa_width          lower             narrower limits of agreement (upper − lower)
icc_ci_low         higher            a higher lower 95% bound of ICC(A,1)
n                  (none)            how many pairs: a change to know, not a gain
p90_ms             lower             faster
=================  ================  ==============================================

The word is "same" when both values print alike to :data:`SIGNIFICANT_DIGITS` significant digits, else "better"
or "worse" (or "changed" for a quantity without a better direction), and "n/a" when a side has no value. A row
present in one run only is "added" (only in B) or "removed" (only in A).
"""
from __future__ import annotations

import json
import math
from typing import Any

#: Two values are "same" when they agree to this many significant digits (as printed).
SIGNIFICANT_DIGITS = 4

#: quantity -> (better direction: "lower" | "higher" | None, label)
QUANTITIES: dict[str, tuple[str | None, str]] = {
    "bias": (None, "bias"),
    "abs_bias": ("lower", "|bias|"),
    "loa_width": ("lower", "LoA width"),
    "icc_ci_low": ("higher", "ICC lower 95% bound"),
    "n": (None, "n"),
    "p90_ms": ("lower", "p90 latency"),
}
AGREEMENT_QUANTITIES = ("bias", "abs_bias", "loa_width", "icc_ci_low", "n")
DEVICE_QUANTITIES = ("p90_ms",)

COLUMNS = ("section", "candidate", "protocol", "kpi", "condition", "device", "quantity", "unit", "a", "b", "diff",
           "better", "change", "presence", "model_sha256_a", "model_sha256_b", "model_changed")


def _num(x) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def same(a: float, b: float, digits: int = SIGNIFICANT_DIGITS) -> bool:
    """True when ``a`` and ``b`` are equal once rounded to ``digits`` significant digits."""
    return a == b or f"{a:.{digits}g}" == f"{b:.{digits}g}"


def change_word(quantity: str, a: float | None, b: float | None) -> str:
    """better / worse / same / changed / n/a for B against A (see the module docstring)."""
    a, b = _num(a), _num(b)
    if a is None or b is None:
        return "n/a"
    if same(a, b):
        return "same"
    direction = QUANTITIES[quantity][0]
    if direction is None:
        return "changed"
    return "better" if (b < a) == (direction == "lower") else "worse"


def _agreement(conn, run_id: str) -> dict[tuple, dict]:
    out = {}
    for r in conn.execute("SELECT candidate, kpi, condition, n, bias, loa_lower, loa_upper, loa_width, icc_ci_low, "
                          "unit, row_json FROM run_agreement WHERE run_id = ? ORDER BY rowid", (run_id,)):
        row = json.loads(r["row_json"])
        width = _num(r["loa_width"])
        if width is None and _num(r["loa_upper"]) is not None and _num(r["loa_lower"]) is not None:
            width = r["loa_upper"] - r["loa_lower"]
        bias = _num(r["bias"])
        key = (r["candidate"], row.get("protocol") or "", r["kpi"], r["condition"] or "all")
        out[key] = {"unit": r["unit"] or "", "bias": bias, "abs_bias": None if bias is None else abs(bias),
                    "loa_width": width, "icc_ci_low": _num(r["icc_ci_low"]),
                    "n": None if r["n"] is None else int(r["n"])}
    return out


def _device(conn, run_id: str) -> dict[tuple, dict]:
    out = {}
    for r in conn.execute("SELECT candidate, device, runtime, p90_ms FROM run_device WHERE run_id = ? "
                          "ORDER BY rowid", (run_id,)):
        device = ", ".join(str(x) for x in (r["device"], r["runtime"]) if x) or "unnamed device"
        out[(r["candidate"], device)] = {"unit": "ms", "p90_ms": _num(r["p90_ms"])}
    return out


def _models(conn, run_id: str) -> dict[str, str | None]:
    return {r["name"]: r["model_sha256"] for r in
            conn.execute("SELECT name, model_sha256 FROM run_candidates WHERE run_id = ? ORDER BY rowid", (run_id,))}


def compare_runs(store, run_a: str, run_b: str) -> dict[str, Any]:
    """Compare two stored runs (B against A).

    Parameters
    ----------
    store : harness.store.Store
    run_a, run_b : str
        Run references (full id, unique prefix ≥ 4 characters, or "latest").

    Returns
    -------
    dict
        ``run_a``, ``run_b`` (the runs' id, time, study, manifest sha256, label), ``same_study`` (equal manifest
        sha256), ``tolerance`` (the rule for "same"), ``candidates`` (per name: ``presence`` both|added|removed,
        ``model_sha256_a``, ``model_sha256_b``, ``model_changed``) and ``rows`` (dicts with :data:`COLUMNS`):
        agreement rows first, then device rows, each in A's order then B's new rows.

    Raises
    ------
    StoreError
        A reference that names no run (or several).
    """
    ids = [store.resolve_run(run_a), store.resolve_run(run_b)]
    conn = store.connection
    heads = []
    for rid in ids:
        r = conn.execute("SELECT run_id, recorded_utc, command, study_name, manifest_sha256, label FROM runs "
                         "WHERE run_id = ?", (rid,)).fetchone()
        heads.append(dict(r))
    models = [_models(conn, rid) for rid in ids]
    cands = {}
    for name in dict.fromkeys([*models[0], *models[1]]):
        sa, sb = models[0].get(name), models[1].get(name)
        presence = "both" if name in models[0] and name in models[1] else "removed" if name in models[0] else "added"
        cands[name] = {"presence": presence, "model_sha256_a": sa, "model_sha256_b": sb,
                       "model_changed": presence == "both" and sa != sb}
    rows = []
    for section, reader, quantities in (("agreement", _agreement, AGREEMENT_QUANTITIES),
                                        ("device", _device, DEVICE_QUANTITIES)):
        a, b = reader(conn, ids[0]), reader(conn, ids[1])
        for key in dict.fromkeys([*a, *b]):
            ra, rb = a.get(key), b.get(key)
            presence = "both" if ra and rb else "removed" if ra else "added"
            cand = cands.get(key[0], {})
            base = {"section": section, "candidate": key[0], "protocol": key[1] if section == "agreement" else None,
                    "kpi": key[2] if section == "agreement" else None,
                    "condition": key[3] if section == "agreement" else None,
                    "device": key[1] if section == "device" else None, "unit": (ra or rb)["unit"],
                    "presence": presence, "model_sha256_a": cand.get("model_sha256_a"),
                    "model_sha256_b": cand.get("model_sha256_b"), "model_changed": cand.get("model_changed", False)}
            for q in quantities:
                va, vb = (ra or {}).get(q), (rb or {}).get(q)
                diff = vb - va if va is not None and vb is not None else None
                unit = "" if q in ("icc_ci_low", "n") else base["unit"]
                rows.append(dict(base, quantity=q, unit=unit, a=va, b=vb, diff=diff, better=QUANTITIES[q][0],
                                 change=change_word(q, va, vb) if presence == "both" else presence))
    return {"run_a": heads[0], "run_b": heads[1],
            "same_study": heads[0]["manifest_sha256"] is not None
            and heads[0]["manifest_sha256"] == heads[1]["manifest_sha256"],
            "tolerance": f"same = equal to {SIGNIFICANT_DIGITS} significant digits", "candidates": cands,
            "rows": [{c: r.get(c) for c in COLUMNS} for r in rows]}


def _fmt(x) -> str:
    if x is None:
        return "—"
    ax = abs(x)
    if ax != 0 and (ax >= 1e6 or ax < 1e-3):
        return f"{x:.3g}"
    return f"{x:.{SIGNIFICANT_DIGITS}g}"


def format_comparison(doc: dict) -> str:
    """The comparison as text: the two runs, then per candidate its model and one line per KPI × quantity."""
    a, b = doc["run_a"], doc["run_b"]
    lines = [f"A: run {a['run_id'][:12]} {a['recorded_utc']} {a['study_name'] or ''} {a['label'] or ''}".rstrip(),
             f"B: run {b['run_id'][:12]} {b['recorded_utc']} {b['study_name'] or ''} {b['label'] or ''}".rstrip()]
    if not doc["same_study"]:
        lines.append("note: the runs are not on the same study manifest (sha256 "
                     f"{(a['manifest_sha256'] or 'none')[:12]} vs {(b['manifest_sha256'] or 'none')[:12]}): "
                     "differences mix the models with the data")
    lines.append(f"B − A per quantity; better = the direction that is better; {doc['tolerance']}")
    for name, c in doc["candidates"].items():
        if c["presence"] == "added":
            lines.append(f"\ncandidate {name}: added in B (model {(c['model_sha256_b'] or 'none')[:12]})")
        elif c["presence"] == "removed":
            lines.append(f"\ncandidate {name}: removed in B (was model {(c['model_sha256_a'] or 'none')[:12]})")
        elif c["model_changed"]:
            lines.append(f"\ncandidate {name}: model sha256 differs: {(c['model_sha256_a'] or 'none')[:12]} (A) → "
                         f"{(c['model_sha256_b'] or 'none')[:12]} (B)")
        else:
            lines.append(f"\ncandidate {name}: same model {(c['model_sha256_a'] or 'none')[:12]}")
        for r in (r for r in doc["rows"] if r["candidate"] == name):
            where = (f"{r['kpi']} [{r['condition']}]" + (f" {r['protocol']}" if r["protocol"] else "")
                     if r["section"] == "agreement" else r["device"])
            unit = f" {r['unit']}" if r["unit"] else ""
            better = f"{r['better']} is better" if r["better"] else "no better direction"
            lines.append(f"  {where:40} {QUANTITIES[r['quantity']][1]:20} A {_fmt(r['a']):>9}  B {_fmt(r['b']):>9}  "
                         f"B−A {_fmt(r['diff']):>9}{unit}  ({better}): {r['change']}")
    return "\n".join(lines)
