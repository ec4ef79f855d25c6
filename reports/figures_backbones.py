"""Cost against agreement: model size and p90 latency per frame against the width of the limits of agreement, one
row of two panels per KPI, the product's seed targets drawn as lines and the cost/agreement Pareto front marked.

Built like :mod:`reports.figures` (matplotlib ``Figure`` on the Agg canvas, no pyplot, Okabe-Ito colours with
differing markers, base64 PNG with alt text built from the data). Every axis starts at zero: sizes, latencies and
widths are ratio scales, so that half as large looks half as large; the targets are always inside the axes, so the
reader sees how far under (or over) them each candidate is.
"""
from __future__ import annotations

from .figures import FigureImage, _encode, _fmt, _new, _style, color

#: KPIs drawn at most (one row each); the report says how many more it has.
MAX_KPIS = 6
_MARKERS = "os^Dv<>p"
_TARGET_STYLE = {"color": "#555555", "linestyle": (0, (5, 3)), "linewidth": 1.1, "zorder": 1}


def _panel(ax, points: list[dict], key: str, target: float | None, target_text: str, show_front: bool) -> bool:
    """One panel: ``key`` (model_mb or p90_ms) against LoA width; False when no point has a value to draw."""
    pts = [p for p in points if p.get(key) is not None and p.get("loa_width") is not None]
    for p in pts:
        i = p["index"]
        ax.plot([p["loa_width"]], [p[key]], marker=_MARKERS[i % len(_MARKERS)], color=color(i), markersize=7,
                linestyle="none", label=p["label"], zorder=3)
        if show_front and p.get("front"):
            ax.plot([p["loa_width"]], [p[key]], marker="o", markersize=15, markerfacecolor="none",
                    markeredgecolor="#000000", markeredgewidth=1.2, linestyle="none", label="on the Pareto front",
                    zorder=2)
    top = max([p[key] for p in pts] + ([target] if target is not None and pts else []), default=1.0)
    right = max([p["loa_width"] for p in pts], default=1.0)
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_xlim(0, right * 1.25 if right > 0 else 1.0)
    if target is not None and pts:
        ax.axhline(target, **_TARGET_STYLE)
        ax.annotate(target_text, xy=(0.01, target), xycoords=("axes fraction", "data"), ha="left", va="bottom",
                    fontsize=7, color="#333333")
    if not pts:
        ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center", fontsize=8,
                color="#666666")
    return bool(pts)


def backbone_figure(panels: list[dict], targets: dict, *, show_front: bool) -> FigureImage:
    """Model size (left) and host p90 ms/frame (right) against LoA width, one row per KPI.

    ``panels``: ``[{"kpi", "unit", "points": [{"label", "index", "loa_width", "model_mb", "p90_ms", "front"}]}]``
    (``index`` picks the candidate's colour and marker, the same in every panel; ``front`` True when the
    candidate is on the KPI's Pareto front). ``targets``: ``model_mb`` and ``p90_ms_per_frame`` (lines; None
    draws none). ``show_front`` False (one candidate) draws no ring and says nothing of a front.
    """
    n = len(panels)
    height = 0.95 + 2.6 * n
    width = 10.0
    fig, axes = _new(width, height, n, 2, margins={"left": 0.75 / width, "right": 0.98, "bottom": 0.55 / height,
                                                   "top": 1 - 0.75 / height, "wspace": 0.22,
                                                   "hspace": 0.8 / 2.6})
    mb, ms = targets.get("model_mb"), targets.get("p90_ms_per_frame")
    alt = []
    for row, p in enumerate(panels):
        unit = p.get("unit") or ""
        ax_s, ax_l = axes[row, 0], axes[row, 1]
        _panel(ax_s, p["points"], "model_mb", mb, f"target {_fmt(mb)} MB", show_front)
        timed = _panel(ax_l, p["points"], "p90_ms", ms, f"target {_fmt(ms)} ms/frame", show_front)
        ax_s.set_ylabel("model size [MB = 10^6 bytes]", fontsize=8)
        ax_l.set_ylabel("p90 latency [ms/frame]", fontsize=8)
        ax_s.set_title(f"{p['kpi']}: model size", fontsize=8.5)
        ax_l.set_title(f"{p['kpi']}: p90 per frame on this host" + ("" if timed else " (not measured)"),
                       fontsize=8.5)
        for ax in (ax_s, ax_l):
            ax.set_xlabel(f"LoA width{f' [{unit}]' if unit else ''} (narrower is better)", fontsize=8)
            ax.tick_params(labelsize=7.5)
            _style(ax)
        for q in p["points"]:
            lat = f"p90 {_fmt(q['p90_ms'])} ms/frame" if q.get("p90_ms") is not None else "p90 not measured"
            front = (" (on the Pareto front)" if q.get("front") else " (off the front)") if show_front else ""
            alt.append(f"{p['kpi']}: {q['label']} {_fmt(q.get('model_mb'))} MB, {lat}, LoA width "
                       f"{_fmt(q.get('loa_width'))}{f' {unit}' if unit else ''}{front}")
    seen: dict = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if "on the Pareto front" in seen:  # the ring last, after the candidates
        seen["on the Pareto front"] = seen.pop("on the Pareto front")
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper center", ncol=min(len(seen), 4),
                   fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, 1 - 0.05 / height))
    caption = ("Cost against agreement per KPI: model size (left) and p90 latency per frame on this host (right) "
               "against the width of the limits of agreement (lower left is better); dashed lines: the seed targets "
               f"({_fmt(mb)} MB, {_fmt(ms)} ms/frame)")
    if show_front:
        caption += ("; rings: candidates on the KPI's cost/agreement Pareto front, judged on model size, p90 "
                    "ms/frame, LoA width and ICC lower bound together (the ICC is in the table)")
    text = ("Model size and p90 latency per frame against LoA width: " + "; ".join(alt)
            + f". Targets {_fmt(mb)} MB and {_fmt(ms)} ms/frame.")
    return _encode(fig, text, caption + ".")
