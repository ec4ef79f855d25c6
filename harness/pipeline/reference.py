"""Stage 1, the reference side: read the gold-standard recording and derive what the KPIs and the clock
alignment need (plate COP and vertical GRF, marker COM, the lifted ankle's height, foot events, motion energy).

The markers go through the recording's marker-set mapping (:mod:`ground_truth.marker_mapping`: the trial's
``marker_map`` when given, else the built-in set the marker names match), the same mapping the renderer and the
joint angles use; the mapping is recorded in ``side.markers.meta["marker_map"]`` so that every later stage reads
the markers the same way.

Only ground-floor code runs here (``ground_truth``): the gold-standard path never touches candidate code.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ground_truth import com as com_mod
from ground_truth import events as ev
from ground_truth.kernel import Event, StancebenchError
from ground_truth.marker_mapping import MappedJoints, map_markers, pelvis_heading_deg
from ground_truth.markersets import (ANKLE_MARKERS, FOOT_MARKERS, find_marker, foot_points, marker_points,
                                     markers_z_up, other_side, to_z_up)
from ground_truth.readers import read_recording

from .sides import FirstStep, ReferenceSide, add_derived_alignment_signals

#: Landmarks of a foot used for the kinematic foot events (the lowest of them is the foot's height).
FOOT_LANDMARKS = ("ankle_lateral", "heel", "toe")
#: A recording "starts in single-leg stance" when, over its first :data:`START_S` seconds, the lifted foot's
#: lowest landmark is this much higher than the stance foot's (the lift happened before the recording began;
#: the 2-cm lift threshold of ``ground_truth.events.marker_events``).
STARTS_LIFTED_M = 0.02
START_S = 0.5


def build_reference_side(trial: dict, subject: dict, *, bipedal: bool) -> ReferenceSide:
    """Read ``trial["gold_standard"][0]`` and derive the reference side's signals (reference clock).

    ``trial["marker_map"]`` (optional) names the marker-set mapping: a TOML path or a built-in name
    (docs/marker-sets.md); without it the mapping is detected from the marker names.
    """
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
    mapped = None
    if rec.markers is not None:
        side.markers = markers_z_up(rec.markers, rec.vertical_axis)
        spans.append((float(rec.markers.time[0]), float(rec.markers.time[-1])))
        mapped = _map_markers(side, trial, path)
    starts_lifted = None if mapped is None or bipedal else _starts_lifted(side, mapped, trial)
    _plate_events(side, rec, mapped, trial, starts_lifted, bipedal=bipedal)
    if rec.markers is not None:
        _lifted_ankle(side, trial, mapped)
        _marker_foot_events(side, trial, mapped, starts_lifted)
    _com(side, rec, subject, mapped)
    points = None if side.markers is None else marker_points(rec.markers)
    add_derived_alignment_signals(side, None if points is None else (rec.markers.time, points), "markers")
    side.span = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    if bipedal:
        _first_step(side, rec)
    return side


def _map_markers(side: ReferenceSide, trial: dict, path) -> MappedJoints | None:
    """Joint centres of the markers under the trial's (or the detected) mapping; None, with the reason, when
    no mapping fits (the markers' own names then serve the foot signals, as before mappings existed)."""
    try:
        mapped = map_markers(side.markers, trial.get("marker_map"), file=path)
    except StancebenchError as exc:
        side.unavailable["joints"] = f"marker-set mapping: {exc}"
        return None
    # later stages (joint angles, reach) read the markers through the same mapping
    side.markers.meta["marker_map"] = mapped.mapping.source
    return mapped


def _starts_lifted(side: ReferenceSide, mapped: MappedJoints, trial: dict) -> float | None:
    """How much higher (m) the lifted foot is than the stance foot over the first :data:`START_S` s, when
    that exceeds :data:`STARTS_LIFTED_M` (the recording starts in single-leg stance), else None."""
    free, stance = other_side(trial["stance_leg"]), trial["stance_leg"]
    lifted, planted = mapped.landmark_points(free, FOOT_LANDMARKS), mapped.landmark_points(stance, FOOT_LANDMARKS)
    if lifted is None or planted is None:
        return None
    t = side.markers.time
    first = t <= t[0] + START_S
    with np.errstate(invalid="ignore"):
        dz = np.nanmedian(np.nanmin(lifted[first, :, 2], axis=1) - np.nanmin(planted[first, :, 2], axis=1))
    return float(dz) if np.isfinite(dz) and dz > STARTS_LIFTED_M else None


def _plate_events(side: ReferenceSide, rec, mapped: MappedJoints | None, trial: dict,
                  starts_lifted: float | None, *, bipedal: bool) -> None:
    """Foot events of the plates (one plate under each foot), of the markers when both feet stand on one
    plate, else the events stored in the file.

    Which plate is under which foot comes from the foot markers over the first :data:`START_S` s and the
    plates' corners. A recording that starts in single-leg stance (the stance plate alone carries the body from
    the first sample, or the markers say the lifted foot is already up) has no foot lift: its touch-down is the
    first loading of another plate, and the time-to-failure cannot be timed (stated, not guessed)."""
    under = None if mapped is None or bipedal else _plates_under_feet(rec, side.markers.time, mapped, trial)
    shared = under is not None and under[0] is not None and under[0] == under[1]
    if len(rec.plates) >= 2 and not shared:
        try:
            side.events = ev.plate_events_from_recording(rec)
            side.event_source = "force plates (ground_truth.events.plate_events_from_recording)"
        except StancebenchError as exc:      # fall back on the file's own events, keep the reason
            side.unavailable["events"] = f"plate events: {exc}"
    if not any(e.name == "foot_lift" for e in side.events) and rec.plates and not bipedal:
        # one plate under both feet cannot tell single-leg from bipedal stance: two plates, or the markers
        single = _single_leg_from_start(rec) if len(rec.plates) >= 2 and not shared else None
        if single is not None or starts_lifted is not None:
            _left_truncated_stance(side, rec, single, starts_lifted)
            return
    if shared:
        # the plate sums both feet: the markers' foot events (the keypoints' definition) are the reference's
        side.unavailable.pop("events", None)
        side.event_source = (f"foot markers (ground_truth.events.marker_events): both feet stand on force plate "
                             f"{under[0]}, which cannot tell them apart")
        side.events = []        # filled by _marker_foot_events
        return
    if not any(e.name == "foot_lift" for e in side.events) and rec.events:
        side.events = list(rec.events)
        side.event_source = "events stored in the gold-standard file"


def _plates_under_feet(rec, time: np.ndarray, mapped: MappedJoints, trial: dict
                       ) -> tuple[int | None, int | None] | None:
    """Indices of the plates under the stance and the lifted foot (the mean of the foot's landmarks over the
    first :data:`START_S` s, inside the plate's corners), None for a foot over no plate; None when a plate has
    no corners or a foot no landmark."""
    if not rec.plates or any(p.corners is None for p in rec.plates):
        return None
    first = time <= time[0] + START_S
    out = []
    for leg in (trial["stance_leg"], other_side(trial["stance_leg"])):
        pts = mapped.landmark_points(leg, FOOT_LANDMARKS)
        if pts is None:
            return None
        with np.errstate(invalid="ignore"):
            xy = np.nanmean(np.nanmedian(pts[first], axis=0), axis=0)[:2]
        out.append(next((p.index for p in rec.plates
                         if _inside(xy, to_z_up(p.corners, rec.vertical_axis)[:, :2])), None))
    return out[0], out[1]


def _inside(xy: np.ndarray, corners: np.ndarray) -> bool:
    """Whether a horizontal point lies inside a convex quadrilateral (corners in order, either winding)."""
    if not np.all(np.isfinite(xy)):
        return False
    d = np.roll(corners, -1, axis=0) - corners
    r = xy - corners
    cross = d[:, 0] * r[:, 1] - d[:, 1] * r[:, 0]
    return bool(np.all(cross >= 0) or np.all(cross <= 0))


#: The stance plate carries at least this fraction of its median load over the first samples for a recording
#: to start in single-leg stance on the plates.
_START_LOAD_FRACTION = 0.8


def _single_leg_from_start(rec) -> int | None:
    """Index of the plate that alone carries the body from the recording's start (every other plate
    unloaded over the first :data:`START_S` s), else None."""
    v = rec.vertical_axis
    t = rec.plates[0].signals.time
    first = t <= t[0] + START_S
    loaded = [bool(np.all(p.loaded[first])) for p in rec.plates]
    unloaded = [not np.any(p.loaded[first]) for p in rec.plates]
    for i, p in enumerate(rec.plates):
        fz = p.force[:, v]
        if loaded[i] and all(unloaded[j] for j in range(len(rec.plates)) if j != i) and \
                np.nanmedian(fz[first]) >= _START_LOAD_FRACTION * np.nanmedian(fz[p.loaded]):
            return i
    return None


def _left_truncated_stance(side: ReferenceSide, rec, stance_plate: int | None, lifted_m: float | None) -> None:
    """Events of a recording that starts in single-leg stance: touch-down when another plate takes load."""
    how = []
    if stance_plate is not None:
        how.append(f"force plate {stance_plate} alone carries the body from the first sample")
    if lifted_m is not None:
        how.append(f"the lifted foot is {lifted_m * 1000:.0f} mm above the stance foot at the start (markers)")
    side.events = []
    side.unavailable.pop("events", None)      # the reason below replaces "no other plate is ever loaded"
    side.event_source = (("force plates" if stance_plate is not None else "foot markers")
                         + ": the recording starts in single-leg stance (" + "; ".join(how) + ")")
    if stance_plate is not None:
        t = rec.plates[0].signals.time
        dt = float(np.median(np.diff(t)))
        k = max(1, int(round(0.05 / dt)))        # the 50-ms debounce of ground_truth.events.plate_events
        for j, p in enumerate(rec.plates):
            if j == stance_plate:
                continue
            on = np.convolve(p.loaded.astype(int), np.ones(k, int), "valid") == k   # loaded for k samples
            idx = np.flatnonzero(on)
            if idx.size:
                side.events.append(Event("touch_down", float(t[idx[0]]), "",
                                         f"force plate {j} >= {p.threshold_n:g} N: the lifted foot touches down"))
        side.events.sort(key=lambda e: e.time)
    td = next((e.time for e in side.events if e.name == "touch_down"), None)
    side.unavailable["time_to_failure"] = (
        "the recording starts in single-leg stance (" + "; ".join(how) + "): the foot lift precedes it, so the "
        "time-to-failure cannot be timed" + (f" (touch-down at {td:.2f} s)" if td is not None else
                                             " (no touch-down before the recording ends)"))


def _lifted_ankle(side: ReferenceSide, trial: dict, mapped: MappedJoints | None) -> None:
    """Height of the lifted foot's ankle marker (an alignment signal: the foot lift is sharp on both sides)."""
    free = other_side(trial["stance_leg"])
    if mapped is not None and mapped.landmark(f"{free}_ankle_lateral") is not None:
        name = mapped.landmarks[f"{free}_ankle_lateral"]
    else:
        name = find_marker(side.markers, ANKLE_MARKERS[free])
    if name is not None:
        side.add("free_ankle_vertical", side.markers.time, side.markers[name][:, 2], "m",
                 f"marker {name} height (lifted foot)")
    elif mapped is not None and f"{free}_ankle" in mapped.joints:
        side.add("free_ankle_vertical", side.markers.time, mapped.joints[f"{free}_ankle"][:, 2], "m",
                 f"{free} ankle centre height (lifted foot; {mapped.used[f'{free}_ankle']})")


def _marker_foot_events(side: ReferenceSide, trial: dict, mapped: MappedJoints | None,
                        starts_lifted: float | None) -> None:
    """Foot events of the markers (``ground_truth.events.marker_events``): the same kinematic definition as
    the keypoints' events, for event-based clock alignment."""
    free = other_side(trial["stance_leg"])
    if starts_lifted is not None and "starts in single-leg stance" in side.event_source:
        # marker_events takes the first 0.5 s as the standing baseline of the lifted foot: here it is already up
        side.unavailable["kinematic_events"] = (f"the recording starts in single-leg stance (lifted foot "
                                                f"{starts_lifted * 1000:.0f} mm up): no standing baseline")
        return
    if mapped is not None:
        lifted = mapped.landmark_points(free, FOOT_LANDMARKS)
        stance = mapped.landmark_points(trial["stance_leg"], FOOT_LANDMARKS)
    else:
        lifted, stance = foot_points(side.markers, free), foot_points(side.markers, trial["stance_leg"])
    if lifted is None:
        side.unavailable["kinematic_events"] = f"no {free} foot markers ({', '.join(FOOT_MARKERS[free])})"
        return
    try:
        side.kinematic_events = ev.marker_events(side.markers.time, lifted, stance)
    except StancebenchError as exc:
        side.unavailable["kinematic_events"] = f"marker foot events: {exc}"
        if side.event_source.startswith("foot markers"):
            side.unavailable["events"] = side.unavailable["kinematic_events"]
        return
    if side.event_source.startswith("foot markers"):      # both feet on one plate: the markers' events rule
        side.events = list(side.kinematic_events)


def sex_of(subject: dict) -> str:
    """The de Leva column of a subject ('female' for f/female, else 'male')."""
    return "female" if str(subject.get("sex") or "").lower() in ("f", "female") else "male"


def _com(side: ReferenceSide, rec, subject: dict, mapped: MappedJoints | None) -> None:
    """Whole-body COM of the gold standard: markers (segmental model) first, else force plates (horizontal)."""
    if side.markers is not None and mapped is not None:
        try:
            ts = com_mod.com_from_markers(side.markers, sex_of(subject), mapping=mapped.mapping)
        except StancebenchError as exc:      # fall back on the plates, keep the reason
            side.unavailable["com"] = f"COM from markers: {exc}"
        else:
            com = ts["com"]
            method = ts.meta.get("method", "com_from_markers")
            side.axes, note = _body_axes(mapped)
            side.add("com_xyz", ts.time, com, "m", method)
            side.add("com", ts.time, com[:, :2], "m", method + note)
            side.add("com_vertical", ts.time, com[:, 2], "m", method)
            if note and side.has("cop"):
                t, cop = side.series("cop")
                side.add("cop", t, cop, "m", side.source("cop") + note)
            return
    elif side.markers is not None:
        side.unavailable["com"] = f"COM from markers: {side.unavailable.get('joints', 'no marker-set mapping')}"
    if rec.plates:
        try:
            ts = com_mod.com_from_plates(rec, subject["mass_kg"], height_m=subject["height_m"])
        except StancebenchError as exc:
            side.unavailable["com"] = (side.unavailable.get("com", "") + f"; COM from plates: {exc}").lstrip("; ")
        else:
            side.add("com", ts.time, ts["com"], "m", ts.meta.get("method", "com_from_plates"))
            side.unavailable.pop("com", None)


def _body_axes(mapped: MappedJoints) -> tuple[tuple[str, str], str]:
    """Names of the lab's x and y axes for the subject's sway, from the direction the pelvis faces.

    The lab frame is taken as x anterior, y left (C3D labs, the synthetic lab, the placed real recordings); a
    subject facing closer to lab +-y than to +-x has x and y swapped ("ml", "ap"). A subject facing more than
    20 degrees off both axes mixes AP and ML in each lab axis: the note says so."""
    try:
        heading = pelvis_heading_deg(mapped)
    except StancebenchError:
        return ("ap", "ml"), ""
    off = abs((heading + 45.0) % 90.0 - 45.0)          # degrees from the nearest lab axis
    axes = ("ml", "ap") if abs(np.sin(np.deg2rad(heading))) > abs(np.cos(np.deg2rad(heading))) else ("ap", "ml")
    if axes == ("ap", "ml") and off <= 20.0:
        return axes, ""
    note = (f"; the subject faces {heading:.0f} deg from lab +x: lab x is {axes[0].upper()}, y is "
            f"{axes[1].upper()}" + (f" ({off:.0f} deg off: each lab axis mixes AP and ML)" if off > 20.0 else ""))
    return axes, note


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
