"""The typed rows of a study's history (results ``history``, docs/store.md): the earlier runs of the same study
that the results store holds, one point per run × candidate × KPI (LoA width, ICC lower bound) and per run ×
candidate × device (p90 latency), and the promotions whose evidence was one of those runs.

The section is written by :func:`harness.store.trends.trend_section` from the store, before the study runs, so it
holds the EARLIER runs only; the report adds the run it renders as the last point ("this run") from the results
themselves, through the same functions (:func:`agreement_points`, :func:`latency_points`), so a stored run and
this run are read by one definition. Present only when the store holds an earlier run of the study: the field is
optional (:attr:`harness.results.schema.Row._optional`), absent otherwise.

Imports nothing of the project but :mod:`ground_truth.kernel` (through :mod:`.schema`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .schema import Row

#: Characters of a model sha256 shown (as ``git`` shows commits: enough to tell models apart in one study).
SHORT_SHA = 12


def short_sha(sha: str | None) -> str | None:
    return sha[:SHORT_SHA] if isinstance(sha, str) and sha else None


@dataclass
class HistoryRun(Row):
    """``history.runs[]``: one earlier run of the study, in the order they were run (oldest first).

    ``same_manifest`` is false when its manifest sha256 differs from this run's (its data differ: the trend then
    compares models on different trials), null when either sha256 is unknown."""

    run_id: str | None = None
    started_utc: str | None = None
    recorded_utc: str | None = None
    command: str | None = None
    label: str | None = None
    manifest_sha256: str | None = None
    same_manifest: bool | None = None
    exit_code: int | None = None


@dataclass
class HistoryPoint(Row):
    """``history.points[]``: one agreement row of a run: LoA width (upper − lower limit) and ICC lower bound."""

    run_id: str | None = None
    candidate: str | None = None
    model_sha256: str | None = None
    control: str | None = None
    kpi: str | None = None
    protocol: str | None = None
    condition: str = "all"
    unit: str | None = None
    n: int | None = None
    bias: float | None = None
    loa_width: float | None = None
    icc_ci_low: float | None = None


@dataclass
class HistoryLatency(Row):
    """``history.latency[]``: the p90 latency of one device record of a run."""

    run_id: str | None = None
    candidate: str | None = None
    model_sha256: str | None = None
    device: str | None = None
    p90_ms: float | None = None


@dataclass
class HistoryPromotion(Row):
    """``history.promotions[]``: a promotion (``stancebench promote``) whose evidence run is a run of this study
    (``same_study`` true), or the latest promotion of a channel judged on another study (what it holds now)."""

    promotion_id: int | None = None
    time_utc: str | None = None
    channel: str | None = None
    candidate: str | None = None
    model_sha256: str | None = None
    run_id: str | None = None
    reason: str | None = None
    promoted_by: str | None = None
    same_study: bool = True


@dataclass
class HistorySection(Row):
    """``history``: the study's earlier runs from the results store (docs/store.md).

    ``status`` is "ok", or why the store could not be read ("not available: ..."); ``n_earlier`` counts the
    store's earlier runs of the study, of which the newest ``limit`` are in ``runs``; ``manifest_sha256`` and
    ``label`` are this run's."""

    status: str = "ok"
    study: str | None = None
    manifest_sha256: str | None = None
    label: str | None = None
    store: str | None = None
    n_earlier: int = 0
    limit: int | None = None
    runs: list[HistoryRun] = field(default_factory=list)
    points: list[HistoryPoint] = field(default_factory=list)
    latency: list[HistoryLatency] = field(default_factory=list)
    promotions: list[HistoryPromotion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"runs": HistoryRun, "points": HistoryPoint, "latency": HistoryLatency,
                                         "promotions": HistoryPromotion}


# ------------------------------------------------------------------------- one definition for stored and this run
def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def agreement_points(run_id: str | None, rows: list[dict], candidates: list[dict]) -> list[HistoryPoint]:
    """The points of one run from its ``agreement[]`` rows (results rows, or the store's ``row_json``).

    ``candidates`` are the run's ``candidates[]`` (``name``, ``model_sha256``, ``control``): they give each
    point its model. Rows without a KPI are left out; a row whose limits are null has a null width.
    """
    by_name = {c.get("name"): c for c in candidates if isinstance(c, dict)}
    out = []
    for r in rows:
        if not isinstance(r, dict) or not r.get("kpi"):
            continue
        cand = by_name.get(r.get("candidate")) or {}
        lo, hi = _finite(r.get("loa_lower")), _finite(r.get("loa_upper"))
        out.append(HistoryPoint(run_id=run_id, candidate=r.get("candidate"), model_sha256=cand.get("model_sha256"),
                                control=cand.get("control"), kpi=r.get("kpi"), protocol=r.get("protocol"),
                                condition=r.get("condition") or "all", unit=r.get("unit"), n=r.get("n"),
                                bias=_finite(r.get("bias")), loa_width=None if lo is None or hi is None else hi - lo,
                                icc_ci_low=_finite(r.get("icc_ci_low"))))
    return out


def device_label(record: dict) -> str:
    """What a device record ran on, as the report's device table names it (device, runtime, delegate, threads)."""
    dev = record.get("device") if isinstance(record.get("device"), dict) else {}
    rt = record.get("runtime") if isinstance(record.get("runtime"), dict) else {}
    bits = [b for b in (dev.get("model") or dev.get("platform"), rt.get("name"), rt.get("delegate")) if b]
    if rt.get("threads"):
        bits.append(f"{rt['threads']} thr")
    return ", ".join(map(str, bits)) or "unnamed device"


def latency_points(run_id: str | None, records: list[dict], candidates: list[dict]) -> list[HistoryLatency]:
    """The p90 latency of each device record of one run (results ``device[]`` or the store's ``row_json``);
    a record names its candidate, else it is joined to one by the model's sha256 (as the study joins them)."""
    by_sha = {c.get("model_sha256"): c.get("name") for c in candidates if isinstance(c, dict) and c.get("model_sha256")}
    out = []
    for rec in records:
        if not isinstance(rec, dict):
            continue
        model = rec.get("model") if isinstance(rec.get("model"), dict) else {}
        lat = rec.get("latency") if isinstance(rec.get("latency"), dict) else {}
        sha = model.get("sha256")
        cand = rec.get("candidate") or by_sha.get(sha) or model.get("name")
        out.append(HistoryLatency(run_id=run_id, candidate=cand, model_sha256=sha, device=device_label(rec),
                                  p90_ms=_finite(lat.get("p90_ms"))))
    return out
