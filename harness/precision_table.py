"""Precision and sample size per candidate × KPI (issue 11, item 4): the results' ``precision`` section.

:func:`precision_section` reads the pooled agreement rows (``condition`` "all"; control candidates left out: they
check the harness, they are no model to ship) and states, for each candidate × KPI × protocol, how wide the CIs
the study achieved are, and how many subjects (and trials per subject) a study would need for a target width:

- **ICC**: Bonett (2002) at the observed ICC, k = 2 ratings (candidate and reference) per target, for a 95% CI
  of full width ``icc_width`` (:func:`harness.agreement.icc_sample_size`). The study's ICC takes every trial as
  a target, so with several trials per subject the plan's n counts trials of distinct subjects: a lower bound.
- **Limits of agreement**: subjects for a CI of each limit with half-width ``loa_half_width_sd`` × the observed SD
  of the differences (:func:`harness.agreement.loa_precision_sample_size`, the same interval the row reports;
  a replicate row's MOVER interval has no such plan, so the exact interval stands in and the note says so). With
  several trials per subject the plan goes through the design effect (:func:`harness.agreement.with_replicates`,
  Kish 1965) at the row's within-subject correlation of the differences, or at 0 (every trial as good as a
  subject: the most optimistic case) when the row has none, which is stated.

A plan that cannot be made (no ICC, an ICC outside the range Bonett's formula accepts, no SD) is kept as null
with ``*_plan_status`` = "not computable: <reason>".
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from ground_truth.kernel import InputError
from harness.agreement import (icc_ci_width, icc_sample_size, loa_precision_sample_size, with_replicates)
from harness.agreement.sample_size_loa import LOA_PRECISION_METHODS
from harness.results.rows import CONTROL_KINDS

#: Defaults of the targets (manifest ``[settings]`` precision_icc_width, precision_loa_half_width_sd).
ICC_WIDTH = 0.2
LOA_HALF_WIDTH_SD = 0.5
#: The interval a replicate row's plan uses in place of MOVER (which has no closed form to plan with).
FALLBACK_LOA_METHOD = "exact"
TARGETS_SOURCE = ("ICC: Bonett DG (2002) Stat Med 21:1331-1335; limits of agreement: the CI of each limit as "
                  "bland_altman reports it (docs/sample-size.md); replicates: Kish (1965) design effect")


def _number(x: Any) -> float | None:
    """A finite float, or None (missing, NaN, not a number; a bool is no number)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _diff(hi: Any, lo: Any) -> float | None:
    hi, lo = _number(hi), _number(lo)
    return None if hi is None or lo is None else hi - lo


def _controls(results: dict) -> set[str]:
    return {c.get("name") for c in results.get("candidates") or []
            if isinstance(c, dict) and c.get("control") in CONTROL_KINDS}


def _icc_plan(row: dict, out: dict, width: float, confidence: float) -> None:
    icc = _number(row.get("icc"))
    if icc is None:
        why = "the agreement row has no finite ICC" + (f" ({row['note']})" if row.get("note") else "")
        out["icc_plan_status"] = f"not computable: {why}"
        return
    try:
        plan = icc_sample_size(icc, width, raters=2, confidence=confidence)
    except InputError as exc:
        out["icc_plan_status"] = f"not computable: {exc.reason}"
        return
    if out["n"] is not None and out["n"] >= 2:
        expected = icc_ci_width(icc, out["n"], raters=2, confidence=confidence)
        out["icc_ci_width_expected"] = expected if math.isfinite(expected) else None
    d = plan.to_dict()
    if (out["trials_per_subject"] or 1) > 1:
        d["note"] = "; ".join(x for x in (d["note"], (
            "the study's ICC takes every trial as a target, so n counts trials of distinct subjects; repeated "
            "trials of one subject are correlated and count for less")) if x)
    out["icc_plan"] = d


def _loa_plan(row: dict, out: dict, half_width_sd: float, confidence: float) -> None:
    sd = _number(row.get("sd"))
    if sd is None or sd <= 0:
        out["loa_plan_status"] = "not computable: the agreement row has no positive SD of the differences"
        return
    method = row.get("loa_ci_method")
    notes = []
    if method not in LOA_PRECISION_METHODS:
        notes.append(f"planned with the {FALLBACK_LOA_METHOD} interval of one pair per subject (the row's "
                     f"{method or 'unnamed'} interval has no plan)")
        method = FALLBACK_LOA_METHOD
    multiplier = _number(row.get("multiplier")) or 1.96
    try:
        plan = loa_precision_sample_size(sd, half_width_sd * sd, confidence=confidence, method=method,
                                         multiplier=multiplier)
        m = out["trials_per_subject"] or 1
        if m > 1:
            trials = max(1, round(m))
            rho = _number(row.get("within_correlation"))
            out["within_correlation_source"] = "agreement row"
            if rho is None:
                rho = 0.0
                out["within_correlation_source"] = ("assumed 0 (not in the agreement row): every trial counts as "
                                                    "a subject, the most optimistic case")
            out["within_correlation"] = rho
            if trials != m:
                notes.append(f"{m:.3g} trials per subject on average, planned as {trials}")
            plan = with_replicates(plan, trials, rho)
    except InputError as exc:
        out["loa_plan_status"] = f"not computable: {exc.reason}"
        return
    d = plan.to_dict()
    d["note"] = "; ".join(x for x in (d["note"], *notes) if x)
    out["loa_plan"] = d


def _row(r: dict, icc_width: float, loa_half_width_sd: float) -> dict[str, Any]:
    n, n_subj = r.get("n"), r.get("n_subjects")
    n = n if isinstance(n, int) and not isinstance(n, bool) else None
    n_subj = n_subj if isinstance(n_subj, int) and not isinstance(n_subj, bool) else None
    confidence = _number(r.get("confidence")) or 0.95
    out = {"candidate": r.get("candidate"), "kpi": r.get("kpi"), "protocol": r.get("protocol"),
           "condition": "all", "unit": r.get("unit"), "n": n, "n_subjects": n_subj,
           "trials_per_subject": n / n_subj if n and n_subj else None, "confidence": confidence,
           "icc_type": r.get("icc_type"), "icc": _number(r.get("icc")), "icc_ci_low": _number(r.get("icc_ci_low")),
           "icc_ci_high": _number(r.get("icc_ci_high")), "icc_ci_width": _diff(r.get("icc_ci_high"),
                                                                              r.get("icc_ci_low")),
           "icc_ci_width_expected": None, "sd": _number(r.get("sd")), "multiplier": _number(r.get("multiplier")),
           "loa_ci_method": r.get("loa_ci_method"),
           **{k: _number(r.get(k)) for k in ("loa_lower_ci_low", "loa_lower_ci_high", "loa_upper_ci_low",
                                             "loa_upper_ci_high")},
           "loa_lower_ci_width": _diff(r.get("loa_lower_ci_high"), r.get("loa_lower_ci_low")),
           "loa_upper_ci_width": _diff(r.get("loa_upper_ci_high"), r.get("loa_upper_ci_low")),
           "icc_plan": None, "icc_plan_status": "ok", "loa_plan": None, "loa_plan_status": "ok",
           "within_correlation": None, "within_correlation_source": None}
    _icc_plan(r, out, icc_width, confidence)
    _loa_plan(r, out, loa_half_width_sd, confidence)
    return out


def _g(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _sentence(rows: list[dict], icc_width: float, half_sd: float) -> str:
    """The report's first sentence, on the first row whose ICC plan could be made (else the first row)."""
    if not rows:
        return "No candidate has agreement statistics for a KPI (controls are left out), so there is no precision " \
               "to state."
    r = next((x for x in rows if x["icc_plan"]), rows[0])
    level = f"{100 * r['confidence']:g}%"
    who = f"{r['kpi']} for {r['candidate']}"
    subj = r["n_subjects"] if r["n_subjects"] is not None else r["n"]
    size = f"With {subj} subjects" + (f" ({r['n']} trials)" if r["n"] and subj and r["n"] != subj else "")
    parts = []
    if r["icc_plan"] and r["icc_ci_width"] is not None:
        need = r["icc_plan"]["n"]
        done = subj is not None and need <= subj
        parts.append(f"{size} the {level} CI of the ICC of {who} is {r['icc_ci_width']:.2f} wide "
                     f"({r['icc_ci_low']:.2f} to {r['icc_ci_high']:.2f}); "
                     + (f"already within the target of {icc_width:g} (Bonett 2002 asks for about {need} subjects)"
                        if done else f"about {need} subjects would narrow it to {icc_width:g} wide (Bonett 2002)"))
    else:
        parts.append(f"{size} the ICC of {who} has no sample-size plan ({r['icc_plan_status']})")
    if r["loa_plan"] and r["sd"] is not None:
        unit = f" {r['unit']}" if r["unit"] else ""
        width = max((w for w in (r["loa_lower_ci_width"], r["loa_upper_ci_width"]) if w is not None), default=None)
        now = f"is {_g(width)}{unit} wide (±{_g(width / 2)})" if width is not None else "is not reported"
        trials = r["loa_plan"]["trials"]
        parts.append(f"the {level} CI of each limit of agreement {now}; about {r['loa_plan']['n']} subjects"
                     + (f" with {trials} trials each" if trials > 1 else "")
                     + f" would pin each limit to ±{half_sd:g} SD (±{_g(half_sd * r['sd'])}{unit})")
    return "; ".join(parts) + "."


def precision_section(results: dict, *, icc_width: float = ICC_WIDTH,
                      loa_half_width_sd: float = LOA_HALF_WIDTH_SD) -> dict | None:
    """The results' ``precision`` section from a results dictionary (docs/report.md, "Precision and sample size").

    Parameters
    ----------
    results : dict
        A results dictionary with ``agreement`` rows (and ``candidates``, to leave the controls out).
    icc_width : float
        Target full width of the ICC's CI (upper − lower bound), in (0, 2].
    loa_half_width_sd : float
        Target half-width of each limit of agreement's CI, in units of the observed SD of the differences (> 0).

    Returns
    -------
    dict or None
        ``{"status", "sentence", "targets", "rows", "notes"}`` (:class:`harness.results.precision.PrecisionSection`)
        or None when the results have no agreement rows at all (nothing to state).

    Raises
    ------
    InputError
        A target out of range (naming ``icc_width`` / ``loa_half_width_sd``).

    Notes
    -----
    How to read it: the achieved widths are what this study can claim; the plans say how many subjects would make
    the CI as narrow as the target, at the ICC and SD this study observed (a pilot's estimates: the next study's
    will scatter around them, so treat n as a guide, not a guarantee). Bonett's n makes the interval *on average*
    no wider than the target, and is a lower bound for ICC(A,1) (docs/sample-size.md). A plan that cannot be made
    says why instead of a number.
    """
    w = _number(icc_width)
    if w is None or not 0 < w <= 2:
        raise InputError(f"icc_width is {icc_width!r}", field="icc_width",
                         expected="the full width of an ICC's CI, above 0 and at most 2")
    h = _number(loa_half_width_sd)
    if h is None or h <= 0:
        raise InputError(f"loa_half_width_sd is {loa_half_width_sd!r}", field="loa_half_width_sd",
                         expected="a half-width in units of the SD of the differences, above 0")
    agreement = [r for r in results.get("agreement") or [] if isinstance(r, dict)]
    if not agreement:
        return None
    controls = _controls(results)
    pooled = [r for r in agreement if (r.get("condition") or "all") == "all" and r.get("candidate") not in controls]
    rows = [_row(r, w, h) for r in pooled]
    notes = []
    left = sorted({str(r.get("candidate")) for r in agreement if r.get("candidate") in controls})
    if left:
        notes.append(f"control candidate(s) left out: {', '.join(left)}")
    return {"status": "ok" if rows else "no pooled agreement row of a candidate",
            "sentence": _sentence(rows, w, h),
            "targets": {"icc_width": w, "loa_half_width_sd": h, "source": TARGETS_SOURCE},
            "rows": rows, "notes": notes}
