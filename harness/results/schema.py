"""The frame of the results model: the schema version this stancebench writes and reads, and the row base class
that reads a JSON object into a dataclass (unknown keys kept in ``extra``) and writes it back.

Imports nothing of the project but :mod:`ground_truth.kernel`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from os import PathLike
from typing import Any, ClassVar

from ground_truth.kernel import ReaderError

#: Version of the ``results.json`` contract written by this stancebench. 2 added ``kpis``, ``protocols`` and
#: ``pairs`` (what the report needs, so that it never asks ``protocols`` nor re-derives pairs) and the typed
#: failure fields of a trial (``error_type``, ``traceback``). 3 added ``candidates[].control`` and ``view``: a
#: control candidate is no product, and a reader that does not know the field would gate it as one (an older
#: ``stancebench gate`` would block every release of a study whose negative control did its job), so a file that
#: may hold controls is refused by such readers rather than misread (docs/results-schema.md).
SCHEMA_VERSION = 3
#: Oldest version still read. Schema 1 documents lack the sections added in 2, schema 1 and 2 documents the
#: candidates' ``control`` and ``view``; they read as empty / null (no controls).
MIN_SCHEMA_VERSION = 1


def check_schema_version(version: Any, *, file: str | PathLike | None = None) -> int | None:
    """The document's ``schema_version`` if this stancebench can read it; ReaderError otherwise.

    A missing version (hand-built dictionaries, tests) is accepted as None. A version newer than
    :data:`SCHEMA_VERSION` is refused: its meaning may have changed, and reading it half is worse than not.
    """
    if version is None:
        return None
    expected = f"an integer from {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}"
    # bool is an int subclass: true must not read as version 1
    if isinstance(version, bool) or not isinstance(version, int):
        raise ReaderError(f"schema_version {version!r} is not an integer", file=file, field="schema_version",
                          expected=expected)
    if version > SCHEMA_VERSION:
        raise ReaderError(f"schema_version {version} is not supported: the file was written by a newer "
                          f"stancebench (this one reads up to {SCHEMA_VERSION}); upgrade stancebench to read it",
                          file=file, field="schema_version", expected=expected)
    if version < MIN_SCHEMA_VERSION:
        raise ReaderError(f"schema_version {version} is not supported", file=file, field="schema_version",
                          expected=expected)
    return version


def _plain(value: Any) -> Any:
    if isinstance(value, Row):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class Row:
    """``from_dict`` / ``to_dict`` shared by the dataclasses below.

    Known keys become fields; unknown keys are kept in ``extra`` (keyword-only, so every row's own fields keep
    their order) and written back. ``_lists`` names the fields holding lists of rows, ``_objects`` the fields
    holding one row; ``_optional`` the fields holding one row or nothing: null or absent reads as None, and None
    is not written (a section only some studies have, e.g. ``annotations``, adds no key to the others).
    """

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    _lists: ClassVar[dict[str, type]] = {}
    _objects: ClassVar[dict[str, type]] = {}
    _optional: ClassVar[dict[str, type]] = {}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "", file: str | PathLike | None = None):
        """Read one row; ReaderError naming the file and field when it is not a JSON object."""
        if not isinstance(data, dict):
            raise ReaderError(f"is a {type(data).__name__}, not an object", file=file, field=where or None,
                              expected=f"a {cls.__name__} object")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {}
        for key in known & data.keys():
            value = data[key]
            here = f"{where}.{key}" if where else key
            if key in cls._lists:
                kwargs[key] = read_list(cls._lists[key], value, here, file)
            elif key in cls._objects:
                # null reads as the empty object (a producer that had nothing to say)
                kwargs[key] = cls._objects[key]() if value is None else cls._objects[key].from_dict(
                    value, where=here, file=file)
            elif key in cls._optional:
                kwargs[key] = None if value is None else cls._optional[key].from_dict(value, where=here, file=file)
            else:
                kwargs[key] = value
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-shaped data: every field (defaults included), then the keys kept in ``extra``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)
               if f.name != "extra" and not (f.name in self._optional and getattr(self, f.name) is None)}
        out.update(_plain(self.extra))
        return out


def read_list(row_type: type, value: Any, where: str, file) -> list:
    # null reads as an empty section, as the report always treated it
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReaderError(f"is a {type(value).__name__}, not a list", file=file, field=where,
                          expected=f"a list of {row_type.__name__} objects")
    return [row_type.from_dict(v, where=f"{where}[{i}]", file=file) for i, v in enumerate(value)]
