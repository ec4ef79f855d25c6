"""CVAT for images 1.1: each ``<image>`` and the shapes inside it as items, points and tags (a person per keypoint
shape or per ``group_id``; other shapes counted, their attributes kept as tags; ``<tag>`` as item tags). The rules
are stated in the docstring of :mod:`candidates.annotations.cvat` ("Items and persons (images)").
"""
from __future__ import annotations

from xml.etree import ElementTree as ET

import numpy as np

from .cvat_meta import _Meta, _task_of
from .cvat_rows import _OTHER_SHAPES, _check_unique, _point_names, _Rows, _skeleton_points
from .cvat_xml import _attributes, _Ctx, _flag, _int, _xy
from .frames import frame_from_name


def _read_images(root: ET.Element, meta: _Meta, who: dict[str, str], ctx: _Ctx) -> _Rows:
    rows = _Rows()
    images = root.findall("image")
    names = [img.get("name") for img in images]
    for img, name in zip(images, names):
        if not name:
            raise ctx.error(f"<image id={img.get('id')!r}>{ctx.line(img)} has no name", "<image> name",
                            "<image id name width height>")
    prefix = len(set(names)) < len(names)
    keys = []
    for img, name in zip(images, names):
        scope = img.get("subset") or (f"task{img.get('task_id')}" if img.get("task_id") is not None else None)
        keys.append(f"{scope}/{name}" if prefix and scope else name)
    if len(set(keys)) < len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ctx.error(f"image {dup!r} is listed {keys.count(dup)} times", "<image> name",
                        "each image once per subset")
    if prefix:
        ctx.notes.append("image names repeat across subsets (a project export), so items are keyed "
                         "'<subset>/<name>'")
    for img, name, key in zip(images, names, keys):
        where = f"image {name!r}"
        task = _task_of(meta, img.get("task_id"), img.get("subset"))
        annotator = who[task.key] if task is not None else who[""]
        rows.items.append({"item": key, "frame": frame_from_name(name), "time_s": np.nan,
                           "width": _int(img, "width", where, ctx, required=False),
                           "height": _int(img, "height", where, ctx, required=False), "name": name})
        start = len(rows.points)
        for index, el in enumerate(img):
            gid = el.get("group_id")
            person = f"group{gid}" if gid not in (None, "", "0") else str(index)
            shape_where = f"{where}, shape {index}"
            if el.tag == "tag":
                label = el.get("label") or ""
                rows.tag(annotator, key, "", "tag", label)
                for a, v in _attributes(el, shape_where, ctx):
                    rows.tag(annotator, key, "", f"{label}.{a}", v)
                ctx.count("tag")
            elif el.tag == "points":
                _image_points(el, rows, annotator, key, person, shape_where, ctx)
            elif el.tag == "skeleton":
                _image_skeleton(el, rows, annotator, key, person, shape_where, meta, ctx)
            elif el.tag in _OTHER_SHAPES:
                ctx.count(el.tag)
                for a, v in _attributes(el, shape_where, ctx):
                    rows.tag(annotator, key, person, a, v)
            else:
                ctx.count(f"unknown <{el.tag}>")
        _check_unique(rows.points, start, ctx, lambda r: f"image {r['item']!r}")
    return rows


def _image_points(el, rows: _Rows, annotator, key, person, where, ctx) -> None:
    xy = _xy(el, "points", where, ctx)
    label = el.get("label") or ""
    if not label:
        ctx.count("unlabelled <points>")
    grouped = person.startswith("group")
    names = _point_names(label or "unlabelled", len(xy))
    occluded, outside = _flag(el, "occluded"), _flag(el, "outside")
    for name, p in zip(names, xy):
        rows.point(annotator, key, person, name, p, occluded=occluded, outside=outside, keyframe=True)
    for a, v in _attributes(el, where, ctx):
        rows.tag(annotator, key, person, f"{label}.{a}" if grouped and len(xy) == 1 else a, v)
    ctx.count("points shape")
    if el.get("source") in ("auto", "semi-auto"):
        ctx.count("auto shape")


def _image_skeleton(el, rows: _Rows, annotator, key, person, where, meta: _Meta, ctx) -> None:
    label = el.get("label") or ""
    elements = el.findall("points")
    if elements:
        for e in elements:
            name = e.get("label")
            e_where = f"{where} (<skeleton label={label!r}>), element {name!r}"
            if not name:
                raise ctx.error(f"{where}{ctx.line(e)}: a <skeleton> element has no label", "<points> label",
                                "<points label=\"node\"> inside <skeleton>")
            xy = _xy(e, "points", e_where, ctx)
            if len(xy) != 1:
                raise ctx.error(f"{e_where}{ctx.line(e)}: {len(xy)} points", "<points> points",
                                "one x,y point per skeleton element")
            rows.point(annotator, key, person, name, xy[0], occluded=_flag(e, "occluded"),
                       outside=_flag(e, "outside"), keyframe=True)
            for a, v in _attributes(e, e_where, ctx):
                rows.tag(annotator, key, person, f"{name}.{a}", v)
    else:
        xy, sub = _skeleton_points(el, label, where, meta, ctx)
        for name, p in zip(sub, xy):
            rows.point(annotator, key, person, name, p, occluded=_flag(el, "occluded"),
                       outside=_flag(el, "outside"), keyframe=True)
    for a, v in _attributes(el, where, ctx):
        rows.tag(annotator, key, person, a, v)
    ctx.count("skeleton")
    if el.get("source") in ("auto", "semi-auto"):
        ctx.count("auto shape")
