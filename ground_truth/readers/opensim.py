"""OpenSim text formats: ``.trc`` marker trajectories and ``.mot`` ground-reaction-force files.

Both follow OpenSim's conventions: the lab frame is y-up, and an external-loads ``.mot`` stores, per applied
force ``<prefix>``, the columns ``<prefix>ground_force_v{x,y,z}`` (N), ``<prefix>ground_force_p{x,y,z}`` (point
of application, m) and ``<prefix>ground_torque_{x,y,z}`` (N*m). ``.mot`` headers carry no units; those SI units
are OpenSim's documented convention and are recorded as assumed.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..kernel import ReaderError, TimeSeries, UnitError, check_input_file, file_sha256, require_plausible
from ..recording import DEFAULT_FZ_THRESHOLD_N, ForcePlate, Recording
from .plausibility import mask_rows, mask_together, mask_vectors, note_spikes, note_vector_spikes
from .units import length_scale

OPENSIM_VERTICAL_AXIS = 1  # y up


def _read_text(path: Path) -> str:
    data = check_input_file(path, what="OpenSim text file").read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:   # binary (a C3D given as --format mot) or a corrupted byte: say where
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReaderError(f"is not a text file: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}) is "
                          f"not UTF-8", file=path, expected="an OpenSim text file") from None
    if not text.strip():
        raise ReaderError("file is empty", file=path)
    return text


def _header_count(path: Path, header: dict, key: str) -> int:
    """A header count (NumMarkers, NumFrames, datarows): a non-negative whole number, else ReaderError."""
    value = header[key]
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (np.isfinite(number) and number >= 0 and number == int(number) and number < 2 ** 31):
        raise ReaderError(f"{value!r} is not a count", file=path, field=key, expected="a whole number >= 0")
    return int(number)


def _numeric_block(path: Path, body: str, n_cols: int | None, what: str) -> np.ndarray:
    import pandas as pd

    try:
        df = pd.read_csv(io.StringIO(body), sep=r"[\t ]+" if n_cols is None else "\t", header=None,
                         engine="python" if n_cols is None else "c", skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise ReaderError(f"no {what} rows after the header", file=path) from None
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = df.notna().to_numpy() & np.isnan(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ReaderError(f"non-numeric value {df.iat[r, c]!r} in data row {r + 1}, column {c + 1}", file=path,
                          field=f"column {c + 1}", expected="numbers")
    return values


def _check_time(path: Path, t: np.ndarray) -> None:
    if t.size and (np.any(~np.isfinite(t)) or np.any(np.diff(t) <= 0)):
        bad = int(np.flatnonzero(~np.isfinite(t) | np.r_[False, np.diff(t) <= 0])[0])
        raise ReaderError(f"time is not strictly increasing at row {bad + 1}", file=path, field="time",
                          expected="monotonically increasing times in seconds")
    if t.size > 1:
        require_plausible(t[-1] - t[0], "duration_s", file=path, field="time")


def read_trc(path: str | Path) -> Recording:
    """Read an OpenSim/Motion-Analysis ``.trc`` marker file (markers converted to metres; empty cells = gaps)."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise ReaderError("not a TRC file: the first line does not start with 'PathFileType'", file=path,
                          expected="the TRC header (PathFileType, DataRate/.../Units line, values, marker names, "
                                   "X1 Y1 Z1 ...)")
    keys = [k.strip() for k in lines[1].split("\t")]
    vals = [v.strip() for v in lines[2].split("\t")]
    twice = sorted({k for k in keys if k and keys.count(k) > 1})
    if twice:
        raise ReaderError("the header names this key more than once (line 2)", file=path, field=twice[0],
                          expected="each header key once")
    header = dict(zip(keys, vals))
    for required in ("DataRate", "NumMarkers", "Units"):
        if required not in header:
            raise ReaderError("header lacks this key", file=path, field=required)
    rate = require_plausible(header["DataRate"], "rate_hz", file=path, field="DataRate")
    unit = header["Units"]
    try:
        to_m = length_scale(unit)
    except UnitError:
        raise UnitError(f"unknown marker unit {unit!r}", file=path, field="Units", expected="mm, cm or m") from None
    names_row = lines[3].split("\t")
    if len(names_row) < 2 or names_row[0].strip() != "Frame#":
        raise ReaderError("the marker-name row does not start with 'Frame#'", file=path, field="line 4")
    names = [n.strip() for n in names_row[2::3] if n.strip()]
    n_markers = _header_count(path, header, "NumMarkers")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ReaderError(f"marker {twice[0]!r} is named more than once in the marker-name row", file=path,
                          field="line 4", expected="each marker name once")
    if len(names) != n_markers:
        raise ReaderError(f"header says {n_markers} markers but the name row has {len(names)}", file=path,
                          field="NumMarkers")
    # Rows may stop early (trailing empty cells = gap) or end with stray tabs; read a fixed column count.
    body = "\n".join(line.rstrip("\r\t ") for line in lines[5:] if line.strip())
    ncol = 2 + 3 * n_markers
    import pandas as pd

    try:
        df = pd.read_csv(io.StringIO(body), sep="\t", header=None, names=range(ncol), engine="c")
    except pd.errors.ParserError as exc:
        raise ReaderError(f"a data row has more cells than 2 + 3 x {n_markers} markers ({exc})", file=path,
                          field="NumMarkers") from None
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = df.notna().to_numpy() & np.isnan(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ReaderError(f"non-numeric value {df.iat[r, c]!r} in data row {r + 1}, column {c + 1}", file=path,
                          expected="numbers")
    if values.shape[0] == 0:
        raise ReaderError("no data rows after the header", file=path)
    time = values[:, 1]
    _check_time(path, time)
    xyz = values[:, 2:].reshape(values.shape[0], n_markers, 3) * to_m
    gaps = np.any(np.isnan(xyz), axis=2)
    notes: list[str] = []
    gaps |= mask_vectors(xyz, names, "position_m", what=f"{path.name} markers", notes=notes)
    note_vector_spikes(xyz, names, "position_m", what=f"{path.name} markers", notes=notes)
    markers = TimeSeries(time, {n: xyz[:, j] for j, n in enumerate(names)}, {n: "m" for n in names},
                         {n: unit for n in names}, meta={"file": str(path), "kind": "markers"})
    declared = header.get("NumFrames")
    meta = {"file": str(path), "format": "trc", "sha256": file_sha256(path), "point_units": unit,
            "point_rate_hz": rate, "vertical_axis": OPENSIM_VERTICAL_AXIS,
            "vertical_axis_from": "OpenSim convention (y up)", "notes": notes,
            "marker_gap_samples": {n: int(g) for n, g in zip(names, gaps.sum(axis=0)) if g},
            "marker_gap_fraction": float(gaps.mean())}
    if declared is not None and _header_count(path, header, "NumFrames") != values.shape[0]:
        raise ReaderError(f"header declares {_header_count(path, header, 'NumFrames')} frames but the file holds "
                          f"{values.shape[0]} (truncated?)", file=path, field="NumFrames")
    return Recording(str(path), markers=markers, vertical_axis=OPENSIM_VERTICAL_AXIS, meta=meta)


_FORCE_COL = re.compile(r"^(?P<prefix>.*?)(?:ground_)?force_v(?P<axis>[xyz])$")


def read_mot(path: str | Path, *, fz_threshold_n: float = DEFAULT_FZ_THRESHOLD_N) -> Recording:
    """Read an OpenSim external-loads ``.mot`` file: one :class:`ForcePlate` per force prefix.

    COP is the point of application (``ground_force_p*``), masked to NaN where the vertical (y) force is
    below ``fz_threshold_n``.
    """
    path = Path(path)
    text = _read_text(path)
    lines = text.splitlines()
    try:
        end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    except StopIteration:
        raise ReaderError("no 'endheader' line", file=path, expected="an OpenSim .mot/.sto header") from None
    header = {}
    for lineno, line in enumerate(lines[:end], start=1):
        if "=" in line:
            k, v = (part.strip() for part in line.split("=", 1))
        elif line.strip():
            parts = line.split(None, 1)
            k, v = parts[0], parts[1].strip() if len(parts) > 1 else ""
        else:
            continue
        if k in header and header[k] != v:
            raise ReaderError(f"the header sets {k!r} twice ({header[k]!r}, then {v!r} on line {lineno})",
                              file=path, field=k, expected="each header key once")
        header[k] = v
    if end + 1 >= len(lines):
        raise ReaderError("no column-name row after 'endheader'", file=path)
    columns = lines[end + 1].split()
    if not columns or columns[0].lower() != "time":
        raise ReaderError(f"first column is {columns[0] if columns else None!r}", file=path, field="time",
                          expected="'time' as the first column")
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise ReaderError(f"column {twice[0]!r} is named more than once", file=path, field=twice[0],
                          expected="each column once")
    data = _numeric_block(path, "\n".join(lines[end + 2:]), None, "data")
    if data.shape[1] != len(columns):
        raise ReaderError(f"data rows have {data.shape[1]} values but there are {len(columns)} column names",
                          file=path, expected="one value per named column")
    if "datarows" in header and _header_count(path, header, "datarows") != data.shape[0]:
        raise ReaderError(f"header declares {header['datarows']} rows but the file holds {data.shape[0]} "
                          "(truncated?)", file=path, field="datarows")
    time = data[:, 0]
    _check_time(path, time)
    index = {c: i for i, c in enumerate(columns)}
    prefixes = []
    for c in columns:
        m = _FORCE_COL.match(c)
        if m and m.group("axis") == "x":
            prefixes.append(m.group("prefix"))
    if not prefixes:
        raise ReaderError("no ground-reaction-force columns", file=path, field="columns",
                          expected="OpenSim external-load columns such as '<prefix>ground_force_vx', "
                                   "'<prefix>ground_force_px', '<prefix>ground_torque_x'")
    plates = []
    notes = ["units not stated in .mot headers: N, m and N*m assumed (OpenSim convention)"]
    for k, prefix in enumerate(prefixes):
        def cols(stem: str, prefix=prefix) -> np.ndarray:
            names = [f"{prefix}{stem}{a}" for a in "xyz"]
            alt = [n.replace("ground_", "") for n in names]
            for group in (names, alt):
                if all(n in index for n in group):
                    return data[:, [index[n] for n in group]]
            raise ReaderError("missing columns", file=path, field=", ".join(names),
                              expected="x, y and z columns for each applied force")
        force = cols("ground_force_v")
        point = cols("ground_force_p")
        try:
            torque = cols("ground_torque_")
            checked = {"force": force, "torque": torque}
        except ReaderError:
            torque = np.full_like(force, np.nan)
            checked = {"force": force}
        name = prefix.rstrip("_") or f"force{k + 1}"
        what = f"{path.name} {name}"
        masked, _ = mask_together(checked, {"force": "force_n", "torque": "moment_nm"}, what=what, notes=notes)
        force, torque = masked["force"], masked.get("torque", torque)
        note_spikes(force, "force_n", what=f"{what} force", notes=notes)
        fv = force[:, OPENSIM_VERTICAL_AXIS]
        with np.errstate(invalid="ignore"):
            loaded = np.abs(fv) >= fz_threshold_n
        cop = mask_rows(np.where(loaded[:, None], point, np.nan), "position_m", what=f"{what} point",
                        notes=notes)
        sig = TimeSeries(time, {"force": force, "cop": cop, "free_moment": torque, "loaded": loaded},
                         {"force": "N", "cop": "m", "free_moment": "N*m", "loaded": "bool"},
                         {"force": "N (OpenSim convention)", "cop": "m (OpenSim convention)",
                          "free_moment": "N*m (OpenSim convention)"},
                         meta={"file": str(path), "kind": "force plate", "plate": k, "name": name,
                               "fz_threshold_n": fz_threshold_n})
        plates.append(ForcePlate(index=k, signals=sig, threshold_n=fz_threshold_n, name=name))
    meta = {"file": str(path), "format": "mot", "sha256": file_sha256(path), "analog_rate_hz": None,
            "vertical_axis": OPENSIM_VERTICAL_AXIS, "vertical_axis_from": "OpenSim convention (y up)",
            "notes": notes,
            "plate_names": [p.name for p in plates], "header": header}
    return Recording(str(path), plates=plates, vertical_axis=OPENSIM_VERTICAL_AXIS, meta=meta)
