"""Y-Balance reach distances from foot points: markers on the gold-standard side, keypoints on the floor plane on
the candidate side, one definition for both.

Geometry of the Y-Balance Test (Plisky et al. 2009, N Am J Sports Phys Ther 4:92): the stance foot's toes sit at
the centre of the Y; the anterior line points the way the stance foot points, the posteromedial and
posterolateral lines point backwards, 135° from the anterior line, towards the stance leg's medial and lateral
side. The reach is the distance along the line from the stance toes to the most distal point of the reach foot
(where it pushes the indicator), at the farthest point of the reach.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import InputError, as_float_array, check_option

DIRECTIONS = ("anterior", "posteromedial", "posterolateral")
#: Angle of each reach line from the anterior line, towards the stance leg's medial side (degrees).
LINE_ANGLE_DEG = {"anterior": 0.0, "posteromedial": 135.0, "posterolateral": -135.0}


def reach_direction(direction: str, stance_leg: str, forward_xy) -> np.ndarray:
    """Unit vector (2,) of a Y-Balance reach line in the floor plane.

    ``forward_xy`` is where the stance foot points (heel to toe, floor plane, z up). Medial for a right stance
    leg is to the left of that direction (counter-clockwise seen from above), for a left stance leg to its right.
    """
    check_option("direction", direction, DIRECTIONS)
    check_option("stance_leg", stance_leg, ("left", "right"))
    f = as_float_array(forward_xy, "forward_xy", ndim=1)
    if f.size != 2 or not np.all(np.isfinite(f)) or np.hypot(*f) == 0:
        raise InputError(f"is {f.tolist()}", field="forward_xy", expected="a finite, non-zero 2-D direction")
    f = f / np.hypot(*f)
    a = np.radians(LINE_ANGLE_DEG[direction]) * (1.0 if stance_leg == "right" else -1.0)
    c, s = np.cos(a), np.sin(a)
    return np.array([c * f[0] - s * f[1], s * f[0] + c * f[1]])


@dataclass(frozen=True)
class Reach:
    """One reach: ``distance_m`` along ``direction`` (unit vector, floor plane) at ``time_s``, from the stance
    toes; ``forward`` is the stance foot's heel-to-toe direction used for the lines."""

    direction_name: str
    distance_m: float
    time_s: float
    direction: tuple[float, float]
    forward: tuple[float, float]
    origin: tuple[float, float]
    method: str


def reach_distance(time, stance_heel, stance_toe, reach_points, *, direction: str, stance_leg: str,
                   window: tuple[float, float] | None = None, baseline_s: float = 0.5, up_axis: int = 2,
                   source: str = "foot points") -> Reach:
    """Y-Balance reach along one line from foot point trajectories.

    Parameters
    ----------
    time : array (n,)
    stance_heel, stance_toe : array (n, 3)
        The stance foot's heel and toe (markers, or keypoints on the floor plane), metres, ``up_axis`` vertical.
        Their median over the first ``baseline_s`` seconds places the Y: origin at the toe, anterior line
        along heel to toe.
    reach_points : array (n, k, 3)
        Points of the reach foot (e.g. heel, toe, ankle); the most distal one along the line counts.
    direction : {"anterior", "posteromedial", "posterolateral"}
    stance_leg : {"left", "right"}
    window : (start, end), optional
        Only samples inside it count (e.g. the single-leg period); default all.

    Returns
    -------
    Reach

    Notes
    -----
    The distance is taken in the horizontal plane; samples where no reach point is known are skipped, and a
    window without any raises InputError. The stance foot's baseline must be known (both points finite in
    the baseline period).
    """
    t = as_float_array(time, "time", ndim=1)

    def pts(a, name, ndim):
        p = as_float_array(a, name)
        if p.ndim != ndim or p.shape[0] != t.size or p.shape[-1] <= up_axis:
            raise InputError(f"has shape {p.shape}", field=name,
                             expected=f"({t.size}, 3)" if ndim == 2 else f"({t.size}, k, 3)")
        return p
    heel, toe = pts(stance_heel, "stance_heel", 2), pts(stance_toe, "stance_toe", 2)
    rp = pts(reach_points, "reach_points", 3)
    horiz = [i for i in range(3) if i != up_axis]
    base = t < t[0] + baseline_s
    with np.errstate(all="ignore"):
        h0 = np.nanmedian(heel[base][:, horiz], axis=0) if np.isfinite(heel[base]).any() else np.full(2, np.nan)
        t0 = np.nanmedian(toe[base][:, horiz], axis=0) if np.isfinite(toe[base]).any() else np.full(2, np.nan)
    if not (np.all(np.isfinite(h0)) and np.all(np.isfinite(t0))):
        raise InputError(f"the stance heel or toe is unknown in the first {baseline_s:g} s", field="stance_heel",
                         expected="the stance foot seen while both feet stand at the start of the trial")
    u = reach_direction(direction, stance_leg, t0 - h0)
    along = (rp[:, :, horiz] - t0) @ u                      # (n, k)
    keep = np.ones(t.size, bool) if window is None else (t >= window[0]) & (t <= window[1])
    along = np.where(keep[:, None], along, np.nan)
    if not np.isfinite(along).any():
        raise InputError("no reach-foot sample in the window", field="reach_points",
                         expected="the reach foot seen during the reach")
    rows = np.flatnonzero(np.isfinite(along).any(axis=1))
    best = np.nanmax(along[rows], axis=1)
    i = int(rows[int(np.argmax(best))])
    best_val = float(best.max())
    return Reach(direction, best_val, float(t[i]), (float(u[0]), float(u[1])),
                 tuple(float(x) for x in (t0 - h0) / np.hypot(*(t0 - h0))), (float(t0[0]), float(t0[1])),
                 f"{source}: most distal reach-foot point along the {direction} line from the stance toes "
                 f"(Plisky et al. 2009 geometry), maximum over {int(keep.sum())} samples")
