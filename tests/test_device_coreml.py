"""Core ML packages of the real BlazePose landmark model: translation checked against the TFLite interpreter
with a numpy evaluation of the MIL program, then coremltools weight compression (sizes and precisions)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from ground_truth.kernel import ModelError

pytest.importorskip("coremltools")
from device_runners.coreml import compress_coreml, evaluate_program, translate_tflite  # noqa: E402
from device_runners.variants import decode_frames, preprocess_frame, run_model  # noqa: E402


def _model(sub, name) -> Path:
    import mediapipe
    return Path(mediapipe.__file__).parent / "modules" / sub / name


LANDMARK = _model("pose_landmark", "pose_landmark_full.tflite")


def test_translation_matches_tflite_on_a_real_frame():
    frame = decode_frames(shared_path("video", "pose2sim_balancing", "cam01.mp4"), n=1)[0]
    x = preprocess_frame(frame, 256, 256)
    prog = translate_tflite(LANDMARK)
    outs = evaluate_program(prog, x)
    ref = run_model(LANDMARK, x)  # LiteRT interpreter on the shipped model
    assert len(outs) == len(ref) == 5
    for (name, r), o in zip(ref.items(), outs):
        assert o.shape == r.shape, name
        # float32 interpreter vs float64 numpy: agreement to ~1e-5 relative shows the same computation
        assert np.linalg.norm(o - r) / np.linalg.norm(r) < 1e-4, name


def test_detector_translation_matches_tflite():
    # pose_detection.tflite: sparse float16 weights (densified first), DEPTH_TO_SPACE, CONCATENATION
    det = _model("pose_detection", "pose_detection.tflite")
    frame = decode_frames(shared_path("video", "sports2d", "demo.mp4"), n=1)[0]
    x = preprocess_frame(frame, 224, 224, (-1.0, 1.0))
    outs, ref = evaluate_program(translate_tflite(det), x), run_model(det, x)
    for (name, r), o in zip(ref.items(), outs):
        assert o.shape == r.shape and np.linalg.norm(o - r) / np.linalg.norm(r) < 1e-4, name


def test_unsupported_op_is_named(tmp_path):
    from ai_edge_litert.tools import flatbuffer_utils
    model = flatbuffer_utils.read_model(str(LANDMARK))
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == 14:  # LOGISTIC -> TANH (28)
            code.builtinCode = code.deprecatedBuiltinCode = 28
    path = tmp_path / "tanh.tflite"
    flatbuffer_utils.write_model(model, str(path))
    with pytest.raises(ModelError, match="TANH"):
        translate_tflite(path)


@pytest.mark.slow
def test_weight_compression_sizes_and_precisions(tmp_path):
    vs = compress_coreml(LANDMARK, tmp_path, compressions=("fp32", "fp16", "linear-int8"))
    by = {v.compression: v for v in vs}
    assert [v.weight_precision for v in vs] == ["fp32", "fp16", "int8"]
    # fp32 weights of the 6.44 MB fp16 TFLite roughly double; fp16 halves them again; int8 ~ a quarter.
    # (k-means palettization works the same way but takes ~10-40 s: measured in docs/device-runners.md)
    assert 12e6 < by["fp32"].bytes < 14e6
    assert 0.45 < by["fp16"].bytes / by["fp32"].bytes < 0.55
    assert by["linear-int8"].bytes / by["fp32"].bytes < 0.32
    assert by["linear-int8"].op_counts["constexpr_affine_dequantize"] > 0
    assert (tmp_path / "coreml_variants.json").is_file()
    if sys.platform != "darwin":
        assert all(not v.prediction_checked and "macOS" in v.note for v in vs)
    # a package's identity for the join with candidates: a content hash, the same after a copy
    import shutil

    from device_runners.model_info import describe_model
    copy = tmp_path / "copy" / "pose.mlpackage"
    shutil.copytree(by["fp32"].path, copy)
    a, b = describe_model(by["fp32"].path), describe_model(copy)
    assert a.format == "mlpackage" and a.sha256 == b.sha256 and len(a.sha256) == 64 and a.bytes == by["fp32"].bytes

