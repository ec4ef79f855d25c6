"""On-device cost (latency, memory, energy per device record) and model size against accuracy."""
from __future__ import annotations

from harness.results import StudyResults

from .. import figures as F
from ..figure_pool import draw
from ..language import number, with_unit
from ..sections import Figure, NotMeasured, Paragraph, Section, Table
from .inputs import agreement_all, shown


def _device_label(rec: dict, cand_by_sha: dict[str, str]) -> tuple[str, str]:
    model = rec.get("model") or {}
    dev = rec.get("device") or {}
    rt = rec.get("runtime") or {}
    cand = rec.get("candidate") or cand_by_sha.get(model.get("sha256") or "", "") or model.get("name") or "?"
    bits = [b for b in (dev.get("model") or dev.get("platform"), rt.get("name"), rt.get("delegate")) if b]
    if rt.get("threads"):
        bits.append(f"{rt['threads']} thr")
    return cand, ", ".join(map(str, bits)) or "unnamed device"


def _status_text(status) -> str:
    """The status in parentheses, to follow a "not measured" reason; nothing for "ok" or an empty status."""
    return f" ({status})" if isinstance(status, str) and status not in ("ok", "") else ""


def device_section(results: StudyResults) -> Section:
    sec = Section("device", "On-device cost: latency, memory, energy")
    recs = [r for r in results.device if isinstance(r, dict)]
    cand_by_sha = {c.model_sha256: c.name for c in results.candidates if c.model_sha256}
    if not recs:
        sec.blocks.append(NotMeasured("no device results" + _status_text(results.device_status)))
        return sec
    rows, items, classes = [], [], []
    for r in recs:
        cand, dev = _device_label(r, cand_by_sha)
        cand = shown(results, cand)
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
    sec.blocks.append(Figure(draw(F.latency_figure, items)))
    return sec


def size_accuracy_section(results: StudyResults) -> Section:
    sec = Section("size-accuracy", "Model size against accuracy")
    sizes = {c.name: c for c in results.candidates if c.model_bytes}
    by_kpi: dict[str, list[dict]] = {}
    for r in agreement_all(results):
        c = sizes.get(r.get("candidate_name", r.get("candidate")))  # the label may tag a control
        if c is None or r.get("mae") is None:
            continue
        by_kpi.setdefault(r["kpi"], []).append({"candidate": r["candidate"], "model_mb": c.model_bytes / 1e6,
                                                "precision": c.precision, "mae": r["mae"],
                                                "mae_ci_low": r.get("mae_ci_low"), "mae_ci_high": r.get("mae_ci_high"),
                                                "unit": r.get("unit") or ""})
    if by_kpi:
        sec.blocks.append(Figure(draw(F.size_accuracy_figure, dict(list(by_kpi.items())[:4]))))
    if not by_kpi:
        sec.blocks.append(NotMeasured("needs model sizes and MAE of at least one candidate"))
    elif len(by_kpi) > 4:
        sec.blocks.append(Paragraph(f"{len(by_kpi) - 4} further KPI(s) not plotted; see agreement.csv."))
    return sec
