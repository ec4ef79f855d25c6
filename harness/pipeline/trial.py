"""One trial × candidate through the stages, in the order data flows:

1. :func:`~harness.pipeline.reference.build_reference_side` (gold standard) and
2. :func:`~harness.pipeline.candidate.build_candidate_side` (keypoints of the candidate on the video the
   candidate's ``view`` picks, :mod:`~harness.pipeline.views`);
3. :func:`~harness.pipeline.clock.align_clocks` (paired trials); a triangulated candidate
   (:func:`~harness.pipeline.triangulated.build_triangulated_side`) does 2 and 3 per camera, then triangulates;
   a trial with human annotations: :func:`~harness.pipeline.annotation_scores.score_annotations` (a 2-D
   candidate's keypoints against the raters' consensus; a failure never stops the trial);
4. :func:`~harness.pipeline.window.analysis_window`;
5. :func:`~harness.pipeline.kpis.compute_kpis`;
6. :func:`~harness.pipeline.pairs.pair_rows`;
7. :func:`~harness.pipeline.figures.figure_data`.

:func:`run_trial` never lets a trial stop the study: a refused or failed trial is a row with its status and
reason; an unexpected exception (a bug) is recorded with its type, message and traceback, and re-raised when
the task is strict (``stancebench ... --strict``, the test suite).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ground_truth.kernel import AlignmentError, NotAvailableError, StancebenchError, record_unexpected
from protocols import get_protocol, protocol_from_dict, register_protocol

from .annotation_scores import score_annotations
from .candidate import shared_candidate_side
from .clock import align_clocks
from .figures import figure_data
from .kpis import compute_kpis
from .pairs import pair_rows
from .reference import build_reference_side
from .sway import sway_rate_hz
from .triangulated import build_triangulated_side
from .views import TRIANGULATED, trial_view, view_indices
from .window import analysis_window

#: Low-pass cut-off of the sway KPIs when the manifest does not set one (Hz).
DEFAULT_SWAY_LOWPASS_HZ = 5.0


@dataclass
class TrialOutcome:
    """A ``trials[]`` row of results.json and the figure arrays of that trial × candidate."""

    row: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)


def empty_row(task: dict) -> dict[str, Any]:
    """The identity fields of a task's row, before anything ran."""
    trial, cand = task["trial"], task["candidate"]
    return {"trial_id": trial["id"], "subject": trial["subject"], "protocol": trial["protocol"],
            "condition": trial["condition"], "stance_leg": trial["stance_leg"], "kind": trial["kind"],
            "candidate": None if cand is None else cand["name"], "status": "ok", "reason": None,
            "detection_rate": None, "alignment": None, "kpis": []}


def run_trial(task: dict, *, references: dict | None = None) -> TrialOutcome:
    """One trial × candidate; a failure becomes the row's status and reason (see the module notes).

    ``references`` (the trial's memo) lets the candidates of one trial share its gold-standard side and the
    candidate sides of one backbone on one video, which no later stage changes
    (:func:`harness.study.run_trial_batch`)."""
    t0 = time.perf_counter()
    out = TrialOutcome(empty_row(task))
    row = out.row
    try:
        process_trial(task, out, references=references)
    except AlignmentError as exc:
        row["status"], row["reason"] = "refused", f"alignment refused: {exc}"
    except NotAvailableError as exc:
        msg = str(exc)
        row["status"], row["reason"] = "failed", msg if msg.startswith("not available") else f"not available: {msg}"
    except StancebenchError as exc:
        row["status"], row["reason"] = "failed", str(exc)
    except Exception as exc:
        # A bug: the study goes on with this trial marked failed and the traceback kept for the report,
        # unless the run is strict (tests, --strict), where it must surface.
        if task.get("strict"):
            raise
        err = record_unexpected(exc)
        row["status"], row["reason"] = "failed", err["message"]
        row["error_type"], row["traceback"] = err["error_type"], err["traceback"]
    row["elapsed_s"] = time.perf_counter() - t0
    return out


def process_trial(task: dict, out: TrialOutcome, *, references: dict | None = None) -> None:
    """The stages in order for one trial × candidate, filling ``out``."""
    trial, subject, spec, settings = task["trial"], task["subject"], task["candidate"], task["settings"]
    row = out.row
    if task.get("protocol_def"):
        # a spawned worker does not know the study's own protocols: the task carries the definition
        register_protocol(protocol_from_dict(task["protocol_def"]))
    protocol = get_protocol(trial["protocol"])
    kpi_names = list(settings.get("kpis") or protocol.kpi_names)
    max_duration = float(trial.get("duration_s") or protocol.condition(trial["condition"]).duration_s)
    bipedal = protocol.condition(trial["condition"]).stance == "bipedal"
    ref = cand = clock = None
    view_index: int | None = None
    if trial["kind"] != "candidate-only":
        key = (trial["id"], bipedal)
        ref = references.get(key) if references is not None else None
        if ref is None:
            ref = build_reference_side(trial, subject, bipedal=bipedal)
            if references is not None:
                references[key] = ref
    if ref is not None and ref.recording is not None:
        # what the reader found wrong with the gold standard (implausible values set to NaN, spikes) travels
        # with the trial, so a number computed from a repaired recording is never unflagged in the results
        row.setdefault("notes", []).extend(f"gold standard: {n}" for n in ref.recording.meta.get("notes", []))
    if spec is not None and spec.get("view") == TRIANGULATED:
        # every camera is aligned to the gold standard on its own, then the views are triangulated on the
        # reference clock (the 3-D side's clock is the reference's)
        cand, clock = build_triangulated_side(spec, trial, subject, settings, ref, bipedal=bipedal, memo=references)
    elif spec is not None:
        view = trial_view(trial, view_indices(trial, spec.get("view") or "first")[0])
        row["view"] = view.get("camera_name") or f"video {view['view_index'] + 1}"
        view_index = view["view_index"]
        cand = shared_candidate_side(spec, view, subject, settings, bipedal=bipedal, sides=references)
        if ref is not None:
            clock = align_clocks(ref, cand, settings, view)
    if cand is not None:
        row["detection_rate"] = cand.inference["detection_rate"]
        row["candidate_identity"] = dict(cand.identity)
        row["inference"] = cand.inference
    if cand is not None and trial.get("annotations"):
        _annotation_scores(row, trial, cand, view_index, references)
    if clock is not None:
        row["alignment"] = clock.to_dict()
    window = analysis_window(ref, cand, clock, max_duration, bipedal=bipedal)
    row["window_s"] = list(window)
    fs = sway_rate_hz(settings, cand)
    lowpass_hz = settings.get("sway_lowpass_hz", DEFAULT_SWAY_LOWPASS_HZ)
    values = compute_kpis(ref, cand, kpi_names, window, clock, trial=trial, subject=subject, fs=fs,
                          lowpass_hz=lowpass_hz, max_duration_s=max_duration, bipedal=bipedal)
    row["kpis"] = pair_rows(kpi_names, values.reference, values.candidate, trial["kind"])
    row["sway_rate_hz"] = fs
    out.figures = figure_data(ref, cand, clock, window, values.stabilogram)
    row["figures_available"] = bool(out.figures)


def _annotation_scores(row: dict, trial: dict, cand, view_index: int | None, memo: dict | None) -> None:
    """The row's ``annotation_scores``; a failure to read or match the annotations is said in the row's notes
    and leaves the trial's KPIs as they are."""
    scores = score_annotations(trial, cand, view_index, memo=memo)
    row["annotation_scores"] = scores.to_dict()
    if scores.status == "failed":
        row.setdefault("notes", []).append(scores.reason)
