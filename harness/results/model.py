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
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

from ground_truth.kernel import InputError, ReaderError, read_text_file

from .annotations import (AnnotationScoreRow, AnnotationsSection, KeypointScore, ModelVsRatersRow,
                          TrialAnnotationScores)
from .backbones import BackbonesSection
from .history import HistorySection
from .precision import PrecisionSection
from .rows import (CONTROL_KINDS, CONTROL_RULE_ID, AgreementRow, CandidateRow, CategoricalRow, ComparisonRow, KPIInfo,
                   KPIMeasurementInfo, KPIPair, PairRow, ProtocolInfo, Provenance, StudyInfo, TrialRow)
from .schema import MIN_SCHEMA_VERSION, SCHEMA_VERSION, Row, check_schema_version

__all__ = ["CONTROL_KINDS", "CONTROL_RULE_ID", "MIN_SCHEMA_VERSION", "SCHEMA_VERSION", "AgreementRow",
           "AnnotationScoreRow", "AnnotationsSection", "CandidateRow", "CategoricalRow", "ComparisonRow",
           "HistorySection", "KPIInfo", "KPIMeasurementInfo", "KPIPair", "KeypointScore", "ModelVsRatersRow",
           "PairRow", "ProtocolInfo", "Provenance", "StudyInfo", "StudyResults", "TrialAnnotationScores", "TrialRow",
           "check_schema_version", "load_results", "read_results_json"]

# ----------------------------------------------------------------------------------------------------- document
@dataclass
class StudyResults(Row):
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
    #: human annotations as a 2-D reference (harness.annotations.reference); absent when the study names none
    annotations: AnnotationsSection | None = None
    #: the study's earlier runs from the results store (harness.store.trends); absent when it holds none
    history: HistorySection | None = None
    #: cost against agreement per candidate and KPI (harness.backbones_table); absent in results written before it
    backbones: BackbonesSection | None = None
    #: achieved CI widths and subjects needed for target widths (harness.precision_table); absent before it existed
    precision: PrecisionSection | None = None
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
    _optional: ClassVar[dict[str, type]] = {"annotations": AnnotationsSection, "history": HistorySection,
                                            "backbones": BackbonesSection, "precision": PrecisionSection}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "", file: str | PathLike | None = None) -> "StudyResults":
        """Read a parsed ``results.json``; ReaderError (naming ``file`` and the field) for a newer
        ``schema_version`` or a section of the wrong shape. Unknown keys are kept in ``extra``."""
        if not isinstance(data, dict):
            raise ReaderError(f"top level is a {type(data).__name__}, not an object", file=file,
                              expected="the results.json object")
        check_schema_version(data.get("schema_version"), file=file)
        for key in ("subjects", "device", "gates"):
            # plain-dictionary lists: checked for shape here, since Row only checks typed rows
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

    def controls(self) -> dict[str, str]:
        """Candidate name -> control kind ("positive" / "negative") of the control candidates (schema 3; none in
        older results)."""
        return {c.name: c.control for c in self.candidates if c.name and c.is_control}

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
    if not path.exists():
        raise InputError("results file not found", file=path)
    # a directory or a FIFO is refused before it is opened; bytes that are not UTF-8 are named by offset and line
    text = read_text_file(path, what="results.json file", error=ReaderError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=path) from None
    if not isinstance(data, dict):
        raise ReaderError("top level is not an object", file=path, expected="the results.json object")
    check_schema_version(data.get("schema_version"), file=path)
    return data


def load_results(path: str | PathLike) -> StudyResults:
    """Read ``results.json`` into the model (errors name the file and the field)."""
    return StudyResults.from_dict(read_results_json(path), file=path)
