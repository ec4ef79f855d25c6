"""3-D joint trajectories to render: from the synthetic generator, from mocap markers, or a test pattern.

A :class:`Motion` holds joint centres in metres in a z-up lab frame (x, y horizontal), on the mocap clock.
Recordings whose vertical axis is y (OpenSim .trc/.mot exports) are rotated to z-up by
``(x, y, z) -> (x, -z, y)`` (a proper rotation about x by +90°).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, as_float_array, check_option, validate_type
from ground_truth.markersets import to_z_up

#: Joints every motion must supply for the figure to be drawn (the rest is derived, see figure.py).
REQUIRED_JOINTS = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                   "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


@dataclass
class Motion:
    """Joint trajectories on the mocap clock.

    Parameters
    ----------
    time_s : (n,) array
        Strictly increasing sample times (s, mocap clock).
    joints : dict of str to (n, 3) array
        Joint centres in metres, z-up lab frame; BlazePose-33 names where they exist, plus optionally
        ``pelvis``, ``neck`` (C7), ``head_top``. NaN where unknown.
    source : str
        Where it came from (file path or generator spec).
    meta : dict
        Provenance: marker → joint mapping used, transforms applied.
    """

    time_s: np.ndarray
    joints: dict[str, np.ndarray]
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        t = as_float_array(self.time_s, "time_s", ndim=1)
        if t.size < 2 or np.any(~np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError("motion time is not a strictly increasing finite vector of >= 2 samples",
                             file=self.source or None, field="time_s")
        self.time_s = t
        validate_type(self.joints, dict, "joints", "dict of joint name to (n, 3) array")
        joints = {}
        for name, v in self.joints.items():
            a = as_float_array(v, f"joints[{name!r}]", ndim=2)
            if a.shape != (t.size, 3):
                raise InputError(f"has shape {a.shape}", file=self.source or None, field=f"joints[{name!r}]",
                                 expected=f"({t.size}, 3): one 3-D position (m) per sample")
            joints[name] = a
        missing = [j for j in REQUIRED_JOINTS if j not in joints]
        if missing:
            raise InputError(f"motion lacks joint(s) {', '.join(missing)}", file=self.source or None,
                             field="joints", expected=f"all of {', '.join(REQUIRED_JOINTS)}")
        self.joints = joints

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0])

    def at(self, t) -> dict[str, np.ndarray]:
        """Joint positions linearly interpolated at times ``t`` (m,), NaN outside the motion's span."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = {}
        for name, a in self.joints.items():
            out[name] = np.stack([np.interp(t, self.time_s, a[:, k], left=np.nan, right=np.nan)
                                  for k in range(3)], axis=-1)
        return out

    def transformed(self, rotation_z_deg: float = 0.0, translation=(0.0, 0.0, 0.0)) -> "Motion":
        """A copy rotated about the vertical axis through the origin, then translated (m)."""
        a = np.deg2rad(rotation_z_deg)
        R = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        tr = as_float_array(translation, "translation", ndim=1)
        joints = {k: v @ R.T + tr for k, v in self.joints.items()}
        meta = dict(self.meta)
        meta.setdefault("transforms", []).append({"rotate_z_deg": float(rotation_z_deg),
                                                  "translate_m": tr.tolist()})
        return Motion(self.time_s.copy(), joints, self.source, meta)

    def placed_at_origin(self, yaw_deg: float = 0.0) -> "Motion":
        """Rotate by ``yaw_deg`` about the vertical and shift horizontally so that the mean of the two ankles
        in the first frame where both are known sits at x = y = 0 (height unchanged)."""
        mid = 0.5 * (self.joints["left_ankle"] + self.joints["right_ankle"])
        ok = np.flatnonzero(np.all(np.isfinite(mid), axis=1))
        if ok.size == 0:
            raise InputError("no frame with both ankles known", file=self.source or None, field="joints")
        rot = self.transformed(yaw_deg)
        mid = 0.5 * (rot.joints["left_ankle"][ok[0]] + rot.joints["right_ankle"][ok[0]])
        return rot.transformed(0.0, (-mid[0], -mid[1], 0.0))




# -- mocap markers -> joint centres -----------------------------------------------------------------------
#: Marker set of the AddBiomechanics/OpenCap test data (e.g. mocap_addbiomechanics/DJ1/markers.trc).
#: joint: (markers averaged, medial offset in m applied toward the body midline, note)
ADDBIOMECHANICS_MARKERS: dict[str, tuple[tuple[str, ...], float, str]] = {
    "{L}_hip": (("{S}_HJC",), 0.0, "hip joint centre marker (regression) as given"),
    "{L}_knee": (("{s}_knee",), 0.05, "lateral knee marker moved 5 cm medially (half a typical knee width)"),
    "{L}_ankle": (("{s}_ankle",), 0.035, "lateral malleolus moved 3.5 cm medially (half a typical ankle width)"),
    "{L}_heel": (("{s}_calc",), 0.0, "calcaneus marker"),
    "{L}_foot_index": (("{s}_toe",), 0.0, "toe marker"),
    "{L}_shoulder": (("{S}_Shoulder",), 0.0, "acromion marker, lowered 5 cm along the trunk axis"),
    "{L}_elbow": (("{S}_elbow_med", "{S}_elbow_lat"), 0.0, "mean of medial and lateral epicondyles"),
    "{L}_wrist": (("{S}_wrist_radius", "{S}_wrist_ulna"), 0.0, "mean of radial and ulnar styloids"),
}
_SIDES = {"left": {"L": "left", "S": "L", "s": "L"}, "right": {"L": "right", "S": "R", "s": "r"}}


def _norm(name: str) -> str:
    return name.lower().replace(".", "_").replace(" ", "_")


def joints_from_markers(markers: dict[str, np.ndarray], *, file=None) -> tuple[dict[str, np.ndarray], dict]:
    """Joint centres (m) from the AddBiomechanics/OpenCap marker set (see :data:`ADDBIOMECHANICS_MARKERS`).

    Markers are matched case-insensitively with ``.`` and ``_`` treated alike. ``neck`` is the C7 marker
    (de Leva's CERV). Medial offsets are applied along the left-right axis (from one side's marker to the
    other's, made perpendicular to the vertical), an approximation documented in docs/rendering.md.
    Returns the joints and the mapping used (joint -> description).
    """
    lookup = {_norm(k): k for k in markers}

    def get(name):
        key = lookup.get(_norm(name))
        return None if key is None else np.asarray(markers[key], dtype=float)

    joints, used, missing = {}, {}, []
    raw = {}
    for side, sub in _SIDES.items():
        for joint_t, (names, offset, note) in ADDBIOMECHANICS_MARKERS.items():
            joint = joint_t.format(**sub)
            arrs = [get(n.format(**sub)) for n in names]
            if any(a is None for a in arrs):
                missing.extend(n.format(**sub) for n, a in zip(names, arrs) if a is None)
                continue
            raw[joint] = (np.mean(arrs, axis=0), offset)
            used[joint] = f"{' + '.join(n.format(**sub) for n in names)}: {note}"
    if missing:
        raise InputError(f"marker(s) {', '.join(sorted(set(missing)))} not found", file=file, field="markers",
                         expected="the AddBiomechanics/OpenCap marker set (see docs/rendering.md)")
    for joint, (pos, offset) in raw.items():
        if offset:
            side = joint.split("_")[0]
            other = raw[joint.replace(side, "right" if side == "left" else "left")][0]
            d = other - pos
            d[:, 2] = 0.0
            d /= np.linalg.norm(d, axis=1, keepdims=True)
            pos = pos + offset * d
        joints[joint] = pos
    mid_sh = 0.5 * (joints["left_shoulder"] + joints["right_shoulder"])
    mid_hip = 0.5 * (joints["left_hip"] + joints["right_hip"])
    axis = mid_sh - mid_hip
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    for side in ("left", "right"):
        joints[f"{side}_shoulder"] = joints[f"{side}_shoulder"] - 0.05 * axis
    c7 = get("C7")
    if c7 is not None:
        joints["neck"] = c7
        used["neck"] = "C7 marker (de Leva CERV)"
    return joints, used


def motion_from_recording(recording, *, file=None) -> Motion:
    """A :class:`Motion` from a mocap :class:`ground_truth.Recording` (markers → joint centres, z-up).

    The AddBiomechanics/OpenCap marker set is tried first (:func:`joints_from_markers`), then a
    Plug-in-Gait-like set through :func:`ground_truth.com.joint_centres_from_markers` (Harrington hip
    regression, Rab shoulder, lateral/medial marker midpoints, head centroid). Marker names are matched without
    a ``Subject:`` prefix.
    """
    src = file or recording.path
    if recording.markers is None:
        raise InputError("recording has no markers", file=src, field="markers")
    ts = recording.markers
    markers = {k.split(":")[-1]: to_z_up(ts[k], recording.vertical_axis) for k in ts.channels if ts[k].ndim == 2}
    meta = {"vertical_axis_in_file": int(recording.vertical_axis),
            "frame": "z-up lab frame; y-up files rotated (x, y, z) -> (x, -z, y)"}
    try:
        joints, used = joints_from_markers(markers, file=src)
        meta.update(marker_set="AddBiomechanics/OpenCap", marker_to_joint=used)
    except InputError as first:
        from ground_truth.com import joint_centres_from_markers

        joints = joint_centres_from_markers(markers)
        missing = [j for j in REQUIRED_JOINTS if j not in joints]
        if missing:
            raise InputError(f"cannot build joint(s) {', '.join(missing)} from the markers: neither the "
                             f"AddBiomechanics set ({first.reason}) nor a Plug-in-Gait set", file=src,
                             field="markers", expected="one of the marker sets in docs/rendering.md") from None
        joints = {k: v for k, v in joints.items() if k != "pelvis"}
        meta.update(marker_set="Plug-in-Gait-like", marker_to_joint="ground_truth.com.joint_centres_from_markers")
    return Motion(ts.time, joints, str(recording.path), meta)


# -- test pattern -------------------------------------------------------------------------------------------
def pendulum_stance_motion(duration_s: float = 10.0, fs_hz: float = 100.0, *, height_m: float = 1.75,
                           stance: str = "left", sway_ap_deg: float = 1.5, sway_ml_deg: float = 1.0,
                           seed: int = 0) -> Motion:
    """A rigid figure standing on one leg and swaying about the stance ankle (a kinematic test pattern).

    The body (every joint except the stance foot) rotates rigidly about the stance ankle by two smooth
    random angles (anterior-posterior about the lab y axis, medio-lateral about x) with the given RMS. The
    lifted leg has the hip flexed 20° and the knee flexed 80° (foot behind, about 25 cm above the floor).
    The figure faces +x; lengths are Winter's (2009) fractions of height. This is not a balance model: it
    exists to render videos whose truth is exact and simple to reason about.
    """
    check_option("stance", stance, ("left", "right"))
    n = int(round(duration_s * fs_hz)) + 1
    t = np.arange(n) / fs_hz
    H = float(height_m)
    hip_w, sh_w = 0.191 * H / 2, 0.259 * H / 2
    z_ankle, z_knee, z_hip, z_sh = 0.039 * H, 0.285 * H, 0.530 * H, 0.818 * H
    thigh, shank = z_hip - z_knee, z_knee - z_ankle
    base = {}
    for side, s in (("left", 1.0), ("right", -1.0)):
        y_leg = s * hip_w
        base[f"{side}_hip"] = np.array([0.0, y_leg, z_hip])
        base[f"{side}_shoulder"] = np.array([0.0, s * sh_w, z_sh])
        base[f"{side}_elbow"] = np.array([0.0, s * (sh_w + 0.02 * H), z_sh - 0.186 * H])
        base[f"{side}_wrist"] = np.array([0.03 * H, s * (sh_w + 0.025 * H), z_sh - 0.332 * H])
        if (side == stance):
            base[f"{side}_knee"] = np.array([0.0, y_leg, z_knee])
            base[f"{side}_ankle"] = np.array([0.0, y_leg, z_ankle])
        else:
            hf, kf = np.deg2rad(20.0), np.deg2rad(80.0)
            knee = np.array([thigh * np.sin(hf), y_leg, z_hip - thigh * np.cos(hf)])
            sh_dir = np.array([-np.sin(kf - hf), 0.0, -np.cos(kf - hf)])
            base[f"{side}_knee"] = knee
            base[f"{side}_ankle"] = knee + shank * sh_dir
    base["neck"] = np.array([0.0, 0.0, z_sh + 0.02 * H])
    base["head_top"] = np.array([0.0, 0.0, H])
    pivot = base[f"{stance}_ankle"].copy()
    rng = np.random.default_rng(seed)

    def smooth_noise(rms_deg):
        # Sum of a few sinusoids in 0.1-1 Hz with random phases: smooth, band-limited, reproducible.
        freqs = rng.uniform(0.1, 1.0, 6)
        phases = rng.uniform(0, 2 * np.pi, 6)
        x = np.sum(np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]), axis=0)
        return np.deg2rad(rms_deg) * x / np.std(x)

    a_ap, a_ml = smooth_noise(sway_ap_deg), smooth_noise(sway_ml_deg)
    ca, sa, cm, sm = np.cos(a_ap), np.sin(a_ap), np.cos(a_ml), np.sin(a_ml)
    joints = {}
    for name, p in base.items():
        v = p - pivot
        # AP tilt about y (positive = forward lean), then ML tilt about x.
        x1 = ca * v[0] + sa * v[2]
        z1 = -sa * v[0] + ca * v[2]
        y2 = cm * v[1] - sm * z1
        z2 = sm * v[1] + cm * z1
        joints[name] = np.stack([x1, y2, z2], axis=-1) + pivot
    joints[f"{stance}_ankle"] = np.tile(pivot, (n, 1))
    return Motion(t, joints, f"pendulum:stance={stance},seed={seed}",
                  {"generator": "pendulum_stance_motion", "height_m": H, "stance": stance,
                   "sway_ap_rad": a_ap, "sway_ml_rad": a_ml})


def _parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    kind, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, val = item.partition("=")
        if not eq:
            raise InputError(f"parameter {item!r} has no value", field="MOTION",
                             expected="kind:key=value,key=value")
        for conv in (int, float):
            try:
                kwargs[key.strip()] = conv(val)
                break
            except ValueError:
                continue
        else:
            kwargs[key.strip()] = {"true": True, "false": False}.get(val.strip().lower(), val.strip())
    return kind, kwargs


def load_motion(spec: str) -> Motion:
    """Load a motion from a spec: ``synthetic:seed=3,strategy=hip``, ``pendulum:seed=1,stance=right``, or a
    .c3d/.trc file path (markers → joint centres)."""
    validate_type(spec, str, "MOTION")
    kind, kwargs = _parse_spec(spec)
    if kind == "synthetic":
        try:
            from ground_truth.synthetic.simulate import simulate_single_leg_stance
        except ImportError as exc:
            from ground_truth.kernel import NotAvailableError
            raise NotAvailableError(f"the synthetic generator is not available ({exc})") from None
        try:
            trial = simulate_single_leg_stance(**kwargs)
        except TypeError as exc:
            raise InputError(f"bad synthetic parameters ({exc})", field="MOTION") from None
        joints = {k: np.asarray(v, dtype=float) for k, v in trial.joints.items()}
        return Motion(np.asarray(trial.time_s, dtype=float), joints, spec, {"generator": "synthetic", **kwargs})
    if kind == "pendulum":
        try:
            return pendulum_stance_motion(**kwargs)
        except TypeError as exc:
            raise InputError(f"bad pendulum parameters ({exc})", field="MOTION") from None
    from ground_truth.readers import read_recording
    return motion_from_recording(read_recording(spec), file=spec)
