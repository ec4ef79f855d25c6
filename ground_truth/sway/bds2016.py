"""``bds2016``: the COP sway convention of the public balance data sets of Santos & Duarte (2016).

Santos DA, Duarte M (2016). A public data set of human balance evaluations. PeerJ 4:e2648.
doi:10.7717/peerj.2648 -- the convention of the published per-trial area, velocity and mean frequency of
the BDS (and PDS) data sets, with the ellipse of Duarte M (2015), Gait Posture 41:44-45.

No filtering and no resampling: the metrics are computed on the COP exactly as given.
"""
from __future__ import annotations

import numpy as np

from .common import Undefined, constant_axes, path_length, prediction_ellipse_area, welch_psd

NAME = "bds2016"
CITATION = ("Santos DA, Duarte M (2016) A public data set of human balance evaluations. PeerJ 4:e2648, "
            "doi:10.7717/peerj.2648; 95% prediction ellipse after Duarte M (2015) Gait Posture 41:44-45.")
ALLOWS_GAPS = False
MIN_SAMPLES = 10   # Welch segments of n/2 = 5 samples, and an ellipse with F(2, n - 2) degrees of freedom

def mean_power_frequency(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean power frequency ∫f·P/∫P (trapezoid) of a Welch PSD, and each column's summed power.

    Welch: Hann window, segment n/2, overlap n/4, nfft n/2, constant detrend (Santos & Duarte 2016).
    """
    n = x.shape[0]
    f, p = welch_psd(x, fs, nperseg=n // 2, noverlap=n // 4, nfft=n // 2)
    num, den = np.trapz(f[:, None] * p, f, axis=0), np.trapz(p, f, axis=0)
    # an axis without power (constant) has no mean frequency: NaN, not a division warning
    mpf = np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)
    return mpf, p.sum(axis=0)


def compute(cop_cm: np.ndarray, fs: float) -> tuple[dict, list[str]]:
    """All bds2016 metrics of a gap-free (n, 2) COP in cm, columns (AP, ML)."""
    n = cop_cm.shape[0]
    duration = n / fs  # the published velocity divides by n/fs (n samples of 1/fs each), not (n-1)/fs
    area, _ = prediction_ellipse_area(cop_cm, 0.95)
    centred = cop_cm - cop_cm.mean(axis=0)
    mpf, power = mean_power_frequency(cop_cm, fs)
    undefined = Undefined()
    const = constant_axes(cop_cm)
    if const.any():
        # A constant axis (e.g. the line of sight of one camera) has no spectrum: its mean frequency is
        # undefined, and it adds no power to the combined one, which is then that of the moving axis. The
        # path is one line (or one point), so the ellipse is flat: area 0, not undefined.
        area = 0.0
        mpf, power = np.where(const, np.nan, mpf), np.where(const, 0.0, power)
        if const.all():
            mean_freq = float("nan")
            undefined.mark("both axes constant (no motion)",
                           ["mean_frequency_hz", "mean_frequency_ap_hz", "mean_frequency_ml_hz"],
                           "area95_cm2, path length, velocities, RMS and ranges are 0")
        else:
            mean_freq = float(mpf[~const][0])
            name = ("ap", "ml")[int(np.flatnonzero(const)[0])]
            undefined.mark(f"{name} axis constant", [f"mean_frequency_{name}_hz"],
                           "area95_cm2 = 0 (a path along one line encloses no area); mean_frequency_hz is "
                           "that of the moving axis alone")
    else:
        mean_freq = float(np.sum(mpf * power) / np.sum(power))
        if area == 0.0:
            undefined.mark("samples on one line (collinear)", [], "area95_cm2 = 0 (a flat ellipse encloses no area)")
    metrics = {
        "area95_cm2": area,
        "mean_velocity_cm_s": path_length(cop_cm) / duration,
        "mean_frequency_hz": mean_freq,
        "path_length_cm": path_length(cop_cm),
        "mean_velocity_ap_cm_s": path_length(cop_cm[:, 0]) / duration,
        "mean_velocity_ml_cm_s": path_length(cop_cm[:, 1]) / duration,
        "mean_frequency_ap_hz": float(mpf[0]),
        "mean_frequency_ml_hz": float(mpf[1]),
        "rms_ap_cm": float(np.sqrt(np.mean(centred[:, 0] ** 2))),
        "rms_ml_cm": float(np.sqrt(np.mean(centred[:, 1] ** 2))),
        "range_ap_cm": float(np.ptp(cop_cm[:, 0])),
        "range_ml_cm": float(np.ptp(cop_cm[:, 1])),
        "duration_s": duration,
    }
    notes = [f"no filtering or resampling: COP used as given at {fs:g} Hz (path length and velocity depend "
             f"strongly on rate and filtering)",
             "area95_cm2: 95% prediction ellipse, sample covariance ddof=1",
             "mean_frequency_hz: Welch (Hann, n/2 segment, n/4 overlap) mean power frequency of each axis, "
             "combined weighted by each axis's summed power"]
    notes.extend(undefined.apply(metrics))
    return metrics, notes
