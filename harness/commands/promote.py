"""``stancebench promote``: record that a release channel now holds a candidate's exact model, when the evidence
run's blocking gates all passed for it; otherwise refuse with the failing verdicts and record nothing."""
from __future__ import annotations

HELP = "Promote a candidate's model to a release channel, on the evidence of a stored run's gate verdicts."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "promote", help=HELP, description=HELP + " The run (a 'validate' or 'demo' run with --policy, or a "
        "'gate' run) must hold gate verdicts for CANDIDATE, none of its blocking verdicts may block it and none of "
        "its controls may have misbehaved; the promotion names the candidate's model sha256 as that run recorded "
        "it. Exit codes: 0 promoted, 1 refused because a blocking verdict blocks (listed, actual against "
        "threshold; nothing recorded), 2 bad input (unknown run or candidate, a control, no reason, no gate "
        "verdicts in the run). See docs/promotion.md.")
    p.add_argument("candidate", metavar="CANDIDATE", help="the candidate's name in the run")
    p.add_argument("--run", required=True, metavar="RUN",
                   help="the evidence run: its id, a unique prefix (at least 4 characters) or 'latest'")
    p.add_argument("--channel", required=True, metavar="CHANNEL", help="the release channel, e.g. production")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the promotion log)")
    p.add_argument("--by", metavar="NAME", help="who promotes (default: $USER)")
    p.add_argument("--sha256", metavar="HEX",
                   help="refuse unless the run's candidate is this model (full sha256 or a prefix of 8+ hex digits)")
    p.add_argument("--store", metavar="PATH",
                   help="the results store (default: $STANCEBENCH_STORE, else the per-user store); it must exist")
    p.add_argument("--json", action="store_true", help="print the promotion (or the refusal) as JSON")
    p.set_defaults(func=run)


def add_baseline_option(parser) -> None:
    """``--baseline CHANNEL`` of ``stancebench gate``: judge against a release channel's stored model."""
    parser.add_argument("--baseline", metavar="CHANNEL",
                        help="judge relative rules (non-inferiority, difference, ratio) against the model the "
                             "channel holds (its latest promotion), from its stored results on the same study "
                             "(same manifest sha256); the baseline candidate is named channel:CHANNEL. See "
                             "docs/promotion.md")


def run(args) -> int:
    import json

    from harness.store import open_store
    from harness.store.promotion import PromotionBlocked, promote

    with open_store(args.store, create=False) as store:
        try:
            record = promote(store, args.candidate, run=args.run, channel=args.channel, reason=args.reason,
                             by=args.by, model_sha256=args.sha256)
        except PromotionBlocked as exc:
            if args.json:
                print(json.dumps({"promoted": False, "candidate": exc.candidate, "run_id": exc.run_id,
                                  "channel": args.channel, "blocking": exc.verdicts}, indent=2, ensure_ascii=False))
            else:
                print(f"refused: {exc.candidate} of run {exc.run_id} is not promoted to {args.channel}: "
                      f"{len(exc.verdicts)} blocking verdict(s) (nothing recorded):")
                for v in exc.verdicts:
                    print(f"  [{v['status']:>13}] {v['candidate']}  {v['rule_id']}: {v['message']} "
                          f"(actual {_num(v['actual'])}, threshold {_num(v['threshold'])})")
            return 1
        path = store.path
    if args.json:
        print(json.dumps(dict(record, promoted=True, store=str(path)), indent=2, ensure_ascii=False))
        return 0
    ev = record["evidence"]
    print(f"promoted {record['candidate']} (model {record['model_sha256']}) to channel {record['channel']}: "
          f"promotion {record['promotion_id']} by {record['promoted_by']} at {record['time_utc']}")
    print(f"  evidence: run {record['run_id']} ({ev['study_name'] or 'unnamed study'}), {ev['n_pass']} of "
          f"{ev['n_verdicts']} gate verdicts passed, none blocks")
    print(f"  reason: {record['reason']}")
    print(f"  store: {path}")
    return 0


def _num(x) -> str:
    from harness.gates import format_number
    return format_number(x)
