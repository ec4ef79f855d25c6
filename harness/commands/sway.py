"""``stancebench sway``: compute COP sway metrics of a force-plate file under a named convention."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Compute COP sway metrics of a force-plate file under a named convention."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sway", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench sway' is being built and is not available yet")
