"""Stage 6, pairs: one row per KPI with both sides' values, units, methods, censoring and whether it pairs
(the ``kpis`` list of a ``trials[]`` entry of results.json)."""
from __future__ import annotations

from protocols import get_kpi

from .values import KPIValue

NO_GOLD_STANDARD = "no gold standard (candidate-only trial)"
NO_VIDEO = "no video (reference-only trial)"


def pair_rows(kpi_names: list[str], ref: dict[str, KPIValue] | None, cand: dict[str, KPIValue] | None,
              kind: str) -> list[dict]:
    """The paired KPI rows of one trial × candidate; ``paired`` only for a paired trial with both values."""
    rows = []
    empty = KPIValue(None)
    for k in kpi_names:
        r = (ref or {}).get(k, empty)
        c = (cand or {}).get(k, empty)
        rows.append({
            "kpi": k, "unit": get_kpi(k).unit,
            "reference": r.value, "candidate": c.value,
            "reference_method": r.method or r.status or (NO_GOLD_STANDARD if ref is None else None),
            "candidate_method": c.method or c.status or (NO_VIDEO if cand is None else None),
            "censored": bool(r.censored or c.censored),
            "censored_reference": bool(r.censored or False),
            "censored_candidate": bool(c.censored or False),
            "reference_status": None if r.present else r.status,
            "candidate_status": None if c.present else c.status,
            "paired": kind == "paired" and r.present and c.present,
        })
    return rows
