"""Validation of a parsed manifest, one section at a time (study, protocols, settings, subjects, trials,
candidates); every problem of every section is reported together."""
from __future__ import annotations

import os
from pathlib import Path

from candidates.backbones import get_candidate
from candidates.backbones.base import check_frame_step
from ground_truth.kernel import InputError, ManifestError, StancebenchError, read_text_file
from ground_truth.marker_mapping import builtin_marker_mappings
from protocols import KPIS, get_protocol, list_protocols, load_protocol, register_protocol

from .annotations import SETTINGS_KEYS as ANNOTATION_SETTINGS, TRIAL_KEYS as ANNOTATION_KEYS, annotation_settings
from .annotations import trial_annotations
from .fields import FOLDER_MODELS, Problems, input_file, number, paths, per_view, string
from .model import (ALIGNMENT_SIGNALS, CONTROLS, DATA_ROOT_ENV, STANCE_LEGS, TRIAL_KINDS, VIEW_KEYWORDS,
                    CandidateSpec, Settings, StudyManifest, Subject, Trial)

def known_protocols() -> tuple[str, ...]:
    """Names of the protocols known in this process: the built-in ones, then those registered."""
    return tuple(list_protocols())


def protocol_conditions(name: str) -> tuple[str, ...]:
    """Condition names of a known protocol (InputError for an unknown one: check :func:`known_protocols`)."""
    return tuple(get_protocol(name).condition_names)


def _own_protocols(problems: Problems, doc: dict, root: Path) -> dict[str, dict]:
    """Load and register the study's own protocol files (``protocols = [...]``, layout of docs/protocols.md);
    relative paths resolve against ``root`` (the manifest's folder)."""
    items = doc.get("protocols", [])
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        problems.add("protocols", f"is {items!r}", "a list of protocol TOML files, e.g. [\"lab_protocol.toml\"]")
        return {}
    out = {}
    for i, item in enumerate(items):
        p = Path(item) if Path(item).is_absolute() else root / item
        try:
            # refused here when it is no readable UTF-8 file (a FIFO would block the protocol reader)
            read_text_file(p, what="protocol TOML file", error=ManifestError)
        except ManifestError as exc:
            problems.add(f"protocols[{i}]", f"{exc.reason}: {p}", exc.expected)
            continue
        try:
            proto = register_protocol(load_protocol(p))
        except StancebenchError as exc:
            problems.add(f"protocols[{i}]", str(exc), "a protocol TOML file (docs/protocols.md) with a new name")
            continue
        out[proto.name] = proto.to_dict()
    return out


def _protocol_kpis(names) -> set[str] | None:
    """Every KPI the named protocols report, or None when a protocol is unknown (reported elsewhere)."""
    if not set(names) <= set(list_protocols()):
        return None
    return {k for n in names for k in get_protocol(n).kpi_names}


def _condition_duration(name: str, condition: str) -> float:
    """The duration (s) of one condition of a known protocol (InputError for an unknown protocol or condition)."""
    return float(get_protocol(name).condition(condition).duration_s)


def resolve_data_root(manifest_path: Path | None, declared: str | None, data_root: str | os.PathLike | None
                      ) -> Path:
    """The folder relative paths resolve against (CLI > environment > manifest > manifest folder)."""
    if data_root is not None:
        return Path(data_root).expanduser().resolve()
    env = os.environ.get(DATA_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    base = manifest_path.parent if manifest_path is not None else Path.cwd()
    if declared:
        return (base / Path(declared).expanduser()).resolve()
    return base.resolve()


def parse_manifest(doc: dict, *, path: Path | None = None, data_root=None, check_candidates: bool = True
                   ) -> StudyManifest:
    """Validate a manifest already parsed from TOML (see :func:`load_manifest`)."""
    problems = Problems(path)
    known_top = {"study", "settings", "subjects", "trials", "candidates", "licences", "protocols"}
    for key in doc:
        if key not in known_top:
            problems.add(key, "unknown section", f"one of {', '.join(sorted(known_top))}")
    study = doc.get("study", {})
    if not isinstance(study, dict):
        problems.add("study", "is not a table", "a [study] table")
        study = {}
    root = resolve_data_root(path, study.get("data_root"), data_root)
    if not root.is_dir():
        problems.add("study.data_root", f"data root {root} is not a folder",
                     f"an existing folder (set --data-root or {DATA_ROOT_ENV})")
    name = study.get("name") or (path.stem if path else "study")
    # protocol files belong to the study definition: relative to the manifest's folder, not the data root
    protocol_defs = _own_protocols(problems, doc, path.parent if path is not None else root)

    settings = _settings(problems, doc)
    ann_settings = annotation_settings(problems, doc.get("settings"), root)
    subjects, seen_subjects = _subjects(problems, doc)
    trials = _trials(problems, doc, root, seen_subjects, ann_settings)
    candidates = _candidates(problems, doc, root, trials, check_candidates)
    licences = doc.get("licences", [])
    if not isinstance(licences, list):
        problems.add("licences", "is not a list of tables", "[[licences]] with data, licence, source")
        licences = []
    if settings.kpis and trials:
        reported = _protocol_kpis({t.protocol for t in trials})
        if reported is not None:
            none = [k for k in settings.kpis if k not in reported]
            if none:
                problems.add("settings.kpis", f"KPI(s) {', '.join(map(repr, none))} are reported by none of the "
                             f"study's protocols ({', '.join(sorted({t.protocol for t in trials}))})",
                             f"KPIs of those protocols: {', '.join(sorted(reported))}")
    if settings.cache_dir is not None and not settings.cache_dir.is_absolute():
        settings.cache_dir = (root / settings.cache_dir).resolve()
    if settings.cache_dir is not None and settings.cache_dir.exists() and not settings.cache_dir.is_dir():
        problems.add("settings.cache_dir", f"{settings.cache_dir} exists and is not a folder",
                     "a folder for the inference cache (or a path that can be created)")
    problems.raise_if_any()
    return StudyManifest(path, str(name), root, subjects, trials, candidates, settings,
                         str(study.get("description", "")), list(licences), doc, protocol_defs, ann_settings)


def _settings(problems: Problems, doc: dict) -> Settings:
    """The [settings] table: every key known, every value of the right type and in range."""
    st = doc.get("settings", {})
    settings = Settings()
    if not isinstance(st, dict):
        problems.add("settings", "is not a table", "a [settings] table")
        st = {}
    known_settings = set(Settings.__dataclass_fields__) | set(ANNOTATION_SETTINGS)
    for key in st:
        if key not in known_settings:
            problems.add(f"settings.{key}", "unknown setting", f"one of {', '.join(sorted(known_settings))}")
    if "alignment_signal" in st:
        if st["alignment_signal"] not in ALIGNMENT_SIGNALS:
            problems.add("settings.alignment_signal", f"is {st['alignment_signal']!r}",
                         f"one of {', '.join(ALIGNMENT_SIGNALS)}")
        else:
            settings.alignment_signal = st["alignment_signal"]
    if "kpis" in st:
        if not isinstance(st["kpis"], list) or not all(isinstance(k, str) for k in st["kpis"]):
            problems.add("settings.kpis", f"is {st['kpis']!r}", "a list of KPI names")
        else:
            settings.kpis = list(st["kpis"])
            unknown = [k for k in settings.kpis if k not in KPIS]
            if unknown:
                problems.add("settings.kpis", f"unknown KPI(s) {', '.join(map(repr, unknown))}",
                             f"names from the KPI registry: {', '.join(KPIS)}")
    for key, lo, hi in (("seed", 0, 2**32 - 1), ("workers", 0, 1024), ("bootstrap", 0, 100000)):
        if key in st:
            v = st[key]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                problems.add(f"settings.{key}", f"is {v!r}", f"an integer {lo}..{hi}")
            else:
                setattr(settings, key, v)
    for key, lo, hi in (("max_lag_s", 0.0, 600.0), ("confidence", 0.5, 0.999), ("loa_multiplier", 1.0, 4.0),
                        ("sway_lowpass_hz", 0.0, 1000.0), ("sway_rate_hz", 0.0, 10000.0),
                        ("precision_icc_width", 0.01, 2.0), ("precision_loa_half_width_sd", 0.01, 10.0)):
        v = number(problems, st, key, "settings", required=False, lo=lo, hi=hi)
        if v is not None:
            setattr(settings, key, v)
    if "estimate_drift" in st:
        if not isinstance(st["estimate_drift"], bool):
            problems.add("settings.estimate_drift", f"is {st['estimate_drift']!r}", "true or false")
        else:
            settings.estimate_drift = st["estimate_drift"]
    if "cache_dir" in st:
        settings.cache_dir = Path(str(st["cache_dir"])).expanduser()

    return settings


def _records(problems: Problems, doc: dict, section: str):
    """``(field prefix, table)`` of each ``[[section]]`` table (a problem when there are none, or for an entry
    that is not a table)."""
    raw = doc.get(section, [])
    if not isinstance(raw, list) or not raw:
        problems.add(section, f"no {section}", f"one or more [[{section}]] tables")
        return
    for i, table in enumerate(raw):
        if isinstance(table, dict):
            yield f"{section}[{i}]", table
        else:
            problems.add(f"{section}[{i}]", "is not a table", f"a [[{section}]] table")


def _record_id(problems: Problems, table: dict, where: str, seen: set[str], what: str) -> tuple[str | None, str]:
    """A record's ``id`` (unique among ``seen``, which it joins) and the field prefix that names it."""
    rid = string(problems, table, "id", where, required=True)
    if rid is not None:
        where = f"{where} (id {rid!r})"
        if rid in seen:
            problems.add(f"{where}.id", f"duplicate {what} id {rid!r}", f"unique {what} ids")
        seen.add(rid)
    return rid, where


def _subjects(problems: Problems, doc: dict) -> tuple[list[Subject], set[str]]:
    """The [[subjects]] tables; also every id declared (valid or not), for the trials' references."""
    subjects: list[Subject] = []
    seen_subjects: set[str] = set()
    for where, s in _records(problems, doc, "subjects"):
        sid, where = _record_id(problems, s, where, seen_subjects, "subject")
        h = number(problems, s, "height_m", where, required=True, lo=0.5, hi=2.6, unit="m")
        m = number(problems, s, "mass_kg", where, required=True, lo=10, hi=300, unit="kg")
        leg = number(problems, s, "leg_length_m", where, required=False, lo=0.3, hi=1.4, unit="m")
        sex = s.get("sex")
        if sex is not None and sex not in ("F", "M", "female", "male", "other", "unknown"):
            problems.add(f"{where}.sex", f"is {sex!r}", "F, M, female, male, other or unknown")
        if sid is not None and h is not None and m is not None:
            subjects.append(Subject(sid, h, m, leg, sex, str(s.get("notes", ""))))
        for key in s:
            if key not in ("id", "height_m", "mass_kg", "leg_length_m", "sex", "notes"):
                problems.add(f"{where}.{key}", "unknown subject field",
                             "one of id, height_m, mass_kg, leg_length_m, sex, notes")

    return subjects, seen_subjects


def _trials(problems: Problems, doc: dict, root: Path, seen_subjects: set[str], ann_settings) -> list[Trial]:
    """The [[trials]] tables: known subject, protocol and condition; files that exist under ``root``."""
    protocols_known = known_protocols()
    trials: list[Trial] = []
    seen_trials: set[str] = set()
    for where, t in _records(problems, doc, "trials"):
        tid, where = _record_id(problems, t, where, seen_trials, "trial")
        subj = string(problems, t, "subject", where, required=True)
        if subj is not None and subj not in seen_subjects:
            problems.add(f"{where}.subject", f"unknown subject {subj!r}",
                         f"one of the [[subjects]] ids: {', '.join(sorted(seen_subjects)) or 'none declared'}")
        proto = string(problems, t, "protocol", where, required=True)
        if proto is not None and proto not in protocols_known:
            problems.add(f"{where}.protocol", f"unknown protocol {proto!r}", f"one of {', '.join(protocols_known)}")
        cond = string(problems, t, "condition", where, required=True)
        allowed_conds = protocol_conditions(proto) if proto in protocols_known else None
        if cond is not None and allowed_conds and cond not in allowed_conds:
            problems.add(f"{where}.condition", f"unknown condition {cond!r} of protocol {proto!r}",
                         f"one of {', '.join(allowed_conds)}")
        leg = string(problems, t, "stance_leg", where, required=False, default="left")
        if leg not in STANCE_LEGS:
            problems.add(f"{where}.stance_leg", f"is {leg!r}", "left or right")
        kind = t.get("kind", "paired")
        if kind not in TRIAL_KINDS:
            problems.add(f"{where}.kind", f"is {kind!r}", f"one of {', '.join(TRIAL_KINDS)}")
            kind = "paired"
        gold = paths(problems, t, "gold_standard", where, root, required=kind != "candidate-only",
                     what="gold-standard file")
        video = paths(problems, t, "video", where, root, required=kind != "reference-only", what="video file")
        if kind == "candidate-only" and t.get("gold_standard"):
            problems.add(f"{where}.gold_standard", "a candidate-only trial lists a gold standard",
                         "kind = 'paired' for trials with both sides")
        if kind == "reference-only" and t.get("video"):
            problems.add(f"{where}.video", "a reference-only trial lists a video",
                         "kind = 'paired' for trials with both sides")
        cams = paths(problems, t, "camera", where, root, required=False, what="camera calibration file")
        n_views = max(len(video), 1)
        truth = paths(problems, t, "truth", where, root, required=False, what="truth file")
        if truth and len(truth) not in (1, n_views):
            problems.add(f"{where}.truth", f"lists {len(truth)} files for {n_views} video(s)",
                         "one truth file for every video, in the order of 'video'")
        truth = (truth * n_views if len(truth) == 1 else truth) if len(truth) in (1, n_views) else [None] * n_views
        names = per_view(problems, t, "camera_name", where, n_views,
                         lambda pr, tb, k, w: string(pr, tb, k, w, required=True))
        off = per_view(problems, t, "known_clock_offset_s", where, n_views,
                       lambda pr, tb, k, w: number(pr, tb, k, w, required=True, lo=-3600, hi=3600, unit="s"))
        drift = per_view(problems, t, "known_drift_ppm", where, n_views,
                         lambda pr, tb, k, w: number(pr, tb, k, w, required=True, lo=-1e5, hi=1e5, unit="ppm"))
        dur = number(problems, t, "duration_s", where, required=False, lo=0.5, hi=3600, unit="s")
        if dur is not None and proto in protocols_known and cond in (allowed_conds or ()):
            cap = _condition_duration(proto, cond)
            if dur > cap:
                problems.add(f"{where}.duration_s", f"is {dur:g} s, longer than the {cap:g} s of {proto!r} "
                             f"condition {cond!r}", f"at most {cap:g} s (the trial's maximum, which censors "
                             f"time-to-failure; a longer recording is cut there)")
        marker_map = _marker_map(problems, t, where, root)
        ann = trial_annotations(problems, t, where, root, names, ann_settings)
        known_trial = {"id", "subject", "protocol", "condition", "stance_leg", "kind", "gold_standard", "video",
                       "camera", "camera_name", "known_clock_offset_s", "known_drift_ppm", "truth", "duration_s",
                       "notes", "marker_map", *ANNOTATION_KEYS}
        for key in t:
            if key not in known_trial:
                problems.add(f"{where}.{key}", "unknown trial field", f"one of {', '.join(sorted(known_trial))}")
        if tid is not None and subj is not None and proto is not None:
            trials.append(Trial(tid, subj, proto, cond or "default", leg or "left", kind, gold, video,
                                cams[0] if cams else None, names, off, drift, truth, dur,
                                str(t.get("notes", "")), marker_map, ann))

    return trials


def _marker_map(problems: Problems, t: dict, where: str, root: Path) -> str | None:
    """A trial's ``marker_map``: a built-in mapping's name, or a mapping TOML resolved against the data root."""
    raw = t.get("marker_map")
    if raw is None:
        return None
    builtin = sorted(builtin_marker_mappings())
    if isinstance(raw, str) and raw in builtin:
        return raw
    if isinstance(raw, str) and raw.endswith(".toml"):
        found = paths(problems, t, "marker_map", where, root, required=True, what="marker mapping TOML")
        return str(found[0]) if found else None
    problems.add(f"{where}.marker_map", f"is {raw!r}",
                 f"a mapping .toml (docs/marker-sets.md) or a built-in mapping: {', '.join(builtin)}")
    return None


def _candidates(problems: Problems, doc: dict, root: Path, trials: list[Trial], check_candidates: bool
                ) -> list[CandidateSpec]:
    """The [[candidates]] tables (a bare string is a name); with ``check_candidates``, each must run here."""
    candidates: list[CandidateSpec] = []
    raw_cands = doc.get("candidates", [])
    if not isinstance(raw_cands, list) or not raw_cands:
        if any(t.kind != "reference-only" for t in trials):
            problems.add("candidates", "no candidates", "one or more [[candidates]] tables with a name or manifest")
        raw_cands = []
    seen_cands: set[str] = set()
    for i, c in enumerate(raw_cands):
        where = f"candidates[{i}]"
        if isinstance(c, str):
            c = {"name": c}
        if not isinstance(c, dict):
            problems.add(where, "is not a table", "a [[candidates]] table")
            continue
        mpaths = (paths(problems, c, "manifest", where, root, required=False,
                        what="candidate manifest or model file", folders=FOLDER_MODELS) if "manifest" in c else [])
        # a manifest that is not usable is listed above; its name still names the candidate
        named_by = c["manifest"] if isinstance(c.get("manifest"), str) and c["manifest"] else None
        cname = c.get("name") or (mpaths[0].stem if mpaths else Path(named_by).stem if named_by else None)
        if not cname:
            problems.add(where, "has neither a name nor a manifest", "name = 'mediapipe-full' or manifest = 'x.toml'")
            continue
        if cname in seen_cands:
            problems.add(f"{where}.name", f"duplicate candidate {cname!r}", "unique candidate names")
        seen_cands.add(cname)
        base = c.get("baseline", False)
        if not isinstance(base, bool):
            problems.add(f"{where}.baseline", f"is {base!r}", "true or false")
            base = False
        params = c.get("params", {})
        if not isinstance(params, dict):
            problems.add(f"{where}.params", f"is {params!r}", "a table of backbone parameters")
            params = {}
        backbone = c.get("backbone")
        if backbone is not None and (not isinstance(backbone, str) or not backbone):
            problems.add(f"{where}.backbone", f"is {backbone!r}", "a backbone name such as 'blazepose-tflite'")
            backbone = None
        # String parameters that name files (a landmark model, a label map) resolve against the data root.
        for key, value in list(params.items()):
            if isinstance(value, str) and (key.endswith(("_model", "_path", "_file")) or value.endswith(
                    (".tflite", ".toml", ".mlpackage", ".mlmodel", ".json"))):
                p = Path(value).expanduser()
                p = p if p.is_absolute() else root / p
                input_file(problems, p, f"{where}.params.{key}", root, what="file", folders=FOLDER_MODELS)
                params[key] = str(p.resolve())
        view = c.get("view", "first")
        if not isinstance(view, str) or not view.strip():
            problems.add(f"{where}.view", f"is {view!r}",
                         "a camera name, 'first' (one camera: the first video) or 'triangulated' (every video)")
            view = "first"
        view = view.strip()
        named = sorted({n for t in trials for n in t.camera_name if n})
        if view not in VIEW_KEYWORDS and view not in named:
            problems.add(f"{where}.view", f"is {view!r}, which no trial's camera_name lists",
                         f"'first', 'triangulated' or a camera name ({', '.join(named) or 'none declared'})")
        control = c.get("control")
        if control is not None and control not in CONTROLS:
            problems.add(f"{where}.control", f"is {control!r}", "'positive' or 'negative' (or no control field)")
            control = None
        if control is not None and base:
            problems.add(f"{where}.control", "a control candidate is the baseline",
                         "a real model as the baseline (controls check the harness, not the product)")
        only = _candidate_trials(problems, c, where, trials)
        step = c.get("frame_step", 1)
        try:
            step = check_frame_step(step)
        except InputError as exc:      # the check Candidate.run makes, reported with the manifest's other problems
            problems.add(f"{where}.frame_step", f"is {step!r}", exc.expected)
            step = 1
        fields_known = ("name", "manifest", "backbone", "baseline", "params", "view", "control", "trials",
                        "frame_step")
        for key in c:
            if key not in fields_known:
                problems.add(f"{where}.{key}", "unknown candidate field", f"one of {', '.join(fields_known)}")
        spec = CandidateSpec(cname, mpaths[0] if mpaths else None, backbone, base, dict(params), view, control, only,
                             step)
        if check_candidates and (mpaths or "manifest" not in c):
            reason = candidate_unavailable_reason(spec)
            if reason:
                problems.add(f"{where}", f"candidate {cname!r} cannot run here: {reason}",
                             "a candidate available on this machine (see 'stancebench pose --help')")
        candidates.append(spec)
    if sum(c.baseline for c in candidates) > 1:
        problems.add("candidates", "more than one candidate has baseline = true", "at most one baseline")

    return candidates


def _candidate_trials(problems: Problems, c: dict, where: str, trials: list[Trial]) -> list[str] | None:
    """A candidate's ``trials`` (the ids it analyses), each a trial of the manifest with a video; None: every trial."""
    if "trials" not in c:
        return None
    raw = c["trials"]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) and t for t in raw):
        problems.add(f"{where}.trials", f"is {raw!r}", "a non-empty list of trial ids (leave it out for every trial)")
        return None
    by_id = {t.id: t for t in trials}
    for tid in raw:
        if tid not in by_id:
            problems.add(f"{where}.trials", f"names {tid!r}, which is no trial of this manifest",
                         "ids of [[trials]] tables")
        elif by_id[tid].kind == "reference-only":
            problems.add(f"{where}.trials", f"names {tid!r}, a reference-only trial (no video to analyse)",
                         "ids of trials with a video")
    if len(set(raw)) != len(raw):
        problems.add(f"{where}.trials", "names a trial twice", "each trial id once")
    return list(dict.fromkeys(raw))


def candidate_unavailable_reason(spec: CandidateSpec) -> str | None:
    """Why a candidate cannot run on this machine, or None when it can.

    The reason is the error building the backbone (unknown name, model not shipped or unreadable, runtime not
    installed) or, once built, the backbone's own :meth:`candidates.backbones.base.Candidate.unavailable_reason`.
    """
    target = spec.manifest or spec.backbone or spec.name
    try:
        cand = get_candidate(str(target), **spec.params)
    except (StancebenchError, OSError, ImportError) as exc:
        # get_candidate's named errors (InputError, ModelError, NotAvailableError, ManifestError), a missing
        # model file (FileNotFoundError) and a runtime package that is not installed (e.g. mediapipe)
        return str(exc)
    return cand.unavailable_reason()
