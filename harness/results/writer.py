"""Write ``results.json`` (docs/results-schema.md) and its tidy CSV copies.

The document goes through the typed model (:class:`harness.results.model.StudyResults`) on its way to disk, so
what is written is what the readers (gates, report) read back. All differences are candidate − reference.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import os
from pathlib import Path

from ground_truth.kernel import atomic_output, jsonable, make_output_dir, write_text_atomic

from .backbones import backbone_csv_rows
from .model import StudyResults
from .precision import precision_csv_rows


def software_versions() -> dict[str, str]:
    """Versions of stancebench and the libraries whose numbers end up in results."""
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for pkg in ("stancebench", "numpy", "scipy", "pandas", "ezc3d", "pingouin", "mediapipe", "ai-edge-litert",
                "tflite-runtime", "matplotlib", "av"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    import platform
    out["python"] = platform.python_version()
    out["platform"] = platform.platform()
    return out


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _flatten(row: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in row.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out[key] = json.dumps(jsonable(v))
        else:
            out[key] = v
    return out


def write_csv(rows: list[dict], path: Path) -> Path:
    """One tidy CSV; nested dicts become dotted columns, lists JSON strings; empty file with no rows."""
    flat = [_flatten(jsonable(r)) for r in rows]
    cols: list[str] = []
    for r in flat:
        for k in r:
            if k not in cols:
                cols.append(k)
    # atomic: a full disk leaves the previous file (or none) and an OutputError, never half a table
    with atomic_output(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in flat:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    return path


def trial_kpi_rows(trials: list[dict]) -> list[dict]:
    """Long table: one row per trial × candidate × KPI (the paired values), for ``trials.csv``."""
    rows = []
    for t in trials:
        base = {k: t.get(k) for k in ("trial_id", "subject", "protocol", "condition", "candidate", "kind",
                                       "status", "reason", "detection_rate")}
        al = t.get("alignment") or {}
        for k in ("offset_s", "drift_ppm", "peak_corr", "true_offset_s", "offset_error_s"):
            base[f"alignment_{k}"] = al.get(k)
        if not t.get("kpis"):
            rows.append(dict(base, kpi=None))
            continue
        for k in t["kpis"]:
            # the KPI's two values get explicit column names: "candidate" already names the candidate
            rows.append(dict(base, **{({"reference": "reference_value", "candidate": "candidate_value"}
                                       .get(kk, kk)): vv for kk, vv in k.items()}))
    return rows


def write_results(results: StudyResults | dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``results.json`` and the CSV tables; returns the paths written.

    Parameters
    ----------
    results : StudyResults or dict
        The document; a dict is read through :meth:`StudyResults.from_dict` first, so the file always has the
        model's layout (every field of a typed row present, unknown keys kept) and a newer ``schema_version``
        is refused before anything is written.
    out_dir : path-like
        Folder to write into (created).

    Raises
    ------
    OutputError
        When a file cannot be written (a full disk, no permission, a file where the folder should be). Every
        file is written atomically: no 0-byte or half-written file and no temporary file is left behind.
    """
    out = make_output_dir(out_dir, field="out_dir")
    paths = {"results": out / "results.json"}
    # plain JSON types first: the orchestration's rows may hold numpy scalars or objects with to_dict()
    doc = results if isinstance(results, StudyResults) else StudyResults.from_dict(jsonable(results))
    # the CSV copies below come from the same normalised data as the JSON
    data = jsonable(doc.to_dict())
    # serialised before anything is written: a value JSON cannot hold fails here, not half-way through the file
    write_text_atomic(paths["results"], json.dumps(data, indent=1, allow_nan=False, default=str))
    paths["trials_csv"] = write_csv(trial_kpi_rows(data.get("trials", [])), out / "trials.csv")
    paths["agreement_csv"] = write_csv(data.get("agreement", []), out / "agreement.csv")
    paths["device_csv"] = write_csv(data.get("device", []), out / "device.csv")
    paths["gates_csv"] = write_csv(data.get("gates", []), out / "gates.csv")
    if data.get("categorical"):
        paths["categorical_csv"] = write_csv(data["categorical"], out / "categorical.csv")
    if data.get("comparisons"):
        paths["comparisons_csv"] = write_csv(data["comparisons"], out / "comparisons.csv")
    if data.get("annotations"):
        # only a study with annotation references has the section, and so this table
        paths["annotations_csv"] = write_csv(data["annotations"].get("scores") or [], out / "annotations.csv")
    if data.get("backbones"):
        # the backbone comparison's table: cost beside agreement, one row per candidate x KPI x condition
        paths["backbones_csv"] = write_csv(backbone_csv_rows(data["backbones"]), out / "backbones.csv")
    if data.get("precision"):
        # achieved CI widths and the subjects needed for the targets, one row per candidate x KPI x protocol
        paths["precision_csv"] = write_csv(precision_csv_rows(data["precision"]), out / "precision.csv")
    return paths
