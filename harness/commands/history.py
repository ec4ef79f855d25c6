"""``stancebench history``: the runs recorded in the results store (docs/store.md).

``stancebench history [list] [filters]`` lists runs, ``history show RUN`` shows one, ``history check`` (or
``history --check``) checks the store's consistency.

``history compare RUN_A RUN_B`` compares two runs and ``history --channel NAME`` prints a release channel's
promotion log (:mod:`harness.commands.history_compare`, docs/promotion.md).
"""
from __future__ import annotations

import argparse
import json
import sys

from .history_compare import add_channel_option, add_compare_parser, run_channel

HELP = "List, show and check the runs recorded in the results store (validate, demo and gate record into it)."
DESCRIPTION = HELP + (
    " 'history' (or 'history list') lists runs, newest first, with filters; 'history show RUN' shows one run "
    "(RUN: a run id, a unique prefix of at least 4 characters, or 'latest'); 'history check' (or 'history "
    "--check') runs SQLite's integrity and foreign-key checks and looks for orphaned or incomplete rows. The "
    "store is --store PATH, else $STANCEBENCH_STORE, else the per-user default (docs/store.md). Exit codes: 0 ok, "
    "1 the check found a problem, 2 bad input (a store that cannot be read, a run that is not there).")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("history", help=HELP, description=DESCRIPTION)
    _add_list_options(p, top=True)
    p.add_argument("--check", action="store_true", help="same as 'history check'")
    sub = p.add_subparsers(dest="history_command", metavar="SUBCOMMAND")
    lp = sub.add_parser("list", help="list runs, newest first (the default)", description=DESCRIPTION)
    _add_list_options(lp, top=False)
    lp.set_defaults(func=run_list)
    _add_show_parser(sub)
    add_compare_parser(sub)
    cp = sub.add_parser("check", help="check the store's consistency (exit 1 when not ok)",
                        description="SQLite's integrity_check and foreign_key_check, rows whose run is missing, "
                                    "and runs whose rows differ from the counts the run declares. Exit 1 when any "
                                    "is found.")
    _add_output_options(cp, top=False, csv=False)
    cp.set_defaults(func=run_check)
    p.set_defaults(func=run)


def _add_output_options(p, *, top: bool, csv: bool = True) -> None:
    """``--store``, ``--json`` (and ``--csv``). On a subcommand they default to SUPPRESS: the value given before
    the subcommand (``history --json show RUN``) is kept."""
    default = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--store", metavar="PATH", help="the results store (default: $STANCEBENCH_STORE, else the "
                                                   "per-user store, docs/store.md)", **default)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON", **default)
    if csv:
        fmt.add_argument("--csv", action="store_true", help="print CSV", **default)


def _add_list_options(p, *, top: bool) -> None:
    default = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--study", metavar="NAME", help="only runs of this study", **default)
    p.add_argument("--candidate", metavar="NAME",
                   help="only runs with this candidate (a name, or a model sha256 prefix of 8+ hex digits)", **default)
    p.add_argument("--since", metavar="DATE", help="only runs recorded on or after DATE (YYYY-MM-DD or ISO "
                                                   "date-time, UTC)", **default)
    p.add_argument("--until", metavar="DATE", help="only runs recorded on or before DATE (a bare date includes "
                                                   "that day)", **default)
    p.add_argument("--label", metavar="TEXT", help="only runs with this label", **default)
    p.add_argument("--limit", type=int, metavar="N", help="at most N runs (the newest)", **default)
    _add_output_options(p, top=top)
    add_channel_option(p, top=top)


def _add_show_parser(sub) -> None:
    sp = sub.add_parser("show", help="show one run: candidates, agreement, device, gate verdicts, files",
                        description="Everything recorded about one run. RUN: a run id, a unique prefix of at least "
                                    "4 characters, or 'latest'.")
    sp.add_argument("run_ref", metavar="RUN", help="run id, unique prefix (4+ characters) or 'latest'")
    sp.add_argument("--trials", action="store_true", help="with --json: include the trial rows")
    _add_output_options(sp, top=False, csv=False)
    sp.set_defaults(func=run_show)


def _open(args, *, create: bool = False):
    from harness.store import open_store
    return open_store(getattr(args, "store", None), create=create)


def run(args) -> int:
    """``history`` without a subcommand: the list, or the check under ``--check``."""
    if getattr(args, "check", False):
        return run_check(args)
    return run_list(args)


# ------------------------------------------------------------------------------------------------------- list
def run_list(args) -> int:
    if getattr(args, "channel", None):
        return run_channel(args)
    from harness.store import default_store_path
    from pathlib import Path
    path = Path(args.store).expanduser() if args.store else default_store_path()
    if not path.exists():
        # an empty history is not an error; nor does reading one create a store
        print(f"no runs recorded: there is no results store at {path} yet", file=sys.stderr)
        df = None
    else:
        with _open(args) as store:
            df = store.runs(study=args.study, candidate=args.candidate, since=args.since, until=args.until,
                            label=args.label, limit=args.limit)
    if df is None:
        from harness.store.queries import RUN_COLUMNS
        import pandas as pd
        df = pd.DataFrame(columns=list(RUN_COLUMNS))
    if args.json:
        _print_json(_records(df))
    elif args.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        _print_table(df)
    return 0


def _records(df) -> list[dict]:
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in df.to_dict("records")]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _print_table(df) -> None:
    if df.empty:
        print("no runs")
        return
    header = ("run", "recorded (UTC)", "command", "study", "candidates", "exit", "blocking", "label")
    rows = []
    for r in _records(df):
        rows.append((r["run_id"][:12], (r["recorded_utc"] or "")[:19].replace("T", " "), r["command"] or "",
                     r["study_name"] or "-", _short(r["candidates"] or "-", 48),
                     "-" if r["exit_code"] is None else str(r["exit_code"]),
                     f"{r['gates_failed']}/{r['n_gates']}" if r["n_gates"] else "-", r["label"] or ""))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    for row in (header, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."


# ------------------------------------------------------------------------------------------------------- show
def run_show(args) -> int:
    with _open(args) as store:
        data = store.run(args.run_ref, with_trials=bool(getattr(args, "trials", False)))
    if getattr(args, "json", False):
        _print_json(data)
        return 0
    for line in show_lines(data):
        print(line)
    return 0


def show_lines(run: dict) -> list[str]:
    """The human summary of :meth:`harness.store.Store.run`'s dictionary."""
    out = [f"run {run['run_id']}: {run['command']}, recorded {run['recorded_utc']}"
           + (f" (started {run['started_utc']})" if run.get("started_utc") else ""),
           f"study: {run.get('study_name') or '-'}; manifest sha256 {run.get('manifest_sha256') or '-'}",
           f"results: {run.get('results_path') or '-'} (sha256 {run.get('results_sha256') or '-'})",
           f"exit code {_fmt(run.get('exit_code'))}; stancebench {run.get('stancebench_version') or '?'} on "
           f"{run.get('host') or '?'}" + (f"; label {run['label']}" if run.get("label") else "")]
    roles: dict[str, int] = {}
    for f in run["files"]:
        roles[f.get("role") or "?"] = roles.get(f.get("role") or "?", 0) + 1
    out.append(f"files: {len(run['files'])}" + (f" ({', '.join(f'{n} {r}' for r, n in roles.items())})"
                                                 if roles else ""))
    out.append(f"candidates: {len(run['candidates'])}")
    for c in run["candidates"]:
        tags = [t for t in ("baseline" if c["baseline"] else "", f"{c['control']} control" if c["control"] else "")
                if t]
        out.append(f"  {c['name']}: model sha256 {(c['model_sha256'] or '-')[:16]}, {_fmt(c['model_bytes'])} bytes, "
                   f"{c['runtime'] or '?'} {c['runtime_version'] or ''}".rstrip() + f", {c['precision'] or '?'}"
                   + (f" [{', '.join(tags)}]" if tags else ""))
    out.append(f"agreement: {len(run['agreement'])} rows (candidate / KPI / condition: n, bias, LoA, ICC [95% CI])")
    for a in run["agreement"]:
        out.append(f"  {a.get('candidate')} / {a.get('kpi')} / {a.get('condition')}: n {_fmt(a.get('n'))}, "
                   f"bias {_fmt(a.get('bias'))}, LoA [{_fmt(a.get('loa_lower'))}, {_fmt(a.get('loa_upper'))}] "
                   f"{a.get('unit') or ''}, ICC {_fmt(a.get('icc'))} [{_fmt(a.get('icc_ci_low'))}, "
                   f"{_fmt(a.get('icc_ci_high'))}]")
    out.append(f"device: {len(run['device'])} records")
    for d in run["device"]:
        lat = d.get("latency") or {}
        dev = d.get("device") or {}
        out.append(f"  {d.get('candidate')} on {dev.get('model') or dev.get('platform') or '?'} "
                   f"({(d.get('runtime') or {}).get('name') or '?'}): p50 {_fmt(lat.get('p50_ms'))} ms, "
                   f"p90 {_fmt(lat.get('p90_ms'))} ms")
    events = run.get("gate_events") or []
    last = events[-1] if events else None
    judged = (f" (judgement {last['gate_seq']} by {last['command']} at {last['time_utc']}"
              + (f", policy {last['policy']}" if last.get("policy") else "") + ")") if last else ""
    out.append(f"gates: {len(run['gates'])} verdicts{judged}")
    for g in run["gates"]:
        out.append(f"  [{str(g.get('status', '?')).upper():>13}] {g.get('severity') or '?':8} {g.get('candidate')}"
                   f"  {g.get('rule_id')}: {g.get('message')}" + (" BLOCKS" if g.get("blocks") else ""))
    return out


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


# ------------------------------------------------------------------------------------------------------ check
def run_check(args) -> int:
    with _open(args) as store:
        report = store.check()
    if getattr(args, "json", False):
        _print_json(report)
    else:
        for line in check_lines(report):
            print(line)
    return 0 if report["ok"] else 1


def check_lines(report: dict) -> list[str]:
    """The human summary of :meth:`harness.store.Store.check`'s dictionary."""
    out = [f"store {report['path']}: schema {report['schema_version']}, {report['n_runs']} runs: "
           + ("ok" if report["ok"] else "PROBLEMS FOUND")]
    if report["integrity"] != ["ok"]:
        out += ["integrity check:"] + [f"  {m}" for m in report["integrity"][:20]]
    if report["foreign_keys"]:
        out.append(f"foreign-key violations: {len(report['foreign_keys'])}")
        out += [f"  {v['table']} row {v['rowid']} -> {v['parent']}" for v in report["foreign_keys"][:20]]
    for table, n in report["orphans"].items():
        if n:
            out.append(f"orphans: {n} row(s) of {table} name a run that is not in runs")
    for item in report["incomplete"][:20]:
        out.append(f"incomplete: run {item['run_id']} declares {item['declared']} {item['table']} rows, "
                   f"{item['found']} found")
    return out


def _print_json(data) -> None:
    from ground_truth.kernel import jsonable
    print(json.dumps(jsonable(data), indent=2, ensure_ascii=False))
