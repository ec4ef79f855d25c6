"""Text helpers shared by the parsers."""
from __future__ import annotations

import math
import re

#: a number as tools print it: 12, -3.5, 2.71985e+06, 1.04176E+06
NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
#: excerpt separators: the scissors line, and a "# --- title" comment line that people use to head sections
_SCISSORS = re.compile(r"^\s*(?:---8<---|#\s*---)")


def split_excerpts(text: str) -> list[str]:
    """Split a saved log into independent excerpts at lines starting with ``---8<---`` or ``# ---``; drop other
    ``#`` comment lines."""
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if _SCISSORS.match(line):
            parts.append([])
        elif not line.lstrip().startswith("#"):
            parts[-1].append(line)
    return ["\n".join(p) for p in parts if any(s.strip() for s in p)]


def to_float(token: str) -> float:
    return float(token.replace(",", ""))


def kv_numbers(text: str) -> dict[str, float]:
    """``key=value`` pairs with numeric values (``avg=2.71985e+06``) -> dict."""
    return {k: float(v) for k, v in re.findall(rf"(\w+)=({NUM})(?![\w.])", text)}


def to_int(value) -> int | None:
    """A whole number from a printed token or a JSON value ('4', 4, 4.0, ' 4 '); None when it is none ('nan',
    'inf', '2.5', 'abc', True, a list): a corrupted count is missing, never a crash."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        token = value.strip()
        if re.fullmatch(r"[-+]?\d+", token):
            return int(token)
        if not re.fullmatch(NUM, token):
            return None
        value = float(token)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None
