"""Stage 1, the reference side: read the gold-standard recording and derive what the KPIs and the clock
alignment need (plate COP and vertical GRF, marker COM, the lifted ankle's height, foot events, motion energy).

Only ground-floor code runs here (``ground_truth``): the gold-standard path never touches candidate code.
"""
from __future__ import annotations

from pathlib import Path

from ground_truth import com as com_mod
from ground_truth import events as ev
from ground_truth.kernel import StancebenchError
from ground_truth.markersets import (ANKLE_MARKERS, FOOT_MARKERS, find_marker, foot_points, marker_points,
                                     markers_z_up, other_side)
from ground_truth.readers import read_recording

from .sides import FirstStep, ReferenceSide, add_derived_alignment_signals


def build_reference_side(trial: dict, subject: dict, *, bipedal: bool) -> ReferenceSide:
    """Read ``trial["gold_standard"][0]`` and derive the reference side's signals (reference clock)."""
    path = trial["gold_standard"][0]
    rec = read_recording(path)
    side = ReferenceSide("reference", recording=rec)
    spans = []
    if rec.plates:
        net = rec.plate("net")       # combined once: COP and vertical GRF both come from it
        side.add("cop", net.time, net["cop"][:, list(rec.horizontal_axes)], "m",
                 f"force plate net COP ({len(rec.plates)} plate(s)) from {Path(path).name}")
        side.add("grf_vertical", net.time, net["force"][:, rec.vertical_axis], "N", "net vertical GRF")
        spans.append((float(net.time[0]), float(net.time[-1])))
    if rec.markers is not None:
        side.markers = markers_z_up(rec.markers, rec.vertical_axis)
        spans.append((float(rec.markers.time[0]), float(rec.markers.time[-1])))
    _plate_events(side, rec)
    if rec.markers is not None:
        _lifted_ankle(side, trial)
        _marker_foot_events(side, trial)
    _com(side, rec, subject)
    points = None if side.markers is None else marker_points(rec.markers)
    add_derived_alignment_signals(side, None if points is None else (rec.markers.time, points), "markers")
    side.span = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    if bipedal:
        _first_step(side, rec)
    return side


def _plate_events(side: ReferenceSide, rec) -> None:
    """Foot events of two plates (stance and lifted foot), else the events stored in the file."""
    if len(rec.plates) >= 2:
        try:
            side.events = ev.plate_events_from_recording(rec)
            side.event_source = "force plates (ground_truth.events.plate_events_from_recording)"
        except StancebenchError as exc:      # fall back on the file's own events, keep the reason
            side.unavailable["events"] = f"plate events: {exc}"
    if not any(e.name == "foot_lift" for e in side.events) and rec.events:
        side.events = list(rec.events)
        side.event_source = "events stored in the gold-standard file"


def _lifted_ankle(side: ReferenceSide, trial: dict) -> None:
    """Height of the lifted foot's ankle marker (an alignment signal: the foot lift is sharp on both sides)."""
    name = find_marker(side.markers, ANKLE_MARKERS[other_side(trial["stance_leg"])])
    if name is not None:
        side.add("free_ankle_vertical", side.markers.time, side.markers[name][:, 2], "m",
                 f"marker {name} height (lifted foot)")


def _marker_foot_events(side: ReferenceSide, trial: dict) -> None:
    """Foot events of the markers (``ground_truth.events.marker_events``): the same kinematic definition as
    the keypoints' events, for event-based clock alignment."""
    free = other_side(trial["stance_leg"])
    lifted, stance = foot_points(side.markers, free), foot_points(side.markers, trial["stance_leg"])
    if lifted is None:
        side.unavailable["kinematic_events"] = f"no {free} foot markers ({', '.join(FOOT_MARKERS[free])})"
        return
    try:
        side.kinematic_events = ev.marker_events(side.markers.time, lifted, stance)
    except StancebenchError as exc:
        side.unavailable["kinematic_events"] = f"marker foot events: {exc}"


def sex_of(subject: dict) -> str:
    """The de Leva column of a subject ('female' for f/female, else 'male')."""
    return "female" if str(subject.get("sex") or "").lower() in ("f", "female") else "male"


def _com(side: ReferenceSide, rec, subject: dict) -> None:
    """Whole-body COM of the gold standard: markers (segmental model) first, else force plates (horizontal)."""
    if side.markers is not None:
        try:
            ts = com_mod.com_from_markers(side.markers, sex_of(subject))
        except StancebenchError as exc:      # fall back on the plates, keep the reason
            side.unavailable["com"] = f"COM from markers: {exc}"
        else:
            com = ts["com"]
            method = ts.meta.get("method", "com_from_markers")
            side.add("com_xyz", ts.time, com, "m", method)
            side.add("com", ts.time, com[:, :2], "m", method)
            side.add("com_vertical", ts.time, com[:, 2], "m", method)
            side.axes = ("ap", "ml")   # z-up lab frame: x anterior, y left (C3D labs; the synthetic lab)
            return
    if rec.plates:
        try:
            ts = com_mod.com_from_plates(rec, subject["mass_kg"], height_m=subject["height_m"])
        except StancebenchError as exc:
            side.unavailable["com"] = (side.unavailable.get("com", "") + f"; COM from plates: {exc}").lstrip("; ")
        else:
            side.add("com", ts.time, ts["com"], "m", ts.meta.get("method", "com_from_plates"))
            side.unavailable.pop("com", None)


def _first_step(side: ReferenceSide, rec) -> None:
    """Bipedal trials: the first time either foot leaves the floor (a step), from the plates (each plate taken
    in turn as the lifted foot's) or else the foot markers."""
    found = []
    if len(rec.plates) >= 2:
        v = rec.vertical_axis
        fz = [p.force[:, v] for p in rec.plates[:2]]
        t = rec.plates[0].signals.time
        for a, b in ((0, 1), (1, 0)):
            found += [(e.time, f"force plate {b} unloaded (threshold {rec.plates[0].threshold_n:g} N)")
                      for e in ev.plate_events(t, fz[a], fz[b], threshold_n=rec.plates[0].threshold_n)
                      if e.name == "foot_lift"]
        side.step_source = "force plates (either foot's plate unloads)"
    elif side.markers is not None:
        for leg in ("left", "right"):
            pts = foot_points(side.markers, leg)
            if pts is not None:
                found += [(e.time, f"{leg} foot markers rise") for e in ev.marker_events(side.markers.time, pts)
                          if e.name == "foot_lift"]
        side.step_source = "foot markers (either foot rises)"
    else:
        side.unavailable["time_to_failure"] = "no second force plate and no markers: a step cannot be seen"
        return
    side.step = FirstStep(*min(found)) if found else None
