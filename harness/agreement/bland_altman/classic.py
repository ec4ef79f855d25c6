"""Classic Bland-Altman limits of agreement (one pair per subject), on the difference, log/ratio or percentage
scale, and the result type every Bland-Altman design returns.

All differences are **candidate − reference** (a positive bias means the candidate reads high).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from ground_truth.kernel import InputError, check_option

from .._checks import check_confidence, check_multiplier, paired_arrays, unit_scale
from .exact_pair import carkeet_factors, loa_ci_name

#: keys of the CI methods of the limits; their exact names (what every output prints): exact_pair.LOA_CI_NAMES.
#: 'exact' is Carkeet's (2015) interval of each limit individually, 'exact-pair' his interval of the two as a pair.
LOA_CI_METHODS = ("approximate", "approximate-1986", "exact", "exact-pair", "mover")
#: the methods of one pair per subject (MOVER is for replicates)
CLASSIC_LOA_CI_METHODS = LOA_CI_METHODS[:4]
SCALES = ("difference", "log", "percent")
DIFFERENCE_CONVENTION = "difference = candidate - reference (positive bias: candidate reads high)"


class _JsonCIForm:
    """The CLI form of a Bland-Altman result: CI bounds as ``[low, high]`` lists."""

    def to_json_dict(self) -> dict:
        """``to_dict()`` with ``bias_ci``, ``loa_lower_ci``, ``loa_upper_ci`` as ``[low, high]`` lists."""
        d = self.to_dict()
        for key in ("bias", "loa_lower", "loa_upper"):
            d[f"{key}_ci"] = [d.pop(f"{key}_ci_low"), d.pop(f"{key}_ci_high")]
        return d


@dataclass
class BlandAltmanResult(_JsonCIForm):
    """Bias, SD of differences and limits of agreement, each with its confidence interval in separate fields."""

    method: str
    n: int
    bias: float
    bias_ci_low: float
    bias_ci_high: float
    sd: float
    multiplier: float
    loa_lower: float
    loa_lower_ci_low: float
    loa_lower_ci_high: float
    loa_upper: float
    loa_upper_ci_low: float
    loa_upper_ci_high: float
    confidence: float = 0.95
    loa_ci_method: str = "approximate"
    #: the exact name of ``loa_ci_method`` (LOA_CI_NAMES), e.g. "exact, the two limits as a pair (Carkeet 2015)"
    loa_ci_name: str = ""
    scale: str = "difference"
    n_subjects: int | None = None
    se_bias: float = float("nan")
    se_loa: float = float("nan")
    convention: str = DIFFERENCE_CONVENTION
    extra: dict = field(default_factory=dict)
    note: str = ""

    def __post_init__(self):
        self.loa_ci_name = self.loa_ci_name or loa_ci_name(self.loa_ci_method)
        self.note = _explain_nonfinite(self.note, {name: getattr(self, name) for name in _CORE_FIELDS})

    def to_dict(self) -> dict:
        """Flat dict (schema names of docs/results-schema.md "agreement"); ``extra`` is merged in."""
        d = asdict(self)
        extra = d.pop("extra")
        d.update(extra)
        return d


#: the figures every Bland-Altman result reports; one that is not a finite number is named in the note
_CORE_FIELDS = ("bias", "bias_ci_low", "bias_ci_high", "sd", "loa_lower", "loa_lower_ci_low", "loa_lower_ci_high",
                "loa_upper", "loa_upper_ci_low", "loa_upper_ci_high")


def _explain_nonfinite(note: str, values: dict) -> str:
    """``note`` plus a reason for every figure that is not a finite number (JSON would show a bare null)."""
    bad = [name for name, v in values.items() if not np.isfinite(float(v))]
    if not bad:
        return note
    reason = (f"{', '.join(bad)} could not be computed: not finite in float64 (the multiplier or the spread of "
              "the values is beyond the range of double precision)")
    return "; ".join(x for x in (note, reason) if x)


def _differences(ref, cand, scale):
    if scale == "log":
        if np.any(ref <= 0) or np.any(cand <= 0):
            raise InputError("log limits of agreement need strictly positive values", field="scale",
                             expected="positive measurements, or scale='difference'")
        return np.log(cand) - np.log(ref)
    if scale == "percent":
        mean = (ref + cand) / 2.0
        if np.any(mean == 0):
            raise InputError("percentage differences are undefined where the pair mean is 0", field="scale",
                             expected="non-zero pair means, or scale='difference'")
        return 100.0 * (cand - ref) / mean
    return cand - ref


def check_sd(sd: float, what: str = "differences", spread: float | None = None) -> float:
    """``sd`` when it is a finite number > 0. Callers have checked that the values vary
    (:func:`_check_spread`), so an SD of 0 or inf is float64 failing (squares below ~1e-308 or above ~1e308):
    it is said so, never returned as a limit of agreement of 0 or a null."""
    if not (np.isfinite(sd) and sd > 0):
        rng = "" if spread is None else f" (range {spread:.3g})"
        raise InputError(f"the SD of the {what} comes out as {sd:g} in float64 although they vary{rng}: their "
                         "squares are beyond double precision", field="candidate",
                         expected="measurements in a unit where differences lie between ~1e-150 and ~1e150")
    return sd


def _check_spread(d, what="differences"):
    if np.ptp(d) == 0:
        raise InputError(f"all {d.size} {what} are identical ({d[0]!r}); their SD is 0 and limits of "
                         f"agreement are degenerate", field="candidate",
                         expected="measurements with some disagreement")


def bland_altman(reference, candidate, *, multiplier: float = 1.96, confidence: float = 0.95,
                 loa_ci: str = "approximate", scale: str = "difference") -> BlandAltmanResult:
    """Bland-Altman limits of agreement of paired measurements (one pair per subject).

    Parameters
    ----------
    reference, candidate : array-like of shape (n,)
        Paired measurements; differences are ``candidate - reference``.
    multiplier : float
        Limits are ``bias ± multiplier · SD`` (1.96 for 95 % limits; 2 as in Bland & Altman 1986).
    confidence : float
        Level of the confidence intervals of the bias and of each limit.
    loa_ci : {'approximate', 'approximate-1986', 'exact', 'exact-pair'}
        CI of the limits: 'approximate' uses SE = s·sqrt(1/n + multiplier²/(2(n−1))) (Bland & Altman 1999
        §2.2) with t(n−1); 'approximate-1986' uses SE = sqrt(3 s²/n) (Bland & Altman 1986, for the 1.96/2
        multiplier) with t(n−1); 'exact': each limit individually, from the non-central t; 'exact-pair': the
        two limits as a pair, from two-sided tolerance factors (both Carkeet 2015, see :func:`carkeet_factors`).
        ``loa_ci_name`` of the result names the method in words.
    scale : {'difference', 'log', 'percent'}
        'log': differences of natural logs (limits of the ratio candidate/reference, back-transformed in
        ``extra['ratio*']``; Bland & Altman 1999 §3.1). 'percent': 100·(c − r)/mean(c, r).

    Returns
    -------
    BlandAltmanResult
        Also in ``extra``: proportional bias (OLS of difference on pair mean: slope, its CI and p).

    Notes
    -----
    Read the bias as the average amount the candidate reads above the reference, and the limits as the range
    holding about 95 % of single-subject differences; their CIs say how well 'n' pairs pin them down. With
    'exact-pair' read the CIs together: with the stated confidence the band between the two outer bounds holds
    at least 95 % of differences and the band between the inner bounds less (not a CI of each limit's
    location; :func:`carkeet_factors` Notes). SD uses ddof=1. A significant proportional-bias slope means the
    limits are not constant over the range: use :func:`bland_altman_regression` or ``scale='log'``.

    References
    ----------
    Bland JM, Altman DG (1986) Lancet i:307-310. Bland JM, Altman DG (1999) Stat Methods Med Res 8:135-160.
    Carkeet A (2015) Optom Vis Sci 92:e71-e80.
    """
    check_option("scale", scale, SCALES)
    check_option("loa_ci", loa_ci, CLASSIC_LOA_CI_METHODS, extra="(use bland_altman_replicates for 'mover')")
    multiplier = check_multiplier(multiplier)
    confidence = check_confidence(confidence)
    ref, cand = paired_arrays(reference, candidate, min_n=3)
    d = _differences(ref, cand, scale)
    _check_spread(d)
    n = d.size
    unit = unit_scale(d)
    bias = float(np.mean(d / unit) * unit)
    sd = check_sd(float(np.std(d / unit, ddof=1) * unit), spread=float(np.ptp(d)))
    alpha = 1.0 - confidence
    t = stats.t.ppf(1 - alpha / 2, n - 1)
    se_bias = sd / np.sqrt(n)
    lo, hi = bias - multiplier * sd, bias + multiplier * sd
    if loa_ci in ("exact", "exact-pair"):
        # Carkeet 2015: bounds bias ± q·s, q a one-sided (individually) or two-sided (pair) tolerance factor
        f = carkeet_factors(n, multiplier=multiplier, confidence=confidence, pair=loa_ci == "exact-pair")
        up_ci = (bias + f.inner * sd, bias + f.outer * sd)
        low_ci = (bias - f.outer * sd, bias - f.inner * sd)
        se_loa = float("nan")
    else:
        if loa_ci == "approximate":
            se_loa = sd * np.sqrt(1.0 / n + multiplier ** 2 / (2.0 * (n - 1)))
        else:
            se_loa = np.sqrt(3.0 * sd ** 2 / n)
        low_ci = (lo - t * se_loa, lo + t * se_loa)
        up_ci = (hi - t * se_loa, hi + t * se_loa)
    mean = (ref + cand) / 2.0
    extra = _proportional_bias(mean, d, confidence)
    if scale == "log":
        extra.update(ratio=float(np.exp(bias)), ratio_ci_low=float(np.exp(bias - t * se_bias)),
                     ratio_ci_high=float(np.exp(bias + t * se_bias)), ratio_loa_lower=float(np.exp(lo)),
                     ratio_loa_upper=float(np.exp(hi)))
    method = {"difference": "classic", "log": "log", "percent": "percent"}[scale]
    return BlandAltmanResult(
        method=method, n=n, bias=bias, bias_ci_low=float(bias - t * se_bias), bias_ci_high=float(bias + t * se_bias),
        sd=sd, multiplier=multiplier, loa_lower=float(lo), loa_lower_ci_low=float(low_ci[0]),
        loa_lower_ci_high=float(low_ci[1]), loa_upper=float(hi), loa_upper_ci_low=float(up_ci[0]),
        loa_upper_ci_high=float(up_ci[1]), confidence=confidence, loa_ci_method=loa_ci, scale=scale,
        se_bias=float(se_bias), se_loa=float(se_loa), extra=extra,
        note="; ".join(x for x in (
            {"log": "differences are ln(candidate) - ln(reference); exp() gives ratios candidate/reference",
             "percent": "differences are 100*(candidate - reference)/mean(candidate, reference)",
             "difference": ""}[scale],
            "" if np.ptp(mean) else "proportional bias undefined: every pair has the same mean") if x))


def _proportional_bias(mean, d, confidence):
    if np.ptp(mean) == 0:
        return {"prop_bias_slope": float("nan"), "prop_bias_slope_ci_low": float("nan"),
                "prop_bias_slope_ci_high": float("nan"), "prop_bias_p": float("nan")}
    # fitted in units near 1 (exact powers of two): sums of products of values like 1e150 overflow otherwise
    um, ud = unit_scale(mean), unit_scale(d)
    fit = stats.linregress(mean / um, d / ud)
    slope, stderr = fit.slope * ud / um, fit.stderr * ud / um
    tq = stats.t.ppf(0.5 + confidence / 2, d.size - 2)
    return {"prop_bias_slope": float(slope), "prop_bias_intercept": float(fit.intercept * ud),
            "prop_bias_slope_ci_low": float(slope - tq * stderr),
            "prop_bias_slope_ci_high": float(slope + tq * stderr), "prop_bias_p": float(fit.pvalue)}
