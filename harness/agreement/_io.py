"""CSV input and JSON output helpers for the agreement/ICC/kappa/align commands."""
from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, ReaderError, jsonable, read_text_file

from ._checks import check_magnitude


#: Cells of a numeric column read as missing (pandas' default missing-value spellings, e.g. R's ``NA``).
_NUMERIC_MISSING = frozenset(pd._libs.parsers.STR_NA_VALUES)


def read_table(path, columns: list[str], *, numeric: list[str] = ()) -> pd.DataFrame:
    """Read a CSV and check that ``columns`` exist and that ``numeric`` ones hold numbers.

    The path is checked before it is opened (a directory, FIFO or device is refused at once) and the text must
    be UTF-8; every error names the file. A ``numeric`` column may have empty cells (NaN, missing; also the
    spellings pandas reads as missing, such as ``NA``, which R writes), but no text, no infinities and no
    values so large that their squares overflow float64. In any other column only an empty cell is missing:
    ``NA``, ``None`` or ``null`` there are labels a rater wrote (kappa, alpha), never silently dropped.
    """
    path = Path(path)
    text = read_text_file(path, what="CSV file", error=ReaderError)
    _check_fields(text, path)
    try:
        frame = pd.read_csv(io.StringIO(text), index_col=False, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise ReaderError(f"cannot be read as CSV ({str(exc).strip()})", file=path,
                          expected="a comma-separated table with a header row") from None
    for col in columns:
        if col not in frame.columns:
            raise InputError(f"no column named {col!r}", file=path, field=col,
                             expected=f"one of {list(frame.columns)}")
    for col in numeric:
        cells = frame[col]
        if not pd.api.types.is_numeric_dtype(cells):
            cells = cells.mask(cells.astype(str).str.strip().isin(_NUMERIC_MISSING))
        values = pd.to_numeric(cells, errors="coerce")
        text_cells = values.isna() & cells.notna()
        if text_cells.any():
            row = int(np.flatnonzero(text_cells.to_numpy())[0])
            raise InputError(f"{int(text_cells.sum())} value(s) are not numbers (first: {frame[col].iloc[row]!r} "
                             f"in row {row + 2} of the file)", file=path, field=col,
                             expected="numbers (an empty cell for a missing value)")
        arr = values.to_numpy(dtype=float)
        inf = np.isinf(arr)
        if inf.any():
            row = int(np.flatnonzero(inf)[0])
            raise InputError(f"{int(inf.sum())} value(s) are infinite (first: {arr[row]} in row {row + 2} of the "
                             f"file)", file=path, field=col, expected="finite numbers (an empty cell for a missing "
                                                                      "value)")
        check_magnitude(arr, col, file=path, n=len(frame))
        frame[col] = values
    return frame


#: arguments of the statistics functions that are command-line options of the commands
_OPTIONS = {"multiplier": "--multiplier", "confidence": "--confidence", "weights": "--weights",
            "nan_policy": "--nan-policy", "loa_ci": "--loa-ci"}


def _check_fields(text: str, path: Path) -> None:
    """Every row has as many fields as the header: pandas would otherwise take the extra leading fields of a
    longer first row as an index and shift every value into the wrong column, silently."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            return
        for row in reader:
            if row and len(row) != len(header):
                raise ReaderError(f"line {reader.line_num} has {len(row)} field(s) but the header has "
                                  f"{len(header)}", file=path, expected="the same number of fields on every row")
    except csv.Error as exc:
        raise ReaderError(f"cannot be read as CSV (line {reader.line_num}: {exc})", file=path,
                          expected="a comma-separated table with a header row") from None


@contextlib.contextmanager
def naming_file(path, fields: dict[str, str] | None = None) -> Iterator[None]:
    """Errors of the statistics on a table read from ``path`` name that file, and the column for the generic
    argument names in ``fields`` (e.g. ``{"candidate": "A"}``): the functions take arrays and frames and do
    not know where they came from. An error about an argument that is a command-line option names the option
    (and no file)."""
    try:
        yield
    except InputError as exc:
        if exc.file is not None or (exc.field or "").startswith("--"):
            raise
        if exc.field in _OPTIONS:
            raise type(exc)(exc.reason, field=_OPTIONS[exc.field], expected=exc.expected) from None
        field = (fields or {}).get(exc.field, exc.field)
        raise type(exc)(exc.reason, file=path, field=field, expected=exc.expected) from None


def dumps(obj) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False)
