"""Read a written synthetic C3D back with the project's reader and compare it with the trial's truth."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kernel import validate_type
from .simulate import SyntheticTrial

#: Tolerances of the round trip (why: see each comment).
TOLERANCES = {
    # plate channel noise: 0.03 N*m on moments and 1 N on Fz; a COP r = 0.11 m from the plate centre under
    # Fz >= 200 N has noise SD sqrt(0.03^2 + (1 * 0.11)^2) / 200 = 0.57 mm, so ~2.5 mm over 30 000 samples
    "cop_mm": 3.0,
    # 0.5 mm marker noise propagated through joint centres into the COM: SD ~0.3 mm
    "com_mm": 2.0,
    # EVENT group stores float32 seconds: sub-microsecond
    "event_group_ms": 1.0,
    # plate threshold (20 N) detection of foot lift / touch-down: the unloading ramp is 0.15 s long
    "plate_events_ms": 60.0,
    # marker noise on joint centres (~0.5 mm over ~0.4 m segments, ~0.1 deg) plus the small-angle composition
    # of the generator's rotations
    "angles_deg": 1.0,
    # time-to-failure from plate events vs truth (touch-down, end of test)
    "time_to_failure_ms": 60.0,
    # ... and when the stance foot moved (only markers see a foot turning under load): 3 cm threshold on a
    # 0.2-s pivot (detected ~80 ms late), minus the plate lift detection lead (~35 ms)
    "time_to_failure_stance_moved_ms": 150.0,
}


def _entry(value, tol, unit):
    value = float(value)
    return {"max_error": value, "tolerance": tol, "unit": unit, "pass": bool(np.isfinite(value) and value <= tol)}


def check_roundtrip(trial: SyntheticTrial, c3d_path: str | Path) -> dict:
    """Read ``c3d_path`` with :func:`ground_truth.readers.c3d.read_c3d` and compare it with ``trial.truth``.

    Returns
    -------
    dict
        One entry per check, each ``{"max_error", "tolerance", "unit", "pass"}``: ``cop_mm`` (per plate,
        samples with true vertical load >= 200 N), ``com_mm`` (segmental COM from the read markers vs the true
        COM), ``event_group_ms`` (EVENT group vs true events), ``plate_events_ms`` (foot lift / touch-down
        detected on the read plates), ``time_to_failure_ms`` and censoring agreement, ``angles_deg`` (stance-side
        knee frontal, hip and ankle angles from the read markers), plus ``"all_pass"`` and details.
    """
    from ..angles import angles_from_markers
    from ..com import com_from_markers
    from ..events import marker_events, plate_events_from_recording, time_to_failure
    from ..readers.c3d import read_c3d

    validate_type(trial, SyntheticTrial, "trial")
    rec = read_c3d(c3d_path)
    truth = trial.truth
    out: dict = {"file": str(c3d_path)}

    # COP per plate
    errs = []
    for i, plate in enumerate(rec.plates):
        f_true = truth["force_plates"][i][:, 2]
        n = min(plate.signals.n_samples, f_true.size)
        ok = f_true[:n] >= 200.0
        if ok.any():
            d = plate.cop[:n][ok, :2] - truth["cop_plates"][i][:n][ok, :2]
            errs.append(np.nanmax(np.abs(d)) * 1000)
    out["cop_mm"] = _entry(max(errs) if errs else np.nan, TOLERANCES["cop_mm"], "mm")

    # COM from the read markers
    com = com_from_markers(rec.markers, trial.subject.sex)
    n = min(com.n_samples, truth["com"].shape[0])
    out["com_mm"] = _entry(np.nanmax(np.linalg.norm(com["com"][:n] - truth["com"][:n], axis=1)) * 1000,
                           TOLERANCES["com_mm"], "mm")

    # events: EVENT group and plate detection
    true_ev = {e.name: e.time for e in truth["events"]}
    got = {e.name: e.time for e in rec.events}
    d = [abs(got[k] - v) * 1000 if k in got else np.inf for k, v in true_ev.items()]
    out["event_group_ms"] = _entry(max(d) if d else 0.0, TOLERANCES["event_group_ms"], "ms")
    pev = plate_events_from_recording(rec)
    pd = {e.name: e.time for e in pev}
    d = [abs(pd[k] - true_ev[k]) * 1000 if k in pd else np.inf
         for k in ("foot_lift", "touch_down") if k in true_ev]
    out["plate_events_ms"] = _entry(max(d) if d else np.inf, TOLERANCES["plate_events_ms"], "ms")
    end = float(rec.plates[0].signals.time[-1]) if rec.plates else None
    # a stance foot turning under load is invisible to the plates: add the markers' stance-foot event
    st, fr = trial.stance_leg[0].upper(), ("R" if trial.stance_leg == "left" else "L")
    feet = [np.stack([rec.markers[p + "HEE"], rec.markers[p + "TOE"]], axis=1) for p in (fr, st)]
    mev = [e for e in marker_events(rec.markers.time, feet[0], feet[1]) if e.name == "stance_foot_moved"]
    ttf = time_to_failure(sorted(pev + mev, key=lambda e: e.time), max_duration_s=trial.params["max_duration_s"],
                          recording_end_s=end, source="plates + stance-foot markers (read back)")
    tol = TOLERANCES["time_to_failure_stance_moved_ms" if truth["censor_reason"] == "stance_foot_moved"
                     else "time_to_failure_ms"]
    e = _entry(abs(ttf.value_s - truth["time_to_failure_s"]) * 1000, tol, "ms")
    e["censored_agrees"] = bool(ttf.censored == truth["censored"])
    e["pass"] = e["pass"] and e["censored_agrees"]
    e["detected"] = ttf.to_dict()
    out["time_to_failure_ms"] = e

    # angles from the read markers (stance side)
    ang = angles_from_markers(rec.markers, trial.stance_leg)
    worst, per = 0.0, {}
    for name, true in truth["angles"].items():
        if name in ang:
            m = min(true.size, ang[name].size)
            err = float(np.nanmax(np.abs(ang[name][:m] - true[:m])))
            per[name] = err
            worst = max(worst, err)
    out["angles_deg"] = _entry(worst, TOLERANCES["angles_deg"], "deg")
    out["angles_deg"]["per_angle"] = per
    out["all_pass"] = all(v["pass"] for v in out.values() if isinstance(v, dict) and "pass" in v)
    return out
