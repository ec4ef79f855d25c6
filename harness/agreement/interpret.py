"""The one interpretation vocabulary of stancebench: plain-language readings of ICC and kappa, with their sources.

Every word that the CLI (``stancebench icc|kappa``), the results rows (``agreement[].icc_reading``,
``categorical[].kappa_reading``) and the HTML report print for a reliability coefficient comes from this
module. The report may not import ``harness`` (it reads only the results), so the rows carry the reading, the
scale's rule and its citation (:func:`icc_reading_fields`, :func:`kappa_reading_fields`,
:func:`alpha_reading_fields`).

Scales, with the side of every boundary a value equal to it falls on:

======================  ===========================================================================
ICC (Koo & Li 2016)     x < 0.50 poor; 0.50 ≤ x < 0.75 moderate; 0.75 ≤ x ≤ 0.90 good; x > 0.90 excellent
kappa (Landis & Koch)   x < 0 poor; 0 ≤ x ≤ 0.20 slight; 0.20 < x ≤ 0.40 fair; 0.40 < x ≤ 0.60 moderate;
                        0.60 < x ≤ 0.80 substantial; x > 0.80 almost perfect
alpha (Krippendorff)    x < 0.667 not reliable; 0.667 ≤ x < 0.800 tentative conclusions only; x ≥ 0.800
                        reliable
======================  ===========================================================================

Lin's CCC is reported as a number only (no words): nothing in stancebench interprets it, so no CCC scale
(McBride 2005) is defined here. Missing input (None, NaN, ±inf) reads :data:`NOT_INTERPRETABLE`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ground_truth.kernel import InputError, validate_type

#: The reading of a missing coefficient or confidence bound (None, NaN, ±inf).
NOT_INTERPRETABLE = "not interpretable"


@dataclass(frozen=True)
class Band:
    """One reading and the interval of values it covers (``None``: unbounded on that side)."""

    reading: str
    low: float | None
    high: float | None
    low_included: bool
    high_included: bool

    def contains(self, value: float) -> bool:
        """Whether ``value`` (finite) falls in this band, with the band's stated boundary sides."""
        above = self.low is None or value > self.low or (self.low_included and value == self.low)
        below = self.high is None or value < self.high or (self.high_included and value == self.high)
        return above and below

    def describe(self) -> str:
        """The band in words, e.g. ``"0.50 to below 0.75 moderate"`` (three decimals where two would round a
        boundary such as Krippendorff's 0.667)."""
        lo, hi = (None if b is None else f"{b:.2f}" if round(b, 2) == b else f"{b:.3f}"
                  for b in (self.low, self.high))
        if lo is None:
            span = f"below {hi}" if not self.high_included else f"{hi} or below"
        elif hi is None:
            span = f"above {lo}" if not self.low_included else f"{lo} or above"
        else:
            span = (f"{lo}" if self.low_included else f"above {lo}") + (
                f" to {hi}" if self.high_included else f" to below {hi}")
        return f"{span} {self.reading}"

    def to_dict(self) -> dict:
        return {"reading": self.reading, "low": self.low, "high": self.high, "low_included": self.low_included,
                "high_included": self.high_included}


@dataclass(frozen=True)
class Scale:
    """A published interpretation scale: its bands (ascending, contiguous), what it is applied to, its source."""

    name: str
    statistic: str
    applied_to: str
    reference: str
    bands: tuple[Band, ...]

    def rule(self) -> str:
        """The bands in words, e.g. ``"below 0.50 poor; 0.50 to below 0.75 moderate; ...; missing: not
        interpretable"``."""
        return "; ".join([b.describe() for b in self.bands] + [f"missing: {NOT_INTERPRETABLE}"])

    def to_dict(self) -> dict:
        """JSON-able description carried by the results rows (the report reads the bands from it)."""
        return {"name": self.name, "statistic": self.statistic, "applied_to": self.applied_to,
                "rule": self.rule(), "bands": [b.to_dict() for b in self.bands]}


KOO_LI_2016 = Scale(
    name="Koo & Li (2016)", statistic="ICC", applied_to="both bounds of the 95% confidence interval",
    reference=("Koo TK, Li MY. A guideline of selecting and reporting intraclass correlation coefficients for "
               "reliability research. J Chiropr Med. 2016;15(2):155-163."),
    # "less than 0.5" and "greater than 0.90" are strict in the paper, so 0.5 and 0.90 fall in the middle
    # bands; 0.75, which the text names in two bands, goes to the upper one like 0.5 does (see koo_li_category).
    bands=(Band("poor", None, 0.5, False, False), Band("moderate", 0.5, 0.75, True, False),
           Band("good", 0.75, 0.9, True, True), Band("excellent", 0.9, None, False, False)))

LANDIS_KOCH_1977 = Scale(
    name="Landis & Koch (1977)", statistic="kappa", applied_to="the point estimate",
    reference=("Landis JR, Koch GG. The measurement of observer agreement for categorical data. Biometrics. "
               "1977;33(1):159-174."),
    # The paper's table: <0.00 poor, 0.00-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate, 0.61-0.80
    # substantial, 0.81-1.00 almost perfect: each stated upper limit is inside its band (see landis_koch).
    bands=(Band("poor", None, 0.0, False, False), Band("slight", 0.0, 0.2, True, True),
           Band("fair", 0.2, 0.4, False, True), Band("moderate", 0.4, 0.6, False, True),
           Band("substantial", 0.6, 0.8, False, True), Band("almost perfect", 0.8, None, False, False)))


KRIPPENDORFF_2004 = Scale(
    name="Krippendorff (2004)", statistic="alpha", applied_to="the point estimate",
    reference=("Krippendorff K. Content Analysis: An Introduction to Its Methodology. 2nd ed. Thousand Oaks, CA: "
               "Sage; 2004. p. 241."),
    # "rely only on variables with reliabilities above alpha = .800; consider variables with reliabilities
    # between .667 and .800 only for drawing tentative conclusions": 0.800 itself is reliable and 0.667 itself
    # tentative, as Krippendorff (2011) states the same limits ("alpha >= .800"; ".667 the lowest conceivable
    # limit"), see krippendorff_reading
    bands=(Band("not reliable", None, 0.667, False, False),
           Band("tentative conclusions only", 0.667, 0.8, True, False),
           Band("reliable", 0.8, None, True, False)))


def _finite_or_none(value, name: str) -> float | None:
    """``value`` as a float, or None when it is missing (None, NaN, ±inf); InputError when not a number."""
    if value is None:
        return None
    validate_type(value, "numeric", name)
    value = float(value)
    return value if math.isfinite(value) else None


def reading(value, scale: Scale, *, name: str = "value") -> str:
    """The reading of one coefficient on ``scale``.

    Parameters
    ----------
    value : float or None
        The coefficient (or one confidence bound). None, NaN and ±inf are missing.
    scale : Scale
        :data:`KOO_LI_2016` or :data:`LANDIS_KOCH_1977`.
    name : str
        Name of the value in error messages.

    Returns
    -------
    str
        The band's word, or :data:`NOT_INTERPRETABLE` for a missing value.

    Raises
    ------
    InputError
        ``value`` is not a number (a bool or a string is refused, not read as 0/1).

    Notes
    -----
    Values are read unrounded: an ICC of 0.9004 (printed "0.90") is excellent. The top and bottom bands are
    open (no range check): the statistics of :mod:`harness.agreement` keep their values in range.
    """
    validate_type(scale, Scale, "scale")
    x = _finite_or_none(value, name)
    if x is None:
        return NOT_INTERPRETABLE
    for band in scale.bands:
        if band.contains(x):
            return band.reading
    # the bands are contiguous and open-ended: reaching here means the scale itself is malformed
    raise InputError(f"{name}={x!r} falls in no band of {scale.name}", field="scale",
                     expected="contiguous bands covering every value")


def koo_li_category(value) -> str:
    """Koo & Li (2016) reading of one ICC value (one bound of its confidence interval).

    Parameters
    ----------
    value : float or None

    Returns
    -------
    str
        ``"poor"``, ``"moderate"``, ``"good"``, ``"excellent"`` or :data:`NOT_INTERPRETABLE`.

    Notes
    -----
    Koo & Li (2016): "ICC values less than 0.5 are indicative of poor reliability, values between 0.5 and
    0.75 indicate moderate reliability, values between 0.75 and 0.9 indicate good reliability, and values
    greater than 0.90 indicate excellent reliability". The inequalities "less than 0.5" and "greater than
    0.90" are strict, so **0.50 is moderate and 0.90 is good**. 0.75 is named in two bands; it is read as
    **good**, so that a value equal to a band's lower limit takes that band, as 0.5 does. Hence x < 0.50
    poor; 0.50 ≤ x < 0.75 moderate; 0.75 ≤ x ≤ 0.90 good; x > 0.90 excellent. (``effectsize::interpret_icc``
    reads 0.90 as excellent, against the paper's "greater than".) Koo TK, Li MY (2016) J Chiropr Med
    15:155-163.
    """
    return reading(value, KOO_LI_2016, name="icc")


def koo_li(ci_low, ci_high) -> str:
    """Koo & Li (2016) reading of an ICC **confidence interval**, e.g. ``"moderate to excellent"``.

    Parameters
    ----------
    ci_low, ci_high : float or None
        Bounds of the ICC's confidence interval (95 % as Koo & Li use it).

    Returns
    -------
    str
        One word when both bounds read the same, ``"<low> to <high>"`` otherwise, :data:`NOT_INTERPRETABLE`
        when either bound is missing.

    Raises
    ------
    InputError
        A bound is not a number, or ``ci_low > ci_high``.

    Notes
    -----
    Koo & Li (2016, abstract): "Based on the 95% confident interval of the ICC estimate, values less than 0.5,
    between 0.5 and 0.75, between 0.75 and 0.9, and greater than 0.90 are indicative of poor, moderate, good,
    and excellent reliability, respectively": the bounds of the CI are read, not the point estimate, so a CI
    of 0.83 to 0.94 reads "good to excellent". Each bound is read with :func:`koo_li_category` (0.90
    exactly is good). Koo TK, Li MY (2016) J Chiropr Med 15:155-163.
    """
    lo = _finite_or_none(ci_low, "icc_ci_low")
    hi = _finite_or_none(ci_high, "icc_ci_high")
    if lo is None or hi is None:
        return NOT_INTERPRETABLE
    if lo > hi:
        raise InputError(f"icc_ci_low {lo} is above icc_ci_high {hi}", field="icc_ci_low",
                         expected="ci_low <= ci_high")
    a, b = koo_li_category(lo), koo_li_category(hi)
    return a if a == b else f"{a} to {b}"


def landis_koch(value) -> str:
    """Landis & Koch (1977) reading of a kappa.

    Parameters
    ----------
    value : float or None
        Cohen's or Fleiss' kappa (point estimate).

    Returns
    -------
    str
        ``"poor"``, ``"slight"``, ``"fair"``, ``"moderate"``, ``"substantial"``, ``"almost perfect"`` or
        :data:`NOT_INTERPRETABLE`.

    Notes
    -----
    Landis & Koch (1977), table of kappa against "Strength of Agreement": < 0.00 poor, 0.00–0.20 slight, 0.21–0.40
    fair, 0.41–0.60 moderate, 0.61–0.80 substantial, 0.81–1.00 almost perfect. "< 0.00" is strict, so **kappa
    = 0 (chance agreement) is slight**. Each stated upper limit belongs to its band (**0.20 slight, 0.40 fair,
    0.60 moderate, 0.80 substantial**) and a value between two printed limits (e.g. 0.205, above 0.20 and
    below 0.21) takes the upper band: 0 ≤ x ≤ 0.20 slight, 0.20 < x ≤ 0.40 fair, 0.40 < x ≤ 0.60 moderate,
    0.60 < x ≤ 0.80 substantial, x > 0.80 almost perfect. Landis JR, Koch GG (1977) Biometrics 33:159-174.
    """
    return reading(value, LANDIS_KOCH_1977, name="kappa")


def krippendorff_reading(value) -> str:
    """Krippendorff's (2004) reading of an alpha.

    Parameters
    ----------
    value : float or None
        Krippendorff's alpha (point estimate).

    Returns
    -------
    str
        ``"not reliable"``, ``"tentative conclusions only"``, ``"reliable"`` or :data:`NOT_INTERPRETABLE`.

    Notes
    -----
    Krippendorff (2004, p. 241): rely only on variables with alpha above .800, and consider those between .667
    and .800 only for drawing tentative conclusions; below .667 the data are not reliable enough to draw
    conclusions from. Krippendorff (2011, Computing Krippendorff's alpha-reliability) states the same limits
    as "alpha >= .800" and ".667 the lowest conceivable limit", so **0.800 is reliable** and **0.667 is
    tentative conclusions only**: x < 0.667 not reliable; 0.667 ≤ x < 0.800 tentative conclusions only;
    x ≥ 0.800 reliable. Values are read unrounded (0.6669, printed "0.667", is not reliable). Krippendorff
    K (2004) Content Analysis: An Introduction to Its Methodology, 2nd ed., Sage, p. 241.
    """
    return reading(value, KRIPPENDORFF_2004, name="alpha")


def icc_reading_fields(ci_low, ci_high) -> dict:
    """The reading fields of a results ``agreement[]`` row: ``icc_reading``, ``icc_reading_source``,
    ``icc_reading_scale``.

    Parameters
    ----------
    ci_low, ci_high : float or None
        The row's ``icc_ci_low``, ``icc_ci_high``.

    Returns
    -------
    dict
        ``icc_reading`` (:func:`koo_li` of the CI), ``icc_reading_source`` (the full citation) and
        ``icc_reading_scale`` (:meth:`Scale.to_dict`: name, what it is applied to, rule, bands), so that the
        report prints the reading without thresholds of its own.

    Notes
    -----
    Koo TK, Li MY (2016) J Chiropr Med 15:155-163; boundaries as in :func:`koo_li_category`.
    """
    return {"icc_reading": koo_li(ci_low, ci_high), "icc_reading_source": KOO_LI_2016.reference,
            "icc_reading_scale": KOO_LI_2016.to_dict()}


def kappa_reading_fields(kappa) -> dict:
    """The reading fields of a results ``categorical[]`` row: ``kappa_reading``, ``kappa_reading_source``,
    ``kappa_reading_scale``.

    Parameters
    ----------
    kappa : float or None
        The row's ``kappa``.

    Returns
    -------
    dict
        ``kappa_reading`` (:func:`landis_koch`), ``kappa_reading_source`` (the full citation) and
        ``kappa_reading_scale`` (:meth:`Scale.to_dict`).

    Notes
    -----
    Landis JR, Koch GG (1977) Biometrics 33:159-174; boundaries as in :func:`landis_koch`.
    """
    return {"kappa_reading": landis_koch(kappa), "kappa_reading_source": LANDIS_KOCH_1977.reference,
            "kappa_reading_scale": LANDIS_KOCH_1977.to_dict()}


def alpha_reading_fields(alpha) -> dict:
    """The reading fields of a Krippendorff's alpha row: ``alpha_reading``, ``alpha_reading_source``,
    ``alpha_reading_scale``.

    Parameters
    ----------
    alpha : float or None
        Krippendorff's alpha.

    Returns
    -------
    dict
        ``alpha_reading`` (:func:`krippendorff_reading`), ``alpha_reading_source`` (the full citation) and
        ``alpha_reading_scale`` (:meth:`Scale.to_dict`).

    Notes
    -----
    Krippendorff K (2004) Content Analysis, 2nd ed., p. 241; boundaries as in :func:`krippendorff_reading`.
    """
    return {"alpha_reading": krippendorff_reading(alpha), "alpha_reading_source": KRIPPENDORFF_2004.reference,
            "alpha_reading_scale": KRIPPENDORFF_2004.to_dict()}
