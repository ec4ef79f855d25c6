"""The store's schema: the SQL of each version and the ordered forward migrations (see docs/store.md, "What is
recorded"). :mod:`harness.store.db` applies them on open."""
from __future__ import annotations

_SCHEMA_1 = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    started_utc TEXT,
    recorded_utc TEXT NOT NULL,
    command TEXT NOT NULL,
    study_name TEXT,
    manifest_sha256 TEXT,
    results_path TEXT,
    results_sha256 TEXT,
    label TEXT,
    exit_code INTEGER,
    stancebench_version TEXT,
    host TEXT,
    -- what the run declares it holds: a reader (history check) compares the child tables against these
    n_files INTEGER NOT NULL DEFAULT 0,
    n_candidates INTEGER NOT NULL DEFAULT 0,
    n_agreement INTEGER NOT NULL DEFAULT 0,
    n_device INTEGER NOT NULL DEFAULT 0,
    n_gates INTEGER NOT NULL DEFAULT 0,
    n_trials INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_recorded ON runs (recorded_utc);
CREATE INDEX runs_study ON runs (study_name, manifest_sha256);
CREATE INDEX runs_results_sha ON runs (results_sha256);
CREATE TABLE run_files (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    role TEXT,
    path TEXT,
    sha256 TEXT,
    bytes INTEGER
);
CREATE INDEX run_files_run ON run_files (run_id);
CREATE TABLE run_candidates (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    name TEXT,
    model_sha256 TEXT,
    model_bytes INTEGER,
    runtime TEXT,
    runtime_version TEXT,
    precision TEXT,
    control TEXT,
    baseline INTEGER,
    identity_json TEXT
);
CREATE INDEX run_candidates_run ON run_candidates (run_id);
CREATE INDEX run_candidates_model ON run_candidates (model_sha256);
CREATE TABLE run_agreement (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    candidate TEXT,
    kpi TEXT,
    condition TEXT,
    n INTEGER,
    bias REAL,
    loa_lower REAL,
    loa_upper REAL,
    loa_width REAL,
    icc REAL,
    icc_ci_low REAL,
    icc_ci_high REAL,
    unit TEXT,
    row_json TEXT NOT NULL
);
CREATE INDEX run_agreement_run ON run_agreement (run_id);
CREATE TABLE run_device (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    candidate TEXT,
    device TEXT,
    runtime TEXT,
    p50_ms REAL,
    p90_ms REAL,
    peak_memory_bytes INTEGER,
    energy_j REAL,
    model_bytes INTEGER,
    row_json TEXT NOT NULL
);
CREATE INDEX run_device_run ON run_device (run_id);
CREATE TABLE run_gates (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    rule_id TEXT,
    candidate TEXT,
    status TEXT,
    severity TEXT,
    blocks INTEGER,
    actual REAL,
    threshold REAL,
    message TEXT,
    verdict_json TEXT NOT NULL,
    -- a later ``stancebench gate`` on the same results adds its verdicts to the same run: which judgement
    gate_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX run_gates_run ON run_gates (run_id);
CREATE TABLE run_trials (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    candidate TEXT,
    trial_id TEXT,
    status TEXT,
    row_json TEXT NOT NULL
);
CREATE INDEX run_trials_run ON run_trials (run_id);
CREATE TABLE run_gate_events (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    gate_seq INTEGER NOT NULL,
    time_utc TEXT NOT NULL,
    command TEXT NOT NULL,
    policy TEXT,
    label TEXT,
    n_gates INTEGER NOT NULL,
    exit_code INTEGER,
    PRIMARY KEY (run_id, gate_seq)
);
CREATE TABLE promotions (
    promotion_id INTEGER PRIMARY KEY,
    time_utc TEXT NOT NULL,
    channel TEXT NOT NULL,
    candidate TEXT NOT NULL,
    model_sha256 TEXT,
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    reason TEXT,
    promoted_by TEXT,
    evidence_json TEXT
);
CREATE INDEX promotions_channel ON promotions (channel, time_utc);
"""

#: Forward migrations in order: ``(version reached, SQL)``. A store at version v gets every entry above v, all in
#: one transaction; append an entry (never edit a published one) and :data:`SCHEMA_VERSION` follows.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _SCHEMA_1),
)

#: The schema version this stancebench writes (``PRAGMA user_version`` of a store it created or migrated).
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Tables every run's rows live in (each references ``runs(run_id)``), with the ``runs`` column counting them.
RUN_TABLES = {"run_files": "n_files", "run_candidates": "n_candidates", "run_agreement": "n_agreement",
              "run_device": "n_device", "run_gates": "n_gates", "run_trials": "n_trials"}
