"""The section builders: each takes the typed results (and, for per-trial figures, ``figures_data``) and returns
one :class:`reports.sections.Section`; :func:`reports.report.build_sections` lists them in reading order."""
from .agreement import agreement_table_section, bland_altman_section, icc_section, strategy_section
from .annotations import annotations_section
from .controls import controls_section
from .device import device_section, size_accuracy_section
from .methods import licences_section, methods_section, provenance_section
from .trials import (MAX_TRIAL_FIGURES, candidate_only_section, stabilogram_section, time_series_section,
                     trials_section, ttf_section)
from .verdict import summary_section, verdict_section

__all__ = ["MAX_TRIAL_FIGURES", "agreement_table_section", "annotations_section", "bland_altman_section",
           "candidate_only_section", "controls_section", "device_section", "icc_section", "licences_section",
           "methods_section", "provenance_section", "size_accuracy_section", "stabilogram_section", "strategy_section",
           "summary_section", "time_series_section", "trials_section", "ttf_section", "verdict_section"]
