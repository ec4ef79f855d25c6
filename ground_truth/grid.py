"""Resampling onto a time grid: the one way both sides of a trial are put on the same time base."""
from __future__ import annotations

import math

import numpy as np

from .filters import lowpass_irregular
from .kernel import InputError, as_float_array


def uniform_grid(t0: float, t1: float, fs_hz: float) -> np.ndarray:
    """Times ``t0, t0 + 1/fs, ...`` up to and including ``t1`` (to a 1e-9 tolerance of the sample count)."""
    n = int(math.floor((t1 - t0) * fs_hz + 1e-9)) + 1
    return t0 + np.arange(n) / fs_hz

def resample_to(times, t_src, x_src, *, max_gap_s: float | None = None,
                lowpass_hz: float | None = None) -> np.ndarray:
    """Linear interpolation of ``x_src`` (sampled at ``t_src``) at ``times`` (e.g. the video's frame times
    mapped to the reference clock with :func:`harness.align.to_reference_time`).

    Parameters
    ----------
    times : array-like (m,)
        Target times (any order, possibly irregular).
    t_src : array-like (n,)
        Strictly increasing source times.
    x_src : array-like (n,) or (n, ...)
        Source values; NaN marks missing samples (marker gaps, plate dropouts).
    max_gap_s : float, optional
        Source intervals longer than this are gaps (default 2.5 × the median sampling interval).
    lowpass_hz : float, optional
        Zero-phase 2nd-order Butterworth low-pass of the source first (anti-aliasing: use a cutoff below half
        the target rate when a fast source, e.g. a 1 kHz plate, is resampled onto video frames). Missing
        samples are bridged for filtering only and stay NaN.

    Returns
    -------
    ndarray (m,) or (m, ...)
        NaN outside the source's coverage, inside gaps, and next to missing source samples.

    Notes
    -----
    Without ``lowpass_hz`` no anti-alias filtering is applied.
    """
    tq = as_float_array(times, "times", ndim=1)
    ts = as_float_array(t_src, "t_src", ndim=1)
    xs = as_float_array(x_src, "x_src")
    if xs.ndim == 0 or xs.shape[0] != ts.size:
        raise InputError(f"x_src has {xs.shape[0] if xs.ndim else 0} samples but t_src has {ts.size}",
                         field="x_src", expected="one value (row) per source time")
    if ts.size < 2 or np.any(np.diff(ts) <= 0) or not np.all(np.isfinite(ts)):
        raise InputError("source times are not finite and strictly increasing", field="t_src",
                         expected="at least 2 strictly increasing times")
    if lowpass_hz is not None:
        xs = lowpass_irregular(ts, xs, float(lowpass_hz))
    step = np.diff(ts)
    gap = float(max_gap_s) if max_gap_s is not None else 2.5 * float(np.median(step))
    j = np.clip(np.searchsorted(ts, tq, side="right") - 1, 0, ts.size - 2)
    t0, t1 = ts[j], ts[j + 1]
    w = (tq - t0) / (t1 - t0)
    shape = (-1,) + (1,) * (xs.ndim - 1)
    x0, x1 = xs[j], xs[j + 1]
    wv = w.reshape(shape)
    with np.errstate(invalid="ignore"):
        out = x0 * (1 - wv) + x1 * wv
    exact0 = (w == 0).reshape(shape)
    out = np.where(exact0, x0, out)
    exact1 = (w == 1).reshape(shape)
    out = np.where(exact1, x1, out)
    bad = (tq < ts[0]) | (tq > ts[-1]) | ((t1 - t0) > gap) | ~np.isfinite(tq)
    out[bad] = np.nan
    return out
