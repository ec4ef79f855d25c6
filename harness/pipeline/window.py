"""Stage 4, the analysis window: the period the KPIs are measured over, on the reference clock (the candidate
clock when the trial has no gold standard)."""
from __future__ import annotations

from ground_truth.kernel import AlignmentError, NotAvailableError

from .clock import ClockAlignment
from .sides import CandidateSide, ReferenceSide

#: A window shorter than this cannot give a sway measure (s).
MIN_WINDOW_S = 1.0
#: Names a touch-down event goes by in the files and detectors the project reads.
TOUCH_DOWN_NAMES = ("touch_down", "touchdown", "foot_touchdown")


def analysis_window(ref: ReferenceSide | None, cand: CandidateSide | None, clock: ClockAlignment | None,
                    max_duration_s: float, *, bipedal: bool) -> tuple[float, float]:
    """The analysed period: the overlap of both sides, at most ``max_duration_s`` long.

    Single-leg stance: from the gold standard's foot lift to its touch-down. Bipedal protocols (mCTSIB): from
    the start of the overlap to the first step (the failure), else the maximum. The events are the gold
    standard's; a candidate-only trial is analysed over the whole overlap (its own events give its KPIs).

    Raises
    ------
    AlignmentError
        The two sides overlap for less than :data:`MIN_WINDOW_S`.
    """
    spans = []
    if ref is not None and ref.span:
        spans.append(ref.span)
    if cand is not None and cand.span:
        a, b = clock.to_reference(list(cand.span)) if clock is not None else cand.span
        spans.append((float(a), float(b)))
    if not spans:
        raise NotAvailableError("neither side has any samples")
    lo, hi = max(s[0] for s in spans), min(s[1] for s in spans)
    if bipedal:
        side = ref if ref is not None else cand
        if side.step is not None:
            t_step = side.step.time_s
            if side is cand and clock is not None:
                t_step = float(clock.to_reference([t_step])[0])
            if lo < t_step <= hi:
                hi = t_step
        hi = min(hi, lo + max_duration_s)
        if hi - lo < MIN_WINDOW_S:
            raise AlignmentError(f"the two sides overlap for only {hi - lo:.2f} s before the first step")
        return (float(lo), float(hi))
    if hi - lo < MIN_WINDOW_S:
        raise AlignmentError(f"the two sides overlap for only {hi - lo:.2f} s on the reference clock")
    if ref is not None:
        lift = ref.first_event("foot_lift")
        if lift is not None and lo <= lift < hi:
            lo = lift
        end = next((t for t in map(ref.first_event, TOUCH_DOWN_NAMES) if t is not None), None)
        if end is not None and lo < end <= hi:
            hi = end
    # A single-leg period shorter than MIN_WINDOW_S (a fall right after the lift) is kept: its time-to-failure
    # is the finding, and the window measures (sway, angles) say they need a longer window
    # (harness.pipeline.kpis.compute_kpis).
    return (float(lo), float(min(hi, lo + max_duration_s)))
