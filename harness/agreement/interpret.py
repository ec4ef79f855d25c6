"""Plain-language readings of reliability coefficients, applied to confidence intervals."""
from __future__ import annotations

import numpy as np

#: Koo & Li (2016) bands: upper bound (exclusive) → word.
KOO_LI_BANDS = ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (np.inf, "excellent"))


def koo_li_category(value: float) -> str:
    """Koo & Li (2016) word for one ICC value: < 0.5 poor, 0.5-0.75 moderate, 0.75-0.9 good, > 0.9 excellent."""
    if value is None or not np.isfinite(value):
        return "undefined"
    for bound, word in KOO_LI_BANDS:
        if value < bound:
            return word
    return "excellent"


def koo_li(ci_low: float, ci_high: float) -> str:
    """Koo & Li (2016) interpretation of an ICC **confidence interval**, e.g. ``"moderate to good"``.

    Koo & Li recommend reading the 95 % CI rather than the point estimate: an ICC of 0.83 with CI 0.65-0.94
    is "moderate to excellent", not "good". Returns one word when both bounds fall in the same band.

    Reference: Koo TK, Li MY (2016) J Chiropr Med 15:155-163.
    """
    lo, hi = koo_li_category(ci_low), koo_li_category(ci_high)
    if "undefined" in (lo, hi):
        return "undefined"
    return lo if lo == hi else f"{lo} to {hi}"
