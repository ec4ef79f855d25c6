"""Declarative protocol definitions: conditions, stopping rules, alignment cues and the KPIs a protocol reports.

A :class:`Protocol` is plain data (frozen dataclasses). The built-in protocols live in their own modules
(``single_leg_stance``, ``mctsib``, ``y_balance``); a lab can describe its own variant in TOML and load it with
:func:`load_protocol` (same fields as :meth:`Protocol.to_dict`).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ground_truth.kernel import InputError, ManifestError, check_option, validate_type

from .kpis import KPIS, get_kpi

VISIONS = ("eyes_open", "eyes_closed")
SURFACES = ("firm", "foam")
STANCES = ("single_leg", "bipedal")
LEGS = ("left", "right")
CUES = ("none", "hop", "heel_raise")
SIDES = ("reference", "candidate")


@dataclass(frozen=True)
class Condition:
    """One test condition (what the person does and on what), e.g. eyes closed on foam.

    ``name`` is the key used in results (``trials[].condition``).
    """

    name: str
    vision: str = "eyes_open"
    surface: str = "firm"
    stance: str = "single_leg"
    duration_s: float = 30.0
    description: str = ""

    def __post_init__(self):
        validate_type(self.name, str, "condition.name")
        check_option("condition.vision", self.vision, VISIONS)
        check_option("condition.surface", self.surface, SURFACES)
        check_option("condition.stance", self.stance, STANCES)
        validate_type(self.duration_s, "numeric", "condition.duration_s")
        if not self.duration_s > 0:
            raise InputError(f"duration of condition {self.name!r} is {self.duration_s}",
                             field="condition.duration_s", expected="a positive number of seconds")


@dataclass(frozen=True)
class StoppingRule:
    """An observable event that ends a trial (and fixes time-to-failure)."""

    name: str
    description: str


@dataclass(frozen=True)
class AlignmentCue:
    """A sharp movement at the start of a trial that both clocks see (force plate and video).

    A hop gives an impact peak in vertical force and a vertical jump of the ankles in the video; a heel raise
    gives a forward COP shift and an ankle rise. ``optional`` trials may omit it (alignment then uses the sway
    itself, with a larger uncertainty).
    """

    kind: str = "none"
    optional: bool = True
    description: str = ""

    def __post_init__(self):
        check_option("alignment_cue.kind", self.kind, CUES)


@dataclass(frozen=True)
class KPIMeasurement:
    """Which side computes a KPI, and from what.

    ``reference`` says how the gold standard computes it (force plates, markers); ``candidate`` how the pose
    model side computes it from keypoints, or None when keypoints cannot give it (``not_measured_reason`` then
    says why, and the report prints that reason).
    """

    kpi: str
    reference: str
    candidate: str | None = None
    not_measured_reason: str = ""

    def __post_init__(self):
        get_kpi(self.kpi)
        if self.candidate is None and not self.not_measured_reason:
            raise InputError(f"KPI {self.kpi!r} has no candidate method and no reason why",
                             field="not_measured_reason")

    @property
    def unit(self) -> str:
        return KPIS[self.kpi].unit


@dataclass(frozen=True)
class Protocol:
    """A balance test protocol.

    Parameters
    ----------
    name : str
        Key used in results and manifests (``trials[].protocol``).
    title, description : str
        Human-readable name and a short description of the procedure.
    citation : str
        Where the procedure is defined.
    conditions : tuple of Condition
        The conditions a trial may use.
    stance_legs : tuple of str
        Legs the person may stand on ("left", "right"); empty for bipedal protocols.
    max_duration_s : float
        Longest a trial lasts; time-to-failure is censored at this value.
    stopping_rules : tuple of StoppingRule
        Events that end a trial before the maximum duration.
    alignment_cue : AlignmentCue
        The start-of-trial movement that helps align clocks.
    kpis : tuple of KPIMeasurement
        The KPIs this protocol reports and how each side computes them.
    trials_per_condition : int
        Repetitions per condition in the standard procedure.
    """

    name: str
    title: str
    description: str
    citation: str
    conditions: tuple[Condition, ...]
    stance_legs: tuple[str, ...]
    max_duration_s: float
    stopping_rules: tuple[StoppingRule, ...]
    alignment_cue: AlignmentCue
    kpis: tuple[KPIMeasurement, ...]
    trials_per_condition: int = 1
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.conditions:
            raise InputError(f"protocol {self.name!r} has no conditions", field="conditions")
        names = [c.name for c in self.conditions]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"protocol {self.name!r} repeats condition(s) {', '.join(dup)}", field="conditions")
        for leg in self.stance_legs:
            check_option("stance_legs", leg, LEGS)
        kpi_names = [k.kpi for k in self.kpis]
        dup = sorted({n for n in kpi_names if kpi_names.count(n) > 1})
        if dup:
            raise InputError(f"protocol {self.name!r} lists KPI(s) {', '.join(dup)} twice", field="kpis")
        for c in self.conditions:
            if c.duration_s > self.max_duration_s:
                raise InputError(f"condition {c.name!r} lasts {c.duration_s} s, longer than the protocol's "
                                 f"maximum {self.max_duration_s} s", field="conditions.duration_s")

    def condition(self, name: str) -> Condition:
        """The condition called ``name``; InputError listing the protocol's conditions otherwise."""
        for c in self.conditions:
            if c.name == name:
                return c
        check_option(f"condition of protocol {self.name}", name, [c.name for c in self.conditions])

    @property
    def condition_names(self) -> list[str]:
        return [c.name for c in self.conditions]

    @property
    def kpi_names(self) -> list[str]:
        return [k.kpi for k in self.kpis]

    def measurement(self, kpi: str) -> KPIMeasurement:
        """How this protocol measures ``kpi`` (InputError if it does not report it)."""
        for k in self.kpis:
            if k.kpi == kpi:
                return k
        check_option(f"KPI of protocol {self.name}", kpi, self.kpi_names)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the same layout :func:`protocol_from_dict` and TOML files use)."""
        return {
            "name": self.name, "title": self.title, "description": self.description, "citation": self.citation,
            "max_duration_s": self.max_duration_s, "stance_legs": list(self.stance_legs),
            "trials_per_condition": self.trials_per_condition, "notes": list(self.notes),
            "alignment_cue": {"kind": self.alignment_cue.kind, "optional": self.alignment_cue.optional,
                              "description": self.alignment_cue.description},
            "conditions": [{"name": c.name, "vision": c.vision, "surface": c.surface, "stance": c.stance,
                            "duration_s": c.duration_s, "description": c.description} for c in self.conditions],
            "stopping_rules": [{"name": r.name, "description": r.description} for r in self.stopping_rules],
            "kpis": [{"kpi": k.kpi, "unit": k.unit, "reference": k.reference,
                      **({"candidate": k.candidate} if k.candidate is not None else {}),
                      **({"not_measured_reason": k.not_measured_reason} if k.not_measured_reason else {})}
                     for k in self.kpis],
        }


_REQUIRED = ("name", "title", "description", "citation", "conditions", "max_duration_s", "kpis")
_ALLOWED = {"name", "title", "description", "citation", "conditions", "stance_legs", "max_duration_s",
            "stopping_rules", "alignment_cue", "kpis", "trials_per_condition", "notes"}


def protocol_from_dict(data: dict[str, Any], *, file: str | PathLike | None = None) -> Protocol:
    """Build a :class:`Protocol` from plain data (e.g. a parsed TOML file); errors name the file and field."""
    if not isinstance(data, dict):
        raise ManifestError("protocol definition must be a table", file=file)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ManifestError(f"missing required field(s) {', '.join(missing)}", file=file, field=missing[0])
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ManifestError(f"unknown field(s) {', '.join(unknown)}", file=file, field=unknown[0],
                            expected=f"only {', '.join(sorted(_ALLOWED))}")

    def build(cls, items, fieldname):
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ManifestError("entry is not a table", file=file, field=f"{fieldname}[{i}]")
            try:
                out.append(cls(**{k: v for k, v in item.items() if k != "unit"}))
            except TypeError as exc:
                raise ManifestError(str(exc), file=file, field=f"{fieldname}[{i}]") from None
            except InputError as exc:
                raise ManifestError(exc.reason, file=file, field=f"{fieldname}[{i}].{exc.field or ''}".rstrip("."),
                                    expected=exc.expected) from None
        return tuple(out)

    try:
        cue = data.get("alignment_cue", {})
        cue = AlignmentCue(**cue) if isinstance(cue, dict) else AlignmentCue(kind=str(cue))
        return Protocol(
            name=data["name"], title=data["title"], description=data["description"], citation=data["citation"],
            conditions=build(Condition, data["conditions"], "conditions"),
            stance_legs=tuple(data.get("stance_legs", ())), max_duration_s=float(data["max_duration_s"]),
            stopping_rules=build(StoppingRule, data.get("stopping_rules", []), "stopping_rules"),
            alignment_cue=cue, kpis=build(KPIMeasurement, data["kpis"], "kpis"),
            trials_per_condition=int(data.get("trials_per_condition", 1)), notes=tuple(data.get("notes", ())))
    except ManifestError:
        raise
    except TypeError as exc:
        raise ManifestError(str(exc), file=file) from None
    except InputError as exc:
        raise ManifestError(exc.reason, file=file, field=exc.field, expected=exc.expected) from None


def load_protocol(path: str | PathLike) -> Protocol:
    """Read a protocol definition from a TOML file (layout of :meth:`Protocol.to_dict`)."""
    validate_type(path, "path-like", "path")
    path = Path(path)
    if not path.is_file():
        raise ManifestError("protocol file not found", file=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"not valid TOML ({exc})", file=path) from None
    return protocol_from_dict(data, file=path)
