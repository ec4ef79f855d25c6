"""Stage 5c, posture KPIs of both sides within the analysis window: hip-vs-ankle strategy label and knee
frontal excursion (joint angles of the markers; keypoint angles from a frontal view), and the Y-Balance reach
(foot markers; keypoints back-projected onto the floor)."""
from __future__ import annotations

import numpy as np

from candidates import kpis as kp
from ground_truth.angles import angle_excursion, angles_from_markers
from ground_truth.kernel import NotAvailableError, StancebenchError
from ground_truth.markersets import HEEL_MARKERS, TOE_MARKERS, foot_points, other_side
from ground_truth.reach import reach_distance
from ground_truth.strategy import strategy_indicator

from .clock import ClockAlignment
from .sides import CandidateSide, ReferenceSide
from .values import KPIValue, measured, missing

#: The posture KPIs measured from joint angles.
ANGLE_KPIS = ("strategy_label", "knee_frontal_excursion")


def reference_angle_kpis(ref: ReferenceSide, window, trial: dict, wanted: list[str]) -> dict[str, KPIValue]:
    """Strategy label and knee excursion from marker joint angles (``ground_truth.angles``) in the window.

    The strategy label uses the frontal-plane angles only, the plane a frontal camera sees, so that both sides
    of the pair apply one definition (the sagittal angles are in the gold standard but not in the video).
    """
    keys = [k for k in ANGLE_KPIS if k in wanted]
    if ref.markers is None:
        return {k: missing("the gold standard has no markers (joint angles need them)") for k in keys}
    try:
        ang = angles_from_markers(ref.markers, trial["stance_leg"])
    except StancebenchError as exc:
        reason = str(exc) if isinstance(exc, NotAvailableError) else f"{type(exc).__name__}: {exc}"
        return {k: missing(reason) for k in keys}
    return _angle_kpis(ref.markers.time, ang, window, keys, "marker joint angles")


def _angle_kpis(t: np.ndarray, ang: dict, window, keys: list[str], what: str) -> dict[str, KPIValue]:
    """Strategy label and knee excursion of 3-D joint angles (markers, or triangulated keypoints: one
    definition for both) over ``window`` of their time vector ``t``."""
    m = (t >= window[0]) & (t < window[1])
    out = {}
    if "strategy_label" in keys and not {"hip_frontal", "ankle_frontal"} <= set(ang):
        absent = sorted({"hip_frontal", "ankle_frontal"} - set(ang))
        out["strategy_label"] = missing(f"no {' or '.join(absent)} angle from {what} (the marker set gives no "
                                        f"trunk or shoulder markers, see docs/marker-sets.md)")
    elif "strategy_label" in keys:
        try:
            res = strategy_indicator(hip_frontal=np.asarray(ang["hip_frontal"])[m],
                                     ankle_frontal=np.asarray(ang["ankle_frontal"])[m])
            out["strategy_label"] = measured(res.label, f"{what} (frontal plane) in the analysis window; hip "
                                                        f"fraction {res.hip_fraction:.2f} (ground_truth.strategy)",
                                             hip_fraction=float(res.hip_fraction))
        except StancebenchError as exc:
            out["strategy_label"] = missing(f"{type(exc).__name__}: {exc}")
    if "knee_frontal_excursion" in keys:
        k = np.asarray(ang.get("knee_frontal", np.full(t.size, np.nan)))[m]
        value, how = angle_excursion(t[m], k)
        out["knee_frontal_excursion"] = (
            measured(value, f"stance knee frontal-plane angle from {what} (ground_truth.angles): {how}")
            if np.isfinite(value) else missing(f"no knee frontal angle in the window ({how})"))
    return out


def candidate_angle_kpis(cand: CandidateSide, window, clock: ClockAlignment | None, trial: dict,
                         wanted: list[str]) -> dict[str, KPIValue]:
    """Strategy label and knee excursion from keypoint angles in the window: 2-D angles from a frontal view only
    (``candidates.kpis.frontal_view_problem`` says why another view cannot give them), or the 3-D joint angles
    of a triangulated side."""
    keys = [k for k in ANGLE_KPIS if k in wanted]
    if cand.triangulated:      # 3-D joint angles on the reference clock, measured as the markers' are
        ang = cand.angles
        if ang is None:
            return {k: missing(cand.unavailable.get(k, "no 3-D joint angles")) for k in keys}
        return _angle_kpis(ang.time, {k: ang[k] for k in ang.channels}, window, keys,
                           "triangulated keypoint joint angles")
    stance = trial["stance_leg"]
    try:
        problem = kp.frontal_view_problem(cand.camera, cand.track, stance)
    except StancebenchError as exc:
        problem = f"the camera's view of the knee cannot be placed: {exc}"
    if problem:
        return {k: missing(f"not computed: {problem}") for k in keys}
    lo, hi = clock.to_candidate(list(window)) if clock is not None else window
    part = cand.track.between(float(lo), float(hi))
    out = {}
    if "strategy_label" in keys:
        try:
            res = kp.keypoint_strategy(part, stance=stance, camera=cand.camera)
            out["strategy_label"] = measured(res.label, f"keypoint frontal angles; hip fraction "
                                                        f"{res.hip_fraction:.2f} (ground_truth.strategy)",
                                             hip_fraction=res.hip_fraction)
        except StancebenchError as exc:
            out["strategy_label"] = missing(f"{type(exc).__name__}: {exc}")
    if "knee_frontal_excursion" in keys:
        try:
            r = kp.knee_frontal_excursion(part, stance)
            v = r["value"]
            out["knee_frontal_excursion"] = (measured(float(v), r["method"]) if np.isfinite(v)
                                             else missing(r["method"]))
        except StancebenchError as exc:
            out["knee_frontal_excursion"] = missing(f"{type(exc).__name__}: {exc}")
    return out


def reach_kpis(ref: ReferenceSide | None, cand: CandidateSide | None, wanted: list[str], window,
               clock: ClockAlignment | None, trial: dict, subject: dict
               ) -> tuple[dict[str, KPIValue], dict[str, KPIValue]]:
    """Y-Balance: the reach of this trial's direction (its condition) on both sides, in % of leg length
    (``ground_truth.reach``: markers; ``candidates.kpis.keypoint_reach``: keypoints on the floor plane). The
    composite is a subject-level score from the best reaches (``harness.composite``), not a trial's."""
    direction = trial["condition"]
    own = f"ybt_{direction}_reach"
    common: dict[str, KPIValue] = {}
    for k in wanted:
        if k == "ybt_composite":
            common[k] = missing("a subject-level score: the best reach of each direction (harness.composite rows)")
        elif k != own:
            common[k] = missing(f"this trial reaches {direction}")
    r_out, c_out = dict(common), dict(common)
    leg = subject.get("leg_length_m")
    if own in wanted and not leg:
        r_out[own] = c_out[own] = missing(f"subject {subject.get('id')} has no leg_length_m (reaches are "
                                          f"normalised by it)")
    elif own in wanted:
        pct = 100.0 / float(leg)
        if ref is not None:
            r_out[own] = _reference_reach(ref, window, trial, direction, pct, leg)
        if cand is not None and cand.triangulated:
            c_out[own] = missing("not computed: the Y-Balance reach is measured from one calibrated camera's "
                                 "floor plane (candidates.kpis.keypoint_reach); use a one-camera view")
        elif cand is not None:
            try:
                lo, hi = clock.to_candidate(list(window)) if clock is not None else window
                res = kp.keypoint_reach(cand.track, direction=direction, stance=trial["stance_leg"],
                                        camera=cand.camera, window=(float(lo), float(hi)))
                c_out[own] = measured(res.distance_m * pct, f"{res.method}; / leg length {leg:g} m x 100",
                                      distance_m=res.distance_m)
            except StancebenchError as exc:
                c_out[own] = missing(f"{type(exc).__name__}: {exc}")
    return (r_out if ref is not None else {}), (c_out if cand is not None else {})


def _reference_reach(ref: ReferenceSide, window, trial: dict, direction: str, pct: float, leg: float) -> KPIValue:
    if ref.markers is None:
        return missing("NotAvailableError: the gold standard has no markers")
    st = trial["stance_leg"]
    fr = other_side(st)
    heel, toe = foot_points(ref.markers, st, HEEL_MARKERS[st]), foot_points(ref.markers, st, TOE_MARKERS[st])
    pts = foot_points(ref.markers, fr, HEEL_MARKERS[fr] + TOE_MARKERS[fr])
    if heel is None or toe is None or pts is None:
        return missing(f"NotAvailableError: no heel and toe markers on both feet ({', '.join(HEEL_MARKERS[st])}; "
                       f"{', '.join(TOE_MARKERS[st])})")
    try:
        res = reach_distance(ref.markers.time, heel[:, 0], toe[:, 0], pts, direction=direction, stance_leg=st,
                             window=window, source="foot markers")
    except StancebenchError as exc:
        return missing(f"{type(exc).__name__}: {exc}")
    return measured(res.distance_m * pct, f"{res.method}; / leg length {leg:g} m x 100", distance_m=res.distance_m)
