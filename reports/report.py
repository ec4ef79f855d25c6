"""Build the self-contained HTML validation report from plain results data (``results.json``).

The report is ONE HTML file: CSS inline, figures embedded as base64 PNG data URIs, no script, no font or
image fetched from anywhere, so it opens offline and can be e-mailed or archived. It is a list of small typed
sections (:mod:`reports.sections`) rendered through one cached Jinja2 environment. It renders from the typed
results model alone (:class:`harness.results.StudyResults`): KPI names, units, descriptions and the protocols'
definitions travel in the results (``kpis``, ``protocols``), and so do the paired values (``pairs``). Of the
project it imports only that model and :mod:`ground_truth.kernel` (tests/test_report.py checks it).
"""
from __future__ import annotations

import functools
from os import PathLike
from pathlib import Path
from typing import Callable

import jinja2

from ground_truth.kernel import record_unexpected, validate_type
from harness.results import StudyResults

from . import figures as F
from .language import agreement_sentences, kappa_sentence, number, reading_methods, with_unit
from .sections import (CandidateVerdict, Figure, FigureRow, KPISummary, MethodsSection, NotMeasured, Paragraph,
                       Preformatted, Section, SummarySection, Table, VerdictSection)

TEMPLATES = Path(__file__).with_name("templates")
MAX_TRIAL_FIGURES = 6


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of the report (cached: templates are parsed once per process)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = number
    return env


# ------------------------------------------------------------------------------------------------------ helpers
def _as_model(results: StudyResults | dict) -> StudyResults:
    """The typed results; a parsed ``results.json`` dict is read through :meth:`StudyResults.from_dict`."""
    validate_type(results, (StudyResults, dict), "results")
    return results if isinstance(results, StudyResults) else StudyResults.from_dict(results)


def _record(row) -> dict:
    """A typed row as the plain record the sentence and figure helpers take; null fields are left out, as in a
    row whose producer did not write them (so their defaults, e.g. "n/a", apply)."""
    return {k: v for k, v in row.to_dict().items() if v is not None}


def _kpi_info(results: StudyResults, name: str) -> tuple[str, str, str, str]:
    """(unit, description, kind, citation) of a KPI from the results' ``kpis`` section, or placeholders."""
    info = results.kpi(name)
    if info is None:
        return "", "(no description of this KPI in these results)", "continuous", ""
    if not info.registered:
        return "", "(not a KPI of the stancebench registry: no plain-language description available)", \
            "continuous", ""
    return info.unit, info.description, info.kind, info.citation


def _candidate_names(results: StudyResults) -> list[str]:
    names = [c.name for c in results.candidates if c.name]
    for rows in (results.agreement, results.categorical, results.trials):
        for r in rows:
            if r.candidate and r.candidate not in names:
                names.append(r.candidate)
    return names


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


def _pooled(rows: list) -> list[dict]:
    """Rows pooled over conditions (``condition == "all"``), as plain records.

    Conditions are pooled within a protocol only; when the rows span several protocols, each row's
    ``candidate`` label names its protocol too (``candidate_name`` keeps the bare name for lookups)."""
    out = [_record(r) for r in rows if r.condition == "all"]
    if len({r.get("protocol") for r in out}) > 1:
        out = [dict(r, candidate_name=r.get("candidate"), candidate=f"{r.get('candidate', '?')} ({r.get('protocol')})")
               for r in out]
    return out


def _agreement_all(results: StudyResults) -> list[dict]:
    return _pooled(results.agreement)


def _notes(rows: list[dict]) -> str:
    """Row notes joined, candidates that share a note named together ("a, b: note")."""
    by_note: dict[str, list[str]] = {}
    for r in rows:
        if r.get("note"):
            by_note.setdefault(str(r["note"]), []).append(str(r.get("candidate", "?")))
    return "; ".join(f"{', '.join(c)}: {n}" for n, c in by_note.items())


def _no_stats(row: dict) -> bool:
    return all(row.get(k) is None for k in ("bias", "loa_lower", "icc", "mae"))


def _device_label(rec: dict, cand_by_sha: dict[str, str]) -> tuple[str, str]:
    model = rec.get("model") or {}
    dev = rec.get("device") or {}
    rt = rec.get("runtime") or {}
    cand = rec.get("candidate") or cand_by_sha.get(model.get("sha256") or "", "") or model.get("name") or "?"
    bits = [b for b in (dev.get("model") or dev.get("platform"), rt.get("name"), rt.get("delegate")) if b]
    if rt.get("threads"):
        bits.append(f"{rt['threads']} thr")
    return cand, ", ".join(map(str, bits)) or "unnamed device"


def _status_text(results: StudyResults, status_key: str) -> str:
    status = getattr(results, status_key)
    return f" ({status})" if isinstance(status, str) and status not in ("ok", "") else ""


def _study_protocols(results: StudyResults) -> dict:
    """Protocol name -> ProtocolInfo (None when unknown or not described in the results) for the protocols the
    trials use, from the results' ``protocols`` section (built in, or the study's own definitions)."""
    out = {}
    for name in sorted({t.protocol for t in results.trials if t.protocol}):
        info = results.protocol(name)
        out[name] = info if info is not None and info.known else None
    return out


def _kpi_missing_reason(results: StudyResults, kpi: str) -> str:
    """Why a KPI has no agreement: from the agreement notes, else from its per-trial rows (a side with no value
    and the status it gave, e.g. candidate-only trials have no reference)."""
    notes = _notes([r for r in _agreement_all(results) if r.get("kpi") == kpi])
    rows = [k for t in results.trials for k in t.kpis if k.kpi == kpi]
    if not rows:
        return notes or "not computed for any trial in this study"
    found = {}
    for side in ("reference", "candidate"):
        missing = [k for k in rows if getattr(k, side) is None]
        if missing:
            why = [getattr(k, f"{side}_status") or getattr(k, f"{side}_method") for k in missing]
            why = [w for w in why if w]
            found[side] = (len(missing), max(set(why), key=why.count) if why else "no value")
    if len(found) == 2 and found["reference"] == found["candidate"]:
        n, why = found["reference"]
        return f"missing on both sides in {n} of {len(rows)} trial(s) ({why})"
    parts = [f"{side} missing in {n} of {len(rows)} trial(s) ({why})" for side, (n, why) in found.items()]
    # the side that gave no value, with its own reason, says more than "too few pairs (n=0)"
    return "; ".join(parts) or notes or "values were computed but too few valid pairs for agreement statistics"


# ----------------------------------------------------------------------------------------------------- sections
def verdict_section(results: StudyResults) -> VerdictSection:
    gates = [g for g in results.gates if isinstance(g, dict)]
    sec = VerdictSection("verdict", "Verdict per candidate")
    names = _candidate_names(results)
    for g in gates:
        if g.get("candidate") and g["candidate"] not in names:
            names.append(g["candidate"])
    trials = results.trials
    for name in names:
        mine = [g for g in gates if g.get("candidate") == name]
        counts = {s: sum(g.get("status") == s for g in mine) for s in ("pass", "fail", "error", "not-evaluable")}
        blocks = [g for g in mine if g.get("blocks", g.get("severity") == "blocking" and g.get("status") != "pass")]
        outcome = "not gated" if not mine else "blocked" if blocks else "pass"
        ok = sum(t.candidate == name and t.status == "ok" for t in trials)
        bad = sum(t.candidate == name and t.status != "ok" for t in trials)
        sec.cards.append(CandidateVerdict(name, outcome, counts, mine, ok, bad))
    if not gates:
        reason = results.gates_status or "no gate policy was applied to these results"
        sec.blocks.append(NotMeasured(f"gates not evaluated: {reason}"))
    elif isinstance(results.gates_status, str) and results.gates_status not in ("", "ok"):
        sec.blocks.append(Paragraph(f"Gate policy: {results.gates_status}", css="note"))
    sec.blocks.append(Paragraph("A candidate is BLOCKED when a blocking gate fails, errors, or cannot be evaluated "
                                "(a missing measurement is not evidence of safety); advisory gates are shown but "
                                "never block.", css="note"))
    if not names:
        sec.blocks.append(NotMeasured("no candidates in these results"))
    return sec


def summary_section(results: StudyResults) -> SummarySection:
    sec = SummarySection("summary", "What the numbers mean (plain-language summary per KPI)")
    rows = _agreement_all(results)
    by_kpi: dict[str, list[dict]] = {}
    for r in rows:
        by_kpi.setdefault(r.get("kpi", "?"), []).append(r)
    protocols = _study_protocols(results)
    by_design = {k.name: k.not_measured_reason for k in results.kpis if k.not_measured_reason}
    measured = set()
    for kpi, rs in by_kpi.items():
        unit, desc, kind, _ = _kpi_info(results, kpi)
        unit = rs[0].get("unit") or unit
        if all(_no_stats(r) for r in rs):
            sec.not_measured.append((kpi, by_design.get(kpi) or _kpi_missing_reason(results, kpi)))
            continue
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, unit, desc, kind,
                                    [(r.get("candidate", "?"), agreement_sentences(r, kind)) for r in rs]))
    cat_by_kpi: dict[str, list[dict]] = {}
    for c in _pooled(results.categorical):
        cat_by_kpi.setdefault(c.get("kpi", "?"), []).append(c)
    for kpi, cs in cat_by_kpi.items():
        _, desc, _, _ = _kpi_info(results, kpi)
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, "", desc, "categorical",
                                    [(c.get("candidate", "?"), [kappa_sentence(c)]) for c in cs]))
    measured |= {k for k, _ in sec.not_measured}
    # KPIs the protocols of this study report but that have no agreement: say so, with the reason
    for pname, proto in protocols.items():
        if proto is None:
            why = ("unknown protocol" if results.protocol(pname) is not None
                   else "no definition of this protocol in these results")
            sec.not_measured.append((pname, f"{why}: its KPIs cannot be listed"))
            continue
        for m in proto.kpis:
            if m.kpi in measured or any(m.kpi == x for x, _ in sec.not_measured):
                continue
            if m.candidate is None:
                reason = m.not_measured_reason
            else:
                reason = _kpi_missing_reason(results, m.kpi)
            sec.not_measured.append((m.kpi, reason))
    if not sec.items:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
    return sec


def bland_altman_section(results: StudyResults) -> Section:
    sec = Section("bland-altman", "Bland-Altman plots")
    sec.blocks.append(Paragraph("Each point is one trial: its horizontal position is the mean of the reference and "
                                "candidate values, its height the difference candidate − reference. The solid "
                                "line is the mean difference (bias), the dashed lines the limits of agreement; "
                                "shaded bands are their 95% confidence intervals (Bland & Altman 1986, 1999)."))
    rows = _agreement_all(results)
    by_kpi: dict[str, list[dict]] = {}
    for r in rows:
        by_kpi.setdefault(r.get("kpi", "?"), []).append(r)
    missing = []
    by_design = {k.name for k in results.kpis if k.not_measured_reason}
    for kpi, rs in by_kpi.items():
        panels = []
        for r in rs:
            ref, est = _plotted_pairs(results, kpi, r.get("candidate_name", r.get("candidate")),
                                      protocol=r.get("protocol"))
            panels.append({**r, "reference": ref, "estimate": est})
        notes = _notes(rs)
        if not any(p["reference"] for p in panels) and all(p.get("bias") is None for p in panels):
            why = ("not computable from keypoints, see the summary" if kpi in by_design
                   else notes or "no paired values")
            missing.append(f"{kpi} ({why})")
            continue
        sec.blocks.append(Figure(F.bland_altman_figure(kpi, rs[0].get("unit") or "", panels)))
        if notes:
            sec.blocks.append(Paragraph("Notes: " + notes, css="note"))
    if missing:
        sec.blocks.append(NotMeasured("; ".join(missing), what="no plot"))
    if not by_kpi:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
    elif not results.pairs and results.schema_version == 1:
        # schema 1 results carry no pairs: the plots show the statistics without their points
        sec.blocks.append(NotMeasured("results of schema_version 1 carry no paired values", what="points"))
    return sec


def icc_section(results: StudyResults) -> Section:
    sec = Section("icc", "ICC across candidates (forest plot)")
    rows = [r for r in _agreement_all(results) if r.get("icc") is not None]
    if not rows:
        sec.blocks.append(NotMeasured("no ICC in these results"))
        return sec
    rows.sort(key=lambda r: (r.get("kpi", ""), r.get("candidate", "")))
    sec.blocks.append(Figure(F.icc_forest_figure(rows)))
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


def _trial_figures(figures_data: dict | None) -> list[tuple[str, str, dict]]:
    """(trial_id, candidate, figure dict) from ``figures_data['trials']`` keyed "trial_id|candidate"."""
    out = []
    for key, item in ((figures_data or {}).get("trials") or {}).items():
        if not isinstance(item, dict):
            continue
        trial, _, cand = str(key).partition("|")
        out.append((trial, item.get("candidate") or cand or "candidate", item))
    return out


def stabilogram_section(results: StudyResults, figures_data: dict | None) -> Section:
    sec = Section("stabilograms", "Stabilograms: reference vs candidate")
    n = 0
    for trial, cand, item in _trial_figures(figures_data):
        st = item.get("stabilogram")
        if not isinstance(st, dict) or n >= MAX_TRIAL_FIGURES:
            continue
        title = f"{st.get('signal', 'sway')} — trial {trial}, {cand}"
        sec.blocks.append(Figure(F.stabilogram_figure(title, st.get("unit", ""), st.get("reference") or {},
                                                      st.get("candidate") or {}, cand)))
        n += 1
    if n == 0:
        sec.blocks.append(NotMeasured("no sway traces were passed to the report (figures_data has no "
                                      "stabilogram arrays)"))
    return sec


def time_series_section(results: StudyResults, figures_data: dict | None) -> Section:
    sec = Section("alignment", "Time series and clock alignment")
    n = 0
    for trial, cand, item in _trial_figures(figures_data):
        ts = item.get("time_series")
        if not isinstance(ts, dict) or n >= MAX_TRIAL_FIGURES:
            continue
        title = f"{ts.get('signal', 'signal')} — trial {trial}, {cand}"
        sec.blocks.append(Figure(F.time_series_figure(
            title, ts.get("unit", ""), ts.get("reference") or {}, ts.get("candidate") or {}, cand,
            raw=ts.get("candidate_raw"), events=ts.get("events"), lag=item.get("lag_correlation"),
            signal=str(ts.get("signal", "")))))
        n += 1
    if n == 0:
        sec.blocks.append(NotMeasured("no aligned time series were passed to the report (figures_data has no "
                                      "time_series arrays)"))
    rows, classes = [], []
    for t in results.trials:
        a = t.alignment
        if not isinstance(a, dict):
            continue
        err = a.get("offset_error_s")
        if err is None and a.get("offset_s") is not None and a.get("true_offset_s") is not None:
            err = a["offset_s"] - a["true_offset_s"]
        rows.append([t.trial_id, t.candidate, a.get("method", ""), number(a.get("offset_s")),
                     number(a.get("drift_ppm")), number(a.get("peak_corr"), 2), number(a.get("lag_uncertainty_s")),
                     number(a.get("residual_s")), number(a.get("true_offset_s")), number(err)])
        classes.append("")
    if rows:
        sec.blocks.append(Table(["trial", "candidate", "method", "offset [s]", "drift [ppm]", "peak corr.",
                                 "lag uncertainty [s]", "residual [s]", "true offset [s]", "offset error [s]"],
                                rows, caption="Clock alignment per trial (true offset only known for synthetic "
                                              "trials)", row_classes=classes))
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
            rows.append([t.trial_id, t.candidate, t.condition or "", show(ref, rc),
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


def strategy_section(results: StudyResults) -> Section:
    sec = Section("strategy", "Categorical KPIs (balance strategy): confusion matrix and kappa")
    cats = results.categorical
    pooled = _pooled(cats)
    for kpi in dict.fromkeys(c.get("kpi", "?") for c in pooled):
        mine = [c for c in pooled if c.get("kpi") == kpi]
        for c in mine:
            sec.blocks.append(Paragraph(f"{kpi} — {c.get('candidate')}: {kappa_sentence(c)}"))
        figs = [F.confusion_figure(kpi, c.get("candidate", "?"), list(c["labels"]), c["confusion"])
                for c in mine if c.get("confusion") and c.get("labels")]
        if figs:
            sec.blocks.append(FigureRow(figs))
    per_condition = [_record(c) for c in cats if c.condition != "all"]
    if per_condition:
        sec.blocks.append(Table(
            ["KPI", "condition", "candidate", "kappa", "95% CI", "n"],
            [[c.get("kpi"), c.get("condition"), c.get("candidate"), number(c.get("kappa"), 2),
              f"{number(c.get('kappa_ci_low'), 2)} to {number(c.get('kappa_ci_high'), 2)}", c.get("n")]
             for c in per_condition], caption="Kappa per condition"))
    if not cats:
        sec.blocks.append(NotMeasured("no categorical KPI (e.g. hip vs ankle strategy) in these results"))
    return sec


def device_section(results: StudyResults) -> Section:
    sec = Section("device", "On-device cost: latency, memory, energy")
    recs = [r for r in results.device if isinstance(r, dict)]
    cand_by_sha = {c.model_sha256: c.name for c in results.candidates if c.model_sha256}
    if not recs:
        sec.blocks.append(NotMeasured("no device results" + _status_text(results, "device_status")))
        return sec
    rows, items, classes = [], [], []
    for r in recs:
        cand, dev = _device_label(r, cand_by_sha)
        lat = r.get("latency") or {}
        mem = r.get("memory") or {}
        en = r.get("energy") or {}
        peak = mem.get("peak_mb", mem.get("rss_mb", mem.get("pss_mb")))
        energy = (with_unit(en.get("value"), en.get("unit") or "") if en.get("value") is not None
                  else f"not measured{': ' + en['reason'] if en.get('reason') else ''}")
        rows.append([cand, dev, lat.get("n", "n/a"), number(lat.get("p50_ms")), number(lat.get("p90_ms")),
                     number(lat.get("p99_ms")), number(lat.get("mean_ms")), number(lat.get("init_ms")),
                     number(peak), energy, r.get("status", "")])
        classes.append("" if r.get("status", "complete") == "complete" else "partial")
        items.append({"label": f"{cand} — {dev}", "latency": lat})
    sec.blocks.append(Table(["candidate", "device / runtime", "runs", "p50 [ms]", "p90 [ms]", "p99 [ms]",
                             "mean [ms]", "init [ms]", "peak memory [MB]", "energy", "record"], rows,
                            caption="Device records (MB = 10^6 bytes; percentiles nearest-rank; n/a = the tool did "
                                    "not report it)", row_classes=classes))
    sec.blocks.append(Figure(F.latency_figure(items)))
    return sec


def size_accuracy_section(results: StudyResults) -> Section:
    sec = Section("size-accuracy", "Model size against accuracy")
    sizes = {c.name: c for c in results.candidates if c.model_bytes}
    by_kpi: dict[str, list[dict]] = {}
    for r in _agreement_all(results):
        c = sizes.get(r.get("candidate"))
        if c is None or r.get("mae") is None:
            continue
        by_kpi.setdefault(r["kpi"], []).append({"candidate": r["candidate"], "model_mb": c.model_bytes / 1e6,
                                                "precision": c.precision, "mae": r["mae"],
                                                "mae_ci_low": r.get("mae_ci_low"), "mae_ci_high": r.get("mae_ci_high"),
                                                "unit": r.get("unit") or ""})
    if by_kpi:
        sec.blocks.append(Figure(F.size_accuracy_figure(dict(list(by_kpi.items())[:4]))))
    if not by_kpi:
        sec.blocks.append(NotMeasured("needs model sizes and MAE of at least one candidate"))
    elif len(by_kpi) > 4:
        sec.blocks.append(Paragraph(f"{len(by_kpi) - 4} further KPI(s) not plotted; see agreement.csv."))
    return sec


def agreement_table_section(results: StudyResults) -> Section:
    sec = Section("agreement-table", "Agreement statistics (all conditions)")
    allrows = [_record(r) for r in results.agreement]
    if not allrows:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
        return sec
    rows = [r for r in allrows if not _no_stats(r)]
    empty = [r for r in allrows if _no_stats(r)]
    sec.blocks.append(Table(
        ["KPI", "condition", "candidate", "n", "bias (95% CI)", "limits of agreement", "MAE", "ICC", "CCC", "note"],
        [[r.get("kpi"), r.get("condition"), r.get("candidate"), r.get("n"),
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
            rows.append([t.trial_id, t.candidate, t.condition or "", k.kpi, value, k.candidate_method or ""])
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
    names = _candidate_names(results)
    counts = [[n, sum(t.candidate == n and t.status == "ok" for t in trials),
               sum(t.candidate == n and t.status == "failed" for t in trials),
               sum(t.candidate == n and t.status == "refused" for t in trials)] for n in names]
    sec.blocks.append(Table(["candidate", "ok", "failed", "refused"], counts, caption="Trials per candidate"))
    bad = [t for t in trials if t.status != "ok"]
    if bad:
        sec.blocks.append(Table(["trial", "candidate", "status", "reason"],
                                [[t.trial_id, t.candidate, t.status, t.reason or ""]
                                 for t in bad], caption="Trials that did not produce KPIs, and why",
                                row_classes=["failed"] * len(bad)))
    # An unexpected exception (a bug, not bad input) keeps its type and traceback: shown for whoever fixes it,
    # folded away in a <details> element (no script needed) so that the table stays readable.
    crashed = [t for t in bad if t.error_type or t.traceback]
    if crashed:
        sec.blocks.append(Table(["trial", "candidate", "error type", "message"],
                                [[t.trial_id, t.candidate, t.error_type or "n/a", t.reason or ""] for t in crashed],
                                caption="Trials that failed on an unexpected error",
                                row_classes=["failed"] * len(crashed)))
        for t in crashed:
            if t.traceback:
                sec.blocks.append(Preformatted(f"Traceback of trial {t.trial_id}, {t.candidate or 'no candidate'}"
                                               f" ({t.error_type or 'error'})", t.traceback))
    return sec


_METHODS = [
    ("Differences", "All differences are candidate − reference, in the KPI's unit.", ""),
    ("Bland-Altman limits of agreement", "Bias = mean difference; limits = bias ± multiplier × SD of the "
     "differences (multiplier as given per row, 1.96 unless stated); confidence intervals of bias and limits; "
     "repeated trials per subject handled by the replicate method.",
     "Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of clinical "
     "measurement. Lancet. 1986;327(8476):307-310. Bland JM, Altman DG. Measuring agreement in method comparison "
     "studies. Stat Methods Med Res. 1999;8(2):135-160."),
    ("Intraclass correlation", "ICC(A,1): two-way model, absolute agreement, single measurement, with its 95% CI.",
     "McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients. Psychol Methods. "
     "1996;1(1):30-46."),
    ("Concordance correlation", "Lin's CCC with its confidence interval.",
     "Lin LI. A concordance correlation coefficient to evaluate reproducibility. Biometrics. 1989;45(1):255-268."),
    ("Categorical agreement", "Cohen's kappa (unweighted unless stated) with confusion matrix.",
     "Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas. 1960;20(1):37-46."),
    ("Non-inferiority against a baseline", "Difference of an error measure (e.g. MAE) candidate − baseline on the "
     "same trials, with a paired bootstrap that resamples subjects (all trials of a subject together); "
     "non-inferior when the upper 95% bound stays below the margin δ.",
     "Field CA, Welsh AH. Bootstrapping clustered data. J R Stat Soc B. 2007;69(3):369-390. Walker E, Nowacki AS. "
     "Understanding equivalence and noninferiority testing. J Gen Intern Med. 2011;26(2):192-196."),
    ("Censoring", "Time-to-failure at the maximum duration is right-censored; censored pairs are counted and "
     "excluded from the limits of agreement.",
     "Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance test with eyes "
     "open and closed. J Geriatr Phys Ther. 2007;30(1):8-15."),
    ("Device latency", "Per-inference latency in ms after warm-up runs, every run kept; percentiles nearest-rank; "
     "repeated trials should agree within 5% (MLPerf Mobile); memory in MB = 10^6 bytes; Android batterystats "
     "charge is a modelled estimate, not measured energy; energy per assessment = one 60-s trial at 30 fps.",
     "Reddi VJ, Kanter D, Mattson P, et al. MLPerf Mobile inference benchmark: an industry-standard open-source "
     "machine learning benchmark for on-device AI. Proc Mach Learn Syst. 2022;4:352-369. Hyndman RJ, Fan Y. "
     "Sample quantiles in statistical packages. Am Stat. 1996;50(4):361-365."),
    ("Colours", "Okabe-Ito colour-universal-design palette; lines also differ in style.",
     "Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that are friendly to "
     "colorblind people. 2008. https://jfly.uni-koeln.de/color/"),
]


def methods_section(results: StudyResults) -> MethodsSection:
    sec = MethodsSection("methods", "Methods and conventions")
    # the interpretation scales come from the rows (worded in harness.agreement.interpret), after their statistic
    rows = {key: [_record(r) for r in getattr(results, key)] for key in ("agreement", "categorical")}
    readings = {"Intraclass correlation": reading_methods(rows["agreement"], "icc", "ICC interpretation"),
                "Categorical agreement": reading_methods(rows["categorical"], "kappa", "Kappa interpretation")}
    sec.entries = []
    for entry in _METHODS:
        sec.entries += [entry] + readings.get(entry[0], [])
    kpis = list(dict.fromkeys([r.kpi for r in results.agreement] + [c.kpi for c in results.categorical]))
    for k in kpis:
        info = results.kpi(k)
        if info is not None and info.registered:
            sec.entries.append((f"KPI {k} [{info.unit or 'label'}]", info.definition, info.citation))
        elif info is None:
            sec.entries.append((f"KPI {k}", "no definition of this KPI in these results", ""))
        else:
            sec.entries.append((f"KPI {k}", "not a KPI of the stancebench registry; see the study's own "
                                "definition", ""))
    for p, proto in _study_protocols(results).items():
        if proto is None:
            sec.entries.append((f"Protocol {p}", "not a built-in protocol, and its definition is not in the "
                                "results", ""))
            continue
        rules = "; ".join(str(r.get("description", "")) for r in proto.stopping_rules)
        sec.entries.append((f"Protocol {proto.title}", f"{proto.description} Stopping rules: {rules}.",
                            proto.citation))
    methods = sorted({t.alignment["method"] for t in results.trials
                      if isinstance(t.alignment, dict) and t.alignment.get("method")})
    if methods:
        sec.entries.append(("Clock alignment", "t_ref = t_video + offset (+ drift·t_video), estimated per trial by "
                            "normalised cross-correlation of a signal both sides observe with sub-sample "
                            "refinement, or from matched events; unreliable estimates refuse the trial. Methods "
                            "used: " + "; ".join(methods) + ".",
                            "Knapp CH, Carter GC. The generalized correlation method for estimation of time delay. "
                            "IEEE Trans Acoust Speech Signal Process. 1976;24(4):320-327."))
    return sec


def provenance_section(results: StudyResults) -> Section:
    sec = Section("provenance", "Provenance")
    study = results.study
    rows = [[k, str(getattr(study, k)) if getattr(study, k) is not None else "n/a"]
            for k in ("name", "kind", "manifest", "seed", "created_utc")]
    rows.append(["results schema_version", str(results.schema_version if results.schema_version is not None
                                               else "n/a")])
    sec.blocks.append(Table(["item", "value"], rows, caption="Study"))
    sw = study.software or {}
    if sw:
        sec.blocks.append(Table(["software", "version"], [[k, str(v)] for k, v in sw.items()],
                                caption="Software versions"))
    else:
        sec.blocks.append(NotMeasured("software versions were not recorded", what="software"))
    files = results.provenance.files
    if files:
        sec.blocks.append(Table(["role", "file", "sha256"],
                                [[f.get("role", ""), f.get("path", ""), f.get("sha256", "")] for f in files],
                                caption="Input files and their SHA-256"))
    else:
        sec.blocks.append(NotMeasured("no input files recorded", what="files"))
    cands = results.candidates
    if cands:
        sec.blocks.append(Table(["candidate", "kind", "precision", "runtime", "model bytes", "model sha256",
                                 "baseline"],
                                [[c.name, c.kind, c.precision, c.runtime, number(c.model_bytes), c.model_sha256 or "",
                                  "yes" if c.baseline else ""] for c in cands], caption="Candidates"))
    manifest = results.provenance.manifest
    if manifest:
        import json
        sec.blocks.append(Preformatted("Study manifest as run", json.dumps(manifest, indent=2, default=str)))
    return sec


def licences_section(results: StudyResults) -> Section:
    sec = Section("licences", "Data licences")
    lic = results.provenance.licences
    if lic:
        sec.blocks.append(Table(["data", "licence", "source"],
                                [[x.get("data", ""), x.get("licence", ""), x.get("source", "")] for x in lic],
                                caption="Third-party data used in this study"))
    else:
        sec.blocks.append(NotMeasured("the results list no third-party data (none used, or not recorded)"))
    return sec


# ------------------------------------------------------------------------------------------------------ builder
def _safe(builder: Callable[..., Section], sec_id: str, title: str, *args) -> Section:
    """A section whose builder fails is shown with the error, not dropped: the rest of the report still renders."""
    try:
        return builder(*args)
    except Exception as exc:  # noqa: BLE001 - the report must render whatever one section meets
        err = record_unexpected(exc)
        return Section(sec_id, title, [NotMeasured(f"section could not be rendered: {err['message']}")])


def build_sections(results: StudyResults | dict, figures_data: dict | None = None) -> list[Section]:
    """The report's sections, in reading order (verdict first), from the typed results (a parsed
    ``results.json`` dict is read through :meth:`StudyResults.from_dict`)."""
    results = _as_model(results)
    fd = figures_data if figures_data is not None else results.figures_data
    return [
        _safe(verdict_section, "verdict", "Verdict per candidate", results),
        _safe(summary_section, "summary", "Plain-language summary", results),
        _safe(bland_altman_section, "bland-altman", "Bland-Altman plots", results),
        _safe(icc_section, "icc", "ICC across candidates", results),
        _safe(stabilogram_section, "stabilograms", "Stabilograms", results, fd),
        _safe(time_series_section, "alignment", "Time series and clock alignment", results, fd),
        _safe(ttf_section, "time-to-failure", "Time-to-failure", results),
        _safe(strategy_section, "strategy", "Categorical KPIs", results),
        _safe(device_section, "device", "On-device cost", results),
        _safe(size_accuracy_section, "size-accuracy", "Model size against accuracy", results),
        _safe(agreement_table_section, "agreement-table", "Agreement statistics", results),
        _safe(candidate_only_section, "candidate-only", "Candidate-only trials", results),
        _safe(trials_section, "trials", "Trials", results),
        _safe(methods_section, "methods", "Methods", results),
        _safe(provenance_section, "provenance", "Provenance", results),
        _safe(licences_section, "licences", "Data licences", results),
    ]


def render_html(results: StudyResults | dict, *, figures_data: dict | None = None) -> str:
    """The report as an HTML string (see :func:`build_report`)."""
    results = _as_model(results)
    env = environment()
    sections = build_sections(results, figures_data)
    body = [env.get_template(s.template).render(**s.context()) for s in sections]
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study = results.study.to_dict()
    return env.get_template("base.html.j2").render(
        title=f"stancebench report — {study.get('name') or 'study'}", study=study, css=css,
        toc=[(s.id, s.title) for s in sections], body=body)


def build_report(results: StudyResults | dict, out_path: str | PathLike, *,
                 figures_data: dict | None = None) -> Path:
    """Write the self-contained HTML validation report.

    Parameters
    ----------
    results : StudyResults or dict
        The typed results (:func:`harness.results.load_results`), or a parsed ``results.json``
        (docs/results-schema.md), read through :meth:`StudyResults.from_dict`: a newer ``schema_version`` is
        refused (ReaderError). Any section may be missing or empty: the report then says "not measured:
        <reason>" in its place.
    out_path : path-like
        Where to write the HTML file (parent folders are created).
    figures_data : dict, optional
        Arrays for per-trial figures, by default ``results["figures_data"]``. Layout (docs/report.md)::

            {"trials": {"<trial_id>|<candidate>": {
                "stabilogram": {"signal": "COM", "unit": "cm",
                                "reference": {"ml": [...], "ap": [...]}, "candidate": {"ml": [...], "ap": [...]}},
                "time_series": {"signal": "COM ML", "unit": "cm",
                                "reference": {"t": [...], "y": [...]}, "candidate": {"t": [...], "y": [...]},
                                "candidate_raw": {"t": [...], "y": [...]},          # optional, before alignment
                                "events": [{"name": "foot lift", "time": 1.2}]},   # optional
                "lag_correlation": {"lag_s": [...], "corr": [...]}}}}              # optional

    Returns
    -------
    Path
        The written file.

    Notes
    -----
    One file, no external request: CSS inline, figures as base64 PNG data URIs with alt text, no JavaScript.
    """
    validate_type(out_path, "path-like", "out_path")
    # read first: a results document this report cannot read must fail before anything is written
    text = render_html(_as_model(results), figures_data=figures_data)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
