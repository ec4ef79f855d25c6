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


def column_list(text: str, option: str, *, file=None) -> list[str]:
    """The comma-separated column names of ``option``; an empty entry or a name given twice is refused (a
    rater column named twice would agree with itself)."""
    from ground_truth.kernel import InputError

    names = [c.strip() for c in text.split(",")]
    if any(not c for c in names):
        raise InputError(f"{text!r} has an empty column name", file=file, field=option,
                         expected="comma-separated column names, e.g. r1,r2")
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"column {name!r} is given twice", file=file, field=option,
                             expected="each rater column once")
        seen.add(name)
    return names
