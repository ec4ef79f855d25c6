"""``prieto1996``: the classic time- and frequency-domain COP measures of Prieto et al. (1996).

Prieto TE, Myklebust JB, Hoffmann RG, Lovett EG, Myklebust BM (1996). Measures of postural steadiness:
differences between healthy young and elderly adults. IEEE Trans Biomed Eng 43(9):956-966.
doi:10.1109/10.532130

Definitions (AP, ML are the COP referenced to its mean; RD = sqrt(AP² + ML²); N samples; T = N/fs):

* mean distance MDIST = mean(RD); MDIST_AP = mean|AP|, MDIST_ML = mean|ML|
* RMS distance RDIST = sqrt(mean(RD²)); RDIST_AP = sqrt(mean(AP²)), RDIST_ML likewise
* total excursion TOTEX = Σ sqrt(ΔAP² + ΔML²); TOTEX_AP = Σ|ΔAP|, TOTEX_ML = Σ|ΔML|
* mean velocity MVELO = TOTEX / T (and per axis)
* range RANGE = largest distance between any two points (convex hull, O(n log n)); RANGE_AP = max − min
* mean frequency MFREQ = MVELO / (2π·MDIST); MFREQ_AP = MVELO_AP / (4√2·MDIST_AP), ML likewise
* 95% confidence circle AREA-CC = π(MDIST + z₀.₀₅·s_RD)², s_RD = sqrt(RDIST² − MDIST²), z₀.₀₅ = 1.645
* 95% confidence ellipse AREA-CE = 2π·F₀.₀₅[2, N−2]·sqrt(s_AP²·s_ML² − s_APML²), s with 1/N
* sway area per unit time AREA-SW = Σ|AP[n+1]·ML[n] − AP[n]·ML[n+1]| / (2T)
* fractal dimension FD = log N / log(N·d / TOTEX) with d = RANGE (FD-PD), d = 2(MDIST + z₀.₀₅·s_RD)
  (FD-CC) or d = sqrt(8·F₀.₀₅[2, N−2]·sqrt(s_AP²·s_ML² − s_APML²)) (FD-CE)
* frequency domain, per axis, from the PSD G(f) restricted to 0.15 ≤ f ≤ 5 Hz with spectral moments
  μ_k = Σ f^k·G(f)·Δf: total power POWER = μ₀ (cm²), 50% and 95% power frequencies (lowest f whose
  cumulative power reaches 50% / 95% of μ₀), centroidal frequency CFREQ = sqrt(μ₂/μ₀), frequency
  dispersion FREQD = sqrt(1 − μ₁²/(μ₀·μ₂)) (unitless; 0 for a pure tone, larger for a broader spectrum).

Choices this implementation makes and states (the paper's own processing differs in detail): the measures
are computed on the COP as given, without filtering (Prieto et al. low-pass filtered their 100 Hz COP
before computing them; filter beforehand for comparability); the PSD is a Welch estimate (Hann window,
segments of N/2 samples, N/4 overlap, constant detrend).
"""
from __future__ import annotations

import numpy as np

from .common import Undefined, constant_axes, diameter, f_quantile, is_singular, path_length, ratio, welch_psd

NAME = "prieto1996"
CITATION = ("Prieto TE, Myklebust JB, Hoffmann RG, Lovett EG, Myklebust BM (1996) Measures of postural "
            "steadiness: differences between healthy young and elderly adults. IEEE Trans Biomed Eng "
            "43(9):956-966, doi:10.1109/10.532130")
ALLOWS_GAPS = False
MIN_SAMPLES = 20
Z05 = 1.645
BAND_HZ = (0.15, 5.0)


SPECTRAL = ("total_power_{}_cm2", "f50_{}_hz", "f95_{}_hz", "centroid_frequency_{}_hz", "frequency_dispersion_{}")


def _spectral(x: np.ndarray, fs: float, axis_name: str, constant: bool, undefined: Undefined) -> dict:
    n = x.shape[0]
    names = [k.format(axis_name) for k in SPECTRAL]
    out = dict.fromkeys(names, float("nan"))
    if constant:
        # no motion, no power: POWER is 0, the frequencies of that power are undefined (the caller says why)
        out[names[0]] = 0.0
        return out
    f, p = welch_psd(x, fs, nperseg=n // 2, noverlap=n // 4)
    df = f[1] - f[0]  # Welch bin width fs / nperseg
    keep = (f >= BAND_HZ[0]) & (f <= BAND_HZ[1])
    f, p = f[keep], p[keep]
    if f.size < 2:
        # bins are k * df with df = fs / (N/2): two of them within 0.15-5 Hz need df <= 2.5 Hz
        n_min = 2 * int(np.ceil(fs / 2.5))
        undefined.mark(f"trial too short for the {BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz spectrum ({f.size} Welch bin(s) "
                       f"of {df:.3g} Hz in the band, 2 needed: at least {n_min} samples, 0.8 s)", names)
        return out
    mu0 = np.sum(p * df)
    if not mu0 > 0:
        undefined.mark(f"no {axis_name} power within {BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz", names[1:])
        out[names[0]] = 0.0
        return out
    mu1 = np.sum(f * p * df)
    mu2 = np.sum(f * f * p * df)
    cum = np.cumsum(p * df)
    out[f"total_power_{axis_name}_cm2"] = float(mu0)
    for q in (50, 95):
        # lowest frequency whose cumulative power reaches q% of the total
        i = int(np.searchsorted(cum, q / 100 * mu0))
        out[f"f{q}_{axis_name}_hz"] = float(f[min(i, f.size - 1)])
    out[f"centroid_frequency_{axis_name}_hz"] = float(np.sqrt(mu2 / mu0))
    out[f"frequency_dispersion_{axis_name}"] = float(np.sqrt(np.maximum(0.0, 1.0 - mu1 ** 2 / (mu0 * mu2))))
    return out


def compute(cop_cm: np.ndarray, fs: float) -> tuple[dict, list[str]]:
    # Degenerate inputs (a constant axis, a path on one line, a short trial) are handled explicitly below and
    # named in the notes; errstate only keeps numpy from warning while the undefined values are replaced.
    with np.errstate(invalid="ignore", divide="ignore"):
        return _compute(cop_cm, fs)


def _compute(cop_cm: np.ndarray, fs: float) -> tuple[dict, list[str]]:
    n = cop_cm.shape[0]
    T = n / fs
    const = constant_axes(cop_cm)
    c = cop_cm - cop_cm.mean(axis=0)
    c[:, const] = 0.0    # a constant axis is exactly at its mean (rounding of the mean would leave ~1e-16)
    ap, ml = c[:, 0], c[:, 1]
    rd = np.hypot(ap, ml)
    mdist, mdist_ap, mdist_ml = rd.mean(), np.abs(ap).mean(), np.abs(ml).mean()
    rdist, rdist_ap, rdist_ml = np.sqrt(np.mean(rd ** 2)), np.sqrt(np.mean(ap ** 2)), np.sqrt(np.mean(ml ** 2))
    totex, totex_ap, totex_ml = path_length(c), path_length(ap), path_length(ml)
    s_rd = np.sqrt(max(rdist ** 2 - mdist ** 2, 0.0))
    s_apml = np.mean(ap * ml)
    f05 = f_quantile(0.95, 2, n - 2)
    det = max(rdist_ap ** 2 * rdist_ml ** 2 - s_apml ** 2, 0.0)
    singular = is_singular(rdist_ap ** 2, rdist_ml ** 2, det)
    if singular:
        det = 0.0        # samples on one line: the ellipse is flat (area 0) and FD-CE has no diameter
    rng = diameter(c)
    d_cc = 2 * (mdist + Z05 * s_rd)
    d_ce = np.sqrt(8 * f05 * np.sqrt(det))

    def fd(d):
        return float(np.log(n) / np.log(n * d / totex)) if d > 0 and totex > 0 else float("nan")

    undefined = Undefined()
    if const.all():
        undefined.mark("both axes constant (no motion)",
                       ["mean_frequency_hz", "mean_frequency_ap_hz", "mean_frequency_ml_hz", "fractal_dimension_pd",
                        "fractal_dimension_cc", "fractal_dimension_ce"]
                       + [k.format(a) for a in ("ap", "ml") for k in SPECTRAL[1:]],
                       "distances, path lengths, velocities, ranges, areas and total power are 0")
    elif const.any():
        a = ("ap", "ml")[int(np.flatnonzero(const)[0])]
        undefined.mark(f"{a} axis constant",
                       [f"mean_frequency_{a}_hz", "fractal_dimension_ce"] + [k.format(a) for k in SPECTRAL[1:]],
                       f"area95_cm2 = 0 and sway_area_per_s_cm2_s = 0 (a path along one line encloses no area), "
                       f"total_power_{a}_cm2 = 0")
    elif singular:
        undefined.mark("samples on one line (collinear)", ["fractal_dimension_ce"],
                       "area95_cm2 = 0 (a flat ellipse encloses no area)")

    metrics = {
        "mean_distance_cm": float(mdist), "mean_distance_ap_cm": float(mdist_ap),
        "mean_distance_ml_cm": float(mdist_ml),
        "rms_distance_cm": float(rdist), "rms_ap_cm": float(rdist_ap), "rms_ml_cm": float(rdist_ml),
        "path_length_cm": totex, "path_length_ap_cm": totex_ap, "path_length_ml_cm": totex_ml,
        "mean_velocity_cm_s": totex / T, "mean_velocity_ap_cm_s": totex_ap / T,
        "mean_velocity_ml_cm_s": totex_ml / T,
        "range_cm": rng, "range_ap_cm": float(np.ptp(ap)), "range_ml_cm": float(np.ptp(ml)),
        "mean_frequency_hz": ratio(totex / T, 2 * np.pi * mdist),
        "mean_frequency_ap_hz": ratio(totex_ap / T, 4 * np.sqrt(2) * mdist_ap),
        "mean_frequency_ml_hz": ratio(totex_ml / T, 4 * np.sqrt(2) * mdist_ml),
        "area95_circle_cm2": float(np.pi * (mdist + Z05 * s_rd) ** 2),
        "area95_cm2": float(2 * np.pi * f05 * np.sqrt(det)),
        "sway_area_per_s_cm2_s": float(np.sum(np.abs(ap[1:] * ml[:-1] - ap[:-1] * ml[1:])) / (2 * T)),
        "fractal_dimension_pd": fd(rng), "fractal_dimension_cc": fd(d_cc), "fractal_dimension_ce": fd(d_ce),
        "duration_s": T,
    }
    metrics.update(_spectral(c[:, 0], fs, "ap", bool(const[0]), undefined))
    metrics.update(_spectral(c[:, 1], fs, "ml", bool(const[1]), undefined))
    notes = ["measures of Prieto et al. 1996 on the COP as given (no filtering here; the paper low-pass "
             f"filtered its 100 Hz COP): rate {fs:g} Hz",
             "area95_cm2 is the paper's 95% confidence ellipse AREA-CE (1/N covariance, F[2, N-2] quantile); "
             "area95_circle_cm2 is AREA-CC",
             "frequency measures: Welch PSD (Hann, N/2 segments, N/4 overlap) restricted to 0.15-5 Hz"]
    notes.extend(undefined.apply(metrics))
    return metrics, notes

