"""Typed report sections and the blocks they hold. Each section names its template; the builder renders the
list through one cached Jinja2 environment (after MNE-Python's Report)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .figures import FigureImage


@dataclass
class Paragraph:
    text: str
    css: str = ""
    kind: ClassVar[str] = "paragraph"


@dataclass
class NotMeasured:
    """"not measured: <reason>" — printed where a section or item has no data, so nothing silently disappears."""

    reason: str
    what: str = ""
    kind: ClassVar[str] = "not_measured"


@dataclass
class Preformatted:
    """Verbatim text (e.g. the study manifest) in a <details> element that needs no script to open."""

    summary: str
    text: str
    kind: ClassVar[str] = "preformatted"


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""
    row_classes: list[str] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    kind: ClassVar[str] = "table"


@dataclass
class Figure:
    image: FigureImage
    kind: ClassVar[str] = "figure"


@dataclass
class FigureRow:
    """Several small figures side by side (wrapping on narrow screens)."""

    images: list[FigureImage]
    kind: ClassVar[str] = "figure_row"


@dataclass
class Section:
    """A titled part of the report made of blocks (paragraphs, tables, figures, not-measured notes)."""

    id: str
    title: str
    blocks: list[Any] = field(default_factory=list)
    template: ClassVar[str] = "section.html.j2"

    def context(self) -> dict[str, Any]:
        return {"section": self}

    def opens(self, part: Any, absent: str) -> bool:
        """Begin a section drawn from one part of the results (``status``, and ``sentence`` when it has one):
        "not measured: ``absent``" when the results lack the part, its sentence, "not measured: ``status``"
        unless it is "ok". True when the part's body is to follow."""
        if part is None:
            self.blocks.append(NotMeasured(absent))
            return False
        if getattr(part, "sentence", ""):
            self.blocks.append(Paragraph(part.sentence))
        if part.status != "ok":
            self.blocks.append(NotMeasured(part.status))
            return False
        return True

    def add_notes(self, notes: list[str]) -> None:
        """One "Note: ..." paragraph per note of the part."""
        self.blocks += [Paragraph(f"Note: {note}.", css="note") for note in notes]


@dataclass
class CandidateVerdict:
    candidate: str
    outcome: str  # "pass" | "blocked" | "not gated"
    counts: dict[str, int]
    verdicts: list[dict]
    trials_ok: int = 0
    trials_failed: int = 0


@dataclass
class VerdictSection(Section):
    """The verdict per candidate, first: release gates passed or blocked, with every verdict's message."""

    cards: list[CandidateVerdict] = field(default_factory=list)
    template: ClassVar[str] = "verdict.html.j2"


@dataclass
class KPISummary:
    kpi: str
    unit: str
    description: str
    kind: str
    per_candidate: list[tuple[str, list[str]]]


@dataclass
class SummarySection(Section):
    """Plain-language summary per KPI for clinical readers, and the list of KPIs not measured (with why)."""

    items: list[KPISummary] = field(default_factory=list)
    not_measured: list[tuple[str, str]] = field(default_factory=list)
    template: ClassVar[str] = "summary.html.j2"


@dataclass
class MethodsSection(Section):
    """Every convention and statistic with its citation."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (topic, text, citation)
    template: ClassVar[str] = "methods.html.j2"
