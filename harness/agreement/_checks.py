"""Input checks shared by the agreement statistics (one wording, clear errors instead of scipy warnings)."""
from __future__ import annotations

import numpy as np

from ground_truth.kernel import InputError, as_float_array, validate_type


def paired_arrays(reference, candidate, *, min_n: int = 3, allow_nan: bool = False,
                  names=("reference", "candidate")) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D float arrays of equal length, finite (or NaN dropped pairwise when ``allow_nan``)."""
    ref = as_float_array(reference, names[0], ndim=1)
    cand = as_float_array(candidate, names[1], ndim=1)
    if ref.size != cand.size:
        raise InputError(f"{names[0]} has {ref.size} values but {names[1]} has {cand.size}",
                         field=names[1], expected="one candidate value per reference value")
    bad = ~(np.isfinite(ref) & np.isfinite(cand))
    if bad.any():
        if not allow_nan:
            raise InputError(f"{int(bad.sum())} pair(s) contain NaN or infinite values "
                             f"(first at index {int(np.flatnonzero(bad)[0])})", field=names[1],
                             expected="finite values; drop or impute missing pairs explicitly")
        ref, cand = ref[~bad], cand[~bad]
    if ref.size < min_n:
        raise InputError(f"only {ref.size} complete pair(s)", field=names[0],
                         expected=f"at least {min_n} pairs")
    return ref, cand


def check_confidence(confidence: float, name: str = "confidence") -> float:
    validate_type(confidence, "numeric", name)
    if not 0 < confidence < 1:
        raise InputError(f"{name} is {confidence}", field=name, expected="a number strictly between 0 and 1")
    return float(confidence)


def check_positive(value: float, name: str) -> float:
    validate_type(value, "numeric", name)
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"{name} is {value}", field=name, expected="a finite number > 0")
    return float(value)
