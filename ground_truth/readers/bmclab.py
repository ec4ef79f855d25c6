"""Reader of the BMClab force-plate text exports (Santos & Duarte 2016 BDS; dos Santos et al. 2017 PDS).

Two layouts share the ``.txt`` extension:

* **BDS** (one plate): tab-separated, header ``Time[s] Fx[N] Fy[N] Fz[N] Mx[Nm] My[Nm] Mz[Nm] COPx[cm] COPy[cm]``.
  Units come from the header brackets; COP is converted cm -> m. The lab frame is the plate's: z vertical,
  COPx anterior-posterior, COPy medio-lateral (BDS README); COPx = -My/Fz and COPy = Mx/Fz in the file.
* **PDS** (two plates, one per foot): tab-separated, header ``Time RGRF_X ... LFREEMOMENT_Y`` with no units;
  per the data set's README forces are in N, COP in m and free moments in N*m, y is vertical (so the COP
  plane is x-z, x anterior-posterior, z medio-lateral). Plate 0 is the right foot, plate 1 the left foot.
  The file's own net GRF and net COP are kept in ``Recording.analogs`` (``file_net_force``,
  ``file_net_cop``). ``Recording.plate("net")`` uses the file's net COP (``COPNET_*``): it reproduces the
  data set's published per-trial metrics, while the net COP recomputed from the per-plate columns misses
  them by up to 1.3e-4 relative. The reader checks the one against the other (see
  :data:`PDS_NET_COP_TOLERANCE_M`) and records the result in ``Recording.meta["file_net_cop"]``.

Also holds the shared fast parser for delimited numeric text used by :mod:`ground_truth.readers.motive`.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..kernel import ReaderError, TimeSeries, UnitError, read_text_file, require_plausible, validate_type
from ..recording import DEFAULT_FZ_THRESHOLD_N, ForcePlate, Recording
from .plausibility import mask_rows, mask_together, note_spikes


def _read_numeric_body(path: Path, names: list[str], *, skiprows: int, sep: str, first_data_line: int,
                       text: str, notes: list[str]) -> np.ndarray:
    """Parse the data rows of a text export (``text``, the decoded file) into a (n, len(names)) float64 array.

    ``first_data_line`` is the 1-based line number of the first data row, used in error messages.
    Raises ReaderError for an empty body, a row with too many or too few cells, or a cell that is not a number.
    A cell that spells not-a-number ('nan') is NaN, counted per column in ``notes``; an empty cell is an error.
    """
    import io

    import pandas as pd

    try:
        # the file is read again (its bytes are known to be UTF-8): pandas parses a path faster than a string
        frame = pd.read_csv(path, encoding="utf-8", sep=sep, header=None, skiprows=skiprows, names=names,
                            dtype=np.float64, engine="c", skip_blank_lines=True, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ReaderError("has a header but no data rows", file=path, field="data",
                          expected="at least 2 rows of numbers") from None
    except pd.errors.ParserError as exc:
        raise ReaderError(f"malformed row ({exc})", file=path, field="data",
                          expected=f"{len(names)} {sep!r}-separated numbers per row") from None
    except (ValueError, TypeError):
        _raise_first_bad_cell(path, names, skiprows=skiprows, sep=sep, first_data_line=first_data_line, text=text)
        raise  # pragma: no cover - _raise_first_bad_cell always raises
    data = frame.to_numpy()
    if data.shape[0] == 0:
        raise ReaderError("has a header but no data rows", file=path, field="data",
                          expected="at least 2 rows of numbers")
    missing = np.isnan(data)
    if missing.any():
        cells = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=skiprows, names=names, dtype=str,
                            engine="c", skip_blank_lines=True, skipinitialspace=True, keep_default_na=False)
        spelled = missing & (cells.to_numpy(dtype=str) != "")
        empty = missing & ~spelled
        if empty.any():
            row, col = np.argwhere(empty)[0]
            raise ReaderError(f"data row {row + 1} (line ~{first_data_line + row}) has no value in column "
                              f"'{names[col]}': the row is empty or the file is truncated", file=path,
                              field=names[col], expected=f"{len(names)} numbers on every row")
        per = spelled.sum(axis=0)
        row = int(np.argwhere(spelled)[0][0])
        notes.append(f"{path.name}: {int(per.sum())} cell(s) spell not-a-number (first at data row {row + 1}, line "
                     f"~{first_data_line + row}), read as NaN: "
                     + ", ".join(f"{names[j]}: {int(c)}" for j, c in enumerate(per) if c))
    return data


def _raise_first_bad_cell(path: Path, names: list[str], *, skiprows: int, sep: str, first_data_line: int,
                          text: str):
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=skiprows, names=names, dtype=str, engine="c",
                        skip_blank_lines=True, skipinitialspace=True, keep_default_na=False)
    for j, name in enumerate(names):
        col = frame.iloc[:, j]
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & (col.str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ReaderError(f"data row {i + 1} (line ~{first_data_line + i}) holds {col.iloc[i]!r}, not a number",
                              file=path, field=name, expected="a number")
    raise ReaderError("cannot parse the data rows as numbers", file=path, field="data",
                      expected=f"{len(names)} numbers per row")


def _check_time(path: Path, time: np.ndarray, field: str = "Time") -> None:
    """ReaderError unless time is finite, strictly increasing and spans a plausible duration (names the first
    bad row)."""
    if time.size < 2:
        raise ReaderError(f"has {time.size} data row(s)", file=path, field=field, expected="at least 2 samples")
    if not np.isfinite(time).all():
        i = int(np.flatnonzero(~np.isfinite(time))[0])
        raise ReaderError(f"time is {time[i]!r} at data row {i + 1}", file=path, field=field,
                          expected="finite times in seconds")
    steps = np.diff(time)
    if not np.all(steps > 0):
        i = int(np.flatnonzero(~(steps > 0))[0])
        raise ReaderError(f"time is not strictly increasing at data row {i + 2} ({time[i]!r} then {time[i + 1]!r})",
                          file=path, field=field, expected="monotonically increasing time in seconds")
    require_plausible(time[-1] - time[0], "duration_s", file=path, field=field)


# Unit strings of text exports -> (SI unit, factor). Anything else is a UnitError: a silently wrong
# factor would shift every downstream number.
_UNITS = {
    "s": ("s", 1.0), "sec": ("s", 1.0), "ms": ("s", 1e-3),
    "n": ("N", 1.0), "kn": ("N", 1e3),
    "nm": ("N*m", 1.0), "n.m": ("N*m", 1.0), "n*m": ("N*m", 1.0), "n-m": ("N*m", 1.0), "n m": ("N*m", 1.0),
    "nmm": ("N*m", 1e-3), "n.mm": ("N*m", 1e-3), "n*mm": ("N*m", 1e-3),
    "m": ("m", 1.0), "cm": ("m", 1e-2), "mm": ("m", 1e-3),
}


def _si_unit(path: Path, column: str, unit: str, kind: str) -> tuple[str, float]:
    """(SI unit, factor to SI) for a column's unit; ``kind`` is the SI unit expected ('s', 'N', 'N*m', 'm')."""
    key = unit.strip().lower()
    if key in _UNITS and _UNITS[key][0] == kind:
        return _UNITS[key]
    options = sorted(u for u, (si, _) in _UNITS.items() if si == kind)
    raise UnitError(f"unknown unit {unit!r}", file=path, field=column,
                    expected=f"a {kind} unit, one of {options}")


def _vertical_sign(force_v: np.ndarray) -> int:
    """+1 when the file's vertical force is positive under load (compression positive), -1 when negative.

    Decided from the median of the vertical force, so that a few unloaded or spiking frames do not flip it.
    """
    finite = force_v[np.isfinite(force_v)]
    if finite.size == 0:
        return 1
    return -1 if float(np.median(finite)) < 0 else 1


# --------------------------------------------------------------------------------------------------------
# BMClab layouts
# --------------------------------------------------------------------------------------------------------
BDS_COLUMNS = ("Time", "Fx", "Fy", "Fz", "Mx", "My", "Mz", "COPx", "COPy")
_BDS_KIND = {"Time": "s", "Fx": "N", "Fy": "N", "Fz": "N", "Mx": "N*m", "My": "N*m", "Mz": "N*m",
             "COPx": "m", "COPy": "m"}
PDS_COLUMNS = ("Time", "RGRF_X", "RGRF_Y", "RGRF_Z", "LGRF_X", "LGRF_Y", "LGRF_Z", "GRFNET_X", "GRFNET_Y",
               "GRFNET_Z", "RCOP_X", "RCOP_Y", "RCOP_Z", "LCOP_X", "LCOP_Y", "LCOP_Z", "COPNET_X", "COPNET_Y",
               "COPNET_Z", "RFREEMOMENT_Y", "LFREEMOMENT_Y")
_HEADER_CELL = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[([^\[\]]*)\])?\s*$")

#: The PDS export prints every COP column in metres with 6 decimals: each value is within 0.5 µm of the
#: authors' own.
PDS_COP_RESOLUTION_M = 1e-6
#: What that rounding alone can make the file's COPNET differ from the Fz-weighted mean of the rounded RCOP and
#: LCOP: the mean's weights sum to 1, so it carries at most the 0.5 µm of the per-plate columns; COPNET adds
#: its own 0.5 µm; the forces, printed to 1 µN on ~300 N, move the weights by ~1e-9 (nm over the ~0.25 m
#: between the feet).
PDS_NET_COP_ROUNDING_BOUND_M = PDS_COP_RESOLUTION_M / 2 + PDS_COP_RESOLUTION_M / 2
#: Largest accepted difference between the file's COPNET and the net COP recomputed from the per-plate
#: columns. Not the rounding bound itself: on the 12 published trials of subject 13 the two differ by up to
#: 9.6 µm, and smoothly (lag-1 autocorrelation ~0.87, RMS ~1.8 µm), which rounding cannot do; the authors
#: computed COPNET from their unrounded processing. 50 µm is 50x the rounding bound and ~5x that largest
#: published difference (48 other subjects are unmeasured here), while a file whose net COP does not belong
#: to its plates (a unit slip, another trial's columns, an edited foot) is off by millimetres or more.
PDS_NET_COP_TOLERANCE_M = 50e-6


def read_bmclab(path, *, fz_threshold_n: float = DEFAULT_FZ_THRESHOLD_N) -> Recording:
    """Read a BMClab force-plate text export (BDS one-plate or PDS two-plate layout).

    Parameters
    ----------
    path : str or path-like
        A ``BDS*.txt`` or ``PDS*grf.txt`` file.
    fz_threshold_n : float
        Vertical force (N) below which a plate counts as unloaded; its COP is then NaN and ``loaded`` False.

    Returns
    -------
    Recording
        SI units (m, N, N*m, s); ``source_units`` of each plate's TimeSeries and ``meta["source_units"]``
        give the file's own units. ``meta["layout"]`` is ``"BDS"`` or ``"PDS"``; ``meta["vertical_force_sign"]``
        is +1 when the file's vertical force is positive under load (both layouts as published), -1 otherwise.

    Notes
    -----
    COP is masked (NaN) where the vertical force, taken with the file's sign convention, is below
    ``fz_threshold_n``; ``meta["n_unloaded"]`` counts such frames per plate. Bad input (missing columns,
    non-numeric cells, truncated rows, non-monotonic time, unknown units) raises ReaderError / UnitError
    naming the file and the column.
    """
    validate_type(path, "path-like", "path")
    validate_type(fz_threshold_n, "numeric", "fz_threshold_n")
    path = Path(path)
    text = read_text_file(path, what="BMClab force-plate export")
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if not header.strip():
        raise ReaderError("file is empty", file=path, expected="a BMClab header line starting with 'Time'")
    cells = [c for c in header.rstrip("\r\n").split("\t")] if "\t" in header else header.split()
    parsed = []
    for cell in cells:
        m = _HEADER_CELL.match(cell)
        if not m:
            raise ReaderError(f"header cell {cell!r} is not 'Name' or 'Name[unit]'", file=path, field="header")
        parsed.append((m.group(1), m.group(2)))
    names = [n for n, _ in parsed]
    sep = "\t" if "\t" in header else r"\s+"
    if names and names[0] == "Time" and parsed[0][1] is not None:
        return _read_bds(path, text, parsed, sep, float(fz_threshold_n))
    if names and names[0] == "Time" and any(n.startswith("RGRF") or n.startswith("COPNET") for n in names):
        return _read_pds(path, text, names, sep, float(fz_threshold_n))
    raise ReaderError("header is neither the BDS layout (Time[s] Fx[N] ... COPy[cm]) nor the PDS layout "
                      "(Time RGRF_X ... COPNET_Z)", file=path, field="header",
                      expected=f"columns {' '.join(BDS_COLUMNS)} with [units], or {' '.join(PDS_COLUMNS)}")


def _require(path: Path, names: list[str], required) -> None:
    missing = [c for c in required if c not in names]
    if missing:
        raise ReaderError(f"missing column(s) {', '.join(missing)}", file=path, field=missing[0],
                          expected=f"columns {' '.join(required)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ReaderError(f"duplicate column(s) {', '.join(dup)}", file=path, field=dup[0])


def _plate_signals(path: Path, time, force, cop, threshold, vertical_axis, *, name: str, notes: list[str],
                   moment=None, free_moment=None, source_units=None, method=""):
    """One plate's TimeSeries, its vertical-force sign, and its COP after the plausibility checks but before
    the loading threshold (for the PDS net-COP check).

    Implausible force or moment values (see :mod:`ground_truth.readers.plausibility`) make their whole sample
    NaN; an implausible COP value makes that COP NaN; every such value and every isolated spike is named in
    ``notes``.
    """
    what = f"{path.name} {name}"
    arrays = {"force": force}
    quantities = {"force": "force_n"}
    if moment is not None:
        arrays["moment"], quantities["moment"] = moment, "moment_nm"
    if free_moment is not None:
        arrays["free moment"], quantities["free moment"] = free_moment, "moment_nm"
    masked, bad = mask_together(arrays, quantities, what=what, notes=notes)
    force, moment, free_moment = masked["force"], masked.get("moment"), masked.get("free moment")
    cop = mask_rows(np.where(bad[:, None], np.nan, cop) if bad.size else cop, "cop_m", what=f"{what} COP",
                    notes=notes)
    for key, values in masked.items():
        note_spikes(values, quantities[key], what=f"{what} {key}", notes=notes)
    sign = _vertical_sign(force[:, vertical_axis])
    with np.errstate(invalid="ignore"):
        loaded = sign * force[:, vertical_axis] >= threshold
    loaded_cop = np.where(loaded[:, None], cop, np.nan)
    note_spikes(loaded_cop, "cop_m", what=f"{what} COP", notes=notes)
    data = {"force": force, "cop": loaded_cop, "loaded": loaded}
    units = {"force": "N", "cop": "m", "loaded": "bool"}
    if moment is not None:
        data["moment"], units["moment"] = moment, "N*m"
    if free_moment is not None:
        data["free_moment"], units["free_moment"] = free_moment, "N*m"
    meta = {"file": str(path), "method": method, "vertical_force_sign": sign,
            "n_unloaded": int(np.count_nonzero(~loaded))}
    return TimeSeries(time, data, units, dict(source_units or {}), meta=meta), sign, cop


def _read_bds(path: Path, text: str, parsed, sep: str, threshold: float) -> Recording:
    names = [n for n, _ in parsed]
    _require(path, names, BDS_COLUMNS)
    units = dict(parsed)
    scale = {}
    src_units = {}
    for col in BDS_COLUMNS:
        if units[col] is None:
            raise UnitError("has no [unit] in the header", file=path, field=col,
                            expected=f"e.g. {col}[{ {'s': 's', 'N': 'N', 'N*m': 'Nm', 'm': 'cm'}[_BDS_KIND[col]]}]")
        _, scale[col] = _si_unit(path, col, units[col], _BDS_KIND[col])
        src_units[col] = units[col]
    notes: list[str] = []
    data = _read_numeric_body(path, names, skiprows=1, sep=sep, first_data_line=2, text=text, notes=notes)
    col = {n: data[:, i] for i, n in enumerate(names)}
    time = col["Time"] * scale["Time"]
    _check_time(path, time, "Time")
    force = np.column_stack([col["Fx"] * scale["Fx"], col["Fy"] * scale["Fy"], col["Fz"] * scale["Fz"]])
    moment = np.column_stack([col["Mx"] * scale["Mx"], col["My"] * scale["My"], col["Mz"] * scale["Mz"]])
    cop = np.column_stack([col["COPx"] * scale["COPx"], col["COPy"] * scale["COPy"], np.zeros_like(time)])
    ts, sign, _ = _plate_signals(
        path, time, force, cop, threshold, 2, name="plate", notes=notes, moment=moment,
        source_units={"force": units["Fz"], "cop": units["COPx"], "moment": units["Mz"]},
        method="BDS export: COP as stored in the file (COPx, COPy), z = 0 on the plate surface")
    plate = ForcePlate(0, ts, threshold_n=threshold, name="plate")
    meta = {"format": "bmclab", "layout": "BDS", "source_units": src_units, "vertical_force_sign": sign,
            "n_unloaded": {"plate": ts.meta["n_unloaded"]}, "horizontal_axis_names": ("ap", "ml"), "notes": notes,
            "citation": "Santos DA, Duarte M (2016) A public data set of human balance evaluations. "
                        "PeerJ 4:e2648"}
    return Recording(str(path), plates=[plate], vertical_axis=2, meta=meta)


def _read_pds(path: Path, text: str, names: list[str], sep: str, threshold: float) -> Recording:
    _require(path, names, PDS_COLUMNS)
    notes: list[str] = []
    data = _read_numeric_body(path, names, skiprows=1, sep=sep, first_data_line=2, text=text, notes=notes)
    col = {n: data[:, i] for i, n in enumerate(names)}
    time = col["Time"]
    _check_time(path, time, "Time")

    def vec(prefix):
        return np.column_stack([col[f"{prefix}_X"], col[f"{prefix}_Y"], col[f"{prefix}_Z"]])

    plates, signs, unloaded, loads, cops = [], [], {}, [], []
    for index, (side, p) in enumerate((("right", "R"), ("left", "L"))):
        free = np.zeros((time.size, 3))
        free[:, 1] = col[f"{p}FREEMOMENT_Y"]
        ts, sign, cop = _plate_signals(
            path, time, vec(f"{p}GRF"), vec(f"{p}COP"), threshold, 1, name=f"{side} plate", notes=notes,
            free_moment=free, source_units={"force": "N", "cop": "m", "free_moment": "N*m"},
            method=f"PDS export: {side}-foot plate GRF and COP as stored in the file (y vertical)")
        plates.append(ForcePlate(index, ts, threshold_n=threshold, name=side))
        signs.append(sign)
        unloaded[side] = ts.meta["n_unloaded"]
        loads.append(sign * ts["force"][:, 1])
        cops.append(cop)
    net = mask_together({"force": vec("GRFNET"), "COP": vec("COPNET")}, {"force": "force_n", "COP": "cop_m"},
                        what=f"{path.name} file net", notes=notes)[0]
    net_check = _check_pds_net_cop(path, time, np.stack(loads), np.stack(cops), net["COP"], threshold)
    analogs = TimeSeries(time, {"file_net_force": net["force"], "file_net_cop": net["COP"]},
                         {"file_net_force": "N", "file_net_cop": "m"},
                         {"file_net_force": "N", "file_net_cop": "m"},
                         meta={"file": str(path), "method": "net GRF and COP as computed by the data set's "
                                                            "authors (not masked by the loading threshold; "
                                                            "implausible values NaN, see the notes)"})
    meta = {"format": "bmclab", "layout": "PDS",
            "source_units": {"GRF": "N (PDS README; the header has no units)", "COP": "m", "FREEMOMENT": "N*m"},
            "vertical_force_sign": signs, "n_unloaded": unloaded, "horizontal_axis_names": ("ap", "ml"),
            "plate_names": ["right", "left"], "file_net_cop": net_check, "notes": notes,
            "citation": "dos Santos DA, Fukuchi CA, Fukuchi RK, Duarte M (2017) A data set with kinematic and "
                        "ground reaction forces of human balance. PeerJ 5:e3626"}
    return Recording(str(path), plates=plates, analogs=analogs, vertical_axis=1, meta=meta)


def _check_pds_net_cop(path: Path, time: np.ndarray, loads: np.ndarray, cops: np.ndarray, file_cop: np.ndarray,
                       threshold: float) -> dict:
    """Compare the file's COPNET with the net COP recomputed from the per-plate columns.

    Parameters
    ----------
    path : Path
        The file, for the error message.
    time : ndarray of shape (n,)
    loads : ndarray of shape (2, n)
        Each plate's vertical force, positive under load (N).
    cops : ndarray of shape (2, n, 3)
        Each plate's COP as the file has it, not masked (m).
    file_cop : ndarray of shape (n, 3)
        The file's ``COPNET_X/Y/Z`` (m).
    threshold : float
        Frames whose total vertical force is below it (N) have no meaningful net COP and are not compared.

    Returns
    -------
    dict
        JSON-ready provenance for ``Recording.meta["file_net_cop"]``: ``description``, ``columns``,
        ``max_abs_diff_mm`` (over the horizontal axes and the compared frames), ``tolerance_mm``,
        ``rounding_bound_mm``, ``n_compared``, ``tolerance_basis``.

    Raises
    ------
    ReaderError
        Naming the file and the COPNET column, when the two differ by more than
        :data:`PDS_NET_COP_TOLERANCE_M` on any compared frame.
    """
    total = loads.sum(axis=0)
    # frames where a value was implausible (NaN, named in the notes) cannot be compared
    finite = np.isfinite(cops).all(axis=(0, 2)) & np.isfinite(loads).all(axis=0) & np.isfinite(file_cop).all(axis=1)
    with np.errstate(invalid="ignore"):
        ok = (total >= threshold) & finite
    # Every plate weighted by its own vertical force, unloaded or not: that is how COPNET was made, so a
    # lightly loaded foot (below the per-plate threshold but not zero) does not count as a disagreement.
    recomputed = np.einsum("pn,pnk->nk", loads[:, ok], cops[:, ok]) / total[ok, None]
    horizontal = (0, 2)
    diff = np.abs(file_cop[ok][:, horizontal] - recomputed[:, horizontal])
    max_diff = float(diff.max()) if diff.size else 0.0
    info = {"description": "the file's COPNET columns", "columns": ["COPNET_X", "COPNET_Z"],
            "recomputed_from": "the RGRF_Y/LGRF_Y-weighted mean of RCOP_X/Z and LCOP_X/Z",
            "max_abs_diff_mm": max_diff * 1e3, "tolerance_mm": PDS_NET_COP_TOLERANCE_M * 1e3,
            "rounding_bound_mm": PDS_NET_COP_ROUNDING_BOUND_M * 1e3, "n_compared": int(np.count_nonzero(ok)),
            "tolerance_basis": "1-um rounding of the COP columns explains <= 0.001 mm; the published trials "
                               "differ by up to ~0.01 mm through the authors' own processing; 0.05 mm leaves "
                               "margin for that and still catches a net COP that does not belong to the plates"}
    if max_diff > PDS_NET_COP_TOLERANCE_M:
        # name the first offending row, where an edit or a splice starts, and the worst difference
        row, axis = np.argwhere(diff > PDS_NET_COP_TOLERANCE_M)[0]
        frame = int(np.flatnonzero(ok)[row])
        column = info["columns"][axis]
        raise ReaderError(
            f"the file's net COP differs by up to {max_diff * 1e3:.4g} mm from the net COP recomputed from the "
            f"per-plate columns ({info['recomputed_from']}), first by {diff[row, axis] * 1e3:.4g} mm at data "
            f"row {frame + 1} (Time {time[frame]:g} s)",
            file=path, field=column,
            expected=f"{column} within {PDS_NET_COP_TOLERANCE_M * 1e3:g} mm of the recomputed net COP (the 1-um "
                     f"rounding of the COP columns explains at most {PDS_NET_COP_ROUNDING_BOUND_M * 1e3:g} mm)")
    return info
