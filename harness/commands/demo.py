"""``stancebench demo``: run the whole validation study on the embedded synthetic default (no data needed) and write the report."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Run the whole validation study on the embedded synthetic default (no data needed) and write the report."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench demo' is being built and is not available yet")
