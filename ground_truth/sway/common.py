"""Helpers shared by the sway conventions: input checks, unit conversion, and the geometric and spectral
building blocks (path length, prediction ellipse, set diameter, Welch spectra)."""
from __future__ import annotations

import functools

import numpy as np

from ..kernel import InputError, as_float_array, check_option, validate_type

#: Factor from an input length unit to centimetres (every sway metric is reported in cm).
TO_CM = {"m": 100.0, "cm": 1.0, "mm": 0.1}
AXIS_NAMES = ("ap", "ml")
#: An axis whose range is at most this (cm; 1e-11 m, far below any plate's or camera's resolution) or
#: CONSTANT_RTOL times its largest magnitude (rounding of a constant written in another unit) is constant.
CONSTANT_ATOL_CM = 1e-9
CONSTANT_RTOL = 1e-12
#: A covariance whose determinant is below this fraction of the product of the variances is singular: the
#: path lies on a line (|correlation| > 1 - 5e-13), and only rounding keeps the determinant from 0.
SINGULAR_RTOL = 1e-12


def check_cop(cop, fs_hz, units_in: str, axes, *, allow_nan: bool = False, min_samples: int = 10):
    """Validate and convert a (n, 2) COP array to centimetres.

    Returns ``(cop_cm, fs_hz, order)`` where ``order`` permutes the columns so that column 0 is AP and
    column 1 is ML. NaN is refused with an InputError naming how many samples and where, unless
    ``allow_nan`` (conventions that define gap handling).
    """
    validate_type(fs_hz, "numeric", "fs_hz")
    fs_hz = float(fs_hz)
    if not np.isfinite(fs_hz) or fs_hz <= 0:
        raise InputError(f"sampling rate is {fs_hz!r}", field="fs_hz", expected="a positive number of Hz")
    check_option("units_in", units_in, tuple(TO_CM))
    axes = tuple(axes)
    if sorted(axes) != sorted(AXIS_NAMES):
        raise InputError(f"axes is {axes!r}", field="axes", expected="('ap', 'ml') or ('ml', 'ap')")
    arr = as_float_array(cop, "cop", ndim=2)
    if arr.shape[1] != 2:
        raise InputError(f"cop has shape {arr.shape}", field="cop",
                         expected="(n, 2) horizontal positions, one row per sample")
    if arr.shape[0] < min_samples:
        raise InputError(f"cop has {arr.shape[0]} samples", field="cop", expected=f"at least {min_samples}")
    bad = ~np.all(np.isfinite(arr), axis=1)
    if np.any(np.isinf(arr)):
        i = int(np.flatnonzero(np.any(np.isinf(arr), axis=1))[0])
        raise InputError(f"cop is infinite at sample {i} (t = {i / fs_hz:.3f} s from the first sample)",
                         field="cop", expected="finite positions or NaN for gaps")
    if bad.any() and not allow_nan:
        raise InputError(f"cop has {int(bad.sum())} NaN sample(s) of {arr.shape[0]} ({describe_gaps(bad, fs_hz)});"
                         f" this convention defines no gap handling, so no number is computed", field="cop",
                         expected="a gap-free COP: choose a window without gaps (e.g. --window), or use a "
                                  "convention that resamples over gaps (quijoux2021)")
    cop_cm = arr * TO_CM[units_in]
    if axes == ("ml", "ap"):
        cop_cm = cop_cm[:, ::-1]
    return np.ascontiguousarray(cop_cm), fs_hz


def describe_gaps(bad: np.ndarray, fs_hz: float, limit: int = 3) -> str:
    """'samples 3-9 (0.030-0.090 s), ...' for the runs of True in ``bad``."""
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    parts = [f"samples {a}-{b} ({a / fs_hz:.3f}-{b / fs_hz:.3f} s)" if b > a else f"sample {a} ({a / fs_hz:.3f} s)"
             for a, b in zip(starts[:limit], stops[:limit])]
    more = f", and {starts.size - limit} more run(s)" if starts.size > limit else ""
    return f"{starts.size} run(s): " + ", ".join(parts) + more


def constant_axes(x: np.ndarray) -> np.ndarray:
    """Per column of ``x`` (n, k), True where the finite values do not vary (see CONSTANT_ATOL_CM).

    A column without finite values counts as constant (it carries no motion).
    """
    finite = np.isfinite(x)
    if finite.all():
        lo, hi = x.min(axis=0), x.max(axis=0)
    else:
        lo = np.where(finite, x, np.inf).min(axis=0)
        hi = np.where(finite, x, -np.inf).max(axis=0)
    with np.errstate(invalid="ignore"):
        span = hi - lo
        scale = np.maximum(np.abs(lo), np.abs(hi))
    tol = np.maximum(CONSTANT_ATOL_CM, CONSTANT_RTOL * np.where(np.isfinite(scale), scale, 0.0))
    return ~(span > tol)


def is_singular(var_a: float, var_b: float, det: float) -> bool:
    """True when a 2x2 covariance with variances ``var_a``, ``var_b`` and determinant ``det`` is singular
    (a one-dimensional path: constant axis or collinear samples), up to rounding (SINGULAR_RTOL)."""
    return not det > SINGULAR_RTOL * var_a * var_b


def ratio(num: float, den: float) -> float:
    """num / den as a float, NaN when the denominator is 0 or not finite (no warning, no ZeroDivisionError).

    Callers name the undefined metric in the result's notes (see :class:`Undefined`)."""
    num, den = float(num), float(den)
    if den == 0 or not np.isfinite(den) or not np.isfinite(num):
        return float("nan")
    return num / den


class Undefined:
    """Metrics that cannot be defined on this input, grouped by cause: one note per cause.

    ``mark(cause, names, also)`` records that ``names`` are undefined because of ``cause`` (``also``: what
    the cause does to the metrics that stay defined, e.g. an area that is 0); ``apply(metrics)`` sets the
    names to NaN and returns the notes. As a last resort it also turns any other non-finite value into NaN
    with a note naming it, so that a NaN (or inf) never reaches the caller unexplained.
    """

    def __init__(self):
        self._causes: dict[str, list[str]] = {}
        self._also: dict[str, str] = {}

    def mark(self, cause: str, names=(), also: str = "") -> None:
        lst = self._causes.setdefault(cause, [])
        lst.extend(n for n in names if n not in lst)
        if also:
            self._also[cause] = also

    def apply(self, metrics: dict) -> list[str]:
        notes = []
        named = set()
        for cause, names in self._causes.items():
            names = [n for n in names if n in metrics and n not in named]
            for n in names:
                metrics[n] = float("nan")
            named.update(names)
            parts = [f"{', '.join(names)} undefined (NaN)"] if names else []
            if cause in self._also:
                parts.append(self._also[cause])
            if parts:
                notes.append(f"{cause}: " + "; ".join(parts))
        rest = [k for k, v in metrics.items() if k not in named and not np.isfinite(v)]
        for k in rest:
            metrics[k] = float("nan")
        if rest:
            notes.append(f"{', '.join(rest)} undefined (NaN) on this input: a non-finite intermediate value")
        return notes


def path_length(x: np.ndarray) -> float:
    """Total length of the polyline through the samples (same units as x); x is (n,) or (n, k)."""
    d = np.diff(x, axis=0)
    if d.ndim == 1:
        return float(np.sum(np.abs(d)))
    return float(np.sum(np.sqrt(np.sum(d * d, axis=1))))


def prediction_ellipse_area(x: np.ndarray, p: float = 0.95) -> tuple[float, np.ndarray]:
    """Area of the p prediction ellipse of (n, 2) samples (Duarte 2015 / Santos & Duarte 2016).

    With λ1, λ2 the eigenvalues of the sample covariance (ddof = 1):
    area = π·sqrt(λ1·λ2)·F(p; 2, n−2)·2(n−1)(n+1)/(n(n−2)). Returns (area, eigenvalues ascending).
    A singular covariance (samples on one line, see :func:`is_singular`) gives exactly 0.
    """
    n = x.shape[0]
    cov = np.cov(x.T, ddof=1)
    lam = np.linalg.eigvalsh(cov)
    if is_singular(cov[0, 0], cov[1, 1], lam[0] * lam[1]):
        return 0.0, lam   # samples on one line (or one point): the ellipse is flat, its area exactly 0
    k = f_quantile(p, 2, n - 2) * 2.0 * (n - 1) * (n + 1) / (n * (n - 2))
    return float(np.pi * k * np.sqrt(max(lam[0], 0.0) * lam[1])), lam


@functools.lru_cache(maxsize=256)
def f_quantile(p: float, dfn: int, dfd: int) -> float:
    """F-distribution quantile (cached: batch runs ask for the same few sample counts)."""
    from scipy import stats

    return float(stats.f.ppf(p, dfn, dfd))


def diameter(x: np.ndarray) -> float:
    """Largest distance between any two samples, O(n log n): the farthest pair lies on the convex hull."""
    if x.ndim == 1 or x.shape[1] == 1:
        v = x.ravel()
        return float(v.max() - v.min())
    from scipy.spatial import ConvexHull, QhullError

    try:
        pts = x[ConvexHull(x).vertices]
    except (QhullError, ValueError):
        # Degenerate (collinear, or fewer than 3 distinct points): the diameter is the range along the
        # principal direction, exactly.
        centred = x - x.mean(axis=0)
        u = np.linalg.svd(centred, full_matrices=False)[2][0]
        proj = centred @ u
        return float(proj.max() - proj.min())
    if x.shape[1] == 2:
        return _hull_diameter_2d(pts)
    best = 0.0
    for i in range(0, len(pts), 256):       # more dimensions: pairwise over hull vertices, in bounded blocks
        d = pts[i:i + 256, None, :] - pts[None, :, :]
        best = max(best, float(np.max(np.sum(d * d, axis=-1))))
    return float(np.sqrt(best))


def _hull_diameter_2d(p: np.ndarray) -> float:
    """Diameter of a convex polygon (vertices in counter-clockwise order, as ConvexHull gives them in 2-D) from
    its antipodal vertex pairs, vectorised (rotating calipers, Shamos 1978): the edge directions of a convex
    polygon turn monotonically, so the vertex antipodal to edge i is where the direction of edge i + 180° falls
    in that sequence (a binary search). O(h log h) in the number of vertices: even a smooth trajectory whose
    hull keeps thousands of vertices costs no quadratic time or memory."""
    h = len(p)
    if h < 4:
        return float(max(np.linalg.norm(p[a] - p[b]) for a in range(h) for b in range(a + 1, h)))
    e = np.roll(p, -1, axis=0) - p                          # edge i: p[i] -> p[i + 1]
    ang = np.unwrap(np.arctan2(e[:, 1], e[:, 0]))
    ang = ang - ang[0]                                      # increasing, in [0, 2π)
    j = np.searchsorted(ang, np.mod(ang + np.pi, 2 * np.pi))
    idx = np.arange(h)
    best = 0.0
    for a in (idx, (idx + 1) % h):                          # both ends of each edge
        for k in (j - 1, j, j + 1):                         # the antipodal vertex and its neighbours
            d = p[a] - p[np.mod(k, h)]
            best = max(best, float(np.max(np.einsum("ij,ij->i", d, d))))
    return float(np.sqrt(best))


def welch_psd(x: np.ndarray, fs: float, *, nperseg: int, noverlap: int | None = None, nfft: int | None = None):
    """One-sided Welch PSD along axis 0 with a periodic Hann window and constant (mean) detrend per segment.

    Numerically the same as ``scipy.signal.welch(x, fs, 'hann', nperseg, noverlap, nfft, 'constant',
    scaling='density', axis=0)`` (checked to 1e-12 in the tests), written out with numpy's rfft because it is
    called once per trial in batch runs. Returns (f, P) with P of shape (nfft // 2 + 1, k).
    """
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    n = x.shape[0]
    nperseg = int(min(nperseg, n))
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    nfft = nperseg if nfft is None else int(nfft)
    step = nperseg - noverlap
    starts = np.arange(0, n - nperseg + 1, step)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nperseg) / nperseg)   # periodic Hann (scipy's default)
    seg = x[starts[:, None] + np.arange(nperseg)[None, :]]               # (S, nperseg, k)
    seg = seg - seg.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(seg * win[None, :, None], n=nfft, axis=1)
    p = (spec.real ** 2 + spec.imag ** 2).mean(axis=0) / (fs * np.sum(win ** 2))
    if nfft % 2:
        p[1:] *= 2
    else:
        p[1:-1] *= 2
    f = np.fft.rfftfreq(nfft, 1.0 / fs)
    return f, (p[:, 0] if squeeze else p)


def lowpass(x: np.ndarray, fs: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass (filtfilt) along axis 0."""
    from scipy import signal

    if cutoff_hz >= fs / 2:
        raise InputError(f"low-pass cut-off {cutoff_hz} Hz is not below the Nyquist frequency {fs / 2} Hz",
                         field="fs_hz", expected=f"a sampling rate above {2 * cutoff_hz} Hz")
    b, a = signal.butter(order, cutoff_hz / (fs / 2), btype="lowpass")
    return signal.filtfilt(b, a, x, axis=0)
