"""What each side of a trial observed: named signals (each a :class:`~ground_truth.kernel.TimeSeries` with its
unit and source, on that side's own clock), foot events and the side's own direct KPI inputs.

The reference side is built by :mod:`harness.pipeline.reference`, the candidate side by
:mod:`harness.pipeline.candidate`; every later stage reads them and never changes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ground_truth.kernel import Event, StancebenchError, TimeSeries
from ground_truth.sway.pendulum import estimate_cop_from_com
from harness import align


@dataclass
class FirstStep:
    """Bipedal protocols: the first time either foot left the floor (own clock) and what saw it."""

    time_s: float
    what: str


@dataclass
class Side:
    """Signals of one side of a trial on that side's own clock.

    ``unavailable`` says, per signal or KPI name, why it could not be computed on this side; ``events`` are the
    foot events (``event_source`` says what found them), ``span`` the first and last sample time.
    """

    role: str                                    # "reference" or "candidate"
    signals: dict[str, TimeSeries] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    event_source: str = "none"
    span: tuple[float, float] | None = None
    step: FirstStep | None = None                # bipedal protocols only
    step_source: str = ""

    def add(self, name: str, t, values, unit: str, source: str) -> None:
        """Store one signal as a single-channel TimeSeries named ``name``."""
        self.signals[name] = TimeSeries(np.asarray(t, float), {name: np.asarray(values, float)}, {name: unit},
                                        meta={"method": source})

    def has(self, name: str) -> bool:
        return name in self.signals

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(time_s, values)`` of a signal."""
        ts = self.signals[name]
        return ts.time, ts[name]

    def source(self, name: str) -> str:
        return self.signals[name].meta["method"]

    def first_event(self, name: str) -> float | None:
        """Time of the first event called ``name`` in the order found, or None."""
        return next((float(e.time) for e in self.events if e.name == name), None)


@dataclass
class ReferenceSide(Side):
    """The gold standard: plates and markers of one recording.

    ``kinematic_events`` are foot events of the markers (the definition the keypoints use; alignment),
    ``axes`` names the lab's two horizontal axes, ``markers`` the z-up markers (None without markers).
    """

    kinematic_events: list[Event] | None = None
    axes: tuple[str, str] = ("ap", "ml")
    markers: TimeSeries | None = None
    recording: Any = None


@dataclass
class CandidateSide(Side):
    """Keypoints of one candidate on one video, and what was derived from them.

    ``observable_axis`` is the horizontal sway axis the camera sees and ``horizontal_dir`` its lab direction
    (with a calibration); None for a triangulated side, which observes both (its ``com_xy`` signal);
    ``inference`` what the run reported (frames, detection rate, cache hit, ms/frame), ``identity`` the
    backbone's identity. A triangulated side has no 2-D ``track``: its ``angles`` (joint angles of the 3-D
    keypoints, the gold standard's definitions) and ``events`` are on the reference clock, and ``views`` holds
    each camera's alignment and triangulation quality.
    """

    track: Any = None
    camera: Any = None
    observable_axis: str | None = None
    horizontal_dir: list[float] | None = None
    inference: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)
    angles: TimeSeries | None = None
    views: list[dict[str, Any]] = field(default_factory=list)
    triangulated: bool = False


def add_derived_alignment_signals(side: Side, points: tuple[np.ndarray, np.ndarray] | None, what: str,
                                  mass_kg: float | None = None) -> None:
    """Alignment signals derived from a side's own (``harness.align``): the velocity of the vertical COM, the
    vertical GRF that the COM's acceleration implies (``mass_kg`` given: the candidate side, whose plates are
    the keypoints) and the motion energy of ``points`` (time, (n, k, d))."""
    if side.has("com_vertical"):
        t, z = side.series("com_vertical")
        src = side.source("com_vertical")
        try:
            side.add("com_vertical_velocity", t, align.vertical_velocity(t, z), "m/s", src + ", velocity")
            if mass_kg is not None:
                side.add("grf_vertical", t, align.com_vertical_force(t, z, mass_kg), "N",
                         f"body mass x (vertical COM acceleration + g), {src}")
        except StancebenchError as exc:
            side.unavailable["com_vertical_velocity"] = side.unavailable["grf_vertical"] = str(exc)
    if points is not None:
        try:
            side.add("motion_energy", points[0], align.motion_energy(*points), "1", f"motion energy of the {what}")
        except StancebenchError as exc:
            side.unavailable["motion_energy"] = str(exc)


def add_cop_estimate(side: CandidateSide, t: np.ndarray, com_xyz: np.ndarray, what: str, *,
                     axis_only: bool = False) -> None:
    """The side's ``cop_estimate`` signal: the inverted-pendulum COP estimate from its COM
    (:func:`ground_truth.sway.pendulum.estimate_cop_from_com`), 2-D, or the first horizontal component only
    when ``axis_only`` (one camera: ``com_xyz`` holds the observed component in x)."""
    try:
        est = estimate_cop_from_com(t, com_xyz)
    except StancebenchError as exc:
        side.unavailable["cop_estimate"] = f"COP estimate from {what}: {exc}"
        return
    values = est.cop_xy[:, 0] if axis_only else est.cop_xy
    side.add("cop_estimate", est.time_s, values, "m", f"ESTIMATE, not a measured COP: {est.method}, from {what}")
