"""A labelling guideline: QC rules for keypoint annotations, declared in TOML apart from the results they judge.

As a gate policy (:mod:`harness.gates.policy`) lists rules that :func:`harness.gates.evaluate_policy` judges, a
guideline lists rules that :func:`harness.annotations.qc.run_qc` runs on annotation sets::

    [guideline]
    name = "balance-video labelling guideline"
    description = "what the labellers were told"
    extra_keypoints = ["head_top"]    # names outside BlazePose-33/COCO-17 that rules may use (optional)

    [[rule]]
    id = "lower-limbs-present"        # unique
    kind = "required-keypoints"       # one of KINDS (below)
    keypoints = ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
    severity = "blocking"             # or "advisory" (reported, never blocks)
    max_fraction = 0.01               # findings tolerated: a fraction of the units the rule examined ...
    # max_findings = 0                # ... or a count (the default is max_findings = 0)
    allow_missing = false             # true: a rule with nothing to examine does not block
    description = "why this rule exists"

Each rule's parameters sit in its own table beside the common keys; every kind documents its parameters, their
defaults and the *unit* it examines (a person in an item, a point, a track step ...), which is what
``max_fraction`` divides by. An unknown kind, an unknown key or a bad value is a :class:`ManifestError` naming
the file, the rule id and the key (``stancebench annotations qc`` exits 2). See docs/annotations.md.
"""
from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from candidates.skeletons import BONES, SCHEMAS
from ground_truth.kernel import ManifestError, validate_type

SEVERITIES = ("blocking", "advisory")

#: Keypoint names a rule may use without declaring them: those of the project's schemas.
SCHEMA_KEYPOINTS = frozenset(name for names in SCHEMAS.values() for name in names)

#: Left/right pairs judged by the swap rules unless a rule names its own (the brief of issue 12: shoulder, hip,
#: knee, ankle; arms are left out because protocols cross them on the chest).
DEFAULT_PAIRS = ("shoulder", "hip", "knee", "ankle")

_GUIDELINE_KEYS = {"name", "description", "extra_keypoints"}
_COMMON_KEYS = {"id", "kind", "severity", "description", "max_findings", "max_fraction", "allow_missing"}


@dataclass(frozen=True)
class _Ctx:
    file: str | None
    rule_id: str
    names: frozenset[str]


def _err(msg: str, file, rule_id: str | None, key: str | None = None, expected: str | None = None) -> ManifestError:
    where = f"rule '{rule_id}'" if rule_id else "guideline"
    return ManifestError(msg, file=file, field=f"{where}.{key}" if key else where, expected=expected)


# ----------------------------------------------------------------------------------------------- parameter types
def _number(low: float | None = None, high: float | None = None, *, integer: bool = False, low_open: bool = False):
    """A checker of a number in [low, high] (low excluded when ``low_open``)."""
    def check(value, ctx: _Ctx, key: str):
        what = "an integer" if integer else "a number"
        if low is not None or high is not None:
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            what += f" in {'(' if low_open else '['}{lo}, {hi}]"
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)):
            raise _err(f"{value!r} is not {'an integer' if integer else 'a finite number'}", ctx.file, ctx.rule_id,
                       key, what)
        if (low is not None and (value < low or (low_open and value == low))) or (high is not None and value > high):
            raise _err(f"{value!r} is out of range", ctx.file, ctx.rule_id, key, what)
        return int(value) if integer else float(value)
    return check


def _boolean(value, ctx: _Ctx, key: str) -> bool:
    if not isinstance(value, bool):
        raise _err(f"{value!r} is not true/false", ctx.file, ctx.rule_id, key, "a boolean")
    return value


def _keypoint(value, ctx: _Ctx, key: str) -> str:
    if not isinstance(value, str) or value not in ctx.names:
        raise _err(f"{value!r} is not a keypoint name", ctx.file, ctx.rule_id, key,
                   "a BlazePose-33 or COCO-17 keypoint name (e.g. 'left_knee'), or one listed in "
                   "[guideline] extra_keypoints")
    return value


def _keypoint_list(value, ctx: _Ctx, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _err(f"{value!r} is not a list of keypoint names", ctx.file, ctx.rule_id, key,
                   "a non-empty list such as [\"left_knee\", \"right_knee\"]")
    names = tuple(_keypoint(v, ctx, f"{key}[{i}]") for i, v in enumerate(value))
    if len(set(names)) != len(names):
        raise _err("a keypoint is listed twice", ctx.file, ctx.rule_id, key, "each keypoint once")
    return names


def _visibility_list(value, ctx: _Ctx, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v in (0, 1, 2)
                                              for v in value):
        raise _err(f"{value!r} is not a list of visibility values", ctx.file, ctx.rule_id, key,
                   "a list of 0 (not labelled), 1 (labelled, not visible), 2 (visible)")
    return tuple(sorted(set(value)))


def _pairs(value, ctx: _Ctx, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _err(f"{value!r} is not a list of pair names", ctx.file, ctx.rule_id, key,
                   "a non-empty list such as [\"shoulder\", \"hip\", \"knee\", \"ankle\"]")
    for i, base in enumerate(value):
        if f"left_{base}" not in ctx.names or f"right_{base}" not in ctx.names:
            raise _err(f"{base!r} names no left/right pair", ctx.file, ctx.rule_id, f"{key}[{i}]",
                       f"X such that left_X and right_X are keypoints (e.g. {', '.join(DEFAULT_PAIRS)})")
    if len(set(value)) != len(value):
        raise _err("a pair is listed twice", ctx.file, ctx.rule_id, key, "each pair once")
    return tuple(value)


def _bones(value, ctx: _Ctx, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise _err(f"{value!r} is not a list of bones", ctx.file, ctx.rule_id, key,
                   "a non-empty list of [keypoint, keypoint] pairs, e.g. [[\"left_hip\", \"left_knee\"]]")
    out = []
    for i, bone in enumerate(value):
        if not isinstance(bone, list) or len(bone) != 2 or bone[0] == bone[1]:
            raise _err(f"{bone!r} is not a bone", ctx.file, ctx.rule_id, f"{key}[{i}]",
                       "two different keypoint names, e.g. [\"left_hip\", \"left_knee\"]")
        out.append((_keypoint(bone[0], ctx, f"{key}[{i}]"), _keypoint(bone[1], ctx, f"{key}[{i}]")))
    return tuple(out)


def _forbidden(value, ctx: _Ctx, key: str) -> dict[str, tuple[int, ...]]:
    if not isinstance(value, dict):
        raise _err(f"{value!r} is not a table", ctx.file, ctx.rule_id, key,
                   "a table of keypoint = [visibility values], e.g. forbidden = { nose = [1] }")
    return {_keypoint(k, ctx, f"{key}.{k}"): _visibility_list(v, ctx, f"{key}.{k}") for k, v in value.items()}


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind: its checker, its default (None = optional, no default; ``REQUIRED``)."""

    check: Callable[[Any, _Ctx, str], Any]
    default: Any
    help: str


REQUIRED = object()


@dataclass(frozen=True)
class Kind:
    """A rule kind: what it checks, the unit it examines (what ``max_fraction`` divides by), its parameters."""

    name: str
    label: str
    unit: str
    params: dict[str, Param]
    summary: str


_GAP = Param(_number(1, integer=True), None, "consecutive labelled frames of a track further apart than this many "
             "frames are not compared (default: no limit; CVAT's frame_filter step makes labelled frames 3 apart)")
_SEP = Param(_number(0, 10, low_open=True), 0.1, "a pair is judged only when its left and right points are at "
             "least this many person sizes apart (across the body axis for the geometric rule)")

#: The rule kinds a guideline may use (the list of issue 12), with their parameters.
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("required-keypoints", "missing required keypoints", "required points",
         {"keypoints": Param(_keypoint_list, REQUIRED, "keypoints every labelled person must have"),
          "min_visibility": Param(_number(1, 2, integer=True), 1, "1: labelled (occluded allowed); 2: visible"),
          "min_labelled": Param(_number(0, integer=True), 1, "persons with fewer labelled keypoints are not "
                                "checked (COCO keeps crowd persons with no keypoints)")},
         "each labelled person in each item has each listed keypoint at the required visibility"),
    Kind("visibility", "visibility violations", "points",
         {"allowed": Param(_visibility_list, (0, 1, 2), "visibility values allowed"),
          "require_coordinates": Param(_boolean, True, "a labelled point (v >= 1) must have coordinates"),
          "forbidden": Param(_forbidden, {}, "keypoint = [values not allowed for it], e.g. { nose = [1] }")},
         "visibility values and their coordinates follow the guideline"),
    Kind("left-right-swap-geometry", "left/right pairs on the wrong side of the body", "pairs and faces judged",
         {"pairs": Param(_pairs, DEFAULT_PAIRS, "left/right pairs judged"),
          "min_separation": _SEP,
          "use_face": Param(_boolean, True, "infer the facing direction from the face's visibility where the "
                            "torso does not tell"),
          "face_torso_conflict": Param(_boolean, True, "a person whose face and torso face opposite ways is a "
                                       "finding (a whole-body left/right exchange, or a head turned over the "
                                       "shoulder)")},
         "each left point lies on the person's left of the body axis, given the facing direction"),
    Kind("left-right-swap-temporal", "left/right pairs exchanged along a track", "pair-frames in tracks",
         {"pairs": Param(_pairs, DEFAULT_PAIRS, "left/right pairs judged"),
          "min_separation": _SEP,
          "max_ratio": Param(_number(0, 1, low_open=True), 0.5, "a step exchanges the pair when the swapped "
                             "assignment's displacement is below this fraction of the unswapped one's"),
          "max_gap": _GAP},
         "no left/right pair exchanges positions between consecutive frames of a track"),
    Kind("bone-length", "implausible bone-length changes", "bone-frames in tracks",
         {"bones": Param(_bones, tuple(BONES), "bones (pairs of keypoints) checked; default "
                         "candidates.skeletons.BONES"),
          "max_change": Param(_number(0, low_open=True), 0.5, "largest relative change |L - median| / median"),
          "min_frames": Param(_number(2, integer=True), 3, "frames a bone needs in a track to have a median"),
          "min_visibility": Param(_number(1, 2, integer=True), 1, "visibility of the points used")},
         "each bone's length stays near the track's median length of that bone"),
    Kind("outside-image", "points outside the image", "points in items of known size",
         {"tolerance_px": Param(_number(0), 0.0, "pixels a point may lie beyond the image border"),
          "width": Param(_number(1, integer=True), None, "image width for items whose export gives none"),
          "height": Param(_number(1, integer=True), None, "image height for items whose export gives none")},
         "every labelled point lies inside the image, within the tolerance"),
    Kind("duplicate-persons", "duplicate persons", "person pairs in one item",
         {"min_oks": Param(_number(0, 1, low_open=True), 0.9, "two persons with an OKS at least this high are "
                           "duplicates"),
          "min_common": Param(_number(1, integer=True), 3, "keypoints both persons need for an OKS"),
          "default_sigma": Param(_number(0, 1, low_open=True), None, "per-keypoint constant for keypoints COCO "
                                 "gives none (default: the mean of COCO's 17 sigmas)")},
         "no two persons of one item and annotator have nearly coinciding keypoints"),
    Kind("frames-beyond-video", "frames labelled beyond the video", "labelled frames",
         {"frame_count": Param(_number(1, integer=True), None, "frames of the video (frames >= this are beyond "
                               "it); without it, the frames the video given with --video has"),
          "use_export_range": Param(_boolean, True, "also judge frames against the last frame the export "
                                    "declares (CVAT's stop_frame, when the file holds one task)")},
         "every labelled frame exists in the video"),
    Kind("sudden-jump", "sudden keypoint jumps", "keypoint steps in tracks",
         {"k": Param(_number(1, low_open=False), 5.0, "a step is a jump above k x the track's median step of that "
                     "keypoint ..."),
          "min_px": Param(_number(0), 20.0, "... and above this many pixels"),
          "min_steps": Param(_number(1, integer=True), 3, "steps a keypoint needs in a track to have a median"),
          "max_gap": _GAP},
         "no keypoint jumps between consecutive frames of a track"),
)}


@dataclass(frozen=True)
class QCRule:
    """One rule of a guideline: a kind, its parameters, a severity and how many findings are tolerated."""

    id: str
    kind: str
    params: dict[str, Any]
    severity: str = "blocking"
    max_findings: int | None = 0
    max_fraction: float | None = None
    allow_missing: bool = False
    description: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": {k: _plain(v) for k, v in self.params.items()},
                "severity": self.severity, "max_findings": self.max_findings, "max_fraction": self.max_fraction,
                "allow_missing": self.allow_missing, "description": self.description}


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Guideline:
    """A named list of QC rules; ``source``/``sha256`` say which file it came from (None if built in code)."""

    rules: tuple[QCRule, ...]
    name: str = "labelling guideline"
    description: str = ""
    extra_keypoints: tuple[str, ...] = ()
    source: str | None = None
    sha256: str | None = None
    sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "extra_keypoints": list(self.extra_keypoints),
                "source": self.source, "sha256": self.sha256, "sample": self.sample,
                "rules": [r.to_dict() for r in self.rules]}


def _parse_rule(raw: Any, index: int, file, names: frozenset[str]) -> QCRule:
    if not isinstance(raw, dict):
        raise _err(f"rule #{index + 1} is not a table", file, None, f"rule[{index}]", "[[rule]] tables")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise _err(f"rule #{index + 1} has no id", file, None, f"rule[{index}].id", "a non-empty string")
    kind_name = raw.get("kind")
    if kind_name not in KINDS:
        raise _err(f"unknown rule kind {kind_name!r}", file, rid, "kind", f"one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    unknown = sorted(set(raw) - _COMMON_KEYS - set(kind.params))
    if unknown:
        raise _err(f"unknown key(s) {', '.join(unknown)} for a {kind_name} rule", file, rid, unknown[0],
                   f"the common keys ({', '.join(sorted(_COMMON_KEYS))}) or the parameters of {kind_name} "
                   f"({', '.join(kind.params) or 'none'})")
    ctx = _Ctx(None if file is None else str(file), rid, names)
    severity = raw.get("severity", "blocking")
    if severity not in SEVERITIES:
        raise _err(f"unknown severity {severity!r}", file, rid, "severity", "'blocking' or 'advisory'")
    if "max_findings" in raw and "max_fraction" in raw:
        raise _err("give max_findings or max_fraction, not both", file, rid, "max_fraction")
    max_fraction = _number(0, 1)(raw["max_fraction"], ctx, "max_fraction") if "max_fraction" in raw else None
    max_findings = None if max_fraction is not None else \
        _number(0, integer=True)(raw.get("max_findings", 0), ctx, "max_findings")
    allow_missing = _boolean(raw.get("allow_missing", False), ctx, "allow_missing")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _err(f"{description!r} is not a string", file, rid, "description", "a string")
    params = {}
    for key, param in kind.params.items():
        if key in raw:
            params[key] = param.check(raw[key], ctx, key)
        elif param.default is REQUIRED:
            raise _err(f"a {kind_name} rule needs {key}", file, rid, key, param.help)
        else:
            params[key] = param.default
    return QCRule(id=rid, kind=kind_name, params=params, severity=severity, max_findings=max_findings,
                  max_fraction=max_fraction, allow_missing=allow_missing, description=description)


def guideline_from_dict(data: dict[str, Any], *, file: str | PathLike | None = None, sha256: str | None = None,
                        sample: bool = False) -> Guideline:
    """Build a :class:`Guideline` from parsed TOML data; ManifestError naming the file, rule id and key otherwise."""
    if not isinstance(data, dict):
        raise ManifestError("guideline must be a table", file=file)
    unknown = sorted(set(data) - {"guideline", "rule"})
    if unknown:
        raise _err(f"unknown top-level key(s) {', '.join(unknown)}", file, None, unknown[0],
                   "a [guideline] table and [[rule]] tables")
    head = data.get("guideline", {})
    if not isinstance(head, dict):
        raise _err("[guideline] must be a table", file, None)
    bad = sorted(set(head) - _GUIDELINE_KEYS)
    if bad:
        raise _err(f"unknown key(s) {', '.join(bad)}", file, None, bad[0], f"only {', '.join(sorted(_GUIDELINE_KEYS))}")
    for key in ("name", "description"):
        if key in head and not isinstance(head[key], str):
            raise _err(f"{head[key]!r} is not a string", file, None, key, "a string")
    extra = head.get("extra_keypoints", [])
    if not isinstance(extra, list) or not all(isinstance(n, str) and n.strip() for n in extra):
        raise _err(f"{extra!r} is not a list of names", file, None, "extra_keypoints",
                   "a list of keypoint names used by the export but absent from BlazePose-33 and COCO-17")
    names = SCHEMA_KEYPOINTS | frozenset(extra)
    rules_raw = data.get("rule", [])
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _err("no rules", file, None, "rule", "at least one [[rule]] table")
    rules = [_parse_rule(r, i, file, names) for i, r in enumerate(rules_raw)]
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _err(f"duplicate rule id(s) {', '.join(dup)}", file, dup[0], "id", "unique ids")
    return Guideline(rules=tuple(rules), name=str(head.get("name", "labelling guideline")),
                     description=str(head.get("description", "")), extra_keypoints=tuple(extra),
                     source=None if file is None else str(file), sha256=sha256, sample=sample)


def load_guideline(path: str | PathLike) -> Guideline:
    """Read and validate a labelling guideline (TOML).

    Raises
    ------
    ManifestError
        Missing file, invalid TOML, unknown rule kind, key or severity, a parameter of the wrong type or out of
        range; the message names the file, the rule id and the key.
    """
    validate_type(path, "path-like", "path")
    path = Path(path)
    if not path.is_file():
        raise ManifestError("guideline file not found", file=path, expected="a labelling guideline (TOML)")
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"not valid TOML ({exc})", file=path, expected="a labelling guideline (TOML)") from None
    return guideline_from_dict(data, file=path, sha256=hashlib.sha256(raw).hexdigest(),
                               sample=path.resolve() == sample_guideline_path().resolve())


def sample_guideline_path() -> Path:
    """The sample guideline shipped with stancebench (package data)."""
    return Path(__file__).with_name("sample_guideline.toml")


__all__ = ["DEFAULT_PAIRS", "Guideline", "KINDS", "Kind", "Param", "QCRule", "SCHEMA_KEYPOINTS", "SEVERITIES",
           "guideline_from_dict", "load_guideline", "sample_guideline_path"]
