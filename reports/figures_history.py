"""Trend figures: LoA width and ICC lower bound per KPI, and p90 latency, across the runs of a study.

The x axis is the run's position in the order the runs were run (the last one is "this run"), not a time axis:
runs a day apart and a month apart are one step each, so that every model version gets the same room. A line is
one candidate (and device, for latency); a hollow marker is a run whose manifest differs from this run's (its data
differ); a dotted vertical line marks the run a promotion was judged on, labelled with the channel's name.
Built like :mod:`reports.figures` (matplotlib ``Figure`` on the Agg canvas, no pyplot, Okabe-Ito colours with
differing line styles and markers, base64 PNG with alt text built from the data).
"""
from __future__ import annotations

from .figures import FigureImage, _encode, _fmt, _new, _style, color

#: KPIs drawn at most (one row of two panels each); the report says how many more it has.
MAX_KPIS = 6
_STYLES = ("-", "--", "-.", ":")
_MARKERS = "os^Dv<>p"


def _draw_line(ax, xs, ys, same, i: int, label: str) -> None:
    """One candidate's line; a run whose data differ (``same`` false) gets a hollow marker."""
    pts = [(x, y, s) for x, y, s in zip(xs, ys, same) if y is not None]
    if not pts:
        return
    c, m = color(i), _MARKERS[i % len(_MARKERS)]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], color=c, linestyle=_STYLES[i % len(_STYLES)], linewidth=1.3,
            marker=m, markersize=5.5, label=label)
    hollow = [(x, y) for x, y, s in pts if s is False]
    if hollow:
        ax.plot([h[0] for h in hollow], [h[1] for h in hollow], marker=m, color=c, markersize=5.5, linestyle="none",
                markerfacecolor="white")


def _promotion_marks(ax, promotions: list[tuple[float, str]], *, labelled: bool) -> None:
    for x, text in promotions:
        ax.axvline(x, color="#555555", linestyle=(0, (1, 2)), linewidth=1.1, zorder=0)
        if labelled:
            ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                        fontsize=7, color="#333333", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8,
                                                          "pad": 0.6})


def _x_axis(ax, x_labels: list[str], *, show: bool) -> None:
    ax.set_xlim(-0.5, len(x_labels) - 0.5)
    ax.set_xticks(range(len(x_labels)), x_labels if show else [""] * len(x_labels), fontsize=6.5)
    ax.tick_params(axis="y", labelsize=7.5)


def _legend(fig, axes, height: float) -> None:
    seen: dict = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper center", ncol=min(len(seen), 4),
                   fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, 1 - 0.05 / height))


def _series_alt(values: list, unit: str) -> str:
    return " → ".join(_fmt(v) for v in values) + (f" {unit}" if unit else "")


def trend_figure(panels: list[dict], x_labels: list[str], promotions: list[tuple[float, str]]) -> FigureImage:
    """LoA width (left) and ICC lower bound (right) per KPI (one row each) across the runs.

    ``panels``: ``[{"kpi", "unit", "lines": [{"label", "index", "loa_width": [...], "icc_ci_low": [...],
    "same_manifest": [...]}]}]``, each list one value (or None) per run, in the order of ``x_labels``;
    ``index`` picks the line's colour, style and marker (the same candidate keeps them in every panel).
    ``promotions``: ``(x, "channel")`` marks.
    """
    n = len(panels)
    height = 0.95 + 2.15 * n
    width = 10.0
    fig, axes = _new(width, height, n, 2, sharex=True,
                     margins={"left": 0.8 / width, "right": 0.98, "bottom": 0.55 / height,
                              "top": 1 - 0.6 / height, "wspace": 0.22, "hspace": 0.75 / 2.15})
    xs = list(range(len(x_labels)))
    alt = []
    for row, p in enumerate(panels):
        unit = p.get("unit") or ""
        ax_w, ax_i = axes[row, 0], axes[row, 1]
        lows = [0.0]
        for line in p["lines"]:
            _draw_line(ax_w, xs, line["loa_width"], line["same_manifest"], line["index"], line["label"])
            _draw_line(ax_i, xs, line["icc_ci_low"], line["same_manifest"], line["index"], line["label"])
            lows += [v for v in line["icc_ci_low"] if v is not None]
            alt.append(f"{p['kpi']}, {line['label']}: LoA width {_series_alt(line['loa_width'], unit)}, ICC lower "
                       f"bound {_series_alt(line['icc_ci_low'], '')}")
        ax_w.set_ylim(bottom=0)  # a width is a ratio scale: from zero, so that a halving looks like one
        ax_i.set_ylim(min(lows) - 0.05, 1.02)
        ax_w.set_ylabel(f"LoA width{f' [{unit}]' if unit else ''}", fontsize=8)
        ax_i.set_ylabel("ICC, lower 95% bound", fontsize=8)
        for ax, what in ((ax_w, "limits of agreement, width (lower is better)"),
                         (ax_i, "ICC lower bound (higher is better)")):
            ax.set_title(f"{p['kpi']}: {what}", fontsize=8.5)
            _x_axis(ax, x_labels, show=row == n - 1)
            _promotion_marks(ax, promotions, labelled=row == 0)
            _style(ax)
    for ax in axes[-1]:
        ax.set_xlabel("run, in the order run (last: this run)", fontsize=8)
    _legend(fig, axes, height)
    caption = ("LoA width (upper − lower limit of agreement; narrower is better) and the lower bound of the ICC's "
               "95% CI (higher is better) per KPI across the runs of this study, one line per candidate"
               + ("; dotted lines: runs a promotion was judged on" if promotions else "")
               + "; hollow markers: runs on a different manifest (different data).")
    marks = "; ".join(f"promotion to {t} judged on run {x + 1}" for x, t in promotions)
    text = (f"Trend over {len(x_labels)} runs (the last is this run): " + "; ".join(alt)
            + (f". {marks}" if marks else "") + ".")
    return _encode(fig, text, caption)


def latency_trend_figure(lines: list[dict], x_labels: list[str],
                         promotions: list[tuple[float, str]]) -> FigureImage:
    """p90 latency per candidate × device across the runs.

    ``lines``: ``[{"label", "index", "p90_ms": [...], "same_manifest": [...]}]``, one value (or None) per run.
    """
    width, height = 10.0, 3.4
    fig, axes = _new(width, height, margins={"left": 0.8 / width, "right": 0.98, "bottom": 0.75 / height,
                                             "top": 1 - 0.55 / height})
    ax = axes[0, 0]
    xs = list(range(len(x_labels)))
    for line in lines:
        _draw_line(ax, xs, line["p90_ms"], line["same_manifest"], line["index"], line["label"])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("p90 latency [ms]", fontsize=8)
    ax.set_xlabel("run, in the order run (last: this run)", fontsize=8)
    _x_axis(ax, x_labels, show=True)
    _promotion_marks(ax, promotions, labelled=True)
    _style(ax)
    _legend(fig, axes, height)
    alt = (f"p90 latency over {len(x_labels)} runs (the last is this run): "
           + "; ".join(f"{ln['label']}: {_series_alt(ln['p90_ms'], 'ms')}" for ln in lines) + ".")
    return _encode(fig, alt, "p90 latency per inference across the runs of this study, one line per candidate and "
                             "device (lower is better).")
