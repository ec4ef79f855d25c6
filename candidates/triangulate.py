"""Two (or more) calibrated cameras: 2-D keypoints of each view → 3-D keypoints in the lab frame.

* :func:`resample_views` - each view's keypoints and confidences re-timed with that camera's own clock map
  (view time → common time: each phone has its own offset and drift) and interpolated onto one common grid.
* :func:`triangulate_views` - confidence-weighted linear (DLT) triangulation of every keypoint in every frame
  from all the views that see it, after undistorting the pixels; per view reprojection errors.
* :func:`triangulate_tracks` - the two steps above in one call (what a trial pipeline needs).

The result, :class:`Triangulation`, holds 3-D keypoints in metres in the cameras' world frame (the lab: z up,
floor at z = 0 for the rigs of :mod:`candidates.render.rig`) and gives the same joint names as
:meth:`candidates.kpis.ResampledTrack.joints`, so the ground-floor code (``ground_truth.anthropometry``,
``ground_truth.angles``, ``ground_truth.events``) consumes it as it consumes marker joint centres
(:mod:`candidates.kpis3d`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ground_truth.grid import resample_to, uniform_grid
from ground_truth.kernel import InputError, as_float_array, validate_type

from .render.camera import PinholeCamera
from .skeletons import SCHEMAS
from .track import KeypointTrack

#: Default confidence below which a view is not used for a keypoint: none, every view with a confidence above
#: 0 is used and weighted by it (the renderer's truth gives 0 outside the image, so those stay out). Pose2Sim
#: drops views below ``likelihood_threshold_triangulation = 0.3`` (its Config.toml), but it films with four or
#: more cameras; with two a dropped view is a lost point. Measured on the two-phone render (tests/
#: test_triangulate.py, slow test): BlazePose gives the far arm visibility 0.03-0.1 in the side view, so a 0.3
#: threshold left the whole-body COM NaN in every frame, while keeping every view gave a COM within 6 mm (bias)
#: and 1.3-2.5 mm (SD) of the truth.
MIN_CONFIDENCE = 0.0


@dataclass
class Triangulation:
    """3-D keypoints triangulated from several calibrated views, on a common time grid.

    Attributes
    ----------
    time_s : (n,) s
        The common clock of the views (the clock their ``to_common`` maps led to, e.g. the reference clock).
    points : (n, K, 3) m
        Lab frame of the cameras (z up); NaN where fewer than two views saw the keypoint.
    confidence : (n, K)
        The second-largest confidence among the views used (the smaller one for two views): a point needs two
        rays, so it is no surer than the second-best ray that fixes it. NaN where ``points`` is NaN.
    reprojection_error_px : (n, K, V) px
        Distance between the point's projection (lens distortion included) and the observed keypoint in each
        view that observed it (also views below ``min_confidence``, which did not constrain it); NaN otherwise.
    mean_reprojection_error_px : (n,) px
        Mean of ``reprojection_error_px`` over the keypoints and the views *used* in the frame.
    n_views : (n, K) int
        Views used for each point (0 to V).
    keypoint_names : tuple of str
    method : str
    view_names : tuple of str
        Camera names, in the order of the last axis of ``reprojection_error_px``.
    schema : str
    report : dict
        Counts (points triangulated, points rejected and why), settings, per-view resampling reports.
    """

    time_s: np.ndarray
    points: np.ndarray
    confidence: np.ndarray
    reprojection_error_px: np.ndarray
    mean_reprojection_error_px: np.ndarray
    n_views: np.ndarray
    keypoint_names: tuple[str, ...]
    method: str
    view_names: tuple[str, ...] = ()
    schema: str = "blazepose33"
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.time_s.size)

    @property
    def fs_hz(self) -> float:
        """Median sampling rate of the grid (Hz); NaN for fewer than two frames."""
        return float(1.0 / np.median(np.diff(self.time_s))) if self.time_s.size > 1 else float("nan")

    def joints(self) -> dict[str, np.ndarray]:
        """``{keypoint name: (n, 3) m}``: the names :meth:`candidates.kpis.ResampledTrack.joints` gives in 2-D."""
        return {name: self.points[:, k, :] for k, name in enumerate(self.keypoint_names)}

    def keypoint(self, name: str) -> np.ndarray:
        """(n, 3) trajectory of one named keypoint (m)."""
        if name not in self.keypoint_names:
            raise InputError(f"no keypoint {name!r}", field="keypoint", expected=f"one of {self.keypoint_names}")
        return self.points[:, self.keypoint_names.index(name), :]

    def between(self, t0: float, t1: float) -> Triangulation:
        """The frames with ``t0 <= time < t1`` (half-open, as every analysis window of the harness)."""
        keep = (self.time_s >= t0) & (self.time_s < t1)
        return Triangulation(self.time_s[keep], self.points[keep], self.confidence[keep],
                             self.reprojection_error_px[keep], self.mean_reprojection_error_px[keep],
                             self.n_views[keep], self.keypoint_names, self.method, self.view_names, self.schema,
                             dict(self.report, window_s=[float(t0), float(t1)]))

    def summary(self) -> dict[str, Any]:
        """Frames, share of points triangulated, reprojection error (median and 95th percentile, px)."""
        ok = np.isfinite(self.points[..., 0])
        e = self.mean_reprojection_error_px[np.isfinite(self.mean_reprojection_error_px)]
        return {"n_frames": self.n_frames, "points_triangulated": float(ok.mean()) if ok.size else float("nan"),
                "frames_with_points": int(np.count_nonzero(ok.any(axis=1))),
                "reprojection_error_median_px": float(np.median(e)) if e.size else float("nan"),
                "reprojection_error_p95_px": float(np.percentile(e, 95)) if e.size else float("nan")}


# -- resampling ---------------------------------------------------------------------------------------------
@dataclass
class ResampledViews:
    """Each view's 2-D keypoints and confidences on one common time grid (input of :func:`triangulate_views`).

    ``points_2d[v]`` (n, K, 2) px and ``confidence[v]`` (n, K) are NaN where view ``v`` has nothing within
    ``max_gap_s``; ``reports[v]`` counts what was missing and bridged. Unpacks as ``points_2d, confidence``
    (the two inputs of :func:`triangulate_views`).
    """

    time_s: np.ndarray
    points_2d: list[np.ndarray]
    confidence: list[np.ndarray]
    schema: str
    reports: list[dict[str, Any]]

    def __iter__(self):
        return iter((self.points_2d, self.confidence))


def _view_on_grid(track: KeypointTrack, t_common: np.ndarray, grid: np.ndarray, max_gap_s: float, v: int
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    kp = np.asarray(track.keypoints, dtype=float)[..., :2]
    cf = np.asarray(track.confidence, dtype=float)
    n, k = grid.size, kp.shape[1]
    out = np.full((n, k, 3), np.nan)
    vals = np.concatenate([kp, cf[..., None]], axis=2)
    ok = np.all(np.isfinite(vals), axis=2)                          # (T, K)
    # Keypoints missing in the same frames (usually all of them: frames without a person) are interpolated in
    # one call; each group's own gaps decide where its values stay NaN.
    groups: dict[bytes, list[int]] = {}
    for j in range(k):
        groups.setdefault(np.packbits(ok[:, j]).tobytes(), []).append(j)
    for cols in groups.values():
        m = ok[:, cols[0]]
        if m.sum() < 2:
            continue
        out[:, cols] = resample_to(grid, t_common[m], vals[m][:, cols], max_gap_s=max_gap_s)
    det = ok.any(axis=1)
    td = t_common[det]
    on_grid = np.isfinite(out[..., 0]).any(axis=1)
    gaps = np.diff(td) if td.size > 1 else np.array([np.inf])
    report = {"view": v, "n_frames": int(track.n_frames), "n_detected": int(det.sum()),
              "detection_rate": float(det.mean()) if det.size else float("nan"),
              "longest_gap_s": float(gaps.max()) if gaps.size else float("nan"), "max_gap_s": float(max_gap_s),
              "n_grid": int(n), "n_grid_missing": int(np.count_nonzero(~on_grid)),
              "common_span_s": [float(t_common[0]), float(t_common[-1])]}
    return out[..., :2], out[..., 2], report


def resample_views(tracks: Sequence[KeypointTrack], to_common: Sequence[Callable | None], grid, *,
                   max_gap_s: float = 0.25) -> ResampledViews:
    """Each view's keypoints and confidences on one common time grid.

    Parameters
    ----------
    tracks : sequence of KeypointTrack
        One per camera, each on its own clock (the video's real frame times), same skeleton schema. A keypoint
        counts as present in a frame when its x, y and confidence are all finite.
    to_common : sequence of callable or None
        One per track: maps that view's times (array, s) to the common clock (e.g. the clock alignment of that
        camera against the reference, ``ClockAlignment.to_reference``, or the renderer's
        ``VideoClock.to_mocap(t, offset_s)``); None for a view already on the common clock. Each camera is
        aligned on its own (offset and drift).
    grid : (n,) array
        Common time grid (s), e.g. ``ground_truth.grid.uniform_grid(t0, t1, fs)``.
    max_gap_s : float
        Gaps (frames without a person or without that keypoint, dropped frames) up to this long are bridged by
        linear interpolation; longer ones stay NaN (as :func:`candidates.kpis.resample_track`).

    Returns
    -------
    ResampledViews

    Notes
    -----
    Interpolation is :func:`ground_truth.grid.resample_to` (linear, NaN outside each view's span and across
    gaps longer than ``max_gap_s``), the one resampler both sides of a trial use. Two phones never expose their
    frames at the same instants, so each view must be brought to common instants before its rays can meet;
    linear interpolation of the pixel positions errs by at most a·Δt²/8 for an image acceleration a
    (about 0.7 mm for a foot accelerating at 5 m/s² filmed at 30 fps), negligible for sway.
    """
    if not isinstance(tracks, (list, tuple)) or len(tracks) < 1:
        raise InputError("no tracks given", field="tracks", expected="a list with one KeypointTrack per camera")
    if not isinstance(to_common, (list, tuple)) or len(to_common) != len(tracks):
        raise InputError(f"{len(to_common) if isinstance(to_common, (list, tuple)) else to_common!r} clock maps "
                         f"for {len(tracks)} tracks", field="to_common",
                         expected="one callable (or None) per track")
    g = as_float_array(grid, "grid", ndim=1)
    if g.size < 1 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
        raise InputError("the grid is empty, not finite or not strictly increasing", field="grid",
                         expected="strictly increasing finite times (s)")
    if not (np.isfinite(max_gap_s) and max_gap_s > 0):
        raise InputError(f"max_gap_s is {max_gap_s!r}", field="max_gap_s", expected="a positive duration (s)")
    schema = None
    pts, confs, reports = [], [], []
    for v, (track, fn) in enumerate(zip(tracks, to_common)):
        validate_type(track, KeypointTrack, f"tracks[{v}]")
        if schema is None:
            schema = track.schema
        elif track.schema != schema:
            raise InputError(f"view {v} has schema {track.schema!r}, view 0 {schema!r}", field=f"tracks[{v}]",
                             expected="one skeleton schema for every view (convert with KeypointTrack.to_schema)")
        t = np.asarray(track.times_s, dtype=float)
        if fn is not None:
            if not callable(fn):
                raise InputError(f"is {fn!r}", field=f"to_common[{v}]", expected="a callable or None")
            t = as_float_array(fn(t), f"to_common[{v}](times)", ndim=1)
        if t.size != track.n_frames or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError(f"view {v}'s times on the common clock are not {track.n_frames} finite, strictly "
                             f"increasing values", field=f"to_common[{v}]",
                             expected="a monotonic clock map of the view's frame times")
        p, c, rep = _view_on_grid(track, t, g, float(max_gap_s), v)
        pts.append(p)
        confs.append(c)
        reports.append(rep)
    return ResampledViews(g, pts, confs, schema, reports)


# -- triangulation ------------------------------------------------------------------------------------------
def _check_views(points_2d, confidence, cameras, schema):
    for name, seq in (("points_2d", points_2d), ("confidence", confidence), ("cameras", cameras)):
        if not isinstance(seq, (list, tuple)):
            raise InputError(f"is a {type(seq).__name__}", field=name, expected="a list with one entry per view")
    V = len(cameras)
    if V < 2:
        raise InputError(f"{V} camera(s) given", field="cameras", expected="at least 2 calibrated views")
    if len(points_2d) != V or len(confidence) != V:
        raise InputError(f"{len(points_2d)} point arrays and {len(confidence)} confidence arrays for {V} cameras",
                         field="points_2d", expected="one (n, K, 2) array and one (n, K) array per camera")
    names = SCHEMAS.get(schema)
    if names is None:
        raise InputError(f"unknown schema {schema!r}", field="schema", expected=f"one of {', '.join(SCHEMAS)}")
    P, C = [], []
    for v in range(V):
        validate_type(cameras[v], PinholeCamera, f"cameras[{v}]")
        p = as_float_array(points_2d[v], f"points_2d[{v}]", ndim=3)
        c = as_float_array(confidence[v], f"confidence[{v}]", ndim=2)
        if p.shape[2] not in (2, 3) or p.shape[1] != len(names):
            raise InputError(f"has shape {p.shape}", field=f"points_2d[{v}]",
                             expected=f"(n, {len(names)}, 2) pixels for schema {schema}")
        if P and p.shape[0] != P[0].shape[0]:
            raise InputError(f"has {p.shape[0]} frames, view 0 has {P[0].shape[0]}", field=f"points_2d[{v}]",
                             expected="every view on the same time grid (see resample_views)")
        if c.shape != p.shape[:2]:
            raise InputError(f"has shape {c.shape}", field=f"confidence[{v}]", expected=f"{p.shape[:2]}")
        P.append(p[..., :2])
        C.append(c)
    return np.stack(P, axis=2), np.stack(C, axis=2), names      # (n, K, V, 2), (n, K, V)


def _dlt(xy: np.ndarray, w: np.ndarray, Rt: np.ndarray) -> np.ndarray:
    """Weighted DLT of N points seen in V views: ``xy`` (N, V, 2) undistorted normalised coordinates (0 where
    unused), ``w`` (N, V) row weights (0 = unused), ``Rt`` (V, 3, 4) normalised projection matrices [R | t].
    Returns homogeneous points (N, 4)."""
    # H&Z (12.2): x·(p3ᵀX) − p1ᵀX = 0 and y·(p3ᵀX) − p2ᵀX = 0 for each view, both rows scaled by its weight.
    A = xy[..., None] * Rt[None, :, 2:3, :] - Rt[None, :, :2, :]          # (N, V, 2, 4)
    A = (A * w[..., None, None]).reshape(xy.shape[0], -1, 4)
    _, _, vh = np.linalg.svd(A, full_matrices=False)
    return vh[:, -1, :]


def triangulate_views(points_2d: Sequence[np.ndarray], confidence: Sequence[np.ndarray],
                      cameras: Sequence[PinholeCamera], *, time_s=None, min_confidence: float = MIN_CONFIDENCE,
                      weighted: bool = True, max_reprojection_error_px: float | None = None,
                      schema: str = "blazepose33") -> Triangulation:
    """Confidence-weighted linear triangulation of every keypoint in every frame.

    Parameters
    ----------
    points_2d : sequence of (n, K, 2) arrays
        One per camera, pixels (x right, y down, the distorted image as the camera recorded it), on one common
        time grid (see :func:`resample_views`); NaN where the view has no keypoint (a frame without a person is
        all NaN). A trailing third coordinate (a backbone's relative depth) is ignored.
    confidence : sequence of (n, K) arrays
        Per view keypoint confidence in [0, 1] (BlazePose: visibility); NaN = missing.
    cameras : sequence of PinholeCamera
        Calibrations (OpenCV model, one world frame: the lab, z up).
    time_s : (n,) array, optional
        Times of the frames (common clock); default the frame index.
    min_confidence : float
        A view below this confidence for a keypoint is not used for it; a confidence of 0 is never used.
        Default 0 (see :data:`MIN_CONFIDENCE` for why two cameras need every view).
    weighted : bool
        Weight each view's two equations by its confidence (default); False gives every used view weight 1.
    max_reprojection_error_px : float, optional
        Points whose reprojection error in any used view exceeds this are set to NaN (a left/right swap in one
        view, a detection on the wrong person); default: keep every point and report the errors.
    schema : str
        Skeleton schema of the keypoints (their names).

    Returns
    -------
    Triangulation

    Notes
    -----
    Pixels are first undistorted to normalised image coordinates (``PinholeCamera.undistort_normalized``, the
    iterative inversion OpenCV's ``undistortPoints`` uses), so each view's projection matrix is its extrinsic
    ``[R | t]``, of the same scale for every camera. For each point the homogeneous linear system of Hartley &
    Zisserman (2003, *Multiple View Geometry in Computer Vision*, 2nd ed., §12.2, the DLT method) is stacked
    over the views, each view's two rows multiplied by its confidence, and solved by SVD (the right singular
    vector of the smallest singular value). The confidence weighting is the "algebraic triangulation" of
    Iskakov et al. (2019, *Learnable triangulation of human pose*, ICCV) and Pose2Sim's ``weighted_triangulation``
    (Pagnon et al. 2021, Sensors 21:6530). All n·K systems are solved in one batched ``numpy.linalg.svd``.

    What the weighting can and cannot do with two views: the two rays fix the point, and the weights only
    decide where it sits where the rays do not meet (the least-squares weight of a view is its confidence
    squared). As one view's weight goes to 0 the point slides onto the other view's ray, at the depth along
    that ray which the low-weight view still sets. A keypoint displaced along a direction only one camera sees
    (for the front and side phones: the side view's image x, antero-posterior) therefore moves the point by
    the full displacement whatever its weight; a displacement the other view contradicts (vertical) is mostly
    removed. With three or more views a low-confidence view is outvoted in every direction.

    The algebraic error of a view equals its camera depth times the normalised image error, so views at
    similar distances (the phone rigs: about 3 m) are weighted as the geometric error would weight them.
    """
    xy_px, conf, names = _check_views(list(points_2d), list(confidence), list(cameras), schema)
    n, K, V = conf.shape
    if time_s is None:
        t = np.arange(n, dtype=float)
    else:
        t = as_float_array(time_s, "time_s", ndim=1)
        if t.size != n:
            raise InputError(f"has {t.size} values for {n} frames", field="time_s", expected="one time per frame")
    if not (0.0 <= float(min_confidence) <= 1.0):
        raise InputError(f"min_confidence is {min_confidence!r}", field="min_confidence", expected="0..1")
    observed = np.all(np.isfinite(xy_px), axis=-1)                              # (n, K, V)
    with np.errstate(invalid="ignore"):
        used = observed & np.isfinite(conf) & (conf >= float(min_confidence)) & (conf > 0)
    xy = np.zeros((n, K, V, 2))
    for v, cam in enumerate(cameras):
        xy[:, :, v] = cam.undistort_normalized(np.where(observed[:, :, v, None], xy_px[:, :, v], 0.0))
    xy[~used] = 0.0
    w = np.where(used, conf if weighted else 1.0, 0.0)
    Rt = np.stack([np.column_stack([c.rotation, c.translation]) for c in cameras])    # (V, 3, 4)
    n_views = used.sum(axis=2)
    X = np.full((n, K, 3), np.nan)
    solve = n_views >= 2
    report: dict[str, Any] = {"n_points": int(n * K), "n_fewer_than_2_views": int(np.count_nonzero(~solve))}
    if solve.any():
        H = _dlt(xy[solve], w[solve], Rt)
        with np.errstate(invalid="ignore", divide="ignore"):
            P = H[:, :3] / H[:, 3:4]
        # A solution at infinity (parallel rays) or behind a camera that used it is no measurement.
        depth = np.einsum("vij,nj->nvi", Rt[:, :, :3], P)[..., 2] + Rt[None, :, 2, 3]     # (N, V)
        bad = ~np.all(np.isfinite(P), axis=1) | (np.abs(H[:, 3]) < 1e-12) | \
            np.any((depth <= 1e-3) & used[solve], axis=1)
        P[bad] = np.nan
        report["n_behind_camera_or_at_infinity"] = int(np.count_nonzero(bad))
        X[solve] = P
    err = np.full((n, K, V), np.nan)
    for v, cam in enumerate(cameras):
        with np.errstate(invalid="ignore"):
            err[:, :, v] = np.linalg.norm(cam.project(X) - xy_px[:, :, v], axis=-1)
    err[~observed] = np.nan
    if max_reprojection_error_px is not None:
        with np.errstate(invalid="ignore"):
            worst = np.max(np.where(used, err, 0.0), axis=2)
        rejected = np.isfinite(X[..., 0]) & (worst > float(max_reprojection_error_px))
        X[rejected] = np.nan
        err[rejected] = np.nan
        report["n_rejected_reprojection"] = int(np.count_nonzero(rejected))
    point_ok = np.isfinite(X[..., 0])
    # the second-largest confidence of the used views (the smaller of two)
    ranked = np.sort(np.where(used, conf, -np.inf), axis=2)
    c3 = ranked[..., -2] if V >= 2 else ranked[..., -1]
    c3 = np.where(point_ok, c3, np.nan)
    used_err = np.where(used & point_ok[..., None], err, np.nan)
    with np.errstate(invalid="ignore"):
        cnt = np.sum(np.isfinite(used_err), axis=(1, 2))
        mean_err = np.where(cnt > 0, np.nansum(used_err, axis=(1, 2)) / np.maximum(cnt, 1), np.nan)
    report.update(n_triangulated=int(np.count_nonzero(point_ok)), min_confidence=float(min_confidence),
                  weighted=bool(weighted), max_reprojection_error_px=max_reprojection_error_px,
                  n_views=int(V))
    how = "; each view's rows weighted by its confidence as Iskakov et al. 2019" if weighted else ""
    method = (f"{'confidence-weighted ' if weighted else ''}linear (DLT) triangulation of {V} views "
              f"(Hartley & Zisserman 2003 §12.2{how}) on undistorted normalised coordinates; views below "
              f"confidence {float(min_confidence):g} unused")
    return Triangulation(t, X, c3, err, mean_err, n_views.astype(int), tuple(names), method,
                         tuple(c.name for c in cameras), schema, report)


def triangulate_tracks(tracks: Sequence[KeypointTrack], cameras: Sequence[PinholeCamera],
                       to_common: Sequence[Callable | None] | None = None, *, grid=None,
                       fs_hz: float | None = None, max_gap_s: float = 0.25, **kwargs) -> Triangulation:
    """:func:`resample_views` then :func:`triangulate_views`: what a trial with several cameras needs.

    ``grid`` defaults to a uniform grid over the span the views share on the common clock, at ``fs_hz``
    (default the first view's median frame rate, rounded to 0.01 Hz). ``kwargs`` go to
    :func:`triangulate_views`. The result's ``report["views"]`` holds each view's resampling report.
    """
    if to_common is None:
        to_common = [None] * len(tracks)
    if grid is None:
        spans = []
        for v, (tr, fn) in enumerate(zip(tracks, to_common)):
            validate_type(tr, KeypointTrack, f"tracks[{v}]")
            tc = np.asarray(fn(tr.times_s) if fn is not None else tr.times_s, dtype=float)
            det = tr.detected
            if det.sum() < 2:
                raise InputError(f"view {v} has a person in {int(det.sum())} frame(s)", field=f"tracks[{v}]",
                                 expected="at least 2 frames with a person")
            spans.append((float(tc[det][0]), float(tc[det][-1])))
        t0, t1 = max(s[0] for s in spans), min(s[1] for s in spans)
        if fs_hz is None:
            fs_hz = round(1.0 / float(np.median(np.diff(tracks[0].times_s))), 2)
        if not t1 > t0:
            raise InputError(f"the views share no time span on the common clock ({spans})", field="to_common",
                             expected="overlapping recordings")
        grid = uniform_grid(t0, t1, float(fs_hz))
    views = resample_views(tracks, to_common, grid, max_gap_s=max_gap_s)
    tri = triangulate_views(views.points_2d, views.confidence, cameras, time_s=views.time_s,
                            schema=views.schema, **kwargs)
    tri.report["views"] = views.reports
    return tri
