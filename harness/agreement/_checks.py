"""Input checks shared by the agreement statistics (one wording, clear errors instead of scipy warnings).

Everything a statistic reads is typed here once: paired measurements (finite, not so large that their squares
overflow float64), category labels (normalised by value, not by spelling), and names that must be distinct
(rater columns, labels, the columns of one command).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, as_float_array, validate_type

#: largest float64; squares of values above sqrt(_FMAX / (4 n)) make a sum of n squared deviations overflow
_FMAX = float(np.finfo(float).max)
#: a label that spells a number: 1, -2, 3.5, .5, 1e3, 1.0E-2 (no underscores, no 'nan'/'inf': those are text)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"[-+]?\d+")


def magnitude_limit(n: int) -> float:
    """Largest |value| whose squared deviations, summed over ``n`` values, stay finite in float64.

    A deviation from a mean (or a difference of two values) is at most twice the largest magnitude, so its
    square is at most 4·M² and a sum of ``n`` of them at most 4·n·M².
    """
    return math.sqrt(_FMAX / (4.0 * max(int(n), 1)))


def check_magnitude(values, field: str, *, file: str | PathLike | None = None, n: int | None = None) -> None:
    """Refuse finite values so large that the variances of the statistics overflow float64 (they would come
    out as inf or NaN, i.e. null in JSON, without a reason). ``n`` is the number of values summed (default:
    the number of values given)."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return
    limit = magnitude_limit(n if n is not None else v.size)
    biggest = float(np.max(np.abs(finite)))
    if biggest > limit:
        raise InputError(f"a value of magnitude {biggest:.4g} is too large: squared deviations of "
                         f"{n if n is not None else v.size} such values overflow float64", file=file, field=field,
                         expected=f"values of magnitude at most {limit:.3g} (express them in a larger unit)")


def paired_arrays(reference, candidate, *, min_n: int = 3, allow_nan: bool = False,
                  names=("reference", "candidate"), file: str | PathLike | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D float arrays of equal length, finite (or NaN dropped pairwise when ``allow_nan``).

    A non-finite value is reported against the array that holds it (``names``); values too large for the
    variance in float64 are refused (:func:`check_magnitude`).
    """
    ref = as_float_array(reference, names[0], ndim=1, file=file)
    cand = as_float_array(candidate, names[1], ndim=1, file=file)
    if ref.size != cand.size:
        raise InputError(f"{names[0]} has {ref.size} values but {names[1]} has {cand.size}", file=file,
                         field=names[1], expected="one candidate value per reference value")
    bad_ref, bad_cand = ~np.isfinite(ref), ~np.isfinite(cand)
    bad = bad_ref | bad_cand
    if bad.any():
        # infinities are never dropped: they are not "missing", they are wrong
        for name, arr, bad_one in ((names[0], ref, bad_ref), (names[1], cand, bad_cand)):
            inf = np.isinf(arr)
            if bad_one.any() and (not allow_nan or inf.any()):
                which = inf if inf.any() else bad_one
                first = int(np.flatnonzero(which)[0])
                raise InputError(f"{int(which.sum())} value(s) are {'infinite' if inf.any() else 'NaN'} (first: "
                                 f"{arr[first]} at index {first})", file=file, field=name,
                                 expected="finite values; drop or impute missing pairs explicitly")
        ref, cand = ref[~bad], cand[~bad]
    if ref.size < min_n:
        raise InputError(f"only {ref.size} complete pair(s)", file=file, field=names[0],
                         expected=f"at least {min_n} pairs")
    check_magnitude(ref, names[0], file=file, n=ref.size)
    check_magnitude(cand, names[1], file=file, n=cand.size)
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


#: largest multiplier of the SD accepted for limits of agreement: 1.96 gives 95 % limits and a z of 10 is beyond
#: any coverage anyone reports, so anything near 100 is a typo (and 1e308 overflows)
MAX_MULTIPLIER = 100.0


def check_multiplier(value: float, name: str = "multiplier") -> float:
    """The multiplier k of limits ``bias ± k·SD``: finite, > 0 and at most :data:`MAX_MULTIPLIER`."""
    value = check_positive(value, name)
    if value > MAX_MULTIPLIER:
        raise InputError(f"{name} is {value:g}", field=name,
                         expected=f"a number in (0, {MAX_MULTIPLIER:g}] (1.96 for 95 % limits of agreement)")
    return value


def unit_scale(values) -> float:
    """A power of two close to the largest |value| (1 when there is none): dividing by it is exact and brings
    the values near 1, so that squares of very small (or large) values neither underflow nor overflow."""
    v = np.asarray(values, dtype=float)
    v = np.abs(v[np.isfinite(v)])
    biggest = float(v.max()) if v.size else 0.0
    return float(np.ldexp(1.0, int(np.frexp(biggest)[1]))) if biggest > 0 else 1.0


def check_distinct(names: Iterable, field: str, *, what: str = "name", file: str | PathLike | None = None) -> list:
    """``names`` as a list, refused when one appears twice (a rater column named twice agrees with itself)."""
    names = list(names)
    seen: dict = {}
    for name in names:
        if name in seen:
            raise InputError(f"{what} {name!r} is given twice", file=file, field=field,
                             expected=f"each {what} once")
        seen[name] = True
    return names


def distinct_columns(options: Mapping[str, str], *, file: str | PathLike | None = None) -> None:
    """Refuse two options of one command that name the same column (e.g. ``--targets X --raters X``)."""
    by_column: dict[str, str] = {}
    for option, column in options.items():
        if column is None:
            continue
        if column in by_column:
            raise InputError(f"{by_column[column]} and {option} both name column {column!r}", file=file,
                             field=option, expected="a different column for each option")
        by_column[column] = option


# ----------------------------------------------------------------------------------------------------- labels
def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):   # list-like cells are not missing, they are labels of their own
        return False


def _number(value):
    """The finite number ``value`` is or spells (as int when integral, so 1, 1.0, '1', ' 1 ', '1.0' are equal
    and alike), or None when it is text, a bool or not finite."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return (int(x) if x.is_integer() else x) if math.isfinite(x) else None
    if isinstance(value, str):
        s = value.strip()
        if _INTEGER.fullmatch(s):
            return int(s)
        if _NUMBER.fullmatch(s):
            return _number(float(s))
    return None


def _text(value) -> str:
    """A label as text: strings stripped; a number written in its canonical form (1.0 -> '1')."""
    if isinstance(value, str):
        return value.strip()
    num = _number(value)
    return str(value) if num is None else str(num)


def _sort_key(label):
    # numbers in numeric order, then text in alphabetical order
    return (0, label, "") if not isinstance(label, str) else (1, 0, label)


def normalise_labels(columns: Mapping[str, Sequence], labels: Sequence | None = None, *,
                     labels_field: str = "labels") -> tuple[dict[str, list], list, str]:
    """Category labels of several raters typed once, so that categories match by value, not by spelling.

    Parameters
    ----------
    columns : mapping of name -> sequence
        The labels each rater gave (None/NaN = missing).
    labels : sequence, optional
        All categories in order, as the user gave them (e.g. strings from the command line).
    labels_field : str
        The name of ``labels`` in error messages.

    Returns
    -------
    columns : dict of name -> list
        Each rater's labels normalised (None where missing).
    labels : list
        ``labels`` normalised the same way (refused when two spell the same category), or the sorted union of
        the observed labels (numbers in numeric order, then text alphabetically).
    note : str
        Non-empty when the raters' columns differed in kind and labels were matched by value.

    Notes
    -----
    The rule: a rater's column is *numeric* when every non-missing label is, or spells, a finite number;
    otherwise it is *text*. All numeric: labels are numbers (1, 1.0, '1', ' 1 ', '1.0' are one category). All
    text: labels are strings, stripped of surrounding blanks. Mixed (a CSV column in which one cell is not a
    number is read as text, so its '1' would never meet the other rater's 1): every label that spells a
    number becomes that number in every column, the rest stay text, and the note says so.
    """
    kinds: dict[str, str] = {}
    for name, values in columns.items():
        present = [v for v in values if not _missing(v)]
        if present:
            kinds[name] = "numeric" if all(_number(v) is not None for v in present) else "text"
    text_cols = [name for name, kind in kinds.items() if kind == "text"]
    numeric_cols = [name for name, kind in kinds.items() if kind == "numeric"]
    by_value = bool(numeric_cols)
    note = ""
    if text_cols and numeric_cols:
        examples = []
        for name in text_cols:
            examples += [v for v in columns[name] if not _missing(v) and _number(v) is None][:1]
        note = (f"labels of {', '.join(map(repr, text_cols))} are text (e.g. {examples[0]!r}) but those of "
                f"{', '.join(map(repr, numeric_cols))} are numbers: labels were matched by value across the raters "
                f"(so '1' and 1 are one category)")

    def norm(value):
        if _missing(value):
            return None
        if by_value:
            num = _number(value)
            return num if num is not None else _text(value)
        return _text(value)

    out = {name: [norm(v) for v in values] for name, values in columns.items()}
    if labels is not None:
        given = [norm(v) for v in labels]
        seen: dict = {}
        for raw, label in zip(labels, given):
            if label is None:
                raise InputError(f"label {raw!r} is missing/empty", field=labels_field,
                                 expected="every category named")
            if label in seen:
                twice = f"{seen[label]!r} and {raw!r}" if str(seen[label]) != str(raw) else f"{raw!r}"
                raise InputError(f"category {label!r} is given twice ({twice}): a repeated label would shift "
                                 "the order the weights are built on", field=labels_field,
                                 expected="each category once, in order")
            seen[label] = raw
        return out, given, note
    observed = {v for values in out.values() for v in values if v is not None}
    return out, sorted(observed, key=_sort_key), note


def normalise_ids(values: Sequence) -> list:
    """Identifiers of one column (targets, raters) typed by the label rule of :func:`normalise_labels`, so that
    ' 1', '1' and 1.0 name one target."""
    out, _, _ = normalise_labels({"ids": values})
    return out["ids"]
