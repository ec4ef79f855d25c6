"""The ``results.json`` contract (docs/results-schema.md): the typed model (:mod:`harness.results.model`) that
the harness writes and the report reads back, and the writer of the file and its tidy CSV copies
(:mod:`harness.results.writer`).

This package imports nothing of the project but :mod:`ground_truth.kernel`: ``reports`` may import it.
"""
from ground_truth.kernel import jsonable  # noqa: F401 - kept importable from here for older callers

from .backbones import BackbonesSection
from .history import HistorySection
from .model import (CONTROL_KINDS, CONTROL_RULE_ID, MIN_SCHEMA_VERSION, SCHEMA_VERSION, AgreementRow,
                    AnnotationScoreRow, AnnotationsSection, CandidateRow, CategoricalRow, ComparisonRow, KeypointScore,
                    KPIInfo, KPIMeasurementInfo, KPIPair, ModelVsRatersRow, PairRow, ProtocolInfo, Provenance,
                    StudyInfo, StudyResults, TrialAnnotationScores, TrialRow, check_schema_version, load_results,
                    read_results_json)
from .writer import software_versions, trial_kpi_rows, utc_now, write_csv, write_results

__all__ = ["CONTROL_KINDS", "CONTROL_RULE_ID", "MIN_SCHEMA_VERSION", "SCHEMA_VERSION", "AgreementRow",
           "AnnotationScoreRow", "AnnotationsSection", "BackbonesSection", "CandidateRow", "CategoricalRow",
           "ComparisonRow", "HistorySection", "KPIInfo", "KPIMeasurementInfo", "KPIPair", "KeypointScore",
           "ModelVsRatersRow", "PairRow", "ProtocolInfo", "Provenance", "StudyInfo", "StudyResults",
           "TrialAnnotationScores", "TrialRow", "check_schema_version", "jsonable", "load_results",
           "read_results_json", "software_versions", "trial_kpi_rows", "utc_now", "write_csv", "write_results"]
