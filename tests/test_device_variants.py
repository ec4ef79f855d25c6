"""Precision variants of MediaPipe's real BlazePose landmark model, calibrated on real video frames."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from device_runners.model_info import describe_model
from device_runners.variants import (decode_frames, dequantize_fp16_weights, make_variants, preprocess_frame,
                                     run_model)
from ground_truth.kernel import InputError, ModelError

pytest.importorskip("ai_edge_quantizer")


def _landmark() -> Path:
    import mediapipe
    return Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_full.tflite"


@pytest.fixture(scope="module")
def frames():
    return decode_frames(shared_path("video", "pose2sim_balancing", "cam01.mp4"), n=3)


@pytest.fixture(scope="module")
def variants(frames, tmp_path_factory):
    out = tmp_path_factory.mktemp("variants")
    return out, make_variants(_landmark(), out, calibration_frames=frames,
                              precisions=("fp32", "fp16", "int8-dynamic", "int8"))


def test_frames_are_real_video(frames):
    # cam01.mp4 is 1080x1920 portrait, 100 frames (shared/data/README.md)
    assert len(frames) == 3 and frames[0].shape == (1920, 1080, 3) and frames[0].dtype == np.uint8
    x = preprocess_frame(frames[0], 256, 256)
    assert x.shape == (1, 256, 256, 3) and 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05


def test_fp32_rewrite_matches_the_shipped_fp16_model(variants, frames):
    _, vs = variants
    fp32 = vs[0]
    assert fp32.precision == "fp32" and fp32.detected_precision == "fp32" and fp32.runs
    # every float16 weight became float32: the file roughly doubles (6.44 MB -> 12.7 MB)
    assert 1.8 < fp32.bytes / _landmark().stat().st_size < 2.1
    x = preprocess_frame(frames[1], 256, 256)
    a, b = run_model(_landmark(), x), run_model(fp32.path, x)
    for name in a:  # the shipped model dequantizes the same float16 values at run time: same outputs
        assert np.allclose(a[name], b[name], rtol=1e-4, atol=1e-4), name


def test_variant_precisions_sizes_and_output_difference(variants):
    _, vs = variants
    by = {v.precision: v for v in vs}
    assert [v.precision for v in vs] == ["fp32", "fp16", "int8-dynamic", "int8"]
    assert by["fp16"].detected_precision == "fp16" and by["int8-dynamic"].detected_precision == "dynamic-int8"
    assert by["int8"].detected_precision == "int8" and by["int8"].calibration["frames"] == 3
    assert all(v.runs for v in vs)
    # sizes: fp16 about half of fp32; int8 about a quarter (plus per-channel scales)
    assert 0.45 < by["fp16"].bytes / by["fp32"].bytes < 0.55
    assert by["int8-dynamic"].bytes / by["fp32"].bytes < 0.35 and by["int8"].bytes / by["fp32"].bytes < 0.35
    # BlazePose's weights were float16 to begin with, so casting the fp32 rewrite back is lossless
    assert by["fp16"].rel_l2_diff < 1e-6
    # int8 changes the landmark output measurably but keeps it close (relative L2 on the 195 values)
    for p in ("int8-dynamic", "int8"):
        assert 1e-4 < by[p].rel_l2_diff < 0.3, (p, by[p].rel_l2_diff)
    assert describe_model(by["int8"].path).precision == "int8"


def test_variants_are_cached_by_source_hash(variants, frames):
    out, vs = variants
    mtimes = [os.path.getmtime(v.path) for v in vs]
    again = make_variants(_landmark(), out, calibration_frames=frames,
                          precisions=("fp32", "fp16", "int8-dynamic", "int8"))
    assert [v.sha256 for v in again] == [v.sha256 for v in vs]
    assert [os.path.getmtime(v.path) for v in again] == mtimes
    assert Path(vs[0].path).parent.name == describe_model(_landmark()).sha256[:16]


def test_variant_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="calibration"):
        make_variants(_landmark(), tmp_path, precisions=("int8",))
    with pytest.raises(InputError, match="precisions"):
        make_variants(_landmark(), tmp_path, precisions=("int4",))
    with pytest.raises(ModelError):
        dequantize_fp16_weights(b"\x00" * 32)


def test_sparse_detector_densified_to_fp32(frames, tmp_path):
    """pose_detection.tflite stores sparse float16 weights (DENSIFY -> DEQUANTIZE); the rewrite makes them dense
    float32 and the model computes exactly what the shipped one does."""
    det = _landmark().parents[1] / "pose_detection" / "pose_detection.tflite"
    out = tmp_path / "det.fp32.tflite"
    out.write_bytes(dequantize_fp16_weights(det.read_bytes()))
    assert describe_model(det).precision == "fp16" and describe_model(out).precision == "fp32"
    x = preprocess_frame(frames[0], 224, 224, (-1.0, 1.0))  # the detector takes [-1, 1] pixels
    a, b = run_model(det, x), run_model(out, x)
    for name in a:
        assert np.allclose(a[name], b[name], rtol=1e-5, atol=1e-5), name


def test_every_output_compared(variants):
    _, vs = variants
    int8 = next(v for v in vs if v.precision == "int8")
    # pose_landmark_full has 5 outputs (landmarks, presence, segmentation, heatmap, world landmarks)
    assert len(int8.output_diffs) == 5 and int8.output_diffs["Identity"]["rel_l2"] == int8.rel_l2_diff
