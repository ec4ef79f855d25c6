"""Stage 2, the candidate side: run (or load from the cache) a candidate backbone on the trial's video and
derive from its keypoints what the KPIs and the clock alignment need (``candidates.kpis``: COM, lifted-foot
height, foot events; motion energy and the GRF the COM implies).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from candidates import kpis as kp
from candidates.backbones import get_candidate
from candidates.calibration import read_camera_toml, read_qca
from ground_truth import events as ev
from ground_truth.kernel import ManifestError, StancebenchError
from ground_truth.markersets import other_side

from .reference import sex_of
from .sides import CandidateSide, FirstStep, add_cop_estimate, add_derived_alignment_signals


def _backbone_target(spec: dict) -> str:
    """What a candidate spec names to run: its model manifest, else its backbone, else its own name."""
    return str(spec.get("manifest") or spec.get("backbone") or spec["name"])


def resolve_candidate(spec: dict):
    """The backbone of a candidate spec (``harness.manifest.CandidateSpec`` as a dict)."""
    return get_candidate(_backbone_target(spec), **dict(spec.get("params") or {}))


#: Backbones that infer nothing of their own: the positive control reads the renderer's truth; the negative control
#: degrades its ``base`` backbone's (cached) keypoints.
_NOTHING_INFERRED = "render-truth"
_DEGRADES_BASE = "degraded"


def inference_source(spec: dict | None) -> str | None:
    """What a candidate spec infers keypoints with (backbone and parameters, as text), so that candidates sharing
    one inference of a video can run in one worker; None for one that infers nothing (or a reference-only task).
    The negative control's source is its base backbone's: it reads that backbone's keypoints."""
    if spec is None:
        return None
    params = dict(spec.get("params") or {})
    target = _backbone_target(spec)
    if target == _NOTHING_INFERRED:
        return None
    if target == _DEGRADES_BASE:
        target, params = str(params.get("base")), dict(params.get("base_params") or {})
    return json.dumps([target, params], sort_keys=True, default=str)


def candidate_identity(spec: dict) -> dict:
    """Identity fields of a candidate for ``results.json``'s ``candidates`` list (no inference)."""
    ident = resolve_candidate(spec).identity.to_dict()
    ident.pop("name", None)
    return ident


def read_camera(trial: dict):
    """The trial's calibrated camera (camera TOML or Qualisys .qca.txt), or None."""
    if not trial.get("camera"):
        return None
    path = Path(trial["camera"])
    name = trial.get("camera_name")
    if path.name.endswith(".qca.txt") or path.suffix == ".qca":
        cams = read_qca(path)
        if name is None:
            if len(cams) != 1:
                raise ManifestError(f"calibration holds {len(cams)} cameras", file=path, field="camera_name",
                                    expected=f"camera_name = one of {', '.join(cams)}")
            return next(iter(cams.values()))
        return cams[name]
    return read_camera_toml(path, name)


def build_candidate_side(spec: dict, trial: dict, subject: dict, settings: dict, *, bipedal: bool
                         ) -> CandidateSide:
    """Keypoints of ``spec`` on ``trial["video"][0]`` and the signals derived from them (candidate clock)."""
    track = resolve_candidate(spec).run(trial["video"][0], cache_dir=settings.get("cache_dir"),
                                        frame_step=int(spec.get("frame_step") or 1))
    side = CandidateSide("candidate", track=track, camera=read_camera(trial), identity=dict(track.candidate))
    side.span = (float(track.times_s[0]), float(track.times_s[-1])) if track.n_frames else None
    side.inference = {"n_frames": track.n_frames, "detection_rate": track.detection_rate,
                      "cache_hit": bool(track.meta.get("cache_hit")), "ms_per_frame": track.meta.get("ms_per_frame"),
                      "image_size": [track.image_width, track.image_height]}
    stance, height = trial["stance_leg"], subject["height_m"]
    try:
        kc = kp.keypoint_com(track, camera=side.camera, height_m=height, stance=stance, sex=sex_of(subject))
    except StancebenchError as exc:
        side.unavailable["com"] = f"keypoint COM: {exc}"
    else:
        side.add("com_h", kc.time_s, kc.horizontal_m, "m", kc.method)
        side.add("com_vertical", kc.time_s, kc.com_m[:, 2], "m", kc.method + " (vertical)")
        side.observable_axis = kc.observable_axis
        side.horizontal_dir = kc.report.get("horizontal_dir")
        # one camera: the pendulum relation holds per horizontal axis, so the observed component alone gives
        # that component of the COP estimate
        observed = np.column_stack([kc.horizontal_m, np.zeros(kc.horizontal_m.size), kc.com_m[:, 2]])
        add_cop_estimate(side, kc.time_s, observed, f"the keypoint COM ({kc.observable_axis.upper()} component "
                                                    f"observed by one camera)", axis_only=True)
    try:
        feet = kp.keypoint_feet(track, stance=stance, camera=side.camera, height_m=height)
    except StancebenchError as exc:
        side.unavailable["free_foot_height"] = f"lifted foot height: {exc}"
    else:
        side.add("free_foot_height", feet["time_s"], feet["height_m"], "m", "lifted foot height from keypoints")
    try:
        _ttf, side.events = kp.keypoint_time_to_failure(track, stance=stance, camera=side.camera, height_m=height)
        side.event_source = "keypoints (candidates.kpis.keypoint_time_to_failure)"
    except StancebenchError as exc:
        side.unavailable["events"] = f"keypoint foot events: {exc}"
    kxy = np.asarray(track.keypoints, float)[..., :2]
    add_derived_alignment_signals(side, (np.asarray(track.times_s, float), kxy), "keypoints", subject["mass_kg"])
    if bipedal:
        _first_step(side, subject)
    return side


def _first_step(side: CandidateSide, subject: dict) -> None:
    """Bipedal trials: the first foot lift of either foot in the keypoints (candidate clock)."""
    found = []
    for leg in ("left", "right"):
        try:
            f = kp.keypoint_feet(side.track, stance=other_side(leg), camera=side.camera,
                                 height_m=subject["height_m"])
            lifts = [e.time for e in ev.marker_events(f["time_s"], f["lifted_foot"]) if e.name == "foot_lift"]
        except StancebenchError as exc:
            side.unavailable["time_to_failure"] = f"keypoint feet: {exc}"
            return
        found += [(t, f"{leg} foot keypoints rise") for t in lifts]
    side.step_source = "keypoints (either foot rises, ground_truth.events.marker_events)"
    side.step = FirstStep(*min(found)) if found else None


def shared_candidate_side(spec: dict, trial: dict, subject: dict, settings: dict, *, bipedal: bool,
                          sides: dict | None) -> CandidateSide:
    """:func:`build_candidate_side`, reusing a side already built in this trial for the same backbone, parameters
    and video (``sides``: the trial's memo; a one-camera candidate and the triangulated one of the same
    backbone read the same keypoints). No later stage changes a side."""
    if sides is None:
        return build_candidate_side(spec, trial, subject, settings, bipedal=bipedal)
    key = ("candidate", str(spec.get("manifest") or spec.get("backbone") or spec["name"]),
           json.dumps(spec.get("params") or {}, sort_keys=True, default=str), str(trial["video"][0]), bipedal,
           int(spec.get("frame_step") or 1))
    if key not in sides:
        sides[key] = build_candidate_side(spec, trial, subject, settings, bipedal=bipedal)
    return sides[key]
