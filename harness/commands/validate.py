"""``stancebench validate``: run a validation study described by a TOML manifest on your own data."""
from __future__ import annotations

import contextlib
import sys

from ._study import (add_run_options, apply_strict, check_workers, history_extra, open_run_store, print_outputs,
                     record_in_store)

HELP = "Run a validation study described by a TOML manifest on your own data."
DESCRIPTION = (
    "Run a validation study described by a TOML study manifest (subjects, trials with gold-standard and video "
    "files, candidates, settings; see docs/manifest.md): every trial x candidate is run or loaded from the cache, "
    "clocks are aligned, KPIs computed on both sides and paired, agreement measured per KPI x candidate x "
    "condition, device cost measured on this host, gates evaluated. Writes DIR/results.json, tidy CSV tables and "
    "DIR/report.html. The manifest is checked up front (every file it names must be a readable, non-empty regular "
    "file); every problem is listed with its field. A trial whose native code crashes is marked failed and the "
    "study goes on. "
    "Exit codes: 0 ok (all blocking gates pass), 1 a blocking gate failed or no trial produced a result, "
    "2 bad input. The run is recorded in the results store (--store, docs/store.md) after results.json is "
    "written; a store that cannot be opened stops the command before the study runs (exit 2).")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("validate", help=HELP, description=DESCRIPTION)
    p.add_argument("manifest", metavar="MANIFEST.toml", help="the study manifest")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--policy", metavar="POLICY.toml", help="gate policy; without one no gates are evaluated")
    p.add_argument("--data-root", metavar="DIR",
                   help="folder that relative paths in the manifest resolve against (default: "
                        "$STANCEBENCH_DATA_ROOT, else [study] data_root, else the manifest's folder)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: settings.workers or "
                                                            "one per core)")
    p.add_argument("--check", action="store_true", help="only validate the manifest and exit")
    p.add_argument("--no-device", action="store_true", help="skip the host device runner")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the trial x candidate tasks on a Dask cluster: tcp://HOST:8786 (a running `dask "
                        "scheduler`; every worker must see the manifest's files at the same paths) or local:N (N "
                        "worker processes on this machine). Needs the extra: pip install 'stancebench[dask]' "
                        "(docs/scale.md)")
    p.add_argument("--resume", action="store_true",
                   help="keep what an earlier, interrupted run into the same --out finished (DIR/journal) and "
                        "compute only the missing trial x candidate runs; without it the journal is cleared")
    add_run_options(p, run)


def run(args) -> int:
    apply_strict(args)
    from ground_truth.kernel import check_output_path
    from harness.manifest import load_manifest
    from harness.study import run_study, summary_lines

    # an output folder that cannot be one is refused before anything runs (also under --check)
    check_output_path(args.out, field="--out", kind="dir")
    manifest = load_manifest(args.manifest, data_root=args.data_root)
    n_trials = len(manifest.trials)
    print(f"manifest {manifest.path}: {len(manifest.subjects)} subjects, {n_trials} trials, "
          f"{len(manifest.candidates)} candidates, data root {manifest.data_root}")
    if args.check:
        _check_videos(manifest)
        print("manifest ok")
        return 0
    check_workers(args.workers)
    if args.scheduler:
        from harness.dask_engine import import_distributed
        import_distributed()     # refused (exit 2, how to install it) before the store or a cluster is touched
    store = open_run_store(args)
    try:
        with _client(args.scheduler) as client:
            results = run_study(manifest, args.out, policy=args.policy, workers=args.workers,
                                progress=not args.no_progress, kind="manifest", device=not args.no_device,
                                report=not args.no_report, client=client, resume=args.resume,
                                extra=history_extra(store, manifest, label=args.label) or None)
        for line in summary_lines(results):
            print(line)
        print_outputs(results)
        code = int(results.get("exit_code", 0))
        if not any(r["status"] == "ok" for r in results["trials"]):
            print("no trial produced a result (see the reasons above)", file=sys.stderr)
            code = max(code, 1)
        # results.json states the manifest's sha256, hashed by run_study before the trials ran
        record_in_store(store, results, command="validate", label=args.label, exit_code=code)
    finally:
        if store is not None:
            store.close()
    return code


def _client(scheduler: str | None):
    """The Dask client of ``--scheduler`` (closed, with a cluster it started, on exit), or a null context."""
    if not scheduler:
        return contextlib.nullcontext()
    from harness.dask_engine import cluster_client
    return cluster_client(scheduler)


def _check_videos(manifest) -> None:
    """Every video of the manifest demuxed (no pixel decoding): a truncated file, a zero time scale or an absurd
    frame rate is listed with the trial and field, all at once, before a study would spend hours on the rest."""
    from candidates.video import probe_video
    from ground_truth.kernel import ManifestError, ReaderError

    problems, seen = [], set()
    for trial in manifest.trials:
        for i, video in enumerate(trial.video):
            if video in seen:
                continue
            seen.add(video)
            try:
                probe_video(video, with_sha256=False)
            except ReaderError as exc:
                problems.append(f"trials '{trial.id}' video[{i}]: {exc}")
    if problems:
        raise ManifestError(f"{len(problems)} video(s) cannot be analysed:\n  " + "\n  ".join(problems),
                            file=manifest.path, field="video", expected="complete, decodable videos")
