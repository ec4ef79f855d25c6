"""Keypoint comparison definitions shared by inter-rater reliability, labelling QC and scoring pose models against
annotators.

Everything here works on plain arrays (``(..., K, 2)`` pixel coordinates, ``(..., K)`` visibility flags in the
COCO convention 0 / 1 / 2, NaN for a missing point) so that the same definitions score two human raters against
each other and a pose model against the raters' consensus. The table-level helpers that match persons across
raters and build their consensus (:func:`~harness.annotations.consensus.match_persons`,
:func:`~harness.annotations.consensus.consensus`, ``check_points``, ``modal_visibility``) are in
:mod:`harness.annotations.consensus`, and remain importable from here.

Definitions (each function's Notes cite its source):

- labelled keypoint: visibility >= 1 (COCO's v > 0 for its integer flags) and finite coordinates
  (:func:`labelled_mask`);
- person scale ``s``: COCO's ``sqrt(segment area)``; without a segmentation, ``sqrt(w * h)`` of the bounding box
  of the person's labelled keypoints (:func:`person_scale`);
- torso: the vector from the mid-hip to the mid-shoulder point (:func:`torso_vector`);
- OKS: COCO's object keypoint similarity exactly as ``pycocotools`` computes it (:func:`oks`);
- PCK: a keypoint is correct when its distance is below ``threshold`` times a reference length
  (:func:`pck_correct`, :func:`reference_length`).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ground_truth.kernel import InputError, check_option, check_range

#: COCO's per-keypoint constants sigma_i of the 17 person keypoints, as ``Params.setKpParams`` sets
#: ``kpt_oks_sigmas`` in cocodataset/cocoapi ``PythonAPI/pycocotools/cocoeval.py`` (``np.array([.26, .25, .25,
#: .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0``), in COCO-17 order; the
#: COCO keypoint evaluation page (cocodataset.org/#keypoints-eval, note 2 of section 2) lists the same values.
#: Written as those decimals: cocoeval's division differs from five of them (nose, ears, hips) in the last bit only.
COCO17_SIGMAS = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
}
#: Provisional sigma of a keypoint COCO does not define (used to match persons across raters, and by the QC's
#: duplicate-persons rule): the mean of the 17 COCO sigmas (0.0669), a typical body-keypoint spread.
PROVISIONAL_SIGMA = float(np.mean(list(COCO17_SIGMAS.values())))
#: Reference lengths :func:`reference_length` knows.
REFERENCE_LENGTHS = ("scale", "bbox", "torso")

_EPS = np.spacing(1)   # cocoeval adds np.spacing(1) to the area so that a zero area does not divide by zero


# ------------------------------------------------------------------------------------------------ arrays
def coco_sigmas(keypoints: Sequence[str], default: float = np.nan) -> np.ndarray:
    """COCO's sigma of each keypoint name (:data:`COCO17_SIGMAS`); ``default`` for names COCO does not define."""
    return np.array([COCO17_SIGMAS.get(str(k), default) for k in keypoints], dtype=float)


def _as_xy(xy, name: str) -> np.ndarray:
    a = np.asarray(xy, dtype=float)
    if a.ndim < 2 or a.shape[-1] != 2:
        raise InputError(f"{name} has shape {a.shape}", field=name, expected="(..., K, 2) pixel coordinates")
    return a


def labelled_mask(xy, visibility=None) -> np.ndarray:
    """Labelled mask (..., K): visibility >= 1 (COCO's v > 0: 1 labelled but not visible, 2 visible; NaN or a
    missing flag is not labelled) and finite coordinates; without ``visibility``, finite coordinates.

    Notes
    -----
    COCO's keypoint format (cocodataset.org/#format-data) flags a point v = 0 not labelled, v = 1 labelled but not
    visible, v = 2 labelled and visible; ``computeOks`` keeps ``vg > 0``. Written ``>= 1`` so that a flag read as
    a float (or a boolean mask) means the same.
    """
    xy = np.asarray(xy, dtype=float)
    finite = np.isfinite(xy).all(axis=-1)
    if visibility is None:
        return finite
    v = np.asarray(visibility)
    if v.shape != finite.shape:
        v = np.broadcast_to(v, finite.shape)
    return finite & (v >= 1)


def person_scale(xy, visibility=None, *, area=None) -> np.ndarray:
    """Person scale ``s`` (pixels) of each person: ``sqrt(area)``, else ``sqrt(w * h)`` of the labelled keypoints'
    bounding box.

    Parameters
    ----------
    xy : array (..., K, 2)
        Keypoint coordinates (pixels), NaN where missing.
    visibility : array (..., K), optional
        COCO flags; only labelled keypoints (:func:`labelled_mask`) count. Default: finite coordinates.
    area : array (...), optional
        The person's segmentation area (COCO ``area``), when known: then ``s = sqrt(area)``.

    Returns
    -------
    ndarray (...)
        NaN where the scale is undefined: fewer than two labelled keypoints, or a box of zero width or height.

    Notes
    -----
    COCO defines "a scale s which we define as the square root of the object segment area" (COCO keypoint
    evaluation page, section 1.2) and ``computeOks`` divides by ``gt['area']`` (cocodataset/cocoapi
    ``PythonAPI/pycocotools/cocoeval.py``). Annotation tools other than COCO export no segmentation, so the
    fallback is the bounding box of the labelled keypoints. That box is larger than the segment (a standing
    person fills roughly half of it), so this ``s`` is larger than COCO's and an OKS computed with it and COCO's
    sigmas is more lenient than COCO's; sigmas estimated with the same ``s`` (as the inter-rater module does)
    are consistent with it.
    """
    if area is not None:
        a = np.asarray(area, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(a > 0, np.sqrt(np.where(a > 0, a, np.nan)), np.nan)
    xy = _as_xy(xy, "xy")
    w, h, n = _box(xy, labelled_mask(xy, visibility))
    area_box = w * h
    with np.errstate(invalid="ignore"):
        return np.where((n >= 2) & (area_box > 0), np.sqrt(np.where(area_box > 0, area_box, np.nan)), np.nan)


def _box(xy: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Width, height and number of points (...) of the bounding box of the labelled keypoints (``lab``)."""
    if xy.shape[-2] == 0:                 # no keypoint at all: no box (reductions over K would have no identity)
        nan = np.full(xy.shape[:-2], np.nan)
        return nan, nan, np.zeros(xy.shape[:-2], int)
    x = np.where(lab, xy[..., 0], np.nan)
    y = np.where(lab, xy[..., 1], np.nan)
    with warnings.catch_warnings():
        # persons with no labelled keypoint give all-NaN slices; their box is NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        w = np.nanmax(x, axis=-1) - np.nanmin(x, axis=-1)
        h = np.nanmax(y, axis=-1) - np.nanmin(y, axis=-1)
    return w, h, lab.sum(axis=-1)


def reference_length(xy, visibility=None, keypoints: Sequence[str] | None = None, kind: str = "scale", *,
                     area=None) -> np.ndarray:
    """The length PCK thresholds are a fraction of, per person (pixels).

    Parameters
    ----------
    kind : {'scale', 'bbox', 'torso'}
        ``scale``: the person scale of :func:`person_scale` (COCO's ``s``); ``bbox``: the longer side of the
        labelled keypoints' bounding box (the ``bbox`` normalisation of mmpose's ``PCKAccuracy``); ``torso``:
        the distance between the shoulder midpoint and the hip midpoint (needs ``keypoints`` with
        ``left/right_shoulder`` and ``left/right_hip``, all labelled).

    Notes
    -----
    PCK was introduced with the torso as reference (Yang & Ramanan 2013, IEEE TPAMI 35:2878); PCKh uses the
    head segment (Andriluka et al. 2014, CVPR, MPII), which COCO-17 and BlazePose-33 do not define, so it is
    not offered. mmpose (open-mmlab/mmpose ``mmpose/evaluation/functional/keypoint_eval.py``) normalises by the
    bounding box. The reference changes the numbers a lot: always report which one was used.
    """
    check_option("kind", kind, REFERENCE_LENGTHS)
    if kind == "scale":
        return person_scale(xy, visibility, area=area)
    xy = _as_xy(xy, "xy")
    if kind == "bbox":
        w, h, n = _box(xy, labelled_mask(xy, visibility))
        side = np.fmax(w, h)
        return np.where((n >= 2) & (side > 0), side, np.nan)
    length = np.linalg.norm(torso_vector(xy, visibility, keypoints), axis=-1)
    return np.where(length > 0, length, np.nan)


#: The keypoints :func:`torso_vector` needs.
TORSO_KEYPOINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


def torso_vector(xy, visibility=None, keypoints: Sequence[str] | None = None) -> np.ndarray:
    """The vector (..., 2) from the mid-hip to the mid-shoulder point, NaN unless both shoulders and both hips
    are labelled; ``keypoints`` names the K points of ``xy`` and must include :data:`TORSO_KEYPOINTS`.

    Its length is the torso reference of PCK (:func:`reference_length`); its direction the body axis of the
    labelling QC's left/right rule (:mod:`harness.annotations.qc_person_rules`).
    """
    xy = _as_xy(xy, "xy")
    names = list(keypoints or [])
    missing = [n for n in TORSO_KEYPOINTS if n not in names]
    if missing:
        raise InputError(f"torso length needs keypoints {missing}", field="keypoints",
                         expected="left_shoulder, right_shoulder, left_hip and right_hip")
    p = np.where(labelled_mask(xy, visibility)[..., None], xy, np.nan)
    sh = 0.5 * (p[..., names.index("left_shoulder"), :] + p[..., names.index("right_shoulder"), :])
    hip = 0.5 * (p[..., names.index("left_hip"), :] + p[..., names.index("right_hip"), :])
    return sh - hip


def keypoint_distance(gt_xy, dt_xy) -> np.ndarray:
    """Euclidean distance (pixels) of each keypoint, (..., K); NaN where either point is missing."""
    gt, dt = _as_xy(gt_xy, "gt_xy"), _as_xy(dt_xy, "dt_xy")
    return np.linalg.norm(dt - gt, axis=-1)


def normalised_distance(gt_xy, dt_xy, reference) -> np.ndarray:
    """Distance of each keypoint divided by the person's reference length (``reference`` (...), e.g. the
    person scale), (..., K); NaN where a point or the reference is missing."""
    ref = np.asarray(reference, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return keypoint_distance(gt_xy, dt_xy) / np.where(ref > 0, ref, np.nan)[..., None]


def keypoint_similarity(d, scale, sigmas) -> np.ndarray:
    """COCO's keypoint similarity ``exp(-d^2 / (2 s^2 k^2))`` with ``k = 2 sigma``, (..., K).

    ``d`` (..., K) distances in pixels, ``scale`` (...) the person scale ``s``, ``sigmas`` (K,). A keypoint with
    ``sigma = 0`` has similarity 1 at distance 0 and 0 elsewhere (the limit). See :func:`oks` for the source.
    """
    d = np.asarray(d, dtype=float)
    s2 = np.asarray(scale, dtype=float)[..., None] ** 2
    k2 = (2.0 * np.asarray(sigmas, dtype=float)) ** 2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e = d ** 2 / k2 / (s2 + _EPS) / 2.0
        e = np.where((k2 == 0) & (d == 0), 0.0, e)
        return np.exp(-e)


def oks(gt_xy, gt_visibility, dt_xy, sigmas, *, area=None) -> np.ndarray:
    """Object keypoint similarity of detected (or second-rater) keypoints against ground-truth keypoints.

    Parameters
    ----------
    gt_xy : array (..., K, 2)
        Reference keypoints (pixels).
    gt_visibility : array (..., K)
        COCO flags of the reference; only labelled keypoints (:func:`labelled_mask`) count.
    dt_xy : array (..., K, 2)
        Keypoints compared with the reference; a NaN point where the reference is labelled scores similarity 0
        (as a missing detection far away would).
    sigmas : array (K,)
        Per-keypoint constants sigma_i (e.g. :func:`coco_sigmas`); ``k_i = 2 sigma_i``.
    area : array (...), optional
        The reference person's area ``s^2``; default: from :func:`person_scale` of the reference (keypoint box).

    Returns
    -------
    ndarray (...)
        OKS in [0, 1]; NaN for a reference with no labelled keypoint or no scale.

    Notes
    -----
    As ``COCOeval.computeOks`` in cocodataset/cocoapi ``PythonAPI/pycocotools/cocoeval.py``:
    ``vars = (sigmas * 2)**2``, ``e = (dx**2 + dy**2) / vars / (area + np.spacing(1)) / 2``, ``e = e[vg > 0]``,
    ``oks = sum(exp(-e)) / e.shape[0]``; i.e. the COCO keypoint evaluation page's
    ``OKS = sum_i exp(-d_i^2 / (2 s^2 k_i^2)) delta(v_i > 0) / sum_i delta(v_i > 0)`` with ``s^2`` the area.
    cocoeval's other branch (a ground truth with no labelled keypoint, matched by distance to an enlarged box
    for crowd/ignore regions) serves detection matching only; here such a reference gives NaN.
    """
    gt = _as_xy(gt_xy, "gt_xy")
    dt = _as_xy(dt_xy, "dt_xy")
    sig = np.asarray(sigmas, dtype=float)
    if sig.ndim != 1 or sig.shape[0] != gt.shape[-2]:
        raise InputError(f"{sig.size} sigma(s) for {gt.shape[-2]} keypoints", field="sigmas",
                         expected="one sigma per keypoint")
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise InputError("sigmas contain NaN or negative values", field="sigmas",
                         expected="finite sigmas >= 0 (drop keypoints without a sigma first)")
    lab = labelled_mask(gt, gt_visibility)
    s2 = (person_scale(gt, lab) ** 2) if area is None else np.asarray(area, dtype=float)
    d = np.linalg.norm(np.broadcast_to(dt, np.broadcast_shapes(dt.shape, gt.shape)) - gt, axis=-1)
    ks = keypoint_similarity(d, np.sqrt(np.where(s2 >= 0, s2, np.nan)), sig)
    ks = np.where(np.isfinite(d), ks, 0.0)            # reference labelled, other point missing: similarity 0
    n = lab.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(lab, ks, 0.0).sum(axis=-1) / n
    return np.where((n > 0) & np.isfinite(s2), out, np.nan)


def pck_correct(gt_xy, gt_visibility, dt_xy, reference, threshold: float) -> np.ndarray:
    """Per keypoint, 1.0 when the point lies within ``threshold * reference`` of the reference point, else 0.0.

    ``reference`` (...) is each person's reference length (:func:`reference_length`). Returns (..., K): NaN
    where the reference keypoint is not labelled (v = 0) or the reference length is missing, 0.0 where the
    reference is labelled but the compared point is missing. PCK is the mean of the non-NaN entries.

    Notes
    -----
    The comparison is strict (``d / reference < threshold``), as ``_distance_acc`` in open-mmlab/mmpose
    ``mmpose/evaluation/functional/keypoint_eval.py``.
    """
    threshold = check_range(threshold, "threshold", 0.0, np.inf, low_open=True, high_open=True)
    gt = _as_xy(gt_xy, "gt_xy")
    lab = labelled_mask(gt, gt_visibility)
    nd = normalised_distance(gt, dt_xy, reference)
    ref_ok = np.isfinite(np.asarray(reference, dtype=float))[..., None]
    with np.errstate(invalid="ignore"):
        hit = np.where(np.isfinite(nd), (nd < threshold).astype(float), 0.0)
    return np.where(lab & ref_ok, hit, np.nan)
