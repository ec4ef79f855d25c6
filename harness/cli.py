"""The ``stancebench`` command.

Each subcommand lives in its own module under ``harness.commands`` and defines ``add_parser(subparsers)`` and
``run(args) -> int``. Heavy imports happen inside ``run`` so that ``stancebench --help`` stays fast.
Exit codes: 0 success, 1 a blocking gate failed, 2 bad input (a clear message on stderr, no traceback).
"""
from __future__ import annotations

import argparse
import sys

from ground_truth.kernel import StancebenchError

from .commands import (agreement, align, demo, device_bench, device_parse, gate, icc, kappa, pose, render, sway,
                       validate)

#: The subcommand modules, in the order ``--help`` lists them (each module names its own subcommand).
COMMAND_MODULES = (demo, validate, sway, pose, render, align, agreement, icc, kappa, device_bench, device_parse,
                   gate)

EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stancebench",
        description="Validate single-leg balance scores from pose keypoints against force plates and motion "
                    "capture: read gold-standard recordings, run candidate pose models, align clocks, measure "
                    "agreement and on-device cost, gate model releases and write HTML reports.",
        epilog="Run 'stancebench COMMAND --help' for the options of one command. Exit codes: 0 ok, "
               "1 a blocking gate failed, 2 bad input.")
    from importlib.metadata import PackageNotFoundError, version
    try:
        ver = version("stancebench")
    except PackageNotFoundError:  # running from a source tree that is not installed
        ver = "unknown"
    parser.add_argument("--version", action="version", version=f"stancebench {ver}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except StancebenchError as exc:
        print(f"stancebench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"stancebench {args.command}: error: {exc.filename}: file not found", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
