"""``stancebench kappa``: cohen's (two raters) or Fleiss' (more) kappa of categorical labels."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Cohen's (two raters) or Fleiss' (more) kappa of categorical labels."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("kappa", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench kappa' is being built and is not available yet")
