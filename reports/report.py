"""Build the self-contained HTML validation report from plain results data (``results.json``).

The report is ONE HTML file: CSS inline, figures embedded as base64 PNG data URIs, no script, no font or
image fetched from anywhere, so it opens offline and can be e-mailed or archived. It is a list of small typed
sections (:mod:`reports.sections`) rendered through one cached Jinja2 environment. It renders from the typed
results model alone (:class:`harness.results.StudyResults`): KPI names, units, descriptions and the protocols'
definitions travel in the results (``kpis``, ``protocols``), and so do the paired values (``pairs``). Of the
project it imports only that model and :mod:`ground_truth.kernel` (tests/test_report.py checks it).

This module holds the environment, the sections in reading order (each built behind a wrapper that shows a
failing builder's error in its place) and the rendering into the one file; the section builders live in
:mod:`reports.builders` (re-exported here under their names).
"""
from __future__ import annotations

import functools
from os import PathLike
from pathlib import Path
from typing import Callable

import jinja2

from ground_truth.kernel import record_unexpected, validate_type, write_text_atomic
from harness.results import StudyResults

from .builders import (MAX_TRIAL_FIGURES, agreement_table_section, annotations_section, bland_altman_section,
                       candidate_only_section, controls_section, device_section, icc_section, licences_section,
                       methods_section, provenance_section, size_accuracy_section, stabilogram_section,
                       strategy_section, summary_section, time_series_section, trials_section, ttf_section,
                       verdict_section)
from .builders.annotations import TITLE as ANNOTATIONS_TITLE
from .builders.backbones import TITLE as BACKBONES_TITLE
from .builders.backbones import backbones_section
from .builders.history import TITLE as HISTORY_TITLE
from .builders.history import history_section
from .builders.precision import TITLE as PRECISION_TITLE
from .builders.precision import precision_section_block
from .figure_pool import figure_pool, resolve_figures
from .language import number
from .sections import NotMeasured, Section

__all__ = ["MAX_TRIAL_FIGURES", "TEMPLATES", "agreement_table_section", "annotations_section", "backbones_section",
           "bland_altman_section", "build_report", "build_sections", "candidate_only_section", "controls_section",
           "device_section", "environment", "history_section", "icc_section", "licences_section", "methods_section",
           "provenance_section", "render_html", "size_accuracy_section", "stabilogram_section", "strategy_section",
           "summary_section", "time_series_section", "trials_section", "ttf_section", "verdict_section"]

TEMPLATES = Path(__file__).with_name("templates")


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment of the report (cached: templates are parsed once per process)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = number
    return env


def _as_model(results: StudyResults | dict) -> StudyResults:
    """The typed results; a parsed ``results.json`` dict is read through :meth:`StudyResults.from_dict`."""
    validate_type(results, (StudyResults, dict), "results")
    return results if isinstance(results, StudyResults) else StudyResults.from_dict(results)


def _safe(builder: Callable[..., Section], sec_id: str, title: str, *args) -> Section:
    """A section whose builder fails is shown with the error, not dropped: the rest of the report still renders."""
    try:
        return builder(*args)
    except Exception as exc:  # noqa: BLE001 - the report must render whatever one section meets
        err = record_unexpected(exc)
        return Section(sec_id, title, [NotMeasured(f"section could not be rendered: {err['message']}")])


def _insert_after(sections: list[Section], anchor: str, section: Section) -> None:
    """Put ``section`` right after the section whose id is ``anchor`` (a section only some results have)."""
    sections.insert(next(i for i, s in enumerate(sections) if s.id == anchor) + 1, section)


def build_sections(results: StudyResults | dict, figures_data: dict | None = None) -> list[Section]:
    """The report's sections, in reading order (verdict first), from the typed results (a parsed
    ``results.json`` dict is read through :meth:`StudyResults.from_dict`)."""
    results = _as_model(results)
    fd = figures_data if figures_data is not None else results.figures_data
    sections = [
        _safe(verdict_section, "verdict", "Verdict per candidate", results),
        # next to the verdict: whether the study can tell a good model from a bad one at all
        _safe(controls_section, "controls", "Controls: can this study tell a good model from a bad one?", results),
        _safe(summary_section, "summary", "Plain-language summary", results),
        _safe(bland_altman_section, "bland-altman", "Bland-Altman plots", results),
        _safe(icc_section, "icc", "ICC across candidates", results),
        _safe(stabilogram_section, "stabilograms", "Stabilograms", results, fd),
        _safe(time_series_section, "alignment", "Time series and clock alignment", results, fd),
        _safe(ttf_section, "time-to-failure", "Time-to-failure", results),
        _safe(strategy_section, "strategy", "Categorical KPIs", results),
        _safe(device_section, "device", "On-device cost", results),
        _safe(size_accuracy_section, "size-accuracy", "Model size against accuracy", results),
        _safe(agreement_table_section, "agreement-table", "Agreement statistics", results),
        _safe(candidate_only_section, "candidate-only", "Candidate-only trials", results),
        _safe(trials_section, "trials", "Trials", results),
        _safe(methods_section, "methods", "Methods", results),
        _safe(provenance_section, "provenance", "Provenance", results),
        _safe(licences_section, "licences", "Data licences", results),
    ]
    if results.annotations is not None:
        # only a study with annotation references has the section; after the agreement table, the other way of
        # judging a candidate's keypoints (against humans rather than the gold standard's KPIs)
        _insert_after(sections, "agreement-table", _safe(annotations_section, "annotations", ANNOTATIONS_TITLE,
                                                         results))
    if results.precision is not None:
        # only results that carry it (written since it exists): how precise the agreement statistics just shown
        # are, and how many subjects would make them precise enough
        _insert_after(sections, "agreement-table", _safe(precision_section_block, "precision", PRECISION_TITLE,
                                                         results))
    if results.history is not None:
        # only when the results store held earlier runs of this study: how this run compares with them, right
        # after this run's own summary
        _insert_after(sections, "summary", _safe(history_section, "trends", HISTORY_TITLE, results))
    if results.backbones is not None:
        # only results that carry the comparison (written since it exists): cost against agreement, after the
        # device cost and size-against-accuracy sections it builds on
        _insert_after(sections, "size-accuracy", _safe(backbones_section, "backbones", BACKBONES_TITLE, results))
    return sections


def render_html(results: StudyResults | dict, *, figures_data: dict | None = None) -> str:
    """The report as an HTML string (see :func:`build_report`)."""
    results = _as_model(results)
    env = environment()
    # figures are drawn in worker processes while the sections are built, then put in place
    with figure_pool():
        sections = resolve_figures(build_sections(results, figures_data))
    body = [env.get_template(s.template).render(**s.context()) for s in sections]
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study = results.study.to_dict()
    return env.get_template("base.html.j2").render(
        title=f"stancebench report — {study.get('name') or 'study'}", study=study, css=css,
        toc=[(s.id, s.title) for s in sections], body=body)


def build_report(results: StudyResults | dict, out_path: str | PathLike, *,
                 figures_data: dict | None = None) -> Path:
    """Write the self-contained HTML validation report.

    Parameters
    ----------
    results : StudyResults or dict
        The typed results (:func:`harness.results.load_results`), or a parsed ``results.json``
        (docs/results-schema.md), read through :meth:`StudyResults.from_dict`: a newer ``schema_version`` is
        refused (ReaderError). Any section may be missing or empty: the report then says "not measured:
        <reason>" in its place.
    out_path : path-like
        Where to write the HTML file (parent folders are created).
    figures_data : dict, optional
        Arrays for per-trial figures, by default ``results["figures_data"]``. Layout (docs/report.md)::

            {"trials": {"<trial_id>|<candidate>": {
                "stabilogram": {"signal": "COM", "unit": "cm",
                                "reference": {"ml": [...], "ap": [...]}, "candidate": {"ml": [...], "ap": [...]}},
                "time_series": {"signal": "COM ML", "unit": "cm",
                                "reference": {"t": [...], "y": [...]}, "candidate": {"t": [...], "y": [...]},
                                "candidate_raw": {"t": [...], "y": [...]},          # optional, before alignment
                                "events": [{"name": "foot lift", "time": 1.2}]},   # optional
                "lag_correlation": {"lag_s": [...], "corr": [...]}}}}              # optional

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        When the file cannot be written (a full disk, no permission); the previous file, if any, is left as it was.

    Notes
    -----
    One file, no external request: CSS inline, figures as base64 PNG data URIs with alt text, no JavaScript.
    """
    validate_type(out_path, "path-like", "out_path")
    # read first: a results document this report cannot read must fail before anything is written
    text = render_html(_as_model(results), figures_data=figures_data)
    # atomic: a full disk is an OutputError and leaves no 0-byte or half-written report behind
    return write_text_atomic(out_path, text, field="report")
