"""Stage 2b, a candidate against human annotations: a 2-D candidate's keypoints on the annotated video compared
with the consensus of the trial's raters (manifest ``annotations``, docs/manifest.md), and each rater with the
consensus of the other raters, so that the study can say whether the model is within the raters' own spread.

:func:`score_annotations` takes the trial (its ``annotations`` reference and videos), the candidate side and the
index of the video the candidate analysed, and returns a typed :class:`harness.results.TrialAnnotationScores`
(the row's ``annotation_scores``). It never raises for bad annotations: a file that cannot be read or matched
makes the scores ``failed`` with the reason, and the trial's KPIs still count.

Definitions (one each; the functions they call cite their sources):

- raters' consensus: per frame, person and keypoint, the coordinate-wise median of the raters who labelled it,
  after matching the raters' persons by OKS (:func:`harness.annotations.consensus.consensus`,
  :func:`~harness.annotations.consensus.match_persons`); the subject is, per frame, the consensus person
  closest to the candidate's keypoints (the only person when there is one);
- frames: an annotated frame's time is the video's packet timestamp of its frame number
  (:func:`candidates.annotations.frames.attach_video_times`); the candidate's ``times_s`` are the same video's
  frame times, so a frame matches the candidate frame nearest in time within half the median frame interval;
  annotated frames without a match (no frame number, beyond the video, a frame the candidate did not output) are
  counted, never scored;
- person scale ``s``: ``sqrt(w * h)`` of the bounding box of the consensus keypoints
  (:func:`~harness.annotations.keypoint_metrics.person_scale`); PCK counts a keypoint as correct when its distance
  is below ``pck × s`` (:func:`~harness.annotations.keypoint_metrics.pck_correct`, as the inter-rater statistics);
- person height in the image ``H``: the longer side of that bounding box
  (:func:`~harness.annotations.keypoint_metrics.reference_length`, ``kind="bbox"``): for a standing subject the
  span from the highest face keypoint to the lowest foot keypoint, shorter than the body's height (no keypoint
  marks the top of the head or the sole); errors are also given in % of ``H``;
- OKS per keypoint: COCO's keypoint similarity ``exp(-d² / (2 s² κ²))``, ``κ = 2σ`` with COCO's σ
  (:func:`~harness.annotations.keypoint_metrics.keypoint_similarity`, ``coco_sigmas``); a keypoint COCO gives no σ
  (BlazePose's heels, foot index, hands) has no OKS; a point the scored source did not give scores 0;
- the raters' own spread: each rater against the consensus of the *other* raters (leave-one-out), on the frames
  that rater labelled; the candidate is scored against the same leave-one-out consensus on the same frames
  (``reference`` = "consensus of the other raters"), so both carry the same reference noise and their ratio is 1
  for a model exactly as good as a rater. The candidate's headline scores are against the consensus of all raters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from candidates.skeletons import SCHEMAS, convert_keypoints
from ground_truth.kernel import InputError, StancebenchError
from harness.annotations.consensus import CONSENSUS_METHOD, consensus, labelled_rows, match_persons
from harness.annotations.keypoint_metrics import (coco_sigmas, keypoint_distance, keypoint_similarity,
                                                  labelled_mask, pck_correct, person_scale, reference_length)
from harness.annotations.reference import HEIGHT_METHOD, rater_points, read_reference_sets
from harness.results.annotations import REFERENCE_ALL, REFERENCE_OTHERS, KeypointScore, TrialAnnotationScores

OKS_SOURCE = "COCO's per-keypoint sigmas (pycocotools cocoeval.py kpt_oks_sigmas); s = person scale"


def score_annotations(trial: dict, cand, view_index: int | None, *, memo: dict | None = None
                      ) -> TrialAnnotationScores:
    """A candidate's keypoints against the trial's annotations (see the module notes).

    Parameters
    ----------
    trial : dict
        The task's trial (``harness.manifest.Trial`` as a dict) with its ``annotations`` reference.
    cand : harness.pipeline.sides.CandidateSide
        The candidate side (its 2-D ``track`` on the candidate's clock = the video's frame times).
    view_index : int or None
        The video the candidate analysed; None for a triangulated candidate.
    memo : dict, optional
        The trial's memo (:func:`harness.pipeline.trial.run_trial`'s ``references``): the files are read once
        for all the candidates of the trial.

    Returns
    -------
    TrialAnnotationScores
        ``status`` ok, skipped (with the reason) or failed (the annotations could not be read or matched).
    """
    ref = trial["annotations"]
    index = int(ref.get("video") or 0)
    video = Path(trial["video"][index])
    view = ref.get("camera_name") or f"video {index + 1}"
    out = TrialAnnotationScores(video=str(video), view=view, files=[str(f) for f in ref["files"]],
                                pck_threshold=float(ref["pck"]), consensus_method=CONSENSUS_METHOD,
                                person_height_method=HEIGHT_METHOD, oks_constants_source=OKS_SOURCE)
    track = getattr(cand, "track", None)
    if view_index is None or getattr(cand, "triangulated", False):
        return _skip(out, "a triangulated (3-D) candidate has no 2-D keypoints on one video to compare with "
                          "annotations of one video")
    if view_index != index:
        return _skip(out, f"the annotations label {view} (video {index + 1}); this candidate analysed video "
                          f"{view_index + 1}")
    if track is None or np.asarray(track.keypoints).shape[-1] != 2:
        return _skip(out, "the candidate gave no 2-D keypoints of the video (3-D keypoints cannot be compared with "
                          "image annotations)")
    try:
        _score(out, _reference(trial, ref, video, memo), track)
    except StancebenchError as exc:
        out.status, out.reason = "failed", f"annotations: {exc}"
        out.scores = []
    return out


def _reference(trial: dict, ref: dict, video: Path, memo: dict | None) -> "_Reference":
    """The trial's annotations read and prepared once for all its candidates (a read error is kept and raised
    for every candidate)."""
    key = ("annotations", trial.get("id"), str(video))
    if memo is None:
        return _Reference.build(read_reference_sets(ref, video))
    if key not in memo:
        try:
            memo[key] = _Reference.build(read_reference_sets(ref, video))
        except StancebenchError as exc:
            memo[key] = exc
    if isinstance(memo[key], StancebenchError):
        raise memo[key]
    return memo[key]


def _skip(out: TrialAnnotationScores, reason: str) -> TrialAnnotationScores:
    out.status, out.reason = "skipped", reason
    return out


# ------------------------------------------------------------------------------------------------ matching
def match_frames(item_times: np.ndarray, frame_times: np.ndarray) -> tuple[np.ndarray, float]:
    """Index of the candidate frame matched to each annotated item (-1: none), and the tolerance (s).

    An item matches the frame nearest in time when they are at most half the median frame interval apart: the
    candidate's times are the same video's frame times, so a frame of the video matches itself exactly and a
    time between two frames matches neither unless it is closer than half an interval to one.
    """
    t = np.asarray(frame_times, float)
    q = np.asarray(item_times, float)
    idx = np.full(q.size, -1)
    if t.size == 0:
        return idx, float("nan")
    tol = 0.5 * float(np.median(np.diff(t))) if t.size > 1 else float("inf")
    ok = np.isfinite(q)
    pos = np.clip(np.searchsorted(t, q[ok]), 1, max(t.size - 1, 1))
    left, right = t[pos - 1], t[np.minimum(pos, t.size - 1)]
    best = np.where(np.abs(q[ok] - left) <= np.abs(right - q[ok]), pos - 1, np.minimum(pos, t.size - 1))
    # a tolerance of exactly half an interval: a rounding error of the container's time base must not unmatch
    close = np.abs(t[best] - q[ok]) <= tol * (1 + 1e-9)
    idx[np.flatnonzero(ok)[close]] = best[close]
    return idx, tol


# ------------------------------------------------------------------------------------------------- scoring
Lookup = dict[tuple[str, str], dict[str, tuple[float, float, int]]]


def _lookup(table: pd.DataFrame) -> Lookup:
    """(item, person) -> {keypoint: (x, y, visibility)} of a points or consensus table."""
    out: Lookup = {}
    cols = [table[c].astype(str).to_numpy() for c in ("item", "person", "keypoint")]
    xy = table[["x", "y"]].to_numpy(float)
    vis = table["visibility"].to_numpy(int)
    for item, person, kp, (x, y), v in zip(*cols, xy, vis):
        out.setdefault((item, person), {})[kp] = (x, y, int(v) if np.isfinite(x) and np.isfinite(y) else 0)
    return out


def _arrays(look: Lookup, items: list[str], persons: list[str | None], names: list[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """xy (M, K, 2) and visibility (M, K) of the chosen person of each item."""
    xy = np.full((len(items), len(names), 2), np.nan)
    vis = np.zeros((len(items), len(names)), dtype=np.int8)
    for m, key in enumerate(zip(items, persons)):
        pts = look.get(key, {}) if key[1] is not None else {}
        for j, name in enumerate(names):
            if name in pts:
                xy[m, j], vis[m, j] = pts[name][:2], pts[name][2]
    return xy, vis


def _subjects(look: Lookup, items: list[str], cand_xy: np.ndarray, names: list[str], notes: list[str]
              ) -> list[str | None]:
    """Per item the consensus person taken as the subject: the only one, else the closest to the candidate."""
    persons_of: dict[str, list[str]] = {}
    for item, person in look:
        persons_of.setdefault(item, []).append(person)
    chosen: list[str | None] = []
    several = 0
    for m, item in enumerate(items):
        persons = persons_of.get(item, [])
        if len(persons) > 1:
            several += 1
            cost = []
            for p in persons:
                xy, _ = _arrays(look, [item], [p], names)
                d = np.linalg.norm(xy[0] - cand_xy[m], axis=-1)
                cost.append(float(np.nanmedian(d)) if np.isfinite(d).any() else np.inf)
            best = int(np.argmin(cost)) if np.isfinite(cost).any() else \
                int(np.argmax([len(look[(item, p)]) for p in persons]))
            persons = [persons[best]]
        chosen.append(persons[0] if persons else None)
    if several:
        notes.append(f"{several} annotated frame(s) hold several persons: the one closest to the candidate's "
                     f"keypoints was taken as the subject")
    return chosen


def _keypoint_scores(names, source, reference, gt, vis, dt, scale, height, pck, sigmas) -> list[KeypointScore]:
    """Per keypoint: PCK and OKS over the labelled reference points, errors over the points both have."""
    lab = labelled_mask(gt, vis) & np.isfinite(scale)[:, None]
    d = keypoint_distance(gt, dt)
    hit = pck_correct(gt, np.where(lab, vis, 0), dt, scale, pck)
    ks = np.where(np.isfinite(d), keypoint_similarity(d, scale, np.nan_to_num(sigmas, nan=1.0)), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * d / height[:, None]
    rows = []
    for j, name in enumerate(names):
        n = int(lab[:, j].sum())
        if n == 0:
            continue
        scored = lab[:, j] & np.isfinite(d[:, j])
        ns = int(scored.sum())
        pct_ok = scored & np.isfinite(pct[:, j])
        rows.append(KeypointScore(
            keypoint=name, source=source, reference=reference, n_frames=n, n_scored=ns, n_missing=n - ns,
            pck=float(np.nanmean(hit[lab[:, j], j])),
            oks=float(np.mean(ks[lab[:, j], j])) if np.isfinite(sigmas[j]) else None,
            error_px=float(np.mean(d[scored, j])) if ns else None,
            error_pct_height=float(np.mean(pct[pct_ok, j])) if pct_ok.any() else None))
    return rows


def _pool(rows: list[KeypointScore]) -> list[KeypointScore]:
    """Several comparisons of one source and keypoint (one per left-out rater) as one frame-weighted row."""
    out: dict[str, list[KeypointScore]] = {}
    for r in rows:
        out.setdefault(r.keypoint, []).append(r)

    def mean(rs, attr, weight):
        w = np.array([getattr(r, weight) for r in rs if getattr(r, attr) is not None], float)
        v = np.array([getattr(r, attr) for r in rs if getattr(r, attr) is not None], float)
        return float(np.sum(w * v) / np.sum(w)) if w.size and np.sum(w) > 0 else None

    pooled = []
    for name, rs in out.items():
        pooled.append(KeypointScore(
            keypoint=name, source=rs[0].source, reference=rs[0].reference, n_frames=sum(r.n_frames for r in rs),
            n_scored=sum(r.n_scored for r in rs), n_missing=sum(r.n_missing for r in rs),
            pck=mean(rs, "pck", "n_frames"), oks=mean(rs, "oks", "n_frames"), error_px=mean(rs, "error_px", "n_scored"),
            error_pct_height=mean(rs, "error_pct_height", "n_scored")))
    return pooled


@dataclass
class _Reference:
    """A trial's annotations made ready for scoring, independent of the candidate: the raters' labelled points
    with persons matched across raters, the consensus of all raters and, per rater, the consensus of the others
    and that rater's own points (as lookups), and the frame time of each annotated item."""

    raters: list[str]
    schema: str | None
    keypoints: list[str]                 # labelled keypoint names, in first-seen order
    items: list[str]                     # annotated items with a labelled point, in first-seen order
    times: np.ndarray                    # their frame times (s, video clock), NaN when unknown
    all_raters: Lookup
    others: dict[str, Lookup] = field(default_factory=dict)
    own: dict[str, Lookup] = field(default_factory=dict)
    rater_items: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, sets: list) -> "_Reference":
        points, items_table, notes = rater_points(sets)
        labelled = points[labelled_rows(points)]
        if labelled.empty:
            raise InputError("the annotation files hold no labelled keypoint", field="annotations",
                             expected="keypoints labelled with visibility 1 or 2")
        matched, _ = match_persons(labelled)
        matched = matched.assign(annotator=matched["annotator"].astype(str), item=matched["item"].astype(str))
        raters = sorted(set(matched["annotator"]))
        items = list(dict.fromkeys(matched["item"]))
        times = items_table.assign(item=items_table["item"].astype(str)).set_index("item")["time_s"]
        ref = cls(raters, next((s.schema for s in sets if s.schema), None),
                  list(dict.fromkeys(matched["keypoint"].astype(str))), items,
                  times.reindex(items).to_numpy(float), _lookup(consensus(matched, match=False)), notes=notes)
        if len(raters) >= 2:
            for r in raters:
                mine = matched["annotator"] == r
                ref.others[r] = _lookup(consensus(matched[~mine], match=False))
                ref.own[r] = _lookup(matched[mine])
                ref.rater_items[r] = set(matched.loc[mine, "item"])
        return ref


def _score(out: TrialAnnotationScores, ref: _Reference, track) -> None:
    """Fill ``out`` from the trial's prepared annotations and the candidate's track (InputError when nothing can
    be scored)."""
    out.notes += ref.notes
    out.raters = list(ref.raters)
    cand_names = list(SCHEMAS[track.schema])
    cand_xy = np.asarray(track.keypoints, float)
    if ref.schema is not None and ref.schema != track.schema:
        # the candidate's keypoints under the annotations' schema; names the candidate's schema lacks are NaN
        cand_xy = convert_keypoints(cand_xy, track.schema, ref.schema)
        cand_names = list(SCHEMAS[ref.schema])
    names = [k for k in cand_names if k in ref.keypoints and k in SCHEMAS[track.schema]]
    out.keypoints_compared = names
    out.keypoints_not_in_candidate = [k for k in ref.keypoints if k not in names]
    if not names:
        raise InputError(f"no annotated keypoint ({', '.join(ref.keypoints[:6])}) is a {track.schema} keypoint of "
                         f"the candidate", field="annotations_mapping",
                         expected="annotations mapped to the candidate's keypoint names (a mapping TOML)")
    frame_of, tol = match_frames(ref.times, np.asarray(track.times_s, float))
    out.n_annotated_frames, out.match_tolerance_s = len(ref.items), tol
    out.n_matched_frames = int((frame_of >= 0).sum())
    out.n_unmatched_frames = len(ref.items) - out.n_matched_frames
    if out.n_unmatched_frames:
        out.notes.append(f"{out.n_unmatched_frames} annotated frame(s) have no candidate frame within "
                         f"{1000 * tol:.1f} ms on the video clock (no frame number, beyond the video, or not in "
                         f"the candidate's output): not scored")
    if out.n_matched_frames == 0:
        raise InputError(f"none of the {len(ref.items)} annotated frame(s) matches a frame of the candidate's "
                         f"track", field="annotations",
                         expected="frames of the annotated video (file names or frame numbers that are frames of it)")
    keep = frame_of >= 0
    items = [it for it, k in zip(ref.items, keep) if k]
    dt_xy = cand_xy[frame_of[keep]][:, [cand_names.index(k) for k in names]]
    subject = _subjects(ref.all_raters, items, dt_xy, names, out.notes)
    full_xy, full_vis = _arrays(ref.all_raters, items, subject, ref.keypoints)
    scale = person_scale(full_xy, full_vis)
    height = reference_length(full_xy, full_vis, kind="bbox")
    out.person_height_px = float(np.nanmedian(height)) if np.isfinite(height).any() else None
    sel = [ref.keypoints.index(k) for k in names]
    sigmas = coco_sigmas(names)
    out.oks_constants = {k: float(s) for k, s in zip(names, sigmas) if np.isfinite(s)}
    pck = float(out.pck_threshold)
    scores = _keypoint_scores(names, "candidate", REFERENCE_ALL, full_xy[:, sel], full_vis[:, sel], dt_xy, scale,
                              height, pck, sigmas)
    if len(ref.raters) < 2:
        out.notes.append("one rater: the candidate is scored against that rater's points; there is no raters' own "
                         "spread to compare it with")
        out.scores = scores
        return
    cand_loo, rater_rows = [], []
    for r in ref.raters:
        mine = np.isin(items, list(ref.rater_items[r]))
        if not mine.any():
            continue
        o_xy, o_vis = _arrays(ref.others[r], items, subject, names)
        r_xy, _ = _arrays(ref.own[r], items, subject, names)
        o_vis = np.where(mine[:, None], o_vis, 0)
        cand_loo += _keypoint_scores(names, "candidate", REFERENCE_OTHERS, o_xy, o_vis, dt_xy, scale, height, pck,
                                     sigmas)
        rater_rows += _keypoint_scores(names, r, REFERENCE_OTHERS, o_xy, o_vis, r_xy, scale, height, pck, sigmas)
    out.scores = scores + _pool(cand_loo) + rater_rows
