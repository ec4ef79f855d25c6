"""``stancebench gate``: evaluate a gate policy on study results; exit 1 when a blocking gate fails."""
from __future__ import annotations

HELP = "Evaluate a gate policy on study results; exit 1 when a blocking gate fails."

_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not-evaluable": "N/E"}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "gate", help=HELP, description=HELP + " Prints one verdict per rule and candidate (actual against "
        "threshold). Exit codes: 0 no blocking gate failed, 1 a blocking gate failed or could not be evaluated, "
        "2 bad input (unreadable results, invalid policy). See docs/gates.md.")
    p.add_argument("results", metavar="RESULTS.json", help="results.json written by 'stancebench demo|validate'")
    p.add_argument("--policy", required=True, metavar="POLICY.toml", help="gate policy (TOML)")
    p.add_argument("--junit", metavar="OUT.xml", help="also write the verdicts as JUnit XML for CI systems")
    p.add_argument("--json", dest="json_out", metavar="OUT.json",
                   help="where to write the verdicts as JSON (default: gates.json beside RESULTS.json)")
    p.set_defaults(func=run)


def load_results(path) -> dict:
    """Read results.json with errors that name the file.

    Schema 1 and 2 are read (the gates read agreement, categorical, comparisons, candidates, trials and device
    rows, which schema 2 kept as they were); a newer ``schema_version`` is refused (exit 2). The gate evaluation
    works on the plain dictionary, so the file is not converted to the typed model here.
    """
    from harness.results import read_results_json
    return read_results_json(path)


def run(args) -> int:
    from harness.gates import (evaluate_policy, exit_code, load_policy, summarize, write_junit,
                               write_verdicts_json)
    policy = load_policy(args.policy)
    results = load_results(args.results)
    verdicts = evaluate_policy(results, policy)
    print(f"policy: {policy.name} ({args.policy})")
    for v in verdicts:
        tag = "blocking" if v.severity == "blocking" else "advisory"
        flag = " BLOCKS" if v.blocks else ""
        print(f"[{_MARK[v.status]:>5}] {tag:8} {v.candidate}  {v.rule_id}: {v.message}{flag}")
    s = summarize(verdicts)
    print(f"{s['n']} verdicts: {s['pass']} pass, {s['fail']} fail, {s['error']} error, "
          f"{s['not-evaluable']} not evaluable; {s['blocking']} blocking")
    for cand, outcome in s["candidates"].items():
        print(f"  {cand}: {'release blocked' if outcome == 'blocked' else 'gates passed'}")
    from pathlib import Path
    json_out = args.json_out or Path(args.results).with_name("gates.json")
    print(f"verdicts JSON: {write_verdicts_json(verdicts, policy, json_out, results_path=args.results)}")
    if args.junit:
        print(f"JUnit XML: {write_junit(verdicts, args.junit, policy_name=policy.name)}")
    return exit_code(verdicts)
