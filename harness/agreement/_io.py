"""CSV input and JSON output helpers for the agreement/ICC/kappa/align commands."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ground_truth.errors import InputError, ReaderError


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


def jsonable(obj):
    """Plain Python types for json.dumps; NaN/inf become None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False)
