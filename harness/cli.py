"""The ``stancebench`` command.

Each subcommand lives in its own module under ``harness.commands`` and defines ``add_parser(subparsers)`` and
``run(args) -> int``. Heavy imports happen inside ``run`` so that ``stancebench --help`` stays fast.
Exit codes: 0 success, 1 a blocking gate failed, 2 bad input or an environment that cannot serve the run (a clear
message on stderr, no traceback), 3 stancebench itself failed (a bug: a short message on stderr and the full
traceback written to a file whose path the message gives), 130 interrupted.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
import time
import traceback

from ground_truth.kernel import StancebenchError, strict_mode

from .commands import (agreement, align, alpha, annotations, demo, device_bench, device_parse, export_mlflow, gate,
                       history, icc, kappa, models, plan, pose, promote, render, sway, validate)

#: The subcommand modules, in the order ``--help`` lists them (each module names its own subcommand).
COMMAND_MODULES = (demo, validate, sway, pose, models, render, align, agreement, icc, kappa, alpha, plan, annotations,
                   device_bench, device_parse, gate, promote, history, export_mlflow)

#: Where commands with subcommands keep the subcommand's name (``annotations import``, ``history show`` ...).
SUBCOMMAND_DESTS = ("annotations_command", "history_command", "models_command")

EXIT_OK, EXIT_GATE_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Where the traceback of an internal error is written (default: the system's temporary folder).
CRASH_DIR_ENV = "STANCEBENCH_CRASH_DIR"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stancebench",
        description="Validate single-leg balance scores from pose keypoints against force plates and motion "
                    "capture: read gold-standard recordings, run candidate pose models, align clocks, measure "
                    "agreement and on-device cost, gate model releases and write HTML reports.",
        epilog="Run 'stancebench COMMAND --help' for the options of one command. Exit codes: 0 ok, "
               "1 a blocking gate failed, 2 bad input, 3 an internal error (a bug; the message says where its "
               "traceback was written).")
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


def _write_traceback(command: str, argv: list[str] | None) -> str | None:
    """Write the exception being handled, with the command line, to a crash file; its path, or None."""
    folder = os.environ.get(CRASH_DIR_ENV) or tempfile.gettempdir()
    name = f"stancebench-{command.replace(' ', '-')}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    path = os.path.join(folder, name)
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"stancebench {command}\nargv: {sys.argv[:1] + list(argv if argv is not None else sys.argv[1:])}"
                     f"\n\n{traceback.format_exc()}")
    except OSError:
        return None
    return path


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    # a command with subcommands (``annotations import``, ``history show``) names both in its messages
    command = " ".join(filter(None, (args.command, *(getattr(args, dest, None) for dest in SUBCOMMAND_DESTS))))
    prefix = f"stancebench {command}: error:"
    try:
        return int(args.func(args) or 0)
    except StancebenchError as exc:
        print(f"{prefix} {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"stancebench {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (e.g. piped into head): nothing left to tell anyone
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:
        # the machine, not the data: a missing or unreadable path, a full disk. Name the path, no traceback.
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            what = "no space left to write" if exc.errno != errno.EFBIG else "file size limit reached writing"
            print(f"{prefix} {what} {exc.filename or ''}".rstrip(), file=sys.stderr)
            return EXIT_BAD_INPUT
        if exc.filename is not None:
            print(f"{prefix} {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return _internal_error(command, argv)
    except MemoryError:
        print(f"{prefix} ran out of memory (an input or option asks for more data than this machine holds)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception:   # noqa: BLE001 - the one place where a bug becomes a short message and a crash file
        return _internal_error(command, argv)


def _internal_error(command: str, argv: list[str] | None) -> int:
    if strict_mode():
        raise
    exc = sys.exc_info()[1]
    path = _write_traceback(command, argv)
    where = f"the full traceback is in {path}" if path else "the traceback could not be written to a file:\n" + \
        traceback.format_exc()
    print(f"stancebench {command}: internal error (a bug in stancebench, not in your input): "
          f"{type(exc).__name__}: {exc}\n{where}\nPlease report it with that file.", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):   # stdout is not a real file (captured in tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
