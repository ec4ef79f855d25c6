"""BlazePose TFLite with quantized landmark models made from the wheel's model by device_runners.variants
(ai-edge-quantizer, calibrated on real frames): int8 inputs/outputs are (de)quantized, the precision is
labelled, and the measured accuracy cost is what the harness reports."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from conftest import shared_path


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    pytest.importorskip("ai_edge_quantizer")
    from candidates.backbones import mediapipe_model_path
    from device_runners.variants import decode_frames, make_variants
    video = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    frames = decode_frames(video, n=4)
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        made = make_variants(mediapipe_model_path("full"), tmp_path_factory.mktemp("variants"),
                             calibration_frames=frames, precisions=("fp32", "int8-dynamic", "int8"))
    return video, {v.precision: v.path for v in made}, said.getvalue()


def test_building_variants_draws_no_progress_bar(variants):
    """ai-edge-quantizer draws a tqdm bar for models of over 100 tensors whatever it is told; a user running the
    demo with an int8 candidate sees none."""
    assert "Applying Transformations" not in variants[2] and "it/s" not in variants[2]


@pytest.mark.slow
def test_quantized_landmark_models(variants):
    from candidates.backbones import get_candidate
    video, paths, _ = variants
    ref = get_candidate("blazepose-tflite", smooth_landmarks=False, static_image_mode=True).run(
        video, cache=False, max_frames=6)
    height = ref.image_height
    out = {}
    for precision, path in paths.items():
        cand = get_candidate("blazepose-tflite", landmark_model=path, name=f"blazepose-{precision}",
                             smooth_landmarks=False, static_image_mode=True)
        assert cand.identity.precision == {"fp32": "fp32", "int8-dynamic": "dynamic-int8", "int8": "int8"}[precision]
        track = cand.run(video, cache=False, max_frames=6)
        assert track.detected.all()
        out[precision] = np.median(np.linalg.norm(track.keypoints - ref.keypoints, axis=2))
    # fp32 is the fp16 model with its weights widened: the same landmarks (measured 0.0 px).
    assert out["fp32"] < 0.5
    # Measured on these 6 frames when written: dynamic-range int8 0.22 % of height, full int8 0.67 %
    # (its landmark output is quantized in steps of ~1.5 crop px). Bounds leave room for calibration noise
    # but would catch a broken (de)quantization, which puts landmarks hundreds of pixels away.
    assert out["int8-dynamic"] / height < 0.01
    assert out["int8"] / height < 0.03
