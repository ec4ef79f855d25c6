"""Lower-limb and trunk angles from joint positions (3-D joint centres from markers, or 2-D/3-D keypoints).

All functions take plain arrays (one position per frame, (n, 3) in a z-up lab frame, or (n, 2) image
coordinates) so that the mocap and the keypoint side compute the same quantities.

Definitions (degrees). Segment vectors point upward (distal → proximal): shank = knee − ankle,
thigh = hip − knee, trunk = mid-shoulder − mid-hip. A segment's *inclination* in a plane is
``atan2(v·h, v·up)`` with ``h`` the plane's horizontal axis. Body axes per frame: ``up`` = lab vertical,
medio-lateral = horizontal part of (left hip − right hip), anterior = ML × up; for one side, *medial* points
from that side's hip towards the other hip.

* ``knee_frontal`` (frontal-plane projection angle, FPPA): inclination(shank, medial) −
  inclination(thigh, medial). **Positive = valgus** (knee medial of the hip-ankle line), negative = varus;
  0 for a straight leg. This is the 2-D FPPA of Willson & Davis (2008, J Orthop Sports Phys Ther 38:606)
  with the sign made explicit.
* ``knee_sagittal``: flexion, inclination(shank, anterior) − inclination(thigh, anterior); positive = flexed.
* ``hip_sagittal``: inclination(trunk, anterior) − inclination(thigh, anterior); positive = flexion (trunk
  forward relative to the thigh). This is the trunk-thigh angle, not the pelvis-femur angle: keypoints have no
  pelvis orientation.
* ``hip_frontal``: inclination(trunk, medial) − inclination(thigh, medial); positive = adduction.
* ``ankle_sagittal``: inclination(shank, anterior); positive = dorsiflexion, relative to a foot flat on the
  floor (the stance foot); 0 = vertical shank.
* ``ankle_frontal``: inclination(shank, medial); positive = shank tilted medially (proximal end medial of the
  ankle), i.e. eversion-like.

2-D input: the image is taken as the plane. Pass ``view="frontal"`` (image x ~ medio-lateral) or
``view="sagittal"`` (image x ~ antero-posterior); ``up`` is the image direction of the vertical, (0, -1) for
pixel coordinates with y down. Medial is still found from the hips; anterior, for a sagittal view, from the
foot (heel → toe) when given, else the ``facing`` argument (+1: the subject faces image +x).
"""
from __future__ import annotations

import numpy as np

from .kernel import InputError, check_option, validate_type

ANGLES = ("knee_frontal", "knee_sagittal", "hip_sagittal", "hip_frontal", "ankle_sagittal", "ankle_frontal")


def _arr(joints, name, shape=None):
    if name not in joints:
        raise InputError(f"joint {name!r} is missing", field="joints", expected=f"a {name!r} entry")
    a = np.asarray(joints[name], dtype=float)
    if a.ndim != 2 or a.shape[1] not in (2, 3):
        raise InputError(f"has shape {a.shape}", field=f"joints[{name!r}]", expected="(n, 2) or (n, 3)")
    if shape is not None and a.shape != shape:
        raise InputError(f"has shape {a.shape}, other joints {shape}", field=f"joints[{name!r}]")
    return a


def _incl(v, h, up):
    return np.degrees(np.arctan2(np.sum(v * h, axis=1), np.sum(v * up, axis=1)))


def body_axes(left_hip: np.ndarray, right_hip: np.ndarray, up=(0.0, 0.0, 1.0)):
    """Per-frame unit axes (anterior, left, up) of a 3-D body from its hips and the lab vertical."""
    up = np.asarray(up, float)
    up = up / np.linalg.norm(up)
    ml = left_hip - right_hip
    ml = ml - np.outer(ml @ up, up)
    with np.errstate(invalid="ignore", divide="ignore"):
        ml = ml / np.linalg.norm(ml, axis=1, keepdims=True)
    ap = np.cross(ml, up)
    return ap, ml, np.broadcast_to(up, ml.shape)


def joint_angles(joints: dict, side: str, *, up=None, view: str | None = None, facing: int = 1) -> dict:
    """Knee, hip and ankle angles of one side (see the module docstring for definitions and signs).

    Parameters
    ----------
    joints : dict of str to array (n, 3) or (n, 2)
        Needs ``left_hip``, ``right_hip``, ``{side}_knee``, ``{side}_ankle``; the trunk angles need
        ``left_shoulder`` and ``right_shoulder``; ``{side}_heel``/``{side}_foot_index`` orient a 2-D sagittal view.
    side : {"left", "right"}
    up : array-like, optional
        Vertical direction: default (0, 0, 1) for 3-D and (0, -1) for 2-D (image y down).
    view : {"frontal", "sagittal"}, required for 2-D input
        Which anatomical plane the image shows; only that plane's angles are returned.
    facing : {1, -1}
        2-D sagittal view without feet: +1 if the subject faces image +x.

    Returns
    -------
    dict of str to ndarray (n,)
        Degrees; NaN where a needed joint is NaN. 3-D input gives all of ``ANGLES``; 2-D gives the view's plane.
    """
    check_option("side", side, ("left", "right"))
    other = "right" if side == "left" else "left"
    hip_s = _arr(joints, f"{side}_hip")
    shape = hip_s.shape
    hip_o = _arr(joints, f"{other}_hip", shape)
    knee = _arr(joints, f"{side}_knee", shape)
    ankle = _arr(joints, f"{side}_ankle", shape)
    trunk = None
    if "left_shoulder" in joints and "right_shoulder" in joints:
        mid_sh = 0.5 * (_arr(joints, "left_shoulder", shape) + _arr(joints, "right_shoulder", shape))
        trunk = mid_sh - 0.5 * (hip_s + hip_o)
    shank, thigh = knee - ankle, hip_s - knee
    dim = shape[1]
    out = {}
    if dim == 3:
        if view is not None:
            raise InputError("view is only for 2-D input", field="view")
        ap, ml, upv = body_axes(joints["left_hip"], joints["right_hip"], (0, 0, 1) if up is None else up)
        medial = ml if side == "right" else -ml
        planes = {"frontal": medial, "sagittal": ap}
    else:
        check_option("view", view, ("frontal", "sagittal"), "(required for 2-D joints)")
        upv2 = np.asarray((0.0, -1.0) if up is None else up, float)
        upv2 = upv2 / np.linalg.norm(upv2)
        horiz = np.array([-upv2[1], upv2[0]])          # perpendicular to up in the image
        upv = np.broadcast_to(upv2, shape)
        if view == "frontal":
            sgn = np.sign((hip_o - hip_s) @ horiz)       # medial = towards the other hip
            planes = {"frontal": sgn[:, None] * horiz}
        else:
            heel, toe = joints.get(f"{side}_heel"), joints.get(f"{side}_foot_index")
            if heel is not None and toe is not None:
                sgn = np.sign((np.asarray(toe, float) - np.asarray(heel, float)) @ horiz)
            else:
                check_option("facing", facing, (1, -1))
                # horiz points to image +x when up is (0, -1)
                sgn = np.full(shape[0], float(facing) * np.sign(horiz[0] if horiz[0] else 1.0))
            planes = {"sagittal": sgn[:, None] * horiz}
    for plane, axis in planes.items():             # frontal: medial axis; sagittal: anterior axis
        i_sh, i_th = _incl(shank, axis, upv), _incl(thigh, axis, upv)
        out[f"knee_{plane}"] = i_sh - i_th
        out[f"ankle_{plane}"] = i_sh
        if trunk is not None:
            out[f"hip_{plane}"] = _incl(trunk, axis, upv) - i_th
    return out


def knee_frontal_angle(hip, knee, ankle, other_hip, *, up=None) -> np.ndarray:
    """Frontal-plane projection angle of one knee (deg, valgus positive), 2-D (image) or 3-D (lab, z up)."""
    hip = np.asarray(hip, float)
    side_joints = {"right_hip": hip, "left_hip": np.asarray(other_hip, float), "right_knee": knee,
                   "right_ankle": ankle}
    view = "frontal" if hip.ndim == 2 and hip.shape[1] == 2 else None
    return joint_angles(side_joints, "right", up=up, view=view)["knee_frontal"]


def angles_from_markers(markers, side: str, **widths) -> dict:
    """:func:`joint_angles` of one side from a Plug-in-Gait-like marker set (3-D, z up)."""
    from .com import joint_centres_from_markers
    validate_type(side, str, "side")
    joints = joint_centres_from_markers(markers, **widths)
    return joint_angles(joints, side)


#: Low-pass cut-off (Hz) of joint angles before an excursion (range) is taken: the range of a noisy angle grows
#: with its noise, so both sides of a pair filter first. 6 Hz keeps the content of quiet-stance joint motion
#: (Winter 2009, Biomechanics and Motor Control of Human Movement, 4th ed., ch. 3: 6 Hz for most kinematics).
EXCURSION_LOWPASS_HZ = 6.0


def angle_excursion(time_s, angle_deg, *, lowpass_hz: float | None = EXCURSION_LOWPASS_HZ) -> tuple[float, str]:
    """Range (max - min, deg) of a joint angle after a zero-phase low-pass, and how it was measured.

    The one definition of an angle's excursion for markers, 2-D keypoints and triangulated keypoints
    (``knee_frontal_excursion``). ``time_s`` may be irregular (video frame times); NaN samples are bridged for
    filtering and left out of the range. Returns ``(nan, reason)`` with fewer than 2 valid samples.
    """
    from .filters import lowpass_irregular

    t = np.asarray(time_s, float)
    a = np.asarray(angle_deg, float)
    ok = np.isfinite(a)
    if ok.sum() < 2:
        return float("nan"), f"{int(ok.sum())} valid sample(s)"
    how = f"range over {int(ok.sum())} samples"
    fs = 1.0 / float(np.median(np.diff(t))) if t.size > 1 else 0.0
    if lowpass_hz and ok.sum() >= 16 and lowpass_hz < 0.5 * fs:
        a = lowpass_irregular(t, a, lowpass_hz)
        how += f" after a {lowpass_hz:g} Hz zero-phase Butterworth low-pass (2nd order, run both ways)"
    a = a[np.isfinite(a)]
    return (float(np.ptp(a)), how) if a.size >= 2 else (float("nan"), "no sample left after filtering")
