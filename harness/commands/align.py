"""``stancebench align``: estimate the clock offset (and drift) between a reference and a candidate signal."""
from __future__ import annotations

import sys

HELP = "Estimate the clock offset (and drift) between a reference and a candidate signal."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "align", help=HELP, description=HELP + " Each CSV has columns 't' (seconds, its own clock; irregular "
        "timestamps are fine) and 'value' (the same physical quantity on both sides). Prints offset_s with "
        "t_ref = t_cand + offset_s (+ drift_ppm*1e-6*t_cand). A trial without a reliable correlation peak is "
        "refused: the reason goes to stderr and the exit status is 2.")
    p.add_argument("ref", metavar="REF.csv", help="reference signal (gold standard clock)")
    p.add_argument("cand", metavar="CAND.csv", help="candidate signal (video clock)")
    p.add_argument("--max-lag", type=float, default=5.0, metavar="S", help="search ±S seconds (default 5)")
    p.add_argument("--drift", action="store_true", help="also estimate clock drift (ppm)")
    p.add_argument("--lowpass", type=float, default=None, metavar="HZ",
                   help="zero-phase low-pass both signals at HZ first")
    p.add_argument("--min-peak-corr", type=float, default=0.5, help="refuse below this peak correlation (0.5)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def _check_options(args) -> None:
    """Numeric options finite and in range before the files are read (``--lowpass 0|-1|nan`` used to end in a
    traceback from the filter design)."""
    from ground_truth.kernel import BOUNDS, check_range

    rate, dur = BOUNDS["rate_hz"], BOUNDS["duration_s"]
    check_range(args.max_lag, "--max-lag", 0.0, dur.high, low_open=True, unit="s")
    check_range(args.lowpass, "--lowpass", 0.0, rate.high, low_open=True, optional=True,
                    unit="Hz (below the Nyquist frequency of both signals)")
    check_range(args.min_peak_corr, "--min-peak-corr", 0.0, 1.0, unit="(a correlation)")


def run(args) -> int:
    from harness.agreement._io import dumps, read_table
    from harness.align import estimate_offset

    _check_options(args)
    ref = read_table(args.ref, ["t", "value"], numeric=["t", "value"])
    cand = read_table(args.cand, ["t", "value"], numeric=["t", "value"])
    res = estimate_offset(ref["t"].to_numpy(float), ref["value"].to_numpy(float), cand["t"].to_numpy(float),
                          cand["value"].to_numpy(float), max_lag_s=args.max_lag, drift=args.drift,
                          lowpass_hz=args.lowpass, min_peak_corr=args.min_peak_corr)
    out = res.to_dict()
    out = {"offset_s": out.pop("offset_s"), "drift_ppm": out.pop("drift_ppm"), "peak_corr": out.pop("peak_corr"),
           "method": out.pop("method"), **out, "convention": "t_ref = t_cand + offset_s + drift_ppm*1e-6*t_cand"}
    if args.json:
        print(dumps(out))
    else:
        print(f"offset {res.offset_s:+.6f} s (± {res.lag_uncertainty_s:.2g} s), drift {res.drift_ppm:+.2f} ppm, "
              f"peak correlation {res.peak_corr:.3f}, method {res.method}; t_ref = t_cand + offset")
    if not res.reliable:
        print(f"stancebench align: alignment refused: {res.reason}", file=sys.stderr)
        return 2
    return 0
