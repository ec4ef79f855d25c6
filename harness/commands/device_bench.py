"""``stancebench device-bench``: measure latency, memory, energy and size of a model on host, Android or iOS."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Measure latency, memory, energy and size of a model on host, Android or iOS."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("device-bench", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench device-bench' is being built and is not available yet")
