"""The one time-series type shared by every stancebench package.

A :class:`TimeSeries` carries its time vector in seconds, one array per named channel (first axis = time),
the SI unit of each channel, the unit it had in the source file, events, and free metadata (source file,
sha256, which method produced it). Readers convert to SI before building one; KPI code converts to clinical
units (cm, cm², deg) only when it reports a number, and says so in the unit string.
"""
from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError

#: Units a channel may carry. SI, plus degrees for angles (clinical convention, SI-accepted), dimensionless
#: values ("1"), pixels, and "raw": kept as stored in the file because its unit is absent or not physical
#: (the file's own unit string is then in ``source_units``).
KNOWN_UNITS = frozenset({
    "m", "m/s", "m/s^2", "N", "N*m", "N/kg", "kg", "s", "Hz", "rad", "rad/s", "deg", "deg/s", "1", "px",
    "V", "W", "J", "bool", "raw",
})


@dataclass(frozen=True)
class Event:
    """A named instant, e.g. ``Event("foot_lift", 1.25, context="Left", source="plate 2 loading")``."""

    name: str
    time: float
    context: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time": float(self.time), "context": self.context, "source": self.source}


@dataclass
class TimeSeries:
    """Time-stamped channels with units and events.

    Parameters
    ----------
    time : array of shape (n,)
        Sample times in seconds, finite and strictly increasing.
    data : dict of str to array
        Channels; each array's first axis has length n. A marker is a (n, 3) channel in metres.
    units : dict of str to str
        SI unit of each channel (see ``KNOWN_UNITS``).
    source_units : dict of str to str, optional
        The unit each channel had in the file it was read from, for provenance.
    events : list of Event, optional
    meta : dict, optional
        Free provenance: ``file``, ``sha256``, ``method`` (which method produced the numbers), ...
    """

    time: np.ndarray
    data: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    source_units: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        file = self.meta.get("file")
        try:
            t = np.asarray(self.time, dtype=float)
        except (TypeError, ValueError):
            raise InputError("time values are not numbers", file=file, field="time") from None
        if t.ndim != 1:
            raise InputError(f"time has shape {t.shape}", file=file, field="time", expected="a 1-D vector")
        if not np.all(np.isfinite(t)):
            bad = int(np.flatnonzero(~np.isfinite(t))[0])
            raise InputError(f"time is not finite at sample {bad}", file=file, field="time")
        if t.size > 1:
            steps = np.diff(t)
            if np.any(steps <= 0):
                bad = int(np.flatnonzero(steps <= 0)[0])
                raise InputError(f"time is not strictly increasing at sample {bad + 1} "
                                 f"({t[bad]!r} then {t[bad + 1]!r})", file=file, field="time",
                                 expected="monotonically increasing time in seconds")
        self.time = t
        data = dict(self.data)
        self.data = {}
        units = dict(self.units)
        for name, values in data.items():
            self.add_channel(name, values, units.get(name), self.source_units.get(name))

    # -- channels -----------------------------------------------------------------------------------------
    def add_channel(self, name: str, values, unit: str | None, source_unit: str | None = None) -> None:
        """Add or replace a channel; ``unit`` must be one of ``KNOWN_UNITS``."""
        file = self.meta.get("file")
        if unit is None:
            raise InputError("channel has no unit", file=file, field=name, expected="an SI unit string")
        if unit not in KNOWN_UNITS:
            raise InputError(f"unknown unit {unit!r}", file=file, field=name,
                             expected=f"one of {sorted(KNOWN_UNITS)}")
        arr = np.asarray(values)
        if arr.dtype != bool:
            try:
                arr = arr.astype(float)
            except (TypeError, ValueError):
                raise InputError("values are not numbers", file=file, field=name) from None
        if arr.ndim == 0 or arr.shape[0] != self.time.size:
            raise InputError(f"has {arr.shape[0] if arr.ndim else 0} samples but time has {self.time.size}",
                             file=file, field=name, expected="one value per time sample")
        self.data[name] = arr
        self.units[name] = unit
        if source_unit is not None:
            self.source_units[name] = source_unit

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.data[name]
        except KeyError:
            raise InputError(f"no channel named {name!r}", file=self.meta.get("file"), field=name,
                             expected=f"one of {sorted(self.data)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.data

    @property
    def channels(self) -> list[str]:
        return list(self.data)

    @property
    def n_samples(self) -> int:
        return int(self.time.size)

    @property
    def duration(self) -> float:
        return float(self.time[-1] - self.time[0]) if self.time.size else 0.0

    # -- sampling -----------------------------------------------------------------------------------------
    def sampling_rate(self, rtol: float = 1e-3) -> float:
        """Sampling rate in Hz; raises InputError when samples are not evenly spaced within ``rtol``."""
        if self.time.size < 2:
            raise InputError("fewer than 2 samples: no sampling rate", file=self.meta.get("file"), field="time")
        steps = np.diff(self.time)
        dt = float(np.median(steps))
        if np.max(np.abs(steps - dt)) > rtol * dt:
            raise InputError("samples are not evenly spaced (variable rate)", file=self.meta.get("file"),
                             field="time", expected="a constant sampling interval; resample first")
        return 1.0 / dt

    @property
    def fs(self) -> float:
        return self.sampling_rate()

    def window(self, start: float | None = None, end: float | None = None, *, relative: bool = True
               ) -> "TimeSeries":
        """Samples with ``start <= t < end`` (half-open); times relative to the first sample by default."""
        t0 = self.time[0] if (relative and self.time.size) else 0.0
        lo = -np.inf if start is None else t0 + start
        hi = np.inf if end is None else t0 + end
        # A tiny tolerance so that t0 + 40.0 includes the sample stamped 40.000000001 by float rounding.
        eps = 1e-9 * max(1.0, abs(t0) + (abs(end) if end is not None else 0.0))
        keep = (self.time >= lo - eps) & (self.time < hi - eps)
        if not np.any(keep):
            raise InputError(f"window [{start}, {end}) s holds no samples (data span "
                             f"{self.time[0] - t0:.3f}..{self.time[-1] - t0:.3f} s)",
                             file=self.meta.get("file"), field="window")
        out = TimeSeries(self.time[keep], {k: v[keep] for k, v in self.data.items()}, dict(self.units),
                         dict(self.source_units), [e for e in self.events if lo - eps <= e.time < hi - eps],
                         _copy.deepcopy(self.meta))
        return out

    def select(self, names) -> "TimeSeries":
        names = [names] if isinstance(names, str) else list(names)
        return TimeSeries(self.time.copy(), {n: self[n].copy() for n in names},
                          {n: self.units[n] for n in names},
                          {n: self.source_units[n] for n in names if n in self.source_units},
                          list(self.events), _copy.deepcopy(self.meta))

    def copy(self) -> "TimeSeries":
        return _copy.deepcopy(self)

    # -- events -------------------------------------------------------------------------------------------
    def add_event(self, name: str, time: float, context: str = "", source: str = "") -> None:
        self.events.append(Event(name, float(time), context, source))
        self.events.sort(key=lambda e: e.time)

    def get_events(self, name: str | None = None, context: str | None = None) -> list[Event]:
        return [e for e in self.events
                if (name is None or e.name == name) and (context is None or e.context == context)]

    # -- export -------------------------------------------------------------------------------------------
    def to_dataframe(self):
        """A pandas DataFrame indexed by time; multi-column channels become ``name[0]``, ``name[1]``, ..."""
        import pandas as pd

        cols = {}
        for name, arr in self.data.items():
            if arr.ndim == 1:
                cols[name] = arr
            else:
                flat = arr.reshape(arr.shape[0], -1)
                for j in range(flat.shape[1]):
                    cols[f"{name}[{j}]"] = flat[:, j]
        return pd.DataFrame(cols, index=pd.Index(self.time, name="time_s"))

    def __repr__(self) -> str:
        chans = ", ".join(f"{k} [{self.units[k]}]" for k in list(self.data)[:6])
        more = f", +{len(self.data) - 6} more" if len(self.data) > 6 else ""
        return (f"TimeSeries(n={self.time.size}, t={self.time[0] if self.time.size else 0:.3f}.."
                f"{self.time[-1] if self.time.size else 0:.3f} s, channels=[{chans}{more}], "
                f"events={len(self.events)})")
