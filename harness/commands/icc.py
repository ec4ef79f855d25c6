"""``stancebench icc``: the six intraclass correlation coefficients of long-format ratings."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "The six intraclass correlation coefficients of long-format ratings."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("icc", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench icc' is being built and is not available yet")
