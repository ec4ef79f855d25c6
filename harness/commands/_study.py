"""What the two study commands (``demo`` and ``validate``) share: the run options, strict mode, the check of
``--workers``, the plain-language line about the controls, the lines that say where the results and the
report went, and the results store options (``--store``, ``--no-store``, ``--label``; ``gate`` has them too)."""
from __future__ import annotations

import os

from ground_truth.kernel import STRICT_ENV, InputError


def add_run_options(p, run) -> None:
    """``--no-progress``, ``--strict``, the store options (:func:`add_store_options`) and the function that runs
    the command."""
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--strict", action="store_true",
                   help="re-raise an unexpected error (a bug) in a trial, a statistic or a report section with its "
                        "traceback instead of recording it and going on")
    add_store_options(p)
    p.set_defaults(func=run)


def add_store_options(p) -> None:
    """``--store PATH``, ``--no-store`` and ``--label TEXT``: where the run is recorded (docs/store.md)."""
    g = p.add_argument_group("results store (docs/store.md)")
    g.add_argument("--store", metavar="PATH",
                   help="results store (SQLite) to record the run in (default: $STANCEBENCH_STORE, else "
                        "$XDG_DATA_HOME/stancebench/stancebench.db, else ~/.local/share/stancebench/stancebench.db; "
                        "created when absent)")
    g.add_argument("--no-store", action="store_true", help="record nothing in the results store")
    g.add_argument("--label", metavar="TEXT", help="label recorded with the run (app version, git commit)")


def open_run_store(args):
    """The results store the run will be recorded in, opened now so that a store that cannot serve (not SQLite,
    written by a newer stancebench, an unwritable folder) stops the command before a study runs; None under
    ``--no-store``."""
    if getattr(args, "no_store", False):
        return None
    from harness.store import open_store
    return open_store(getattr(args, "store", None))


def history_extra(store, manifest, *, label: str | None = None) -> dict:
    """``{"history": ...}``: the store's earlier runs of this study (same study name) for the report's trend
    section, read before the study runs so that this run is not among them; ``{}`` without a store or an earlier
    run."""
    if store is None:
        return {}
    from ground_truth.kernel import file_sha256
    from harness.store.trends import trend_section
    sha = file_sha256(manifest.path) if manifest.path is not None else None
    section = trend_section(store, {"study": {"name": manifest.name, "manifest_sha256": sha}}, label=label)
    return {"history": section} if section else {}


def record_in_store(store, results: dict, *, command: str, label: str | None = None,
                    exit_code: int | None = None) -> str | None:
    """Record a finished study run (its results.json written) and print ``stored: run ID in PATH``; closes the
    store. A run that cannot be recorded (a full disk) is a StoreError saying where the results are."""
    if store is None:
        return None
    from harness.store import StoreError
    path = results["paths"]["results"]
    try:
        with store:
            run_id = store.record_run(results_as_written(path, results), command=command, results_path=path,
                                      label=label, exit_code=exit_code)
    except StoreError as exc:
        raise StoreError(f"the results are at {path} but were not recorded in the results store: {exc}") from exc
    print(f"stored: run {run_id} in {store.path}")
    return run_id


def results_as_written(path, results: dict) -> dict:
    """The results as results.json holds them (every typed field present), so that what the store keeps is what
    the file says; the in-memory results when the file cannot be read back."""
    from ground_truth.kernel import StancebenchError
    from harness.results import read_results_json
    try:
        return read_results_json(path)
    except (StancebenchError, OSError):
        # the file was just written by this process; record what it was written from rather than nothing
        return results


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
