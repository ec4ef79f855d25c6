"""Stage 5b, time-to-failure on both sides: single-leg stance from the foot events (plates or markers on the
reference, keypoints on the candidate); bipedal protocols (mCTSIB) from the first step after the start of the
analysis window."""
from __future__ import annotations

import numpy as np

from candidates import kpis as kp
from ground_truth import events as ev
from ground_truth.kernel import StancebenchError

from .clock import ClockAlignment
from .sides import CandidateSide, Side
from .values import KPIValue, measured, missing

#: Stopping rules applied on both sides (the stance-foot-moved rule needs a calibrated, low-jitter foot track).
TTF_RULES = ("touch_down",)


def events_ttf(side: Side, max_duration_s: float) -> KPIValue:
    """Time-to-failure from a side's own foot events (``ground_truth.events``; the gold standard's plates or
    markers, or a triangulated candidate's 3-D feet, on the reference clock), censored at the max."""
    if "time_to_failure" in side.unavailable:
        return missing(side.unavailable["time_to_failure"])
    if not any(e.name == "foot_lift" for e in side.events):
        return missing(f"no foot_lift event on the {side.role} side ({side.event_source})")
    r = ev.time_to_failure(side.events, max_duration_s=max_duration_s, recording_end_s=side.span[1],
                           rules=TTF_RULES,
                           source=side.event_source)
    return measured(float(r.value_s), f"{r.source}; {r.rule}; stopped by {r.reason}", censored=bool(r.censored))


def candidate_ttf(cand: CandidateSide, trial: dict, subject: dict, max_duration_s: float) -> KPIValue:
    """Time-to-failure from the keypoints' foot events (``candidates.kpis.keypoint_time_to_failure``)."""
    try:
        r, _events = kp.keypoint_time_to_failure(cand.track, max_duration_s=max_duration_s,
                                                 stance=trial["stance_leg"], camera=cand.camera,
                                                 height_m=subject["height_m"], rules=TTF_RULES)
    except StancebenchError as exc:
        return missing(f"{type(exc).__name__}: {exc}")
    if not np.isfinite(r.value_s):
        return missing(r.reason)
    return measured(float(r.value_s), f"{r.source}; {r.rule}; stopped by {r.reason}", censored=bool(r.censored))


def step_ttf(side: Side, window, clock: ClockAlignment | None, max_duration_s: float) -> KPIValue:
    """Bipedal time-to-failure: from the start of the analysis window to the side's first step (the mCTSIB's
    'step' stopping rule), censored at the maximum or at the end of the recording. ``clock`` maps the side's
    times to the reference clock (None for the reference itself)."""
    if "time_to_failure" in side.unavailable:
        return missing(side.unavailable["time_to_failure"])

    def on_ref(t: float) -> float:
        return float(clock.to_reference([t])[0]) if clock is not None else float(t)

    t0 = float(window[0])
    end = on_ref(side.span[1] if side.span else t0) - t0
    how = f"{side.step_source}; from the start of the analysis window (reference clock), max {max_duration_s:g} s"
    if side.step is not None:
        t = on_ref(side.step.time_s) - t0
        if 0 < t < max_duration_s:
            return measured(t, f"{how}; stopped by a step ({side.step.what})", censored=False)
    if end < max_duration_s:
        return measured(max(end, 0.0), f"{how}; censored: the recording ended", censored=True)
    return measured(float(max_duration_s), f"{how}; censored at the maximum", censored=True)
