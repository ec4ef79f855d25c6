"""The clock model ``t_ref = t_cand + offset_s + drift_ppm·1e-6·t_cand``, the result every alignment method
returns, and the input check the estimators share."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ground_truth.kernel import InputError, as_float_array


@dataclass
class AlignmentResult:
    """Estimated clock mapping ``t_ref = t_cand + offset_s + drift_ppm·1e-6·t_cand`` and its quality.

    ``peak_corr`` is the Pearson correlation of the aligned signals (NaN for event alignment),
    ``lag_uncertainty_s`` the standard error of ``offset_s`` (from the spread of windowed estimates or of
    the events), ``residual_s`` the RMS scatter of windowed/event offsets about the fitted mapping.
    ``reliable`` is False with a ``reason`` when the result must not be used (the trial is refused).
    """

    offset_s: float
    drift_ppm: float
    peak_corr: float
    lag_uncertainty_s: float
    residual_s: float
    method: str
    reliable: bool = True
    reason: str | None = None
    n_windows: int = 0
    max_lag_s: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)

    def map_times(self, t_cand) -> np.ndarray:
        """Candidate timestamps expressed on the reference clock."""
        return to_reference_time(t_cand, self)


def to_reference_time(t_cand, mapping) -> np.ndarray:
    """``t_cand + offset + drift·t_cand``: candidate times on the reference clock.

    ``mapping`` is anything with ``offset_s`` and ``drift_ppm`` (an :class:`AlignmentResult`, the trial
    pipeline's clock alignment); the one definition of the clock model of this package.
    """
    t = np.asarray(t_cand, dtype=float)
    return t + mapping.offset_s + mapping.drift_ppm * 1e-6 * t


def to_candidate_time(t_ref, mapping) -> np.ndarray:
    """The inverse of :func:`to_reference_time`: reference times on the candidate clock."""
    return (np.asarray(t_ref, dtype=float) - mapping.offset_s) / (1.0 + mapping.drift_ppm * 1e-6)


# ---------------------------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------------------------

def checked_signal(t, x, name):
    """Timestamps and finite values of one signal (NaN samples dropped) and the fraction that was NaN."""
    t = as_float_array(t, f"{name}_t", ndim=1)
    x = as_float_array(x, f"{name}_x", ndim=1)
    if t.size != x.size:
        raise InputError(f"{name}_t has {t.size} samples but {name}_x has {x.size}", field=f"{name}_x",
                         expected="one value per timestamp")
    if not np.all(np.isfinite(t)):
        raise InputError("timestamps are not all finite", field=f"{name}_t", expected="finite times in seconds")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        bad = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise InputError(f"timestamps are not strictly increasing at sample {bad + 1}", field=f"{name}_t",
                         expected="strictly increasing times in seconds")
    ok = np.isfinite(x)
    if ok.sum() < 10:
        raise InputError(f"only {int(ok.sum())} finite sample(s)", field=f"{name}_x",
                         expected="at least 10 finite samples")
    return t[ok], x[ok], float(1 - ok.mean())
