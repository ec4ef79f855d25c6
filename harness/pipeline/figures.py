"""Stage 7, figure data for the report (docs/report.md, ``figures_data``): the alignment signal of both sides
before and after alignment with the gold standard's foot events, the correlation against the offset tried,
and the COM stabilogram of the paired KPIs. Figures only: statistics never read these arrays."""
from __future__ import annotations

import numpy as np

from ground_truth.sway.common import lowpass

from .clock import ALIGNMENT_SIGNALS, ClockAlignment
from .sides import CandidateSide, ReferenceSide
from .sway import Stabilogram

#: At most this many points per drawn line.
MAX_POINTS = 600


def _thin(t, y, n_max: int = MAX_POINTS) -> dict:
    """Every k-th sample so that at most ``n_max`` remain."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    k = max(1, int(np.ceil(t.size / n_max)))
    return {"t": t[::k].tolist(), "y": y[::k].tolist()}


def figure_data(ref: ReferenceSide | None, cand: CandidateSide | None, clock: ClockAlignment | None, window,
                stabilogram: Stabilogram | None) -> dict:
    """The figure arrays of one paired trial × candidate (empty without both sides and a clock)."""
    figures: dict = {}
    if ref is None or cand is None or clock is None:
        return figures
    if stabilogram is not None:
        st = stabilogram_figure(stabilogram)
        if st:
            figures["stabilogram"] = st
    sig = ALIGNMENT_SIGNALS.get(clock.signal)
    if sig is None or not ref.has(sig.reference) or not cand.has(sig.candidate):
        return figures
    rt, rx = ref.series(sig.reference)
    ct, cx = cand.series(sig.candidate)
    # each side minus its own median: the two sides measure one motion in different absolute frames
    unit, scale = {"grf_vertical": ("N", 1.0), "motion_energy": ("relative", None)}.get(sig.reference, ("cm", 100.0))
    if scale is None:     # energies of different points and units: each side over its own median
        ry, cy = rx / np.nanmedian(rx), cx / np.nanmedian(cx)
    else:
        ry, cy = (rx - np.nanmedian(rx)) * scale, (cx - np.nanmedian(cx)) * scale
    if sig.reference == "com_vertical_velocity":
        unit = "cm/s"
    first = {}
    for e in ref.events:
        first.setdefault(e.name, float(e.time))
    figures["time_series"] = {
        "signal": f"{sig.what.split(':')[0]} (each side {'over' if scale is None else 'minus'} its median)",
        "unit": unit, "reference": _thin(rt, ry), "candidate": _thin(clock.to_reference(ct), cy),
        "candidate_raw": _thin(ct, cy),
        "events": [{"name": k.replace("_", " "), "time": v} for k, v in first.items()]
                  + [{"name": "analysis window", "time": window[0]}]}
    figures["lag_correlation"] = lag_correlation(rt, rx, ct, cx, clock)
    return figures


def stabilogram_figure(st: Stabilogram) -> dict:
    """COM displacement against time on the observable axis over the analysis window, both sides on the KPI
    grid and low-passed as the KPIs are, each minus its own mean (the quantity RMS and path are taken of)."""
    out = {"signal": f"COM {st.axis.upper()} displacement (each side minus its mean)", "unit": "cm",
           "axis": st.axis}
    for role, x in (("reference", st.reference), ("candidate", st.candidate)):
        t, x = np.asarray(st.t, float), np.asarray(x, float)
        ok = np.flatnonzero(np.isfinite(x))
        if ok.size < 16:
            return {}
        t, x = t[ok[0]: ok[-1] + 1], x[ok[0]: ok[-1] + 1]
        if st.lowpass_hz and np.all(np.isfinite(x)):
            fs = 1.0 / float(np.median(np.diff(t)))
            if st.lowpass_hz < fs / 2:
                x = lowpass(x[:, None], fs, st.lowpass_hz)[:, 0]
        out[role] = _thin(t, (x - np.nanmean(x)) * 100.0)
    if st.lowpass_hz:
        out["signal"] += f", low-pass {st.lowpass_hz:g} Hz"
    return out


def lag_correlation(rt, rx, ct, cx, clock: ClockAlignment, n_lags: int = 301) -> dict:
    """Pearson correlation of the two sides against the offset tried (report diagnostic only; the estimate
    itself comes from harness.align): a single sharp peak at the estimated offset is a trustworthy alignment."""
    span = float(clock.estimate.get("max_lag_s") or 3.0)
    if not np.isfinite(span) or span <= 0:
        span = 3.0
    lags = np.linspace(-span, span, n_lags)
    ok_c, ok_r = np.isfinite(cx), np.isfinite(rx)
    t, c = np.asarray(ct, float)[ok_c], np.asarray(cx, float)[ok_c]
    r_t, r_x = np.asarray(rt, float)[ok_r], np.asarray(rx, float)[ok_r]
    shifted = np.interp(t[None, :] + lags[:, None], r_t, r_x, left=np.nan, right=np.nan)   # (lags, frames)
    valid = np.isfinite(shifted)
    cc = np.where(valid, c[None, :], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = shifted - np.nanmean(shifted, axis=1, keepdims=True)
        b = cc - np.nanmean(cc, axis=1, keepdims=True)
        corr = np.nansum(a * b, axis=1) / np.sqrt(np.nansum(a * a, axis=1) * np.nansum(b * b, axis=1))
    corr[valid.sum(axis=1) < 10] = np.nan
    return {"lag_s": lags.tolist(), "corr": [None if not np.isfinite(v) else float(v) for v in corr]}
