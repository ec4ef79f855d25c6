"""CSV input and JSON output helpers for the agreement/ICC/kappa/align commands."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ground_truth.kernel import InputError, ReaderError, jsonable


def read_table(path, columns: list[str], *, numeric: list[str] = ()) -> pd.DataFrame:
    """Read a CSV and check that ``columns`` exist (and ``numeric`` ones parse as numbers)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReaderError(f"cannot be read as CSV ({exc})", file=path) from None
    for col in columns:
        if col not in frame.columns:
            raise InputError(f"no column named {col!r}", file=path, field=col,
                             expected=f"one of {list(frame.columns)}")
    for col in numeric:
        try:
            frame[col] = pd.to_numeric(frame[col], errors="raise")
        except (TypeError, ValueError) as exc:
            raise InputError(f"values are not numbers ({exc})", file=path, field=col) from None
    return frame




def dumps(obj) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False)
