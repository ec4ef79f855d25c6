"""Filters shared by the gold-standard signals: zero-phase low-pass that carries NaN gaps through."""
from __future__ import annotations

import numpy as np
from scipy import signal

from .kernel import InputError


def lowpass_bridged(x: np.ndarray, fs: float, cutoff_hz: float, *, min_samples: int = 16) -> np.ndarray:
    """Zero-phase Butterworth low-pass of a 1-D signal whose NaN samples are bridged for filtering only.

    A 2nd-order Butterworth run forwards and backwards (``sosfiltfilt``: 4th-order magnitude, no phase lag).
    NaN samples are linearly interpolated so the filter can run, then set back to NaN: a gap stays a gap.
    Signals with fewer than ``min_samples`` valid samples are returned unfiltered.
    """
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

def lowpass_irregular(t, x, cutoff_hz, order=2):
    """Zero-phase Butterworth low-pass along axis 0 of (n, ...) samples at (possibly irregular) times ``t``.

    The samples are interpolated onto a uniform grid at the median rate for filtering and read back at ``t``;
    NaN samples are bridged for filtering only and stay NaN. Channels with fewer than 16 valid samples stay
    NaN.
    """
    fs = 1.0 / float(np.median(np.diff(t)))
    if cutoff_hz >= 0.5 * fs:
        raise InputError(f"low-pass cutoff {cutoff_hz} Hz is not below the source's Nyquist frequency "
                         f"{fs / 2:.3g} Hz", field="lowpass_hz", expected=f"a cutoff below {fs / 2:.3g} Hz")
    flat = x.reshape(x.shape[0], -1)
    out = np.full_like(flat, np.nan)
    grid = np.arange(t[0], t[-1] + 0.5 / fs, 1.0 / fs)
    sos = signal.butter(order, cutoff_hz, fs=fs, output="sos")
    finite = np.isfinite(flat)
    whole = np.flatnonzero(finite.all(axis=0))
    if whole.size and flat.shape[0] >= 16:
        # the channels without gaps in one call (keypoint tracks: ~70 channels per call, not one each)
        g = np.column_stack([np.interp(grid, t, flat[:, j]) for j in whole])
        f = signal.sosfiltfilt(sos, g, axis=0)
        out[:, whole] = np.column_stack([np.interp(t, grid, f[:, i]) for i in range(whole.size)])
    for j in np.flatnonzero(~finite.all(axis=0)):
        ok = finite[:, j]
        if ok.sum() < 16:
            continue
        g = np.interp(grid, t[ok], flat[ok, j])    # bridge NaN gaps only for filtering
        out[ok, j] = np.interp(t[ok], grid, signal.sosfiltfilt(sos, g))
    return out.reshape(x.shape)
