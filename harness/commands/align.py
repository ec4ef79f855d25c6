"""``stancebench align``: estimate the clock offset (and drift) between a reference and a candidate signal."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Estimate the clock offset (and drift) between a reference and a candidate signal."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("align", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench align' is being built and is not available yet")
