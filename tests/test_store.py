"""The results store (harness.store) on real SQLite files: schema and forward migration, refusal of a newer or
foreign file, a run recorded from a results.json written by the real writer and by a real ``validate`` run,
``gate`` verdicts linked to the run that wrote the file, a store that cannot take the run, and the ``history``
command's listing, show and check (exit codes, JSON and CSV).

Expected values come from the files themselves, read with the standard library (``json``, ``hashlib``,
``sqlite3``, ``csv``), not from the store's own code.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3

import pytest

from conftest import reference_only_study
from harness.cli import main
from harness.store import SCHEMA_VERSION, STORE_ENV, StoreError, default_store_path, open_store

#: The tables of schema 1 as docs/store.md lists them.
TABLES = {"runs", "run_files", "run_candidates", "run_agreement", "run_device", "run_gates", "run_trials",
          "run_gate_events", "promotions"}

POLICY = """
[policy]
name = "peak flow"
[[rule]]
id = "icc"
metric = "agreement.icc_ci_low"
kpi = "peak_expiratory_flow"
op = ">="
threshold = 0.75
[[rule]]
id = "bias"
metric = "agreement.bias"
abs = true
kpi = "peak_expiratory_flow"
op = "<="
threshold = 1.0
"""


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pefr_file(tmp_path_factory):
    """results.json of Bland & Altman's peak-flow data (tests/test_report_fixtures.py), written by the writer."""
    from harness.results import write_results
    from test_report_fixtures import pefr_results
    return write_results(pefr_results(), tmp_path_factory.mktemp("pefr"))["results"]


@pytest.fixture(scope="module")
def c3d_study(tmp_path_factory):
    """The smallest real study: one reference-only trial from a C3D written by the synthetic generator."""
    return reference_only_study(tmp_path_factory.mktemp("store_study"), "store-test",
                                ["cop_path_length", "cop_rms_ap"], [("T0", "eyes_open_firm", None, 10)])[0]


# ---------------------------------------------------------------------------------------------- open, schema
def test_a_new_store_is_created_with_its_folders_in_wal_with_the_schema(tmp_path):
    path = tmp_path / "a" / "b" / "s.db"
    with open_store(path) as store:
        assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == TABLES
    # every run_* table references runs(run_id); promotions too
    for table in TABLES - {"runs"}:
        refs = {r[2] for r in con.execute(f"PRAGMA foreign_key_list({table})")}
        assert refs == {"runs"}, table


def test_the_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "x.db"))
    assert default_store_path() == tmp_path / "x.db"
    monkeypatch.delenv(STORE_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "stancebench" / "stancebench.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "stancebench" / "stancebench.db"


def test_on_a_fresh_machine_the_first_run_creates_the_per_user_store(tmp_path, monkeypatch, pefr_file, capsys):
    monkeypatch.delenv(STORE_ENV)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY, encoding="utf-8")
    assert main(["gate", str(pefr_file), "--policy", str(policy), "--json", str(tmp_path / "g.json")]) == 1
    db = tmp_path / "home" / ".local" / "share" / "stancebench" / "stancebench.db"
    assert f"in {db}" in capsys.readouterr().out
    assert sqlite3.connect(db).execute("SELECT command FROM runs").fetchall() == [("gate",)]
    assert main(["history", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_an_empty_file_and_an_older_store_are_migrated_forward(tmp_path, monkeypatch, pefr_file):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")     # a zero-length file is an empty SQLite database at user_version 0
    with open_store(empty):
        pass
    assert sqlite3.connect(empty).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    # a store at this schema, with a run in it, is "older" once a later schema adds a migration
    path = tmp_path / "v1.db"
    with open_store(path) as store:
        rid = store.record_run(json.loads(pefr_file.read_text()), command="validate", results_path=pefr_file)
    from harness.store import db
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS + ((SCHEMA_VERSION + 1, """
        ALTER TABLE runs ADD COLUMN ci_job TEXT;
        CREATE TABLE run_notes (run_id TEXT NOT NULL REFERENCES runs (run_id), note TEXT);
        """),))
    monkeypatch.setattr(db, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with open_store(path) as store:
        assert store.run(rid)["ci_job"] is None
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert "run_notes" in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert con.execute("SELECT count(*) FROM run_agreement WHERE run_id = ?", (rid,)).fetchone()[0] == 2


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    open_store(path).close()
    from harness.store import db
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS + ((2, "CREATE TABLE good (x);\nCREATE TABLE runs (x);"),))
    monkeypatch.setattr(db, "SCHEMA_VERSION", 2)
    with pytest.raises(StoreError, match="cannot bring the store to schema 2"):
        open_store(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "good" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}


def test_a_newer_store_is_refused_naming_the_file_and_both_versions(tmp_path, capsys):
    path = tmp_path / "newer.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    con.close()
    with pytest.raises(StoreError) as info:
        open_store(path)
    text = str(info.value)
    assert str(path) in text and f"schema {SCHEMA_VERSION + 3}" in text and f"schema {SCHEMA_VERSION}" in text
    assert main(["history", "--store", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "newer stancebench" in err[0]
    # a study command refuses before it runs: nothing is generated or written
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-progress", "--store", str(path)]) == 2
    assert "newer stancebench" in capsys.readouterr().err and not (out / "results.json").exists()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 3


@pytest.mark.parametrize("content", [b"this is not a database\n" * 300, b"SQLite format 3\x00" + b"\x07" * 2000])
def test_a_file_that_is_not_a_store_is_refused_by_name(tmp_path, capsys, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="is not a stancebench results store") as info:
        open_store(path)
    assert str(path) in str(info.value)
    assert main(["history", "check", "--store", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert path.read_bytes() == content


def test_a_sqlite_database_of_something_else_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a stancebench results store"):
        open_store(path)


def test_history_of_a_missing_store_says_so_and_creates_nothing(tmp_path, capsys):
    path = tmp_path / "none" / "s.db"
    assert main(["history", "--store", str(path), "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out) == [] and "no results store" in cap.err
    assert main(["history", "show", "latest", "--store", str(path)]) == 2
    assert not path.exists() and not path.parent.exists()


# ----------------------------------------------------------------------------------------------- recording
def test_a_run_round_trips(tmp_path, pefr_file):
    doc = json.loads(pefr_file.read_text())
    with open_store(tmp_path / "s.db") as store:
        rid = store.record_run(doc, command="validate", results_path=pefr_file, label="app 1.2 (abc123)",
                               manifest_sha256="f" * 64, exit_code=0)
        run = store.run(rid, with_trials=True)
        assert store.resolve_run(rid[:4]) == store.resolve_run("latest") == rid
    assert len(rid) == 32 and int(rid, 16) >= 0
    assert run["agreement"] == doc["agreement"] and len(run["agreement"]) == 2
    assert run["trials"] == doc["trials"] and run["device"] == doc["device"]
    assert run["gates"] == doc["gates"]
    assert run["results_sha256"] == sha256(pefr_file) and run["results_path"] == str(pefr_file.resolve())
    assert (run["label"], run["command"], run["exit_code"], run["manifest_sha256"]) == \
        ("app 1.2 (abc123)", "validate", 0, "f" * 64)
    assert run["study_name"] == doc["study"]["name"] and run["started_utc"] == doc["study"]["created_utc"]
    assert [(f["role"], f["path"], f["sha256"], f["bytes"]) for f in run["files"]] == \
        [(f["role"], f["path"], f["sha256"], f.get("bytes")) for f in doc["provenance"]["files"]]
    assert [c["name"] for c in run["candidates"]] == [c["name"] for c in doc["candidates"]]
    for got, want in zip(run["candidates"], doc["candidates"]):
        assert (got["model_sha256"], got["model_bytes"], got["precision"], got["runtime"], got["baseline"]) == \
            (want["model_sha256"], want["model_bytes"], want["precision"], want["runtime"], want["baseline"])
        assert got["identity"] == want
    # the typed columns the queries compare on, against the rows as the file holds them
    con = sqlite3.connect(tmp_path / "s.db")
    for cand, n, bias, width, icc_low in con.execute(
            "SELECT candidate, n, bias, loa_width, icc_ci_low FROM run_agreement ORDER BY rowid"):
        row = next(a for a in doc["agreement"] if a["candidate"] == cand)
        assert (n, bias, icc_low) == (row["n"], row["bias"], row["icc_ci_low"])
        assert width == pytest.approx(row["loa_upper"] - row["loa_lower"], rel=1e-12)
    p50 = [r[0] for r in con.execute("SELECT p50_ms FROM run_device ORDER BY rowid")]
    assert p50 == [d["latency"]["p50_ms"] for d in doc["device"]]


def test_validate_records_the_run_after_results_json(c3d_study, tmp_path, capsys):
    db, out = tmp_path / "s.db", tmp_path / "out"
    rc = main(["validate", str(c3d_study), "--out", str(out), "--no-progress", "--no-device", "--no-report",
               "--store", str(db), "--label", "ci-42"])
    stdout = capsys.readouterr().out
    assert rc == 0, stdout
    line = [x for x in stdout.splitlines() if x.startswith("stored: run ")]
    assert len(line) == 1 and line[0].endswith(f" in {db}")
    rid = line[0].split()[2]
    doc = json.loads((out / "results.json").read_text())
    with open_store(db) as store:
        run = store.run(rid, with_trials=True)
    assert (run["command"], run["label"], run["exit_code"], run["study_name"]) == ("validate", "ci-42", 0,
                                                                                    "store-test")
    assert run["manifest_sha256"] == sha256(c3d_study)
    assert run["results_sha256"] == sha256(out / "results.json")
    assert run["trials"] == doc["trials"] and len(run["trials"]) == 1
    assert [f["sha256"] for f in run["files"]] == [sha256(c3d_study.parent / "t0.c3d")]


def test_no_store_neither_opens_nor_records(tmp_path, pefr_file, capsys):
    newer = tmp_path / "newer.db"
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY, encoding="utf-8")
    before = newer.read_bytes()
    # a store that would be refused does not matter when none is used
    assert main(["gate", str(pefr_file), "--policy", str(policy), "--json", str(tmp_path / "g.json"),
                 "--store", str(newer), "--no-store"]) == 1
    assert "stored:" not in capsys.readouterr().out and newer.read_bytes() == before


def test_gate_records_its_verdicts_against_the_run_that_wrote_the_file(tmp_path, pefr_file, capsys):
    db = tmp_path / "s.db"
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY, encoding="utf-8")
    with open_store(db) as store:
        rid = store.record_run(json.loads(pefr_file.read_text()), command="validate", results_path=pefr_file)
    verdicts_json = tmp_path / "gates.json"
    rc = main(["gate", str(pefr_file), "--policy", str(policy), "--json", str(verdicts_json), "--store", str(db),
               "--label", "judged"])
    assert rc == 1     # |bias| 2.1 and 5.0 l/min > 1: the blocking bias rule fails
    assert f"stored: run {rid} in {db}" in capsys.readouterr().out
    written = json.loads(verdicts_json.read_text())
    written = written["verdicts"] if isinstance(written, dict) else written
    with open_store(db) as store:
        assert len(store.runs()) == 1
        run = store.run(rid)
        assert [(g["rule_id"], g["candidate"], g["status"], g["blocks"]) for g in run["gates"]] == \
            [(g["rule_id"], g["candidate"], g["status"], g["blocks"]) for g in written]
        assert [(e["gate_seq"], e["command"], e["label"], e["exit_code"]) for e in run["gate_events"]] == \
            [(0, "gate", "judged", 1)]
        assert store.runs()["gates_failed"].tolist() == [sum(bool(g["blocks"]) for g in written)]
        assert store.check()["ok"]
    # a second judgement supersedes the first in run(...)["gates"], and both stay recorded
    policy.write_text(POLICY.split("[[rule]]\nid = \"bias\"")[0], encoding="utf-8")
    assert main(["gate", str(pefr_file), "--policy", str(policy), "--json", str(verdicts_json),
                 "--store", str(db)]) == 0
    with open_store(db) as store:
        run = store.run(rid)
        assert {g["rule_id"] for g in run["gates"]} == {"icc"}
        assert [e["gate_seq"] for e in run["gate_events"]] == [0, 1]
        assert store.check()["ok"]


def test_gate_on_a_file_no_run_wrote_is_a_run_of_its_own(tmp_path, pefr_file, capsys):
    db = tmp_path / "s.db"
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY, encoding="utf-8")
    assert main(["gate", str(pefr_file), "--policy", str(policy), "--json", str(tmp_path / "g.json"),
                 "--store", str(db)]) == 1
    rid = capsys.readouterr().out.split("stored: run ")[1].split()[0]
    with open_store(db) as store:
        run = store.run(rid, with_trials=True)
    doc = json.loads(pefr_file.read_text())
    assert run["command"] == "gate" and run["exit_code"] == 1 and run["results_sha256"] == sha256(pefr_file)
    assert run["agreement"] == doc["agreement"] and len(run["trials"]) == len(doc["trials"])
    assert run["gate_events"][0]["policy"] == str(policy)


def test_a_run_the_store_cannot_take_is_exit_2_saying_where_the_results_are(tmp_path, pefr_file, capsys):
    from harness.commands._study import record_in_store
    db = tmp_path / "s.db"
    doc = json.loads(pefr_file.read_text())
    doc["paths"] = {"results": str(pefr_file)}
    store = open_store(db)
    # the store's file may not grow: SQLite's own "database or disk is full", as on a full disk
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError) as info:
        record_in_store(store, doc, command="validate")
    text = str(info.value)
    assert f"the results are at {pefr_file} but were not recorded" in text and "full" in text
    assert str(db) in text
    with open_store(db) as store:
        report = store.check()
    assert report["ok"] and report["n_runs"] == 0


# ------------------------------------------------------------------------------------------------- history
@pytest.fixture
def two_runs(tmp_path, pefr_file):
    db = tmp_path / "s.db"
    doc = json.loads(pefr_file.read_text())
    with open_store(db) as store:
        first = store.record_run(doc, command="validate", results_path=pefr_file, label="v1")
        other = dict(doc, study=dict(doc["study"], name="another study"),
                     candidates=[dict(doc["candidates"][0], name="solo")])
        second = store.record_run(other, command="demo", label="v2")
    return db, first, second, doc


def test_history_lists_newest_first_with_filters_json_and_csv(two_runs, capsys):
    db, first, second, doc = two_runs
    assert main(["history", "--store", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["run", "recorded", "(UTC)"]
    assert lines[1].startswith(second[:12]) and lines[2].startswith(first[:12]) and len(lines) == 3

    assert main(["history", "--store", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == [second, first]
    assert rows[1]["candidates"] == ",".join(c["name"] for c in doc["candidates"])
    assert rows[1]["n_agreement"] == len(doc["agreement"]) and rows[0]["results_path"] is None

    assert main(["history", "list", "--store", str(db), "--csv", "--study", doc["study"]["name"]]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["run_id"] for r in table] == [first] and table[0]["label"] == "v1"

    def ids(*argv):
        assert main(["history", "--store", str(db), "--json", *argv]) == 0
        return [r["run_id"] for r in json.loads(capsys.readouterr().out)]
    assert ids("--candidate", "solo") == [second]
    assert ids("--candidate", doc["candidates"][1]["model_sha256"][:10]) == [first]
    assert ids("--label", "v1") == [first] and ids("--limit", "1") == [second]
    assert ids("--since", "2999-01-01") == [] and ids("--until", "2000-01-01") == []
    assert ids("--since", "2000-01-01", "--until", "2999-12-31") == [second, first]
    # options given before the subcommand are kept
    assert main(["history", "--json", "--label", "v2", "list", "--store", str(db)]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [second]

    assert main(["history", "--store", str(db), "--since", "last tuesday"]) == 2
    err = capsys.readouterr().err
    assert "--since" in err and "YYYY-MM-DD" in err


def test_history_show_resolves_prefixes_and_refuses_unknown_runs(two_runs, capsys):
    db, first, second, doc = two_runs
    assert main(["history", "show", first[:6], "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run {first}: validate") and "label v1" in out
    for a in doc["agreement"]:
        assert f"{a['candidate']} / {a['kpi']} / {a['condition']}: n {a['n']}" in out
    assert main(["history", "--store", str(db), "show", "latest", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run_id"] == second and "trials" not in data
    assert main(["history", "show", first[:6], "--json", "--trials", "--store", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["trials"] == doc["trials"]
    for ref, needle in (("0000000000", "no run"), ("abc", "at least 4"), ("zzzz1", "not a run reference")):
        assert main(["history", "show", ref, "--store", str(db)]) == 2
        err = capsys.readouterr().err
        assert needle in err and str(db) in err and err.count("\n") == 1


def test_history_check_finds_incomplete_runs_and_orphans(two_runs, capsys):
    db, first, second, doc = two_runs
    assert main(["history", "check", "--store", str(db)]) == 0
    assert capsys.readouterr().out.strip().endswith("2 runs: ok")
    assert main(["history", "--check", "--store", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["integrity"] == ["ok"] and report["n_runs"] == 2

    con = sqlite3.connect(db)     # foreign keys off, as in any other client: damage the store by hand
    con.execute("DELETE FROM run_agreement WHERE rowid = (SELECT min(rowid) FROM run_agreement WHERE run_id = ?)",
                (first,))
    con.execute("INSERT INTO run_trials (run_id, trial_id, row_json) VALUES ('feedfeedfeed', 'T9', '{}')")
    con.commit()
    con.close()
    assert main(["history", "check", "--store", str(db), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and report["orphans"]["run_trials"] == 1
    assert report["incomplete"] == [{"run_id": first, "table": "run_agreement",
                                     "declared": len(doc["agreement"]), "found": len(doc["agreement"]) - 1}]
    assert report["foreign_keys"] and report["foreign_keys"][0]["table"] == "run_trials"
    assert main(["history", "check", "--store", str(db)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEMS FOUND" in out and "orphans: 1 row(s) of run_trials" in out and f"incomplete: run {first}" in out
