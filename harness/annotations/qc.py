"""Quality control of keypoint annotations against a labelling guideline (:mod:`.guideline`).

``run_qc(sets, guideline)`` runs every rule of the guideline on every :class:`AnnotationSet` and returns a
:class:`QCResult`: a tidy table of findings (one row per defect, naming file, item, frame, annotator, person and
keypoint) and one verdict per rule, a :class:`harness.gates.GateVerdict` with the gates' semantics (pass / fail /
error / not-evaluable; a blocking rule that fails, errs, or has nothing to examine without ``allow_missing``
blocks; :func:`harness.gates.exit_code` gives 1 when any verdict blocks).

Definitions shared by the rules (one measure each, used everywhere)
-------------------------------------------------------------------
labelled point
    visibility >= 1 (COCO's v=1 or v=2) with finite coordinates.
person
    the points of one (annotator, item, person) in one file.
person size ``s``
    the square root of the area of the bounding box of the person's labelled points, ``sqrt(w * h)``. COCO's OKS
    uses ``s = sqrt(area)`` of the person's segment (cocoeval.py, ``computeOks``); annotations without a segment
    offer only their keypoints, and their box is the standard stand-in. NaN with fewer than two labelled points or
    a box of zero area; rules that need it skip that person and say how many they skipped.
track
    the persons of one (file, annotator, person id) over the items that carry a frame number, in frame order; a
    *step* joins two consecutive labelled frames of a track (``max_gap`` limits how far apart they may be). Two
    items of one track with the same frame number (items from different videos) make no step and are counted.
body axis
    from the mid-hip to the mid-shoulder point when both shoulders and both hips are labelled, else image-up
    ``(0, -1)`` (the subjects of a balance assessment stand).

The rule kinds (parameters and defaults in :data:`harness.annotations.guideline.KINDS`)
-----------------------------------------------------------------------------------
required-keypoints
    every person with at least ``min_labelled`` labelled points has each listed keypoint at visibility >=
    ``min_visibility``. Unit: a required point of a person.
visibility
    visibility values in ``allowed``; a labelled point has coordinates (``require_coordinates``); values listed in
    ``forbidden`` for a keypoint (e.g. ``{ nose = [1] }``) do not occur. Unit: a point.
left-right-swap-geometry
    In the image, the 2-D cross product ``c = a × (L - R)`` of the unit body axis ``a`` and the vector from the
    right to the left point of a pair is positive when the person's left lies on the image's right of the axis
    (the person faces the camera) and negative when the person faces away, whatever the body's roll in the image.
    ``|c| / s`` is the pair's separation across the axis; pairs closer than ``min_separation`` (a profile view,
    feet together) are not judged. The facing direction is taken, in this order, from (1) the torso: the
    shoulder and the hip pairs both judged and of one sign (a labeller rarely exchanges both torso pairs and not
    the limbs); (2) the face (``use_face``), where the torso does not tell: a visible (v=2) nose, eye or mouth
    point means facing the camera, visible ears with none of those means facing away (points hidden by the head
    are not visible, in COCO's and CVAT's conventions); it breaks the tie when one torso pair is exchanged;
    (3) the majority of the judged pairs when it leads by at least two. Persons with no facing are not judged.
    A pair whose sign differs from the facing is a finding. A person whose face and torso both tell, and
    disagree, is one finding about the whole body (``face_torso_conflict``): either every left/right label of
    the body is exchanged (the commonest mirror error, invisible to the pairs alone) or the head is turned over
    the shoulder, which a reviewer settles. The head is second to the torso because it turns on the torso by up
    to about 80°. Unit: a judged pair of a person, plus a person whose face and torso both tell. Limits: a
    whole-body swap without a visible face is indistinguishable from a person facing the other way (the
    temporal rule finds it when it starts or ends inside a track); crossed legs are genuine wrong-side poses.
left-right-swap-temporal
    For a step from frame i to j and a pair (L, R) labelled and at least ``min_separation`` person sizes apart in
    both frames, the displacement of the kept assignment ``|L_j - L_i| + |R_j - R_i|`` is compared with that of the
    exchanged one ``|L_j - R_i| + |R_j - L_i|`` (the nearest-neighbour assignment cost of tracking). The step
    exchanges the pair when the exchanged cost is below ``max_ratio`` × the kept one. Along a chain of such steps
    each frame gets a parity (number of exchanges since the chain's first frame, mod 2); the frames whose parity
    is in the minority are the swapped ones (a tie is read in favour of the chain's first frame). One swapped
    frame in the middle of a track is one finding. Unit: a pair-frame of a chain.
bone-length
    For each bone (default :data:`candidates.skeletons.BONES`) and track with at least ``min_frames`` frames
    where the bone is labelled, ``|L - median(L)| / median(L) > max_change`` is a finding. Limit: foreshortening
    changes 2-D lengths (a knee raised toward the camera), so the threshold is generous. Unit: a bone-frame.
outside-image
    a labelled point further than ``tolerance_px`` outside ``[0, width] × [0, height]`` (pixel edges: CVAT, COCO
    and Labelbox measure from the top-left corner of the top-left pixel). Unit: a labelled point of an item of
    known size.
duplicate-persons
    two persons of one item and annotator whose OKS (cocoeval.py ``computeOks``: mean over their common labelled
    keypoints of ``exp(-d² / (2 s² κ²))``, ``κ = 2σ``, COCO's per-keypoint σ, ``s²`` the mean of the two persons'
    box areas) is at least ``min_oks`` (0.9: the OKS-NMS threshold of pose estimators such as mmpose's
    ``oks_nms``). Unit: a pair of persons with ``min_common`` common keypoints.
frames-beyond-video
    an item with a frame number ``>= frame_count`` (or below 0); past the last frame the export declares
    (``use_export_range``: CVAT's ``stop_frame`` when the file holds one task, ``meta["tasks"]``); or, when a video
    was given, whose frame has no time on the video's clock (:func:`candidates.annotations.frames.
    attach_video_times`, ``meta["video"]``). Unit: a labelled (annotator, frame).
sudden-jump
    a keypoint's displacement over a step above ``k`` × the median displacement of that keypoint over the
    track's steps (at least ``min_steps`` of them) and above ``min_px``. Unit: a keypoint step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from candidates.annotations.model import AnnotationSet
from candidates.skeletons import SCHEMAS
from harness.gates import GateVerdict, exit_code, format_number

from .guideline import Guideline, QCRule

#: COCO's per-keypoint OKS constants σ (cocoeval.py, ``self.kpt_oks_sigmas``: [.26, .25, .25, .35, .35, .79, .79,
#: .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89] / 10), by keypoint name.
COCO_SIGMAS = dict(zip(SCHEMAS["coco17"], np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07,
                                                    1.07, .87, .87, .89, .89]) / 10.0))

#: Columns (and dtypes) of :attr:`QCResult.findings`.
FINDING_COLUMNS = {
    "file": "string", "item": "string", "frame": "Int64", "annotator": "string", "person": "string",
    "keypoint": "string",   # the keypoint, a bone "a-b", or "" for a finding about a whole person or frame
    "rule_id": "string", "kind": "string", "severity": "string", "message": "string",
    "value": "float64",     # the measured quantity the message states (see each kind)
}

#: The front of the face: visible means the person faces the camera.
_FACE_FRONT = ("nose", "left_eye", "right_eye", "left_eye_inner", "left_eye_outer", "right_eye_inner",
               "right_eye_outer", "mouth_left", "mouth_right")
_EARS = ("left_ear", "right_ear")
_CANDIDATE = "annotations"


# ------------------------------------------------------------------------------------------------ person arrays
@dataclass
class _Persons:
    """The points of one set as arrays: one row per (annotator, item, person), one column per keypoint."""

    file: str
    schema: str | None
    video: str | None
    stop_frame: int | None        # the last frame the export declares (CVAT's stop_frame of its one task)
    keys: pd.DataFrame            # annotator, item, person, frame (float, NaN for an image), width, height, time_s
    names: list[str]
    x: np.ndarray                 # (P, K) pixels, NaN when absent or not labelled
    y: np.ndarray
    v: np.ndarray                 # (P, K) visibility as float, NaN when the file has no row for that point
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.col = {n: i for i, n in enumerate(self.names)}
        self.labelled = (self.v >= 1) & np.isfinite(self.x) & np.isfinite(self.y)
        self.size = _person_size(self.x, self.y, self.labelled)
        self.frame = self.keys["frame"].to_numpy(dtype=float)
        self.steps, self.gaps, self.same_frame = _steps(self.keys, self.frame)

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y and the labelled mask of one keypoint for every person (all NaN / False when absent)."""
        if name not in self.col:
            nan = np.full(len(self.keys), np.nan)
            return nan, nan, np.zeros(len(self.keys), bool)
        k = self.col[name]
        return self.x[:, k], self.y[:, k], self.labelled[:, k]

    def steps_within(self, max_gap: int | None) -> np.ndarray:
        return self.steps if max_gap is None else self.steps[self.gaps <= max_gap]


def _person_size(x: np.ndarray, y: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    size = np.full(len(x), np.nan)
    n = labelled.sum(axis=1)
    ok = n >= 2
    if ok.any():
        xm = np.where(labelled, x, np.nan)[ok]
        ym = np.where(labelled, y, np.nan)[ok]
        area = (np.nanmax(xm, 1) - np.nanmin(xm, 1)) * (np.nanmax(ym, 1) - np.nanmin(ym, 1))
        size[ok] = np.where(area > 0, np.sqrt(np.maximum(area, 0)), np.nan)
    return size


def _steps(keys: pd.DataFrame, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(S, 2) person indices of consecutive frames of each track, their frame gaps, and the same-frame count."""
    idx = np.flatnonzero(np.isfinite(frame))
    if len(idx) < 2:
        return np.zeros((0, 2), int), np.zeros(0), 0
    sub = keys.iloc[idx]
    order = np.lexsort((frame[idx], sub["person"].to_numpy(dtype=object).astype(str),
                        sub["annotator"].to_numpy(dtype=object).astype(str)))
    idx = idx[order]
    ann = keys["annotator"].to_numpy(dtype=object)[idx]
    per = keys["person"].to_numpy(dtype=object)[idx]
    same_track = (ann[1:] == ann[:-1]) & (per[1:] == per[:-1])
    gaps = frame[idx[1:]] - frame[idx[:-1]]
    keep = same_track & (gaps > 0)
    same_frame = int(np.count_nonzero(same_track & (gaps == 0)))
    return np.column_stack([idx[:-1], idx[1:]])[keep], gaps[keep], same_frame


def _persons(s: AnnotationSet) -> _Persons:
    notes: list[str] = []
    p = s.points
    dup = p.duplicated(["annotator", "item", "person", "keypoint"])
    if dup.any():
        notes.append(f"{int(dup.sum())} point(s) repeat a keypoint of one person; the first of each was used")
        p = p[~dup]
    keys = p[["annotator", "item", "person"]].drop_duplicates().reset_index(drop=True)
    pid = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(p[["annotator", "item", "person"]]))
    kcodes, knames = pd.factorize(p["keypoint"].astype(str))
    shape = (len(keys), len(knames))
    x, y, v = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    x[pid, kcodes] = p["x"].to_numpy(dtype=float)
    y[pid, kcodes] = p["y"].to_numpy(dtype=float)
    v[pid, kcodes] = p["visibility"].to_numpy(dtype=float)
    items = s.items.set_index("item")
    for col in ("frame", "width", "height", "time_s"):
        keys[col] = keys["item"].map(items[col].astype("float64")).astype(float)
    video = s.meta.get("video")
    tasks = s.meta.get("tasks") or []
    stops = [t.get("stop_frame") for t in tasks if isinstance(t, dict)]
    stop = stops[0] if len(stops) == 1 and isinstance(stops[0], int) else None
    return _Persons(str(s.source), s.schema, None if video is None else str(video), stop, keys, list(knames), x, y,
                    v, notes)


# ---------------------------------------------------------------------------------------------------- findings
@dataclass
class _Outcome:
    findings: list[dict[str, Any]] = field(default_factory=list)
    examined: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def _finding(ps: _Persons, i: int, keypoint: str, message: str, value: float) -> dict[str, Any]:
    k = ps.keys
    frame = ps.frame[i]
    return {"file": ps.file, "item": str(k.at[i, "item"]), "frame": None if math.isnan(frame) else int(frame),
            "annotator": str(k.at[i, "annotator"]), "person": str(k.at[i, "person"]), "keypoint": keypoint,
            "message": message, "value": float(value)}


def _fmt(x: float) -> str:
    return format_number(float(x))


def _frame_name(ps: _Persons, i: int) -> str:
    f = ps.frame[i]
    return f"item {ps.keys.at[i, 'item']}" if math.isnan(f) else f"frame {int(f)}"


_VIS_WORDS = {0: "not labelled (v=0)", 1: "labelled, not visible (v=1)", 2: "visible (v=2)"}


def _vis_word(v: float) -> str:
    if math.isnan(v):
        return "absent from the file"
    return _VIS_WORDS.get(int(v), f"visibility {int(v)}")


# ------------------------------------------------------------------------------------------------------- rules
def _required(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    kps = rule.params["keypoints"]
    minv = rule.params["min_visibility"]
    if ps.schema in SCHEMAS:
        foreign = [k for k in kps if k not in SCHEMAS[ps.schema]]
        if foreign:
            out.error = (f"{ps.file}: required keypoint(s) {', '.join(foreign)} not in its schema {ps.schema}, "
                         f"so no person of this file can have them")
            return out
    elif not any(k in ps.col for k in kps):
        out.notes.append(f"{ps.file}: none of the required keypoints occurs (names not mapped to a schema? "
                         f"pass --mapping)")
        return out
    checked = ps.labelled.sum(axis=1) >= rule.params["min_labelled"]
    skipped = int(np.count_nonzero(~checked))
    if skipped:
        out.notes.append(f"{ps.file}: {skipped} person(s) with fewer than {rule.params['min_labelled']} labelled "
                         f"point(s) not checked")
    need = "visible (v=2)" if minv == 2 else "labelled (v >= 1)"
    for kp in kps:
        v = ps.v[:, ps.col[kp]] if kp in ps.col else np.full(len(ps.keys), np.nan)
        missing = checked & ~(v >= minv)
        for i in np.flatnonzero(missing):
            out.findings.append(_finding(ps, i, kp, f"{kp} {_vis_word(v[i])}; the guideline requires it {need}",
                                         v[i]))
    out.examined = int(np.count_nonzero(checked)) * len(kps)
    return out


def _visibility(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    allowed = rule.params["allowed"]
    forbidden = rule.params["forbidden"]
    present = ~np.isnan(ps.v)
    out.examined = int(np.count_nonzero(present))
    if not out.examined:
        out.notes.append(f"{ps.file}: no points")
    for i, k in zip(*np.nonzero(present)):
        v, name = ps.v[i, k], ps.names[k]
        why = []
        if int(v) not in allowed:
            why.append(f"visibility {int(v)} is not allowed (allowed: {', '.join(map(str, allowed))})")
        if rule.params["require_coordinates"] and v >= 1 and not (np.isfinite(ps.x[i, k]) and np.isfinite(ps.y[i, k])):
            why.append(f"{_vis_word(v)} but has no coordinates (a labelled point needs them)")
        if name in forbidden and int(v) in forbidden[name]:
            why.append(f"v={int(v)} is not allowed for {name} (forbidden: {', '.join(map(str, forbidden[name]))})")
        if why:
            out.findings.append(_finding(ps, i, name, f"{name}: " + "; ".join(why), v))
    return out


def _body_axis(ps: _Persons) -> np.ndarray:
    """(P, 2) unit vectors from the mid-hip to the mid-shoulder point; image-up where those are not labelled."""
    parts = [ps.xy(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    ok = parts[0][2] & parts[1][2] & parts[2][2] & parts[3][2]
    ax = (parts[0][0] + parts[1][0] - parts[2][0] - parts[3][0]) / 2
    ay = (parts[0][1] + parts[1][1] - parts[2][1] - parts[3][1]) / 2
    norm = np.hypot(ax, ay)
    ok &= norm > 0
    axis = np.tile([0.0, -1.0], (len(ps.keys), 1))
    axis[ok] = np.column_stack([ax[ok], ay[ok]]) / norm[ok, None]
    return axis


def _across(ps: _Persons, axis: np.ndarray, base: str) -> np.ndarray:
    """Signed separation of a pair across the body axis, in person sizes (positive: left on the person's left
    for a person facing the camera); NaN where either point is not labelled or the size is unknown."""
    lx, ly, lok = ps.xy(f"left_{base}")
    rx, ry, rok = ps.xy(f"right_{base}")
    cross = axis[:, 0] * (ly - ry) - axis[:, 1] * (lx - rx)
    return np.where(lok & rok, cross / ps.size, np.nan)


def _face_facing(ps: _Persons) -> np.ndarray:
    front = [ps.col[n] for n in _FACE_FRONT if n in ps.col]
    ears = [ps.col[n] for n in _EARS if n in ps.col]
    facing = np.zeros(len(ps.keys))
    if not front:
        return facing
    seen_front = (ps.v[:, front] == 2).any(axis=1)
    seen_ears = (ps.v[:, ears] == 2).any(axis=1) if ears else np.zeros(len(ps.keys), bool)
    facing[seen_front] = 1.0
    facing[~seen_front & seen_ears] = -1.0
    return facing


def _swap_geometry(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    pairs = rule.params["pairs"]
    min_sep = rule.params["min_separation"]
    axis = _body_axis(ps)
    sep = {b: _across(ps, axis, b) for b in set(pairs) | {"shoulder", "hip"}}
    judged = {b: np.abs(sep[b]) >= min_sep for b in sep}   # NaN compares False
    sign = {b: np.sign(np.nan_to_num(sep[b])) for b in sep}
    n = len(ps.keys)
    # 1. the torso: both of its pairs wide enough and of one sign
    torso = judged["shoulder"] & judged["hip"] & (sign["shoulder"] == sign["hip"])
    facing = np.where(torso, sign["shoulder"], 0.0)
    source = np.where(torso, "the torso", "").astype(object)
    # 2. the face, where the torso does not tell
    face = _face_facing(ps) if rule.params["use_face"] else np.zeros(n)
    by_face = (facing == 0) & (face != 0)
    facing[by_face] = face[by_face]
    source[by_face] = "the face"
    # 3. a clear majority of the pairs
    plus = sum(judged[b] & (sign[b] > 0) for b in pairs)
    minus = sum(judged[b] & (sign[b] < 0) for b in pairs)
    major = (facing == 0) & (np.abs(plus - minus) >= 2)
    facing[major] = np.sign(plus - minus)[major]
    source[major] = "the majority of the pairs"
    any_judged = sum(judged[b] for b in pairs) > 0
    undecided = int(np.count_nonzero(any_judged & (facing == 0)))
    if undecided:
        out.notes.append(f"{ps.file}: {undecided} person(s) not judged: facing direction unknown (torso pairs "
                         f"disagreeing or too narrow, no visible face, no clear majority of the pairs)")
    no_size = int(np.count_nonzero(np.isnan(ps.size) & (ps.labelled.sum(axis=1) > 0)))
    if no_size:
        out.notes.append(f"{ps.file}: {no_size} person(s) without a size (fewer than 2 labelled points) not judged")
    if not any_judged.any() and not no_size:
        out.notes.append(f"{ps.file}: no person has a left/right pair of {', '.join(pairs)} labelled "
                         f"{_fmt(min_sep)} person sizes apart or more")
    words = {1.0: "facing the camera", -1.0: "facing away"}
    if rule.params["use_face"] and rule.params["face_torso_conflict"]:
        both = torso & (face != 0)
        out.examined += int(np.count_nonzero(both))
        for i in np.flatnonzero(both & (face != sign["shoulder"])):
            out.findings.append(_finding(
                ps, i, "", f"the face says {words[face[i]]} but the shoulders and hips say {words[sign['shoulder'][i]]}"
                f": the whole body's left and right are exchanged, or the head is turned over the shoulder",
                face[i] * sign["shoulder"][i]))
    for b in pairs:
        ok = judged[b] & (facing != 0)
        out.examined += int(np.count_nonzero(ok))
        for i in np.flatnonzero(ok & (sign[b] != facing)):
            out.findings.append(_finding(
                ps, i, f"left_{b}",
                f"left_{b} is on the person's right of right_{b} across the body axis ({_fmt(abs(sep[b][i]))} person "
                f"sizes apart, at least {_fmt(min_sep)} judged) for a person {words[facing[i]]} (from "
                f"{source[i]})", sep[b][i] * facing[i]))
    return out


def _chains(ps: _Persons, steps: np.ndarray, decidable: np.ndarray) -> list[list[int]]:
    """Runs of consecutive decidable steps (indices into ``steps``) that link frame to frame."""
    chains: list[list[int]] = []
    for s in np.flatnonzero(decidable):
        if chains and steps[chains[-1][-1], 1] == steps[s, 0]:
            chains[-1].append(int(s))
        else:
            chains.append([int(s)])
    return chains


def _swap_temporal(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    steps = ps.steps_within(rule.params["max_gap"])
    if ps.same_frame:
        out.notes.append(f"{ps.file}: {ps.same_frame} pair(s) of items of one track share a frame number (items "
                         f"from different videos?); not compared")
    if not len(steps):
        out.notes.append(f"{ps.file}: no track has two labelled frames to compare")
        return out
    min_sep, max_ratio = rule.params["min_separation"], rule.params["max_ratio"]
    i, j = steps[:, 0], steps[:, 1]
    for b in rule.params["pairs"]:
        lx, ly, lok = ps.xy(f"left_{b}")
        rx, ry, rok = ps.xy(f"right_{b}")
        apart = lok & rok & (np.hypot(lx - rx, ly - ry) >= min_sep * ps.size)
        decidable = apart[i] & apart[j]
        keep = np.hypot(lx[j] - lx[i], ly[j] - ly[i]) + np.hypot(rx[j] - rx[i], ry[j] - ry[i])
        swap = np.hypot(lx[j] - rx[i], ly[j] - ry[i]) + np.hypot(rx[j] - lx[i], ry[j] - ly[i])
        exchanged = decidable & (swap < max_ratio * keep)
        for chain in _chains(ps, steps, decidable):
            frames = [int(steps[chain[0], 0])] + [int(steps[s, 1]) for s in chain]
            parity = np.concatenate([[0], np.cumsum(exchanged[chain]) % 2])
            out.examined += len(frames)
            ones = int(parity.sum())
            right = 1 if ones > len(parity) - ones else 0 if ones < len(parity) - ones else parity[0]
            wrong = parity != right
            if not wrong.any():
                continue
            # describe each run of swapped frames by the exchange that starts it (or ends it, at a chain's start)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], wrong.astype(int), [0]])))
            for start, stop in zip(edges[::2], edges[1::2]):
                s = chain[start - 1] if start > 0 else chain[stop - 1]
                ratio = swap[s] / keep[s] if keep[s] > 0 else 0.0
                f0, f1 = _frame_name(ps, frames[start]), _frame_name(ps, frames[stop - 1])
                c0, c1 = _frame_name(ps, frames[0]), _frame_name(ps, frames[-1])
                text = (f"left_{b} and right_{b} exchanged in {f0}" + (f" to {f1}" if stop - start > 1 else "") +
                        f" relative to the other {len(frames) - int(wrong.sum())} frame(s) of {c0} to {c1} of this "
                        f"track: from {_frame_name(ps, steps[s, 0])} to {_frame_name(ps, steps[s, 1])} the exchanged "
                        f"assignment moves {_fmt(swap[s])} px, the kept one {_fmt(keep[s])} px (ratio {_fmt(ratio)} "
                        f"< {_fmt(max_ratio)})")
                for f in frames[start:stop]:
                    out.findings.append(_finding(ps, f, f"left_{b}", text, ratio))
    return out


def _tracks(ps: _Persons) -> list[np.ndarray]:
    """Person indices of each track, in frame order."""
    has = np.flatnonzero(np.isfinite(ps.frame))
    if not len(has):
        return []
    sub = ps.keys.iloc[has][["annotator", "person"]].astype(str)
    groups = sub.groupby(["annotator", "person"], sort=True).indices
    return [has[g][np.argsort(ps.frame[has[g]], kind="stable")] for g in groups.values()]


def _bone_length(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    tracks = _tracks(ps)
    if not tracks:
        out.notes.append(f"{ps.file}: no item has a frame number (still images): no tracks")
        return out
    minv, max_change, min_frames = rule.params["min_visibility"], rule.params["max_change"], rule.params["min_frames"]
    bones = [(a, b) for a, b in rule.params["bones"] if a in ps.col and b in ps.col]
    if not bones:
        out.notes.append(f"{ps.file}: none of the bones' keypoints occurs (names not mapped to a schema?)")
        return out
    examined = False
    for a, b in bones:
        ka, kb = ps.col[a], ps.col[b]
        ok = ps.labelled[:, ka] & ps.labelled[:, kb] & (ps.v[:, ka] >= minv) & (ps.v[:, kb] >= minv)
        length = np.hypot(ps.x[:, ka] - ps.x[:, kb], ps.y[:, ka] - ps.y[:, kb])
        for track in tracks:
            idx = track[ok[track]]
            if len(idx) < min_frames:
                continue
            med = float(np.median(length[idx]))
            if med <= 0:
                continue
            examined = True
            out.examined += len(idx)
            rel = np.abs(length[idx] - med) / med
            for i, r in zip(idx[rel > max_change], rel[rel > max_change]):
                out.findings.append(_finding(
                    ps, i, f"{a}-{b}", f"bone {a}-{b} is {_fmt(length[i])} px, {_fmt(100 * r)}% away from the "
                    f"track's median {_fmt(med)} px (more than {_fmt(100 * max_change)}%)", r))
    if not examined:
        out.notes.append(f"{ps.file}: no track has a bone labelled in {min_frames} frames or more")
    return out


def _outside(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    tol = rule.params["tolerance_px"]
    w = ps.keys["width"].to_numpy(dtype=float)
    h = ps.keys["height"].to_numpy(dtype=float)
    if rule.params["width"] is not None:
        w = np.where(np.isnan(w), rule.params["width"], w)
    if rule.params["height"] is not None:
        h = np.where(np.isnan(h), rule.params["height"], h)
    sized = np.isfinite(w) & np.isfinite(h)
    unsized = int(np.count_nonzero(ps.labelled[~sized]))
    if unsized:
        out.notes.append(f"{ps.file}: {unsized} labelled point(s) in items of unknown size not checked (set width "
                         f"and height in the rule)")
    ok = ps.labelled & sized[:, None]
    out.examined = int(np.count_nonzero(ok))
    if not ps.labelled.any():
        out.notes.append(f"{ps.file}: no labelled points")
    beyond = np.maximum.reduce([-ps.x, ps.x - w[:, None], -ps.y, ps.y - h[:, None]])
    for i, k in zip(*np.nonzero(ok & (beyond > tol))):
        name = ps.names[k]
        out.findings.append(_finding(
            ps, i, name, f"{name} at ({_fmt(ps.x[i, k])}, {_fmt(ps.y[i, k])}) is {_fmt(beyond[i, k])} px outside the "
            f"{int(w[i])}×{int(h[i])} image (tolerance {_fmt(tol)} px)", beyond[i, k]))
    return out


def _duplicates(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    min_oks, min_common = rule.params["min_oks"], rule.params["min_common"]
    default = rule.params["default_sigma"] or float(np.mean(list(COCO_SIGMAS.values())))
    kappa2 = np.array([(2 * COCO_SIGMAS.get(n, default)) ** 2 for n in ps.names])
    no_size = 0
    groups = ps.keys.astype({"annotator": str, "item": str}).groupby(["annotator", "item"], sort=False).indices
    for idx in groups.values():
        for ai, a in enumerate(idx):
            for b in idx[ai + 1:]:
                common = ps.labelled[a] & ps.labelled[b]
                if common.sum() < min_common:
                    continue
                area = (ps.size[a] ** 2 + ps.size[b] ** 2) / 2
                if not area > 0:
                    no_size += 1
                    continue
                d2 = (ps.x[a] - ps.x[b]) ** 2 + (ps.y[a] - ps.y[b]) ** 2
                oks = float(np.mean(np.exp(-d2[common] / (2 * area * kappa2[common]))))
                out.examined += 1
                if oks >= min_oks:
                    out.findings.append(_finding(
                        ps, a, "", f"persons {ps.keys.at[a, 'person']} and {ps.keys.at[b, 'person']} coincide: OKS "
                        f"{_fmt(oks)} over {int(common.sum())} common keypoints (at least {_fmt(min_oks)} is a "
                        f"duplicate)", oks))
    if no_size:
        out.notes.append(f"{ps.file}: {no_size} pair(s) of persons without a size not compared")
    if not out.examined and not no_size:
        out.notes.append(f"{ps.file}: no item holds two persons of one annotator with {min_common} common "
                         f"labelled keypoints")
    return out


def _beyond_video(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    count = rule.params["frame_count"]
    stop = ps.stop_frame if rule.params["use_export_range"] else None
    if count is None and ps.video is None and stop is None:
        out.notes.append(f"{ps.file}: no video given, no frame_count in the rule and no last frame declared in the "
                         f"export: nothing to compare frames with")
        return out
    rows = np.flatnonzero(np.isfinite(ps.frame))
    if not len(rows):
        out.notes.append(f"{ps.file}: no item has a frame number")
        return out
    # one unit per (annotator, item): the persons of one labelled frame share its verdict
    first = ps.keys.iloc[rows].astype({"annotator": str, "item": str}).drop_duplicates(["annotator", "item"]).index
    out.examined = len(first)
    for i in first:
        f = int(ps.frame[i])
        why = []
        if count is not None and not 0 <= f < count:
            why.append(f"frame {f} is outside the {count} frames (0 to {count - 1}) the guideline declares")
        if stop is not None and f > stop:
            why.append(f"frame {f} is past the last frame {stop} the export declares (stop_frame)")
        if ps.video is not None and not np.isfinite(ps.keys.at[i, "time_s"]):
            why.append(f"frame {f} has no time in the video {ps.video} (beyond its last frame)")
        if why:
            out.findings.append(_finding(ps, i, "", "; ".join(why), f) | {"person": ""})
    return out


def _jumps(rule: QCRule, ps: _Persons) -> _Outcome:
    out = _Outcome()
    steps = ps.steps_within(rule.params["max_gap"])
    if ps.same_frame:
        out.notes.append(f"{ps.file}: {ps.same_frame} pair(s) of items of one track share a frame number (items "
                         f"from different videos?); not compared")
    if not len(steps):
        out.notes.append(f"{ps.file}: no track has two labelled frames to compare")
        return out
    k_times, min_px, min_steps = rule.params["k"], rule.params["min_px"], rule.params["min_steps"]
    i, j = steps[:, 0], steps[:, 1]
    track = pd.Series(ps.keys["annotator"].astype(str).to_numpy()[i] + "\x00" +
                      ps.keys["person"].astype(str).to_numpy()[i])
    for k, name in enumerate(ps.names):
        ok = ps.labelled[i, k] & ps.labelled[j, k]
        disp = np.hypot(ps.x[j, k] - ps.x[i, k], ps.y[j, k] - ps.y[i, k])
        frame = pd.DataFrame({"track": track[ok].to_numpy(), "disp": disp[ok]})
        if frame.empty:
            continue
        grouped = frame.groupby("track")["disp"]
        med = grouped.transform("median").to_numpy()
        n = grouped.transform("size").to_numpy()
        enough = n >= min_steps
        out.examined += int(np.count_nonzero(enough))
        jump = enough & (frame["disp"].to_numpy() > k_times * med) & (frame["disp"].to_numpy() > min_px)
        for s, d, m in zip(np.flatnonzero(ok)[jump], frame["disp"].to_numpy()[jump], med[jump]):
            out.findings.append(_finding(
                ps, j[s], name, f"{name} moves {_fmt(d)} px from {_frame_name(ps, i[s])} to {_frame_name(ps, j[s])}: "
                f"more than {_fmt(k_times)} × the track's median step {_fmt(m)} px and more than {_fmt(min_px)} px", d))
    return out


_CHECKS = {"required-keypoints": _required, "visibility": _visibility, "left-right-swap-geometry": _swap_geometry,
           "left-right-swap-temporal": _swap_temporal, "bone-length": _bone_length, "outside-image": _outside,
           "duplicate-persons": _duplicates, "frames-beyond-video": _beyond_video, "sudden-jump": _jumps}


# ----------------------------------------------------------------------------------------------------- verdicts
def _verdict(rule: QCRule, n: int, examined: int, notes: list[str], error: str | None) -> GateVerdict:
    spec = rule.spec
    fraction = rule.max_fraction is not None
    threshold = 100.0 * rule.max_fraction if fraction else float(rule.max_findings)
    unit = "%" if fraction else "findings"
    thr = f"{_fmt(threshold)}%" if fraction else _fmt(threshold)
    actual: float | None = None
    reason = None
    if error:
        status, reason = "error", error
    elif examined == 0:
        status = "not-evaluable"
        reason = f"nothing to examine: {notes[0]}" if notes else "nothing to examine"
    else:
        actual = 100.0 * n / examined if fraction else float(n)
        status = "pass" if actual <= threshold + 1e-12 else "fail"
    if status in ("pass", "fail"):
        shown = (f"{_fmt(actual)}% ({n} of {examined} {spec.unit})" if fraction
                 else f"{n} (in {examined} {spec.unit})")
        message = f"{spec.label} {shown} ≤ {thr}: {status}"
    else:
        message = f"{spec.label} ≤ {thr}: {status} ({reason})"
    blocks = rule.blocking and (status in ("fail", "error") or (status == "not-evaluable" and not rule.allow_missing))
    return GateVerdict(rule_id=rule.id, candidate=_CANDIDATE, status=status, severity=rule.severity, blocks=blocks,
                       metric=f"annotations.{rule.kind}", label=spec.label, op="<=", threshold=threshold,
                       actual=actual, unit=unit, message=message, reason=reason, description=rule.description,
                       would_block=blocks)


@dataclass
class QCResult:
    """What :func:`run_qc` found.

    Attributes
    ----------
    guideline : Guideline
    files : list of str
        The sources of the sets checked, in order.
    verdicts : list of GateVerdict
        One per rule, in the guideline's order; ``actual`` is the number of findings (``unit`` "findings") or
        their percentage of the units examined (``unit`` "%", when the rule sets ``max_fraction``).
    findings : pandas.DataFrame
        One row per finding, columns :data:`FINDING_COLUMNS`.
    examined : dict
        Rule id → number of units the rule examined (the denominator of ``max_fraction``).
    notes : dict
        Rule id → what the rule could not examine and why (persons without a size, items without a size ...).
    """

    guideline: Guideline
    files: list[str]
    verdicts: list[GateVerdict]
    findings: pd.DataFrame
    examined: dict[str, int]
    notes: dict[str, list[str]]

    @property
    def exit_code(self) -> int:
        """1 when a verdict blocks (as :func:`harness.gates.exit_code`), else 0."""
        return exit_code(self.verdicts)

    def summary(self) -> dict[str, Any]:
        counts = {s: sum(v.status == s for v in self.verdicts) for s in ("pass", "fail", "error", "not-evaluable")}
        per_rule = self.findings["rule_id"].value_counts()
        return {"rules": len(self.verdicts), **counts, "blocking": sum(v.blocks for v in self.verdicts),
                "findings": int(len(self.findings)),
                "findings_per_rule": {r.id: int(per_rule.get(r.id, 0)) for r in self.guideline.rules},
                "exit_code": self.exit_code}

    def findings_records(self) -> list[dict[str, Any]]:
        """The findings as JSON-ready records (missing values as None)."""
        frame = self.findings.astype(object).where(self.findings.notna(), None)
        return frame.to_dict(orient="records")

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "kind": "stancebench.annotation-qc",
                "guideline": {"name": self.guideline.name, "source": self.guideline.source,
                              "sha256": self.guideline.sha256, "sample": self.guideline.sample},
                "files": list(self.files), "summary": self.summary(),
                "verdicts": [v.to_dict() for v in self.verdicts],
                "examined": dict(self.examined), "notes": {k: list(v) for k, v in self.notes.items()},
                "findings": self.findings_records()}


def run_qc(sets: list[AnnotationSet], guideline: Guideline) -> QCResult:
    """Run every rule of ``guideline`` on every set.

    Parameters
    ----------
    sets : list of AnnotationSet
        Typically one per export file (several raters of one task, or several tasks).
    guideline : Guideline
        From :func:`harness.annotations.guideline.load_guideline`.

    Returns
    -------
    QCResult
        Findings and one verdict per rule, judged over all sets together.

    Notes
    -----
    Methods and their sources are in this module's docstring: OKS and the COCO σ from cocoeval.py
    (``computeOks``, ``kpt_oks_sigmas``); the OKS-NMS threshold 0.9 from mmpose ``oks_nms``; the swap and jump
    rules are defined there.
    """
    persons = [_persons(s) for s in sets]
    rows: list[dict[str, Any]] = []
    verdicts, examined, notes = [], {}, {}
    for rule in guideline.rules:
        n, total, rule_notes, error = 0, 0, [], None
        for ps in persons:
            out = _CHECKS[rule.kind](rule, ps)
            total += out.examined
            rule_notes += out.notes
            error = error or out.error
            for f in out.findings:
                f.update(rule_id=rule.id, kind=rule.kind, severity=rule.severity)
            rows += out.findings
            n += len(out.findings)
        verdicts.append(_verdict(rule, n, total, rule_notes, error))
        examined[rule.id] = total
        notes[rule.id] = [*dict.fromkeys(rule_notes)]
    for ps in persons:
        for note in ps.notes:
            notes.setdefault("(all rules)", []).append(f"{ps.file}: {note}")
    findings = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    findings = findings.astype(FINDING_COLUMNS) if len(findings) else \
        pd.DataFrame({c: pd.Series(dtype=t) for c, t in FINDING_COLUMNS.items()})
    return QCResult(guideline, [str(s.source) for s in sets], verdicts, findings, examined, notes)


__all__ = ["COCO_SIGMAS", "FINDING_COLUMNS", "QCResult", "run_qc"]
