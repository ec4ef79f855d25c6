"""The typed rows of human annotations as a 2-D reference (docs/results-schema.md, "annotations"): what one
trial × candidate scored against its trial's annotations (``trials[].annotation_scores``) and the study's
``annotations`` section (scores pooled over trials with trial-clustered CIs, the raters' own spread, inter-rater
reliability per trial, labelling QC).

Both are present only in studies whose manifest names annotation files: a study without them writes neither key
(the fields are optional, :attr:`harness.results.schema.Row._optional`).

Imports nothing of the project but :mod:`ground_truth.kernel`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .schema import Row

#: ``KeypointScore.reference``: against the consensus of every rater, or (raters, and the model for the fair
#: comparison with them) against the consensus of the other raters.
REFERENCE_ALL, REFERENCE_OTHERS = "consensus of all raters", "consensus of the other raters"


@dataclass
class KeypointScore(Row):
    """One keypoint of one scored source (the candidate, or one rater) against a consensus, in one trial.

    ``n_frames`` counts the matched frames where the consensus has the keypoint (the denominator of ``pck`` and
    ``oks``: a point the source did not give counts as wrong, OKS 0); ``n_scored`` those where the source gave a
    point too (the denominator of the errors); ``n_missing`` = ``n_frames`` − ``n_scored``.
    """

    keypoint: str = ""
    source: str = "candidate"            # "candidate" or the rater's name
    reference: str = REFERENCE_ALL
    n_frames: int = 0
    n_scored: int = 0
    n_missing: int = 0
    pck: float | None = None             # fraction of n_frames within the threshold
    oks: float | None = None             # mean per-keypoint OKS over n_frames
    error_px: float | None = None        # mean distance over n_scored (px)
    error_pct_height: float | None = None   # mean distance / person height × 100 over n_scored


@dataclass
class TrialAnnotationScores(Row):
    """``trials[].annotation_scores``: a 2-D candidate's keypoints on the annotated video against the trial's
    annotations. ``status`` is ``ok``, ``skipped`` (not a 2-D candidate on that video: ``reason`` says why) or
    ``failed`` (the annotations could not be read or matched: ``reason``; the trial's KPIs still count)."""

    status: str = "ok"
    reason: str | None = None
    video: str | None = None
    view: str | None = None
    files: list[str] = field(default_factory=list)
    raters: list[str] = field(default_factory=list)
    keypoints_compared: list[str] = field(default_factory=list)
    keypoints_not_in_candidate: list[str] = field(default_factory=list)
    n_annotated_frames: int = 0
    n_matched_frames: int = 0
    n_unmatched_frames: int = 0
    match_tolerance_s: float | None = None
    pck_threshold: float | None = None
    person_height_px: float | None = None
    person_height_method: str | None = None
    consensus_method: str | None = None
    oks_constants: dict[str, float] = field(default_factory=dict)
    oks_constants_source: str | None = None
    scores: list[KeypointScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"scores": KeypointScore}


@dataclass
class AnnotationScoreRow(Row):
    """``annotations.scores[]``: one candidate (or rater) × keypoint pooled over the trials: frame-weighted means
    with percentile CIs from a bootstrap that resamples trials (null CI with fewer than 3 trials)."""

    source: str = ""
    kind: str = "candidate"              # "candidate" or "rater"
    keypoint: str = ""
    reference: str = REFERENCE_ALL
    n_trials: int = 0
    n_frames: int = 0
    n_scored: int = 0
    pck: float | None = None
    pck_ci_low: float | None = None
    pck_ci_high: float | None = None
    oks: float | None = None
    oks_ci_low: float | None = None
    oks_ci_high: float | None = None
    error_px: float | None = None
    error_px_ci_low: float | None = None
    error_px_ci_high: float | None = None
    error_pct_height: float | None = None
    error_pct_height_ci_low: float | None = None
    error_pct_height_ci_high: float | None = None
    note: str | None = None


@dataclass
class ModelVsRatersRow(Row):
    """``annotations.model_vs_raters[]``: a candidate's error against the raters' own spread at one keypoint, both
    against the consensus of the other raters, on the same trials; ``ratio`` = candidate / raters (CI from the
    trial bootstrap) and ``reading`` its plain-language verdict."""

    candidate: str = ""
    keypoint: str = ""
    n_trials: int = 0
    candidate_error_pct_height: float | None = None
    raters_error_pct_height: float | None = None
    ratio: float | None = None
    ratio_ci_low: float | None = None
    ratio_ci_high: float | None = None
    reading: str | None = None
    note: str | None = None


@dataclass
class AnnotationsSection(Row):
    """``annotations``: the study's annotation references (docs/results-schema.md)."""

    status: str = "ok"
    pck_threshold: float | None = None
    person_height_method: str | None = None
    consensus_method: str | None = None
    matching: str | None = None
    confidence: float | None = None
    bootstrap: str | None = None
    guideline: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)       # trial_id, path, sha256, format, raters
    trials: list[dict[str, Any]] = field(default_factory=list)      # per trial × candidate: status, counts
    scores: list[AnnotationScoreRow] = field(default_factory=list)
    model_vs_raters: list[ModelVsRatersRow] = field(default_factory=list)
    irr: list[dict[str, Any]] = field(default_factory=list)         # keypoint_irr's per-keypoint rows + trial_id
    irr_raters: list[dict[str, Any]] = field(default_factory=list)  # its per-rater rows + trial_id
    irr_status: list[dict[str, Any]] = field(default_factory=list)  # per trial: "ok" or why no IRR
    qc: dict[str, Any] | None = None                                # rules, counts, verdicts (guideline set)
    notes: list[str] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"scores": AnnotationScoreRow, "model_vs_raters": ModelVsRatersRow}

    def scores_of(self, source: str, *, reference: str | None = None) -> list[AnnotationScoreRow]:
        return [r for r in self.scores if r.source == source and (reference is None or r.reference == reference)]

    @property
    def candidates(self) -> list[str]:
        return list(dict.fromkeys(r.source for r in self.scores if r.kind == "candidate"))

    @property
    def raters(self) -> list[str]:
        return list(dict.fromkeys(r.source for r in self.scores if r.kind == "rater"))
