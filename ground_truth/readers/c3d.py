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

Hostile files
-------------
- The path must be a readable regular file (``check_input_file``: a directory, FIFO or device is refused from
  its ``stat``; the library would block on them).
- Before ezc3d sees the file, plain Python checks its structure (:mod:`ground_truth.readers.c3d_structure`):
  header length and key byte, where the parameter and data sections start, the processor type, every parameter
  record fitting in its record (a dimension count of 255 made ezc3d 1.7.2 die with SIGSEGV), and the scale
  factors and rates that size and scale all data.
- ezc3d itself runs in a child process (:mod:`ground_truth.readers.isolated`): a crash is
  ``ReaderError("the C3D library crashed reading this file (signal SIGSEGV)")``, a hang is stopped after
  :data:`READ_TIMEOUT_S` + :data:`READ_TIMEOUT_S_PER_MB` per MB with a ReaderError; the next file gets a new
  child.
- Values no instrument produces become NaN and are counted in ``meta["notes"]`` (bounds of
  :data:`ground_truth.kernel.BOUNDS`): marker positions, plate forces and moments (the whole sample), COP and
  free moment (loaded samples only, where they are defined), plates whose FORCE_PLATFORM:CORNERS or ORIGIN are
  not a place in a lab, a COP more than a plate length off its plate. ANALOG:SCALE entries must be finite and
  non-zero-or-absurd (ReaderError naming the channel). Isolated one-sample spikes of forces, moments and
  markers are named in the notes and kept.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kernel import (BOUNDS, Event, ReaderError, TimeSeries, UnitError, check_input_file, file_sha256,
                      require_plausible)
from ..recording import DEFAULT_FZ_THRESHOLD_N, ForcePlate, Recording
from .c3d_structure import NOT_C3D as _NOT_C3D
from .c3d_structure import structure as _structure
from .plausibility import mask_rows, mask_together, mask_vectors, note_spikes, note_vector_spikes, off_plate
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


#: What the C3D library is given to read one file before it is stopped: a base plus a time per MB of file. The
#: slowest real file here reads at 2.5 s/MB (Kistler.c3d, 16-bit analogs, plates extracted); the limit is many
#: times that, for a machine busy with other work.
READ_TIMEOUT_S = 60.0
READ_TIMEOUT_S_PER_MB = 20.0
#: How much memory the C3D library may take to read one file: a base plus a multiple of the file's size (the
#: real files here peak at ~100 MB over the reading process's own ~130 MB, Kistler.c3d: 75x its size).
READ_MEMORY_BYTES = 2 * 1024 ** 3
READ_MEMORY_PER_FILE_BYTE = 200

# -- reading through the C3D library, in a child process -------------------------------------------------------------
def _library_read(path: str, extract_plates: bool) -> dict:
    """Run in the reading child process: ezc3d's reading of the file as plain dicts and arrays.

    ezc3d's own errors on bad input come back as ``{"error": kind, "message": ...}``.
    """
    import ezc3d

    try:
        c = ezc3d.c3d(path, extract_forceplat_data=extract_plates)
    except RuntimeError as exc:
        out = {"error": "runtime", "message": str(exc)}
        if "Type" in str(exc) and "not supported" in str(exc):
            try:
                out["plate_types"] = _strings(_param(ezc3d.c3d(path)["parameters"], "FORCE_PLATFORM", "TYPE"))
            except (RuntimeError, OSError, ValueError, IndexError):
                # ezc3d's errors (as below): the file cannot list its plate types either; the error raised
                # from this still says what matters (the plate type is not supported)
                pass
        return out
    except (OSError, ValueError, IndexError) as exc:
        return {"error": "invalid", "message": str(exc)}
    except MemoryError:
        return {"error": "memory", "message": "out of memory"}
    params = {}
    for group, entries in c["parameters"].items():
        if isinstance(entries, dict):
            params[group] = {name: {"value": p["value"]} for name, p in entries.items()
                             if isinstance(p, dict) and "value" in p}
    header = {part: dict(c["header"][part]) for part in ("points", "analogs")}
    data = {"points": np.asarray(c["data"]["points"]), "analogs": np.asarray(c["data"]["analogs"])}
    if extract_plates:
        data["platform"] = [{k: v for k, v in pf.items()} for pf in c["data"]["platform"]]
    return {"parameters": params, "header": header, "data": data}


def _open(path: Path, extract_plates: bool) -> tuple[dict, dict | None]:
    """The checked file's structure and ezc3d's reading of it (run in a child process)."""
    from . import isolated

    check_input_file(path, what="C3D file")
    structure = _structure(path)
    size = path.stat().st_size
    try:
        c3d = isolated.call(_library_read, str(path), extract_plates,
                            timeout_s=READ_TIMEOUT_S + READ_TIMEOUT_S_PER_MB * size / 1e6,
                            memory_budget=READ_MEMORY_BYTES + READ_MEMORY_PER_FILE_BYTE * size)
    except isolated.WorkerCrashed as exc:
        raise ReaderError(f"the C3D library crashed reading this file ({exc.cause})", file=path,
                          expected="a C3D file the library can read (this one is probably corrupted)") from None
    except isolated.WorkerTimeout as exc:
        raise ReaderError(f"the C3D library did not finish reading this file within {exc.seconds:g} s and was "
                          f"stopped", file=path,
                          expected="a C3D file the library can read (this one is probably corrupted)") from None
    if "error" in c3d:
        text = c3d["message"]
        if c3d["error"] == "runtime" and "Type" in text and "not supported" in text:
            raise ReaderError(f"force platform type not supported ({text.split(',')[0]}); plate types in file: "
                              f"{c3d.get('plate_types')}", file=path, field="FORCE_PLATFORM:TYPE",
                              expected=f"types {SUPPORTED_PLATE_TYPES}")
        if c3d["error"] == "runtime":
            raise ReaderError(f"cannot be read as C3D ({text})", file=path)
        if c3d["error"] == "memory":
            raise ReaderError("the C3D library ran out of memory reading this file (it declares more data than "
                              "it holds?)", file=path, expected=_NOT_C3D)
        raise ReaderError(f"not a valid or complete C3D file ({text})", file=path,
                          expected="a C3D file (parameter section and data section)")
    return c3d, structure


def _check_complete(c3d, path: Path, meta: dict, h: dict | None) -> None:
    """Refuse a file cut short; ezc3d silently returns the frames it could read.

    A file cut in transfer ends part-way through a frame: that is refused. A file whose data section ends
    exactly on a frame boundary but holds fewer frames than its header declares (a shortened export, such as
    the Optotrak sample) is read, and the shortfall is stated in ``meta['notes']``.
    """
    held = c3d["data"]["points"].shape[2]
    if h is None or held == 0:
        return
    if h["last"] == 65535:  # 16-bit field saturated; the true count lives in parameters ezc3d already used
        return
    declared = h["last"] - h["first"] + 1
    if held >= declared:
        return
    scale = np.ravel(_param(c3d["parameters"], "POINT", "SCALE", [-1.0]))[0]
    word = 4 if scale < 0 else 2
    frame_bytes = (4 * h["n_points"] + h["analog_per_frame"]) * word
    data_bytes = h["size"] - (h["data_block"] - 1) * 512
    partial = data_bytes - held * frame_bytes
    if frame_bytes == 0 or partial != 0:
        raise ReaderError(f"truncated: the header declares {declared} frames but the file holds {held} and "
                          f"ends part-way through the next one", file=path, field="data section",
                          expected="a complete C3D file")
    meta["notes"].append(f"the header declares {declared} frames but the data section ends, on a frame "
                         f"boundary, after {held}: only those {held} frames exist in the file")
    meta["declared_frames"] = declared


def _check_scales(params: dict, path: Path, n_points: int, n_analogs: int, meta: dict) -> None:
    """Scale factors multiply every stored value: a non-finite or absurd one is an error naming it."""
    if n_points:
        scale = _param(params, "POINT", "SCALE")
        if scale is not None and np.size(scale):
            require_plausible(np.ravel(scale)[0], "scale_abs", file=path, field="POINT:SCALE")
    if not n_analogs:
        return
    gen = _param(params, "ANALOG", "GEN_SCALE")
    if gen is not None and np.size(gen):
        require_plausible(np.ravel(gen)[0], "scale_abs", file=path, field="ANALOG:GEN_SCALE")
    labels = _strings(_param(params, "ANALOG", "LABELS"))

    def channel(j: int) -> str:
        return labels[j] if j < len(labels) and labels[j] else f"channel {j + 1}"

    scales = _param(params, "ANALOG", "SCALE")
    for j, v in enumerate(np.ravel(np.asarray([] if scales is None else scales, dtype=float))[:n_analogs]):
        if v == 0:
            meta["notes"].append(f"ANALOG:SCALE of {channel(j)} is 0: that channel reads 0")
        else:
            require_plausible(v, "scale_abs", file=path, field=f"ANALOG:SCALE[{j + 1}] ({channel(j)})")
    offsets = _param(params, "ANALOG", "OFFSET")
    for j, v in enumerate(np.ravel(np.asarray([] if offsets is None else offsets, dtype=float))[:n_analogs]):
        if not np.isfinite(v):
            raise ReaderError(f"{v:g} is not an offset", file=path, field=f"ANALOG:OFFSET[{j + 1}] ({channel(j)})",
                              expected="a finite integer")


def _check_rate(value: float, path: Path, field: str) -> float:
    """A sampling rate the data need: finite and within bounds, or 0 (not stated: the stream is not read)."""
    if value == 0:
        return 0.0
    return require_plausible(value, "rate_hz", file=path, field=field)


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


def _events(params: dict, notes: list[str]) -> list[Event]:
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
    out, dropped = [], []
    for i in range(n):
        if not BOUNDS["duration_s"].contains(np.array([abs(seconds[i])]))[0] and seconds[i] != 0:
            dropped.append(f"{labels[i]} ({seconds[i]:g} s)")
            continue
        out.append(Event(labels[i], float(seconds[i]), contexts[i] if i < len(contexts) else "", "C3D EVENT group"))
    if dropped:
        notes.append(f"EVENT:TIMES: {len(dropped)} event(s) with an implausible time left out: {', '.join(dropped)}")
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
    c3d, structure = _open(path, extract_plates)
    params = c3d["parameters"]
    meta: dict = {"file": str(path), "format": "c3d", "sha256": file_sha256(path), "notes": []}
    notes = meta["notes"]
    _check_complete(c3d, path, meta, structure)
    pts = c3d["data"]["points"]
    ana = c3d["data"]["analogs"]
    has_points = pts.shape[1] > 0 and pts.shape[2] > 0
    has_analogs = ana.shape[1] > 0 and ana.shape[2] > 0
    _check_scales(params, path, pts.shape[1] if has_points else 0, ana.shape[1] if has_analogs else 0, meta)

    point_rate = float(c3d["header"]["points"]["frame_rate"])
    analog_rate = float(c3d["header"]["analogs"]["frame_rate"])
    if has_points:
        point_rate = _check_rate(point_rate, path, "header words 11-12 (frame rate) / POINT:RATE")
    if not analog_rate > 0:  # some writers (Kistler) leave the header rate at 0 and fill ANALOG:RATE
        analog_rate = float(np.ravel(_param(params, "ANALOG", "RATE", [0.0]))[0] or 0.0)
    if has_analogs:
        analog_rate = _check_rate(analog_rate, path, "ANALOG:RATE (header frame rate x analog samples per frame)")
    first = int(c3d["header"]["points"]["first_frame"])
    meta.update(point_rate_hz=point_rate, analog_rate_hz=analog_rate, first_frame=first)
    if point_rate > 0:
        t0 = first / point_rate
    else:
        t0 = int(c3d["header"]["analogs"]["first_frame"]) / analog_rate if analog_rate > 0 else 0.0

    # -- markers ---------------------------------------------------------------------------------------------
    unit, note = _point_units(params, path)
    if note:
        notes.append(note)
    try:
        to_m = length_scale(unit)
    except UnitError:
        raise UnitError(f"unknown marker unit {unit!r}", file=path, field="POINT:UNITS",
                        expected="a length unit such as mm, cm or m") from None
    meta["point_units"] = unit
    markers = None
    if has_points and point_rate > 0:
        labels = _strings(_param(params, "POINT", "LABELS"))
        for extra in ("LABELS2", "LABELS3", "LABELS4"):
            labels += _strings(_param(params, "POINT", extra))
        xyz = np.transpose(pts[:3], (2, 1, 0)).astype(float) * to_m  # (n, M, 3)
        gaps = np.any(np.isnan(xyz), axis=2)
        if zero_is_gap:
            zero = np.all(xyz == 0.0, axis=2)
            xyz[zero] = np.nan
            gaps |= zero
        names, seen = [], {}
        for j in range(xyz.shape[1]):
            name = labels[j] if j < len(labels) and labels[j] else f"point_{j}"
            if name in seen:  # duplicate labels exist in real files; keep both, never overwrite
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            else:
                seen[name] = 0
            names.append(name)
        implausible = mask_vectors(xyz, names, "position_m", what=f"{path.name} markers", notes=notes)
        gaps |= implausible
        if implausible.any():
            meta["marker_implausible_samples"] = {n: int(c) for n, c in zip(names, implausible.sum(axis=0)) if c}
        note_vector_spikes(xyz, names, "position_m", what=f"{path.name} markers", notes=notes)
        time = t0 + np.arange(xyz.shape[0]) / point_rate
        data = {name: xyz[:, j] for j, name in enumerate(names)}
        markers = TimeSeries(time, data, {k: "m" for k in data}, {k: unit for k in data},
                             meta={"file": str(path), "kind": "markers"})
        meta["marker_gap_samples"] = {name: int(g) for name, g in zip(data, gaps.sum(axis=0)) if g}
        meta["marker_gap_fraction"] = float(gaps.mean()) if gaps.size else 0.0
    elif has_points:
        notes.append("the file holds marker data but no frame rate (0): markers not read")

    # -- analogs ---------------------------------------------------------------------------------------------
    analogs = None
    if has_analogs and analog_rate > 0:
        labels = _strings(_param(params, "ANALOG", "LABELS"))
        units = _strings(_param(params, "ANALOG", "UNITS"))
        values = ana[0].T.astype(float)  # (n, C)
        time = t0 + np.arange(values.shape[0]) / analog_rate
        analogs = TimeSeries(time, meta={"file": str(path), "kind": "analogs"})
        seen = {}
        not_finite = {}
        for j in range(values.shape[1]):
            name = labels[j] if j < len(labels) and labels[j] else f"analog_{j}"
            if name in seen:
                seen[name] += 1
                name = f"{name}#{seen[name]}"
            else:
                seen[name] = 0
            src = units[j] if j < len(units) else ""
            si_unit, scale = si_analog(src)
            bad = int(np.count_nonzero(~np.isfinite(values[:, j])))
            if bad:
                not_finite[name] = bad
            analogs.add_channel(name, values[:, j] * scale, si_unit, src or "(none)")
        if not_finite:
            named = ", ".join(f"{k}: {v}" for k, v in list(not_finite.items())[:5])
            more = f" and {len(not_finite) - 5} more" if len(not_finite) > 5 else ""
            notes.append(f"{path.name} analogs: {sum(not_finite.values())} non-finite value(s) in "
                         f"{len(not_finite)} channel(s) ({named}{more})")
    elif has_analogs:
        notes.append("the file holds analog data but no analog rate (0): analogs not read")

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
        if not analog_rate > 0:
            skipped.append(f"plate {i} (type {ptype}): no analog rate")
            continue
        pos_unit = unit  # ezc3d expresses plate positions in the point unit (and labels it 'm' when absent)
        to_pos = length_scale(pos_unit)
        moment = np.asarray(pf["moment"], dtype=float).T * moment_scale(f"N{pos_unit}")
        cop = np.asarray(pf["center_of_pressure"], dtype=float).T * to_pos
        tz = np.asarray(pf["Tz"], dtype=float).T * moment_scale(f"N{pos_unit}")
        what = f"{path.name} plate {i + 1}"
        corners_m = None if corners_all[i] is None else corners_all[i].T * to_pos
        origin_m = np.asarray(pf["origin"], float) * to_pos if "origin" in pf else None
        force, moment, cop, tz, corners_m, moments_ok = _plate_geometry(force, moment, cop, tz, corners_m,
                                                                        origin_m, what=what, notes=notes)
        checked = {"force": force, "moment": moment} if moments_ok else {"force": force}
        masked, bad = mask_together(checked, {"force": "force_n", "moment": "moment_nm"}, what=what, notes=notes)
        force, moment = masked["force"], masked.get("moment", moment)
        cop[bad] = np.nan
        tz[bad] = np.nan
        fv = force[:, vertical]
        with np.errstate(invalid="ignore"):
            big = np.abs(fv) >= max(fz_threshold_n, 1e-9)
        flipped = bool(big.any() and np.median(fv[big]) < 0)
        if flipped:  # the file stores the action on the plate; report the reaction on the subject
            force, moment, tz = -force, -moment, -tz
            fv = -fv
        with np.errstate(invalid="ignore"):
            loaded = np.abs(fv) >= fz_threshold_n if fz_threshold_n > 0 else np.isfinite(fv)
        # the COP and the free moment about it are defined where the plate carries a load, not elsewhere
        cop = np.where(loaded[:, None], cop, np.nan)
        tz = mask_rows(np.where(loaded[:, None], tz, np.nan), "moment_nm", what=f"{what} free moment",
                       notes=notes)
        cop = _plausible_cop(cop, corners_m, fv, what=what, notes=notes)
        note_spikes(force, "force_n", what=f"{what} force", notes=notes)
        note_spikes(moment, "moment_nm", what=f"{what} moment", notes=notes)
        time = t0 + np.arange(force.shape[0]) / analog_rate
        src = {"force": pf.get("unit_force", "N"), "moment": f"N{pos_unit}", "cop": pos_unit,
               "free_moment": f"N{pos_unit}"}
        sig = TimeSeries(time, {"force": force, "moment": moment, "cop": cop, "free_moment": tz,
                                "loaded": loaded},
                         {"force": "N", "moment": "N*m", "cop": "m", "free_moment": "N*m", "loaded": "bool"},
                         src, meta={"file": str(path), "kind": "force plate", "plate": i, "type": ptype,
                                    "sign_flipped": flipped, "fz_threshold_n": fz_threshold_n})
        plates.append(ForcePlate(index=i, signals=sig, type=ptype, corners=corners_m,
                                 origin=np.full(3, np.nan) if origin_m is None else origin_m,
                                 threshold_n=fz_threshold_n, name=f"FP{i + 1}"))
    if skipped:
        meta["plates_skipped"] = skipped
        if not plates:
            meta["plates_note"] = "; ".join(skipped)
    meta["plate_types"] = types
    meta["plates_sign_flipped"] = [p.signals.meta["sign_flipped"] for p in plates]
    return Recording(str(path), markers=markers, plates=plates, analogs=analogs, events=_events(params, notes),
                     vertical_axis=vertical, meta=meta)


def _plate_geometry(force, moment, cop, tz, corners, origin, *, what: str, notes: list[str]):
    """Plate signals with what depends on implausible FORCE_PLATFORM:CORNERS or ORIGIN set to NaN, and whether
    the moments are still meaningful.

    ezc3d expresses force, moments and COP in the lab frame through the corners, and moments (hence the COP)
    about the origin: corners that are not a place in a lab make every signal of the plate meaningless; an
    origin that is not one makes its moments and COP meaningless (the force is still right).
    """
    b = BOUNDS["position_m"]
    if corners is not None and not b.contains(corners).all():
        finite = corners[np.isfinite(corners)]
        worst = f"{finite[np.argmax(np.abs(finite))]:.4g} m" if finite.size else "non-finite"
        notes.append(f"{what}: FORCE_PLATFORM:CORNERS not a place in a lab (a coordinate {worst}, outside "
                     f"{b.describe()}): its force, moments and COP, which the library expresses in the lab frame "
                     f"through the corners, are NaN")
        nan = np.full_like(force, np.nan)
        return nan, nan.copy(), nan.copy(), nan.copy(), None, False
    if origin is not None and not b.contains(origin).all():
        notes.append(f"{what}: FORCE_PLATFORM:ORIGIN {np.array2string(origin, precision=4)} m is not a plausible "
                     f"offset (outside {b.describe()}): its moments and COP, taken about that origin, are NaN")
        nan = np.full_like(force, np.nan)
        return force, nan, nan.copy(), nan.copy(), corners, False
    return force, moment, cop, tz, corners, True


def _plausible_cop(cop, corners, fv, *, what: str, notes: list[str]) -> np.ndarray:
    """The lab-frame COP with positions outside any lab, or off the plate beyond a margin, set to NaN."""
    cop = mask_rows(cop, "position_m", what=f"{what} COP", notes=notes)
    found = off_plate(cop, corners) if corners is not None else None
    if found is not None and found[0].any():
        off, margin = found
        with np.errstate(invalid="ignore"):
            loads = np.abs(fv[off])
        notes.append(f"{what}: COP of {int(off.sum())} loaded sample(s) more than {margin * 100:.0f} cm (one plate "
                     f"length) outside the plate's corners (vertical force {np.nanmin(loads):.0f}-"
                     f"{np.nanmax(loads):.0f} N) set to NaN: a COP lies on or near its plate")
        cop[off] = np.nan
    return cop
