"""Physical plausibility of values as they are read: one table of bounds per quantity, in SI units.

A reader that meets a value outside its quantity's bounds (a corrupted scale factor giving forces of 1e30 N,
a bit flip turning a latency negative) must not use it silently. Arrays: out-of-bounds and non-finite values
become NaN and a note counts them (:func:`mask_implausible`); a scalar that everything else depends on (a
sampling rate, a scale factor) is an error (:func:`require_plausible`).

The bounds are deliberately wide: they catch values no instrument or human produces, not unusual trials.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike

import numpy as np

from .errors import InputError, ReaderError


@dataclass(frozen=True)
class Bound:
    """Closed interval ``[low, high]`` of plausible values of one quantity, and why."""

    low: float
    high: float
    unit: str
    why: str
    #: a value of exactly ``low`` is not allowed (rates, durations, scale magnitudes)
    exclusive_low: bool = False

    def describe(self) -> str:
        lo = "(" if self.exclusive_low else "["
        return f"{lo}{self.low:g}, {self.high:g}] {self.unit}".strip()

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Elementwise: finite and inside the bounds."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            above = v > self.low if self.exclusive_low else v >= self.low
            return np.isfinite(v) & above & (v <= self.high)


#: Bounds per quantity (SI). Sources of the figures in ``why``.
BOUNDS: dict[str, Bound] = {
    # ground reaction force components: landing from a jump reaches ~10 body weights; 20 kN is ~25 BW of a
    # 80-kg person and beyond the range of common laboratory plates (AMTI OR6-7: 4.45-22 kN)
    "force_n": Bound(-20_000.0, 20_000.0, "N", "no human ground reaction force exceeds ~25 body weights"),
    # moments about a plate origin: 20 kN at 0.5 m
    "moment_nm": Bound(-10_000.0, 10_000.0, "N*m", "20 kN acting 0.5 m from the plate origin"),
    # a point on a lab floor or in a capture volume
    "position_m": Bound(-100.0, 100.0, "m", "a capture volume is metres across, not kilometres"),
    # a centre of pressure, relative to the plate it is on (the largest plates are ~2 m long)
    "cop_m": Bound(-5.0, 5.0, "m", "the COP lies on (or just beside) a plate no more than a few metres long"),
    "rate_hz": Bound(0.0, 1_000_000.0, "Hz", "sampling rates run from below 1 Hz to ~100 kHz", True),
    "frame_rate_hz": Bound(0.0, 10_000.0, "fps", "video runs at up to a few thousand frames/s", True),
    "duration_s": Bound(0.0, 86_400.0, "s", "a balance trial lasts seconds to minutes, not days", True),
    # C3D and analog scale factors multiply stored integers into physical units; real ones run from ~1e-6
    # (analog volts per bit) to ~10, so a denormal 1e-41 is a corrupted word, not a scale
    "scale_abs": Bound(1e-12, 1e6, "", "a scale factor is finite, non-zero and not vanishingly small", True),
    "latency_ms": Bound(0.0, 3_600_000.0, "ms", "an inference takes more than 0 ms and less than an hour", True),
    "memory_bytes": Bound(0.0, 2.0 ** 44, "bytes", "a process uses 0 to 16 TiB of memory"),
    "energy_j": Bound(0.0, 1e7, "J", "a benchmark on a phone battery (~60 kJ) uses at most 10 MJ"),
    "model_bytes": Bound(0.0, 2.0 ** 40, "bytes", "a model file is larger than 0 bytes and smaller than 1 TiB", True),
    "mass_kg": Bound(0.0, 500.0, "kg", "a person's body mass", True),
    "height_m": Bound(0.0, 3.0, "m", "a person's stature", True),
    "angle_deg": Bound(-360.0, 360.0, "deg", "a joint angle in degrees"),
}


def bound(quantity: str) -> Bound:
    """The bounds of a named quantity (KeyError is a programming error, not bad input)."""
    return BOUNDS[quantity]


def mask_implausible(values, quantity: str, *, what: str, notes: list[str] | None = None) -> np.ndarray:
    """A float copy of ``values`` with non-finite and out-of-bounds entries set to NaN.

    When any entry was masked, a note naming ``what`` (e.g. "Kistler.c3d plate 1 Fz"), how many samples were
    non-finite, how many out of bounds, the bounds and the extreme value is appended to ``notes``.
    Entries that were already NaN are left alone and not counted (gaps are the reader's own convention).
    """
    b = BOUNDS[quantity]
    v = np.array(values, dtype=float, copy=True)
    was_nan = np.isnan(v)
    ok = b.contains(v)
    bad = ~ok & ~was_nan
    n_bad = int(bad.sum())
    if n_bad:
        n_inf = int(np.isinf(v[bad]).sum())
        finite_bad = v[bad & np.isfinite(v)]
        parts = []
        if n_inf:
            parts.append(f"{n_inf} infinite")
        if finite_bad.size:
            extreme = finite_bad[np.argmax(np.abs(finite_bad))]
            parts.append(f"{finite_bad.size} outside {b.describe()} (e.g. {extreme:.4g})")
        if notes is not None:
            notes.append(f"{what}: {n_bad} of {v.size} value(s) set to NaN as implausible: {', '.join(parts)} "
                         f"({b.why})")
        v[bad] = np.nan
    return v


def require_plausible(value, quantity: str, *, file: str | PathLike | None = None, field: str,
                      error: type[InputError] = ReaderError) -> float:
    """``value`` as a float when it is finite and within its quantity's bounds; else ``error`` naming it.

    For ``scale_abs`` the magnitude is checked (scale factors may be negative, by the C3D convention).
    """
    b = BOUNDS[quantity]
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise error(f"{value!r} is not a number", file=file, field=field,
                    expected=f"a number in {b.describe()}") from None
    checked = abs(x) if quantity == "scale_abs" else x
    if not math.isfinite(x) or not bool(b.contains(np.array([checked]))[0]):
        raise error(f"{x:g} is not plausible ({b.why})", file=file, field=field,
                    expected=f"{'|value| in ' if quantity == 'scale_abs' else ''}{b.describe()}")
    return x
