"""What the section builders read from the typed results: rows as plain records, rows pooled over conditions,
their notes, the study's candidates, KPIs and protocols (all from :class:`harness.results.StudyResults`)."""
from __future__ import annotations

from harness.results import StudyResults


def record(row) -> dict:
    """A typed row as the plain record the sentence and figure helpers take; null fields are left out, as in a
    row whose producer did not write them (so their defaults, e.g. "n/a", apply)."""
    return {k: v for k, v in row.to_dict().items() if v is not None}


def kpi_info(results: StudyResults, name: str) -> tuple[str, str, str, str]:
    """(unit, description, kind, citation) of a KPI from the results' ``kpis`` section, or placeholders."""
    info = results.kpi(name)
    if info is None:
        return "", "(no description of this KPI in these results)", "continuous", ""
    if not info.registered:
        return "", "(not a KPI of the stancebench registry: no plain-language description available)", \
            "continuous", ""
    return info.unit, info.description, info.kind, info.citation


def shown(results: StudyResults, name: str | None) -> str | None:
    """A candidate's name as the report prints it: a control is tagged "(positive control)" / "(negative
    control)" wherever it appears, so that no reader takes it for a product model."""
    kind = results.controls().get(name) if name else None
    return f"{name} ({kind} control)" if kind else name


def candidate_names(results: StudyResults) -> list[str]:
    names = [c.name for c in results.candidates if c.name]
    for rows in (results.agreement, results.categorical, results.trials):
        for r in rows:
            if r.candidate and r.candidate not in names:
                names.append(r.candidate)
    return names


def pooled(rows: list, results: StudyResults | None = None) -> list[dict]:
    """Rows pooled over conditions (``condition == "all"``), as plain records.

    Conditions are pooled within a protocol only; when the rows span several protocols, each row's
    ``candidate`` label names its protocol too, and with ``results`` a control's label says it is a control
    (:func:`shown`); ``candidate_name`` keeps the bare name for lookups."""
    out = [record(r) for r in rows if r.condition == "all"]
    several = len({r.get("protocol") for r in out}) > 1
    for r in out:
        name = r.get("candidate")
        label = shown(results, name) if results is not None else name
        if several:
            label = f"{label or '?'} ({r.get('protocol')})"
        if several or label != name:
            r["candidate_name"], r["candidate"] = name, label
    return out


def agreement_all(results: StudyResults) -> list[dict]:
    return pooled(results.agreement, results)


def row_notes(rows: list[dict]) -> str:
    """Row notes joined, candidates that share a note named together ("a, b: note")."""
    by_note: dict[str, list[str]] = {}
    for r in rows:
        if r.get("note"):
            by_note.setdefault(str(r["note"]), []).append(str(r.get("candidate", "?")))
    return "; ".join(f"{', '.join(c)}: {n}" for n, c in by_note.items())


def no_stats(row: dict) -> bool:
    return all(row.get(k) is None for k in ("bias", "loa_lower", "icc", "mae"))


def study_protocols(results: StudyResults) -> dict:
    """Protocol name -> ProtocolInfo (None when unknown or not described in the results) for the protocols the
    trials use, from the results' ``protocols`` section (built in, or the study's own definitions)."""
    out = {}
    for name in sorted({t.protocol for t in results.trials if t.protocol}):
        info = results.protocol(name)
        out[name] = info if info is not None and info.known else None
    return out


def by_kpi(rows: list[dict]) -> dict[str, list[dict]]:
    """Records grouped by KPI, in order of first appearance."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r.get("kpi", "?"), []).append(r)
    return out
