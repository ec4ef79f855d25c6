"""Keypoint comparison helpers shared by inter-rater reliability and by scoring pose models against annotators.

Everything here works on plain arrays (``(..., K, 2)`` pixel coordinates, ``(..., K)`` visibility flags in the
COCO convention 0 / 1 / 2, NaN for a missing point) so that the same definitions score two human raters against
each other and a pose model against the raters' consensus. The table-level helpers at the end
(:func:`match_persons`, :func:`consensus`) read the tidy ``points`` table of
:class:`candidates.annotations.model.AnnotationSet`.

Definitions (each function's Notes cite its source):

- person scale ``s``: COCO's ``sqrt(segment area)``; without a segmentation, ``sqrt(w * h)`` of the bounding box
  of the person's labelled keypoints (:func:`person_scale`);
- OKS: COCO's object keypoint similarity exactly as ``pycocotools`` computes it (:func:`oks`);
- PCK: a keypoint is correct when its distance is below ``threshold`` times a reference length
  (:func:`pck_correct`, :func:`reference_length`).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ground_truth.kernel import InputError, check_option, check_range

#: COCO's per-keypoint constants sigma_i of the 17 person keypoints, as ``Params.setKpParams`` sets
#: ``kpt_oks_sigmas`` in cocodataset/cocoapi ``PythonAPI/pycocotools/cocoeval.py`` (``np.array([.26, .25, .25,
#: .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0``), in COCO-17 order; the
#: COCO keypoint evaluation page (cocodataset.org/#keypoints-eval, note 2 of section 2) lists the same values.
COCO17_SIGMAS = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
}
#: Provisional sigma of a keypoint COCO does not define (used only to match persons across raters): the mean of
#: the 17 COCO sigmas (0.0669), a typical body-keypoint spread.
PROVISIONAL_SIGMA = float(np.mean(list(COCO17_SIGMAS.values())))
#: Reference lengths :func:`reference_length` knows.
REFERENCE_LENGTHS = ("scale", "bbox", "torso")
#: Least mean OKS at which two raters' persons are taken to be the same person (:func:`match_persons`).
MIN_MATCH_SIMILARITY = 0.1

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


def _labelled(xy: np.ndarray, visibility) -> np.ndarray:
    """Labelled mask (..., K): visibility > 0 (COCO's v > 0) and finite coordinates."""
    finite = np.isfinite(xy).all(axis=-1)
    if visibility is None:
        return finite
    v = np.asarray(visibility)
    if v.shape != finite.shape:
        v = np.broadcast_to(v, finite.shape)
    return finite & (v > 0)


def person_scale(xy, visibility=None, *, area=None) -> np.ndarray:
    """Person scale ``s`` (pixels) of each person: ``sqrt(area)``, else ``sqrt(w * h)`` of the labelled keypoints'
    bounding box.

    Parameters
    ----------
    xy : array (..., K, 2)
        Keypoint coordinates (pixels), NaN where missing.
    visibility : array (..., K), optional
        COCO flags; only keypoints with v > 0 and finite coordinates count. Default: finite coordinates.
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
    lab = _labelled(xy, visibility)
    x = np.where(lab, xy[..., 0], np.nan)
    y = np.where(lab, xy[..., 1], np.nan)
    n = lab.sum(axis=-1)
    with warnings.catch_warnings():
        # persons with no labelled keypoint give all-NaN slices; their scale is NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        w = np.nanmax(x, axis=-1) - np.nanmin(x, axis=-1)
        h = np.nanmax(y, axis=-1) - np.nanmin(y, axis=-1)
    area_box = w * h
    with np.errstate(invalid="ignore"):
        return np.where((n >= 2) & (area_box > 0), np.sqrt(np.where(area_box > 0, area_box, np.nan)), np.nan)


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
    lab = _labelled(xy, visibility)
    if kind == "bbox":
        x = np.where(lab, xy[..., 0], np.nan)
        y = np.where(lab, xy[..., 1], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # no labelled keypoint: NaN length, by design
            side = np.fmax(np.nanmax(x, -1) - np.nanmin(x, -1), np.nanmax(y, -1) - np.nanmin(y, -1))
        return np.where((lab.sum(-1) >= 2) & (side > 0), side, np.nan)
    names = list(keypoints or [])
    need = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    missing = [n for n in need if n not in names]
    if missing:
        raise InputError(f"torso length needs keypoints {missing}", field="keypoints",
                         expected="left_shoulder, right_shoulder, left_hip and right_hip")
    p = np.where(lab[..., None], xy, np.nan)
    sh = 0.5 * (p[..., names.index("left_shoulder"), :] + p[..., names.index("right_shoulder"), :])
    hip = 0.5 * (p[..., names.index("left_hip"), :] + p[..., names.index("right_hip"), :])
    length = np.linalg.norm(sh - hip, axis=-1)
    return np.where(length > 0, length, np.nan)


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
        COCO flags of the reference; only keypoints with v > 0 (and finite coordinates) count.
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
    lab = _labelled(gt, gt_visibility)
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
    lab = _labelled(gt, gt_visibility)
    nd = normalised_distance(gt, dt_xy, reference)
    ref_ok = np.isfinite(np.asarray(reference, dtype=float))[..., None]
    with np.errstate(invalid="ignore"):
        hit = np.where(np.isfinite(nd), (nd < threshold).astype(float), 0.0)
    return np.where(lab & ref_ok, hit, np.nan)


# ------------------------------------------------------------------------------------ tables of points
_NEEDED = ("annotator", "item", "person", "keypoint", "x", "y", "visibility")


def check_points(points: pd.DataFrame) -> pd.DataFrame:
    """A points table with the columns the comparisons need, ``x``, ``y`` and ``visibility`` as numbers (a
    missing visibility reads 0, not labelled); InputError naming the column otherwise."""
    if not isinstance(points, pd.DataFrame):
        raise InputError(f"points is a {type(points).__name__}", field="points",
                         expected="a DataFrame with the columns of AnnotationSet.points")
    missing = [c for c in _NEEDED if c not in points.columns]
    if missing:
        raise InputError(f"points table lacks columns {missing}", field="points",
                         expected=f"columns {list(_NEEDED)}")
    out = points.reset_index(drop=True)
    for col in ("x", "y", "visibility"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            raise InputError(f"{int(bad.sum())} value(s) are not numbers (first: {out[col][bad].iloc[0]!r} in row "
                             f"{int(np.flatnonzero(bad.to_numpy())[0])})", field=col, expected="numbers")
        out[col] = values.astype(float)
    out["visibility"] = out["visibility"].fillna(0)
    return out


def _keypoint_order(points: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(points["keypoint"].astype(str).to_numpy(dtype=object)))


def _match_similarity(entity: np.ndarray, reps: np.ndarray, sigmas: np.ndarray, fallback_area: float
                      ) -> np.ndarray:
    """Mean OKS (over the items both have) of one entity (n_items, K, 2) against cluster representatives
    (n_clusters, n_items, K, 2), counting only keypoints both labelled; -inf where nothing is shared."""
    both = np.isfinite(entity).all(-1)[None] & np.isfinite(reps).all(-1)
    # the scale is the representative's whole person, not only the keypoints this entity shares with it; a
    # person with a single keypoint has no box and takes the typical person's area
    area = person_scale(reps) ** 2
    area = np.where(np.isfinite(area), area, fallback_area)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # items one side did not label: NaN, skipped below
        o = oks(reps, both, np.broadcast_to(entity, reps.shape), sigmas, area=area)
        sim = np.nanmean(o, axis=-1)
    return np.where(np.isfinite(sim), sim, -np.inf)


def _assign(owner: list[str], arrays: np.ndarray, order: list[str], sigmas: np.ndarray,
            min_similarity: float, fallback_area: float = np.nan) -> list[list[int]]:
    """Cluster entities (persons or tracks of raters) into persons: greedy by rater, optimal within a rater.

    ``owner[e]`` is the annotator of entity ``e`` and ``arrays[e]`` its keypoints (n_items, K, 2). Raters are
    taken in ``order``; each rater's entities are assigned to the clusters built so far by
    ``linear_sum_assignment`` on the similarity (at most one entity of a rater per cluster); entities left over,
    or matched below ``min_similarity``, found new clusters. Returns the clusters as lists of entity indices."""
    clusters: list[list[int]] = []
    reps: list[np.ndarray] = []
    for ann in order:
        ents = [e for e, a in enumerate(owner) if a == ann]
        if not ents:
            continue
        assigned: dict[int, int] = {}
        if clusters:
            rep = np.stack(reps)
            sim = np.stack([_match_similarity(arrays[e], rep, sigmas, fallback_area) for e in ents])
            rows, cols = linear_sum_assignment(np.where(np.isfinite(sim), -sim, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(sim[r, c]) and sim[r, c] >= min_similarity:
                    assigned[r] = c
        for r, e in enumerate(ents):
            if r in assigned:
                c = assigned[r]
                clusters[c].append(e)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)   # keypoints no member labelled stay NaN
                    reps[c] = np.nanmean(arrays[clusters[c]], axis=0)
            else:
                clusters.append([e])
                reps.append(arrays[e].copy())
    return clusters


def match_persons(points: pd.DataFrame, *, tracks: bool = False, sigmas: dict[str, float] | None = None,
                  min_similarity: float = MIN_MATCH_SIMILARITY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match the persons of different raters that are the same person.

    Parameters
    ----------
    points : DataFrame
        Columns ``annotator, item, person, keypoint, x, y, visibility`` (``AnnotationSet.points``, or several
        sets' points concatenated); other columns are kept.
    tracks : bool
        False: persons are matched within each item (image). True: a rater's person id is a track over the
        items (video frames) and whole tracks are matched across raters by their mean similarity over the
        frames both labelled, so one frame's mistake does not swap identities.
    sigmas : dict, optional
        Keypoint name → sigma for the similarity; default COCO's (:data:`COCO17_SIGMAS`), and
        :data:`PROVISIONAL_SIGMA` for other names.
    min_similarity : float
        Least mean OKS for two persons to be the same person (default :data:`MIN_MATCH_SIMILARITY`).

    Returns
    -------
    (DataFrame, DataFrame)
        The points with ``person`` replaced by a consensus person id (``"<annotator>:<person>"`` of the
        person's first rater) and the rater's own id in ``source_person``; and one row per annotator:
        ``persons`` (its persons, or tracks), ``matched`` (matched to another rater's), ``unmatched`` (no
        other rater labelled that person), ``missed`` (persons other raters labelled, on items this rater
        labelled, that this rater did not).

    Notes
    -----
    Raters are taken in decreasing number of persons; each is assigned to the persons found so far by the
    Hungarian algorithm (``scipy.optimize.linear_sum_assignment``; Kuhn 1955, Nav Res Logist Q 2:83) on the
    OKS (:func:`oks`, computed over the keypoints both labelled, with the representative, the mean of the
    persons already matched, as reference and its keypoints' box as scale). An OKS between different people is
    near 0 because their distances are comparable to the person scale, while raters of the same person score
    near COCO's human median of about 0.9 (COCO keypoint evaluation page, section 1.3), so the threshold of 0.1
    separates them. Points with v = 0 do not take part in the matching. A person with a single labelled keypoint
    has no box: its scale is the median box area of all the persons labelled (NaN, and no match, when no person
    has two keypoints).
    """
    check_range(min_similarity, "min_similarity", 0.0, 1.0)
    pts = check_points(points)
    pts = pts.assign(annotator=pts["annotator"].astype(str), item=pts["item"].astype(str),
                     person=pts["person"].astype(str))
    keypoints = _keypoint_order(pts)
    table = dict(COCO17_SIGMAS)
    table.update(sigmas or {})
    sig = np.array([table.get(k, PROVISIONAL_SIGMA) for k in keypoints], dtype=float)
    ann = pts["annotator"].to_numpy(dtype=object)
    person = pts["person"].to_numpy(dtype=object)
    item_code, item_names = pd.factorize(pts["item"].to_numpy(dtype=object))
    k_code = pd.Index(keypoints).get_indexer(pts["keypoint"].astype(str).to_numpy(dtype=object))
    xy = pts[["x", "y"]].to_numpy(dtype=float)
    lab = (pts["visibility"].to_numpy(dtype=float) > 0) & np.isfinite(xy).all(1)
    # one entity per rater's person (tracks) or per rater's person in an item
    ent_code, ent_keys = pd.factorize(pd.MultiIndex.from_arrays(
        [ann, person] if tracks else [ann, item_code, person]))
    annotators = list(dict.fromkeys(ann))
    items_of = {a: set(item_code[ann == a]) for a in annotators}
    # a person with no labelled keypoint cannot be matched: it keeps its own id and is not counted
    cid_of_entity = np.array([f"{k[0]}:{k[-1]}" for k in ent_keys], dtype=object)
    has_points = np.bincount(ent_code, weights=lab, minlength=len(ent_keys)) > 0
    found: list[tuple[set, set]] = []                 # per consensus person: its raters, its items
    # the typical person's area (median over the raters' persons in each item), for persons too small to have a
    # box of their own
    per_person = pd.DataFrame({"e": ent_code[lab], "i": item_code[lab], "x": xy[lab, 0], "y": xy[lab, 1]})
    box = per_person.groupby(["e", "i"]).agg(x0=("x", "min"), x1=("x", "max"), y0=("y", "min"), y1=("y", "max"))
    areas = ((box["x1"] - box["x0"]) * (box["y1"] - box["y0"])).to_numpy()
    fallback_area = float(np.median(areas[areas > 0])) if (areas > 0).any() else np.nan
    groups = [np.arange(len(pts))] if tracks else np.split(np.argsort(item_code, kind="stable"),
                                                           np.cumsum(np.bincount(item_code))[:-1])
    for rows in groups:
        rows = rows[has_points[ent_code[rows]]]
        if rows.size == 0:
            continue
        ents, local = np.unique(ent_code[rows], return_inverse=True)
        its, item_local = np.unique(item_code[rows], return_inverse=True)
        arrays = np.full((ents.size, its.size, len(keypoints), 2), np.nan)
        ok = lab[rows]
        arrays[local[ok], item_local[ok], k_code[rows][ok]] = xy[rows][ok]
        owner = [ent_keys[e][0] for e in ents]
        order = sorted(set(owner), key=lambda a: (-owner.count(a), a))
        for cluster in _assign(owner, arrays, order, sig, min_similarity, fallback_area):
            first = ent_keys[ents[cluster[0]]]
            cid = f"{first[0]}:{first[-1]}"
            cid_of_entity[ents[cluster]] = cid
            where = set(its[np.isfinite(arrays[cluster]).any(axis=(0, 2, 3))]) if tracks else {int(its[0])}
            found.append(({owner[e] for e in cluster}, where))
    pts["source_person"] = pts["person"]
    pts["person"] = cid_of_entity[ent_code]
    rows_out = {a: {"annotator": a, "persons": 0, "matched": 0, "unmatched": 0, "missed": 0} for a in annotators}
    for raters, where in found:
        for a in annotators:
            if a in raters:
                rows_out[a]["persons"] += 1
                rows_out[a]["matched" if len(raters) > 1 else "unmatched"] += 1
            elif where & items_of[a]:
                rows_out[a]["missed"] += 1
    report = pd.DataFrame(list(rows_out.values()), columns=["annotator", "persons", "matched", "unmatched", "missed"])
    return pts, report


def consensus(points: pd.DataFrame, *, match: bool = True, tracks: bool = False,
              sigmas: dict[str, float] | None = None, min_similarity: float = MIN_MATCH_SIMILARITY
              ) -> pd.DataFrame:
    """The raters' consensus keypoints: per item, person and keypoint the median position over the raters who
    labelled it.

    Parameters
    ----------
    points : DataFrame
        Columns ``annotator, item, person, keypoint, x, y, visibility`` of several raters.
    match : bool
        Match persons across raters first (:func:`match_persons` with ``tracks``, ``sigmas`` and
        ``min_similarity``); False when ``person`` already names the same person for every rater.

    Returns
    -------
    DataFrame
        ``item, person, keypoint, x, y, visibility, n_raters, n_annotators``: ``x``/``y`` the median over the
        ``n_raters`` raters who labelled the keypoint (v > 0, finite coordinates; NaN when none did);
        ``visibility`` the most frequent flag among the ``n_annotators`` raters who labelled that person
        (a rater who labelled the person but not the keypoint counts as 0; ties go to the higher flag, i.e.
        labelled over not labelled, visible over occluded).

    Notes
    -----
    The coordinate-wise median is robust to one rater's gross error (a left/right swap, the wrong person) when
    three or more raters labelled the point; with two raters it is their mean.
    """
    points = check_points(points)
    pts = match_persons(points, tracks=tracks, sigmas=sigmas, min_similarity=min_similarity)[0] if match \
        else points.assign(annotator=points["annotator"].astype(str), item=points["item"].astype(str),
                           person=points["person"].astype(str))
    keypoints = _keypoint_order(pts)
    persons = pts[["item", "person"]].drop_duplicates().reset_index(drop=True)
    annotators = sorted(set(pts["annotator"]))
    u_index = {k: i for i, k in enumerate(zip(persons["item"], persons["person"]))}
    r_index = {a: i for i, a in enumerate(annotators)}
    k_index = {k: i for i, k in enumerate(keypoints)}
    X, V, A = _cube(pts, u_index, r_index, k_index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # keypoints nobody labelled: NaN consensus, by design
        med = np.nanmedian(X, axis=1)
    n_raters = np.isfinite(X).all(-1).sum(1)
    n_ann = A.sum(1)
    vis = modal_visibility(V, A)
    U, K = len(persons), len(keypoints)
    out = pd.DataFrame({
        "item": np.repeat(persons["item"].to_numpy(), K), "person": np.repeat(persons["person"].to_numpy(), K),
        "keypoint": np.tile(np.array(keypoints, dtype=object), U),
        "x": med[..., 0].ravel(), "y": med[..., 1].ravel(), "visibility": vis.ravel().astype("int8"),
        "n_raters": n_raters.ravel().astype(int), "n_annotators": np.repeat(n_ann, K).astype(int),
    })
    return out.astype({"item": "string", "person": "string", "keypoint": "string"})


def _cube(pts: pd.DataFrame, u_index: dict, r_index: dict, k_index: dict):
    """Arrays of matched points: X (U, R, K, 2) labelled coordinates (NaN otherwise), V (U, R, K) visibility
    (0 where the rater has no row), A (U, R) whether the rater labelled that person at all."""
    U, R, K = len(u_index), len(r_index), len(k_index)
    X = np.full((U, R, K, 2), np.nan)
    V = np.zeros((U, R, K), dtype=np.int8)
    A = np.zeros((U, R), dtype=bool)
    u = np.array([u_index[k] for k in zip(pts["item"].to_numpy(dtype=object), pts["person"].to_numpy(dtype=object))],
                 dtype=int)
    r = pts["annotator"].map(r_index).to_numpy(dtype=int)
    k = pts["keypoint"].astype(str).map(k_index).to_numpy(dtype=int)
    xy = pts[["x", "y"]].to_numpy(dtype=float)
    v = pts["visibility"].to_numpy(dtype=int)
    lab = (v > 0) & np.isfinite(xy).all(1)
    X[u[lab], r[lab], k[lab]] = xy[lab]
    V[u, r, k] = np.where(lab, v, 0)
    A[u[lab], r[lab]] = True
    return X, V, A


def modal_visibility(V: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Most frequent visibility flag over the raters (axis 1) who labelled the person (``A``); ties go to the
    higher flag. ``V`` (U, R, K), ``A`` (U, R); returns (U, K), 0 where no rater labelled the person."""
    counts = np.stack([((V == f) & A[..., None]).sum(1) for f in (0, 1, 2)], axis=-1)   # (U, K, 3)
    # argmax of the reversed flags picks the highest flag among the tied counts
    modal = 2 - np.argmax(counts[..., ::-1], axis=-1)
    return np.where(A.any(axis=1)[:, None], modal, 0)
