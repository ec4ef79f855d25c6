"""What the ``<meta>`` of a CVAT export says: its tasks (a task, job or project export), each task's frame grid and
image size, the label definitions with their skeleton edges, and who annotated each task.

Frame grid
    A task's absolute frame is ``start_frame`` + k x step (``<frame_filter>step=K``), k its task-relative index
    (CVAT's ``cvat/apps/dataset_manager/bindings.py``, ``abs_frame_id``/``rel_frame_id``); its number of frames
    is ``size``, else what ``stop_frame`` gives.
Skeleton edges
    From the label's ``<svg>`` (HTML-escaped in ``<meta>``): ``data-type="edge"`` lines name
    ``data-node-from``/``data-node-to`` node ids, and each node circle maps its ``data-node-id`` to
    ``data-label-name`` (CVAT's exporter writes the sublabel names there); an svg without names falls back to the
    sublabel order (node id k = k-th sublabel, noted).
Annotators
    The order of preference is stated in the docstring of :mod:`candidates.annotations.cvat` ("Annotator").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from .cvat_xml import _Ctx, _text_int, _username, parse_xml

_STEP = re.compile(r"^\s*step\s*=\s*(\d+)\s*$")


# ------------------------------------------------------------------------------------------ meta
@dataclass(frozen=True)
class _Task:
    """One task (or job) of the export: its frame grid, size and people."""

    key: str               # the task id as written ("" when the meta names none)
    name: str | None
    subset: str | None
    mode: str | None
    start: int             # absolute frame of the task's first frame
    stop: int | None
    step: int
    size: int | None
    owner: str | None
    assignee: str | None
    width: int | None
    height: int | None
    segments: int
    overlap: int | None

    @property
    def n_frames(self) -> int | None:
        if self.size is not None:
            return self.size
        if self.stop is not None:
            return (self.stop - self.start) // self.step + 1
        return None

    def rel(self, frame: int) -> int | None:
        """The task-relative index of absolute ``frame``, None when the frame is not on the task's grid."""
        d, m = divmod(frame - self.start, self.step)
        return None if m or d < 0 else d

    def abs(self, rel: int) -> int:
        return self.start + rel * self.step

    def describe(self) -> str:
        return f"start_frame {self.start}, frame_filter step={self.step}"


@dataclass(frozen=True)
class _Label:
    name: str
    type: str | None
    parent: str | None
    svg: str | None


@dataclass
class _Meta:
    container: str | None                      # "task", "job", "project" or None (no meta)
    tasks: dict[str, _Task]
    labels: list[_Label]
    mode: str | None
    project_owner: str | None = None
    project_assignee: str | None = None
    dumped: str | None = None
    version: str | None = None
    source: str | None = None

    def sublabels(self, skeleton: str) -> list[str]:
        return [lab.name for lab in self.labels if lab.parent == skeleton]


def _read_task(el: ET.Element, ctx: _Ctx, meta_el: ET.Element, container: str) -> _Task:
    key = (el.findtext("id") or "").strip()
    where = f"<meta><{container}>{' ' + key if key else ''}"
    step = 1
    filt = (el.findtext("frame_filter") or "").strip()
    if filt:
        m = _STEP.match(filt)
        if not m or int(m.group(1)) < 1:
            raise ctx.error(f"{where}: <frame_filter>{filt}</frame_filter>", "<frame_filter>",
                            "empty or step=K with K >= 1 (the only filter CVAT writes)")
        step = int(m.group(1))
    size_el = el.find("original_size")
    if size_el is None:   # a job export writes <original_size> beside <job>, not inside it
        size_el = meta_el.find("original_size")
    return _Task(
        key=key, name=(el.findtext("name") or "").strip() or None,
        subset=(el.findtext("subset") or "").strip() or None,
        mode=(el.findtext("mode") or "").strip() or None,
        start=_text_int(el, "start_frame", where, ctx) or 0,
        stop=_text_int(el, "stop_frame", where, ctx), step=step,
        size=_text_int(el, "size", where, ctx),
        owner=_username(el, "owner"), assignee=_username(el, "assignee"),
        width=_text_int(size_el, "width", where, ctx), height=_text_int(size_el, "height", where, ctx),
        segments=len(el.findall("segments/segment")), overlap=_text_int(el, "overlap", where, ctx))


def _read_meta(root: ET.Element, ctx: _Ctx) -> _Meta:
    meta_el = root.find("meta")
    version = (root.findtext("version") or "").strip() or None
    if meta_el is None:
        return _Meta(None, {}, [], None, version=version)
    tasks: dict[str, _Task] = {}
    container, project = None, meta_el.find("project")
    if project is not None:
        container = "project"
        for t in project.findall("tasks/task"):
            task = _read_task(t, ctx, meta_el, "project><tasks><task")
            tasks[task.key] = task
    else:
        for tag in ("task", "job"):
            t = meta_el.find(tag)
            if t is not None:
                container = tag
                task = _read_task(t, ctx, meta_el, tag)
                tasks[task.key] = task
                break
    labels = []
    for labels_el in meta_el.iter("labels"):
        for lab in labels_el.findall("label"):
            labels.append(_Label(name=(lab.findtext("name") or "").strip(),
                                 type=(lab.findtext("type") or "").strip() or None,
                                 parent=(lab.findtext("parent") or "").strip() or None,
                                 svg=lab.findtext("svg")))
    modes = {t.mode for t in tasks.values() if t.mode}
    source = meta_el.findtext("source") or next((t.findtext("source") for t in meta_el.iter("task")
                                                 if t.findtext("source")), None)
    return _Meta(container, tasks, labels, modes.pop() if len(modes) == 1 else None,
                 project_owner=_username(project, "owner"), project_assignee=_username(project, "assignee"),
                 dumped=(meta_el.findtext("dumped") or "").strip() or None, version=version,
                 source=(source or "").strip() or None)


def _skeleton_edges(meta: _Meta, ctx: _Ctx) -> list[tuple[str, str]]:
    """Edges of every skeleton label, by element name, from the label's svg (see the module docstring)."""
    edges: list[tuple[str, str]] = []
    for lab in meta.labels:
        if not (lab.svg or "").strip():
            continue
        sub = meta.sublabels(lab.name)
        svg, _ = parse_xml(f"<svg>{lab.svg}</svg>", ctx.path, what=f"the <svg> of skeleton label {lab.name!r}")
        names: dict[str, str | None] = {}
        for el in svg.iter():
            node = el.get("data-node-id")
            if node is not None:
                names[node] = el.get("data-label-name")
        if any(v is None for v in names.values()):
            ids = sorted(names, key=lambda s: int(s) if s.isdigit() else -1)
            if [int(i) for i in ids if i.isdigit()] == list(range(1, len(sub) + 1)):
                names = {i: sub[int(i) - 1] for i in ids}
                ctx.notes.append(f"skeleton {lab.name!r}: the svg names no node (data-label-name); node id k is "
                                 f"taken as the k-th sublabel in <meta> ({', '.join(sub)})")
            else:
                ctx.notes.append(f"skeleton {lab.name!r}: the svg names no node and its node ids do not match the "
                                 f"{len(sub)} sublabels; its edges are not read")
                continue
        for el in svg.iter():
            if el.get("data-type") != "edge":
                continue
            a, b = el.get("data-node-from"), el.get("data-node-to")
            if a not in names or b not in names:
                raise ctx.error(f"skeleton label {lab.name!r}: an edge joins node {a!r} to {b!r}, but the svg "
                                f"defines nodes {sorted(names)}", "<label><svg>",
                                "data-node-from/to naming nodes of the svg")
            edges.append((names[a], names[b]))
    return edges


# ------------------------------------------------------------------------------------------ annotators
def _annotators(meta: _Meta, annotator: str | None, ctx: _Ctx) -> dict[str, str]:
    """Task key → annotator name; key "" is the fallback for an element naming no (known) task."""
    if annotator is not None:
        ctx.notes.append(f"annotator {annotator!r} as given")
        return {k: annotator for k in [*meta.tasks, ""]}
    out: dict[str, str] = {}
    said: dict[tuple[str, str], list[str]] = {}
    what = "job" if meta.container == "job" else "task"
    for key, task in meta.tasks.items():
        for name, source in ((task.assignee, f"<assignee> of {what}"), (task.owner, f"<owner> of {what}"),
                             (meta.project_assignee, f"<assignee> of the project, for {what}"),
                             (meta.project_owner, f"<owner> of the project, for {what}")):
            if name:
                break
        else:
            name, source = ctx.path.stem, f"file stem: no assignee or owner named for {what}"
        out[key] = name
        said.setdefault((name, source), []).append(key or "(no id)")
        if task.segments > 1 and meta.container != "job":
            ctx.notes.append(f"task {key or '(no id)'} has {task.segments} jobs (<segments>, overlap "
                             f"{task.overlap}); a task export does not say who labelled which job, so all its "
                             f"frames are attributed to {out[key]!r}")
    fallback = meta.project_assignee or meta.project_owner
    if len(set(out.values())) == 1:
        out[""] = next(iter(out.values()))
    else:
        out[""] = fallback or ctx.path.stem
    parts = [f"{name!r} ({source}{'s' if len(keys) > 1 else ''} {', '.join(keys)})"
             for (name, source), keys in said.items()]
    if not meta.tasks:
        parts.append(f"{out['']!r} (file stem: the export names no task, assignee or owner)")
    ctx.notes.append("annotator " + "; ".join(parts))
    return out


def _task_of(meta: _Meta, task_id: str | None, subset: str | None) -> _Task | None:
    if task_id is not None and task_id in meta.tasks:
        return meta.tasks[task_id]
    if subset is not None:
        match = [t for t in meta.tasks.values() if t.subset == subset]
        if len(match) == 1:
            return match[0]
    if len(meta.tasks) == 1:
        return next(iter(meta.tasks.values()))
    return None
