"""Report figures: matplotlib drawings returned as embedded PNG data URIs with alt text.

Figures are built on ``matplotlib.figure.Figure`` objects with the Agg canvas, never through pyplot: nothing is
registered in pyplot's global figure list, so nothing leaks between reports or threads, and each figure is
cleared and dropped right after it is encoded (:func:`_encode`). Colours are the Okabe-Ito colour-blind-safe
palette (Okabe & Ito 2008); lines also differ by style so that grey-scale prints stay readable.
"""
from __future__ import annotations

import base64
import io
import math
import textwrap
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Okabe & Ito (2008) colour-universal-design palette (black last).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
REFERENCE_COLOR = "#000000"
DPI = 96


@dataclass(frozen=True)
class FigureImage:
    """An encoded figure: ``src`` is a ``data:image/png;base64,...`` URI (no external request), ``alt`` the text a
    screen reader reads, ``caption`` what is printed under it."""

    src: str
    alt: str
    caption: str = ""
    width_px: int = 0


def color(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _new(width_in: float, height_in: float, nrows: int = 1, ncols: int = 1, *, margins: dict | None = None, **kw):
    """A figure and its axes grid: constrained layout, or fixed ``margins`` (``Figure.subplots_adjust``
    fractions) for grids of many panels, where the constrained solver costs about a second per figure."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout=None if margins else "constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    if margins:
        fig.subplots_adjust(**margins)
    return fig, axes


def _encode(fig: Figure, alt: str, caption: str = "") -> FigureImage:
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        width = int(fig.get_figwidth() * DPI)
        fig.clear()  # release the artists now rather than at garbage collection
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return FigureImage(src=f"data:image/png;base64,{data}", alt=alt, caption=caption, width_px=width)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _style(ax):
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def bland_altman_figure(kpi: str, unit: str, panels: list[dict]) -> FigureImage:
    """Bland-Altman plots of one KPI, one panel per candidate.

    Each panel dict has ``candidate``, ``reference`` and ``estimate`` (paired arrays, may be empty) and the
    agreement row's ``bias``, ``loa_lower``, ``loa_upper`` and their ``*_ci_low``/``*_ci_high`` (may be None),
    plus ``multiplier``. Differences are candidate − reference, stated on the y axis; shaded bands are the 95%
    confidence intervals of the bias and of each limit.
    """
    n = len(panels)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    height = 3.2 * nrows
    # fixed margins in inches: 0.75 in left for the y label, 0.55 in below and 0.35 in above each row
    fig, axes = _new(min(4.2 * ncols, 12.5), height, nrows, ncols, sharey=True,
                     margins={"left": 0.75 / min(4.2 * ncols, 12.5), "right": 0.98, "bottom": 0.55 / height,
                              "top": 1 - 0.35 / height, "wspace": 0.08, "hspace": 0.9 / 3.2})
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    alt_parts = []
    ulab = f" [{unit}]" if unit else ""
    core, bands = [0.0], []  # what must be visible (points, bias, limits) and the CI bands
    for i, (ax, p) in enumerate(zip(axes.flat, panels)):
        ref = np.asarray(p.get("reference", []), float)
        est = np.asarray(p.get("estimate", []), float)
        ok = np.isfinite(ref) & np.isfinite(est)
        mean, diff = (ref[ok] + est[ok]) / 2, est[ok] - ref[ok]
        core.extend(diff.tolist())
        ax.scatter(mean, diff, s=16, color=color(i), alpha=0.8, edgecolor="none", label="trials")
        for key, style, name in (("bias", "-", "bias"), ("loa_lower", "--", "lower limit"),
                                 ("loa_upper", "--", "upper limit")):
            v = p.get(key)
            if v is None:
                continue
            ax.axhline(v, color="#333333", linestyle=style, linewidth=1.2)
            core.append(v)
            lo, hi = p.get(f"{key}_ci_low"), p.get(f"{key}_ci_high")
            if lo is not None and hi is not None:
                bands.extend([lo, hi])
                # bias CI in the candidate's colour, limits' CIs in grey: overlapping bands stay distinguishable
                ax.axhspan(lo, hi, color=color(i) if key == "bias" else "#888888",
                           alpha=0.25 if key == "bias" else 0.15, linewidth=0)
            ax.annotate(f"{name} {_fmt(v)}", xy=(1.0, v), xycoords=("axes fraction", "data"), ha="right",
                        va="bottom", fontsize=7.5, color="#333333")
        ax.axhline(0, color="#999999", linewidth=0.8, linestyle=":")
        ax.set_title(str(p.get("candidate")), fontsize=10)
        ax.set_xlabel(f"mean of reference and candidate{ulab}", fontsize=8.5)
        if i % ncols == 0:
            ax.set_ylabel(f"difference (candidate − reference){ulab}", fontsize=8.5)
        ax.tick_params(labelsize=8)
        _style(ax)
        alt_parts.append(f"{p.get('candidate')}: {int(ok.sum())} paired trials, bias {_fmt(p.get('bias'))}, "
                         f"limits of agreement {_fmt(p.get('loa_lower'))} to {_fmt(p.get('loa_upper'))} {unit}")
    # Small studies have very wide CIs of the limits; scale the axes to the data, bias and limits (with room for
    # moderate bands) so that the points stay readable, and say so when a band runs off the plot.
    lo_c, hi_c = float(np.nanmin(core)), float(np.nanmax(core))
    pad = 0.35 * (hi_c - lo_c or abs(hi_c) or 1.0)
    lo_y, hi_y = lo_c - pad, hi_c + pad
    clipped = any(b < lo_y or b > hi_y for b in bands if b is not None and np.isfinite(b))
    axes[0, 0].set_ylim(lo_y, hi_y)
    caption = (f"Bland-Altman plot of {kpi}; difference = candidate − reference; shaded: 95% CI of the bias "
               f"(coloured) and of the limits (grey)")
    caption += ("; some confidence bands extend beyond the plotted range (few trials)." if clipped else ".")
    alt = (f"Bland-Altman plot of {kpi}: difference (candidate − reference) against the mean of the two, "
           f"with bias and limits of agreement as lines and their 95% confidence intervals as shaded bands. "
           + "; ".join(alt_parts) + ".")
    return _encode(fig, alt, caption)


def icc_forest_figure(rows: list[dict]) -> FigureImage:
    """Forest plot of ICC point estimates with 95% CIs, one line per KPI × candidate, over the bands of the
    interpretation scale the rows carry (``icc_reading_scale``, Koo & Li 2016 from harness.agreement.interpret;
    no bands when the rows carry none: the report holds no thresholds of its own)."""
    n = len(rows)
    fig, axes = _new(7.5, 0.9 + 0.32 * n)
    ax = axes[0, 0]
    scale = next((r["icc_reading_scale"] for r in rows if isinstance(r.get("icc_reading_scale"), dict)), {})
    greys = ("#f2f2f2", "#e6e6e6", "#d9d9d9", "#cccccc", "#bfbfbf", "#b3b3b3")
    lo_x = min([0.0] + [r["icc_ci_low"] for r in rows if r.get("icc_ci_low") is not None])
    for band, g in zip(scale.get("bands") or [], greys):
        # open-ended bands are drawn from 0 (as before: negative bounds stay unshaded) and to 1 (the ICC's maximum)
        a = 0.0 if band.get("low") is None else band["low"]
        b = 1.0 if band.get("high") is None else band["high"]
        ax.axvspan(a, b, color=g, zorder=0)
        ax.text((a + b) / 2, n - 0.4, band.get("reading", ""), ha="center", va="bottom", fontsize=7.5,
                color="#444444")
    cands = list(dict.fromkeys(r["candidate"] for r in rows))
    labels = []
    for j, r in enumerate(rows):
        y = n - 1 - j
        c = color(cands.index(r["candidate"]))
        if r.get("icc_ci_low") is not None and r.get("icc_ci_high") is not None:
            ax.plot([r["icc_ci_low"], r["icc_ci_high"]], [y, y], color=c, linewidth=2)
        if r.get("icc") is not None:
            ax.plot([r["icc"]], [y], marker="o", color=c, markersize=6)
        labels.append(f"{r['kpi']} — {r['candidate']}")
    ax.set_yticks(range(n - 1, -1, -1), labels, fontsize=8)
    ax.set_ylim(-0.7, n + 0.2)
    ax.set_xlim(min(lo_x, 0) - 0.02, 1.02)
    ax.set_xlabel("ICC (point and 95% CI)" + (f"; bands: {scale['name']} interpretation" if scale.get("name")
                                              else ""), fontsize=8.5)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    alt = "ICC forest plot: " + "; ".join(
        f"{r['kpi']} {r['candidate']} {r.get('icc_type', 'ICC')} {_fmt(r.get('icc'))} "
        f"(95% CI {_fmt(r.get('icc_ci_low'))} to {_fmt(r.get('icc_ci_high'))})" for r in rows) + "."
    bands = "/".join(b.get("reading", "") for b in scale.get("bands") or [])
    caption = "ICC with 95% confidence intervals across candidates" + (
        f"; grey bands mark the {bands} ranges of {scale.get('name', 'the scale')}." if bands else ".")
    return _encode(fig, alt, caption)


def stabilogram_figure(title: str, unit: str, reference: dict, estimate: dict, candidate: str) -> FigureImage:
    """Sway of the reference and the candidate: the horizontal path (``{"ml", "ap"}``: ML against AP, equal
    axes), or the displacement of one axis against time (``{"t", "y"}``: what a single camera observes)."""
    if "y" in reference or "y" in estimate:
        return _stabilogram_against_time(title, unit, reference, estimate, candidate)
    fig, axes = _new(4.2, 4.0)
    ax = axes[0, 0]
    rml, rap, cml, cap = _two_lines(ax, reference, estimate, ("ml", "ap"), candidate, 0.8)
    ax.set_aspect("equal", adjustable="datalim")
    u = f" [{unit}]" if unit else ""
    ax.set_xlabel(f"medio-lateral{u}", fontsize=8.5)
    ax.set_ylabel(f"antero-posterior{u}", fontsize=8.5)
    _finish(ax, title, 48)
    alt = (f"Stabilogram {title}: reference path (solid black, {rml.size} samples, ML range {_span(rml, unit)}, AP "
           f"range {_span(rap, unit)}) and {candidate} path (dashed blue, {cml.size} samples, ML range "
           f"{_span(cml, unit)}, AP range {_span(cap, unit)}).")
    return _encode(fig, alt, title)


def _two_lines(ax, reference: dict, estimate: dict, keys: tuple[str, str], candidate: str, width: float):
    """The reference (solid black) and the candidate (dashed, first palette colour) as x-y lines; their arrays."""
    rx, ry = (np.asarray(reference.get(k, []), float) for k in keys)
    cx, cy = (np.asarray(estimate.get(k, []), float) for k in keys)
    ax.plot(rx, ry, color=REFERENCE_COLOR, linewidth=width, label="reference")
    ax.plot(cx, cy, color=color(0), linewidth=width, linestyle="--", label=candidate)
    return rx, ry, cx, cy


def _finish(ax, title: str, wrap: int) -> None:
    ax.set_title(textwrap.fill(title, wrap), fontsize=8.5)
    ax.legend(fontsize=7.5, loc="upper right")
    ax.tick_params(labelsize=8)
    _style(ax)


def _span(a, unit: str) -> str:
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return f"{_fmt(float(a.max() - a.min()))} {unit}" if a.size else "n/a"


def _stabilogram_against_time(title, unit, reference, estimate, candidate) -> FigureImage:
    fig, axes = _new(6.4, 2.8)
    ax = axes[0, 0]
    rt, ry, ct, cy = _two_lines(ax, reference, estimate, ("t", "y"), candidate, 0.9)
    ax.axhline(0, color="0.8", linewidth=0.6, zorder=0)
    ax.set_xlabel("time [s] (reference clock)", fontsize=8.5)
    ax.set_ylabel(f"displacement [{unit}]" if unit else "displacement", fontsize=8.5)
    _finish(ax, title, 80)

    def rms(a):
        a = a[np.isfinite(a)]
        return f"{_fmt(float(np.sqrt(np.mean(a ** 2))))} {unit}" if a.size else "n/a"
    alt = (f"Stabilogram {title}: displacement against time of the reference (solid black, {ry.size} samples, range "
           f"{_span(ry, unit)}, RMS {rms(ry)}) and {candidate} (dashed blue, {cy.size} samples, range "
           f"{_span(cy, unit)}, RMS {rms(cy)}), over {_fmt(float(rt.max() - rt.min())) if rt.size else 'n/a'} s.")
    return _encode(fig, alt, title)


def time_series_figure(title: str, unit: str, reference: dict, estimate: dict, candidate: str, *,
                       raw: dict | None = None, events: list[dict] | None = None,
                       lag: dict | None = None, signal: str = "") -> FigureImage:
    """Aligned time series of reference and candidate (and the unaligned candidate), with alignment diagnostics.

    ``lag`` = {"lag_s": [...], "corr": [...]} adds a panel of the cross-correlation against lag with its peak.
    """
    ncols = 2 if lag else 1
    fig, axes = _new(10.0 if lag else 7.5, 3.0, 1, ncols, width_ratios=[3, 1] if lag else None)
    ax = axes[0, 0]
    rt, ry = np.asarray(reference.get("t", []), float), np.asarray(reference.get("y", []), float)
    ct, cy = np.asarray(estimate.get("t", []), float), np.asarray(estimate.get("y", []), float)
    ax.plot(rt, ry, color=REFERENCE_COLOR, linewidth=0.9, label="reference")
    ax.plot(ct, cy, color=color(0), linewidth=0.9, linestyle="--", label=f"{candidate} (aligned)")
    if raw:
        ax.plot(np.asarray(raw.get("t", []), float), np.asarray(raw.get("y", []), float), color=color(1),
                linewidth=0.7, linestyle=":", label=f"{candidate} (before alignment)")
    for ev in events or []:
        if ev.get("time") is not None:
            ax.axvline(ev["time"], color="#777777", linewidth=0.8)
            ax.annotate(str(ev.get("name", "")), xy=(ev["time"], 1.0), xycoords=("data", "axes fraction"),
                        fontsize=7, rotation=90, va="top", ha="right", color="#555555")
    ax.set_xlabel("time on the reference clock [s]", fontsize=8.5)
    ax.set_ylabel(textwrap.fill(f"{signal or 'value'}{f' [{unit}]' if unit else ''}", 40), fontsize=8.5)
    ax.set_title(textwrap.fill(title, 90), fontsize=8.5)
    ax.legend(fontsize=7.5, loc="best", framealpha=0.85)
    ax.tick_params(labelsize=8)
    _style(ax)
    alt = (f"Time series of {title}: reference ({rt.size} samples) and {candidate} after alignment "
           f"({ct.size} samples)" + (", and before alignment" if raw else "") + ".")
    if lag:
        ax2 = axes[0, 1]
        ls, cc = np.asarray(lag.get("lag_s", []), float), np.asarray(lag.get("corr", []), float)
        ax2.plot(ls, cc, color=color(2), linewidth=1)
        if cc.size and np.isfinite(cc).any():
            k = int(np.nanargmax(cc))
            ax2.plot([ls[k]], [cc[k]], marker="o", color=color(3))
            ax2.annotate(f"peak {cc[k]:.2f} at {ls[k]:.3f} s", xy=(ls[k], cc[k]), fontsize=7.5,
                         xytext=(0, -14), textcoords="offset points", ha="center")
            alt += f" Cross-correlation peaks at {cc[k]:.2f} for a lag of {ls[k]:.3f} s."
        ax2.set_xlabel("lag [s]", fontsize=8.5)
        ax2.set_ylabel("correlation", fontsize=8.5)
        ax2.tick_params(labelsize=8)
        _style(ax2)
    return _encode(fig, alt, title)


def confusion_figure(kpi: str, candidate: str, labels: list[str], matrix: list[list[int]]) -> FigureImage:
    """Confusion matrix (rows: reference label, columns: candidate label) with counts in the cells."""
    m = np.asarray(matrix, float)
    k = len(labels)
    fig, axes = _new(1.6 + 0.65 * k, 1.3 + 0.55 * k)
    ax = axes[0, 0]
    ax.imshow(m, cmap="Blues", vmin=0)
    short = [str(lab)[:18] for lab in labels]
    ax.set_xticks(range(k), short, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(k), short, fontsize=8)
    top = m.max() if m.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=8.5,
                    color="white" if m[i, j] > top / 2 else "black")
    ax.set_xlabel(f"candidate ({candidate})", fontsize=8.5)
    ax.set_ylabel("reference", fontsize=8.5)
    agree = int(np.trace(m)) if m.size else 0
    alt = (f"Confusion matrix of {kpi} for {candidate}: {k} labels ({', '.join(map(str, labels))}); "
           f"{agree} of {int(m.sum())} trials on the diagonal (same label on both sides).")
    return _encode(fig, alt, f"{kpi}: reference label (rows) against {candidate}'s label (columns)")


def latency_figure(items: list[dict]) -> FigureImage:
    """Latency distribution per device record: box plot of per-run latencies where present, else the
    percentiles the tool printed (p5, p50, p90, p95, p99, min, max) as markers on a line."""
    n = len(items)
    fig, axes = _new(8.5, 1.5 + 0.45 * n)
    ax = axes[0, 0]
    labels, alt_parts = [], []
    marks = (("p50_ms", "o", "p50"), ("p90_ms", "s", "p90"), ("p95_ms", "^", "p95"), ("p99_ms", "D", "p99"))
    seen = set()
    for j, it in enumerate(items):
        y = n - 1 - j
        lat = it.get("latency") or {}
        raw = [v for v in (lat.get("raw_ms") or []) if v is not None]
        c = color(j)
        if raw:
            ax.boxplot([raw], positions=[y], orientation="horizontal", widths=0.5, showfliers=True,
                       flierprops={"markersize": 2.5}, medianprops={"color": c},
                       boxprops={"color": c}, whiskerprops={"color": c}, capprops={"color": c})
        lo = lat.get("min_ms", lat.get("p5_ms"))
        hi = lat.get("max_ms", lat.get("p95_ms"))
        if lo is not None and hi is not None and not raw:
            ax.plot([lo, hi], [y, y], color=c, linewidth=2.5, alpha=0.6, solid_capstyle="butt")
            ax.plot([lo, hi], [y, y], color=c, marker="|", markersize=10, linestyle="none")
        for key, marker, name in marks:
            if lat.get(key) is not None:
                ax.plot([lat[key]], [y], marker=marker, color=c, markeredgecolor="black", markersize=6,
                        linestyle="none", label=name if name not in seen else None)
                seen.add(name)
        labels.append(it.get("label", f"record {j + 1}"))
        alt_parts.append(f"{labels[-1]}: " + ", ".join(f"{name} {_fmt(lat.get(key))} ms" for key, _, name in marks))
    ax.set_yticks(range(n - 1, -1, -1), labels, fontsize=8)
    ax.set_xlabel("latency per inference [ms]; line: min to max, box: per-run values where recorded",
                  fontsize=8.5)
    ax.set_ylim(-0.6, n - 0.4)
    if seen:
        ax.legend(fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False)
    ax.tick_params(axis="x", labelsize=8)
    _style(ax)
    return _encode(fig, "Latency per device record: " + "; ".join(alt_parts) + ".",
                   "Latency distribution per device and runtime (p50, p90, p99 marked; n/a where the tool did "
                   "not report them).")


def size_accuracy_figure(by_kpi: dict[str, list[dict]]) -> FigureImage:
    """Model size (MB) against MAE, one panel per KPI, one point (with the MAE 95% CI) per candidate.

    ``by_kpi`` maps a KPI to points with ``candidate``, ``model_mb``, ``mae``, ``mae_ci_low``, ``mae_ci_high``,
    ``precision`` and ``unit``. Candidates of the same size are spread slightly sideways so that none hides.
    """
    n = len(by_kpi)
    fig, axes = _new(min(3.6 * n + 0.8, 13.0), 3.4, 1, n)
    cands = list(dict.fromkeys(p["candidate"] for pts in by_kpi.values() for p in pts))
    alt_parts = []
    for ax, (kpi, points) in zip(axes[0], by_kpi.items()):
        sizes = np.array([p["model_mb"] for p in points], float)
        top = float(np.max(sizes)) if sizes.size else 1.0
        span = 0.5 * top  # dodge of equal sizes, relative to an axis that starts at zero
        for p in points:
            i = cands.index(p["candidate"])
            same = [q for q in points if abs(q["model_mb"] - p["model_mb"]) < 1e-9]
            k = same.index(p)
            x = p["model_mb"] + (k - (len(same) - 1) / 2) * 0.04 * span
            y, lo, hi = p["mae"], p.get("mae_ci_low"), p.get("mae_ci_high")
            yerr = None if lo is None or hi is None else [[max(y - lo, 0)], [max(hi - y, 0)]]
            ax.errorbar([x], [y], yerr=yerr, marker="os^Dv<>p"[i % 8], color=color(i), capsize=3,
                        linestyle="none", label=f"{p['candidate']} ({p.get('precision') or '?'})")
            alt_parts.append(f"{kpi}: {p['candidate']} {_fmt(p['model_mb'])} MB, MAE {_fmt(y)} {p.get('unit', '')}")
        ax.set_xlim(0, top * 1.25 if top > 0 else 1.0)  # size is a ratio scale: start at zero
        ax.set_ylim(bottom=0)
        ax.set_xlabel("model size [MB = 10^6 bytes]", fontsize=8.5)
        unit = points[0].get("unit") or ""
        ax.set_ylabel(f"MAE{f' [{unit}]' if unit else ''}", fontsize=8.5)
        ax.set_title(kpi, fontsize=9)
        ax.tick_params(labelsize=8)
        _style(ax)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen.keys()), loc="outside upper center", ncol=min(len(seen), 4),
               fontsize=7.5, frameon=False)
    alt = "Model size against mean absolute error (with 95% CI): " + "; ".join(alt_parts) + "."
    return _encode(fig, alt, "Size against accuracy per KPI; lower-left is better.")
