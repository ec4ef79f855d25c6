"""Modified Clinical Test of Sensory Interaction in Balance (mCTSIB): four bipedal conditions, 30 s each
(Shumway-Cook & Horak 1986, modified without the visual-conflict dome)."""
from __future__ import annotations

from .definitions import AlignmentCue, Condition, KPIMeasurement, Protocol, StoppingRule
from .single_leg_stance import _sway_kpis

SHUMWAY_COOK_HORAK_1986 = ("Shumway-Cook A, Horak FB. Assessing the influence of sensory interaction on balance. "
                           "Suggestion from the field. Phys Ther. 1986;66(10):1548-1550.")

MAX_DURATION_S = 30.0

MCTSIB = Protocol(
    name="mctsib",
    title="Modified Clinical Test of Sensory Interaction in Balance (mCTSIB)",
    description=("The person stands on both feet, feet together, arms across the chest, for 30 s in each of four "
                 "conditions that remove vision, reliable ankle sensation, or both."),
    citation=SHUMWAY_COOK_HORAK_1986,
    conditions=(
        Condition("eyes_open_firm", "eyes_open", "firm", "bipedal", MAX_DURATION_S, "condition 1: all senses"),
        Condition("eyes_closed_firm", "eyes_closed", "firm", "bipedal", MAX_DURATION_S,
                  "condition 2: no vision"),
        Condition("eyes_open_foam", "eyes_open", "foam", "bipedal", MAX_DURATION_S,
                  "condition 3: unreliable somatosensation"),
        Condition("eyes_closed_foam", "eyes_closed", "foam", "bipedal", MAX_DURATION_S,
                  "condition 4: vestibular only"),
    ),
    stance_legs=(),
    max_duration_s=MAX_DURATION_S,
    stopping_rules=(
        StoppingRule("step", "the person steps or moves the feet"),
        StoppingRule("arms_move", "the arms leave the chest"),
        StoppingRule("eyes_open", "the eyes open during an eyes-closed condition"),
        StoppingRule("assistance", "the examiner has to steady the person"),
        StoppingRule("max_duration", f"{MAX_DURATION_S:g} s elapsed (time-to-failure is then censored)"),
    ),
    alignment_cue=AlignmentCue("heel_raise", optional=True,
                               description="a brief heel raise before the timed stance"),
    kpis=(
        *_sway_kpis("com"),
        *_sway_kpis("cop"),
        KPIMeasurement("time_to_failure", "force plate: start to the first step (COP jump, load change)",
                       "keypoints: start to the first step (ankle displacement) or arm movement"),
        KPIMeasurement("strategy_label", "markers: hip and ankle joint angles",
                       "keypoints: hip and ankle angles"),
    ),
    trials_per_condition=1,
    notes=("Standard procedure allows up to three attempts per condition when the first is not completed.",),
)
