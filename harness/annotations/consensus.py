"""Persons matched across raters and the raters' consensus, on the tidy ``points`` table of
:class:`candidates.annotations.model.AnnotationSet` (several raters' points concatenated).

- :func:`check_points` and :func:`labelled_rows`: the columns the comparisons need, and which rows are labelled
  (visibility > 0, COCO's v > 0, with finite coordinates: one definition for every module);
- :func:`match_persons`: which persons (or tracks) of different raters are the same person, by OKS;
- :func:`rater_cube`: the matched points as arrays, U persons x R raters x K keypoints;
- :func:`median_of_raters`, :func:`leave_one_out`, :func:`modal_visibility`, :func:`consensus_frame`: the
  consensus of the raters (coordinate-wise median, most frequent visibility flag) and of the others of each rater;
- :func:`consensus`: all of the above from a points table.

The similarity used to match persons is :func:`harness.annotations.keypoint_metrics.oks`; each function's Notes
cite their sources.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ground_truth.kernel import InputError, check_range

from .keypoint_metrics import COCO17_SIGMAS, PROVISIONAL_SIGMA, labelled_mask, oks, person_scale

#: Least mean OKS at which two raters' persons are taken to be the same person (:func:`match_persons`).
MIN_MATCH_SIMILARITY = 0.1
#: The consensus as the results describe it.
CONSENSUS_METHOD = ("consensus = coordinate-wise median of the raters who labelled a keypoint, persons matched "
                    "across raters by OKS (harness.annotations.consensus.consensus)")

#: Columns of the consensus table (:func:`consensus`, :func:`consensus_frame`).
CONSENSUS_COLUMNS = ["item", "person", "keypoint", "x", "y", "visibility", "n_raters", "n_annotators"]

_NEEDED = ("annotator", "item", "person", "keypoint", "x", "y", "visibility")


# ------------------------------------------------------------------------------------------ tables of points
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


def labelled_rows(points: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the labelled rows of a points table (:func:`~.keypoint_metrics.labelled_mask`: visibility
    >= 1 and finite ``x`` and ``y``)."""
    return labelled_mask(points[["x", "y"]].to_numpy(dtype=float), points["visibility"].to_numpy(dtype=float))


def string_ids(points: pd.DataFrame, columns=("annotator", "item", "person")) -> pd.DataFrame:
    """The table with its identifier columns as Python strings (so that ids compare as text in every file)."""
    return points.assign(**{c: points[c].astype(str) for c in columns})


def _keypoint_order(points: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(points["keypoint"].astype(str).to_numpy(dtype=object)))


# ------------------------------------------------------------------------------------------ matching persons
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
    pts = string_ids(check_points(points))
    keypoints = _keypoint_order(pts)
    table = dict(COCO17_SIGMAS)
    table.update(sigmas or {})
    sig = np.array([table.get(k, PROVISIONAL_SIGMA) for k in keypoints], dtype=float)
    ann = pts["annotator"].to_numpy(dtype=object)
    person = pts["person"].to_numpy(dtype=object)
    item_code, item_names = pd.factorize(pts["item"].to_numpy(dtype=object))
    k_code = pd.Index(keypoints).get_indexer(pts["keypoint"].astype(str).to_numpy(dtype=object))
    xy = pts[["x", "y"]].to_numpy(dtype=float)
    lab = labelled_rows(pts)
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


# ------------------------------------------------------------------------------------------ the consensus
def rater_cube(pts: pd.DataFrame, raters: list[str], keypoints: list[str]):
    """The matched points of ``pts`` (string ids) as arrays over its persons, in first-seen order.

    Returns ``(units, X, V, A)``: ``units`` the (item, person) of each of the U persons; X (U, R, K, 2) labelled
    coordinates (NaN otherwise), V (U, R, K) visibility (0 where the rater has no row), A (U, R) whether the
    rater labelled that person at all; R and K in the order of ``raters`` and ``keypoints``.
    """
    units = pts[["item", "person"]].drop_duplicates().reset_index(drop=True)
    u_index = {k: i for i, k in enumerate(zip(units["item"], units["person"]))}
    r_index = {a: i for i, a in enumerate(raters)}
    k_index = {k: i for i, k in enumerate(keypoints)}
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
    lab = labelled_rows(pts)
    X[u[lab], r[lab], k[lab]] = xy[lab]
    V[u, r, k] = np.where(lab, v, 0)
    A[u[lab], r[lab]] = True
    return units, X, V, A


def median_of_raters(X: np.ndarray) -> np.ndarray:
    """Coordinate-wise median over the raters (axis 1) of X (U, R, K, 2) who labelled each point; NaN where
    none did."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # keypoints nobody labelled: NaN consensus, by design
        return np.nanmedian(X, axis=1)


def leave_one_out(X: np.ndarray) -> np.ndarray:
    """(U, R, K, 2): for each rater the median of the *other* raters (for two raters, the other one's point)."""
    R = X.shape[1]
    if R <= 2:
        return X[:, ::-1]
    return np.stack([median_of_raters(np.delete(X, r, axis=1)) for r in range(R)], axis=1)


def modal_visibility(V: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Most frequent visibility flag over the raters (axis 1) who labelled the person (``A``); ties go to the
    higher flag. ``V`` (U, R, K), ``A`` (U, R); returns (U, K), 0 where no rater labelled the person."""
    counts = np.stack([((V == f) & A[..., None]).sum(1) for f in (0, 1, 2)], axis=-1)   # (U, K, 3)
    # argmax of the reversed flags picks the highest flag among the tied counts
    modal = 2 - np.argmax(counts[..., ::-1], axis=-1)
    return np.where(A.any(axis=1)[:, None], modal, 0)


def consensus_frame(units: pd.DataFrame, keypoints: list[str], X: np.ndarray, V: np.ndarray, A: np.ndarray,
                    median: np.ndarray | None = None) -> pd.DataFrame:
    """The consensus table of :func:`consensus` from the arrays of :func:`rater_cube` (``median``: the
    :func:`median_of_raters` of X when already computed)."""
    med = median_of_raters(X) if median is None else median
    K = len(keypoints)
    return pd.DataFrame({
        "item": np.repeat(units["item"].to_numpy(), K), "person": np.repeat(units["person"].to_numpy(), K),
        "keypoint": np.tile(np.array(keypoints, dtype=object), len(units)),
        "x": med[..., 0].ravel(), "y": med[..., 1].ravel(),
        "visibility": modal_visibility(V, A).ravel().astype("int8"),
        "n_raters": np.isfinite(X).all(-1).sum(1).ravel().astype(int),
        "n_annotators": np.repeat(A.sum(1), K).astype(int),
    })


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
        else string_ids(points)
    keypoints = _keypoint_order(pts)
    units, X, V, A = rater_cube(pts, sorted(set(pts["annotator"])), keypoints)
    out = consensus_frame(units, keypoints, X, V, A)
    return out.astype({"item": "string", "person": "string", "keypoint": "string"})


__all__ = ["CONSENSUS_COLUMNS", "CONSENSUS_METHOD", "MIN_MATCH_SIMILARITY", "check_points", "consensus",
           "consensus_frame", "labelled_rows", "leave_one_out", "match_persons", "median_of_raters",
           "modal_visibility", "rater_cube", "string_ids"]
