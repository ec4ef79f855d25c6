"""Trends across the runs of this study: how agreement (LoA width, ICC lower bound per KPI) and p90 latency moved
over the model versions in the order they were run, with promotions marked (results ``history``, docs/store.md).

The section holds the EARLIER runs from the results store; this run is added as the last point from the results
themselves, through the same functions the store's rows went through (:mod:`harness.results.history`). A
plain-language sentence comes first ("Over the last 3 runs of this study, the LoA width of com_sway_velocity
narrowed from 2.1 to 1.5 cm/s for candidate Z; the production model since 2026-12-01 is ..."). Control candidates
are left out of the trend: they check the harness, they are no model version.
"""
from __future__ import annotations

from harness.results import StudyResults
from harness.results.history import (HistoryLatency, HistoryPoint, HistoryRun, HistorySection, agreement_points,
                                     latency_points, short_sha)

from .. import figures_history as FH
from ..figure_pool import draw
from ..language import number
from ..sections import Figure, NotMeasured, Paragraph, Section, Table

TITLE = "Trends across the runs of this study"
#: (candidate, KPI) clauses in the opening sentence at most; the figure has the rest.
MAX_CLAUSES = 6


def _day(utc: str | None) -> str:
    return (utc or "")[:10] or "unknown date"


def _this_run(results: StudyResults, hist: HistorySection) -> tuple[HistoryRun, list[HistoryPoint],
                                                                    list[HistoryLatency]]:
    cands = [c.to_dict() for c in results.candidates]
    run = HistoryRun(started_utc=results.study.created_utc, label=hist.label, manifest_sha256=hist.manifest_sha256,
                     same_manifest=True, exit_code=results.exit_code)
    return (run, agreement_points(None, [r.to_dict() for r in results.agreement], cands),
            latency_points(None, results.device, cands))


def _series(runs: list[HistoryRun], rows: list, key, field: str) -> dict:
    """{line key: [value or None per run]} from points (or latency rows) keyed by ``key(row)``."""
    pos = {r.run_id: i for i, r in enumerate(runs)}
    out: dict = {}
    for row in rows:
        k = key(row)
        if k is None:
            continue
        out.setdefault(k, [None] * len(runs))[pos[row.run_id]] = getattr(row, field)
    return out


def _direction(first: float, last: float, unit: str, words: tuple[str, str]) -> str:
    a, b = number(first), number(last)
    if a == b:
        return f"stayed at {a}{f' {unit}' if unit else ''}"
    return f"{words[0] if last < first else words[1]} from {a} to {b}{f' {unit}' if unit else ''}"


def _clauses(kpis: list[str], units: dict, width: dict, icc: dict, shas: dict, this_cands: list[str],
             cand_of: dict) -> list[str]:
    out = []
    for cand in this_cands:
        for kpi in kpis:
            for line in [k[1] for k in width if k[0] == kpi and cand_of[k[1]] == cand]:
                w = width[(kpi, line)]
                first_i = next((i for i, v in enumerate(w[:-1]) if v is not None), None)
                if w[-1] is None or first_i is None:
                    continue
                text = (f"the LoA width of {kpi} "
                        f"{_direction(w[first_i], w[-1], units.get(kpi, ''), ('narrowed', 'widened'))} "
                        f"for candidate {line}")
                old, new = shas.get((cand, first_i)), shas.get((cand, len(w) - 1))
                if old and new and old != new:
                    text += f" (model {short_sha(old)} → {short_sha(new)})"
                i = icc[(kpi, line)]
                if i[first_i] is not None and i[-1] is not None:
                    text += f", and its ICC lower bound {_direction(i[first_i], i[-1], '', ('fell', 'rose'))}"
                out.append(text)
    return out


def _channels_sentence(hist: HistorySection, results: StudyResults, pos: dict) -> str:
    latest: dict = {}
    for p in hist.promotions:  # oldest first: the last one of a channel is what it holds now
        latest[p.channel] = p
    if not latest:
        return "No model has been promoted to a channel yet (stancebench promote)."
    mine = {c.model_sha256: c.name for c in results.candidates if c.model_sha256}
    parts = []
    for ch in sorted(latest, key=lambda c: (c != "production", c)):
        p = latest[ch]
        where = f"run {(p.run_id or '')[:8]}" + (f", #{pos[p.run_id] + 1} in the figure" if p.run_id in pos else "")
        if not p.same_study:
            where += ", of another study"
        this = f", the same model as this run's {mine[p.model_sha256]}" if p.model_sha256 in mine else ""
        parts.append(f"the {ch} model since {_day(p.time_utc)} is {p.candidate} (model {short_sha(p.model_sha256)}, "
                     f"promoted on the evidence of {where}){this}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def history_section(results: StudyResults) -> Section:
    """The trend section; the caller shows it only when the results have a ``history`` section."""
    sec = Section("trends", TITLE)
    hist = results.history
    if not sec.opens(hist, "the results store holds no earlier run of this study"):
        return sec
    this, this_points, this_latency = _this_run(results, hist)
    runs = [*hist.runs, this]
    points = [p for p in hist.points + this_points if p.condition == "all" and not p.control]
    latency = [r for r in hist.latency + this_latency if r.p90_ms is not None]
    controls = {c.name for c in results.candidates if c.is_control}
    several = len({p.protocol for p in points}) > 1

    cand_of: dict[str, str] = {}

    def key(p):
        if p.candidate in controls:
            return None
        label = p.candidate + (f" ({p.protocol})" if several else "")
        cand_of[label] = p.candidate
        return p.kpi, label
    width, icc = _series(runs, points, key, "loa_width"), _series(runs, points, key, "icc_ci_low")
    measured = {k for series in (width, icc) for k, values in series.items() if any(v is not None for v in values)}
    kpis = [k for k in dict.fromkeys(p.kpi for p in [*this_points, *hist.points]) if any(m[0] == k for m in measured)]
    units = {p.kpi: p.unit or "" for p in points if p.unit}
    pos = {r.run_id: i for i, r in enumerate(runs) if r.run_id}
    shas = {(p.candidate, pos.get(p.run_id, len(runs) - 1)): p.model_sha256 for p in points}
    this_cands = [c.name for c in results.candidates if c.name and not c.is_control]
    clauses = _clauses(kpis, units, width, icc, shas, this_cands, cand_of)
    more = len(clauses) - MAX_CLAUSES
    lead = (f"Over the last {len(runs)} runs of this study ({len(runs) - 1} earlier run(s) from the results store, "
            f"the first on {_day(runs[0].started_utc or runs[0].recorded_utc)}, and this run), "
            + ("; ".join(clauses[:MAX_CLAUSES]) + (f"; and {more} more in the figure" if more > 0 else "")
               if clauses else "no KPI of this run's candidates was measured in an earlier run as well") + ". ")
    sec.blocks.append(Paragraph(lead + _channels_sentence(hist, results, pos)))
    sec.add_notes(hist.notes)
    if hist.n_earlier > len(hist.runs):
        sec.blocks.append(Paragraph(f"{hist.n_earlier - len(hist.runs)} older run(s) of this study are in the store "
                                    f"and not shown (stancebench history lists them).", css="note"))
    marks: dict[int, list[str]] = {}
    for p in hist.promotions:
        if p.same_study and p.run_id in pos:
            marks.setdefault(pos[p.run_id], []).append(p.channel or "?")
    promos = [(x, ", ".join(dict.fromkeys(chs))) for x, chs in sorted(marks.items())]
    x_labels = [str(i + 1) for i in range(len(runs) - 1)] + ["this run"]
    lines = list(dict.fromkeys(k[1] for k in width))
    same = [r.same_manifest for r in runs]
    panels = [{"kpi": k, "unit": units.get(k, ""),
               "lines": [{"label": c, "index": lines.index(c), "loa_width": width[(k, c)], "icc_ci_low": icc[(k, c)],
                          "same_manifest": same} for c in lines if (k, c) in width]}
              for k in kpis[:FH.MAX_KPIS]]
    if panels:
        sec.blocks.append(Figure(draw(FH.trend_figure, panels, x_labels, promos)))
        if len(kpis) > FH.MAX_KPIS:
            sec.blocks.append(Paragraph(f"{len(kpis) - FH.MAX_KPIS} further KPI(s) not plotted: "
                                        f"{', '.join(kpis[FH.MAX_KPIS:])}.", css="note"))
    else:
        sec.blocks.append(NotMeasured("no LoA width or ICC in these runs", what="agreement trend"))
    p90 = _series(runs, latency, lambda r: None if r.candidate in controls else f"{r.candidate} — {r.device}",
                  "p90_ms")
    if p90:
        sec.blocks.append(Figure(draw(FH.latency_trend_figure,
            [{"label": k, "index": i, "p90_ms": v, "same_manifest": same} for i, (k, v) in enumerate(p90.items())],
            x_labels, promos)))
    else:
        sec.blocks.append(NotMeasured("no p90 latency recorded in these runs", what="latency trend"))
    sec.blocks += _tables(runs, points, hist)
    return sec


def _tables(runs: list[HistoryRun], points: list[HistoryPoint], hist: HistorySection) -> list:
    models: dict = {}
    for p in points:
        models.setdefault(p.run_id, {}).setdefault(p.candidate, p.model_sha256)
    data = {True: "same as this run", False: "differs (different data)", None: "unknown"}
    rows = [[str(i + 1) if r.run_id else "this run", r.run_id[:12] if r.run_id else "(recorded after the report)",
             r.started_utc or r.recorded_utc, r.command or "", r.label or "",
             ", ".join(f"{c} ({short_sha(s) or 'no sha256'})" for c, s in models.get(r.run_id, {}).items()),
             data[r.same_manifest], "n/a" if r.exit_code is None else r.exit_code] for i, r in enumerate(runs)]
    out = [Table(["#", "run", "started (UTC)", "command", "label", "candidates (model sha256)", "manifest",
                  "exit code"], rows, caption="The runs in the figures, in the order they were run")]
    if hist.promotions:
        pos = {r.run_id: i for i, r in enumerate(runs) if r.run_id}
        out.append(Table(["time (UTC)", "channel", "candidate", "model sha256", "evidence run", "reason", "by"],
                         [[p.time_utc, p.channel, p.candidate, short_sha(p.model_sha256),
                           f"{(p.run_id or '')[:12]}" + (f" (#{pos[p.run_id] + 1})" if p.run_id in pos else
                                                         "" if p.same_study else " (another study)"),
                           p.reason or "", p.promoted_by or ""] for p in hist.promotions],
                         caption="Promotions (stancebench promote): each was judged on its evidence run"))
    return out
