"""The typed rows of the results document: trials and their KPI values, agreement, categorical and comparison
rows, the pairs behind them, the KPI and protocol metadata, and the study's identity and provenance.

Imports nothing of the project but :mod:`ground_truth.kernel`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .annotations import TrialAnnotationScores
from .schema import Row

# ------------------------------------------------------------------------------------------------------- trials
@dataclass
class KPIPair(Row):
    """``trials[].kpis[]``: one KPI of one trial × candidate, both sides (null where a side gave no value)."""

    kpi: str = ""
    unit: str = ""
    reference: Any = None
    candidate: Any = None
    reference_method: str | None = None
    candidate_method: str | None = None
    censored: bool = False
    censored_reference: bool | None = None
    censored_candidate: bool | None = None
    reference_status: str | None = None
    candidate_status: str | None = None
    paired: bool | None = None

    @property
    def reference_censored(self) -> bool:
        """Censoring of the reference side (``censored`` when the producer gave no per-side flag)."""
        return bool(self.censored if self.censored_reference is None else self.censored_reference)

    @property
    def candidate_censored(self) -> bool:
        return bool(self.censored if self.censored_candidate is None else self.censored_candidate)


@dataclass
class TrialRow(Row):
    """``trials[]``: one trial × candidate (``candidate`` is null for reference-only trials).

    A trial that failed on an unexpected exception carries ``error_type`` (the exception's class),
    ``reason`` (its message) and ``traceback``.
    """

    trial_id: str | None = None
    subject: str | None = None
    protocol: str | None = None
    condition: str | None = None
    candidate: str | None = None
    kind: str | None = None
    status: str = "ok"
    reason: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    detection_rate: float | None = None
    alignment: dict[str, Any] | None = None
    kpis: list[KPIPair] = field(default_factory=list)
    #: what the trial's inputs needed said about them: the gold standard's reader notes (values set to NaN as
    #: implausible, spikes), inference-cache writes that failed
    notes: list[str] = field(default_factory=list)
    #: a 2-D candidate scored against the trial's human annotations; absent when the trial names none
    annotation_scores: TrialAnnotationScores | None = None

    _lists: ClassVar[dict[str, type]] = {"kpis": KPIPair}
    _optional: ClassVar[dict[str, type]] = {"annotation_scores": TrialAnnotationScores}


# ------------------------------------------------------------------------------------------- agreement sections
@dataclass
class _KPIGroupRow(Row):
    """What a statistic was computed over: one candidate × KPI × protocol × condition."""

    candidate: str | None = None
    kpi: str | None = None
    protocol: str | None = None
    condition: str = "all"
    unit: str | None = None
    kpi_kind: str | None = None


@dataclass
class AgreementRow(_KPIGroupRow):
    """``agreement[]``: Bland-Altman, ICC, CCC and MAE of one candidate × KPI × protocol × condition."""

    n: int | None = None
    n_subjects: int | None = None
    n_censored: int | None = None
    bias: float | None = None
    bias_ci_low: float | None = None
    bias_ci_high: float | None = None
    sd: float | None = None
    multiplier: float | None = None
    loa_lower: float | None = None
    loa_lower_ci_low: float | None = None
    loa_lower_ci_high: float | None = None
    loa_upper: float | None = None
    loa_upper_ci_low: float | None = None
    loa_upper_ci_high: float | None = None
    icc_type: str | None = None
    icc: float | None = None
    icc_ci_low: float | None = None
    icc_ci_high: float | None = None
    icc_interpretation: str | None = None
    #: Koo & Li (2016) reading of the ICC's CI, its citation and scale (harness.agreement.interpret)
    icc_reading: str | None = None
    icc_reading_source: str | None = None
    icc_reading_scale: dict[str, Any] | None = None
    ccc: float | None = None
    ccc_ci_low: float | None = None
    ccc_ci_high: float | None = None
    mae: float | None = None
    mae_ci_low: float | None = None
    mae_ci_high: float | None = None
    note: str | None = None

    @property
    def has_statistics(self) -> bool:
        """False when every headline statistic is null (too few pairs, refused): the note says why."""
        return any(getattr(self, k) is not None for k in ("bias", "loa_lower", "icc", "mae"))


@dataclass
class CategoricalRow(_KPIGroupRow):
    """``categorical[]``: Cohen's kappa and the confusion matrix (rows reference, columns candidate)."""

    labels: list[str] = field(default_factory=list)
    confusion: list[list[int]] | None = None
    kappa: float | None = None
    kappa_ci_low: float | None = None
    kappa_ci_high: float | None = None
    weights: str | None = None
    n: int | None = None
    #: Landis & Koch (1977) reading of kappa, its citation and scale (harness.agreement.interpret)
    kappa_reading: str | None = None
    kappa_reading_source: str | None = None
    kappa_reading_scale: dict[str, Any] | None = None
    note: str | None = None


@dataclass
class ComparisonRow(Row):
    """``comparisons[]``: a candidate's error against the baseline's on the same trials."""

    candidate: str | None = None
    baseline: str | None = None
    kpi: str | None = None
    protocol: str | None = None
    unit: str | None = None
    metric: str | None = None
    n: int | None = None
    n_subjects: int | None = None
    diff: float | None = None
    diff_ci_low: float | None = None
    diff_ci_high: float | None = None
    method: str | None = None
    note: str | None = None


@dataclass
class PairRow(Row):
    """``pairs[]``: one paired KPI value (trial × candidate × KPI of an ok, paired trial), as the harness's
    :func:`harness.aggregate.pair_records` defines a pair; the agreement statistics were computed on these."""

    trial_id: str | None = None
    subject: str | None = None
    protocol: str | None = None
    condition: str | None = None
    candidate: str | None = None
    kpi: str | None = None
    unit: str | None = None
    reference: Any = None
    candidate_value: Any = None
    censored_reference: bool = False
    censored_candidate: bool = False

    @property
    def censored(self) -> bool:
        return bool(self.censored_reference or self.censored_candidate)


# ------------------------------------------------------------------------------------- KPI and protocol metadata
@dataclass
class KPIInfo(Row):
    """``kpis[]``: what a KPI is, for readers of the results who do not have the ``protocols`` registry.

    ``registered`` is false for a name outside stancebench's registry (then only ``unit`` is known, from the
    rows). ``protocols`` lists the study's protocols that report it; ``not_measured_reason`` is set when one of
    them says keypoints cannot give it (by design, not by failure).
    """

    name: str = ""
    unit: str = ""
    kind: str = "continuous"
    description: str = ""
    definition: str = ""
    citation: str = ""
    labels: list[str] = field(default_factory=list)
    registered: bool = False
    protocols: list[str] = field(default_factory=list)
    not_measured_reason: str = ""


@dataclass
class KPIMeasurementInfo(Row):
    """``protocols[].kpis[]``: how a protocol measures one KPI; ``candidate`` null = keypoints cannot give it."""

    kpi: str = ""
    unit: str = ""
    reference: str = ""
    candidate: str | None = None
    not_measured_reason: str = ""


@dataclass
class ProtocolInfo(Row):
    """``protocols[]``: a protocol the study's trials use. ``source`` is ``built-in``, ``study`` (the
    manifest's own definition) or ``unknown`` (then ``known`` is false and ``reason`` says why)."""

    name: str = ""
    known: bool = False
    source: str = "unknown"
    reason: str = ""
    title: str = ""
    description: str = ""
    citation: str = ""
    max_duration_s: float | None = None
    conditions: list[str] = field(default_factory=list)
    stopping_rules: list[dict[str, str]] = field(default_factory=list)
    kpis: list[KPIMeasurementInfo] = field(default_factory=list)

    _lists: ClassVar[dict[str, type]] = {"kpis": KPIMeasurementInfo}


# ------------------------------------------------------------------------------------------- study, candidates
@dataclass
class StudyInfo(Row):
    """``study``: what was run, when and with what software."""

    name: str | None = None
    kind: str | None = None
    manifest: str | None = None
    #: sha256 of the manifest file as run: what the results store and ``gate --baseline`` call "the same study"
    manifest_sha256: str | None = None
    seed: int | None = None
    created_utc: str | None = None
    software: dict[str, str] = field(default_factory=dict)
    own_protocols: dict[str, Any] = field(default_factory=dict)
    #: what the study as a whole should know: runs whose worker process died, cache writes that failed
    notes: list[str] = field(default_factory=list)


@dataclass
class Provenance(Row):
    """``provenance``: input files with their SHA-256, data licences, the manifest as run."""

    files: list[dict[str, Any]] = field(default_factory=list)
    licences: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] | None = None


#: What ``candidates[].control`` may be (besides null: a real candidate).
CONTROL_KINDS = ("positive", "negative")
#: ``gates[].rule_id`` of a control's expectation verdict (written by harness.gates.controls, read by the report).
CONTROL_RULE_ID = "control-expectation"


@dataclass
class CandidateRow(Row):
    """``candidates[]``: one pose model and its identity.

    ``control`` (schema 3) is "positive" (a stand-in for a near-perfect model: the known truth with detection
    jitter, expected to pass every gate) or "negative" (a deliberately degraded model, expected to be blocked)
    for a control candidate, which checks the harness rather than a product, else null. ``view`` (schema 3) is
    what the candidate analysed: a camera name, "first" (one camera, the trial's first video) or "triangulated"
    (every camera, triangulated into 3-D); null in results written before schema 3, which had one camera.
    ``trials`` is the trial ids it analysed when the manifest limited it to a subsample (null: every trial) and
    ``frame_step`` the video frames it analysed (every n-th; 1 every frame), both absent in older results.
    """

    name: str | None = None
    kind: str | None = None
    model_sha256: str | None = None
    model_bytes: int | None = None
    precision: str | None = None
    runtime: str | None = None
    baseline: bool = False
    control: str | None = None
    view: str | None = None
    trials: list[str] | None = None
    frame_step: int | None = None

    @property
    def is_control(self) -> bool:
        return self.control in CONTROL_KINDS
