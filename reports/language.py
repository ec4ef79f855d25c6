"""Plain-language sentences for clinical readers: bias and limits of agreement in the KPI's units, and the
readings of ICC and kappa that the results rows carry.

The readings ("good to excellent", "substantial") and their scales are NOT computed here: ``reports`` may not
import ``harness``, so the rows of ``results.json`` carry them (``icc_reading``, ``icc_reading_source``,
``icc_reading_scale``; ``kappa_reading``, ...), worded by the one vocabulary of
``harness.agreement.interpret`` (Koo & Li 2016 on the ICC's CI, Landis & Koch 1977 for kappa). This module
only puts them into sentences, so the CLI, the results and the report cannot disagree."""
from __future__ import annotations

import math


def number(x, digits: int = 3) -> str:
    """Short number: ``digits`` significant digits, thousands separated, 'n/a' for missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)  # not a number: shown as given rather than failing the whole report
    if isinstance(x, int):
        return f"{x:,}"
    ax = abs(x)
    if ax >= 10 ** digits:
        return f"{x:,.0f}"
    text = f"{x:.{digits}g}"
    if "e" in text:  # no scientific notation for clinical readers: 0.0000557 rather than 5.57e-05
        text = f"{x:.{digits - 1 - int(math.floor(math.log10(ax)))}f}"
    return text


def with_unit(x, unit: str) -> str:
    s = number(x)
    if s == "n/a" or not unit:
        return s
    return f"{s}{unit}" if unit in ("%", "°") else f"{s} {unit}"


def _scale(row: dict, stat: str) -> dict:
    """The row's ``<stat>_reading_scale`` (name, applied_to, rule, bands), or {} when the results lack it."""
    scale = row.get(f"{stat}_reading_scale")
    return scale if isinstance(scale, dict) else {}


def icc_reading_clause(row: dict) -> str:
    """``": by the guideline of Koo & Li (2016), applied to ..., the reliability is good to excellent"``, or ""
    when the row carries no reading (results written before the readings existed)."""
    reading = row.get("icc_reading")
    if not reading:
        return ""
    scale = _scale(row, "icc")
    name = scale.get("name") or row.get("icc_reading_source") or "the results' guideline"
    applied = f", applied to {scale['applied_to']}" if scale.get("applied_to") else ""
    return f": by the guideline of {name}{applied}, the reliability is {reading}"


def kappa_reading_clause(row: dict) -> str:
    """``": by the scale of Landis & Koch (1977), the strength of agreement is substantial"``, or ""."""
    reading = row.get("kappa_reading")
    if not reading:
        return ""
    name = _scale(row, "kappa").get("name") or row.get("kappa_reading_source") or "the results' scale"
    return f": by the scale of {name}, the strength of agreement is {reading}"


def reading_methods(rows: list[dict], stat: str, title: str) -> list[tuple[str, str, str]]:
    """Methods entries ``(title, text, reference)`` for the scales the rows were read with (usually one)."""
    out = []
    for row in rows:
        scale = _scale(row, stat)
        if not scale.get("rule"):
            continue
        applied = f", applied to {scale['applied_to']}" if scale.get("applied_to") else ""
        entry = (title, f"{scale.get('name', '')}{applied}: {scale['rule']}.",
                 row.get(f"{stat}_reading_source") or "")
        if entry not in out:
            out.append(entry)
    return out


def agreement_sentences(row: dict, kind: str = "continuous") -> list[str]:
    """Plain sentences for one agreement row (docs/results-schema.md ``agreement[]``)."""
    unit = row.get("unit") or ""
    cand = row.get("candidate", "the candidate")
    out = []
    if all(row.get(k) is None for k in ("bias", "loa_lower", "icc", "mae")):
        return [f"Not measured: {row.get('note') or 'no agreement statistics for this KPI'}."]
    bias = row.get("bias")
    if bias is not None and math.isfinite(bias):
        direction = "higher" if bias > 0 else "lower" if bias < 0 else "the same as"
        amount = with_unit(abs(bias), unit) + " " if bias != 0 else ""
        ci = ""
        if row.get("bias_ci_low") is not None and row.get("bias_ci_high") is not None:
            ci = (f" (95% confidence interval {with_unit(row['bias_ci_low'], unit)} to "
                  f"{with_unit(row['bias_ci_high'], unit)}")
            ci += "; this includes zero, so no systematic difference was shown)" if (
                row["bias_ci_low"] <= 0 <= row["bias_ci_high"]) else ")"
        out.append(f"On average {cand} reads {amount}{direction} than the reference{ci}.")
    lo, hi = row.get("loa_lower"), row.get("loa_upper")
    if lo is not None and hi is not None:
        mult = row.get("multiplier") or 1.96
        share = "95%" if abs(mult - 1.96) < 0.01 else f"about 95% (±{number(mult)} SD)"
        s = (f"For {share} of measurements, {cand}'s value lies between {with_unit(lo, unit)} and "
             f"{with_unit(hi, unit)} of the reference value (limits of agreement).")
        wlo, whi = row.get("loa_lower_ci_low"), row.get("loa_upper_ci_high")
        if wlo is not None and whi is not None:
            # the pair bounds (Carkeet 2015) are a tolerance statement about the band, not a CI of each limit
            pair = (f" (with 97.5% confidence at least {share} of differences lie within it; Carkeet's exact "
                    f"bounds for the two limits as a pair)" if row.get("loa_ci_method") == "exact-pair" else "")
            s += (f" Allowing for the uncertainty of a study of this size, that range could be as wide as "
                  f"{with_unit(wlo, unit)} to {with_unit(whi, unit)}{pair}: judge whether a difference that large "
                  f"would change a clinical decision.")
        out.append(s)
    icc, icl, ich = row.get("icc"), row.get("icc_ci_low"), row.get("icc_ci_high")
    if icc is not None:
        s = f"{row.get('icc_type') or 'ICC'} = {number(icc, 2)}"
        if icl is not None and ich is not None:
            s += f" (95% CI {number(icl, 2)} to {number(ich, 2)})"
        out.append(s + icc_reading_clause(row) + ".")
        if icl is not None and icl <= 0:
            # an interval reaching zero includes no agreement at all: say it as a finding, in plain words
            out.append(f"With these data the study cannot show that {cand} measures this at all: the 95% "
                       f"interval of the ICC reaches zero, which means no agreement with the reference.")
    if row.get("mae") is not None:
        out.append(f"The typical size of the error (mean absolute difference) is {with_unit(row['mae'], unit)}.")
    if kind == "censored" or row.get("n_censored"):
        out.append(f"{row.get('n_censored') or 0} trial(s) reached the maximum duration (censored: the true time "
                   f"is at least that long) and are counted separately, not as exact times.")
    n, ns = row.get("n"), row.get("n_subjects")
    if n is not None:
        out.append(f"Based on {n} paired trial(s)" + (f" from {ns} subject(s)." if ns is not None else "."))
    return out


def kappa_sentence(row: dict) -> str:
    """Kappa, its CI, the row's ``kappa_reading`` and n, in one sentence."""
    k, lo, hi = row.get("kappa"), row.get("kappa_ci_low"), row.get("kappa_ci_high")
    s = f"Cohen's kappa = {number(k, 2)}"
    if lo is not None and hi is not None:
        s += f" (95% CI {number(lo, 2)} to {number(hi, 2)})"
    s += kappa_reading_clause(row) + f", over {row.get('n', 'n/a')} trial(s)."
    if lo is not None and lo <= 0:
        s += " The interval reaches zero: agreement beyond chance is not shown with these data."
    # why kappa or its interval is missing (refused, a rater with one label, truncated CI)
    return s + (f" Note: {row['note']}." if row.get("note") else "")
