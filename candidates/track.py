"""The keypoint track every candidate produces (owned by the candidates work; extended there).

A track holds, for T frames: timestamps in seconds on the candidate's own clock (the video's real per-frame
timestamps, never an assumed constant fps), keypoints (T, K, D) in pixels with D = 2 (x, y) or 3 (x, y, z),
a confidence/visibility (T, K) in [0, 1], NaN for frames where no person was found, the skeleton schema,
the image size and the candidate's identity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class KeypointTrack:
    times_s: np.ndarray                 # (T,) seconds, candidate clock, strictly increasing
    keypoints: np.ndarray               # (T, K, D) pixels (x right, y down); NaN where missing
    confidence: np.ndarray              # (T, K) in [0, 1]; NaN where missing
    schema: str                         # "blazepose33" | "coco17"
    image_width: int
    image_height: int
    candidate: dict[str, Any] = field(default_factory=dict)  # name, model_sha256, runtime, version, params
    meta: dict[str, Any] = field(default_factory=dict)       # video path, sha256, ...

    @property
    def n_frames(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def detected(self) -> np.ndarray:
        """(T,) bool: frames where a person was found."""
        return ~np.all(np.isnan(self.keypoints[..., 0]), axis=1)

    @property
    def detection_rate(self) -> float:
        return float(np.mean(self.detected)) if self.n_frames else float("nan")
