"""``stancebench device-parse``: turn a saved on-device benchmark or profiling log into result records."""
from __future__ import annotations

HELP = "Turn a saved on-device benchmark or profiling log into result records."
KINDS = ["benchmark_model", "batterystats", "meminfo", "xctest", "metrickit", "mlperf", "litert_benchmark"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "device-parse", help=HELP, description=HELP + " Fields the log does not contain are null and listed in "
        "'missing'; a record missing its mean, median or run count has status 'partial'. A figure that is not "
        "plausible (a negative or 1e308 latency, memory beyond 16 TiB) is null and named in 'errors'. "
        "MB = 10^6 bytes.")
    p.add_argument("file", help="saved log (text or JSON); '---8<---' lines separate independent excerpts")
    p.add_argument("--kind", required=True, choices=KINDS + ["auto"],
                   help="which tool printed the log ('auto': guess from its content)")
    p.add_argument("--json", dest="json_out", metavar="OUT.json", nargs="?", const="-",
                   help="print the records as JSON on stdout, or write them to OUT.json ('-' is stdout too); "
                        "without it a summary table is printed")
    p.add_argument("--uid", type=int, help="batterystats: keep only this UID (e.g. 2000 = adb shell)")
    p.set_defaults(func=run)


def _summary_line(rec) -> str:
    lat, mem, en = rec.latency, rec.memory, rec.energy
    parts = [f"{rec.status:8s}", rec.model.name or "-", rec.runtime.delegate or "-"]
    if lat.mean_ms is not None:
        parts.append(f"mean={lat.mean_ms:.3f}ms")
    if lat.p50_ms is not None:
        parts.append(f"p50={lat.p50_ms:.3f}ms")
    if lat.n is not None:
        parts.append(f"n={lat.n}")
    for name in mem.figures:
        if getattr(mem, name, None) is not None:
            parts.append(f"{name}={getattr(mem, name):.3f}")
    if en.value is not None:
        parts.append(f"energy={en.value:g}{en.unit} ({en.method})")
    if rec.missing:
        parts.append("missing: " + ",".join(m.split(".")[-1] for m in rec.missing))
    flagged = [e for e in rec.errors if "implausible" in e]
    if flagged:
        parts.append(f"implausible: {len(flagged)} figure(s) set to null (see errors in --json)")
    return "  ".join(parts)


def _has_figures(rec) -> bool:
    """Does a record hold any measured latency, memory or energy figure?"""
    lat = rec.latency
    return (any(getattr(lat, name) is not None for name in ("mean_ms", "p50_ms", "min_ms", "max_ms", "init_ms",
                                                            "first_ms", "warmup_mean_ms", "throughput_per_s"))
            or bool(rec.memory.figures) or rec.energy.value is not None)


def run(args) -> int:
    import json
    import sys
    from pathlib import Path

    from device_runners.parsers import KINDS as PARSERS, batterystats_records, parse_batterystats
    from device_runners.record import FILE_KIND, SCHEMA_VERSION
    from ground_truth.kernel import ReaderError, check_output_path, read_text_file, write_text_atomic

    path = Path(args.file)
    if args.json_out and args.json_out != "-":
        check_output_path(args.json_out, field="--json")
    # a directory, FIFO or device is refused before anything opens it; bytes that are not UTF-8 are named
    text = read_text_file(path, what="saved log file")
    if args.kind == "auto":
        from device_runners.parsers import guess_kind
        args.kind = guess_kind(text)
        if args.kind is None:
            raise ReaderError("cannot tell which tool printed this log", file=path,
                              expected=f"output of one of: {', '.join(KINDS)} (or pass --kind)")
    skipped: list[dict] = []
    if args.kind == "batterystats":
        records = batterystats_records(parse_batterystats(text, file=path, skipped=skipped), uid=args.uid,
                                       file=path)
    else:
        records = PARSERS[args.kind](text, file=path)
    if not records:
        raise ReaderError(f"no {args.kind} measurements found", file=path,
                          expected=f"the output of {args.kind}")
    if not any(_has_figures(rec) for rec in records):
        flagged = [e for rec in records for e in rec.errors if "implausible" in e or "not a number" in e]
        if flagged:
            raise ReaderError(f"no plausible figure left in {len(records)} record(s): {flagged[0]}"
                              + (f" (and {len(flagged) - 1} more)" if len(flagged) > 1 else ""), file=path,
                              expected=f"the output of {args.kind} with plausible latencies, memory or energy")
    for skip in skipped:
        print(f"{path}: excerpt {skip['excerpt']} skipped: {skip['reason']}", file=sys.stderr)
    if args.json_out:
        doc = {"schema_version": SCHEMA_VERSION, "kind": FILE_KIND, "mb_definition": "1 MB = 10^6 bytes",
               "records": [r.to_dict() for r in records], **({"skipped_excerpts": skipped} if skipped else {})}
        text_out = json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        if args.json_out == "-":
            sys.stdout.write(text_out)
        else:
            write_text_atomic(args.json_out, text_out, field="--json")
            print(f"{len(records)} record(s) written to {args.json_out}")
    else:
        for rec in records:
            print(_summary_line(rec))
    return 0
