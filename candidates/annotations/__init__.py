"""Human keypoint annotations from labelling tools (CVAT, COCO, Labelbox) as one typed, tidy model.

``model`` holds :class:`AnnotationSet` (items, points, tags); ``mapping`` maps a project's keypoint names to the
schemas (BlazePose-33, COCO-17); one module per tool reads its exports.
"""
