"""Cost against agreement: which backbone to ship (issue 11, item 3).

:func:`backbone_comparison` builds the results' ``backbones`` section from a results dictionary: for each real
candidate its model bytes, host p50/p90 latency per frame and the device records' figures per device, beside each
KPI's limits-of-agreement width and ICC lower bound; the cost/agreement Pareto front per KPI
(:func:`pareto_front`); and one plain sentence naming the smallest candidate whose blocking gates all pass.
Control candidates (they check the harness, they are no model to ship) and a release channel's stored model
(``candidates[].channel``: the yardstick of ``gate --baseline``, from another run) are left out.

The front
---------
Axes (:data:`harness.results.backbones.AXES`): model bytes (lower is better), host p90 ms/frame (lower), LoA width
= upper − lower limit of agreement of the KPI's pooled row (``condition`` "all"; narrower is better) and the lower
bound of the ICC's 95% CI (higher is better). A candidate is on the front of a KPI when no other candidate is at
least as good on every axis and strictly better on at least one (Pareto dominance).

- **Ties.** Two candidates equal on every axis do not dominate each other, so both are on the front; a candidate
  equal to another on some axes is dominated only if the other is strictly better on one of the rest. Model bytes,
  LoA width and ICC bound are compared as stored; two p90 latencies within 5% of the larger count as equal
  (:data:`LATENCY_TOLERANCE`): repeated timings of one model differ by that much (MLPerf Mobile asks repeated runs
  to agree within 5%; ``device_runners.record.replicability``), so timing noise does not decide the front, e.g.
  between two candidates that run the same model file.
- **Missing values.** An axis on which any compared candidate has no value (no host timing, no model file, an
  ICC not computable) is left out for all of them and named in ``fronts[].axes_left_out``: a missing cost is no
  evidence that a model is cheap, nor a missing ICC that it agrees well. No front is drawn when no cost axis or no
  agreement axis remains. A candidate without an agreement row (or without LoA and ICC) for the KPI is not compared
  (``fronts[].not_compared``; its rows' ``pareto`` is null).
- **Point estimates.** The front reads point estimates; the CIs beside them in the table say how sure it is.

"Per frame" is per inference of the candidate's model as the host runner times it (a TFLite candidate's landmark
model; a MediaPipe candidate's whole graph on one frame; docs/device-runners.md).
"""
from __future__ import annotations

import math
from typing import Any

from ground_truth.kernel import InputError
from harness.results.backbones import AXES, AXIS_LABELS
from harness.results.history import device_label
from harness.results.rows import CONTROL_KINDS

from .pareto import finite_number as _number
from .pareto import pareto_front

#: The product brief's seed targets (docs/device-runners.md), drawn as lines on the report's figure.
TARGET_P90_MS_PER_FRAME = 100.0
TARGET_MODEL_MB = 30.0
TARGETS_SOURCE = ("seed targets of the product brief (docs/device-runners.md): under 100 ms per frame on the phone, "
                  "model under 30 MB")
#: MB = 10^6 bytes everywhere in stancebench.
MB = 1e6
COST_AXES = ("model_bytes", "host_p90_ms")
#: Relative tolerance within which two values of an axis count as equal on the front (see the module docstring).
LATENCY_TOLERANCE = 0.05
TOLERANCES = {"host_p90_ms": LATENCY_TOLERANCE}
AGREEMENT_AXES = ("loa_width", "icc_ci_low")


# ------------------------------------------------------------------------------------------------- cost
def _nearest_rank(values: list[float], q: float) -> float:
    """Nearest-rank percentile, the convention of device_runners: an observed value, sorted[ceil(q n) - 1]."""
    s = sorted(values)
    return s[max(1, math.ceil(q / 100.0 * len(s))) - 1]


def _records_by_candidate(records: list, candidates: list[dict]) -> dict[str, list[dict]]:
    """Device records joined to candidates: by ``candidate``, else by the model's sha256 (as the study joins them;
    a model file shared by several candidates counts for each)."""
    out: dict[str, list[dict]] = {c["name"]: [] for c in candidates}
    for rec in records:
        if not isinstance(rec, dict):
            continue
        if isinstance(rec.get("candidate"), str):
            if rec["candidate"] in out:
                out[rec["candidate"]].append(rec)
            continue
        model = rec.get("model") if isinstance(rec.get("model"), dict) else {}
        sha = model.get("sha256") or rec.get("model_sha256")
        for c in candidates:
            if sha and c.get("model_sha256") == sha:
                out[c["name"]].append(rec)
    return out


def _latency(rec: dict) -> dict:
    return rec.get("latency") if isinstance(rec.get("latency"), dict) else {}


def _runner(rec: dict) -> str | None:
    src = rec.get("source") if isinstance(rec.get("source"), dict) else {}
    return src.get("runner") or src.get("tool") or src.get("parser")


def _host_figures(records: list[dict]) -> dict[str, Any]:
    """This host's p50/p90 per frame from its runner's records (see BackboneCandidate)."""
    host = [r for r in records if isinstance(r.get("source"), dict) and r["source"].get("runner") == "host"]
    if not host:
        return {"host_note": "no host timing of this candidate's model" if records else None}
    raws = [_latency(r).get("raw_ms") for r in host]
    label = device_label(host[0])
    if all(isinstance(x, list) and x for x in raws):
        runs = [v for x in raws for v in (_number(y) for y in x) if v is not None]
        if runs:
            return {"host_p50_ms": _nearest_rank(runs, 50), "host_p90_ms": _nearest_rank(runs, 90),
                    "host_n": len(runs), "host_device": label,
                    "host_note": None if len(host) == 1 else f"pooled over {len(host)} host records' timed runs"}
    p50 = [v for v in (_number(_latency(r).get("p50_ms")) for r in host) if v is not None]
    p90 = [v for v in (_number(_latency(r).get("p90_ms")) for r in host) if v is not None]
    n = _latency(host[0]).get("n")
    return {"host_p50_ms": max(p50, default=None), "host_p90_ms": max(p90, default=None),
            "host_n": n if len(host) == 1 and isinstance(n, int) else None, "host_device": label,
            "host_note": None if len(host) == 1 else
            f"the largest of {len(host)} host records' figures (their timed runs were not kept)"}


def _device_figures(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        lat = _latency(r)
        n = lat.get("n")
        out.append({"device": device_label(r), "runner": _runner(r), "p50_ms": _number(lat.get("p50_ms")),
                    "p90_ms": _number(lat.get("p90_ms")), "n": n if isinstance(n, int) else None,
                    "status": r.get("status")})
    return out


def _gate_outcomes(gates: list, names: list[str]) -> dict[str, str]:
    """pass / blocked / not judged / not gated per candidate, from the results' gate verdicts."""
    gates = [g for g in gates or [] if isinstance(g, dict)]
    if not gates:
        return {n: "not gated" for n in names}
    out = {}
    for n in names:
        mine = [g for g in gates if g.get("candidate") == n]
        if any(g.get("blocks") for g in mine):
            out[n] = "blocked"
        elif any(g.get("severity") == "blocking" and g.get("status") == "pass" for g in mine):
            out[n] = "pass"
        else:
            out[n] = "not judged"
    return out


# ------------------------------------------------------------------------------------------------- table
def _real_candidates(results: dict) -> list[dict]:
    cands = [c for c in results.get("candidates") or [] if isinstance(c, dict) and isinstance(c.get("name"), str)]
    if not cands:  # hand-built results without a candidates section: the names the agreement rows use
        names = dict.fromkeys(r.get("candidate") for r in results.get("agreement") or []
                              if isinstance(r, dict) and isinstance(r.get("candidate"), str))
        cands = [{"name": n} for n in names]
    return [c for c in cands if c.get("control") not in CONTROL_KINDS and not c.get("channel")]


def _subsample_notes(cands: list[dict]) -> list[str]:
    """What makes candidates' agreement rows come from different pairs: a subsample of trials (manifest
    ``trials``), or every n-th frame (``frame_step``: both sides' sway KPIs at that lower rate)."""
    notes = []
    for c in cands:
        trials, step = c.get("trials"), c.get("frame_step")
        parts = []
        if isinstance(trials, list) and trials:
            parts.append(f"only {len(trials)} trial(s) ({', '.join(map(str, trials[:6]))}"
                         f"{', ...' if len(trials) > 6 else ''})")
        if isinstance(step, int) and not isinstance(step, bool) and step > 1:
            parts.append(f"one video frame in {step} (its sway KPIs, on both sides, at that lower frame rate)")
        if parts:
            notes.append(f"{c['name']} analysed {' and '.join(parts)}: its LoA width and ICC come from other pairs "
                         f"than the other candidates' pooled rows; compare it with them on the rows of a condition "
                         f"holding the same trials, and read the front with that in mind")
    return notes


def _row(r: dict, cand: dict) -> dict[str, Any]:
    lo, hi = _number(r.get("loa_lower")), _number(r.get("loa_upper"))
    n = r.get("n")
    return {"candidate": r.get("candidate"), "kpi": r.get("kpi"), "protocol": r.get("protocol"),
            "condition": r.get("condition") or "all", "unit": r.get("unit"), "n": n if isinstance(n, int) else None,
            "model_bytes": cand.get("model_bytes"), "host_p50_ms": cand.get("host_p50_ms"),
            "host_p90_ms": cand.get("host_p90_ms"), "loa_lower": lo, "loa_upper": hi,
            "loa_width": None if lo is None or hi is None else hi - lo,
            "loa_lower_ci_low": _number(r.get("loa_lower_ci_low")),
            "loa_upper_ci_high": _number(r.get("loa_upper_ci_high")), "icc_type": r.get("icc_type"),
            "icc": _number(r.get("icc")), "icc_ci_low": _number(r.get("icc_ci_low")),
            "icc_ci_high": _number(r.get("icc_ci_high")), "pareto": None, "dominated_by": [],
            "note": r.get("note") if isinstance(r.get("note"), str) else None}


def _front(kpi: str, protocol: str | None, rows: list[dict], names: list[str]) -> dict[str, Any]:
    """The front of one KPI × protocol over its pooled rows; sets ``pareto`` and ``dominated_by`` on them."""
    by_cand: dict[str, dict] = {}
    for r in rows:
        by_cand.setdefault(r["candidate"], r)
    compared = [r for r in by_cand.values() if r["loa_width"] is not None or r["icc_ci_low"] is not None]
    not_compared = [{"candidate": n, "reason": "no agreement row for this KPI"} for n in names if n not in by_cand]
    not_compared += [{"candidate": r["candidate"], "reason": r["note"] or "neither LoA nor ICC computed"}
                     for r in by_cand.values() if r not in compared]
    used = [a for a in AXES if compared and all(r[a] is not None for r in compared)]
    left_out = [{"axis": a, "reason": "not measured for " + ", ".join(r["candidate"] for r in compared
                                                                       if r[a] is None)}
                for a in AXES if compared and a not in used]
    front = {"kpi": kpi, "protocol": protocol, "condition": "all", "status": "ok", "n_candidates": len(compared),
             "axes": used, "axes_left_out": left_out, "front": [], "not_compared": not_compared}
    if not compared:
        front["status"] = "not computed: no candidate has limits of agreement or an ICC for this KPI"
    elif not any(a in used for a in COST_AXES) or not any(a in used for a in AGREEMENT_AXES):
        side = "cost (model size, p90 ms/frame)" if not any(a in used for a in COST_AXES) else \
            "agreement (LoA width, ICC lower bound)"
        front["status"] = f"not computed: no {side} axis is measured for every candidate"
    if front["status"] != "ok":
        for r in compared:
            r["note"] = "; ".join(x for x in (r["note"], f"Pareto front {front['status']}") if x)
        return front
    res = pareto_front({r["candidate"]: {a: r[a] for a in used} for r in compared},
                       axes={a: AXES[a] for a in used}, tolerance={a: t for a, t in TOLERANCES.items() if a in used})
    front["front"] = res.front
    for r in compared:
        r["dominated_by"] = res.dominated_by[r["candidate"]]
        r["pareto"] = 0 if r["dominated_by"] else 1
    return front


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _cost_text(c: dict) -> str:
    p90 = c.get("host_p90_ms")
    return (f"{_num(c['model_mb'])} MB, " + (f"p90 {_num(p90)} ms/frame" if p90 is not None
                                              else "p90 latency not measured"))


def _sentence(cands: list[dict]) -> tuple[str, str | None]:
    """The plain sentence and the name of the smallest candidate whose blocking gates all pass (or None)."""
    if not cands:
        return "No candidate is in these results (controls are left out), so there is nothing to compare.", None
    sized = sorted((c for c in cands if c.get("model_mb") is not None),
                   key=lambda c: (c["model_mb"], c.get("host_p90_ms") is None, c.get("host_p90_ms") or 0.0,
                                  c["candidate"]))
    passing = [c for c in sized if c["gates"] == "pass"]
    if len(cands) == 1:
        # nothing to compare: no "smallest", just what the gates said of the one candidate
        c = cands[0]
        cost = f" ({_cost_text(c)})" if c.get("model_mb") is not None else ""
        said = {"pass": "its blocking gates all pass", "blocked": "it is blocked by its gates",
                "not judged": "no blocking gate judged it",
                "not gated": "no gate policy was evaluated"}[c["gates"]]
        return f"{c['candidate']}{cost} is the only candidate, and {said}.", \
            c["candidate"] if c["gates"] == "pass" else None
    if passing:
        best = passing[0]
        # the same model size (one model run two ways): say so, rather than let timing noise name a winner
        tied = [c for c in passing[1:] if c["model_bytes"] == best["model_bytes"]]
        tie = (f"; {' and '.join(c['candidate'] for c in tied)} {'has' if len(tied) == 1 else 'have'} a model of "
               f"the same size (" + ", ".join(_cost_text(c).split(", ", 1)[1] for c in tied) + ")") if tied else ""
        return (f"{best['candidate']} ({_cost_text(best)}) is the smallest candidate whose blocking gates all pass"
                f"{tie}.", best["candidate"])
    if any(c["gates"] == "pass" for c in cands):
        names = [c["candidate"] for c in cands if c["gates"] == "pass"]
        return (f"{', '.join(names)} {'passes' if len(names) == 1 else 'pass'} all blocking gates, but no passing "
                f"candidate has a model size in these results, so none can be named the smallest.", None)
    smallest = f"; the smallest is {sized[0]['candidate']} ({_cost_text(sized[0])})" if sized else ""
    if all(c["gates"] == "not gated" for c in cands):
        return f"No gate policy was evaluated, so no candidate can be named as passing its blocking gates{smallest}.", \
            None
    blocked = [c["candidate"] for c in cands if c["gates"] == "blocked"]
    unjudged = [c["candidate"] for c in cands if c["gates"] != "blocked"]
    parts = ([f"blocked: {', '.join(blocked)}"] if blocked else []) + \
        ([f"not judged by a blocking gate: {', '.join(unjudged)}"] if unjudged else [])
    return f"No candidate passes all its blocking gates ({'; '.join(parts)}){smallest}.", None


def backbone_comparison(results: dict) -> dict[str, Any]:
    """The backbone comparison (results ``backbones``) from a results dictionary.

    Parameters
    ----------
    results : dict
        A parsed ``results.json`` (docs/results-schema.md); reads ``candidates``, ``device``, ``agreement`` and
        ``gates`` (the sentence needs the verdicts: call it after the gates were judged).

    Returns
    -------
    dict
        ``status``, ``sentence``, ``smallest_passing``, ``targets``, ``axes``, ``candidates`` (cost per real
        candidate), ``rows`` (per candidate × KPI × protocol × condition: cost beside LoA width and ICC, with
        ``pareto`` 1/0/null), ``fronts`` (per KPI × protocol) and ``notes``; typed in
        :class:`harness.results.backbones.BackbonesSection`.

    Raises
    ------
    InputError
        ``results`` is not a dictionary.

    Notes
    -----
    The front and its conventions (axes, ties, missing values) are in the module docstring; Pareto dominance after
    Deb (2001, §2.4). How to read it: a candidate on a KPI's front is a defensible choice for that KPI (nothing is
    both cheaper and in better agreement); among those, the sentence names the smallest that the release policy
    lets through. With one candidate there is nothing to compare: its rows are trivially on the front (``pareto``
    1) and the report does not speak of a front.
    """
    if not isinstance(results, dict):
        raise InputError(f"results must be a dict parsed from results.json, got {type(results).__name__}",
                         field="results")
    cands = _real_candidates(results)
    names = [c["name"] for c in cands]
    records = _records_by_candidate([r for r in results.get("device") or [] if isinstance(r, dict)], cands)
    outcomes = _gate_outcomes(results.get("gates"), names)
    table = []
    for c in cands:
        size = c.get("model_bytes")
        size = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None
        entry = {"candidate": c["name"], "kind": c.get("kind"), "precision": c.get("precision"),
                 "runtime": c.get("runtime"), "baseline": bool(c.get("baseline")),
                 "model_sha256": c.get("model_sha256"), "model_bytes": size,
                 "model_mb": None if size is None else size / MB, "host_p50_ms": None, "host_p90_ms": None,
                 "host_n": None, "host_device": None, "host_note": None,
                 "devices": _device_figures(records[c["name"]]), "gates": outcomes[c["name"]]}
        entry.update(_host_figures(records[c["name"]]))
        table.append(entry)
    by_name = {c["candidate"]: c for c in table}
    rows = [_row(r, by_name[r["candidate"]]) for r in results.get("agreement") or []
            if isinstance(r, dict) and r.get("candidate") in by_name and r.get("kpi")
            and r.get("kpi_kind") != "categorical"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["condition"] == "all":
            groups.setdefault((r["kpi"], r["protocol"]), []).append(r)
    fronts = [_front(kpi, protocol, group, names) for (kpi, protocol), group in groups.items()]
    sentence, smallest = _sentence(table)
    notes = []
    unsized = [c["candidate"] for c in table if c["gates"] == "pass" and c["model_mb"] is None]
    if unsized and len(table) > 1:
        one = len(unsized) == 1
        notes.append(f"{', '.join(unsized)} {'passes' if one else 'pass'} all blocking gates but "
                     f"{'has' if one else 'have'} no model size in these results (candidates[].model_bytes), so the "
                     f"sentence could not weigh {'it' if one else 'them'}")
    notes += _subsample_notes(cands) if len(table) > 1 else []
    if len(table) > 1 and all(c["host_p90_ms"] is None for c in table):
        notes.append("no candidate's model was timed on this host (results device; --no-device, or no model "
                     "file): the fronts compare model size against agreement only")
    return {"status": "ok" if table else "not measured: no candidate in these results (controls are left out)",
            "sentence": sentence, "smallest_passing": smallest,
            "targets": {"p90_ms_per_frame": TARGET_P90_MS_PER_FRAME, "model_mb": TARGET_MODEL_MB,
                        "source": TARGETS_SOURCE},
            "axes": {a: f"{AXIS_LABELS[a]} ({'lower' if s == 'min' else 'higher'} is better)" for a, s in AXES.items()},
            "tolerances": dict(TOLERANCES),
            "candidates": table, "rows": rows, "fronts": fronts, "notes": notes}
