"""One trial × candidate, end to end: gold standard → reference KPIs, video → keypoints → candidate KPIs,
clock alignment, and the paired KPI rows of ``results.json``.

This module is the thin layer between the orchestration and the project's parts (``ground_truth`` readers and
signals, ``candidates`` backbones and keypoint KPIs, ``harness.align``, ``device_runners``, ``harness.gates``,
``reports``). Each part is imported where it is used; a part that is missing or cannot run here raises
:class:`~ground_truth.errors.NotAvailableError` with a ``"not available: ..."`` reason that ends up in results,
never a crash of the study.
"""
from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.errors import NotAvailableError


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
              f"window {window[0]:.2f}-{window[1]:.2f} s (reference clock)")
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
        self.span: tuple[float, float] | None = None
        self.axes = ("ap", "ml")

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
    for ev in rec.events:
        side.events.setdefault(ev.name, float(ev.time))
    _reference_ankle(side, rec, trial)
    _reference_com(side, rec, subject)
    _reference_direct_kpis(side, rec, trial, subject)
    side.span = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    return side, rec


#: Marker names of the lateral malleolus in common marker sets (Plug-in Gait, OpenCap/AddBiomechanics, ...).
ANKLE_MARKERS = {"left": ("LANK", "L_ankle", "L.Ankle", "LLMAL", "L_LatAnkle", "left_ankle"),
                 "right": ("RANK", "r_ankle", "R.Ankle", "RLMAL", "R_LatAnkle", "right_ankle")}


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


def _reference_com(side: Side, rec, subject: dict) -> None:
    """Whole-body COM of the gold standard: markers (segmental model) first, else force plates."""
    try:
        com_mod = need("ground_truth.com")
    except NotAvailableError as exc:
        side.unavailable["com"] = str(exc)
        return
    fn = getattr(com_mod, "com_from_recording", None)
    if fn is None:
        side.unavailable["com"] = "not available: ground_truth.com.com_from_recording is not defined"
        return
    try:
        res = fn(rec, mass_kg=subject["mass_kg"], height_m=subject["height_m"],
                 sex=_sex(subject.get("sex")))
    except Exception as exc:  # noqa: BLE001 - the reason is reported per KPI
        side.unavailable["com"] = f"{type(exc).__name__}: {exc}"
        return
    ts = res if hasattr(res, "time") else getattr(res, "com", res)
    com = ts["com"] if hasattr(ts, "__getitem__") and "com" in ts else np.asarray(ts.data[next(iter(ts.data))])
    method = ts.meta.get("method", "ground_truth.com") if hasattr(ts, "meta") else "ground_truth.com"
    a, b = rec.horizontal_axes
    side.add("com_xyz", ts.time, com, method)
    side.add("com", ts.time, com[:, [a, b]], method)
    side.add("com_vertical", ts.time, com[:, rec.vertical_axis], method)


def _sex(s) -> str:
    return "female" if str(s or "").lower() in ("f", "female") else "male"


def _reference_direct_kpis(side: Side, rec, trial: dict, subject: dict) -> None:
    """Time-to-failure, strategy label and knee excursion from the gold standard's own parts."""
    # Filled as ground_truth.events / angles / strategy land; until then each says why it is missing.
    for kpi, module in (("time_to_failure", "ground_truth.events"), ("strategy_label", "ground_truth.strategy"),
                        ("knee_frontal_excursion", "ground_truth.angles")):
        try:
            need(module)
        except NotAvailableError as exc:
            side.unavailable[kpi] = str(exc)


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
                from ground_truth.errors import ManifestError
                raise ManifestError(f"calibration holds {len(cams)} cameras", file=path, field="camera_name",
                                    expected=f"camera_name = one of {', '.join(cams)}")
            return next(iter(cams.values()))
        return cams[name]
    return cal.read_camera_toml(path, name)


def _candidate_signals(side: Side, track, trial: dict, subject: dict) -> None:
    """COM and other signals from keypoints.

    COM in metres and the keypoint KPIs come from ``candidates.kpis``. For clock alignment only, the image
    COM (de Leva segment model on the keypoints, :func:`ground_truth.anthropometry.whole_body_com`) is also
    kept in pixels with its vertical axis flipped to point up: correlation does not care about scale, so the
    alignment does not depend on the metric scaling.
    """
    from candidates.skeletons import keypoint_names
    from ground_truth.anthropometry import whole_body_com

    names = keypoint_names(track.schema)
    joints = {n: track.keypoints[:, i, :2] for i, n in enumerate(names)}
    try:
        com_px = whole_body_com(joints, _sex(subject.get("sex")))
        side.add("com_vertical_px", track.times_s, -com_px[:, 1], "image COM (de Leva on keypoints), px, up")
    except Exception as exc:  # noqa: BLE001
        side.unavailable["com_vertical_px"] = f"{type(exc).__name__}: {exc}"
    free = "left" if trial["stance_leg"] == "right" else "right"
    try:
        ankle = track.keypoints[:, names.index(f"{free}_ankle"), 1]
        side.add("free_ankle_vertical_px", track.times_s, -ankle, f"{free} (lifted) ankle keypoint, px, up")
    except ValueError:
        pass
    try:
        kp = need("candidates.kpis")
    except NotAvailableError as exc:
        for k in ("com", "time_to_failure", "strategy_label", "knee_frontal_excursion"):
            side.unavailable.setdefault(k, str(exc))
        return
    side.unavailable["com"] = "not available: candidates.kpis adapter not written yet"


def process_trial(task: dict, row: dict, figures: dict) -> None:
    """Fill ``row`` (a ``trials[]`` entry of results.json) for one trial × candidate."""
    from protocols import get_protocol

    trial, subject, spec, settings = task["trial"], task["subject"], task["candidate"], task["settings"]
    protocol = get_protocol(trial["protocol"])
    kpi_names = list(settings.get("kpis") or protocol.kpi_names)
    max_duration = float(trial.get("duration_s") or protocol.condition(trial["condition"]).duration_s)
    ref = cand = None
    if trial["kind"] != "candidate-only":
        ref, _rec = _reference_side(trial, subject)
    if spec is not None:
        cand, track = _candidate_side(spec, trial, subject, settings)
        row["detection_rate"] = cand.meta["detection_rate"]
        row["candidate_identity"] = dict(track.candidate)
        row["inference"] = cand.meta
    alignment = None
    if ref is not None and cand is not None:
        alignment = align_sides(ref, cand, settings, trial)
        row["alignment"] = alignment
    # Analysis window on the reference clock (the candidate clock when there is no reference).
    window = _analysis_window(ref, cand, alignment, protocol, trial, max_duration)
    row["window_s"] = list(window)
    fs = float(settings.get("sway_rate_hz") or 0) or _common_rate(cand)
    lp = settings.get("sway_lowpass_hz", 5.0)
    values = {}
    for side in (ref, cand):
        if side is None:
            continue
        values[side.name] = _side_kpis(side, kpi_names, window, fs, lp, alignment if side is cand else None)
    row["kpis"] = _pair_rows(kpi_names, values.get("reference"), values.get("candidate"), trial["kind"])
    row["figures_available"] = _figures(figures, ref, cand, alignment, window)


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


def _analysis_window(ref, cand, alignment, protocol, trial, max_duration) -> tuple[float, float]:
    spans = []
    if ref is not None and ref.span:
        spans.append(ref.span)
    if cand is not None and cand.span:
        a, b = _to_ref_clock(np.array(cand.span), alignment if ref is not None else None)
        spans.append((float(a), float(b)))
    if not spans:
        raise NotAvailableError("neither side has any samples")
    lo, hi = max(s[0] for s in spans), min(s[1] for s in spans)
    # Single-leg stance KPIs start at foot lift (protocol notes); use the reference's event when known.
    side = ref if ref is not None else cand
    lift = side.events.get("foot_lift")
    if lift is not None and lo <= lift < hi:
        lo = lift
    end = side.events.get("touchdown") or side.events.get("foot_touchdown")
    if end is not None and lo < end <= hi:
        hi = end
    hi = min(hi, lo + max_duration)
    if hi - lo < 1.0:
        from ground_truth.errors import AlignmentError
        raise AlignmentError(f"the two sides overlap for only {hi - lo:.2f} s on the reference clock")
    return (float(lo), float(hi))


def _side_kpis(side: Side, kpi_names, window, fs, lowpass_hz, alignment) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for signal in ("com", "cop"):
        wanted = [k for k in kpi_names if k.startswith(signal + "_")]
        if not wanted:
            continue
        if signal not in side.signals:
            reason = side.unavailable.get(signal) or f"no {signal.upper()} signal on the {side.name} side"
            for k in wanted:
                out[k] = {"value": None, "status": reason}
            continue
        t, xy = side.signals[signal]
        t = _to_ref_clock(t, alignment)
        try:
            vals = sway_kpis(t, xy, window, signal=signal, fs_hz=fs, lowpass_hz=lowpass_hz, axes=side.axes,
                             source=side.sources[signal])
        except Exception as exc:  # noqa: BLE001 - reported per KPI
            vals = {k: {"value": None, "status": f"{type(exc).__name__}: {exc}"} for k in wanted}
        out.update({k: v for k, v in vals.items() if k in wanted})
    for k in kpi_names:
        if k in out:
            continue
        if k in side.kpis:
            out[k] = side.kpis[k]
        else:
            out[k] = {"value": None, "status": side.unavailable.get(k, f"not computed on the {side.name} side")}
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


#: Alignment signal pairs tried in order for ``alignment_signal = "auto"``: (reference, candidate, what).
ALIGNMENT_PAIRS = {
    "com_vertical": ("com_vertical", "com_vertical_px",
                     "vertical COM: markers (m) vs image COM of the keypoints (px, up)"),
    "free_ankle_vertical": ("free_ankle_vertical", "free_ankle_vertical_px",
                            "lifted-foot ankle height: markers vs keypoint"),
}


def align_sides(ref: Side, cand: Side, settings: dict, trial: dict) -> dict:
    """Estimate t_ref = t_cand + offset (+ drift·t_cand) from a signal both sides observe.

    ``alignment_signal``: ``known`` uses the manifest's offset as is; ``auto`` tries the vertical COM (the
    single-leg-stance protocol's knee dip or hop moves it sharply on both sides), then the lifted ankle's
    height; the first reliable estimate wins. An unreliable estimate (no clear correlation peak) refuses the
    trial with the reason (AlignmentError), it is never used silently.
    """
    from ground_truth.errors import AlignmentError

    known = trial.get("known_clock_offset_s")
    truth = {} if known is None else {"true_offset_s": known, "true_drift_ppm": trial.get("known_drift_ppm")}
    choice = settings.get("alignment_signal", "auto")
    if choice == "known":
        if known is None:
            from ground_truth.errors import ManifestError
            raise ManifestError("alignment_signal = 'known' but the trial has no known_clock_offset_s",
                                field=f"trials.{trial['id']}.known_clock_offset_s")
        return {"method": "known offset from the manifest", "offset_s": known,
                "drift_ppm": trial.get("known_drift_ppm") or 0.0, **truth, "offset_error_s": 0.0}
    estimate_offset = need("harness.align", "estimate_offset")
    pairs = (list(ALIGNMENT_PAIRS.values()) if choice == "auto"
             else [ALIGNMENT_PAIRS[choice]] if choice in ALIGNMENT_PAIRS else [])
    if not pairs:
        raise NotAvailableError(f"not available: alignment signal {choice!r} is not implemented "
                                f"(use auto, {', '.join(ALIGNMENT_PAIRS)} or known)")
    reasons = []
    for rname, cname, what in pairs:
        if rname not in ref.signals or cname not in cand.signals:
            missing = rname if rname not in ref.signals else cname
            side = ref if rname not in ref.signals else cand
            reasons.append(f"{what}: {side.unavailable.get(missing.replace('_px', ''), 'signal ' + missing + ' missing')}")
            continue
        rt, rx = ref.signals[rname]
        ct, cx = cand.signals[cname]
        res = estimate_offset(rt, rx, ct, cx, max_lag_s=float(settings.get("max_lag_s", 3.0)),
                              drift=bool(settings.get("estimate_drift", False)), lowpass_hz=6.0)
        if not res.reliable:
            reasons.append(f"{what}: {res.reason}")
            continue
        out = res.to_dict()
        out["method"] = f"{res.method}: {what}"
        out["signal"] = rname
        out.update(truth)
        if known is not None:
            out["offset_error_s"] = float(res.offset_s - known)
        return out
    raise AlignmentError("no reliable clock alignment: " + "; ".join(reasons))


def _figures(figures: dict, ref, cand, alignment, window) -> bool:
    return False


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
    verdicts = gates.evaluate_policy(jsonable_results(results), pol)
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
    build_report(data, out_path, figures_data=data.get("figures_data"))
    return "ok"
