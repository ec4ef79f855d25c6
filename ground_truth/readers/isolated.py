"""Native reading libraries run in a child process, so that their crash or hang is a named error for that file.

ezc3d (C++) dies with SIGSEGV on some corrupted C3D files and blocks on others; inside the process that runs a
study either would end the study with nothing written. Here the library runs in one long-lived child process
(started on first use, reused by every later read, restarted after a crash), which sends back plain arrays
and dicts: a crash becomes :class:`WorkerCrashed`, a hang :class:`WorkerTimeout`, and the reader turns either
into a :class:`~ground_truth.kernel.ReaderError` naming the file.

Why one reused child and not a fork per read: a process that has loaded numpy, torch or a video decoder
carries threads that ``fork`` does not copy (a child can deadlock on a lock one of them held), and starting a
fresh interpreter costs ~0.4 s; the reused child pays that once per process. What one read costs on top of
reading in-process is the transfer of its arrays through a pipe (see :func:`call`).

The child dies with its parent: it reads requests from a pipe (end of file when the parent is gone), and on
Linux the kernel also sends it SIGKILL when the parent dies while the library is busy.

The parent sends a module-level function by reference (pickle names its module and qualified name; the child
imports that module when it unpickles the request): the caller imports the function it runs with a plain import,
as any other. A function of the parent's ``__main__`` cannot be sent.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

#: How long a freshly started child may take to import numpy and report ready (s); a loaded machine is slow.
STARTUP_TIMEOUT_S = 60.0
_HEADER = struct.Struct("<Q")
_CHUNK = 1 << 20


class WorkerCrashed(RuntimeError):
    """The child process died while running a call (a native crash, or killed from outside)."""

    def __init__(self, returncode: int, stderr_tail: str = ""):
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        if returncode < 0:
            try:
                self.cause = f"signal {signal.Signals(-returncode).name}"
            except ValueError:
                self.cause = f"signal {-returncode}"
        else:
            self.cause = f"exit status {returncode}"
        super().__init__(f"the reading process ended ({self.cause})")


class WorkerTimeout(RuntimeError):
    """A call did not finish within its time limit; the child was killed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"no answer within {seconds:g} s")


class WorkerFailed(RuntimeError):
    """The function raised an exception in the child that it did not handle itself (a bug, not bad input)."""

    def __init__(self, type_name: str, message: str, remote_traceback: str):
        self.type_name = type_name
        self.remote_traceback = remote_traceback
        super().__init__(f"{type_name}: {message}\n--- traceback in the reading process ---\n{remote_traceback}")


# ----------------------------------------------------------------------------------------------------------------
# framing: 8-byte little-endian length, then a pickle
# ----------------------------------------------------------------------------------------------------------------
def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload) if len(payload) < _CHUNK else None
    if view is None:
        _write_all(fd, memoryview(_HEADER.pack(len(payload))))
        view = memoryview(payload)
    _write_all(fd, view)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        n = os.write(fd, view[:_CHUNK])
        view = view[n:]


def _widen_pipe(fd: int) -> None:
    """Ask for a 1-MB pipe buffer (Linux; 64 KB by default): a 10-MB answer then takes 10 wake-ups, not 160."""
    if not sys.platform.startswith("linux"):
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, 1031, _CHUNK)   # F_SETPIPE_SZ; refused above /proc/sys/fs/pipe-max-size: keep 64 KB


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    """``n`` bytes from ``fd``; None at end of file; TimeoutError past ``deadline`` (time.monotonic())."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
        k = os.readv(fd, [view[got:got + _CHUNK]])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _read_frame(fd: int, deadline: float | None) -> bytes | None:
    head = _read_exact(fd, _HEADER.size, deadline)
    if head is None:
        return None
    return _read_exact(fd, _HEADER.unpack(head)[0], deadline)


# ----------------------------------------------------------------------------------------------------------------
# child side
# ----------------------------------------------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this process when the parent dies (even while native code is busy)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):   # no prctl in this libc: end of file on the pipe still ends the child
        return
    if os.getppid() != parent:          # the parent died before prctl took effect
        os._exit(0)


@contextlib.contextmanager
def _address_space_budget(budget: int | None):
    """On Linux, let this process grow by at most ``budget`` bytes of address space during the block: a native
    library that sizes its buffers from a corrupted count then gets a failed allocation (MemoryError), instead
    of taking the machine's memory until the kernel kills something."""
    if budget is None or not sys.platform.startswith("linux"):
        yield
        return
    import resource

    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + budget if hard == resource.RLIM_INFINITY else min(used + budget, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _serve(parent: int) -> None:
    """The child's loop: read a request, run it, send back ``("ok", result)`` or ``("error", ...)``."""
    out = os.dup(1)
    # anything the native library prints goes to stderr (a file the parent reads on a crash), never into the
    # answers
    os.dup2(2, 1)
    _die_with_parent(parent)
    import faulthandler

    faulthandler.enable()
    _write_frame(out, pickle.dumps(("ready", os.getpid())))
    while True:
        frame = _read_frame(0, None)
        if frame is None:         # the parent closed the pipe (or died): nothing more to do
            os._exit(0)
        try:
            func, args, kwargs, memory_budget = pickle.loads(frame)
            with _address_space_budget(memory_budget):
                result = ("ok", func(*args, **kwargs))
        except Exception as exc:  # sent back to the parent as WorkerFailed, with the traceback
            result = ("error", type(exc).__name__, str(exc), traceback.format_exc())
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            payload = pickle.dumps(("error", type(exc).__name__, f"result cannot be sent back: {exc}",
                                    traceback.format_exc()))
        _write_frame(out, payload)


# ----------------------------------------------------------------------------------------------------------------
# parent side
# ----------------------------------------------------------------------------------------------------------------
class _Worker:
    """One child process and the pipes to it."""

    def __init__(self):
        root = str(Path(__file__).resolve().parents[2])   # the folder that holds the ground_truth package
        boot = (f"import sys; sys.path.insert(0, {root!r}); "
                f"from ground_truth.readers.isolated import _serve; _serve({os.getpid()})")
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, close_fds=True)
        self.owner = os.getpid()
        _widen_pipe(self.proc.stdout.fileno())
        try:
            frame = _read_frame(self.proc.stdout.fileno(), time.monotonic() + STARTUP_TIMEOUT_S)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout(STARTUP_TIMEOUT_S) from None
        if frame is None:
            raise WorkerCrashed(self.proc.wait(), self.stderr_tail())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            self.stderr.seek(0)
            return self.stderr.read().decode("utf-8", "replace")[-n:]
        return ""

    def call(self, func, args: tuple, kwargs: dict, timeout_s: float, memory_budget: int | None):
        with contextlib.suppress(OSError):
            self.stderr.seek(0)
            self.stderr.truncate()
        request = pickle.dumps((func, args, kwargs, memory_budget), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_frame(self.proc.stdin.fileno(), request)
            frame = _read_frame(self.proc.stdout.fileno(), time.monotonic() + timeout_s)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout(timeout_s) from None
        except BrokenPipeError:
            frame = None
        except BaseException:         # interrupted (Ctrl-C) mid-answer: the pipe is out of step, start afresh
            self.kill()
            raise
        if frame is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            if self.proc.returncode is None:
                self.kill()
            raise WorkerCrashed(self.proc.returncode, self.stderr_tail())
        answer = pickle.loads(frame)
        if answer[0] == "ok":
            return answer[1]
        raise WorkerFailed(*answer[1:])

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.close_pipes()

    def close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def stop(self) -> None:
        """Close the request pipe (the child exits at end of file); kill it if it does not."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        self.close_pipes()


_lock = threading.Lock()
_worker: _Worker | None = None


def _forget_after_fork() -> None:
    """In a forked child the parent's worker is not ours: drop our copies of its pipes, start our own later."""
    global _worker, _lock
    _lock = threading.Lock()
    if _worker is not None:
        _worker.close_pipes()
        _worker = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


@atexit.register
def shutdown() -> None:
    """Stop the child process, if one runs (also at interpreter exit)."""
    global _worker
    with _lock:
        if _worker is not None and _worker.owner == os.getpid():
            _worker.stop()
        _worker = None


def available() -> bool:
    """Whether calls run in a child process here (POSIX pipes and select); elsewhere :func:`call` runs in-process."""
    return os.name == "posix"


def call(func, *args, timeout_s: float, memory_budget: int | None = None, **kwargs):
    """Run ``func`` (a module-level function, sent by reference) with the arguments in the child process; its
    result.

    Arguments and result travel pickled (numpy arrays as raw buffers): the cost over an in-process call is
    that transfer, ~2 ms per MB of arrays, plus a one-off ~0.3-0.6 s to start the child the first time.
    ``memory_budget`` (bytes, Linux): how much the child may grow during the call; beyond it an allocation
    fails (in Python, MemoryError) instead of exhausting the machine.

    Raises
    ------
    WorkerCrashed
        The child died during the call (``cause`` names the signal, e.g. ``signal SIGSEGV``). The next call
        starts a new child.
    WorkerTimeout
        No answer within ``timeout_s``: the child was killed.
    WorkerFailed
        The function raised an exception it did not handle (its type, message and traceback are kept).
    """
    global _worker
    if not available():   # pragma: no cover - no POSIX select on pipes: run where we are, without isolation
        return func(*args, **kwargs)
    with _lock:
        if _worker is None or not _worker.alive() or _worker.owner != os.getpid():
            if _worker is not None and _worker.owner == os.getpid():
                _worker.kill()
            _worker = None
            _worker = _Worker()
        worker = _worker
        try:
            return worker.call(func, args, kwargs, timeout_s, memory_budget)
        except (WorkerCrashed, WorkerTimeout):
            _worker = None
            raise
        except BaseException:
            if not worker.alive():
                _worker = None
            raise


def worker_pid() -> int | None:
    """The pid of the running child process, if any (for tests and diagnostics)."""
    w = _worker
    return w.proc.pid if w is not None and w.alive() else None
