"""Stages 2-3 of a triangulated candidate: every camera of the trial through the one-camera candidate stage and
its own clock alignment, then the views resampled onto one grid on the reference clock and triangulated
(``candidates.triangulate``) into 3-D keypoints, from which the gold standard's definitions give a 3-D COM
(both horizontal axes), the COP estimate, the joint angles and the foot events (``candidates.kpis3d``).
"""
from __future__ import annotations

import numpy as np

from candidates import kpis3d
from candidates.triangulate import resample_views, triangulate_views
from ground_truth.grid import uniform_grid
from ground_truth.kernel import NotAvailableError, StancebenchError, TimeSeries

from .candidate import shared_candidate_side
from .clock import ClockAlignment, align_clocks
from .reference import sex_of
from .sides import CandidateSide, ReferenceSide, add_cop_estimate, add_derived_alignment_signals
from .views import TRIANGULATED, trial_view, view_indices


def build_triangulated_side(spec: dict, trial: dict, subject: dict, settings: dict, ref: ReferenceSide | None, *,
                            bipedal: bool, memo: dict | None = None) -> tuple[CandidateSide, ClockAlignment]:
    """The 3-D candidate side on the reference clock and the (identity) clock that maps it there.

    Raises
    ------
    NotAvailableError
        Fewer than two videos, a video without a calibrated camera, no gold standard to align the cameras to,
        or too short an overlap of the views.
    AlignmentError
        A camera's clock cannot be aligned reliably (the trial is refused, as a one-camera trial would be).
    """
    if ref is None:
        raise NotAvailableError("not available: a triangulated candidate aligns each camera's clock to the gold "
                                "standard, and this trial has none (use a one-camera view)")
    views, sides, clocks = [], [], []
    for i in view_indices(trial, TRIANGULATED):
        view = trial_view(trial, i)
        side = shared_candidate_side(spec, view, subject, settings, bipedal=bipedal, sides=memo)
        name = view.get("camera_name") or f"video {i + 1}"
        if side.camera is None:
            raise NotAvailableError(f"not available: triangulation needs a calibrated camera for every video; "
                                    f"{name} has none (trial field camera / camera_name)")
        clock = align_clocks(ref, side, settings, view)
        views.append({"camera": name, "video": str(view["video"][0]), "alignment": clock.to_dict(),
                      "detection_rate": side.inference["detection_rate"], "n_frames": side.inference["n_frames"]})
        sides.append(side)
        clocks.append(clock)
    spans = [clock.to_reference(list(side.span)) for side, clock in zip(sides, clocks) if side.span]
    if len(spans) < len(sides):
        raise NotAvailableError("not available: a camera's video has no frames")
    lo, hi = max(float(s[0]) for s in spans), min(float(s[1]) for s in spans)
    fs = _frame_rate(sides[0])
    if hi - lo < 2.0 / fs:
        raise NotAvailableError(f"not available: the cameras' videos overlap for {max(hi - lo, 0):.2f} s on the "
                                f"reference clock")
    grid = uniform_grid(lo, hi, fs)
    points, confidence = resample_views([s.track for s in sides], [c.to_reference for c in clocks], grid)
    tri = triangulate_views(points, confidence, [s.camera for s in sides], time_s=grid)
    out = CandidateSide("candidate", identity=dict(sides[0].identity, view=TRIANGULATED), views=views,
                        triangulated=True)
    out.span = (lo, hi)
    out.inference = _inference(sides, tri)
    for v, err in zip(views, out.inference["reprojection_error_px_median_by_view"]):
        v["reprojection_error_px_median"] = err
    _fill(out, tri, trial, subject)
    add_derived_alignment_signals(out, (tri.time_s, tri.points), "triangulated keypoints", subject["mass_kg"])
    errors = [c.offset_error_s for c in clocks if c.offset_error_s is not None]
    clock = ClockAlignment(
        offset_s=0.0, drift_ppm=0.0, measured=all(c.measured for c in clocks), signal="per camera",
        method=f"triangulated on the reference clock; each of the {len(clocks)} cameras aligned on its own ("
               + "; ".join(f"{v['camera']}: {c.method}" for v, c in zip(views, clocks)) + ")",
        estimate={"views": [v["alignment"] for v in views],
                  "max_abs_offset_error_s": max((abs(e) for e in errors), default=None)})
    return out, clock


def _frame_rate(side: CandidateSide) -> float:
    t = np.asarray(side.track.times_s, float)
    return float(round(1.0 / np.median(np.diff(t)), 3)) if t.size > 1 else 30.0


def _inference(sides: list[CandidateSide], tri) -> dict:
    err = np.asarray(tri.reprojection_error_px, float)          # (n, K, V)
    by_view = [float(np.nanmedian(err[..., v])) if np.isfinite(err[..., v]).any() else None
               for v in range(err.shape[-1])]
    per_frame = np.asarray(tri.mean_reprojection_error_px, float)
    have = np.isfinite(np.asarray(tri.points, float)).all(axis=2).any(axis=1)
    return {"n_frames": int(sum(s.inference["n_frames"] for s in sides)),
            # a frame is usable when any keypoint triangulates (both views saw the person)
            "detection_rate": float(have.mean()) if have.size else 0.0,
            "cache_hit": all(s.inference["cache_hit"] for s in sides),
            "ms_per_frame": _mean([s.inference["ms_per_frame"] for s in sides]),
            "image_size": sides[0].inference["image_size"], "n_views": len(sides),
            "n_triangulated_frames": int(have.sum()), "n_grid_frames": int(have.size),
            "reprojection_error_px_median": float(np.nanmedian(per_frame)) if np.isfinite(per_frame).any()
            else None,
            "reprojection_error_px_median_by_view": by_view}


def _mean(values) -> float | None:
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def _fill(side: CandidateSide, tri, trial: dict, subject: dict) -> None:
    """3-D COM (both axes), its COP estimate, joint angles and foot events of the triangulated keypoints."""
    stance = trial["stance_leg"]
    how = f"{tri.method}; reference clock"
    try:
        t, com = kpis3d.keypoint_com_3d(tri, sex=sex_of(subject))
    except StancebenchError as exc:
        side.unavailable["com"] = f"triangulated COM: {exc}"
    else:
        side.add("com_xyz", t, com, "m", f"de Leva segmental COM of the {how}")
        side.add("com_xy", t, com[:, :2], "m", f"de Leva segmental COM of the {how} (lab x = AP, y = ML)")
        side.add("com_vertical", t, com[:, 2], "m", f"de Leva segmental COM of the {how} (vertical)")
        add_cop_estimate(side, t, com, "the triangulated keypoint COM")
    try:
        ang = kpis3d.angles_3d(tri, stance)
    except StancebenchError as exc:
        side.unavailable["strategy_label"] = side.unavailable["knee_frontal_excursion"] = f"3-D angles: {exc}"
    else:
        side.angles = TimeSeries(np.asarray(tri.time_s, float), {k: np.asarray(v, float) for k, v in ang.items()},
                                 {k: "deg" for k in ang}, meta={"method": f"ground_truth.angles of the {how}"})
    try:
        feet = kpis3d.feet_3d(tri, stance)
    except StancebenchError as exc:
        side.unavailable["free_foot_height"] = side.unavailable["time_to_failure"] = f"3-D feet: {exc}"
    else:
        side.add("free_foot_height", feet["time_s"], feet["height_m"], "m", f"lifted foot height of the {how}")
        side.events = list(kpis3d.foot_events_3d(tri, stance))
        side.event_source = f"foot events of the {how} (ground_truth.events.marker_events)"
