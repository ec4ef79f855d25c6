"""A gold-standard recording: markers, force plates, analog channels and events from one trial.

Every reader in ``ground_truth`` returns a :class:`Recording`, in SI units and the lab frame of the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .kernel import Event, InputError, TimeSeries

#: Default vertical-force threshold below which a plate counts as unloaded and its COP is masked to NaN.
DEFAULT_FZ_THRESHOLD_N = 20.0


@dataclass
class ForcePlate:
    """One force plate.

    ``signals`` holds ``force`` (n, 3) N and ``cop`` (n, 3) m in the lab frame, optionally ``moment``
    (n, 3) N*m and ``free_moment`` (n, 3) N*m, and ``loaded`` (n,) bool: vertical force at or above
    ``threshold_n``. COP is NaN where the plate is not loaded.
    """

    index: int
    signals: TimeSeries
    type: int | None = None
    corners: np.ndarray | None = None   # (4, 3) m, lab frame
    origin: np.ndarray | None = None    # (3,) m, plate frame
    threshold_n: float = DEFAULT_FZ_THRESHOLD_N
    name: str = ""

    @property
    def force(self) -> np.ndarray:
        return self.signals["force"]

    @property
    def cop(self) -> np.ndarray:
        return self.signals["cop"]

    @property
    def loaded(self) -> np.ndarray:
        return self.signals["loaded"]


@dataclass
class Recording:
    """A trial read from a gold-standard file.

    Attributes
    ----------
    path : str
        The file it was read from.
    markers : TimeSeries or None
        One (n, 3) channel per marker, metres, NaN in gaps.
    plates : list of ForcePlate
    analogs : TimeSeries or None
        Raw analog channels, converted to SI where the unit is known.
    events : list of Event
    vertical_axis : int
        Index (0, 1, 2) of the lab's vertical axis; 2 (z up) for C3D, 1 for y-up exports (PDS, OpenSim).
    meta : dict
        Provenance: format, sha256, units as found in the file, sampling rates, vendor notes.
    """

    path: str
    markers: TimeSeries | None = None
    plates: list[ForcePlate] = field(default_factory=list)
    analogs: TimeSeries | None = None
    events: list[Event] = field(default_factory=list)
    vertical_axis: int = 2
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def horizontal_axes(self) -> tuple[int, int]:
        return tuple(i for i in range(3) if i != self.vertical_axis)  # type: ignore[return-value]

    def plate(self, which: int | str = "net") -> TimeSeries:
        """COP and force of one plate (0-based index) or of all plates together (``"net"``).

        The net COP is the vertical-force-weighted mean of the loaded plates' COP; the net force is their sum.
        Frames where no plate is loaded have NaN COP.
        """
        if not self.plates:
            why = self.meta.get("plates_note")
            raise InputError("recording has no force plates" + (f" ({why})" if why else ""), file=self.path,
                             field="plates", expected="a file with force-plate data")
        if which == "net":
            return net_plate(self.plates, self.vertical_axis, file=self.path)
        if isinstance(which, str):
            try:
                which = int(which)
            except ValueError:
                raise InputError(f"unknown plate {which!r}", file=self.path, field="plate",
                                 expected=f"'net' or an index 0..{len(self.plates) - 1}") from None
        if not 0 <= which < len(self.plates):
            raise InputError(f"no plate {which}", file=self.path, field="plate",
                             expected=f"'net' or an index 0..{len(self.plates) - 1}")
        return self.plates[which].signals

    def horizontal_cop(self, which: int | str = "net") -> tuple[np.ndarray, np.ndarray]:
        """``(time, cop)`` with cop of shape (n, 2) in metres on the two horizontal lab axes."""
        ts = self.plate(which)
        a, b = self.horizontal_axes
        return ts.time, ts["cop"][:, [a, b]]


def net_plate(plates: list[ForcePlate], vertical_axis: int = 2, *, file=None) -> TimeSeries:
    """Combine plates sampled on one clock into net force and vertical-force-weighted COP."""
    first = plates[0].signals
    for p in plates[1:]:
        if p.signals.n_samples != first.n_samples or not np.allclose(p.signals.time, first.time):
            raise InputError("plates are not sampled on the same clock", file=file, field="plates")
    force = np.sum([p.force for p in plates], axis=0)
    fv = np.stack([np.where(p.loaded, np.abs(p.force[:, vertical_axis]), 0.0) for p in plates])  # (P, n)
    cops = np.stack([np.where(p.loaded[:, None], p.cop, 0.0) for p in plates])  # (P, n, 3)
    total = fv.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cop = np.einsum("pn,pnk->nk", fv, cops) / total[:, None]
    loaded = np.any([p.loaded for p in plates], axis=0)
    cop[~loaded] = np.nan
    meta = {"method": "net COP: vertical-force-weighted mean of loaded plates", "plates": [p.index for p in plates]}
    if file is not None:
        meta["file"] = str(file)
    return TimeSeries(first.time.copy(), {"force": force, "cop": cop, "loaded": loaded},
                      {"force": "N", "cop": "m", "loaded": "bool"}, meta=meta)
