"""Human annotations as a study's 2-D reference: reading a trial's annotation files, and the study-level
``annotations`` section of results.json (docs/results-schema.md) made once after the trials.

:func:`read_reference_sets` reads a trial's files (manifest ``annotations``, docs/manifest.md) with the frame
times of the annotated video; :func:`rater_points` puts their raters in one points table.
:func:`annotation_section` pools the trial × candidate scores of the pipeline
(:mod:`harness.pipeline.annotation_scores`) per candidate × keypoint with bootstrap CIs that resample trials,
compares each candidate's error with the raters' own spread, and adds the inter-rater reliability of each trial's
annotations (:func:`harness.annotations.irr.keypoint_irr`) and, when the study names a labelling guideline, the
QC verdicts and findings (:func:`harness.annotations.qc.run_qc`).
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from candidates.annotations.read import read_annotations
from ground_truth.kernel import InputError, StancebenchError, file_sha256, jsonable
from harness.agreement.bootstrap import cluster_counts, cluster_indices, summarise_bootstrap
from harness.results.annotations import REFERENCE_OTHERS

from .consensus import CONSENSUS_METHOD
from .raters import rater_names

#: Words for a candidate's error against the raters' own spread, from the 95% CI of their ratio.
WITHIN, LARGER, SMALLER = ("within the raters' own spread", "larger than the raters' own spread",
                           "smaller than the raters' own spread")
NOT_JUDGED = "not judged (fewer than 3 trials: no confidence interval)"
#: How the scores (:mod:`harness.pipeline.annotation_scores`) match annotated frames to a candidate's frames.
MATCHING = ("annotated frames matched to the candidate's frames by time on the video clock (within half a frame "
            "interval)")
#: How the scores measure the person's size in the image.
HEIGHT_METHOD = ("person height H = longer side of the bounding box of the consensus keypoints (face to feet for "
                 "a standing subject); PCK threshold a fraction of the person scale s = sqrt(w x h) of that box")
_METRICS = (("pck", "n_frames"), ("oks", "n_frames"), ("error_px", "n_scored"), ("error_pct_height", "n_scored"))


# --------------------------------------------------------------------------------------------------- reading
def _ref(ref) -> dict:
    return asdict(ref) if is_dataclass(ref) else dict(ref)


def read_reference_sets(ref, video) -> list:
    """The AnnotationSets of a trial's annotation files (``ref``: ``harness.manifest.AnnotationReference`` or its
    dict), read with the frame times of ``video``. Errors are the readers' (they name the file and element)."""
    ref = _ref(ref)
    return [read_annotations(f, ref.get("format") or "auto", mapping=ref.get("mapping"), video=video)
            for f in ref["files"]]


def rater_points(sets: list) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The points of several sets in one table, one rater per (file, annotator), and the items' frame times.

    Returns ``(points, items, notes)``: ``items`` has one row per item key (``item``, ``time_s``: the first
    finite time any file gives). The raters are named by :func:`harness.annotations.raters.rater_names`, as the
    inter-rater statistics name them (an annotator name found in several files is one rater per file, named
    ``"<name> (<file name>)"``), and the notes say so.
    """
    names = rater_names(sets)
    notes, frames, items = names.notes(), [], []
    for s in sets:
        frames.append(s.points.assign(annotator=names.column(s, s.points["annotator"])))
        items.append(s.items[["item", "time_s"]])
    points = pd.concat(frames, ignore_index=True)
    table = pd.concat(items, ignore_index=True)
    table = table.assign(item=table["item"].astype(str)).sort_values("time_s", na_position="last")
    return points, table.drop_duplicates("item").reset_index(drop=True), notes


# ----------------------------------------------------------------------------------------------- bootstrap
def _resampled_ci(est: float, idx: np.ndarray | None, n_trials: int, confidence: float, statistic
                  ) -> tuple[float | None, float | None, float | None]:
    """``est`` and the percentile CI of ``statistic(counts)`` over the trial resamples ``idx`` (``counts``: how
    often each trial was drawn, one row per resample); no CI without resamples or when more than 10 % of them
    leave the statistic undefined (:func:`harness.agreement.bootstrap.summarise_bootstrap`)."""
    if idx is None:
        return est, None, None
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = statistic(cluster_counts(idx, n_trials))
    try:
        r = summarise_bootstrap(est, boot, confidence, n_trials, method="percentile, trial-clustered")
    except InputError:
        return est, None, None
    return est, r.ci_low, r.ci_high


def _pooled_ci(sums: np.ndarray, counts: np.ndarray, idx: np.ndarray | None, confidence: float
               ) -> tuple[float | None, float | None, float | None]:
    """Frame-weighted mean Σsums/Σcounts over trials and its percentile CI from trial resamples ``idx``."""
    total = counts.sum()
    if total <= 0:
        return None, None, None
    return _resampled_ci(float(sums.sum() / total), idx, len(sums), confidence,
                         lambda c: (c @ sums) / (c @ counts))


def _ratio_ci(num: np.ndarray, num_n: np.ndarray, den: np.ndarray, den_n: np.ndarray, idx, confidence: float):
    """(Σnum/Σnum_n) / (Σden/Σden_n) and its percentile CI from the same trial resamples."""
    if num_n.sum() <= 0 or den_n.sum() <= 0 or den.sum() <= 0:
        return None, None, None
    est = float((num.sum() / num_n.sum()) / (den.sum() / den_n.sum()))
    return _resampled_ci(est, idx, len(num), confidence,
                         lambda c: ((c @ num) / (c @ num_n)) / ((c @ den) / (c @ den_n)))


def _reading(lo, hi) -> str:
    if lo is None or hi is None:
        return NOT_JUDGED
    return LARGER if lo > 1 else SMALLER if hi < 1 else WITHIN


# ---------------------------------------------------------------------------------------------------- scores
def _score_table(rows: list[dict]) -> pd.DataFrame:
    """Long table of the trials' keypoint scores: one row per trial × source × keypoint × reference (a rater's
    rows once per trial, though every candidate's row of that trial carries them)."""
    recs = []
    for r in rows:
        sc = r.get("annotation_scores")
        if not sc or sc.get("status") != "ok":
            continue
        for s in sc.get("scores") or []:
            kind = "candidate" if s.get("source") == "candidate" else "rater"
            recs.append({**s, "trial_id": r["trial_id"], "kind": kind,
                         "source": r.get("candidate") if kind == "candidate" else s.get("source")})
    table = pd.DataFrame(recs)
    if table.empty:
        return table
    table = table.drop_duplicates(["trial_id", "source", "kind", "keypoint", "reference"])
    # candidates first, then the raters ("candidate" < "rater"), each in order of appearance
    return table.sort_values("kind", kind="stable").reset_index(drop=True)


def _sums(g: pd.DataFrame, metric: str, weight: str, trials: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per trial Σ(metric × weight) and Σweight over the rows ``g`` (several raters pool), in ``trials`` order;
    rows without the metric count for neither."""
    code = g["trial_code"].to_numpy() if "trial_code" in g else pd.Categorical(g["trial_id"], categories=trials).codes
    v = g[metric].to_numpy(dtype=float, na_value=np.nan)
    w = np.where(np.isfinite(v), g[weight].to_numpy(dtype=float), 0.0)
    v = np.where(np.isfinite(v), v, 0.0)
    return (np.bincount(code, weights=v * w, minlength=len(trials)),
            np.bincount(code, weights=w, minlength=len(trials)))


def _pooled_rows(table: pd.DataFrame, trials: list[str], idx, confidence: float) -> list[dict]:
    out = []
    for (kind, source, reference, kp), g in table.groupby(["kind", "source", "reference", "keypoint"], sort=False):
        row = {"source": source, "kind": kind, "keypoint": kp, "reference": reference,
               "n_trials": int(g["trial_id"].nunique()), "n_frames": int(g["n_frames"].sum()),
               "n_scored": int(g["n_scored"].sum())}
        for metric, weight in _METRICS:
            est, lo, hi = _pooled_ci(*_sums(g, metric, weight, trials), idx, confidence)
            row.update({metric: est, f"{metric}_ci_low": lo, f"{metric}_ci_high": hi})
        if idx is None:
            row["note"] = f"{len(trials)} trial(s): no confidence interval (a trial bootstrap needs 3 or more)"
        out.append(row)
    return out


def _model_vs_raters(table: pd.DataFrame, trials: list[str], idx, confidence: float) -> list[dict]:
    raters = table[(table["kind"] == "rater") & (table["reference"] == REFERENCE_OTHERS)]
    cands = table[(table["kind"] == "candidate") & (table["reference"] == REFERENCE_OTHERS)]
    out = []
    for (cand, kp), g in cands.groupby(["source", "keypoint"], sort=False):
        gr = raters[raters["keypoint"] == kp]
        both = sorted(set(g["trial_id"]) & set(gr["trial_id"]))
        num, num_n = _sums(g, "error_pct_height", "n_scored", trials)
        den, den_n = _sums(gr[gr["trial_id"].isin(both)], "error_pct_height", "n_scored", trials)
        num, num_n = np.where(np.isin(trials, both), num, 0.0), np.where(np.isin(trials, both), num_n, 0.0)
        est, lo, hi = _ratio_ci(num, num_n, den, den_n, idx, confidence)
        row = {"candidate": cand, "keypoint": kp, "n_trials": len(both),
               "candidate_error_pct_height": float(num.sum() / num_n.sum()) if num_n.sum() > 0 else None,
               "raters_error_pct_height": float(den.sum() / den_n.sum()) if den_n.sum() > 0 else None,
               "ratio": est, "ratio_ci_low": lo, "ratio_ci_high": hi,
               "reading": _reading(lo, hi) if est is not None else None}
        if est is None:
            row["note"] = "no frame scored for both the candidate and the raters"
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------- IRR and QC
def _irr(trial_id: str, sets: list, pck: float, settings) -> tuple[list[dict], list[dict], dict]:
    from .irr import keypoint_irr

    n_boot = int(settings.bootstrap) if settings.bootstrap >= 100 else 0
    try:
        res = keypoint_irr(sets, pck_threshold=pck, confidence=settings.confidence, n_resamples=n_boot,
                           seed=settings.seed)
    except StancebenchError as exc:
        return [], [], {"trial_id": trial_id, "status": "not computed", "reason": str(exc)}
    kp = [{"trial_id": trial_id, **r} for r in jsonable(res.keypoints.to_dict(orient="records"))]
    raters = [{"trial_id": trial_id, **r} for r in jsonable(res.raters.to_dict(orient="records"))]
    return kp, raters, {"trial_id": trial_id, "status": "ok", "notes": list(res.notes)}


def _qc(guideline_path, sets_by_trial: dict[str, list]) -> dict[str, Any]:
    from .guideline import load_guideline
    from .qc import run_qc

    guideline = load_guideline(guideline_path)
    trial_of: dict[str, list[str]] = {}
    unique, seen = [], set()
    for tid, sets in sets_by_trial.items():
        for s in sets:
            trial_of.setdefault(str(s.source), []).append(tid)
            if str(s.source) not in seen:
                seen.add(str(s.source))
                unique.append(s)
    res = run_qc(unique, guideline)
    f = res.findings
    rules = []
    for rule, v in zip(guideline.rules, res.verdicts):
        mine = f[f["rule_id"] == rule.id]
        trials = {t for src in mine["file"].astype(str) for t in trial_of.get(src, [])}
        rules.append({"rule_id": rule.id, "kind": rule.kind, "description": rule.description or v.label,
                      "severity": rule.severity, "status": v.status, "blocks": bool(v.blocks),
                      "n_findings": int(len(mine)), "examined": int(res.examined.get(rule.id, 0)),
                      "n_trials_failed": len(trials) if v.status in ("fail", "error") else 0,
                      "n_trials_with_findings": len(trials), "message": v.message,
                      "examples": [str(m) for m in mine["message"].head(3)]})
    blocking = [r["rule_id"] for r in rules if r["blocks"]]
    summary = (f"The labelling guideline '{guideline.name}' ({len(rules)} rule(s)) found {len(f)} finding(s) in "
               f"{len(unique)} annotation file(s); "
               + (f"{len(blocking)} blocking rule(s) failed: {', '.join(blocking)}." if blocking
                  else "no blocking rule failed."))
    return {"status": "ok", "guideline": str(guideline_path), "guideline_name": guideline.name,
            "sha256": guideline.sha256, "summary": summary, "n_findings": int(len(f)), "blocking_failed": blocking,
            "exit_code": res.exit_code, "rules": rules}


# ----------------------------------------------------------------------------------------------- the section
def annotation_section(manifest, rows: list[dict]) -> dict[str, Any] | None:
    """The study's ``annotations`` section, or None when no trial names annotation files.

    Parameters
    ----------
    manifest : harness.manifest.StudyManifest
        Its trials' ``annotations``, ``annotation_settings`` and ``settings`` (seed, confidence, bootstrap).
    rows : list of dict
        The ``trials[]`` rows; those with an ``annotation_scores`` of status ok are pooled.

    Notes
    -----
    Pooled values are frame-weighted means over trials (Σ over trials of the per-trial sums / Σ counts); their
    CIs are percentile intervals (Efron & Tibshirani 1993, ch. 13) of a bootstrap that resamples whole trials
    (Field & Welsh 2007, J R Stat Soc B 69:369), since the frames of one video are not independent; fewer than
    3 trials give no CI. The ratio of a candidate's error to the raters' own spread is resampled the same way
    (numerator and denominator from the same resampled trials).
    """
    trials = [t for t in manifest.trials if t.annotations is not None]
    if not trials:
        return None
    settings, ann = manifest.settings, manifest.annotation_settings
    section: dict[str, Any] = {
        "status": "ok", "pck_threshold": ann.pck, "confidence": settings.confidence, "matching": MATCHING,
        "consensus_method": CONSENSUS_METHOD, "person_height_method": HEIGHT_METHOD,
        "bootstrap": f"{settings.bootstrap} resamples of trials, percentile CIs",
        "guideline": None if ann.guideline is None else str(ann.guideline),
        "files": [], "trials": [], "scores": [], "model_vs_raters": [], "irr": [], "irr_raters": [],
        "irr_status": [], "qc": None, "notes": []}
    sets_by_trial: dict[str, list] = {}
    for t in trials:
        video = t.video[t.annotations.video]
        try:
            sets = read_reference_sets(t.annotations, video)
        except StancebenchError as exc:
            section["irr_status"].append({"trial_id": t.id, "status": "failed", "reason": str(exc)})
            section["notes"].append(f"trial {t.id}: its annotation files could not be read, so it has no scores, "
                                    f"inter-rater reliability or QC ({exc})")
            section["files"] += [{"trial_id": t.id, "path": str(f), "error": str(exc)} for f in t.annotations.files]
            continue
        sets_by_trial[t.id] = sets
        for f, s in zip(t.annotations.files, sets):
            section["files"].append({"trial_id": t.id, "path": str(f), "sha256": file_sha256(f), "format": s.format,
                                     "schema": s.schema, "raters": s.annotators, "items": int(len(s.items)),
                                     "notes": list(s.notes)})
        kp, raters, status = _irr(t.id, sets, ann.pck, settings)
        section["irr"] += kp
        section["irr_raters"] += raters
        section["irr_status"].append(status)
    for r in rows:
        sc = r.get("annotation_scores")
        if sc:
            section["trials"].append({"trial_id": r["trial_id"], "candidate": r.get("candidate"),
                                      "status": sc.get("status"), "reason": sc.get("reason"),
                                      "raters": sc.get("raters"), "n_annotated_frames": sc.get("n_annotated_frames"),
                                      "n_matched_frames": sc.get("n_matched_frames"),
                                      "n_unmatched_frames": sc.get("n_unmatched_frames")})
    table = _score_table(rows)
    if not table.empty:
        ids = list(dict.fromkeys(table["trial_id"]))
        table["trial_code"] = pd.Categorical(table["trial_id"], categories=ids).codes
        idx = cluster_indices(len(ids), settings.bootstrap, settings.seed) \
            if len(ids) >= 3 and settings.bootstrap >= 100 else None
        section["scores"] = _pooled_rows(table, ids, idx, settings.confidence)
        section["model_vs_raters"] = _model_vs_raters(table, ids, idx, settings.confidence)
    else:
        section["notes"].append("no trial x candidate run was scored against the annotations (see 'trials')")
    if ann.guideline is not None:
        try:
            section["qc"] = _qc(ann.guideline, sets_by_trial)
        except StancebenchError as exc:
            section["qc"] = {"status": f"not available: {exc}", "guideline": str(ann.guideline), "rules": []}
    return jsonable(section)
