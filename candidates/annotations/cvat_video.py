"""CVAT for video 1.1: each ``<track>`` read into its written shapes on the task's frame grid (both skeleton
layouts CVAT has written: ``<skeleton>`` shapes holding ``<points>`` elements, or nested element ``<track>``
children), filled by :mod:`.cvat_interpolation`, and turned into one item per task frame with points and tags.

A shape on a frame off the task's grid is an error (CVAT itself refuses them); the same shape written twice for
one frame is kept once, two different ones are an error (CVAT asserts one shape per frame of a track). A skeleton
is present on a frame when its own shape is not outside and at least one element is not outside (CVAT drops
all-outside skeletons). The rules are stated in the docstring of :mod:`candidates.annotations.cvat` ("Items and
persons (video)", "Interpolation").
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from xml.etree import ElementTree as ET

import numpy as np

from .cvat_interpolation import _interpolate_track, _Node
from .cvat_meta import _Meta, _Task, _task_of
from .cvat_rows import _KEYPOINT_SHAPES, _OTHER_SHAPES, _SHAPES, _check_unique, _point_names, _Rows, _skeleton_points
from .cvat_xml import _attributes, _Ctx, _flag, _int, _xy


@dataclass
class _VideoTrack:
    tid: str
    label: str
    kind: str
    task: _Task
    person: str
    annotator: str
    nodes: list[_Node]
    elements: dict[str, list[_Node]] = field(default_factory=dict)


def _node(el: ET.Element, task: _Task, where: str, ctx: _Ctx, *, frame: int | None = None,
          keyframe_default: bool = True, with_xy: bool = True) -> _Node:
    if frame is None:
        frame = _int(el, "frame", where, ctx, required=True)
    rel = task.rel(frame)
    if rel is None:
        raise ctx.error(f"{where}{ctx.line(el)}: <{el.tag} frame=\"{frame}\"> is not a frame of the task "
                        f"({task.describe()})", f"<{el.tag}> frame",
                        f"a frame start_frame + k x step, k >= 0 ({task.describe()})")
    if el.get("keyframe") is None:
        ctx.count("no keyframe attribute")
    return _Node(frame=rel, xy=_xy(el, "points", f"{where}, frame {frame}", ctx) if with_xy else None,
                 outside=_flag(el, "outside"), occluded=_flag(el, "occluded"),
                 keyframe=_flag(el, "keyframe", keyframe_default),
                 attrs=_attributes(el, f"{where}, frame {frame}", ctx))


def _sorted_unique(nodes: list[_Node], where: str, task: _Task, ctx: _Ctx) -> list[_Node]:
    """Nodes by frame; the same shape written twice for one frame is kept once (noted), two different ones are
    an error (CVAT asserts one shape per frame of a track)."""
    out: dict[int, _Node] = {}
    for n in sorted(nodes, key=lambda n: n.frame):
        if n.frame in out:
            o = out[n.frame]
            same = (o.outside, o.occluded) == (n.outside, n.occluded) and (
                (o.xy is None and n.xy is None) or (o.xy is not None and n.xy is not None
                                                    and o.xy.shape == n.xy.shape and np.allclose(o.xy, n.xy)))
            if not same:
                raise ctx.error(f"{where}: two different shapes for frame {task.abs(n.frame)}", "frame",
                                "one shape per frame of a track")
            ctx.count("duplicate shape")
            continue
        out[n.frame] = n
    return list(out.values())


def _read_tracks(root: ET.Element, meta: _Meta, who: dict[str, str], ctx: _Ctx) -> list[_VideoTrack]:
    default = _Task("", None, None, None, 0, None, 1, None, None, None, None, None, 0, None)
    tracks = []
    for tr in root.findall("track"):
        tid = tr.get("id")
        if tid is None:
            raise ctx.error(f"<track>{ctx.line(tr)} has no id", "<track> id", "<track id label>")
        label = tr.get("label") or ""
        where = f"track {tid} ({label!r})"
        task = _task_of(meta, tr.get("task_id"), tr.get("subset"))
        if task is None:
            if meta.tasks:
                ctx.count("track of no known task")
            task = default
        shapes = [c for c in tr if c.tag in _SHAPES]
        kinds = list(dict.fromkeys(c.tag for c in shapes))
        if len(kinds) > 1:
            raise ctx.error(f"{where}{ctx.line(tr)} mixes <{kinds[0]}> and <{kinds[1]}> shapes", "<track>",
                            "one shape type per track")
        nested = tr.findall("track")
        kind = kinds[0] if kinds else ("skeleton" if nested else "")
        if not kind:
            ctx.count("empty track")
            continue
        gid = tr.get("group_id")
        person = f"group{gid}" if gid not in (None, "", "0") else tid
        vt = _VideoTrack(tid, label, kind, task, person, who[task.key] if task.key in who else who[""], [])
        if kind == "skeleton":
            _skeleton_track(vt, shapes, nested, where, meta, ctx)
        else:
            vt.nodes = [_node(s, task, where, ctx, with_xy=kind == "points") for s in shapes]
        vt.nodes = _sorted_unique(vt.nodes, where, task, ctx)
        vt.elements = {k: _sorted_unique(v, f"{where}, element {k!r}", task, ctx) for k, v in vt.elements.items()}
        tracks.append(vt)
    return tracks


def _skeleton_track(vt: _VideoTrack, shapes, nested, where: str, meta: _Meta, ctx: _Ctx) -> None:
    """Skeleton-level shapes and one node list per element, from either layout CVAT has written:
    ``<skeleton frame=..><points label=../></skeleton>`` (CVAT 2.x) or nested ``<track label=node>``
    sub-tracks (earlier 2.x exports, Datumaro's fixture)."""
    task = vt.task
    elements: dict[str, list[_Node]] = {}
    for s in shapes:
        node = _node(s, task, where, ctx, with_xy=False)
        vt.nodes.append(node)
        if nested:
            continue
        children = s.findall("points")
        frame = task.abs(node.frame)
        if children:
            for c in children:
                name = c.get("label")
                if not name:
                    raise ctx.error(f"{where}, frame {frame}{ctx.line(c)}: a <skeleton> element has no label",
                                    "<points> label", "<points label=\"node\"> inside <skeleton>")
                en = _node(c, task, f"{where}, element {name!r}", ctx, frame=frame,
                           keyframe_default=node.keyframe)
                if len(en.xy) != 1:
                    raise ctx.error(f"{where}, frame {frame}, element {name!r}{ctx.line(c)}: {len(en.xy)} points",
                                    "<points> points", "one x,y point per skeleton element")
                elements.setdefault(name, []).append(en)
        elif (s.get("points") or "").strip():
            xy, sub = _skeleton_points(s, vt.label, f"{where}, frame {frame}", meta, ctx)
            for name, p in zip(sub, xy):
                elements.setdefault(name, []).append(replace(node, xy=p[None, :], attrs=()))
    for nt in nested:
        name = nt.get("label")
        if not name:
            raise ctx.error(f"{where}{ctx.line(nt)}: a nested element <track> has no label", "<track> label",
                            "<track label=\"node\"> inside a skeleton track")
        for c in nt:
            if c.tag != "points":
                continue
            en = _node(c, task, f"{where}, element {name!r}", ctx)
            if len(en.xy) != 1:
                raise ctx.error(f"{where}, element {name!r}{ctx.line(c)}: {len(en.xy)} points", "<points> points",
                                "one x,y point per skeleton element")
            elements.setdefault(name, []).append(en)
    order = [n for n in meta.sublabels(vt.label) if n in elements] + [n for n in elements
                                                                        if n not in meta.sublabels(vt.label)]
    vt.elements = {n: elements[n] for n in order}
    if not shapes and elements:
        # element sub-tracks only: the skeleton is wherever an element is written
        frames: dict[int, bool] = {}
        for ns in elements.values():
            for n in ns:
                frames[n.frame] = frames.get(n.frame, False) or n.keyframe
        vt.nodes = [_Node(f, None, False, False, kf) for f, kf in sorted(frames.items())]


def _video_rows(tracks: list[_VideoTrack], meta: _Meta, ctx: _Ctx) -> _Rows:
    rows = _Rows()
    multi = len(meta.tasks) > 1

    def key(task: _Task, frame: int) -> str:
        return f"task{task.key}/frame:{frame}" if multi and task.key else f"frame:{frame}"

    items: dict[str, dict] = {}

    def item(task: _Task, frame: int) -> str:
        k = key(task, frame)
        if k not in items:
            items[k] = {"item": k, "frame": frame, "time_s": np.nan, "width": task.width, "height": task.height,
                        "name": ""}
        return k

    for task in meta.tasks.values():
        n = task.n_frames
        for r in range(n or 0):
            item(task, task.abs(r))
    filled = beyond = 0
    for vt in tracks:
        task, end = vt.task, vt.task.n_frames
        states = _interpolate_track(vt.nodes, end, include_outside=False)
        if vt.kind == "skeleton":
            elem_states = {name: {s.frame: s for s in _interpolate_track(ns, end, include_outside=True)}
                           for name, ns in vt.elements.items()}
        for st in states:
            frame = task.abs(st.frame)
            if end is not None and st.frame >= end:
                beyond += 1
            k = item(task, frame)
            if st.outside:
                continue
            if vt.kind == "points":
                names = _point_names(vt.label or "unlabelled", len(st.xy))
                for name, p in zip(names, st.xy):
                    rows.point(vt.annotator, k, vt.person, name, p, occluded=st.occluded, outside=False,
                               keyframe=st.keyframe)
                filled += 0 if st.written else len(st.xy)
            elif vt.kind == "skeleton":
                present = [(name, es[st.frame]) for name, es in elem_states.items() if st.frame in es]
                if not present or all(e.outside for _, e in present):
                    continue
                for name, e in present:
                    rows.point(vt.annotator, k, vt.person, name, e.xy[0], occluded=e.occluded, outside=e.outside,
                               keyframe=e.keyframe)
                    filled += 0 if e.written else 1
                    for a, v in e.attrs:
                        rows.tag(vt.annotator, k, vt.person, f"{name}.{a}", v)
            grouped = vt.person.startswith("group")
            for a, v in st.attrs:
                rows.tag(vt.annotator, k, vt.person, f"{vt.label}.{a}" if grouped else a, v)
    rows.items = list(items.values())
    _check_unique(rows.points, 0, ctx, lambda r: f"track person {r['person']!r}, {r['item']}")
    if filled:
        ctx.notes.append(f"{filled} point(s) on frames the file does not write were filled by CVAT's track "
                         f"interpolation (keyframe False; cvat/apps/dataset_manager/annotation.py, TrackManager."
                         f"get_interpolated_shapes)")
    if beyond:
        ctx.notes.append(f"{beyond} track shape(s) lie past the last frame of their task (stop_frame); kept")
    return rows


def _count_video(tracks: list[_VideoTrack], ctx: _Ctx) -> None:
    for vt in tracks:
        ctx.count(vt.kind if vt.kind in _OTHER_SHAPES else f"{vt.kind} shape", len(vt.nodes))
        ends = sum(1 for n in vt.nodes if n.outside)
        if ends and vt.kind in _KEYPOINT_SHAPES:
            ctx.count("outside keypoint shape", ends)
