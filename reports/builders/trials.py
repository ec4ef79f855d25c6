"""Per-trial views: stabilograms and aligned time series from ``figures_data`` (with the clock-alignment
diagnostics), time-to-failure with censoring, candidate-only trials, and the trials that failed and why."""
from __future__ import annotations

from typing import Callable

from harness.results import StudyResults

from .. import figures as F
from ..figure_pool import draw
from ..language import number, with_unit
from ..sections import Figure, NotMeasured, Paragraph, Preformatted, Section, Table
from .inputs import candidate_names, shown

MAX_TRIAL_FIGURES = 6


def _trial_figures(figures_data: dict | None, key: str, default_signal: str,
                   make: Callable[[str, dict, str, dict], F.FigureImage],
                   results: StudyResults | None = None) -> list[Figure]:
    """One figure per trial whose ``figures_data['trials']`` item (keyed "trial_id|candidate") holds a ``key``
    dict, at most :data:`MAX_TRIAL_FIGURES`: ``make(title, item[key], candidate, item)`` (an image, or the future
    of one: :func:`reports.figure_pool.draw`)."""
    out: list[Figure] = []
    for name, item in ((figures_data or {}).get("trials") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get(key), dict) or len(out) >= MAX_TRIAL_FIGURES:
            continue
        trial, _, cand = str(name).partition("|")
        cand = item.get("candidate") or cand or "candidate"
        if results is not None:
            cand = shown(results, cand)
        data = item[key]
        out.append(Figure(make(f"{data.get('signal', default_signal)} — trial {trial}, {cand}", data, cand, item)))
    return out


def stabilogram_section(results: StudyResults, figures_data: dict | None) -> Section:
    sec = Section("stabilograms", "Stabilograms: reference vs candidate")
    sec.blocks += _trial_figures(figures_data, "stabilogram", "sway", lambda title, st, cand, item: (
        draw(F.stabilogram_figure, title, st.get("unit", ""), st.get("reference") or {}, st.get("candidate") or {},
             cand)),
        results)
    if not sec.blocks:
        sec.blocks.append(NotMeasured("no sway traces were passed to the report (figures_data has no "
                                      "stabilogram arrays)"))
    return sec


def time_series_section(results: StudyResults, figures_data: dict | None) -> Section:
    sec = Section("alignment", "Time series and clock alignment")
    sec.blocks += _trial_figures(figures_data, "time_series", "signal", lambda title, ts, cand, item: (
        draw(F.time_series_figure, title, ts.get("unit", ""), ts.get("reference") or {}, ts.get("candidate") or {},
             cand, raw=ts.get("candidate_raw"), events=ts.get("events"), lag=item.get("lag_correlation"),
             signal=str(ts.get("signal", "")))), results)
    if not sec.blocks:
        sec.blocks.append(NotMeasured("no aligned time series were passed to the report (figures_data has no "
                                      "time_series arrays)"))
    rows = []
    for t in results.trials:
        a = t.alignment
        if not isinstance(a, dict):
            continue
        err = a.get("offset_error_s")
        if err is None and a.get("offset_s") is not None and a.get("true_offset_s") is not None:
            err = a["offset_s"] - a["true_offset_s"]
        rows.append([t.trial_id, shown(results, t.candidate), a.get("method", ""), number(a.get("offset_s")),
                     number(a.get("drift_ppm")), number(a.get("peak_corr"), 2), number(a.get("lag_uncertainty_s")),
                     number(a.get("residual_s")), number(a.get("true_offset_s")), number(err)])
    if rows:
        sec.blocks.append(Table(["trial", "candidate", "method", "offset [s]", "drift [ppm]", "peak corr.",
                                 "lag uncertainty [s]", "residual [s]", "true offset [s]", "offset error [s]"],
                                rows, caption="Clock alignment per trial (true offset only known for synthetic "
                                              "trials)", row_classes=[""] * len(rows)))
    else:
        sec.blocks.append(NotMeasured("no alignment diagnostics in the trials", what="alignment table"))
    return sec
def ttf_section(results: StudyResults) -> Section:
    sec = Section("time-to-failure", "Time-to-failure")
    rows, classes = [], []
    for t in results.trials:
        for k in t.kpis:
            if k.kpi != "time_to_failure":
                continue
            unit = k.unit or "s"
            ref, cand = k.reference, k.candidate

            def show(v, side_censored):
                return (f"≥ {with_unit(v, unit)} (censored)" if side_censored and v is not None
                        else with_unit(v, unit))
            rc, cc = k.reference_censored, k.candidate_censored
            diff = (cand - ref) if isinstance(ref, (int, float)) and isinstance(cand, (int, float)) else None
            rows.append([t.trial_id, shown(results, t.candidate), t.condition or "", show(ref, rc),
                         show(cand, cc), "— (censored)" if (rc or cc) else with_unit(diff, unit)])
            classes.append("censored" if (rc or cc) else "")
    if rows:
        sec.blocks.append(Paragraph("A trial that reached the protocol's maximum duration is right-censored "
                                    "(marked ≥ … (censored)): the person could stand at least that long. Censored "
                                    "trials are not used as exact times in the agreement statistics."))
        sec.blocks.append(Table(["trial", "candidate", "condition", "reference", "candidate", "difference"], rows,
                                caption="Time-to-failure per trial", row_classes=classes))
    else:
        sec.blocks.append(NotMeasured("no time-to-failure values in these results"))
    return sec


def candidate_only_section(results: StudyResults) -> Section:
    """KPI values of trials without a gold standard: shown, clearly labelled, never mixed into agreement."""
    sec = Section("candidate-only", "Candidate-only trials (no gold standard)")
    trials = [t for t in results.trials if t.kind == "candidate-only"]
    if not trials:
        sec.blocks.append(NotMeasured("no candidate-only trials in this study"))
        return sec
    sec.blocks.append(Paragraph("These trials have video but no force plate or motion capture: the values below "
                                "are the candidates' own estimates and cannot be checked against a reference. "
                                "They are not part of any agreement statistic or gate."))
    rows = []
    for t in trials:
        for k in t.kpis:
            if k.candidate is None and not k.candidate_status:
                continue
            value = (with_unit(k.candidate, k.unit or "") if k.candidate is not None
                     else f"not measured: {k.candidate_status}")
            rows.append([t.trial_id, shown(results, t.candidate), t.condition or "", k.kpi, value,
                         k.candidate_method or ""])
    if rows:
        sec.blocks.append(Table(["trial", "candidate", "condition", "KPI", "candidate value", "method"], rows,
                                caption="Candidate-only values (no gold standard)"))
    else:
        sec.blocks.append(NotMeasured("the candidate-only trials produced no KPI values"))
    return sec


def trials_section(results: StudyResults) -> Section:
    sec = Section("trials", "Trials")
    trials = results.trials
    if not trials:
        sec.blocks.append(NotMeasured("no trials in these results"))
        return sec
    names = candidate_names(results)
    counts = [[shown(results, n), sum(t.candidate == n and t.status == "ok" for t in trials),
               sum(t.candidate == n and t.status == "failed" for t in trials),
               sum(t.candidate == n and t.status == "refused" for t in trials)] for n in names]
    sec.blocks.append(Table(["candidate", "ok", "failed", "refused"], counts, caption="Trials per candidate"))
    for note in results.study.notes:
        sec.blocks.append(Paragraph(f"Note: {note}", css="note"))
    bad = [t for t in trials if t.status != "ok"]
    if bad:
        sec.blocks.append(Table(["trial", "candidate", "status", "reason"],
                                [[t.trial_id, shown(results, t.candidate), t.status, t.reason or ""]
                                 for t in bad], caption="Trials that did not produce KPIs, and why",
                                row_classes=["failed"] * len(bad)))
    # An unexpected exception (a bug, not bad input) keeps its type and traceback: shown for whoever fixes it,
    # folded away in a <details> element (no script needed) so that the table stays readable.
    crashed = [t for t in bad if t.error_type or t.traceback]
    if crashed:
        sec.blocks.append(Table(["trial", "candidate", "error type", "message"],
                                [[t.trial_id, shown(results, t.candidate), t.error_type or "n/a", t.reason or ""]
                                 for t in crashed],
                                caption="Trials that failed on an unexpected error",
                                row_classes=["failed"] * len(crashed)))
        for t in crashed:
            if t.traceback:
                sec.blocks.append(Preformatted(f"Traceback of trial {t.trial_id}, {t.candidate or 'no candidate'}"
                                               f" ({t.error_type or 'error'})", t.traceback))
    return sec
