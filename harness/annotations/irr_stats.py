"""The per-keypoint and per-rater statistics of inter-rater reliability, for a point estimate and for every
bootstrap resample at once (:func:`harness.annotations.irr.keypoint_irr` assembles them into tables).

:class:`RaterArrays` holds the matched annotations as arrays (U persons x R raters x K keypoints) and
:meth:`RaterArrays.stats` computes every statistic as a ratio of weighted sums over persons, so that one matrix of
person weights (one row per resample of items: :func:`bootstrap_stats`) gives all the resamples in a few array
operations; :func:`icc_a1` and ``_icc_a1_weighted`` give ICC(A,1) likewise; :func:`ci_or_nan` reads a percentile
CI off the resamples.

Distances are normalised by the person scale ``s`` and taken from each rater to the leave-one-out consensus of
the others (:func:`harness.annotations.consensus.leave_one_out`); PCK counts those below a threshold (strict, as
mmpose's ``_distance_acc``). The other definitions and their sources:

**Sigma** (per-keypoint OKS constant) is estimated from the raters as COCO derived its constants from
redundant annotations, sigma_i^2 = E[d_i^2 / s^2] (COCO keypoint evaluation page, section 1.3; Ronchi MR,
Perona P (2017) Benchmarking and error diagnosis in multi-instance pose estimation, ICCV, section 3).
Neither states which point ``d_i`` is measured from; here it is the distance of one annotation from the
true point, estimated without bias from the n >= 2 raters of a person by the sample variance,
``sum_r |p_r - mean_r p_r|^2 / (n - 1)`` (x and y summed), per ``s^2``, averaged over persons. For raters
with independent isotropic errors of SD tau_r per axis this estimates ``2 * mean_r(tau_r^2) / s^2``
(E[sum_r (x_r - mean x)^2] = (n - 1)/n * sum_r tau_r^2), whatever the mix of good and bad raters.

**OKS** per rater and person: COCO's keypoint similarity ``exp(-d^2 / (2 s^2 k^2))``, ``k = 2 sigma`` with
the estimated sigmas, averaged over the keypoints the others labelled (cocoeval ``computeOks``);
``oks_coco`` uses COCO's published sigmas (keypoints COCO does not define are left out of it).
``similarity`` per keypoint is the mean keypoint similarity over the comparisons. With sigmas estimated
from the same raters it is nearly fixed for Gaussian errors: against the true point d^2/s^2 = sigma^2/2
chi2_2, so the similarity is exp(-chi2_2/16) with mean 1/(1 + 2/16) = 0.89 (COCO page: "75%" of human
keypoints above 0.88); against one other rater (two raters) d^2 doubles and the mean is 1/(1 + 2/8) = 0.8;
against the consensus of several it lies between. Differences between raters, not between keypoints, are
what it shows.

**ICC(A,1)** (two-way random, absolute agreement, single rater; McGraw & Wong 1996, via
:func:`harness.agreement.icc.icc_values`) of the x coordinates and, separately, of the y coordinates, with
the persons labelled by every rater as targets. It depends on how much the keypoint moves between targets
(images): a keypoint that hardly moves has a low ICC even when raters agree to a pixel. The bootstrap
ICCs use the same resamples as every other statistic, from weighted sums of the mean squares
(``_icc_a1_weighted``, checked against ``icc_values`` of the resampled matrices).

**Drift**: per rater, the least-squares slope of its per-person mean normalised distance against the
item's position in its own order (0 = first, 1 = last; frame number for video, else the order of the
rater's file): the change in error from the first to the last item.

**CIs**: percentile bootstrap (Efron & Tibshirani 1993) resampling *items* with replacement (cluster
bootstrap, Field & Welsh 2007), so the persons of one image stay together; every statistic, including
the estimated sigmas inside OKS, is recomputed on each resample. Frames of one video are resampled as
independent items, which understates the uncertainty when errors persist over consecutive frames.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse

from ground_truth.kernel import InputError
from harness.agreement.bootstrap import BATCH_ELEMENTS as _BATCH_ELEMENTS
from harness.agreement.bootstrap import cluster_counts, cluster_indices, summarise_bootstrap
from harness.agreement.icc import icc_values

from .consensus import leave_one_out, median_of_raters
from .keypoint_metrics import coco_sigmas, keypoint_similarity, person_scale

#: The sigma estimator, as the results state it.
SIGMA_DEFINITION = ("sigma_k^2 = mean over persons of [sum_r |p_r - mean p|^2 / (n - 1)] / s^2: the unbiased "
                    "variance of the n raters' points (x and y summed) per person scale squared, i.e. E[d^2/s^2] "
                    "with d the distance of one annotation from the true point (COCO keypoint evaluation, "
                    "section 1.3)")
#: The drift statistic, as the results state it.
DRIFT_DEFINITION = ("slope of the rater's per-person mean normalised distance to the others' consensus against "
                    "the item's position in that rater's own order scaled to 0..1 (video frame number when every "
                    "item is a frame, else the order of the rater's file): the change from first to last item")



def ci_or_nan(estimate: float, boot: np.ndarray | None, confidence: float, n_clusters: int, what: str,
              notes: list[str]) -> tuple[float, float]:
    """Percentile CI of one statistic; NaN bounds (with a note) when the bootstrap is not possible."""
    if boot is None or not np.isfinite(estimate):
        return np.nan, np.nan
    try:
        r = summarise_bootstrap(estimate, boot, confidence, n_clusters, method="percentile, item-clustered")
    except InputError as exc:
        notes.append(f"{what}: no CI ({exc.reason})")
        return np.nan, np.nan
    return r.ci_low, r.ci_high


def safe_div(a, b):
    """a / b where b > 0, NaN elsewhere (no warning)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


class RaterArrays:
    """The matched annotations as arrays: U persons (units) x R raters x K keypoints."""

    def __init__(self, X, A, keypoints, raters, unit_item, t, threshold, area=None):
        self.keypoints, self.raters = keypoints, raters
        U, R, K, _ = X.shape
        lab = np.isfinite(X).all(-1)                                   # (U, R, K)
        cons = median_of_raters(X)                                      # (U, K, 2)
        loo = leave_one_out(X)                                          # (U, R, K, 2)
        with warnings.catch_warnings():
            # keypoints nobody labelled give all-NaN slices: NaN, masked below
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(X, axis=1)
        self.scale = person_scale(cons, area=area)                      # (U,)
        s = self.scale
        ok_s = np.isfinite(s)
        n = lab.sum(1)                                                  # (U, K)
        dev2 = np.where(lab, ((X - mean[:, None]) ** 2).sum(-1), 0.0).sum(1)
        self.m = ((n >= 2) & ok_s[:, None]).astype(float)                # units that inform sigma
        self.v = np.where(self.m > 0, safe_div(dev2, (n - 1) * (s ** 2)[:, None]), 0.0)
        d = np.linalg.norm(X - loo, axis=-1)                            # (U, R, K)
        self.delta = d / np.where(ok_s, s, np.nan)[:, None, None]
        self.q = np.isfinite(self.delta)
        self.delta0 = np.where(self.q, self.delta, 0.0)
        self.qf = self.q.astype(float)
        self.hit = np.where(self.q, self.delta0 < threshold, False).astype(float)
        others = np.isfinite(loo).all(-1)
        self.g = (A[:, :, None] & others & ok_s[:, None, None]).astype(float)
        self.G = self.g.sum(-1)                                         # (U, R) OKS denominators
        self.missing = (A[:, :, None] & others & ~lab).sum((0, 2))        # (R,) keypoints others labelled, not r
        self.coco = coco_sigmas(keypoints)
        self.has_coco = np.isfinite(self.coco)
        if self.has_coco.any():
            sig = np.where(self.has_coco, self.coco, 1.0)
            ks = keypoint_similarity(d, s[:, None], sig)
            num = np.where(self.q & self.has_coco, ks, 0.0).sum(-1)
            den = (self.g * self.has_coco).sum(-1)
            self.oks_coco_ur = safe_div(num, den)
            self.coco_valid = (den > 0).astype(float)
        else:
            self.oks_coco_ur = np.full((U, R), np.nan)
            self.coco_valid = np.zeros((U, R))
        self.cons, self.lab, self.A, self.unit_item, self.X = cons, lab, A, unit_item, X
        # drift: each rater's per-person error against its own position in the item order
        qs = self.qf.sum(-1)
        self.err = safe_div(self.delta0.sum(-1), qs)                  # (U, R)
        self.err_valid = (qs > 0).astype(float)
        self.t = t                                                      # (U, R) in [0, 1]
        # the compared points (q) as flat lists, and sparse sums of them per keypoint and per rater (each point
        # weighted by 1 / the number of keypoints of its OKS, so that the sum per rater is sum_u OKS_ur)
        u_m, r_m, k_m = np.nonzero(self.q)
        self.u_m, self.k_m, self.d2_m = u_m, k_m, self.delta0[u_m, r_m, k_m] ** 2
        M = u_m.size
        self.to_k = sparse.csr_matrix((np.ones(M), (np.arange(M), k_m)), shape=(M, K))
        self.to_r = sparse.csr_matrix((1.0 / self.G[u_m, r_m], (np.arange(M), r_m)), shape=(M, R))
        # ICC targets: persons every rater labelled, per keypoint; coordinates centred (a shift changes no mean
        # square) so that the weighted sums of the bootstrap stay well conditioned
        self.icc_rows = A.all(1)[:, None] & lab.all(1)                   # (U, K)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # a keypoint with no ICC target: NaN, never used
            self.icc_y = X - np.nanmean(np.where(self.icc_rows[:, None, :, None], X, np.nan), axis=(0, 1))

    def stats(self, W: np.ndarray) -> dict[str, np.ndarray]:
        """All the ratio-of-sums statistics for unit weights ``W`` (b, U): the point estimate for W = 1, one
        bootstrap resample per row otherwise."""
        out = {}
        U, R, K = self.delta.shape
        b = W.shape[0]

        def per_rk(values):            # sum over persons, weighted: (b, R, K)
            return (W @ values.reshape(U, R * K)).reshape(b, R, K)

        sig2 = safe_div(W @ (self.m * self.v), W @ self.m)              # (b, K)
        out["sigma"] = np.sqrt(sig2)
        q_rk, d_rk, h_rk = per_rk(self.qf), per_rk(self.delta0), per_rk(self.hit)
        qsum, rq = q_rk.sum(1), q_rk.sum(2)
        out["kp_dist"] = safe_div(d_rk.sum(1), qsum)
        out["kp_pck"] = safe_div(h_rk.sum(1), qsum)
        out["r_dist"] = safe_div(d_rk.sum(2), rq)
        out["r_pck"] = safe_div(h_rk.sum(2), rq)
        out["all_dist"] = safe_div(d_rk.sum((1, 2)), rq.sum(-1))
        out["all_pck"] = safe_div(h_rk.sum((1, 2)), rq.sum(-1))
        # keypoint similarity exp(-d^2/(2 s^2 (2 sigma)^2)) with the sigma of the same resample, over the M
        # compared points only (the q entries), summed through sparse indicator matrices
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # 1 / (2 k^2) with k = 2 sigma; sigma = 0 (raters identical) is kept finite so that d = 0 scores 1,
            # and a sigma no resampled person informs (NaN) only meets points of weight 0
            inv = np.nan_to_num(1.0 / (8.0 * np.maximum(sig2, 1e-300)), nan=0.0, posinf=0.0)
            WE = inv[:, self.k_m]                                          # (b, M), in place from here
            WE *= -self.d2_m
            np.exp(WE, out=WE)
            WE *= W[:, self.u_m]
        out["kp_sim"] = safe_div(np.asarray((self.to_k.T @ WE.T).T), qsum)
        valid = (self.G > 0).astype(float)
        n_valid = W @ valid                                                # (b, R)
        oks_r = np.asarray((self.to_r.T @ WE.T).T)                          # sum_u w_u OKS_ur, (b, R)
        out["r_oks"] = safe_div(oks_r, n_valid)
        out["all_oks"] = safe_div(oks_r.sum(-1), n_valid.sum(-1))
        oc = np.where(self.coco_valid > 0, self.oks_coco_ur, 0.0)
        out["r_oks_coco"] = safe_div(W @ oc, W @ self.coco_valid)
        # weighted least-squares slope of error on position, per rater
        w = W[:, :, None] * self.err_valid[None]                          # (b, U, R)
        sw = w.sum(1)
        t = np.where(self.err_valid > 0, self.t, 0.0)
        e_ = np.where(self.err_valid > 0, self.err, 0.0)
        st, se = (w * t).sum(1), (w * e_).sum(1)
        stt, ste = (w * t * t).sum(1), (w * t * e_).sum(1)
        num = ste - safe_div(st * se, sw)
        den = stt - safe_div(st * st, sw)
        # a rater whose compared items all sit at one position has no slope (den = 0)
        out["r_drift"] = np.where(den > 1e-12, safe_div(num, np.where(den > 1e-12, den, 1.0)), np.nan)
        for axis, key in ((0, "icc_x"), (1, "icc_y")):
            out[key] = np.stack([_icc_a1_weighted(self.icc_y[self.icc_rows[:, k], :, k, axis],
                                                  W[:, self.icc_rows[:, k]]) for k in range(K)], axis=1)
        return out


def bootstrap_stats(data: RaterArrays, n_items: int, n_resamples: int, rng) -> dict[str, np.ndarray]:
    """Every statistic of :meth:`RaterArrays.stats` on ``n_resamples`` resamples of the items drawn with
    replacement (each person weighted by how often its item was drawn), one row per resample."""
    U, R, K = data.delta.shape
    idx = cluster_indices(n_items, n_resamples, rng)
    step = max(1, _BATCH_ELEMENTS // max(1, U * R * K))
    parts: dict[str, list] = {}
    for s in range(0, n_resamples, step):
        counts = cluster_counts(idx[s:s + step], n_items)
        W = counts[:, data.unit_item]
        for key, val in data.stats(W).items():
            parts.setdefault(key, []).append(val)
    return {k: np.concatenate(v, axis=0) for k, v in parts.items()}


# ------------------------------------------------------------------------------------------------- ICC
def icc_a1(y: np.ndarray) -> float:
    """ICC(A,1) of a complete (targets x raters) matrix by :func:`harness.agreement.icc.icc_values`; NaN with
    fewer than 3 targets or no variation."""
    if y.shape[0] < 3 or np.ptp(y) == 0:
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(icc_values(y)["ICC(A,1)"])


def _icc_a1_weighted(y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """ICC(A,1) of ``y`` (n targets x k raters) with the targets repeated ``W`` (b, n) times, one per row of W:
    the bootstrap resamples, without building the repeated matrices.

    The two-way mean squares of the repeated matrix (N = sum of the weights rows) are those of
    :func:`harness.agreement.icc.mean_squares`, written with weighted sums: SS_total = sum w_i sum_j y_ij^2 -
    N k g^2, SS_targets = sum w_i r_i^2 / k - N k g^2 (r_i the row sums), SS_raters = sum_j C_j^2 / N - N k g^2
    (C_j the weighted column sums), SS_error the rest; ICC(A,1) = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ -
    MSE) / N) (McGraw & Wong 1996). tests/test_annotations_irr.py checks it against ``icc_values`` of the
    repeated matrices."""
    b = W.shape[0]
    n, k = y.shape
    if n < 3 or k < 2:
        return np.full(b, np.nan)
    N = W.sum(axis=1)
    r = y.sum(axis=1)
    g = (W @ r) / (N * k)
    base = N * k * g ** 2
    ss_total = W @ (y ** 2).sum(axis=1) - base
    ss_b = (W @ r ** 2) / k - base
    ss_j = ((W @ y) ** 2).sum(axis=1) / N - base
    ss_e = ss_total - ss_b - ss_j
    with np.errstate(invalid="ignore", divide="ignore"):
        msb, msj, mse = ss_b / (N - 1), ss_j / (k - 1), ss_e / ((N - 1) * (k - 1))
        icc = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / N)
    # fewer than 3 distinct targets drawn, or no variation: undefined, as for the point estimate
    distinct = (W > 0).sum(axis=1)
    return np.where((distinct >= 3) & (ss_total > 0) & np.isfinite(icc), icc, np.nan)

