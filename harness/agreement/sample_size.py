"""What a sample-size plan returns, and how repeated trials per subject change it.

Every planning function of stancebench (:func:`~harness.agreement.sample_size_icc.icc_sample_size`,
:func:`~harness.agreement.sample_size_loa.loa_sample_size_lu`,
:func:`~harness.agreement.sample_size_loa.loa_precision_sample_size`) returns one :class:`SampleSizeResult`:
the number of subjects, the method and its citation, the inputs it was given and what the plan achieves at that
number (the expected CI width, or the power). :func:`with_replicates` turns a plan for independent pairs into a
plan for subjects measured in several trials each, through the design effect.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ground_truth.kernel import InputError, check_range, validate_type

#: Largest plan returned: a study of more than a million subjects is not a plan, it says the target is out of
#: reach (and beyond it the search would spend seconds on arrays of that size).
MAX_SUBJECTS = 1_000_000

KISH_1965 = ("Kish L (1965) Survey Sampling. New York: Wiley, §5.4 (design effect 1 + (m - 1)·rho of clusters "
             "of m correlated observations)")


@dataclass
class SampleSizeResult:
    """A sample-size plan: ``n`` subjects, each measured in ``trials`` trials per method.

    ``inputs`` holds every number the plan was computed from (by the names of the function's arguments),
    ``achieved`` what the plan gives at ``n`` (``width`` for an ICC, ``power`` for Lu et al., ``half_width``
    for the precision of a limit of agreement), ``citation`` the source of the method and ``note`` anything a
    reader must know (an adjustment that was applied, an approximation).
    """

    n: int
    method: str
    inputs: dict
    achieved: dict
    citation: str
    trials: int = 1
    note: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict (nested dicts copied), e.g. for results.json or ``--json``."""
        return asdict(self)


def check_n(n, field: str, minimum: int) -> int:
    """A number of subjects: an integer (bools refused) of at least ``minimum``."""
    validate_type(n, "numeric", field)
    if not (math.isfinite(float(n)) and float(n) == int(n) and int(n) >= minimum):
        raise InputError(f"{field} is {n!r}", field=field, expected=f"a whole number >= {minimum}")
    return int(n)


def design_effect(trials: int, within_correlation: float) -> float:
    """Design effect 1 + (m − 1)·ρ of ``trials`` (m) correlated measurements per subject.

    Parameters
    ----------
    trials : int
        Trials per subject (each giving one candidate − reference difference).
    within_correlation : float
        Correlation ρ of two differences of the same subject: var_between / (var_between + var_within) of the
        differences (``bland_altman_replicates(..., method='ba2007').extra`` reports both components).

    Returns
    -------
    float
        How many times larger the variance of the mean difference is than if all ``n·m`` differences were
        independent.

    Notes
    -----
    ρ = 0: every trial counts as a subject of its own (design effect 1); ρ = 1: repeating a trial adds nothing
    (design effect m). Kish (1965) §5.4.
    """
    trials = check_n(trials, "trials", 1)
    rho = check_range(within_correlation, "within_correlation", 0.0, 1.0)
    return 1.0 + (trials - 1) * rho


def with_replicates(result: SampleSizeResult, trials: int, within_correlation: float) -> SampleSizeResult:
    """A limits-of-agreement plan for ``result.n`` independent pairs turned into subjects measured ``trials``
    times each.

    Parameters
    ----------
    result : SampleSizeResult
        A plan for independent pairs (:func:`loa_sample_size_lu` or :func:`loa_precision_sample_size`).
    trials : int
        Trials per subject, each measured by both methods.
    within_correlation : float
        Within-subject correlation ρ of the differences (see :func:`design_effect`).

    Returns
    -------
    SampleSizeResult
        ``n`` = ceil(n_pairs · (1 + (m − 1)ρ) / m) subjects (at least 3), ``trials`` = m; ``inputs`` gains
        ``trials``, ``within_correlation``, ``design_effect`` and ``n_independent`` (the plan for independent
        pairs); ``achieved['effective_n']`` is n·m / design effect.

    Notes
    -----
    The n·m differences of the study are worth n·m / (1 + (m − 1)ρ) independent pairs (Kish 1965). This is
    exact for the variance of the bias and an approximation for the SD of the differences, hence for the limits
    of agreement: with few subjects the between-subject part of the SD is estimated from few values, so keep
    the number of subjects well above the minimum of 3. For an ICC the ratings per subject are its ``raters``
    (k) and this adjustment does not apply. Analyse such a study with ``bland_altman_replicates``.
    """
    if not isinstance(result, SampleSizeResult):
        raise InputError(f"result is a {type(result).__name__}", field="result",
                         expected="a SampleSizeResult of a limits-of-agreement plan")
    if result.method.startswith("icc"):
        raise InputError("repeated trials do not enter an ICC plan through a design effect", field="trials",
                         expected="the ratings per subject as raters=k of icc_sample_size")
    deff = design_effect(trials, within_correlation)
    trials = int(trials)
    subjects = max(3, math.ceil(result.n * deff / trials))
    out = copy.deepcopy(result)
    out.n, out.trials = subjects, trials
    out.inputs.update(trials=trials, within_correlation=float(within_correlation), design_effect=deff,
                      n_independent=result.n)
    out.achieved["effective_n"] = subjects * trials / deff
    out.citation = f"{result.citation}; {KISH_1965}"
    out.note = "; ".join(x for x in (result.note, (
        f"{trials} trials per subject with within-subject correlation {float(within_correlation):g}: design effect "
        f"{deff:.4g}, so {subjects} subjects give about {result.n} independent pairs (exact for the bias, an "
        "approximation for the SD and the limits)")) if x)
    return out


def smallest_n(ok: Callable[[int], bool], *, start: int, guess: float, field: str, target: str) -> int:
    """Smallest n ≥ ``start`` with ``ok(n)`` for a criterion that, once met, stays met as n grows.

    The search starts at ``guess`` (e.g. a large-sample approximation), widens geometrically until it brackets
    the answer, then bisects; refused with a message naming ``field`` when even :data:`MAX_SUBJECTS` fails.
    """
    hi = max(start, min(int(math.ceil(guess)) if math.isfinite(guess) else start, MAX_SUBJECTS))
    step = max(1, hi // 16)
    if ok(hi):
        lo = hi - step
        while lo >= start and ok(lo):
            hi, step = lo, step * 2
            lo = hi - step
        lo = max(lo, start - 1)   # start - 1 stands for "not met" below the range
    else:
        lo = hi
        while True:
            if lo >= MAX_SUBJECTS:
                raise InputError(f"{target} is not reached with {MAX_SUBJECTS:,} subjects", field=field,
                                 expected="a less demanding target (or a smaller SD of the differences)")
            hi = min(lo + step, MAX_SUBJECTS)
            if ok(hi):
                break
            lo, step = hi, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
