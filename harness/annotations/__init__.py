"""Quality of human keypoint annotations: checks against a labelling guideline and agreement between raters.

The annotations themselves are read by :mod:`candidates.annotations` (CVAT, COCO, Labelbox exports as one
:class:`~candidates.annotations.model.AnnotationSet`); this package judges them. :mod:`.guideline` reads a
labelling guideline (TOML rules declared apart from their results, as the release gates are) and :mod:`.qc` runs
it (``run_qc(sets, guideline) -> QCResult``: a tidy findings table and one gate-style verdict per rule, what
``stancebench annotations qc`` prints); the inter-rater modules measure how well several annotators agree.
See docs/annotations.md.
"""
