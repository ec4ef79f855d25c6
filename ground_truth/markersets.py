"""Marker names of the common marker sets, the points of each foot, and markers in a z-up lab frame.

Used by every gold-standard measure that needs a named marker (foot events, the lifted ankle's height, reach
geometry, joint angles). Names are matched case-insensitively and without a ``Subject:`` prefix (Vicon Nexus
writes ``FullBody_dynamic:L_knee``). The joint centres of a whole marker set come from a marker-set mapping
(:mod:`ground_truth.marker_mapping`, docs/marker-sets.md); the lists below are the foot markers of the common
sets for code that needs only a foot.
"""
from __future__ import annotations

import numpy as np

from .kernel import TimeSeries, check_option

#: Marker names of the lateral malleolus in common marker sets (Plug-in Gait, OpenCap/AddBiomechanics, ...).
ANKLE_MARKERS = {"left": ("LANK", "L_ankle", "L.Ankle", "LLMAL", "L_LatAnkle", "left_ankle", "LLM"),
                 "right": ("RANK", "r_ankle", "R.Ankle", "RLMAL", "R_LatAnkle", "right_ankle", "RLM")}
#: Heel and toe markers of the same marker sets; with the ankle, the points of a foot (foot events).
HEEL_MARKERS = {"left": ("LHEE", "L_calc", "L.Heel", "LHEEL", "LCAL"),
                "right": ("RHEE", "r_calc", "R.Heel", "RHEEL", "RCAL")}
TOE_MARKERS = {"left": ("LTOE", "L_toe", "L.Toe", "LMT2", "LTT2"), "right": ("RTOE", "r_toe", "R.Toe", "RMT2", "RTT2")}
FOOT_MARKERS = {side: ANKLE_MARKERS[side] + HEEL_MARKERS[side] + TOE_MARKERS[side] for side in ("left", "right")}


def other_side(side: str) -> str:
    """The other leg: 'left' <-> 'right'."""
    check_option("side", side, ("left", "right"))
    return "left" if side == "right" else "right"


def strip_subject_prefix(name: str) -> str:
    """A marker name without its ``Subject:`` prefix (Vicon/Nexus ``FullBody_dynamic:L_knee`` -> ``L_knee``)."""
    return name.rsplit(":", 1)[-1]


def _lookup(markers: TimeSeries) -> dict[str, str]:
    """File names keyed by their lower-case name without a subject prefix (the first of duplicates kept)."""
    out: dict[str, str] = {}
    for n in markers.channels:
        out.setdefault(strip_subject_prefix(n).lower(), n)
    return out


def find_marker(markers: TimeSeries, names) -> str | None:
    """The first of ``names`` that ``markers`` holds (case-insensitive, ignoring a ``Subject:`` prefix), as
    spelled in the file, or None."""
    lookup = _lookup(markers)
    return next((lookup[m.lower()] for m in names if m.lower() in lookup), None)


def foot_points(markers: TimeSeries, side: str, names=None) -> np.ndarray | None:
    """(n, k, 3) positions of one foot's markers found in ``markers``, or None when it holds none of them.

    ``names`` restricts the search (default every name in :data:`FOOT_MARKERS`)."""
    lookup = _lookup(markers)
    found = list(dict.fromkeys(lookup[m.lower()] for m in (names or FOOT_MARKERS[side]) if m.lower() in lookup))
    return np.stack([markers[n] for n in found], axis=1) if found else None


def to_z_up(points: np.ndarray, vertical_axis: int) -> np.ndarray:
    """Rotate lab-frame points (..., 3) so that ``vertical_axis`` becomes z (right-handed frames)."""
    check_option("vertical_axis", vertical_axis, (1, 2))
    if vertical_axis == 2:
        return np.asarray(points, dtype=float)
    p = np.asarray(points, dtype=float)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def markers_z_up(markers: TimeSeries, vertical_axis: int) -> TimeSeries:
    """A recording's 3-D markers in a z-up lab frame (y-up files rotated by :func:`to_z_up`)."""
    if vertical_axis == 2:
        return markers
    chans = [k for k in markers.channels if markers[k].ndim == 2]
    return TimeSeries(markers.time, {k: to_z_up(markers[k], vertical_axis) for k in chans},
                      {k: "m" for k in chans}, meta=dict(markers.meta))


def marker_points(markers: TimeSeries) -> np.ndarray | None:
    """Every 3-D marker as one (n, k, 3) array (motion energy), or None without any."""
    chans = [k for k in markers.channels if markers[k].ndim == 2]
    return np.stack([markers[k] for k in chans], axis=1) if chans else None
