"""CVAT XML exports ("CVAT for images 1.1" and "CVAT for video 1.1") as an AnnotationSet.

What is read, and how (CVAT's exporter and importer ``cvat/apps/dataset_manager/formats/cvat.py``, its frame
bookkeeping ``cvat/apps/dataset_manager/bindings.py`` and its track interpolation
``cvat/apps/dataset_manager/annotation.py``, ``TrackManager.get_interpolated_shapes``; repository cvat-ai/cvat):

Layouts
    The root is ``<annotations>`` with ``<meta>`` (a ``<task>``, a ``<job>`` or a ``<project>`` holding
    ``<tasks>``) and then either ``<image>`` elements (CVAT for images) or ``<track>`` elements (CVAT for video).
    ``kind="auto"`` decides from the content (``<track>`` → video, ``<image>`` → images, neither → the task's
    ``<mode>``: ``interpolation`` → video) and says so in the notes. A CVAT for images export of a video task
    (``<mode>interpolation</mode>`` with ``<image name="frame_000010">``) is read as images.
Keypoints
    A ``<points>`` shape with one point is one keypoint named by its label; a shape with N > 1 points (how older
    projects drew a whole skeleton) gives the keypoints ``label_1`` .. ``label_N`` in point order (Datumaro's
    names for the same points when it converts CVAT to COCO: ``a_1..a_3``), which a mapping file maps to schema
    names. A ``<skeleton>`` gives one keypoint per element (the child ``<points label="node">``, each with its own
    ``outside``/``occluded``). ``occluded="1"`` → visibility 1; ``outside="1"`` → visibility 0, x/y NaN,
    ``outside`` True (CVAT keeps the element's last position in the file; it is not a position). A skeleton
    written without elements but with ``points="x,y;..."`` on the parent is split over the skeleton's sublabels
    in ``<meta>`` order (noted). Skeleton edges come from the label's ``<svg>`` in ``<meta>`` (nodes named by
    CVAT's ``data-label-name``, else by sublabel order, noted; :mod:`.cvat_meta` says how).
Other shapes
    Boxes, polygons, polylines, cuboids, ellipses and masks are not keypoints: counted in the notes. Their
    ``<attribute>`` values, like those of keypoint shapes, go to ``tags`` (person-level, named by the attribute;
    an attribute of a skeleton element or of a single-point shape joined into a group is named
    ``label.attribute``); an image's ``<tag label=L>`` is an item-level tag ``tag = L`` and its attributes
    ``L.attribute``.
Items and persons (images)
    One item per ``<image>`` (also images with no shape: the rater saw them and labelled nobody), keyed by
    ``name``; when names repeat (a project export of several subsets: image ids and names repeat across
    subsets) every key is prefixed ``<subset>/`` (``task<id>/`` without a subset). The frame is read from the
    name (:func:`frame_from_name`). A person is one keypoint shape (id = the shape's position among the image's
    children, 0-based); shapes sharing a ``group_id`` are one person (id ``group<N>``), so a person drawn as
    17 single-point shapes joins up when the rater grouped them. Two keypoints of one name in one person are
    an error.
Items and persons (video)
    Items are the task's frames (``frame:N``, N the absolute video frame as written: ``start_frame`` +
    k x ``step`` of ``<frame_filter>step=K``), with the size from ``<original_size>``; frames written outside
    that grid are an error (CVAT itself refuses them), frames past ``stop_frame`` are kept and noted. A person is
    a track (id = the track id; tracks sharing a ``group_id`` are one person ``group<N>``); in a project export
    with several tasks the keys are prefixed ``task<id>/``.
Interpolation
    CVAT writes every frame of a track (``keyframe="0"`` for the frames it interpolated) up to the end of the
    task or job, but a file may carry only keyframes. The frames between two written shapes of a track are
    filled as CVAT fills them: single points (and skeleton elements) move linearly, multi-point shapes are held,
    nothing is filled after an ``outside="1"`` shape (skeleton elements excepted: they stay outside, visibility
    0, while their skeleton is present), and a last keyframe that is not outside is held to the end of the task
    or job (:mod:`.cvat_interpolation` states every rule and its source in CVAT). Filled frames have ``keyframe``
    False. A skeleton is present on a frame when its own shape is not outside and at least one element is not
    outside (CVAT drops all-outside skeletons).
Annotator
    The ``annotator=`` argument, else the task's (or job's) ``<assignee><username>``, else its
    ``<owner><username>``, else the project's, else the file stem (only user names are kept, never e-mails).
    A task export lists its jobs (``<segments>``) without their assignees, so all its frames go to that one
    name (noted when the task has several jobs); a job export names the job's assignee. In a project export
    each image or track names its task (``task_id``), whose assignee/owner is used.
Modules
    :mod:`.cvat_xml` (safe parsing with line numbers, checked attribute values), :mod:`.cvat_meta` (tasks, frame
    grid, labels, skeleton edges, annotators), :mod:`.cvat_rows` (the rows both layouts produce),
    :mod:`.cvat_images`, :mod:`.cvat_video` and :mod:`.cvat_interpolation`; this module decides the layout,
    reads the file and assembles the set.
"""
from __future__ import annotations

from os import PathLike
from pathlib import Path
from xml.etree import ElementTree as ET

from ground_truth.kernel import InputError, check_option, file_sha256, read_text_file

from .cvat_images import _read_images
from .cvat_meta import _annotators, _Meta, _read_meta, _skeleton_edges
from .cvat_rows import _OTHER_SHAPES
from .cvat_video import _count_video, _read_tracks, _video_rows
from .cvat_xml import _WHAT, _Ctx, parse_xml  # parse_xml is also imported from here (read.py)
from .mapping import MappingLike
from .model import AnnotationSet
from .rows import build_set

#: Values of ``read_cvat(kind=...)`` (the ``cvat-`` spellings of ``--format`` are accepted too).
CVAT_KINDS = ("auto", "images", "video")


# ------------------------------------------------------------------------------------------ entry point
def _decide_kind(kind: str, root: ET.Element, meta: _Meta, ctx: _Ctx) -> str:
    has_tracks, has_images = root.find("track") is not None, root.find("image") is not None
    if has_tracks and has_images:
        raise ctx.error("holds both <image> and <track> elements", "<annotations>",
                        "CVAT for images (<image>) or CVAT for video (<track>), not both")
    if kind == "auto":
        if has_tracks:
            kind, why = "video", "it holds <track> elements"
        elif has_images:
            kind, why = "images", "it holds <image> elements"
            if meta.mode == "interpolation":
                why += " (a CVAT for images export of a video task, <mode>interpolation</mode>)"
        elif meta.mode == "interpolation":
            kind, why = "video", "it holds no shapes and the task's <mode> is interpolation"
        else:
            kind, why = "images", "it holds no <image> or <track> element"
        ctx.notes.append(f"read as CVAT for {kind} 1.1: {why}")
    elif kind == "images" and has_tracks:
        raise ctx.error("is a CVAT for video export (it holds <track> elements)", "<track>",
                        "kind 'video' or 'auto' for this file")
    elif kind == "video" and has_images:
        raise ctx.error("is a CVAT for images export (it holds <image> elements)", "<image>",
                        "kind 'images' or 'auto' for this file")
    return kind


def read_cvat(path: str | PathLike, *, kind: str = "auto", mapping: MappingLike = None,
              annotator: str | None = None, video: str | PathLike | None = None) -> AnnotationSet:
    """Read a CVAT for images 1.1 or CVAT for video 1.1 XML export.

    Parameters
    ----------
    path : path-like
        The ``annotations.xml`` (task, job or project export).
    kind : {"auto", "images", "video"}
        Which layout to read (``"cvat-images"``/``"cvat-video"`` are accepted too); ``"auto"`` decides from the
        document and says what it decided in ``notes``.
    mapping : KeypointMapping, path-like or str, optional
        Keypoint names → a project schema (a TOML mapping file or the name of a shipped one); default: names
        matched by spelling (skeleton nodes named "1".."N" need a mapping file).
    annotator : str, optional
        The rater's name (else the task's assignee, else its owner, else the file stem).
    video : path-like, optional
        The video the frames come from: frame times from its packet timestamps.

    Returns
    -------
    AnnotationSet
        ``format`` ``"cvat-images"`` or ``"cvat-video"``; ``edges`` from the skeleton labels; ``meta`` with the
        file's sha256, CVAT version, dump time, tasks (id, name, subset, frame grid) and source video name.

    Notes
    -----
    Layout and attribute semantics follow CVAT's own exporter and importer
    (cvat-ai/cvat ``cvat/apps/dataset_manager/formats/cvat.py``: ``dump_as_cvat_annotation``,
    ``dump_as_cvat_interpolation``, ``CvatExtractor``); absolute frame numbers and the frame step follow
    ``bindings.py`` (``abs_frame_id``/``rel_frame_id``); the filling of frames between keyframes follows
    ``annotation.py`` ``TrackManager.get_interpolated_shapes`` (``simple_interpolation``,
    ``points_interpolation``, ``propagate``, the ``outside`` rule and ``include_outside`` for skeleton
    elements). See the module docstring, and those of the modules it names, for every rule.
    """
    path = Path(path)
    aliases = {"cvat-images": "images", "cvat-video": "video"}
    kind = aliases.get(kind, kind)
    check_option("kind", kind, CVAT_KINDS)
    if annotator is not None and not str(annotator).strip():
        raise InputError("annotator is empty", field="annotator", expected="a rater's name")
    text = read_text_file(path, what=_WHAT)
    root, lines = parse_xml(text, path)
    ctx = _Ctx(path, lines)
    if root.tag != "annotations":
        raise ctx.error(f"the root element is <{root.tag}>", "root element",
                        "<annotations>: the CVAT for images 1.1 or CVAT for video 1.1 layout (CVAT's other export "
                        "formats are read by their own importers: COCO keypoints, Datumaro)")
    meta = _read_meta(root, ctx)
    if meta.version not in (None, "1.1"):
        ctx.notes.append(f"<version>{meta.version}</version>: read as 1.1, the only version CVAT writes")
    kind = _decide_kind(kind, root, meta, ctx)
    who = _annotators(meta, annotator, ctx)
    edges = _skeleton_edges(meta, ctx)
    if kind == "images":
        rows = _read_images(root, meta, who, ctx)
        ignored = [c.tag for c in root if c.tag not in ("version", "meta", "image")]
    else:
        tracks = _read_tracks(root, meta, who, ctx)
        rows = _video_rows(tracks, meta, ctx)
        _count_video(tracks, ctx)
        ignored = [c.tag for c in root if c.tag not in ("version", "meta", "track")]
    _summarise(ctx, kind, ignored)
    meta_out = {"sha256": file_sha256(path), "cvat_version": meta.version, "dumped": meta.dumped,
                "container": meta.container, "mode": meta.mode, "source_video": meta.source,
                "tasks": [{"id": t.key, "name": t.name, "subset": t.subset, "start_frame": t.start,
                           "stop_frame": t.stop, "frame_step": t.step, "size": t.size}
                          for t in meta.tasks.values()]}
    fmt = "cvat-images" if kind == "images" else "cvat-video"
    return build_set(path, fmt, rows.items, rows.points, rows.tags, edges, ctx.notes, meta_out, mapping, video)


def _summarise(ctx: _Ctx, kind: str, ignored: list[str]) -> None:
    c = ctx.counts
    others = {k: c[k] for k in _OTHER_SHAPES if c.get(k)}
    if others:
        what = "shapes" if kind == "images" else "track shapes written"
        ctx.notes.append(f"not keypoints, not read as points: {', '.join(f'{n} <{k}>' for k, n in others.items())} "
                         f"{what} (their attributes are in tags)")
    if c.get("outside keypoint shape"):
        ctx.notes.append(f"{c['outside keypoint shape']} keypoint track shape(s) have outside=1: the track ends "
                         f"there (no points on that frame, none filled until the track's next shape)")
    if c.get("auto shape"):
        ctx.notes.append(f"{c['auto shape']} keypoint shape(s) have source='auto' or 'semi-auto' (made by a model "
                         f"in CVAT, maybe corrected by hand)")
    if c.get("unlabelled <points>"):
        ctx.notes.append(f"{c['unlabelled <points>']} <points> shape(s) have an empty label: their keypoints are "
                         f"named 'unlabelled'")
    if c.get("skeleton without elements"):
        ctx.notes.append(f"{c['skeleton without elements']} <skeleton> shape(s) have no elements: their points are "
                         f"split over the skeleton's sublabels in <meta> order")
    if c.get("duplicate shape"):
        ctx.notes.append(f"{c['duplicate shape']} track shape(s) were written twice for one frame; kept once")
    if c.get("no keyframe attribute"):
        ctx.notes.append(f"{c['no keyframe attribute']} track shape(s) have no keyframe attribute: taken as "
                         f"keyframes")
    if c.get("track of no known task"):
        ctx.notes.append(f"{c['track of no known task']} track(s) name no task of <meta>: frame grid start 0, "
                         f"step 1, no end")
    if c.get("empty track"):
        ctx.notes.append(f"{c['empty track']} <track> element(s) hold no shape")
    unknown = {k: n for k, n in c.items() if k.startswith("unknown <")}
    for k, n in unknown.items():
        ctx.notes.append(f"{n} {k[len('unknown '):]} element(s) inside <image> ignored (not a CVAT shape)")
    if ignored:
        counts = {t: ignored.count(t) for t in dict.fromkeys(ignored)}
        ctx.notes.append("ignored at the top level: " + ", ".join(f"{n} <{t}>" for t, n in counts.items())
                         + f" (not part of CVAT for {kind} 1.1)")
