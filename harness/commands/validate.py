"""``stancebench validate``: run a validation study described by a TOML manifest on your own data."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Run a validation study described by a TOML manifest on your own data."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("validate", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench validate' is being built and is not available yet")
