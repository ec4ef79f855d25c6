"""Studies beyond one process (issue 14): a real Dask scheduler and two real workers started here, a worker
SIGKILLed mid-task, a task whose worker dies every time, and ``validate`` itself SIGKILLed then resumed from its
journal. Every run is compared, field by field, with an uninterrupted local run of the same study: the expected
numbers come from that run (another engine, other processes), never from the run under test.

One small generated study (one subject, two 2-s trials, 180x320 video) with three cheap candidates (the positive
control ``render-truth`` at three jitters) is shared by every test: 2 trials x 3 candidates = 6 tasks, more than
twice the test cluster's two threads, so that the scheduler queues them and gives a worker one task at a time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.cli import main

distributed = pytest.importorskip("distributed", reason="the Dask extra is not installed (pip install '.[dask]')")

#: Fields that say how and when a run ran, not what it computed (and the inference cache's hit flag: the second
#: run of a video reads the first one's track, the same numbers).
RUN_FIELDS = {"elapsed_s", "ms_per_frame", "cache_hit", "timings", "paths"}
STUDY_RUN_FIELDS = {"created_utc", "workers", "engine", "notes"}
COMMON = ["--no-device", "--no-report", "--no-store", "--no-progress"]
#: How many times a task may lose its worker on the test scheduler before Dask gives it up (two runs in all).
ALLOWED_FAILURES = 1
N_TASKS = 6


def _differences(a, b, path: str = "", out: list | None = None, count: list | None = None):
    """Every difference between two results.json documents outside the run fields; ``count[0]`` numbers compared."""
    out = [] if out is None else out
    count = [0] if count is None else count
    if isinstance(a, dict) and isinstance(b, dict):
        skip = RUN_FIELDS | (STUDY_RUN_FIELDS if path == ".study" else set())
        for k in sorted(set(a) | set(b)):
            if k in skip:
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in one")
            else:
                _differences(a[k], b[k], f"{path}.{k}", out, count)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _differences(x, y, f"{path}[{i}]", out, count)
    else:
        count[0] += isinstance(a, float)
        if a != b or type(a) is not type(b):
            out.append(f"{path}: {a!r} != {b!r}")
    return out, count[0]


def _assert_same_results(got: dict, expected: dict) -> None:
    diffs, n_numbers = _differences(got, expected)
    assert not diffs, diffs[:10]
    assert n_numbers > 300       # the comparison covered the study's numbers, not an empty document
    pairs = [(r["trial_id"], r["candidate"]) for r in got["trials"]]
    assert len(pairs) == len(set(pairs)) == N_TASKS      # each trial x candidate exactly once


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The generated study's manifest, with the two cheap candidates and a cache folder of its own."""
    import tomli_w
    import tomllib

    from harness.synthetic_study import DemoConfig, generate_demo_study
    root = tmp_path_factory.mktemp("dask_study")
    cfg = DemoConfig(n_subjects=1, duration_s=2.0, cameras=1, width=180, height=320, controls=False)
    gen = generate_demo_study(root, cfg, progress=False)
    data = tomllib.loads(gen.manifest_path.read_text())
    data["settings"].update(bootstrap=50, cache_dir=str(root / "cache"))
    data["candidates"] = [{"name": "truth-a", "backbone": "render-truth", "view": "front", "params": {}},
                          {"name": "truth-b", "backbone": "render-truth", "view": "front",
                           "params": {"jitter_px": 3.0}},
                          {"name": "truth-c", "backbone": "render-truth", "view": "front",
                           "params": {"jitter_px": 1.0, "jitter_tau_s": 0.0}}]
    path = gen.manifest_path.with_name("small.toml")
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.fixture(scope="module")
def local(study, tmp_path_factory):
    """The uninterrupted local run every other run is compared with."""
    out = tmp_path_factory.mktemp("local_run")
    assert main(["validate", str(study), "--out", str(out), "--workers", "2", *COMMON]) == 0
    return json.loads((out / "results.json").read_text())


class Cluster:
    """A real ``dask scheduler`` and two ``dask worker`` processes (one process, one thread each) on localhost, on
    ephemeral ports."""

    def __init__(self, root: Path):
        sched_file = root / "scheduler.json"
        # a task is given up at its second death; a worker is given one task at a time (Dask's default 1.1 gives a
        # one-thread worker two), so that a killed worker takes exactly the task it was running with it
        self.env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(ALLOWED_FAILURES),
                        DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
        self.logs = [open(root / f"{name}.log", "w") for name in ("scheduler", "worker-1", "worker-2")]
        self.scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                                           "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                                           str(sched_file)], stdout=subprocess.DEVNULL, stderr=self.logs[0],
                                          env=self.env)
        self.procs = [self.scheduler]
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                         str(sched_file), "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                                        stdout=subprocess.DEVNULL, stderr=log, env=self.env) for log in self.logs[1:]]
        self.address = json.loads(sched_file.read_text())["address"]
        with distributed.Client(self.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)

    def close(self) -> None:
        if self.scheduler.poll() is None:
            with distributed.Client(self.address, timeout="30s") as client:
                client.shutdown()       # the scheduler tells its workers to close: quicker than a signal each
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:     # a worker left without its scheduler waits to reconnect
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c
    finally:
        c.close()


def _kill_worker_running(address: str, index: int, *, times: int, stop: threading.Event, killed: list) -> None:
    """SIGKILL the worker process that runs task ``index`` of the study, each time it runs it, ``times`` times."""
    with distributed.Client(address, timeout="30s") as client:
        while len(killed) < times and not stop.is_set():
            for worker, keys in client.processing().items():
                if any(str(k).startswith("stancebench-") and str(k).endswith(f"-{index}") for k in keys):
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    # the scheduler must have seen it die before the next look (the task is then elsewhere)
                    while worker in client.scheduler_info()["workers"] and not stop.is_set():
                        time.sleep(0.02)
                    break
            time.sleep(0.01)


def _validate_while_killing(study, out, address, *, index: int, times: int) -> tuple[int, list]:
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_worker_running, args=(address, index),
                              kwargs={"times": times, "stop": stop, "killed": killed})
    killer.start()
    try:
        rc = main(["validate", str(study), "--out", str(out), "--scheduler", address, *COMMON])
    finally:
        stop.set()
        killer.join(30)
    return rc, killed


def test_scheduler_option_is_checked_before_anything_runs(study, tmp_path, capsys, monkeypatch):
    assert main(["validate", str(study), "--out", str(tmp_path / "a"), "--scheduler", "local:0", *COMMON]) == 2
    assert "--scheduler" in capsys.readouterr().err and not (tmp_path / "a").exists()
    # without the extra: refused, naming how to install it
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["validate", str(study), "--out", str(tmp_path / "b"), "--scheduler", "local:2", *COMMON]) == 2
    assert "pip install 'stancebench[dask]'" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_cluster_run_equals_the_local_run_with_a_worker_killed_mid_task(study, local, cluster, tmp_path, capsys):
    out = tmp_path / "dask"
    rc, killed = _validate_while_killing(study, out, cluster.address, index=0, times=1)
    assert rc == 0 and len(killed) == 1
    assert f"dask: scheduler {cluster.address}, 2 worker(s)" in capsys.readouterr().err
    got = json.loads((out / "results.json").read_text())
    engine = got["study"]["engine"]
    assert engine["name"] == "dask" and engine["workers"] == 2 and engine["computed"] == N_TASKS
    # the task on the killed worker ran again on a worker, once, and its row is the local run's: every number of
    # every row and every agreement statistic equals the uninterrupted local run's
    assert (engine["retried"], engine["worker_deaths"], engine["given_up"]) == (1, 1, 0)
    assert engine["allowed_failures"] == ALLOWED_FAILURES
    assert all(r["status"] == "ok" for r in got["trials"])
    _assert_same_results(got, local)
    assert len(list((out / "journal").glob("*.json"))) == N_TASKS


def test_a_task_that_kills_its_worker_every_time_is_failed_and_the_study_goes_on(study, local, cluster, tmp_path):
    out = tmp_path / "deadly"
    rc, killed = _validate_while_killing(study, out, cluster.address, index=0, times=ALLOWED_FAILURES + 1)
    assert len(killed) == ALLOWED_FAILURES + 1
    got = json.loads((out / "results.json").read_text())
    failed = [r for r in got["trials"] if r["status"] != "ok"]
    assert len(failed) == 1 and failed[0]["error_type"] == "WorkerProcessDied"
    assert f"died {ALLOWED_FAILURES + 1} times" in failed[0]["reason"]
    assert got["study"]["engine"]["given_up"] == 1
    # the other runs are the local run's rows; the failed one is not journaled (a --resume tries it again)
    ok = {(r["trial_id"], r["candidate"]): r for r in got["trials"] if r["status"] == "ok"}
    for row in local["trials"]:
        if (row["trial_id"], row["candidate"]) in ok:
            assert not _differences(ok[(row["trial_id"], row["candidate"])], row)[0]
    assert len(ok) == N_TASKS - 1 and len(list((out / "journal").glob("*.json"))) == N_TASKS - 1
    assert rc == 0


def test_killed_validate_resumes_and_computes_only_what_is_missing(study, local, cluster, tmp_path):
    out = tmp_path / "resumed"
    journal = out / "journal"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from harness.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", "validate", str(study), "--out", str(out),
                             "--workers", "1", *COMMON], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not list(journal.glob("*.json")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    before = {p.name for p in journal.glob("*.json")}
    assert 1 <= len(before) < N_TASKS and not (out / "results.json").exists()
    mtimes = {n: (journal / n).stat().st_mtime_ns for n in before}
    # resumed on the cluster: the journal's keys do not depend on where a task ran
    assert main(["validate", str(study), "--out", str(out), "--scheduler", cluster.address, "--resume",
                 *COMMON]) == 0
    got = json.loads((out / "results.json").read_text())
    engine = got["study"]["engine"]
    assert (engine["from_journal"], engine["computed"]) == (len(before), N_TASKS - len(before))
    assert f"{len(before)} of {N_TASKS} trial x candidate run(s) read from" in " ".join(got["study"]["notes"])
    # the entries that were there were read, not rewritten
    assert all((journal / n).stat().st_mtime_ns == mtimes[n] for n in before)
    assert len(list(journal.glob("*.json"))) == N_TASKS
    _assert_same_results(got, local)


def test_the_scheduler_going_away_ends_the_run_with_a_clear_message_and_a_resumable_journal(study, cluster,
                                                                                             tmp_path):
    """Last in this module: it ends the cluster."""
    from harness.journal import Journal, task_keys
    from harness.manifest import load_manifest
    from harness.study import _tasks
    out = tmp_path / "lost"
    journal = out / "journal"
    # how long the client tries to reach a scheduler that went away (Dask's default is 30 s)
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from harness.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", "validate", str(study), "--out", str(out),
                             "--scheduler", cluster.address, *COMMON], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not list(journal.glob("*.json")):
        time.sleep(0.01)
    cluster.scheduler.kill()
    cluster.scheduler.wait()
    assert proc.wait(60) == 2, proc.stderr.read()
    stderr = proc.stderr.read()
    err = stderr.strip().splitlines()
    # the dashboard line, then one line saying what happened: no traceback from Dask's reconnection attempts
    assert len(err) == 2 and "Traceback" not in stderr, err
    assert err[-1].startswith("stancebench validate: error: the Dask scheduler at ")
    assert "went away" in err[-1] and "--resume" in err[-1]
    assert not (out / "results.json").exists()
    # what finished is there under the keys a resumed run asks for
    n = len(list(journal.glob("*.json")))
    keys = task_keys(_tasks(load_manifest(study)))
    assert 1 <= n < N_TASKS and len(Journal(out).read_many(keys)) == n
    assert f"after {n} of {N_TASKS} trial x candidate run(s)" in err[-1]
