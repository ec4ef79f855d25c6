"""MediaPipe BlazePose graph candidate."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from ground_truth.kernel import InputError, ModelError


@pytest.mark.parametrize("name, model", [("mediapipe-lite", "lite"), ("mediapipe-heavy", "heavy")])
def test_models_not_shipped_give_a_clear_error(name, model):
    from candidates.backbones import get_candidate, mediapipe_model_path
    if mediapipe_model_path(model).exists():
        pytest.skip(f"pose_landmark_{model}.tflite is present in this mediapipe install")
    with pytest.raises(ModelError, match="does not ship") as err:
        get_candidate(name)
    assert "model_complexity=1" in str(err.value)


def test_unknown_name_and_bad_options():
    from candidates.backbones import get_candidate
    with pytest.raises(InputError, match="unknown candidate"):
        get_candidate("mediapipe-ultra")
    with pytest.raises(InputError, match="smooth_landmarks"):
        get_candidate("mediapipe-full", smooth_landmarks="yes")


def test_landmarks_in_pixels_with_visibility():
    from candidates.backbones import get_candidate
    video = shared_path("video", "sports2d", "demo.mp4")
    cand = get_candidate("mediapipe-full", smooth_landmarks=False)
    track = cand.run(video, cache=False, max_frames=4)
    assert track.image_width == 1768 and track.image_height == 994
    ok = track.detected
    assert ok.any()
    kp = track.keypoints[ok]
    assert kp.shape[1:] == (33, 2)
    # Landmarks are pixels (not MediaPipe's normalised [0, 1]); the person stands inside the frame.
    assert np.nanmax(kp[..., 0]) > 2 and np.nanmax(kp[..., 1]) > 2
    hips = track.keypoint("left_hip")[ok]
    assert np.all((hips[:, 0] > 0) & (hips[:, 0] < 1768) & (hips[:, 1] > 0) & (hips[:, 1] < 994))
    conf = track.confidence[ok]
    assert np.all((conf >= 0) & (conf <= 1))
    ident = cand.identity
    assert ident.runtime == "mediapipe" and ident.runtime_version == "0.10.21"
    assert ident.params["model_complexity"] == 1 and ident.params["smooth_landmarks"] is False
