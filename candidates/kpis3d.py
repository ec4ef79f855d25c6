"""KPIs from triangulated 3-D keypoints, by the gold standard's own definitions.

A :class:`candidates.triangulate.Triangulation` gives joint positions in metres in the lab frame (z up), the
form the marker side has after ``ground_truth.com.joint_centres_from_markers``. Each KPI input below goes
through the same ground-floor function the reference side (``harness/pipeline/reference.py``,
``posture.py``, ``sway.py``) applies to markers, so a pair differs only by what the keypoints measure:

* :func:`keypoint_com_3d` - whole-body COM, de Leva (1996) through ``ground_truth.anthropometry.whole_body_com``
  (the marker side: ``ground_truth.com.com_from_markers``, the same segment model on marker joint centres);
* :func:`com_sway_kpis_3d` - ``com_*`` sway KPIs of its horizontal part on both axes through
  ``ground_truth.sway.kpis.planar_sway_kpis`` (the reference COM's function), AP and ML, 95 % ellipse area and
  mean frequency included: nothing is "not observable" with two cameras;
* :func:`angles_3d`, :func:`knee_frontal_excursion_3d`, :func:`strategy_3d` - stance-side knee, hip and ankle
  angles in both planes through ``ground_truth.angles.joint_angles`` (the reference: ``angles_from_markers``),
  the knee excursion as its range, the strategy label through ``ground_truth.strategy.strategy_indicator``;
* :func:`free_foot_height`, :func:`foot_events_3d`, :func:`time_to_failure_3d` (:func:`feet_3d`: the first two
  in one dict) - the lifted foot's height above the floor (the reference's ``free_ankle_vertical`` is its ankle
  marker's z) and foot lift / touch-down through ``ground_truth.events.marker_events`` and ``time_to_failure``.

Slice a trial's analysis window first with :meth:`Triangulation.between` (times on the common clock).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, check_option, validate_type

from .triangulate import Triangulation


def _tri(tri) -> Triangulation:
    validate_type(tri, Triangulation, "tri", "a candidates.triangulate.Triangulation")
    if tri.n_frames < 2:
        raise InputError(f"the triangulation has {tri.n_frames} frame(s)", field="tri", expected="at least 2 frames")
    return tri


def _other(side: str) -> str:
    check_option("stance", side, ("left", "right"))
    return "right" if side == "left" else "left"


# -- COM ------------------------------------------------------------------------------------------------------
def keypoint_com_3d(tri: Triangulation, *, sex: str = "male") -> tuple[np.ndarray, np.ndarray]:
    """Whole-body COM of the 3-D keypoints: ``(time_s (n,), com (n, 3) m, lab frame)``.

    ``ground_truth.anthropometry.whole_body_com(tri.joints(), sex)``, the de Leva (1996) segment model that
    :func:`candidates.kpis.keypoint_com` applies to 2-D keypoints and ``ground_truth.com.com_from_markers`` to
    marker joint centres. BlazePose has no vertex or C7, so the head segment is its fallback (the ear midpoint as
    the head COM); hands end at the index/pinky midpoint, feet run heel → foot index. A frame missing any joint
    the model uses has a NaN COM (``missing="propagate"``: never a biased COM of the visible segments).

    Notes
    -----
    de Leva P (1996) Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters. J Biomech 29:1223-1230.
    """
    from ground_truth.anthropometry import whole_body_com

    tri = _tri(tri)
    return tri.time_s.copy(), whole_body_com(tri.joints(), sex)


def com_sway_kpis_3d(time_s, com, *, lowpass_hz: float | None = None, axes: tuple[str, str] = ("ap", "ml"),
                     method: str = "") -> dict[str, dict[str, Any]]:
    """``com_*`` sway KPIs of a 3-D keypoint COM on both horizontal axes.

    Parameters
    ----------
    time_s : (n,) s
        Uniform grid (a triangulation's ``time_s``, sliced to the analysis window).
    com : (n, 3) m
        Lab frame; columns 0 and 1 are the horizontal axes named by ``axes`` (the synthetic lab and most C3D
        labs: x anterior, y left, as the reference side's ``axes``).
    lowpass_hz : float, optional
        Passed to ``planar_sway_kpis`` (4th-order zero-phase Butterworth), as the reference side's setting.

    Returns
    -------
    dict
        ``{kpi: {"value", "unit", "method"}}`` with the registry's units (:mod:`protocols.kpis`). Missing
        samples inside the window make ``planar_sway_kpis`` refuse: every value is then NaN with the reason.
    """
    from ground_truth.kernel import StancebenchError
    from ground_truth.sway.kpis import KPI_SUFFIX, planar_sway_kpis
    from protocols import get_kpi

    t = np.asarray(time_s, dtype=float)
    c = np.asarray(com, dtype=float)
    if c.ndim != 2 or c.shape[1] < 2 or c.shape[0] != t.size:
        raise InputError(f"com has shape {c.shape} for {t.size} times", field="com",
                         expected="(n, 3) or (n, 2) metres, one row per time")
    if t.size < 3:
        raise InputError(f"{t.size} samples", field="time_s", expected="at least 3 samples")
    fs = float(1.0 / np.median(np.diff(t)))
    how = method or "de Leva COM of triangulated keypoints (candidates.kpis3d)"
    try:
        out = planar_sway_kpis(c[:, :2], fs, signal="com", lowpass_hz=lowpass_hz, axes=axes, method=how)
    except StancebenchError as exc:
        names = [f"com_{s}" for s in KPI_SUFFIX.values()]
        out = {k: {"value": float("nan"), "method": f"{how}; {type(exc).__name__}: {exc}"} for k in names}
    for name, v in out.items():
        v["unit"] = get_kpi(name).unit
    return out


# -- angles ---------------------------------------------------------------------------------------------------
def angles_3d(tri: Triangulation, stance: str) -> dict[str, np.ndarray]:
    """Stance-side knee, hip and ankle angles in the frontal and sagittal planes (deg) on ``tri.time_s``.

    ``ground_truth.angles.joint_angles(tri.joints(), stance)`` with the lab vertical: the function the
    reference applies to its marker joint centres (``angles_from_markers``), same definitions and signs
    (knee frontal-plane angle valgus positive, Willson & Davis 2008; hip = trunk relative to thigh; body axes
    from the hips and the vertical). Returns every ``ground_truth.angles.ANGLES`` array, (n,) each, NaN where
    a joint is missing.
    """
    from ground_truth.angles import joint_angles

    tri = _tri(tri)
    _other(stance)
    return joint_angles(tri.joints(), stance)


def knee_frontal_excursion_3d(tri: Triangulation, stance: str) -> dict[str, Any]:
    """``knee_frontal_excursion`` KPI: range (max − min, deg) of the stance knee's frontal-plane angle.

    The reference's definition (``ground_truth.angles.angle_excursion``: range after a 6 Hz low-pass) of
    ``knee_frontal`` over the samples that have it, in the window given (slice ``tri`` first).
    """
    from ground_truth.angles import angle_excursion

    k = np.asarray(angles_3d(tri, stance)["knee_frontal"])
    value, how = angle_excursion(tri.time_s, k)
    return {"value": value, "unit": "deg",
            "method": f"{stance} knee frontal-plane angle of triangulated keypoints (ground_truth.angles): {how}"}


def strategy_3d(tri: Triangulation, stance: str, *, planes: tuple[str, ...] = ("frontal",),
                cutoff_hz: float | None = 3.0):
    """Hip-vs-ankle strategy of the 3-D keypoint angles (``ground_truth.strategy.strategy_indicator``).

    ``planes`` picks which planes' hip and ankle angles enter: default the frontal plane only, as the reference
    label today (``reference_angle_kpis``: the plane a frontal camera sees); ``("frontal", "sagittal")`` uses
    both, which only a 3-D candidate can match. The grid rate is passed so that keypoint jitter is low-passed
    at ``cutoff_hz`` before the RMS ratio (unfiltered noise pushes the hip fraction towards 0.5), as
    :func:`candidates.kpis.keypoint_strategy` does. Pass the single-leg period only. Returns ``StrategyResult``.
    """
    from ground_truth.strategy import strategy_indicator

    if not planes:
        raise InputError("no plane given", field="planes", expected="('frontal',), ('sagittal',) or both")
    for p in planes:
        check_option("planes", p, ("frontal", "sagittal"))
    a = angles_3d(tri, stance)
    kwargs = {f"{part}_{p}": a[f"{part}_{p}"] for p in planes for part in ("hip", "ankle")}
    return strategy_indicator(**kwargs, fs=tri.fs_hz, cutoff_hz=cutoff_hz)


# -- feet, events and time to failure -------------------------------------------------------------------------
FOOT_POINTS = ("ankle", "heel", "foot_index")


def _foot(J: dict[str, np.ndarray], side: str) -> np.ndarray:
    names = [f"{side}_{p}" for p in FOOT_POINTS if f"{side}_{p}" in J]
    if f"{side}_ankle" not in J:
        raise InputError(f"the skeleton has no {side}_ankle keypoint", field="keypoints",
                         expected="ankle keypoints (BlazePose-33 or COCO-17)")
    return np.stack([J[n] for n in names], axis=1)


def free_foot_height(tri: Triangulation, stance: str, *, floor_z: float = 0.0) -> dict[str, Any]:
    """The lifted foot's height above the floor, per frame.

    Returns ``time_s``, ``lifted_side``, ``free_ankle_z`` (m: the lifted ankle keypoint's z, the counterpart of
    the reference's ``free_ankle_vertical``, its ankle marker's z; an alignment signal), ``height_m`` (the
    lowest of the lifted foot's ankle, heel and toe keypoints above ``floor_z``) and ``stance_height_m`` (the
    same for the stance foot: about the keypoints' ankle/heel height while it stands, a check of the floor).
    """
    tri = _tri(tri)
    lifted = _other(stance)
    J = tri.joints()
    with warnings.catch_warnings():   # frames without the foot stay NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        h = np.nanmin(_foot(J, lifted)[..., 2], axis=1) - floor_z
        hs = np.nanmin(_foot(J, stance)[..., 2], axis=1) - floor_z
    return {"time_s": tri.time_s.copy(), "lifted_side": lifted, "free_ankle_z": J[f"{lifted}_ankle"][:, 2].copy(),
            "height_m": h, "stance_height_m": hs}


def feet_3d(tri: Triangulation, stance: str, *, floor_z: float = 0.0, lift_threshold_m: float = 0.02,
            onset_m: float = 0.005) -> dict[str, Any]:
    """Both feet in 3-D, the lifted foot's height and its events, in one dict (the 3-D counterpart of
    :func:`candidates.kpis.keypoint_feet`).

    Returns :func:`free_foot_height`'s keys (``time_s``, ``lifted_side``, ``free_ankle_z``, ``height_m``,
    ``stance_height_m``) plus ``stance``, ``stance_foot`` and ``lifted_foot`` ((n, k, 3) m: ankle, heel, toe)
    and ``events`` (:func:`foot_events_3d` with the default rule set: foot lift and touch-down). When the events
    cannot be found (no valid lifted-foot sample in the first 0.5 s) ``events`` is empty and
    ``events_problem`` says why: the heights stay usable.
    """
    from ground_truth.kernel import StancebenchError

    out = free_foot_height(tri, stance, floor_z=floor_z)
    J = tri.joints()
    out.update(stance=stance, stance_foot=_foot(J, stance), lifted_foot=_foot(J, out["lifted_side"]))
    try:
        out["events"] = foot_events_3d(tri, stance, lift_threshold_m=lift_threshold_m, onset_m=onset_m)
    except StancebenchError as exc:
        out["events"] = []
        out["events_problem"] = f"{type(exc).__name__}: {exc}"
    return out


def foot_events_3d(tri: Triangulation, stance: str, *, with_stance_foot: bool = False,
                   lift_threshold_m: float = 0.02, onset_m: float = 0.005, lowpass_hz: float | None = 6.0
                   ) -> list:
    """Foot lift and touch-down from the 3-D foot keypoints through ``ground_truth.events.marker_events``.

    The lifted foot's points are its ankle, heel and toe keypoints (the reference uses its ankle, heel and toe
    markers, ``ground_truth.markersets.foot_points``), z up. ``with_stance_foot`` also passes the stance foot
    (a ``stance_foot_moved`` event, and both feet up read as a jump, not a lift): off by default as in
    :func:`candidates.kpis.keypoint_time_to_failure`, because keypoint jitter of a few centimetres reads as a
    moved foot. ``onset_m`` 5 mm as the 2-D keypoint side (the markers' 3 mm is below keypoint noise).
    """
    from ground_truth.events import marker_events

    tri = _tri(tri)
    lifted = _other(stance)
    J = tri.joints()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return marker_events(tri.time_s, _foot(J, lifted), _foot(J, stance) if with_stance_foot else None,
                             up_axis=2, lift_threshold_m=lift_threshold_m, onset_m=onset_m, lowpass_hz=lowpass_hz,
                             lifted_side=lifted.capitalize(), source="triangulated keypoints")


def time_to_failure_3d(tri: Triangulation, stance: str, *, max_duration_s: float = 30.0,
                       rules=("touch_down",), lift_threshold_m: float = 0.02, onset_m: float = 0.005):
    """Time-to-failure from the 3-D foot events (``ground_truth.events.time_to_failure``), censored at
    ``max_duration_s`` or at the end of the triangulation. ``rules`` as the pipeline's (touch-down only by
    default); ``"stance_moved"`` passes the stance foot to :func:`foot_events_3d`. Returns
    ``(TimeToFailure, events)``; InputError when no foot lift is found."""
    from ground_truth.events import time_to_failure

    rules = tuple(rules)
    events = foot_events_3d(tri, stance, with_stance_foot="stance_moved" in rules,
                            lift_threshold_m=lift_threshold_m, onset_m=onset_m)
    if not any(e.name == "foot_lift" for e in events):
        raise InputError(f"no foot lift found (the {_other(stance)} foot never rose {lift_threshold_m} m above its "
                         f"first-0.5-s height)", field="keypoints", expected="a single-leg-stance trial")
    ttf = time_to_failure(events, max_duration_s=max_duration_s, recording_end_s=float(tri.time_s[-1]),
                          rules=rules, source="triangulated keypoints")
    return ttf, events
