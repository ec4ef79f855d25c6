"""Where a study's trial × candidate tasks run, and the journal that lets a killed study resume.

:func:`run_study_tasks` is the trials stage of :func:`harness.study.run_study`: it reads the journal of the
output folder (``--resume``) or clears it, runs the tasks still missing on local worker processes
(:func:`harness.trial_tasks.run_tasks`) or on a Dask cluster (:func:`harness.dask_engine.run_tasks_dask`),
journals each outcome as it finishes (:class:`harness.journal.Journal`) and says how the run went.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ground_truth.kernel import OutputError

from .journal import Journal, task_keys
from .manifest.model import trial_input_files
from .trial_tasks import run_tasks

if TYPE_CHECKING:
    from .pipeline import TrialOutcome


def run_study_tasks(tasks: list[dict], out: Path, *, keys: list[str] | None = None, resume: bool = False,
                    client=None, workers: int = 1,
                    progress: bool = True, log_path: str | os.PathLike | None = None,
                    data_root: str | os.PathLike | None = None) -> tuple[list[TrialOutcome], dict, list[str]]:
    """Every task's outcome in input order, how they ran (``study.engine``) and the notes that adds.

    Parameters
    ----------
    tasks : list of dict
        From ``harness.study._tasks``.
    out : Path
        The study's output folder; the journal is ``out/journal``.
    keys : list of str, optional
        The tasks' journal keys (:func:`harness.journal.task_keys`, computed here when not given).
    resume : bool
        Read the outcomes already in the journal and run only the others; otherwise an existing journal is
        cleared first (said on stderr).
    client : distributed.Client, optional
        Run on this Dask cluster instead of local worker processes.
    workers : int
        Local worker processes (without ``client``).
    progress : bool
        Draw the progress bar on stderr.
    log_path : path-like, optional
        Where local workers' native log lines go.
    data_root : path-like, optional
        Checked readable on a Dask worker before any task is sent.

    Returns
    -------
    outcomes, engine, notes
        ``engine``: ``name`` ("local" or "dask"), ``tasks``, ``from_journal``, ``computed``, ``retried``,
        ``workers``, for Dask the scheduler, its dashboard and ``allowed_failures``, and ``deaths`` (how each local
        worker that died ended; the caller takes it out for its own notes).
    """
    journal = Journal(out)
    keys = task_keys(tasks) if keys is None else keys
    stored: dict[str, TrialOutcome] = {}
    if resume:
        stored = journal.read_many(keys)
    else:
        n = journal.clear()
        if n:
            print(f"journal: removed {n} entr{'y' if n == 1 else 'ies'} of an earlier run from {journal.root} "
                  f"(validate --resume keeps them and computes only what is missing)", file=sys.stderr, flush=True)
    todo = [i for i, k in enumerate(keys) if k not in stored]
    subset = [tasks[i] for i in todo]
    write_failures: list[str] = []

    def journaled(j: int, outcome: TrialOutcome) -> None:
        try:
            journal.write(keys[todo[j]], outcome)
        except OutputError as exc:
            # the study goes on: the outcome is in memory and goes into results.json; only resuming loses it
            write_failures.append(str(exc))

    engine: dict[str, Any] = {"name": "local", "tasks": len(tasks), "from_journal": len(tasks) - len(todo),
                              "computed": len(todo), "retried": 0, "journal": str(journal.root)}
    deaths: list[str] = []
    done_before = len(tasks) - len(todo)
    if client is None:
        engine["workers"] = max(1, min(workers, len(subset) or 1))
        outs = run_tasks(subset, workers=engine["workers"], progress=progress, log_path=log_path, deaths=deaths,
                         on_outcome=journaled, done_before=done_before, total=len(tasks))
    else:
        from .dask_engine import check_workers_see, describe, run_tasks_dask
        engine.update(name="dask", **describe(client))
        print(f"dask: scheduler {engine['scheduler']}, {engine['workers']} worker(s)"
              + (f", dashboard {engine['dashboard']}" if engine["dashboard"] else ""), file=sys.stderr, flush=True)
        outs = []
        if subset:
            first = [os.fspath(p) for _, p in trial_input_files(subset[0]["trial"])]
            check_workers_see(client, first, data_root=None if data_root is None else os.fspath(data_root))
            outs, info = run_tasks_dask(subset, client, on_outcome=journaled, progress=progress,
                                        done_before=done_before, total=len(tasks), log_path=log_path)
            engine.update(retried=info["retried"], worker_deaths=info["worker_deaths"], given_up=info["given_up"])
    engine["deaths"] = deaths
    outcomes: list[Any] = [stored.get(k) for k in keys]
    for i, o in zip(todo, outs):
        outcomes[i] = o
    return outcomes, engine, _notes(engine, journal, write_failures, resume)


def _notes(engine: dict, journal: Journal, write_failures: list[str], resume: bool) -> list[str]:
    """What ``study.notes`` says about where the tasks ran (a local run says nothing: ``study.engine`` has it) and
    what came from the journal."""
    notes = []
    if engine["name"] == "dask":
        notes.append(f"engine: Dask scheduler {engine['scheduler']} ({engine['workers']} worker(s)); "
                     f"{engine['retried']} task(s) ran again after their worker died, {engine.get('given_up', 0)} "
                     f"given up after {engine['allowed_failures']} retries")
    if resume:
        notes.append(f"journal: {engine['from_journal']} of {engine['tasks']} trial x candidate run(s) read from "
                     f"{journal.root} (--resume), {engine['computed']} computed")
    if journal.unreadable:
        notes.append(f"journal: {len(journal.unreadable)} entr(ies) could not be read back and were computed "
                     f"again; first: {journal.unreadable[0]}")
    if write_failures:
        notes.append(f"journal: {len(write_failures)} outcome(s) could not be written (results are complete; a "
                     f"--resume of this folder would compute them again); first: {write_failures[0]}")
    return notes
