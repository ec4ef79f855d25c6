"""What every candidate's track must satisfy, as a reusable check (after scikit-learn's ``check_estimator``).

``check_track(track, video)`` returns the list of violations (empty when the track conforms); use it on tracks
exported by an app before trusting them, and in ``tests/test_candidate_conformance.py`` on every candidate kind.
"""
from __future__ import annotations

from os import PathLike

import numpy as np

from ..skeletons import SCHEMAS
from ..track import KeypointTrack

IDENTITY_KEYS = ("name", "kind", "model_sha256", "runtime", "runtime_version", "params")


def check_track(track: KeypointTrack, video: str | PathLike | None = None, *,
                time_tolerance_s: float = 1e-4) -> list[str]:
    """Violations of the candidate contract, each a sentence naming the field; [] when the track conforms.

    Checked: the identity keys; schema and shapes (T, K, 2|3) / (T, K); strictly increasing finite times
    equal to the video's frame timestamps (one keypoint frame per video frame, none dropped) when ``video``
    is given; confidence in [0, 1]; missing coordinates and missing confidence coincide; the image size equals
    the video's.
    """
    problems: list[str] = []
    ident = track.candidate or {}
    missing = [k for k in IDENTITY_KEYS if k not in ident]
    if missing:
        problems.append(f"candidate identity lacks {', '.join(missing)}")
    if track.schema not in SCHEMAS:
        problems.append(f"schema {track.schema!r} is not one of {', '.join(SCHEMAS)}")
        return problems
    n_before = len(problems)
    t = np.asarray(track.times_s, dtype=float)
    kp = np.asarray(track.keypoints, dtype=float)
    conf = np.asarray(track.confidence, dtype=float)
    k = len(SCHEMAS[track.schema])
    if kp.ndim != 3 or kp.shape[:2] != (t.size, k) or kp.shape[2] not in (2, 3):
        problems.append(f"keypoints have shape {kp.shape}, expected ({t.size}, {k}, 2|3)")
    if conf.shape != (t.size, k):
        problems.append(f"confidence has shape {conf.shape}, expected ({t.size}, {k})")
    if not np.all(np.isfinite(t)):
        problems.append("times_s holds NaN or infinity")
    elif t.size > 1 and np.any(np.diff(t) <= 0):
        problems.append("times_s is not strictly increasing")
    if len(problems) > n_before:      # the remaining checks need sound shapes and times
        return problems
    finite = np.isfinite(conf)
    if np.any((conf[finite] < 0) | (conf[finite] > 1)):
        problems.append("confidence outside [0, 1]")
    if np.any(np.isnan(kp[..., 0]) & finite):
        problems.append("confidence given for keypoints that are missing (NaN coordinates)")
    if video is not None:
        from ..video import probe_video
        info = probe_video(video, with_sha256=False)
        if info.n_frames != t.size:
            problems.append(f"{t.size} track frames for {info.n_frames} video frames (frames dropped or added)")
        elif np.max(np.abs(info.times_s - t)) > time_tolerance_s:
            problems.append(f"times_s differ from the video's frame timestamps by up to "
                            f"{np.max(np.abs(info.times_s - t)):.6f} s")
        if (track.image_width, track.image_height) != (info.width, info.height) and track.meta.get("units") != "m":
            problems.append(f"image size {track.image_width}x{track.image_height} differs from the video's "
                            f"{info.width}x{info.height}")
    return problems
