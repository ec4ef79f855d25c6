"""Keypoint names of a labelling project mapped to the project's schemas (BlazePose-33, COCO-17).

Labelling tools let a project name its points freely: CVAT skeleton nodes are often "1".."17", Labelbox points
are named per object ("person_left_ear"), COCO exports list names in ``categories[].keypoints``. A mapping file
says which name is which keypoint; a user edits it (TOML)::

    # which project schema the names map to: "coco17" or "blazepose33"
    schema = "coco17"

    [keypoints]
    # name in the export = keypoint of the schema ("" = ignore this name)
    "1" = "nose"
    "L Eye" = "left_eye"
    head_top = ""

A name not listed is matched by its spelling (``RHip``, ``r_hip``, ``Right Hip`` all read as ``right_hip``);
a name with no counterpart keeps its source name and is counted as unmapped (never silently dropped, never
guessed). ``stancebench annotations import --mapping FILE`` applies one; the files shipped in
``candidates/annotations/mappings/`` are starting points.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import pandas as pd

from ground_truth.kernel import InputError, read_text_file

from ..importers import _canonical
from ..skeletons import SCHEMAS

#: Folder of the mapping files shipped with stancebench.
MAPPINGS_DIR = Path(__file__).with_name("mappings")


@dataclass(frozen=True)
class KeypointMapping:
    """Source keypoint name → schema keypoint name.

    ``names`` holds the explicit entries of a mapping file (a value of ``""`` ignores that source name);
    other names are matched by spelling (:meth:`target`).
    """

    schema: str
    names: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def target(self, source_name: str) -> str | None:
        """The schema keypoint for ``source_name``, ``""`` when the file says to ignore it, None when unknown."""
        if source_name in self.names:
            return self.names[source_name]
        canonical = _canonical(str(source_name))
        return canonical if canonical in SCHEMAS[self.schema] else None


def default_mapping(schema: str = "coco17") -> KeypointMapping:
    if schema not in SCHEMAS:
        raise InputError(f"unknown keypoint schema {schema!r}", field="schema", expected=" or ".join(SCHEMAS))
    return KeypointMapping(schema)


def load_mapping(path: str | PathLike) -> KeypointMapping:
    """Read a mapping file; every entry is checked against the schema's keypoint names."""
    text = read_text_file(path, what="keypoint mapping file (TOML)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", file=path, expected="a keypoint mapping file") from None
    schema = data.get("schema")
    if schema not in SCHEMAS:
        raise InputError(f"schema is {schema!r}", file=path, field="schema",
                         expected=" or ".join(f'"{s}"' for s in SCHEMAS))
    unknown_keys = set(data) - {"schema", "keypoints"}
    if unknown_keys:
        raise InputError(f"unknown key {sorted(unknown_keys)[0]!r}", file=path, field=sorted(unknown_keys)[0],
                         expected="only 'schema' and a [keypoints] table")
    table = data.get("keypoints", {})
    if not isinstance(table, dict):
        raise InputError("keypoints is not a table", file=path, field="keypoints",
                         expected='a [keypoints] table of "source name" = "schema keypoint"')
    names: dict[str, str] = {}
    targets: dict[str, str] = {}
    for src, dst in table.items():
        if not isinstance(dst, str) or (dst and dst not in SCHEMAS[schema]):
            raise InputError(f"{src!r} maps to {dst!r}", file=path, field=f"keypoints.{src}",
                             expected=f"a {schema} keypoint name or \"\" to ignore it")
        if dst and dst in targets:
            raise InputError(f"{src!r} and {targets[dst]!r} both map to {dst!r}", file=path,
                             field=f"keypoints.{src}", expected="each schema keypoint named once")
        if dst:
            targets[dst] = src
        names[str(src)] = dst
    return KeypointMapping(schema, names, str(path))


def apply_mapping(points: pd.DataFrame, mapping: KeypointMapping) -> tuple[pd.DataFrame, dict[str, int]]:
    """``points`` with ``keypoint`` set from ``source_keypoint`` through ``mapping``.

    Rows whose name the mapping says to ignore (``""``) are dropped; names with no counterpart keep their
    source name. Returns the new table and {unmapped source name: number of points}.
    """
    out = points.copy()
    targets = {name: mapping.target(name) for name in pd.unique(out["source_keypoint"])}
    ignored = {n for n, t in targets.items() if t == ""}
    out = out[~out["source_keypoint"].isin(ignored)].copy()
    out["keypoint"] = [targets[n] or n for n in out["source_keypoint"]]
    unmapped = {n: int((out["source_keypoint"] == n).sum()) for n, t in targets.items() if t is None}
    # two source names landing on one keypoint of one person would make a person with two noses
    dup = out.duplicated(["annotator", "item", "person", "keypoint"], keep=False)
    if dup.any():
        row = out[dup].iloc[0]
        names = sorted(set(out.loc[dup & (out["keypoint"] == row["keypoint"]), "source_keypoint"]))
        raise InputError(f"source names {names} all map to {row['keypoint']!r} for one person (item "
                         f"{row['item']!r})", file=mapping.source, field="keypoints",
                         expected="one source name per schema keypoint")
    return out.reset_index(drop=True), unmapped


#: What an importer accepts as ``mapping=``: a mapping, a TOML path, the name of a shipped file, or None.
MappingLike = KeypointMapping | str | PathLike | None


def resolve_mapping(mapping: MappingLike, source_names: list[str], notes: list[str]) -> KeypointMapping | None:
    """The mapping to apply: the one given (a KeypointMapping, a TOML path, or the name of a shipped file in
    ``mappings/`` such as ``"crowdpose"``), else the schema whose names the most source names spell (COCO-17
    on a tie); None when no source name spells a schema keypoint (names are then kept as in the file)."""
    if isinstance(mapping, KeypointMapping):
        return mapping
    if mapping is not None:
        p = Path(mapping)
        shipped = MAPPINGS_DIR / f"{mapping}.toml"
        if not p.exists() and p.suffix == "" and len(p.parts) == 1 and shipped.is_file():
            p = shipped
        return load_mapping(p)
    names = list(dict.fromkeys(source_names))
    if not names:
        return default_mapping("coco17")
    best, best_n = None, 0
    for schema in ("coco17", "blazepose33"):
        m = default_mapping(schema)
        n = sum(1 for name in names if m.target(name))
        if n > best_n:
            best, best_n = m, n
    if best is None:
        notes.append(f"no keypoint name ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}) spells a "
                     f"COCO-17 or BlazePose-33 keypoint: names kept as in the file (pass a mapping file to map "
                     f"them)")
    return best
