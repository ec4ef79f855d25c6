"""Channels and promotions: which exact model (by sha256) a release channel such as "production" holds, who put it
there, when, why and on what evidence.

A promotion is recorded only when the evidence run judged the candidate with a gate policy and none of that
judgement's blocking verdicts blocks (nor a control's expectation: a study whose controls misbehave cannot tell
a good model from a bad one). The channel's current model is its latest promotion (:func:`channel_model`);
``stancebench gate --baseline CHANNEL`` judges new candidates against it (:mod:`harness.store.baseline`).
See docs/promotion.md.
"""
from __future__ import annotations

import getpass
import json
import os
import re
import sqlite3
from typing import Any

from ground_truth.kernel import InputError
# how a policy (baseline = "channel:production") names a channel, and the name of the candidate the channel's
# model becomes in the results given to the gates
from harness.gates.policy import CHANNEL_PREFIX

from .db import StoreError
_CHANNEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: The rule id of a control's expectation verdict (harness.results.CONTROL_RULE_ID; repeated to keep imports light).
_CONTROL_RULE_ID = "control-expectation"

PROMOTION_COLUMNS = ("promotion_id", "time_utc", "channel", "candidate", "model_sha256", "run_id", "promoted_by",
                     "reason", "study_name", "manifest_sha256", "label")


class PromotionBlocked(Exception):
    """The evidence run's gates block the candidate: nothing was recorded (``stancebench promote`` exits 1).

    Attributes
    ----------
    candidate, run_id : str
        What was asked for.
    verdicts : list of dict
        The blocking verdicts (``rule_id``, ``candidate``, ``status``, ``actual``, ``threshold``, ``message``),
        as stored.
    """

    def __init__(self, candidate: str, run_id: str, verdicts: list[dict]):
        self.candidate, self.run_id, self.verdicts = candidate, run_id, verdicts
        super().__init__(f"{candidate} is not promoted: {len(verdicts)} blocking verdict(s) in run {run_id}")


def check_channel(channel: Any, *, field: str = "--channel") -> str:
    """The channel name, stripped of a ``channel:`` prefix; InputError unless it is a plain short name."""
    if isinstance(channel, str) and channel.startswith(CHANNEL_PREFIX):
        channel = channel[len(CHANNEL_PREFIX):]
    if not isinstance(channel, str) or not _CHANNEL_RE.fullmatch(channel):
        raise InputError(f"{channel!r} is not a channel name", field=field,
                         expected="letters, digits, '.', '_' or '-' (up to 64), e.g. production")
    return channel


def channel_of(policy_or_option: Any) -> str | None:
    """The channel a gate baseline names, or None when it names a candidate of the results (or nothing).

    Parameters
    ----------
    policy_or_option : str, Policy or None
        ``"channel:NAME"`` (a policy's ``baseline``, or ``--baseline channel:NAME``), or a
        :class:`harness.gates.Policy` whose ``baseline`` or rules' ``baseline`` say so.

    Raises
    ------
    ManifestError
        A policy whose rules name two different channels (one gate run judges against one stored baseline).
    """
    if policy_or_option is None:
        return None
    if isinstance(policy_or_option, str):
        if not policy_or_option.startswith(CHANNEL_PREFIX):
            return None
        return check_channel(policy_or_option, field="baseline")
    from ground_truth.kernel import ManifestError
    names = [policy_or_option.baseline] + [r.baseline for r in policy_or_option.rules]
    found = sorted({check_channel(n, field="baseline") for n in names
                    if isinstance(n, str) and n.startswith(CHANNEL_PREFIX)})
    if len(found) > 1:
        raise ManifestError(f"the rules name {len(found)} channels as baseline ({', '.join(found)})",
                            file=policy_or_option.source, field="baseline",
                            expected="one channel per policy (or a baseline candidate of the results)")
    return found[0] if found else None


def default_promoter() -> str:
    """Who is promoting: ``$USER``, else the login name, else "unknown"."""
    if os.environ.get("USER"):
        return os.environ["USER"]
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name at all (a bare container): still record the promotion
        return "unknown"


def _latest_verdicts(conn: sqlite3.Connection, run_id: str) -> tuple[int | None, list[dict]]:
    seq = conn.execute("SELECT max(gate_seq) FROM run_gates WHERE run_id = ?", (run_id,)).fetchone()[0]
    if seq is None:
        return None, []
    rows = conn.execute("SELECT rule_id, candidate, status, severity, blocks, actual, threshold, message "
                        "FROM run_gates WHERE run_id = ? AND gate_seq = ? ORDER BY rowid", (run_id, seq)).fetchall()
    return seq, [dict(r, blocks=bool(r["blocks"])) for r in rows]


def _sha_matches(given: str, stored: str) -> bool:
    given = given.strip().lower()
    return len(given) >= 8 and stored.lower().startswith(given)


def promote(store, candidate: str, *, run: str, channel: str, reason: str, by: str | None = None,
            model_sha256: str | None = None) -> dict[str, Any]:
    """Record that ``channel`` now holds ``candidate``'s model of ``run``, when that run's gates allow it.

    Parameters
    ----------
    store : harness.store.Store
        The open store.
    candidate : str
        The candidate's name in the run.
    run : str
        The evidence run: a full id, a unique prefix (≥ 4 characters) or "latest".
    channel : str
        The release channel, e.g. "production" (``channel:production`` is accepted too).
    reason : str
        Why (required; kept in the promotion log).
    by : str, optional
        Who promotes (default :func:`default_promoter`).
    model_sha256 : str, optional
        The model the caller means to promote (full sha256 or a prefix of ≥ 8 hex digits): refused when the run's
        candidate is another model.

    Returns
    -------
    dict
        The promotion: ``promotion_id``, ``time_utc``, ``channel``, ``candidate``, ``model_sha256``, ``run_id``,
        ``reason``, ``promoted_by``, ``evidence`` (the run's study, manifest, results and the judgement's
        verdicts of this candidate).

    Raises
    ------
    PromotionBlocked
        A blocking verdict of the run's latest judgement blocks the candidate, or a control misbehaved; nothing
        is recorded.
    InputError / StoreError
        Unknown run or candidate, a control candidate, a candidate without a model sha256 or not the model
        asked for, an empty reason, a run without gate verdicts for the candidate.
    """
    from harness.results.writer import utc_now

    channel = check_channel(channel)
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("a promotion needs a reason", field="--reason",
                         expected='a sentence for the promotion log, e.g. --reason "passes release policy v3"')
    if not isinstance(candidate, str) or not candidate.strip():
        raise InputError("no candidate named", field="CANDIDATE", expected="a candidate name of the run")
    by = (by or "").strip() or default_promoter()
    run_id = store.resolve_run(run)
    conn = store.connection
    try:
        # the write lock first: the judgement read below is the one the promotion rests on, even when another
        # process records a new judgement of the same run at the same moment
        conn.execute("BEGIN IMMEDIATE")
        try:
            record = _promote_locked(conn, run_id, candidate, channel, reason.strip(), by, model_sha256,
                                     utc_now(), store)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        raise StoreError(f"cannot record the promotion: {exc}", file=store.path,
                         expected="a writable store not held by another process for long") from exc
    return record


def _promote_locked(conn, run_id, candidate, channel, reason, by, model_sha256, now, store) -> dict:
    run = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    cands = conn.execute("SELECT name, model_sha256, control FROM run_candidates WHERE run_id = ?",
                         (run_id,)).fetchall()
    mine = [c for c in cands if c["name"] == candidate]
    if not mine:
        names = ", ".join(c["name"] for c in cands) or "none"
        raise InputError(f"run {run_id} has no candidate {candidate!r}", file=store.path, field="CANDIDATE",
                         expected=f"one of the run's candidates: {names}")
    cand = mine[0]
    if cand["control"]:
        raise InputError(f"{candidate!r} is the {cand['control']} control of run {run_id}: a control checks the "
                         f"harness and is never released", file=store.path, field="CANDIDATE",
                         expected="a real candidate of the run")
    sha = cand["model_sha256"]
    if not sha:
        raise InputError(f"candidate {candidate!r} of run {run_id} has no model sha256: a promotion names an "
                         f"exact model", file=store.path, field="CANDIDATE",
                         expected="a candidate whose model file was hashed (candidates[].model_sha256)")
    if model_sha256 is not None and not _sha_matches(model_sha256, sha):
        raise InputError(f"candidate {candidate!r} of run {run_id} is model {sha}, not {model_sha256}",
                         file=store.path, field="--sha256",
                         expected="the run's model sha256 (full, or a prefix of at least 8 hex digits)")
    seq, verdicts = _latest_verdicts(conn, run_id)
    own = [v for v in verdicts if v["candidate"] == candidate and v["rule_id"] != _CONTROL_RULE_ID]
    if not own:
        raise InputError(f"run {run_id} has no gate verdicts for {candidate!r}, so there is no evidence to "
                         f"promote on", file=store.path, field="--run",
                         expected="a run judged by a policy: 'stancebench validate ... --policy POLICY.toml' or "
                                  "'stancebench gate RESULTS.json --policy POLICY.toml'")
    # a misbehaving control makes every verdict of that judgement untrustworthy, the candidate's passes included
    blocking = [v for v in own if v["blocks"]] + [v for v in verdicts
                                                 if v["rule_id"] == _CONTROL_RULE_ID and v["blocks"]]
    if blocking:
        raise PromotionBlocked(candidate, run_id, blocking)
    event = conn.execute("SELECT policy, time_utc FROM run_gate_events WHERE run_id = ? AND gate_seq = ?",
                         (run_id, seq)).fetchone()
    evidence = {"run_id": run_id, "study_name": run["study_name"], "manifest_sha256": run["manifest_sha256"],
                "results_path": run["results_path"], "results_sha256": run["results_sha256"], "label": run["label"],
                "gate_seq": seq, "policy": event["policy"] if event else None,
                "judged_utc": event["time_utc"] if event else None,
                "n_verdicts": len(own), "n_pass": sum(v["status"] == "pass" for v in own),
                "verdicts": own}
    cur = conn.execute("INSERT INTO promotions (time_utc, channel, candidate, model_sha256, run_id, reason, "
                       "promoted_by, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (now, channel, candidate, sha, run_id, reason, by, json.dumps(evidence, allow_nan=False)))
    return {"promotion_id": cur.lastrowid, "time_utc": now, "channel": channel, "candidate": candidate,
            "model_sha256": sha, "run_id": run_id, "reason": reason, "promoted_by": by, "evidence": evidence}


def promotions(store, channel: str | None = None, *, limit: int | None = None):
    """The promotion log, newest first.

    Parameters
    ----------
    store : harness.store.Store
    channel : str, optional
        Only this channel.
    limit : int, optional
        At most this many (the newest).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PROMOTION_COLUMNS` (study, manifest and label are those of the evidence run).
    """
    import pandas as pd

    sql = ("SELECT p.promotion_id, p.time_utc, p.channel, p.candidate, p.model_sha256, p.run_id, p.promoted_by, "
           "p.reason, r.study_name, r.manifest_sha256, r.label FROM promotions p LEFT JOIN runs r USING (run_id)")
    params: list[Any] = []
    if channel is not None:
        sql += " WHERE p.channel = ?"
        params.append(check_channel(channel))
    sql += " ORDER BY p.promotion_id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = store.connection.execute(sql, params).fetchall()
    return pd.DataFrame([dict(r) for r in rows], columns=list(PROMOTION_COLUMNS))


def channel_model(store, channel: str) -> dict | None:
    """The channel's current model: its latest promotion (``evidence`` parsed), or None when it has none."""
    row = store.connection.execute("SELECT * FROM promotions WHERE channel = ? ORDER BY promotion_id DESC LIMIT 1",
                                   (check_channel(channel),)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["evidence"] = json.loads(out.pop("evidence_json") or "{}")
    return out
