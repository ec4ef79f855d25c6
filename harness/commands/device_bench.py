"""``stancebench device-bench``: measure latency, memory, energy and size of a model on host, Android or iOS."""
from __future__ import annotations

HELP = "Measure latency, memory, energy and size of a model on host, Android or iOS."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "device-bench", help=HELP,
        description=HELP + " Writes versioned device records (docs/device-runners.md); latency in ms with "
        "nearest-rank percentiles and every run kept, memory in MB = 10^6 bytes. Exit 2 on bad input or a "
        "device fault; records measured before a fault are still written.")
    p.add_argument("model", help="model file: .tflite (host, android) or .mlmodel/.mlpackage (ios, host coreml)")
    p.add_argument("--runner", required=True, choices=["host", "android", "ios"])
    p.add_argument("--threads", type=int, help="CPU threads (default: host 1, android 4)")
    p.add_argument("--runs", type=int, help="timed runs per trial (default: host and android 50, ios the count "
                                           "the template was installed with)")
    p.add_argument("--warmup", type=int, help="warm-up runs (default: host 5, android 1)")
    p.add_argument("--min-secs", type=float, help="time for at least this long (default: host 0, android 1)")
    p.add_argument("--trials", type=int, default=1, help="repeated trials (replicability, default 1)")
    p.add_argument("--cooldown", type=float, default=0.0, help="seconds of rest between trials")
    p.add_argument("--delegate", help="android: cpu|xnnpack|gpu|nnapi|hexagon; ios: Core ML compute units "
                                      "all|cpuOnly|cpuAndGPU|cpuAndNeuralEngine; host: xnnpack (LiteRT's CPU "
                                      "default, the only one a host runs)")
    g = p.add_argument_group("host")
    g.add_argument("--runtime", default="litert", choices=["litert", "tflite_runtime", "mediapipe", "coreml"])
    g.add_argument("--cpus", help="pin to these CPUs, e.g. 0,1")
    g.add_argument("--video", help="mediapipe runtime: take the frame from this video (first frame)")
    g = p.add_argument_group("android")
    g.add_argument("--adb", default="adb", help="adb executable (default: adb on PATH)")
    g.add_argument("--serial", help="device serial (adb -s), needed with several devices")
    g.add_argument("--benchmark-binary", help="benchmark_model built for the device, pushed to /data/local/tmp")
    g.add_argument("--no-battery", action="store_true", help="skip the batterystats reset/estimate")
    g.add_argument("--package", help="app-level run: reset batterystats, wait --app-secs, read this app's "
                                     "estimate and PSS (no benchmark_model)")
    g.add_argument("--app-secs", type=float, default=60.0)
    g = p.add_argument_group("ios")
    g.add_argument("--xcodebuild", default="xcodebuild", help="xcodebuild executable")
    g.add_argument("--ios-project", help=".xcodeproj with the template test added")
    g.add_argument("--ios-workspace", help=".xcworkspace (instead of --ios-project)")
    g.add_argument("--scheme")
    g.add_argument("--destination", help="xcodebuild -destination, e.g. 'platform=iOS,name=My iPhone'")
    g.add_argument("--only-testing", help="xcodebuild -only-testing value (the number of timed predictions is "
                                          "set in the template: device_runners.ios.install_template)")
    p.add_argument("--json", dest="json_out", metavar="OUT.json", help="write the records here")
    p.set_defaults(func=run)


def _print(records, summary) -> None:
    for r in records:
        lat = r.latency
        line = [f"trial {r.protocol.trial}" if r.protocol.trial is not None else "record", r.status,
                r.model.name or "-", f"{r.runtime.name}/{r.runtime.delegate}"]
        if lat.p50_ms is not None:
            line.append(f"p50={lat.p50_ms:.3f} ms p90={lat.p90_ms:.3f} p99={lat.p99_ms:.3f} n={lat.n}"
                        if lat.p90_ms is not None else f"p50={lat.p50_ms:.3f} ms n={lat.n}")
        if r.memory.peak_mb is not None:
            line.append(f"peak={r.memory.peak_mb:.1f} MB")
        line.append(f"energy: {r.energy.value} {r.energy.unit}" if r.energy.value is not None
                    else f"energy: not measured ({r.energy.reason})")
        print("  ".join(line))
    if summary and summary.get("within") is not None:
        print(f"replicability: p50 of {summary['n_trials']} trials within {summary['max_rel_dev'] * 100:.2f}% "
              f"of their median ({'ok' if summary['within'] else 'NOT'} within {summary['tolerance'] * 100:.0f}%)")


def _check_args(args) -> None:
    """Refuse, before anything runs on a device, options that cannot be a benchmark (negative runs, a NaN
    duration), a model path that is not a model file and an output path that cannot be written."""
    from pathlib import Path

    from device_runners.plausibility import COUNT, SETUP_S
    from ground_truth.kernel import ModelError, check_input_file, check_output_path, check_range

    for option, value, low in (("--threads", args.threads, 1), ("--runs", args.runs, 1), ("--warmup", args.warmup, 0),
                               ("--trials", args.trials, 1)):
        check_range(value, option, low, COUNT.high, optional=True, unit="(a whole number)")
    for option, value, positive in (("--min-secs", args.min_secs, False), ("--cooldown", args.cooldown, False),
                                    ("--app-secs", args.app_secs, True)):
        check_range(value, option, 0.0, SETUP_S.high, low_open=positive, optional=True, unit="s")
    model = Path(args.model)
    if model.suffix.lower() == ".mlpackage":   # a Core ML package is a directory
        if not model.is_dir():
            raise ModelError("is not a directory", file=model, field="model", expected="a .mlpackage directory")
    else:
        check_input_file(model, what="model file", field="model", error=ModelError)
    if args.json_out:
        check_output_path(args.json_out, field="--json", suffixes=(".json",))


def run(args) -> int:
    import sys

    from device_runners.android import DeviceRunError
    from device_runners.record import write_records
    from ground_truth.kernel import InputError

    _check_args(args)
    records, summary = [], None
    if args.runner == "host" and args.delegate not in (None, "xnnpack"):
        raise InputError(f"the host runner has no {args.delegate!r} delegate", field="--delegate",
                         expected="xnnpack (LiteRT's CPU default) on the host; gpu, nnapi and hexagon run on a phone "
                                  "(--runner android), Core ML compute units on iOS (--runner ios)")
    if args.runner == "ios":
        given = [f for f, v in (("--threads", args.threads), ("--warmup", args.warmup), ("--min-secs", args.min_secs))
                 if v is not None]
        if given:
            raise InputError(f"{', '.join(given)} cannot be set for the ios runner", field=given[0],
                             expected="--runs and --delegate (Core ML picks its threads; XCTest's measure block "
                                      "times every iteration)")
    runs = args.runs if args.runs is not None or args.runner == "ios" else 50
    try:
        if args.runner == "host":
            from device_runners.host import run_host, summarize_trials
            frame = None
            if args.video:
                from device_runners.variants import decode_frames
                frame = decode_frames(args.video, n=1)[0]
            cpus = None
            if args.cpus:
                try:
                    cpus = [int(c) for c in args.cpus.split(",") if c.strip()]
                except ValueError:
                    raise InputError(f"not a list of CPU numbers: {args.cpus!r}", field="--cpus",
                                     expected="e.g. 0,1") from None
            records = run_host(args.model, runtime=args.runtime, threads=args.threads or 1, runs=runs,
                               warmup=5 if args.warmup is None else args.warmup,
                               min_secs=0.0 if args.min_secs is None else args.min_secs,
                               cooldown_s=args.cooldown, trials=args.trials, cpu_affinity=cpus, frame=frame)
            summary = summarize_trials(records)
        elif args.runner == "android":
            from device_runners.android import measure_app, run_android
            if args.package:
                records = [measure_app(args.package, adb=args.adb, serial=args.serial, duration_s=args.app_secs,
                                       model_path=args.model)]
            else:
                records = run_android(args.model, adb=args.adb, serial=args.serial,
                                      benchmark_binary=args.benchmark_binary, threads=args.threads or 4,
                                      runs=runs, warmup=1 if args.warmup is None else args.warmup,
                                      min_secs=1.0 if args.min_secs is None else args.min_secs,
                                      delegate=args.delegate or "xnnpack",
                                      trials=args.trials, cooldown_s=args.cooldown, battery=not args.no_battery)
                from device_runners.record import replicability
                summary = replicability(records)
        else:
            from device_runners.ios import run_ios
            if not args.scheme or not args.destination:
                raise InputError("the ios runner needs --scheme and --destination", field="--scheme/--destination",
                                 expected="e.g. --scheme App --destination 'platform=iOS,name=My iPhone'")
            records = run_ios(args.model, scheme=args.scheme, destination=args.destination,
                              project=args.ios_project, workspace=args.ios_workspace, xcodebuild=args.xcodebuild,
                              only_testing=args.only_testing, compute_units=args.delegate or "all",
                              runs=runs)
    except DeviceRunError as exc:
        # keep what was measured before the fault, then report it as bad input / device fault (exit 2)
        if args.json_out:
            write_records(args.json_out, exc.records, errors=[str(exc)])
            print(f"{len(exc.records)} record(s) (including the failed one) written to {args.json_out}",
                  file=sys.stderr)
        raise
    _print(records, summary)
    if args.json_out:
        write_records(args.json_out, records, replicability_summary=summary)
        print(f"{len(records)} record(s) written to {args.json_out}")
    return 0
