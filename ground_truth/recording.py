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

#: Analog channel in which a reader keeps the file's own net COP (n, 3) m, e.g. the PDS ``COPNET`` columns.
#: When present, ``Recording.plate("net")`` uses it instead of the recomputed one; the reader that stores it
#: also checks it against the per-plate columns and records the check in ``Recording.meta["file_net_cop"]``.
FILE_NET_COP = "file_net_cop"

#: How the recomputed net COP is described to users (CLI output, provenance).
RECOMPUTED_NET_COP = ("recomputed from the per-plate forces and COP (vertical-force-weighted mean of the loaded "
                      "plates)")


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

        The net force is the plates' sum. The net COP is the file's own net COP when the reader kept one
        (analog channel :data:`FILE_NET_COP`, e.g. the PDS ``COPNET`` columns, which reproduce the data set's
        published metrics), else the vertical-force-weighted mean of the loaded plates' COP. Either way frames
        where no plate is loaded have NaN COP, and ``meta["net_cop"]`` is :meth:`net_cop_provenance`.
        """
        if not self.plates:
            why = self.meta.get("plates_note")
            raise InputError("recording has no force plates" + (f" ({why})" if why else ""), file=self.path,
                             field="plates", expected="a file with force-plate data")
        if which == "net":
            net = net_plate(self.plates, self.vertical_axis, file=self.path)
            if self._has_file_net_cop():
                # The file's net COP replaces the recomputed one; the mask stays "no plate loaded", as for the
                # recomputed COP, so that both sources cover the same frames.
                cop = np.array(self.analogs[FILE_NET_COP], dtype=float)
                cop[~net["loaded"]] = np.nan
                net.add_channel("cop", cop, "m")
                net.meta["method"] = "net COP: the file's own net COP columns"
            net.meta["net_cop"] = self.net_cop_provenance()
            return net
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

    def _has_file_net_cop(self) -> bool:
        return self.analogs is not None and FILE_NET_COP in self.analogs

    def net_cop_provenance(self) -> dict[str, Any]:
        """Where ``plate("net")`` takes its COP from, for reports and the CLI.

        Returns
        -------
        dict
            ``source``: ``"file"`` or ``"recomputed"``; ``description``: one line for people. With the file's
            net COP, also what the reader recorded in ``Recording.meta["file_net_cop"]`` when it checked that
            COP against the one recomputed from the per-plate columns (for PDS: ``columns``,
            ``max_abs_diff_mm``, ``tolerance_mm``, ``tolerance_basis``).
        """
        if not self._has_file_net_cop():
            return {"source": "recomputed", "description": RECOMPUTED_NET_COP}
        return {"source": "file", "description": "the file's own net COP columns",
                **self.meta.get("file_net_cop", {})}

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
