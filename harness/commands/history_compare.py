"""The parts of ``stancebench history`` about comparing runs and release channels:

- ``stancebench history compare RUN_A RUN_B [--json|--csv]``: per candidate × KPI × condition the bias, |bias|,
  LoA width, ICC lower bound and n, and p90 latency per device, with B − A and whether that is better
  (:mod:`harness.store.compare`);
- ``stancebench history --channel CHANNEL [--json|--csv]``: the channel's promotion log, newest first
  (:func:`harness.store.promotion.promotions`).

``harness/commands/history.py`` owns the ``history`` parser; it calls :func:`add_compare_parser` on its
subparsers, :func:`add_channel_option` on its own parser, and :func:`run_channel` when ``args.channel`` is set.
"""
from __future__ import annotations

import argparse

COMPARE_HELP = "Compare two stored runs: agreement and latency per candidate, B − A, and which direction is better."


def add_compare_parser(subparsers) -> None:
    """Add ``compare RUN_A RUN_B`` to the subparsers of ``history``."""
    p = subparsers.add_parser(
        "compare", help=COMPARE_HELP, description=COMPARE_HELP + " Candidates are matched by name (a model "
        "sha256 that differs is shown); per KPI and condition: bias, |bias|, LoA width (upper − lower limit), ICC "
        "lower 95% bound, n; per device: p90 latency. Each quantity gets B − A and a word: better, worse, same "
        "(equal to 4 significant digits), changed (no better direction: bias, n) or n/a; rows of one run only "
        "are 'added' (in B) or 'removed' (in A).")
    p.add_argument("run_a", metavar="RUN_A", help="run id, unique prefix (4+ characters) or 'latest'")
    p.add_argument("run_b", metavar="RUN_B", help="run id, unique prefix (4+ characters) or 'latest'")
    # SUPPRESS: when not given here, a value given to 'history' itself (history --store X compare ...) stands
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the comparison as JSON")
    out.add_argument("--csv", action="store_true", default=argparse.SUPPRESS,
                     help="print the comparison rows as CSV")
    p.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS,
                   help="the results store (default: $STANCEBENCH_STORE, else the per-user store)")
    p.set_defaults(func=run_compare)


def run_compare(args) -> int:
    import json
    import sys

    from harness.store import open_store
    from harness.store.compare import COLUMNS, compare_runs, format_comparison

    with open_store(getattr(args, "store", None), create=False) as store:
        doc = compare_runs(store, args.run_a, args.run_b)
    if getattr(args, "json", False):
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif getattr(args, "csv", False):
        _write_csv(doc["rows"], COLUMNS, sys.stdout)
    else:
        print(format_comparison(doc))
    return 0


def add_channel_option(parser, *, top: bool = True) -> None:
    """Add ``--channel CHANNEL`` (the promotion log of a channel) to ``history`` (``top``) or ``history list``."""
    default = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("--channel", metavar="CHANNEL", **default,
                        help="show the channel's promotion log (who, when, why, evidence run, model), newest first")


def run_channel(args) -> int:
    """Print the promotion log of ``args.channel`` (``args.json`` / ``args.csv`` as history's flags)."""
    import json
    import sys
    from pathlib import Path

    from harness.store import default_store_path, open_store
    from harness.store.promotion import PROMOTION_COLUMNS, check_channel, promotions

    channel = check_channel(args.channel)
    store_arg = getattr(args, "store", None)
    path = Path(store_arg).expanduser() if store_arg else default_store_path()
    rows: list[dict] = []
    if not path.exists():
        # as the run list: an empty log is not an error, and reading one creates no store
        print(f"no promotions recorded: there is no results store at {path} yet", file=sys.stderr)
    else:
        with open_store(path, create=False) as store:
            log = promotions(store, channel, limit=getattr(args, "limit", None))
        rows = [{k: (None if v != v else v) for k, v in r.items()} for r in log.to_dict(orient="records")]
    if getattr(args, "json", False):
        print(json.dumps({"channel": channel, "store": str(path), "promotions": rows}, indent=2, ensure_ascii=False))
        return 0
    if getattr(args, "csv", False):
        _write_csv(rows, PROMOTION_COLUMNS, sys.stdout)
        return 0
    if not rows:
        print(f"channel {channel}: no promotion in {path}")
        return 0
    print(f"channel {channel}: {len(rows)} promotion(s), newest first (the first is the channel's current model)")
    for r in rows:
        print(f"#{r['promotion_id']} {r['time_utc']}  {r['candidate']} (model {(r['model_sha256'] or '')[:12]}) "
              f"by {r['promoted_by']}")
        print(f"    why: {r['reason']}")
        print(f"    evidence: run {r['run_id']} ({r['study_name'] or 'unnamed study'}, manifest "
              f"{(r['manifest_sha256'] or 'none')[:12]}{', label ' + r['label'] if r['label'] else ''})")
    return 0


def _write_csv(rows: list[dict], columns, stream) -> None:
    import csv
    w = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
