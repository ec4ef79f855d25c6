"""Marker-set mappings: from a lab's marker names to the joint centres and landmarks stancebench needs.

Every lab names its markers differently (``LKNE``, ``FullBody_dynamic:L_knee``, ``LLFE``...), and not every set
holds every landmark. A mapping (a TOML file, docs/marker-sets.md) says, once, which of a lab's markers is which
anatomical landmark; the joint centres are then built from the landmarks by one set of rules, the same for the
renderer (:mod:`candidates.render.motion`), the marker COM (:mod:`ground_truth.com`), the joint angles
(:mod:`ground_truth.angles`) and the gold-standard side of the pipeline. What a set cannot give is stated, not
guessed: a joint none of whose rules the markers allow is left out with the reason, and every consumer names
the missing joints or segments.

>>> from ground_truth.marker_mapping import map_markers
>>> mapped = map_markers(recording.markers)          # mapping detected from the marker names
>>> mapped.joints["left_hip"], mapped.used["left_hip"], mapped.missing

Built-in mappings (``ground_truth/marker_maps/*.toml``): ``plug_in_gait`` (Vicon Plug-in Gait),
``addbiomechanics`` (AddBiomechanics/OpenCap), ``isb_anatomical`` (ISB anatomical landmarks, e.g. biobuddy).

Rules (the ``[joints]`` table; the defaults are :data:`DEFAULT_JOINT_RULES`):

* ``{marker = L}``: the landmark's marker as is;
* ``{midpoint = [L1, L2, ...]}``: the mean of the landmarks (medial/lateral epicondyles, malleoli, styloids);
* ``{lateral = L, width = "knee"}``: a lateral marker moved half the joint width medially along the pelvis's
  medio-lateral axis (the horizontal line to the other side's marker without pelvis markers);
* ``{harrington = true}``: hip joint centre by the Harrington et al. (2007) regression from the pelvis markers;
* ``{acromion = L}``: shoulder joint centre 17 % of the inter-acromion distance below the acromion marker along
  the trunk axis (Rab et al. 2002);
* ``{extend = [J1, J2], ratio = r}``: ``J2 + r (J2 - J1)``, for a point past a segment's end (the head's vertex
  along the trunk when a set has no head marker);
* ``{mean_of = [J1, J2]}``: the mean of two joints already built (the pelvis: the hips' midpoint).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .kernel import InputError, TimeSeries, validate_type
from .markersets import strip_subject_prefix

#: Harrington et al. (2007, J Biomech 40:595-602) hip joint centre regression, single-variable form (the
#: authors' proposal without leg length and, for the vertical and medio-lateral axes, without pelvic depth),
#: in the ISB pelvis frame (x anterior, y superior, z right), origin at the ASIS midpoint, mm:
#: x = -0.24 PD - 9.9, y = -0.30 PW - 10.9, z = +-(0.33 PW + 7.3); PW = inter-ASIS distance, PD = distance from
#: the ASIS midpoint to the PSIS midpoint (or the sacral marker). Stored as (a_x, b_x, a_y, b_y, a_z, b_z).
HARRINGTON_2007 = (-0.24, -9.9, -0.30, -10.9, 0.33, 7.3)
#: Rab, Petuskey & Bagley (2002, Gait Posture 15:113-119): the shoulder joint centre lies 17 % of the
#: inter-acromion distance below the acromion marker.
RAB_2002 = 0.17
#: Head length (vertex to cervicale) over trunk length (cervicale to the hip centres' midpoint) in de Leva
#: (1996, J Biomech 29:1223, Table 4 mean lengths): 242.9/603.3 mm (men) = 0.403, 243.7/614.8 mm (women) = 0.396.
DE_LEVA_HEAD_OVER_TRUNK = 0.40

#: The landmark vocabulary a mapping's ``[markers]`` table names (``{side}`` = left and right).
LANDMARKS: dict[str, str] = {
    "left_asis": "left anterior superior iliac spine", "right_asis": "right anterior superior iliac spine",
    "left_psis": "left posterior superior iliac spine", "right_psis": "right posterior superior iliac spine",
    "sacrum": "sacral marker (midway between the PSIS; replaces the PSIS pair)",
    "{side}_hip_centre": "a marker the lab's software placed at the hip joint centre",
    "{side}_knee_lateral": "lateral femoral epicondyle", "{side}_knee_medial": "medial femoral epicondyle",
    "{side}_ankle_lateral": "lateral malleolus", "{side}_ankle_medial": "medial malleolus",
    "{side}_heel": "calcaneus (heel)", "{side}_toe": "toe (2nd metatarsal head or toe tip)",
    "{side}_meta1": "1st metatarsal head", "{side}_meta5": "5th metatarsal head",
    "{side}_acromion": "acromion (shoulder marker)",
    "{side}_elbow_lateral": "lateral humeral epicondyle", "{side}_elbow_medial": "medial humeral epicondyle",
    "{side}_wrist_radial": "radial styloid (thumb side)", "{side}_wrist_ulnar": "ulnar styloid (little-finger side)",
    "{side}_hand": "3rd metacarpal head (hand tip)", "{side}_meta2_hand": "2nd metacarpal head",
    "{side}_meta5_hand": "5th metacarpal head",
    "c7": "7th cervical vertebra (cervicale)", "sternum": "sternum", "vertex": "top of the head",
    "head_front_left": "front left head marker", "head_front_right": "front right head marker",
    "head_back_left": "back left head marker", "head_back_right": "back right head marker",
}

#: Joint widths (m) used by ``lateral`` rules when a set (or the subject) gives none: the joint centre is half a
#: width medial of the lateral marker. Marker centre to marker centre, so measured widths from a static trial
#: with medial markers (:func:`widths_from_static`) are the right values to pass.
DEFAULT_WIDTHS_M = {"knee": 0.10, "ankle": 0.07, "elbow": 0.07}

#: The joint rules every mapping starts from (tried in order, the first the markers allow wins for the whole
#: recording; never switched frame by frame, so a gap stays a gap). A mapping's ``[joints]`` table replaces the
#: rules of the joints it names. The order of the keys is the order joints are built (a rule may use joints
#: built before it).
DEFAULT_JOINT_RULES: dict[str, list[dict[str, Any]]] = {
    "{side}_hip": [{"marker": "{side}_hip_centre"}, {"harrington": True}],
    "pelvis": [{"mean_of": ["left_hip", "right_hip"]}],
    "{side}_knee": [{"midpoint": ["{side}_knee_lateral", "{side}_knee_medial"]},
                    {"lateral": "{side}_knee_lateral", "width": "knee"}],
    "{side}_ankle": [{"midpoint": ["{side}_ankle_lateral", "{side}_ankle_medial"]},
                     {"lateral": "{side}_ankle_lateral", "width": "ankle"}],
    "{side}_heel": [{"marker": "{side}_heel"}],
    "{side}_foot_index": [{"marker": "{side}_toe"}, {"midpoint": ["{side}_meta1", "{side}_meta5"]}],
    "{side}_shoulder": [{"acromion": "{side}_acromion"}],
    "{side}_elbow": [{"midpoint": ["{side}_elbow_lateral", "{side}_elbow_medial"]},
                     {"lateral": "{side}_elbow_lateral", "width": "elbow"}],
    "{side}_wrist": [{"midpoint": ["{side}_wrist_radial", "{side}_wrist_ulnar"]}],
    "{side}_hand_tip": [{"marker": "{side}_hand"}, {"midpoint": ["{side}_meta2_hand", "{side}_meta5_hand"]}],
    "neck": [{"marker": "c7"}],
    "head_centre": [{"midpoint": ["head_front_left", "head_front_right", "head_back_left", "head_back_right"]}],
    "head_top": [{"marker": "vertex"}],
}
RULE_KINDS = ("marker", "midpoint", "lateral", "harrington", "acromion", "extend", "mean_of")
SIDES = ("left", "right")
MAPS_DIR = Path(__file__).with_name("marker_maps")


class _Unavailable(Exception):
    """A rule the recording's markers do not allow (the message says why)."""


def _norm(name: str) -> str:
    """Name as matched: lower case, without ``.``, ``_``, ``-`` and spaces (``L.ASIS`` = ``L_ASIS`` = ``LASIS``)."""
    return "".join(ch for ch in name.lower() if ch not in "._- ")


def _expand(template: str, side: str, letters: tuple[str, str]) -> str:
    return template.replace("{side}", side).replace("{S}", letters[SIDES.index(side)])


def _sided(key: str) -> bool:
    return "{side}" in key


@dataclass(frozen=True)
class MarkerMapping:
    """A marker set: the lab's marker names of each landmark, the joint rules, widths and what it cannot give.

    Attributes
    ----------
    name, title, description : str
    markers : dict of str to tuple of str
        Landmark (``left_knee_lateral``...) to the lab's marker names, tried in order (the first present wins).
    joints : dict of str to tuple of dict
        Joint to its rules (defaults :data:`DEFAULT_JOINT_RULES` overridden by the file's ``[joints]``).
    widths_m : dict of str to float
        ``knee``, ``ankle``, ``elbow`` widths for ``lateral`` rules.
    detect : tuple of str
        Marker names whose presence identifies the set (auto-detection).
    cannot_give : dict of str to str
        Joint to the reason the set cannot give it (stated in the file; such joints are never built).
    prefixes : tuple of str
        Prefixes stripped from the file's marker names, besides any ``Subject:`` prefix (see ``strip_subject_prefix``).
    strip_subject_prefix : bool
        Strip anything up to the last ``:`` (Vicon/Nexus subject prefixes such as ``FullBody_dynamic:``).
    source : str
        The TOML file it was read from.
    """

    name: str
    title: str
    description: str
    markers: dict[str, tuple[str, ...]]
    joints: dict[str, tuple[dict[str, Any], ...]]
    widths_m: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WIDTHS_M))
    detect: tuple[str, ...] = ()
    cannot_give: dict[str, str] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ()
    strip_subject_prefix: bool = True
    source: str = ""

    def with_widths(self, **widths_m: float | None) -> "MarkerMapping":
        """A copy whose ``lateral`` rules use these widths (``knee=0.099``...; None keeps the mapping's)."""
        w = dict(self.widths_m)
        for k, v in widths_m.items():
            if k not in DEFAULT_WIDTHS_M:
                raise InputError(f"unknown joint width {k!r}", field="widths", expected=", ".join(DEFAULT_WIDTHS_M))
            if v is not None:
                if not np.isfinite(v) or v <= 0 or v > 0.3:
                    raise InputError(f"{k} width is {v} m", field=f"{k}_width_m", expected="0 < width <= 0.3 m")
                w[k] = float(v)
        return replace(self, widths_m=w)

    def file_names(self, names) -> dict[str, str]:
        """The file's marker names keyed by the name the mapping matches (prefixes stripped), first kept."""
        out: dict[str, str] = {}
        for n in names:
            short = n
            for p in self.prefixes:
                if short.startswith(p):
                    short = short[len(p):]
                    break
            if self.strip_subject_prefix:
                short = strip_subject_prefix(short)
            out.setdefault(short, n)
        return out


# -- reading a mapping ------------------------------------------------------------------------------------
def _names(value, where: str, file) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(f"is {value!r}", file=file, field=where, expected="a marker name or a list of marker names")


def _check_rule(rule, where: str, file) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise InputError(f"is {rule!r}", file=file, field=where, expected="an inline table such as {marker = 'c7'}")
    kinds = [k for k in rule if k in RULE_KINDS]
    if len(kinds) != 1:
        raise InputError(f"names {len(kinds)} rule kinds ({', '.join(rule)})", file=file, field=where,
                         expected=f"exactly one of {', '.join(RULE_KINDS)}")
    kind = kinds[0]
    allowed = {"marker": set(), "midpoint": set(), "lateral": {"width"}, "harrington": set(),
               "acromion": set(), "extend": {"ratio"}, "mean_of": set()}[kind] | {kind, "note"}
    extra = set(rule) - allowed
    if extra:
        raise InputError(f"has unknown key(s) {', '.join(sorted(extra))}", file=file, field=where,
                         expected=f"{kind} with {', '.join(sorted(allowed - {kind})) or 'no other keys'}")
    if kind == "lateral" and rule.get("width") not in DEFAULT_WIDTHS_M:
        raise InputError(f"width is {rule.get('width')!r}", file=file, field=where,
                         expected=f"width = one of {', '.join(DEFAULT_WIDTHS_M)}")
    if kind in ("midpoint", "extend", "mean_of") and not (isinstance(rule[kind], list) and rule[kind]
                                                         and all(isinstance(v, str) for v in rule[kind])):
        raise InputError(f"{kind} is {rule[kind]!r}", file=file, field=where, expected="a list of names")
    if kind == "extend" and (len(rule["extend"]) != 2 or not isinstance(rule.get("ratio"), (int, float))):
        raise InputError("extend needs two joints and a ratio", file=file, field=where,
                         expected="{extend = ['pelvis', 'neck'], ratio = 0.4}")
    return dict(rule)


def _expand_rules(rules, side: str | None, letters) -> tuple[dict[str, Any], ...]:
    def ex(v):
        if isinstance(v, str):
            return v if side is None else _expand(v, side, letters)
        if isinstance(v, list):
            return [ex(x) for x in v]
        return v
    return tuple({k: ex(v) for k, v in r.items()} for r in rules)


def parse_marker_mapping(doc: dict, *, source: str = "") -> MarkerMapping:
    """A :class:`MarkerMapping` from a parsed TOML document (see docs/marker-sets.md for the format)."""
    validate_type(doc, dict, "marker mapping")
    file = source or None
    known = {"marker_set", "markers", "joints", "widths", "cannot_give"}
    extra = set(doc) - known
    if extra:
        raise InputError(f"unknown table(s) {', '.join(sorted(extra))}", file=file,
                         expected=f"tables {', '.join(sorted(known))}")
    head = doc.get("marker_set")
    if not isinstance(head, dict) or not isinstance(head.get("name"), str) or not head["name"].strip():
        raise InputError("no [marker_set] table with a name", file=file, field="marker_set.name",
                         expected="[marker_set] name = 'my_lab'")
    letters = head.get("sides", ["L", "R"])
    if not (isinstance(letters, list) and len(letters) == 2 and all(isinstance(x, str) for x in letters)):
        raise InputError(f"is {letters!r}", file=file, field="marker_set.sides",
                         expected="two strings, the left and right spelling of {S}, e.g. ['L', 'R']")
    letters = tuple(letters)
    markers: dict[str, tuple[str, ...]] = {}
    vocab = set(LANDMARKS)
    for key, value in (doc.get("markers") or {}).items():
        if key not in vocab and not any(key == _expand(v, s, letters) for v in vocab for s in SIDES):
            raise InputError(f"unknown landmark {key!r}", file=file, field=f"markers.{key}",
                             expected="a landmark of docs/marker-sets.md (e.g. '{side}_knee_lateral', 'c7')")
        names = _names(value, f"markers.{key}", file)
        for s in (SIDES if _sided(key) else (None,)):
            k = key if s is None else _expand(key, s, letters)
            markers[k] = tuple(_expand(n, s, letters) if s else n for n in names)
    rules_in = {k: list(v) for k, v in DEFAULT_JOINT_RULES.items()}
    for key, value in (doc.get("joints") or {}).items():
        if not isinstance(value, list) or not value:
            raise InputError(f"is {value!r}", file=file, field=f"joints.{key}",
                             expected="a list of rules, e.g. [{marker = 'c7'}] (docs/marker-sets.md)")
        rules_in[key] = [_check_rule(r, f"joints.{key}[{i}]", file) for i, r in enumerate(value)]
    joints: dict[str, tuple[dict[str, Any], ...]] = {}
    for key, rules in rules_in.items():
        for s in (SIDES if _sided(key) else (None,)):
            joints[key if s is None else _expand(key, s, letters)] = _expand_rules(rules, s, letters)
    widths = dict(DEFAULT_WIDTHS_M)
    for key, value in (doc.get("widths") or {}).items():
        short = key[:-2] if key.endswith("_m") else key
        if short not in DEFAULT_WIDTHS_M or not isinstance(value, (int, float)) or not 0 < value <= 0.3:
            raise InputError(f"{key} = {value!r}", file=file, field=f"widths.{key}",
                             expected="knee_m, ankle_m or elbow_m, a width in metres (0-0.3)")
        widths[short] = float(value)
    cannot: dict[str, str] = {}
    for key, value in (doc.get("cannot_give") or {}).items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"is {value!r}", file=file, field=f"cannot_give.{key}",
                             expected="the reason, in words")
        for s in (SIDES if _sided(key) else (None,)):
            cannot[key if s is None else _expand(key, s, letters)] = value.strip()
    detect = tuple(_expand(n, s, letters) if "{S}" in n or "{side}" in n else n
                   for n in head.get("detect", []) for s in (SIDES if ("{S}" in n or "{side}" in n) else ("left",)))
    prefixes = head.get("prefixes", [])
    if not (isinstance(prefixes, list) and all(isinstance(p, str) for p in prefixes)):
        raise InputError(f"is {prefixes!r}", file=file, field="marker_set.prefixes", expected="a list of strings")
    return MarkerMapping(name=head["name"].strip(), title=str(head.get("title", head["name"])),
                         description=str(head.get("description", "")).strip(), markers=markers, joints=joints,
                         widths_m=widths, detect=tuple(dict.fromkeys(detect)), cannot_give=cannot,
                         prefixes=tuple(prefixes), strip_subject_prefix=bool(head.get("strip_subject_prefix", True)),
                         source=source)


_CACHE: dict[str, MarkerMapping] = {}


def builtin_marker_mappings() -> dict[str, MarkerMapping]:
    """The mappings shipped with stancebench (``ground_truth/marker_maps/*.toml``), by name."""
    return {p.stem: load_marker_mapping(p) for p in sorted(MAPS_DIR.glob("*.toml"))}


def load_marker_mapping(spec) -> MarkerMapping:
    """A mapping from a TOML file path or a built-in name (``plug_in_gait``, ``addbiomechanics``, ...).

    Raises
    ------
    InputError
        The file is missing, not TOML, or not a valid mapping (the message names the field).
    """
    if isinstance(spec, MarkerMapping):
        return spec
    validate_type(spec, "path-like", "marker_map", "a mapping TOML path or a built-in mapping name")
    text = str(spec)
    path = Path(text)
    if not path.suffix and (MAPS_DIR / f"{text}.toml").is_file():
        path = MAPS_DIR / f"{text}.toml"
    key = str(path.resolve()) if path.exists() else text
    if key in _CACHE:
        return _CACHE[key]
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted(MAPS_DIR.glob("*.toml")))
        raise InputError("marker mapping not found", file=text, field="marker_map",
                         expected=f"a mapping TOML file or a built-in name ({names})")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", file=path, field="marker_map") from None
    mapping = parse_marker_mapping(doc, source=str(path))
    _CACHE[key] = mapping
    return mapping


# -- choosing a mapping -----------------------------------------------------------------------------------
def _valid_arrays(markers) -> dict[str, np.ndarray]:
    """3-D marker arrays with at least one finite sample (a marker never valid counts as absent)."""
    if isinstance(markers, TimeSeries):
        items = ((k, markers[k]) for k in markers.channels)
    else:
        validate_type(markers, dict, "markers", "TimeSeries or dict of marker name to (n, 3) array")
        items = markers.items()
    out = {}
    for k, v in items:
        a = np.asarray(v, dtype=float)
        if a.ndim == 2 and a.shape[1] == 3 and np.isfinite(a).any():
            out[k] = a
    return out


class _Lookup:
    """Marker lookup of one recording under one mapping: exact (case-insensitive) names first, then names
    with ``.``, ``_``, ``-`` and spaces ignored."""

    def __init__(self, mapping: MarkerMapping, arrays: dict[str, np.ndarray], all_names):
        self.arrays = arrays
        short = mapping.file_names(all_names)
        self.exact = {k.lower(): v for k, v in short.items()}
        self.loose: dict[str, str] = {}
        for k, v in short.items():
            self.loose.setdefault(_norm(k), v)

    def find(self, name: str) -> str | None:
        """The file's name of marker ``name`` (None if absent), valid or not."""
        return self.exact.get(name.lower()) or self.loose.get(_norm(name))


def _score(mapping: MarkerMapping, arrays, names) -> tuple[float, int, list[str]]:
    look = _Lookup(mapping, arrays, names)
    hits = [n for n in mapping.detect if (f := look.find(n)) is not None and f in arrays]
    absent = [n for n in mapping.detect if n not in hits]
    found_landmarks = sum(1 for alts in mapping.markers.values()
                          if any((f := look.find(a)) is not None and f in arrays for a in alts))
    frac = len(hits) / len(mapping.detect) if mapping.detect else 0.0
    return frac, found_landmarks, absent


#: A built-in mapping is detected when at least this fraction of its ``detect`` markers is in the file.
DETECT_MIN_FRACTION = 0.6


def detect_marker_mapping(markers, *, file=None) -> MarkerMapping:
    """The built-in mapping whose identifying markers the recording holds most completely.

    Raises
    ------
    InputError
        No built-in mapping reaches :data:`DETECT_MIN_FRACTION`; the message lists each mapping's score and
        the markers it missed, and says how to pass a mapping of one's own.
    """
    arrays = _valid_arrays(markers)
    names = list(markers.channels) if isinstance(markers, TimeSeries) else list(markers)
    scored = []
    for m in builtin_marker_mappings().values():
        frac, n_land, absent = _score(m, arrays, names)
        scored.append((frac, n_land, m, absent))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    if scored and scored[0][0] >= DETECT_MIN_FRACTION:
        return scored[0][2]
    detail = "; ".join(f"{m.name}: {frac:.0%} (missing {', '.join(a[:6])}{'...' if len(a) > 6 else ''})"
                       for frac, _, m, a in scored)
    raise InputError(f"the marker names match no built-in marker set ({detail})", file=file, field="markers",
                     expected="a marker_map TOML for this lab's marker set (docs/marker-sets.md)")


def resolve_marker_mapping(markers, mapping=None, *, file=None) -> MarkerMapping:
    """``mapping`` (a :class:`MarkerMapping`, a TOML path or a built-in name); else the one recorded in
    ``markers.meta["marker_map"]``; else the detected one (:func:`detect_marker_mapping`)."""
    if mapping is None and isinstance(markers, TimeSeries):
        mapping = markers.meta.get("marker_map")
    if mapping is None:
        return detect_marker_mapping(markers, file=file)
    return load_marker_mapping(mapping)


# -- building the joints ----------------------------------------------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def harrington_hip_centres(lasis, rasis, lpsis=None, rpsis=None, *, sacrum=None
                           ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Left and right hip joint centres (m) by the Harrington et al. (2007) regression.

    Parameters
    ----------
    lasis, rasis : (n, 3) array
        Left and right ASIS markers, metres, any right-handed lab frame.
    lpsis, rpsis : (n, 3) array, optional
        PSIS markers; or ``sacrum`` (one marker midway between them).

    Returns
    -------
    left, right : (n, 3) array
    frame : dict
        The ISB pelvis frame per sample: ``origin`` (ASIS midpoint), unit axes ``x`` (anterior), ``y``
        (superior), ``z`` (right), and ``pw_mm``, ``pd_mm`` (pelvic width and depth).

    Notes
    -----
    Harrington ME, Zavatsky AB, Lawson SEM, Yuan Z, Theologis TN (2007) Prediction of the hip joint centre in
    adults, children, and patients with cerebral palsy based on magnetic resonance imaging. J Biomech
    40(3):595-602. Equations (single-variable form, mm, :data:`HARRINGTON_2007`): x = -0.24 PD - 9.9,
    y = -0.30 PW - 10.9, z = +-(0.33 PW + 7.3), PD = ASIS midpoint to PSIS midpoint, PW = inter-ASIS distance.
    The pelvis frame is the ISB one (Wu et al. 2002, J Biomech 35:543): z from left to right ASIS, x the
    component of (ASIS midpoint - PSIS midpoint) perpendicular to z, y = z x x. The paper's leave-one-out error
    in adults was about 5 mm per axis; errors against medical imaging of about 10-15 mm are usual in other
    cohorts (e.g. Sangeux et al. 2014, Gait Posture 40:20).
    """
    lasis, rasis = np.asarray(lasis, float), np.asarray(rasis, float)
    if sacrum is not None:
        mid_psis = np.asarray(sacrum, float)
    elif lpsis is not None and rpsis is not None:
        mid_psis = 0.5 * (np.asarray(lpsis, float) + np.asarray(rpsis, float))
    else:
        raise InputError("the Harrington regression needs the PSIS pair or a sacral marker", field="pelvis",
                         expected="lpsis and rpsis, or sacrum")
    mid_asis = 0.5 * (lasis + rasis)
    z = _unit(rasis - lasis)
    x = mid_asis - mid_psis
    x = _unit(x - np.sum(x * z, axis=-1, keepdims=True) * z)
    y = np.cross(z, x)
    pw = np.linalg.norm(rasis - lasis, axis=-1, keepdims=True) * 1000.0
    pd = np.linalg.norm(mid_asis - mid_psis, axis=-1, keepdims=True) * 1000.0
    ax, bx, ay, by, az, bz = HARRINGTON_2007
    common = (ax * pd + bx) * x + (ay * pw + by) * y
    right = mid_asis + (common + (az * pw + bz) * z) / 1000.0
    left = mid_asis + (common - (az * pw + bz) * z) / 1000.0
    return left, right, {"origin": mid_asis, "x": x, "y": y, "z": z, "pw_mm": pw[..., 0], "pd_mm": pd[..., 0]}


@dataclass
class MappedJoints:
    """Joint centres of one recording under one mapping.

    Attributes
    ----------
    joints : dict of str to (n, 3) array
        Metres, the markers' frame; NaN where a marker the rule uses has a gap.
    used : dict of str to str
        Joint to the rule and markers that built it (provenance).
    missing : dict of str to str
        Joint to why it could not be built (the set cannot give it, or its markers are absent).
    landmarks : dict of str to str
        Landmark to the file's marker name that was used.
    mapping : MarkerMapping
    """

    joints: dict[str, np.ndarray]
    used: dict[str, str]
    missing: dict[str, str]
    landmarks: dict[str, str]
    mapping: MarkerMapping
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def landmark(self, name: str) -> np.ndarray | None:
        """The (n, 3) positions of a landmark's marker (``left_heel``...), or None when the file lacks it."""
        f = self.landmarks.get(name)
        return None if f is None else self.arrays[f]

    def landmark_points(self, side: str, names) -> np.ndarray | None:
        """(n, k, 3) of the ``{side}_<name>`` landmarks found (e.g. a foot's ankle, heel, toe), or None."""
        pts = [p for p in (self.landmark(f"{side}_{n}") for n in names) if p is not None]
        return np.stack(pts, axis=1) if pts else None

    def require(self, names, *, what: str, file=None) -> None:
        """Raise InputError naming each of ``names`` that is missing and why."""
        absent = [n for n in names if n not in self.joints]
        if absent:
            reasons = "; ".join(f"{n}: {self.missing.get(n, 'no rule builds it')}" for n in absent)
            raise InputError(f"{what} needs joint(s) the marker set '{self.mapping.name}' cannot give here: "
                             f"{reasons}", file=file, field="markers",
                             expected="a marker set with these landmarks, or a marker_map that maps them "
                                      "(docs/marker-sets.md)")

    def summary(self) -> dict[str, Any]:
        """JSON-ready provenance: mapping, widths, joints used and missing."""
        return {"marker_set": self.mapping.name, "title": self.mapping.title, "mapping_file": self.mapping.source,
                "widths_m": dict(self.mapping.widths_m), "joints": dict(self.used), "missing": dict(self.missing)}


def map_markers(markers, mapping=None, *, file=None, **widths_m) -> MappedJoints:
    """Joint centres of a recording's markers under a mapping (detected when not given).

    Parameters
    ----------
    markers : TimeSeries or dict of str to (n, 3) array
        Marker trajectories, metres, z-up lab frame (:func:`ground_truth.markersets.markers_z_up`). Names are
        matched after stripping prefixes, case-insensitively, with ``.``, ``_``, ``-`` and spaces ignored when
        no exact match exists. A marker with no finite sample counts as absent.
    mapping : MarkerMapping, path or str, optional
        See :func:`resolve_marker_mapping`.
    **widths_m
        ``knee``, ``ankle``, ``elbow`` joint widths (m) overriding the mapping's (e.g. measured on the
        subject, :func:`widths_from_static`).

    Returns
    -------
    MappedJoints
    """
    m = resolve_marker_mapping(markers, mapping, file=file)
    if widths_m:
        m = m.with_widths(**widths_m)
    arrays = _valid_arrays(markers)
    names = list(markers.channels) if isinstance(markers, TimeSeries) else list(markers)
    look = _Lookup(m, arrays, names)
    landmarks: dict[str, str] = {}
    absent_why: dict[str, str] = {}
    for lm, alts in m.markers.items():
        for a in alts:
            f = look.find(a)
            if f is not None and f in arrays:
                landmarks[lm] = f
                break
        else:
            present = [look.find(a) for a in alts if look.find(a) is not None]
            absent_why[lm] = (f"marker {present[0]} has no valid sample in this recording" if present else
                              f"no marker {' or '.join(alts)} in this recording")
    out = MappedJoints({}, {}, {}, landmarks, m, {f: arrays[f] for f in landmarks.values()})
    n = next(iter(arrays.values())).shape[0] if arrays else 0

    def lmk(name):
        if name in landmarks:
            return arrays[landmarks[name]], landmarks[name]
        if name not in m.markers:
            raise _Unavailable(f"the mapping names no marker for landmark {name}")
        raise _Unavailable(f"{name}: {absent_why[name]}")

    def jnt(name):
        if name not in out.joints:
            raise _Unavailable(f"needs joint {name} ({out.missing.get(name, 'not built yet')})")
        return out.joints[name]

    def ml_axis(side: str, lat_name: str) -> tuple[np.ndarray, str]:
        """Unit vector from this side towards the body midline."""
        if "left_asis" in landmarks and "right_asis" in landmarks:
            to_right = _unit(arrays[landmarks["right_asis"]] - arrays[landmarks["left_asis"]])
            return (to_right if side == "left" else -to_right), "along the pelvis's medio-lateral axis (ASIS line)"
        other = lat_name.replace(side, "right" if side == "left" else "left", 1)
        if other in landmarks:
            d = arrays[landmarks[other]] - arrays[landmarks[lat_name]]
            d = d.copy()
            d[:, 2] = 0.0
            return _unit(d), f"along the horizontal line to {landmarks[other]}"
        raise _Unavailable("no pelvis markers and no other-side marker to find the medial direction")

    for joint, rules in m.joints.items():
        if joint in m.cannot_give:
            out.missing[joint] = f"the marker set cannot give it ({m.cannot_give[joint]})"
            continue
        reasons = []
        side = next((s for s in SIDES if joint.startswith(s + "_")), None)
        for rule in rules:
            try:
                value, how = _apply_rule(rule, joint, side, lmk, jnt, ml_axis, m, landmarks)
            except _Unavailable as exc:
                reasons.append(str(exc))
                continue
            if value.shape != (n, 3):
                raise InputError(f"joint {joint} has shape {value.shape}", file=file, field="markers")
            out.joints[joint] = value
            out.used[joint] = how + (f" ({rule['note']})" if rule.get("note") else "")
            break
        else:
            out.missing[joint] = "; ".join(dict.fromkeys(reasons)) or "no rule"
    return out


def _apply_rule(rule, joint, side, lmk, jnt, ml_axis, m: MarkerMapping, landmarks) -> tuple[np.ndarray, str]:
    kind = next(k for k in rule if k in RULE_KINDS)
    if kind == "marker":
        a, f = lmk(rule["marker"])
        return a.copy(), f"marker {f}"
    if kind == "midpoint":
        got = [lmk(x) for x in rule["midpoint"]]
        return np.mean([a for a, _ in got], axis=0), f"midpoint of {', '.join(f for _, f in got)}"
    if kind == "mean_of":
        return np.mean([jnt(x) for x in rule["mean_of"]], axis=0), f"mean of joints {', '.join(rule['mean_of'])}"
    if kind == "lateral":
        a, f = lmk(rule["lateral"])
        width = m.widths_m[rule["width"]]
        d, how = ml_axis(side, rule["lateral"])
        return a + 0.5 * width * d, f"{f} moved {500 * width:.1f} mm medially (half a {width * 1000:.0f}-mm " \
                                    f"{rule['width']} width) {how}"
    if kind == "harrington":
        la, fla = lmk("left_asis")
        ra, fra = lmk("right_asis")
        try:
            lp, flp = lmk("left_psis")
            rp, frp = lmk("right_psis")
            left, right, _ = harrington_hip_centres(la, ra, lp, rp)
            pel = f"{fla}, {fra}, {flp}, {frp}"
        except _Unavailable:
            try:
                sc, fsc = lmk("sacrum")
            except _Unavailable:
                raise _Unavailable("Harrington regression: no PSIS pair and no sacral marker") from None
            left, right, _ = harrington_hip_centres(la, ra, sacrum=sc)
            pel = f"{fla}, {fra}, {fsc}"
        return (left if side == "left" else right), f"Harrington et al. 2007 regression from {pel}"
    if kind == "acromion":
        name = rule["acromion"]
        this, f = lmk(name)
        other_name = name.replace(side, "right" if side == "left" else "left", 1)
        other, _ = lmk(other_name)
        pelvis = jnt("pelvis")
        mid = 0.5 * (this + other)
        up = _unit(mid - pelvis)
        biac = np.linalg.norm(this - other, axis=1, keepdims=True)
        return this - RAB_2002 * biac * up, (f"{f} lowered {RAB_2002:.0%} of the inter-acromion distance along "
                                              f"the trunk axis (Rab et al. 2002)")
    if kind == "extend":
        a, b = (jnt(x) for x in rule["extend"])
        r = float(rule["ratio"])
        return b + r * (b - a), f"{rule['extend'][1]} + {r:g} x ({rule['extend'][1]} - {rule['extend'][0]})"
    raise _Unavailable(f"unknown rule {rule}")     # unreachable: rules are checked when read


# -- what a mapping gives besides joints ------------------------------------------------------------------
def widths_from_static(static_markers, mapping=None) -> dict[str, float]:
    """Knee, ankle and elbow widths (m, marker centre to marker centre, mean of both sides and all frames)
    from a static trial that holds the medial markers the dynamic trial lacks (e.g. ``mknee``/``mankle`` in
    AddBiomechanics static trials). Widths the static trial cannot give are left out."""
    mp = map_markers(static_markers, mapping)
    out = {}
    for joint in DEFAULT_WIDTHS_M:
        d = []
        for s in SIDES:
            lat, med = mp.landmark(f"{s}_{joint}_lateral"), mp.landmark(f"{s}_{joint}_medial")
            if lat is not None and med is not None:
                d.append(np.nanmedian(np.linalg.norm(lat - med, axis=1)))
        if d and np.all(np.isfinite(d)):
            out[joint] = float(np.mean(d))
    return out


def pelvis_heading_deg(mapped: MappedJoints) -> float:
    """Direction the subject faces, degrees from the lab's +x axis towards +y (z-up frame): the horizontal
    part of the pelvis's anterior axis (ASIS midpoint - PSIS midpoint or sacrum), else the normal of the hip
    centres' line, averaged over the recording as a circular mean (the pelvis turns with the free leg).

    Raises
    ------
    InputError
        Neither the pelvis markers nor both hip centres are available.
    """
    lm = mapped.landmark
    if lm("left_asis") is not None and lm("right_asis") is not None and (
            lm("sacrum") is not None or (lm("left_psis") is not None and lm("right_psis") is not None)):
        back = lm("sacrum") if lm("left_psis") is None or lm("right_psis") is None else \
            0.5 * (lm("left_psis") + lm("right_psis"))
        fwd = 0.5 * (lm("left_asis") + lm("right_asis")) - back
    elif "left_hip" in mapped.joints and "right_hip" in mapped.joints:
        ml = mapped.joints["left_hip"] - mapped.joints["right_hip"]
        fwd = np.cross(ml, [0.0, 0.0, 1.0])
    else:
        raise InputError("no pelvis markers and no hip centres to find the facing direction", field="markers",
                         expected="ASIS and PSIS (or sacrum) markers")
    ang = np.arctan2(fwd[:, 1], fwd[:, 0])
    ok = np.isfinite(ang)
    if not ok.any():
        raise InputError("the pelvis markers have no common valid sample", field="markers")
    return float(np.degrees(np.arctan2(np.mean(np.sin(ang[ok])), np.mean(np.cos(ang[ok])))))


def estimate_stature(mapped: MappedJoints) -> tuple[float, str]:
    """Stature (m) from a standing recording's markers, z up, floor at z = 0, with the method used.

    In order: the head-vertex marker's median height; the C7 marker's height divided by
    (1 - head length / stature) with de Leva's (1996, Table 4) mean head length (vertex-cervicale 242.9 mm at
    1741 mm stature, men; 243.7 mm at 1735 mm, women; mean ratio 0.1400); the hip centres' height divided by
    0.530 (greater-trochanter height over stature, Winter 2009, Fig. 4.1). Marker radius and posture make
    these estimates, good to about 2-3 cm.
    """
    v = mapped.landmark("vertex")
    if v is not None:
        return float(np.nanmedian(v[:, 2])), f"median height of the head-vertex marker {mapped.landmarks['vertex']}"
    c7 = mapped.landmark("c7")
    if c7 is not None:
        ratio = 0.5 * (242.9 / 1741.0 + 243.7 / 1735.0)
        return (float(np.nanmedian(c7[:, 2]) / (1.0 - ratio)),
                f"C7 marker height / (1 - {ratio:.4f}) (de Leva 1996 head length over stature)")
    if "left_hip" in mapped.joints and "right_hip" in mapped.joints:
        z = np.nanmedian(0.5 * (mapped.joints["left_hip"][:, 2] + mapped.joints["right_hip"][:, 2]))
        return float(z / 0.530), "hip centres' height / 0.530 (Winter 2009 body-segment proportions)"
    raise InputError("no vertex, C7 or hip centres to estimate stature from", field="markers")
