"""Hip-versus-ankle balance strategy: an indicator and a label, from hip and ankle angle time series.

Horak & Nashner (1986, J Neurophysiol 55:1369) described two postural strategies: the *ankle strategy*, the body
swaying as one inverted pendulum about the ankles (hip angle nearly constant), and the *hip strategy*, large
hip motion with the trunk counter-rotating against the legs. Creath et al. (2005, Neurosci Lett 377:75) showed
both co-exist in quiet stance: hip and ankle angles move in phase below ~1 Hz (ankle mode) and in anti-phase
above ~1 Hz (hip mode).

This module reports two numbers per trial (functions take plain arrays so that both marker-derived and
keypoint-derived angles can be used):

* ``hip_fraction`` = RMS(hip) / (RMS(hip) + RMS(ankle)) of the detrended angles (sagittal and frontal planes
  combined as the root of the summed mean squares). 0 = pure ankle strategy, 1 = pure hip strategy.
* ``antiphase_index``: the correlation of hip and ankle angular *velocities* with its sign flipped (Creath et
  al.'s in-phase/anti-phase distinction in the time domain): near +1 when the trunk counter-rotates against
  the legs, near -1 when the body moves as one segment with the hip bending along.

The label uses ``hip_fraction`` only, with this project's thresholds (there is no published universal cut-off):
``"ankle"`` below 0.4, ``"hip"`` above 0.6, ``"mixed"`` in between.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import InputError, as_float_array
from .filters import lowpass_bridged

#: Label thresholds on hip_fraction (this project's convention; see module docstring).
ANKLE_BELOW = 0.4
HIP_ABOVE = 0.6


@dataclass(frozen=True)
class StrategyResult:
    """Strategy indicator of one trial (see the module docstring for definitions)."""

    hip_fraction: float
    antiphase_index: float
    label: str
    hip_rms_deg: float
    ankle_rms_deg: float
    n_samples: int
    thresholds: tuple = (ANKLE_BELOW, HIP_ABOVE)

    def to_dict(self) -> dict:
        return {"hip_fraction": self.hip_fraction, "antiphase_index": self.antiphase_index, "label": self.label,
                "hip_rms_deg": self.hip_rms_deg, "ankle_rms_deg": self.ankle_rms_deg,
                "n_samples": self.n_samples, "thresholds": list(self.thresholds)}


def _detrended(x: np.ndarray) -> np.ndarray:
    """Remove a least-squares line (slow posture drift is not sway), ignoring NaN samples."""
    t = np.arange(x.size, dtype=float)
    ok = np.isfinite(x)
    if ok.sum() < 3:
        return np.full_like(x, np.nan)
    coef = np.polyfit(t[ok], x[ok], 1)
    return x - np.polyval(coef, t)


def _smoothed(x: np.ndarray, fs: float | None, cutoff_hz: float | None) -> np.ndarray:
    """:func:`~ground_truth.filters.lowpass_bridged`, or ``x`` itself without a rate or a cut-off."""
    if fs is None or cutoff_hz is None:
        return x
    return lowpass_bridged(x, fs, cutoff_hz)


def _pairs(hip_sagittal, ankle_sagittal, hip_frontal, ankle_frontal, fs=None, cutoff_hz=None):
    pairs = []
    for hname, h, aname, a in (("hip_sagittal", hip_sagittal, "ankle_sagittal", ankle_sagittal),
                               ("hip_frontal", hip_frontal, "ankle_frontal", ankle_frontal)):
        if h is None and a is None:
            continue
        if h is None or a is None:
            raise InputError("hip and ankle angles of a plane must be given together",
                             field=hname if h is None else aname)
        h = as_float_array(h, hname, ndim=1)
        a = as_float_array(a, aname, ndim=1)
        if h.size != a.size:
            raise InputError(f"has {h.size} samples but {aname} has {a.size}", field=hname,
                             expected="hip and ankle angles on the same clock")
        pairs.append((_smoothed(h, fs, cutoff_hz), _smoothed(a, fs, cutoff_hz)))
    if not pairs:
        raise InputError("no angles given", field="hip_sagittal", expected="at least one plane's hip and ankle angles")
    return pairs


def hip_ankle_fraction(hip_sagittal=None, ankle_sagittal=None, hip_frontal=None, ankle_frontal=None, *,
                       fs: float | None = None, cutoff_hz: float | None = 3.0) -> float:
    """RMS(hip) / (RMS(hip) + RMS(ankle)) of detrended angles (deg or rad; planes combined). NaN samples skipped.

    With ``fs`` given, the angles are first low-pass filtered at ``cutoff_hz`` (see :func:`strategy_indicator`).
    """
    hs, as_ = 0.0, 0.0
    for h, a in _pairs(hip_sagittal, ankle_sagittal, hip_frontal, ankle_frontal, fs, cutoff_hz):
        ok = np.isfinite(h) & np.isfinite(a)
        if ok.sum() < 3:
            continue
        hs += np.mean(_detrended(np.where(ok, h, np.nan))[ok] ** 2)
        as_ += np.mean(_detrended(np.where(ok, a, np.nan))[ok] ** 2)
    hr, ar = np.sqrt(hs), np.sqrt(as_)
    if hr + ar == 0:
        return float("nan")
    return float(hr / (hr + ar))


def strategy_indicator(hip_sagittal=None, ankle_sagittal=None, hip_frontal=None, ankle_frontal=None, *,
                       fs: float | None = None, cutoff_hz: float | None = 3.0) -> StrategyResult:
    """Hip-versus-ankle strategy indicator and label of one trial (single-leg period).

    Parameters
    ----------
    hip_sagittal, ankle_sagittal, hip_frontal, ankle_frontal : array of shape (n,), optional
        Stance-side angles on one clock, in degrees (see :mod:`ground_truth.angles`); give at least one plane.
        Pass only the single-leg period: the weight shift before it is a posture change, not sway.
    fs : float, optional
        Sampling rate (Hz) of the angles. When given, the angles are low-pass filtered (4th-order zero-phase
        Butterworth at ``cutoff_hz``) before the RMS: single-leg sway angles are a few tenths of a degree, and
        white measurement noise (0.5 mm on markers, more on keypoints) would otherwise push both RMS values up
        and the fraction towards 0.5. Give it for measured angles.
    cutoff_hz : float or None
        Low-pass cut-off (default 3 Hz: above the hip mode, ~1-2 Hz, Creath et al. 2005).

    Returns
    -------
    StrategyResult
        ``hip_fraction`` in [0, 1], ``antiphase_index`` in [-1, 1], ``label`` in {"ankle", "mixed", "hip"},
        the RMS values it came from.

    Notes
    -----
    Read ``hip_fraction`` as the share of the angular sway that happens at the hip: 0.2 means the body sways
    mostly as one pendulum about the ankle. The label thresholds (0.4, 0.6) are this project's convention.
    References: Horak & Nashner 1986 (J Neurophysiol 55:1369); Creath et al. 2005 (Neurosci Lett 377:75).
    """
    pairs = _pairs(hip_sagittal, ankle_sagittal, hip_frontal, ankle_frontal, fs, cutoff_hz)
    frac = hip_ankle_fraction(hip_sagittal, ankle_sagittal, hip_frontal, ankle_frontal, fs=fs, cutoff_hz=cutoff_hz)
    hs = as_ = 0.0
    num = den_h = den_a = 0.0
    n = 0
    for h, a in pairs:
        ok = np.isfinite(h) & np.isfinite(a)
        n = max(n, int(ok.sum()))
        hd = _detrended(np.where(ok, h, np.nan))
        ad = _detrended(np.where(ok, a, np.nan))
        hs += np.nanmean(hd ** 2)
        as_ += np.nanmean(ad ** 2)
        vh, va = np.diff(hd), np.diff(ad)
        okv = np.isfinite(vh) & np.isfinite(va)
        vh, va = vh[okv] - vh[okv].mean(), va[okv] - va[okv].mean()
        num += np.sum(vh * va)
        den_h += np.sum(vh ** 2)
        den_a += np.sum(va ** 2)
    anti = float(-num / np.sqrt(den_h * den_a)) if den_h > 0 and den_a > 0 else float("nan")
    if not np.isfinite(frac):
        label = "undetermined"
    elif frac < ANKLE_BELOW:
        label = "ankle"
    elif frac > HIP_ABOVE:
        label = "hip"
    else:
        label = "mixed"
    return StrategyResult(frac, anti, label, float(np.sqrt(hs)), float(np.sqrt(as_)), n)
