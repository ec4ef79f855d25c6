"""JSON conversion shared by every package: one definition of what a result looks like on disk."""
from __future__ import annotations

import math
from os import PathLike
from typing import Any

import numpy as np


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
