"""Shared input checks with one wording, used by every package (after MNE-Python's helpers)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import InputError


def _type_names(types) -> str:
    if not isinstance(types, tuple):
        types = (types,)
    names = []
    for t in types:
        if t is None:
            names.append("None")
        elif isinstance(t, str):
            names.append(t)
        else:
            names.append(t.__name__)
    return " or ".join(names)


def validate_type(item: Any, types, item_name: str, type_name: str | None = None) -> Any:
    """Raise InputError unless ``item`` is an instance of ``types``.

    ``types`` may be a type, a tuple of types, None (meaning NoneType), "path-like" or "numeric".
    """
    if not isinstance(types, tuple):
        types = (types,)
    check = []
    for t in types:
        if t is None:
            check.append(type(None))
        elif t == "path-like":
            import os
            check.extend([str, os.PathLike])
        elif t == "numeric":
            check.extend([int, float, np.integer, np.floating])
        else:
            check.append(t)
    if isinstance(item, bool) and bool not in check and "numeric" in types:
        raise InputError(f"{item_name} must be {type_name or _type_names(types)}, got bool", field=item_name)
    if not isinstance(item, tuple(check)):
        raise InputError(f"{item_name} must be an instance of {type_name or _type_names(types)}, "
                         f"got {type(item).__name__}", field=item_name)
    return item


def check_option(parameter: str, value: Any, allowed_values: Iterable[Any], extra: str = "") -> Any:
    """Raise InputError unless ``value`` is one of ``allowed_values``."""
    allowed = list(allowed_values)
    if value in allowed:
        return value
    extra = f" {extra}" if extra else ""
    options = ", ".join(repr(v) for v in allowed)
    raise InputError(f"invalid value {value!r} for {parameter}{extra}", field=parameter,
                     expected=f"one of {options}")


def lookup(registry: Mapping[str, Any], name: Any, what: str, field: str) -> Any:
    """``registry[name]``, or InputError naming the unknown ``what`` (e.g. "KPI") and listing the known names."""
    validate_type(name, str, "name")
    if name not in registry:
        raise InputError(f"unknown {what} {name!r}", field=field, expected=f"one of {', '.join(registry)}")
    return registry[name]


def as_float_array(values: Any, name: str, *, ndim: int | None = None, file=None) -> np.ndarray:
    """Convert to a float64 array, with a clear error instead of numpy's on failure."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot be converted to numbers ({exc})", file=file, field=name) from None
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"has {arr.ndim} dimension(s)", file=file, field=name, expected=f"{ndim}-D values")
    return arr


def check_range(value: Any, field: str, low: float, high: float, *, low_open: bool = False,
                high_open: bool = False, optional: bool = False, unit: str = "") -> float | None:
    """A numeric parameter or option as a float when it is finite and in ``[low, high]`` (``low_open`` /
    ``high_open`` exclude an end), else InputError naming ``field`` and the range. ``optional``: None passes
    through (the parameter is off)."""
    if value is None and optional:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    above = v > low if low_open else v >= low
    below = v < high if high_open else v <= high
    if not (np.isfinite(v) and above and below):
        raise InputError(f"{field} is {value!r}", field=field,
                         expected=f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}"
                                  f"{')' if high_open else ']'}{' ' + unit if unit else ''}")
    return v
