"""The XML layer of the CVAT importer: an export parsed safely, with the line each element starts on, and its
attribute values read with checks (``x,y;...`` point lists, integers, flags, ``<attribute>`` children), each error
naming the file, the element and its line.

A document declaring a DTD or entities is refused before parsing (entity expansion, "billion laughs"; Python's
documentation, "XML vulnerabilities"). The tree is built by ``xml.etree.ElementTree.TreeBuilder`` fed from an
expat parser so that each element keeps the line expat reports for its start tag (ElementTree's own parser keeps
no line numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat

import numpy as np

from ground_truth.kernel import ReaderError

_WHAT = "a CVAT for images 1.1 or CVAT for video 1.1 XML export (root <annotations>)"
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ XML
def parse_xml(text: str, path: Path, what: str = _WHAT) -> tuple[ET.Element, dict[ET.Element, int]]:
    """The element tree of ``text`` and the line each element starts on.

    A document declaring a DTD or entities is refused before parsing (entity expansion, "billion laughs");
    malformed or truncated XML is a ReaderError naming line and column.
    """
    if _DTD.search(text):
        raise ReaderError("declares a DTD or entities (<!DOCTYPE or <!ENTITY); refused for safety", file=path,
                          expected=what)
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate()

    def start(tag, attrs):
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    def refuse(*_args):
        raise ReaderError("declares a DTD or entities; refused for safety", file=path, expected=what)

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise ReaderError(f"not valid XML at line {exc.lineno}, column {exc.offset + 1} "
                          f"({expat.ErrorString(exc.code)})", file=path, expected=what) from None
    return builder.close(), lines


@dataclass
class _Ctx:
    """What every part of one read needs: the file, the element lines, the notes and counters."""

    path: Path
    lines: dict[ET.Element, int]
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def line(self, el: ET.Element) -> str:
        n = self.lines.get(el)
        return f" (line {n})" if n else ""

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def error(self, message: str, field: str, expected: str) -> ReaderError:
        return ReaderError(message, file=self.path, field=field, expected=expected)


def _xy(el: ET.Element, attr: str, where: str, ctx: _Ctx) -> np.ndarray:
    """The ``x1,y1;x2,y2;...`` attribute of ``el`` as an (N, 2) array of finite pixels."""
    text = el.get(attr)
    expected = "x,y pairs of finite numbers separated by ';' (e.g. points=\"1.5,2;3,4\")"
    if text is None or not text.strip():
        raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> has no {attr}", f"<{el.tag}> {attr}", expected)
    pairs = []
    for pair in text.split(";"):
        parts = pair.split(",")
        if len(parts) != 2:
            raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> {attr}={text!r}: {pair!r} is not one x,y pair",
                            f"<{el.tag}> {attr}", expected)
        try:
            xy = (float(parts[0]), float(parts[1]))
        except ValueError:
            bad = next(p for p in parts if not _is_float(p))
            raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> {attr}={text!r}: {bad.strip()!r} is not a number",
                            f"<{el.tag}> {attr}", expected) from None
        if not all(np.isfinite(xy)):
            raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> {attr}={text!r}: {pair!r} is not finite",
                            f"<{el.tag}> {attr}", expected)
        pairs.append(xy)
    return np.asarray(pairs, dtype=float)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _int(el: ET.Element, attr: str, where: str, ctx: _Ctx, *, required: bool) -> int | None:
    raw = el.get(attr)
    if raw is None or (not required and raw.strip() == ""):
        if required:
            raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> has no {attr}", f"<{el.tag}> {attr}",
                            "an integer")
        return None
    try:
        return int(raw)
    except ValueError:
        raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag}> {attr}={raw!r} is not an integer", f"<{el.tag}> {attr}",
                        "an integer") from None


def _text_int(el: ET.Element | None, tag: str, where: str, ctx: _Ctx) -> int | None:
    """The integer text of ``el``'s child ``tag`` (None when absent or empty)."""
    child = None if el is None else el.find(tag)
    if child is None or not (child.text or "").strip():
        return None
    try:
        return int(child.text.strip())
    except ValueError:
        raise ctx.error(f"{where}{ctx.line(child)}: <{tag}>{child.text.strip()}</{tag}> is not an integer",
                        f"<{tag}>", "an integer") from None


def _username(el: ET.Element | None, tag: str) -> str | None:
    node = None if el is None else el.find(f"{tag}/username")
    name = (node.text or "").strip() if node is not None else ""
    return name or None


def _flag(el: ET.Element, attr: str, default: bool = False) -> bool:
    raw = el.get(attr)
    return default if raw is None else raw.strip() in ("1", "true", "True")


def _attributes(el: ET.Element, where: str, ctx: _Ctx) -> tuple[tuple[str, str], ...]:
    out = []
    for a in el.findall("attribute"):
        name = a.get("name")
        if name is None:
            raise ctx.error(f"{where}{ctx.line(a)}: <attribute> has no name", "<attribute> name",
                            "<attribute name=\"...\">value</attribute>")
        out.append((name, (a.text or "").strip()))
    return tuple(out)
