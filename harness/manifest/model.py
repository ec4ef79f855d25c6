"""What a study manifest holds once validated: subjects, trials, candidates and settings."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ground_truth.kernel import ManifestError

from ..pipeline.clock import ALIGNMENT_CHOICES
from .annotations import AnnotationReference, AnnotationSettings

#: Trial kinds. ``paired`` trials have both sides; the other two are clearly labelled one-sided sections
#: (real data sets often hold only a gold standard, or only video) whose KPIs are reported but never paired.
TRIAL_KINDS = ("paired", "candidate-only", "reference-only")
STANCE_LEGS = ("left", "right")
CONTROLS = ("positive", "negative")
#: Views a candidate may analyse besides a camera name.
VIEW_KEYWORDS = ("first", "triangulated")
#: What ``settings.alignment_signal`` may be: the pipeline's alignment signals plus ``auto``, ``event`` and
#: ``known`` (docs/alignment.md).
ALIGNMENT_SIGNALS = ALIGNMENT_CHOICES
DATA_ROOT_ENV = "STANCEBENCH_DATA_ROOT"


@dataclass
class Subject:
    id: str
    height_m: float
    mass_kg: float
    leg_length_m: float | None = None
    sex: str | None = None
    notes: str = ""


@dataclass
class Trial:
    id: str
    subject: str
    protocol: str
    condition: str
    stance_leg: str
    kind: str = "paired"
    gold_standard: list[Path] = field(default_factory=list)
    video: list[Path] = field(default_factory=list)
    camera: Path | None = None
    # One entry per video (None where not given): each camera has its own calibration entry, its own clock
    # and its own truth file; ``harness.pipeline.views.trial_view`` gives one video's trial.
    camera_name: list[str | None] = field(default_factory=list)   # camera of a multi-camera calibration file
    known_clock_offset_s: list[float | None] = field(default_factory=list)
    known_drift_ppm: list[float | None] = field(default_factory=list)
    truth: list[Path | None] = field(default_factory=list)        # 2D/3D truth files (synthetic studies)
    duration_s: float | None = None        # protocol maximum (censoring of time-to-failure)
    notes: str = ""
    #: The gold standard's marker-set mapping: a built-in name or a mapping TOML (docs/marker-sets.md); None =
    #: detected from the marker names.
    marker_map: str | None = None
    #: Human annotation files as a 2-D reference of one of the trial's videos (docs/manifest.md), or None.
    annotations: AnnotationReference | None = None


@dataclass
class CandidateSpec:
    name: str                              # the name results use
    manifest: Path | None = None           # a candidate manifest (.toml) or model file
    backbone: str | None = None            # the backbone to build (default: ``name``), e.g. blazepose-tflite
    baseline: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    #: Which video the candidate analyses: a camera name, "first" (the trial's first video, one camera) or
    #: "triangulated" (every video of the trial, triangulated into 3-D keypoints).
    view: str = "first"
    #: "positive" or "negative" for a control candidate (its expected gate outcome is pass / blocked), else None.
    control: str | None = None
    #: The trial ids this candidate analyses (None: every trial that has a video). A costly candidate compared on
    #: a subsample of a study; its pairs, and so its agreement statistics, come from those trials only.
    trials: list[str] | None = None
    #: Analyse every ``frame_step``-th video frame (1: every frame; candidates.backbones.base.Candidate.run): the
    #: sway KPIs of its trials are then computed at that lower frame rate, on both sides.
    frame_step: int = 1

    def runs_on(self, trial_id: str) -> bool:
        """Whether this candidate analyses the trial ``trial_id``."""
        return self.trials is None or trial_id in self.trials


@dataclass
class Settings:
    alignment_signal: str = "auto"
    kpis: list[str] = field(default_factory=list)   # empty = every KPI the protocol names
    seed: int = 0
    workers: int = 0                                 # 0 = one per core
    max_lag_s: float = 3.0
    estimate_drift: bool = True
    confidence: float = 0.95
    loa_multiplier: float = 1.96
    bootstrap: int = 1000
    sway_lowpass_hz: float = 5.0                     # 0 = no filter before sway KPIs
    sway_rate_hz: float = 0.0                        # 0 = the video's median frame rate (100 Hz without video)
    precision_icc_width: float = 0.2                 # report's target full width of an ICC's CI
    precision_loa_half_width_sd: float = 0.5         # target half-width of a limit's CI, in SDs of the differences
    cache_dir: Path | None = None


@dataclass
class StudyManifest:
    """A validated study manifest; every path is absolute."""

    path: Path | None
    name: str
    data_root: Path
    subjects: list[Subject]
    trials: list[Trial]
    candidates: list[CandidateSpec]
    settings: Settings
    description: str = ""
    licences: list[dict[str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    #: The study's own protocols (``protocols = ["lab.toml"]``): name -> ``Protocol.to_dict()``
    protocol_defs: dict[str, dict] = field(default_factory=dict)
    #: ``[settings]`` annotation_guideline and annotation_pck (used only by trials that name annotations)
    annotation_settings: AnnotationSettings = field(default_factory=AnnotationSettings)

    @property
    def has_annotations(self) -> bool:
        """True when a trial names annotation files (a 2-D reference of one of its videos)."""
        return any(t.annotations is not None for t in self.trials)

    def subject(self, subject_id: str) -> Subject:
        for s in self.subjects:
            if s.id == subject_id:
                return s
        raise ManifestError(f"no subject {subject_id!r}", file=self.path, field="subjects")

    @property
    def baseline(self) -> CandidateSpec | None:
        return next((c for c in self.candidates if c.baseline), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (paths as strings) for results provenance."""
        def conv(v):
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v
        out = {"path": self.path, "name": self.name, "data_root": self.data_root,
               "description": self.description,
               "subjects": [asdict(s) for s in self.subjects],
               "trials": [_trial_dict(t) for t in self.trials],
               "candidates": [asdict(c) for c in self.candidates],
               "settings": asdict(self.settings)}
        if self.has_annotations or self.annotation_settings != AnnotationSettings():
            # only a study that uses annotations says so: the provenance of any other study is as before
            out["annotation_settings"] = asdict(self.annotation_settings)
        return conv(out)


def _trial_dict(trial: Trial) -> dict[str, Any]:
    """A trial as a dict; ``annotations`` only when the trial names annotation files."""
    out = asdict(trial)
    if out.get("annotations") is None:
        out.pop("annotations", None)
    return out


def trial_input_files(trial: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(role, path)`` of every input file a trial names, in one order: gold standard, videos, calibration, truth,
    annotation files and their mapping. ``trial`` as a dict (``asdict(Trial)``, the form a study's tasks carry);
    the results' provenance and the journal keys both read the files from here."""
    ann = trial.get("annotations") or {}
    return ([("gold-standard", p) for p in trial.get("gold_standard") or []]
            + [("video", p) for p in trial.get("video") or []]
            + ([("calibration", trial["camera"])] if trial.get("camera") else [])
            + [("truth", p) for p in trial.get("truth") or [] if p]
            + [("annotation", p) for p in ann.get("files") or []]
            + ([("annotation-mapping", ann["mapping"])] if ann.get("mapping") else []))
