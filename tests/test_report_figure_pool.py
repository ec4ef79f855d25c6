"""The report's figure pool (reports.figure_pool): figures drawn in worker processes give the same report, byte
for byte, as figures drawn in this process; a pool that breaks costs time, not a figure."""
from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from reports import figure_pool as FP
from reports import figures as F
from reports.report import build_sections, environment
from test_report import figures_data_from_real_cop
from test_report_fixtures import pefr_results


def _html(results, figures_data, workers: int) -> str:
    env = environment()
    with FP.figure_pool(workers=workers):
        sections = FP.resolve_figures(build_sections(results, figures_data))
    return "".join(env.get_template(s.template).render(**s.context()) for s in sections)


def test_pool_and_in_process_reports_are_identical():
    results, fd = pefr_results(), figures_data_from_real_cop()
    pooled, alone = _html(results, fd, 2), _html(results, fd, 1)
    assert pooled.count("data:image/png;base64,") >= 3
    assert pooled == alone


def _dies_in_a_worker(kpi: str) -> F.FigureImage:
    """Kills the process it runs in when that is a pool worker (a worker lost to the OOM killer, say)."""
    if mp.parent_process() is not None:
        os._exit(1)
    return F.FigureImage(src="data:image/png;base64,AA==", alt=f"drawn here: {kpi}")


def test_a_broken_pool_falls_back_to_drawing_here():
    with FP.figure_pool(workers=2):
        pending = FP.draw(_dies_in_a_worker, "com_path_length")
        assert isinstance(pending, FP.PendingFigure)
        assert pending.result().alt == "drawn here: com_path_length"


def test_a_figure_that_raises_is_named_in_its_place(monkeypatch):
    from reports.sections import Figure, NotMeasured, Section
    monkeypatch.delenv("STANCEBENCH_STRICT", raising=False)
    with FP.figure_pool(workers=2):
        sec = Section("x", "X", [Figure(FP.draw(F.bland_altman_figure, "kpi", "cm", "not a list of panels"))])
        FP.resolve_figures([sec])
    assert isinstance(sec.blocks[0], NotMeasured) and "figure could not be drawn" in sec.blocks[0].reason
    monkeypatch.setenv("STANCEBENCH_STRICT", "1")     # the suite's default: a bug surfaces
    with FP.figure_pool(workers=2), pytest.raises(Exception):
        FP.resolve_figures([Section("x", "X", [Figure(FP.draw(F.bland_altman_figure, "k", "cm", "bad"))])])
