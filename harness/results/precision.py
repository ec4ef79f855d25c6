"""The ``precision`` section of ``results.json``: how precise each candidate × KPI's agreement statistics are, and
how many subjects a study would need for a target precision (issue 11, item 4; built by
:func:`harness.precision_table.precision_section`, docs/report.md "Precision and sample size").

The field is optional (:attr:`harness.results.schema.Row._optional`): results written before it existed, and
hand-built dictionaries, have no such key and read as None.

Imports nothing of the project but :mod:`ground_truth.kernel` (through :mod:`.schema`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .schema import Row


@dataclass
class PrecisionRow(Row):
    """``precision.rows[]``: one candidate × KPI × protocol (pooled condition "all").

    Achieved: ``icc_ci_width`` = ``icc_ci_high`` − ``icc_ci_low``; ``loa_lower_ci_width`` /
    ``loa_upper_ci_width`` = each limit's CI (high − low), as the agreement row reports them
    (``loa_ci_method``). ``icc_ci_width_expected`` is the width Bonett's formula expects at this ``n``.

    Needed: ``icc_plan`` and ``loa_plan`` are :class:`harness.agreement.sample_size.SampleSizeResult` dictionaries
    (``n`` subjects, ``trials`` per subject, ``method``, ``inputs``, ``achieved``, ``citation``, ``note``), or
    null with ``icc_plan_status`` / ``loa_plan_status`` = "not computable: <reason>" ("ok" otherwise).
    ``within_correlation`` is the within-subject correlation of the differences used by the LoA plan when a
    subject has several trials; ``within_correlation_source`` says whether it came from the row or was assumed.
    """

    candidate: str | None = None
    kpi: str | None = None
    protocol: str | None = None
    condition: str = "all"
    unit: str | None = None
    n: int | None = None
    n_subjects: int | None = None
    trials_per_subject: float | None = None
    confidence: float | None = None
    icc_type: str | None = None
    icc: float | None = None
    icc_ci_low: float | None = None
    icc_ci_high: float | None = None
    icc_ci_width: float | None = None
    icc_ci_width_expected: float | None = None
    sd: float | None = None
    multiplier: float | None = None
    loa_ci_method: str | None = None
    loa_lower_ci_low: float | None = None
    loa_lower_ci_high: float | None = None
    loa_upper_ci_low: float | None = None
    loa_upper_ci_high: float | None = None
    loa_lower_ci_width: float | None = None
    loa_upper_ci_width: float | None = None
    icc_plan: dict[str, Any] | None = None
    icc_plan_status: str = "ok"
    loa_plan: dict[str, Any] | None = None
    loa_plan_status: str = "ok"
    within_correlation: float | None = None
    within_correlation_source: str | None = None


@dataclass
class PrecisionSection(Row):
    """``precision``: the achieved CI widths and the sample sizes for the targets (``targets``:
    ``icc_width`` = full width of the ICC's CI, ``loa_half_width_sd`` = half-width of each limit's CI in units
    of the observed SD of the differences, ``source``). ``sentence`` is the report's plain first sentence."""

    status: str = "ok"
    sentence: str = ""
    targets: dict[str, Any] = field(default_factory=dict)
    rows: list[PrecisionRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"rows": PrecisionRow}


def _plan_columns(plan: Any, prefix: str) -> dict[str, Any]:
    plan = plan if isinstance(plan, dict) else {}
    inputs = plan.get("inputs") if isinstance(plan.get("inputs"), dict) else {}
    achieved = plan.get("achieved") if isinstance(plan.get("achieved"), dict) else {}
    return {f"{prefix}_subjects_needed": plan.get("n"), f"{prefix}_trials_per_subject": plan.get("trials"),
            f"{prefix}_target": inputs.get("width", inputs.get("half_width")),
            f"{prefix}_achieved_at_n": achieved.get("width", achieved.get("half_width")),
            f"{prefix}_method": plan.get("method"), f"{prefix}_citation": plan.get("citation"),
            f"{prefix}_note": plan.get("note")}


def precision_csv_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``precision.csv``: one per candidate × KPI × protocol, the achieved widths and, for each plan,
    the subjects (and trials per subject) needed, its target, what it achieves at that n, method and source."""
    out = []
    for row in section.get("rows") or []:
        if not isinstance(row, dict):
            continue
        flat = {k: v for k, v in row.items() if k not in ("icc_plan", "loa_plan")}
        out.append({**flat, **_plan_columns(row.get("icc_plan"), "icc_plan"),
                    **_plan_columns(row.get("loa_plan"), "loa_plan")})
    return out
