"""One trial × candidate, end to end: gold standard → reference KPIs, video → keypoints → candidate KPIs,
clock alignment, and the paired KPI rows of ``results.json``.

This module is the thin layer between the orchestration and the project's parts (``ground_truth`` readers and
signals, ``candidates`` backbones and keypoint KPIs, ``harness.align``, ``device_runners``, ``harness.gates``,
``reports``). Each part is imported where it is used; a part that is missing or cannot run here raises
:class:`~ground_truth.errors.NotAvailableError` with a ``"not available: ..."`` reason that ends up in results,
never a crash of the study.
"""
from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.errors import NotAvailableError


def need(module: str, attr: str | None = None):
    """Import ``module`` (and ``attr`` from it) or raise NotAvailableError naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise NotAvailableError(f"not available: {module} cannot be imported ({exc})") from None
    if attr is None:
        return mod
    if not hasattr(mod, attr):
        raise NotAvailableError(f"not available: {module}.{attr} is not defined")
    return getattr(mod, attr)


# ------------------------------------------------------------------------------------------------ candidates
def resolve_candidate(spec):
    """Build the backbone of a :class:`~harness.manifest.CandidateSpec` (dict or dataclass)."""
    get_candidate = need("candidates.backbones.base", "get_candidate")
    s = spec if isinstance(spec, dict) else spec.__dict__
    target = s.get("manifest") or s.get("backbone") or s["name"]
    return get_candidate(str(target), **dict(s.get("params") or {}))


def candidate_identity(spec) -> dict:
    """Identity fields of a candidate for ``results.json``'s ``candidates`` list (no inference)."""
    cand = resolve_candidate(spec)
    ident = cand.identity.to_dict()
    ident.pop("name", None)
    return ident


def run_candidate(spec: dict, video: Path, cache_dir) -> Any:
    """Run (or load from the cache) a candidate on one video; returns the KeypointTrack."""
    cand = resolve_candidate(spec)
    return cand.run(video, cache_dir=cache_dir)
