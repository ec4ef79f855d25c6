"""The walk of a Labelbox file's rows, one method per layout (v1 JSON export, v2 NDJSON export, NDJSON import
payload), into items, points and tags: points grouped into persons by their names (``person_pattern``), their
visibility from the classifications on them, other objects counted, classifications flattened into tags. The
rules are stated in the docstring of :mod:`candidates.annotations.labelbox`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ground_truth.kernel import InputError, ReaderError

from .labelbox_json import _frame_number, _keyframe_lookup, _local_part, _name, _row_key
from .rows import number, optional_int

#: Default grouping of point names into persons (matched case-insensitively against the whole name).
DEFAULT_PERSON_PATTERN = r"(?:person[ _\-]?(?P<person>\d+)?[ _\-]+)?(?P<keypoint>.+)"
#: The person of a point whose name names none (one person per image).
SINGLE_PERSON = "1"

_OCCLUDED_NAMES = {"occluded", "occlusion", "is_occluded", "hidden"}
_VISIBILITY_NAMES = {"visibility", "visible", "is_visible"}
_TRUE = {"true", "yes", "y", "1", "occluded", "hidden"}
_NOT_VISIBLE = {"occluded", "not visible", "not_visible", "invisible", "hidden", "false", "no", "n", "0"}
_OTHER_KINDS = (("bbox", "bbox"), ("bounding_box", "bbox"), ("polygon", "polygon"), ("line", "line"),
                ("polyline", "line"), ("mask", "segmentation"), ("instanceURI", "segmentation"),
                ("segmentation", "segmentation"), ("location", "entity"))


class _Reader:
    """Collects the items, points and tags of one file."""

    def __init__(self, path: Path, annotator: str | None, person_pattern: str | None):
        self.path = path
        self.fallback = annotator if annotator is not None else path.stem
        pattern = DEFAULT_PERSON_PATTERN if person_pattern is None else person_pattern
        try:
            self.pattern = re.compile(pattern, re.IGNORECASE if person_pattern is None else 0)
        except re.error as exc:
            raise InputError(f"{pattern!r} is not a regular expression ({exc})", field="person_pattern",
                             expected="a regular expression with named groups 'keypoint' (and 'person')") from None
        if "keypoint" not in self.pattern.groupindex:
            raise InputError(f"{pattern!r} has no group named 'keypoint'", field="person_pattern",
                             expected="a regular expression with named groups 'keypoint' (and 'person')")
        self.items: dict[tuple[str, int | None], dict] = {}
        self.points: list[dict] = []
        self.point_where: list[str] = []
        self.tags: list[dict] = []
        self.counts: dict[str, int] = {}
        self.other_kinds: dict[str, int] = {}
        self.unmatched: set[str] = set()
        self.vis_unknown: set[str] = set()
        self.labels_of: dict[tuple[str, str], list[str]] = {}
        self.emails = set()

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    # ---------------------------------------------------------------- who, where
    def annotator(self, created_by: Any, row_key: str, label_id: str) -> str:
        who = _local_part(created_by)
        if who is not None:
            self.emails.add(who)
        else:
            who = self.fallback
        labels = self.labels_of.setdefault((who, row_key), [])
        if label_id not in labels:
            labels.append(label_id)
        n = labels.index(label_id)
        if n:
            self.count("second_label")
            return f"{who}#{n + 1}"
        return who

    def item(self, row_key: str, frame: int | None, width, height, where: str) -> tuple[str, int | None]:
        key = (row_key, frame)
        if key not in self.items:
            self.items[key] = {"row_key": row_key, "frame": frame,
                               "width": optional_int(width, self.path, f"{where}.width"),
                               "height": optional_int(height, self.path, f"{where}.height")}
        return key

    # ---------------------------------------------------------------- classifications
    def flatten(self, classes: Any, where: str, prefix: str = "") -> list[tuple[str, str]]:
        """(name, value) of a classification list, nested lists and sub-classifications included."""
        if classes is None:
            return []
        if not isinstance(classes, list):
            raise ReaderError(f"{where} is a {type(classes).__name__}", file=self.path, field=where,
                              expected="a list of classifications")
        out: list[tuple[str, str]] = []
        for i, c in enumerate(classes):
            w = f"{where}[{i}]"
            if isinstance(c, list):   # a list of lists: a quirk of the v1 export of nested classifications
                out.extend(self.flatten(c, w, prefix))
                continue
            if not isinstance(c, dict):
                raise ReaderError(f"{w} is a {type(c).__name__}", file=self.path, field=w,
                                  expected="a classification object")
            cname = prefix + (_name(c) or str(c.get("schemaId") or c.get("feature_schema_id") or f"class{i}"))
            answers: list[Any] = []
            for key in ("answer", "answers", "radio_answer", "checklist_answers", "text_answer"):
                a = c.get(key)
                if a is None:
                    continue
                answers.extend(a if isinstance(a, list) else [a])
            values = []
            nested: list[tuple[Any, str]] = [(c.get("classifications"), f"{w}.classifications")]
            for k, a in enumerate(answers):
                if isinstance(a, (str, int, float)) and not isinstance(a, bool):
                    values.append(str(a))
                elif isinstance(a, dict):
                    v = _name(a) or a.get("content")
                    if v is not None:
                        values.append(str(v))
                    nested.append((a.get("classifications"), f"{w}.answer[{k}].classifications"))
            if values:
                out.append((cname, "|".join(sorted(values)) if len(values) > 1 else values[0]))
            for sub, sw in nested:
                out.extend(self.flatten(sub, sw, cname + "/"))
        return out

    def add_tags(self, pairs, who: str, item: tuple, person: str, prefix: str = "") -> None:
        for name, value in pairs:
            self.tags.append({"annotator": who, "key": item, "person": person, "name": prefix + name,
                              "value": value})

    def visibility(self, pairs: list[tuple[str, str]]) -> int:
        vis = 2
        for name, value in pairs:
            last, val = name.rsplit("/", 1)[-1].strip().lower(), value.strip().lower()
            if last in _OCCLUDED_NAMES:
                if val in _TRUE:
                    vis = 1
                elif val not in {"false", "no", "n", "0", "visible", "not occluded", "not_occluded"}:
                    self.vis_unknown.add(f"{name}={value}")
            elif last in _VISIBILITY_NAMES:
                if val in _NOT_VISIBLE:
                    vis = 1
                elif val not in {"visible", "true", "yes", "y", "2"}:
                    self.vis_unknown.add(f"{name}={value}")
        return vis

    # ---------------------------------------------------------------- objects
    def obj(self, o: Any, where: str, who: str, item: tuple, keyframe: bool = True) -> None:
        if not isinstance(o, dict):
            raise ReaderError(f"{where} is a {type(o).__name__}", file=self.path, field=where,
                              expected="an annotation object")
        name = _name(o)
        pairs = self.flatten(o.get("classifications"), f"{where}.classifications")
        if "point" not in o:
            kind = next((k for key, k in _OTHER_KINDS if key in o), None) or str(o.get("annotation_kind") or
                                                                                 "other")
            self.other_kinds[kind] = self.other_kinds.get(kind, 0) + 1
            fid = str(o.get("featureId") or o.get("feature_id") or o.get("uuid") or where)
            self.add_tags(pairs, who, item, fid, prefix=(name + "/") if name else "")
            return
        if not name:
            name = str(o.get("schemaId") or o.get("featureSchemaId") or o.get("feature_schema_id") or "")
            if not name:
                raise ReaderError(f"{where}: a point with no title, value, name or schemaId", file=self.path,
                                  field=where, expected="a named point")
            self.count("schema_named")
        pt = o["point"]
        if not isinstance(pt, dict):
            raise ReaderError(f"{where}.point is {pt!r}", file=self.path, field=f"{where}.point",
                              expected='{"x": ..., "y": ...}')
        for axis in ("x", "y"):
            if axis not in pt:
                raise ReaderError(f"{where}.point has no {axis}", file=self.path, field=f"{where}.point.{axis}",
                                  expected="pixel coordinates x and y")
        x = number(pt["x"], self.path, f"{where}.point.x")
        y = number(pt["y"], self.path, f"{where}.point.y")
        m = self.pattern.fullmatch(name)
        if m is None or not m.group("keypoint"):
            self.unmatched.add(name)
            person, keypoint = SINGLE_PERSON, name
        else:
            person = m.groupdict().get("person") or SINGLE_PERSON
            keypoint = m.group("keypoint")
        vis = self.visibility(pairs)
        self.points.append({"annotator": who, "key": item, "person": person, "source_keypoint": keypoint,
                            "x": x, "y": y, "visibility": vis, "outside": False, "keyframe": bool(keyframe)})
        self.point_where.append(where)
        self.add_tags(pairs, who, item, person, prefix=keypoint + "/")

    def objects(self, objs: Any, where: str, who: str, item: tuple, keyframes=None) -> None:
        if objs is None:
            return
        if isinstance(objs, dict):    # v2 video frames key their objects by feature id
            entries = [(f"{where}.{fid}", fid, o) for fid, o in objs.items()]
        elif isinstance(objs, list):
            entries = [(f"{where}[{k}]", None, o) for k, o in enumerate(objs)]
        else:
            raise ReaderError(f"{where} is a {type(objs).__name__}", file=self.path, field=where,
                              expected="a list of objects")
        for w, fid, o in entries:
            if keyframes is not None:
                kf = keyframes(fid if fid is not None else (o.get("feature_id") if isinstance(o, dict) else None))
            else:
                kf = o.get("keyframe", True) if isinstance(o, dict) else True
            self.obj(o, w, who, item, keyframe=bool(kf))

    # ---------------------------------------------------------------- layouts
    def v1(self, row: dict, where: str) -> None:
        row_key = _row_key(row.get("External ID"), row.get("DataRow ID"), row.get("ID"))
        if row_key is None:
            raise ReaderError(f"row {where} has no External ID, DataRow ID or ID", file=self.path,
                              field=f"{where}.DataRow ID", expected="the data row's id")
        if row.get("Skipped") is True:
            self.count("skipped")
            return
        who = self.annotator(row.get("Created By"), row_key, str(row.get("ID", where)))
        media = row.get("Media Attributes") if isinstance(row.get("Media Attributes"), dict) else {}
        label = row.get("Label")
        w = f"{where}.Label"
        if isinstance(label, list):   # a video: one entry per frame
            for k, fr in enumerate(label):
                fw = f"{w}[{k}]"
                if not isinstance(fr, dict):
                    raise ReaderError(f"{fw} is a {type(fr).__name__}", file=self.path, field=fw,
                                      expected="a frame object with frameNumber")
                frame = _frame_number(fr.get("frameNumber"), self.path, f"{fw}.frameNumber")
                item = self.item(row_key, frame, media.get("width"), media.get("height"), where)
                self.objects(fr.get("objects"), f"{fw}.objects", who, item)
                self.add_tags(self.flatten(fr.get("classifications"), f"{fw}.classifications"), who, item, "")
            return
        if not isinstance(label, dict):
            raise ReaderError(f"{w} is {type(label).__name__ if label is not None else 'missing'}", file=self.path,
                              field=w, expected="a Label object (image) or a list of frames (video)")
        if isinstance(label.get("frames"), str):
            self.count("frames_url")
            return
        if not label:
            self.count("empty_label")
        item = self.item(row_key, None, media.get("width"), media.get("height"), where)
        self.items[item]["name"] = row.get("External ID") if isinstance(row.get("External ID"), str) else ""
        self.objects(label.get("objects"), f"{w}.objects", who, item)
        self.add_tags(self.flatten(label.get("classifications"), f"{w}.classifications"), who, item, "")

    def v2(self, row: dict, where: str) -> None:
        dr = row["data_row"]
        if not isinstance(dr, dict):
            raise ReaderError(f"{where}.data_row is a {type(dr).__name__}", file=self.path, field=f"{where}.data_row",
                              expected="an object with the data row's id")
        row_key = _row_key(dr.get("external_id"), dr.get("global_key"), dr.get("id"))
        if row_key is None:
            raise ReaderError(f"{where}.data_row has no external_id, global_key or id", file=self.path,
                              field=f"{where}.data_row.id", expected="the data row's id")
        media = row.get("media_attributes") if isinstance(row.get("media_attributes"), dict) else {}
        projects = row.get("projects", {})
        if not isinstance(projects, dict):
            raise ReaderError(f"{where}.projects is a {type(projects).__name__}", file=self.path,
                              field=f"{where}.projects", expected="an object keyed by project id")
        name = dr.get("external_id") or dr.get("global_key") or ""
        for pid, project in projects.items():
            labels = project.get("labels", []) if isinstance(project, dict) else None
            if not isinstance(labels, list):
                raise ReaderError(f"{where}.projects.{pid}.labels is not a list", file=self.path,
                                  field=f"{where}.projects.{pid}.labels", expected="a list of labels")
            for n, label in enumerate(labels):
                lw = f"{where}.projects.{pid}.labels[{n}]"
                if not isinstance(label, dict):
                    raise ReaderError(f"{lw} is a {type(label).__name__}", file=self.path, field=lw,
                                      expected="a label object")
                details = label.get("label_details") if isinstance(label.get("label_details"), dict) else {}
                who = self.annotator(details.get("created_by"), row_key, str(label.get("id", lw)))
                ann = label.get("annotations", {})
                if not isinstance(ann, dict):
                    raise ReaderError(f"{lw}.annotations is a {type(ann).__name__}", file=self.path,
                                      field=f"{lw}.annotations", expected="an object")
                frames = ann.get("frames")
                if isinstance(frames, dict):
                    keymap = ann.get("key_frame_feature_map")
                    for fkey, fr in frames.items():
                        fw = f"{lw}.annotations.frames.{fkey}"
                        frame = _frame_number(fkey, self.path, fw)
                        item = self.item(row_key, frame, media.get("width"), media.get("height"), where)
                        if not isinstance(fr, dict):
                            raise ReaderError(f"{fw} is a {type(fr).__name__}", file=self.path, field=fw,
                                              expected="a frame object")
                        self.objects(fr.get("objects"), f"{fw}.objects", who, item,
                                     keyframes=_keyframe_lookup(keymap, fkey))
                        self.add_tags(self.flatten(fr.get("classifications"), f"{fw}.classifications"), who,
                                      item, "")
                    if ann.get("classifications"):   # global classifications of a video
                        item = self.item(row_key, None, media.get("width"), media.get("height"), where)
                        self.items[item]["name"] = name
                        self.add_tags(self.flatten(ann.get("classifications"), f"{lw}.annotations.classifications"),
                                      who, item, "")
                    continue
                item = self.item(row_key, None, media.get("width"), media.get("height"), where)
                self.items[item]["name"] = name
                self.objects(ann.get("objects"), f"{lw}.annotations.objects", who, item)
                self.add_tags(self.flatten(ann.get("classifications"), f"{lw}.annotations.classifications"), who,
                              item, "")

    def mal(self, row: dict, where: str) -> None:
        dr = row["dataRow"]
        if not isinstance(dr, dict) or _row_key(dr.get("globalKey"), dr.get("id")) is None:
            raise ReaderError(f"{where}.dataRow is {dr!r}", file=self.path, field=f"{where}.dataRow",
                              expected='{"id": ...} or {"globalKey": ...}')
        row_key = _row_key(dr.get("globalKey"), dr.get("id"))
        who = self.fallback
        if "confidence" in row:
            self.count("confidence")
        segments = row.get("segments")
        if isinstance(segments, list):
            for s, seg in enumerate(segments):
                kfs = seg.get("keyframes") if isinstance(seg, dict) else None
                if not isinstance(kfs, list):
                    raise ReaderError(f"{where}.segments[{s}] has no keyframes list", file=self.path,
                                      field=f"{where}.segments[{s}].keyframes", expected="a list of keyframes")
                for k, kf in enumerate(kfs):
                    kw = f"{where}.segments[{s}].keyframes[{k}]"
                    if not isinstance(kf, dict):
                        raise ReaderError(f"{kw} is a {type(kf).__name__}", file=self.path, field=kw,
                                          expected="a keyframe object")
                    frame = _frame_number(kf.get("frame"), self.path, f"{kw}.frame")
                    item = self.item(row_key, frame, None, None, where)
                    merged = {key: row[key] for key in ("name", "schemaId", "uuid") if key in row}
                    merged.update(kf)
                    self.obj(merged, kw, who, item)
            return
        item = self.item(row_key, None, None, None, where)
        self.items[item].setdefault("name", "")
        if "point" in row or any(key in row for key, _ in _OTHER_KINDS):
            self.obj(row, where, who, item)
        else:    # a classification row of the payload
            self.add_tags(self.flatten([row], where), who, item, "")
