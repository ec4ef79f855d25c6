"""Backbones: cost against agreement (results ``backbones``, docs/report.md). Which model to ship, in the order a
release manager reads it: the sentence naming the smallest candidate whose blocking gates all pass, first; then
what the Pareto front is (only when there are candidates to compare); the figure of model size and p90 ms/frame
against LoA width per KPI, with the seed targets and the front; the cost table; and the agreement table with the
CIs in two columns. The words and numbers come from the section as harness.backbones_table wrote it.
"""
from __future__ import annotations

from harness.results import StudyResults
from harness.results.backbones import AXIS_LABELS, BackbonesSection

from .. import figures_backbones as FB
from ..figure_pool import draw
from ..language import number, with_unit
from ..sections import Figure, NotMeasured, Paragraph, Section, Table

TITLE = "Backbones: cost against agreement"
#: Devices other than this host shown as their own column at most; the CSV has them all.
MAX_DEVICE_COLUMNS = 4


def _label(kpi: str | None, protocol: str | None, several: bool) -> str:
    return f"{kpi} ({protocol})" if several and protocol else str(kpi)


def _front_text(bb: BackbonesSection, several: bool) -> str:
    """What the front is, and per KPI which axes were left out (and why) or why no front was drawn."""
    text = ("A candidate is on a KPI's cost/agreement Pareto front when no other candidate is at least as good on "
            "every axis (model size, p90 ms/frame on this host, LoA width, ICC lower bound) and better on one; "
            "candidates equal on every axis are all on it. A candidate off the front has another that costs no more "
            "and agrees no worse.")
    tol = (bb.tolerances or {}).get("host_p90_ms")
    if tol:
        text += (f" Two p90 latencies within {number(100 * tol)}% of each other count as equal (repeated timings of "
                 f"one model differ by that much).")
    extra = []
    for f in bb.fronts:
        kpi = _label(f.kpi, f.protocol, several)
        if f.status != "ok":
            extra.append(f"{kpi}: {f.status}")
        elif f.axes_left_out:
            extra.append(f"{kpi}: " + "; ".join(f"{AXIS_LABELS.get(a['axis'], a['axis'])} left out "
                                                f"({a['reason']})" for a in f.axes_left_out))
    return text + (" " + ". ".join(extra) + "." if extra else "")


def _cost_table(bb: BackbonesSection) -> Table:
    others = list(dict.fromkeys(d.device for c in bb.candidates for d in c.devices if d.runner != "host"))
    shown = others[:MAX_DEVICE_COLUMNS]
    rows = []
    for c in bb.candidates:
        dev = {d.device: f"{number(d.p50_ms)} / {number(d.p90_ms)}" for d in c.devices if d.runner != "host"}
        rows.append([c.candidate + (" (baseline)" if c.baseline else ""), c.precision or "n/a", number(c.model_mb),
                     number(c.host_p50_ms), number(c.host_p90_ms), *[dev.get(d, "not measured") for d in shown],
                     c.gates])
    caption = ("Cost per candidate (MB = 10^6 bytes; ms per frame = per inference of the model as the runner times "
               "it; percentiles nearest-rank)")
    if len(others) > len(shown):
        caption += f"; {len(others) - len(shown)} more device(s) in backbones.csv"
    notes = "; ".join(f"{c.candidate}: {c.host_note}" for c in bb.candidates if c.host_note)
    return Table(["candidate", "precision", "model size [MB]", "host p50 [ms/frame]", "host p90 [ms/frame]",
                  *[f"p50 / p90 [ms/frame] on {d}" for d in shown], "blocking gates"], rows,
                 caption=caption + (f". {notes}" if notes else ""))


def _front_cell(r) -> str:
    if r.condition != "all":
        return "—"
    if r.pareto is None:
        return "not compared"
    return "yes" if r.pareto == 1 else f"no (dominated by {', '.join(r.dominated_by)})"


def _agreement_table(bb: BackbonesSection, several_protocols: bool, show_front: bool) -> Table:
    cols = ["candidate", "KPI", "condition", "n", "LoA width", "LoA 95% CI: lower limit's low",
            "LoA 95% CI: upper limit's high", "ICC", "ICC 95% CI low", "ICC 95% CI high"]
    rows = []
    for r in bb.rows:
        unit = r.unit or ""
        row = [r.candidate, _label(r.kpi, r.protocol, several_protocols), r.condition,
               "n/a" if r.n is None else r.n, with_unit(r.loa_width, unit), with_unit(r.loa_lower_ci_low, unit),
               with_unit(r.loa_upper_ci_high, unit), number(r.icc, 2), number(r.icc_ci_low, 2),
               number(r.icc_ci_high, 2)]
        rows.append(row + ([_front_cell(r)] if show_front else []))
    caption = ("Agreement per candidate × KPI × condition: width of the limits of agreement (upper − lower), the "
               "outer 95% CI bounds of the limits (how wide the range could be) and the ICC with its 95% CI")
    if show_front:
        caption += "; the ICC's lower bound is the front's agreement axis beside the LoA width (pooled rows only)"
    return Table(cols + (["on the Pareto front"] if show_front else []), rows, caption=caption)


def _panels(bb: BackbonesSection, several: bool) -> list[dict]:
    index = {c.candidate: i for i, c in enumerate(bb.candidates)}
    cost = {c.candidate: c for c in bb.candidates}
    panels: dict[tuple, dict] = {}
    for r in bb.rows:
        if r.condition != "all" or r.loa_width is None or r.candidate not in cost:
            continue
        panel = panels.setdefault((r.kpi, r.protocol), {"kpi": _label(r.kpi, r.protocol, several),
                                                        "unit": r.unit or "", "points": []})
        c = cost[r.candidate]
        panel["points"].append({"label": r.candidate, "index": index[r.candidate], "loa_width": r.loa_width,
                                "model_mb": c.model_mb, "p90_ms": c.host_p90_ms, "front": r.pareto == 1})
    return list(panels.values())


def backbones_section(results: StudyResults) -> Section:
    """The section; the caller shows it only when the results have a ``backbones`` section."""
    sec = Section("backbones", TITLE)
    bb = results.backbones
    if not sec.opens(bb, "these results have no backbone comparison (written before it existed)"):
        return sec
    several_protocols = len({r.protocol for r in bb.rows}) > 1
    show_front = len(bb.candidates) > 1
    if show_front:
        sec.blocks.append(Paragraph(_front_text(bb, several_protocols)))
    sec.add_notes(bb.notes)
    # with one candidate the figure would hold one point per panel, nothing the tables below do not say (and it
    # costs seconds of every default demo's report): it is drawn only when there is something to compare
    panels = _panels(bb, several_protocols) if show_front else []
    if panels:
        sec.blocks.append(Figure(draw(FB.backbone_figure, panels[:FB.MAX_KPIS], bb.targets, show_front=show_front)))
        if len(panels) > FB.MAX_KPIS:
            sec.blocks.append(Paragraph(f"{len(panels) - FB.MAX_KPIS} further KPI(s) not plotted: "
                                        f"{', '.join(p['kpi'] for p in panels[FB.MAX_KPIS:])}.", css="note"))
    elif show_front:
        sec.blocks.append(NotMeasured("no KPI has limits of agreement for these candidates", what="figure"))
    sec.blocks.append(_cost_table(bb))
    if bb.rows:
        sec.blocks.append(_agreement_table(bb, several_protocols, show_front))
    else:
        sec.blocks.append(NotMeasured("no agreement rows for these candidates", what="agreement"))
    return sec
