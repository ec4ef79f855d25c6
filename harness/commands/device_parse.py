"""``stancebench device-parse``: turn a saved on-device benchmark or profiling log into result records."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Turn a saved on-device benchmark or profiling log into result records."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("device-parse", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench device-parse' is being built and is not available yet")
