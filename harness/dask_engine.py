"""A study's trials on a Dask cluster (``stancebench validate --scheduler``, ``run_study(..., client=...)``).

Dask is an optional extra (``pip install 'stancebench[dask]'``): this module imports ``distributed`` only when a
study is sent to a cluster, and says how to install it when it is missing.

Each trial × candidate is one Dask task (:func:`run_task_remote`): the scheduler balances them across workers
and, when a worker dies, gives the tasks it was running to another one. A worker keeps the gold-standard side of
the last trial it ran (per thread), so the candidates of a trial that land on one worker read it once, as in a
local run; the inference cache (a shared folder) does the same for keypoint tracks. The results are the local
run's, number for number: a task computes the same thing wherever it runs.

Faults:

- a worker killed mid-task (SIGKILL, the out-of-memory killer, a native crash): the scheduler reschedules its
  tasks. A task whose worker died more than ``allowed-failures`` times (Dask's setting, read from the scheduler;
  :data:`ALLOWED_FAILURES` for ``local:N``) raises ``KilledWorker``: its row is "failed" with the reason and the
  study goes on. Such a row is not journaled, so ``--resume`` tries it again.
- the scheduler going away: :class:`SchedulerLost` (exit 2) naming what finished; the journal holds it.

Every worker must see the manifest's absolute paths (the data and the inference cache on a shared filesystem
mounted at the same place); :func:`check_workers_see` checks that on one worker before any task is sent.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ground_truth.kernel import InputError, NotAvailableError

from .progress import Progress
from .trial_tasks import crashed_outcome, run_task, tick
from .workers import THREAD_VARS, WORKER_ENV

if TYPE_CHECKING:
    from .pipeline import TrialOutcome

#: How many times a task may lose its worker before it is failed, on a cluster this module starts (``local:N``):
#: three runs in all. A cluster of one's own keeps its ``distributed.scheduler.allowed-failures``.
ALLOWED_FAILURES = 2
#: Seconds to wait for a first worker to join the scheduler before the study is refused.
WORKER_WAIT_S = 60.0
INSTALL_HINT = "pip install 'stancebench[dask]'"


class SchedulerLost(NotAvailableError):
    """The Dask scheduler went away during a study (the finished tasks are in the journal)."""


def import_distributed():
    """``distributed``, or NotAvailableError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise NotAvailableError(f"not available: --scheduler runs studies on Dask, which is not installed "
                                f"({exc}); install it with: {INSTALL_HINT}") from None
    return distributed


def _local_workers(address: str) -> int:
    n = address.removeprefix("local:")
    if not n.isdigit() or int(n) < 1:
        raise InputError(f"is {address!r}", field="--scheduler",
                         expected="local:N (N worker processes on this machine, N >= 1) or a scheduler address "
                                  "such as tcp://HOST:8786")
    return int(n)


@contextlib.contextmanager
def cluster_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address``: ``local:N`` starts a LocalCluster of N single-threaded worker
    processes (closed on exit), anything else is the address of a running scheduler (``tcp://HOST:8786``)."""
    distributed = import_distributed()
    import dask
    cluster = None
    if address.startswith("local:"):
        n = _local_workers(address)
        # one thread per worker: a backbone's own threads and the numerics share the core the worker has
        env = dict(WORKER_ENV, **{k: "1" for k in THREAD_VARS})
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.ERROR, env=env)
        client = distributed.Client(cluster)
        client.stancebench_local = True     # its workers are this study's: their stderr may go to its log
    else:
        try:
            # how long to wait (here and to reconnect) is Dask's distributed.comm.timeouts.connect
            client = distributed.Client(address)
        except (OSError, TimeoutError, ValueError) as exc:
            raise NotAvailableError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    # a lost scheduler or worker is reported once, in the study's words (SchedulerLost, study.notes), not as
    # Dask's reconnection tracebacks on stderr
    names = [n for n in logging.root.manager.loggerDict if n == "distributed" or n.startswith("distributed.")]
    levels = {n: logging.getLogger(n).level for n in names + ["distributed"]}
    for n in levels:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield client
    finally:
        with contextlib.suppress(*_lost_errors()):
            client.close()
        if cluster is not None:
            cluster.close()
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def describe(client) -> dict:
    """Scheduler address, worker count, dashboard (None when not served) and allowed failures of a client."""
    info = client.scheduler_info()
    facts = client.run_on_scheduler(_scheduler_facts)
    return {"scheduler": client.scheduler.address, "workers": len(info.get("workers") or {}),
            "dashboard": client.dashboard_link if facts["dashboard"] else None,
            "allowed_failures": facts["allowed_failures"]}


def _scheduler_facts(dask_scheduler) -> dict:
    """Runs on the scheduler: its allowed failures, and whether it serves the dashboard (its HTTP server runs
    without Bokeh, the dashboard's pages need it)."""
    import importlib.util
    served = "dashboard" in dask_scheduler.services and importlib.util.find_spec("bokeh") is not None
    return {"allowed_failures": int(dask_scheduler.allowed_failures), "dashboard": served}


def unreadable(paths: list[str]) -> list[str]:
    """Those of ``paths`` this process cannot read, each with why (runs on a worker)."""
    bad = []
    for p in paths:
        if not os.path.exists(p):
            bad.append(f"{p}: does not exist")
        elif not os.access(p, os.R_OK):
            bad.append(f"{p}: not readable")
    return bad


def check_workers_see(client, paths: list[str], *, data_root: str | None = None) -> None:
    """Refuse the study (InputError) when a worker cannot read the data: the manifest's paths are absolute and
    must exist on every worker (a shared filesystem mounted at the same path)."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        raise NotAvailableError(f"no Dask worker joined the scheduler at {client.scheduler.address} within "
                                f"{WORKER_WAIT_S:.0f} s (start some with: dask worker "
                                f"{client.scheduler.address})") from None
    wanted = ([data_root] if data_root else []) + list(paths)
    bad = client.submit(unreadable, wanted, pure=False).result()
    if bad:
        raise InputError(f"a Dask worker cannot read the study's data: {bad[0]}"
                         + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
                         file=bad[0].split(": ")[0], field="--scheduler",
                         expected="the manifest's files at the same absolute paths on every worker (a shared "
                                  "filesystem; docs/scale.md)")


def _native_log_plugin(path: str):
    """A worker plugin sending the worker's file descriptor 2 (MediaPipe, LiteRT and absl print there from C++)
    to ``path``, in every worker of the cluster, one restarted after a death too (made here: Dask's base class
    is imported only with Dask)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class NativeLog(WorkerPlugin):
        def setup(self, worker) -> None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 2)
            os.close(fd)

    return NativeLog()


_LOCAL = threading.local()


def run_task_remote(task: dict) -> TrialOutcome:
    """:func:`harness.trial_tasks.run_task` on a worker, sharing the gold-standard side with the previous task
    of the same thread when it was the same trial."""
    tid = task["trial"]["id"]
    if getattr(_LOCAL, "trial", None) != tid:
        _LOCAL.trial, _LOCAL.memo = tid, {}
    return run_task(task, _LOCAL.memo)


def _suspicious(dask_scheduler, keys: list[str]) -> dict:
    """How many times each task lost its worker (runs on the scheduler)."""
    return {k: dask_scheduler.tasks[k].suspicious for k in keys if k in dask_scheduler.tasks}


def run_tasks_dask(tasks: list[dict], client, *, on_outcome: Callable[[int, TrialOutcome], None] | None = None,
                   progress: bool = True, label: str = "trials", done_before: int = 0, total: int | None = None,
                   log_path: str | os.PathLike | None = None) -> tuple[list[TrialOutcome], dict]:
    """Run ``tasks`` on the cluster of ``client``; ``(outcomes in input order, how it went)``.

    Parameters
    ----------
    tasks : list of dict
        From ``harness.study._tasks``.
    client : distributed.Client
    on_outcome : callable, optional
        ``on_outcome(index, outcome)`` as each task finishes (the study journals it there).
    progress : bool
        Draw the progress bar on stderr (one bar for the whole study, whichever worker ran a task).
    done_before, total : int
        Tasks already done (read from the journal) and the study's total, for the bar.
    log_path : path-like, optional
        On a cluster :func:`cluster_client` started (``local:N``), where the workers' native log lines go (as
        local workers'); the workers of a cluster of one's own keep their own stderr.

    Returns
    -------
    outcomes, info
        ``info``: ``retried`` (tasks that lost a worker at least once), ``worker_deaths`` (how many times a task's
        worker died), ``given_up`` (tasks failed after too many deaths), ``allowed_failures``.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    allowed = describe(client)["allowed_failures"]
    info = {"retried": 0, "worker_deaths": 0, "given_up": 0, "allowed_failures": allowed}
    outcomes: list[Any] = [None] * len(tasks)
    if not tasks:
        return outcomes, info
    run_id = uuid.uuid4().hex[:12]
    keys = [f"stancebench-{run_id}-{i}" for i in range(len(tasks))]
    index = {k: i for i, k in enumerate(keys)}
    bar = Progress(done_before + len(tasks) if total is None else total, label, enabled=progress,
                   done=done_before)
    if log_path is not None and getattr(client, "stancebench_local", False):
        client.register_plugin(_native_log_plugin(os.fspath(log_path)), name="stancebench-native-log")
    futures: list = []
    failed_task = None      # a future whose task raised (a bug under strict mode): re-raised once the loop is left
    try:
        # one graph for the whole study: the scheduler then sees every task at once and, for a study of more tasks
        # than twice the cluster's threads, queues them on itself (a worker runs only what it has threads for, so
        # a worker that dies takes only the tasks it was running with it)
        futures = client.map(run_task_remote, tasks, key=keys, pure=False)
        for batch in as_completed(futures, with_results=False).batches():
            deaths = client.run_on_scheduler(_suspicious, keys=[f.key for f in batch])
            for fut in batch:
                i, n_dead = index[fut.key], deaths.get(fut.key, 0)
                if fut.status == "finished":
                    out = fut.result()
                elif fut.status == "error" and isinstance(fut.exception(), KilledWorker):
                    info["given_up"] += 1
                    out = crashed_outcome(tasks[i], f"worker process died {max(n_dead, allowed + 1)} times while "
                                                    f"running this trial x candidate (Dask gives a task up after "
                                                    f"{allowed} retries)")
                elif fut.status == "error":
                    failed_task = fut
                    break
                else:       # cancelled: the client cancels every future when its scheduler is gone
                    raise _lost(client, "the connection was lost", outcomes)
                info["retried"] += int(n_dead > 0)
                info["worker_deaths"] += n_dead
                outcomes[i] = out
                fut.release()
                if on_outcome is not None:
                    on_outcome(i, out)
                tick(bar, out, retried=n_dead > 0)
            if failed_task is not None:
                break
    except _lost_errors() as exc:
        raise _lost(client, exc, outcomes) from None
    finally:
        bar.close()
        with contextlib.suppress(*_lost_errors()):
            client.cancel([f for f in futures if not f.done()])
    if failed_task is not None:
        failed_task.result()        # the task's own exception, with the worker's traceback
    return outcomes, info


def _lost(client, why, outcomes: list) -> SchedulerLost:
    done = sum(o is not None for o in outcomes)
    what = why if isinstance(why, str) else f"{type(why).__name__}: {why}"
    return SchedulerLost(f"the Dask scheduler at {client.scheduler.address} went away ({what}) after {done} of "
                         f"{len(outcomes)} trial x candidate run(s); what finished is in the journal: run the same "
                         f"command again with --resume")


def _lost_errors() -> tuple[type[BaseException], ...]:
    """What a client raises when its scheduler is gone."""
    import asyncio
    import concurrent.futures

    from distributed.comm import CommClosedError
    return (CommClosedError, OSError, TimeoutError, concurrent.futures.CancelledError, asyncio.CancelledError)
