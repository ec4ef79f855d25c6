"""Read MetricKit ``MXMetricPayload.jsonRepresentation()`` payloads (whole or excerpts).

MetricKit serialises measurements as *localised strings with units* ("100 sec", "2,717秒", "1,106,818千字节"),
not numbers, and saved payloads are often excerpts that are not valid JSON. So values are found by key with a
regular expression and converted by unit: time to seconds, storage to MB (10^6 bytes; MetricKit's kB are
Foundation kilobytes, 10^3 bytes).
"""
from __future__ import annotations

import json
import re

from ground_truth.kernel import BOUNDS, Bound

from ..plausibility import plausible_value
from ..record import KB_TO_MB, MB, DeviceInfo, DeviceRecord, MemoryStats
from ._text import split_excerpts

_TOKEN = re.compile(r'"(\w+)"\s*:\s*(?:(\{)|"([^"]*)")|(\})')
_NUMBER_UNIT = re.compile(r"^\s*([-+]?[\d,.\u202f\u00a0']*\d)\s*(.*?)\s*$")
#: unit text (as localised by MetricKit) -> (quantity, factor to seconds or to MB)
_UNITS = {
    "sec": ("time_s", 1.0), "s": ("time_s", 1.0), "秒": ("time_s", 1.0), "ms": ("time_s", 1e-3),
    "毫秒": ("time_s", 1e-3), "min": ("time_s", 60.0), "分钟": ("time_s", 60.0), "h": ("time_s", 3600.0),
    "hr": ("time_s", 3600.0), "小时": ("time_s", 3600.0),
    "kb": ("storage_mb", KB_TO_MB), "千字节": ("storage_mb", KB_TO_MB), "mb": ("storage_mb", 1.0),
    "兆字节": ("storage_mb", 1.0), "gb": ("storage_mb", 1e3), "bytes": ("storage_mb", 1e-6),
    "字节": ("storage_mb", 1e-6), "b": ("storage_mb", 1e-6),
    "kiloinstructions": ("instructions_k", 1.0),
}


#: "<something> <unit>": the last run of characters that are not digits, separators or signs
_UNIT_TAIL = re.compile(r"^\s*(.+?)\s*([^\d\s,.\u202f\u00a0'+-]+)\s*$")


def parse_measurement(text: str) -> tuple[float, str, str] | None:
    """'2,717秒' -> (2717.0, 'time_s', '秒'); None when the unit is unknown or the text is not a number."""
    m = _NUMBER_UNIT.match(text)
    if not m:
        return None
    number, unit = m.group(1), m.group(2)
    # thousands separators (',', narrow no-break space, apostrophe) are dropped; a lone comma followed by
    # exactly 1-2 digits would be a decimal comma (de/fr locales)
    if re.fullmatch(r"\d+,\d{1,2}", number):
        number = number.replace(",", ".")
    number = re.sub(r"[,\u202f\u00a0']", "", number)
    key = unit.lower()
    if key not in _UNITS:
        return None
    quantity, factor = _UNITS[key]
    try:
        value = float(number)
    except ValueError:   # '1.2.3': separators that make no number
        return None
    return value * factor, quantity, unit


def parse_metrickit(text: str, *, file=None) -> list[DeviceRecord]:
    """One record per payload excerpt: every recognised measurement in ``extra['metrickit']`` (SI-converted)
    and ``memory.peak_mb`` from ``peakMemoryUsage``. MetricKit has no per-inference latency: records are
    partial by construction."""
    records: list[DeviceRecord] = []
    for i, excerpt in enumerate(split_excerpts(text)):
        for payload in _payloads(excerpt):
            _add_record(records, payload, i, file)
    return records


def _payloads(excerpt: str) -> list[dict]:
    """Split an excerpt into payloads: a key seen again starts the next payload (concatenated payloads)."""
    payloads: list[dict] = []
    metrics: dict = {}
    device = DeviceInfo(platform="ios")
    stack: list[str] = []
    for key, opened, value, closed in _TOKEN.findall(excerpt):
        if closed:
            if stack:
                stack.pop()
            continue
        if opened:
            stack.append(key)
            continue
        if stack and key in ("averageValue",):
            key = f"{stack[-1]}.{key}"  # e.g. averageSuspendedMemory.averageValue
        if key in metrics or (key == "deviceType" and device.model is not None):
            payloads.append({"metrics": metrics, "device": device})
            metrics, device = {}, DeviceInfo(platform="ios")
        if key == "deviceType":
            device.model = value
        elif key == "osVersion":
            device.os = value
        parsed = parse_measurement(value)
        if parsed is not None:
            metrics[key] = {"value": parsed[0], "quantity": parsed[1], "source_text": value}
        elif (m := _UNIT_TAIL.match(value)) and m.group(2).lower() in _UNITS:
            # a number with a unit MetricKit prints, whose number is not one: corrupted, named as left out
            metrics[key] = {"value": None, "quantity": _UNITS[m.group(2).lower()][0], "source_text": value,
                            "unreadable": True}
    payloads.append({"metrics": metrics, "device": device})
    return [p for p in payloads if p["metrics"]]


#: plausible values per quantity. Storage against the kernel's memory bound (MB -> bytes); times and
#: instruction counts are cumulative over a payload's day (local bounds: the kernel's table has no CPU time)
_BOUNDS = {
    "storage_mb": (BOUNDS["memory_bytes"], MB),
    "time_s": (Bound(0.0, 1e7, "s", "a payload covers about a day: CPU or wall time of a few cores stays below "
                     "1e7 s"), 1.0),
    "instructions_k": (Bound(0.0, 1e18, "k instructions", "a day of a few GHz cores runs < 1e18 k instructions"), 1.0),
}


def _add_record(records: list, payload: dict, excerpt: int, file) -> None:
    metrics = payload["metrics"]
    notes = []
    where = "" if file is None else f"{file}: "
    for key, entry in metrics.items():
        if entry.pop("unreadable", False):
            figure = "memory.peak_mb" if key == "peakMemoryUsage" else key
            notes.append(f"{where}{figure} left out: {entry['source_text']!r} is not a number with a unit")
            continue
        bound, scale = _BOUNDS[entry["quantity"]]
        entry["value"], why = plausible_value(entry["value"], bound, scale=scale)
        if why:
            notes.append(f"{where}{key} {entry['source_text']!r}: {why}; set to null as implausible")
    rec = DeviceRecord(device=payload["device"],
                       source={"tool": "metrickit", "parser": "metrickit",
                               "file": None if file is None else str(file), "excerpt": excerpt,
                               "payload": sum(1 for r in records if r.source.get("excerpt") == excerpt)},
                       raw_log=json.dumps({k: v["source_text"] for k, v in metrics.items()}, ensure_ascii=False))
    rec.extra["metrickit"] = metrics
    rec.errors.extend(notes)
    if "peakMemoryUsage" in metrics and metrics["peakMemoryUsage"]["value"] is not None:
        rec.memory = MemoryStats(peak_mb=metrics["peakMemoryUsage"]["value"], figures=["peak_mb"],
                                 source_unit="MetricKit localised storage string")
    records.append(rec.check_plausible(file).flag_missing())
