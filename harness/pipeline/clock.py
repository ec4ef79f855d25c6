"""Stage 3, clock alignment: the mapping ``t_ref = t_cand + offset + drift·t_cand`` estimated from a signal
both sides observe (``harness.align``), or the offset the manifest gives.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ground_truth.kernel import AlignmentError, InputError, ManifestError
from harness import align

from .sides import CandidateSide, ReferenceSide


@dataclass(frozen=True)
class AlignmentSignal:
    """A signal observed by both sides: the reference's and the candidate's signal names, and what it is."""

    reference: str
    candidate: str
    what: str


#: Alignment signals by manifest name. ``auto`` tries them in this order, then the foot events; the first
#: reliable estimate wins (the vertical COM first: the single-leg-stance protocol's knee dip or hop moves it
#: sharply on both sides; the vertical GRF for plates without markers).
ALIGNMENT_SIGNALS = {
    "com_vertical": AlignmentSignal("com_vertical", "com_vertical",
                                    "vertical COM: markers vs keypoints (the protocol's knee dip or hop moves it on "
                                    "both sides)"),
    "free_ankle_vertical": AlignmentSignal("free_ankle_vertical", "free_foot_height",
                                           "lifted-foot height: ankle marker vs keypoints (foot lift and touch-down)"),
    "vertical_grf": AlignmentSignal("grf_vertical", "grf_vertical",
                                    "vertical GRF: force plates vs body mass x (keypoint COM vertical acceleration "
                                    "+ g)"),
    "com_vertical_velocity": AlignmentSignal("com_vertical_velocity", "com_vertical_velocity",
                                             "vertical COM velocity: markers vs keypoints"),
    "motion_energy": AlignmentSignal("motion_energy", "motion_energy",
                                     "motion energy: sum of squared marker speeds vs squared keypoint speeds"),
}
#: Every value ``settings.alignment_signal`` may take (the manifest checks against this).
ALIGNMENT_CHOICES = ("auto", *ALIGNMENT_SIGNALS, "event", "known")
#: Foot events matched by name for ``alignment_signal = "event"`` (and last in ``auto``).
ALIGNMENT_EVENTS = ("foot_lift", "touch_down")
#: Event alignment is flagged when the matched events disagree by more than this (RMS, s).
EVENT_MAX_RESIDUAL_S = 0.1


@dataclass
class ClockAlignment:
    """The clock mapping of one trial and how it was obtained.

    ``measured`` is False for an offset taken from the manifest (``alignment_signal = "known"``): then
    ``offset_error_s`` is None, never a measured zero. With a known true offset (synthetic studies) and a
    measured mapping, ``offset_error_s`` is estimate minus truth.
    """

    offset_s: float
    drift_ppm: float
    method: str
    measured: bool
    signal: str | None = None
    true_offset_s: float | None = None
    true_drift_ppm: float | None = None
    offset_error_s: float | None = None
    estimate: dict[str, Any] = field(default_factory=dict)   # AlignmentResult fields of a measured mapping

    def to_reference(self, t_cand) -> np.ndarray:
        return align.to_reference_time(t_cand, self)

    def to_candidate(self, t_ref) -> np.ndarray:
        return align.to_candidate_time(t_ref, self)

    def to_dict(self) -> dict:
        d = {**self.estimate, **{k: v for k, v in asdict(self).items() if k != "estimate"}}
        if self.true_offset_s is None:
            for k in ("true_offset_s", "true_drift_ppm", "offset_error_s"):
                d.pop(k)
        return d


def align_clocks(ref: ReferenceSide, cand: CandidateSide, settings: dict, trial: dict) -> ClockAlignment:
    """Estimate the clock mapping of a paired trial.

    ``settings["alignment_signal"]``: ``known`` uses the manifest's offset as given (not a measurement); one
    of :data:`ALIGNMENT_SIGNALS` cross-correlates that signal (:func:`harness.align.estimate_offset`);
    ``event`` matches the foot lift and touch-down found on both sides (:func:`harness.align.align_by_events`);
    ``auto`` tries the signals in order, then the events. An unreliable estimate (no clear correlation peak,
    events that disagree) refuses the trial with the reason (AlignmentError); it is never used silently.
    """
    known = trial.get("known_clock_offset_s")
    truth = {} if known is None else {"true_offset_s": known, "true_drift_ppm": trial.get("known_drift_ppm")}
    choice = settings.get("alignment_signal", "auto")
    if choice == "known":
        if known is None:
            raise ManifestError("alignment_signal = 'known' but the trial has no known_clock_offset_s",
                                field=f"trials.{trial['id']}.known_clock_offset_s")
        return ClockAlignment(offset_s=known, drift_ppm=trial.get("known_drift_ppm") or 0.0,
                              method="known offset from the manifest (given, not measured)", measured=False,
                              signal="known", **truth)
    if choice not in ALIGNMENT_CHOICES:
        raise InputError(f"alignment signal {choice!r}", field="settings.alignment_signal",
                         expected=f"one of {', '.join(ALIGNMENT_CHOICES)}")
    tried = list(ALIGNMENT_SIGNALS) if choice == "auto" else [choice] if choice in ALIGNMENT_SIGNALS else []
    reasons = []

    def accept(res, what, signal):
        err = None if known is None else float(res.offset_s - known)
        return ClockAlignment(offset_s=res.offset_s, drift_ppm=res.drift_ppm, method=f"{res.method}: {what}",
                              measured=True, signal=signal, offset_error_s=err, estimate=res.to_dict(), **truth)

    for name in tried:
        sig = ALIGNMENT_SIGNALS[name]
        if not ref.has(sig.reference) or not cand.has(sig.candidate):
            side, missing = (ref, sig.reference) if not ref.has(sig.reference) else (cand, sig.candidate)
            why = side.unavailable.get(missing) or side.unavailable.get("com") or f"signal {missing} missing"
            reasons.append(f"{sig.what}: {why}")
            continue
        res = align.estimate_offset(*ref.series(sig.reference), *cand.series(sig.candidate),
                                    max_lag_s=float(settings.get("max_lag_s", 3.0)),
                                    drift=bool(settings.get("estimate_drift", False)), lowpass_hz=6.0)
        if res.reliable:
            return accept(res, sig.what, name)
        reasons.append(f"{sig.what}: {res.reason}")
    if choice in ("auto", "event"):
        try:
            res, what = _align_by_foot_events(ref, cand)
        except AlignmentError as exc:
            reasons.append(f"foot events: {exc}")
        else:
            if res.reliable:
                return accept(res, what, "event")
            reasons.append(f"foot events: {res.reason}")
    raise AlignmentError("no reliable clock alignment: " + "; ".join(reasons))


def _first_of_each(events) -> dict[str, float]:
    out: dict[str, float] = {}
    for e in sorted(events, key=lambda e: e.time):
        out.setdefault(e.name, float(e.time))
    return out


def _align_by_foot_events(ref: ReferenceSide, cand: CandidateSide):
    """:func:`harness.align.align_by_events` on the foot events both sides found (first of each name)."""
    # Markers time the foot the way keypoints do; plates see the lift ~0.1 s before the foot visibly rises.
    if ref.kinematic_events:
        ref_events, ref_source = ref.kinematic_events, "foot markers (ground_truth.events.marker_events)"
    else:
        ref_events, ref_source = ref.events, ref.event_source
    r, c = _first_of_each(ref_events), _first_of_each(cand.events)
    names = [n for n in ALIGNMENT_EVENTS if n in r and n in c]
    if not names:
        raise AlignmentError(f"no foot event seen on both sides (reference: {sorted(r) or 'none'} from "
                             f"{ref_source}; candidate: {sorted(c) or 'none'}"
                             f"{'; ' + cand.unavailable['events'] if 'events' in cand.unavailable else ''})")
    res = align.align_by_events([r[n] for n in names], [c[n] for n in names], max_residual_s=EVENT_MAX_RESIDUAL_S)
    note = "" if ref.kinematic_events else "; plate events lead the visible lift by ~0.1 s"
    return res, f"foot events ({', '.join(names)}): {ref_source} vs {cand.event_source}{note}"
