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

from ground_truth.kernel import BOUNDS, Bound

from ..plausibility import MEMORY_DELTA, plausible_value
from ..record import KB_TO_MB, DeviceInfo, DeviceRecord, MemoryStats, RuntimeInfo, latency_stats
from ._text import NUM, split_excerpts

_MEASURED = re.compile(
    rf"Test Case '(?:-\[(?P<case>[^\]]+)\]|(?P<case2>[^'\[\]]+))' measured "
    rf"\[(?P<metric>[^,\]]+),\s*(?P<unit>[^\]]+)\]\s*"
    rf"average:\s*(?P<avg>{NUM}),\s*relative standard deviation:\s*(?P<rsd>{NUM})%,\s*"
    rf"values:\s*\[(?P<values>[^\]]*)\](?:,\s*performanceMetricID:\s*(?P<id>[\w.]+))?")
#: the start of a measured line, whatever follows (to name a line whose numbers are corrupted)
_MEASURED_LOOSE = re.compile(r"Test Case '(?:-\[(?P<case>[^\]]+)\]|(?P<case2>[^'\[\]]+))' measured "
                             r"\[(?P<metric>[^\]]*)\]")
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
    where = "" if file is None else f"{file}: "
    for i, excerpt in enumerate(split_excerpts(text)):
        for line in excerpt.splitlines():
            m = _MEASURED.search(line)
            loose = m or _MEASURED_LOOSE.search(line)
            if not loose:
                continue
            case = loose.group("case") or loose.group("case2")  # '-[Module.Class test]' or 'Class.test' (Linux)
            rec = cases.get(case)
            if rec is None:
                rec = DeviceRecord(device=DeviceInfo(platform="ios"), runtime=RuntimeInfo(name="xctest"),
                                   source={"tool": "xctest", "parser": "xctest", "test_case": case,
                                           "file": None if file is None else str(file), "excerpt": i},
                                   raw_log="")
                rec.extra["xctest"] = {}
                cases[case] = rec
            rec.raw_log += line.strip() + "\n"
            if not m:
                # a 'measured [...]' line whose average or values are not numbers: named, not dropped silently
                rec.errors.append(f"{where}{case} [{loose.group('metric')}] left out: its average or values are "
                                  "not a number")
                continue
            metric, unit = m.group("metric").strip(), m.group("unit").strip()
            not_numbers = [t.strip() for t in m.group("values").split(",")
                           if t.strip() and not re.fullmatch(NUM, t.strip())]
            if not_numbers:
                rec.errors.append(f"{where}{case} [{metric}, {unit}]: {len(not_numbers)} value(s) are not a number "
                                  f"(e.g. {not_numbers[0]!r}); left out")
            lower = metric.lower()
            is_time = ("time" in lower and "cpu" not in lower) and unit in _TIME_SCALE
            is_memory = lower.startswith("memory") and unit.lower() == "kb"
            bound, scale = _metric_bound(lower, unit, is_time, is_memory)
            values, bad = [], []
            for v in _values(m.group("values")):
                kept, why = plausible_value(v, bound, scale=scale)
                values.append(kept)
                if why:
                    bad.append(why)
            average, why_avg = plausible_value(float(m.group("avg")), bound, scale=scale)
            if bad or why_avg:
                rec.errors.append(f"{'' if file is None else f'{file}: '}{case} [{metric}, {unit}]: "
                                  f"{len(bad)} of {len(values)} value(s){' and the average' if why_avg else ''} "
                                  f"implausible (e.g. {(bad or [why_avg])[0]}); set to null and left out")
            rec.extra["xctest"][metric] = {"unit": unit, "average": average,
                                           "relative_std_percent": float(m.group("rsd")), "values": values,
                                           "metric_id": m.group("id")}
            valid = [v for v in values if v is not None]
            if is_time and valid:
                rec.latency = latency_stats([v * scale for v in valid])
                rec.extra["xctest"][metric]["latency_source"] = True
            elif is_memory and valid:
                mem = rec.memory if rec.memory.figures else MemoryStats(source_unit="kB (XCTest, 10^3 bytes)")
                if "peak" in lower:
                    mem.peak_mb = max(valid) * KB_TO_MB
                    mem.figures.append("peak_mb")
                else:
                    mem.physical_delta_mb = float(sum(valid) / len(valid)) * KB_TO_MB
                    mem.figures.append("physical_delta_mb")
                rec.memory = mem
    records = list(cases.values())
    for rec in records:
        rec.check_plausible(file).flag_missing()
    return records


#: CPU cycles and instructions of one measured block, in thousands (kC, kI): never negative, and a day of 64
#: cores at 5 GHz is ~3e13 k (the kernel's table has no CPU counts)
_CPU_COUNT = Bound(0.0, 1e15, "k", "a block runs fewer than 1e18 cycles or instructions")
#: CPU time of one block: like a wall-clock duration, at most a day per core of a large machine
_CPU_TIME = Bound(0.0, 64 * BOUNDS["duration_s"].high, "s", "CPU time of a block stays below a day on 64 cores")


def _metric_bound(lower: str, unit: str, is_time: bool, is_memory: bool) -> tuple[Bound, float]:
    """The bound of one XCTest metric's values and the factor to the bound's unit."""
    if is_time:
        return BOUNDS["latency_ms"], _TIME_SCALE[unit]
    if is_memory:
        # peak physical memory is a footprint; "Memory Physical" is its change over the block (any sign)
        return (BOUNDS["memory_bytes"] if "peak" in lower else MEMORY_DELTA), 1000.0
    if unit in _TIME_SCALE:
        return _CPU_TIME, _TIME_SCALE[unit] / 1000.0
    return _CPU_COUNT, 1.0
