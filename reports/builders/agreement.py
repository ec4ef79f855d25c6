"""Agreement between candidate and reference: Bland-Altman plots per KPI, the ICC forest plot and table, the
categorical KPIs (kappa, confusion matrices) and the table of every agreement row."""
from __future__ import annotations

from harness.results import StudyResults

from .. import figures as F
from ..figure_pool import draw
from ..language import kappa_sentence, number
from ..sections import Figure, FigureRow, NotMeasured, Paragraph, Section, Table
from .inputs import agreement_all, by_kpi, no_stats, pooled, record, row_notes, shown


def _plotted_pairs(results: StudyResults, kpi: str, candidate: str,
                   protocol: str | None = None) -> tuple[list[float], list[float]]:
    """Reference and candidate values of the results' pairs for a Bland-Altman panel: the pairs the harness
    defined (``results.pairs``), without the censored ones (not exact values) and non-numeric ones (labels)."""
    ref, est = [], []
    for p in results.pairs_of(kpi, candidate, protocol=protocol):
        if not p.censored and isinstance(p.reference, (int, float)) and isinstance(p.candidate_value, (int, float)):
            ref.append(float(p.reference))
            est.append(float(p.candidate_value))
    return ref, est


def bland_altman_section(results: StudyResults) -> Section:
    sec = Section("bland-altman", "Bland-Altman plots")
    sec.blocks.append(Paragraph("Each point is one trial: its horizontal position is the mean of the reference and "
                                "candidate values, its height the difference candidate − reference. The solid "
                                "line is the mean difference (bias), the dashed lines the limits of agreement; "
                                "shaded bands are their 95% confidence intervals (Bland & Altman 1986, 1999)."))
    rows_by_kpi = by_kpi(agreement_all(results))
    missing = []
    by_design = {k.name for k in results.kpis if k.not_measured_reason}
    for kpi, rs in rows_by_kpi.items():
        panels = []
        for r in rs:
            ref, est = _plotted_pairs(results, kpi, r.get("candidate_name", r.get("candidate")),
                                      protocol=r.get("protocol"))
            panels.append({**r, "reference": ref, "estimate": est})
        notes = row_notes(rs)
        if not any(p["reference"] for p in panels) and all(p.get("bias") is None for p in panels):
            why = ("not computable from keypoints, see the summary" if kpi in by_design
                   else notes or "no paired values")
            missing.append(f"{kpi} ({why})")
            continue
        # a candidate that cannot measure this KPI (one camera and a 2-D measure) gets no empty panel
        shown = [p for p in panels if p["reference"] or p.get("bias") is not None]
        sec.blocks.append(Figure(draw(F.bland_altman_figure, kpi, rs[0].get("unit") or "", shown)))
        if notes:
            sec.blocks.append(Paragraph("Notes: " + notes, css="note"))
    if missing:
        sec.blocks.append(NotMeasured("; ".join(missing), what="no plot"))
    if not rows_by_kpi:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
    elif not results.pairs and results.schema_version == 1:
        # schema 1 results carry no pairs: the plots show the statistics without their points
        sec.blocks.append(NotMeasured("results of schema_version 1 carry no paired values", what="points"))
    return sec


def icc_section(results: StudyResults) -> Section:
    sec = Section("icc", "ICC across candidates (forest plot)")
    rows = [r for r in agreement_all(results) if r.get("icc") is not None]
    if not rows:
        sec.blocks.append(NotMeasured("no ICC in these results"))
        return sec
    rows.sort(key=lambda r: (r.get("kpi", ""), r.get("candidate", "")))
    sec.blocks.append(Figure(draw(F.icc_forest_figure, rows)))
    # the reading is the row's (harness.agreement.interpret via results.json): no thresholds in the report
    scales = [n for n in dict.fromkeys((r.get("icc_reading_scale") or {}).get("name") for r in rows) if n]
    sec.blocks.append(Table(
        ["KPI", "candidate", "type", "ICC", "95% CI", f"reading ({', '.join(scales) or 'none given'}, on the CI)",
         "CCC", "n"],
        [[r.get("kpi"), r.get("candidate"), r.get("icc_type", "ICC"), number(r.get("icc"), 2),
          f"{number(r.get('icc_ci_low'), 2)} to {number(r.get('icc_ci_high'), 2)}",
          r.get("icc_reading") or "n/a", number(r.get("ccc"), 2),
          r.get("n", "n/a")] for r in rows], caption="Intraclass correlation, absolute agreement"))
    return sec


def strategy_section(results: StudyResults) -> Section:
    sec = Section("strategy", "Categorical KPIs (balance strategy): confusion matrix and kappa")
    cats = results.categorical
    rows = pooled(cats, results)
    for kpi in dict.fromkeys(c.get("kpi", "?") for c in rows):
        mine = [c for c in rows if c.get("kpi") == kpi]
        for c in mine:
            sec.blocks.append(Paragraph(f"{kpi} — {c.get('candidate')}: {kappa_sentence(c)}"))
        figs = [draw(F.confusion_figure, kpi, c.get("candidate", "?"), list(c["labels"]), c["confusion"])
                for c in mine if c.get("confusion") and c.get("labels")]
        if figs:
            sec.blocks.append(FigureRow(figs))
    per_condition = [record(c) for c in cats if c.condition != "all"]
    if per_condition:
        sec.blocks.append(Table(
            ["KPI", "condition", "candidate", "kappa", "95% CI", "n"],
            [[c.get("kpi"), c.get("condition"), shown(results, c.get("candidate")), number(c.get("kappa"), 2),
              f"{number(c.get('kappa_ci_low'), 2)} to {number(c.get('kappa_ci_high'), 2)}", c.get("n")]
             for c in per_condition], caption="Kappa per condition"))
    if not cats:
        sec.blocks.append(NotMeasured("no categorical KPI (e.g. hip vs ankle strategy) in these results"))
    return sec


def agreement_table_section(results: StudyResults) -> Section:
    sec = Section("agreement-table", "Agreement statistics (all conditions)")
    allrows = [record(r) for r in results.agreement]
    if not allrows:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
        return sec
    rows = [r for r in allrows if not no_stats(r)]
    empty = [r for r in allrows if no_stats(r)]
    sec.blocks.append(Table(
        ["KPI", "condition", "candidate", "n", "bias (95% CI)", "limits of agreement", "MAE", "ICC", "CCC", "note"],
        [[r.get("kpi"), r.get("condition"), shown(results, r.get("candidate")), r.get("n"),
          f"{number(r.get('bias'))} ({number(r.get('bias_ci_low'))} to {number(r.get('bias_ci_high'))}) "
          f"{r.get('unit') or ''}",
          f"{number(r.get('loa_lower'))} to {number(r.get('loa_upper'))}", number(r.get("mae")),
          number(r.get("icc"), 2), number(r.get("ccc"), 2), r.get("note") or ""] for r in rows],
        caption="Differences are candidate − reference."))
    if empty:
        keys = list(dict.fromkeys(f"{r.get('kpi')} ({r.get('condition', 'all')})" for r in empty))
        sec.blocks.append(NotMeasured(f"{len(empty)} row(s) without statistics: {', '.join(keys)}; see their notes "
                                      f"in agreement.csv", what="no statistics"))
    return sec
