"""Draw a report's figures in worker processes while the sections are being built.

Encoding a matplotlib figure to PNG is most of a report's time (about a second for a Bland-Altman figure of six
panels) and runs on one core. Inside :func:`figure_pool`, :func:`draw` hands the drawing to a small process pool
and returns a :class:`PendingFigure`; the section builders go on, and :func:`resolve_figures` swaps
each future for its image before the templates render. Outside a pool (a builder called on its own, a machine
with one core) :func:`draw` draws at once, so every builder works both ways.

A figure whose drawing raises is shown as "not measured: figure could not be drawn: ..." in its place, as a
section whose builder fails is (:func:`reports.report._safe`): the rest of the report still renders.
Workers are spawned, not forked: the study's process may hold the threads of a model runtime.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import contextvars
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ground_truth.kernel import record_unexpected

from .figures import FigureImage
from .sections import Figure, FigureRow, NotMeasured, Section

#: Worker processes of a report's figure pool (the report is built after the study's own workers have ended).
MAX_FIGURE_WORKERS = 2

_POOL: contextvars.ContextVar[cf.ProcessPoolExecutor | None] = contextvars.ContextVar("figure_pool", default=None)


@contextlib.contextmanager
def figure_pool(workers: int | None = None) -> Iterator[None]:
    """Within the block, :func:`draw` submits to ``workers`` processes (default: the cores, at most
    :data:`MAX_FIGURE_WORKERS`; one core: no pool, figures are drawn in this process)."""
    n = workers if workers is not None else min(MAX_FIGURE_WORKERS, os.cpu_count() or 1)
    if n < 2:
        yield
        return
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"))
    token = _POOL.set(pool)
    try:
        yield
    finally:
        _POOL.reset(token)
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class PendingFigure:
    """A figure being drawn in the pool, with what drew it: a pool that breaks (a worker killed, a ``__main__``
    that a spawned process cannot import, as with ``python -``) costs time, not the figure."""

    future: cf.Future
    fn: Callable[..., FigureImage]
    args: tuple
    kwargs: dict

    def result(self) -> FigureImage:
        try:
            return self.future.result()
        except cf.process.BrokenProcessPool:
            return self.fn(*self.args, **self.kwargs)


def draw(fn: Callable[..., FigureImage], *args: Any, **kwargs: Any) -> FigureImage | PendingFigure:
    """``fn(*args, **kwargs)``: in the current :func:`figure_pool` (pending), else now (the image)."""
    pool = _POOL.get()
    if pool is None:
        return fn(*args, **kwargs)
    try:
        return PendingFigure(pool.submit(fn, *args, **kwargs), fn, args, kwargs)
    except cf.process.BrokenProcessPool:
        return fn(*args, **kwargs)


def _result(image: FigureImage | PendingFigure) -> FigureImage:
    return image.result() if isinstance(image, PendingFigure) else image


def _failed(exc: BaseException) -> NotMeasured:
    err = record_unexpected(exc)
    return NotMeasured(f"figure could not be drawn: {err['message']}")


def resolve_figures(sections: list[Section]) -> list[Section]:
    """Replace every pending figure of ``sections`` by its image (in place; returned for chaining)."""
    for sec in sections:
        blocks = []
        for block in sec.blocks:
            if isinstance(block, (Figure, FigureRow)):
                try:
                    if isinstance(block, Figure):
                        block = Figure(_result(block.image))
                    else:
                        block = FigureRow([_result(im) for im in block.images])
                except Exception as exc:  # noqa: BLE001 - as a failed section: shown, the report still renders
                    block = _failed(exc)
            blocks.append(block)
        sec.blocks = blocks
    return sections
