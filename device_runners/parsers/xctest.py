"""Parse XCTest ``measure(metrics:)`` lines from ``xcodebuild test`` / ``swift test`` logs.

Each metric prints one line per test case::

    [path.swift:71: ]Test Case '-[Module.Class testName]' measured [Clock Monotonic Time, s] average: 0.123,
    relative standard deviation: 4.5%, values: [...], performanceMetricID:..., baselineName: "", ...

(older Xcode omit the ``file:line:`` prefix and ``polarity``). Lines of one test case become one record:
clock/wall time -> latency (each value is one iteration of the measured block; the shipped template measures
one prediction per iteration), memory peak physical -> ``memory.peak_mb``, memory physical ->
``memory.physical_delta_mb``, CPU time/cycles/instructions -> ``extra``. XCTest "kB" are taken as 10^3 bytes
(Foundation's UnitInformationStorage.kilobytes).
"""
from __future__ import annotations

import re

from ..record import DeviceRecord, DeviceInfo, KB_TO_MB, MemoryStats, RuntimeInfo, latency_stats
from ._text import NUM, split_excerpts

_MEASURED = re.compile(
    rf"Test Case '(?:-\[(?P<case>[^\]]+)\]|(?P<case2>[^'\[\]]+))' measured \[(?P<metric>[^,\]]+),\s*(?P<unit>[^\]]+)\]\s*"
    rf"average:\s*(?P<avg>{NUM}),\s*relative standard deviation:\s*(?P<rsd>{NUM})%,\s*"
    rf"values:\s*\[(?P<values>[^\]]*)\](?:,\s*performanceMetricID:\s*(?P<id>[\w.]+))?")
_TIME_SCALE = {"s": 1e3, "seconds": 1e3, "sec": 1e3, "ms": 1.0}


def _values(text: str) -> list[float]:
    return [float(v) for v in re.findall(NUM, text)]


def parse_xctest(text: str, *, file=None) -> list[DeviceRecord]:
    """Parse ``measured [...]`` lines into one record per test case (in order of appearance).

    Returns
    -------
    list of DeviceRecord
        Latency statistics are recomputed from the printed per-iteration values (nearest-rank percentiles);
        XCTest's own average and relative standard deviation are kept in ``extra['xctest']``. A test case
        with memory or CPU metrics only is a partial record (no latency).
    """
    cases: dict[str, DeviceRecord] = {}
    for i, excerpt in enumerate(split_excerpts(text)):
        for line in excerpt.splitlines():
            m = _MEASURED.search(line)
            if not m:
                continue
            case = m.group("case") or m.group("case2")  # '-[Module.Class test]' or 'Class.test' (Linux)
            rec = cases.get(case)
            if rec is None:
                rec = DeviceRecord(device=DeviceInfo(platform="ios"), runtime=RuntimeInfo(name="xctest"),
                                   source={"tool": "xctest", "parser": "xctest", "test_case": case,
                                           "file": None if file is None else str(file), "excerpt": i},
                                   raw_log="")
                rec.extra["xctest"] = {}
                cases[case] = rec
            rec.raw_log += line.strip() + "\n"
            metric, unit = m.group("metric").strip(), m.group("unit").strip()
            values = _values(m.group("values"))
            rec.extra["xctest"][metric] = {"unit": unit, "average": float(m.group("avg")),
                                           "relative_std_percent": float(m.group("rsd")), "values": values,
                                           "metric_id": m.group("id")}
            lower = metric.lower()
            if ("time" in lower and "cpu" not in lower) and unit in _TIME_SCALE and values:
                scale = _TIME_SCALE[unit]
                rec.latency = latency_stats([v * scale for v in values])
                rec.extra["xctest"][metric]["latency_source"] = True
            elif lower.startswith("memory") and unit.lower() == "kb" and values:
                mem = rec.memory if rec.memory.figures else MemoryStats(source_unit="kB (XCTest, 10^3 bytes)")
                if "peak" in lower:
                    mem.peak_mb = max(values) * KB_TO_MB
                    mem.figures.append("peak_mb")
                else:
                    mem.physical_delta_mb = float(sum(values) / len(values)) * KB_TO_MB
                    mem.figures.append("physical_delta_mb")
                rec.memory = mem
    records = list(cases.values())
    for rec in records:
        rec.flag_missing()
    return records
