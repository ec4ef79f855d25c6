"""The labelling QC rules that judge each person of an item on its own (the rules on tracks are in
:mod:`.qc_track_rules`; :func:`harness.annotations.qc.run_qc` runs both). The persons, person size and findings
are those of :mod:`.qc_persons`.

Definition used by the left/right rule
--------------------------------------
body axis
    from the mid-hip to the mid-shoulder point when both shoulders and both hips are labelled
    (:func:`harness.annotations.keypoint_metrics.torso_vector`), else image-up ``(0, -1)`` (the subjects of a
    balance assessment stand).

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
outside-image
    a labelled point further than ``tolerance_px`` outside ``[0, width] × [0, height]`` (pixel edges: CVAT, COCO
    and Labelbox measure from the top-left corner of the top-left pixel). Unit: a labelled point of an item of
    known size.
duplicate-persons
    two persons of one item and annotator whose OKS (:func:`harness.annotations.keypoint_metrics.oks`, as
    cocoeval.py ``computeOks``: mean over their common labelled keypoints of ``exp(-d² / (2 s² κ²))``, ``κ = 2σ``,
    COCO's per-keypoint σ, ``default_sigma`` or else the mean of COCO's σ for other keypoints, ``s²`` the mean of
    the two persons' box areas) is at least ``min_oks`` (0.9: the OKS-NMS threshold of pose estimators such as
    mmpose's ``oks_nms``). Unit: a pair of persons with ``min_common`` common keypoints.
"""
from __future__ import annotations

import math

import numpy as np

from candidates.skeletons import SCHEMAS

from .guideline import QCRule
from .keypoint_metrics import PROVISIONAL_SIGMA, TORSO_KEYPOINTS, coco_sigmas, oks, torso_vector
from .qc_persons import Outcome, Persons, finding, fmt

#: The front of the face: visible means the person faces the camera.
_FACE_FRONT = ("nose", "left_eye", "right_eye", "left_eye_inner", "left_eye_outer", "right_eye_inner",
               "right_eye_outer", "mouth_left", "mouth_right")
_EARS = ("left_ear", "right_ear")


_VIS_WORDS = {0: "not labelled (v=0)", 1: "labelled, not visible (v=1)", 2: "visible (v=2)"}


def _vis_word(v: float) -> str:
    if math.isnan(v):
        return "absent from the file"
    return _VIS_WORDS.get(int(v), f"visibility {int(v)}")



def _required(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
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
            out.findings.append(finding(ps, i, kp, f"{kp} {_vis_word(v[i])}; the guideline requires it {need}",
                                        v[i]))
    out.examined = int(np.count_nonzero(checked)) * len(kps)
    return out


def _visibility(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
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
            out.findings.append(finding(ps, i, name, f"{name}: " + "; ".join(why), v))
    return out


def _body_axis(ps: Persons) -> np.ndarray:
    """(P, 2) unit vectors from the mid-hip to the mid-shoulder point; image-up where those are not labelled."""
    axis = np.tile([0.0, -1.0], (len(ps.keys), 1))
    if not all(n in ps.col for n in TORSO_KEYPOINTS):
        return axis
    torso = torso_vector(ps.xy_all, ps.labelled, ps.names)
    ax, ay = torso[:, 0], torso[:, 1]
    norm = np.hypot(ax, ay)
    ok = norm > 0                          # NaN (a torso point not labelled) compares False
    axis[ok] = np.column_stack([ax[ok], ay[ok]]) / norm[ok, None]
    return axis


def _across(ps: Persons, axis: np.ndarray, base: str) -> np.ndarray:
    """Signed separation of a pair across the body axis, in person sizes (positive: left on the person's left
    for a person facing the camera); NaN where either point is not labelled or the size is unknown."""
    lx, ly, lok = ps.xy(f"left_{base}")
    rx, ry, rok = ps.xy(f"right_{base}")
    cross = axis[:, 0] * (ly - ry) - axis[:, 1] * (lx - rx)
    return np.where(lok & rok, cross / ps.size, np.nan)


def _face_facing(ps: Persons) -> np.ndarray:
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


def _swap_geometry(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
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
                         f"{fmt(min_sep)} person sizes apart or more")
    words = {1.0: "facing the camera", -1.0: "facing away"}
    if rule.params["use_face"] and rule.params["face_torso_conflict"]:
        both = torso & (face != 0)
        out.examined += int(np.count_nonzero(both))
        for i in np.flatnonzero(both & (face != sign["shoulder"])):
            out.findings.append(finding(
                ps, i, "", f"the face says {words[face[i]]} but the shoulders and hips say {words[sign['shoulder'][i]]}"
                f": the whole body's left and right are exchanged, or the head is turned over the shoulder",
                face[i] * sign["shoulder"][i]))
    for b in pairs:
        ok = judged[b] & (facing != 0)
        out.examined += int(np.count_nonzero(ok))
        for i in np.flatnonzero(ok & (sign[b] != facing)):
            out.findings.append(finding(
                ps, i, f"left_{b}",
                f"left_{b} is on the person's right of right_{b} across the body axis ({fmt(abs(sep[b][i]))} person "
                f"sizes apart, at least {fmt(min_sep)} judged) for a person {words[facing[i]]} (from "
                f"{source[i]})", sep[b][i] * facing[i]))
    return out



def _outside(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
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
        out.findings.append(finding(
            ps, i, name, f"{name} at ({fmt(ps.x[i, k])}, {fmt(ps.y[i, k])}) is {fmt(beyond[i, k])} px outside the "
            f"{int(w[i])}×{int(h[i])} image (tolerance {fmt(tol)} px)", beyond[i, k]))
    return out


def _duplicates(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
    min_oks, min_common = rule.params["min_oks"], rule.params["min_common"]
    sigmas = coco_sigmas(ps.names, rule.params["default_sigma"] or PROVISIONAL_SIGMA)
    no_size = 0
    pairs: list[tuple[int, int, float]] = []
    groups = ps.keys.astype({"annotator": str, "item": str}).groupby(["annotator", "item"], sort=False).indices
    for idx in groups.values():
        for ai, a in enumerate(idx):
            for b in idx[ai + 1:]:
                if np.count_nonzero(ps.labelled[a] & ps.labelled[b]) < min_common:
                    continue
                area = (ps.size[a] ** 2 + ps.size[b] ** 2) / 2
                if not area > 0:
                    no_size += 1
                    continue
                pairs.append((a, b, area))
    out.examined = len(pairs)
    if pairs:
        a, b, area = (np.array(c) for c in zip(*pairs))
        common = ps.labelled[a] & ps.labelled[b]
        # s² is the mean of the two persons' box areas, so that the measure is symmetric in the pair
        values = oks(ps.xy_all[a], common, ps.xy_all[b], sigmas, area=area)
        for i in np.flatnonzero(values >= min_oks):
            out.findings.append(finding(
                ps, a[i], "", f"persons {ps.keys.at[a[i], 'person']} and {ps.keys.at[b[i], 'person']} coincide: OKS "
                f"{fmt(values[i])} over {int(common[i].sum())} common keypoints (at least {fmt(min_oks)} is a "
                f"duplicate)", values[i]))
    if no_size:
        out.notes.append(f"{ps.file}: {no_size} pair(s) of persons without a size not compared")
    if not out.examined and not no_size:
        out.notes.append(f"{ps.file}: no item holds two persons of one annotator with {min_common} common "
                         f"labelled keypoints")
    return out


#: The rules of this module by kind (:data:`harness.annotations.guideline.KINDS`).
CHECKS = {"required-keypoints": _required, "visibility": _visibility, "left-right-swap-geometry": _swap_geometry,
          "outside-image": _outside, "duplicate-persons": _duplicates}

__all__ = ["CHECKS"]
