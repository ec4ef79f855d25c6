"""``quijoux2021``: the COP variables of Quijoux et al. (2021), with their preprocessing.

Quijoux F, Nicolaï A, Chairi I, Bargiotas I, Ricard D, Yelnik A, Oudre L, Bertin-Hugault F, Vidal PP,
Vayatis N, Buffat S, Audiffren J (2021). A review of center of pressure (COP) variables to quantify standing
balance in elderly people: algorithms and open-access code. Physiol Rep 9(22):e15067. doi:10.14814/phy2.15067
Reference implementation: github.com/Jythen/code_descriptors_postural_control (MIT); this module is an
independent, vectorised re-implementation checked against the feature values that repository lists for its
worked example (``test.csv``, window 40-70 s).

Preprocessing (as the authors' ``Stabilogram.from_array``): samples with NaN are dropped (their time stamps
kept, so gaps are bridged by the resampling), the signal is centred on its mean, resampled to 25 Hz with
SWARII (sliding-window weighted-average interpolation, window 0.08 s, after dropping the first 0.1 s, the
first and last sample and single-sample artefacts), then low-passed with a 4th-order zero-phase Butterworth
filter at 10 Hz. Column order inside is (ML, AP) like theirs; metric names use ``ap`` / ``ml``.

Feature families (metric names carry units; docs/sway.md lists them with the reference code's names):

* positional: mean value, maximal distance, mean distance, RMS (ML, AP, radius), range (ML, AP, planar =
  largest distance between two points), range ratio, planar deviation, coefficient of sway direction, 95%
  confidence ellipse area, principal sway direction, fractal dimensions (PD, CC, CE)
* dynamic: sway length, mean velocity, sway area per second, length over area, phase-plane parameter, VFY,
  velocity zero crossings and peak velocities (Savitzky-Golay velocity, window 5, order 3), mean frequency
  (Prieto's MFREQ), sway density peaks (radius 3 mm)
* frequency: Welch PSD of each axis with scipy's defaults at 25 Hz (Hann, 256-sample segments, 50% overlap):
  50% and 95% power frequencies, mode, total power, centroid frequency, frequency dispersion, energy below
  0.5 Hz, 0.5-2 Hz and above 2 Hz, frequency quotient (2-5 Hz over 0-2 Hz)
* stabilogram diffusion (Collins & De Luca 1993): short- and long-term diffusion coefficients and scaling
  exponents, critical time and displacement, per axis.

Where the reference code's published values follow a non-textbook formula, this module follows it (so the
published numbers are reproduced) and says so: the ellipse area squares the covariance twice
(``area95_cov_corrected_cm2`` gives the textbook value), the principal sway direction is that of the
finite-difference velocity, VFY divides by the (near-zero) mean AP position of the processed signal, the
positive/negative peak velocities count the first sample after a crossing towards the half-wave that ended,
and the sway-density peaks are the maxima of its excursions above its median (both as in
descriptors/dynamic.py at commit 39fc1b0982647e73767aa321dc6cf98c0e1912a0, the version behind the published
values; see ``velocity_peaks`` and ``sway_density_peaks``).
"""
from __future__ import annotations

import numpy as np

from ..kernel import InputError
from .common import Undefined, constant_axes, describe_gaps, diameter, is_singular, ratio, welch_psd

NAME = "quijoux2021"
CITATION = ("Quijoux F et al. (2021) A review of center of pressure (COP) variables to quantify standing balance "
            "in elderly people: algorithms and open-access code. Physiol Rep 9(22):e15067, "
            "doi:10.14814/phy2.15067 (reference code: github.com/Jythen/code_descriptors_postural_control)")
ALLOWS_GAPS = True
MIN_SAMPLES = 20
TARGET_FS = 25.0
SWARII_WINDOW_S = 0.08 - 1e-6   # the authors pass window_size - 1e-6 to avoid ties on a 100 Hz grid
LOWPASS_HZ = 10.0
SWAY_DENSITY_RADIUS_CM = 0.3
CONFIDENCE_ELLIPSE_K = 3.0       # the reference code's 2*pi*3*sqrt(det): the 95% F(2, large n) quantile ~ 3
#: filtfilt of the 4th-order low-pass pads 3 * 5 = 15 samples and needs more than that; SWARII's grid spans the
#: finite samples kept after the first 0.1 s, so they must span more than 15 steps of 1/25 s.
MIN_RESAMPLED = 16
MIN_SPAN_S = (MIN_RESAMPLED - 1) / TARGET_FS


# --------------------------------------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------------------------------------
def purge_artefacts(time: np.ndarray, sig: np.ndarray, up: float = 2.0, down: float = 0.5
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Drop the first and last samples, samples before 0.1 s, and one- or two-sample spikes.

    A sample is a spike when it is more than ``up`` cm (L1) from the last kept sample while the next (or the
    one after) is back within ``down`` cm of it (SWARII's ``purge_artefact``).
    """
    n = time.size
    idx = np.arange(1, n - 1)
    # 1e-9 s slack: a rate estimated from time stamps (100.000000000002 Hz) must not move sample 10 below 0.1 s
    idx = idx[time[idx] >= 0.1 - 1e-9]
    if idx.size == 0:
        return time[:0], sig[:0]
    # Fast path: spikes need a jump of more than `up` between neighbours; without any, nothing is dropped.
    jump = np.sum(np.abs(np.diff(sig, axis=0)), axis=1)
    if not np.any(jump > up - 1e-12):
        return time[idx], sig[idx]
    keep = []
    for t in idx:  # sequential: whether a sample is a spike depends on the last kept one
        if keep:
            last = sig[keep[-1]]
            far = np.sum(np.abs(sig[t] - last)) > up
            if far and np.sum(np.abs(sig[t + 1] - last)) < down:
                continue
            if far and t > 1 and t < n - 2 and np.sum(np.abs(sig[t + 2] - last)) < down:
                continue
        keep.append(t)
    keep = np.asarray(keep, dtype=int)
    return time[keep], sig[keep]


def swarii(time: np.ndarray, sig: np.ndarray, fs_out: float = TARGET_FS, window: float = SWARII_WINDOW_S
           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Sliding Windows Weighted Averaged Interpolation (SWARII) to a uniform ``fs_out`` grid.

    Each output sample at time c is the average of the input samples within ``|t - c| < window/2``, each
    weighted by the span of time it represents (mid-points to its neighbours, clipped to the window).
    Windows with no input sample are filled by linear interpolation. Returns (time, signal, n_empty).
    Vectorised: O(n * samples per window).
    """
    h = window * 0.5
    step = 1.0 / fs_out
    start = max(0.0, float(time[0]))
    # Accumulate the grid exactly as the reference does (repeated += step), so the sample count matches.
    m_est = int(np.ceil((time[-1] - start) / step)) + 2
    grid = np.cumsum(np.concatenate([[start], np.full(m_est, step)]))
    grid = grid[grid < time[-1]]
    lo = np.searchsorted(time, grid - h, side="right")
    # strict inequality on both sides: first index with time > c - h, last with time < c + h
    hi = np.searchsorted(time, grid + h, side="left")
    count = hi - lo
    filled = count > 0
    kmax = int(count.max()) if count.size else 0
    j = lo[:, None] + np.arange(max(kmax, 1))[None, :]
    valid = np.arange(max(kmax, 1))[None, :] < count[:, None]
    jc = np.clip(j, 0, time.size - 1)
    jm = np.clip(j - 1, 0, time.size - 1)
    jp = np.clip(j + 1, 0, time.size - 1)
    first = np.arange(max(kmax, 1))[None, :] == 0
    last = np.arange(max(kmax, 1))[None, :] == (count[:, None] - 1)
    left = np.where(first | (jc == 0), np.maximum(time[0], grid[:, None] - h), 0.5 * (time[jc] + time[jm]))
    right = np.where(last, np.minimum(time[-1], grid[:, None] + h), 0.5 * (time[jp] + time[jc]))
    w = np.where(valid, right - left, 0.0)
    single = count == 1
    w = np.where(single[:, None] & valid, 1.0, w)
    num = np.einsum("mk,mkd->md", w, sig[jc])
    den = w.sum(axis=1)
    out = np.full((grid.size, sig.shape[1]), np.nan)
    out[filled] = num[filled] / den[filled, None]
    t_out, s_out = grid[filled], out[filled]
    n_empty = int(np.count_nonzero(~filled))
    if n_empty:
        desired = np.arange(t_out[0], t_out[-1], step)
        s_out = np.column_stack([np.interp(desired, t_out, s_out[:, d]) for d in range(s_out.shape[1])])
        t_out = desired
    return t_out, s_out, n_empty


def preprocess(cop_ml_ap: np.ndarray, fs: float):
    """NaN removal, centring, SWARII to 25 Hz and 10 Hz low-pass: returns (signal (m, 2) ML/AP cm, info)."""
    from scipy import signal as sps

    n = cop_ml_ap.shape[0]
    # A rate estimated from time stamps (100.000000000002 Hz) is taken as the nominal one (100 Hz): the
    # 25 Hz grid stops at the last time stamp, so a 1e-14 error could otherwise drop the last output sample.
    nominal = round(fs, 6)
    if abs(fs - nominal) <= 1e-9 * fs:
        fs = nominal
    time = np.arange(n) / fs
    ok = np.all(np.isfinite(cop_ml_ap), axis=1)
    info = {"n_input": n, "n_nan": int(n - ok.sum())}
    if info["n_nan"]:
        info["gaps"] = describe_gaps(~ok, fs)
    time, sig = time[ok], cop_ml_ap[ok]
    if sig.shape[0] < MIN_SAMPLES:
        raise InputError(f"only {sig.shape[0]} finite samples of {n} (a sample with NaN in either axis is a gap)",
                         field="cop", expected=f"at least {MIN_SAMPLES} finite samples spanning more than "
                                               f"{MIN_SPAN_S:g} s after the first 0.1 s")
    # A constant axis (e.g. a camera's line of sight) stays exactly at 0 once centred; rounding of its mean
    # would otherwise leave a ~1e-16 cm offset whose "spectrum" and "diffusion" are rounding noise.
    constant = constant_axes(sig)
    info["constant"] = constant
    input_mean = sig.mean(axis=0)
    sig = sig - input_mean
    sig[:, constant] = 0.0
    if fs < TARGET_FS:
        raise InputError(f"sampling rate {fs:g} Hz is below the convention's {TARGET_FS:g} Hz", field="fs_hz",
                         expected=f"at least {TARGET_FS:g} Hz")
    t2, s2 = purge_artefacts(time, sig)
    info["n_artefacts_dropped"] = int(sig.shape[0] - 2 - np.count_nonzero(time[1:-1] < 0.1 - 1e-9) - t2.size)
    if t2.size < MIN_SAMPLES:
        raise InputError(f"only {t2.size} finite samples left after dropping the first 0.1 s and the last sample",
                         field="cop", expected=f"at least {MIN_SAMPLES} finite samples spanning more than "
                                               f"{MIN_SPAN_S:g} s after the first 0.1 s")
    _, s3, n_empty = swarii(t2, s2)
    if s3.shape[0] < MIN_RESAMPLED:
        raise InputError(f"only {s3.shape[0]} samples at {TARGET_FS:g} Hz after SWARII resampling (finite COP from "
                         f"{t2[0]:.3f} to {t2[-1]:.3f} s after dropping the first 0.1 s and the last sample)",
                         field="cop", expected=f"at least {MIN_RESAMPLED} samples at {TARGET_FS:g} Hz for the "
                                               f"zero-phase {LOWPASS_HZ:g} Hz low-pass: finite COP spanning more "
                                               f"than {MIN_SPAN_S:g} s after the first 0.1 s")
    info["n_empty_windows"] = n_empty
    b, a = sps.butter(4, LOWPASS_HZ / (TARGET_FS / 2), btype="lowpass")
    s4 = sps.filtfilt(b, a, s3, axis=0)
    info["input_mean"] = input_mean
    return s4, info


# --------------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------------
def savgol_velocity(sig: np.ndarray, fs: float) -> np.ndarray:
    from scipy.signal import savgol_filter

    return savgol_filter(sig, window_length=5, polyorder=3, deriv=1, axis=0, delta=1.0 / fs)


def _sign_runs(w: np.ndarray) -> np.ndarray:
    """Start index of each maximal run of same-sign samples of ``w`` (no zeros in ``w``)."""
    pos = w > 0
    return np.concatenate([[0], np.flatnonzero(pos[1:] != pos[:-1]) + 1])


def velocity_peaks(v: np.ndarray) -> dict:
    """Zero crossings and mean positive / negative / absolute peak velocity of one axis.

    Exact zeros are skipped; a crossing is a sign change between consecutive non-zero samples, and a
    half-wave runs between two crossings (the part before the first crossing is not a half-wave).

    * ``all``: mean of max |v| over each half-wave, the crossing sample opening the new half-wave
      (``peak_velocity_all`` of the reference code).
    * ``pos`` / ``neg``: the reference code's ``peak_velocity_pos`` / ``peak_velocity_neg`` as they
      produced the published values (github.com/Jythen/code_descriptors_postural_control,
      descriptors/dynamic.py at commit 39fc1b0982647e73767aa321dc6cf98c0e1912a0, the commit that added the
      worked example ``test.csv``; its all_features order is the key order of main.ipynb's output). They
      differ from ``all`` in two ways, both kept here so that the published numbers are reproduced: the
      first sample after a crossing also counts towards the peak of the half-wave that just ended, and
      the running maximum is not reset at the first crossing, so the first half-wave's peak also covers
      the samples before it. Hence ``all`` need not lie between ``pos`` and ``neg`` (the worked example:
      0.4428 vs 0.4451 / 0.4596 cm/s in ML). Later versions of that file split the ``all`` peaks by sign
      instead (0.4436 / 0.4419 cm/s in ML on the same signal), which does not reproduce the published values.
    * ``zero_crossings``: the number of sign changes. The reference's ``zeroCrossing`` counts consecutive
      pairs with v[i]·v[i+1] <= 0, which is the same number unless a sample is exactly 0 (a zero there
      would count twice; here it is skipped).

    O(n): segment maxima with ``np.maximum.reduceat``.
    """
    v = np.asarray(v, dtype=float).ravel()
    w = v[v != 0]
    nan = {"zero_crossings": 0, "pos": np.nan, "neg": np.nan, "all": np.nan}
    if w.size < 2:
        return nan
    cross = _sign_runs(w)[1:]                  # index (in w) of the first sample on the new side
    out = dict(nan, zero_crossings=int(cross.size))
    if cross.size < 2:
        return out
    aw = np.abs(w)
    # all: half-waves [cross[k-1], cross[k]) for k >= 1
    out["all"] = float(np.maximum.reduceat(aw[: cross[-1]], cross[:-1]).mean())
    # pos/neg (reference rule): segments [0, cross[1]], [cross[1]+1, cross[2]], ..., each closed by the
    # crossing sample cross[k] (k >= 1); it ended a positive half-wave when w[cross[k]] < 0.
    starts = np.concatenate([[0], cross[1:-1] + 1])
    peaks = np.maximum.reduceat(aw[: cross[-1] + 1], starts)
    ended_positive = w[cross[1:]] < 0
    if np.any(ended_positive):
        out["pos"] = float(peaks[ended_positive].mean())
    if np.any(~ended_positive):
        out["neg"] = float(peaks[~ended_positive].mean())
    return out


def sway_density(sig: np.ndarray, radius: float, fs: float) -> np.ndarray:
    """Sway density: for each sample i, the time (s) the COP stays within ``radius`` of sample i afterwards.

    sd[i] = (j - i - 1) / fs with j the first sample after i farther than ``radius`` from sample i (or n).
    O(n log n): a sparse table of bounding boxes certifies runs of samples as inside the disc (farthest box
    corner within the radius), and binary lifting over it, vectorised over every i, finds the exit.
    """
    n = sig.shape[0]
    if n < 2:
        return np.zeros(0)
    levels = [(sig.copy(), sig.copy())]   # level k: (min, max) of sig[j : j + 2**k]
    k = 1
    while (1 << k) <= n:
        mn, mx = levels[-1]
        half = 1 << (k - 1)
        m = n - (1 << k) + 1
        levels.append((np.minimum(mn[:m], mn[half:half + m]), np.maximum(mx[:m], mx[half:half + m])))
        k += 1
    r2 = radius * radius
    pos = np.arange(1, n)                 # candidate exit index for each start i = 0..n-2
    start = np.arange(n - 1)
    active = np.ones(n - 1, dtype=bool)
    while np.any(active):
        ids = np.flatnonzero(active)
        p = pos[ids]
        ref = sig[start[ids]]
        for k in range(len(levels) - 1, -1, -1):
            mn, mx = levels[k]
            size = 1 << k
            ok = p + size <= n
            q = np.where(ok, p, 0)
            q = np.minimum(q, mn.shape[0] - 1)
            far = np.maximum(np.abs(mn[q] - ref), np.abs(mx[q] - ref))
            inside = ok & (np.sum(far * far, axis=1) <= r2)
            p = p + np.where(inside, size, 0)
        pos[ids] = p
        # done when the run reached the end, or the sample at p is outside the disc (exact test)
        at_end = p >= n
        pc = np.minimum(p, n - 1)
        d = sig[pc] - ref
        outside = np.sum(d * d, axis=1) > r2
        active[ids[at_end | outside]] = False
    return (pos - start - 1) / fs


def sway_density_peaks(sd: np.ndarray, sig: np.ndarray) -> tuple[float, float]:
    """Mean height (s) of the sway-density peaks, and mean distance (cm) between the COP positions of
    consecutive peaks.

    A peak is the highest sample of an excursion of the sway-density curve above its median: the curve
    minus its median (1e-4 s if the median is 0) is split into runs of one sign (exact zeros skipped);
    each positive run that is followed by a negative one (the first run included, an unfinished last run
    not) gives its first maximum. This is the median-crossing rule of the reference code that produced the
    published values (``mean_peak_swd`` / ``mean_distance_peak_swd`` in descriptors/dynamic.py at commit
    39fc1b0982647e73767aa321dc6cf98c0e1912a0 of github.com/Jythen/code_descriptors_postural_control). Later
    versions of that file give other numbers on the worked example (published: 1.815 s, 0.439 cm): their
    median-crossing loop skips the first excursion (1.687 s, 0.460 cm), the newest take every strict local
    maximum (1.450 s, 0.367 cm).

    ``sd[i]`` belongs to the COP sample ``sig[i]``. O(n).
    """
    sd = np.asarray(sd, dtype=float)
    med = float(np.median(sd)) if sd.size else 0.0
    if med == 0:
        med = 1e-4
    d = sd - med
    nz = np.flatnonzero(d != 0)
    if nz.size == 0:
        return float("nan"), float("nan")
    w = d[nz]
    starts = _sign_runs(w)
    ends = np.concatenate([starts[1:], [w.size]])
    keep = (w[starts] > 0) & (ends < w.size)        # positive runs closed by a negative sample
    if not np.any(keep):
        return float("nan"), float("nan")
    run_max = np.maximum.reduceat(w, starts)
    run_id = np.repeat(np.arange(starts.size), ends - starts)
    at_max = np.flatnonzero(w == run_max[run_id])
    first_at_max = at_max[np.unique(run_id[at_max], return_index=True)[1]]   # first maximum of each run
    idx = nz[first_at_max[keep]]
    dist = np.sqrt(np.sum(np.diff(sig[idx], axis=0) ** 2, axis=1))
    return float(sd[idx].mean()), float(dist.mean()) if dist.size else float("nan")


def mean_squared_displacement(x: np.ndarray, max_lag: int) -> np.ndarray:
    """MSD[lag] = mean((x[lag:] - x[:-lag])²) for lag = 0..max_lag, per column, via FFT (O(n log n))."""
    n = x.shape[0]
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, nfft, axis=0)
    acf = np.fft.irfft(f * np.conj(f), nfft, axis=0)[: max_lag + 1]   # Σ x[k] x[k+lag]
    sq = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
    lags = np.arange(max_lag + 1)
    head = sq[n - lags]                      # Σ_{k < n-lag} x[k]²
    tail = sq[n] - sq[lags]                  # Σ_{k >= lag} x[k]²
    return (head + tail - 2 * acf) / (n - lags)[:, None]


def _ols_prefix_rmse(x: np.ndarray, y: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """RMSE of the least-squares line through (x[:e], y[:e]) for each e in ends (cumulative sums)."""
    cx, cy = np.cumsum(x), np.cumsum(y)
    cxx, cxy, cyy = np.cumsum(x * x), np.cumsum(x * y), np.cumsum(y * y)
    e = ends - 1
    n = ends.astype(float)
    sxx = cxx[e] - cx[e] ** 2 / n
    sxy = cxy[e] - cx[e] * cy[e] / n
    syy = cyy[e] - cy[e] ** 2 / n
    ssr = np.maximum(syy - sxy ** 2 / sxx, 0.0)
    return np.sqrt(ssr / n)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


DIFFUSION_KEYS = ("short_time_diffusion", "long_time_diffusion", "critical_time", "critical_displacement",
                  "short_time_scaling", "long_time_scaling")


def _diffusion_regions(fs: float) -> tuple[int, int]:
    """First and last candidate boundary (in lags) between the short- and long-term regions: 0.3 s, 2.5 s."""
    return int(0.3 * fs) + 1, int(2.5 * fs)


def diffusion_min_samples(fs: float) -> int:
    """Fewest samples for which every candidate short- and long-term fit spans at least 0.3 s of lags.

    The MSD goes to n/3 lags; the long-term region may start as late as 2.5 s and must then still hold as
    many lags as the shortest short-term region (0.3 s), so n/3 >= 2.5 s + 0.3 s of lags (207 at 25 Hz).
    """
    i0, i1 = _diffusion_regions(fs)
    return 3 * (i1 + i0 - 1)


def diffusion_features(t: np.ndarray, msd: np.ndarray, fs: float) -> tuple[dict, str | None]:
    """Stabilogram-diffusion parameters of one axis (Collins & De Luca 1993), as the reference code fits them.

    log-log plot of MSD against lag time; the short-term region is the prefix (ending between 0.3 s and
    2.5 s) whose straight-line fit has the smallest RMSE, the long-term region the suffix (starting in the
    same range) likewise; their intersection gives the critical time and displacement.

    Returns (features, reason): features the reason makes undefined are NaN (too few lags for the fits, a
    lag without displacement whose logarithm does not exist, parallel fits that never intersect).
    """
    out = dict.fromkeys(DIFFUSION_KEYS, float("nan"))
    i0, i1 = _diffusion_regions(fs)
    if t.size - 1 < i1 + i0 - 1:
        return out, "too few lags"
    if not np.all(msd[1:] > 0):
        return out, "no displacement at some lag (log of 0)"
    lt, lm = np.log(t[1:]), np.log(msd[1:])
    cand = np.arange(i0, i1 + 1)
    rm_s = _ols_prefix_rmse(lt, lm, cand)
    end_short = cand[np.flatnonzero(rm_s == rm_s.min())[-1]]
    # suffix fits [i-1:]: reverse arrays and reuse the prefix formula
    rl = lt[::-1].copy(), lm[::-1].copy()
    lengths = lt.size - (cand - 1)
    rm_l = _ols_prefix_rmse(rl[0], rl[1], lengths)
    begin_long = cand[np.flatnonzero(rm_l == rm_l.min())[-1]]
    a_s, b_s = _ols(lt[:end_short], lm[:end_short])
    a_l, b_l = _ols(lt[begin_long - 1:], lm[begin_long - 1:])
    out.update({"short_time_diffusion": float(np.exp(a_s)), "long_time_diffusion": float(np.exp(a_l)),
                "short_time_scaling": b_s / 2, "long_time_scaling": b_l / 2})
    if b_s == b_l:
        return out, "short- and long-term fits parallel (no intersection)"
    log_tc = (a_l - a_s) / (b_s - b_l)
    log_tc = min(log_tc, lt[-1])
    out.update({"critical_time": float(np.exp(log_tc)), "critical_displacement": float(np.exp(a_s + b_s * log_tc))})
    return out, None


# --------------------------------------------------------------------------------------------------------
# the convention
# --------------------------------------------------------------------------------------------------------
def compute(cop_cm: np.ndarray, fs: float):
    """All quijoux2021 metrics of an (n, 2) COP in cm, columns (AP, ML); NaN samples are gaps."""
    # Degenerate inputs (a constant axis, no motion, a short trial) are handled explicitly in _compute and
    # named in the notes; errstate only keeps numpy from warning while the undefined values are replaced.
    with np.errstate(invalid="ignore", divide="ignore"):
        return _compute(cop_cm, fs)


def _per_axis_undefined(a: str) -> list[str]:
    """Metrics of axis ``a`` that need it to move (ratios of its motion, its spectrum, its diffusion)."""
    return ([f"mean_frequency_{a}_hz"] + [f"peak_velocity_{k}_{a}_cm_s" for k in ("pos", "neg", "all")]
            + [f"{k}_{a}_hz" for k in ("f50", "f95", "frequency_mode", "centroid_frequency")]
            + [f"frequency_dispersion_{a}", f"frequency_quotient_{a}"] + _diffusion_names(a))


def _diffusion_names(a: str, keys=DIFFUSION_KEYS) -> list[str]:
    unit = {"short_time_diffusion": "_cm2_s", "long_time_diffusion": "_cm2_s", "critical_time": "_s",
            "critical_displacement": "_cm2"}
    return [f"{k}_{a}{unit.get(k, '')}" for k in keys]


def _compute(cop_cm: np.ndarray, fs: float):
    s, info = preprocess(cop_cm[:, ::-1], fs)    # their column order: ML, AP
    F = TARGET_FS
    m = s.shape[0]
    ml, ap = s[:, 0], s[:, 1]
    radius = np.sqrt(ml ** 2 + ap ** 2)
    rms_ml, rms_ap = np.sqrt(np.mean(ml ** 2)), np.sqrt(np.mean(ap ** 2))
    cov = np.mean(ml * ap)
    cov_b = np.cov(ml, ap, bias=True)[0, 1]
    # The reference code's published values square the covariance twice in the ellipse determinant
    # (s_ml² s_ap² - (cov²)²), so its area nearly ignores the AP-ML correlation. ``area95_cm2`` keeps that
    # to reproduce the published numbers; ``area95_cov_corrected_cm2`` is the textbook determinant.
    # That "determinant" is not one: it turns negative for large, strongly correlated sway (r^4 s_ml^2 s_ap^2 > 1
    # cm^4), where the reference code's sqrt gives NaN. The area is then undefined (named in the notes), not 0.
    ref_det = rms_ml ** 2 * rms_ap ** 2 - (cov_b ** 2) ** 2
    area = 2 * np.pi * CONFIDENCE_ELLIPSE_K * np.sqrt(max(ref_det, 0.0))
    det = max(rms_ml ** 2 * rms_ap ** 2 - cov ** 2, 0.0)
    collinear = is_singular(rms_ml ** 2, rms_ap ** 2, det)
    area_corrected = 0.0 if collinear else 2 * np.pi * CONFIDENCE_ELLIPSE_K * np.sqrt(det)
    amp_ml, amp_ap, amp = float(np.ptp(ml)), float(np.ptp(ap)), diameter(s)
    len_ml = float(np.sum(np.abs(np.diff(ml))))
    len_ap = float(np.sum(np.abs(np.diff(ap))))
    len_2d = float(np.sum(np.sqrt(np.sum(np.diff(s, axis=0) ** 2, axis=1))))

    def fd(d):
        # undefined without a path or a diameter (the callers name why in the notes)
        if not (d > 0 and len_2d > 0):
            return float("nan")
        return float(np.log(m) / (np.log(m) + np.log(d) - np.log(len_2d)))

    vel = savgol_velocity(s, F)
    dvel = F * np.diff(s, axis=0)                 # finite-difference velocity (cm/s)
    spd = np.sqrt(np.sum(dvel ** 2, axis=1))
    # principal sway direction: angle (deg) between the first principal axis of the velocity and the AP axis
    # (the reference code's published value is computed on the finite-difference velocity)
    w, v = np.linalg.eigh(np.cov(dvel.T))
    main = v[:, np.argmax(w)]
    psd_deg = float(np.degrees(np.arccos(min(1.0, abs(main[1]) / np.linalg.norm(main)))))
    spd_ml, spd_ap = np.abs(F * np.diff(ml)), np.abs(F * np.diff(ap))
    vp_ml, vp_ap = velocity_peaks(vel[:, 0]), velocity_peaks(vel[:, 1])
    sd = sway_density(s, SWAY_DENSITY_RADIUS_CM, F)
    sd_peak, sd_dist = sway_density_peaks(sd, s)
    const = dict(zip(("ml", "ap"), (bool(c) for c in info["constant"])))
    undefined = Undefined()
    if const["ml"] and const["ap"]:
        undefined.mark("both axes constant (no motion)",
                       _per_axis_undefined("ml") + _per_axis_undefined("ap")
                       + ["range_ratio_ml_ap", "coefficient_sway_direction", "length_over_area_1_cm",
                          "fractal_dimension_cc", "fractal_dimension_ce", "fractal_dimension_pd", "mean_frequency_hz",
                          "principal_sway_direction_deg", "vfy_cm_s2"],
                       "positions, distances, ranges, path lengths, velocities, areas, phase-plane parameters, "
                       "zero crossings, total power and band energies are 0")
    elif const["ml"] or const["ap"]:
        a = "ml" if const["ml"] else "ap"
        undefined.mark(f"{a} axis constant",
                       _per_axis_undefined(a) + ["coefficient_sway_direction", "length_over_area_1_cm",
                                                 "fractal_dimension_ce"]
                       # VFY divides by the mean AP position, exactly 0 for a constant AP axis once centred
                       + (["range_ratio_ml_ap", "vfy_cm_s2"] if a == "ap" else []),
                       f"area95_cm2, area95_cov_corrected_cm2 and sway_area_per_s_cm2_s are 0 (a path along one "
                       f"line encloses no area); {a} positions, velocities, zero crossings, power and band energies "
                       f"are 0")
    elif collinear:
        undefined.mark("samples on one line (collinear)", [],
                       "area95_cov_corrected_cm2 = 0 (a flat ellipse); area95_cm2 keeps the reference formula, "
                       "which squares the covariance twice and so is not 0")
    if ref_det < 0:
        undefined.mark("the reference ellipse formula s_ml²·s_ap² − cov⁴ (covariance squared twice) is negative "
                       "for this large, correlated sway (see area95_cov_corrected_cm2)",
                       ["area95_cm2", "length_over_area_1_cm", "fractal_dimension_ce"])
    for a, vp in (("ml", vp_ml), ("ap", vp_ap)):
        if const[a]:
            continue
        if vp["zero_crossings"] < 2:
            undefined.mark(f"fewer than two zero crossings of the {a} velocity (no complete half-wave)",
                           [f"peak_velocity_{k}_{a}_cm_s" for k in ("pos", "neg", "all")])
        for k, sign in (("pos", "positive"), ("neg", "negative")):
            if vp["zero_crossings"] >= 2 and not np.isfinite(vp[k]):
                undefined.mark(f"no complete {sign} half-wave of the {a} velocity", [f"peak_velocity_{k}_{a}_cm_s"])
    if not np.isfinite(sd_peak):
        undefined.mark("no excursion of the sway density above its median that falls back below it (no peak)",
                       ["sway_density_mean_peak_s", "sway_density_mean_peak_distance_cm"])
    elif not np.isfinite(sd_dist):
        undefined.mark("a single sway-density peak (no distance between consecutive peaks)",
                       ["sway_density_mean_peak_distance_cm"])
    # VFY: variance of the speed over the mean AP position (sign and size depend on where the origin is)
    muy = float(ap.mean())
    vfy = float(np.var(spd) / (muy if muy != 0 else 1e-4))

    f, p = welch_psd(s, F, nperseg=256)    # scipy.signal.welch defaults: Hann, 256 samples, 50% overlap
    metrics = {
        "mean_value_ml_cm": float(ml.mean()), "mean_value_ap_cm": float(ap.mean()),
        "max_distance_ml_cm": float(np.max(np.abs(ml))), "max_distance_ap_cm": float(np.max(np.abs(ap))),
        "max_distance_radius_cm": float(radius.max()),
        "mean_distance_ml_cm": float(np.mean(np.abs(ml))), "mean_distance_ap_cm": float(np.mean(np.abs(ap))),
        "mean_distance_radius_cm": float(radius.mean()),
        "rms_ml_cm": float(rms_ml), "rms_ap_cm": float(rms_ap), "rms_radius_cm": float(np.sqrt(np.mean(radius ** 2))),
        "range_ml_cm": amp_ml, "range_ap_cm": amp_ap, "range_cm": amp,
        "range_ratio_ml_ap": ratio(amp_ml, amp_ap),
        "path_length_ml_cm": len_ml, "path_length_ap_cm": len_ap, "path_length_cm": len_2d,
        "area95_cm2": float(area),
        "area95_cov_corrected_cm2": float(area_corrected),
        "length_over_area_1_cm": ratio(len_2d, area),
        "coefficient_sway_direction": ratio(cov_b ** 2, rms_ml * rms_ap),
        "planar_deviation_cm": float(np.sqrt(np.sum(np.var(s, axis=0)))),
        "fractal_dimension_cc": fd(2 * (radius.mean() + 1.645 * radius.std())),
        "fractal_dimension_ce": fd(np.sqrt(area * 8 / (2 * np.pi))),
        "fractal_dimension_pd": fd(amp),
        "mean_velocity_ml_cm_s": len_ml * F / m, "mean_velocity_ap_cm_s": len_ap * F / m,
        "mean_velocity_cm_s": len_2d * F / m,
        "zero_crossings_velocity_ml_count": vp_ml["zero_crossings"],
        "zero_crossings_velocity_ap_count": vp_ap["zero_crossings"],
        "peak_velocity_pos_ml_cm_s": vp_ml["pos"], "peak_velocity_pos_ap_cm_s": vp_ap["pos"],
        "peak_velocity_neg_ml_cm_s": vp_ml["neg"], "peak_velocity_neg_ap_cm_s": vp_ap["neg"],
        "peak_velocity_all_ml_cm_s": vp_ml["all"], "peak_velocity_all_ap_cm_s": vp_ap["all"],
        "sway_density_mean_peak_s": sd_peak, "sway_density_mean_peak_distance_cm": sd_dist,
        "principal_sway_direction_deg": psd_deg,
        "mean_frequency_ml_hz": float(np.mean(spd_ml) / np.mean(np.abs(ml)) / (4 * np.sqrt(2))),
        "mean_frequency_ap_hz": float(np.mean(spd_ap) / np.mean(np.abs(ap)) / (4 * np.sqrt(2))),
        "mean_frequency_hz": float(np.mean(spd) / radius.mean() / (2 * np.pi)),
        "phase_plane_ml_cm": float(np.sqrt(np.var(ml) + np.var(dvel[:, 0]))),
        "phase_plane_ap_cm": float(np.sqrt(np.var(ap) + np.var(dvel[:, 1]))),
        "sway_area_per_s_cm2_s": float(np.sum(np.abs(ml[1:] * ap[:-1] - ap[1:] * ml[:-1])) / (2 * (m - 1) / F)),
        "vfy_cm_s2": vfy,
    }
    for j, axis in ((0, "ml"), (1, "ap")):
        pw = p[:, j]
        cum = np.cumsum(pw)
        m0, m1, m2 = np.sum(pw), np.sum(f * pw), np.sum(f * f * pw)
        low = pw[(f > 0) & (f <= 2)].sum()
        if not const[axis] and not low > 0:
            undefined.mark(f"no {axis} power within 0-2 Hz", [f"frequency_quotient_{axis}"])
        metrics.update({
            f"f50_{axis}_hz": float(f[np.argmax(cum >= 0.5 * cum[-1])]),
            f"f95_{axis}_hz": float(f[np.argmax(cum >= 0.95 * cum[-1])]),
            f"frequency_mode_{axis}_hz": float(f[np.argmax(pw)]),
            f"total_power_{axis}": float(m0),
            f"centroid_frequency_{axis}_hz": float(np.sqrt(m2 / m0)),
            f"frequency_dispersion_{axis}": float(np.sqrt(1 - m1 ** 2 / (m0 * m2))),
            f"energy_below_0_5hz_{axis}": float(pw[(f > 0) & (f <= 0.5)].sum()),
            f"energy_0_5_to_2hz_{axis}": float(pw[(f > 0.5) & (f <= 2)].sum()),
            f"energy_above_2hz_{axis}": float(pw[f > 2].sum()),
            f"frequency_quotient_{axis}": ratio(pw[(f > 2) & (f <= 5)].sum(), low),
        })
    msd = mean_squared_displacement(s, int(m / 3))
    t = np.arange(msd.shape[0]) / F
    for j, axis in ((0, "ml"), (1, "ap")):
        feats, why = diffusion_features(t, msd[:, j], F)
        metrics.update(zip(_diffusion_names(axis), feats.values()))
        if why is None or const[axis]:
            continue
        if why == "too few lags":
            n_min = diffusion_min_samples(F)
            undefined.mark(f"trial too short for the stabilogram-diffusion fits ({m} samples at {F:g} Hz; the MSD "
                           f"to n/3 lags must reach 2.5 s + 0.3 s: at least {n_min} samples, {n_min / F:.2f} s)",
                           _diffusion_names(axis))
        else:
            undefined.mark(f"{axis} stabilogram diffusion: {why}",
                           _diffusion_names(axis, [k for k, v in feats.items() if not np.isfinite(v)]))
    notes = [f"input {fs:g} Hz, centred, resampled to {TARGET_FS:g} Hz with SWARII (window 0.08 s), "
             f"4th-order zero-phase Butterworth low-pass {LOWPASS_HZ:g} Hz; metrics on {m} samples at 25 Hz",
             "area95_cm2 is the reference code's confidence ellipse 2*pi*3*sqrt(det) with 1/N covariance"]
    if info["n_nan"]:
        notes.append(f"{info['n_nan']} NaN sample(s) dropped before resampling ({info['gaps']}); "
                     f"{info['n_empty_windows']} empty 25 Hz window(s) linearly interpolated")
    if info["n_artefacts_dropped"]:
        notes.append(f"{info['n_artefacts_dropped']} spike sample(s) dropped by SWARII's artefact purge")
    if m < 256:
        notes.append(f"frequency measures: Welch segment shortened to the whole {m}-sample signal, as scipy does "
                     f"below 256 samples ({256 / F:.2f} s) at {F:g} Hz: resolution {F / m:.3g} Hz")
    notes.extend(undefined.apply(metrics))
    units = {"length_over_area_1_cm": "1/cm", "vfy_cm_s2": "cm/s^2", "coefficient_sway_direction": "cm^2"}
    for axis in ("ml", "ap"):
        # sums of PSD bins (cm²/Hz each), as the reference code reports them (not multiplied by the bin width)
        for k in ("total_power_{}", "energy_below_0_5hz_{}", "energy_0_5_to_2hz_{}", "energy_above_2hz_{}"):
            units[k.format(axis)] = "cm^2/Hz"
    extra = {"n_samples": int(info["n_input"] - info["n_nan"]), "analysis_fs_hz": TARGET_FS, "units": units}
    return metrics, notes, extra
