"""Durability of the results store under real processes: 8 processes recording into one new file at once, and a
recording process SIGKILLed at random moments (docs/store.md, "Durability").

The run each process records is a results.json written by the real writer; what a complete run holds is counted
from that file with ``json`` here, and the store is read back with ``sqlite3``, not with the store's own code.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from harness.store import open_store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: child table -> the results section whose rows it holds
SECTIONS = {"run_files": None, "run_candidates": "candidates", "run_agreement": "agreement", "run_device": "device",
            "run_gates": "gates", "run_trials": "trials"}

RECORD_ONCE = """
import json, sys, time
from pathlib import Path
from harness.store import open_store
db, results, go, label = sys.argv[1:5]
doc = json.loads(Path(results).read_text())
while not Path(go).exists():
    time.sleep(0.002)
with open_store(db) as store:
    print(store.record_run(doc, command="validate", results_path=results, label=label))
"""

RECORD_FOREVER = """
import json, sys
from pathlib import Path
from harness.store import open_store
db, results = sys.argv[1:3]
doc = json.loads(Path(results).read_text())
with open_store(db) as store:
    print("ready", flush=True)
    i = 0
    while True:
        store.record_run(doc, command="validate", results_path=results, label=f"loop {i}")
        i += 1
"""


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    """A results.json with a few hundred rows (so that a run takes long enough to be killed inside it)."""
    from harness.results import write_results
    folder = tmp_path_factory.mktemp("concurrency")
    gold = folder / "t.c3d"
    gold.write_bytes(b"gold standard bytes")
    cands = ["m1", "m2", "m3"]
    kpis = [f"kpi_{k}" for k in range(8)]
    doc = {
        "schema_version": 3,
        "study": {"name": "concurrency", "kind": "manifest", "manifest": None, "seed": 0,
                  "created_utc": "2025-01-01T00:00:00+00:00"},
        "provenance": {"files": [{"path": str(gold), "sha256": "0" * 64, "role": "gold-standard", "bytes": 19}]},
        "candidates": [{"name": c, "kind": "tflite", "model_sha256": f"{i:064x}", "model_bytes": 1000 + i,
                        "precision": "fp32", "runtime": "litert", "runtime_version": "1.0", "baseline": i == 0}
                       for i, c in enumerate(cands)],
        "trials": [{"trial_id": f"T{t:03d}", "subject": f"S{t % 10}", "protocol": "single_leg_stance",
                    "condition": "eyes_open_firm", "candidate": c, "status": "ok",
                    "kpis": [{"kpi": k, "unit": "m", "reference": t * 0.01, "candidate": t * 0.011} for k in kpis]}
                   for t in range(60) for c in cands],
        "agreement": [{"candidate": c, "kpi": k, "protocol": "single_leg_stance", "condition": cond, "unit": "m",
                       "n": 60, "bias": 0.01, "loa_lower": -0.1, "loa_upper": 0.12, "icc": 0.9, "icc_ci_low": 0.8,
                       "icc_ci_high": 0.95}
                      for c in cands for k in kpis for cond in ("all", "eyes_open_firm")],
        "device": [{"candidate": c, "model": {"bytes": 1000}, "runtime": {"name": "litert"},
                    "latency": {"p50_ms": 10.0, "p90_ms": 12.0}} for c in cands],
        "gates": [{"rule_id": "icc", "candidate": c, "status": "pass", "severity": "blocking", "blocks": False,
                   "metric": "agreement.icc_ci_low", "label": "icc", "op": ">=", "threshold": 0.75, "actual": 0.8,
                   "unit": "", "message": "pass"} for c in cands],
    }
    path = write_results(doc, folder)["results"]
    written = json.loads(path.read_text())
    expected = {t: len(written["provenance"]["files"]) if s is None else len(written[s]) for t, s in SECTIONS.items()}
    assert expected["run_trials"] == 180 and expected["run_agreement"] == 48
    return path, expected


def _counts(db) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per run, the rows of each child table, read with sqlite3; and the integrity check's messages."""
    con = sqlite3.connect(db, timeout=30)
    try:
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs")]
        counts = {rid: {t: con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", (rid,)).fetchone()[0]
                        for t in SECTIONS} for rid in runs}
        return counts, [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def test_eight_processes_recording_at_once_into_a_new_store_lose_nothing(tmp_path, results_file):
    path, expected = results_file
    db, go = tmp_path / "shared" / "s.db", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", RECORD_ONCE, str(db), str(path), str(go), f"job {i}"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(8)]
    time.sleep(0.5)     # let the interpreters start, then release them together
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outs]
    ids = {out.strip() for out, _ in outs}
    counts, integrity = _counts(db)
    assert integrity == ["ok"] and len(ids) == 8 and set(counts) == ids
    assert all(c == expected for c in counts.values()), counts
    labels = {r[0] for r in sqlite3.connect(db).execute("SELECT label FROM runs")}
    assert labels == {f"job {i}" for i in range(8)}
    with open_store(db) as store:
        report = store.check()
    assert report["ok"] and report["n_runs"] == 8


def test_a_process_killed_while_recording_leaves_only_complete_runs(tmp_path, results_file):
    path, expected = results_file
    db = tmp_path / "s.db"
    open_store(db).close()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    total = 0
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", RECORD_FOREVER, str(db), str(path)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        counts, integrity = _counts(db)
        where = f"(seed {seed}, kill {attempt + 1})"
        assert integrity == ["ok"], where
        assert all(c == expected for c in counts.values()), (where, counts)
        with open_store(db) as store:
            report = store.check()
        assert report["ok"] and report["n_runs"] == len(counts), (where, report)
        assert len(counts) >= total
        total = len(counts)
    assert total > 0
