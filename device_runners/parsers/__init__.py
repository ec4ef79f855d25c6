"""Parsers of text that on-device benchmark and profiling tools print.

Each parser reads one tool's output in every format variant we know of (line prefixes such as ``INFO: `` or an
Android logcat prefix, scientific notation, old layouts) and returns :class:`~device_runners.record.DeviceRecord`
objects; a log cut short gives a partial record with the missing fields named, never an invented number.
Saved files may hold several independent excerpts separated by a line starting with ``---8<---``; ``#`` lines
at the start of a line are comments added by whoever saved the log and are ignored.
"""
from __future__ import annotations

from ._text import split_excerpts
from .batterystats import BatteryStats, parse_batterystats, batterystats_records
from .benchmark_model import parse_benchmark_model
from .litert_benchmark import parse_litert_benchmark
from .meminfo import MemInfo, parse_meminfo, meminfo_records
from .metrickit import parse_metrickit
from .mlperf import parse_mlperf
from .xctest import parse_xctest

#: ``stancebench device-parse --kind`` -> function(text, *, file=None) -> list[DeviceRecord]
KINDS = {
    "benchmark_model": parse_benchmark_model,
    "batterystats": lambda text, file=None: batterystats_records(parse_batterystats(text, file=file), file=file),
    "meminfo": lambda text, file=None: meminfo_records(parse_meminfo(text, file=file), file=file),
    "xctest": parse_xctest,
    "metrickit": parse_metrickit,
    "mlperf": parse_mlperf,
    "litert_benchmark": parse_litert_benchmark,
}

#: (kind, marker substrings): the first kind with a marker in the text wins; order matters (LiteRT's Python
#: benchmark prints benchmark_model-like lines, MLPerf JSON mentions TFLite)
_MARKERS = [
    ("litert_benchmark", ("benchmark_litert_model", '"fully_accelerated"')),
    ("mlperf", ('"environment_info"', '"backend_settings"')),
    ("metrickit", ('"cumulativeCPUTime"', '"peakMemoryUsage"', '"signpostMetrics"', '"cpuMetrics"')),
    ("xctest", ("' measured [",)),
    ("meminfo", ("** MEMINFO in pid", "TOTAL PSS:", "App Summary", "TOTAL SWAP PSS:")),
    ("batterystats", ("Estimated power use", "Computed drain:", ",pwi,", ",pws,")),
    ("benchmark_model", ("count=", "Inference timings in us", "Memory footprint delta", "benchmark_model",
                         "Initialized session in", "peak memory footprint")),
]


def guess_kind(text: str) -> str | None:
    """Which tool printed ``text`` (a key of :data:`KINDS`), from marker strings; None if unknown."""
    for kind, markers in _MARKERS:
        if any(m in text for m in markers):
            return kind
    return None


__all__ = ["KINDS", "guess_kind", "split_excerpts", "parse_benchmark_model", "parse_batterystats",
           "batterystats_records", "BatteryStats", "parse_meminfo", "meminfo_records", "MemInfo", "parse_xctest",
           "parse_metrickit", "parse_mlperf", "parse_litert_benchmark"]
