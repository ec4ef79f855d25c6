"""Hostile input against the study runner (issue 15): a native crash in one trial, workers outliving a killed
parent, manifest files that are no regular files, a non-UTF-8 manifest, a full disk while writing the results,
the report, the gate verdicts and the inference cache, and an output folder that is a file.

The crash is real: byte 1434 of the real ``c3d/Kistler.c3d`` set to 255 makes the C3D library segfault, and a
module-level task function below kills its own worker with SIGSEGV. The full disk is real too: the process that
writes runs under ``RLIMIT_FSIZE``, so the kernel refuses the write half-way (EFBIG, "File too large"), which
goes through the same path as ENOSPC (an OSError from write or flush) without root or a small file system.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, shared_path
from ground_truth.kernel import ManifestError

PY = sys.executable


# ----------------------------------------------------------------------------------------------- task functions
def crash_on_two(task, memo):
    """A task function for the pool: task 2 segfaults its worker, the others return normally."""
    memo.setdefault("seen", []).append(task)
    if task == 2:
        os.kill(os.getpid(), signal.SIGSEGV)
    return task * 10, os.getpid(), list(memo["seen"])


def raise_on_one(task, memo):
    if task == 1:
        raise ZeroDivisionError("a bug in the task")
    return task


def crashed_result(task, reason):
    return ("crashed", task, reason)


# ---------------------------------------------------------------------------------------------------- helpers
def _run(args: list[str], *, fsize: int | None = None, timeout: float = 120, env: dict | None = None):
    """A Python subprocess (optionally under RLIMIT_FSIZE: writes past ``fsize`` bytes fail with EFBIG)."""
    def limit():
        if fsize is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([PY, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          preexec_fn=limit, env=full_env)


def _cli(*argv: str) -> list[str]:
    return ["-c", f"import sys; from harness.cli import main; sys.exit(main({list(argv)!r}))"]


STUDY = """
    [study]
    name = "hostile"
    [settings]
    kpis = ["cop_path_length", "com_rms_ml"]
    [[subjects]]
    id = "S01"
    height_m = 1.70
    mass_kg = 65.0
    {trials}
    """
TRIAL = """
    [[trials]]
    id = "{id}"
    subject = "S01"
    protocol = "single_leg_stance"
    condition = "eyes_open_firm"
    stance_leg = "right"
    kind = "reference-only"
    gold_standard = "{gold}"
    duration_s = 4.0
    """


def _manifest(root: Path, trials: dict[str, str], name: str = "study.toml") -> Path:
    body = STUDY.format(trials="".join(TRIAL.format(id=k, gold=v) for k, v in trials.items()))
    path = root / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture(scope="module")
def good_c3d(tmp_path_factory) -> Path:
    """One real C3D written by the synthetic generator (a standing trial the study reads as ok)."""
    from ground_truth import synthetic
    root = tmp_path_factory.mktemp("hostile")
    trial = synthetic.simulate_single_leg_stance(
        synthetic.Subject(subject_id="S01", height_m=1.70, mass_kg=65.0, sex="female"), condition="eyes_open_firm",
        stance_leg="right", duration_s=300.0, max_duration_s=4.0, fail_at_s=None, seed=10)
    return synthetic.write_c3d(trial, root / "t0.c3d")


@pytest.fixture
def study_dir(tmp_path, good_c3d) -> Path:
    (tmp_path / "t0.c3d").write_bytes(good_c3d.read_bytes())
    return tmp_path


def _tmp_or_empty(folder: Path) -> list[str]:
    """Temporary or 0-byte files (the workers' native log is empty when no library wrote to it)."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name != "native-stderr.log"
                  and (".tmp" in p.name or p.stat().st_size == 0))


# ----------------------------------------------------------------------------------- finding 1: crash isolation
@pytest.mark.parametrize("workers", [1, 2])
def test_a_segfault_costs_its_own_task_only(workers):
    from harness.workers import WorkerPool
    pool = WorkerPool(crash_on_two, workers=workers, crashed=crashed_result)
    t0 = time.perf_counter()
    out = pool.run([0, 1, 2, 3, 4, 5], [[0, 1, 2, 3], [4, 5]])
    assert out[2] == ("crashed", 2, "worker process died with signal SIGSEGV while running this trial x candidate")
    assert [o[0] for i, o in enumerate(out) if i != 2] == [0, 10, 30, 40, 50]
    # the rest of the crashed batch (task 3) ran in another worker with a fresh memo; one batch shares its memo
    assert out[0][1] == out[1][1] != out[3][1] and out[1][2] == [0, 1] and out[3][2] == [3]
    assert out[5][2] == [4, 5]
    assert pool.deaths == ["died with signal SIGSEGV"] and pool.workers == []
    assert time.perf_counter() - t0 < 30


def test_an_exception_in_a_worker_is_raised_in_the_parent():
    from harness.workers import RemoteTraceback, WorkerPool
    pool = WorkerPool(raise_on_one, workers=2, crashed=crashed_result)
    with pytest.raises(ZeroDivisionError, match="a bug in the task") as info:
        pool.run([0, 1, 2], [[0, 1], [2]])
    assert isinstance(info.value.__cause__, RemoteTraceback) and "raise_on_one" in str(info.value.__cause__)
    assert pool.workers == []


def test_workers_that_cannot_start_fail_the_tasks_with_the_reason(tmp_path, monkeypatch):
    # a worker whose interpreter cannot start (here: a site file that exits) never loops forever
    from harness.workers import MAX_STARTUP_DEATHS, WorkerPool
    (tmp_path / "sitecustomize.py").write_text("import os\nos._exit(3)\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    pool = WorkerPool(crash_on_two, workers=1, crashed=crashed_result)
    out = pool.run([0, 1], [[0], [1]])
    assert all(o[0] == "crashed" and "exited with code 3 before starting a task" in o[2] for o in out)
    assert len(pool.deaths) == MAX_STARTUP_DEATHS


def _study_tasks(study_dir: Path):
    from harness.manifest import load_manifest
    from harness.study import _tasks
    return _tasks(load_manifest(_manifest(study_dir, {"T0": "t0.c3d"})), strict=True)


def test_strict_mode_reraises_a_bug_in_a_trial_from_the_worker(study_dir, monkeypatch):
    from harness.trial_tasks import run_tasks
    tasks = _study_tasks(study_dir)
    tasks[0]["settings"]["kpis"] = 5          # list(5): a TypeError inside the trial, i.e. a bug
    with pytest.raises(TypeError, match="not iterable"):
        run_tasks(tasks, workers=1, progress=False)
    # not strict (neither the task nor the worker's environment): the bug is the trial's status
    monkeypatch.delenv("STANCEBENCH_STRICT")
    tasks[0]["strict"] = False
    row = run_tasks(tasks, workers=1, progress=False)[0].row
    assert row["status"] == "failed" and row["error_type"] == "TypeError" and "not iterable" in row["reason"]


def test_a_c3d_that_crashes_its_reader_fails_one_trial_not_the_study(study_dir):
    data = bytearray(shared_path("c3d", "Kistler.c3d").read_bytes())
    data[1434] = 255
    (study_dir / "kistler_byte1434.c3d").write_bytes(bytes(data))
    manifest = _manifest(study_dir, {"CRASH": "kistler_byte1434.c3d", "T0": "t0.c3d"})
    out = study_dir / "out"
    r = _run(_cli("validate", str(manifest), "--out", str(out), "--workers", "1", "--no-device", "--no-report",
                  "--no-progress"), timeout=180)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "results.json").read_text())
    rows = {row["trial_id"]: row for row in res["trials"]}
    assert rows["T0"]["status"] == "ok"
    crash = rows["CRASH"]
    assert crash["status"] == "failed"
    if crash.get("error_type") == "WorkerProcessDied":     # the reader itself may refuse the file first
        assert "signal SIGSEGV while running this trial x candidate" in crash["reason"]
        assert any("1 died with signal SIGSEGV" in n for n in res["study"]["notes"])
        assert "Segmentation fault" in (out / "native-stderr.log").read_text()
        assert "note: worker processes: 1 died with signal SIGSEGV" in r.stdout
    else:
        assert "kistler_byte1434.c3d" in crash["reason"]


# ------------------------------------------------------------------------------- finding 9: workers and parent
DRIVER = """
import os, pathlib, sys, time
from harness.workers import WorkerPool

def task(t, memo):
    pathlib.Path(f"started-{os.getpid()}").write_text("")
    time.sleep(120)

def crashed(t, reason):
    return reason

if __name__ == "__main__":
    pool = WorkerPool(task, workers=2, crashed=crashed)
    pool.run([0, 1], [[0], [1]])
"""


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:     # exited while being read
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")      # a zombie has ended; only its exit status waits to be collected


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_and_the_resource_tracker_die_with_a_killed_parent(tmp_path):
    (tmp_path / "driver.py").write_text(DRIVER)
    proc = subprocess.Popen([PY, str(tmp_path / "driver.py")], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(tmp_path.glob("started-*"))) < 2:
            time.sleep(0.1)     # until both workers are inside their task
        kids = _children(proc.pid)      # the two workers and multiprocessing's resource tracker
        assert len(kids) >= 3, f"the driver started {kids}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.1)
        survivors = [k for k in kids if _alive(k)]
    finally:
        for k in _children(proc.pid):
            os.kill(k, signal.SIGKILL)
        proc.kill()
    assert survivors == [], f"processes that outlived their parent: {survivors}"


# ------------------------------------------------------------------------------ findings 5, 6: manifest check
def test_check_refuses_every_file_that_is_no_regular_file_all_at_once(study_dir, capsys):
    from harness.cli import main
    (study_dir / "x.c3d").mkdir()
    os.mkfifo(study_dir / "fifo.c3d")
    (study_dir / "empty.c3d").write_bytes(b"")
    body = STUDY.format(trials="".join(TRIAL.format(id=k, gold=v) for k, v in {
        "DIR": "x.c3d", "FIFO": "fifo.c3d", "DEV": "/dev/zero", "EMPTY": "empty.c3d", "OK": "t0.c3d"}.items()))
    body += textwrap.dedent("""
        [[trials]]
        id = "VID"
        subject = "S01"
        protocol = "single_leg_stance"
        condition = "eyes_open_firm"
        kind = "candidate-only"
        video = "."
        [[candidates]]
        name = "blazepose-tflite"
        """)
    manifest = study_dir / "study.toml"
    manifest.write_text(textwrap.dedent(body))
    t0 = time.perf_counter()
    rc = main(["validate", str(manifest), "--out", str(study_dir / "out"), "--check"])
    err = capsys.readouterr().err
    assert rc == 2 and time.perf_counter() - t0 < 20
    assert " problems:" in err
    for field, words in [("trials[0] (id 'DIR').gold_standard", "is a directory"),
                         ("trials[1] (id 'FIFO').gold_standard", "is a FIFO (named pipe)"),
                         ("trials[2] (id 'DEV').gold_standard", "is a device"),
                         ("trials[3] (id 'EMPTY').gold_standard", "file is empty"),
                         ("trials[5] (id 'VID').video", "is a directory")]:
        assert f"field '{field}': {words}" in err, (field, err)
    assert "'OK'" not in err and not (study_dir / "out").exists()


def test_a_fifo_gold_standard_is_refused_before_the_run_not_waited_on(study_dir):
    os.mkfifo(study_dir / "fifo.c3d")
    manifest = _manifest(study_dir, {"FIFO": "fifo.c3d", "T0": "t0.c3d"})
    r = _run(_cli("validate", str(manifest), "--out", str(study_dir / "out"), "--no-device", "--no-progress"),
             timeout=60)
    assert r.returncode == 2 and "is a FIFO" in r.stderr and "Traceback" not in r.stderr


def test_candidate_manifest_protocol_and_cache_dir_are_checked(study_dir):
    from harness.manifest import load_manifest
    os.mkfifo(study_dir / "cand.toml")
    (study_dir / "proto.toml").write_bytes(b"name = 'caf\xe9'\n")
    (study_dir / "cache_here").write_text("a file where the cache folder should be")
    path = _manifest(study_dir, {"T0": "t0.c3d"})
    path.write_text('protocols = ["proto.toml"]\n' + path.read_text().replace(
        "[settings]", '[settings]\ncache_dir = "cache_here"') + '\n[[candidates]]\nmanifest = "cand.toml"\n')
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    msg = str(info.value)
    assert "3 problems" in msg, msg
    assert "field 'candidates[0].manifest': is a FIFO" in msg
    assert "field 'protocols[0]': byte 0xe9 at offset 11 (line 1) is not utf-8 text" in msg
    assert "field 'settings.cache_dir'" in msg and "is not a folder" in msg


def test_a_non_utf8_manifest_is_named_by_byte_and_line(study_dir, capsys):
    from harness.cli import main
    from harness.manifest import load_manifest
    path = _manifest(study_dir, {"T0": "t0.c3d"})
    data = path.read_bytes().replace(b'name = "hostile"', b'name = "h\xf6stile"')
    path.write_bytes(data)
    with pytest.raises(ManifestError, match=r"byte 0xf6 at offset \d+ \(line 3\) is not utf-8 text"):
        load_manifest(path)
    assert main(["validate", str(path), "--out", str(study_dir / "o"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "study.toml" in err and "byte 0xf6" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------- finding 7: outputs
def test_out_pointing_at_an_existing_file_is_refused_before_the_study(study_dir, capsys):
    from harness.cli import main
    manifest = _manifest(study_dir, {"T0": "t0.c3d"})
    target = study_dir / "results_here"
    target.write_text("keep me")
    t0 = time.perf_counter()
    assert main(["validate", str(manifest), "--out", str(target), "--no-progress", "--no-device"]) == 2
    err = capsys.readouterr().err
    assert "field '--out': exists and is not a directory" in err and time.perf_counter() - t0 < 10
    assert target.read_text() == "keep me"
    assert main(["demo", "--out", str(target), "--no-progress"]) == 2
    assert "field '--out': exists and is not a directory" in capsys.readouterr().err
    results = study_dir / "r.json"
    results.write_text("{}")
    assert main(["gate", str(results), "--policy", "p.toml", "--json", str(study_dir)]) == 2
    assert "field '--json': is a directory" in capsys.readouterr().err


def test_a_full_disk_while_writing_results_is_exit_2_with_nothing_half_written(study_dir):
    manifest = _manifest(study_dir, {"T0": "t0.c3d"})
    out = study_dir / "out"
    # 16 kB: the study runs, results.json (about 25 kB for this study) cannot be written whole
    # --no-store: the results store (a file of its own, tested in test_store.py) would hit the limit first
    r = _run(_cli("validate", str(manifest), "--out", str(out), "--workers", "1", "--no-device", "--no-progress",
                  "--no-store"), fsize=16_000)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert "results.json" in lines[-1] and "File too large" in lines[-1] and "Traceback" not in r.stderr
    assert not (out / "results.json").exists() and not (out / "report.html").exists()
    assert _tmp_or_empty(out) == []


def test_a_full_disk_leaves_the_previous_report_and_no_temporary_file(study_dir):
    from harness.cli import main
    manifest = _manifest(study_dir, {"T0": "t0.c3d"})
    out = study_dir / "out"
    assert main(["validate", str(manifest), "--out", str(out), "--workers", "1", "--no-device",
                 "--no-progress"]) == 0
    before = (out / "report.html").read_bytes()
    script = ("import json, sys\nfrom reports import build_report\nfrom ground_truth.kernel import OutputError\n"
              f"res = json.loads(open({str(out / 'results.json')!r}).read())\n"
              "try:\n    build_report(res, sys.argv[1])\nexcept OutputError as exc:\n    print(exc)\n"
              "    sys.exit(2)\n")
    r = _run(["-c", script, str(out / "report.html")], fsize=4096)
    assert r.returncode == 2 and "report.html" in r.stdout and "File too large" in r.stdout, r.stderr
    assert (out / "report.html").read_bytes() == before and _tmp_or_empty(out) == []
    # the gate's verdict files too
    policy = study_dir / "policy.toml"
    policy.write_text('[[rule]]\nid = "r"\nmetric = "agreement.icc"\nkpi = "com_rms_ml"\nop = ">="\n'
                      'threshold = 0.5\nseverity = "advisory"\n')
    r = _run(_cli("gate", str(out / "results.json"), "--policy", str(policy), "--junit", str(out / "v.xml"),
                  "--no-store"), fsize=200)
    assert r.returncode == 2 and "gates.json" in r.stderr and "File too large" in r.stderr, r.stderr
    assert not (out / "gates.json").exists() and _tmp_or_empty(out) == []


# ------------------------------------------------------------------------------ finding 9: the inference cache
def _track():
    import numpy as np
    from candidates.track import KeypointTrack
    rng = np.random.default_rng(0)
    n, k = 60, 33
    return KeypointTrack(times_s=np.arange(n) / 30.0, keypoints=rng.uniform(0, 300, (n, k, 2)),
                         confidence=np.full((n, k), 0.9), schema="blazepose33", image_width=360, image_height=640,
                         candidate={"name": "test"})


def test_a_cache_write_on_a_full_disk_is_counted_named_and_leaves_no_tmp(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_hostile_study import _track
        from candidates.cache import TrackCache, take_write_failures
        track = _track()
        assert TrackCache({str(tmp_path)!r}).put("ab" * 32, track) is None
        failed = take_write_failures()
        print(len(failed), track.meta["cache_error"], sep="|")
        assert take_write_failures() == []
        """)
    r = _run(["-c", script], fsize=4096)
    assert r.returncode == 0, r.stderr
    n, error = r.stdout.strip().split("|")
    assert n == "1" and "File too large" in error and "abab" in error
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_failed_cache_write_is_in_the_trials_notes_and_the_studys(tmp_path, monkeypatch):
    from candidates.cache import TrackCache
    from harness import trial_tasks
    from harness.pipeline import TrialOutcome, empty_row
    from harness.study import _study_notes

    blocked = tmp_path / "cache"
    blocked.mkdir()
    (blocked / "tracks").write_text("a file where the cache wants a folder")

    def trial_that_infers(task, references=None):
        TrackCache(blocked).put("cd" * 32, _track())
        return TrialOutcome(empty_row(task))

    monkeypatch.setattr("harness.pipeline.run_trial", trial_that_infers)
    task = {"trial": {"id": "T0", "subject": "S01", "protocol": "single_leg_stance", "condition": "eyes_open_firm",
                      "stance_leg": "left", "kind": "paired"}, "candidate": {"name": "c"}}
    row = trial_tasks.run_task(task, {}).row
    assert row["status"] == "ok" and row["cache_write_failures"] == 1
    assert row["notes"][0].startswith("inference cache: 1 track(s) could not be stored") and "tracks" in row["notes"][0]
    notes = _study_notes([row, empty_row(task)], [], tmp_path / "native.log")
    assert len(notes) == 1 and notes[0].startswith("inference cache: 1 track(s) could not be stored in 1 run(s)")
    assert [p.name for p in blocked.rglob("*.tmp")] == []


def test_a_results_file_that_is_a_fifo_or_not_utf8_is_a_reader_error(tmp_path):
    from ground_truth.kernel import ReaderError
    from harness.results import read_results_json
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(ReaderError, match="is a FIFO"):
        read_results_json(tmp_path / "fifo.json")
    (tmp_path / "latin1.json").write_bytes(b'{"study": {"name": "h\xf6stile"}}')
    with pytest.raises(ReaderError, match=r"byte 0xf6 at offset 21 \(line 1\)"):
        read_results_json(tmp_path / "latin1.json")


def test_a_file_removed_after_the_check_keeps_a_null_fingerprint_with_the_reason(study_dir):
    from harness.manifest import load_manifest
    from harness.study import _provenance_files
    (study_dir / "t1.c3d").write_bytes((study_dir / "t0.c3d").read_bytes())
    manifest = load_manifest(_manifest(study_dir, {"T0": "t0.c3d", "T1": "t1.c3d"}))
    (study_dir / "t1.c3d").unlink()
    files = {Path(f["path"]).name: f for f in _provenance_files(manifest)}
    assert len(files["t0.c3d"]["sha256"]) == 64
    assert files["t1.c3d"]["sha256"] is None and files["t1.c3d"]["note"] == "not hashed: file not found"


def test_the_gold_standards_reader_notes_reach_the_trial_row(study_dir):
    # finding 2 in a study: a marker coordinate no lab holds is set to NaN by the reader, and the trial's row
    # says so (a number computed from a repaired recording must not look like one from an intact file)
    import ezc3d

    from harness.pipeline import run_trial
    c3d = ezc3d.c3d(str(study_dir / "t0.c3d"))
    c3d["data"]["points"][0, 0, 10] = 1e9          # mm: a million kilometres from the plate
    c3d.write(str(study_dir / "t0.c3d"))
    row = run_trial(_study_tasks(study_dir)[0]).row
    assert row["status"] == "ok", row["reason"]
    flagged = [n for n in row["notes"] if n.startswith("gold standard:") and "set to NaN" in n and "LASI" in n]
    assert flagged, row["notes"]


def test_check_lists_every_video_that_cannot_be_analysed(study_dir, capsys):
    # finding 4 at --check time: a real video cut to a quarter of its bytes is named with its trial before a
    # study would spend its time on the rest (demuxing only, no pixel decoded)
    video = shared_path("video", "sports2d", "demo.mp4").read_bytes()
    (study_dir / "cut.mp4").write_bytes(video[: len(video) // 4])
    (study_dir / "whole.mp4").write_bytes(video)
    trials = "".join(textwrap.dedent(f"""
        [[trials]]
        id = "{tid}"
        subject = "S01"
        protocol = "single_leg_stance"
        condition = "eyes_open_firm"
        stance_leg = "right"
        kind = "candidate-only"
        video = "{name}"
        """) for tid, name in (("CUT", "cut.mp4"), ("WHOLE", "whole.mp4")))
    manifest = study_dir / "videos.toml"
    manifest.write_text(textwrap.dedent(STUDY).format(trials=trials) +
                        '[[candidates]]\nname = "blazepose-tflite"\n')
    from harness.cli import main
    rc = main(["validate", str(manifest), "--check", "--out", str(study_dir / "out")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "1 video(s) cannot be analysed" in err and "trials 'CUT' video[0]" in err and "cut.mp4" in err
    assert "WHOLE" not in err


def test_a_half_length_video_is_not_an_ok_trial(study_dir):
    # finding 4 in a study: a video cut to half its bytes used to give status "ok" with a shorter window and a
    # path length of a third; now the trial fails and says how many frames the container declared
    from harness.manifest import load_manifest
    from harness.pipeline import run_trial
    from harness.study import _tasks
    video = shared_path("video", "sports2d", "demo.mp4").read_bytes()
    (study_dir / "half.mp4").write_bytes(video[: len(video) // 2])
    trial = textwrap.dedent("""
        [[trials]]
        id = "HALF"
        subject = "S01"
        protocol = "single_leg_stance"
        condition = "eyes_open_firm"
        stance_leg = "right"
        kind = "candidate-only"
        video = "half.mp4"
        """)
    manifest = study_dir / "half.toml"
    manifest.write_text(textwrap.dedent(STUDY).format(trials=trial) + '[[candidates]]\nname = "blazepose-tflite"\n')
    task = _tasks(load_manifest(manifest), strict=True)[0]
    task["settings"]["cache_dir"] = str(study_dir / "cache")
    row = run_trial(task).row
    assert row["status"] == "failed"
    assert "half.mp4" in row["reason"] and "frames the container declares" in row["reason"], row["reason"]


def segfault(task, memo):
    """A task function whose worker dies as a model runtime crashing in native code would."""
    os.kill(os.getpid(), signal.SIGSEGV)


def test_device_timing_runs_in_a_worker_and_a_crash_there_is_a_status():
    # the study's last native stage (timing each model on this host) no longer runs in the study's process:
    # a runtime that crashes there leaves the device section "not measured" with the signal, not a dead study
    from harness.device import _timing_crashed, device_records_isolated
    from harness.workers import WorkerPool
    records, status = device_records_isolated([{"name": "no-model"}], [])
    assert records == [] and status == "no-model: no model file to measure"
    pool = WorkerPool(segfault, workers=1, crashed=_timing_crashed, task_name="device timing")
    records, status = pool.run([{}], [[0]])[0]
    assert records == [] and status == "not measured: the worker process died with signal SIGSEGV while " \
                                       "running this device timing"
