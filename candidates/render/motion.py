"""3-D joint trajectories to render: from the synthetic generator, from mocap markers (joint centres through the
recording's marker-set mapping, :mod:`ground_truth.marker_mapping`), or a test pattern.

A :class:`Motion` holds joint centres in metres in a z-up lab frame (x, y horizontal), on the mocap clock.
Recordings whose vertical axis is y (OpenSim .trc/.mot exports) are rotated to z-up by
``(x, y, z) -> (x, -z, y)`` (a proper rotation about x by +90°).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ground_truth.kernel import (InputError, as_float_array, check_option, mask_implausible,
                                 require_plausible, validate_type)
from ground_truth.markersets import markers_z_up

#: Most samples a generated motion may have (pendulum or synthetic: duration × rate). Not in ``BOUNDS``: a
#: rendered test motion of more than ~30 minutes at 1 kHz is a typing error, and generating it would take
#: gigabytes before a frame is drawn.
MAX_MOTION_SAMPLES = 2_000_000

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
        notes: list[str] = []
        for name, v in self.joints.items():
            a = as_float_array(v, f"joints[{name!r}]", ndim=2)
            if a.shape != (t.size, 3):
                raise InputError(f"has shape {a.shape}", file=self.source or None, field=f"joints[{name!r}]",
                                 expected=f"({t.size}, 3): one 3-D position (m) per sample")
            # A position no capture volume holds (a corrupted marker, inf) is missing, not drawn off-screen.
            joints[name] = mask_implausible(a, "position_m", what=f"{self.source or 'motion'} joint {name}",
                                            notes=notes)
        if notes:
            self.meta = dict(self.meta)
            self.meta["notes"] = list(self.meta.get("notes") or []) + notes
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
        meta["transforms"] = list(meta.get("transforms", [])) + [{"rotate_z_deg": float(rotation_z_deg),
                                                                   "translate_m": tr.tolist()}]
        if "heading_deg" in meta:       # the facing direction turns with the motion
            meta["heading_deg"] = float((meta["heading_deg"] + rotation_z_deg + 180.0) % 360.0 - 180.0)
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

    def heading_deg(self) -> float:
        """Direction the subject faces, degrees from lab +x towards +y: the pelvis markers' estimate recorded
        by :func:`motion_from_recording` (``meta["heading_deg"]``), else the normal of the hip centres' line
        ((left hip - right hip) x up), as a circular mean over the motion."""
        if "heading_deg" in self.meta:
            return float(self.meta["heading_deg"])
        fwd = np.cross(self.joints["left_hip"] - self.joints["right_hip"], [0.0, 0.0, 1.0])
        ang = np.arctan2(fwd[:, 1], fwd[:, 0])
        ang = ang[np.isfinite(ang)]
        if ang.size == 0:
            raise InputError("no frame with both hips known", file=self.source or None, field="joints")
        return float(np.degrees(np.arctan2(np.mean(np.sin(ang)), np.mean(np.cos(ang)))))

    def placed_facing_x(self, *, centre: str = "ankles") -> "Motion":
        """The motion turned to face lab +x (yaw = -:meth:`heading_deg`) and moved horizontally to the origin:
        the frame of the project's camera rigs (``candidates.render.rig``).

        ``centre``: ``"ankles"`` puts the ankles' midpoint of the first frame with both ankles at the origin
        (:meth:`placed_at_origin`); ``"pelvis"`` the hip centres' midpoint, median over the motion (keeps the
        body centred in the views when a recording starts with one foot already up or the free leg swings).
        ``meta["transforms"]`` records the rotation and translation, to move the gold standard the same way
        (:meth:`lab_to_placed`)."""
        check_option("centre", centre, ("ankles", "pelvis"))
        yaw = -self.heading_deg()
        if centre == "ankles":
            return self.placed_at_origin(yaw)
        rot = self.transformed(yaw)
        mid = np.nanmedian(0.5 * (rot.joints["left_hip"] + rot.joints["right_hip"]), axis=0)
        if not np.all(np.isfinite(mid)):
            raise InputError("no frame with both hips known", file=self.source or None, field="joints")
        return rot.transformed(0.0, (-mid[0], -mid[1], 0.0))

    def lab_to_placed(self) -> tuple[np.ndarray, np.ndarray]:
        """``(R, t)`` of the transforms applied since the motion was read: placed = lab @ R.T + t (m)."""
        R, t = np.eye(3), np.zeros(3)
        for tr in self.meta.get("transforms", []):
            a = np.deg2rad(tr["rotate_z_deg"])
            Rz = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
            R, t = Rz @ R, Rz @ t + np.asarray(tr["translate_m"], float)
        return R, t




# -- mocap markers -> joint centres -----------------------------------------------------------------------
def joints_from_markers(markers: dict[str, np.ndarray], *, file=None, marker_map=None
                        ) -> tuple[dict[str, np.ndarray], dict]:
    """Joint centres (m) of a marker set through its marker-set mapping (:mod:`ground_truth.marker_mapping`).

    ``markers`` maps marker names to (n, 3) positions, z-up lab frame; ``marker_map`` is a mapping TOML path,
    a built-in name or None (detected from the names). Returns the joints and how each was built
    (joint -> description). Raises InputError naming every joint the figure needs (:data:`REQUIRED_JOINTS`)
    that the set cannot give, and why.
    """
    from ground_truth.marker_mapping import map_markers

    mapped = map_markers(markers, marker_map, file=file)
    mapped.require(REQUIRED_JOINTS, what="the rendered figure", file=file)
    return dict(mapped.joints), dict(mapped.used)


def motion_from_recording(recording, *, file=None, marker_map=None) -> Motion:
    """A :class:`Motion` from a mocap :class:`ground_truth.Recording` (markers -> joint centres, z-up).

    The joint centres come from the recording's marker-set mapping (``marker_map``: a TOML path or a built-in
    name; default detected from the marker names, docs/marker-sets.md), the same mapping the gold-standard COM
    and joint angles use. Marker names are matched without a ``Subject:`` prefix. A set that cannot give a joint
    the figure needs (a lower-body set has no arms) is refused with the joints and reasons, never guessed.
    ``meta`` records the mapping, how each joint was built, what is missing and the facing direction.
    """
    from ground_truth.marker_mapping import map_markers, pelvis_heading_deg

    src = file or recording.path
    if recording.markers is None:
        raise InputError("recording has no markers", file=src, field="markers")
    markers = markers_z_up(recording.markers, recording.vertical_axis)
    mapped = map_markers(markers, marker_map, file=src)
    mapped.require(REQUIRED_JOINTS, what="the rendered figure", file=src)
    meta = {"vertical_axis_in_file": int(recording.vertical_axis),
            "frame": "z-up lab frame; y-up files rotated (x, y, z) -> (x, -z, y)",
            "marker_set": mapped.mapping.title, "marker_map": mapped.mapping.source,
            "marker_to_joint": dict(mapped.used), "missing_joints": dict(mapped.missing)}
    try:
        meta["heading_deg"] = pelvis_heading_deg(mapped)
        meta["heading_from"] = "pelvis markers (circular mean over the recording)"
    except InputError:
        pass    # Motion.heading_deg() falls back on the hip centres
    return Motion(markers.time, dict(mapped.joints), str(recording.path), meta)


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


def _check_generator(kind: str, kwargs: dict[str, Any], durations: dict[str, float],
                     rates: dict[str, float]) -> None:
    """Durations and rates of a generator spec within their bounds, and its size below
    :data:`MAX_MOTION_SAMPLES` (``durations``/``rates``: the generator's parameters and their defaults)."""
    for key, value in kwargs.items():
        if isinstance(value, float) and not np.isfinite(value):
            raise InputError(f"{kind} parameter {key} is {value}", field="MOTION", expected="a finite number")
    seed = kwargs.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"{kind} parameter seed is {seed!r}", field="MOTION", expected="a whole number >= 0")
    for table, quantity in ((durations, "duration_s"), (rates, "rate_hz")):
        for key in table:
            if key in kwargs:
                require_plausible(kwargs[key], quantity, field=f"MOTION {kind}:{key}", error=InputError)
    longest = max(float(kwargs.get(k, v)) for k, v in durations.items())
    fastest = max(float(kwargs.get(k, v)) for k, v in rates.items())
    n = longest * fastest
    if n > MAX_MOTION_SAMPLES:
        raise InputError(f"{kind} motion of {longest:g} s at {fastest:g} Hz would have {n:,.0f} samples",
                         field="MOTION", expected=f"at most {MAX_MOTION_SAMPLES:,} samples (duration x rate)")


def load_motion(spec: str, *, marker_map=None) -> Motion:
    """Load a motion from a spec: ``synthetic:seed=3,strategy=hip``, ``pendulum:seed=1,stance=right``, or a
    .c3d/.trc file path (markers → joint centres through ``marker_map``, default detected from the names)."""
    validate_type(spec, str, "MOTION")
    kind, kwargs = _parse_spec(spec)
    if kind == "synthetic":
        # the generator's defaults (ground_truth.synthetic.simulate.simulate_single_leg_stance)
        _check_generator(kind, kwargs, {"duration_s": 30.0, "max_duration_s": 30.0},
                         {"marker_rate_hz": 100.0, "analog_rate_hz": 1000.0})
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
        _check_generator(kind, kwargs, {"duration_s": 10.0}, {"fs_hz": 100.0})
        try:
            return pendulum_stance_motion(**kwargs)
        except TypeError as exc:
            raise InputError(f"bad pendulum parameters ({exc})", field="MOTION") from None
    from ground_truth.readers import read_recording
    return motion_from_recording(read_recording(spec), file=spec, marker_map=marker_map)
