"""The value of one KPI on one side of a trial: measured (with the method that produced it) or missing (with
the reason). Every KPI stage returns ``{kpi_name: KPIValue}`` for the side it measured."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class KPIValue:
    """One side's value of one KPI.

    ``value`` is a number, a label (categorical KPIs) or None when missing; ``method`` says how it was measured,
    ``status`` why it is missing; ``censored`` is set for time-to-failure; ``extra`` keeps auxiliary numbers
    (a hip fraction, a reach distance in metres).
    """

    value: float | str | None
    method: str | None = None
    status: str | None = None
    censored: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.value is not None


def measured(value, method: str, *, censored: bool | None = None, **extra) -> KPIValue:
    return KPIValue(value, method=method, censored=censored, extra=extra)


def missing(reason: str) -> KPIValue:
    return KPIValue(None, status=reason)


def from_sway(d: dict) -> KPIValue:
    """A ``{"value", "method"}`` entry of the sway KPIs: NaN (not observable, gaps) becomes missing with the reason."""
    v = d["value"]
    return measured(float(v), d["method"]) if v == v else missing(d["method"])
