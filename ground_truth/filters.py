"""Filters shared by the gold-standard signals: zero-phase low-pass that carries NaN gaps through."""
from __future__ import annotations

import numpy as np

from .kernel import InputError


def lowpass_bridged(x: np.ndarray, fs: float, cutoff_hz: float, *, min_samples: int = 16) -> np.ndarray:
    """Zero-phase Butterworth low-pass of a 1-D signal whose NaN samples are bridged for filtering only.

    A 2nd-order Butterworth run forwards and backwards (``sosfiltfilt``: 4th-order magnitude, no phase lag).
    NaN samples are linearly interpolated so the filter can run, then set back to NaN: a gap stays a gap.
    Signals with fewer than ``min_samples`` valid samples are returned unfiltered.
    """
    from scipy import signal

    if not 0 < cutoff_hz < fs / 2:
        raise InputError(f"cutoff {cutoff_hz} Hz is not below the Nyquist frequency {fs / 2} Hz",
                         field="cutoff_hz", expected=f"a cut-off between 0 and {fs / 2} Hz")
    ok = np.isfinite(x)
    if ok.sum() < min_samples:
        return x
    idx = np.arange(x.size)
    filled = np.interp(idx, idx[ok], x[ok])
    y = signal.sosfiltfilt(signal.butter(2, cutoff_hz, fs=fs, output="sos"), filled)
    return np.where(ok, y, np.nan)
