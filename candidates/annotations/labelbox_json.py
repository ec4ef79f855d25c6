"""The JSON of a Labelbox file: its rows (a JSON list, one JSON object, or NDJSON lines), which of the three
layouts they are in (v1 JSON export, v2 NDJSON export, NDJSON import payload), and the values read from a row
(an object's name, the rater from an e-mail, a data row's key, a 1-based frame number, a v2 keyframe map). The
layouts are described in the docstring of :mod:`candidates.annotations.labelbox`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ground_truth.kernel import SEVERAL_DOCUMENTS, ReaderError, parse_json

_WHAT = "a Labelbox export (v1 JSON, v2 NDJSON) or NDJSON import file"


def _rows(text: str, path: Path) -> list[tuple[str, dict]]:
    """(where, row) of a JSON document (a list or one object) or of NDJSON lines."""
    body = text.lstrip("\ufeff")
    data = parse_json(body, file=path, expected=_WHAT, several_ok=True)
    if data is SEVERAL_DOCUMENTS:   # NDJSON, one per line
        rows = []
        for lineno, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((f"line {lineno}: $", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ReaderError(f"line {lineno} is not valid JSON (column {exc.colno}: {exc.msg})", file=path,
                                  field=f"line {lineno}", expected="one JSON object per line (NDJSON)") from None
    elif isinstance(data, list):
        rows = [(f"$[{i}]", r) for i, r in enumerate(data)]
    else:
        rows = [("$", data)]
    for where, row in rows:
        if not isinstance(row, dict):
            raise ReaderError(f"{where} is a {type(row).__name__}", file=path, field=where,
                              expected="a JSON object per row")
    return rows


def _layout(rows: list[tuple[str, dict]], path: Path) -> str:
    kinds = set()
    for where, row in rows:
        if "data_row" in row:
            kinds.add("v2")
        elif "dataRow" in row:
            kinds.add("mal")
        elif {"Label", "DataRow ID", "External ID"} & set(row):
            kinds.add("v1")
        else:
            raise ReaderError(f"row {where} has keys {', '.join(sorted(row)[:8])}", file=path, field=where,
                              expected="Labelbox rows: v1 ('DataRow ID', 'Label'), v2 NDJSON ('data_row', "
                                       "'projects') or an import payload ('dataRow')")
    if len(kinds) > 1:
        raise ReaderError(f"rows of several layouts ({', '.join(sorted(kinds))})", file=path,
                          expected="one Labelbox layout per file")
    if not kinds:
        raise ReaderError("no rows", file=path, expected=_WHAT)
    return kinds.pop()


def _name(obj: dict) -> str:
    for key in ("title", "value", "name"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _local_part(who: Any) -> str | None:
    if not isinstance(who, str) or not who.strip():
        return None
    return who.strip().split("@", 1)[0]


def _row_key(*candidates: Any) -> str | None:
    for c in candidates:
        if isinstance(c, (str, int)) and not isinstance(c, bool) and str(c).strip():
            return str(c)
    return None


def _frame_number(value: Any, path: Path, field: str) -> int:
    """A Labelbox frame number (1-based) as the video's 0-based frame index."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ReaderError(f"frame number {value!r}", file=path, field=field,
                          expected="a frame number from 1 (Labelbox numbers video frames from 1)")
    return value - 1


def _keyframe_lookup(keymap: Any, frame_key: str):
    """feature id → drawn on this frame (True) or interpolated (False), from a v2 key_frame_feature_map."""
    def lookup(fid):
        if not isinstance(keymap, dict) or fid not in keymap:
            return True
        frames = keymap[fid]
        if isinstance(frames, dict):
            return bool(frames.get(str(frame_key), False))
        if isinstance(frames, list):
            return int(frame_key) in {int(f) for f in frames if isinstance(f, (int, str)) and str(f).isdigit()}
        return True
    return lookup
