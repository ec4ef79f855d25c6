"""Quality of human keypoint annotations: checks against a labelling guideline and agreement between raters.

The annotations themselves are read by :mod:`candidates.annotations` (CVAT, COCO, Labelbox exports as one
:class:`~candidates.annotations.model.AnnotationSet`); this package judges them. :mod:`.guideline` reads a
labelling guideline (TOML rules declared apart from their results, as the release gates are) and :mod:`.qc` runs
it (``run_qc(sets, guideline) -> QCResult``: a tidy findings table and one gate-style verdict per rule, what
``stancebench annotations qc`` prints; the rules are in :mod:`.qc_persons`, :mod:`.qc_person_rules` and
:mod:`.qc_track_rules`); :mod:`.irr` measures how well several annotators agree (``keypoint_irr``, with
:mod:`.irr_stats` and :mod:`.irr_tags`). Shared by all of them: :mod:`.keypoint_metrics` (person scale, OKS, PCK
on arrays), :mod:`.consensus` (persons matched across raters, their consensus) and :mod:`.raters` (one rater per
file and annotator); :mod:`.reference` uses the annotations as a study's 2-D reference. See docs/annotations.md.
"""
