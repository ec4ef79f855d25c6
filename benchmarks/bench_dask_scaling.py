"""Throughput of one study on a Dask LocalCluster of 2 workers against 1 worker (same machine, same process).

A small synthetic study (``stancebench demo``'s generator: 2 subjects x 2 conditions, one camera, the real
BlazePose TFLite backbone) is run with ``run_study(..., client=...)`` on a LocalCluster of 1 and of 2
single-threaded worker processes, each run with an empty inference cache of its own (so both infer every frame),
alternating which goes first over the rounds. Prints the tasks per second of each and their ratio (ideal 2.0 on
a machine with 2 free cores), and what docs/scale.md plans from: inference ms per frame, peak RSS per worker,
bytes of inference cache and of journal per trial x candidate.

    python benchmarks/bench_dask_scaling.py [--rounds 1] [--subjects 2] [--duration 4]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path


def peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB (runs on each worker: Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_once(manifest_path: Path, n_workers: int, root: Path) -> dict:
    import distributed

    from harness.dask_engine import ALLOWED_FAILURES
    from harness.manifest import load_manifest
    from harness.study import run_study
    from harness.workers import THREAD_VARS, WORKER_ENV
    manifest = load_manifest(manifest_path)
    cache = Path(tempfile.mkdtemp(prefix=f"cache-{n_workers}-", dir=root))
    manifest.settings.cache_dir = cache
    out = Path(tempfile.mkdtemp(prefix=f"out-{n_workers}-", dir=root))
    env = dict(WORKER_ENV, **{k: "1" for k in THREAD_VARS})
    import dask
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, env=env, silence_logs=40)
    with cluster, distributed.Client(cluster) as client:
        t0 = time.perf_counter()
        res = run_study(manifest, out, client=client, progress=False, device=False, report=False)
        wall = time.perf_counter() - t0
        rss = client.run(peak_rss_mib)
    rows = res["trials"]
    frames = [r["inference"]["n_frames"] for r in rows if r.get("inference")]
    ms = [r["inference"]["ms_per_frame"] for r in rows if r.get("inference")]
    return {"tasks": len(rows), "ok": sum(r["status"] == "ok" for r in rows), "trials_s": res["timings"]["trials_s"],
            "wall_s": wall, "ms_per_frame": statistics.median(ms), "frames": sum(frames),
            "rss_mib": max(rss.values()), "cache_bytes": folder_bytes(cache),
            "journal_bytes": folder_bytes(out / "journal")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--subjects", type=int, default=2)
    ap.add_argument("--duration", type=float, default=4.0, help="protocol maximum of each trial, s")
    args = ap.parse_args()
    from harness.synthetic_study import DemoConfig, generate_demo_study
    root = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    cfg = DemoConfig(n_subjects=args.subjects, duration_s=args.duration, cameras=1, controls=False,
                     candidates=("blazepose-tflite",))
    study = generate_demo_study(root / "study", cfg, progress=False)
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for r in range(args.rounds):
        for n in ((1, 2) if r % 2 == 0 else (2, 1)):   # alternate, so that a load change hits both
            runs[n].append(run_once(study.manifest_path, n, root))
    for n, rs in runs.items():
        best = min(rs, key=lambda x: x["trials_s"])
        print(f"{n} worker(s): {best['tasks']} tasks ({best['ok']} ok, {best['frames']} frames) in "
              f"{best['trials_s']:.1f} s = {best['tasks'] / best['trials_s']:.3f} tasks/s; inference "
              f"{best['ms_per_frame']:.1f} ms/frame; peak RSS per worker {best['rss_mib']:.0f} MiB")
    one, two = (min(r["trials_s"] for r in runs[n]) for n in (1, 2))
    last = runs[2][-1]
    print(f"storage per trial x candidate: inference cache {last['cache_bytes'] / last['tasks'] / 1e3:.0f} kB, "
          f"journal {last['journal_bytes'] / last['tasks'] / 1e3:.0f} kB")
    print(f"throughput ratio 2 workers / 1 worker: {one / two:.2f} (ideal 2.00)")


if __name__ == "__main__":
    main()
