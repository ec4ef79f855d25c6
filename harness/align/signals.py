"""Alignment signals derived from kinematics: what a video or a marker set gives to correlate with the other
clock's signal (a plate's Fz, a marker height's velocity, whole-body motion energy). Each is NaN-aware and
works on real, possibly irregular, timestamps."""
from __future__ import annotations

import numpy as np

from ground_truth.filters import lowpass_irregular
from ground_truth.kernel import BOUNDS, InputError, as_float_array, check_range


G = 9.80665  # standard gravity, m/s²


def _cutoff(lowpass_hz) -> float | None:
    """The low-pass cutoff as a float, None (or 0) for no filter; NaN, inf and negative values are errors."""
    if lowpass_hz is None or (lowpass_hz == 0 and not isinstance(lowpass_hz, bool)):
        return None
    return check_range(lowpass_hz, "lowpass_hz", 0.0, BOUNDS["rate_hz"].high, low_open=True, unit="Hz")


def com_vertical_force(t, com_z, mass_kg: float, *, lowpass_hz: float = 6.0) -> np.ndarray:
    """Vertical ground reaction force implied by a vertical COM trajectory: m·(z̈ + g), in N.

    The COM height (m, e.g. from video keypoints) is low-passed (zero-phase Butterworth, ``lowpass_hz``) and
    differentiated twice on its real, possibly irregular, timestamps (second-order finite differences,
    ``numpy.gradient``), so it can be cross-correlated with a force plate's Fz by :func:`estimate_offset`.
    NaN samples stay NaN.
    """
    tt = as_float_array(t, "t", ndim=1)
    z = as_float_array(com_z, "com_z", ndim=1)
    if tt.size != z.size or tt.size < 16:
        raise InputError(f"t has {tt.size} samples and com_z {z.size}", field="com_z",
                         expected="one height per timestamp, at least 16 samples")
    mass = BOUNDS["mass_kg"]
    if not mass.contains(np.array([mass_kg], dtype=float))[0]:
        raise InputError(f"mass_kg is {mass_kg}", field="mass_kg", expected=f"a body mass in {mass.describe()}")
    cutoff = _cutoff(lowpass_hz)
    zf = lowpass_irregular(tt, z, cutoff) if cutoff else z
    acc = np.gradient(np.gradient(zf, tt), tt)
    return float(mass_kg) * (acc + G)


def vertical_velocity(t, z, *, lowpass_hz: float = 6.0) -> np.ndarray:
    """Velocity of a height trajectory (m/s): zero-phase low-pass at ``lowpass_hz``, then central differences on
    its real timestamps. Cross-correlating velocities rather than heights removes a constant height offset and
    weights the quick movements (knee dip, hop) that fix the lag. NaN samples stay NaN."""
    tt = as_float_array(t, "t", ndim=1)
    zz = as_float_array(z, "z", ndim=1)
    if tt.size != zz.size or tt.size < 16:
        raise InputError(f"t has {tt.size} samples and z {zz.size}", field="z",
                         expected="one height per timestamp, at least 16 samples")
    cutoff = _cutoff(lowpass_hz)
    zf = lowpass_irregular(tt, zz, cutoff) if cutoff else zz
    return np.gradient(zf, tt)


def motion_energy(t, points, *, lowpass_hz: float = 6.0, min_valid_fraction: float = 0.5) -> np.ndarray:
    """Whole-body motion energy: the sum over tracked points of their squared speed, per sample.

    Parameters
    ----------
    t : array (n,)
        Seconds (real, possibly irregular, timestamps).
    points : array (n, k, d)
        Positions of k points (markers in m, or keypoints in pixels; d = 2 or 3). NaN marks a missing point.
    lowpass_hz : float
        Zero-phase low-pass of every coordinate before differentiation (keypoint jitter would otherwise
        dominate the squared speeds).
    min_valid_fraction : float
        A sample is NaN unless at least this fraction of the points have a speed there; the sum is scaled by
        ``k / n_valid`` so that a point dropping out does not make a step in the signal.

    Notes
    -----
    Markers and keypoints never see the same points in the same units, but the same movements give energy
    bursts at the same instants, which is all a normalised cross-correlation needs: this is the signal of last
    resort when neither side has a COM model (e.g. a sparse marker set against any pose model).
    """
    tt = as_float_array(t, "t", ndim=1)
    p = as_float_array(points, "points")
    if p.ndim != 3 or p.shape[0] != tt.size or p.shape[0] < 16:
        raise InputError(f"has shape {p.shape}", field="points", expected=f"({tt.size}, k, 2 or 3), >= 16 samples")
    cutoff = _cutoff(lowpass_hz)
    check_range(min_valid_fraction, "min_valid_fraction", 0.0, 1.0)
    pf = lowpass_irregular(tt, p, cutoff) if cutoff else p
    v = np.gradient(pf, tt, axis=0)
    sq = np.sum(v ** 2, axis=2)                                   # (n, k), NaN where a point is missing
    ok = np.isfinite(sq)
    n_ok = ok.sum(axis=1)
    total = np.where(ok, sq, 0.0).sum(axis=1)
    out = np.full(tt.size, np.nan)
    keep = n_ok >= max(1, min_valid_fraction * p.shape[1])
    out[keep] = total[keep] * p.shape[1] / n_ok[keep]
    return out
