"""``stancebench icc``: the six intraclass correlation coefficients of long-format ratings."""
from __future__ import annotations

from ._options import add_confidence_and_json, csv_columns_parser

HELP = "The six intraclass correlation coefficients of long-format ratings."


def add_parser(subparsers) -> None:
    p = csv_columns_parser(
        subparsers, "icc", HELP, "McGraw & Wong forms ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k), ICC(A,k), ICC(C,k) "
        "(Shrout & Fleiss ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k) with F tests and F-based CIs; the interpretation "
        "(Koo & Li 2016; 0.90 exactly reads good) is applied to the CI.",
        csv_help="long-format CSV: one row per (target, rater) rating",
        columns=(("--targets", "COL", "column of the rated subjects/trials"),
                 ("--raters", "COL", "column of the raters/methods"),
                 ("--ratings", "COL", "column of the numeric ratings")))
    p.add_argument("--nan-policy", choices=("raise", "omit"), default="raise",
                   help="targets with a missing rating: error (default) or drop them with a note")
    add_confidence_and_json(p, run)


def run(args) -> int:
    from harness.agreement import icc, koo_li
    from harness.agreement._checks import distinct_columns
    from harness.agreement._io import dumps, naming_file, read_table
    from harness.agreement.interpret import KOO_LI_2016

    distinct_columns({"--targets": args.targets, "--raters": args.raters, "--ratings": args.ratings},
                     file=args.csv)
    frame = read_table(args.csv, [args.targets, args.raters, args.ratings], numeric=[args.ratings])
    with naming_file(args.csv):
        table = icc(frame, args.targets, args.raters, args.ratings, confidence=args.confidence,
                    nan_policy=args.nan_policy)
    # the words of the one vocabulary (harness.agreement.interpret), as in results.json and the report
    table["interpretation"] = [koo_li(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])]
    table["interpretation_source"] = KOO_LI_2016.reference
    cols = ["type", "shrout_fleiss", "icc", "ci_low", "ci_high", "f", "df1", "df2", "p", "confidence",
            "n_targets", "k_raters", "interpretation", "interpretation_source", "description", "note"]
    records = table[cols].to_dict(orient="records")
    if args.json:
        print(dumps(records))
    else:
        pct = int(round(args.confidence * 100))
        print(f"ICC of {args.ratings}: {int(table['n_targets'][0])} targets x {int(table['k_raters'][0])} raters")
        for r in records:
            print(f"  {r['type']:<9} ({r['shrout_fleiss']:<5}) {r['icc']:.3f}  {pct}% CI [{r['ci_low']:.3f}, "
                  f"{r['ci_high']:.3f}]  F({r['df1']}, {r['df2']:.4g}) = {r['f']:.3f}, p = {r['p']:.3g}  "
                  f"{r['interpretation']}")
        print(f"  interpretation: {KOO_LI_2016.name} on both bounds of the CI ({KOO_LI_2016.rule()})")
        if records[0]["note"]:
            print(f"  note: {records[0]['note']}")
    return 0
