"""A study's trials on the worker pool (:class:`harness.workers.WorkerPool`): one batch per trial and backbone, so
the candidates that read one inference share it and the trial's gold-standard side; a trial whose worker died is
"failed" with the signal; the inference-cache writes that failed in a trial are in its row's notes."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .progress import Progress
from .workers import WorkerPool

if TYPE_CHECKING:
    from .pipeline import TrialOutcome

def run_tasks(tasks: list[dict], *, workers: int, progress: bool = True, label: str = "trials",
              log_path: str | os.PathLike | None = None, deaths: list[str] | None = None,
              on_outcome: Callable[[int, TrialOutcome], None] | None = None, done_before: int = 0,
              total: int | None = None) -> list[TrialOutcome]:
    """Run tasks in worker processes (:class:`harness.workers.WorkerPool`), keeping the input order.

    Trials run in a worker process even when ``workers == 1``: a native library that crashes (a C3D reader or a
    video decoder on a corrupt file, a model runtime) then kills that worker, not the study. The task it was
    running is marked "failed" with the signal as its reason, the rest of its batch goes to a new worker. Worker
    processes send their native libraries' log output to ``log_path`` (when given); ``deaths`` (when given)
    receives how each worker that died ended. ``on_outcome(index, outcome)`` is called as each task finishes
    (the study journals it there); ``done_before`` of ``total`` tasks were done before (read from the journal),
    for the progress bar.
    """
    bar = Progress(done_before + len(tasks) if total is None else total, label, enabled=progress,
                   done=done_before)
    pool = WorkerPool(run_task, workers=workers, crashed=crashed_outcome, log_path=log_path)

    def finished(i: int, res: TrialOutcome) -> None:
        if on_outcome is not None:
            on_outcome(i, res)
        tick(bar, res)

    try:
        out = pool.run(tasks, _batches(tasks), on_result=finished) if tasks else []
    finally:
        bar.close()
        if deaths is not None:
            deaths.extend(pool.deaths)
    return out


def _batches(tasks: list[dict]) -> list[list[int]]:
    """Task indices grouped by trial and by what their candidates infer with
    (:func:`harness.pipeline.candidate.inference_source`), in manifest order: one worker runs the candidates that
    read one inference of a trial's videos (one camera and triangulated views of one backbone, a control degrading
    that backbone's keypoints), so it is inferred once and read from the cache by the others, never twice at the
    same time in two workers; candidates of other backbones (a lite and a heavy model) are batches of their own,
    which the pool spreads over its workers. A candidate that infers nothing (the positive control, a
    reference-only task) joins its trial's first batch, which shares the trial's gold-standard side."""
    from .pipeline.candidate import inference_source

    sources = [inference_source(task.get("candidate")) for task in tasks]
    first: dict[str, str | None] = {}
    for task, source in zip(tasks, sources):
        if source is not None:
            first.setdefault(task["trial"]["id"], source)
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, (task, source) in enumerate(zip(tasks, sources)):
        trial = task["trial"]["id"]
        groups.setdefault((trial, first.get(trial) if source is None else source), []).append(i)
    return list(groups.values())


def run_task(task: dict, references: dict) -> TrialOutcome:
    """:func:`run_trial` in a worker, with the inference-cache writes that failed during it in the row's notes.

    ``references`` is the batch's memo (the candidates of one trial share its gold-standard side)."""
    # imported here, not with the module: a worker starts (and a crashed one is replaced) without the pipeline's
    # numerics until its first trial, and the pool alone stays light
    from candidates.cache import take_write_failures

    from .pipeline import run_trial

    take_write_failures()       # failures of an earlier task are that task's
    out = run_trial(task, references=references)
    failed = take_write_failures()
    if failed:
        out.row.setdefault("notes", []).append(
            f"inference cache: {len(failed)} track(s) could not be stored ({failed[0]}); the result was kept "
            f"and will be inferred again next time")
        out.row["cache_write_failures"] = len(failed)
    return out


def run_trial_batch(tasks: list[dict]) -> list[TrialOutcome]:
    """:func:`run_task` on each task in order, in this process (one worker's share: the candidates of one trial,
    which read one gold-standard side)."""
    references: dict = {}
    return [run_task(task, references) for task in tasks]


def crashed_outcome(task: dict, reason: str) -> TrialOutcome:
    """The outcome of a task whose worker process died while running it."""
    from .pipeline import TrialOutcome, empty_row

    row = empty_row(task)
    row["status"], row["reason"], row["error_type"] = "failed", reason, "WorkerProcessDied"
    return TrialOutcome(row)


def tick(bar: Progress, res: TrialOutcome, *, retried: bool = False) -> None:
    """Advance the study's progress bar by one finished task."""
    row = res.row
    bar.update(note=f"{row['trial_id']} {row.get('candidate') or '(reference only)'}: {row['status']}",
               failed=row["status"] != "ok", retried=retried)
