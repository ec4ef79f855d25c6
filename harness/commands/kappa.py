"""``stancebench kappa``: Cohen's (two raters) or Fleiss' (more raters) kappa of label columns of a CSV."""
from __future__ import annotations

from ._options import add_confidence_and_json, column_list, csv_columns_parser

HELP = "Cohen's kappa (two raters) or Fleiss' kappa (more raters) of label columns of a CSV."


def add_parser(subparsers) -> None:
    p = csv_columns_parser(subparsers, "kappa", HELP, "Categories are matched by value: in a column of numbers 1, '1' "
                           "and '1.0' are one category; a column with any non-numeric label is text (blanks "
                           "stripped), and when the raters' columns differ in kind labels are matched by value "
                           "across them (the note says so). A rater column or a label given twice is refused.",
                           csv_help="CSV with one row per subject and one column per rater",
                           columns=(("--raters", "COL,COL[,...]", "comma-separated rater columns"),))
    p.add_argument("--weights", choices=("none", "linear", "quadratic"), default="none",
                   help="disagreement weights for Cohen's kappa of ordered categories (default none)")
    p.add_argument("--labels", metavar="L1,L2,...", help="all categories in order (needed to order text labels "
                                                         "for weighted kappa)")
    add_confidence_and_json(p, run)


def run(args) -> int:
    from harness.agreement import kappa, landis_koch
    from harness.agreement._io import dumps, naming_file, read_table
    from harness.agreement.interpret import LANDIS_KOCH_1977

    raters = column_list(args.raters, "--raters", file=args.csv)
    frame = read_table(args.csv, raters)
    # label strings are typed against the columns inside kappa() (by value: '1' on the command line is the
    # category 1 of a numeric column); a category given twice is refused there
    labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    with naming_file(args.csv):
        res = kappa(frame, raters, weights=args.weights, labels=labels, confidence=args.confidence)
    out = res.to_dict()
    # the words of the one vocabulary (harness.agreement.interpret), as in results.json and the report
    out["interpretation"] = landis_koch(res.kappa)
    out["interpretation_source"] = LANDIS_KOCH_1977.reference
    out["file"] = str(args.csv)
    out = {"kappa": out.pop("kappa"), "z": out.pop("z"), "p": out.pop("p"), **out}
    if args.json:
        print(dumps(out))
    else:
        name = "Cohen's" if res.method == "cohen" else "Fleiss'"
        pct = int(round(args.confidence * 100))
        print(f"{name} kappa ({res.weights} weights), {res.n} subjects x {res.n_raters} raters: {res.kappa:.3f} "
              f"{pct}% CI [{res.ci_low:.3f}, {res.ci_high:.3f}], z = {res.z:.3f}, p = {res.p:.3g} "
              f"({out['interpretation']}, {LANDIS_KOCH_1977.name})")
        if res.confusion is not None:
            print(res.confusion.to_string())
        if res.note:
            print(f"note: {res.note}")
    return 0
