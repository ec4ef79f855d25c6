"""A channel's model as the gate baseline: ``stancebench gate RESULTS --baseline production`` and a policy's
``baseline = "channel:production"``.

The gates stay pure (they judge a results dict); this module works before them. It resolves the channel's current
model (its latest promotion), finds that model's stored results ON THE SAME STUDY (same manifest sha256 as
RESULTS: the promotion's evidence run when it is on that manifest, else the latest stored run of that model
sha256 on it) and returns a copy of the results in which the baseline is one more candidate, named
``channel:NAME`` (so that a policy's ``baseline = "channel:NAME"`` names it as it stands), with:

- its stored ``agreement`` and ``device`` rows and its ``trials`` rows (renamed to that candidate);
- ``comparisons`` rows of every candidate of RESULTS against it, computed on the paired trials (same trial id)
  by the study's own function (:func:`harness.aggregate._comparisons`, the paired subject-clustered bootstrap of
  the error difference) with RESULTS' settings (confidence, bootstrap resamples, seed);
- a ``candidates[]`` row that carries ``channel`` (and ``stored_run``, ``stored_candidate``, ``promotion_id``):
  the gates do not judge such a candidate (it is the yardstick, not a release candidate) unless a rule names it.

- its ``categorical`` rows (kappa), which the store does not keep as rows: computed from its stored trial rows
  by the study's own function (:func:`harness.aggregate.categorical_rows`) with RESULTS' settings, so a relative
  rule on ``categorical`` has a baseline row.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from ground_truth.kernel import InputError

from .db import StoreError
from .promotion import CHANNEL_PREFIX, channel_model, channel_of, check_channel
from .record import manifest_sha256_of

__all__ = ["CHANNEL_PREFIX", "baseline_candidate_name", "channel_of", "find_baseline_run", "gate_with_baseline",
           "with_channel_baseline"]


def baseline_candidate_name(channel: str) -> str:
    """The name the channel's model gets in the results given to the gates: ``channel:NAME``."""
    return CHANNEL_PREFIX + check_channel(channel)


def find_baseline_run(store, channel: str, manifest_sha256: str | None) -> dict[str, Any]:
    """Which stored run and candidate stand for ``channel`` on the study of ``manifest_sha256``.

    Returns
    -------
    dict
        ``promotion`` (:func:`harness.store.promotion.channel_model`), ``run_id``, ``candidate`` (its name in
        that run), ``model_sha256``, ``evidence_run`` (True when it is the promotion's evidence run).

    Raises
    ------
    StoreError
        The channel has no promotion, the results carry no manifest sha256, or no stored run of the channel's
        model is on this manifest (the message says which model, which manifest and what to run).
    """
    channel = check_channel(channel, field="baseline")
    promo = channel_model(store, channel)
    if promo is None:
        raise StoreError(f"channel {channel!r} has no promotion, so it has no model to serve as the baseline",
                         file=store.path, field="baseline",
                         expected=f"a promoted model: 'stancebench promote CANDIDATE --run RUN --channel {channel} "
                                  f"--reason ...' (or --store pointing at the store that holds the promotions)")
    sha = promo["model_sha256"]
    if not manifest_sha256:
        raise StoreError("the results name no study manifest (or it is gone and the results do not say its "
                         "sha256), so the baseline's stored results on the same study cannot be found",
                         file=store.path, field="baseline",
                         expected="results of a manifest study (study.manifest) whose file is still there")
    conn = store.connection
    evidence = conn.execute("SELECT manifest_sha256 FROM runs WHERE run_id = ?", (promo["run_id"],)).fetchone()
    if evidence is not None and evidence["manifest_sha256"] == manifest_sha256:
        run_id, from_evidence = promo["run_id"], True
    else:
        hit = conn.execute("SELECT r.run_id FROM runs r JOIN run_candidates c USING (run_id) "
                           "WHERE r.manifest_sha256 = ? AND c.model_sha256 = ? AND c.control IS NULL "
                           "ORDER BY r.recorded_utc DESC, r.rowid DESC LIMIT 1", (manifest_sha256, sha)).fetchone()
        if hit is None:
            where = evidence["manifest_sha256"] if evidence is not None else None
            raise StoreError(
                f"channel {channel!r} holds model {sha[:12]} (candidate {promo['candidate']!r}, promotion "
                f"{promo['promotion_id']} of {promo['time_utc']}), and the store has no run of that model on this "
                f"study (manifest sha256 {manifest_sha256[:12]}; the evidence run {promo['run_id'][:12]} was on "
                f"manifest {(where or 'unknown')[:12]})", file=store.path, field="baseline",
                expected="a stored run of the production model on this study: add it as a candidate of this "
                         "manifest and run 'stancebench validate'")
        run_id, from_evidence = hit["run_id"], False
    cands = conn.execute("SELECT name FROM run_candidates WHERE run_id = ? AND model_sha256 = ? AND control IS NULL "
                         "ORDER BY rowid", (run_id, sha)).fetchall()
    names = [c["name"] for c in cands]
    if promo["candidate"] in names:
        name = promo["candidate"]
    elif len(names) == 1:
        name = names[0]
    else:
        raise StoreError(f"run {run_id} has {len(names)} candidates of model {sha[:12]} ({', '.join(names)}) and "
                         f"none is named {promo['candidate']!r}: which one stands for channel {channel!r} is "
                         f"ambiguous", file=store.path, field="baseline",
                         expected="one candidate of the promoted model, or one named as the promoted candidate")
    return {"promotion": promo, "run_id": run_id, "candidate": name, "model_sha256": sha,
            "evidence_run": from_evidence}


def _settings(results: dict):
    """The study settings the comparisons are computed with (RESULTS' own; the manifest's defaults otherwise)."""
    from harness.manifest.model import Settings
    given = (results.get("study") or {}).get("settings") or {}
    known = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in given.items() if k in known and k in ("confidence", "bootstrap", "seed",
                                                                               "loa_multiplier")})


def _renamed(rows, old: str, new: str) -> list[dict]:
    return [dict(r, candidate=new) for r in rows or [] if isinstance(r, dict) and r.get("candidate") == old]


def with_channel_baseline(results: dict, store, channel: str) -> dict:
    """A copy of ``results`` with the channel's stored model added as the candidate ``channel:NAME``.

    Parameters
    ----------
    results : dict
        Parsed ``results.json`` of the run to judge (not modified, and never written back).
    store : harness.store.Store
        The store holding the promotions and the baseline's run.
    channel : str
        The channel ("production"; "channel:production" is accepted).

    Returns
    -------
    dict
        New results: ``candidates``, ``agreement``, ``categorical``, ``device``, ``trials`` and ``comparisons``
        extended as the module docstring says, plus ``channel_baseline`` (channel, promotion, run, candidate,
        model sha256).

    Raises
    ------
    StoreError
        As :func:`find_baseline_run` (no promotion, no run of the model on this study).
    InputError
        ``results`` already holds a candidate named ``channel:NAME``.
    """
    from harness.aggregate import _comparisons, categorical_rows, paired_table

    if not isinstance(results, dict):
        raise InputError(f"results must be a dict parsed from results.json, got {type(results).__name__}",
                         field="results")
    name = baseline_candidate_name(channel)
    if any(isinstance(c, dict) and c.get("name") == name for c in results.get("candidates") or []):
        raise InputError(f"the results already hold a candidate named {name!r}", field="candidates[].name",
                         expected="another name: 'channel:' names a stored baseline")
    found = find_baseline_run(store, channel, manifest_sha256_of(results))
    stored = store.run(found["run_id"], with_trials=True)
    old = found["candidate"]
    cand = next(c for c in stored["candidates"] if c["name"] == old)
    identity = dict(cand.get("identity") or {})
    row = {**identity, "name": name, "model_sha256": found["model_sha256"], "baseline": False, "control": None,
           "channel": check_channel(channel), "stored_run": found["run_id"], "stored_candidate": old,
           "promotion_id": found["promotion"]["promotion_id"]}
    base_trials = _renamed(stored.get("trials"), old, name)
    out = copy.copy(results)
    out["candidates"] = [*(results.get("candidates") or []), row]
    out["agreement"] = [*(results.get("agreement") or []), *_renamed(stored.get("agreement"), old, name)]
    out["device"] = [*(results.get("device") or []), *_renamed(stored.get("device"), old, name)]
    out["categorical"] = [*(results.get("categorical") or []), *categorical_rows(base_trials, _settings(results))]
    out["trials"] = [*(results.get("trials") or []), *base_trials]
    mine = [t for t in results.get("trials") or [] if isinstance(t, dict) and t.get("candidate") != name]
    table = paired_table(mine + base_trials)
    comparisons = _comparisons(table, name, _settings(results))
    out["comparisons"] = [*(results.get("comparisons") or []), *comparisons]
    out["channel_baseline"] = {"channel": row["channel"], "candidate": name, "run_id": found["run_id"],
                               "stored_candidate": old, "model_sha256": found["model_sha256"],
                               "evidence_run": found["evidence_run"],
                               "promotion_id": found["promotion"]["promotion_id"],
                               "promoted_utc": found["promotion"]["time_utc"],
                               "n_trials": len(base_trials), "n_comparisons": len(comparisons)}
    return out


def gate_with_baseline(results: dict, policy, *, option: str | None = None, store=None, store_path=None):
    """What ``stancebench gate`` calls before judging: resolve ``--baseline`` or the policy's channel baseline.

    Parameters
    ----------
    results : dict
        The parsed results to judge (not modified: record these, not the returned ones).
    policy : harness.gates.Policy
        The loaded policy.
    option : str, optional
        ``--baseline`` (a channel, "production" or "channel:production"); it replaces the policy's baseline for
        every rule that does not name its own.
    store : harness.store.Store, optional
        The store the gate command opened (None under ``--no-store``: then ``store_path`` is opened to read).
    store_path : path-like, optional
        ``--store`` (default :func:`harness.store.default_store_path`); it must exist.

    Returns
    -------
    (dict, Policy, dict or None)
        The results to give the gates, the policy to apply, and the ``channel_baseline`` description (None when
        no channel is named: results and policy are returned unchanged, and no store is opened).

    Raises
    ------
    StoreError
        No store, no promotion in the channel, no run of its model on this study (exit 2).
    """
    from harness.gates.policy import with_baseline

    channel = check_channel(option, field="--baseline") if option is not None else channel_of(policy)
    if channel is None:
        return results, policy, None
    if option is not None:
        policy = with_baseline(policy, baseline_candidate_name(channel))
    if store is not None:
        out = with_channel_baseline(results, store, channel)
    else:
        from . import open_store
        with open_store(store_path, create=False) as own:
            out = with_channel_baseline(results, own, channel)
    return out, policy, out["channel_baseline"]


def describe(info: dict) -> str:
    """One line for the gate output: which stored model the candidates are judged against."""
    how = "the promotion's evidence run" if info["evidence_run"] else "the latest run of that model on this study"
    return (f"baseline: channel {info['channel']} = {info['stored_candidate']} (model {info['model_sha256'][:12]}, "
            f"promoted {info['promoted_utc']}) from run {info['run_id'][:12]} ({how}), judged as candidate "
            f"'{info['candidate']}'")
