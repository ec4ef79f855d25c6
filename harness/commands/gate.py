"""``stancebench gate``: evaluate a gate policy on study results; exit 1 when a blocking gate fails."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Evaluate a gate policy on study results; exit 1 when a blocking gate fails."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("gate", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench gate' is being built and is not available yet")
