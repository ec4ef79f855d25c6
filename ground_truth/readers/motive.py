"""Reader of OptiTrack/Motive force-plate CSV exports (e.g. an AMTI plate; Quijoux et al. 2021's ``test.csv``).

Layout: ``key,value,`` metadata lines (Format Version, Take Name, Capture Frame Rate, Device Name, plate
corners, ...), blank lines, then a column header ``MocapFrame, MocapTime, DeviceFrame, Fx, Fy, Fz, Mx, My,
Mz, Cx, Cy, Cz`` (line 35 of the published example; "header of 31 lines" counts non-blank lines as
``pandas.read_csv(header=[31])`` does) and one comma-separated row per frame. The export states no units;
Motive writes AMTI plates in N, N*m and m, which the reader assumes and records in ``meta``.

COP is computed from the plate's forces and moments in the plate frame of the export, ``x = -My/Fz``,
``y = Mx/Fz`` (``z = 0``): this is the file's own ``Cx, Cy`` columns (checked to 1 µm on the example).
Quijoux et al.'s code uses ``(My/Fz, Mx/Fz)`` (their ML, AP), i.e. the same y and the mirror image of x;
``meta["quijoux2021_cop_note"]`` says so. Frames whose vertical force is zero (force-plate dropouts) or below
the threshold get NaN COP, ``loaded = False``, and are counted in ``meta`` -- never a division warning or inf.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..kernel import (ReaderError, TimeSeries, read_text_file, require_plausible,
                      validate_type)
from ..recording import DEFAULT_FZ_THRESHOLD_N, ForcePlate, Recording
from .bmclab import _check_time, _read_numeric_body, _vertical_sign
from .plausibility import mask_rows, mask_together, note_spikes

REQUIRED = ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
_MAX_HEADER_LINES = 200


def read_motive_csv(path, *, fz_threshold_n: float = DEFAULT_FZ_THRESHOLD_N) -> Recording:
    """Read a Motive force-plate CSV export into a one-plate :class:`Recording`.

    Parameters
    ----------
    path : str or path-like
    fz_threshold_n : float
        Vertical force (N) below which the plate counts as unloaded (COP NaN, ``loaded`` False).

    Returns
    -------
    Recording
        One plate: ``force`` (N), ``moment`` (N*m), ``cop`` (m, plate frame, z vertical), ``loaded``.
        ``meta`` holds the export's metadata lines, ``n_dropout_frames`` (Fz exactly 0), ``n_unloaded``
        (below threshold, dropouts included), ``dropout_times_s`` and ``vertical_force_sign``.

    Notes
    -----
    Time comes from ``MocapTime`` (s); when absent, from ``MocapFrame`` / ``Capture Frame Rate``.
    """
    validate_type(path, "path-like", "path")
    validate_type(fz_threshold_n, "numeric", "fz_threshold_n")
    path = Path(path)
    kind = "Motive force-plate CSV export"
    # an empty file gets the same message as a file without a Motive header
    text = read_text_file(path, what=kind, allow_empty=True)
    header_meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    header_line = None
    # lines end as pandas ends them (\n, \r\n or \r), so that line numbers match its skiprows
    for lineno, line in enumerate(re.split(r"\r\n|\r|\n", text, maxsplit=_MAX_HEADER_LINES)[:_MAX_HEADER_LINES],
                                  start=1):
        stripped = line.strip()
        if not stripped:
            continue
        cells = [c.strip() for c in stripped.split(",")]
        if "Fz" in cells or cells[0] in ("MocapFrame", "Frame"):
            header_line = lineno
            columns = cells
            break
        if len(cells) >= 2 and cells[0]:
            if cells[0] in header_meta and header_meta[cells[0]] != cells[1]:
                raise ReaderError(f"the metadata key {cells[0]!r} appears twice with different values (line "
                                  f"{meta_lines[cells[0]]}: {header_meta[cells[0]]!r}, line {lineno}: {cells[1]!r})",
                                  file=path, field=cells[0], expected="each metadata key once")
            header_meta[cells[0]] = cells[1]
            meta_lines[cells[0]] = lineno
    if header_line is None:
        if not header_meta:
            raise ReaderError("file is empty or not a Motive export", file=path, field="header",
                              expected="metadata lines then a 'MocapFrame, MocapTime, ..., Fx, Fy, Fz, Mx, My, Mz' "
                                       "column header")
        raise ReaderError(f"no column header with Fz in the first {_MAX_HEADER_LINES} lines", file=path,
                          field="header", expected="a 'MocapFrame, MocapTime, ..., Fx, Fy, Fz, Mx, My, Mz' line")
    columns = [c for c in columns if c != ""] if columns and columns[-1] == "" else columns
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ReaderError(f"missing column(s) {', '.join(missing)}", file=path, field=missing[0],
                          expected=f"columns {', '.join(REQUIRED)}")
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise ReaderError(f"duplicate column(s) {', '.join(dup)} in the column header (line {header_line})",
                          file=path, field=dup[0], expected="each column once")
    notes: list[str] = []
    data = _read_numeric_body(path, columns, skiprows=header_line, sep=",", first_data_line=header_line + 1,
                              text=text, notes=notes)
    col = {n: data[:, i] for i, n in enumerate(columns)}
    if "MocapTime" in col:
        time = col["MocapTime"]
        time_field = "MocapTime"
    elif "MocapFrame" in col and "Capture Frame Rate" in header_meta:
        rate = require_plausible(header_meta["Capture Frame Rate"], "rate_hz", file=path,
                                 field="Capture Frame Rate")
        time = col["MocapFrame"] / rate
        time_field = "MocapFrame"
    else:
        raise ReaderError("no time column", file=path, field="MocapTime",
                          expected="a MocapTime column, or MocapFrame plus a 'Capture Frame Rate' line")
    _check_time(path, time, time_field)

    plate_name = header_meta.get("Device Name", "plate")
    what = f"{path.name} {plate_name}"  # from here: what the notes name
    masked, _ = mask_together({"force": np.column_stack([col["Fx"], col["Fy"], col["Fz"]]),
                               "moment": np.column_stack([col["Mx"], col["My"], col["Mz"]])},
                              {"force": "force_n", "moment": "moment_nm"}, what=what, notes=notes)
    force, moment = masked["force"], masked["moment"]
    note_spikes(force, "force_n", what=f"{what} force", notes=notes)
    note_spikes(moment, "moment_nm", what=f"{what} moment", notes=notes)
    fz = force[:, 2]
    sign = _vertical_sign(fz)
    threshold = float(fz_threshold_n)
    with np.errstate(invalid="ignore"):
        loaded = sign * fz >= threshold
    dropout = fz == 0
    cop = np.full((time.size, 3), np.nan)
    # Divide only where loaded: dropout frames (Fz = 0) must not produce inf or a RuntimeWarning.
    np.divide(-moment[:, 1], fz, out=cop[:, 0], where=loaded)
    np.divide(moment[:, 0], fz, out=cop[:, 1], where=loaded)
    cop[loaded, 2] = 0.0
    cop = mask_rows(cop, "cop_m", what=f"{what} COP", notes=notes)
    meta_plate = {"file": str(path), "vertical_force_sign": sign,
                  "method": "COP = (-My/Fz, Mx/Fz, 0) from the export's forces and moments (plate frame)",
                  "n_unloaded": int(np.count_nonzero(~loaded))}
    ts = TimeSeries(time, {"force": force, "moment": moment, "cop": cop, "loaded": loaded},
                    {"force": "N", "moment": "N*m", "cop": "m", "loaded": "bool"},
                    {"force": "N (assumed: Motive AMTI export)", "moment": "N*m (assumed)", "cop": "m (assumed)"},
                    meta=meta_plate)
    analogs = None
    if all(c in col for c in ("Cx", "Cy", "Cz")):
        file_cop = mask_rows(np.column_stack([col["Cx"], col["Cy"], col["Cz"]]), "cop_m",
                             what=f"{what} file COP (Cx, Cy, Cz)", notes=notes)
        analogs = TimeSeries(time, {"file_cop": file_cop},
                             {"file_cop": "m"}, {"file_cop": "m (assumed)"},
                             meta={"file": str(path), "method": "COP columns as exported by Motive (not masked)"})
    plate = ForcePlate(0, ts, threshold_n=threshold, name=plate_name)
    meta = {"format": "motive", "export": header_meta, "header_line": header_line,
            "source_units": {"force": "N", "moment": "N*m", "cop": "m",
                             "note": "the export states no units; Motive's AMTI defaults assumed"},
            "vertical_force_sign": sign, "n_dropout_frames": int(np.count_nonzero(dropout)),
            "dropout_times_s": time[dropout].tolist(), "n_unloaded": int(np.count_nonzero(~loaded)),
            "horizontal_axis_names": ("ml", "ap"), "notes": notes,
            "quijoux2021_cop_note": "Quijoux et al. 2021 use (My/Fz, Mx/Fz)*100 cm as (ML, AP): the mirror "
                                    "image in x of this COP (x = -My/Fz); y is identical."}
    return Recording(str(path), plates=[plate], analogs=analogs, vertical_axis=2, meta=meta)
