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


def cop_kpis(ref: ReferenceSide, wanted: list[str], window, fs: float, lowpass_hz) -> dict[str, KPIValue]:
    """COP sway of the gold standard's plates (2-D). The keypoints give no COP: the candidate side says so."""
    if not ref.has("cop"):
        return {k: missing("the gold standard has no force plate") for k in wanted}
    t, xy = ref.series("cop")
    grid = uniform_grid(window[0], window[1], fs)
    try:
        out = planar_sway_kpis(resample_to(grid, t, xy), fs, signal="cop", lowpass_hz=lowpass_hz, axes=ref.axes,
                               method=f"{ref.source('cop')}; {_window_text(window)}")
    except StancebenchError as exc:
        return {k: missing(f"{type(exc).__name__}: {exc}") for k in wanted}
    return _pick(out, wanted)


CANDIDATE_COP = "not available: candidates.kpis has no COP estimate from keypoints"


def com_kpis(ref: ReferenceSide | None, cand: CandidateSide | None, wanted: list[str], window, fs: float,
             lowpass_hz, clock: ClockAlignment | None
             ) -> tuple[dict[str, KPIValue], dict[str, KPIValue], Stabilogram | None]:
    """COM sway of both sides; returns ``(reference, candidate, stabilogram)`` (a side absent: empty dict).

    With a keypoint COM both sides are measured on the one horizontal component the camera observes (the
    reference COM projected on the camera's horizontal image axis when calibrated); without one, the reference
    is measured in 2-D.
    """
    grid = uniform_grid(window[0], window[1], fs)
    r_out: dict[str, KPIValue] = {}
    c_out: dict[str, KPIValue] = {}
    stabilogram = None
    if cand is not None and cand.has("com_h"):
        axis = cand.observable_axis
        ct, cx = cand.series("com_h")
        xc = resample_to(grid, clock.to_reference(ct) if clock is not None else ct, cx)
        c = axis_sway_kpis(xc, fs, axis, lowpass_hz=lowpass_hz or None,
                           method=cand.source("com_h") + "; resampled onto the analysis grid (reference clock)")
        c_out = _pick(c, wanted)
        if ref is not None:
            xr, how = _reference_component(ref, cand, axis, grid)
            if xr is None:
                r_out = {k: missing(how) for k in wanted}
            else:
                r = axis_sway_kpis(xr, fs, axis, lowpass_hz=lowpass_hz or None, method=how)
                r_out = _pick(r, wanted)
                stabilogram = Stabilogram(grid, xr, xc, axis, lowpass_hz)
        return r_out, c_out, stabilogram
    if cand is not None:
        c_out = {k: missing(cand.unavailable.get("com", "no keypoint COM")) for k in wanted}
    if ref is not None:
        if not ref.has("com"):
            r_out = {k: missing(ref.unavailable.get("com", "no reference COM")) for k in wanted}
        else:
            t, xy = ref.series("com")
            try:
                r = planar_sway_kpis(resample_to(grid, t, xy), fs, signal="com", lowpass_hz=lowpass_hz,
                                     axes=ref.axes, method=f"{ref.source('com')}; {_window_text(window)}")
                r_out = _pick(r, wanted)
            except StancebenchError as exc:
                r_out = {k: missing(f"{type(exc).__name__}: {exc}") for k in wanted}
    return r_out, c_out, stabilogram


def _reference_component(ref: ReferenceSide, cand: CandidateSide, axis: str, grid: np.ndarray):
    """The reference COM along the direction the candidate observes, on ``grid``: ``(values, method)``, or
    ``(None, reason)`` without a reference COM."""
    if ref.has("com_xyz"):
        rt, rxyz = ref.series("com_xyz")
        if cand.horizontal_dir is not None:
            d = np.asarray(cand.horizontal_dir, float)
            return resample_to(grid, rt, rxyz @ d), (
                f"{ref.source('com_xyz')}; projected on the camera's horizontal image axis "
                f"{np.round(d, 3).tolist()} (the one component the candidate observes)")
        j = 1 if axis == "ml" else 0
        return (resample_to(grid, rt, rxyz[:, j]),
                f"{ref.source('com_xyz')}; lab {'y' if j else 'x'} ({axis.upper()}) component")
    if ref.has("com"):
        rt, rxy = ref.series("com")
        j = ref.axes.index(axis)
        return resample_to(grid, rt, rxy[:, j]), f"{ref.source('com')}; {axis.upper()} component"
    return None, ref.unavailable.get("com", "no reference COM")
