"""The typed results model: the ``results.json`` document as dataclasses (docs/results-schema.md).

The harness writes this document and the report reads it back; both go through :class:`StudyResults`, so the
two sides share one definition of every section they exchange. Only the rows whose fields are read by name
(trials and their KPI values, agreement, categorical, comparisons, candidates, the KPI and protocol metadata,
the pairs) are typed; the open-ended sections (device records, gate verdicts, figure arrays, timings) stay
plain dictionaries, documented where they are produced.

Reading is tolerant of keys it does not know (a newer minor producer may add fields: they are kept in each
row's ``extra`` and written back by :meth:`to_dict`) and strict about ``schema_version``: a document written by
a newer stancebench is refused with a :class:`~ground_truth.kernel.ReaderError` that names the file and the
field, never half-read.

This module imports nothing of the project but :mod:`ground_truth.kernel` (``reports`` may import it and
nothing else of ``harness``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

from ground_truth.kernel import InputError, ReaderError

#: Version of the ``results.json`` contract written by this stancebench. 2 added ``kpis``, ``protocols`` and
#: ``pairs`` (what the report needs, so that it never asks ``protocols`` nor re-derives pairs) and the typed
#: failure fields of a trial (``error_type``, ``traceback``).
SCHEMA_VERSION = 2
#: Oldest version still read. Schema 1 documents lack the sections added in 2; they read as empty.
MIN_SCHEMA_VERSION = 1


def check_schema_version(version: Any, *, file: str | PathLike | None = None) -> int | None:
    """The document's ``schema_version`` if this stancebench can read it; ReaderError otherwise.

    A missing version (hand-built dictionaries, tests) is accepted as None. A version newer than
    :data:`SCHEMA_VERSION` is refused: its meaning may have changed, and reading it half is worse than not.
    """
    if version is None:
        return None
    expected = f"an integer from {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}"
    # bool is an int subclass: true must not read as version 1
    if isinstance(version, bool) or not isinstance(version, int):
        raise ReaderError(f"schema_version {version!r} is not an integer", file=file, field="schema_version",
                          expected=expected)
    if version > SCHEMA_VERSION:
        raise ReaderError(f"schema_version {version} is not supported: the file was written by a newer "
                          f"stancebench (this one reads up to {SCHEMA_VERSION}); upgrade stancebench to read it",
                          file=file, field="schema_version", expected=expected)
    if version < MIN_SCHEMA_VERSION:
        raise ReaderError(f"schema_version {version} is not supported", file=file, field="schema_version",
                          expected=expected)
    return version


def _plain(value: Any) -> Any:
    if isinstance(value, _Row):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class _Row:
    """``from_dict`` / ``to_dict`` shared by the dataclasses below.

    Known keys become fields; unknown keys are kept in ``extra`` (keyword-only, so every row's own fields keep
    their order) and written back. ``_lists`` names the fields holding lists of rows, ``_objects`` the fields
    holding one row.
    """

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    _lists: ClassVar[dict[str, type]] = {}
    _objects: ClassVar[dict[str, type]] = {}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "", file: str | PathLike | None = None):
        """Read one row; ReaderError naming the file and field when it is not a JSON object."""
        if not isinstance(data, dict):
            raise ReaderError(f"is a {type(data).__name__}, not an object", file=file, field=where or None,
                              expected=f"a {cls.__name__} object")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {}
        for key in known & data.keys():
            value = data[key]
            here = f"{where}.{key}" if where else key
            if key in cls._lists:
                kwargs[key] = _read_list(cls._lists[key], value, here, file)
            elif key in cls._objects:
                # null reads as the empty object (a producer that had nothing to say)
                kwargs[key] = cls._objects[key]() if value is None else cls._objects[key].from_dict(
                    value, where=here, file=file)
            else:
                kwargs[key] = value
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-shaped data: every field (defaults included), then the keys kept in ``extra``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        out.update(_plain(self.extra))
        return out


def _read_list(row_type: type, value: Any, where: str, file) -> list:
    # null reads as an empty section, as the report always treated it
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReaderError(f"is a {type(value).__name__}, not a list", file=file, field=where,
                          expected=f"a list of {row_type.__name__} objects")
    return [row_type.from_dict(v, where=f"{where}[{i}]", file=file) for i, v in enumerate(value)]


# ------------------------------------------------------------------------------------------------------- trials
@dataclass
class KPIPair(_Row):
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
class TrialRow(_Row):
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

    _lists: ClassVar[dict[str, type]] = {"kpis": KPIPair}


# ------------------------------------------------------------------------------------------- agreement sections
@dataclass
class _KPIGroupRow(_Row):
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
class ComparisonRow(_Row):
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
class PairRow(_Row):
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
class KPIInfo(_Row):
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
class KPIMeasurementInfo(_Row):
    """``protocols[].kpis[]``: how a protocol measures one KPI; ``candidate`` null = keypoints cannot give it."""

    kpi: str = ""
    unit: str = ""
    reference: str = ""
    candidate: str | None = None
    not_measured_reason: str = ""


@dataclass
class ProtocolInfo(_Row):
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
class StudyInfo(_Row):
    """``study``: what was run, when and with what software."""

    name: str | None = None
    kind: str | None = None
    manifest: str | None = None
    seed: int | None = None
    created_utc: str | None = None
    software: dict[str, str] = field(default_factory=dict)
    own_protocols: dict[str, Any] = field(default_factory=dict)


@dataclass
class Provenance(_Row):
    """``provenance``: input files with their SHA-256, data licences, the manifest as run."""

    files: list[dict[str, Any]] = field(default_factory=list)
    licences: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] | None = None


@dataclass
class CandidateRow(_Row):
    """``candidates[]``: one pose model and its identity."""

    name: str | None = None
    kind: str | None = None
    model_sha256: str | None = None
    model_bytes: int | None = None
    precision: str | None = None
    runtime: str | None = None
    baseline: bool = False


# ----------------------------------------------------------------------------------------------------- document
@dataclass
class StudyResults(_Row):
    """The whole ``results.json`` document.

    ``device`` (device-runner records, docs/device-runners.md), ``gates`` (verdicts, docs/gates.md),
    ``figures_data`` (docs/report.md), ``timings``, ``paths`` and ``synthetic`` keep their documented dictionary
    layout; any other top-level section is kept in ``extra``.
    """

    schema_version: int | None = SCHEMA_VERSION
    study: StudyInfo = field(default_factory=StudyInfo)
    provenance: Provenance = field(default_factory=Provenance)
    candidates: list[CandidateRow] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    trials: list[TrialRow] = field(default_factory=list)
    agreement: list[AgreementRow] = field(default_factory=list)
    categorical: list[CategoricalRow] = field(default_factory=list)
    comparisons: list[ComparisonRow] = field(default_factory=list)
    kpis: list[KPIInfo] = field(default_factory=list)
    protocols: list[ProtocolInfo] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    device: list[dict[str, Any]] = field(default_factory=list)
    device_status: str | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    gates_status: str | None = None
    exit_code: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    report_status: str | None = None
    synthetic: dict[str, Any] | None = None
    figures_data: dict[str, Any] = field(default_factory=dict)

    _lists: ClassVar[dict[str, type]] = {"candidates": CandidateRow, "trials": TrialRow,
                                         "agreement": AgreementRow, "categorical": CategoricalRow,
                                         "comparisons": ComparisonRow, "kpis": KPIInfo,
                                         "protocols": ProtocolInfo, "pairs": PairRow}
    _objects: ClassVar[dict[str, type]] = {"study": StudyInfo, "provenance": Provenance}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "", file: str | PathLike | None = None) -> "StudyResults":
        """Read a parsed ``results.json``; ReaderError (naming ``file`` and the field) for a newer
        ``schema_version`` or a section of the wrong shape. Unknown keys are kept in ``extra``."""
        if not isinstance(data, dict):
            raise ReaderError(f"top level is a {type(data).__name__}, not an object", file=file,
                              expected="the results.json object")
        check_schema_version(data.get("schema_version"), file=file)
        for key in ("subjects", "device", "gates"):
            # plain-dictionary lists: checked for shape here, since _Row only checks typed rows
            value = data.get(key)
            if value is not None and not isinstance(value, list):
                raise ReaderError(f"is a {type(value).__name__}, not a list", file=file, field=key,
                                  expected="a list of objects")
        return super().from_dict(data, where=where, file=file)

    # lookups the readers need, so that no reader rebuilds them with its own filter
    def kpi(self, name: str) -> KPIInfo | None:
        """The metadata of KPI ``name`` (None when the results carry none: schema 1, or a hand-built dict)."""
        return next((k for k in self.kpis if k.name == name), None)

    def protocol(self, name: str) -> ProtocolInfo | None:
        return next((p for p in self.protocols if p.name == name), None)

    def pairs_of(self, kpi: str, candidate: str, *, protocol: str | None = None,
                 condition: str = "all") -> list[PairRow]:
        """The pairs of one KPI and candidate (one protocol when given; ``"all"`` pools its conditions)."""
        return [p for p in self.pairs if p.kpi == kpi and p.candidate == candidate
                and (protocol is None or p.protocol == protocol) and (condition == "all" or p.condition == condition)]


def read_results_json(path: str | PathLike) -> dict[str, Any]:
    """Parse ``results.json`` with errors that name the file; refuse a newer ``schema_version``.

    Returns the plain dictionary (for readers that work on it, e.g. the gate evaluation).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("results file not found", file=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=path) from None
    if not isinstance(data, dict):
        raise ReaderError("top level is not an object", file=path, expected="the results.json object")
    check_schema_version(data.get("schema_version"), file=path)
    return data


def load_results(path: str | PathLike) -> StudyResults:
    """Read ``results.json`` into the model (errors name the file and the field)."""
    return StudyResults.from_dict(read_results_json(path), file=path)
