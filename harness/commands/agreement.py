"""``stancebench agreement``: bland-Altman agreement between a candidate and a reference column of a CSV."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Bland-Altman agreement between a candidate and a reference column of a CSV."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("agreement", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench agreement' is being built and is not available yet")
