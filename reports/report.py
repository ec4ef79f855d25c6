"""Build the self-contained HTML validation report from plain results data (``results.json``).

The report is ONE HTML file: CSS inline, figures embedded as base64 PNG data URIs, no script, no font or
image fetched from anywhere, so it opens offline and can be e-mailed or archived. It is a list of small typed
sections (:mod:`reports.sections`) rendered through one cached Jinja2 environment. This package imports
nothing from ``harness``: it renders the results dictionary it is given.
"""
from __future__ import annotations

import functools
from os import PathLike
from pathlib import Path
from typing import Callable

import jinja2

from ground_truth.kernel import InputError, ManifestError, validate_type

from . import figures as F
from .language import (KOO_LI_2016, LANDIS_KOCH_1977, agreement_sentences, kappa_sentence, koo_li_on_ci, number,
                       with_unit)
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
def _kpi_info(name: str) -> tuple[str, str, str, str]:
    """(unit, description, kind, citation) of a KPI from the registry, or placeholders for other names."""
    try:
        from protocols import get_kpi
        k = get_kpi(name)
        return k.unit, k.description, k.kind, k.citation
    except (InputError, ImportError):
        return "", "(not a KPI of the stancebench registry: no plain-language description available)", \
            "continuous", ""


def _candidate_names(results: dict) -> list[str]:
    names = [c.get("name") for c in results.get("candidates") or [] if isinstance(c, dict) and c.get("name")]
    for sec in ("agreement", "categorical", "trials"):
        for r in results.get(sec) or []:
            if isinstance(r, dict) and r.get("candidate") and r["candidate"] not in names:
                names.append(r["candidate"])
    return names


def _pairs(results: dict, kpi: str, candidate: str, condition: str = "all",
           include_censored: bool = False, protocol: str | None = None) -> tuple[list[float], list[float]]:
    ref, est = [], []
    for t in results.get("trials") or []:
        if t.get("candidate") != candidate or t.get("status", "ok") != "ok":
            continue
        if condition != "all" and t.get("condition") != condition:
            continue
        if protocol is not None and t.get("protocol") != protocol:
            continue
        for k in t.get("kpis") or []:
            if k.get("kpi") != kpi or (k.get("censored") and not include_censored):
                continue
            r, c = k.get("reference"), k.get("candidate")
            if isinstance(r, (int, float)) and isinstance(c, (int, float)):
                ref.append(float(r))
                est.append(float(c))
    return ref, est


def _pooled(rows: list) -> list[dict]:
    """Rows pooled over conditions: ``condition == "all"`` (or rows without a condition).

    Conditions are pooled within a protocol only; when the rows span several protocols, each row's
    ``candidate`` label names its protocol too (``candidate_name`` keeps the bare name for lookups)."""
    out = [r for r in rows if isinstance(r, dict) and r.get("condition", "all") == "all"]
    if len({r.get("protocol") for r in out}) > 1:
        out = [dict(r, candidate_name=r.get("candidate"), candidate=f"{r.get('candidate', '?')} ({r.get('protocol')})")
               for r in out]
    return out


def _agreement_all(results: dict) -> list[dict]:
    return _pooled(results.get("agreement") or [])


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


def _status_text(results: dict, status_key: str) -> str:
    status = results.get(status_key)
    return f" ({status})" if isinstance(status, str) and status not in ("ok", "") else ""


def _study_protocols(results: dict) -> dict:
    """Protocol name -> Protocol (None when unknown) for the protocols the trials use: built in, or the study's
    own definitions carried in ``study.own_protocols``."""
    from protocols import get_protocol, protocol_from_dict
    own = (results.get("study") or {}).get("own_protocols") or {}
    out = {}
    for name in sorted({t.get("protocol") for t in results.get("trials") or [] if t.get("protocol")}):
        try:
            out[name] = protocol_from_dict(own[name]) if name in own else get_protocol(name)
        except (InputError, ManifestError):
            out[name] = None
    return out


def _kpi_missing_reason(results: dict, kpi: str) -> str:
    """Why a KPI has no agreement: from the agreement notes, else from its per-trial rows (a side with no value
    and the status it gave, e.g. candidate-only trials have no reference)."""
    notes = _notes([r for r in _agreement_all(results) if r.get("kpi") == kpi])
    rows = [k for t in results.get("trials") or [] for k in t.get("kpis") or [] if k.get("kpi") == kpi]
    if not rows:
        return notes or "not computed for any trial in this study"
    found = {}
    for side in ("reference", "candidate"):
        missing = [k for k in rows if k.get(side) is None]
        if missing:
            why = [k.get(f"{side}_status") or k.get(f"{side}_method") for k in missing]
            why = [w for w in why if w]
            found[side] = (len(missing), max(set(why), key=why.count) if why else "no value")
    if len(found) == 2 and found["reference"] == found["candidate"]:
        n, why = found["reference"]
        return f"missing on both sides in {n} of {len(rows)} trial(s) ({why})"
    parts = [f"{side} missing in {n} of {len(rows)} trial(s) ({why})" for side, (n, why) in found.items()]
    # the side that gave no value, with its own reason, says more than "too few pairs (n=0)"
    return "; ".join(parts) or notes or "values were computed but too few valid pairs for agreement statistics"


# ----------------------------------------------------------------------------------------------------- sections
def verdict_section(results: dict) -> VerdictSection:
    gates = [g for g in results.get("gates") or [] if isinstance(g, dict)]
    sec = VerdictSection("verdict", "Verdict per candidate")
    names = _candidate_names(results)
    for g in gates:
        if g.get("candidate") and g["candidate"] not in names:
            names.append(g["candidate"])
    trials = results.get("trials") or []
    for name in names:
        mine = [g for g in gates if g.get("candidate") == name]
        counts = {s: sum(g.get("status") == s for g in mine) for s in ("pass", "fail", "error", "not-evaluable")}
        blocks = [g for g in mine if g.get("blocks", g.get("severity") == "blocking" and g.get("status") != "pass")]
        outcome = "not gated" if not mine else "blocked" if blocks else "pass"
        ok = sum(t.get("candidate") == name and t.get("status", "ok") == "ok" for t in trials)
        bad = sum(t.get("candidate") == name and t.get("status", "ok") != "ok" for t in trials)
        sec.cards.append(CandidateVerdict(name, outcome, counts, mine, ok, bad))
    if not gates:
        reason = results.get("gates_status") or "no gate policy was applied to these results"
        sec.blocks.append(NotMeasured(f"gates not evaluated: {reason}"))
    elif isinstance(results.get("gates_status"), str) and results["gates_status"] not in ("", "ok"):
        sec.blocks.append(Paragraph(f"Gate policy: {results['gates_status']}", css="note"))
    sec.blocks.append(Paragraph("A candidate is BLOCKED when a blocking gate fails, errors, or cannot be evaluated "
                                "(a missing measurement is not evidence of safety); advisory gates are shown but "
                                "never block.", css="note"))
    if not names:
        sec.blocks.append(NotMeasured("no candidates in these results"))
    return sec


def summary_section(results: dict) -> SummarySection:
    sec = SummarySection("summary", "What the numbers mean (plain-language summary per KPI)")
    rows = _agreement_all(results)
    by_kpi: dict[str, list[dict]] = {}
    for r in rows:
        by_kpi.setdefault(r.get("kpi", "?"), []).append(r)
    protocols = _study_protocols(results)
    by_design = {m.kpi: m.not_measured_reason for p in protocols.values() if p for m in p.kpis
                 if m.candidate is None}
    measured = set()
    for kpi, rs in by_kpi.items():
        unit, desc, kind, _ = _kpi_info(kpi)
        unit = rs[0].get("unit") or unit
        if all(_no_stats(r) for r in rs):
            sec.not_measured.append((kpi, by_design.get(kpi) or _kpi_missing_reason(results, kpi)))
            continue
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, unit, desc, kind,
                                    [(r.get("candidate", "?"), agreement_sentences(r, kind)) for r in rs]))
    cat_by_kpi: dict[str, list[dict]] = {}
    for c in _pooled(results.get("categorical") or []):
        cat_by_kpi.setdefault(c.get("kpi", "?"), []).append(c)
    for kpi, cs in cat_by_kpi.items():
        _, desc, _, _ = _kpi_info(kpi)
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, "", desc, "categorical",
                                    [(c.get("candidate", "?"), [kappa_sentence(c)]) for c in cs]))
    measured |= {k for k, _ in sec.not_measured}
    # KPIs the protocols of this study report but that have no agreement: say so, with the reason
    for pname, proto in protocols.items():
        if proto is None:
            sec.not_measured.append((pname, "unknown protocol: its KPIs cannot be listed"))
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


def bland_altman_section(results: dict) -> Section:
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
    by_design = {m.kpi for p in _study_protocols(results).values() if p for m in p.kpis if m.candidate is None}
    for kpi, rs in by_kpi.items():
        panels = []
        for r in rs:
            ref, est = _pairs(results, kpi, r.get("candidate_name", r.get("candidate")), protocol=r.get("protocol"))
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
    return sec


def icc_section(results: dict) -> Section:
    sec = Section("icc", "ICC across candidates (forest plot)")
    rows = [r for r in _agreement_all(results) if r.get("icc") is not None]
    if not rows:
        sec.blocks.append(NotMeasured("no ICC in these results"))
        return sec
    rows.sort(key=lambda r: (r.get("kpi", ""), r.get("candidate", "")))
    sec.blocks.append(Figure(F.icc_forest_figure(rows)))
    sec.blocks.append(Table(
        ["KPI", "candidate", "type", "ICC", "95% CI", "Koo & Li (on the CI)", "CCC", "n"],
        [[r.get("kpi"), r.get("candidate"), r.get("icc_type", "ICC"), number(r.get("icc"), 2),
          f"{number(r.get('icc_ci_low'), 2)} to {number(r.get('icc_ci_high'), 2)}",
          koo_li_on_ci(r.get("icc_ci_low"), r.get("icc_ci_high")) or "n/a", number(r.get("ccc"), 2),
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


def stabilogram_section(results: dict, figures_data: dict | None) -> Section:
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


def time_series_section(results: dict, figures_data: dict | None) -> Section:
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
    for t in results.get("trials") or []:
        a = t.get("alignment")
        if not isinstance(a, dict):
            continue
        err = a.get("offset_error_s")
        if err is None and a.get("offset_s") is not None and a.get("true_offset_s") is not None:
            err = a["offset_s"] - a["true_offset_s"]
        rows.append([t.get("trial_id"), t.get("candidate"), a.get("method", ""), number(a.get("offset_s")),
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


def ttf_section(results: dict) -> Section:
    sec = Section("time-to-failure", "Time-to-failure")
    rows, classes = [], []
    for t in results.get("trials") or []:
        for k in t.get("kpis") or []:
            if k.get("kpi") != "time_to_failure":
                continue
            unit = k.get("unit") or "s"
            cens = bool(k.get("censored"))
            ref, cand = k.get("reference"), k.get("candidate")

            def show(v, side_censored):
                return (f"≥ {with_unit(v, unit)} (censored)" if side_censored and v is not None
                        else with_unit(v, unit))
            rc = k.get("censored_reference", k.get("reference_censored", cens))
            cc = k.get("censored_candidate", k.get("candidate_censored", cens))
            diff = (cand - ref) if isinstance(ref, (int, float)) and isinstance(cand, (int, float)) else None
            rows.append([t.get("trial_id"), t.get("candidate"), t.get("condition", ""), show(ref, rc),
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


def strategy_section(results: dict) -> Section:
    sec = Section("strategy", "Categorical KPIs (balance strategy): confusion matrix and kappa")
    cats = [c for c in results.get("categorical") or [] if isinstance(c, dict)]
    pooled = _pooled(cats)
    for kpi in dict.fromkeys(c.get("kpi", "?") for c in pooled):
        mine = [c for c in pooled if c.get("kpi") == kpi]
        for c in mine:
            sec.blocks.append(Paragraph(f"{kpi} — {c.get('candidate')}: {kappa_sentence(c)}"))
        figs = [F.confusion_figure(kpi, c.get("candidate", "?"), list(c["labels"]), c["confusion"])
                for c in mine if c.get("confusion") and c.get("labels")]
        if figs:
            sec.blocks.append(FigureRow(figs))
    per_condition = [c for c in cats if c.get("condition", "all") != "all"]
    if per_condition:
        sec.blocks.append(Table(
            ["KPI", "condition", "candidate", "kappa", "95% CI", "n"],
            [[c.get("kpi"), c.get("condition"), c.get("candidate"), number(c.get("kappa"), 2),
              f"{number(c.get('kappa_ci_low'), 2)} to {number(c.get('kappa_ci_high'), 2)}", c.get("n")]
             for c in per_condition], caption="Kappa per condition"))
    if not cats:
        sec.blocks.append(NotMeasured("no categorical KPI (e.g. hip vs ankle strategy) in these results"))
    return sec


def device_section(results: dict) -> Section:
    sec = Section("device", "On-device cost: latency, memory, energy")
    recs = [r for r in results.get("device") or [] if isinstance(r, dict)]
    cand_by_sha = {c.get("model_sha256"): c.get("name") for c in results.get("candidates") or []
                   if c.get("model_sha256")}
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


def size_accuracy_section(results: dict) -> Section:
    sec = Section("size-accuracy", "Model size against accuracy")
    sizes = {c.get("name"): c for c in results.get("candidates") or [] if c.get("model_bytes")}
    by_kpi: dict[str, list[dict]] = {}
    for r in _agreement_all(results):
        c = sizes.get(r.get("candidate"))
        if c is None or r.get("mae") is None:
            continue
        by_kpi.setdefault(r["kpi"], []).append({"candidate": r["candidate"], "model_mb": c["model_bytes"] / 1e6,
                                                "precision": c.get("precision"), "mae": r["mae"],
                                                "mae_ci_low": r.get("mae_ci_low"), "mae_ci_high": r.get("mae_ci_high"),
                                                "unit": r.get("unit") or ""})
    if by_kpi:
        sec.blocks.append(Figure(F.size_accuracy_figure(dict(list(by_kpi.items())[:4]))))
    if not by_kpi:
        sec.blocks.append(NotMeasured("needs model sizes and MAE of at least one candidate"))
    elif len(by_kpi) > 4:
        sec.blocks.append(Paragraph(f"{len(by_kpi) - 4} further KPI(s) not plotted; see agreement.csv."))
    return sec


def agreement_table_section(results: dict) -> Section:
    sec = Section("agreement-table", "Agreement statistics (all conditions)")
    allrows = [r for r in results.get("agreement") or [] if isinstance(r, dict)]
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


def candidate_only_section(results: dict) -> Section:
    """KPI values of trials without a gold standard: shown, clearly labelled, never mixed into agreement."""
    sec = Section("candidate-only", "Candidate-only trials (no gold standard)")
    trials = [t for t in results.get("trials") or [] if isinstance(t, dict) and t.get("kind") == "candidate-only"]
    if not trials:
        sec.blocks.append(NotMeasured("no candidate-only trials in this study"))
        return sec
    sec.blocks.append(Paragraph("These trials have video but no force plate or motion capture: the values below "
                                "are the candidates' own estimates and cannot be checked against a reference. "
                                "They are not part of any agreement statistic or gate."))
    rows = []
    for t in trials:
        for k in t.get("kpis") or []:
            if k.get("candidate") is None and not k.get("candidate_status"):
                continue
            value = (with_unit(k["candidate"], k.get("unit") or "") if k.get("candidate") is not None
                     else f"not measured: {k.get('candidate_status')}")
            rows.append([t.get("trial_id"), t.get("candidate"), t.get("condition", ""), k.get("kpi"), value,
                         k.get("candidate_method") or ""])
    if rows:
        sec.blocks.append(Table(["trial", "candidate", "condition", "KPI", "candidate value", "method"], rows,
                                caption="Candidate-only values (no gold standard)"))
    else:
        sec.blocks.append(NotMeasured("the candidate-only trials produced no KPI values"))
    return sec


def trials_section(results: dict) -> Section:
    sec = Section("trials", "Trials")
    trials = [t for t in results.get("trials") or [] if isinstance(t, dict)]
    if not trials:
        sec.blocks.append(NotMeasured("no trials in these results"))
        return sec
    names = _candidate_names(results)
    counts = [[n, sum(t.get("candidate") == n and t.get("status", "ok") == "ok" for t in trials),
               sum(t.get("candidate") == n and t.get("status") == "failed" for t in trials),
               sum(t.get("candidate") == n and t.get("status") == "refused" for t in trials)] for n in names]
    sec.blocks.append(Table(["candidate", "ok", "failed", "refused"], counts, caption="Trials per candidate"))
    bad = [t for t in trials if t.get("status", "ok") != "ok"]
    if bad:
        sec.blocks.append(Table(["trial", "candidate", "status", "reason"],
                                [[t.get("trial_id"), t.get("candidate"), t.get("status"), t.get("reason") or ""]
                                 for t in bad], caption="Trials that did not produce KPIs, and why",
                                row_classes=["failed"] * len(bad)))
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
    ("ICC interpretation", "Poor < 0.5, moderate 0.5–0.75, good 0.75–0.9, excellent > 0.9, applied to both ends "
     "of the 95% CI.", KOO_LI_2016),
    ("Concordance correlation", "Lin's CCC with its confidence interval.",
     "Lin LI. A concordance correlation coefficient to evaluate reproducibility. Biometrics. 1989;45(1):255-268."),
    ("Categorical agreement", "Cohen's kappa (unweighted unless stated) with confusion matrix; descriptors of "
     "Landis & Koch.", "Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas. "
     "1960;20(1):37-46. " + LANDIS_KOCH_1977),
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


def methods_section(results: dict) -> MethodsSection:
    sec = MethodsSection("methods", "Methods and conventions")
    sec.entries = list(_METHODS)
    kpis = list(dict.fromkeys([r.get("kpi") for r in results.get("agreement") or []] +
                              [c.get("kpi") for c in results.get("categorical") or []]))
    for k in kpis:
        try:
            from protocols import get_kpi
            info = get_kpi(k)
            sec.entries.append((f"KPI {k} [{info.unit or 'label'}]", info.definition, info.citation))
        except (InputError, ImportError):
            sec.entries.append((f"KPI {k}", "not a KPI of the stancebench registry; see the study's own "
                                "definition", ""))
    for p, proto in _study_protocols(results).items():
        if proto is None:
            sec.entries.append((f"Protocol {p}", "not a built-in protocol, and its definition is not in the "
                                "results", ""))
            continue
        rules = "; ".join(r.description for r in proto.stopping_rules)
        sec.entries.append((f"Protocol {proto.title}", f"{proto.description} Stopping rules: {rules}.",
                            proto.citation))
    methods = sorted({t.get("alignment", {}).get("method") for t in results.get("trials") or []
                      if isinstance(t.get("alignment"), dict) and t["alignment"].get("method")})
    if methods:
        sec.entries.append(("Clock alignment", "t_ref = t_video + offset (+ drift·t_video), estimated per trial by "
                            "normalised cross-correlation of a signal both sides observe with sub-sample "
                            "refinement, or from matched events; unreliable estimates refuse the trial. Methods "
                            "used: " + "; ".join(methods) + ".",
                            "Knapp CH, Carter GC. The generalized correlation method for estimation of time delay. "
                            "IEEE Trans Acoust Speech Signal Process. 1976;24(4):320-327."))
    return sec


def provenance_section(results: dict) -> Section:
    sec = Section("provenance", "Provenance")
    study = results.get("study") or {}
    rows = [[k, str(study.get(k)) if study.get(k) is not None else "n/a"]
            for k in ("name", "kind", "manifest", "seed", "created_utc")]
    rows.append(["results schema_version", str(results.get("schema_version", "n/a"))])
    sec.blocks.append(Table(["item", "value"], rows, caption="Study"))
    sw = study.get("software") or {}
    if sw:
        sec.blocks.append(Table(["software", "version"], [[k, str(v)] for k, v in sw.items()],
                                caption="Software versions"))
    else:
        sec.blocks.append(NotMeasured("software versions were not recorded", what="software"))
    files = (results.get("provenance") or {}).get("files") or []
    if files:
        sec.blocks.append(Table(["role", "file", "sha256"],
                                [[f.get("role", ""), f.get("path", ""), f.get("sha256", "")] for f in files],
                                caption="Input files and their SHA-256"))
    else:
        sec.blocks.append(NotMeasured("no input files recorded", what="files"))
    cands = results.get("candidates") or []
    if cands:
        sec.blocks.append(Table(["candidate", "kind", "precision", "runtime", "model bytes", "model sha256",
                                 "baseline"],
                                [[c.get("name"), c.get("kind"), c.get("precision"), c.get("runtime"),
                                  number(c.get("model_bytes")), c.get("model_sha256") or "", "yes" if c.get("baseline")
                                  else ""] for c in cands], caption="Candidates"))
    manifest = (results.get("provenance") or {}).get("manifest")
    if manifest:
        import json
        sec.blocks.append(Preformatted("Study manifest as run", json.dumps(manifest, indent=2, default=str)))
    return sec


def licences_section(results: dict) -> Section:
    sec = Section("licences", "Data licences")
    lic = (results.get("provenance") or {}).get("licences") or []
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
        return Section(sec_id, title, [NotMeasured(f"section could not be rendered: {type(exc).__name__}: {exc}")])


def build_sections(results: dict, figures_data: dict | None = None) -> list[Section]:
    """The report's sections, in reading order (verdict first)."""
    fd = figures_data if figures_data is not None else results.get("figures_data")
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


def render_html(results: dict, *, figures_data: dict | None = None) -> str:
    """The report as an HTML string (see :func:`build_report`)."""
    validate_type(results, dict, "results")
    env = environment()
    sections = build_sections(results, figures_data)
    body = [env.get_template(s.template).render(**s.context()) for s in sections]
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study = results.get("study") or {}
    return env.get_template("base.html.j2").render(
        title=f"stancebench report — {study.get('name') or 'study'}", study=study, css=css,
        toc=[(s.id, s.title) for s in sections], body=body)


def build_report(results: dict, out_path: str | PathLike, *, figures_data: dict | None = None) -> Path:
    """Write the self-contained HTML validation report.

    Parameters
    ----------
    results : dict
        Parsed ``results.json`` (docs/results-schema.md). Any section may be missing or empty: the report then
        says "not measured: <reason>" in its place.
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
    text = render_html(results, figures_data=figures_data)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
