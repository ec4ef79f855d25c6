"""Benchmark: all ``bds2016`` sway metrics of the 200 BDS trials, reading included, against the time
``pandas.read_csv`` alone needs for the same files (target ratio < 2).

    python benchmarks/bench_sway.py [--repeat 3]

Both sides run in this process, interleaved, and the best of ``--repeat`` rounds is kept for each, so that
load from other processes on a shared machine affects both alike.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cop_bds"


def peer(files) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    for f in files:
        pd.read_csv(f, sep="\t")
    return time.perf_counter() - t0


def ours(files) -> float:
    from ground_truth.readers import read_recording
    from ground_truth.sway import sway_metrics

    t0 = time.perf_counter()
    for f in files:
        rec = read_recording(f, "bmclab")
        ts = rec.plate(0)
        _, cop = rec.horizontal_cop(0)
        sway_metrics(cop, ts.fs, "bds2016")
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    files = sorted(DATA.glob("BDS0*.txt"))
    if len(files) != 200:
        print(f"need the 200 BDS trials in {DATA} (found {len(files)})", file=sys.stderr)
        return 2
    ours(files[:3]), peer(files[:3])  # warm imports and caches
    best_peer = best_ours = float("inf")
    for _ in range(args.repeat):
        best_peer = min(best_peer, peer(files))
        best_ours = min(best_ours, ours(files))
    ratio = best_ours / best_peer
    print(f"pandas.read_csv only, 200 BDS files:            {best_peer:.3f} s")
    print(f"read_recording + bds2016 metrics, 200 files:    {best_ours:.3f} s")
    print(f"ratio (target < 2): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
