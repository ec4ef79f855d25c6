"""A Plug-in-Gait-like full-body marker set placed on the synthetic skeleton.

Markers sit where the marker-based joint-centre rules of :func:`ground_truth.com.joint_centres_from_markers`
put the joint centres back exactly (before noise):

* hips: ASIS/PSIS placed so that Harrington et al. (2007, J Biomech 40:595) regression returns the model's hip
  joint centres (the model's pelvis width and depth are chosen to satisfy the regression);
* knees, ankles, elbows, wrists: lateral and medial markers symmetric about the joint centre;
* shoulders: acromion markers 17 % of the inter-acromion distance above the shoulder joint centre along the
  trunk axis (Rab et al. 2002, Gait Posture 15:113);
* head: four head markers whose centroid is the head COM; hand: FIN at the third metacarpal head;
  foot: HEE at the heel, TOE at the toe tip.
"""
from __future__ import annotations

import numpy as np

from ..kernel import TimeSeries
from ..marker_mapping import HARRINGTON_2007, RAB_2002
from .body import BodyDims

#: Harrington et al. (2007) HJC regression in the ISB pelvis frame (mm): x = a_x*PD + b_x, y = a_y*PW + b_y,
#: z = +-(a_z*PW + b_z); PD = pelvis depth (mid-ASIS to mid-PSIS), PW = inter-ASIS width.
HARRINGTON = dict(zip(("ax", "bx", "ay", "by", "az", "bz"), HARRINGTON_2007))
#: Rab et al. (2002): shoulder joint centre 17 % of the inter-acromion distance below the acromion marker.
RAB_SHOULDER_FRACTION = RAB_2002

#: The limb markers of one side, in order: name (after the L/R prefix), the joint centre it sits on or the two
#: it sits midway between, and its offset (fraction of the body scale) along the side's lateral axis ("lat",
#: negative: medial) or the anterior axis ("ap"); lateral and medial markers are symmetric about the joint
#: (a symmetric pair shares a line).
LIMB_MARKERS = (
    ("UPA", ("shoulder", "elbow"), 0.05, "lat"),
    ("ELB", ("elbow",), 0.035, "lat"), ("ELM", ("elbow",), -0.035, "lat"),
    ("FRM", ("elbow", "wrist"), 0.04, "lat"),
    ("WRA", ("wrist",), 0.025, "ap"), ("WRB", ("wrist",), -0.025, "ap"),
    ("FIN", ("index", "pinky"), 0.0, None),
    ("THI", ("hip", "knee"), 0.08, "lat"),
    ("KNE", ("knee",), 0.05, "lat"), ("KNM", ("knee",), -0.05, "lat"),
    ("TIB", ("knee", "ankle"), 0.05, "lat"),
    ("ANK", ("ankle",), 0.035, "lat"), ("MED", ("ankle",), -0.035, "lat"),
    ("HEE", ("heel",), 0.0, None),
    ("TOE", ("foot_index",), 0.0, None),
)


def _rot(r, v):
    v = np.asarray(v, float)
    return np.einsum("nij,nj->ni", r, v) if v.ndim == 2 else r @ v


def place_markers(trial, dims: BodyDims, r_trunk: np.ndarray, rng) -> TimeSeries:
    """Marker trajectories (m, lab frame) with white noise of SD ``trial.params['marker_noise_m']``."""
    j = trial.joints
    s = dims.scale
    ml = r_trunk[:, :, 1]           # trunk/pelvis left axis
    ap = r_trunk[:, :, 0]
    up = r_trunk[:, :, 2]
    mk: dict[str, np.ndarray] = {}
    # pelvis from the Harrington regression, inverted
    h = HARRINGTON
    pw = (dims.hip_width * 1000 / 2 - h["bz"]) / h["az"]          # mm
    pd = 160.0 * s                                                # mm
    mid_hjc = j["pelvis"]
    mid_asis = mid_hjc - (h["ax"] * pd + h["bx"]) / 1000 * ap - (h["ay"] * pw + h["by"]) / 1000 * up
    mk["LASI"] = mid_asis + pw / 2000 * ml
    mk["RASI"] = mid_asis - pw / 2000 * ml
    mid_psis = mid_asis - pd / 1000 * ap
    mk["LPSI"] = mid_psis + 0.045 * s * ml
    mk["RPSI"] = mid_psis - 0.045 * s * ml
    # trunk and head
    mk["C7"] = j["neck"] - 0.04 * s * ap
    mk["T10"] = mid_hjc + 0.28 * s * up - 0.10 * s * ap
    mk["RBAK"] = mk["T10"] + 0.08 * s * up - 0.08 * s * ml
    mid_sh = 0.5 * (j["left_shoulder"] + j["right_shoulder"])
    mk["CLAV"] = mid_sh + 0.06 * s * ap + 0.02 * s * up
    mk["STRN"] = mid_sh + 0.09 * s * ap - 0.15 * s * up
    hc = 0.5 * (j["left_ear"] + j["right_ear"])
    for pre, sy in (("L", 1), ("R", -1)):
        mk[pre + "FHD"] = hc + 0.07 * s * ap + sy * 0.06 * s * ml
        mk[pre + "BHD"] = hc - 0.07 * s * ap + sy * 0.06 * s * ml
    biacromial = np.linalg.norm(j["left_shoulder"] - j["right_shoulder"], axis=1, keepdims=True)
    for pre, side, sy in (("L", "left", 1), ("R", "right", -1)):
        lat = sy * ml                      # lateral direction of this side
        mk[pre + "SHO"] = j[f"{side}_shoulder"] + RAB_SHOULDER_FRACTION * biacromial * up
        axis = {"lat": lat, "ap": ap}
        for name, at, offset, direction in LIMB_MARKERS:
            if len(at) == 1:
                pos = j[f"{side}_{at[0]}"].copy()
            else:
                pos = 0.5 * (j[f"{side}_{at[0]}"] + j[f"{side}_{at[1]}"])
            if direction is not None:
                pos = pos + offset * s * axis[direction]
            mk[pre + name] = pos
    noise = float(trial.params.get("marker_noise_m", 0.0))
    if noise > 0:
        mk = {k: v + rng.normal(0.0, noise, v.shape) for k, v in mk.items()}
    return TimeSeries(trial.time_s.copy(), mk, {k: "m" for k in mk},
                      meta={"kind": "markers", "marker_set": "plug-in-gait-like (synthetic)",
                            "noise_sd_m": noise})
