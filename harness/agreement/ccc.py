"""Lin's concordance correlation coefficient with its confidence interval."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ground_truth.kernel import InputError

from ._checks import check_confidence, paired_arrays


@dataclass
class CCCResult:
    """Lin's CCC = precision (Pearson r) × accuracy (bias-correction factor C_b), with its CI."""

    ccc: float
    ccc_ci_low: float
    ccc_ci_high: float
    n: int
    pearson_r: float
    bias_correction: float
    location_shift: float
    scale_shift: float
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)


def ccc(reference, candidate, *, confidence: float = 0.95) -> CCCResult:
    """Lin's concordance correlation coefficient of paired measurements.

    Parameters
    ----------
    reference, candidate : array-like of shape (n,)
    confidence : float
        Level of the CI, computed on Fisher's z = atanh(CCC) with Lin's (1989) asymptotic variance (n − 2
        denominator) and back-transformed.

    Notes
    -----
    CCC = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²) with moments of denominator n (Lin 1989). It is 1 only when
    the pairs lie on the identity line; ``pearson_r`` measures scatter about the best line and
    ``bias_correction`` (C_b) how far that line is from identity (``location_shift`` u = (ȳ − x̄)/sqrt(s_x s_y),
    ``scale_shift`` v = s_y/s_x). Lin LI (1989) Biometrics 45:255-268; correction Lin (2000) Biometrics 56:324.
    """
    confidence = check_confidence(confidence)
    x, y = paired_arrays(reference, candidate, min_n=4)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise InputError("one side is constant: the concordance correlation is undefined",
                         field="reference" if np.ptp(x) == 0 else "candidate",
                         expected="measurements that vary across subjects")
    n = x.size
    mx, my = x.mean(), y.mean()
    sx2, sy2 = x.var(), y.var()
    sxy = np.mean((x - mx) * (y - my))
    rc = 2 * sxy / (sx2 + sy2 + (mx - my) ** 2)
    r = sxy / np.sqrt(sx2 * sy2)
    u = (my - mx) / (sx2 * sy2) ** 0.25
    cb = rc / r if r != 0 else float("nan")
    if abs(rc) >= 1:
        lo = hi = float(rc)
    else:
        var_z = ((1 - r ** 2) * rc ** 2 / ((1 - rc ** 2) * r ** 2)
                 + 2 * rc ** 3 * (1 - rc) * u ** 2 / (r * (1 - rc ** 2) ** 2)
                 - rc ** 4 * u ** 4 / (2 * r ** 2 * (1 - rc ** 2) ** 2)) / (n - 2)
        zq = stats.norm.ppf(0.5 + confidence / 2)
        z = np.arctanh(rc)
        half = zq * np.sqrt(max(var_z, 0.0))
        lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
    return CCCResult(ccc=float(rc), ccc_ci_low=lo, ccc_ci_high=hi, n=int(n), pearson_r=float(r),
                     bias_correction=float(cb), location_shift=float(u), scale_shift=float(np.sqrt(sy2 / sx2)),
                     confidence=confidence)
