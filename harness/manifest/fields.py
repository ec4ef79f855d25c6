"""Checks of single manifest fields that collect every problem, so the user sees them all at once."""
from __future__ import annotations

from pathlib import Path

from ground_truth.kernel import ManifestError, check_input_file

#: Suffixes of models stored as a folder (a Core ML package), accepted where a file is expected.
FOLDER_MODELS = (".mlpackage",)

class Problems:
    """Collects every problem in a manifest so the user sees them all at once."""

    def __init__(self, file):
        self.file = file
        self.items: list[str] = []

    def add(self, field_: str, message: str, expected: str | None = None) -> None:
        text = f"field '{field_}': {message}"
        if expected:
            text += f" (expected {expected})"
        self.items.append(text)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            raise ManifestError(self.items[0], file=self.file)
        body = "\n  - ".join(self.items)
        raise ManifestError(f"{len(self.items)} problems:\n  - {body}", file=self.file)


def as_list(v) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def number(problems: Problems, table: dict, key: str, where: str, *, required: bool, lo=None, hi=None,
            unit: str = "") -> float | None:
    if key not in table:
        if required:
            problems.add(f"{where}.{key}", "is missing", f"a number{' in ' + unit if unit else ''}")
        return None
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        problems.add(f"{where}.{key}", f"is {v!r}", f"a number{' in ' + unit if unit else ''}")
        return None
    v = float(v)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        problems.add(f"{where}.{key}", f"is {v:g}, outside the plausible range",
                     f"{lo:g}..{hi:g}{' ' + unit if unit else ''}")
        return None
    return v


def per_view(problems: Problems, table: dict, key: str, where: str, n_views: int, parse) -> list:
    """A field given once for every video or as a list with one entry per video (``video[i]``): a list of
    ``n_views`` values, None where absent. ``parse(problems, {key: value}, key, field)`` checks one value."""
    raw = table.get(key)
    if raw is None:
        return [None] * n_views
    if not isinstance(raw, list):
        value = parse(problems, {key: raw}, key, where)
        return [value] * max(n_views, 1)
    if len(raw) != n_views:
        problems.add(f"{where}.{key}", f"lists {len(raw)} values for {n_views} video(s)",
                     "one value for every video, in the order of 'video' (or a single value for all)")
        return [None] * n_views
    # each entry is checked under its own name, so a problem reads "trials[0].camera_name[1]"
    return [parse(problems, {f"{key}[{i}]": v}, f"{key}[{i}]", where) for i, v in enumerate(raw)]


def string(problems: Problems, table: dict, key: str, where: str, *, required: bool, default=None):
    if key not in table:
        if required:
            problems.add(f"{where}.{key}", "is missing", "a string")
        return default
    v = table[key]
    if not isinstance(v, str) or not v.strip():
        problems.add(f"{where}.{key}", f"is {v!r}", "a non-empty string")
        return default
    return v.strip()


def input_file(problems: Problems, p: Path, fld: str, root: Path, *, what: str = "file",
               folders: tuple[str, ...] = ()) -> bool:
    """True when ``p`` can be read as an input: a readable, non-empty regular file (or a folder when its suffix
    is one of ``folders``). Otherwise the problem is added under ``fld`` and False returned.

    Judged from ``stat`` alone (:func:`ground_truth.kernel.check_input_file`): a FIFO, a device or a directory
    named like a data file would pass an existence check and then block or crash the study that reads it.
    """
    if p.suffix.lower() in folders and p.is_dir():
        return True
    try:
        check_input_file(p, what=what, field=fld, error=ManifestError)
    except ManifestError as exc:
        expected = exc.expected
        if not p.exists() and not p.is_symlink():
            expected = f"an existing {what} (relative paths resolve against the data root {root})"
        problems.add(fld, f"{exc.reason}: {p}", expected)
        return False
    return True


def paths(problems: Problems, table: dict, key: str, where: str, root: Path, *, required: bool,
          what: str = "file", folders: tuple[str, ...] = ()) -> list[Path]:
    """The input files a field names (one path or a list), each checked by :func:`input_file`."""
    raw = table.get(key)
    if raw is None:
        if required:
            problems.add(f"{where}.{key}", "is missing", "a file path or a list of file paths")
        return []
    items = as_list(raw)
    out = []
    for i, item in enumerate(items):
        fld = f"{where}.{key}" + (f"[{i}]" if isinstance(raw, list) else "")
        if not isinstance(item, str) or not item:
            problems.add(fld, f"is {item!r}", "a file path string")
            continue
        p = Path(item).expanduser()
        p = p if p.is_absolute() else (root / p)
        if input_file(problems, p, fld, root, what=what, folders=folders):
            out.append(p.resolve())
    if required and not items:
        problems.add(f"{where}.{key}", "is empty", "at least one file")
    return out
