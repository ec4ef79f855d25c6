"""One trial × candidate, end to end: gold standard → reference KPIs, video → keypoints → candidate KPIs,
clock alignment, and the paired KPI rows of ``results.json``.

This module is the thin layer between the orchestration and the project's parts (``ground_truth`` readers and
signals, ``candidates`` backbones and keypoint KPIs, ``harness.align``, ``device_runners``, ``harness.gates``,
``reports``). Each part is imported where it is used; a part that is missing or cannot run here raises
:class:`~ground_truth.kernel.errors.NotAvailableError` with a ``"not available: ..."`` reason that ends up in results,
never a crash of the study.
"""
from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import NotAvailableError, StancebenchError


def need(module: str, attr: str | None = None):
    """Import ``module`` (and ``attr`` from it) or raise NotAvailableError naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise NotAvailableError(f"not available: {module} cannot be imported ({exc})") from None
    if attr is None:
        return mod
    if not hasattr(mod, attr):
        raise NotAvailableError(f"not available: {module}.{attr} is not defined")
    return getattr(mod, attr)


# ------------------------------------------------------------------------------------------------ candidates
def resolve_candidate(spec):
    """Build the backbone of a :class:`~harness.manifest.CandidateSpec` (dict or dataclass)."""
    get_candidate = need("candidates.backbones.base", "get_candidate")
    s = spec if isinstance(spec, dict) else spec.__dict__
    target = s.get("manifest") or s.get("backbone") or s["name"]
    return get_candidate(str(target), **dict(s.get("params") or {}))


def candidate_identity(spec) -> dict:
    """Identity fields of a candidate for ``results.json``'s ``candidates`` list (no inference)."""
    cand = resolve_candidate(spec)
    ident = cand.identity.to_dict()
    ident.pop("name", None)
    return ident


def run_candidate(spec: dict, video: Path, cache_dir) -> Any:
    """Run (or load from the cache) a candidate on one video; returns the KeypointTrack."""
    cand = resolve_candidate(spec)
    return cand.run(video, cache_dir=cache_dir)


# ------------------------------------------------------------------------------------------------ sway KPIs
#: sway_metrics name (prieto1996 convention) -> KPI registry suffix (protocols.kpis: ``com_*`` / ``cop_*``)
SWAY_KPI_NAMES = {"path_length_cm": "path_length", "mean_velocity_cm_s": "mean_velocity",
                  "area95_cm2": "area_95_ellipse", "rms_ml_cm": "rms_ml", "rms_ap_cm": "rms_ap",
                  "mean_frequency_hz": "mean_frequency"}
SWAY_CONVENTION = "prieto1996"


def uniform_grid(t0: float, t1: float, fs: float) -> np.ndarray:
    n = int(math.floor((t1 - t0) * fs + 1e-9)) + 1
    return t0 + np.arange(n) / fs


def resample(t: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Linear interpolation of (n, ...) values onto ``grid``; NaN outside the span and across NaN samples."""
    values = np.asarray(values, dtype=float)
    flat = values.reshape(values.shape[0], -1)
    out = np.empty((grid.size, flat.shape[1]))
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        if ok.sum() < 2:
            out[:, j] = np.nan
            continue
        out[:, j] = np.interp(grid, t[ok], flat[ok, j], left=np.nan, right=np.nan)
        # do not bridge gaps longer than two samples of the source: those stay missing
        gap = np.zeros(t.size, bool)
        gap[~ok] = True
        if gap.any():
            idx = np.searchsorted(t, grid).clip(1, t.size - 1)
            out[gap[idx] | gap[idx - 1], j] = np.nan
    return out.reshape((grid.size,) + values.shape[1:])


def sway_kpis(t: np.ndarray, xy_m: np.ndarray, window: tuple[float, float], *, signal: str, fs_hz: float,
              lowpass_hz: float | None, axes=("ap", "ml"), source: str = "") -> dict[str, dict]:
    """Sway KPIs (registry names ``{signal}_path_length`` ...) of a horizontal trajectory within ``window``.

    The trajectory is resampled onto a uniform grid at ``fs_hz`` over the window (so both sides of a pair are
    measured on the same time base and rate), low-passed (4th-order zero-phase Butterworth) when
    ``lowpass_hz`` is set, then measured under the ``prieto1996`` convention of :func:`ground_truth.sway`.
    """
    sway_metrics = need("ground_truth.sway", "sway_metrics")
    grid = uniform_grid(window[0], window[1], fs_hz)
    xy = resample(t, xy_m, grid)
    bad = ~np.all(np.isfinite(xy), axis=1)
    if bad.all():
        raise NotAvailableError(f"no {signal.upper()} samples in the analysis window {window[0]:.2f}-{window[1]:.2f} s")
    if bad.any():
        # Edge gaps (the other clock starts later) are trimmed; gaps inside stay an error of sway_metrics.
        ok = np.flatnonzero(~bad)
        xy = xy[ok[0]: ok[-1] + 1]
    filt = ""
    if lowpass_hz:
        from ground_truth.sway.common import lowpass
        xy = lowpass(xy, fs_hz, lowpass_hz)
        filt = f", low-pass {lowpass_hz:g} Hz (4th-order zero-phase Butterworth)"
    res = sway_metrics(xy, fs_hz, SWAY_CONVENTION, units_in="m", axes=axes)
    method = (f"{source}; {SWAY_CONVENTION} convention on {xy.shape[0]} samples at {fs_hz:g} Hz{filt}, "
              f"window {window[0]:.2f}-{window[1]:.2f} s (reference clock); the file's two horizontal axes "
              f"taken as {axes[0].upper()}, {axes[1].upper()}")
    return {f"{signal}_{SWAY_KPI_NAMES[k]}": {"value": float(v), "method": method}
            for k, v in res.metrics.items() if k in SWAY_KPI_NAMES}


# ------------------------------------------------------------------------------------------------ one trial
class Side:
    """Signals of one side of a trial, each ``name -> (time_s, values)`` on that side's own clock.

    ``kpis`` collects direct KPI values computed by the side's own part of the project (time-to-failure,
    strategy label, ...) as ``name -> {"value", "method", "censored"}``; ``unavailable`` records why a KPI
    could not be computed on this side.
    """

    def __init__(self, name: str):
        self.name = name
        self.signals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.sources: dict[str, str] = {}
        self.kpis: dict[str, dict] = {}
        self.unavailable: dict[str, str] = {}
        self.events: dict[str, float] = {}
        self.event_list: list = []
        self.event_source = "none"
        self.kinematic_events: list | None = None     # reference: foot events from markers (alignment)
        self.span: tuple[float, float] | None = None
        self.axes = ("ap", "ml")
        self.meta: dict[str, Any] = {}
        self.track = None
        self.camera = None
        self.observable_axis = None
        self.horizontal_dir = None
        self.plane_point = None
        self.stabilogram: dict | None = None     # candidate: both sides' COM on the KPI grid (report figure)
        self.step: tuple[float, str] | None = None   # bipedal protocols: first step (own clock), what saw it
        self.step_source = ""

    def add(self, name: str, t, values, source: str) -> None:
        self.signals[name] = (np.asarray(t, float), np.asarray(values, float))
        self.sources[name] = source


def _reference_side(trial: dict, subject: dict) -> tuple[Side, Any]:
    read_recording = need("ground_truth.readers", "read_recording")
    path = trial["gold_standard"][0]
    rec = read_recording(path)
    side = Side("reference")
    spans = []
    if rec.plates:
        t, cop = rec.horizontal_cop("net")
        side.add("cop", t, cop, f"force plate net COP ({len(rec.plates)} plate(s)) from {Path(path).name}")
        ts = rec.plate("net")
        side.add("grf_vertical", ts.time, ts["force"][:, rec.vertical_axis], "net vertical GRF")
        spans.append((float(t[0]), float(t[-1])))
    if rec.markers is not None:
        spans.append((float(rec.markers.time[0]), float(rec.markers.time[-1])))
    side.event_list = []
    side.event_source = "none"
    if len(rec.plates) >= 2:
        try:
            side.event_list = need("ground_truth.events", "plate_events_from_recording")(rec)
            side.event_source = "force plates (ground_truth.events.plate_events_from_recording)"
        except Exception as exc:  # noqa: BLE001 - fall back on the file's own events
            side.unavailable["events"] = f"plate events: {type(exc).__name__}: {exc}"
    if not any(e.name == "foot_lift" for e in side.event_list) and rec.events:
        side.event_list = list(rec.events)
        side.event_source = "events stored in the gold-standard file"
    for ev in side.event_list:
        side.events.setdefault(ev.name, float(ev.time))
    _reference_ankle(side, rec, trial)
    _reference_foot_events(side, rec, trial)
    _reference_com(side, rec, subject)
    _derived_alignment_signals(side, _reference_points(rec), "markers")
    side.span = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    return side, rec


#: Marker names of the lateral malleolus in common marker sets (Plug-in Gait, OpenCap/AddBiomechanics, ...).
ANKLE_MARKERS = {"left": ("LANK", "L_ankle", "L.Ankle", "LLMAL", "L_LatAnkle", "left_ankle"),
                 "right": ("RANK", "r_ankle", "R.Ankle", "RLMAL", "R_LatAnkle", "right_ankle")}
#: Heel and toe markers of the same marker sets; with the ankle, the points of a foot (foot events).
HEEL_MARKERS = {"left": ("LHEE", "L_calc", "L.Heel", "LHEEL"), "right": ("RHEE", "r_calc", "R.Heel", "RHEEL")}
TOE_MARKERS = {"left": ("LTOE", "L_toe", "L.Toe", "LMT2", "LTT2"), "right": ("RTOE", "r_toe", "R.Toe", "RMT2", "RTT2")}
FOOT_MARKERS = {side: ANKLE_MARKERS[side] + HEEL_MARKERS[side] + TOE_MARKERS[side] for side in ("left", "right")}


def _foot_points(markers, side: str, names=None):
    """(n, k, 3) positions of one foot's markers found in ``markers`` (a z-up TimeSeries), or None.

    ``names`` restricts the search (default every name in :data:`FOOT_MARKERS`)."""
    lookup = {n.lower(): n for n in markers.channels}
    found = list(dict.fromkeys(lookup[m.lower()] for m in (names or FOOT_MARKERS[side]) if m.lower() in lookup))
    return np.stack([markers[n] for n in found], axis=1) if found else None


def _reference_foot_events(side: Side, rec, trial: dict) -> None:
    """Foot events of the gold standard's markers (``ground_truth.events.marker_events``): the same kinematic
    definition as the keypoints' events, for event-based clock alignment (``side.kinematic_events``)."""
    if rec.markers is None:
        return
    markers = _markers_z_up(rec)
    free = "left" if trial["stance_leg"] == "right" else "right"
    lifted, stance = _foot_points(markers, free), _foot_points(markers, trial["stance_leg"])
    if lifted is None:
        side.unavailable["kinematic_events"] = f"no {free} foot markers ({', '.join(FOOT_MARKERS[free])})"
        return
    try:
        side.kinematic_events = need("ground_truth.events", "marker_events")(markers.time, lifted, stance)
    except StancebenchError as exc:
        side.unavailable["kinematic_events"] = f"marker foot events: {exc}"


def _reference_ankle(side: Side, rec, trial: dict) -> None:
    """Height of the lifted foot's ankle marker (an alignment signal: the foot lift is sharp on both sides)."""
    if rec.markers is None:
        return
    free = "left" if trial["stance_leg"] == "right" else "right"
    lookup = {n.lower(): n for n in rec.markers.channels}
    for cand_name in ANKLE_MARKERS[free]:
        name = lookup.get(cand_name.lower())
        if name is not None:
            side.add("free_ankle_vertical", rec.markers.time, rec.markers[name][:, rec.vertical_axis],
                     f"marker {name} height (lifted foot)")
            return


def _reference_points(rec):
    """All marker positions as (time, (n, k, 3)), or None without markers."""
    if rec.markers is None:
        return None
    chans = [k for k in rec.markers.channels if rec.markers[k].ndim == 2]
    return (rec.markers.time, np.stack([rec.markers[k] for k in chans], axis=1)) if chans else None


def _derived_alignment_signals(side: Side, points, what: str, mass_kg: float | None = None) -> None:
    """Alignment signals derived from the side's own (``harness.align``), where available: the velocity of the
    vertical COM, the vertical GRF that the COM's acceleration implies (``mass_kg`` given: the candidate side,
    whose plates are the keypoints) and the motion energy of ``points`` (time, (n, k, d))."""
    align = need("harness.align")
    if "com_vertical" in side.signals:
        t, z = side.signals["com_vertical"]
        try:
            side.add("com_vertical_velocity", t, align.vertical_velocity(t, z),
                     side.sources["com_vertical"] + ", velocity")
            if mass_kg is not None:
                side.add("grf_vertical", t, align.com_vertical_force(t, z, mass_kg),
                         f"body mass x (vertical COM acceleration + g), {side.sources['com_vertical']}")
        except StancebenchError as exc:
            side.unavailable["com_vertical_velocity"] = side.unavailable["grf_vertical"] = str(exc)
    if points is not None:
        try:
            side.add("motion_energy", points[0], align.motion_energy(*points), f"motion energy of the {what}")
        except StancebenchError as exc:
            side.unavailable["motion_energy"] = str(exc)


def _reference_com(side: Side, rec, subject: dict) -> None:
    """Whole-body COM of the gold standard: markers (segmental model) first, else force plates (horizontal)."""
    com_mod = need("ground_truth.com")
    sex = _sex(subject.get("sex"))
    if rec.markers is not None:
        markers = _markers_z_up(rec)
        try:
            ts = com_mod.com_from_markers(markers, sex)
            com = ts["com"]
            method = ts.meta.get("method", "com_from_markers")
            side.add("com_xyz", ts.time, com, method)
            side.add("com", ts.time, com[:, :2], method)
            side.add("com_vertical", ts.time, com[:, 2], method)
            side.axes = ("ap", "ml")   # z-up lab frame: x anterior, y left (C3D labs; the synthetic lab)
            return
        except Exception as exc:  # noqa: BLE001 - fall back on the plates, keep the reason
            side.unavailable["com"] = f"COM from markers: {type(exc).__name__}: {exc}"
    if rec.plates:
        try:
            ts = com_mod.com_from_plates(rec, subject["mass_kg"], height_m=subject["height_m"])
            side.add("com", ts.time, ts["com"], ts.meta.get("method", "com_from_plates"))
            side.unavailable.pop("com", None)
        except Exception as exc:  # noqa: BLE001
            side.unavailable["com"] = (side.unavailable.get("com", "") + f"; COM from plates: "
                                       f"{type(exc).__name__}: {exc}").lstrip("; ")


def _sex(s) -> str:
    return "female" if str(s or "").lower() in ("f", "female") else "male"


def _candidate_side(spec: dict, trial: dict, subject: dict, settings: dict) -> tuple[Side, Any]:
    track = run_candidate(spec, trial["video"][0], settings.get("cache_dir"))
    side = Side("candidate")
    side.span = (float(track.times_s[0]), float(track.times_s[-1])) if track.n_frames else None
    side.meta = {"n_frames": track.n_frames, "detection_rate": track.detection_rate,
                 "cache_hit": bool(track.meta.get("cache_hit")), "ms_per_frame": track.meta.get("ms_per_frame"),
                 "image_size": [track.image_width, track.image_height]}
    _candidate_signals(side, track, trial, subject)
    return side, track


def read_camera(trial: dict):
    """The trial's calibrated camera (camera TOML or Qualisys .qca.txt), or None."""
    if not trial.get("camera"):
        return None
    cal = need("candidates.calibration")
    path = Path(trial["camera"])
    name = trial.get("camera_name")
    if path.name.endswith(".qca.txt") or path.suffix == ".qca":
        cams = cal.read_qca(path)
        if name is None:
            if len(cams) != 1:
                from ground_truth.kernel import ManifestError
                raise ManifestError(f"calibration holds {len(cams)} cameras", file=path, field="camera_name",
                                    expected=f"camera_name = one of {', '.join(cams)}")
            return next(iter(cams.values()))
        return cams[name]
    return cal.read_camera_toml(path, name)


def _candidate_signals(side: Side, track, trial: dict, subject: dict) -> None:
    """COM, lifted-foot height and the track itself from keypoints (``candidates.kpis``)."""
    kp = need("candidates.kpis")
    camera = read_camera(trial)
    side.track, side.camera = track, camera
    stance = trial["stance_leg"]
    sex = _sex(subject.get("sex"))
    try:
        kc = kp.keypoint_com(track, camera=camera, height_m=subject["height_m"], stance=stance, sex=sex)
        side.keypoint_com = kc
        side.add("com_h", kc.time_s, kc.horizontal_m, kc.method)
        side.add("com_vertical", kc.time_s, kc.com_m[:, 2], kc.method + " (vertical)")
        side.observable_axis = kc.observable_axis
        side.horizontal_dir = kc.report.get("horizontal_dir")
        side.plane_point = kc.report.get("plane_point_m")
    except Exception as exc:  # noqa: BLE001 - reported per KPI
        side.unavailable["com"] = f"keypoint COM: {type(exc).__name__}: {exc}"
    try:
        feet = kp.keypoint_feet(track, stance=stance, camera=camera, height_m=subject["height_m"])
        side.add("free_foot_height", feet["time_s"], feet["height_m"], "lifted foot height from keypoints")
    except Exception as exc:  # noqa: BLE001
        side.unavailable["free_foot_height"] = f"lifted foot height: {type(exc).__name__}: {exc}"
    try:
        _ttf, side.event_list = kp.keypoint_time_to_failure(track, stance=stance, camera=camera,
                                                            height_m=subject["height_m"])
        side.event_source = "keypoints (candidates.kpis.keypoint_time_to_failure)"
    except Exception as exc:  # noqa: BLE001
        side.unavailable["events"] = f"keypoint foot events: {type(exc).__name__}: {exc}"
    kxy = np.asarray(track.keypoints, float)[..., :2]
    _derived_alignment_signals(side, (np.asarray(track.times_s, float), kxy), "keypoints", subject["mass_kg"])


def _first_step_reference(side: Side, rec) -> None:
    """Bipedal trials: the first time either foot leaves the floor (a step), from the plates (each plate taken
    in turn as the lifted foot's) or else the foot markers; ``side.step`` = (time, source) or the reason."""
    ev = need("ground_truth.events")
    found = []
    if len(rec.plates) >= 2:
        v = rec.vertical_axis
        fz = [p.force[:, v] for p in rec.plates[:2]]
        t = rec.plates[0].signals.time
        for a, b in ((0, 1), (1, 0)):
            found += [(e.time, f"force plate {b} unloaded (threshold {rec.plates[0].threshold_n:g} N)")
                      for e in ev.plate_events(t, fz[a], fz[b], threshold_n=rec.plates[0].threshold_n)
                      if e.name == "foot_lift"]
        side.step_source = "force plates (either foot's plate unloads)"
    elif rec.markers is not None:
        markers = _markers_z_up(rec)
        for leg in ("left", "right"):
            pts = _foot_points(markers, leg)
            if pts is not None:
                found += [(e.time, f"{leg} foot markers rise") for e in ev.marker_events(markers.time, pts)
                          if e.name == "foot_lift"]
        side.step_source = "foot markers (either foot rises)"
    else:
        side.unavailable["time_to_failure"] = "no second force plate and no markers: a step cannot be seen"
        return
    side.step = min(found) if found else None


def _first_step_candidate(side: Side, subject: dict) -> None:
    """Bipedal trials: the first foot lift of either foot in the keypoints (candidate clock)."""
    kp = need("candidates.kpis")
    ev = need("ground_truth.events")
    found = []
    for leg in ("left", "right"):
        try:
            f = kp.keypoint_feet(side.track, stance="right" if leg == "left" else "left", camera=side.camera,
                                 height_m=subject["height_m"])
            found += [(e.time, f"{leg} foot keypoints rise") for e in ev.marker_events(f["time_s"], f["lifted_foot"])
                      if e.name == "foot_lift"]
        except StancebenchError as exc:
            side.unavailable["time_to_failure"] = f"keypoint feet: {exc}"
            return
    side.step_source = "keypoints (either foot rises, ground_truth.events.marker_events)"
    side.step = min(found) if found else None


def _is_bipedal(protocol, trial: dict) -> bool:
    return protocol.condition(trial["condition"]).stance == "bipedal"


def process_trial(task: dict, row: dict, figures: dict) -> None:
    """Fill ``row`` (a ``trials[]`` entry of results.json) for one trial × candidate."""
    from protocols import get_protocol, protocol_from_dict, register_protocol

    trial, subject, spec, settings = task["trial"], task["subject"], task["candidate"], task["settings"]
    if task.get("protocol_def"):
        register_protocol(protocol_from_dict(task["protocol_def"]))
    protocol = get_protocol(trial["protocol"])
    kpi_names = list(settings.get("kpis") or protocol.kpi_names)
    max_duration = float(trial.get("duration_s") or protocol.condition(trial["condition"]).duration_s)
    bipedal = _is_bipedal(protocol, trial)
    ref = cand = _rec = None
    if trial["kind"] != "candidate-only":
        ref, _rec = _reference_side(trial, subject)
        if bipedal:
            _first_step_reference(ref, _rec)
    if spec is not None:
        cand, track = _candidate_side(spec, trial, subject, settings)
        row["detection_rate"] = cand.meta["detection_rate"]
        row["candidate_identity"] = dict(track.candidate)
        row["inference"] = cand.meta
        if bipedal:
            _first_step_candidate(cand, subject)
    alignment = None
    if ref is not None and cand is not None:
        alignment = align_sides(ref, cand, settings, trial)
        row["alignment"] = alignment
    # Analysis window on the reference clock (the candidate clock when there is no reference).
    window = _analysis_window(ref, cand, alignment, protocol, trial, max_duration, bipedal=bipedal)
    row["window_s"] = list(window)
    fs = float(settings.get("sway_rate_hz") or 0) or _common_rate(cand)
    lp = settings.get("sway_lowpass_hz", 5.0)
    values = _kpi_values(ref, _rec, cand, kpi_names, window, fs, lp, alignment,
                         trial, subject, max_duration, bipedal=bipedal)
    row["kpis"] = _pair_rows(kpi_names, values.get("reference"), values.get("candidate"), trial["kind"])
    row["sway_rate_hz"] = fs
    _figures(figures, ref, cand, alignment, window)
    row["figures_available"] = bool(figures)


def _kpi_values(ref, rec, cand, kpi_names, window, fs, lp, alignment, trial, subject, max_duration, *,
                bipedal: bool = False) -> dict:
    r: dict[str, dict] = {}
    c: dict[str, dict] = {}
    cop = [k for k in kpi_names if k.startswith("cop_")]
    if cop:
        if ref is not None:
            if "cop" in ref.signals:
                t, xy = ref.signals["cop"]
                try:
                    r.update(sway_kpis(t, xy, window, signal="cop", fs_hz=fs, lowpass_hz=lp, axes=ref.axes,
                                       source=ref.sources["cop"]))
                except Exception as exc:  # noqa: BLE001
                    r.update({k: {"value": None, "status": f"{type(exc).__name__}: {exc}"} for k in cop})
            else:
                r.update({k: {"value": None, "status": "the gold standard has no force plate"} for k in cop})
        if cand is not None:
            c.update({k: {"value": None, "status": "not available: candidates.kpis has no COP estimate from "
                                                   "keypoints"} for k in cop})
    com = [k for k in kpi_names if k.startswith("com_")]
    if com:
        rc, cc = _com_kpis(ref, cand, com, window, fs, lp, alignment)
        r.update(rc)
        c.update(cc)
    if "time_to_failure" in kpi_names and bipedal:
        for side, out, clock in ((ref, r, None), (cand, c, alignment if ref is not None else None)):
            if side is not None:
                out["time_to_failure"] = _step_ttf(side, window, clock, max_duration)
    elif "time_to_failure" in kpi_names:
        if ref is not None:
            r["time_to_failure"] = _reference_ttf(ref, max_duration)
        if cand is not None:
            try:
                c["time_to_failure"] = _candidate_ttf(cand, trial, subject, max_duration)
            except Exception as exc:  # noqa: BLE001
                c["time_to_failure"] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    reach = [k for k in kpi_names if k.startswith("ybt_")]
    if reach:
        rv, cv = _reach_kpis(ref, rec, cand, reach, window, alignment, trial, subject)
        r.update(rv)
        c.update(cv)
    rest = [k for k in kpi_names if k in ("strategy_label", "knee_frontal_excursion")]
    if rest:
        if ref is not None:
            r.update(_reference_window_kpis(ref, rec, window, trial, rest))
        if cand is not None:
            try:
                c.update(_candidate_window_kpis(cand, window, alignment, trial, rest))
            except Exception as exc:  # noqa: BLE001
                c.update({k: {"value": None, "status": f"{type(exc).__name__}: {exc}"} for k in rest})
    for side, vals in ((ref, r), (cand, c)):
        if side is None:
            continue
        for k in kpi_names:
            vals.setdefault(k, {"value": None, "status": side.unavailable.get(k, f"not computed on the "
                                                                               f"{side.name} side")})
    return {"reference": r if ref is not None else None, "candidate": c if cand is not None else None}


def _reach_kpis(ref, rec, cand, wanted, window, alignment, trial, subject) -> tuple[dict, dict]:
    """Y-Balance: the reach of this trial's direction (its condition) on both sides, in % of leg length
    (``ground_truth.reach``: markers; ``candidates.kpis.keypoint_reach``: keypoints on the floor plane). The
    composite is a subject-level score from the best reaches (``harness.composite``), not a trial's."""
    direction = trial["condition"]
    own = f"ybt_{direction}_reach"
    r_out, c_out = {}, {}
    for k in wanted:
        if k == "ybt_composite":
            why = "a subject-level score: the best reach of each direction (harness.composite rows)"
        elif k != own:
            why = f"this trial reaches {direction}"
        else:
            continue
        r_out[k] = c_out[k] = {"value": None, "status": why}
    if own not in wanted:
        return (r_out if ref is not None else {}), (c_out if cand is not None else {})
    leg = subject.get("leg_length_m")
    if not leg:
        r_out[own] = c_out[own] = {"value": None, "status": f"subject {subject.get('id')} has no leg_length_m "
                                                             f"(reaches are normalised by it)"}
        return (r_out if ref is not None else {}), (c_out if cand is not None else {})
    pct = 100.0 / float(leg)
    if ref is not None:
        try:
            if rec.markers is None:
                raise NotAvailableError("the gold standard has no markers")
            markers = _markers_z_up(rec)
            st, fr = trial["stance_leg"], "left" if trial["stance_leg"] == "right" else "right"
            heel, toe = (_foot_points(markers, st, HEEL_MARKERS[st]), _foot_points(markers, st, TOE_MARKERS[st]))
            pts = _foot_points(markers, fr, HEEL_MARKERS[fr] + TOE_MARKERS[fr])
            if heel is None or toe is None or pts is None:
                raise NotAvailableError(f"no heel and toe markers on both feet ({', '.join(HEEL_MARKERS[st])}; "
                                        f"{', '.join(TOE_MARKERS[st])})")
            res = need("ground_truth.reach", "reach_distance")(markers.time, heel[:, 0], toe[:, 0], pts,
                                                               direction=direction, stance_leg=st, window=window,
                                                               source="foot markers")
            r_out[own] = {"value": res.distance_m * pct, "distance_m": res.distance_m,
                          "method": f"{res.method}; / leg length {leg:g} m x 100"}
        except StancebenchError as exc:
            r_out[own] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    if cand is not None:
        try:
            lo, hi = _to_cand_clock(np.array(window), alignment)
            res = need("candidates.kpis", "keypoint_reach")(cand.track, direction=direction,
                                                            stance=trial["stance_leg"], camera=cand.camera,
                                                            window=(float(lo), float(hi)))
            c_out[own] = {"value": res.distance_m * pct, "distance_m": res.distance_m,
                          "method": f"{res.method}; / leg length {leg:g} m x 100"}
        except StancebenchError as exc:
            c_out[own] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    return (r_out if ref is not None else {}), (c_out if cand is not None else {})


def _common_rate(cand: Side | None) -> float:
    """Sway KPIs of both sides are measured at the video's median frame rate (100 Hz without video)."""
    if cand is None or cand.span is None or not cand.meta.get("n_frames"):
        return 100.0
    n = cand.meta["n_frames"]
    return float(round((n - 1) / (cand.span[1] - cand.span[0]), 3)) if n > 1 else 30.0


def _to_ref_clock(t_cand: np.ndarray, alignment: dict | None) -> np.ndarray:
    if not alignment:
        return t_cand
    drift = (alignment.get("drift_ppm") or 0.0) * 1e-6
    return t_cand + alignment["offset_s"] + drift * t_cand


def _analysis_window(ref, cand, alignment, protocol, trial, max_duration, *, bipedal: bool = False
                     ) -> tuple[float, float]:
    """The analysed period on the reference clock: the overlap of both sides, at most ``max_duration`` long.

    Single-leg stance: from the foot lift to the touch-down. Bipedal protocols (mCTSIB): from the start of the
    overlap to the gold standard's first step (the failure), else the maximum.
    """
    spans = []
    if ref is not None and ref.span:
        spans.append(ref.span)
    if cand is not None and cand.span:
        a, b = _to_ref_clock(np.array(cand.span), alignment if ref is not None else None)
        spans.append((float(a), float(b)))
    if not spans:
        raise NotAvailableError("neither side has any samples")
    lo, hi = max(s[0] for s in spans), min(s[1] for s in spans)
    side = ref if ref is not None else cand
    if bipedal:
        step = side.step
        if step is not None:
            t_step = step[0] if side is ref else float(_to_ref_clock(np.array([step[0]]), alignment)[0])
            if lo < t_step <= hi:
                hi = t_step
        hi = min(hi, lo + max_duration)
        if hi - lo < 1.0:
            from ground_truth.kernel import AlignmentError
            raise AlignmentError(f"the two sides overlap for only {hi - lo:.2f} s before the first step")
        return (float(lo), float(hi))
    # Single-leg stance KPIs start at foot lift (protocol notes); use the reference's event when known.
    lift = side.events.get("foot_lift")
    if lift is not None and lo <= lift < hi:
        lo = lift
    end = side.events.get("touch_down") or side.events.get("touchdown") or side.events.get("foot_touchdown")
    if end is not None and lo < end <= hi:
        hi = end
    hi = min(hi, lo + max_duration)
    if hi - lo < 1.0:
        from ground_truth.kernel import AlignmentError
        raise AlignmentError(f"the two sides overlap for only {hi - lo:.2f} s on the reference clock")
    return (float(lo), float(hi))


def _to_cand_clock(t_ref, alignment: dict | None):
    if not alignment:
        return np.asarray(t_ref, float)
    drift = (alignment.get("drift_ppm") or 0.0) * 1e-6
    return (np.asarray(t_ref, float) - alignment["offset_s"]) / (1.0 + drift)


def slice_track(track, t0: float, t1: float):
    """The frames of a keypoint track with t0 <= time < t1 (candidate clock)."""
    from candidates.track import KeypointTrack
    keep = (track.times_s >= t0) & (track.times_s < t1)
    return KeypointTrack(track.times_s[keep], track.keypoints[keep], track.confidence[keep], track.schema,
                         track.image_width, track.image_height, dict(track.candidate), dict(track.meta))


def _axis_com_kpis(t_grid, x, fs, axis, lowpass_hz, method):
    """COM sway KPIs of one horizontal component through candidates.kpis.com_sway_kpis (the definition the
    keypoint side uses), so both sides of a pair are measured by the same code on the same grid."""
    kp = need("candidates.kpis")
    com = kp.KeypointCOM(time_s=t_grid, com_px=np.full((t_grid.size, 2), np.nan),
                         com_m=np.column_stack([x, np.zeros_like(x), np.zeros_like(x)]), horizontal_m=x,
                         observable_axis=axis, fs_hz=fs, method=method)
    return kp.com_sway_kpis(com, convention=SWAY_CONVENTION, lowpass_hz=lowpass_hz or None)


def _com_kpis(ref, cand, wanted, window, fs, lp, alignment) -> tuple[dict, dict]:
    r_out, c_out = {}, {}
    grid = uniform_grid(window[0], window[1], fs)
    if cand is not None and "com_h" in cand.signals:
        axis = cand.observable_axis
        ct, cx = cand.signals["com_h"]
        xc = resample(_to_ref_clock(ct, alignment), cx, grid)
        c_out = _axis_com_kpis(grid, xc, fs, axis, lp, cand.sources["com_h"] +
                               "; resampled onto the analysis grid (reference clock)")
        if ref is not None:
            if "com_xyz" in ref.signals:
                rt, rxyz = ref.signals["com_xyz"]
                if cand.horizontal_dir is not None:
                    d = np.asarray(cand.horizontal_dir, float)
                    xr = resample(rt, rxyz @ d, grid)
                    how = (f"{ref.sources['com_xyz']}; projected on the camera's horizontal image axis "
                           f"{np.round(d, 3).tolist()} (the one component the candidate observes)")
                else:
                    j = 1 if axis == "ml" else 0
                    xr = resample(rt, rxyz[:, j], grid)
                    how = f"{ref.sources['com_xyz']}; lab {'y' if j else 'x'} ({axis.upper()}) component"
                r_out = _axis_com_kpis(grid, xr, fs, axis, lp, how)
                cand.stabilogram = {"t": grid, "reference": xr, "candidate": xc, "axis": axis, "lowpass_hz": lp}
            elif "com" in ref.signals:
                rt, rxy = ref.signals["com"]
                j = ref.axes.index(axis)
                xr = resample(rt, rxy[:, j], grid)
                r_out = _axis_com_kpis(grid, xr, fs, axis, lp, f"{ref.sources['com']}; {axis.upper()} component")
                cand.stabilogram = {"t": grid, "reference": xr, "candidate": xc, "axis": axis, "lowpass_hz": lp}
            else:
                r_out = {k: {"value": None, "status": ref.unavailable.get("com", "no reference COM")} for k in wanted}
    else:
        if cand is not None:
            c_out = {k: {"value": None, "status": cand.unavailable.get("com", "no keypoint COM")} for k in wanted}
        if ref is not None:
            if "com" in ref.signals:
                t, xy = ref.signals["com"]
                try:
                    r_out = sway_kpis(t, xy, window, signal="com", fs_hz=fs, lowpass_hz=lp, axes=ref.axes,
                                      source=ref.sources["com"])
                except Exception as exc:  # noqa: BLE001
                    r_out = {k: {"value": None, "status": f"{type(exc).__name__}: {exc}"} for k in wanted}
            else:
                r_out = {k: {"value": None, "status": ref.unavailable.get("com", "no reference COM")} for k in wanted}
    for out in (r_out, c_out):
        for k, v in list(out.items()):
            val = v.get("value")
            if val is not None and not np.isfinite(val):
                out[k] = {"value": None, "status": v.get("method")}
    return ({k: r_out.get(k, {"value": None}) for k in wanted} if ref is not None else {},
            {k: c_out.get(k, {"value": None}) for k in wanted} if cand is not None else {})


#: Stopping rules applied on both sides (the stance-foot-moved rule needs a calibrated, low-jitter foot track).
TTF_RULES = ("touch_down",)


def _step_ttf(side: Side, window, alignment, max_duration: float) -> dict:
    """Bipedal time-to-failure: from the start of the analysis window to the side's first step (the mCTSIB's
    'step' stopping rule), censored at the maximum or at the end of the recording."""
    if "time_to_failure" in side.unavailable:
        return {"value": None, "status": side.unavailable["time_to_failure"]}
    t0 = float(window[0])
    span_end = side.span[1] if side.span else t0
    end = float(_to_ref_clock(np.array([span_end]), alignment)[0]) - t0
    how = f"{side.step_source}; from the start of the analysis window (reference clock), max {max_duration:g} s"
    step = side.step
    if step is not None:
        t = float(_to_ref_clock(np.array([step[0]]), alignment)[0]) - t0
        if 0 < t < max_duration:
            return {"value": t, "censored": False, "method": f"{how}; stopped by a step ({step[1]})"}
    if end < max_duration:
        return {"value": max(end, 0.0), "censored": True, "method": f"{how}; censored: the recording ended"}
    return {"value": float(max_duration), "censored": True, "method": f"{how}; censored at the maximum"}


def _reference_ttf(ref: Side, max_duration: float) -> dict:
    """Time-to-failure of the gold standard from its foot events (ground_truth.events), censored at the max."""
    ttf_fn = need("ground_truth.events", "time_to_failure")
    if not any(e.name == "foot_lift" for e in ref.event_list):
        return {"value": None, "status": f"no foot_lift event in the gold standard ({ref.event_source})"}
    r = ttf_fn(ref.event_list, max_duration_s=max_duration, recording_end_s=ref.span[1], rules=TTF_RULES,
               source=ref.event_source)
    return {"value": float(r.value_s), "censored": bool(r.censored),
            "method": f"{r.source}; {r.rule}; stopped by {r.reason}"}


def _candidate_ttf(cand: Side, trial: dict, subject: dict, max_duration: float) -> dict:
    kp = need("candidates.kpis")
    r, _events = kp.keypoint_time_to_failure(cand.track, max_duration_s=max_duration, stance=trial["stance_leg"],
                                             camera=cand.camera, height_m=subject["height_m"], rules=TTF_RULES)
    if not np.isfinite(r.value_s):
        return {"value": None, "status": r.reason}
    return {"value": float(r.value_s), "censored": bool(r.censored),
            "method": f"{r.source}; {r.rule}; stopped by {r.reason}"}


def _candidate_window_kpis(cand: Side, window, alignment, trial, wanted) -> dict:
    kp = need("candidates.kpis")
    out = {}
    lo, hi = _to_cand_clock(np.array(window), alignment)
    part = slice_track(cand.track, float(lo), float(hi))
    stance = trial["stance_leg"]
    frontal = [k for k in ("strategy_label", "knee_frontal_excursion") if k in wanted]
    if frontal:
        try:
            problem = kp.frontal_view_problem(cand.camera, cand.track, stance)
        except StancebenchError as exc:
            problem = f"the camera's view of the knee cannot be placed: {exc}"
        if problem:
            return {k: {"value": None, "status": f"not computed: {problem}"} for k in frontal}
    if "strategy_label" in wanted:
        try:
            res = kp.keypoint_strategy(part, stance=stance, camera=cand.camera)
            out["strategy_label"] = {"value": res.label, "method": f"keypoint frontal angles; hip fraction "
                                     f"{res.hip_fraction:.2f} (ground_truth.strategy)", "hip_fraction": res.hip_fraction}
        except Exception as exc:  # noqa: BLE001
            out["strategy_label"] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    if "knee_frontal_excursion" in wanted:
        try:
            r = kp.knee_frontal_excursion(part, stance)
            v = r["value"]
            out["knee_frontal_excursion"] = ({"value": float(v), "method": r["method"]} if np.isfinite(v)
                                             else {"value": None, "status": r["method"]})
        except Exception as exc:  # noqa: BLE001
            out["knee_frontal_excursion"] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    return out


def _markers_z_up(rec):
    """The recording's markers in a z-up lab frame (y-up files rotated as the renderer does)."""
    markers = rec.markers
    if rec.vertical_axis == 2:
        return markers
    from candidates.render.motion import to_z_up
    from ground_truth.kernel import TimeSeries
    chans = [k for k in markers.channels if markers[k].ndim == 2]
    return TimeSeries(markers.time, {k: to_z_up(markers[k], rec.vertical_axis) for k in chans},
                      {k: "m" for k in chans}, meta=dict(markers.meta))


def _reference_window_kpis(ref: Side, rec, window, trial, wanted) -> dict:
    """Strategy label and knee excursion from marker joint angles (ground_truth.angles) in the window.

    The strategy label uses the frontal-plane angles only, the plane a frontal camera sees, so that both sides
    of the pair apply one definition (the sagittal angles are in the gold standard but not in the video).
    """
    keys = [k for k in ("strategy_label", "knee_frontal_excursion") if k in wanted]
    if rec is None or rec.markers is None:
        return {k: {"value": None, "status": "the gold standard has no markers (joint angles need them)"}
                for k in keys}
    try:
        angles_from_markers = need("ground_truth.angles", "angles_from_markers")
        ang = angles_from_markers(_markers_z_up(rec), trial["stance_leg"])
    except Exception as exc:  # noqa: BLE001
        reason = str(exc) if isinstance(exc, NotAvailableError) else f"{type(exc).__name__}: {exc}"
        return {k: {"value": None, "status": reason} for k in keys}
    t = rec.markers.time
    m = (t >= window[0]) & (t < window[1])
    out = {}
    if "strategy_label" in keys:
        try:
            from ground_truth.strategy import strategy_indicator
            res = strategy_indicator(hip_frontal=np.asarray(ang["hip_frontal"])[m],
                                     ankle_frontal=np.asarray(ang["ankle_frontal"])[m])
            out["strategy_label"] = {"value": res.label, "hip_fraction": float(res.hip_fraction),
                                     "method": f"marker joint angles (frontal plane) in the analysis window; hip "
                                               f"fraction {res.hip_fraction:.2f} (ground_truth.strategy)"}
        except Exception as exc:  # noqa: BLE001
            out["strategy_label"] = {"value": None, "status": f"{type(exc).__name__}: {exc}"}
    if "knee_frontal_excursion" in keys:
        k = np.asarray(ang.get("knee_frontal", np.full(t.size, np.nan)))[m]
        ok = np.isfinite(k)
        out["knee_frontal_excursion"] = (
            {"value": float(np.ptp(k[ok])), "method": "range of the stance knee frontal-plane angle from markers "
                                                      f"(ground_truth.angles) over {int(ok.sum())} samples"}
            if ok.sum() > 1 else {"value": None, "status": "no knee frontal angle samples in the window"})
    return out


def _pair_rows(kpi_names, ref: dict | None, cand: dict | None, kind: str) -> list[dict]:
    from protocols import get_kpi
    rows = []
    for k in kpi_names:
        r = (ref or {}).get(k, {})
        c = (cand or {}).get(k, {})
        rows.append({
            "kpi": k, "unit": get_kpi(k).unit,
            "reference": r.get("value"), "candidate": c.get("value"),
            "reference_method": r.get("method") or r.get("status") or ("no gold standard (candidate-only trial)"
                                                                      if ref is None else None),
            "candidate_method": c.get("method") or c.get("status") or ("no video (reference-only trial)"
                                                                      if cand is None else None),
            "censored": bool(r.get("censored") or c.get("censored")),
            "censored_reference": bool(r.get("censored", False)),
            "censored_candidate": bool(c.get("censored", False)),
            "reference_status": None if r.get("value") is not None else r.get("status"),
            "candidate_status": None if c.get("value") is not None else c.get("status"),
            "paired": kind == "paired" and r.get("value") is not None and c.get("value") is not None,
        })
    return rows


#: Alignment signals: name -> (reference signal, candidate signal, what). ``auto`` tries them in this order, then
#: the foot events; the first reliable estimate wins.
ALIGNMENT_PAIRS = {
    "com_vertical": ("com_vertical", "com_vertical",
                     "vertical COM: markers vs keypoints (the protocol's knee dip or hop moves it on both sides)"),
    "free_ankle_vertical": ("free_ankle_vertical", "free_foot_height",
                            "lifted-foot height: ankle marker vs keypoints (foot lift and touch-down)"),
    "vertical_grf": ("grf_vertical", "grf_vertical",
                     "vertical GRF: force plates vs body mass x (keypoint COM vertical acceleration + g)"),
    "com_vertical_velocity": ("com_vertical_velocity", "com_vertical_velocity",
                              "vertical COM velocity: markers vs keypoints"),
    "motion_energy": ("motion_energy", "motion_energy",
                      "motion energy: sum of squared marker speeds vs squared keypoint speeds"),
}
#: Foot events matched by name for ``alignment_signal = "event"`` (and last in ``auto``).
ALIGNMENT_EVENTS = ("foot_lift", "touch_down")
#: Event alignment is flagged when the matched events disagree by more than this (RMS, s).
EVENT_MAX_RESIDUAL_S = 0.1


def _align_by_foot_events(ref: Side, cand: Side) -> tuple[Any, str]:
    """``harness.align.align_by_events`` on the foot events both sides found (first of each name)."""
    from ground_truth.kernel import AlignmentError

    def first(events):
        out = {}
        for e in sorted(events, key=lambda e: e.time):
            out.setdefault(e.name, float(e.time))
        return out
    # Markers time the foot the way keypoints do; plates see the lift ~0.1 s before the foot visibly rises.
    if ref.kinematic_events:
        ref_events, ref_source = ref.kinematic_events, "foot markers (ground_truth.events.marker_events)"
    else:
        ref_events, ref_source = ref.event_list, ref.event_source
    r, c = first(ref_events), first(cand.event_list)
    names = [n for n in ALIGNMENT_EVENTS if n in r and n in c]
    if not names:
        raise AlignmentError(f"no foot event seen on both sides (reference: {sorted(r) or 'none'} from "
                             f"{ref_source}; candidate: {sorted(c) or 'none'}"
                             f"{'; ' + cand.unavailable['events'] if 'events' in cand.unavailable else ''})")
    res = need("harness.align", "align_by_events")([r[n] for n in names], [c[n] for n in names],
                                                   max_residual_s=EVENT_MAX_RESIDUAL_S)
    note = "" if ref.kinematic_events else "; plate events lead the visible lift by ~0.1 s"
    return res, f"foot events ({', '.join(names)}): {ref_source} vs {cand.event_source}{note}"


def align_sides(ref: Side, cand: Side, settings: dict, trial: dict) -> dict:
    """Estimate t_ref = t_cand + offset (+ drift·t_cand) from a signal both sides observe.

    ``alignment_signal``: ``known`` uses the manifest's offset as is; one of :data:`ALIGNMENT_PAIRS`
    cross-correlates that signal (``harness.align.estimate_offset``); ``event`` matches the foot lift and
    touch-down found on both sides (``harness.align.align_by_events``); ``auto`` tries the signals in the order
    of :data:`ALIGNMENT_PAIRS` (the vertical COM first: the single-leg-stance protocol's knee dip or hop moves it
    sharply on both sides; the vertical GRF for plates without markers), then the events; the first reliable
    estimate wins. An unreliable estimate (no clear correlation peak, events that disagree) refuses the trial
    with the reason (AlignmentError), it is never used silently.
    """
    from ground_truth.kernel import AlignmentError

    known = trial.get("known_clock_offset_s")
    truth = {} if known is None else {"true_offset_s": known, "true_drift_ppm": trial.get("known_drift_ppm")}
    choice = settings.get("alignment_signal", "auto")
    if choice == "known":
        if known is None:
            from ground_truth.kernel import ManifestError
            raise ManifestError("alignment_signal = 'known' but the trial has no known_clock_offset_s",
                                field=f"trials.{trial['id']}.known_clock_offset_s")
        return {"method": "known offset from the manifest", "offset_s": known,
                "drift_ppm": trial.get("known_drift_ppm") or 0.0, **truth, "offset_error_s": 0.0}
    if choice not in ALIGNMENT_PAIRS and choice not in ("auto", "event"):
        raise NotAvailableError(f"not available: alignment signal {choice!r} is not implemented "
                                f"(use auto, {', '.join(ALIGNMENT_PAIRS)}, event or known)")
    estimate_offset = need("harness.align", "estimate_offset")
    pairs = (list(ALIGNMENT_PAIRS.items()) if choice == "auto"
             else [(choice, ALIGNMENT_PAIRS[choice])] if choice in ALIGNMENT_PAIRS else [])
    reasons = []

    def accept(res, what, signal):
        out = res.to_dict()
        out["method"] = f"{res.method}: {what}"
        out["signal"] = signal
        out.update(truth)
        if known is not None:
            out["offset_error_s"] = float(res.offset_s - known)
        return out

    for name, (rname, cname, what) in pairs:
        if rname not in ref.signals or cname not in cand.signals:
            missing = rname if rname not in ref.signals else cname
            side = ref if rname not in ref.signals else cand
            why = side.unavailable.get(missing) or side.unavailable.get("com") or f"signal {missing} missing"
            reasons.append(f"{what}: {why}")
            continue
        rt, rx = ref.signals[rname]
        ct, cx = cand.signals[cname]
        res = estimate_offset(rt, rx, ct, cx, max_lag_s=float(settings.get("max_lag_s", 3.0)),
                              drift=bool(settings.get("estimate_drift", False)), lowpass_hz=6.0)
        if not res.reliable:
            reasons.append(f"{what}: {res.reason}")
            continue
        return accept(res, what, name)
    if choice in ("auto", "event"):
        try:
            res, what = _align_by_foot_events(ref, cand)
            if res.reliable:
                return accept(res, what, "event")
            reasons.append(f"foot events: {res.reason}")
        except AlignmentError as exc:
            reasons.append(f"foot events: {exc}")
    raise AlignmentError("no reliable clock alignment: " + "; ".join(reasons))


def _thin(t, y, n_max: int = 600):
    """Every k-th sample so that at most ``n_max`` remain (figures only; statistics use every sample)."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    k = max(1, int(np.ceil(t.size / n_max)))
    return {"t": t[::k].tolist(), "y": y[::k].tolist()}


def _figures(figures: dict, ref, cand, alignment, window) -> None:
    """Arrays for the report (docs/report.md, ``figures_data``): the alignment signal of both sides, before and
    after alignment, with the gold standard's foot events; and the COM stabilogram of the paired KPIs."""
    if ref is None or cand is None or not alignment:
        return
    if cand.stabilogram is not None:
        st = _stabilogram(cand.stabilogram)
        if st:
            figures["stabilogram"] = st
    pair = ALIGNMENT_PAIRS.get(alignment.get("signal"))
    if pair is None or pair[0] not in ref.signals or pair[1] not in cand.signals:
        return
    rt, rx = ref.signals[pair[0]]
    ct, cx = cand.signals[pair[1]]
    # each side minus its own median: the two sides measure one motion in different absolute frames
    unit, scale = {"grf_vertical": ("N", 1.0), "motion_energy": ("relative", None)}.get(pair[0], ("cm", 100.0))
    if scale is None:     # energies of different points and units: each side over its own median
        ry, cy = rx / np.nanmedian(rx), cx / np.nanmedian(cx)
    else:
        ry, cy = (rx - np.nanmedian(rx)) * scale, (cx - np.nanmedian(cx)) * scale
    if pair[0] == "com_vertical_velocity":
        unit = "cm/s"
    figures["time_series"] = {
        "signal": f"{pair[2].split(':')[0]} (each side {'over' if scale is None else 'minus'} its median)",
        "unit": unit, "reference": _thin(rt, ry), "candidate": _thin(_to_ref_clock(ct, alignment), cy),
        "candidate_raw": _thin(ct, cy),
        "events": [{"name": k.replace("_", " "), "time": v} for k, v in ref.events.items()]
                  + [{"name": "analysis window", "time": window[0]}]}
    figures["lag_correlation"] = _lag_correlation(rt, rx, ct, cx, alignment)


def _stabilogram(st: dict) -> dict:
    """COM displacement against time on the observable axis over the analysis window, both sides on the KPI
    grid and low-passed as the KPIs are, each minus its own mean (the quantity RMS and path are taken of)."""
    out = {"signal": f"COM {st['axis'].upper()} displacement (each side minus its mean)", "unit": "cm",
           "axis": st["axis"]}
    lp = st.get("lowpass_hz")
    for side in ("reference", "candidate"):
        t, x = np.asarray(st["t"], float), np.asarray(st[side], float)
        ok = np.flatnonzero(np.isfinite(x))
        if ok.size < 16:
            return {}
        t, x = t[ok[0]: ok[-1] + 1], x[ok[0]: ok[-1] + 1]
        if lp and np.all(np.isfinite(x)):
            from ground_truth.sway.common import lowpass
            fs = 1.0 / float(np.median(np.diff(t)))
            if lp < fs / 2:
                x = lowpass(x[:, None], fs, lp)[:, 0]
        out[side] = _thin(t, (x - np.nanmean(x)) * 100.0)
    if lp:
        out["signal"] += f", low-pass {lp:g} Hz"
    return out


def _lag_correlation(rt, rx, ct, cx, alignment, n_lags: int = 301) -> dict:
    """Pearson correlation of the two sides against the offset tried (report diagnostic only; the estimate
    itself comes from harness.align): a single sharp peak at the estimated offset is a trustworthy alignment."""
    span = float(alignment.get("max_lag_s") or 3.0)
    if not np.isfinite(span) or span <= 0:
        span = 3.0
    lags = np.linspace(-span, span, n_lags)
    ok_c = np.isfinite(cx)
    ok_r = np.isfinite(rx)
    t, c = np.asarray(ct, float)[ok_c], np.asarray(cx, float)[ok_c]
    r_t, r_x = np.asarray(rt, float)[ok_r], np.asarray(rx, float)[ok_r]
    shifted = np.interp(t[None, :] + lags[:, None], r_t, r_x, left=np.nan, right=np.nan)   # (lags, frames)
    valid = np.isfinite(shifted)
    cc = np.where(valid, c[None, :], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = shifted - np.nanmean(shifted, axis=1, keepdims=True)
        b = cc - np.nanmean(cc, axis=1, keepdims=True)
        corr = np.nansum(a * b, axis=1) / np.sqrt(np.nansum(a * a, axis=1) * np.nansum(b * b, axis=1))
    corr[valid.sum(axis=1) < 10] = np.nan
    return {"lag_s": lags.tolist(), "corr": [None if not np.isfinite(v) else float(v) for v in corr]}



# ------------------------------------------------------------------------------------------------ device, gates, report
def device_records(candidates: list[dict], out_dir: Path, videos: list[Path] | None = None, *, runs: int = 30,
                   warmup: int = 3, threads: int = 1) -> tuple[list[dict], str]:
    """Host device-runner records for each candidate's model, tagged with the candidate's name.

    Records are joined to candidates by model sha256 (several candidates may share one model file: each gets
    its own record, measured with its own runtime). A MediaPipe graph candidate is timed as the whole graph on
    a real frame of the study's first video; TFLite candidates as their landmark model in the LiteRT
    interpreter. Returns ``(records, status)``; a candidate that cannot be measured here is skipped with its
    reason in ``status``.
    """
    try:
        run_host = need("device_runners.host", "run_host")
    except NotAvailableError as exc:
        return [], str(exc)
    frame = None
    notes = []
    records: list[dict] = []
    for cand in candidates:
        path = cand.get("model_path")
        if not path or not cand.get("model_sha256"):
            notes.append(f"{cand['name']}: no model file to measure")
            continue
        kind = cand.get("kind")
        runtime = {"mediapipe": "mediapipe", "tflite": "litert", "coreml": "coreml"}.get(kind)
        if runtime is None:
            notes.append(f"{cand['name']}: candidate kind {kind!r} has no host runner")
            continue
        try:
            if runtime == "mediapipe" and frame is None:
                frame = _first_frame(videos or [])
            recs = run_host(path, runtime=runtime, threads=threads, runs=runs, warmup=warmup,
                            frame=frame if runtime == "mediapipe" else None)
        except Exception as exc:  # noqa: BLE001 - one model that cannot be measured must not stop the others
            notes.append(f"{cand['name']}: not available: {type(exc).__name__}: {exc}")
            continue
        for rec in recs:
            d = rec.to_dict() if hasattr(rec, "to_dict") else dict(rec)
            d["candidate"] = cand["name"]
            d.setdefault("model_sha256", cand["model_sha256"])
            records.append(d)
    status = "ok" if not notes else "; ".join(notes)
    return records, status


def _first_frame(videos: list[Path]):
    """A real frame with a person for the MediaPipe graph timing (the middle frame of the first video)."""
    if not videos:
        raise NotAvailableError("no video in the study to take a frame from")
    iter_frames = need("candidates.video", "iter_frames")
    frames = [f for _, f in iter_frames(videos[0], max_frames=15)]
    return frames[len(frames) // 2]


def evaluate_gates(results: dict, policy) -> tuple[list[dict], str, int]:
    """Verdicts of a gate policy on the results; ``(gates, status, exit_code)`` (exit 1: a blocking gate failed)."""
    if policy is None:
        return [], "no policy given: no gates evaluated", 0
    gates = need("harness.gates")
    pol = gates.load_policy(policy)
    try:
        verdicts = gates.evaluate_policy(jsonable_results(results), pol)
    except StancebenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - a gate that cannot be judged blocks (it is not evidence of safety)
        return [], f"failed: the gates could not be evaluated ({type(exc).__name__}: {exc}); blocking", 1
    summary = gates.summarize(verdicts)
    status = (f"policy '{pol.name}' ({pol.source}): " +
              ", ".join(f"{k} {v}" for k, v in summary.items() if isinstance(v, (int, float, str))))
    return [v.to_dict() for v in verdicts], status, int(gates.exit_code(verdicts))


def jsonable_results(results: dict) -> dict:
    from .results import jsonable
    return jsonable({k: v for k, v in results.items() if k != "figures_data"})


def build_html_report(results: dict, out_path: Path) -> str:
    """Build report.html with the reports package; returns "ok" or a "not available: ..." reason."""
    try:
        build_report = need("reports", "build_report")
    except NotAvailableError as exc:
        return str(exc)
    from .results import jsonable
    data = jsonable(results)
    try:
        build_report(data, out_path, figures_data=data.get("figures_data"))
    except Exception as exc:  # noqa: BLE001 - results.json stands without the report; say why it is missing
        return f"failed: the report could not be built ({type(exc).__name__}: {exc})"
    return "ok"
