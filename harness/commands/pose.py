"""``stancebench pose``: run a candidate pose backbone on a video and write its keypoint track (JSON)."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Run a candidate pose backbone on a video and write its keypoint track (JSON)."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("pose", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench pose' is being built and is not available yet")
