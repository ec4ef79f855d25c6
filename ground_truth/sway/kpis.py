"""Sway KPIs of a COP or COM trajectory on a uniform grid: the one definition both sides of a pair use.

:func:`planar_sway_kpis` measures a horizontal (n, 2) trajectory (force-plate COP, marker COM);
:func:`axis_sway_kpis` measures the one horizontal component a single camera observes (and the gold
standard's COM projected on that same direction), so that the two sides of a pair are computed by the same
code on the same grid. Both return ``{kpi_name: {"value", "method"}}`` with the KPI registry's names
(``{signal}_path_length``, ``{signal}_mean_velocity``, ...); units are the registry's (cm, cm/s, cm², Hz).
"""
from __future__ import annotations

import numpy as np

from ..kernel import InputError, check_option
from . import sway_metrics
from .common import lowpass

#: The convention both sides of a pair are measured under (Prieto et al. 1996).
CONVENTION = "prieto1996"
#: sway_metrics name (prieto1996 convention) -> KPI registry suffix (``com_*`` / ``cop_*``)
KPI_SUFFIX = {"path_length_cm": "path_length", "mean_velocity_cm_s": "mean_velocity",
              "area95_cm2": "area_95_ellipse", "rms_ml_cm": "rms_ml", "rms_ap_cm": "rms_ap",
              "mean_frequency_hz": "mean_frequency"}


def _trim_edges(x: np.ndarray) -> np.ndarray:
    """Drop the missing samples at either end (the other clock starts later or stops earlier); gaps inside stay."""
    ok = np.flatnonzero(np.all(np.isfinite(x.reshape(x.shape[0], -1)), axis=1))
    return x[ok[0]: ok[-1] + 1] if ok.size else x[:0]


def planar_sway_kpis(xy_m: np.ndarray, fs_hz: float, *, signal: str, lowpass_hz: float | None = None,
                     axes: tuple[str, str] = ("ap", "ml"), method: str = "") -> dict[str, dict]:
    """Sway KPIs (``{signal}_path_length`` ...) of a horizontal trajectory sampled uniformly at ``fs_hz``.

    Parameters
    ----------
    xy_m : (n, 2) array, metres
        The two horizontal components in the order named by ``axes``; NaN at either end is trimmed.
    fs_hz : float
        Sampling rate of the grid.
    signal : {"cop", "com"}
        KPI name prefix.
    lowpass_hz : float, optional
        4th-order zero-phase Butterworth low-pass before measuring.
    method : str
        Where the trajectory came from; the returned methods start with it.

    Raises
    ------
    InputError
        No sample in the grid, or missing samples inside it (sway_metrics refuses gaps).
    """
    check_option("signal", signal, ("cop", "com"))
    xy = _trim_edges(np.asarray(xy_m, float))
    if xy.shape[0] == 0:
        raise InputError(f"no {signal.upper()} samples in the analysis window", field=signal)
    filt = ""
    if lowpass_hz:
        xy = lowpass(xy, fs_hz, lowpass_hz)
        filt = f", low-pass {lowpass_hz:g} Hz (4th-order zero-phase Butterworth)"
    res = sway_metrics(xy, fs_hz, CONVENTION, units_in="m", axes=axes)
    how = (f"{method}; {CONVENTION} convention on {xy.shape[0]} samples at {fs_hz:g} Hz{filt}; the two "
           f"horizontal axes taken as {axes[0].upper()}, {axes[1].upper()}")
    return {f"{signal}_{KPI_SUFFIX[k]}": {"value": float(v), "method": how}
            for k, v in res.metrics.items() if k in KPI_SUFFIX}


def axis_sway_kpis(x_m: np.ndarray, fs_hz: float, axis: str, *, signal: str = "com",
                   lowpass_hz: float | None = None, method: str = "") -> dict[str, dict]:
    """Sway KPIs of one horizontal component (the axis a single camera sees), uniformly sampled at ``fs_hz``.

    Returns every ``{signal}_*`` KPI: path length, mean velocity and the RMS of ``axis`` are those of that
    component alone (path and velocity are then a lower bound of the 2-D values); the RMS of the other axis,
    the 95 % ellipse area and the mean frequency (2-D definitions) have value NaN and the reason as method.
    Missing samples inside the series make every value NaN with their count in the method; NaN at either
    end is trimmed.
    """
    check_option("axis", axis, ("ap", "ml"))
    names = [f"{signal}_{s}" for s in KPI_SUFFIX.values()]
    x = _trim_edges(np.asarray(x_m, float))
    if x.size < 3:
        return {k: {"value": float("nan"), "method": f"no {signal.upper()} samples"} for k in names}
    filt = ""
    if lowpass_hz:
        x = lowpass(x[:, None], fs_hz, lowpass_hz)[:, 0]
        filt = f", low-pass {lowpass_hz:g} Hz"
    how = f"{method}; {CONVENTION} on the {axis.upper()} component only ({x.size} samples at {fs_hz:g} Hz{filt})"
    out = {k: {"value": float("nan"), "method": how} for k in names}
    if not np.all(np.isfinite(x)):
        for v in out.values():
            v["method"] = how + f"; {int(np.count_nonzero(~np.isfinite(x)))} samples missing inside the window"
        return out
    # The unseen axis is not passed as zeros (a constant axis has no spectrum); the seen one fills both columns
    # and only its per-axis metrics are read.
    m = sway_metrics(np.column_stack([x, x]), fs_hz, CONVENTION, units_in="m", axes=("ap", "ml")).metrics
    hidden = "ap" if axis == "ml" else "ml"
    out[f"{signal}_path_length"]["value"] = float(m[f"path_length_{axis}_cm"])
    out[f"{signal}_mean_velocity"]["value"] = float(m[f"mean_velocity_{axis}_cm_s"])
    out[f"{signal}_rms_{axis}"]["value"] = float(m[f"rms_{axis}_cm"])
    out[f"{signal}_rms_{hidden}"]["method"] = (f"not observable: the {hidden.upper()} axis is along the camera's "
                                               f"line of sight")
    for k in (f"{signal}_area_95_ellipse", f"{signal}_mean_frequency"):
        out[k]["method"] = "not observable from one camera (a 2-D measure; only one horizontal axis is seen)"
    return out
