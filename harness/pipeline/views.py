"""Which video(s) of a trial a candidate analyses.

A trial may be filmed by several calibrated cameras (``video``, ``camera_name``, ``known_clock_offset_s``,
``known_drift_ppm`` and ``truth`` hold one entry per video). A candidate's ``view`` picks one camera by name,
``"first"`` (the first video) or ``"triangulated"`` (every video, triangulated into 3-D keypoints).
"""
from __future__ import annotations

from ground_truth.kernel import NotAvailableError

#: The per-video fields of a trial (lists, one entry per video).
PER_VIEW_FIELDS = ("camera_name", "known_clock_offset_s", "known_drift_ppm", "truth")
TRIANGULATED = "triangulated"


def _entry(trial: dict, key: str, i: int):
    value = trial.get(key)
    if isinstance(value, (list, tuple)):
        return value[i] if i < len(value) else None
    return value


def trial_view(trial: dict, index: int) -> dict:
    """The trial as filmed by its ``index``-th video alone: ``video`` holds that one video and the per-video
    fields are that video's scalars (what the one-camera stages read)."""
    videos = list(trial.get("video") or [])
    if not 0 <= index < len(videos):
        raise NotAvailableError(f"not available: trial {trial.get('id')!r} has {len(videos)} video(s), no "
                                f"video {index + 1}")
    out = dict(trial, video=[videos[index]])
    for key in PER_VIEW_FIELDS:
        out[key] = _entry(trial, key, index)
    out["view_index"] = index
    return out


def view_indices(trial: dict, view: str) -> list[int]:
    """Indices of the videos a candidate with ``view`` analyses in ``trial``.

    Raises
    ------
    NotAvailableError
        The trial has no camera of that name, or fewer than two videos to triangulate.
    """
    n = len(trial.get("video") or [])
    if view == "first":
        return [0] if n else []
    if view == TRIANGULATED:
        if n < 2:
            raise NotAvailableError(f"not available: triangulation needs two or more calibrated videos; trial "
                                    f"{trial.get('id')!r} has {n}")
        return list(range(n))
    names = [_entry(trial, "camera_name", i) for i in range(n)]
    if view not in names:
        raise NotAvailableError(f"not available: trial {trial.get('id')!r} has no camera {view!r} (its cameras: "
                                f"{', '.join(str(x) for x in names if x) or 'unnamed'})")
    return [names.index(view)]
