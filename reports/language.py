"""Plain-language sentences for clinical readers: bias and limits of agreement in the KPI's units, Koo & Li words
applied to the ICC's confidence interval, kappa words (Landis & Koch 1977)."""
from __future__ import annotations

import math

KOO_LI_2016 = ("Koo TK, Li MY. A guideline of selecting and reporting intraclass correlation coefficients for "
               "reliability research. J Chiropr Med. 2016;15(2):155-163.")
LANDIS_KOCH_1977 = ("Landis JR, Koch GG. The measurement of observer agreement for categorical data. Biometrics. "
                    "1977;33(1):159-174.")


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


def koo_li_word(icc: float | None) -> str | None:
    """Koo & Li (2016): below 0.5 poor, 0.5 to below 0.75 moderate, 0.75 to 0.9 good, above 0.9 excellent."""
    if icc is None or not math.isfinite(icc):
        return None
    return "poor" if icc < 0.5 else "moderate" if icc < 0.75 else "good" if icc <= 0.9 else "excellent"


def koo_li_on_ci(low: float | None, high: float | None) -> str | None:
    """Koo & Li's words applied to both ends of the 95% CI, as they recommend ("good to excellent")."""
    a, b = koo_li_word(low), koo_li_word(high)
    if a is None or b is None:
        return None
    return a if a == b else f"{a} to {b}"


def landis_koch_word(kappa: float | None) -> str | None:
    """Landis & Koch (1977) descriptors of kappa."""
    if kappa is None or not math.isfinite(kappa):
        return None
    for limit, word in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= limit:
            return word
    return "almost perfect"


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
            s += (f" Allowing for the uncertainty of a study of this size, that range could be as wide as "
                  f"{with_unit(wlo, unit)} to {with_unit(whi, unit)}: judge whether a difference that large "
                  f"would change a clinical decision.")
        out.append(s)
    icc, icl, ich = row.get("icc"), row.get("icc_ci_low"), row.get("icc_ci_high")
    if icc is not None:
        words = koo_li_on_ci(icl, ich)
        s = f"{row.get('icc_type') or 'ICC'} = {number(icc, 2)}"
        if icl is not None and ich is not None:
            s += f" (95% CI {number(icl, 2)} to {number(ich, 2)})"
        if words:
            s += (f": by Koo & Li's guideline, applied to the confidence interval, the reliability is {words}.")
        else:
            s += "."
        out.append(s)
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
    k, lo, hi = row.get("kappa"), row.get("kappa_ci_low"), row.get("kappa_ci_high")
    word = landis_koch_word(k)
    s = f"Cohen's kappa = {number(k, 2)}"
    if lo is not None and hi is not None:
        s += f" (95% CI {number(lo, 2)} to {number(hi, 2)})"
    if word:
        s += f": {word} agreement beyond chance (Landis & Koch 1977)"
    s += f", over {row.get('n', 'n/a')} trial(s)."
    # why kappa or its interval is missing (refused, a rater with one label, truncated CI)
    return s + (f" Note: {row['note']}." if row.get("note") else "")
