"""What the two study commands (``demo`` and ``validate``) share: the run options, strict mode, the check of
``--workers``, the plain-language line about the controls and the lines that say where the results and the
report went."""
from __future__ import annotations

import os

from ground_truth.kernel import STRICT_ENV, InputError


def add_run_options(p, run) -> None:
    """``--no-progress`` and ``--strict``, and the function that runs the command."""
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--strict", action="store_true",
                   help="re-raise an unexpected error (a bug) in a trial, a statistic or a report section with its "
                        "traceback instead of recording it and going on")
    p.set_defaults(func=run)


def apply_strict(args) -> None:
    """Under ``--strict``, make every isolation point re-raise."""
    if args.strict:
        # every isolation point (spawned trial workers, statistics, report sections) reads the environment
        os.environ[STRICT_ENV] = "1"


def check_workers(workers: int | None) -> None:
    if workers is not None and workers < 1:
        raise InputError(f"--workers is {workers}", field="--workers", expected="a positive integer")


def control_summary_lines(results: dict) -> list[str]:
    """What the study's control candidates say, in plain words (empty when no gates were evaluated).

    "controls: positive control truth passed, negative control degraded blocked: the harness discriminates ...",
    or the opposite with each misbehaving control's reason; a study gated without controls says so, since
    nothing then shows that its gates can tell a good model from a bad one.
    """
    from harness.gates import control_lines
    gates = [g for g in results.get("gates") or [] if isinstance(g, dict)]
    if not gates:
        return []
    return control_lines(gates) or ["controls: none in this study, so it does not show that its gates pass a good "
                                    "model and block a bad one (controls need known truth, docs/gates.md)"]


def print_outputs(results: dict) -> None:
    """What the controls say (:func:`control_summary_lines`), then where results.json and the report went (or why
    there is no report)."""
    for line in control_summary_lines(results):
        print(line)
    print(f"results: {results['paths']['results']}")
    if "report" in results["paths"]:
        print(f"report: {results['paths']['report']}")
    else:
        print(f"report: {results.get('report_status')}")
