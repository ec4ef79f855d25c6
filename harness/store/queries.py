"""Reading the store: the list of runs, one run with everything recorded about it, run references, and the
consistency check behind ``stancebench history check``."""
from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any

from .db import RUN_TABLES, SCHEMA_VERSION, StoreError

#: Columns of :func:`runs`, in order.
RUN_COLUMNS = ("run_id", "recorded_utc", "started_utc", "command", "study_name", "manifest_sha256", "label",
               "exit_code", "candidates", "n_agreement", "n_gates", "gates_failed", "results_path",
               "results_sha256", "stancebench_version", "host")

#: The shortest run-id prefix accepted (shorter ones would soon name several runs).
MIN_PREFIX = 4

# the verdicts of a run's latest judgement (a later ``gate`` on the same results adds a new one)
_LATEST_SEQ = "(SELECT max(g2.gate_seq) FROM run_gates g2 WHERE g2.run_id = r.run_id)"


def runs(store, *, study=None, candidate=None, since=None, until=None, label=None, limit=None):
    """See :meth:`harness.store.Store.runs`."""
    import pandas as pd

    where, params = [], []
    if study is not None:
        where.append("r.study_name = ?")
        params.append(study)
    if label is not None:
        where.append("r.label = ?")
        params.append(label)
    if candidate is not None:
        cond = "c.name = ?"
        params.append(candidate)
        if re.fullmatch(r"[0-9a-fA-F]{8,64}", candidate):
            cond += " OR c.model_sha256 LIKE ?"
            params.append(candidate.lower() + "%")
        where.append(f"EXISTS (SELECT 1 FROM run_candidates c WHERE c.run_id = r.run_id AND ({cond}))")
    if since is not None:
        where.append("r.recorded_utc >= ?")
        params.append(_utc_bound(since, "--since", end=False))
    if until is not None:
        where.append("r.recorded_utc < ?")
        params.append(_utc_bound(until, "--until", end=True))
    if limit is not None:
        if int(limit) < 1:
            raise StoreError(f"limit is {limit}", field="--limit", expected="a positive integer")
    sql = f"""
        SELECT r.run_id, r.recorded_utc, r.started_utc, r.command, r.study_name, r.manifest_sha256, r.label,
               r.exit_code,
               (SELECT group_concat(c.name, ',') FROM run_candidates c WHERE c.run_id = r.run_id) AS candidates,
               r.n_agreement,
               (SELECT count(*) FROM run_gates g WHERE g.run_id = r.run_id AND g.gate_seq = {_LATEST_SEQ})
                   AS n_gates,
               (SELECT count(*) FROM run_gates g WHERE g.run_id = r.run_id AND g.gate_seq = {_LATEST_SEQ}
                   AND g.blocks = 1) AS gates_failed,
               r.results_path, r.results_sha256, r.stancebench_version, r.host
        FROM runs r {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY r.recorded_utc DESC, r.rowid DESC {'LIMIT ?' if limit is not None else ''}"""
    if limit is not None:
        params.append(int(limit))
    rows = [tuple(row) for row in _conn(store).execute(sql, params).fetchall()]
    return pd.DataFrame.from_records(rows, columns=list(RUN_COLUMNS))


def run(store, run_id, *, with_trials=False) -> dict:
    """See :meth:`harness.store.Store.run`."""
    rid = resolve_run(store, run_id)
    conn = _conn(store)
    out: dict[str, Any] = dict(conn.execute("SELECT * FROM runs WHERE run_id = ?", (rid,)).fetchone())
    out["files"] = [dict(r) for r in conn.execute(
        "SELECT role, path, sha256, bytes FROM run_files WHERE run_id = ? ORDER BY rowid", (rid,))]
    cands = []
    for r in conn.execute("SELECT * FROM run_candidates WHERE run_id = ? ORDER BY rowid", (rid,)):
        d = dict(r)
        d.pop("run_id")
        d["baseline"] = bool(d["baseline"])
        d["identity"] = json.loads(d.pop("identity_json") or "null")
        cands.append(d)
    out["candidates"] = cands
    out["agreement"] = _rows(conn, "run_agreement", "row_json", rid)
    out["device"] = _rows(conn, "run_device", "row_json", rid)
    out["gates"] = latest_gates(store, rid)
    out["gate_events"] = [dict(r) for r in conn.execute(
        "SELECT gate_seq, time_utc, command, policy, label, n_gates, exit_code FROM run_gate_events "
        "WHERE run_id = ? ORDER BY gate_seq", (rid,))]
    if with_trials:
        out["trials"] = _rows(conn, "run_trials", "row_json", rid)
    return out


def latest_gates(store, run_id: str) -> list[dict]:
    """The verdicts (parsed ``verdict_json``) of the latest judgement of run ``run_id`` (a full id): a
    ``stancebench gate`` on the run's results.json adds a judgement, which supersedes the study's own."""
    return [json.loads(r[0]) for r in _conn(store).execute(
        "SELECT verdict_json FROM run_gates WHERE run_id = ? AND gate_seq = "
        "(SELECT max(gate_seq) FROM run_gates WHERE run_id = ?) ORDER BY rowid", (run_id, run_id))]


def resolve_run(store, ref) -> str:
    """See :meth:`harness.store.Store.resolve_run`."""
    conn = _conn(store)
    text = str(ref).strip().lower()
    if text == "latest":
        row = conn.execute("SELECT run_id FROM runs ORDER BY recorded_utc DESC, rowid DESC LIMIT 1").fetchone()
        if row is None:
            raise StoreError("holds no runs yet, so there is no 'latest'", file=store.path,
                             expected="a store a validate, demo or gate run recorded into")
        return row[0]
    if not re.fullmatch(r"[0-9a-f]+", text) or len(text) < MIN_PREFIX:
        raise StoreError(f"{ref!r} is not a run reference", file=store.path, field="RUN",
                         expected=f"a run id, a prefix of at least {MIN_PREFIX} of its hex digits, or 'latest' "
                                  "(stancebench history lists them)")
    found = [r[0] for r in conn.execute("SELECT run_id FROM runs WHERE run_id LIKE ? ORDER BY recorded_utc DESC "
                                        "LIMIT 6", (text + "%",))]
    if not found:
        raise StoreError(f"no run {ref!r}", file=store.path, field="RUN",
                         expected="a run id this store holds (stancebench history lists them)")
    if len(found) > 1:
        more = ", ..." if len(found) > 5 else ""
        raise StoreError(f"{ref!r} names several runs: {', '.join(found[:5])}{more}", file=store.path,
                         field="RUN", expected="a longer prefix")
    return found[0]


def check(store) -> dict[str, Any]:
    """See :meth:`harness.store.Store.check`."""
    conn = _conn(store)
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    fks = [{"table": r[0], "rowid": r[1], "parent": r[2], "fkid": r[3]}
           for r in conn.execute("PRAGMA foreign_key_check")]
    orphans = {}
    for table in (*RUN_TABLES, "run_gate_events", "promotions"):
        orphans[table] = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = t.run_id)"
        ).fetchone()[0]
    incomplete = []
    for table, column in RUN_TABLES.items():
        for rid, declared, found in conn.execute(
                f"SELECT r.run_id, r.{column}, (SELECT count(*) FROM {table} t WHERE t.run_id = r.run_id) AS found "
                f"FROM runs r WHERE found != r.{column}"):
            incomplete.append({"run_id": rid, "table": table, "declared": declared, "found": found})
    n_runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    ok = integrity == ["ok"] and not fks and not any(orphans.values()) and not incomplete
    return {"ok": ok, "path": str(store.path), "schema_version": SCHEMA_VERSION, "n_runs": n_runs,
            "integrity": integrity, "foreign_keys": fks, "orphans": orphans, "incomplete": incomplete}


# ---------------------------------------------------------------------------------------------------- helpers
def _conn(store):
    if store.connection is None:
        raise StoreError("the store is closed", file=store.path)
    return store.connection


def _rows(conn, table: str, column: str, run_id: str) -> list[dict]:
    return [json.loads(r[0]) for r in conn.execute(f"SELECT {column} FROM {table} WHERE run_id = ? ORDER BY rowid",
                                                   (run_id,))]


def _utc_bound(value, field: str, *, end: bool) -> str:
    """A ``--since``/``--until`` value as the stored time format (UTC ISO with seconds); a bare date given as
    ``--until`` includes that whole day."""
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            t = _dt.datetime.fromisoformat(text).replace(tzinfo=_dt.timezone.utc)
            if end:
                t += _dt.timedelta(days=1)
        else:
            t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            t = t.replace(tzinfo=_dt.timezone.utc) if t.tzinfo is None else t.astimezone(_dt.timezone.utc)
            if end:
                # an instant given as --until is included
                t += _dt.timedelta(seconds=1)
    except ValueError as exc:
        raise StoreError(f"{text!r} is not a date", field=field,
                         expected="YYYY-MM-DD or an ISO date-time such as 2025-01-31T12:00:00Z") from exc
    return t.replace(microsecond=0).isoformat()
