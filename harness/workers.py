"""A small process pool whose workers may die: a native crash costs one task, not the study.

``concurrent.futures.ProcessPoolExecutor`` marks the whole pool broken when one worker dies, so a segfault in
one trial's C3D reader or video decoder failed every trial of the study ("BrokenProcessPool"). Here each worker
has its own pipe, announces each task before it starts and sends each result as soon as it is done, so the
parent always knows which task a worker was running. When a worker dies, that one task gets the result
``crashed(task, reason)`` (the reason names the signal), the rest of its batch goes back to the queue, a
replacement worker starts and the run goes on.

Workers are ``spawn``ed (MediaPipe and the TFLite runtime hold threads and must not be forked) and die with
their parent: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, plus a thread that watches ``os.getppid()``
everywhere, plus the end of the pipe to the parent. A worker ignores Ctrl-C; the parent stops the pool.

An exception raised by the task function in a worker (a bug under ``STANCEBENCH_STRICT``: the harness's own
task function records every other failure as a result) is re-raised in the parent, with the worker's
traceback as its cause, after the pool is stopped.

:mod:`harness.trial_tasks` runs a study's trials on it; :func:`harness.device.device_records_isolated` the host
device timing.
"""
from __future__ import annotations

import collections
import contextlib
import ctypes
import faulthandler
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any


#: Environment of a worker, set before its interpreter starts (TFLite and absl read it once): their INFO lines off.
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "GLOG_minloglevel": "2"}
#: Variables that size the numerical libraries' thread pools (read once, when OpenBLAS / OpenMP load).
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Workers that die one after another without having started a task: the pool cannot start (a broken
#: installation, no memory for a new process), and every task left is failed with the reason instead of retried.
MAX_STARTUP_DEATHS = 3
#: Seconds a worker gets to finish after being told to stop, before it is terminated.
STOP_GRACE_S = 5.0
_PR_SET_PDEATHSIG = 1


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as the cause of the re-raised exception."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


# ------------------------------------------------------------------------------------------------ worker side
def _die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` does, even when the parent is killed with SIGKILL."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):   # no libc to load, or one without prctl: the thread below still runs
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(1.0)

    # the parent may have died before prctl took effect; the thread also covers systems without prctl
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=watch, name="stancebench-parent-watch", daemon=True).start()


def _worker_main(conn: Connection, fn: Callable[[Any, dict], Any], parent_pid: int,
                 log_path: str | None) -> None:
    """Run batches from ``conn`` until told to stop (``None``) or the parent is gone."""
    _die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group: the parent decides what stops, not each worker on its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log_path:
        # MediaPipe and LiteRT print INFO/WARNING lines from C++ straight to file descriptor 2; in workers they
        # go to a log file beside the results so that stderr keeps only the progress bar and real errors.
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
        # a native crash leaves the Python stack of the task it killed in that log
        faulthandler.enable(file=sys.stderr, all_threads=False)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):     # the parent is gone
            return
        if batch is None:
            return
        memo: dict = {}
        for index, task in batch:
            conn.send(("start", index))
            try:
                result = fn(task, memo)
                payload = pickle.dumps(("done", index, result), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:   # noqa: BLE001 - every exception goes back to the parent, which re-raises it
                conn.send(("raise", index, _sendable(exc), traceback.format_exc()))
                continue
            conn.send_bytes(payload)
        conn.send(("idle",))


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` when it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:   # noqa: BLE001 - whatever makes an exception unpicklable, send its text instead
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# ------------------------------------------------------------------------------------------------ parent side
@dataclass
class _Worker:
    proc: Any
    conn: Connection
    batch: list[int] = field(default_factory=list)   # task indices sent, in order
    done: set[int] = field(default_factory=set)
    current: int | None = None                       # the task started and not finished
    started_any: bool = False                        # ran at least one task since it started

    @property
    def busy(self) -> bool:
        return bool(self.batch)


def exit_reason(exitcode: int | None) -> str:
    """How a worker process ended, in words: "died with signal SIGSEGV", "exited with code 1"."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (killed from outside, often by the out-of-memory killer)" if -exitcode == signal.SIGKILL else ""
        return f"died with signal {name}{hint}"
    return f"exited with code {exitcode}"


@contextlib.contextmanager
def _worker_environment(workers: int) -> Iterator[None]:
    """The environment a spawned worker starts with: :data:`WORKER_ENV`, and the cores shared among the
    ``workers`` (N workers use N cores, not N², for their numerics). What the user set wins."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    wanted = dict(WORKER_ENV, **{k: threads for k in THREAD_VARS})
    added = [k for k in wanted if k not in os.environ]
    for k in added:
        os.environ[k] = wanted[k]
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


class WorkerPool:
    """Processes that run ``fn(task, memo)`` on batches of tasks, one batch at a time per worker.

    Parameters
    ----------
    fn : callable
        ``fn(task, memo) -> result``, a module-level function (it is pickled by name). ``memo`` is a dict shared
        by the tasks of one batch (a batch's shared inputs, read once).
    workers : int
        Worker processes at most.
    crashed : callable
        ``crashed(task, reason) -> result``: the result of a task whose worker died while running it.
    log_path : str, optional
        File that the workers' file descriptor 2 (native libraries' log lines, a crash's Python stack) goes to.
    task_name : str
        What one task is, for the reason of a task whose worker died ("... while running this trial x
        candidate").
    """

    def __init__(self, fn: Callable[[Any, dict], Any], *, workers: int, crashed: Callable[[Any, str], Any],
                 log_path: str | os.PathLike | None = None, task_name: str = "trial x candidate"):
        self.fn = fn
        self.task_name = task_name
        self.max_workers = max(1, int(workers))
        self.crashed = crashed
        self.log_path = None if log_path is None else str(log_path)
        self.ctx = mp.get_context("spawn")
        self.workers: list[_Worker] = []
        #: How each worker that died ended, in order (for the caller's notes and the tests).
        self.deaths: list[str] = []

    # -- processes
    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(target=_worker_main, name="stancebench-worker",
                                args=(child_conn, self.fn, os.getpid(), self.log_path))
        with _worker_environment(self.max_workers):
            proc.start()
        child_conn.close()      # so that the parent's end reads EOF when the worker dies
        w = _Worker(proc, parent_conn)
        self.workers.append(w)
        return w

    def _stop(self, *, graceful: bool) -> None:
        for w in self.workers:
            if graceful and w.proc.is_alive():
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
            elif w.proc.is_alive():
                w.proc.terminate()
        deadline = time.monotonic() + (STOP_GRACE_S if graceful else 1.0)
        for w in self.workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(1.0)
            with contextlib.suppress(OSError):
                w.conn.close()
            with contextlib.suppress(ValueError):   # still running after SIGKILL: nothing more to do
                w.proc.close()
        self.workers = []

    # -- the run
    def run(self, tasks: Sequence[Any], batches: Sequence[Sequence[int]], *,
            on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
        """Results of ``fn`` on every task, in the order of ``tasks``.

        Parameters
        ----------
        tasks : sequence
            Picklable tasks.
        batches : sequence of sequences of int
            Task indices grouped into batches: one worker runs a batch in its order with one ``memo``.
        on_result : callable, optional
            ``on_result(index, result)`` as each task finishes (or is given up).
        """
        results: list[Any] = [None] * len(tasks)
        finished = [False] * len(tasks)
        pending = collections.deque([list(b) for b in batches if b])

        def finish(i: int, result: Any) -> None:
            results[i], finished[i] = result, True
            if on_result is not None:
                on_result(i, result)

        startup_deaths = 0
        try:
            while pending or any(w.busy for w in self.workers):
                # start every worker needed before sending to any: a send waits until its worker reads
                idle = sum(not w.busy for w in self.workers)
                for _ in range(min(self.max_workers - len(self.workers), len(pending) - idle)):
                    self._start_worker()
                for w in self.workers:
                    if not w.busy and pending:
                        self._send(w, pending.popleft(), tasks)
                busy = [w for w in self.workers if w.busy]
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
                for w in busy:
                    if w.conn in ready or w.proc.sentinel in ready:
                        alive = self._drain(w, tasks, finish)
                        if not alive or not w.proc.is_alive():
                            startup_deaths = self._bury(w, tasks, pending, finish, startup_deaths)
        except BaseException:
            self._stop(graceful=False)
            raise
        self._stop(graceful=True)
        missing = [i for i, ok in enumerate(finished) if not ok]
        if missing:     # every index belongs to a batch: a task left out here is a bug of the pool
            raise RuntimeError(f"worker pool finished without results for tasks {missing}")
        return results

    def _send(self, w: _Worker, batch: list[int], tasks: Sequence[Any]) -> None:
        w.batch, w.done, w.current = batch, set(), None
        try:
            w.conn.send([(i, tasks[i]) for i in batch])
        except (BrokenPipeError, ConnectionResetError):   # died at start: _bury gives the batch to another worker
            pass

    def _drain(self, w: _Worker, tasks: Sequence[Any], finish: Callable[[int, Any], None]) -> bool:
        """Handle every message waiting from ``w``; False once its pipe is closed (the worker is gone)."""
        while True:
            try:
                if not w.conn.poll():
                    return True
                msg = w.conn.recv()
            except (EOFError, OSError):     # closed, or cut mid-message by the worker's death
                return False
            kind = msg[0]
            if kind == "start":
                w.current, w.started_any = msg[1], True
            elif kind == "done":
                finish(msg[1], msg[2])
                w.done.add(msg[1])
                w.current = None
            elif kind == "raise":
                exc, tb = msg[2], msg[3]
                raise exc from RemoteTraceback(f"\n\"\"\"\nin worker process {w.proc.pid}:\n{tb}\"\"\"")
            elif kind == "idle":
                w.batch, w.done, w.current = [], set(), None

    def _bury(self, w: _Worker, tasks: Sequence[Any], pending: collections.deque,
              finish: Callable[[int, Any], None], startup_deaths: int) -> int:
        """A worker died: fail the task it was running, queue the rest of its batch; the new startup-death count."""
        w.proc.join(1.0)
        how = exit_reason(w.proc.exitcode)
        self.deaths.append(how)
        with contextlib.suppress(OSError):
            w.conn.close()
        self.workers.remove(w)
        rest = [i for i in w.batch if i not in w.done and i != w.current]
        if w.current is not None:
            finish(w.current, self.crashed(tasks[w.current],
                                           f"worker process {how} while running this {self.task_name}"))
            startup_deaths = 0
        elif not w.started_any:
            startup_deaths += 1
        if rest:
            if startup_deaths >= MAX_STARTUP_DEATHS:
                for i in rest:
                    finish(i, self.crashed(tasks[i], f"no worker process could run it: {startup_deaths} in a "
                                                     f"row {how} before starting a task"))
                for batch in pending:
                    for i in batch:
                        finish(i, self.crashed(tasks[i], f"no worker process could run it: {startup_deaths} "
                                                         f"in a row {how} before starting a task"))
                pending.clear()
            else:
                pending.appendleft(rest)
        return startup_deaths
