"""``stancebench plan``: how many subjects a study needs, for an ICC of a given precision (Bonett 2002) or for
limits of agreement (power against a clinical limit, Lu et al. 2016; or a target half-width of their CIs)."""
from __future__ import annotations

HELP = "How many subjects a study needs: ICC precision, or limits of agreement by power or by precision."

#: The three plans and the options that define them (the first two of each are required).
ICC, LU, PRECISION = "icc", "lu", "precision"
MODE_NAMES = {ICC: "ICC precision (--icc, --width)", LU: "limits of agreement by power (--sd-diff, --delta)",
              PRECISION: "limits of agreement by precision (--sd-diff, --half-width)"}
#: Which plans each optional setting belongs to.
APPLIES_TO = {
    "--raters": (ICC,), "--no-correction": (ICC,),
    "--confidence": (ICC, PRECISION),
    "--mean-diff": (LU,), "--power": (LU,), "--alpha": (LU,), "--agreement": (LU,),
    "--method": (PRECISION,), "--multiplier": (PRECISION,),
    "--trials": (LU, PRECISION), "--within-correlation": (LU, PRECISION),
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "plan", help=HELP,
        description=f"{HELP} ICC: stancebench plan --icc 0.8 --width 0.2 [--raters 2]. Limits of agreement by "
                    "power: stancebench plan --sd-diff 1.2 --delta 3 [--mean-diff 0] [--power 0.8]. By precision: "
                    "stancebench plan --sd-diff 1.2 --half-width 0.5 [--method exact]. Repeated trials per "
                    "subject: --trials M --within-correlation R (limits of agreement only). Prints n, the inputs, "
                    "the method and its source.")
    icc = p.add_argument_group("ICC precision (Bonett 2002)")
    icc.add_argument("--icc", type=float, metavar="R", help="expected ICC")
    icc.add_argument("--width", type=float, metavar="W", help="desired full width of its confidence interval")
    icc.add_argument("--raters", type=int, metavar="K", help="ratings per subject (default 2)")
    icc.add_argument("--no-correction", action="store_true",
                     help="leave out Bonett's +5·ICC adjustment for 2 raters and ICC >= 0.7 (as R's ICC::Nest)")
    loa = p.add_argument_group("limits of agreement")
    loa.add_argument("--sd-diff", type=float, metavar="S", help="expected SD of the differences")
    loa.add_argument("--delta", type=float, metavar="D",
                     help="clinically acceptable difference: plan by power (Lu et al. 2016)")
    loa.add_argument("--half-width", type=float, metavar="H",
                     help="target half-width of the CI of each limit: plan by precision")
    loa.add_argument("--mean-diff", type=float, metavar="M", help="expected mean difference (default 0)")
    loa.add_argument("--power", type=float, metavar="P", help="desired power (default 0.8)")
    loa.add_argument("--alpha", type=float, metavar="A",
                     help="1 - level of the CIs of the limits in the power plan (default 0.05)")
    loa.add_argument("--agreement", type=float, metavar="G", help="coverage of the limits (default 0.95)")
    loa.add_argument("--method", metavar="NAME",
                     help="CI of a limit in the precision plan: exact (default), approximate, approximate-1986")
    loa.add_argument("--multiplier", type=float, metavar="K", help="limits are bias ± K·SD (default 1.96)")
    loa.add_argument("--trials", type=int, metavar="M", help="trials per subject (needs --within-correlation)")
    loa.add_argument("--within-correlation", type=float, metavar="R",
                     help="within-subject correlation of the differences across trials")
    p.add_argument("--confidence", type=float, help="CI level of the ICC or precision plan (default 0.95)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def _given(args) -> dict[str, object]:
    """The options the user gave, by their command-line names."""
    out = {}
    for option in ("--icc", "--width", "--raters", "--no-correction", "--sd-diff", "--delta", "--half-width",
                   "--mean-diff", "--power", "--alpha", "--agreement", "--method", "--multiplier", "--trials",
                   "--within-correlation", "--confidence"):
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None and value is not False:
            out[option] = value
    return out


def _mode(given: dict) -> str:
    from ground_truth.kernel import InputError

    icc_side = [o for o in ("--icc", "--width") if o in given]
    loa_side = [o for o in ("--sd-diff", "--delta", "--half-width") if o in given]
    if icc_side and loa_side:
        raise InputError(f"{' and '.join(icc_side)} (ICC) cannot be combined with {' and '.join(loa_side)} "
                         "(limits of agreement)", field=icc_side[0], expected="one plan per call")
    if icc_side:
        missing = [o for o in ("--icc", "--width") if o not in given]
        if missing:
            raise InputError(f"an ICC plan needs {missing[0]}", field=missing[0],
                             expected="--icc R --width W")
        return ICC
    if not loa_side:
        raise InputError("nothing to plan", field="--icc",
                         expected="--icc R --width W, or --sd-diff S with --delta D or --half-width H")
    if "--delta" in given and "--half-width" in given:
        raise InputError("--delta (plan by power) and --half-width (plan by precision) are two different plans",
                         field="--half-width", expected="one of --delta or --half-width")
    if "--sd-diff" not in given:
        raise InputError(f"{loa_side[0]} needs --sd-diff", field="--sd-diff",
                         expected="the expected SD of the differences")
    if "--delta" not in given and "--half-width" not in given:
        raise InputError("--sd-diff alone is not a plan", field="--delta",
                         expected="--delta D (power against a clinical limit) or --half-width H (precision)")
    return LU if "--delta" in given else PRECISION


def _check_applicable(given: dict, mode: str) -> None:
    from ground_truth.kernel import InputError

    for option, modes in APPLIES_TO.items():
        if option in given and mode not in modes:
            where = " or ".join(MODE_NAMES[m] for m in modes)
            raise InputError(f"{option} does not apply to {MODE_NAMES[mode]}", field=option,
                             expected=f"{option} only with {where}")
    if ("--trials" in given) != ("--within-correlation" in given):
        have, need = ("--trials", "--within-correlation") if "--trials" in given else (
            "--within-correlation", "--trials")
        raise InputError(f"{have} needs {need}", field=need,
                         expected="--trials M --within-correlation R together (the design effect needs both)")


def plan(args):
    """The :class:`SampleSizeResult` the options of ``args`` ask for."""
    from harness.agreement import (icc_sample_size, loa_precision_sample_size, loa_sample_size_lu,
                                   with_replicates)

    given = _given(args)
    mode = _mode(given)
    _check_applicable(given, mode)
    if mode == ICC:
        return icc_sample_size(args.icc, args.width, raters=given.get("--raters", 2),
                               confidence=given.get("--confidence", 0.95), correction=not args.no_correction)
    if mode == LU:
        result = loa_sample_size_lu(given.get("--mean-diff", 0.0), args.sd_diff, args.delta,
                                    alpha=given.get("--alpha", 0.05), power=given.get("--power", 0.8),
                                    agreement=given.get("--agreement", 0.95))
    else:
        result = loa_precision_sample_size(args.sd_diff, args.half_width,
                                           confidence=given.get("--confidence", 0.95),
                                           method=given.get("--method", "exact"),
                                           multiplier=given.get("--multiplier", 1.96))
    if "--trials" in given:
        result = with_replicates(result, args.trials, args.within_correlation)
    return result


def _number(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def run(args) -> int:
    from harness.agreement._io import dumps

    result = plan(args)
    if args.json:
        print(dumps(result.to_dict()))
        return 0
    what = {"icc-bonett-2002": "ICC precision", "loa-lu-2016": "limits of agreement, power against a clinical "
            "limit"}.get(result.method, "limits of agreement, precision of each limit")
    per = f", each measured in {result.trials} trials" if result.trials > 1 else ""
    print(f"n = {result.n} subjects{per} ({what}; method {result.method})")
    print("  inputs: " + ", ".join(f"{k} = {_number(v)}" for k, v in result.inputs.items()))
    print(f"  achieved at n = {result.n}: " + ", ".join(f"{k} = {_number(v)}" for k, v in result.achieved.items()))
    if result.note:
        print(f"  note: {result.note}")
    print(f"  source: {result.citation}")
    return 0
