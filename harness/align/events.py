"""Clock mapping from events timed on both clocks, and the onset detector that times them."""
from __future__ import annotations

import numpy as np

from ground_truth.kernel import AlignmentError, InputError, as_float_array, check_option, check_range

from .clock import AlignmentResult, checked_signal


def align_by_events(ref_times, cand_times, *, drift: bool = False, max_residual_s: float | None = None,
                    on_unreliable: str = "flag") -> AlignmentResult:
    """Clock mapping from the same events timed on both clocks (matched in order).

    Parameters
    ----------
    ref_times, cand_times : array-like
        Event times (s) on the reference and the candidate clock, same count and order (e.g. the foot lift
        and landing of a hop asked for at the start of a trial).
    drift : bool
        With two or more events, fit ``t_ref − t_cand = offset + drift·t_cand`` by least squares.
    max_residual_s : float, optional
        Flag the result when the RMS residual exceeds this (events disagree, e.g. a mismatched event).

    Notes
    -----
    One event gives the offset with no internal check (``residual_s`` NaN); more events give a residual and a
    standard error. Timing precision is that of the event detector on each side (about one video frame for
    video-detected events).
    """
    check_option("on_unreliable", on_unreliable, ("flag", "raise"))
    max_residual_s = check_range(max_residual_s, "max_residual_s", 0.0, np.inf, low_open=True, optional=True,
                                     unit="s")
    r = as_float_array(np.atleast_1d(ref_times), "ref_times", ndim=1)
    c = as_float_array(np.atleast_1d(cand_times), "cand_times", ndim=1)
    if r.size != c.size or r.size == 0:
        raise InputError(f"{r.size} reference event(s) but {c.size} candidate event(s)", field="cand_times",
                         expected="the same non-zero number of events on both clocks, in the same order")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(c))):
        raise InputError("event times are not all finite", field="ref_times/cand_times")
    d = r - c
    method = "events+drift" if drift else "events"
    reason = None
    if drift and r.size >= 2:
        slope, intercept = np.polyfit(c, d, 1)
        fit = intercept + slope * c
        nparam = 2
    else:
        if drift:
            reason = "drift needs at least 2 events"
        slope, intercept = 0.0, float(d.mean())
        fit = np.full_like(d, intercept)
        nparam = 1
    res = d - fit
    dof = r.size - nparam
    resid = float(np.sqrt(np.sum(res ** 2) / dof)) if dof > 0 else float("nan")
    if dof > 0:
        if nparam == 1:
            unc = resid / np.sqrt(r.size)
        else:
            x = c - c.mean()
            unc = resid * np.sqrt(1.0 / r.size + c.mean() ** 2 / np.sum(x ** 2))
    else:
        unc = float("nan")
    if reason is None and max_residual_s is not None and np.isfinite(resid) and resid > max_residual_s:
        reason = f"event offsets disagree: RMS residual {resid * 1e3:.1f} ms exceeds {max_residual_s * 1e3:.1f} ms"
    if reason and on_unreliable == "raise":
        raise AlignmentError(reason)
    return AlignmentResult(offset_s=float(intercept), drift_ppm=float(slope) * 1e6, peak_corr=float("nan"),
                           lag_uncertainty_s=float(unc), residual_s=resid, method=method, reliable=reason is None,
                           reason=reason, n_windows=int(r.size))


def detect_onset(t, x, *, baseline_s: float = 1.0, n_sd: float = 5.0, min_change: float = 0.0,
                 direction: str = "either", min_duration_s: float = 0.05) -> float:
    """Time of the first sustained departure of ``x`` from its initial baseline (e.g. a foot lift or hop).

    The baseline is the first ``baseline_s`` seconds (mean and SD); the onset is the first sample where ``x``
    leaves ``mean ± max(n_sd·SD, min_change)`` and stays out for ``min_duration_s``; the returned time is
    interpolated linearly between the last inside and the first outside sample. Raises AlignmentError when
    no onset is found.
    """
    check_option("direction", direction, ("either", "up", "down"))
    baseline_s = check_range(baseline_s, "baseline_s", 0.0, np.inf, low_open=True, unit="s")
    n_sd = check_range(n_sd, "n_sd", 0.0, np.inf, unit="standard deviations")
    min_change = check_range(min_change, "min_change", 0.0, np.inf)
    min_duration_s = check_range(min_duration_s, "min_duration_s", 0.0, np.inf, unit="s")
    tt, xx, _ = checked_signal(t, x, "onset")
    base = xx[tt < tt[0] + baseline_s]
    if base.size < 3:
        raise InputError(f"only {base.size} sample(s) in the {baseline_s} s baseline", field="baseline_s",
                         expected="a baseline of at least 3 samples")
    mu, sd = base.mean(), base.std(ddof=1)
    thr = max(n_sd * sd, min_change)
    if thr == 0:
        raise InputError("baseline is constant and min_change is 0: every change would be an onset",
                         field="min_change", expected="a positive min_change")
    dev = xx - mu
    out = {"either": np.abs(dev) > thr, "up": dev > thr, "down": dev < -thr}[direction]
    out[tt < tt[0] + baseline_s] = False
    idx = np.flatnonzero(out)
    for i in idx:
        end = tt[i] + min_duration_s
        seg = out[i:np.searchsorted(tt, end, side="right")]
        if seg.all():
            a, b = abs(dev[i - 1]), abs(dev[i])
            frac = (thr - a) / (b - a) if b != a else 1.0
            return float(tt[i - 1] + np.clip(frac, 0, 1) * (tt[i] - tt[i - 1]))
    raise AlignmentError(f"no onset found: the signal never leaves baseline ± {thr:.4g} for {min_duration_s} s")
