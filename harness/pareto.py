"""The Pareto front of candidates over several axes (cost against agreement: :mod:`harness.backbones_table`).

:func:`pareto_front` takes any number of axes, each minimised or maximised, with an optional relative tolerance
per axis within which two values count as equal (timings that repeat within 5%).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ground_truth.kernel import InputError


@dataclass(frozen=True)
class ParetoFrontResult:
    """The front of a set of candidates: ``front`` (in the order given) and, for every candidate, the candidates
    that dominate it (``dominated_by``: empty for those on the front); ``axes`` maps each axis to min or max."""

    front: list[str]
    dominated_by: dict[str, list[str]] = field(default_factory=dict)
    axes: dict[str, str] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"front": list(self.front), "dominated_by": {k: list(v) for k, v in self.dominated_by.items()},
                "axes": dict(self.axes), "tolerance": dict(self.tolerance)}


def finite_number(x: Any) -> float | None:
    """A finite float, or None (missing, NaN, not a number; a bool is no number)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def pareto_front(values: Mapping[str, Mapping[str, float]], *, axes: Mapping[str, str],
                 tolerance: Mapping[str, float] | None = None) -> ParetoFrontResult:
    """The Pareto front of candidates over several axes, each to be minimised or maximised.

    Parameters
    ----------
    values : mapping
        Candidate name -> {axis: value}; every candidate needs a finite value on every axis.
    axes : mapping
        Axis -> ``"min"`` (lower is better) or ``"max"`` (higher is better); at least one.
    tolerance : mapping, optional
        Axis -> relative tolerance (0 to 1): two values within ``tolerance`` × the larger magnitude count as equal
        on that axis (e.g. 0.05 for timings that repeat within 5%). Axes not named are compared exactly.

    Returns
    -------
    ParetoFrontResult
        ``front`` (candidates no other candidate dominates, in the order of ``values``) and ``dominated_by``.

    Raises
    ------
    InputError
        No axis, an axis sense other than min/max, a tolerance outside [0, 1) or on an axis not compared, or a
        candidate without a finite value on an axis.

    Notes
    -----
    Candidate *a* dominates *b* when *a* is at least as good as *b* on every axis and strictly better on at
    least one (Pareto dominance; Deb K., *Multi-Objective Optimization using Evolutionary Algorithms*, Wiley
    2001, §2.4); the front is the set of candidates no other dominates. How to read it: a candidate off the front
    has another that costs no more and agrees no worse, so there is no trade-off that speaks for it. Candidates
    equal on every axis (within ``tolerance`` where given) are all on the front. A tolerance makes "equal" not
    transitive (a ≈ b and b ≈ c need not give a ≈ c); each pair is judged on its own values.
    """
    if not isinstance(axes, Mapping) or not axes:
        raise InputError("no axis to compare on", field="axes", expected="a mapping axis -> 'min' or 'max'")
    for axis, sense in axes.items():
        if sense not in ("min", "max"):
            raise InputError(f"axis {axis!r} has sense {sense!r}", field=f"axes.{axis}", expected="'min' or 'max'")
    tolerance = dict(tolerance or {})
    for axis, tol in tolerance.items():
        if axis not in axes:
            raise InputError(f"tolerance given for axis {axis!r}, which is not compared", field=f"tolerance.{axis}",
                             expected=f"one of {', '.join(axes)}")
        if finite_number(tol) is None or not 0 <= tol < 1:
            raise InputError(f"tolerance {tol!r} of axis {axis!r}", field=f"tolerance.{axis}",
                             expected="a relative tolerance from 0 to below 1")
    if not isinstance(values, Mapping):
        raise InputError(f"values is a {type(values).__name__}", field="values",
                         expected="a mapping candidate -> {axis: value}")
    # one orientation for every axis: lower is better
    pts: dict[str, list[float]] = {}
    for name, vals in values.items():
        row = []
        for axis, sense in axes.items():
            v = finite_number(vals.get(axis)) if isinstance(vals, Mapping) else None
            if v is None:
                raise InputError(f"candidate {name!r} has no finite value on axis {axis!r}",
                                 field=f"values.{name}.{axis}", expected="a finite number")
            row.append(v if sense == "min" else -v)
        pts[name] = row

    tols = [float(tolerance.get(axis, 0.0)) for axis in axes]

    def dominates(a: list[float], b: list[float]) -> bool:
        equal = [x == y or abs(x - y) <= t * max(abs(x), abs(y)) for x, y, t in zip(a, b, tols)]
        return all(e or x < y for x, y, e in zip(a, b, equal)) and any(not e and x < y
                                                                       for x, y, e in zip(a, b, equal))

    dominated_by = {n: [m for m in pts if m != n and dominates(pts[m], pts[n])] for n in pts}
    return ParetoFrontResult(front=[n for n in pts if not dominated_by[n]], dominated_by=dominated_by,
                             axes=dict(axes), tolerance=tolerance)
