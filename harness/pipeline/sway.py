"""Stage 5a, sway KPIs of both sides (``cop_*`` and ``com_*``) on one grid on the reference clock.

Both sides are resampled onto the same uniform grid over the analysis window (:func:`ground_truth.grid`) and
measured by the same ground-floor code (:mod:`ground_truth.sway.kpis`): the plates' COP and the markers' COM in
2-D; with one camera, the one horizontal COM component it observes on both sides.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ground_truth.grid import resample_to, uniform_grid
from ground_truth.kernel import StancebenchError
from ground_truth.sway.kpis import axis_sway_kpis, planar_sway_kpis

from .clock import ClockAlignment
from .sides import CandidateSide, ReferenceSide
from .values import KPIValue, from_sway, missing


@dataclass
class Stabilogram:
    """Both sides' COM on the observable axis over the analysis grid (reference clock): the report's figure."""

    t: np.ndarray
    reference: np.ndarray
    candidate: np.ndarray
    axis: str
    lowpass_hz: float | None


def sway_rate_hz(settings: dict, cand: CandidateSide | None) -> float:
    """The grid rate of the sway KPIs: ``settings.sway_rate_hz``, else the video's median frame rate (100 Hz
    without a video)."""
    if settings.get("sway_rate_hz"):
        return float(settings["sway_rate_hz"])
    if cand is None or cand.span is None or not cand.inference.get("n_frames"):
        return 100.0
    n = cand.inference["n_frames"]
    return float(round((n - 1) / (cand.span[1] - cand.span[0]), 3)) if n > 1 else 30.0


def _pick(values: dict[str, dict], wanted: list[str]) -> dict[str, KPIValue]:
    return {k: from_sway(values[k]) if k in values else missing(f"{k} is not a sway KPI") for k in wanted}


def _window_text(window) -> str:
    return f"window {window[0]:.2f}-{window[1]:.2f} s (reference clock)"


def cop_kpis(ref: ReferenceSide | None, cand: CandidateSide | None, wanted: list[str], window, fs: float,
             lowpass_hz, clock: ClockAlignment | None) -> tuple[dict[str, KPIValue], dict[str, KPIValue]]:
    """COP sway of both sides: the plates' COP, and the candidate's COP *estimate* from its keypoint COM
    (inverted pendulum, ``ground_truth.sway.pendulum``; signal ``cop_estimate``). Returns ``(reference,
    candidate)``; a side absent gives an empty dict."""
    grid = uniform_grid(window[0], window[1], fs)
    r_out: dict[str, KPIValue] = {}
    c_out: dict[str, KPIValue] = {}
    if cand is not None and not cand.has("cop_estimate"):
        c_out = {k: missing(cand.unavailable.get("cop_estimate", CANDIDATE_COP)) for k in wanted}
    if ref is not None and not ref.has("cop"):
        r_out = {k: missing("the gold standard has no force plate") for k in wanted}
    if cand is not None and cand.has("cop_estimate"):
        ref_xy = (*ref.series("cop"), ref.source("cop")) if ref is not None and ref.has("cop") else None
        rv, c_out, _ = _paired_sway("cop", ref, ref_xy, cand, "cop_estimate", wanted, grid, fs, lowpass_hz, clock,
                                    window)
        if ref is not None and ref.has("cop"):
            r_out = rv
    elif ref is not None and ref.has("cop"):
        r_out = _planar(ref, "cop", *ref.series("cop"), ref.source("cop"), wanted, grid, fs, lowpass_hz, window)
    return (r_out if ref is not None else {}), (c_out if cand is not None else {})


#: Why a candidate has no COP estimate when its keypoints gave no COM.
CANDIDATE_COP = "not available: no keypoint COM to estimate the COP from"


def com_kpis(ref: ReferenceSide | None, cand: CandidateSide | None, wanted: list[str], window, fs: float,
             lowpass_hz, clock: ClockAlignment | None
             ) -> tuple[dict[str, KPIValue], dict[str, KPIValue], Stabilogram | None]:
    """COM sway of both sides; returns ``(reference, candidate, stabilogram)`` (a side absent: empty dict).

    A triangulated candidate is measured in 2-D like the markers' COM; a one-camera candidate on the one
    horizontal component its camera observes, and the reference on that same component (the marker COM
    projected on the camera's horizontal image axis when calibrated). Without a keypoint COM the reference is
    measured in 2-D.
    """
    grid = uniform_grid(window[0], window[1], fs)
    ref_xy = None
    if ref is not None and ref.has("com"):
        ref_xy = (*ref.series("com"), ref.source("com"))
    if cand is not None and (cand.has("com_h") or cand.has("com_xy")):
        name = "com_xy" if cand.has("com_xy") else "com_h"
        r_out, c_out, stabilogram = _paired_sway("com", ref, ref_xy, cand, name, wanted, grid, fs, lowpass_hz,
                                                 clock, window)
        return (r_out if ref is not None else {}), c_out, stabilogram
    c_out = {k: missing(cand.unavailable.get("com", "no keypoint COM")) for k in wanted} if cand is not None else {}
    r_out: dict[str, KPIValue] = {}
    if ref is not None:
        r_out = (_planar(ref, "com", *ref_xy, wanted, grid, fs, lowpass_hz, window) if ref_xy is not None
                 else {k: missing(ref.unavailable.get("com", "no reference COM")) for k in wanted})
    return r_out, c_out, None


def _planar(ref: ReferenceSide, signal: str, t, xy, source: str, wanted, grid, fs, lowpass_hz, window
            ) -> dict[str, KPIValue]:
    try:
        out = planar_sway_kpis(resample_to(grid, t, xy), fs, signal=signal, lowpass_hz=lowpass_hz or None,
                               axes=ref.axes, method=f"{source}; {_window_text(window)}")
    except StancebenchError as exc:
        return {k: missing(f"{type(exc).__name__}: {exc}") for k in wanted}
    return _pick(out, wanted)


def _paired_sway(signal: str, ref: ReferenceSide | None, ref_xy, cand: CandidateSide, cand_signal: str, wanted,
                 grid, fs, lowpass_hz, clock: ClockAlignment | None, window):
    """Both sides of one sway signal measured the same way: 2-D when the candidate's signal is 2-D
    (triangulated), else on the candidate's observable component. Returns ``(reference, candidate,
    stabilogram)``; ``ref_xy`` is ``(time, (n, 2) values, source)`` of the reference or None."""
    ct, cv = cand.series(cand_signal)
    cv_grid = resample_to(grid, clock.to_reference(ct) if clock is not None else ct, cv)
    src = cand.source(cand_signal) + "; resampled onto the analysis grid (reference clock)"
    axes = ref.axes if ref is not None else ("ap", "ml")
    r_out: dict[str, KPIValue] = {}
    stabilogram = None
    if cv_grid.ndim == 2:
        try:
            c_out = _pick(planar_sway_kpis(cv_grid, fs, signal=signal, lowpass_hz=lowpass_hz or None, axes=axes,
                                           method=src), wanted)
        except StancebenchError as exc:
            c_out = {k: missing(f"{type(exc).__name__}: {exc}") for k in wanted}
        if ref is not None:
            r_out = (_planar(ref, signal, *ref_xy, wanted, grid, fs, lowpass_hz, window) if ref_xy is not None
                     else {k: missing(ref.unavailable.get(signal, f"no reference {signal.upper()}")) for k in wanted})
            if ref_xy is not None and signal == "com":
                j = axes.index("ml")
                stabilogram = Stabilogram(grid, resample_to(grid, ref_xy[0], ref_xy[1])[:, j], cv_grid[:, j], "ml",
                                          lowpass_hz)
        return r_out, c_out, stabilogram
    axis = cand.observable_axis
    c_out = _pick(axis_sway_kpis(cv_grid, fs, axis, signal=signal, lowpass_hz=lowpass_hz or None, method=src),
                  wanted)
    if ref is not None:
        xr, how = _reference_component(ref, cand, axis, grid, signal, ref_xy)
        if xr is None:
            r_out = {k: missing(how) for k in wanted}
        else:
            r_out = _pick(axis_sway_kpis(xr, fs, axis, signal=signal, lowpass_hz=lowpass_hz or None, method=how),
                          wanted)
            if signal == "com":
                stabilogram = Stabilogram(grid, xr, cv_grid, axis, lowpass_hz)
    return r_out, c_out, stabilogram


def _reference_component(ref: ReferenceSide, cand: CandidateSide, axis: str, grid: np.ndarray, signal: str,
                         ref_xy):
    """The reference COM or COP along the direction the candidate observes, on ``grid``: ``(values, method)``,
    or ``(None, reason)`` without that reference signal."""
    full = "com_xyz" if signal == "com" and ref.has("com_xyz") else None
    if full is not None:
        rt, rv = ref.series(full)
        rv, src = rv[:, :2], ref.source(full)
    elif ref_xy is not None:
        rt, rv, src = ref_xy
    else:
        return None, ref.unavailable.get(signal, f"no reference {signal.upper()}")
    if cand.horizontal_dir is not None:
        d = np.asarray(cand.horizontal_dir, float)[:2]
        return resample_to(grid, rt, rv @ d), (
            f"{src}; projected on the camera's horizontal image axis {np.round(d, 3).tolist()} (the one component "
            f"the candidate observes)")
    j = ref.axes.index(axis)
    return resample_to(grid, rt, rv[:, j]), f"{src}; {axis.upper()} component"
