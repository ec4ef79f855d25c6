"""``stancebench gate``: evaluate a gate policy on study results; exit 1 when a blocking gate fails or a control
misbehaves (the study then cannot tell a good model from a bad one). The verdicts are recorded in the results
store, against the stored run that wrote the results file when there is one."""
from __future__ import annotations

from ._study import add_store_options, open_run_store
from .promote import add_baseline_option

HELP = "Evaluate a gate policy on study results; exit 1 when a blocking gate fails or a control misbehaves."

_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not-evaluable": "N/E"}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "gate", help=HELP, description=HELP + " Prints one verdict per rule and candidate (actual against "
        "threshold), then one per control candidate (expected against actual outcome). Exit codes: 0 no blocking "
        "gate failed and every control behaved as expected, 1 a blocking gate failed or could not be evaluated "
        "for a real candidate, or a positive control was blocked or a negative control was not (a negative "
        "control being blocked is its job, not a failure), 2 bad input (unreadable results, invalid policy, a "
        "results store that cannot be opened or written). The verdicts are recorded in the results store, "
        "against the stored run whose results.json this is (else as a run of their own). See docs/gates.md and "
        "docs/store.md.")
    p.add_argument("results", metavar="RESULTS.json", help="results.json written by 'stancebench demo|validate'")
    p.add_argument("--policy", required=True, metavar="POLICY.toml", help="gate policy (TOML)")
    p.add_argument("--junit", metavar="OUT.xml", help="also write the verdicts as JUnit XML for CI systems")
    p.add_argument("--json", dest="json_out", metavar="OUT.json",
                   help="where to write the verdicts as JSON (default: gates.json beside RESULTS.json)")
    add_store_options(p)
    add_baseline_option(p)
    p.set_defaults(func=run)


def load_results(path) -> dict:
    """Read results.json with errors that name the file.

    Schema 1 to 3 are read (the gates read agreement, categorical, comparisons, candidates, trials and device
    rows, which schemas 2 and 3 kept as they were; schema 3 added ``candidates[].control``, absent before: no
    controls); a newer ``schema_version`` is refused (exit 2). The gate evaluation works on the plain
    dictionary, so the file is not converted to the typed model here.
    """
    from harness.results import read_results_json
    return read_results_json(path)


def _line(v) -> str:
    tag = "blocking" if v.severity == "blocking" else "advisory"
    who = f"{v.candidate} ({v.control} control)" if v.control else v.candidate
    # a control's verdict never blocks the release; say what it does to the control
    flag = " BLOCKS" if v.blocks else " (stops this control)" if v.control and v.would_block else ""
    return f"[{_MARK[v.status]:>5}] {tag:8} {who}  {v.rule_id}: {v.message}{flag}"


def run(args) -> int:
    from pathlib import Path

    from ground_truth.kernel import check_output_path
    from harness.gates import load_policy
    # where the verdicts go is checked before anything is evaluated or printed
    json_out = check_output_path(args.json_out or Path(args.results).with_name("gates.json"), field="--json")
    junit_out = check_output_path(args.junit, field="--junit") if args.junit else None
    policy = load_policy(args.policy)
    results = load_results(args.results)
    store = open_run_store(args)
    try:
        return _judge(args, policy, results, store, json_out, junit_out)
    finally:
        if store is not None:
            store.close()


def _judge(args, policy, results: dict, store, json_out, junit_out) -> int:
    """Evaluate, print and write the verdicts, then record them in ``store`` (None: not recorded)."""
    from harness.gates import CONTROL_RULE_ID, control_lines, evaluate_policy, exit_code, summarize
    from harness.gates import write_junit, write_verdicts_json
    from harness.store.baseline import describe, gate_with_baseline
    # a channel's baseline (--baseline production, or baseline = "channel:production" in the policy) is read from
    # the store and added to what the gates judge; the results file and the stored run keep the results as written
    judged, policy, baseline = gate_with_baseline(results, policy, option=args.baseline, store=store,
                                                  store_path=args.store)
    verdicts = evaluate_policy(judged, policy)
    print(f"policy: {policy.name} ({args.policy})")
    if baseline:
        print(describe(baseline))
    for v in verdicts:
        if v.rule_id != CONTROL_RULE_ID:
            print(_line(v))
    s = summarize(verdicts)
    print(f"{s['n']} verdicts: {s['pass']} pass, {s['fail']} fail, {s['error']} error, "
          f"{s['not-evaluable']} not evaluable; {s['blocking']} blocking")
    for cand, outcome in s["candidates"].items():
        print(f"  {cand}: {'release blocked' if outcome == 'blocked' else 'gates passed'}")
    expectations = [v for v in verdicts if v.rule_id == CONTROL_RULE_ID]
    if expectations:
        print("controls (they check the harness, not a product model):")
        for v in expectations:
            flag = " BLOCKS" if v.blocks else ""
            print(f"[{_MARK[v.status]:>5}] control  {v.candidate} ({v.control} control): expected "
                  f"{v.expected_outcome}, actual {v.actual_outcome}: {v.message}{flag}")
    for line in control_lines(verdicts)[:1]:
        print(line)
    print(f"verdicts JSON: {write_verdicts_json(verdicts, policy, json_out, results_path=args.results)}")
    if junit_out is not None:
        print(f"JUnit XML: {write_junit(verdicts, junit_out, policy_name=policy.name)}")
    code = exit_code(verdicts)
    record_gate_verdicts(store, args, verdicts, results, code)
    return code


def record_gate_verdicts(store, args, verdicts, results: dict, code: int) -> str | None:
    """Record the verdicts and print ``stored: run ID in PATH``; a store that cannot take them is a StoreError
    saying that the verdicts were written but not recorded."""
    if store is None:
        return None
    from harness.store import StoreError
    try:
        run_id = store.record_gate(args.results, verdicts, policy=args.policy, label=args.label, results=results,
                                   exit_code=int(code))
    except StoreError as exc:
        raise StoreError(f"the verdicts are written but were not recorded in the results store: {exc}") from exc
    print(f"stored: run {run_id} in {store.path}")
    return run_id
