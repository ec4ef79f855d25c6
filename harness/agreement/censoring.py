"""Censored values (e.g. time-to-failure capped at the trial's length) are flagged and handled explicitly.

A subject who never loses balance during a 30 s trial has a time-to-failure of "at least 30 s", not 30 s.
Treating the cap as a measurement shrinks differences and inflates agreement, so stancebench never feeds
censored pairs to agreement statistics silently: by default they are excluded, counted and explained in a
note; ``policy='raise'`` refuses instead.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ground_truth.kernel import InputError, check_option


@dataclass
class CensoringReport:
    n_total: int
    n_censored: int
    n_reference_censored: int
    n_candidate_censored: int
    policy: str
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def censored_at(values, cap, *, atol: float = 1e-9) -> np.ndarray:
    """Boolean mask of values at (or above) their cap, e.g. time-to-failure equal to the trial duration.

    ``cap`` is a scalar or one cap per value (trials of different lengths). NaN values are not censored.
    """
    v = np.asarray(values, dtype=float)
    c = np.broadcast_to(np.asarray(cap, dtype=float), v.shape)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (v >= c - atol)


def handle_censored(reference, candidate, *, reference_censored=None, candidate_censored=None,
                    policy: str = "exclude"):
    """Remove pairs where either side is censored, with a count and a note (or refuse with ``policy='raise'``).

    Returns
    -------
    keep : ndarray of bool
        Mask of the pairs to analyse (apply it to subjects and other per-row arrays too).
    report : CensoringReport

    Notes
    -----
    Excluding censored pairs analyses agreement only where failure was observed on both sides; the note says
    so, and the count appears beside every statistic (``n_censored``). Censored data could instead be
    analysed with survival methods (e.g. Kaplan-Meier of the failure times per method); stancebench does not
    do that implicitly.
    """
    check_option("policy", policy, ("exclude", "raise"))
    ref = np.asarray(reference, dtype=float)
    n = ref.size
    if np.asarray(candidate).shape != ref.shape:
        raise InputError(f"candidate has {np.asarray(candidate).size} values but reference has {n}",
                         field="candidate", expected="paired values")
    rc = np.zeros(n, bool) if reference_censored is None else np.asarray(reference_censored, dtype=bool)
    cc = np.zeros(n, bool) if candidate_censored is None else np.asarray(candidate_censored, dtype=bool)
    if rc.shape != ref.shape or cc.shape != ref.shape:
        raise InputError("censoring masks do not match the data", field="reference_censored/candidate_censored",
                         expected=f"boolean masks of length {n}")
    either = rc | cc
    k = int(either.sum())
    if k and policy == "raise":
        raise InputError(f"{k} of {n} pair(s) are censored (reference {int(rc.sum())}, candidate "
                         f"{int(cc.sum())})", field="censored",
                         expected="uncensored values, or policy='exclude' to drop them with a note")
    note = ""
    if k:
        note = (f"{k} of {n} pair(s) excluded because a value is censored at the trial's maximum "
                f"(reference {int(rc.sum())}, candidate {int(cc.sum())}); agreement is for observed failures only")
    return ~either, CensoringReport(n_total=n, n_censored=k, n_reference_censored=int(rc.sum()),
                                    n_candidate_censored=int(cc.sum()), policy=policy, note=note)
