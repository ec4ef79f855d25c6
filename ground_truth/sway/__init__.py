"""COP (or horizontal COM) sway metrics under named, cited conventions.

>>> from ground_truth.sway import sway_metrics
>>> res = sway_metrics(cop_m, fs_hz=100.0, convention="bds2016")     # cop_m: (n, 2) metres, (AP, ML)
>>> res.metrics["area95_cm2"], res.units["area95_cm2"]

Every convention reports lengths in cm, areas in cm², velocities in cm/s and frequencies in Hz, whatever
``units_in`` the positions came in; the metric names carry their units (``mean_velocity_cm_s``). The
conventions differ in preprocessing (filtering, resampling) and in their formulas, and sway numbers depend
strongly on sampling rate and filtering: always report the convention with the number.

Conventions: ``bds2016`` (Santos & Duarte 2016, no filtering), ``quijoux2021`` (Quijoux et al. 2021:
SWARII resampling to 25 Hz and 10 Hz low-pass), ``prieto1996`` (Prieto et al. 1996 definitions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


from ..kernel import check_option, jsonable
from . import bds2016, prieto1996, quijoux2021
from .common import AXIS_NAMES, check_cop
from .pendulum import COPEstimate, estimate_cop_from_com

#: convention name -> the module that computes it
_CONVENTION_MODULES = {"bds2016": bds2016, "quijoux2021": quijoux2021, "prieto1996": prieto1996}
CONVENTIONS = tuple(_CONVENTION_MODULES)

__all__ = ["CONVENTIONS", "COPEstimate", "SwayResult", "estimate_cop_from_com", "sway_metrics", "unit_of_metric"]


def unit_of_metric(name: str) -> str:
    """The unit a metric name carries in its suffix (``_cm2`` -> 'cm^2', ``_cm_s`` -> 'cm/s', ...)."""
    for suffix, unit in (("_cm2_s", "cm^2/s"), ("_cm2", "cm^2"), ("_cm_s", "cm/s"), ("_cm", "cm"), ("_hz", "Hz"),
                         ("_s2", "s^2"), ("_count", "1"), ("_deg", "deg"), ("_s", "s")):
        if name.endswith(suffix):
            return unit
    return "1"


@dataclass
class SwayResult:
    """Sway metrics of one COP (or COM) trajectory under one convention.

    Attributes
    ----------
    metrics : dict of str to float
        Metric name (carrying its unit, e.g. ``area95_cm2``) to value.
    units : dict of str to str
        Metric name to unit string (cm, cm^2, cm/s, Hz, s, 1 for dimensionless).
    convention, citation : str
        The named convention and its source.
    n_samples : int
        Samples of the input used (after removing gaps where the convention allows it).
    fs_hz : float
        Sampling rate of the input; ``analysis_fs_hz`` is the rate the metrics were computed at.
    notes : list of str
        Preprocessing (filter, resampling), gap handling and anything needed to read the numbers.
    """

    metrics: dict[str, float]
    units: dict[str, str]
    convention: str
    citation: str
    n_samples: int
    fs_hz: float
    notes: list[str] = field(default_factory=list)
    analysis_fs_hz: float | None = None
    axes: tuple[str, str] = AXIS_NAMES

    def to_frame(self):
        """Tidy DataFrame: one row per metric with columns metric, value, unit, convention."""
        import pandas as pd

        return pd.DataFrame({"metric": list(self.metrics), "value": [self.metrics[k] for k in self.metrics],
                             "unit": [self.units[k] for k in self.metrics],
                             "convention": self.convention})

    def to_dict(self) -> dict[str, Any]:
        return {"convention": self.convention, "citation": self.citation, "n_samples": self.n_samples,
                "fs_hz": self.fs_hz, "analysis_fs_hz": self.analysis_fs_hz,
                "metrics": {k: jsonable(v) for k, v in self.metrics.items()}, "units": dict(self.units),
                "notes": list(self.notes)}

    def __repr__(self) -> str:
        head = ", ".join(f"{k}={v:.4g}" for k, v in list(self.metrics.items())[:3])
        return f"SwayResult({self.convention}, n={self.n_samples}, fs={self.fs_hz:g} Hz, {head}, ...)"




def sway_metrics(cop, fs_hz: float, convention: str = "bds2016", *, units_in: str = "m",
                 axes: tuple[str, str] = ("ap", "ml")) -> SwayResult:
    """Sway metrics of a horizontal COP (or COM) trajectory under a named convention.

    Parameters
    ----------
    cop : array of shape (n, 2)
        Horizontal positions, evenly sampled, in the file's own two horizontal axes.
    fs_hz : float
        Sampling rate in Hz.
    convention : {'bds2016', 'quijoux2021', 'prieto1996'}
        Which definitions and preprocessing to apply (see each module's docstring and docs/sway.md).
    units_in : {'m', 'cm', 'mm'}
        Unit of ``cop``. Results are always in cm, cm², cm/s and Hz.
    axes : ('ap', 'ml') or ('ml', 'ap')
        What the two columns are: by default column 0 is anterior-posterior (AP) and column 1
        medio-lateral (ML). Per-axis metrics (``rms_ap_cm``, ...) are named after this.

    Returns
    -------
    SwayResult
        ``.metrics`` (name -> float), ``.units``, ``.convention``, ``.citation``, ``.n_samples``, ``.fs_hz``,
        ``.notes``; ``.to_frame()`` gives a tidy DataFrame.

    Raises
    ------
    InputError
        Wrong shape, too few samples (the message names the convention's minimum), non-positive rate, unknown
        unit or convention, or NaN samples under a convention that defines no gap handling (the message says
        how many and where).

    Notes
    -----
    How to read the result: area (cm²) and RMS (cm) describe how far the COP wanders; path length and mean
    velocity (cm/s) how much it moves, and are the most sensitive to sampling rate and filtering (unfiltered
    1 kHz COP can give a path ~85 times longer than the same COP low-passed at 10 Hz), so compare them only
    within one convention and one rate. Mean frequency (Hz) is how fast the sway oscillates.

    Degenerate input (a constant axis such as a single camera's line of sight, no motion, a path on one line,
    a trial too short for one metric's fit or spectrum) never raises a numpy warning: each metric that cannot
    be defined is NaN and ``.notes`` says which and why, one note per cause; metrics that stay defined keep
    their values (a flat ellipse has area 0). See docs/sway.md, "Degenerate inputs".

    References
    ----------
    Santos DA, Duarte M (2016) PeerJ 4:e2648. Quijoux F et al. (2021) Physiol Rep 9:e15067.
    Prieto TE et al. (1996) IEEE Trans Biomed Eng 43:956-966.
    """
    check_option("convention", convention, CONVENTIONS)
    mod = _CONVENTION_MODULES[convention]
    cop_cm, fs = check_cop(cop, fs_hz, units_in, axes, allow_nan=mod.ALLOWS_GAPS, min_samples=mod.MIN_SAMPLES)
    out = mod.compute(cop_cm, fs)
    metrics, notes = out[0], out[1]
    extra = out[2] if len(out) > 2 else {}
    units = {k: unit_of_metric(k) for k in metrics}
    units.update(extra.get("units", {}))
    return SwayResult(metrics=metrics, units=units, convention=convention, citation=mod.CITATION,
                      n_samples=int(extra.get("n_samples", cop_cm.shape[0])), fs_hz=fs, notes=list(notes),
                      analysis_fs_hz=float(extra.get("analysis_fs_hz", fs)), axes=tuple(axes))
