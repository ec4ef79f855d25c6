"""The typed rows of the backbone comparison (results ``backbones``, docs/results-schema.md): each candidate's cost
(model bytes, host p50/p90 latency per frame, the device records' figures per device) against each KPI's
agreement (LoA width, ICC lower bound), the cost/agreement Pareto front per KPI, and the one sentence naming the
smallest candidate whose blocking gates all pass.

Written by :func:`harness.backbones_table.backbone_comparison` after the gates were judged (the sentence needs
their verdicts). The field is optional (:attr:`harness.results.schema.Row._optional`): results written before it
existed, and hand-built dictionaries, have no such key and read as None.

Imports nothing of the project but :mod:`ground_truth.kernel` (through :mod:`.schema`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .schema import Row

#: What each Pareto axis is and which way is better (the names are fields of :class:`BackboneRow`).
AXES = {"model_bytes": "min", "host_p90_ms": "min", "loa_width": "min", "icc_ci_low": "max"}
#: How the report and the sentence name each axis.
AXIS_LABELS = {"model_bytes": "model size", "host_p90_ms": "p90 ms/frame", "loa_width": "LoA width",
               "icc_ci_low": "ICC lower bound"}


@dataclass
class BackboneDevice(Row):
    """``backbones.candidates[].devices[]``: one device record's latency figures (ms per frame = per inference of
    the candidate's model as that runner timed it). ``runner`` is the record's ``source.runner`` (``host`` for
    this machine's runner) or the tool that printed a parsed log."""

    device: str | None = None
    runner: str | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    n: int | None = None
    status: str | None = None


@dataclass
class BackboneCandidate(Row):
    """``backbones.candidates[]``: one real candidate's cost and its gates' outcome.

    ``host_p50_ms`` / ``host_p90_ms`` are from this host's runner records (``source.runner == "host"``): pooled
    nearest-rank percentiles over every timed run when each record keeps them (``latency.raw_ms``), else the one
    record's figures, else the largest of the records' figures (``host_note`` says which). ``gates`` is ``pass``
    (at least one blocking verdict passed and none blocks), ``blocked``, ``not judged`` (no blocking verdict judged
    it) or ``not gated`` (no policy was evaluated).
    """

    candidate: str | None = None
    kind: str | None = None
    precision: str | None = None
    runtime: str | None = None
    baseline: bool = False
    model_sha256: str | None = None
    model_bytes: int | None = None
    model_mb: float | None = None
    host_p50_ms: float | None = None
    host_p90_ms: float | None = None
    host_n: int | None = None
    host_device: str | None = None
    host_note: str | None = None
    devices: list[BackboneDevice] = field(default_factory=list)
    gates: str = "not gated"

    _lists: ClassVar[dict[str, type]] = {"devices": BackboneDevice}


@dataclass
class BackboneRow(Row):
    """``backbones.rows[]``: one candidate × KPI × protocol × condition: its cost beside its agreement.

    ``loa_width`` = ``loa_upper`` − ``loa_lower``; ``loa_lower_ci_low`` and ``loa_upper_ci_high`` are the outer
    95% CI bounds of the limits (how wide the range could be). ``pareto`` is 1 when the candidate is on the KPI's
    cost/agreement Pareto front, 0 when another candidate dominates it (``dominated_by``), null when it was not
    compared (rows of one condition, or the front could not be drawn: ``note``). An integer, so that a gate can
    read it (``metric = "backbones.pareto"``, ``op = "=="``, ``threshold = 1``).
    """

    candidate: str | None = None
    kpi: str | None = None
    protocol: str | None = None
    condition: str = "all"
    unit: str | None = None
    n: int | None = None
    model_bytes: int | None = None
    host_p50_ms: float | None = None
    host_p90_ms: float | None = None
    loa_lower: float | None = None
    loa_upper: float | None = None
    loa_width: float | None = None
    loa_lower_ci_low: float | None = None
    loa_upper_ci_high: float | None = None
    icc_type: str | None = None
    icc: float | None = None
    icc_ci_low: float | None = None
    icc_ci_high: float | None = None
    pareto: int | None = None
    dominated_by: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class ParetoFront(Row):
    """``backbones.fronts[]``: the front of one KPI × protocol over its pooled rows (``condition`` "all").

    ``axes`` are the axes used (of :data:`AXES`); an axis on which a compared candidate has no value is left out
    for every candidate (``axes_left_out``: axis and why) rather than guessed. ``not_compared`` lists the
    candidates without an agreement row or statistics for the KPI, with why. ``status`` is "ok" or why no front
    was drawn (no cost or no agreement axis measured for every candidate).
    """

    kpi: str | None = None
    protocol: str | None = None
    condition: str = "all"
    status: str = "ok"
    n_candidates: int = 0
    axes: list[str] = field(default_factory=list)
    axes_left_out: list[dict[str, str]] = field(default_factory=list)
    front: list[str] = field(default_factory=list)
    not_compared: list[dict[str, str]] = field(default_factory=list)


@dataclass
class BackbonesSection(Row):
    """``backbones``: cost against agreement for the study's real candidates (controls and a release channel's
    stored model are left out). ``sentence`` names the smallest candidate whose blocking gates all pass (or says
    why none can be named); ``smallest_passing`` is its name or null. ``targets`` are the product's seed targets
    drawn on the report's figure (``p90_ms_per_frame``, ``model_mb``, ``source``)."""

    status: str = "ok"
    sentence: str = ""
    smallest_passing: str | None = None
    targets: dict[str, Any] = field(default_factory=dict)
    axes: dict[str, str] = field(default_factory=dict)
    #: axis -> relative tolerance within which two values count as equal on the front (p90: 0.05)
    tolerances: dict[str, float] = field(default_factory=dict)
    candidates: list[BackboneCandidate] = field(default_factory=list)
    rows: list[BackboneRow] = field(default_factory=list)
    fronts: list[ParetoFront] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"candidates": BackboneCandidate, "rows": BackboneRow,
                                         "fronts": ParetoFront}

    def candidate(self, name: str) -> BackboneCandidate | None:
        return next((c for c in self.candidates if c.candidate == name), None)


def backbone_csv_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``backbones.csv``: one per candidate × KPI × protocol × condition, the candidate's cost beside
    its agreement, and each device record's p50/p90 as ``devices.<device>.p50_ms`` / ``.p90_ms`` columns (the
    writer flattens nested dictionaries into dotted columns)."""
    cands = {c.get("candidate"): c for c in section.get("candidates") or [] if isinstance(c, dict)}
    out = []
    for row in section.get("rows") or []:
        if not isinstance(row, dict):
            continue
        cand = cands.get(row.get("candidate")) or {}
        devices = {f"{d.get('device')} ({d.get('runner')})": {"p50_ms": d.get("p50_ms"), "p90_ms": d.get("p90_ms")}
                   for d in cand.get("devices") or [] if isinstance(d, dict)}
        out.append({**row, "precision": cand.get("precision"), "model_mb": cand.get("model_mb"),
                    "gates": cand.get("gates"), "devices": devices})
    return out
