"""JSON conversion shared by every package: one definition of what a result looks like on disk, and one way of
reading JSON text whose errors name the file, the line and the column."""
from __future__ import annotations

import json
import math
from os import PathLike
from typing import Any

import numpy as np

from .errors import ReaderError

#: Returned by :func:`parse_json` with ``several_ok`` when the text holds more than one JSON document (NDJSON).
SEVERAL_DOCUMENTS = object()


def jsonable(obj: Any) -> Any:
    """Plain JSON types, recursively: numpy scalars and arrays to Python, NaN and inf to None (JSON has no
    NaN), paths to strings, tables to lists of records, objects with ``to_dict()`` through it."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, PathLike):
        return str(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        # a pandas DataFrame's records, a dataclass result's fields
        return jsonable(to_dict(orient="records") if hasattr(obj, "columns") else to_dict())
    return obj


def parse_json(text: str, *, file: str | PathLike | None, expected: str, several_ok: bool = False) -> Any:
    """``text`` as JSON. A leading byte-order mark (as Windows tools write it) is not content.

    Bad JSON is a :class:`ReaderError` naming ``file``, the line and the column, and ``expected``; nesting too
    deep for the parser is one too. With ``several_ok``, text that holds several JSON documents one after the other
    (NDJSON) returns :data:`SEVERAL_DOCUMENTS` instead of an error, for a reader that then reads it line by line.
    """
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        if several_ok and exc.msg == "Extra data":
            return SEVERAL_DOCUMENTS
        raise ReaderError(f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})", file=file,
                          expected=expected) from None
    except RecursionError:
        raise ReaderError("JSON nested too deeply", file=file, expected=expected) from None
