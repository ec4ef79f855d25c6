"""Single-leg stance (unipedal stance test): stand on one leg, eyes open or closed, on a firm or foam surface,
for up to 45 s (Springer et al. 2007)."""
from __future__ import annotations

from .definitions import AlignmentCue, Condition, KPIMeasurement, Protocol, StoppingRule
from .kpis import SPRINGER_2007

MAX_DURATION_S = 45.0

#: Stopping rules of the unipedal stance test (Springer et al. 2007, methods), plus a touch of the stance leg.
STOPPING_RULES = (
    StoppingRule("foot_touchdown", "the raised foot touches the floor"),
    StoppingRule("raised_foot_contact", "the raised foot touches or hooks the stance leg"),
    StoppingRule("stance_foot_moves", "the stance foot moves (shifts, rotates or hops) to keep balance"),
    StoppingRule("arms_leave_hips", "the hands leave the hips (arms used for balance)"),
    StoppingRule("eyes_open", "the eyes open during an eyes-closed condition"),
    StoppingRule("max_duration", f"{MAX_DURATION_S:g} s elapsed (time-to-failure is then censored)"),
)


def _conditions(stance: str, duration: float) -> tuple[Condition, ...]:
    out = []
    for surface in ("firm", "foam"):
        for vision in ("eyes_open", "eyes_closed"):
            out.append(Condition(f"{vision}_{surface}", vision=vision, surface=surface, stance=stance,
                                 duration_s=duration,
                                 description=f"{vision.replace('_', ' ')}, {surface} surface"))
    return tuple(out)


def _sway_kpis(signal: str) -> list[KPIMeasurement]:
    if signal == "cop":
        ref = "force plate: centre of pressure (M/Fz), low-pass filtered, from the single-leg stance window"
        why = ("pose keypoints carry no force: stancebench has no COP estimate from keypoints (an inverted-pendulum "
               "estimate COP ≈ COM − (h/g)·COM'' (Winter 1995) would be one; not implemented), so COP sway is "
               "reported for the gold standard only")
        names = ["path_length", "mean_velocity", "area_95_ellipse", "rms_ml", "rms_ap", "mean_frequency"]
        return [KPIMeasurement(f"cop_{n}", ref, None, not_measured_reason=why) for n in names]
    else:
        ref = "markers: whole-body COM from a segmental model (de Leva 1996 segment parameters) of the marker set"
        cand = ("keypoints: whole-body COM from the same segmental model applied to the pose keypoints, scaled "
                "to metres by camera calibration or the subject's height")
    names = ["path_length", "mean_velocity", "area_95_ellipse", "rms_ml", "rms_ap", "mean_frequency"]
    return [KPIMeasurement(f"{signal}_{n}", ref, cand) for n in names]


def _kpis() -> tuple[KPIMeasurement, ...]:
    return (
        *_sway_kpis("com"),
        *_sway_kpis("cop"),
        KPIMeasurement("time_to_failure",
                       "force plate: foot lift (single-support onset) to the first stopping-rule event (second "
                       "foot loading the plate, a jump in COP, or a marker event)",
                       "keypoints: foot lift to the first stopping-rule event seen in the keypoints (raised ankle "
                       "returns to floor height, stance ankle displacement, wrists leave the hips)"),
        KPIMeasurement("strategy_label", "markers: hip and ankle frontal-plane joint angles",
                       "keypoints: hip and ankle frontal-plane angles from 2-D or lifted 3-D keypoints"),
        KPIMeasurement("knee_frontal_excursion", "markers: frontal-plane projection angle of the stance knee",
                       "keypoints: frontal-plane projection angle from hip, knee and ankle keypoints"),
    )


SINGLE_LEG_STANCE = Protocol(
    name="single_leg_stance",
    title="Single-leg stance",
    description=("The person stands on one leg (hands on hips, raised foot beside the stance ankle without "
                 "touching it) for up to 45 s, eyes open or closed, on a firm floor or on foam. An optional hop or "
                 "heel raise before the stance gives both clocks a sharp common event."),
    citation=SPRINGER_2007,
    conditions=_conditions("single_leg", MAX_DURATION_S),
    stance_legs=("left", "right"),
    max_duration_s=MAX_DURATION_S,
    stopping_rules=STOPPING_RULES,
    alignment_cue=AlignmentCue("hop", optional=True,
                               description="a small two-footed hop (or a heel raise) before lifting the foot"),
    kpis=_kpis(),
    trials_per_condition=3,
    notes=("Sway KPIs are computed on the window from foot lift to the end of the trial.",
           "Time-to-failure at the maximum duration is right-censored."),
)
