"""KPIs from keypoints, with the ground-truth side's names and units so the two can be paired.

From a :class:`candidates.track.KeypointTrack` (pixels, variable frame times):

* :func:`resample_track` - keypoints on a uniform time grid (linear interpolation across short gaps only),
  with a report of the detection rate and of what was interpolated.
* :func:`keypoint_com` - whole-body COM with the de Leva (1996) segment model of
  :func:`ground_truth.anthropometry.whole_body_com`, in pixels and in metres: back-projected with the camera
  calibration onto the vertical plane through the stance foot, or, without a calibration, scaled by the
  subject's height.
* :func:`com_sway_kpis` - ``com_*`` sway KPIs of that COM through :func:`ground_truth.sway.sway_metrics`.
* :func:`knee_fppa` / :func:`knee_frontal_excursion` - knee frontal-plane projection angle (Willson & Davis
  2008), valgus positive, through :func:`ground_truth.angles.joint_angles` (the marker side's function).
* :func:`keypoint_angles` / :func:`keypoint_strategy` - hip and ankle angles of the image's plane for the
  hip-vs-ankle strategy label through :func:`ground_truth.strategy.strategy_indicator`.
* :func:`keypoint_feet` / :func:`keypoint_time_to_failure` - feet in metres, foot lift and touch-down through
  :func:`ground_truth.events.marker_events` and :func:`ground_truth.events.time_to_failure` (same rules and
  result type as the marker side).

A single camera sees only the body's motion parallel to its image plane: for a frontal view the COM's
medio-lateral (ML) sway, for a sagittal view its antero-posterior (AP) sway. KPIs of the other axis are
reported as NaN with the reason, never as zeros.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, check_option, validate_type

from .skeletons import SCHEMAS
from .track import KeypointTrack

#: Eye height as a fraction of stature (Winter 2009, Biomechanics and Motor Control of Human Movement,
#: Fig. 4.1: 0.936 H), used to estimate the standing figure's pixel stature from heel to eyes.
EYE_HEIGHT_FRACTION = 0.936
#: Ankle joint centre height as a fraction of stature (Winter 2009, Fig. 4.1: 0.039 H).
ANKLE_HEIGHT_FRACTION = 0.039
#: Shoulder width / trunk length in the image above which the view counts as frontal (about 0.75 seen from
#: the front, 0.1-0.3 from the side).
FRONTAL_VIEW_RATIO = 0.4


# -- resampling -------------------------------------------------------------------------------------------
@dataclass
class ResampledTrack:
    """Keypoints on a uniform grid. ``keypoints`` (n, K, 2) px, NaN where the gap was too long to bridge."""

    time_s: np.ndarray
    keypoints: np.ndarray
    schema: str
    fs_hz: float
    report: dict[str, Any]
    image_width: int = 0
    image_height: int = 0

    def joints(self) -> dict[str, np.ndarray]:
        return {name: self.keypoints[:, k, :2] for k, name in enumerate(SCHEMAS[self.schema])}


def resample_track(track: KeypointTrack, fs_hz: float | None = None, *, max_gap_s: float = 0.25
                   ) -> ResampledTrack:
    """Resample a track's keypoints onto a uniform grid.

    Parameters
    ----------
    track : KeypointTrack
    fs_hz : float, optional
        Grid rate; default the median frame rate of the track, rounded to 0.01 Hz.
    max_gap_s : float
        Gaps (frames with no person, dropped frames) up to this long are bridged by linear interpolation;
        longer ones stay NaN.

    Returns
    -------
    ResampledTrack
        ``report`` holds ``n_frames``, ``n_detected``, ``detection_rate``, ``longest_gap_s``, ``n_grid``,
        ``n_grid_missing`` (grid samples left NaN) and ``n_grid_bridged`` (samples inside bridged gaps).

    Notes
    -----
    Phone video has variable frame times, so any metric needing a constant rate (velocities, filters, sway
    metrics) is computed on this grid. Missing data are carried as NaN and counted, not papered over.
    """
    validate_type(track, KeypointTrack, "track")
    t = np.asarray(track.times_s, dtype=float)
    if t.size < 2:
        raise InputError(f"track has {t.size} frame(s)", field="times_s", expected="at least 2 frames")
    det = track.detected
    if det.sum() < 2:
        raise InputError(f"a person was found in {int(det.sum())} of {t.size} frames", field="keypoints",
                         expected="at least 2 frames with a person")
    if fs_hz is None:
        fs_hz = round(1.0 / float(np.median(np.diff(t))), 2)
    if not np.isfinite(fs_hz) or fs_hz <= 0:
        raise InputError(f"rate is {fs_hz!r}", field="fs_hz", expected="a positive rate in Hz")
    n = int(np.floor((t[-1] - t[0]) * fs_hz + 1e-9)) + 1
    grid = t[0] + np.arange(n) / fs_hz
    kp = np.asarray(track.keypoints, dtype=float)[..., :2]
    out = np.full((n, kp.shape[1], 2), np.nan)
    # A grid sample is bridged when both neighbouring detected frames are within max_gap_s of each other.
    td = t[det]
    idx = np.clip(np.searchsorted(td, grid), 1, td.size - 1)
    span = td[idx] - td[idx - 1]
    exact = np.isin(grid, td)
    usable = (span <= max_gap_s + 1e-9) | exact
    usable &= (grid >= td[0] - 1e-9) & (grid <= td[-1] + 1e-9)
    for k in range(kp.shape[1]):
        for d in range(2):
            v = kp[det, k, d]
            ok = np.isfinite(v)
            if ok.sum() < 2:
                continue
            out[:, k, d] = np.interp(grid, td[ok], v[ok], left=np.nan, right=np.nan)
            # a keypoint missing in some detected frames: do not bridge its own long gaps either
            tk = td[ok]
            j = np.clip(np.searchsorted(tk, grid), 1, tk.size - 1)
            out[(tk[j] - tk[j - 1]) > max_gap_s + 1e-9, k, d] = np.nan
    out[~usable] = np.nan
    gaps = np.diff(np.concatenate([[t[0]], td, [t[-1]]]))
    report = {"n_frames": int(t.size), "n_detected": int(det.sum()), "detection_rate": float(det.mean()),
              "longest_gap_s": float(gaps.max()), "n_grid": int(n),
              "n_grid_missing": int(np.count_nonzero(~usable)),
              "n_grid_bridged": int(np.count_nonzero(usable & (span > 1.5 / fs_hz) & ~exact)),
              "max_gap_s": float(max_gap_s), "fs_hz": float(fs_hz)}
    return ResampledTrack(grid, out, track.schema, float(fs_hz), report, int(track.image_width),
                          int(track.image_height))


def _as_resampled(track, fs_hz=None, max_gap_s=0.25) -> ResampledTrack:
    if isinstance(track, ResampledTrack):
        return track
    return resample_track(track, fs_hz, max_gap_s=max_gap_s)


# -- helpers -------------------------------------------------------------------------------------------------
def _lowest_foot_y(J: dict[str, np.ndarray], side: str) -> np.ndarray:
    names = [f"{side}_{p}" for p in ("ankle", "heel", "foot_index") if f"{side}_{p}" in J]
    with warnings.catch_warnings():   # frames with no foot stay NaN, silently: they are counted elsewhere
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(np.stack([J[n][:, 1] for n in names]), axis=0)


def detect_stance_side(track) -> str:
    """The stance leg, from the feet's image heights.

    Preferred cue, valid in any view and whatever part of the trial the track holds: the stance foot stays
    planted while the lifted foot moves (lift, swing, touch-down), so the foot whose lowest point spans the
    smaller vertical range (5th-95th percentile of image y) is the stance foot, when the two ranges differ by
    more than 1.5 times. Otherwise the foot lower in the image in the frames where the feet are furthest apart
    (top quarter) is the stance foot (valid in a frontal view).
    """
    J = _as_resampled(track).joints()
    yl, yr = _lowest_foot_y(J, "left"), _lowest_foot_y(J, "right")
    ok = np.isfinite(yl) & np.isfinite(yr)
    if not ok.any():
        raise InputError("no frame with both feet visible", field="keypoints", expected="ankles in the image")
    yl, yr = yl[ok], yr[ok]
    span_l, span_r = (float(np.diff(np.percentile(y, [5, 95]))[0]) for y in (yl, yr))
    if max(span_l, span_r) > 1.5 * min(span_l, span_r) + 1e-6:
        return "right" if span_l > span_r else "left"
    d = yl - yr
    apart = d[np.abs(d) >= np.quantile(np.abs(d), 0.75)]
    return "left" if np.sum(apart) > 0 else "right"


def detect_view(track) -> str:
    """``"frontal"`` or ``"sagittal"`` from the image shoulder width relative to the trunk length."""
    J = _as_resampled(track).joints()
    width = np.linalg.norm(J["left_shoulder"] - J["right_shoulder"], axis=1)
    trunk = np.linalg.norm(0.5 * (J["left_shoulder"] + J["right_shoulder"]) - 0.5 * (J["left_hip"] + J["right_hip"]),
                           axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.nanmedian(width / trunk)
    return "frontal" if ratio > FRONTAL_VIEW_RATIO else "sagittal"


def _on_floor(camera, uv, floor_z: float = 0.0) -> np.ndarray:
    """Pixels (..., 2) back-projected onto the horizontal floor plane z = ``floor_z`` (lab frame, m)."""
    return camera.back_project_to_plane(uv, [0.0, 0.0, floor_z], [0.0, 0.0, 1.0])


#: A frontal-plane projection angle needs the camera facing the frontal plane at about knee height (Willson &
#: Davis 2008 film perpendicular to it); beyond this many degrees off in azimuth or elevation it is not computed.
FRONTAL_VIEW_TOLERANCE_DEG = 15.0


def camera_view_of_knee(camera, track, stance: str, *, floor_z: float = 0.0, knee_height_m: float = 0.5
                        ) -> tuple[float, float]:
    """(azimuth, elevation) in degrees of the calibrated camera as seen from the stance knee.

    Azimuth is the horizontal angle between the subject's facing direction (the stance foot's heel to toe on
    the floor, median over the track) and the direction to the camera, folded to 0-90° (a camera behind the
    subject sees the frontal plane too); elevation is the angle of the camera above the knee (the stance
    foot's floor point raised by ``knee_height_m``). A frontal view is (0, 0).
    """
    R = _as_resampled(track)
    J = R.joints()
    heel, toe = J.get(f"{stance}_heel"), J.get(f"{stance}_foot_index")
    if heel is None or toe is None:
        raise InputError("the skeleton has no heel or foot-index keypoints", field="keypoints",
                         expected="a skeleton with feet (BlazePose-33) to place the subject's facing direction")
    fh = np.nanmedian(_on_floor(camera, heel, floor_z), axis=0)
    ft = np.nanmedian(_on_floor(camera, toe, floor_z), axis=0)
    facing = (ft - fh)[:2]
    if not (np.all(np.isfinite(facing)) and np.hypot(*facing) > 0):
        raise InputError("the stance foot cannot be placed on the floor with this calibration", field="camera")
    knee = 0.5 * (fh + ft) + np.array([0.0, 0.0, knee_height_m])
    to_cam = camera.center - knee
    horiz = np.hypot(*to_cam[:2])
    cosang = float(np.clip(np.dot(to_cam[:2], facing) / (horiz * np.hypot(*facing)), -1.0, 1.0))
    az = float(np.degrees(np.arccos(abs(cosang))))
    el = float(np.degrees(np.arctan2(to_cam[2], horiz)))
    return az, el


def frontal_view_problem(camera, track, stance: str) -> str | None:
    """Why frontal-plane keypoint angles cannot be taken from this view, or None when they can.

    With a calibration the camera's azimuth and elevation from the knee must both be within
    :data:`FRONTAL_VIEW_TOLERANCE_DEG`; without one the image must look frontal (:func:`detect_view`).
    """
    if camera is None:
        view = detect_view(track)
        return None if view == "frontal" else f"the camera sees a {view} view: no frontal-plane angles"
    az, el = camera_view_of_knee(camera, track, stance)
    if az <= FRONTAL_VIEW_TOLERANCE_DEG and abs(el) <= FRONTAL_VIEW_TOLERANCE_DEG:
        return None
    return (f"the camera views the knee {az:.0f}° off the frontal axis and {el:.0f}° from above: a frontal-plane "
            f"projection angle needs a camera facing the frontal plane at about knee height (within "
            f"{FRONTAL_VIEW_TOLERANCE_DEG:g}°; Willson & Davis 2008), or knee flexion reads as valgus")


def pixel_scale_from_height(track, height_m: float, *, stance: str | None = None) -> float:
    """Metres per pixel at the subject, from the subject's stature and the figure's pixel height.

    The pixel stature is (stance-foot lowest point − mean eye level) / 0.936 (eye height fraction, Winter
    2009), median over the frames. Valid for a roughly upright figure seen by a camera at a distance much
    larger than the body's depth; lens tilt and perspective shrink the far parts.
    """
    if not (np.isfinite(height_m) and 0.5 < height_m < 2.5):
        raise InputError(f"height is {height_m!r} m", field="height_m", expected="a stature in metres (0.5-2.5)")
    R = _as_resampled(track)
    J = R.joints()
    stance = stance or detect_stance_side(R)
    eyes = [J[n][:, 1] for n in ("left_eye", "right_eye") if n in J]
    foot = _lowest_foot_y(J, stance)
    has_heel = f"{stance}_heel" in J
    frac = EYE_HEIGHT_FRACTION if has_heel else EYE_HEIGHT_FRACTION - ANKLE_HEIGHT_FRACTION
    with warnings.catch_warnings():   # frames without eyes or feet are skipped by the median
        warnings.simplefilter("ignore", RuntimeWarning)
        px = np.nanmedian((foot - np.nanmean(np.stack(eyes), axis=0)) / frac)
    if not np.isfinite(px) or px <= 0:
        raise InputError("cannot measure the figure's pixel height (no frame with eyes and stance foot)",
                         field="keypoints")
    return float(height_m / px)


# -- COM -----------------------------------------------------------------------------------------------------
@dataclass
class KeypointCOM:
    """COM from keypoints on a uniform grid.

    Attributes
    ----------
    time_s : (n,) s, candidate clock
    com_px : (n, 2) image pixels
    com_m : (n, 3) metres: lab frame (x, y, z) with a calibration, else image-plane (horizontal, 0, vertical)
        relative to the stance foot
    horizontal_m : (n,) metres along the one observable horizontal direction, positive towards image right
        (see ``observable_axis``)
    observable_axis : "ap" or "ml" - which sway axis the single camera sees
    method : str
    report : dict - detection rate, gaps, scale, plane
    """

    time_s: np.ndarray
    com_px: np.ndarray
    com_m: np.ndarray
    horizontal_m: np.ndarray
    observable_axis: str
    fs_hz: float
    method: str
    report: dict[str, Any] = field(default_factory=dict)


def stance_plane(camera, R: ResampledTrack, stance: str, *, floor_z: float = 0.0):
    """The vertical plane through the stance foot facing the camera: (point, normal) in the lab frame.

    The stance foot's floor point is the median over frames of its heel and toe keypoints back-projected onto
    the floor z = floor_z (the ankle at z = floor_z + 0.07 m for skeletons without feet).
    """
    J = R.joints()
    pts = []
    for part, z in (("heel", floor_z), ("foot_index", floor_z)):
        if f"{stance}_{part}" in J:
            pts.append(_on_floor(camera, J[f"{stance}_{part}"], z))
    if not pts:
        pts.append(_on_floor(camera, J[f"{stance}_ankle"], floor_z + 0.07))
    foot = np.nanmedian(np.concatenate(pts), axis=0)
    if not np.all(np.isfinite(foot)):
        raise InputError("the stance foot cannot be placed on the floor with this calibration (rays miss it)",
                         field="camera")
    normal = camera.optical_axis.copy()
    normal[2] = 0.0
    if np.linalg.norm(normal) < 1e-6:
        raise InputError("the camera looks straight down: no vertical plane faces it", field="camera")
    return np.array([foot[0], foot[1], floor_z]), normal / np.linalg.norm(normal)


def keypoint_com(track, *, camera=None, height_m: float | None = None, stance: str | None = None,
                 sex: str = "male", fs_hz: float | None = None, max_gap_s: float = 0.25, floor_z: float = 0.0,
                 lab_axes: tuple[str, str] = ("ap", "ml")) -> KeypointCOM:
    """Whole-body COM from keypoints, in pixels and metres.

    Parameters
    ----------
    track : KeypointTrack or ResampledTrack
    camera : PinholeCamera, optional
        Calibration (intrinsics, extrinsics, lab z up, floor at ``floor_z``). The 2-D COM is back-projected
        onto the vertical plane through the stance foot that faces the camera.
    height_m : float, optional
        Subject stature, used when there is no calibration (see :func:`pixel_scale_from_height`).
    stance : {"left", "right"}, optional
        Stance leg; detected from the feet when omitted.
    sex : {"male", "female"}
        de Leva column.
    fs_hz, max_gap_s : see :func:`resample_track`.
    lab_axes : tuple
        What lab x and y are (default x = AP, y = ML, as in the synthetic recordings and most C3D labs).

    Returns
    -------
    KeypointCOM

    Notes
    -----
    The segmental COM is linear in the joint positions, so the 2-D COM of the projected joints is the
    projection of the 3-D COM up to perspective (de Leva 1996; see ``whole_body_com``). Back-projection onto
    one plane assumes the COM stays near that plane; its depth sway is not observable from one camera, so
    only the in-plane horizontal component (``horizontal_m``) carries sway.
    """
    from ground_truth.anthropometry import whole_body_com

    R = _as_resampled(track, fs_hz, max_gap_s)
    if stance is None:
        stance = detect_stance_side(R)
    check_option("stance", stance, ("left", "right"))
    com_px = whole_body_com(R.joints(), sex)
    report = dict(R.report)
    report["stance"] = stance
    if camera is not None:
        p0, normal = stance_plane(camera, R, stance, floor_z=floor_z)
        com_m = camera.back_project_to_plane(com_px, p0, normal)
        h_dir = camera.rotation[0].copy()       # the camera's x axis (image right), made horizontal
        h_dir[2] = 0.0
        h_dir /= np.linalg.norm(h_dir)
        horizontal = (com_m - p0) @ h_dir
        axis = lab_axes[0] if abs(h_dir[0]) >= abs(h_dir[1]) else lab_axes[1]
        method = (f"de Leva {sex} segmental COM of the keypoints, back-projected with the camera calibration onto "
                  f"the vertical plane through the stance foot ({p0.round(3).tolist()} m) facing the camera")
        report.update(plane_point_m=p0.tolist(), plane_normal=normal.tolist(), horizontal_dir=h_dir.tolist())
    elif height_m is not None:
        scale = pixel_scale_from_height(R, height_m, stance=stance)
        ref = np.nanmedian(R.joints()[f"{stance}_ankle"], axis=0)
        com_m = np.stack([(com_px[:, 0] - ref[0]) * scale, np.zeros(len(com_px)), (ref[1] - com_px[:, 1]) * scale],
                         axis=-1)
        horizontal = com_m[:, 0]
        view = detect_view(R)
        axis = "ml" if view == "frontal" else "ap"
        method = (f"de Leva {sex} segmental COM of the keypoints, scaled by stature {height_m:g} m "
                  f"({scale * 1000:.3f} mm/px at the subject; {view} view)")
        report.update(m_per_px=scale, view=view)
    else:
        raise InputError("no way to scale pixels to metres", field="camera/height_m",
                         expected="a camera calibration or the subject's height")
    report["n_com_missing"] = int(np.count_nonzero(~np.isfinite(horizontal)))
    return KeypointCOM(R.time_s, com_px, com_m, horizontal, axis, R.fs_hz, method, report)


def com_sway_kpis(com: KeypointCOM, *, convention: str = "prieto1996", lowpass_hz: float | None = None
                  ) -> dict[str, dict[str, Any]]:
    """``com_*`` sway KPIs (registry names and units of :mod:`protocols.kpis`) of a keypoint COM.

    Returns ``{kpi: {"value", "unit", "method"}}``. The axis the camera cannot see gets NaN with the reason;
    ``com_path_length`` and ``com_mean_velocity`` are those of the observable axis alone (a lower bound of the
    2-D values), ``com_area_95_ellipse`` and ``com_mean_frequency`` (2-D definitions) are NaN.
    Frames left NaN by long detection gaps make the metrics NaN (edge gaps are trimmed first).
    """
    from ground_truth.sway.kpis import axis_sway_kpis
    from protocols import get_kpi

    if convention != "prieto1996":
        raise InputError(f"convention {convention!r}", field="convention",
                         expected="'prieto1996' (the convention both sides of a pair are measured under)")
    out = axis_sway_kpis(com.horizontal_m, com.fs_hz, com.observable_axis, signal="com", lowpass_hz=lowpass_hz,
                         method=com.method)
    for name, v in out.items():
        v["unit"] = get_kpi(name).unit
    return out


# -- angles (ground_truth.angles on 2-D keypoints) -------------------------------------------------------
def _image_up(camera, J, stance, R) -> np.ndarray | None:
    """Image direction of the lab vertical at the stance ankle (median over frames), or None (image-up)."""
    if camera is None:
        return None
    p0, normal = stance_plane(camera, R, stance)
    a3 = camera.back_project_to_plane(J[f"{stance}_ankle"], p0, normal)
    d = camera.project(a3 + [0.0, 0.0, 0.3]) - J[f"{stance}_ankle"]
    up = np.nanmedian(d / np.linalg.norm(d, axis=1, keepdims=True), axis=0)
    return up / np.linalg.norm(up)


def knee_fppa(track, side: str, *, up=None) -> np.ndarray:
    """Knee frontal-plane projection angle per frame (deg), valgus positive, on the track's own frames.

    ``ground_truth.angles.joint_angles(..., view="frontal")["knee_frontal"]``: inclination of the shank minus
    that of the thigh towards the medial side (the other hip) in the image (Willson & Davis 2008, J Orthop
    Sports Phys Ther 38:606) - the same function the marker side uses. ``up``: image direction of the vertical
    (default (0, -1)). Frames without the joints are NaN. Use a frontal view.
    """
    from ground_truth.angles import joint_angles

    check_option("side", side, ("left", "right"))
    names = SCHEMAS[track.schema]
    J = {n: track.keypoints[:, k, :2] for k, n in enumerate(names)}
    return joint_angles(J, side, up=up, view="frontal")["knee_frontal"]


def knee_frontal_excursion(track, side: str, *, up=None) -> dict[str, Any]:
    """``knee_frontal_excursion`` KPI: range (max − min, deg) of the stance knee's FPPA over the track."""
    from ground_truth.angles import angle_excursion

    f = knee_fppa(track, side, up=up)
    value, how = angle_excursion(track.times_s, f)
    return {"value": value, "unit": "deg",
            "method": f"{side} knee FPPA (Willson & Davis 2008; ground_truth.angles) in {f.size} frames: {how}"}


def keypoint_angles(track, *, stance: str | None = None, camera=None, view: str | None = None,
                    fs_hz: float | None = None, max_gap_s: float = 0.25) -> dict[str, Any]:
    """Stance-side knee, hip and ankle angles of the image's plane (deg) on a uniform grid.

    ``ground_truth.angles.joint_angles`` on the resampled 2-D keypoints with ``view`` (detected from the
    shoulder width when omitted) and the image vertical (with a camera: the projected lab vertical at the
    stance ankle). Returns the angle arrays plus ``time_s``, ``view`` and ``stance``.
    """
    from ground_truth.angles import joint_angles

    R = _as_resampled(track, fs_hz, max_gap_s)
    stance = stance or detect_stance_side(R)
    view = view or detect_view(R)
    J = R.joints()
    out = joint_angles(J, stance, up=_image_up(camera, J, stance, R), view=view)
    out.update(time_s=R.time_s, view=view, stance=stance)
    return out


def keypoint_strategy(track, *, stance: str | None = None, camera=None, view: str | None = None,
                      fs_hz: float | None = None):
    """Hip-vs-ankle strategy from keypoint angles through ``ground_truth.strategy.strategy_indicator``.

    One camera gives one plane's hip and ankle angles (frontal or sagittal, see :func:`keypoint_angles`). Pass
    the single-leg period only (slice the track first). Returns the ``StrategyResult``.
    """
    from ground_truth.strategy import strategy_indicator

    a = keypoint_angles(track, stance=stance, camera=camera, view=view, fs_hz=fs_hz)
    plane = a["view"]
    t = np.asarray(a["time_s"], dtype=float)
    # The angles are on the uniform grid of the resampled track; give its rate so that keypoint jitter is
    # low-passed before the RMS ratio (unfiltered noise pushes the hip fraction towards 0.5).
    fs = float(1.0 / np.median(np.diff(t))) if t.size > 1 else None
    return strategy_indicator(**{f"hip_{plane}": a[f"hip_{plane}"], f"ankle_{plane}": a[f"ankle_{plane}"]}, fs=fs)


# -- feet, events and time to failure -------------------------------------------------------------------------
def keypoint_feet(track, *, stance: str | None = None, camera=None, height_m: float | None = None,
                  fs_hz: float | None = None, max_gap_s: float = 0.25, floor_z: float = 0.0) -> dict[str, Any]:
    """Both feet's keypoints (ankle, heel, toe) in metres with z up, on a uniform grid.

    With a camera they are back-projected onto the stance plane (see :func:`stance_plane`; lab frame);
    without one they are scaled by the stature into image-plane metres (x = image right, y = 0, z = up,
    origin at the stance ankle). Returns ``time_s``, ``stance``, ``lifted_side``, ``stance_foot`` and
    ``lifted_foot`` (n, k, 3) and ``height_m`` (lowest lifted point minus lowest stance point).
    """
    R = _as_resampled(track, fs_hz, max_gap_s)
    stance = stance or detect_stance_side(R)
    lifted = "right" if stance == "left" else "left"
    J = R.joints()
    if camera is not None:
        p0, normal = stance_plane(camera, R, stance, floor_z=floor_z)

        def to_m(uv):
            return camera.back_project_to_plane(uv, p0, normal)
    elif height_m is not None:
        scale = pixel_scale_from_height(R, height_m, stance=stance)
        ref = np.nanmedian(J[f"{stance}_ankle"], axis=0)

        def to_m(uv):
            return np.stack([(uv[:, 0] - ref[0]) * scale, np.zeros(len(uv)), (ref[1] - uv[:, 1]) * scale], axis=-1)
    else:
        raise InputError("no way to scale pixels to metres", field="camera/height_m",
                         expected="a camera calibration or the subject's height")

    def foot(side):
        names = [f"{side}_{p}" for p in ("ankle", "heel", "foot_index") if f"{side}_{p}" in J]
        return np.stack([to_m(J[n]) for n in names], axis=1)
    st, li = foot(stance), foot(lifted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = np.nanmin(li[..., 2], axis=1) - np.nanmin(st[..., 2], axis=1)
    return {"time_s": R.time_s, "stance": stance, "lifted_side": lifted, "stance_foot": st, "lifted_foot": li,
            "height_m": h}


def keypoint_reach(track, *, direction: str, stance: str, camera, window: tuple[float, float] | None = None,
                   fs_hz: float | None = None, max_gap_s: float = 0.25, floor_z: float = 0.0):
    """Y-Balance reach from keypoints: ``ground_truth.reach.reach_distance`` on the floor plane.

    The heel and foot-index keypoints of both feet are back-projected onto the floor ``z = floor_z`` with the
    camera calibration (the only plane on which one camera measures distances in every direction, depth
    included); the stance foot's first 0.5 s place the Y, the reach foot's points are measured along the line.
    ``window`` is on the track's clock. Returns ``ground_truth.reach.Reach`` (metres).

    Notes
    -----
    A reach foot that hovers h above the floor is projected beyond (or short of) its true place by about
    h × (horizontal distance / height) of the camera; a camera placed high and oblique keeps that small.
    Without a calibration there is no floor plane: InputError.
    """
    from ground_truth.reach import reach_distance

    if camera is None:
        raise InputError("a reach distance needs a calibrated camera (the floor plane)", field="camera",
                         expected="a camera calibration for the trial")
    R = _as_resampled(track, fs_hz, max_gap_s)
    J = R.joints()
    lifted = "right" if stance == "left" else "left"
    need = [f"{side}_{part}" for side in (stance, lifted) for part in ("heel", "foot_index")]
    missing = [n for n in need if n not in J]
    if missing:
        raise InputError(f"the skeleton has no {', '.join(missing)} keypoints", field="keypoints",
                         expected="a skeleton with heel and foot-index points (BlazePose-33)")
    floor = {n: _on_floor(camera, J[n], floor_z) for n in need}
    reach_pts = np.stack([floor[f"{lifted}_heel"], floor[f"{lifted}_foot_index"]], axis=1)
    return reach_distance(R.time_s, floor[f"{stance}_heel"], floor[f"{stance}_foot_index"], reach_pts,
                          direction=direction, stance_leg=stance, window=window,
                          source="keypoints on the floor plane (camera calibration)")


def keypoint_time_to_failure(track, *, max_duration_s: float = 30.0, stance: str | None = None, camera=None,
                             height_m: float | None = None, rules=("touch_down",), lift_threshold_m: float = 0.02,
                             onset_m: float = 0.005, fs_hz: float | None = None, max_gap_s: float = 0.25):
    """Foot lift, touch-down and time-to-failure from keypoints, with the ground-truth side's rules.

    The feet from :func:`keypoint_feet` go through ``ground_truth.events.marker_events`` (lifted-foot height
    above its standing baseline of the first 0.5 s, low-passed at 6 Hz; a hysteresis that starts the timing
    when the foot stays above half its held height and stops it when it stays below ``lift_threshold_m``,
    each for 0.1 s, so keypoint jitter neither starts nor stops the clock; events refined along their edge down
    to ``onset_m``) and ``ground_truth.events.time_to_failure`` (censored at ``max_duration_s`` or at the end of
    the track). ``rules`` defaults to touch-down only: the stance-foot-moved rule needs a calibration, or
    keypoint jitter of a few centimetres reads as a moved foot. Returns ``(TimeToFailure, events)``.
    """
    from ground_truth.events import marker_events, time_to_failure

    f = keypoint_feet(track, stance=stance, camera=camera, height_m=height_m, fs_hz=fs_hz, max_gap_s=max_gap_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        events = marker_events(f["time_s"], f["lifted_foot"],
                               f["stance_foot"] if "stance_moved" in tuple(rules) else None, up_axis=2,
                               lift_threshold_m=lift_threshold_m, onset_m=onset_m,
                               lifted_side=f["lifted_side"].capitalize(), source="keypoints")
    if not any(e.name == "foot_lift" for e in events):
        raise InputError(f"no foot lift found (the {f['lifted_side']} foot never rose {lift_threshold_m} m above its "
                         f"first-0.5-s height)", field="keypoints", expected="a single-leg-stance trial")
    ttf = time_to_failure(events, max_duration_s=max_duration_s, recording_end_s=float(f["time_s"][-1]),
                          rules=rules, source="keypoints")
    return ttf, events
