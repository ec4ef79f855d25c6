"""Y-Balance test (lower quarter): stand on one leg and reach as far as possible with the other foot in three
directions; reaches are normalised by limb length (Plisky et al. 2009)."""
from __future__ import annotations

import numpy as np

from ground_truth.kernel import InputError, as_float_array

from .definitions import AlignmentCue, Condition, KPIMeasurement, Protocol, StoppingRule
from ground_truth.reach import DIRECTIONS

from .kpis import PLISKY_2009


def normalised_reach(reach, limb_length):
    """Reach distance as a percentage of limb length: ``reach / limb_length × 100``.

    Parameters
    ----------
    reach : float or array-like
        Reach distance (any length unit).
    limb_length : float or array-like
        Limb length in the same unit (ASIS to the distal medial malleolus, Plisky et al. 2009).

    Returns
    -------
    float or ndarray
        Reach in %LL; NaN reaches stay NaN.
    """
    reach = as_float_array(reach, "reach")
    limb = as_float_array(limb_length, "limb_length")
    if np.any(~(limb > 0)):
        raise InputError("limb length must be positive", field="limb_length", expected="a length > 0")
    out = reach / limb * 100.0
    return float(out) if out.ndim == 0 else out


def composite_score(anterior, posteromedial, posterolateral, limb_length):
    """Y-Balance composite score (Plisky et al. 2009).

    ``(anterior + posteromedial + posterolateral) / (3 × limb_length) × 100``, all reaches and the limb length
    in the same unit.

    Returns
    -------
    float or ndarray
        Composite score in % of limb length. Any missing reach (NaN) gives NaN: a composite over fewer
        than three directions is not the published score.

    Notes
    -----
    Each reach is the best of three valid trials in that direction. Plisky et al. (2009) report good
    inter-rater reliability of the composite (ICC 0.99 intra-, 0.97 inter-rater).
    """
    a = as_float_array(anterior, "anterior")
    pm = as_float_array(posteromedial, "posteromedial")
    pl = as_float_array(posterolateral, "posterolateral")
    limb = as_float_array(limb_length, "limb_length")
    if np.any(~(limb > 0)):
        raise InputError("limb length must be positive", field="limb_length", expected="a length > 0")
    out = (a + pm + pl) / (3.0 * limb) * 100.0
    return float(out) if out.ndim == 0 else out


_REF = ("markers: distance along the reach line from the stance toe marker to the most distal reach-foot marker "
        "(heel, toe, ankle) at the farthest point of the reach (ground_truth.reach), / leg length x 100")
_CAND = ("keypoints: the same on the floor plane (stance heel and foot-index, reach-foot heel, foot-index and ankle "
         "back-projected onto the floor with the camera calibration), / leg length x 100")

Y_BALANCE = Protocol(
    name="y_balance",
    title="Y-Balance test (lower quarter)",
    description=("Standing on one leg on the central platform, the person pushes an indicator as far as possible "
                 "with the free foot in the anterior, posteromedial and posterolateral directions and returns "
                 "to the start without touching down. Reaches are divided by limb length."),
    citation=PLISKY_2009,
    # one condition per reach line: a trial is one reach (three per direction; the best counts)
    conditions=tuple(Condition(d, "eyes_open", "firm", "single_leg", 20.0,
                               f"{d} reach; three trials, the best counts") for d in DIRECTIONS),
    stance_legs=("left", "right"),
    max_duration_s=20.0,
    stopping_rules=(
        StoppingRule("touch_down", "the reach foot touches the floor (trial invalid)"),
        StoppingRule("lost_stance", "the stance foot lifts or moves off the platform (trial invalid)"),
        StoppingRule("kick_indicator", "the indicator is kicked to gain distance (trial invalid)"),
        StoppingRule("stand_on_indicator", "the reach foot rests on the indicator for support (trial invalid)"),
        StoppingRule("no_return", "the reach foot does not return to the start under control (trial invalid)"),
    ),
    alignment_cue=AlignmentCue("none", optional=True),
    kpis=(
        *(KPIMeasurement(f"ybt_{d}_reach", _REF, _CAND) for d in DIRECTIONS),
        KPIMeasurement("ybt_composite", "per subject and stance leg: the best reference reach of each direction, "
                       "summed / (3 × limb length) × 100 (harness.composite)",
                       "the same from the candidate's reaches"),
        KPIMeasurement("knee_frontal_excursion", "markers: frontal-plane projection angle of the stance knee",
                       "keypoints: frontal-plane projection angle from hip, knee and ankle keypoints"),
    ),
    trials_per_condition=3,
    notes=("Limb length: anterior superior iliac spine to the most distal part of the medial malleolus, supine.",),
)
