"""Subject-clustered bootstrap confidence intervals, batched in numpy.

Resampling draws whole subjects (clusters) with replacement, so trials of one subject stay together and
the interval reflects between-subject variation, the unit of a validation study.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, check_option

from ._checks import check_confidence
from .icc import ICC_TYPES, _check_matrix, icc_values, ratings_matrix

#: Work arrays of batched bootstraps are kept below about this many float64 elements (32 MB).
BATCH_ELEMENTS = 4_000_000


@dataclass
class BootstrapResult:
    """Point estimate and percentile bootstrap CI."""

    estimate: float
    ci_low: float
    ci_high: float
    se: float
    n_resamples: int
    n_clusters: int
    confidence: float
    method: str = "percentile, subject-clustered"
    n_failed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def check_resamples(n_resamples) -> int:
    """``n_resamples`` as an int; InputError unless it is an integer >= 100."""
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 100:
        raise InputError(f"n_resamples is {n_resamples!r}", field="n_resamples", expected="an integer >= 100")
    return int(n_resamples)


def summarise_bootstrap(estimate, boot, confidence, n_clusters, method="percentile, subject-clustered"
                        ) -> BootstrapResult:
    """The percentile CI and SE of the bootstrap values ``boot`` of a statistic whose point estimate is
    ``estimate``; undefined (non-finite) resamples are counted in ``n_failed`` and more than 10 % of them raise
    InputError. See :func:`bootstrap_ci` for the method's sources."""
    boot = np.asarray(boot, dtype=float)
    ok = np.isfinite(boot)
    n_failed = int((~ok).sum())
    if ok.sum() < 0.9 * boot.size:
        raise InputError(f"{n_failed} of {boot.size} bootstrap resamples gave an undefined statistic",
                         field="statistic", expected="a statistic defined on resampled subjects "
                                                    "(more subjects, or a more stable statistic)")
    b = boot[ok]
    alpha = 1 - confidence
    lo, hi = np.quantile(b, [alpha / 2, 1 - alpha / 2])
    return BootstrapResult(estimate=float(estimate), ci_low=float(lo), ci_high=float(hi), se=float(b.std(ddof=1)),
                           n_resamples=int(boot.size), n_clusters=int(n_clusters), confidence=confidence,
                           method=method, n_failed=n_failed)


def cluster_indices(n_clusters: int, n_resamples: int, seed=None) -> np.ndarray:
    """(n_resamples, n_clusters) indices of clusters drawn with replacement."""
    return _rng(seed).integers(0, n_clusters, size=(n_resamples, n_clusters))


def cluster_counts(idx: np.ndarray, n_clusters: int) -> np.ndarray:
    """How often each cluster was drawn in each resample: (n_resamples, n_clusters) float counts."""
    b = idx.shape[0]
    flat = (idx + (np.arange(b) * n_clusters)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n_clusters).reshape(b, n_clusters).astype(float)


def bootstrap_ci(statistic: Callable, *arrays, clusters=None, n_resamples: int = 2000,
                 confidence: float = 0.95, seed=0, vectorized: bool = False) -> BootstrapResult:
    """Percentile bootstrap CI of ``statistic(*arrays)``, resampling clusters (subjects) with replacement.

    Parameters
    ----------
    statistic : callable
        ``statistic(*arrays) -> float``. With ``vectorized=True`` it receives arrays with an extra leading
        resample axis, ``(B, rows, ...)``, and returns shape ``(B,)``; this needs clusters of equal size.
    *arrays : array-like
        Each with one row per observation (same length).
    clusters : array-like, optional
        Cluster (subject) label of each row; by default each row is its own cluster.
    seed : int or Generator
        The resamples are reproducible for a given seed.

    Notes
    -----
    Percentile intervals (Efron & Tibshirani 1993, ch. 13) of the cluster bootstrap (Field & Welsh 2007,
    J R Stat Soc B 69:369). Resampling rows instead of subjects would treat trials of one person as
    independent and give intervals that are too narrow. Resamples where the statistic is undefined are
    counted in ``n_failed``; more than 10 % raise an error.
    """
    confidence = check_confidence(confidence)
    n_resamples = check_resamples(n_resamples)
    arrs = [np.asarray(a) for a in arrays]
    if not arrs:
        raise InputError("no data given", field="arrays", expected="at least one array")
    n = arrs[0].shape[0]
    for i, a in enumerate(arrs):
        if a.shape[0] != n:
            raise InputError(f"array {i} has {a.shape[0]} rows but array 0 has {n}", field=f"arrays[{i}]",
                             expected="the same number of rows in every array")
    labels = np.arange(n) if clusters is None else np.asarray(clusters)
    if labels.shape[0] != n:
        raise InputError(f"clusters has {labels.shape[0]} labels for {n} rows", field="clusters",
                         expected="one cluster label per row")
    codes, uniq = pd.factorize(pd.Series(labels), sort=True)
    n_clusters = len(uniq)
    if n_clusters < 3:
        raise InputError(f"only {n_clusters} cluster(s)", field="clusters", expected="at least 3 subjects")
    estimate = statistic(*arrs) if not vectorized else np.asarray(statistic(*[a[None] for a in arrs]))[0]
    idx = cluster_indices(n_clusters, n_resamples, seed)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_clusters)
    if vectorized:
        if np.ptp(sizes) != 0:
            raise InputError("vectorized bootstrap needs clusters of equal size", field="clusters",
                             expected="equal numbers of rows per subject, or vectorized=False")
        size = int(sizes[0])
        grouped = [a[order].reshape((n_clusters, size) + a.shape[1:]) for a in arrs]
        boot = np.empty(n_resamples)
        step = max(1, int(4e6 // max(1, n * max(1, int(np.prod(arrs[0].shape[1:]))))))
        for s in range(0, n_resamples, step):
            sel = idx[s:s + step]
            batch = [g[sel].reshape((sel.shape[0], n) + g.shape[2:]) for g in grouped]
            boot[s:s + step] = np.asarray(statistic(*batch), dtype=float)
    else:
        starts = np.concatenate([[0], np.cumsum(sizes)])
        rows_of = [order[starts[c]:starts[c + 1]] for c in range(n_clusters)]
        boot = np.empty(n_resamples)
        for b in range(n_resamples):
            rows = np.concatenate([rows_of[c] for c in idx[b]])
            try:
                boot[b] = statistic(*[a[rows] for a in arrs])
            except (InputError, FloatingPointError, ZeroDivisionError):
                boot[b] = np.nan
    return summarise_bootstrap(estimate, boot, confidence, n_clusters)


def bootstrap_icc(data, targets: str | None = None, raters: str | None = None, ratings: str | None = None, *,
                  icc_type: str = "ICC(A,1)", n_resamples: int = 2000, confidence: float = 0.95,
                  seed=0, batch_size: int = 250) -> BootstrapResult:
    """Subject (target) bootstrap CI of one ICC form, fully batched in numpy.

    ``data`` is a long DataFrame (with ``targets``, ``raters``, ``ratings``) or a complete (n_targets,
    k_raters) array. Each resample draws targets with replacement; the ICC of all resamples is computed as
    one (batch, n, k) array operation (see :func:`harness.agreement.icc.icc_values`).
    """
    check_option("icc_type", icc_type, ICC_TYPES)
    confidence = check_confidence(confidence)
    n_resamples = check_resamples(n_resamples)
    if isinstance(data, pd.DataFrame):
        y, _ = ratings_matrix(data, targets, raters, ratings)
    else:
        y = np.asarray(data, dtype=float)
    _check_matrix(y)
    n = y.shape[0]
    estimate = float(icc_values(y)[icc_type])
    idx = cluster_indices(n, n_resamples, seed)
    boot = np.empty(n_resamples)
    with np.errstate(invalid="ignore", divide="ignore"):
        for s in range(0, n_resamples, batch_size):
            boot[s:s + batch_size] = icc_values(y[idx[s:s + batch_size]])[icc_type]
    return summarise_bootstrap(estimate, boot, confidence, n)
