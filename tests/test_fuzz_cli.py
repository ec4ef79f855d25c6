"""Fuzz suite: deterministic mutations of the real files in ../shared/data through the CLI (issue 15).

For every case (tests/fuzz_cases.py) the command must: not die from a signal, not hang (per-case timeout), not
print a traceback, exit 0 or 2 (3 is an internal error, a bug), and exit 0 only with plausible numbers or with
a note that flags what was wrong (a note the intact file's run does not have). The cases run in one driver
process (tests/fuzz_driver.py) supervised from here, so one interpreter start serves them all; a driver that
dies or stalls is restarted after the case it was running, and that case is recorded as a crash or a hang.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from fuzz_cases import build_cases

HERE = Path(__file__).resolve().parent
#: A case that runs longer than this is a hang (the slowest intact case, a video, takes a few seconds).
CASE_TIMEOUT_S = 90.0

#: Values no standing person on a force plate produces, whatever the convention (plates are < 1 m^2).
SWAY_CAPS = {"cm^2": 10_000.0, "cm": 100.0, "cm/s": 10_000.0}


def _run_all(cases: list[dict], work: Path) -> dict[str, dict]:
    cases_path, results_path, progress_path = work / "cases.json", work / "results.jsonl", work / "progress"
    cases_path.write_text(json.dumps(cases), encoding="utf-8")
    env = dict(os.environ, STANCEBENCH_STRICT="0", STANCEBENCH_CRASH_DIR=str(work / "crash"),
               STANCEBENCH_CACHE=str(work / "cache"), TF_CPP_MIN_LOG_LEVEL="2", GLOG_minloglevel="2",
               PYTHONPATH=os.pathsep.join([str(HERE)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    outcomes: dict[str, dict] = {}
    start = 0
    while start < len(cases):
        progress_path.unlink(missing_ok=True)
        with open(work / "driver-stderr.log", "ab") as native_err:
            proc = subprocess.Popen([sys.executable, str(HERE / "fuzz_driver.py"), str(cases_path),
                                     str(results_path), str(progress_path), str(start)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=native_err,
                                    start_new_session=True)
            current, began = start, time.time()
            while proc.poll() is None:
                time.sleep(0.1)
                try:
                    text = progress_path.read_text(encoding="utf-8").split()
                except FileNotFoundError:
                    continue
                if text and text[0] != "done":
                    current, began = int(text[0]), float(text[1])
                if time.time() - began > CASE_TIMEOUT_S:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    outcomes[cases[current]["id"]] = {"hang": True}
                    break
        if proc.returncode is not None and proc.returncode < 0 and cases[current]["id"] not in outcomes:
            outcomes[cases[current]["id"]] = {"signal": signal.Signals(-proc.returncode).name}
        if proc.returncode == 0:
            break
        start = current + 1
    for line in results_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        outcomes[row["id"]] = row
    return outcomes


def _finite_or_null(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and math.isfinite(value))


def _numbers(doc, path=""):
    """(path, value) of every number or null leaf of a JSON document."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _numbers(v, f"{path}[{i}]")
    elif doc is None or (isinstance(doc, (int, float)) and not isinstance(doc, bool)):
        yield path, doc


def _json(stdout: str):
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        return None


def _check_sway(doc: dict, intact: dict | None) -> list[str]:
    problems = []
    new_notes = set(doc.get("notes") or []) - set((intact or {}).get("notes") or [])
    for name, value in doc["metrics"].items():
        unit = doc.get("units", {}).get(name)
        if not _finite_or_null(value):
            problems.append(f"metric {name} = {value}")
        elif value is None and not new_notes:
            problems.append(f"metric {name} is null without a note")
        elif (value is not None and unit in SWAY_CAPS and not name.startswith("path_length")
              and abs(value) > SWAY_CAPS[unit]):     # a path's length grows with the trial's duration
            problems.append(f"metric {name} = {value:g} {unit} is not a standing person's")
        elif intact and value is not None and not new_notes:
            ref = intact["metrics"].get(name)
            if ref is not None and abs(value - ref) > 0.1 * abs(ref) + 1e-9:
                problems.append(f"metric {name} changed {ref:g} -> {value:g} without a note")
    return problems


#: device-parse fields by unit suffix -> (low, high): latencies in ms, memory in MB (10^6 bytes), energy in J
DEVICE_CAPS = {"_ms": (0.0, 3.6e6), "_mb": (-2.0 ** 44 / 1e6, 2.0 ** 44 / 1e6), "_j": (0.0, 1e7)}


def _check_device(doc: dict) -> list[str]:
    problems = []
    for path, value in _numbers(doc):
        if not _finite_or_null(value):
            problems.append(f"{path} = {value}")
            continue
        for suffix, (lo, hi) in DEVICE_CAPS.items():
            if value is not None and path.endswith(suffix) and not (lo <= value <= hi):
                problems.append(f"{path} = {value:g} is implausible")
    return problems


def _check_statistic(doc) -> list[str]:
    problems = [f"{p} = {v}" for p, v in _numbers(doc) if not _finite_or_null(v)]
    text = json.dumps(doc)
    if '": null' in text and not any(k in text for k in ('"note', '"notes', '"reason', '"warning')):
        problems.append("a null statistic without a note")
    return problems


def _judge(case: dict, outcome: dict, intact_outcome: dict | None, intact_case: dict | None) -> list[str]:
    if outcome.get("hang"):
        return [f"no answer within {CASE_TIMEOUT_S:.0f} s (hang)"]
    if outcome.get("signal"):
        return [f"killed by {outcome['signal']}"]
    if outcome.get("escaped"):
        return [f"exception escaped main: {outcome['escaped'][-400:]}"]
    rc, err = outcome["rc"], outcome["stderr"]
    problems = []
    if "Traceback" in err:
        problems.append(f"traceback on stderr: {err[-400:]}")
    if rc not in (0, 2):
        problems.append(f"exit {rc}: {err[-400:]}")
    if rc == 2 and not err.strip().startswith((f"stancebench {case['command']}:", "usage:")):
        problems.append(f"exit 2 without a one-line error: {err[-300:]!r}")
    if rc == 2 and not err.strip():
        problems.append("exit 2 with nothing on stderr")
    if case.get("expect") is not None and rc != case["expect"]:
        problems.append(f"exit {rc}, expected {case['expect']} (stderr: {err[-300:]!r})")
    if rc != 0 or problems:
        return problems
    doc = _json(outcome["stdout"]) if case["command"] != "pose" else None
    intact_doc = _json(intact_outcome["stdout"]) if intact_outcome and intact_outcome.get("rc") == 0 else None
    if case["command"] == "sway":
        return _check_sway(doc, intact_doc) if doc else ["exit 0 without JSON"]
    if case["command"] == "device-parse":
        return _check_device(doc) if doc else ["exit 0 without JSON"]
    if case["command"] in ("agreement", "icc", "kappa"):
        return _check_statistic(doc) if doc is not None else ["exit 0 without JSON"]
    if case["command"] == "pose":
        if case["mutation"].split(":")[0] in ("truncate", "timescale-zero"):
            return ["a truncated video or one without a time scale was accepted (exit 0)"]
        # a changed byte the decoder got through must still give every frame, at the intact file's times
        n_frames, intact_frames = _track_frames(case), _track_frames(intact_case) if intact_case else None
        if intact_frames is not None and n_frames != intact_frames:
            return [f"exit 0 with {n_frames} frames, the intact video gave {intact_frames}"]
    return []


def _track_frames(case: dict) -> int | None:
    out = Path(case["argv"][case["argv"].index("--out") + 1])
    return len(json.loads(out.read_text())["times_s"]) if out.is_file() else None


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real reference data not available: {SHARED_DATA} is absent")
def test_fuzz_cli_mutations_of_real_files(tmp_path):
    scale = int(os.environ.get("STANCEBENCH_FUZZ_SCALE", "1"))
    cases = build_cases(SHARED_DATA, tmp_path / "cases", scale=scale)
    assert len(cases) >= 250
    outcomes = _run_all(cases, tmp_path)
    by_id = {c["id"]: c for c in cases}
    failures, counts = [], {"runs": 0, "exit 0": 0, "exit 2": 0, "other": 0}
    for case in cases:
        outcome = outcomes.get(case["id"])
        assert outcome is not None, f"case {case['id']} never ran"
        counts["runs"] += 1
        key = f"exit {outcome.get('rc')}"
        counts[key if key in counts else "other"] += 1
        intact = outcomes.get(case["intact"]) if case["intact"] else None
        for problem in _judge(case, outcome, intact, by_id.get(case["intact"])):
            failures.append(f"{case['id']} {' '.join(case['argv'][:1])} {Path(case['source']).name} "
                            f"[{case['mutation']}]: {problem}")
    # intact files must themselves pass: a broken baseline would make every comparison meaningless
    for case in cases:
        if case["mutation"] == "intact" and case["command"] in ("sway", "device-parse"):
            assert outcomes[case["id"]].get("rc") in (0, 2), by_id[case["id"]]
    print(f"fuzz: {counts}")
    assert not failures, f"{len(failures)} of {len(cases)} fuzz cases failed:\n" + "\n".join(failures)
