"""Opening a results store: where it lives, its schema and forward migrations, and the :class:`Store` handle.

One SQLite file (standard library ``sqlite3``) in WAL mode with a busy timeout, so that several processes (two
CI jobs) may write at once: each run is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction, so a run is either
wholly in the store or not at all, even when its process is killed mid-write. The schema version is kept in
``PRAGMA user_version``; :data:`MIGRATIONS` bring an older file forward on open (all in one transaction), and a
file written by a newer stancebench is refused rather than misread.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from ground_truth.kernel import InputError

from .schema import MIGRATIONS, RUN_TABLES, SCHEMA_VERSION

__all__ = ["BUSY_TIMEOUT_S", "MIGRATIONS", "RUN_TABLES", "SCHEMA_VERSION", "STORE_ENV", "Store", "StoreError",
           "default_store_path", "open_store"]

#: The environment variable naming the store file (else the per-user default, :func:`default_store_path`).
STORE_ENV = "STANCEBENCH_STORE"

#: How long a writer waits for another process's transaction before giving up (two CI jobs finishing at once).
BUSY_TIMEOUT_S = 30.0


class StoreError(InputError):
    """A results store cannot be opened, read or written (not SQLite, written by a newer stancebench, locked,
    a run id that names no run); the message names the file and what to do."""


def default_store_path() -> Path:
    """The store file used when no ``--store`` is given.

    Returns
    -------
    pathlib.Path
        ``$STANCEBENCH_STORE`` when set (and not empty), else ``$XDG_DATA_HOME/stancebench/stancebench.db``,
        else ``~/.local/share/stancebench/stancebench.db``.
    """
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "stancebench" / "stancebench.db"


def open_store(path: str | os.PathLike | None = None, *, create: bool = True) -> Store:
    """Open the results store at ``path`` (default :func:`default_store_path`), migrating it forward.

    Parameters
    ----------
    path : path-like, optional
        The SQLite file. Its parent folders are created when ``create`` is true.
    create : bool
        Create the file (and its folders) when it does not exist; when false a missing file is a StoreError
        (what ``history`` wants: reading a store that is not there is a mistake, not an empty history).

    Returns
    -------
    Store
        An open store at :data:`SCHEMA_VERSION`; close it (or use it as a context manager).

    Raises
    ------
    StoreError
        The file is not a SQLite database, was written by a newer stancebench (``user_version`` above
        :data:`SCHEMA_VERSION`: the message names both versions), cannot be created, or (``create=False``) is
        absent.
    """
    p = Path(path).expanduser() if path is not None else default_store_path()
    if p.is_dir():
        raise StoreError("is a folder", file=p, expected="a results store file (SQLite), e.g. stancebench.db")
    if not p.exists():
        if not create:
            raise StoreError("no results store here", file=p,
                             expected="the file a validate, demo or gate run recorded into (--store PATH or "
                                      f"${STORE_ENV})")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's folder: {exc.strerror or exc}", file=p,
                             expected="a writable location (--store PATH, or --no-store to record nothing)"
                             ) from exc
    try:
        conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store: {exc}", file=p,
                         expected="a writable SQLite file (--store PATH, or --no-store to record nothing)") from exc
    try:
        _configure(conn, p)
        _migrate(conn, p)
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return Store(conn, p)


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # reading the header is what tells a text file or a truncated copy from a database
        conn.execute("PRAGMA user_version").fetchone()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL with NORMAL sync survives a killed process; a power cut may lose the last commit, not consistency
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise StoreError(f"is not a stancebench results store ({exc})", file=path,
                             expected="a SQLite file written by stancebench; point --store at another file, or "
                                      "move this one away") from exc
        # the file system refused (full, a file size limit, read-only, locked): the file itself may be fine
        raise StoreError(f"cannot open the store: {exc}", file=path,
                         expected="a writable store on a disk with free space (--store PATH, or --no-store to "
                                  "record nothing)") from exc
    if str(mode).lower() != "wal":
        # a file system without shared memory (some network mounts): rollback journal still gives atomic runs
        conn.execute("PRAGMA journal_mode = DELETE")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the store to :data:`SCHEMA_VERSION` in one transaction; refuse a newer one."""
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise _newer(path, version)
    if version == SCHEMA_VERSION:
        return
    try:
        # IMMEDIATE: two processes opening a new store at once must not both create the tables
        conn.execute("BEGIN IMMEDIATE")
        version = _user_version(conn)
        if version > SCHEMA_VERSION:
            raise _newer(path, version)
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError("is a SQLite database but not a stancebench results store (it holds other tables "
                             "and no schema version)", file=path,
                             expected="a store written by stancebench; point --store at another file")
        for target, sql in MIGRATIONS:
            if target > version:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK") if conn.in_transaction else None
        raise StoreError(f"cannot bring the store to schema {SCHEMA_VERSION}: {exc}", file=path,
                         expected="a writable store (another process holding it for more than "
                                  f"{BUSY_TIMEOUT_S:.0f} s, or a read-only file?)") from exc
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    """The statements of a migration script (``executescript`` would commit our transaction)."""
    out, buf = [], []
    for line in sql.splitlines():
        buf.append(line)
        if sqlite3.complete_statement("\n".join(buf)):
            out.append("\n".join(buf).strip())
            buf = []
    if "\n".join(buf).strip():
        raise ValueError(f"incomplete statement in a migration: {' '.join(buf)[:80]}")
    return out


def _newer(path: Path, version: int) -> StoreError:
    return StoreError(f"was written by a newer stancebench (store schema {version}; this stancebench reads "
                      f"schema {SCHEMA_VERSION} and older)", file=path,
                      expected="a newer stancebench (pip install -U stancebench), or another store via --store "
                               "PATH or --no-store")


class Store:
    """An open results store. Use :func:`open_store`; close with :meth:`close` or a ``with`` block.

    Attributes
    ----------
    path : pathlib.Path
        The SQLite file.
    connection : sqlite3.Connection
        Autocommit connection (rows as ``sqlite3.Row``) that other modules of ``harness.store`` may query;
        a writer opens its own ``BEGIN IMMEDIATE`` transaction.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.connection = connection
        self.path = path

    # --------------------------------------------------------------------------------------------- recording
    def record_run(self, results: dict, *, command: str, results_path: str | os.PathLike | None = None,
                   label: str | None = None, verdicts: list | None = None, started_utc: str | None = None,
                   manifest_sha256: str | None = None, exit_code: int | None = None) -> str:
        """Record one finished run (``validate``, ``demo``) from its results, in one transaction.

        Parameters
        ----------
        results : dict
            The results document (as :func:`harness.study.run_study` returns it or ``results.json`` holds it):
            ``study`` (name, manifest), ``provenance.files``, ``candidates[]``, ``agreement[]``, ``device[]``,
            ``gates[]``, ``trials[]`` (each row kept whole as JSON, with ``trials[].candidate_identity``
            completing a candidate's runtime version).
        command : str
            What ran: "validate", "demo", "gate", ...
        results_path : path-like, optional
            The results.json written; its sha256 is recorded (a later ``gate`` on the same file links to it).
        label : str, optional
            Free text (app version, git commit).
        verdicts : list, optional
            Gate verdicts (``GateVerdict`` or dicts) to record instead of ``results["gates"]``.
        started_utc : str, optional
            When the run started (default ``results["study"]["created_utc"]``).
        manifest_sha256 : str, optional
            The study manifest's sha256 (default: hashed from ``results["study"]["manifest"]`` when that file
            exists, else ``provenance.manifest_sha256`` / ``study.manifest_sha256`` when present, else null).
        exit_code : int, optional
            The command's exit code (default ``results["exit_code"]``).

        Returns
        -------
        str
            The new run id (uuid4 hex, 32 characters).

        Raises
        ------
        StoreError
            The store cannot be written (full disk, locked longer than the busy timeout, read-only); nothing of
            the run is stored then.
        """
        from .record import record_run
        return record_run(self, results, command=command, results_path=results_path, label=label,
                          verdicts=verdicts, started_utc=started_utc, manifest_sha256=manifest_sha256,
                          exit_code=exit_code)

    def record_gate(self, results_path: str | os.PathLike, verdicts: list, *, policy: str | os.PathLike | None = None,
                    label: str | None = None, results: dict | None = None, exit_code: int | None = None) -> str:
        """Record the verdicts of a ``stancebench gate RESULTS`` run.

        When a stored run's ``results_sha256`` equals the file's sha256 (the latest such run), the verdicts are
        added to that run (a new judgement: its ``gate_seq`` is one more than the run's last; ``run(...)["gates"]``
        then shows the latest judgement) and its id is returned. Otherwise a new run with command "gate" is
        recorded from the file's contents (``results`` when given, else read from ``results_path``) with these
        verdicts.

        Parameters
        ----------
        results_path : path-like
            The results.json that was judged.
        verdicts : list
            ``GateVerdict`` objects or their ``to_dict()``.
        policy : path-like, optional
            The policy file that was applied (recorded with the judgement).
        label : str, optional
            Free text; on a linked run it is kept with the judgement, the run's own label is not changed.
        results : dict, optional
            The parsed results (saves reading the file again).
        exit_code : int, optional
            The gate command's exit code (default: 1 when a blocking verdict failed, else 0).

        Returns
        -------
        str
            The run id the verdicts were recorded against.
        """
        from .record import record_gate
        return record_gate(self, results_path, verdicts, policy=policy, label=label, results=results,
                           exit_code=exit_code)

    # ----------------------------------------------------------------------------------------------- reading
    def runs(self, *, study: str | None = None, candidate: str | None = None, since: str | None = None,
             until: str | None = None, label: str | None = None, limit: int | None = None):
        """The stored runs, newest first, one row per run.

        Parameters
        ----------
        study : str, optional
            Only runs of this study name (exact).
        candidate : str, optional
            Only runs with a candidate of this name, or whose model sha256 starts with this (≥ 8 hex chars).
        since, until : str, optional
            ISO dates or date-times (UTC); ``since`` inclusive, ``until`` inclusive of that whole day when a
            bare date is given. A value that is not a date is a StoreError naming the field.
        label : str, optional
            Only runs with this label (exact).
        limit : int, optional
            At most this many (the newest).

        Returns
        -------
        pandas.DataFrame
            Columns: run_id, recorded_utc, started_utc, command, study_name, manifest_sha256, label, exit_code,
            candidates (comma-separated names), n_agreement, n_gates, gates_failed (blocking verdicts that
            failed), results_path, results_sha256, stancebench_version, host.
        """
        from .queries import runs
        return runs(self, study=study, candidate=candidate, since=since, until=until, label=label, limit=limit)

    def run(self, run_id: str, *, with_trials: bool = False) -> dict:
        """One run with everything recorded about it.

        Parameters
        ----------
        run_id : str
            A full id, a unique prefix (≥ 4 characters) or "latest" (see :meth:`resolve_run`).
        with_trials : bool
            Also return the ``trials`` rows (parsed ``row_json``; large).

        Returns
        -------
        dict
            The ``runs`` columns, plus lists ``files``, ``candidates`` (``identity`` parsed, ``baseline`` as
            bool), ``agreement`` (each the stored results row, parsed from ``row_json``), ``device`` (parsed
            rows), ``gates`` (the latest judgement's verdicts, parsed), ``gate_events`` (each judgement: seq,
            time, command, policy, label, exit code) and, when asked, ``trials``.
        """
        from .queries import run
        return run(self, run_id, with_trials=with_trials)

    def resolve_run(self, ref: str) -> str:
        """The full run id of ``ref``: a full id, a unique prefix of at least 4 characters, or "latest".

        Raises
        ------
        StoreError
            No run matches, the prefix is ambiguous (the message lists the matches) or shorter than 4.
        """
        from .queries import resolve_run
        return resolve_run(self, ref)

    def check(self) -> dict[str, Any]:
        """Check the store's consistency.

        Returns
        -------
        dict
            ``ok`` (bool), ``path``, ``schema_version``, ``integrity`` (``PRAGMA integrity_check`` messages;
            ``["ok"]`` when sound), ``foreign_keys`` (violations of ``PRAGMA foreign_key_check`` as dicts),
            ``orphans`` ({table: number of rows whose run is missing}), ``incomplete`` (runs whose child-row
            counts differ from what the run declares: ``[{"run_id", "table", "declared", "found"}]``),
            ``n_runs``.
        """
        from .queries import check
        return check(self)

    # ------------------------------------------------------------------------------------------------ closing
    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"
