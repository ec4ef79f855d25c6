"""C3D reader (through ezc3d): markers, analog channels, force platforms of types 1-4, events.

Conventions
-----------
- Time: sample ``i`` of the marker stream is at ``(first_frame + i) / point_rate`` seconds, with ezc3d's 0-based
  ``first_frame`` (the C3D header stores it 1-based), so times agree with the EVENT group's absolute times.
  Analog samples share that origin at the analog rate.
- Markers are converted to metres. A sample is a gap (NaN) when its residual is negative (ezc3d already sets
  those to NaN) or when all three coordinates are exactly zero (the gap convention of several writers).
- Force plates come from ``ezc3d.c3d(path, extract_forceplat_data=True)``, which applies the plate type's
  calibration and expresses force, moment (about the plate origin) and COP in the lab frame. We convert to SI,
  express the force as the ground reaction force acting ON the subject (vertical component positive upward:
  files that store the action on the plate are sign-flipped, and the flip is recorded), and mask the COP to NaN
  where the vertical force is below ``fz_threshold_n`` (ezc3d computes a COP even for an unloaded plate).
- The vertical axis is the normal of the force plates' corner plane (or POINT:Y_SCREEN when there are no plates).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kernel import Event, ReaderError, TimeSeries, UnitError, file_sha256
from ..recording import DEFAULT_FZ_THRESHOLD_N, ForcePlate, Recording
from .units import length_scale, moment_scale, si_analog

#: Plate types ezc3d 1.7 can compute (C3D manual, force platform types 1-4).
SUPPORTED_PLATE_TYPES = (1, 2, 3, 4)


def _param(params: dict, group: str, name: str, default=None):
    try:
        return params[group][name]["value"]
    except (KeyError, TypeError):
        return default


def _strings(values) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return [str(v).strip() for v in np.ravel(values)]


def _open(path: Path, extract_plates: bool):
    import ezc3d

    if not path.exists():
        raise ReaderError("file not found", file=path)
    if path.stat().st_size == 0:
        raise ReaderError("file is empty", file=path, expected="a C3D file")
    try:
        return ezc3d.c3d(str(path), extract_forceplat_data=extract_plates)
    except RuntimeError as exc:
        text = str(exc)
        if "Type" in text and "not supported" in text:
            types = None
            try:
                types = _param(ezc3d.c3d(str(path))["parameters"], "FORCE_PLATFORM", "TYPE")
            except (RuntimeError, OSError, ValueError, IndexError):
                # ezc3d's errors (as caught below): the file cannot list its plate types either; the error
                # raised next still says what matters (the plate type is not supported)
                pass
            raise ReaderError(f"force platform type not supported ({text.split(',')[0]}); plate types in file: "
                              f"{_strings(types)}", file=path, field="FORCE_PLATFORM:TYPE",
                              expected=f"types {SUPPORTED_PLATE_TYPES}") from None
        raise ReaderError(f"cannot be read as C3D ({text})", file=path) from None
    except (OSError, ValueError, IndexError) as exc:
        raise ReaderError(f"not a valid or complete C3D file ({exc})", file=path,
                          expected="a C3D file (parameter section and data section)") from None


def _header_words(path: Path) -> tuple[dict, int] | None:
    """The raw C3D header (ezc3d rewrites its parsed copy to what it could read) and the file size."""
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(512)
        if len(head) < 20:
            return None
        fh.seek(max(head[0] - 1, 0) * 512)
        param_head = fh.read(4)
    if len(param_head) < 4:
        return None
    fmt = ">" if param_head[3] == 86 else "<"  # processor type: 84 Intel, 85 DEC, 86 MIPS (big-endian)
    n_points, analog_per_frame, first, last = struct.unpack(fmt + "HHHH", head[2:10])
    data_block = struct.unpack(fmt + "H", head[16:18])[0]
    return {"n_points": n_points, "analog_per_frame": analog_per_frame, "first": first, "last": last,
            "data_block": data_block}, size


def _check_complete(c3d, path: Path, meta: dict) -> None:
    """Refuse a file cut short; ezc3d silently returns the frames it could read.

    A file cut in transfer ends part-way through a frame: that is refused. A file whose data section ends
    exactly on a frame boundary but holds fewer frames than its header declares (a shortened export, such as
    the Optotrak sample) is read, and the shortfall is stated in ``meta['notes']``.
    """
    words = _header_words(path)
    held = c3d["data"]["points"].shape[2]
    if words is None or held == 0:
        return
    h, size = words
    if h["last"] == 65535:  # 16-bit field saturated; the true count lives in parameters ezc3d already used
        return
    declared = h["last"] - h["first"] + 1
    if held >= declared:
        return
    scale = np.ravel(_param(c3d["parameters"], "POINT", "SCALE", [-1.0]))[0]
    word = 4 if scale < 0 else 2
    frame_bytes = (4 * h["n_points"] + h["analog_per_frame"]) * word
    data_bytes = size - (h["data_block"] - 1) * 512
    partial = data_bytes - held * frame_bytes
    if frame_bytes == 0 or partial != 0:
        raise ReaderError(f"truncated: the header declares {declared} frames but the file holds {held} and "
                          f"ends part-way through the next one", file=path, field="data section",
                          expected="a complete C3D file")
    meta["notes"].append(f"the header declares {declared} frames but the data section ends, on a frame "
                         f"boundary, after {held}: only those {held} frames exist in the file")
    meta["declared_frames"] = declared


def _point_units(params: dict, path: Path) -> tuple[str, str | None]:
    """(unit string as found, note when assumed)."""
    units = sorted(set(_strings(_param(params, "POINT", "UNITS"))) - {""})
    if len(units) > 1:
        raise UnitError(f"several marker units {units}", file=path, field="POINT:UNITS",
                        expected="one length unit for all markers")
    if not units:
        # The C3D manual makes POINT:UNITS the unit of all 3-D data but does not define a default; every
        # writer we know of that omits it stores millimetres (c3d.org sample28, Kistler exports).
        return "mm", "POINT:UNITS absent; millimetres assumed"
    return units[0], None


def _plausible_corners(corners: np.ndarray | None, to_m: float) -> bool:
    """Corners of a real plate: finite, with edges between 5 cm and 5 m (test files carry garbage)."""
    if corners is None or corners.shape != (3, 4) or not np.all(np.isfinite(corners)):
        return False
    edges = np.linalg.norm(np.roll(corners, -1, axis=1) - corners, axis=0) * to_m
    return bool(np.all((edges > 0.05) & (edges < 5.0)))


def _vertical_axis(params: dict, plates_corners: list[np.ndarray | None], to_m: float) -> tuple[int, str]:
    votes = []
    for corners in plates_corners:
        if not _plausible_corners(corners, to_m):
            continue
        n = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        votes.append(int(np.argmax(np.abs(n))))
    if votes:
        axis = int(np.bincount(votes, minlength=3).argmax())
        return axis, f"normal of the force plates' corners ({len(votes)} plate(s) with plausible corners)"
    screen = "".join(_strings(_param(params, "POINT", "Y_SCREEN"))).upper()
    if screen.endswith("Y"):
        return 1, "POINT:Y_SCREEN"
    return 2, "POINT:Y_SCREEN" if screen else "default (z up)"


def _events(params: dict) -> list[Event]:
    labels = _strings(_param(params, "EVENT", "LABELS"))
    times = _param(params, "EVENT", "TIMES")
    if not labels or times is None:
        return []
    times = np.asarray(times, dtype=float)
    if times.ndim == 2 and times.shape[0] == 2:  # (minutes, seconds) per event
        seconds = 60.0 * times[0] + times[1]
    else:
        seconds = np.ravel(times)
    contexts = _strings(_param(params, "EVENT", "CONTEXTS"))
    used = _param(params, "EVENT", "USED")
    n = min(len(labels), seconds.size)
    if used is not None and np.size(used):
        n = min(n, int(np.ravel(used)[0]))
    out = [Event(labels[i], float(seconds[i]), contexts[i] if i < len(contexts) else "", "C3D EVENT group")
           for i in range(n)]
    return sorted(out, key=lambda e: e.time)


def read_c3d(path: str | Path, *, fz_threshold_n: float = DEFAULT_FZ_THRESHOLD_N, extract_plates: bool = True,
             zero_is_gap: bool = True) -> Recording:
    """Read a C3D file into a :class:`Recording` in SI units.

    Parameters
    ----------
    path : path-like
    fz_threshold_n : float
        A plate is "loaded" where the magnitude of its vertical force is at least this (N); its COP is NaN
        elsewhere. 0 keeps every COP ezc3d computes.
    extract_plates : bool
        Compute force-plate signals (False skips the FORCE_PLATFORM group entirely).
    zero_is_gap : bool
        Treat markers at exactly (0, 0, 0) as gaps.

    Returns
    -------
    Recording
        ``markers`` (m), ``plates`` (force N, moment N*m about the plate origin, COP m, free moment N*m, all in
        the lab frame), ``analogs`` (SI where the unit is known, ``raw`` otherwise), ``events`` and ``meta``
        (sha256, rates, units found, vertical axis and how it was found, gap counts, sign flips, notes).
    """
    path = Path(path)
    c3d = _open(path, extract_plates)
    params = c3d["parameters"]
    meta: dict = {"file": str(path), "format": "c3d", "sha256": file_sha256(path), "notes": []}
    _check_complete(c3d, path, meta)

    point_rate = float(c3d["header"]["points"]["frame_rate"])
    analog_rate = float(c3d["header"]["analogs"]["frame_rate"])
    if analog_rate <= 0:  # some writers (Kistler) leave the header rate at 0 and fill ANALOG:RATE
        analog_rate = float(np.ravel(_param(params, "ANALOG", "RATE", [0.0]))[0] or 0.0)
    first = int(c3d["header"]["points"]["first_frame"])
    meta.update(point_rate_hz=point_rate, analog_rate_hz=analog_rate, first_frame=first)
    if point_rate > 0:
        t0 = first / point_rate
    else:
        t0 = int(c3d["header"]["analogs"]["first_frame"]) / analog_rate if analog_rate > 0 else 0.0

    # -- markers ---------------------------------------------------------------------------------------------
    unit, note = _point_units(params, path)
    if note:
        meta["notes"].append(note)
    try:
        to_m = length_scale(unit)
    except UnitError:
        raise UnitError(f"unknown marker unit {unit!r}", file=path, field="POINT:UNITS",
                        expected="a length unit such as mm, cm or m") from None
    meta["point_units"] = unit
    pts = c3d["data"]["points"]
    markers = None
    if pts.shape[1] > 0 and pts.shape[2] > 0 and point_rate > 0:
        labels = _strings(_param(params, "POINT", "LABELS"))
        for extra in ("LABELS2", "LABELS3", "LABELS4"):
            labels += _strings(_param(params, "POINT", extra))
        xyz = np.transpose(pts[:3], (2, 1, 0)).astype(float) * to_m  # (n, M, 3)
        gaps = np.any(np.isnan(xyz), axis=2)
        if zero_is_gap:
            zero = np.all(xyz == 0.0, axis=2)
            xyz[zero] = np.nan
            gaps |= zero
        time = t0 + np.arange(xyz.shape[0]) / point_rate
        data, seen = {}, {}
        for j in range(xyz.shape[1]):
            name = labels[j] if j < len(labels) and labels[j] else f"point_{j}"
            if name in seen:  # duplicate labels exist in real files; keep both, never overwrite
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            else:
                seen[name] = 0
            data[name] = xyz[:, j]
        markers = TimeSeries(time, data, {k: "m" for k in data}, {k: unit for k in data},
                             meta={"file": str(path), "kind": "markers"})
        meta["marker_gap_samples"] = {name: int(g) for name, g in zip(data, gaps.sum(axis=0)) if g}
        meta["marker_gap_fraction"] = float(gaps.mean()) if gaps.size else 0.0

    # -- analogs ---------------------------------------------------------------------------------------------
    ana = c3d["data"]["analogs"]
    analogs = None
    if ana.shape[1] > 0 and ana.shape[2] > 0 and analog_rate > 0:
        labels = _strings(_param(params, "ANALOG", "LABELS"))
        units = _strings(_param(params, "ANALOG", "UNITS"))
        values = ana[0].T.astype(float)  # (n, C)
        time = t0 + np.arange(values.shape[0]) / analog_rate
        analogs = TimeSeries(time, meta={"file": str(path), "kind": "analogs"})
        seen = {}
        for j in range(values.shape[1]):
            name = labels[j] if j < len(labels) and labels[j] else f"analog_{j}"
            if name in seen:
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            else:
                seen[name] = 0
            src = units[j] if j < len(units) else ""
            si_unit, scale = si_analog(src)
            analogs.add_channel(name, values[:, j] * scale, si_unit, src or "(none)")

    # -- force plates ----------------------------------------------------------------------------------------
    plates: list[ForcePlate] = []
    has_fp_group = "FORCE_PLATFORM" in params
    if not has_fp_group:
        meta["plates_note"] = "the file has no FORCE_PLATFORM group"
    elif not int(np.ravel(_param(params, "FORCE_PLATFORM", "USED", [0]))[0]):
        meta["plates_note"] = "FORCE_PLATFORM:USED is 0 (no plates in use)"
    types = [int(t) for t in np.ravel(_param(params, "FORCE_PLATFORM", "TYPE", []))] if has_fp_group else []
    raw_plates = c3d["data"].get("platform", []) if extract_plates else []
    corners_all = []
    for i, pf in enumerate(raw_plates):
        corners = np.asarray(pf["corners"], dtype=float) if "corners" in pf else None
        corners_all.append(corners)
    vertical, how = _vertical_axis(params, corners_all, to_m)
    meta["vertical_axis"] = vertical
    meta["vertical_axis_from"] = how
    skipped = []
    for i, pf in enumerate(raw_plates):
        ptype = types[i] if i < len(types) else None
        force = np.asarray(pf["force"], dtype=float).T
        if force.shape[0] == 0:
            skipped.append(f"plate {i} (type {ptype}): no analog samples in the file")
            continue
        pos_unit = unit  # ezc3d expresses plate positions in the point unit (and labels it 'm' when absent)
        to_pos = length_scale(pos_unit)
        moment = np.asarray(pf["moment"], dtype=float).T * moment_scale(f"N{pos_unit}")
        cop = np.asarray(pf["center_of_pressure"], dtype=float).T * to_pos
        tz = np.asarray(pf["Tz"], dtype=float).T * moment_scale(f"N{pos_unit}")
        fv = force[:, vertical]
        big = np.abs(fv) >= max(fz_threshold_n, 1e-9)
        flipped = bool(big.any() and np.median(fv[big]) < 0)
        if flipped:  # the file stores the action on the plate; report the reaction on the subject
            force, moment, tz = -force, -moment, -tz
            fv = -fv
        loaded = np.abs(fv) >= fz_threshold_n if fz_threshold_n > 0 else np.ones(fv.shape, bool)
        cop = np.where(loaded[:, None], cop, np.nan)
        time = t0 + np.arange(force.shape[0]) / analog_rate
        src = {"force": pf.get("unit_force", "N"), "moment": f"N{pos_unit}", "cop": pos_unit,
               "free_moment": f"N{pos_unit}"}
        sig = TimeSeries(time, {"force": force, "moment": moment, "cop": cop, "free_moment": tz,
                                "loaded": loaded},
                         {"force": "N", "moment": "N*m", "cop": "m", "free_moment": "N*m", "loaded": "bool"},
                         src, meta={"file": str(path), "kind": "force plate", "plate": i, "type": ptype,
                                    "sign_flipped": flipped, "fz_threshold_n": fz_threshold_n})
        plates.append(ForcePlate(index=i, signals=sig, type=ptype, corners=(corners_all[i].T * to_pos
                                 if corners_all[i] is not None else None),
                                 origin=np.asarray(pf.get("origin", [np.nan] * 3), float) * to_pos,
                                 threshold_n=fz_threshold_n, name=f"FP{i + 1}"))
    if skipped:
        meta["plates_skipped"] = skipped
        if not plates:
            meta["plates_note"] = "; ".join(skipped)
    meta["plate_types"] = types
    meta["plates_sign_flipped"] = [p.signals.meta["sign_flipped"] for p in plates]
    return Recording(str(path), markers=markers, plates=plates, analogs=analogs, events=_events(params),
                     vertical_axis=vertical, meta=meta)
