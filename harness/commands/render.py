"""``stancebench render``: render a video of a figure from 3D motion with known camera and clock, plus its 2D truth."""
from __future__ import annotations

from ground_truth.errors import NotAvailableError

HELP = "Render a video of a figure from 3D motion with known camera and clock, plus its 2D truth."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("render", help=HELP, description=HELP)
    p.set_defaults(func=run)


def run(args) -> int:
    raise NotAvailableError("'stancebench render' is being built and is not available yet")
