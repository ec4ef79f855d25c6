"""``stancebench alpha``: Krippendorff's alpha of the rater columns of a wide CSV, with a bootstrap CI."""
from __future__ import annotations

from ._options import add_confidence_and_json, column_list

HELP = "Krippendorff's alpha (any number of raters, missing ratings, nominal to ratio data) of a wide CSV."
DETAILS = ("One row per unit, one column per rater; an empty cell is a missing rating and units with fewer than "
           "two ratings are dropped (counted). Labels are matched by value as in 'stancebench kappa' (1, '1' and "
           "'1.0' are one category of a numeric column); text labels are allowed for nominal data, and for "
           "ordinal data with --categories giving their order. The CI is Krippendorff's bootstrap (Hayes & "
           "Krippendorff 2007) or a bootstrap of units; the reading is Krippendorff's (2004).")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("alpha", help=HELP, description=f"{HELP} {DETAILS}")
    p.add_argument("csv", metavar="CSV", help="CSV with one row per unit and one column per rater")
    p.add_argument("--level", required=True, choices=("nominal", "ordinal", "interval", "ratio"),
                   help="level of measurement (sets the difference function)")
    p.add_argument("--raters", metavar="COL,COL[,...]", help="comma-separated rater columns (default: every column "
                                                             "but --unit)")
    p.add_argument("--unit", metavar="COL", help="a column of unit ids (not a rater; errors name the unit)")
    p.add_argument("--categories", metavar="L1,L2,...", help="all categories in order (needed to order text labels "
                                                             "of ordinal data; nominal or ordinal only)")
    p.add_argument("--resamples", type=int, default=2000, metavar="N",
                   help="bootstrap resamples (default 2000; 0 for no CI)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="random seed of the bootstrap (reproducible "
                                                                       "CI)")
    p.add_argument("--ci-method", choices=("krippendorff", "units"), default="krippendorff",
                   help="Krippendorff's bootstrap of the coincidences (default) or a bootstrap of units")
    p.add_argument("--alpha-min", type=float, default=0.667, metavar="A",
                   help="smallest acceptable alpha: prints the bootstrap probability of an alpha below it "
                        "(default 0.667)")
    add_confidence_and_json(p, run)


def _header(path) -> list[str]:
    """The CSV's header as written (pandas renames a repeated column name to 'name.1', hiding the repeat)."""
    import csv
    import io

    from ground_truth.kernel import ReaderError, read_text_file

    text = read_text_file(path, what="CSV file", error=ReaderError)
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise ReaderError(f"cannot be read as CSV ({exc})", file=path,
                          expected="a comma-separated table with a header row") from None


def run(args) -> int:
    import math

    from ground_truth.kernel import InputError
    from harness.agreement import krippendorff_alpha
    from harness.agreement._checks import check_distinct, distinct_columns, normalise_ids
    from harness.agreement._io import dumps, naming_file, read_table
    from harness.agreement.interpret import KRIPPENDORFF_2004, krippendorff_reading

    header = _header(args.csv)
    check_distinct(header, "header", what="column", file=args.csv)
    if args.raters:
        raters = column_list(args.raters, "--raters", file=args.csv)
    else:
        raters = [c for c in header if c != args.unit]
        unnamed = [i for i, c in enumerate(raters) if not c.strip()]
        if unnamed:
            raise InputError(f"column {header.index(raters[unnamed[0]]) + 1} has no name in the header",
                             file=args.csv, field="header",
                             expected="a name for every rater column (or --raters naming them, --unit for an id "
                                      "column)")
    distinct_columns({"--unit": args.unit, **{f"--raters ({r})": r for r in raters}}, file=args.csv)
    frame = read_table(args.csv, raters + ([args.unit] if args.unit else []))
    if args.unit:
        ids = normalise_ids(list(frame[args.unit]))
        seen: dict = {}
        for row, uid in enumerate(ids):
            if uid is None or (isinstance(uid, str) and not uid):
                raise InputError(f"row {row + 2} of the file has no unit id", file=args.csv, field=args.unit,
                                 expected="an id on every row")
            if uid in seen:
                raise InputError(f"unit {uid!r} is on rows {seen[uid] + 2} and {row + 2} of the file", file=args.csv,
                                 field=args.unit, expected="one row per unit (wide format)")
            seen[uid] = row
        frame.index = ids
    # errors about a cell name its line in the file (the header is line 1)
    frame.attrs["file_row_offset"] = 2
    categories = [s.strip() for s in args.categories.split(",")] if args.categories else None
    options = {"n_resamples": "--resamples", "alpha_min": "--alpha-min", "ci_method": "--ci-method", "seed": "--seed",
               "categories": "--categories", "level": "--level"}
    try:
        with naming_file(args.csv):
            res = krippendorff_alpha(frame, raters, level=args.level, categories=categories,
                                     confidence=args.confidence, n_resamples=args.resamples, seed=args.seed,
                                     alpha_min=args.alpha_min, ci_method=args.ci_method)
    except InputError as exc:
        # an error about an option names the option, not the file
        if exc.field in options:
            option = options[exc.field]
            reason = option + exc.reason[len(exc.field):] if exc.reason.startswith(exc.field) else exc.reason
            raise type(exc)(reason, field=option, expected=exc.expected) from None
        raise
    out = res.to_dict()
    # the words of the one vocabulary (harness.agreement.interpret), as the results rows carry them
    out["interpretation"] = krippendorff_reading(res.alpha)
    out["interpretation_rule"] = KRIPPENDORFF_2004.rule()
    out["interpretation_source"] = KRIPPENDORFF_2004.reference
    out["file"] = str(args.csv)
    out["raters"] = [str(r) for r in raters]
    if args.json:
        print(dumps(out))
        return 0
    pct = f"{args.confidence * 100:g}%"
    value = "undefined" if math.isnan(res.alpha) else f"{res.alpha:.3f}"
    ci = (f" {pct} CI [{res.ci_low:.3f}, {res.ci_high:.3f}] ({res.ci_method} bootstrap, {res.n_resamples} "
          f"resamples)" if not math.isnan(res.ci_low) else "")
    print(f"Krippendorff's alpha ({res.level}), {res.n_units} pairable units x {res.n_raters} raters, "
          f"{res.n_values} pairable ratings: {value}{ci}")
    if not math.isnan(res.q_below_min):
        print(f"probability that alpha < {res.alpha_min:g}: {res.q_below_min:.3f}")
    if res.n_dropped_units:
        print(f"units dropped (fewer than 2 ratings): {res.n_dropped_units}")
    print(f"reading: {out['interpretation']} ({KRIPPENDORFF_2004.name}: {out['interpretation_rule']})")
    print(f"source: {KRIPPENDORFF_2004.reference}")
    if res.note:
        print(f"note: {res.note}")
    return 0
