"""Parser pieces several subcommands share. No heavy imports here, so that ``stancebench --help`` stays fast."""
from __future__ import annotations


def csv_columns_parser(subparsers, name: str, help: str, details: str, *, csv_help: str,
                       columns: tuple[tuple[str, str, str], ...]):
    """The parser of a command that reads named columns of one CSV: ``NAME CSV --COLUMN COL ...``.

    The description is the one-line ``help`` followed by ``details``; ``columns`` lists the required column
    options as ``(option, metavar, help)``.
    """
    p = subparsers.add_parser(name, help=help, description=f"{help} {details}")
    p.add_argument("csv", metavar="CSV", help=csv_help)
    for option, metavar, option_help in columns:
        p.add_argument(option, required=True, metavar=metavar, help=option_help)
    return p


def add_confidence_and_json(p, run) -> None:
    """The closing options of the statistics commands (CI level, JSON output) and the function that runs it."""
    p.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)
