"""Run fuzz cases through the CLI in one process (one interpreter start for hundreds of cases).

``python tests/fuzz_driver.py CASES.json RESULTS.jsonl PROGRESS START``: runs cases ``START..`` of CASES.json
in order through ``harness.cli.main``, appending one JSON line per finished case to RESULTS.jsonl. Before each
case its index and start time go to PROGRESS, so that the parent (tests/test_fuzz_cli.py) can tell which case
was running when this process died from a signal or stopped making progress, record it, and start a new driver
after it.
"""
from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
import traceback


def _run(argv: list[str]) -> tuple[int | None, str, str, str | None]:
    from harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    escaped = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:     # argparse's own usage errors
            rc = exc.code if isinstance(exc.code, int) else 2
        except BaseException:         # noqa: BLE001 - whatever escapes main is exactly what the suite looks for
            rc, escaped = None, traceback.format_exc()
    return rc, out.getvalue(), err.getvalue(), escaped


#: Address-space cap of the driver: an option that asks for terabytes must become a MemoryError (exit 2) here,
#: not take the CI machine's memory from the other jobs.
ADDRESS_SPACE_BYTES = 16 * 1024 ** 3


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    cases_path, results_path, progress_path, start = sys.argv[1:5]
    cases = json.loads(open(cases_path, encoding="utf-8").read())
    with open(results_path, "a", encoding="utf-8") as results:
        for index in range(int(start), len(cases)):
            case = cases[index]
            with open(progress_path, "w", encoding="utf-8") as fh:
                fh.write(f"{index} {time.time()}\n")
            t0 = time.perf_counter()
            rc, out, err, escaped = _run(case["argv"])
            results.write(json.dumps({"index": index, "id": case["id"], "rc": rc, "stdout": out[:400_000],
                                      "stderr": err[-20_000:], "escaped": escaped,
                                      "seconds": round(time.perf_counter() - t0, 3)}) + "\n")
            results.flush()
    with open(progress_path, "w", encoding="utf-8") as fh:
        fh.write("done\n")


if __name__ == "__main__":
    main()
