"""MediaPipe's BlazePose graph (``mp.solutions.pose``, mediapipe 0.10.21) as a candidate.

Only ``model_complexity=1`` (pose_landmark_full.tflite) ships inside the mediapipe wheel; the lite (0) and
heavy (2) models are downloaded by mediapipe at run time, which stancebench never does, so asking for them
raises a ModelError unless the file is already present in the installed package.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ground_truth.kernel import ModelError, check_option

from .base import Candidate, CandidateIdentity, FrameSession, check_blazepose_options, mediapipe_model_path

_COMPLEXITY_FILE = {0: "lite", 1: "full", 2: "heavy"}


class MediaPipeGraphSession(FrameSession):
    def __init__(self, cand: "MediaPipeGraphCandidate"):
        import mediapipe as mp
        self.pose = mp.solutions.pose.Pose(
            static_image_mode=cand.static_image_mode, model_complexity=cand.model_complexity,
            smooth_landmarks=cand.smooth_landmarks, enable_segmentation=False,
            min_detection_confidence=cand.min_detection_confidence,
            min_tracking_confidence=cand.min_tracking_confidence)

    def process(self, rgb: np.ndarray, time_s: float):
        result = self.pose.process(rgb)
        if result.pose_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        lm = result.pose_landmarks.landmark
        # Normalised → pixels; MediaPipe's z uses the same scale as x (image width).
        arr = np.array([(p.x * w, p.y * h, p.z * w, p.visibility) for p in lm], dtype=float)
        return arr[:, :3], arr[:, 3]

    def close(self) -> None:
        self.pose.close()


class MediaPipeGraphCandidate(Candidate):
    """BlazePose through MediaPipe's own graph (detector, ROI tracking, filtering) on CPU.

    Parameters
    ----------
    model_complexity : {1}
        1 = pose_landmark_full (shipped in the wheel); 0 and 2 need a download and raise ModelError.
    static_image_mode : bool
        Detect on every frame instead of tracking the ROI from the previous frame.
    smooth_landmarks : bool
        MediaPipe's one-euro landmark smoothing (default on, as in MediaPipe).
    min_detection_confidence, min_tracking_confidence : float
        Detector score threshold and pose-presence threshold.

    Notes
    -----
    Visibility is reported as the keypoint confidence. Frames where the graph returns no pose are NaN and
    count against the detection rate.
    """

    kind = "mediapipe"
    schema = "blazepose33"

    def __init__(self, model_complexity: int = 1, *, static_image_mode: bool = False, smooth_landmarks: bool = True,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 name: str | None = None):
        super().__init__()
        check_option("model_complexity", model_complexity, (0, 1, 2))
        check_blazepose_options(static_image_mode, smooth_landmarks, min_detection_confidence,
                                min_tracking_confidence)
        self.model_path = mediapipe_model_path(_COMPLEXITY_FILE[model_complexity])
        if not self.model_path.exists():
            raise ModelError(f"model_complexity={model_complexity} needs pose_landmark_"
                             f"{_COMPLEXITY_FILE[model_complexity]}.tflite, which the mediapipe wheel does not "
                             "ship (mediapipe would download it; stancebench runs offline)", file=self.model_path,
                             field="model_complexity", expected="model_complexity=1 ('mediapipe-full')")
        self.model_complexity = model_complexity
        self.static_image_mode = static_image_mode
        self.smooth_landmarks = smooth_landmarks
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self._name = name or f"mediapipe-{_COMPLEXITY_FILE[model_complexity]}"
        self._spec_params = dict(static_image_mode=static_image_mode, smooth_landmarks=smooth_landmarks,
                                 min_detection_confidence=self.min_detection_confidence,
                                 min_tracking_confidence=self.min_tracking_confidence)
        self._identity: CandidateIdentity | None = None

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        return f"mediapipe-{_COMPLEXITY_FILE[self.model_complexity]}", dict(self._spec_params, name=self._name)

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            import mediapipe as mp
            from ..video import file_sha256
            det = mediapipe_model_path("detector")
            self._identity = CandidateIdentity(
                name=self._name, kind=self.kind, model_sha256=file_sha256(self.model_path), runtime="mediapipe",
                runtime_version=mp.__version__, model_path=str(self.model_path),
                model_bytes=self.model_path.stat().st_size, precision="fp32",
                params=dict(self._spec_params, model_complexity=self.model_complexity,
                            detector_sha256=file_sha256(det)))
        return self._identity

    def new_session(self) -> MediaPipeGraphSession:
        return MediaPipeGraphSession(self)
