"""Subject, body dimensions and the full-body kinematic chain of the synthetic single-leg stance.

Lab frame: z up, x anterior (the subject faces +x), y to the subject's left; metres.
Segment lengths are de Leva's (1996, Table 4) mean lengths scaled to the subject, so that the whole-body COM
computed with :func:`ground_truth.anthropometry.whole_body_com` is the model's own COM.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..anthropometry import SEXES, de_leva_parameters
from ..kernel import InputError, check_option, validate_type


@dataclass(frozen=True)
class Subject:
    """A synthetic subject.

    ``leg_length_m`` is the standing height of the hip joint centres above the floor; by default de Leva's
    mean proportions (ankle height 3.9 % of stature after Drillis & Contini 1966, plus shank and thigh).
    """

    subject_id: str = "SYN01"
    height_m: float = 1.75
    mass_kg: float = 70.0
    leg_length_m: float | None = None
    sex: str = "male"

    def __post_init__(self):
        validate_type(self.subject_id, str, "subject_id")
        validate_type(self.height_m, "numeric", "height_m")
        validate_type(self.mass_kg, "numeric", "mass_kg")
        check_option("sex", self.sex, SEXES)
        if not 1.0 <= self.height_m <= 2.3:
            raise InputError(f"height_m={self.height_m} is outside 1.0..2.3 m", field="height_m",
                             expected="an adult stature in metres")
        if not 25.0 <= self.mass_kg <= 250.0:
            raise InputError(f"mass_kg={self.mass_kg} is outside 25..250 kg", field="mass_kg",
                             expected="a body mass in kilograms")
        if self.leg_length_m is not None:
            validate_type(self.leg_length_m, "numeric", "leg_length_m")
            if not 0.35 * self.height_m <= self.leg_length_m <= 0.65 * self.height_m:
                raise InputError(f"leg_length_m={self.leg_length_m} is not 35-65 % of height_m={self.height_m}",
                                 field="leg_length_m", expected="floor-to-hip-joint-centre height in metres")


@dataclass(frozen=True)
class BodyDims:
    """Segment lengths and widths (m) of one subject."""

    scale: float          # stature / 1.75 m, for widths
    ankle_h: float
    shank: float
    thigh: float
    hip_width: float      # distance between the hip joint centres
    trunk_mids: float     # mid-hip to mid-shoulder (joint centres)
    trunk_cerv: float     # mid-hip to C7
    head: float           # C7 to vertex
    shoulder_width: float  # distance between shoulder joint centres
    upper_arm: float
    forearm: float
    hand: float
    foot: float
    head_com_fraction: float


def body_dims(subject: Subject) -> BodyDims:
    p = de_leva_parameters(subject.sex)
    ref_h = 1.741 if subject.sex == "male" else 1.735
    k = subject.height_m / ref_h
    ankle_h = 0.039 * subject.height_m
    shank, thigh = p["shank_ajc"].length_mm / 1000 * k, p["thigh"].length_mm / 1000 * k
    if subject.leg_length_m is not None:
        f = (subject.leg_length_m - ankle_h) / (shank + thigh)
        shank, thigh = shank * f, thigh * f
    hip_z = ankle_h + shank + thigh
    # the trunk (C7 to mid-hip) and head (vertex to C7) fill the rest of the stature
    upper = subject.height_m - hip_z
    cerv, head, mids = p["trunk"].length_mm, p["head"].length_mm, p["trunk_mids"].length_mm
    ku = upper / ((cerv + head) / 1000)
    s = subject.height_m / 1.75
    return BodyDims(scale=s, ankle_h=ankle_h, shank=shank, thigh=thigh, hip_width=0.10 * subject.height_m,
                    trunk_mids=mids / 1000 * ku, trunk_cerv=cerv / 1000 * ku, head=head / 1000 * ku,
                    shoulder_width=0.20 * subject.height_m, upper_arm=p["upper_arm"].length_mm / 1000 * k,
                    forearm=p["forearm"].length_mm / 1000 * k, hand=p["hand"].length_mm / 1000 * k,
                    foot=p["foot"].length_mm / 1000 * k, head_com_fraction=p["head"].com_fraction)


# -- rotations ---------------------------------------------------------------------------------------------
def tilt(ap, ml) -> np.ndarray:
    """Rotation matrices (n, 3, 3) that lean the +z axis forward by ``ap`` and to the left by ``ml`` (rad).

    ``R = Ry(ap) @ Rx(-ml)``: ``R @ z = (sin ap cos ml, sin ml, cos ap cos ml)``.
    """
    ap = np.atleast_1d(np.asarray(ap, float))
    ml = np.atleast_1d(np.asarray(ml, float))
    n = max(ap.size, ml.size)
    ap = np.broadcast_to(ap, (n,))
    ml = np.broadcast_to(ml, (n,))
    ca, sa, cm, sm = np.cos(ap), np.sin(ap), np.cos(-ml), np.sin(-ml)
    ry = np.zeros((n, 3, 3))
    ry[:, 0, 0], ry[:, 0, 2], ry[:, 1, 1], ry[:, 2, 0], ry[:, 2, 2] = ca, sa, 1, -sa, ca
    rx = np.zeros((n, 3, 3))
    rx[:, 0, 0], rx[:, 1, 1], rx[:, 1, 2], rx[:, 2, 1], rx[:, 2, 2] = 1, cm, -sm, sm, cm
    return ry @ rx


def _apply(r: np.ndarray, v) -> np.ndarray:
    """Rotate vector(s) ``v`` ((3,) or (n, 3)) by matrices ``r`` (n, 3, 3)."""
    v = np.asarray(v, float)
    if v.ndim == 1:
        return r @ v
    return np.einsum("nij,nj->ni", r, v)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def two_link_knee(hip: np.ndarray, ankle: np.ndarray, thigh: float, shank: float, forward: np.ndarray
                  ) -> np.ndarray:
    """Knee position from hip and ankle by two-link inverse kinematics, bending towards ``forward``."""
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec, axis=1)
    d = np.clip(d, abs(thigh - shank) + 1e-6, thigh + shank - 1e-6)
    u = d_vec / np.linalg.norm(d_vec, axis=1, keepdims=True)
    a = (thigh ** 2 - shank ** 2 + d ** 2) / (2 * d)
    b = np.sqrt(np.maximum(thigh ** 2 - a ** 2, 0.0))
    w = forward - np.sum(forward * u, axis=1, keepdims=True) * u
    w = _unit(w)
    return hip + a[:, None] * u + b[:, None] * w


@dataclass
class Pose:
    """Time-varying posture parameters (all (n,) arrays, radians) and the free foot trajectory."""

    leg_ap: np.ndarray        # stance leg (ankle→hip) lean, forward +
    leg_ml: np.ndarray        # stance leg lean, to the subject's left +
    knee_flex: np.ndarray     # stance knee flexion +
    valgus: np.ndarray        # stance knee frontal angle, knee medial (valgus) +
    hip_ap: np.ndarray        # trunk relative to the stance leg, forward (flexion) +
    hip_ml: np.ndarray        # trunk relative to the stance leg, to the left +
    free_ankle: np.ndarray    # (n, 3) lab position of the free (lifted) leg's ankle
    free_pitch: np.ndarray    # free foot pitch, toe down +
    stance_yaw: np.ndarray | None = None   # stance foot turned toe-out about the ankle's vertical axis +


def build_joints(dims: BodyDims, pose: Pose, stance: str, stance_ankle: np.ndarray) -> dict[str, np.ndarray]:
    """Joint centres and BlazePose-33 landmarks (lab frame, m) of the posture at every frame.

    Returns a dict with every BlazePose-33 name plus ``pelvis`` (mid-hip), ``neck`` (C7) and ``head_top``
    (vertex).
    """
    s = dims.scale
    m = 1.0 if stance == "right" else -1.0       # +y is medial for a right stance leg
    st, fr = ("right", "left") if stance == "right" else ("left", "right")
    n = pose.leg_ap.size
    ankle = np.broadcast_to(np.asarray(stance_ankle, float), (n, 3)).copy()
    r_leg = tilt(pose.leg_ap, pose.leg_ml)
    shank_dir = _apply(r_leg @ tilt(pose.knee_flex / 2, m * pose.valgus / 2), [0, 0, 1])
    knee = ankle + dims.shank * shank_dir
    thigh_dir = _apply(r_leg @ tilt(-pose.knee_flex / 2, -m * pose.valgus / 2), [0, 0, 1])
    hip_s = knee + dims.thigh * thigh_dir
    r_tr = r_leg @ tilt(pose.hip_ap, pose.hip_ml)
    hip_f = hip_s + _apply(r_tr, [0, m * dims.hip_width, 0])
    mid_hip = 0.5 * (hip_s + hip_f)
    mid_sh = mid_hip + _apply(r_tr, [0, 0, dims.trunk_mids])
    neck = mid_hip + _apply(r_tr, [0, 0, dims.trunk_cerv])
    top = neck + _apply(r_tr, [0, 0, dims.head])
    hc = top + dims.head_com_fraction * (neck - top)     # head COM (de Leva fraction from the vertex)

    j: dict[str, np.ndarray] = {"pelvis": mid_hip, "neck": neck, "head_top": top,
                                f"{st}_hip": hip_s, f"{fr}_hip": hip_f, f"{st}_knee": knee, f"{st}_ankle": ankle}

    def head_pt(x, y, z):
        return hc + _apply(r_tr, [x * s, y * s, z * s])

    j["nose"] = head_pt(0.105, 0, -0.005)
    for side, sy in (("left", 1), ("right", -1)):
        j[f"{side}_ear"] = head_pt(0.0, sy * 0.075, 0.0)     # ear midpoint = head COM (keypoint fallback)
        j[f"{side}_eye"] = head_pt(0.085, sy * 0.032, 0.035)
        j[f"{side}_eye_inner"] = head_pt(0.088, sy * 0.016, 0.035)
        j[f"{side}_eye_outer"] = head_pt(0.078, sy * 0.048, 0.035)
        j[f"mouth_{side}"] = head_pt(0.092, sy * 0.024, -0.048)
        # arms hang from the shoulders, 12 deg abducted, elbows flexed 15 deg, palms facing the thigh
        sho = mid_sh + _apply(r_tr, [0, sy * dims.shoulder_width / 2, 0])
        ab, fl = np.radians(12.0), np.radians(15.0)
        elb = sho + _apply(r_tr, [0, sy * dims.upper_arm * np.sin(ab), -dims.upper_arm * np.cos(ab)])
        fdir = np.array([np.sin(fl), sy * np.sin(ab) * np.cos(fl), -np.cos(ab) * np.cos(fl)])
        fdir /= np.linalg.norm(fdir)
        wri = elb + _apply(r_tr, dims.forearm * fdir)
        tip = wri + _apply(r_tr, dims.hand * fdir)           # MET3
        j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"] = sho, elb, wri
        j[f"{side}_index"] = tip + _apply(r_tr, [0.025 * s, 0, 0])
        j[f"{side}_pinky"] = tip - _apply(r_tr, [0.025 * s, 0, 0])
        j[f"{side}_thumb"] = wri + _apply(r_tr, 0.5 * dims.hand * fdir + np.array([0.035 * s, 0, 0]))

    heel_off = np.array([-0.22 * dims.foot, 0.0, 0.025 * s - dims.ankle_h])
    toe_off = np.array([0.78 * dims.foot, 0.0, 0.02 * s - dims.ankle_h])
    if pose.stance_yaw is None:
        j[f"{st}_heel"] = ankle + heel_off
        j[f"{st}_foot_index"] = ankle + toe_off
    else:
        th = -m * np.asarray(pose.stance_yaw, float)      # toe-out: right toe to -y, left toe to +y
        c, sn = np.cos(th), np.sin(th)
        for name, off in (("heel", heel_off), ("foot_index", toe_off)):
            j[f"{st}_{name}"] = ankle + np.column_stack([c * off[0] - sn * off[1], sn * off[0] + c * off[1],
                                                         np.full(n, off[2])])
    # free leg: ankle follows its prescribed path; the knee from two-link IK, bending forward
    fa = np.asarray(pose.free_ankle, float)
    j[f"{fr}_ankle"] = fa
    j[f"{fr}_knee"] = two_link_knee(hip_f, fa, dims.thigh, dims.shank, _apply(r_tr, [1.0, 0, 0]))
    rp = tilt(pose.free_pitch, 0.0)
    j[f"{fr}_heel"] = fa + _apply(rp, heel_off)
    j[f"{fr}_foot_index"] = fa + _apply(rp, toe_off)
    return j


def segment_frames(dims: BodyDims, pose: Pose) -> np.ndarray:
    """Trunk (= pelvis) orientation matrices (n, 3, 3): columns are its AP, ML (left) and up axes."""
    return tilt(pose.leg_ap, pose.leg_ml) @ tilt(pose.hip_ap, pose.hip_ml)
