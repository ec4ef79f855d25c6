"""Body-segment parameters of de Leva (1996) and the whole-body centre of mass from joint positions.

One table serves both sides of the benchmark: joint centres derived from mocap markers (3-D, metres) and pose
keypoints (BlazePose-33 / COCO-17, 2-D pixels or 3-D). Segments are therefore defined between *joint names*
that both can supply (``left_hip``, ``left_knee``, ... as in :data:`candidates.skeletons.BLAZEPOSE33`), plus
a few virtual joints computed here when absent (``mid_hip``, ``mid_shoulder``, ``head_centre``, hand tips).

Reference
---------
de Leva P (1996) Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters. J Biomech 29(9):1223-1230,
Table 4 (mass as a fraction of body mass, longitudinal COM position as a fraction of the segment length from
the *origin* endpoint, radii of gyration as a fraction of the segment length, mean segment lengths).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import InputError, check_option, validate_type

SEXES = ("male", "female")


@dataclass(frozen=True)
class SegmentParameters:
    """de Leva (1996) Table 4 row for one segment and sex.

    ``com_fraction`` is measured from ``origin`` towards ``other`` (the anatomical endpoints of de Leva);
    radii of gyration are fractions of the segment length; ``length_mm`` is de Leva's mean length
    (male stature 1741 mm, female 1735 mm).
    """

    segment: str
    origin: str          # de Leva's landmark, e.g. "VERT", "CERV", "SJC"
    other: str
    mass_fraction: float
    com_fraction: float
    r_sagittal: float
    r_transverse: float
    r_longitudinal: float
    length_mm: float


# de Leva 1996, Table 4: the upper part, and from the lower part (alternative endpoints) the trunk between
# the mid-shoulder and mid-hip joint centres (MIDS-MIDH), the trunk from the suprasternale (SUPR-MIDH) and the
# shank from knee to ankle joint centre (KJC-AJC). One row per segment: its endpoints (the same for both sexes),
# then the male and the female values: mass %, CM % from origin, r_sag %, r_trans %, r_long %, length mm.
_DE_LEVA = {
    "head":       ("VERT", "CERV", (6.94, 50.02, 30.3, 31.5, 26.1, 242.9), (6.68, 48.41, 27.1, 29.5, 26.1, 243.7)),
    "trunk":      ("CERV", "MIDH", (43.46, 51.38, 32.8, 30.6, 16.9, 603.3), (42.57, 49.64, 30.7, 29.2, 14.7, 614.8)),
    "trunk_supr": ("SUPR", "MIDH", (43.46, 44.86, 37.2, 34.7, 19.1, 531.9), (42.57, 41.51, 35.7, 33.9, 17.1, 529.3)),
    "trunk_mids": ("MIDS", "MIDH", (43.46, 43.10, 38.4, 35.8, 19.7, 515.5), (42.57, 37.82, 37.9, 36.1, 18.2, 497.9)),
    "upper_arm":  ("SJC", "EJC", (2.71, 57.72, 28.5, 26.9, 15.8, 281.7), (2.55, 57.54, 27.8, 26.0, 14.8, 275.1)),
    "forearm":    ("EJC", "WJC", (1.62, 45.74, 27.6, 26.5, 12.1, 268.9), (1.38, 45.59, 26.1, 25.7, 9.4, 264.3)),
    "hand":       ("WJC", "MET3", (0.61, 79.00, 62.8, 51.3, 40.1, 86.2), (0.56, 74.74, 53.1, 45.4, 33.5, 78.0)),
    "thigh":      ("HJC", "KJC", (14.16, 40.95, 32.9, 32.9, 14.9, 422.2), (14.78, 36.12, 36.9, 36.4, 16.2, 368.5)),
    "shank":      ("KJC", "LMAL", (4.33, 44.59, 25.5, 24.9, 10.3, 434.0), (4.81, 44.16, 27.1, 26.7, 9.3, 432.3)),
    "shank_ajc":  ("KJC", "AJC", (4.33, 43.95, 25.1, 24.6, 10.2, 440.3), (4.81, 43.52, 26.7, 26.3, 9.2, 438.6)),
    "foot":       ("HEEL", "TTIP", (1.37, 44.15, 25.7, 24.5, 12.4, 258.1), (1.29, 40.14, 29.9, 27.9, 13.9, 228.3)),
}


def de_leva_parameters(sex: str = "male") -> dict[str, SegmentParameters]:
    """de Leva (1996) Table 4 parameters for one sex, keyed by segment name (fractions, not percent)."""
    check_option("sex", sex, SEXES)
    out = {}
    for seg, (o, e, *by_sex) in _DE_LEVA.items():
        m, c, rs, rt, rl, length = by_sex[SEXES.index(sex)]
        out[seg] = SegmentParameters(seg, o, e, m / 100, c / 100, rs / 100, rt / 100, rl / 100, length)
    return out


@dataclass(frozen=True)
class Segment:
    """One body segment of the whole-body model, between two joint names.

    ``definitions`` lists ``(proximal, distal, com_fraction)`` alternatives tried in order: the first whose
    joints are all supplied is used for the whole recording (never switched per frame, so a gap stays a gap).
    The COM lies at ``proximal + com_fraction * (distal - proximal)``; a fraction above 1 extrapolates.
    """

    name: str
    mass_fraction: float
    definitions: tuple[tuple[str, str, float], ...]
    side: str = ""


def segment_table(sex: str = "male"):
    """The whole-body segment model in joint names, as a tidy DataFrame (one row per segment and side).

    Parameters
    ----------
    sex : {"male", "female"}

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``side``, ``mass_fraction``, ``proximal``, ``distal``, ``com_fraction`` (first
        definition), ``fallbacks`` (further definitions, as text), ``de_leva_origin``, ``de_leva_other``.
        Mass fractions sum to 1 (de Leva's table sums to 1.000 for males and 0.9999 for females; the female
        remainder is left as is).

    Notes
    -----
    Endpoints, chosen so that both mocap joint centres and pose keypoints can supply them:

    * head: ``head_top`` (vertex) → ``neck`` (C7, de Leva's CERV), COM 50.02 % (m) / 48.41 % (f) from the
      vertex. Fallback for keypoint sets without a vertex: ``head_centre`` (the ear midpoint unless given),
      taken as the head COM itself: de Leva's head CM lies near the ear canal.
    * trunk: ``mid_shoulder`` → ``mid_hip``, de Leva's MIDS-MIDH definition (the midpoints of the shoulder and
      hip joint centres), COM 43.10 % (m) / 37.82 % (f) from the mid-shoulder point.
    * upper arm shoulder → elbow, forearm elbow → wrist, thigh hip → knee (de Leva's joint centres); shank
      knee → ankle with de Leva's KJC-AJC definition (ankle joint centre), 43.95 % / 43.52 %.
    * hand: wrist → ``hand_tip`` (MET3; the midpoint of BlazePose ``index`` and ``pinky`` unless given).
      Fallback: extrapolated along the forearm, elbow → wrist at 1 + f_hand·L_hand/L_forearm.
    * foot: ``heel`` → ``foot_index`` (de Leva's heel → toe tip). Fallback for COCO-17: the ankle
      (the foot is 1.3-1.4 % of body mass; this moves whole-body COM by a few mm at most).
    """
    import pandas as pd

    par = de_leva_parameters(sex)
    rows = []
    for seg in body_segments(sex):
        p, d, f = seg.definitions[0]
        base = segment_parameter_key(seg)
        rows.append({"segment": seg.name, "side": seg.side, "mass_fraction": seg.mass_fraction,
                     "proximal": p, "distal": d, "com_fraction": f,
                     "fallbacks": "; ".join(f"{a}->{b}@{c:.4f}" for a, b, c in seg.definitions[1:]),
                     "de_leva_origin": par[base].origin, "de_leva_other": par[base].other})
    return pd.DataFrame(rows)


def segment_parameter_key(segment: Segment) -> str:
    """The :func:`de_leva_parameters` key a model segment takes its parameters from."""
    base = segment.name.split("_", 1)[1] if segment.side else segment.name
    return {"trunk": "trunk_mids", "shank": "shank_ajc"}.get(base, base)


def body_segments(sex: str = "male") -> tuple[Segment, ...]:
    """The 14 segments (head, trunk, and per side upper arm, forearm, hand, thigh, shank, foot)."""
    par = de_leva_parameters(sex)
    hand_extrap = 1.0 + par["hand"].com_fraction * par["hand"].length_mm / par["forearm"].length_mm
    segs = [
        Segment("head", par["head"].mass_fraction,
                (("head_top", "neck", par["head"].com_fraction), ("head_centre", "head_centre", 0.0))),
        Segment("trunk", par["trunk_mids"].mass_fraction,
                (("mid_shoulder", "mid_hip", par["trunk_mids"].com_fraction),)),
    ]
    for side in ("left", "right"):
        s = side + "_"
        segs += [
            Segment(s + "upper_arm", par["upper_arm"].mass_fraction,
                    ((s + "shoulder", s + "elbow", par["upper_arm"].com_fraction),), side),
            Segment(s + "forearm", par["forearm"].mass_fraction,
                    ((s + "elbow", s + "wrist", par["forearm"].com_fraction),), side),
            Segment(s + "hand", par["hand"].mass_fraction,
                    ((s + "wrist", s + "hand_tip", par["hand"].com_fraction),
                     (s + "elbow", s + "wrist", hand_extrap)), side),
            Segment(s + "thigh", par["thigh"].mass_fraction,
                    ((s + "hip", s + "knee", par["thigh"].com_fraction),), side),
            Segment(s + "shank", par["shank_ajc"].mass_fraction,
                    ((s + "knee", s + "ankle", par["shank_ajc"].com_fraction),), side),
            Segment(s + "foot", par["foot"].mass_fraction,
                    ((s + "heel", s + "foot_index", par["foot"].com_fraction), (s + "ankle", s + "ankle", 0.0)),
                    side),
        ]
    return tuple(segs)


def derive_joints(joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add the virtual joints the segment model uses, when they can be computed and are not given.

    ``mid_hip`` (mean of hips), ``mid_shoulder`` (mean of shoulders), ``head_centre`` (mean of ears),
    ``left_hand_tip`` / ``right_hand_tip`` (mean of ``index`` and ``pinky``); ``mid_hip`` is taken from
    ``pelvis`` when the hips are not both given. Values given by the caller are never overwritten. NaN
    propagates (a mean of a NaN and a number is NaN).
    """
    out = dict(joints)

    def mean_of(*names):
        if all(n in out for n in names):
            return np.mean([np.asarray(out[n], dtype=float) for n in names], axis=0)
        return None

    derived = {
        "mid_hip": ("left_hip", "right_hip"),
        "mid_shoulder": ("left_shoulder", "right_shoulder"),
        "head_centre": ("left_ear", "right_ear"),
        "left_hand_tip": ("left_index", "left_pinky"),
        "right_hand_tip": ("right_index", "right_pinky"),
    }
    for name, parts in derived.items():
        if name not in out:
            val = mean_of(*parts)
            if val is not None:
                out[name] = val
    if "mid_hip" not in out and "pelvis" in out:
        out["mid_hip"] = np.asarray(out["pelvis"], dtype=float)
    return out


def _prepare(joints, field="joints"):
    validate_type(joints, dict, field, "dict of joint name to (T, 2) or (T, 3) array")
    if not joints:
        raise InputError("no joints given", field=field, expected="a dict of joint name to (T, D) array")
    arrays = {}
    shape = None
    for name, values in joints.items():
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise InputError("values are not numbers", field=f"{field}[{name!r}]") from None
        if arr.ndim != 2 or arr.shape[1] not in (2, 3):
            raise InputError(f"has shape {arr.shape}", field=f"{field}[{name!r}]",
                             expected="(T, 2) or (T, 3): one 2-D or 3-D position per frame")
        if shape is None:
            shape = arr.shape
        elif arr.shape != shape:
            raise InputError(f"has shape {arr.shape} but other joints have {shape}", field=f"{field}[{name!r}]",
                             expected="every joint with the same number of frames and dimensions")
        arrays[name] = arr
    return derive_joints(arrays), shape


def segment_coms(joints: dict[str, np.ndarray], sex: str = "male") -> dict[str, np.ndarray]:
    """Centre of mass of each segment that the joints allow, (T, D) each, same units as the joints.

    Segments none of whose definitions can be built from the supplied joint names are left out (see
    :func:`whole_body_com` for how that is handled).
    """
    check_option("sex", sex, SEXES)
    arrays, _ = _prepare(joints)
    out = {}
    for seg in body_segments(sex):
        for prox, dist, frac in seg.definitions:
            if prox in arrays and dist in arrays:
                out[seg.name] = arrays[prox] + frac * (arrays[dist] - arrays[prox])
                break
    return out


def whole_body_com(joints: dict[str, np.ndarray], sex: str = "male", *, missing: str = "propagate"
                   ) -> np.ndarray:
    """Whole-body centre of mass from joint positions with de Leva (1996) segment parameters.

    Parameters
    ----------
    joints : dict of str to array of shape (T, 2) or (T, 3)
        Joint positions per frame, any consistent unit (m for mocap, px for image keypoints), 2-D or 3-D.
        Names as in BlazePose-33 (``left_hip``, ``right_knee``, ``left_heel``, ``left_foot_index``...), plus
        optionally ``head_top``, ``neck``, ``mid_hip``, ``mid_shoulder``, ``head_centre``, ``*_hand_tip``.
        COCO-17 names are a subset and work (foot and hand fallbacks apply).
    sex : {"male", "female"}
        Which de Leva column to use.
    missing : {"propagate", "renormalise"}
        ``"propagate"`` (default): a frame where any used joint is NaN gets a NaN COM; a segment that no
        definition can build raises InputError naming it. ``"renormalise"``: the COM of the segments available
        in that frame, with their masses rescaled to sum to 1 (biased toward the visible segments; use only
        for display, never for agreement statistics).

    Returns
    -------
    ndarray of shape (T, D)
        Mass-weighted mean of the segment COMs, in the joints' units.

    Notes
    -----
    Each segment COM is the point ``proximal + c·(distal − proximal)`` with de Leva's longitudinal fraction
    ``c`` (see :func:`segment_table` for the endpoints); the whole-body COM is ``Σ m_i·r_i / Σ m_i``. Because
    the operation is linear in the joint positions, it applies unchanged to 2-D keypoints: for an orthographic
    (or weak-perspective) camera the 2-D result is the projection of the 3-D COM; under strong perspective the
    error grows with the depth spread of the body relative to the camera distance.

    References
    ----------
    de Leva P (1996) J Biomech 29:1223-1230.
    """
    check_option("missing", missing, ("propagate", "renormalise"))
    check_option("sex", sex, SEXES)
    arrays, _ = _prepare(joints)
    coms = segment_coms(arrays, sex)
    segs = body_segments(sex)
    absent = [s.name for s in segs if s.name not in coms]
    if absent and missing == "propagate":
        need = {s.name: " or ".join(f"({p}, {d})" for p, d, _ in s.definitions) for s in segs if s.name in absent}
        raise InputError(f"cannot build segment(s) {', '.join(absent)} from the joints given",
                         field="joints", expected="; ".join(f"{k}: {v}" for k, v in need.items()))
    masses = np.array([s.mass_fraction for s in segs if s.name in coms])
    stack = np.stack([coms[s.name] for s in segs if s.name in coms])   # (S, T, D)
    if missing == "propagate":
        return np.einsum("s,std->td", masses, stack) / masses.sum()
    ok = np.all(np.isfinite(stack), axis=2)                              # (S, T)
    w = masses[:, None] * ok
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        com = np.einsum("st,std->td", w, np.where(ok[..., None], stack, 0.0)) / total[:, None]
    com[total == 0] = np.nan
    return com
