"""Human keypoint annotations from labelling tools (CVAT, COCO, Labelbox) as one typed, tidy model.

``model`` holds :class:`AnnotationSet` (items, points, tags); ``mapping`` maps a project's keypoint names to the
schemas (BlazePose-33, COCO-17); ``read`` detects a file's format and dispatches to the tool's reader (``coco``,
``cvat``, ``labelbox``). docs/annotations.md.
"""
from .mapping import KeypointMapping, load_mapping
from .model import ANNOTATION_FORMATS, AnnotationSet, combine
from .read import detect_format, read_annotations

__all__ = ["ANNOTATION_FORMATS", "AnnotationSet", "KeypointMapping", "combine", "detect_format", "load_mapping",
           "read_annotations"]
