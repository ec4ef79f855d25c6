"""Recording a run into the store: the run, its files, candidates, agreement, device, gate and trial rows.

A run is written in one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction, so it is either wholly in the store or
absent (a process killed mid-write leaves nothing half-written), and two processes recording at once queue on
the write lock instead of interleaving. The ``runs`` row declares how many rows each child table holds for it
(``n_files`` ...): ``history check`` compares them, so an incomplete run could not go unnoticed.

Each results row is also kept whole as JSON (``row_json`` / ``identity_json`` / ``verdict_json``), so that what a
later stancebench wants from it (a paired comparison against a stored baseline) is still there; the typed columns
are what the queries filter and compare on.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import socket
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from ground_truth.kernel import file_sha256, jsonable

from .db import StoreError


def record_run(store, results: dict, *, command: str, results_path=None, label=None, verdicts=None,
               started_utc=None, manifest_sha256=None, exit_code=None, gate_policy=None) -> str:
    """See :meth:`harness.store.Store.record_run`; ``gate_policy`` names the policy of the verdicts (default
    ``results["gates_status"]``)."""
    if not isinstance(results, dict):
        raise StoreError(f"cannot record a run from a {type(results).__name__}", file=store.path,
                         field="results", expected="the results document (a dict)")
    study = results.get("study") if isinstance(results.get("study"), dict) else {}
    gates = _verdict_dicts(results.get("gates") if verdicts is None else verdicts)
    run = {
        "run_id": uuid.uuid4().hex,
        "started_utc": started_utc or study.get("created_utc"),
        "recorded_utc": _utc_now(),
        "command": str(command),
        "study_name": study.get("name"),
        "manifest_sha256": manifest_sha256 or manifest_sha256_of(results),
        "results_path": None,
        "results_sha256": None,
        "label": label,
        "exit_code": _int(results.get("exit_code") if exit_code is None else exit_code),
        "stancebench_version": (study.get("software") or {}).get("stancebench") or _own_version(),
        "host": socket.gethostname(),
    }
    if results_path is not None:
        run["results_path"], run["results_sha256"] = _file_identity(results_path, store)
    children = {
        "run_files": _file_rows(results),
        "run_candidates": _candidate_rows(results),
        "run_agreement": [_agreement_row(r) for r in _dicts(results.get("agreement"))],
        "run_device": [_device_row(r) for r in _dicts(results.get("device"))],
        "run_gates": [_gate_row(v, 0) for v in gates],
        "run_trials": [_trial_row(r) for r in _dicts(results.get("trials"))],
    }
    event = None
    if gates:
        event = {"gate_seq": 0, "time_utc": run["recorded_utc"], "command": run["command"],
                 "policy": _str(gate_policy) or results.get("gates_status"), "label": label, "n_gates": len(gates),
                 "exit_code": run["exit_code"]}
    with _transaction(store, "record the run"):
        _insert_run(store.connection, run, children, event)
    return run["run_id"]


def record_gate(store, results_path, verdicts, *, policy=None, label=None, results=None, exit_code=None) -> str:
    """See :meth:`harness.store.Store.record_gate`."""
    gates = _verdict_dicts(verdicts)
    if exit_code is None:
        exit_code = int(any(v.get("blocks") for v in gates))
    path, sha = _file_identity(results_path, store)
    conn = store.connection
    with _transaction(store, "record the gate verdicts"):
        linked = conn.execute("SELECT run_id FROM runs WHERE results_sha256 = ? "
                              "ORDER BY recorded_utc DESC, rowid DESC LIMIT 1", (sha,)).fetchone()
        if linked is not None:
            run_id = linked[0]
            seq = conn.execute("SELECT coalesce(max(gate_seq), -1) + 1 FROM run_gate_events WHERE run_id = ?",
                               (run_id,)).fetchone()[0]
            _insert_rows(conn, "run_gates", run_id, [_gate_row(v, seq) for v in gates])
            _insert_rows(conn, "run_gate_events", run_id, [_event(seq, "gate", policy, label, gates, exit_code)])
            conn.execute("UPDATE runs SET n_gates = n_gates + ? WHERE run_id = ?", (len(gates), run_id))
            return run_id
    # no stored run made this file: the gate run is a run of its own, made of the file's contents
    if results is None:
        from harness.results import read_results_json
        results = read_results_json(results_path)
    return record_run(store, results, command="gate", results_path=path, label=label, verdicts=gates,
                      exit_code=exit_code, gate_policy=policy)


# ------------------------------------------------------------------------------------------------ transaction
class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; any SQLite failure rolls back and becomes a StoreError naming the
    file (a full disk, a lock held past the busy timeout, a read-only store)."""

    def __init__(self, store, what: str):
        self.store, self.what = store, what

    def __enter__(self):
        if self.store.connection is None:
            raise StoreError("the store is closed", file=self.store.path)
        try:
            self.store.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return self

    def __exit__(self, exc_type, exc, tb):
        conn = self.store.connection
        if exc_type is None:
            try:
                conn.execute("COMMIT")
                return False
            except sqlite3.Error as err:
                exc = err
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:   # the transaction is gone with the failure; nothing of it was committed
                pass
        if isinstance(exc, sqlite3.Error):
            raise self._error(exc) from exc
        return False

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        hint = ("free some disk space" if "full" in text else
                "another process held the store longer than the busy timeout; try again" if "locked" in text else
                "a writable store file (--store PATH), or --no-store")
        return StoreError(f"cannot {self.what}: {text}", file=self.store.path, expected=hint)


def _insert_run(conn: sqlite3.Connection, run: dict, children: dict[str, list[dict]], event: dict | None) -> None:
    from .db import RUN_TABLES
    row = dict(run, **{RUN_TABLES[t]: len(rows) for t, rows in children.items()})
    conn.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    for table, rows in children.items():
        _insert_rows(conn, table, run["run_id"], rows)
    if event is not None:
        _insert_rows(conn, "run_gate_events", run["run_id"], [event])


def _insert_rows(conn: sqlite3.Connection, table: str, run_id: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = ["run_id", *rows[0]]
    conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [(run_id, *r.values()) for r in rows])


# ------------------------------------------------------------------------------------------------------ rows
def _file_rows(results: dict) -> list[dict]:
    """The run's input files (provenance) and, as role ``report``, the report it wrote, hashed now: an export or a
    reader can later tell the report this run wrote from one rewritten since."""
    prov = results.get("provenance") if isinstance(results.get("provenance"), dict) else {}
    rows = [{"role": f.get("role"), "path": _str(f.get("path")), "sha256": f.get("sha256"),
             "bytes": _int(f.get("bytes"))} for f in _dicts(prov.get("files"))]
    paths = results.get("paths") if isinstance(results.get("paths"), dict) else {}
    report = paths.get("report")
    if isinstance(report, (str, os.PathLike)) and report:
        try:
            rows.append({"role": "report", "path": str(report), "sha256": file_sha256(report),
                         "bytes": Path(report).stat().st_size})
        except OSError:     # no report (--no-report, or removed): nothing to vouch for
            pass
    return rows


def _candidate_rows(results: dict) -> list[dict]:
    # a track's identity (in each trial row) carries the runtime version when the candidates[] row does not
    from_trials: dict[str, dict] = {}
    for t in _dicts(results.get("trials")):
        if t.get("candidate") and isinstance(t.get("candidate_identity"), dict):
            from_trials.setdefault(t["candidate"], t["candidate_identity"])
    out = []
    for c in _dicts(results.get("candidates")):
        ident = {**from_trials.get(c.get("name"), {}), **{k: v for k, v in c.items() if v is not None}}
        out.append({"name": c.get("name"), "model_sha256": ident.get("model_sha256"),
                    "model_bytes": _int(ident.get("model_bytes")), "runtime": _str(ident.get("runtime")),
                    "runtime_version": _str(ident.get("runtime_version")),
                    "precision": _str(ident.get("precision")), "control": c.get("control"),
                    "baseline": int(bool(c.get("baseline"))), "identity_json": _json(c)})
    return out


def _agreement_row(r: dict) -> dict:
    lower, upper = _real(r.get("loa_lower")), _real(r.get("loa_upper"))
    return {"candidate": r.get("candidate"), "kpi": r.get("kpi"), "condition": r.get("condition"),
            "n": _int(r.get("n")), "bias": _real(r.get("bias")), "loa_lower": lower, "loa_upper": upper,
            "loa_width": None if lower is None or upper is None else upper - lower,
            "icc": _real(r.get("icc")), "icc_ci_low": _real(r.get("icc_ci_low")),
            "icc_ci_high": _real(r.get("icc_ci_high")), "unit": r.get("unit"), "row_json": _json(r)}


def _device_row(r: dict) -> dict:
    def part(name):
        return r.get(name) if isinstance(r.get(name), dict) else {}
    dev, lat, mem, energy = part("device"), part("latency"), part("memory"), part("energy")
    peak_mb = _real(mem.get("peak_mb"))
    energy_j = _real(energy.get("assessment_j"))
    if energy_j is None and energy.get("unit") == "J":
        energy_j = _real(energy.get("value"))
    return {"candidate": r.get("candidate"), "device": _str(dev.get("model") or dev.get("platform")),
            "runtime": _str(part("runtime").get("name")), "p50_ms": _real(lat.get("p50_ms")),
            "p90_ms": _real(lat.get("p90_ms")),
            # MemoryStats is in MB of 10^6 bytes
            "peak_memory_bytes": None if peak_mb is None else int(round(peak_mb * 1e6)),
            "energy_j": energy_j, "model_bytes": _int(part("model").get("bytes")), "row_json": _json(r)}


def _gate_row(v: dict, seq: int) -> dict:
    return {"rule_id": v.get("rule_id"), "candidate": v.get("candidate"), "status": v.get("status"),
            "severity": v.get("severity"), "blocks": int(bool(v.get("blocks"))), "actual": _real(v.get("actual")),
            "threshold": _real(v.get("threshold")), "message": v.get("message"), "verdict_json": _json(v),
            "gate_seq": seq}


def _trial_row(r: dict) -> dict:
    return {"candidate": r.get("candidate"), "trial_id": _str(r.get("trial_id")), "status": r.get("status"),
            "row_json": _json(r)}


def _event(seq: int, command: str, policy, label, gates: list[dict], exit_code) -> dict:
    return {"gate_seq": seq, "time_utc": _utc_now(), "command": command,
            "policy": None if policy is None else str(policy), "label": label, "n_gates": len(gates),
            "exit_code": _int(exit_code)}


def _verdict_dicts(verdicts) -> list[dict]:
    out = []
    for v in verdicts or []:
        d = v.to_dict() if hasattr(v, "to_dict") else v
        if isinstance(d, dict):
            out.append(jsonable(d))
    return out


# --------------------------------------------------------------------------------------------------- values
def _dicts(rows) -> list[dict]:
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _json(obj: Any) -> str:
    try:
        # rows read from results.json are plain JSON already: the quick way
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        # in-memory results: numpy scalars, NaN (null in results.json too), paths
        return json.dumps(jsonable(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _real(x) -> float | None:
    # numpy scalars are numbers.Real too; a bool or a string is not a measurement
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _int(x) -> int | None:
    r = _real(x)
    return None if r is None else int(r)


def _str(x) -> str | None:
    return None if x is None else str(x)


def _utc_now() -> str:
    from harness.results.writer import utc_now
    return utc_now()


def _own_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("stancebench")
    except PackageNotFoundError:    # a source tree that is not installed
        return None


def _file_identity(path, store) -> tuple[str, str]:
    p = Path(path)
    try:
        return str(p.resolve()), file_sha256(p)
    except OSError as exc:
        raise StoreError(f"cannot hash the results file to record it: {exc.strerror or exc}", file=p,
                         field="results_path", expected="the results.json the run wrote") from exc


def manifest_sha256_of(results: dict) -> str | None:
    """The study manifest's sha256 as run: what the results say (``study.manifest_sha256``, written since the
    store exists), else, for an older results.json, the hash of the manifest file it names when that file is
    still there, else null (never a guess)."""
    study = results.get("study") if isinstance(results.get("study"), dict) else {}
    prov = results.get("provenance") if isinstance(results.get("provenance"), dict) else {}
    stated = study.get("manifest_sha256") or prov.get("manifest_sha256")
    if stated:
        return stated
    manifest = study.get("manifest")
    if isinstance(manifest, (str, os.PathLike)) and manifest:
        try:
            if Path(manifest).is_file():
                return file_sha256(manifest)
        except OSError:     # unreadable now: nothing to say
            pass
    return None
