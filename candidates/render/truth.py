"""The video clock of a rendered video and its exact 2-D truth file.

Clock convention (shared with the alignment engine, whose model is ``t_ref = t_cand + offset + drift·t_cand``
with the mocap as reference and the video as candidate)::

    t_mocap = offset_s + (1 + drift) * t_video        # drift = drift_ppm * 1e-6
    t_video = (t_mocap - offset_s) / (1 + drift)

``offset_s`` is therefore the mocap time shown in the video frame stamped t_video = 0, and a positive drift
means the camera clock runs slow (fewer video seconds per mocap second). Nominal frame k is exposed at
``t_video = k / fps`` (plus optional uniform jitter); dropped frames are simply absent from the file, so the
gaps show in the timestamps.

The truth file is the keypoint-track JSON of issue 3 (``schema``, ``image_width``, ``image_height``,
``candidate``, ``times_s``, ``keypoints`` as [x, y, conf] with ``null`` for missing values) plus a ``truth``
object with the camera, the clock and the 3-D landmarks. Confidence is 1 for a landmark projected inside the
image, 0 outside it; frames where the motion is undefined (before its start or after its end) are ``null``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from candidates.skeletons import BLAZEPOSE33
from candidates.track import KeypointTrack
from ground_truth.kernel import (BOUNDS, InputError, ReaderError, jsonable, read_text_file, validate_type,
                                 write_text_atomic)

from .camera import PinholeCamera

CLOCK_CONVENTION = "t_mocap = offset_s + (1 + drift) * t_video; drift = drift_ppm * 1e-6"


@dataclass
class VideoClock:
    """How the camera's clock relates to the mocap clock, and which frames are lost.

    Parameters
    ----------
    fps : float
        Nominal frame rate (frames per video-clock second).
    offset_s : float or None
        Mocap time at video time 0; None = the motion's first sample.
    drift_ppm : float
        Clock-rate error in parts per million (see module docstring for the sign).
    dropped : sequence of int
        Nominal frame indices to drop.
    drop_rate : float
        Probability in [0, 1) that any other frame is dropped (seeded).
    jitter_s : float
        Each frame time moves by a uniform random amount in ±jitter_s/2 (must be < 1/fps).
    seed : int
    """

    fps: float = 30.0
    offset_s: float | None = None
    drift_ppm: float = 0.0
    dropped: tuple[int, ...] = ()
    drop_rate: float = 0.0
    jitter_s: float = 0.0
    seed: int = 0

    def __post_init__(self):
        rate = BOUNDS["frame_rate_hz"]
        if not rate.contains(np.array([self.fps], dtype=float))[0]:
            raise InputError(f"fps is {self.fps!r}", field="fps", expected=f"a frame rate in {rate.describe()}")
        if self.offset_s is not None and not np.isfinite(self.offset_s):
            raise InputError(f"offset is {self.offset_s!r} s", field="offset_s",
                             expected="a finite mocap time in seconds (or none: the motion's first sample)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(f"seed is {self.seed!r}", field="seed", expected="a whole number >= 0")
        if not 0 <= self.drop_rate < 1:
            raise InputError(f"drop rate is {self.drop_rate!r}", field="drop_rate", expected="0 <= rate < 1")
        if not 0 <= self.jitter_s < 1.0 / self.fps:
            raise InputError(f"jitter is {self.jitter_s!r} s", field="jitter_s",
                             expected=f"0 <= jitter < one frame period ({1.0 / self.fps:.4f} s)")
        if not np.isfinite(self.drift_ppm) or abs(self.drift_ppm) >= 1e5:
            raise InputError(f"drift is {self.drift_ppm!r} ppm", field="drift_ppm",
                             expected="a finite drift below 100000 ppm")
        self.dropped = tuple(int(i) for i in self.dropped)

    @property
    def drift(self) -> float:
        return self.drift_ppm * 1e-6

    def to_mocap(self, t_video, offset_s: float) -> np.ndarray:
        return offset_s + (1.0 + self.drift) * np.asarray(t_video, dtype=float)

    def to_video(self, t_mocap, offset_s: float) -> np.ndarray:
        return (np.asarray(t_mocap, dtype=float) - offset_s) / (1.0 + self.drift)

    def schedule(self, duration_s: float) -> dict[str, np.ndarray]:
        """Nominal frame indices, kept mask and video times for ``duration_s`` of video."""
        n = int(np.floor(duration_s * self.fps + 1e-9)) + 1
        k = np.arange(n)
        rng = np.random.default_rng(self.seed)
        t = k / self.fps
        if self.jitter_s > 0:
            t = t + rng.uniform(-self.jitter_s / 2, self.jitter_s / 2, n)
            t[0] = max(t[0], 0.0)
        keep = np.ones(n, dtype=bool)
        if self.drop_rate > 0:
            keep &= rng.random(n) >= self.drop_rate
        bad = [i for i in self.dropped if not 0 <= i < n]
        if bad:
            raise InputError(f"dropped frame index {bad[0]} is outside 0..{n - 1}", field="dropped")
        keep[list(self.dropped)] = False
        if not keep.any():
            raise InputError("every frame is dropped", field="dropped")
        return {"index": k, "keep": keep, "t_video": t}

    def to_dict(self, offset_s: float) -> dict[str, Any]:
        return {"fps": self.fps, "offset_s": float(offset_s), "drift_ppm": self.drift_ppm, "drift": self.drift,
                "convention": CLOCK_CONVENTION, "jitter_s": self.jitter_s, "drop_rate": self.drop_rate,
                "seed": self.seed}


def _kp_json(kp: np.ndarray, conf: np.ndarray) -> list:
    out = []
    for t in range(kp.shape[0]):
        row = []
        for j in range(kp.shape[1]):
            x, y, c = kp[t, j, 0], kp[t, j, 1], conf[t, j]
            row.append([None if not np.isfinite(x) else round(float(x), 4),
                        None if not np.isfinite(y) else round(float(y), 4),
                        None if not np.isfinite(c) else float(c)])
        out.append(row)
    return out


def write_truth_json(path, track: KeypointTrack, *, camera: PinholeCamera, clock: dict[str, Any],
                     landmarks_3d: np.ndarray, extra: dict[str, Any] | None = None) -> Path:
    """Write a rendered video's truth: the track JSON of issue 3 plus a ``truth`` object."""
    doc = {"schema": track.schema, "image_width": int(track.image_width), "image_height": int(track.image_height),
           "candidate": jsonable(track.candidate), "times_s": [round(float(t), 9) for t in track.times_s],
           "keypoints": _kp_json(track.keypoints, track.confidence)}
    l3 = np.where(np.isfinite(landmarks_3d), np.round(landmarks_3d, 6), np.nan)
    doc["truth"] = {"camera": camera.to_dict(), "clock": jsonable(clock),
                    "landmarks_3d_m": [[[None if not np.isfinite(v) else float(v) for v in p] for p in fr]
                                       for fr in l3],
                    **jsonable(extra or {})}
    return write_text_atomic(path, json.dumps(doc, separators=(",", ":"), allow_nan=False), field="truth")


@dataclass
class RenderTruth:
    """A rendered video's truth read back: the exact 2-D track, the camera, the clock and 3-D landmarks."""

    track: KeypointTrack
    camera: PinholeCamera
    clock: dict[str, Any]
    landmarks_3d: np.ndarray          # (T, 33, 3) m, lab frame
    mocap_times_s: np.ndarray         # (T,) s
    info: dict[str, Any] = field(default_factory=dict)


def read_truth_json(path) -> RenderTruth:
    """Read a truth file written by :func:`write_truth_json`."""
    path = Path(path)
    try:
        doc = json.loads(read_text_file(path, what="render truth JSON file"))
    except json.JSONDecodeError as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=path) from None
    validate_type(doc, dict, "truth file")
    for key in ("schema", "image_width", "image_height", "times_s", "keypoints", "truth"):
        if key not in doc:
            raise ReaderError(f"missing key {key!r}", file=path, field=key, expected="a stancebench render truth file")
    if doc["schema"] != "blazepose33":
        raise ReaderError(f"schema is {doc['schema']!r}", file=path, field="schema", expected="'blazepose33'")
    arr = np.array([[[np.nan if v is None else v for v in p] for p in fr] for fr in doc["keypoints"]], dtype=float)
    if arr.ndim != 3 or arr.shape[1:] != (len(BLAZEPOSE33), 3):
        raise ReaderError(f"keypoints have shape {arr.shape}", file=path, field="keypoints",
                          expected=f"(T, {len(BLAZEPOSE33)}, 3)")
    times = np.asarray(doc["times_s"], dtype=float)
    track = KeypointTrack(times, arr[..., :2], arr[..., 2], "blazepose33", int(doc["image_width"]),
                          int(doc["image_height"]), dict(doc.get("candidate") or {}), {"file": str(path)})
    tr = doc["truth"]
    from ..calibration import camera_from_table
    cam = camera_from_table(tr["camera"], file=path)
    l3 = np.array([[[np.nan if v is None else v for v in p] for p in fr] for fr in tr["landmarks_3d_m"]],
                  dtype=float)
    return RenderTruth(track, cam, tr["clock"], l3, np.asarray(tr["clock"]["mocap_times_s"], dtype=float),
                       {k: v for k, v in tr.items() if k not in ("camera", "clock", "landmarks_3d_m")})
