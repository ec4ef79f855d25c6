"""Precision and sample size (results ``precision``, docs/report.md): the plain sentence first, then the targets,
then one table per candidate × KPI with the achieved CIs (bounds in two columns, and their width) beside the
subjects (and trials per subject) needed for the targets. Words and numbers come from the section as
harness.precision_table wrote it.
"""
from __future__ import annotations

from harness.results import StudyResults

from ..language import number, with_unit
from ..sections import Paragraph, Section, Table

TITLE = "Precision and sample size"


def _plan_cell(plan: dict | None, status: str) -> str:
    if not plan:
        return status
    trials = plan.get("trials") or 1
    return f"{plan.get('n')}" + (f" × {trials} trials" if trials > 1 else "")


def _wider(a: float | None, b: float | None) -> float | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _targets_text(t: dict, several_levels: bool) -> str:
    icc_w, loa_h = t.get("icc_width"), t.get("loa_half_width_sd")
    return (f"Targets: a 95% CI of the ICC {number(icc_w)} wide (Bonett 2002, at the ICC observed, two ratings per "
            f"subject), and a 95% CI of each limit of agreement within ±{number(loa_h)} SD of the differences (the "
            f"interval the agreement table reports, at the SD observed). Read each n as the subjects a next study "
            f"needs if its ICC and SD are those seen here; Bonett's n makes the interval no wider than the target on "
            f"average, and is a lower bound for ICC(A,1)."
            + (" The CIs' level is each row's own." if several_levels else ""))


def precision_section_block(results: StudyResults) -> Section:
    """The section; the caller shows it only when the results have a ``precision`` section."""
    sec = Section("precision", TITLE)
    pr = results.precision
    if not sec.opens(pr, "these results have no precision section (written before it existed)"):
        return sec
    sec.blocks.append(Paragraph(_targets_text(pr.targets, len({r.confidence for r in pr.rows}) > 1)))
    sec.add_notes(pr.notes)
    several = len({r.protocol for r in pr.rows}) > 1
    rows, notes = [], []
    for r in pr.rows:
        unit = r.unit or ""
        kpi = f"{r.kpi} ({r.protocol})" if several and r.protocol else str(r.kpi)
        trials = "n/a" if r.trials_per_subject is None else number(r.trials_per_subject)
        rows.append([r.candidate, kpi, "n/a" if r.n_subjects is None else r.n_subjects, trials,
                     number(r.icc, 2), number(r.icc_ci_low, 2), number(r.icc_ci_high, 2), number(r.icc_ci_width, 2),
                     _plan_cell(r.icc_plan, r.icc_plan_status),
                     with_unit(r.loa_lower_ci_low, unit), with_unit(r.loa_lower_ci_high, unit),
                     with_unit(r.loa_upper_ci_low, unit), with_unit(r.loa_upper_ci_high, unit),
                     with_unit(_wider(r.loa_lower_ci_width, r.loa_upper_ci_width), unit),
                     _plan_cell(r.loa_plan, r.loa_plan_status)])
        if r.within_correlation_source and r.within_correlation_source != "agreement row":
            notes.append(f"{r.candidate} × {kpi}: within-subject correlation {r.within_correlation_source}")
        fallback = [p for p in (r.loa_plan or {}).get("note", "").split("; ") if p.startswith("planned with")]
        if fallback:
            notes.append(f"{r.candidate} × {kpi}: LoA {fallback[0]}")
    caption = ("Achieved 95% CIs and subjects needed for the targets. ICC CI width = high − low; each limit's CI "
               "width = high − low (the wider of the two limits'); "
               "'subjects needed' counts subjects (× trials each where the study had several)")
    sec.blocks.append(Table(["candidate", "KPI", "subjects", "trials per subject", "ICC", "ICC 95% CI low",
                             "ICC 95% CI high", "ICC CI width", "subjects needed (ICC)",
                             "lower limit CI low", "lower limit CI high", "upper limit CI low",
                             "upper limit CI high", "limit CI width", "subjects needed (LoA)"], rows,
                            caption=caption + (". " + "; ".join(notes) if notes else "")))
    return sec
