"""Trends for the report: the earlier runs of a study that the store holds, as the results' ``history`` section.

:func:`trend_section` is called by ``validate`` / ``demo`` BEFORE the study runs (the store is open by then) and
its dict is passed to :func:`harness.study.run_study` as ``extra={"history": ...}``, so that ``results.json`` and
the report carry it. It holds the earlier runs only: the report adds the run it renders as the last point ("this
run"), read from the results through the same functions as the stored rows
(:func:`harness.results.history.agreement_points`, :func:`~harness.results.history.latency_points`).

"The same study" is the same study name. Runs whose manifest sha256 differs from this run's are kept (a study's
manifest changes as trials are added) and flagged (``same_manifest`` false): the report says their data differ.
"""
from __future__ import annotations

import json
import sqlite3

from harness.results.history import (HistoryPromotion, HistoryRun, HistorySection, agreement_points,
                                     latency_points)

from .db import StoreError
from .record import manifest_sha256_of

#: Earlier runs shown by default (the newest ones); older runs are counted in ``n_earlier``.
DEFAULT_LIMIT = 20

_RUN_COLUMNS = "run_id, started_utc, recorded_utc, command, label, manifest_sha256, exit_code"


def trend_section(store, results: dict, *, exclude_run: str | None = None, label: str | None = None,
                  limit: int = DEFAULT_LIMIT) -> dict | None:
    """The results' ``history`` section: this study's earlier runs in the store, with their promotions.

    Parameters
    ----------
    store : harness.store.Store
        An open store.
    results : dict
        This run's results, or (before the study runs) any dict with what they will say of the study:
        ``{"study": {"name": manifest.name, "manifest": manifest.path}}``. The manifest's sha256 is found as
        :meth:`Store.record_run` finds it (the file, else ``study.manifest_sha256`` /
        ``provenance.manifest_sha256``).
    exclude_run : str, optional
        A run to leave out (a full id, a unique prefix or "latest"): the run itself, when its report is built
        again after it was recorded.
    label : str, optional
        The label this run will be recorded with (``--label``), shown for its point.
    limit : int
        At most this many earlier runs (the newest); older ones are counted in ``n_earlier``.

    Returns
    -------
    dict or None
        The ``history`` section (:class:`harness.results.history.HistorySection` as a dict, docs/store.md),
        or None when the store holds no earlier run of this study (or the results name no study). A store that
        cannot be read gives a section whose ``status`` says why (the report prints "not measured: ...").

    Raises
    ------
    StoreError
        ``exclude_run`` names no run (or several), or the store is closed.
    """
    study = results.get("study") if isinstance(results, dict) and isinstance(results.get("study"), dict) else {}
    name = study.get("name")
    if not name:
        return None  # nothing to match earlier runs on
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise StoreError(f"limit is {limit!r}", field="limit", expected="a positive integer")
    if store.connection is None:
        raise StoreError("the store is closed", file=store.path)
    exclude = store.resolve_run(exclude_run) if exclude_run is not None else None
    this_sha = manifest_sha256_of(results)
    try:
        section = _read(store.connection, name, this_sha, exclude, limit)
    except sqlite3.Error as exc:
        # a locked or damaged store must not cost the study its report: the section says what happened
        section = HistorySection(status=f"not available: the results store could not be read ({exc})")
    if section is None:
        return None
    section.study, section.manifest_sha256, section.store, section.limit = name, this_sha, str(store.path), limit
    section.label = label
    return section.to_dict()


def _read(conn: sqlite3.Connection, study: str, this_sha: str | None, exclude: str | None,
          limit: int) -> HistorySection | None:
    runs = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE study_name = ? AND run_id IS NOT ? "
        # the order they were run in; the insertion order breaks ties (two runs started in the same second)
        "ORDER BY coalesce(started_utc, recorded_utc), recorded_utc, rowid", (study, exclude)).fetchall()
    if not runs:
        return None
    shown = runs[-limit:]
    ids = [r["run_id"] for r in shown]
    marks = ", ".join("?" * len(ids))
    cands: dict[str, list[dict]] = {i: [] for i in ids}
    for r in conn.execute(f"SELECT run_id, name, model_sha256, control FROM run_candidates WHERE run_id IN ({marks}) "
                          "ORDER BY rowid", ids):
        cands[r["run_id"]].append({"name": r["name"], "model_sha256": r["model_sha256"], "control": r["control"]})
    agreement: dict[str, list[dict]] = {i: [] for i in ids}
    for r in conn.execute(f"SELECT run_id, row_json FROM run_agreement WHERE run_id IN ({marks}) ORDER BY rowid",
                          ids):
        agreement[r["run_id"]].append(json.loads(r["row_json"]))
    device: dict[str, list[dict]] = {i: [] for i in ids}
    for r in conn.execute(f"SELECT run_id, row_json FROM run_device WHERE run_id IN ({marks}) ORDER BY rowid", ids):
        device[r["run_id"]].append(json.loads(r["row_json"]))
    sec = HistorySection(n_earlier=len(runs))
    for r in shown:
        sha = r["manifest_sha256"]
        sec.runs.append(HistoryRun(run_id=r["run_id"], started_utc=r["started_utc"], recorded_utc=r["recorded_utc"],
                                   command=r["command"], label=r["label"], manifest_sha256=sha,
                                   same_manifest=None if sha is None or this_sha is None else sha == this_sha,
                                   exit_code=r["exit_code"]))
        sec.points += agreement_points(r["run_id"], agreement[r["run_id"]], cands[r["run_id"]])
        sec.latency += latency_points(r["run_id"], device[r["run_id"]], cands[r["run_id"]])
    sec.promotions = _promotions(conn, study)
    differ = sum(run.same_manifest is False for run in sec.runs)
    if differ:
        sec.notes.append(f"{differ} of the {len(sec.runs)} earlier run(s) shown used a manifest whose sha256 differs "
                         f"from this run's: their data differ, so their numbers are not a like-for-like comparison")
    return sec


def _promotions(conn: sqlite3.Connection, study: str) -> list[HistoryPromotion]:
    """Promotions whose evidence run is a run of this study, and the latest promotion of every channel (what
    each channel holds now, whatever study it was judged on: ``same_study`` false)."""
    rows = conn.execute(
        "SELECT p.promotion_id, p.time_utc, p.channel, p.candidate, p.model_sha256, p.run_id, p.reason, "
        "p.promoted_by, coalesce(r.study_name = ?, 0) AS same_study "
        "FROM promotions p LEFT JOIN runs r ON r.run_id = p.run_id "
        "WHERE r.study_name = ? OR p.promotion_id IN (SELECT max(promotion_id) FROM promotions GROUP BY channel) "
        "ORDER BY p.time_utc, p.promotion_id", (study, study)).fetchall()
    return [HistoryPromotion(promotion_id=r["promotion_id"], time_utc=r["time_utc"], channel=r["channel"],
                             candidate=r["candidate"], model_sha256=r["model_sha256"], run_id=r["run_id"],
                             reason=r["reason"], promoted_by=r["promoted_by"], same_study=bool(r["same_study"]))
            for r in rows]
