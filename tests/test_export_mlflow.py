"""``stancebench export-mlflow`` against a real local MLflow tracking store (a SQLite backend file and an artifact
folder in a temporary directory), read back with MLflow's own client.

The stored run is a real results.json written by the results writer from published agreement data with real model
files (tests/test_report_fixtures.py ``pefr_results``), judged by a real policy, recorded and promoted through the
store API. One MLflow store serves the whole module (creating its tables takes seconds).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from harness.cli import main
from test_report_fixtures import PEFR_KPI, pefr_results

NO_MLFLOW = "MLflow is not installed here (the optional extra: pip install 'stancebench[mlflow]')"
POLICY = {"policy": {"name": "release"},
          "rule": [{"id": "icc", "metric": "agreement.icc_ci_low", "kpi": PEFR_KPI, "op": ">=", "threshold": 0.5}]}


def _record(store, out: Path, *, promote_to: dict | None = None, label: str = "v1.0.0") -> tuple[str, dict]:
    """Write results.json (+ a report.html the results name) into ``out``, record it, promote as asked."""
    from harness.gates import evaluate_policy, policy_from_dict
    from harness.results import read_results_json
    from harness.results.writer import write_results
    from harness.store.promotion import promote
    import mediapipe as mp

    res = pefr_results(with_device=True)
    # the first candidate's model file as the orchestration records it (candidates[].model_path)
    res["candidates"][0]["model_path"] = str(Path(mp.__file__).parent / "modules" / "pose_landmark"
                                             / "pose_landmark_full.tflite")
    res["gates"] = [v.to_dict() for v in evaluate_policy(res, policy_from_dict(POLICY))]
    out.mkdir(parents=True)
    (out / "report.html").write_text("<!doctype html><title>report</title>", encoding="utf-8")
    res["paths"] = {"report": str(out / "report.html")}
    path = write_results(res, out)["results"]
    run_id = store.record_run(read_results_json(path), command="validate", results_path=path, label=label,
                              manifest_sha256=hashlib.sha256(b"study.toml").hexdigest())
    for cand, channel in (promote_to or {}).items():
        promote(store, cand, run=run_id, channel=channel, reason="passes the release policy")
    return run_id, res


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("mlflow", reason=NO_MLFLOW)
    from harness.store import open_store
    from harness.store.mlflow_export import export_run
    from mlflow.tracking import MlflowClient

    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    store = open_store(tmp / "stancebench.db")
    run_id, res = _record(store, tmp / "out", promote_to={"mini-wright": "production", "mini-wright-2nd": "staging"})
    out = export_run(store, run_id, tracking_uri=uri, artifact_location=str(tmp / "artifacts"))
    yield {"tmp": tmp, "uri": uri, "store": store, "run_id": run_id, "res": res, "out": out,
           "client": MlflowClient(tracking_uri=uri, registry_uri=uri)}
    store.close()


def _cli(env, *args) -> list[str]:
    return ["export-mlflow", *args, "--store", str(env["store"].path), "--tracking-uri", env["uri"],
            "--artifact-location", str(env["tmp"] / "artifacts")]


def test_tags_and_params_name_the_run_and_its_candidates(env):
    data = env["client"].get_run(env["out"]["mlflow_run_id"]).data
    stored = env["store"].run(env["run_id"])
    assert data.tags["stancebench.run_id"] == env["run_id"]
    assert data.tags["stancebench.command"] == "validate"
    assert data.tags["stancebench.label"] == "v1.0.0"
    assert data.tags["stancebench.study"] == env["res"]["study"]["name"]
    assert data.tags["stancebench.manifest_sha256"] == hashlib.sha256(b"study.toml").hexdigest()
    assert data.tags["stancebench.results_sha256"] == stored["results_sha256"]
    for c in env["res"]["candidates"]:
        assert data.params[f"candidate/{c['name']}/model_sha256"] == c["model_sha256"]
        assert data.params[f"candidate/{c['name']}/precision"] == c["precision"]
        assert data.params[f"candidate/{c['name']}/runtime"] == c["runtime"]
    assert data.params["candidates"] == "mini-wright,mini-wright-2nd"


def test_metrics_equal_the_stored_agreement_and_device_rows(env):
    metrics = env["client"].get_run(env["out"]["mlflow_run_id"]).data.metrics
    rows = env["res"]["agreement"]
    assert len(rows) == 2
    for r in rows:
        prefix = f"{r['candidate']}/{PEFR_KPI}/all/"
        for stat in ("bias", "loa_lower", "loa_upper", "icc", "icc_ci_low", "icc_ci_high"):
            assert metrics[prefix + stat] == pytest.approx(r[stat], rel=1e-12)
        assert metrics[prefix + "loa_width"] == pytest.approx(r["loa_upper"] - r["loa_lower"], rel=1e-12)
    for c in env["res"]["candidates"]:
        assert metrics[f"{c['name']}/model_bytes"] == c["model_bytes"]
    # every latency of the device records, under its candidate (the records name the model by sha256)
    by_sha = {c["model_sha256"]: c["name"] for c in env["res"]["candidates"]}
    want = sorted((by_sha[d["model"]["sha256"]], stat, d["latency"][stat]) for d in env["res"]["device"]
                  for stat in ("p50_ms", "p90_ms") if d["latency"].get(stat) is not None)
    got = sorted((k.split("/")[0], k.rsplit("/", 1)[1], v) for k, v in metrics.items() if "/device/" in k)
    assert want and got == want


def test_results_report_and_model_file_are_artifacts(env, tmp_path):
    client, mid = env["client"], env["out"]["mlflow_run_id"]
    names = {f.path for f in client.list_artifacts(mid)}
    assert {"results.json", "report.html", "stancebench_run.json", "models"} <= names
    got = Path(client.download_artifacts(mid, "results.json", str(tmp_path)))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == env["store"].run(env["run_id"])["results_sha256"]
    model = Path(client.download_artifacts(mid, "models/mini-wright/pose_landmark_full.tflite", str(tmp_path)))
    assert hashlib.sha256(model.read_bytes()).hexdigest() == env["res"]["candidates"][0]["model_sha256"]


def test_promoted_models_are_registered_with_the_channel_as_alias(env):
    client, mid = env["client"], env["out"]["mlflow_run_id"]
    prod = client.get_model_version_by_alias("mini-wright", "production")
    assert prod.run_id == mid
    assert prod.source == f"runs:/{mid}/models/mini-wright/pose_landmark_full.tflite"
    assert prod.tags["stancebench.model_sha256"] == env["res"]["candidates"][0]["model_sha256"]
    # no model file recorded for the second candidate: its version points at the results, and the export says so
    staging = client.get_model_version_by_alias("mini-wright-2nd", "staging")
    assert staging.source == f"runs:/{mid}/results.json"
    assert any("mini-wright-2nd" in n and "no model file" in n for n in env["out"]["notes"])


def test_exporting_again_reuses_the_mlflow_run(env, capsys):
    assert main(_cli(env, env["run_id"][:8], "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reused"] and out["mlflow_run_id"] == env["out"]["mlflow_run_id"]
    client = env["client"]
    runs = client.search_runs([env["out"]["experiment_id"]], f"tags.`stancebench.run_id` = '{env['run_id']}'")
    assert len(runs) == 1
    assert len(client.search_model_versions(f"name = 'mini-wright' and run_id = '{out['mlflow_run_id']}'")) == 1
    assert len(client.get_run(out["mlflow_run_id"]).data.metrics) == env["out"]["n_metrics"]


def test_a_later_promotion_is_registered_by_exporting_again(env, capsys):
    from harness.store.promotion import promote
    run_id, _ = _record(env["store"], env["tmp"] / "later", label="v1.1.0")
    assert main(_cli(env, run_id)) == 0
    first = capsys.readouterr().out
    assert "exported to MLflow run" in first and "registered model" not in first
    promote(env["store"], "mini-wright", run=run_id, channel="production", reason="v1.1.0 is better")
    assert main(_cli(env, run_id)) == 0
    second = capsys.readouterr().out
    assert "already exported as MLflow run" in second and "alias production" in second
    client = env["client"]
    prod = client.get_model_version_by_alias("mini-wright", "production")
    assert prod.tags["stancebench.run_id"] == run_id and str(prod.version) == "2"
    # exporting the first run again registers nothing new and leaves production where the store says it is
    assert main(_cli(env, env["run_id"])) == 0
    assert "alias 'production' not moved" in capsys.readouterr().out
    assert str(client.get_model_version_by_alias("mini-wright", "production").version) == "2"


def test_changed_or_missing_results_are_named_and_not_logged(env, capsys):
    client = env["client"]
    changed_id, _ = _record(env["store"], env["tmp"] / "changed")
    results = env["tmp"] / "changed" / "results.json"
    results.write_text(results.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    missing_id, _ = _record(env["store"], env["tmp"] / "missing")
    (env["tmp"] / "missing" / "results.json").unlink()
    for run_id, status in ((changed_id, "changed"), (missing_id, "missing")):
        assert main(_cli(env, run_id, "--json")) == 0
        out = json.loads(capsys.readouterr().out)
        art = {a["name"]: a for a in out["artifacts"]}
        assert art["results.json"]["status"] == status
        assert art["report.html"]["status"] != "ok"
        assert {f.path for f in client.list_artifacts(out["mlflow_run_id"])} == {"stancebench_run.json"}
        # the metrics come from the store, so they are all there
        assert out["n_metrics"] == env["out"]["n_metrics"]


def test_unknown_run_exits_2(env, capsys):
    assert main(_cli(env, "ffffffff")) == 2
    assert "no run 'ffffffff'" in capsys.readouterr().err


def test_without_mlflow_exit_2_names_the_install_command(monkeypatch, capsys):
    # a None entry makes 'import mlflow' raise ImportError, as on a machine without the extra
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert main(["export-mlflow", "latest"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'stancebench[mlflow]'" in err and "Traceback" not in err


@pytest.mark.parametrize("text", ["mini-wright", "a/b", "..", ".", "", "x:y", "hüft", "a,b (c)", "../etc", "v1",
                                  "latest", "prod.eu"])
def test_names_are_ones_mlflow_accepts(text):
    pytest.importorskip("mlflow", reason=NO_MLFLOW)
    from mlflow.utils import validation as v

    from harness.store.mlflow_export import alias_name, key, model_name
    k = key(text, "peak_flow", text, "bias")
    v._validate_metric_name(k)
    v._validate_param_name(k)
    v._validate_model_name(model_name(text or "_"))
    v._validate_alias_name(alias_name(text or "_"))
    v._validate_alias_name_reserved(alias_name(text or "_"))


def test_candidates_whose_names_clean_alike_keep_apart():
    from harness.store.mlflow_export import candidate_parts
    assert candidate_parts(["a+b", "a_b", "a:b", "c"]) == {"a+b": "a_b", "a_b": "a_b_2", "a:b": "a_b_3", "c": "c"}


def test_a_report_rewritten_after_the_run_is_not_logged(env, capsys):
    # the store hashes report.html when the run is recorded: a report edited since then is named, not exported
    run_id, _ = _record(env["store"], env["tmp"] / "edited-report")
    report = env["tmp"] / "edited-report" / "report.html"
    stored = [f for f in env["store"].run(run_id)["files"] if f["role"] == "report"]
    assert [f["sha256"] for f in stored] == [hashlib.sha256(report.read_bytes()).hexdigest()]
    report.write_text("<!doctype html><title>someone else's report</title>", encoding="utf-8")
    assert main(_cli(env, run_id, "--json")) == 0
    art = {a["name"]: a for a in json.loads(capsys.readouterr().out)["artifacts"]}
    assert art["results.json"]["status"] == "ok" and art["report.html"]["status"] == "changed"
