"""``stancebench agreement``: Bland-Altman agreement between a candidate and a reference column of a CSV."""
from __future__ import annotations

from ._options import add_confidence_and_json, csv_columns_parser

HELP = "Bland-Altman agreement between a candidate and a reference column of a CSV."
METHODS = ("classic", "replicates-ba1999", "replicates-ba2007", "log", "percent", "regression")


def add_parser(subparsers) -> None:
    p = csv_columns_parser(
        subparsers, "agreement", HELP, "Differences are candidate - reference (positive bias: the candidate reads "
        "high). Rows are paired measurements; with --subject, rows of one subject are its replicates (a missing "
        "value in one column = unequal numbers of replicates).",
        csv_help="CSV file with one row per paired measurement",
        columns=(("--reference", "COL", "column of the reference (gold standard)"),
                 ("--candidate", "COL", "column of the candidate method")))
    p.add_argument("--subject", metavar="COL", help="column of subject ids (rows of a subject are replicates)")
    p.add_argument("--method", choices=METHODS, default="classic",
                   help="classic (Bland & Altman 1986/1999), replicates-ba1999 (true value constant, §5), "
                        "replicates-ba2007 (true value varies, paired replicates), log (ratio limits), percent, "
                        "regression (limits linear in magnitude, BA1999 §3.2). Default: classic")
    p.add_argument("--multiplier", type=float, default=1.96, help="limits = bias ± multiplier·SD (default 1.96)")
    p.add_argument("--loa-ci", choices=("approximate", "approximate-1986", "exact", "exact-pair", "mover"),
                   default=None,
                   help="CI of the limits: approximate (BA1999), approximate-1986 (sqrt(3s²/n)), exact (each limit "
                        "individually, Carkeet 2015), exact-pair (the two limits as a pair, Carkeet 2015; what "
                        "study reports use), both for classic/log/percent; mover (Zou 2013, replicates). The output "
                        "names the method (loa_ci_name). Default: approximate")
    add_confidence_and_json(p, run)


def run(args) -> int:
    from harness.agreement._checks import distinct_columns
    from harness.agreement._io import dumps, naming_file, read_table

    distinct_columns({"--reference": args.reference, "--candidate": args.candidate, "--subject": args.subject},
                     file=args.csv)
    cols = [args.reference, args.candidate] + ([args.subject] if args.subject else [])
    frame = read_table(args.csv, cols, numeric=[args.reference, args.candidate])
    with naming_file(args.csv, {"reference": args.reference, "candidate": args.candidate}):
        out = _compute(args, frame)
    out = {"n": out.pop("n"), "method": out.pop("method"), **out, "file": str(args.csv),
           "reference": args.reference, "candidate": args.candidate}
    if args.json:
        print(dumps(out))
    else:
        print(f"Bland-Altman ({out['method']}), n = {out['n']}; difference = {args.candidate} - {args.reference}")
        for key in ("bias", "sd", "loa_lower", "loa_upper"):
            ci = out.get(f"{key}_ci")
            extra = f"   {int(round(args.confidence * 100))}% CI [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else ""
            print(f"  {key:<10} {out[key]:.4g}{extra}")
        print(f"  CI of the limits: {out.get('loa_ci_name') or out.get('loa_ci_method')}")
        if out.get("note"):
            print(f"  note: {out['note']}")
    return 0


def _compute(args, frame) -> dict:
    """The Bland-Altman result of ``--method`` as the JSON dict of the CLI."""
    from ground_truth.kernel import InputError
    from harness.agreement import bland_altman, bland_altman_regression, bland_altman_replicates

    loa_ci = args.loa_ci or "approximate"
    method = args.method
    if method.startswith("replicates"):
        if not args.subject:
            raise InputError(f"--method {method} needs --subject", field="--subject",
                             expected="the column of subject ids")
        if loa_ci not in ("approximate", "mover"):
            raise InputError(f"--loa-ci {loa_ci} is not available for replicates", field="--loa-ci",
                             expected="approximate or mover")
        res = bland_altman_replicates(frame, subject=args.subject, reference=args.reference,
                                      candidate=args.candidate, method=method.split("-")[1],
                                      multiplier=args.multiplier, confidence=args.confidence, loa_ci=loa_ci)
        out = res.to_json_dict()
    else:
        if args.subject and frame[args.subject].duplicated().any():
            raise InputError(f"subjects have several rows but --method is {method}", file=args.csv,
                             field=args.subject, expected="--method replicates-ba1999 or replicates-ba2007 for "
                                                          "replicated measurements")
        pairs = frame[[args.reference, args.candidate]]
        missing = pairs.isna().any(axis=1)
        if missing.any():
            raise InputError(f"{int(missing.sum())} row(s) have a missing value (first: row "
                             f"{int(missing.to_numpy().nonzero()[0][0]) + 2} of the file)", file=args.csv,
                             field=f"{args.reference}/{args.candidate}",
                             expected="complete pairs, or --subject with a replicates method")
        ref, cand = pairs[args.reference].to_numpy(float), pairs[args.candidate].to_numpy(float)
        if method == "regression":
            if loa_ci != "approximate":
                raise InputError(f"--loa-ci {loa_ci} is not available for regression-based limits",
                                 field="--loa-ci", expected="approximate (the default)")
            out = bland_altman_regression(ref, cand, multiplier=args.multiplier,
                                          confidence=args.confidence).to_json_dict()
        else:
            if loa_ci == "mover":
                raise InputError("--loa-ci mover applies to replicated designs", field="--loa-ci",
                                 expected="approximate, approximate-1986, exact or exact-pair for one pair per "
                                          "subject")
            scale = {"classic": "difference", "log": "log", "percent": "percent"}[method]
            out = bland_altman(ref, cand, multiplier=args.multiplier, confidence=args.confidence, loa_ci=loa_ci,
                               scale=scale).to_json_dict()
    return out
