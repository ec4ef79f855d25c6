"""The timing helper the benchmark scripts share (``python benchmarks/NAME.py`` puts this folder on the path)."""
from __future__ import annotations

import time


def best_of(fn, repeat=5):
    """``(fastest wall time in seconds over repeat calls of fn(), the last call's result)``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
