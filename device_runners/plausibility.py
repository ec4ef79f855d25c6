"""Plausibility of the figures of a device record: bounds per figure and the checks that apply them.

Latency, memory, energy and model size come from the kernel's one table (``ground_truth.kernel.BOUNDS``); the
bounds below are quantities that table does not hold. A figure outside its bound becomes None, and the record
names it (``DeviceRecord.check_plausible``), so a corrupted log never reaches a gate as a number.
"""
from __future__ import annotations

import math

import numpy as np

from ground_truth.kernel import BOUNDS, Bound

#: a spread (SD) of latencies may be 0 (every run equal), unlike a latency
LATENCY_SPREAD = Bound(0.0, BOUNDS["latency_ms"].high, "ms", "an SD of latencies lies between 0 and the longest "
                        "plausible latency")
#: growth of a footprint may be negative (memory released), never beyond the plausible footprint
MEMORY_DELTA = Bound(-BOUNDS["memory_bytes"].high, BOUNDS["memory_bytes"].high, "bytes",
                      "a change of memory use is smaller than the largest plausible footprint")
#: run counts, warm-up counts, trials and threads: whole numbers a benchmark can reach (1e9 runs of 1 ms is
#: eleven days)
COUNT = Bound(0.0, 1e9, "", "a count of runs, trials or threads is a whole number below a billion")
#: inferences per second: the inverse of a latency
THROUGHPUT = Bound(0.0, 1e9, "1/s", "inferences per second are more than 0 and fewer than a billion", True)
#: protocol durations may be 0 (no minimum time, no cooldown)
SETUP_S = Bound(0.0, BOUNDS["duration_s"].high, "s", "a benchmark's minimum time or cooldown is 0 s to a day")
#: battery charge (batterystats estimates): a large tablet battery holds ~10 Ah; 1000 Ah is no phone's
CHARGE_MAH = Bound(0.0, 1e6, "mAh", "a phone or tablet battery holds a few thousand mAh, never a million")

LATENCY_FIELDS = ("init_ms", "first_ms", "warmup_mean_ms", "mean_ms", "min_ms", "p5_ms", "p50_ms", "p90_ms",
                   "p95_ms", "p99_ms", "max_ms")
#: memory figures (MB) that are footprints (>= 0) and those that are changes (any sign)
MEMORY_FIELDS = ("peak_mb", "rss_mb", "pss_mb", "swap_pss_mb")
MEMORY_DELTA_FIELDS = ("tool_delta_init_mb", "tool_delta_overall_mb", "rss_delta_mb", "physical_delta_mb")


def _number(value):
    """``value`` as a float when it is a real number (not a bool, not text), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def plausible_value(value, bound: Bound, *, scale: float = 1.0, integer: bool = False):
    """``(value, None)`` when ``value`` (times ``scale``, in the bound's unit) is a real number inside ``bound``
    (and a whole number when ``integer``); else ``(None, reason)``. None stays None."""
    if value is None:
        return None, None
    x = _number(value)
    if x is None:
        return None, f"{value!r} is not a number"
    if not math.isfinite(x):
        return None, f"{x} is not a finite number"
    if integer and not x.is_integer():
        return None, f"{x:g} is not a whole number"
    if not bool(bound.contains(np.array([x * scale]))[0]):
        return None, f"{x:g}{'' if scale == 1 else f' (= {x * scale:.4g} {bound.unit})'} is outside " \
                     f"{bound.describe()} ({bound.why})"
    return (int(x) if integer else value), None


def plausible_tree(obj, bound: Bound, *, scale: float = 1.0):
    """``obj`` (numbers, or dicts/lists of them) with every number outside ``bound`` replaced by None, the count
    of numbers replaced and the first reason (for figures a record keeps in ``extra``)."""
    if isinstance(obj, dict):
        parts = {k: plausible_tree(v, bound, scale=scale) for k, v in obj.items()}
        return ({k: p[0] for k, p in parts.items()}, sum(p[1] for p in parts.values()),
                next((p[2] for p in parts.values() if p[2]), None))
    if isinstance(obj, (list, tuple)):
        parts = [plausible_tree(v, bound, scale=scale) for v in obj]
        return [p[0] for p in parts], sum(p[1] for p in parts), next((p[2] for p in parts if p[2]), None)
    if _number(obj) is None:
        return obj, 0, None
    value, why = plausible_value(obj, bound, scale=scale)
    return value, int(why is not None), why
