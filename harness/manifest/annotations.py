"""Human annotations in a study manifest: a trial's annotation files as a 2-D reference of one of its videos, and
the study's annotation settings (docs/manifest.md, "Annotations as a 2-D reference").

A trial names the files (``annotations``), optionally their format, a keypoint mapping TOML and the video they
label (``annotations_video``: a camera name or an index into ``video``, from 0; default the first video). The
``[settings]`` table may name a labelling guideline (``annotation_guideline``, for QC) and the PCK threshold
(``annotation_pck``, a fraction of the person scale ``sqrt(w h)`` of the consensus keypoints' box). Files are
checked like every other file of a manifest (:func:`harness.manifest.fields.paths`: stat-based, relative paths
against the data root), and every problem is added to the manifest's list under its trial id and key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from candidates.annotations.model import ANNOTATION_FORMATS
from ground_truth.kernel import ManifestError

from .fields import Problems, as_list, number, paths

#: What ``annotations_format`` may be: ``auto`` (detected from the file) or one reader's format.
ANNOTATION_FORMAT_CHOICES = ("auto", *ANNOTATION_FORMATS)
#: The trial keys of this module.
TRIAL_KEYS = ("annotations", "annotations_format", "annotations_mapping", "annotations_video")
#: The ``[settings]`` keys of this module.
SETTINGS_KEYS = ("annotation_guideline", "annotation_pck")
#: PCK threshold when the manifest gives none: a keypoint is correct within 0.1 person scale (the inter-rater
#: statistics' default, harness.annotations.irr).
DEFAULT_PCK = 0.1


@dataclass
class AnnotationSettings:
    """The study's annotation settings: the labelling guideline QC checks against (None: no QC) and the PCK
    threshold as a fraction of the person scale."""

    guideline: Path | None = None
    pck: float = DEFAULT_PCK


@dataclass
class AnnotationReference:
    """A trial's annotation files: the 2-D reference of its video ``video`` (an index into ``Trial.video``).

    ``format`` is ``auto`` or one of :data:`candidates.annotations.model.ANNOTATION_FORMATS`; ``mapping`` a keypoint
    mapping TOML (None: the readers' default mapping); ``camera_name`` the name the manifest used for the video, if
    any; ``pck`` the study's PCK threshold (copied here so that a trial's task carries what its stage needs).
    """

    files: list[Path] = field(default_factory=list)
    format: str = "auto"
    mapping: Path | None = None
    video: int = 0
    camera_name: str | None = None
    pck: float = DEFAULT_PCK


def annotation_settings(problems: Problems, st, root: Path) -> AnnotationSettings:
    """The annotation keys of the ``[settings]`` table ``st`` (its shape and other keys are checked by the
    manifest's settings parser)."""
    out = AnnotationSettings()
    if not isinstance(st, dict):
        return out
    if isinstance(st.get("annotation_guideline"), list):
        problems.add("settings.annotation_guideline", "is a list", "one labelling guideline TOML file")
    elif "annotation_guideline" in st:
        found = paths(problems, st, "annotation_guideline", "settings", root, required=True,
                      what="labelling guideline TOML")
        out.guideline = found[0] if found else None
        if out.guideline is not None:
            _check_guideline(problems, out.guideline)
    # PCK@0 would call every keypoint wrong, and a threshold beyond the person's size every keypoint right
    pck = number(problems, st, "annotation_pck", "settings", required=False, lo=0.001, hi=1.0,
                 unit="(fraction of the person scale)")
    if pck is not None:
        out.pck = pck
    return out


def _check_guideline(problems: Problems, path: Path) -> None:
    """The guideline is read now, as a study's own protocol files are: a typo in a rule is bad input before the
    study runs, not a QC section that says "not available" after it."""
    from ..annotations.guideline import load_guideline

    try:
        load_guideline(path)
    except ManifestError as exc:
        where = f" field '{exc.field}':" if exc.field else ""
        problems.add("settings.annotation_guideline", f"{path}:{where} {exc.reason}", exc.expected)


def trial_annotations(problems: Problems, t: dict, where: str, root: Path, camera_names: list[str | None],
                      settings: AnnotationSettings) -> AnnotationReference | None:
    """A trial's annotation reference, or None when it names no annotation files.

    ``camera_names`` are the trial's per-video camera names as parsed. The extra keys (format, mapping, video)
    without ``annotations`` are errors: they would silently do nothing.
    """
    if "annotations" not in t:
        for key in TRIAL_KEYS[1:]:
            if key in t:
                problems.add(f"{where}.{key}", "is given but the trial names no annotation files",
                             "annotations = [\"labels/rater_a.xml\", ...] beside it")
        return None
    files = paths(problems, t, "annotations", where, root, required=True, what="annotation file")
    ref = AnnotationReference(files=files, pck=settings.pck)
    fmt = t.get("annotations_format", "auto")
    if fmt not in ANNOTATION_FORMAT_CHOICES:
        problems.add(f"{where}.annotations_format", f"is {fmt!r}", f"one of {', '.join(ANNOTATION_FORMAT_CHOICES)}")
    else:
        ref.format = fmt
    if "annotations_mapping" in t:
        if isinstance(t["annotations_mapping"], list):
            problems.add(f"{where}.annotations_mapping", "is a list", "one keypoint mapping TOML file")
        else:
            found = paths(problems, t, "annotations_mapping", where, root, required=True,
                          what="keypoint mapping TOML")
            ref.mapping = found[0] if found else None
    video = t.get("annotations_video", 0)
    # counted as written: a video that failed its own check is already listed, and still has its index
    n_videos = len(as_list(t.get("video")))
    if n_videos == 0:
        problems.add(f"{where}.annotations", "the trial has no video for the annotations to label",
                     "a trial with video (annotations are a 2-D reference of one of its videos)")
    elif isinstance(video, bool) or not isinstance(video, (int, str)):
        problems.add(f"{where}.annotations_video", f"is {video!r}",
                     f"a camera name or a video index 0..{n_videos - 1}")
    elif isinstance(video, int):
        if not 0 <= video < n_videos:
            problems.add(f"{where}.annotations_video", f"is {video}, but the trial has {n_videos} video(s)",
                         f"an index 0..{n_videos - 1} into 'video' (or a camera name)")
        else:
            ref.video, ref.camera_name = video, camera_names[video] if video < len(camera_names) else None
    elif video not in camera_names:
        problems.add(f"{where}.annotations_video", f"is {video!r}, which the trial's camera_name does not list",
                     f"one of {', '.join(str(c) for c in camera_names if c) or '(no camera names declared)'} "
                     f"or an index 0..{n_videos - 1}")
    else:
        ref.video, ref.camera_name = camera_names.index(video), video
    return ref
