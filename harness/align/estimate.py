"""Clock offset (and drift) by cross-correlation of one physical signal both clocks observe.

Convention: ``t_ref = t_cand + offset_s + drift · t_cand`` (``drift = drift_ppm · 1e-6``). The candidate's
samples keep their real, possibly irregular, timestamps throughout: nothing assumes a constant frame rate.
"""
from __future__ import annotations

import numpy as np
from scipy import interpolate, optimize, signal

from ground_truth.kernel import BOUNDS, AlignmentError, InputError, check_option, check_range

from .clock import AlignmentResult, checked_signal

#: Most points of the coarse search's uniform grid (per signal): 1e7 is ~3 hours at 1 kHz; a finer grid or a
#: longer signal would only exhaust memory in the FFT correlation.
MAX_GRID_POINTS = 10_000_000


def _lowpass(t, x, cutoff_hz, order=2):
    """Zero-phase Butterworth low-pass on a uniform grid at the signal's median rate, back at its own times."""
    fs = 1.0 / float(np.median(np.diff(t)))
    if cutoff_hz >= 0.5 * fs:
        raise InputError(f"low-pass cutoff {cutoff_hz} Hz is not below the Nyquist frequency {fs / 2:.3g} Hz "
                         f"of a signal sampled at {fs:.3g} Hz", field="lowpass_hz",
                         expected=f"a cutoff below {fs / 2:.3g} Hz")
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    if grid.size < 3 * (order + 1) * 2 + 1:
        return x
    g = np.interp(grid, t, x)
    sos = signal.butter(order, cutoff_hz, fs=fs, output="sos")
    return np.interp(t, grid, signal.sosfiltfilt(sos, g))


def _pearson(a, b):
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 0 else float("nan")


class _Matcher:
    """Correlation of the reference, interpolated at mapped candidate times, with the candidate samples.

    A reference slower than 1 kHz is first upsampled to a 1 ms grid with a cubic spline; the grid is then
    interpolated linearly (fast, and accurate to ~1e-4 relative for content below 5 Hz).
    """

    FINE_DT = 1e-3

    def __init__(self, ref_t, ref_x, cand_t, cand_x, min_overlap_frac=0.5):
        if np.median(np.diff(ref_t)) > self.FINE_DT:
            self.gt = np.arange(ref_t[0], ref_t[-1], self.FINE_DT)
            self.gx = interpolate.CubicSpline(ref_t, ref_x)(self.gt)
        else:
            self.gt, self.gx = ref_t, ref_x
        self.r0, self.r1 = self.gt[0], self.gt[-1]
        self.ct, self.cx = cand_t, cand_x
        self.min_overlap_frac = min_overlap_frac

    def corr(self, offset, drift=0.0, sel=slice(None)):
        ct, cx = self.ct[sel], self.cx[sel]
        tr = ct + offset + drift * ct
        inside = (tr >= self.r0) & (tr <= self.r1)
        if inside.sum() < max(10, self.min_overlap_frac * ct.size):
            return float("nan")
        return _pearson(np.interp(tr[inside], self.gt, self.gx), cx[inside])

    def refine(self, lo, hi, drift=0.0, sel=slice(None), xatol=1e-5):
        def cost(o):
            c = self.corr(o, drift, sel)
            return -c if c == c else 2.0

        res = optimize.minimize_scalar(cost, bounds=(lo, hi), method="bounded", options={"xatol": xatol})
        return float(res.x), -float(res.fun)


def _coarse_xcorr(ref_t, ref_x, cand_t, cand_x, max_lag_s, grid_hz, min_overlap_s):
    """Normalised (Pearson over the overlap) cross-correlation on a uniform grid within ±max_lag_s."""
    dt = 1.0 / grid_hz
    gr_t = np.arange(ref_t[0], ref_t[-1], dt)
    gc_t = np.arange(cand_t[0], cand_t[-1], dt)
    gr = np.interp(gr_t, ref_t, ref_x)
    gc = np.interp(gc_t, cand_t, cand_x)
    gr = (gr - gr.mean()) / (gr.std() or 1.0)
    gc = (gc - gc.mean()) / (gc.std() or 1.0)
    one_r, one_c = np.ones_like(gr), np.ones_like(gc)

    def xc(a, b):
        return signal.correlate(a, b, mode="full", method="fft")

    n = np.rint(xc(one_r, one_c))
    s_rc, s_r, s_rr = xc(gr, gc), xc(gr, one_c), xc(gr * gr, one_c)
    s_c, s_cc = xc(one_r, gc), xc(one_r, gc * gc)
    lags = np.arange(-(gc.size - 1), gr.size)             # index L: ref sample j+L pairs with cand sample j
    tau = lags * dt + gr_t[0] - gc_t[0]                   # t_ref - t_cand for that pairing
    with np.errstate(invalid="ignore", divide="ignore"):
        num = s_rc - s_r * s_c / n
        den = np.sqrt((s_rr - s_r ** 2 / n) * (s_cc - s_c ** 2 / n))
        r = num / den
    valid = (np.abs(tau) <= max_lag_s) & (n * dt >= min_overlap_s) & np.isfinite(r)
    return tau[valid], r[valid], dt


def _peak_quality(tau, r, i, max_secondary_ratio):
    """Reason string when the correlation peak is not trustworthy, else None."""
    peak = r[i]
    if i == 0 or i == r.size - 1:
        return (f"correlation peak at the edge of the lag search ({tau[i]:+.3f} s): the true offset may lie "
                f"outside ±max_lag_s")
    # main lobe: contiguous region around the peak above half the peak
    left = i
    while left > 0 and r[left - 1] > 0.5 * peak:
        left -= 1
    right = i
    while right < r.size - 1 and r[right + 1] > 0.5 * peak:
        right += 1
    outside = np.concatenate([r[:left], r[right + 1:]])
    if outside.size and np.max(outside) >= max_secondary_ratio * peak:
        j = int(np.argmax(np.where((np.arange(r.size) < left) | (np.arange(r.size) > right), r, -np.inf)))
        return (f"ambiguous correlation: a second peak r = {r[j]:.3f} at {tau[j]:+.3f} s is within "
                f"{max_secondary_ratio:.0%} of the main peak r = {peak:.3f} at {tau[i]:+.3f} s")
    return None


def estimate_offset(ref_t, ref_x, cand_t, cand_x, *, max_lag_s: float, drift: bool = False,
                    lowpass_hz: float | None = None, grid_hz: float | None = None, min_peak_corr: float = 0.5,
                    max_secondary_ratio: float = 0.9, window_s: float | None = None,
                    on_unreliable: str = "flag") -> AlignmentResult:
    """Clock offset (and drift) of a candidate signal against a reference signal of the same physical quantity.

    Parameters
    ----------
    ref_t, ref_x : array-like (n,)
        Reference timestamps (s, reference clock) and values (e.g. vertical GRF, 1-2 kHz, or a marker's
        vertical velocity, 100-200 Hz).
    cand_t, cand_x : array-like (m,)
        Candidate timestamps (s, candidate clock; the video's real frame times, possibly irregular) and values
        of the same quantity (e.g. mass·(COM vertical acceleration + g)). NaN samples (no person detected)
        are skipped.
    max_lag_s : float
        The offset is searched within ±max_lag_s. A peak at the edge of the range is refused.
    drift : bool
        Also estimate clock drift: offsets of overlapping windows (``window_s``, half-overlapping) are fitted
        with a line against candidate time; slope = drift, intercept = offset at t_cand = 0.
    lowpass_hz : float, optional
        Zero-phase 2nd-order Butterworth low-pass applied to both signals first (each at its own rate).
    grid_hz : float, optional
        Rate of the uniform grid of the coarse search (default: the faster side's rate, at most 100 Hz; the
        refinement does not depend on it).
    min_peak_corr : float
        Below this peak correlation the result is refused (nearly static trial or unrelated signals).
    max_secondary_ratio : float
        A second correlation peak outside the main lobe this close to the main one makes the result
        ambiguous (e.g. periodic signals) and it is refused.
    on_unreliable : {'flag', 'raise'}
        Return the result with ``reliable=False`` and ``reason``, or raise :class:`AlignmentError`.

    Returns
    -------
    AlignmentResult

    Notes
    -----
    The coarse lag is the maximum of the Pearson correlation over the overlap on a common uniform grid; it is
    refined by maximising the correlation between the candidate samples at their own timestamps and a cubic
    spline of the reference evaluated at the mapped times (bounded Brent search), so the result is not limited
    by either sampling interval. Lag uncertainty is the standard error from the windowed estimates (NaN when
    the trial is too short for three windows). The estimator is the classic cross-correlation time-delay
    estimate (Knapp & Carter 1976, IEEE Trans ASSP 24:320) without frequency weighting.
    """
    check_option("on_unreliable", on_unreliable, ("flag", "raise"))
    if not (np.isfinite(max_lag_s) and max_lag_s > 0):
        raise InputError(f"max_lag_s is {max_lag_s}", field="max_lag_s", expected="a positive number of seconds")
    rate = BOUNDS["rate_hz"]
    lowpass_hz = check_range(lowpass_hz, "lowpass_hz", 0.0, rate.high, low_open=True, optional=True,
                                 unit="Hz")
    grid_hz = check_range(grid_hz, "grid_hz", 0.0, rate.high, low_open=True, optional=True, unit="Hz")
    window_s = check_range(window_s, "window_s", 0.0, BOUNDS["duration_s"].high, low_open=True,
                               optional=True, unit="s")
    min_peak_corr = check_range(min_peak_corr, "min_peak_corr", 0.0, 1.0, unit="(a correlation)")
    max_secondary_ratio = check_range(max_secondary_ratio, "max_secondary_ratio", 0.0, 1.0, low_open=True)
    rt, rx, miss_r = checked_signal(ref_t, ref_x, "ref")
    ct, cx, miss_c = checked_signal(cand_t, cand_x, "cand")
    for name, miss in (("ref_x", miss_r), ("cand_x", miss_c)):
        if miss > 0.5:
            return _refuse(f"{miss:.0%} of {name} samples are missing (NaN): too little signal to align", "xcorr",
                           max_lag_s, on_unreliable)
    for name, x in (("ref_x", rx), ("cand_x", cx)):
        if np.ptp(x) == 0:
            return _refuse(f"{name} is constant: nothing to correlate (static trial)", "xcorr", max_lag_s,
                           on_unreliable)
    if lowpass_hz is not None:
        rx = _lowpass(rt, rx, float(lowpass_hz))
        cx = _lowpass(ct, cx, float(lowpass_hz))
    rate_r = 1.0 / float(np.median(np.diff(rt)))
    rate_c = 1.0 / float(np.median(np.diff(ct)))
    grid = float(grid_hz) if grid_hz else min(max(rate_r, rate_c), 100.0)
    duration_c = ct[-1] - ct[0]
    points = max(rt[-1] - rt[0], duration_c) * grid
    if points > MAX_GRID_POINTS:
        raise InputError(f"a {grid:g}-Hz grid over {max(rt[-1] - rt[0], duration_c):.4g} s has {points:.3g} points",
                         field="grid_hz", expected=f"at most {MAX_GRID_POINTS:,} grid points (a coarser grid or "
                                                   f"shorter signals)")
    min_overlap_s = 0.5 * min(duration_c, rt[-1] - rt[0])
    tau, r, dt = _coarse_xcorr(rt, rx, ct, cx, max_lag_s, grid, min_overlap_s)
    method = "xcorr+drift" if drift else "xcorr"
    if tau.size < 3:
        return _refuse("the signals do not overlap by half their length within ±max_lag_s", method, max_lag_s,
                       on_unreliable)
    i = int(np.argmax(r))
    reason = _peak_quality(tau, r, i, max_secondary_ratio)
    matcher = _Matcher(rt, rx, ct, cx)
    off, peak = matcher.refine(tau[i] - 2 * dt, tau[i] + 2 * dt)
    # windowed estimates: drift line fit, and the offset's uncertainty either way
    win = float(window_s) if window_s else float(np.clip(duration_c / 6.0, 2.0, 20.0))
    starts = np.arange(ct[0], ct[-1] - win + 1e-9, win / 2.0)
    span = 2 * dt + 5e-4 * duration_c                      # window offsets may move by drift (up to 1000 ppm)
    w_t, w_off, w_r = [], [], []
    for s in starts:
        sel = np.flatnonzero((ct >= s) & (ct < s + win))
        if sel.size < 10:
            continue
        o, c = matcher.refine(off - span, off + span, sel=sel, xatol=3e-5)
        if np.isfinite(c) and c >= min_peak_corr:
            w_t.append(float(np.mean(ct[sel])))
            w_off.append(o)
            w_r.append(c)
    w_t, w_off = np.asarray(w_t), np.asarray(w_off)
    k = w_t.size
    drift_ppm, unc, resid = 0.0, float("nan"), float("nan")
    if drift:
        if k < 3:
            reason = reason or (f"only {k} window(s) with a reliable correlation: drift cannot be estimated "
                                f"(trial too short or signal too weak)")
        else:
            coef, cov = np.polyfit(w_t, w_off, 1, cov="unscaled") if k > 3 else (np.polyfit(w_t, w_off, 1), None)
            slope = float(coef[0])
            fit = np.polyval(coef, w_t)
            resid = float(np.sqrt(np.mean((w_off - fit) ** 2)))
            s2 = np.sum((w_off - fit) ** 2) / max(k - 2, 1)
            x = w_t - w_t.mean()
            unc = float(np.sqrt(s2 * (1.0 / k + w_t.mean() ** 2 / np.sum(x ** 2))))
            drift_ppm = slope * 1e6
            # final offset with the drift fixed, using the whole trial
            off, peak = matcher.refine(coef[1] - 2 * dt, coef[1] + 2 * dt, drift=slope)
    elif k >= 3:
        resid = float(np.std(w_off, ddof=1))
        unc = resid / np.sqrt(k)
    if reason is None and not (np.isfinite(peak) and peak >= min_peak_corr):
        reason = (f"peak correlation {peak:.3f} is below {min_peak_corr} (nearly static trial or signals that "
                  f"do not reflect the same motion)")
    result = AlignmentResult(offset_s=off, drift_ppm=float(drift_ppm), peak_corr=float(peak),
                             lag_uncertainty_s=unc, residual_s=resid, method=method, reliable=reason is None,
                             reason=reason, n_windows=int(k), max_lag_s=float(max_lag_s))
    if reason is not None and on_unreliable == "raise":
        raise AlignmentError(reason)
    return result


def _refuse(reason, method, max_lag_s, on_unreliable):
    if on_unreliable == "raise":
        raise AlignmentError(reason)
    nan = float("nan")
    return AlignmentResult(offset_s=nan, drift_ppm=nan, peak_corr=nan, lag_uncertainty_s=nan, residual_s=nan,
                           method=method, reliable=False, reason=reason, max_lag_s=float(max_lag_s))
