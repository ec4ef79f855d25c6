"""``stancebench export-mlflow``: log a stored run to MLflow (params, per-KPI metrics, results.json and the report
as artifacts) and register the models promoted from it with an alias equal to their channel (docs/mlflow.md)."""
from __future__ import annotations

HELP = "Log a stored run to MLflow and register the models promoted from it (needs stancebench[mlflow])."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export-mlflow", help=HELP, description=HELP + " One MLflow run per stored run, tagged stancebench.run_id: "
        "exporting the same run again reuses it (nothing is logged twice; the registrations are brought up to "
        "date, e.g. after a later promotion). Params: the candidates' identities and the study settings; metrics: "
        "bias, limits of agreement and ICC per candidate, KPI and condition, device latency, model bytes; "
        "artifacts: results.json and report.html when they are still the files the run wrote, and the stored run "
        "as JSON. Each candidate promoted from the run becomes a registered model version with the channel as its "
        "alias. Exit codes: 0 exported, 2 bad input (a run not in the store, MLflow not installed, a tracking "
        "store that refuses). See docs/mlflow.md.")
    p.add_argument("run", metavar="RUN", help="the stored run: its id, a unique prefix (4+ characters) or 'latest'")
    p.add_argument("--tracking-uri", metavar="URI",
                   help="MLflow tracking and registry URI, e.g. sqlite:///mlflow.db or http://host:5000 (default: "
                        "$MLFLOW_TRACKING_URI, else MLflow's default)")
    p.add_argument("--experiment", metavar="NAME", help="MLflow experiment (created when absent; default "
                                                         "stancebench/STUDY)")
    p.add_argument("--artifact-location", metavar="URI",
                   help="where a newly created experiment keeps its artifacts (default: MLflow's)")
    p.add_argument("--store", metavar="PATH",
                   help="the results store (default: $STANCEBENCH_STORE, else the per-user store); it must exist")
    p.add_argument("--json", action="store_true", help="print what was exported as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    import logging

    from harness.store import open_store
    from harness.store.mlflow_export import export_run, import_mlflow

    import_mlflow()  # before the store is read: without the extra, say how to install it and stop
    # MLflow announces its database migrations at INFO on stderr; our output says what happened
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    with open_store(args.store, create=False) as store:
        out = export_run(store, args.run, tracking_uri=args.tracking_uri, experiment=args.experiment,
                         artifact_location=args.artifact_location)
        out["store"] = str(store.path)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return 0
    verb = "already exported as" if out["reused"] else "exported to"
    print(f"run {out['run_id']} {verb} MLflow run {out['mlflow_run_id']} (experiment {out['experiment']!r}, "
          f"tracking {out['tracking_uri']})")
    print(f"  {out['n_params']} params, {out['n_metrics']} metrics; artifacts in {out['artifact_uri']}")
    for a in out["artifacts"]:
        print(f"  artifact {a['name']}: {a['status']}" + (f" ({a['detail']})" if a["detail"] else ""))
    for m in out["models"]:
        alias = f", alias {m['alias']}" if m["alias"] else ""
        print(f"  registered model {m['registered_model']} version {m['version']} ({m['channel']}{alias}) from "
              f"{m['source']}" + (f": {m['note']}" if m["note"] else ""))
    for n in out["notes"]:
        # a model without its file is said on its model line already
        if not (n.startswith("model of ") and out["models"]):
            print(f"  note: {n}")
    return 0
