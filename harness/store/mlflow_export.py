"""Exporting a stored run to MLflow: one MLflow run per stancebench run, and the promoted models registered with
an alias equal to their channel (``stancebench export-mlflow``, docs/mlflow.md).

MLflow is an optional extra (``pip install 'stancebench[mlflow]'``); it is imported only by :func:`export_run`.
What is logged is planned first from the store alone (:func:`plan_export`: tags, params, metrics, artifacts and
model registrations), so the names and values do not depend on MLflow being there.

Names: MLflow accepts only some characters in keys and model names; each part of a key (candidate, KPI,
condition, device) is cleaned by :func:`clean_part` and the parts joined with ``/`` (metrics
``CANDIDATE/KPI/CONDITION/STAT``, ``CANDIDATE/device/DEVICE/p50_ms``, ``CANDIDATE/model_bytes``; params
``candidate/CANDIDATE/FIELD``, ``settings/KEY``); docs/mlflow.md, "Names", has the rules.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ground_truth.kernel import InputError, file_sha256

#: The command that installs what the export needs.
INSTALL_HINT = "pip install 'stancebench[mlflow]'"
#: The MLflow run tag that names the stancebench run (an export finds an earlier export of the same run by it).
RUN_TAG = "stancebench.run_id"
#: The agreement statistics logged per candidate × KPI × condition (columns of the store's ``run_agreement``).
AGREEMENT_STATS = ("bias", "loa_lower", "loa_upper", "loa_width", "icc", "icc_ci_low", "icc_ci_high")
_CANDIDATE_FIELDS = ("kind", "model_sha256", "model_bytes", "runtime", "runtime_version", "precision", "control",
                     "baseline", "view")
_BAD_CHARS = re.compile(r"[^\w.\- :]", re.ASCII)
_BAD_ALIAS_CHARS = re.compile(r"[^\w\-]", re.ASCII)
_MAX_KEY = 250
_BATCH = 100  # MLflow takes at most 100 params or tags (1000 metrics) per log_batch


def clean_part(text: Any) -> str:
    """One part of an MLflow key: characters MLflow refuses (and ``/``) become ``_``, and so do leading dots (a
    key starting with ``..`` reads as a parent path to MLflow); never empty."""
    out = _BAD_CHARS.sub("_", str(text if text is not None else "none")).strip()
    out = re.sub(r"^\.+", lambda m: "_" * len(m.group()), out)
    return out or "_"


def key(*parts: Any) -> str:
    """An MLflow metric, param or tag key made of cleaned parts joined with ``/`` (at most 250 characters)."""
    return "/".join(clean_part(p) for p in parts)[:_MAX_KEY]


def model_name(candidate: str) -> str:
    """The registered model's name for a candidate: :func:`clean_part` also drops ``:`` (MLflow refuses it)."""
    return clean_part(candidate).replace(":", "_")


def alias_name(channel: str) -> str:
    """The registered model alias for a channel: letters, digits, ``_`` and ``-`` (``.`` becomes ``_``); a name
    MLflow reserves (``latest``, ``v3``) gets the prefix ``channel-``."""
    out = _BAD_ALIAS_CHARS.sub("_", channel)
    return f"channel-{out}" if out.lower() == "latest" or re.fullmatch(r"[vV]\d+", out) else out


def candidate_parts(names: list[str]) -> dict[str, str]:
    """Each candidate's part of the MLflow names (and its registered model name): :func:`model_name`, with
    ``_2``, ``_3`` ... appended to a later candidate whose name cleans to one already taken."""
    out: dict[str, str] = {}
    for name in names:
        part, n = model_name(name), 1
        while part in out.values():
            n += 1
            part = f"{model_name(name)}_{n}"
        out.setdefault(name, part)
    return out


def import_mlflow():
    """The ``mlflow`` module, or an InputError (CLI exit 2) giving the install command."""
    try:
        import mlflow
        from mlflow.tracking import MlflowClient  # noqa: F401 - the part the export uses
    except ImportError as exc:
        raise InputError(f"MLflow is not installed ({exc})", field="export-mlflow",
                         expected=f"the optional extra: {INSTALL_HINT}") from exc
    return mlflow


# ------------------------------------------------------------------------------------------------------ plan
def plan_export(store, run_ref: str) -> dict[str, Any]:
    """What exporting run ``run_ref`` logs, from the store alone (no MLflow needed).

    Returns
    -------
    dict
        ``run`` (the stored run, :meth:`Store.run`), ``tags``, ``params`` and ``metrics`` (``{key: value}``),
        ``artifacts`` (``[{"name", "path", "status", "detail", "sha256"}]``; status ``ok`` when the file is logged,
        else ``missing``, ``changed`` or ``not recorded``), ``registrations`` (one per promotion of a candidate
        of this run: candidate, channel, promotion id, model sha256, model file, whether that promotion is the
        channel's current one), ``notes`` (what could not be exported and why).
    """
    from .promotion import channel_model, promotions

    run = store.run(store.resolve_run(run_ref))
    rid, notes = run["run_id"], []
    tags = {RUN_TAG: rid, "stancebench.command": run["command"], "stancebench.label": run["label"],
            "stancebench.study": run["study_name"], "stancebench.manifest_sha256": run["manifest_sha256"],
            "stancebench.results_sha256": run["results_sha256"], "stancebench.exit_code": run["exit_code"],
            "stancebench.version": run["stancebench_version"], "stancebench.host": run["host"],
            "stancebench.recorded_utc": run["recorded_utc"], "stancebench.store": str(store.path)}
    tags = {k: str(v) for k, v in tags.items() if v is not None}
    artifacts, results = _results_artifacts(run, notes)
    parts = candidate_parts([c["name"] for c in run["candidates"]])
    params = _params(run, parts, results, notes)
    metrics = _metrics(store, run, parts)
    regs = []
    promos = promotions(store)
    for p in promos[promos["run_id"] == rid].sort_values("promotion_id").to_dict("records"):
        current = channel_model(store, p["channel"])
        cand = next((c for c in run["candidates"] if c["name"] == p["candidate"]), {})
        regs.append({"candidate": p["candidate"], "registered_model": parts.get(p["candidate"],
                                                                                 model_name(p["candidate"])),
                     "channel": p["channel"], "promotion_id": int(p["promotion_id"]),
                     "model_sha256": p["model_sha256"], "reason": p["reason"], "promoted_by": p["promoted_by"],
                     "time_utc": p["time_utc"],
                     "current": current is not None and current["promotion_id"] == p["promotion_id"],
                     "model_file": _model_file(run, cand, p["model_sha256"], notes)})
    return {"run": run, "tags": tags, "params": params, "metrics": metrics, "artifacts": artifacts,
            "registrations": regs, "notes": notes}


def _results_artifacts(run: dict, notes: list[str]) -> tuple[list[dict], dict | None]:
    """results.json (logged only when its sha256 is the stored one) and report.html (only beside a verified
    results.json: the store keeps no sha256 of the report, so a report beside a changed results.json is taken for
    another run's). Returns the artifact list and the parsed results (None when not verified)."""
    path, want = run["results_path"], run["results_sha256"]
    res = {"name": "results.json", "path": path, "status": "ok", "detail": "", "sha256": want}
    results = None
    if not path:
        res.update(status="not recorded", detail="the store recorded no results.json for this run")
    elif not Path(path).is_file():
        res.update(status="missing", detail=f"{path} is no longer there")
    else:
        have = file_sha256(path)
        if have != want:
            res.update(status="changed", sha256=have,
                       detail=f"{path} has sha256 {have}, the store recorded {want}: not logged (it is no longer "
                              "the file this run wrote)")
        else:
            results = json.loads(Path(path).read_text(encoding="utf-8"))
    report = {"name": "report.html", "path": None, "status": "not recorded", "detail": "", "sha256": None}
    if results is not None:
        stored = [f for f in run["files"] if f.get("role") == "report"]
        rpath = ((results.get("paths") or {}).get("report") or (stored[0]["path"] if stored else None)
                 or str(Path(path).with_name("report.html")))
        report["path"] = rpath
        if not Path(rpath).is_file():
            report.update(status="missing", detail=f"{rpath} is not there (results: {results.get('report_status')})")
        else:
            report.update(status="ok", sha256=file_sha256(rpath))
            if stored and stored[0].get("sha256") and stored[0]["sha256"] != report["sha256"]:
                report.update(status="changed", detail=f"{rpath} has sha256 {report['sha256']}, the store recorded "
                                                       f"{stored[0]['sha256']}: not logged")
            elif not stored:
                report["detail"] = ("unverified: this run was recorded without a sha256 of report.html; logged "
                                    "because the verified results.json names it")
    else:
        report["detail"] = "not logged: results.json is not the one this run wrote, so neither is the report"
    for a in (res, report):
        if a["status"] != "ok":
            notes.append(f"{a['name']}: {a['status']}: {a['detail']}")
    return [res, report], results


def _params(run: dict, parts: dict[str, str], results: dict | None, notes: list[str]) -> dict[str, str]:
    params = {"candidates": ",".join(c["name"] for c in run["candidates"])}
    for c in run["candidates"]:
        ident = dict(c.get("identity") or {}, **{k: v for k, v in c.items() if k != "identity" and v is not None})
        for field in _CANDIDATE_FIELDS:
            if ident.get(field) is not None:
                _put(params, key("candidate", parts[c["name"]], field), ident[field], run)
        for k, v in (ident.get("params") or {}).items():
            _put(params, key("candidate", parts[c["name"]], "params", k), v, run)
    if results is None:
        notes.append("settings: not logged (they are kept in results.json only, which is not available)")
    else:
        study = results.get("study") or {}
        for k in ("kind", "seed", "workers"):
            if study.get(k) is not None:
                params[key("study", k)] = study[k]
        for k, v in (study.get("settings") or {}).items():
            _put(params, key("settings", k), v, run)
    return {k: _text(v) for k, v in params.items()}


def _put(d: dict, k: str, v: Any, run: dict) -> None:
    """``d[k] = v``, refusing to let a second value overwrite the first under one cleaned name."""
    if k in d:
        raise InputError(f"two values of run {run['run_id']} get the same MLflow name {k!r} once cleaned",
                         field="RUN", expected="KPI, condition, setting and device names that differ in letters, "
                                               "digits, '_', '-', '.', ':' or spaces (docs/mlflow.md, Names)")
    d[k] = v


def _metrics(store, run: dict, parts: dict[str, str]) -> dict[str, float]:
    """Agreement and device metrics from the store's typed columns (what ``history compare`` compares)."""
    conn, rid, out = store.connection, run["run_id"], {}
    rows = [dict(r) for r in conn.execute(
        f"SELECT candidate, kpi, condition, {', '.join(AGREEMENT_STATS)}, json_extract(row_json, '$.protocol') "
        "AS protocol FROM run_agreement WHERE run_id = ? ORDER BY rowid", (rid,))]
    protocols: dict[tuple, set] = {}
    for r in rows:
        protocols.setdefault((r["candidate"], r["kpi"], r["condition"]), set()).add(r["protocol"])
    for r in rows:
        # one condition name in two protocols of the run (``all``): the protocol tells the two rows apart
        cond = r["condition"] if len(protocols[(r["candidate"], r["kpi"], r["condition"])]) == 1 else \
            f"{r['protocol']}:{r['condition']}"
        for stat in AGREEMENT_STATS:
            if r[stat] is not None:
                _put(out, key(parts.get(r["candidate"], r["candidate"]), r["kpi"], cond, stat), float(r[stat]), run)
    from harness.results.history import device_label
    by_sha = {c["model_sha256"]: c["name"] for c in run["candidates"] if c.get("model_sha256")}
    for r in conn.execute("SELECT candidate, p50_ms, p90_ms, row_json FROM run_device WHERE run_id = ? "
                          "ORDER BY rowid", (rid,)):
        rec = json.loads(r["row_json"])
        cand = r["candidate"] or by_sha.get((rec.get("model") or {}).get("sha256")) or "unknown"
        base = label = re.sub(r"[()\[\]{}]", "", device_label(rec)).replace(", ", " ")
        n = 1
        # the same device and runtime measured twice (two tools, a repeat): both kept, the later one numbered
        while any(key(parts.get(cand, cand), "device", label, s) in out for s in ("p50_ms", "p90_ms")):
            n += 1
            label = f"{base} {n}"
        for stat in ("p50_ms", "p90_ms"):
            if r[stat] is not None:
                out[key(parts.get(cand, cand), "device", label, stat)] = float(r[stat])
    for c in run["candidates"]:
        if c.get("model_bytes") is not None:
            out[key(parts[c["name"]], "model_bytes")] = float(c["model_bytes"])
    return out


def _model_file(run: dict, cand: dict, sha: str | None, notes: list[str]) -> str | None:
    """The candidate's model file when it is still there with the promoted sha256 (run files of role "model"
    with that sha256 first, then the candidate's ``model_path``); None otherwise, with a note saying why."""
    ident = cand.get("identity") or {}
    paths = [f["path"] for f in run["files"] if f.get("role") == "model" and f.get("sha256") == sha and f["path"]]
    paths += [ident["model_path"]] if ident.get("model_path") else []
    for p in paths:
        if Path(p).is_file() and file_sha256(p) == sha:
            return str(p)
    why = f"{', '.join(map(str, paths))} is not a file with sha256 {sha}" if paths else "no model file recorded"
    notes.append(f"model of {cand.get('name')}: {why}; its model version points at the run's results artifact")
    return None


def _text(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    try:
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH as limit
    except ImportError:  # an MLflow without the constant: its older, smaller limit
        limit = 500
    return text if len(text) <= limit else text[:limit - 40] + " ... (cut; full value in results.json)"


def _ms(utc: str | None) -> int | None:
    try:
        t = _dt.datetime.fromisoformat(str(utc).replace("Z", "+00:00"))
    except ValueError:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)
    return int(t.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------------- export
def export_run(store, run_ref: str, *, tracking_uri: str | None = None, experiment: str | None = None,
               artifact_location: str | None = None) -> dict[str, Any]:
    """Log stored run ``run_ref`` to MLflow as one MLflow run and register the models promoted from it.

    An MLflow run already tagged ``stancebench.run_id`` = this run in the experiment, and FINISHED, is reused:
    nothing is logged twice, only the registrations are brought up to date (a promotion made after the first
    export). One that did not finish (an export killed half-way) is deleted and the run exported anew.

    Parameters
    ----------
    store : harness.store.Store
    run_ref : str
        A run id, a unique prefix (at least 4 characters) or "latest".
    tracking_uri : str, optional
        MLflow tracking (and registry) URI, e.g. ``sqlite:///mlflow.db`` or ``http://host:5000``; default MLflow's
        own (``$MLFLOW_TRACKING_URI``, else its default).
    experiment : str, optional
        Experiment name (created when absent); default ``stancebench/STUDY``.
    artifact_location : str, optional
        Where a newly created experiment keeps its artifacts (default MLflow's); an existing one keeps its own.

    Returns
    -------
    dict
        ``run_id``, ``mlflow_run_id``, ``reused``, ``tracking_uri``, ``experiment``, ``experiment_id``,
        ``artifact_uri``, ``n_params``, ``n_metrics``, ``artifacts`` (as :func:`plan_export`, plus
        ``stancebench_run.json``), ``models`` (``[{"candidate", "registered_model", "version", "source", "channel",
        "alias", "note"}]``), ``notes``.

    Raises
    ------
    InputError
        MLflow is not installed (the message gives :data:`INSTALL_HINT`), the experiment was deleted, or the
        tracking server refused (its message is quoted).
    StoreError
        The run is not in the store.
    """
    mlflow = import_mlflow()
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    plan = plan_export(store, run_ref)
    uri = tracking_uri or mlflow.get_tracking_uri()
    try:
        client = MlflowClient(tracking_uri=uri, registry_uri=tracking_uri)
        exp_name, exp_id = _experiment(client, experiment or f"stancebench/{plan['run']['study_name'] or 'unnamed'}",
                                       artifact_location, plan["notes"])
        mlrun, reused = _find_or_log(client, exp_id, plan)
        models = [_register(client, mlrun.info.run_id, reg, plan) for reg in plan["registrations"]]
    except MlflowException as exc:
        raise InputError(f"MLflow refused the export: {exc.message}", field="--tracking-uri",
                         expected=f"a tracking store that accepts runs and registered models (it was {uri})") from exc
    return {"run_id": plan["run"]["run_id"], "mlflow_run_id": mlrun.info.run_id, "reused": reused,
            "tracking_uri": str(uri), "experiment": exp_name, "experiment_id": exp_id,
            "artifact_uri": mlrun.info.artifact_uri, "n_params": len(mlrun.data.params),
            "n_metrics": len(mlrun.data.metrics), "artifacts": plan["artifacts"], "models": models,
            "notes": plan["notes"]}


def _experiment(client, name: str, artifact_location: str | None, notes: list[str]) -> tuple[str, str]:
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return name, client.create_experiment(name, artifact_location=artifact_location)
    if exp.lifecycle_stage != "active":
        raise InputError(f"the MLflow experiment {name!r} is deleted", field="--experiment",
                         expected="another experiment name, or the experiment restored in MLflow")
    if artifact_location and artifact_location != exp.artifact_location:
        notes.append(f"experiment {name!r} exists: its artifact location {exp.artifact_location} is kept")
    return name, exp.experiment_id


def _find_or_log(client, exp_id: str, plan: dict) -> tuple[Any, bool]:
    """The FINISHED MLflow run of this stancebench run (reused), else a new one with everything logged."""
    run = plan["run"]
    found = client.search_runs([exp_id], filter_string=f"tags.`{RUN_TAG}` = '{run['run_id']}'", max_results=50)
    for r in found:
        if r.info.status != "FINISHED":
            # an export that was killed or failed half-way: its params and metrics may be partial
            client.delete_run(r.info.run_id)
            plan["notes"].append(f"deleted the unfinished MLflow run {r.info.run_id} of an earlier export")
    done = [r for r in found if r.info.status == "FINISHED"]
    if done:
        plan["notes"].append(f"run {run['run_id']} was exported before (MLflow run {done[0].info.run_id}): "
                             "reused, nothing logged twice")
        plan["artifacts"] = [{"name": f.path, "path": None, "status": "logged before", "detail": "", "sha256": None}
                             for f in client.list_artifacts(done[0].info.run_id)]
        return done[0], True
    from mlflow.entities import Metric, Param, RunTag
    start, end = _ms(run["started_utc"]) or _ms(run["recorded_utc"]), _ms(run["recorded_utc"])
    name = f"{run['study_name'] or 'run'} {run['label'] or run['run_id'][:8]}"
    mlrun = client.create_run(exp_id, start_time=start, tags=plan["tags"], run_name=name)
    mid = mlrun.info.run_id
    try:
        params = [Param(k, v) for k, v in plan["params"].items()]
        metrics = [Metric(k, v, end or start or 0, 0) for k, v in plan["metrics"].items()]
        for i in range(0, len(params), _BATCH):
            client.log_batch(mid, params=params[i:i + _BATCH])
        for i in range(0, len(metrics), 10 * _BATCH):
            client.log_batch(mid, metrics=metrics[i:i + 10 * _BATCH])
        client.log_batch(mid, tags=[RunTag("stancebench.n_metrics", str(len(metrics)))])
        with tempfile.TemporaryDirectory(prefix="stancebench-mlflow-") as tmp:
            for a in plan["artifacts"]:
                if a["status"] == "ok":
                    shutil.copyfile(a["path"], Path(tmp) / a["name"])
            (Path(tmp) / "stancebench_run.json").write_text(json.dumps(run, indent=1, default=str,
                                                                       ensure_ascii=False), encoding="utf-8")
            client.log_artifacts(mid, tmp)
        plan["artifacts"].append({"name": "stancebench_run.json", "path": None, "status": "ok",
                                  "detail": "the run as the store holds it", "sha256": None})
        client.set_terminated(mid, "FINISHED", end_time=max(end or 0, start or 0) or None)
    except BaseException:
        client.set_terminated(mid, "FAILED")
        raise
    return client.get_run(mid), False


def _register(client, mid: str, reg: dict, plan: dict) -> dict:
    """The model version of a promoted candidate (created once per MLflow run and model sha256), with the
    channel's alias moved to it when this promotion is the channel's current one."""
    from mlflow.exceptions import MlflowException
    name, sha = reg["registered_model"], reg["model_sha256"]
    try:
        owner = client.get_registered_model(name).tags.get("stancebench.candidate")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(name, tags={"stancebench.candidate": reg["candidate"]},
                                       description=f"stancebench candidate {reg['candidate']}")
        owner = reg["candidate"]
    if owner is not None and owner != reg["candidate"]:
        # another candidate whose name cleans to the same registered model name: never mix two candidates' models
        raise InputError(f"the registered model {name!r} holds candidate {owner!r}, not {reg['candidate']!r}",
                         field="--tracking-uri", expected="a registry where the name is this candidate's (rename "
                                                          "or delete the registered model in MLflow)")
    mine = [v for v in client.search_model_versions(f"name = '{name}' and run_id = '{mid}'")
            if v.tags.get("stancebench.model_sha256") == sha]
    note = ""
    if mine:
        mv = min(mine, key=lambda v: int(v.version))
    else:
        if reg["model_file"]:
            where = key("models", name)
            client.log_artifact(mid, reg["model_file"], where)
            source = f"runs:/{mid}/{where}/{Path(reg['model_file']).name}"
        else:
            logged = {f.path for f in client.list_artifacts(mid)}
            source = f"runs:/{mid}/" + ("results.json" if "results.json" in logged else "stancebench_run.json")
            note = f"no model file: the version points at {source.rsplit('/', 1)[-1]}"
        mv = client.create_model_version(name, source, run_id=mid, description=f"model sha256 {sha}",
                                         tags={"stancebench.model_sha256": sha,
                                               "stancebench.run_id": plan["run"]["run_id"],
                                               "stancebench.model_file": reg["model_file"] or "none"})
    client.set_model_version_tag(name, mv.version, key("stancebench.promotion", reg["channel"]),
                                 json.dumps({k: reg[k] for k in ("promotion_id", "time_utc", "promoted_by",
                                                                  "reason")}, default=str))
    alias = alias_name(reg["channel"])
    if reg["current"]:
        client.set_registered_model_alias(name, alias, str(mv.version))
    else:
        note = "; ".join(filter(None, [note, f"alias {alias!r} not moved: {reg['channel']} holds a later "
                                              "promotion"]))
        alias = None
    return {"candidate": reg["candidate"], "registered_model": name, "version": str(mv.version),
            "source": mv.source, "channel": reg["channel"], "alias": alias, "note": note}
