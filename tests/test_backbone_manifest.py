"""Candidate manifests (TOML) for any .tflite pose model: the real pose_landmark_full.tflite described by a
manifest, layouts decoded generically, and models that do not match their manifest rejected."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from candidates.backbones import get_candidate, mediapipe_model_path
from candidates.backbones.tflite_manifest import decode_layout
from ground_truth.kernel import ManifestError, ModelError

LANDMARK_MANIFEST = """
[candidate]
name = "pose-landmark-full-manifest"
kind = "tflite"
model = "{model}"
schema = "blazepose33"
[input]
width = {size}
height = {size}
normalization = "0_1"
resize = "letterbox"
[output]
layout = "{layout}"
num_keypoints = {k}
coordinates = "input_pixels"
tensor = "Identity"
presence_tensor = "Identity_1"
min_confidence = 0.5
"""


def _manifest(tmp_path, *, layout="landmarks_xyz_vis", k=39, size=256, model=None, name="m.toml"):
    p = tmp_path / name
    p.write_text(LANDMARK_MANIFEST.format(model=model or mediapipe_model_path("full"), layout=layout, k=k,
                                          size=size))
    return p


def test_decode_layouts():
    v = np.array([[[[0.2, 0.6, 0.9], [0.4, 0.1, 0.3]]]])        # MoveNet-style [1, 1, 2, 3] = y, x, score
    xy, s = decode_layout(v, "keypoints_yx_score", 2)
    np.testing.assert_allclose(xy, [[0.6, 0.2], [0.1, 0.4]])
    np.testing.assert_allclose(s, [0.9, 0.3])
    xy, s = decode_layout(v, "keypoints_xy_score", 2)
    np.testing.assert_allclose(xy, [[0.2, 0.6], [0.4, 0.1]])
    w = np.arange(10.0).reshape(1, 10)                        # [1, K*5] = x, y, z, visibility, presence
    xy, s = decode_layout(w, "landmarks_xyz_vis", 2)
    np.testing.assert_allclose(xy, [[0, 1], [5, 6]])
    np.testing.assert_allclose(s, [3, 8])


def test_real_landmark_model_through_a_manifest(tmp_path):
    video = shared_path("video", "pose2sim_balancing", "cam03.mp4")
    cand = get_candidate(_manifest(tmp_path))
    track = cand.run(video, cache=False, max_frames=2)
    assert track.schema == "blazepose33" and track.keypoints.shape == (2, 33, 2)
    assert track.detected.all()
    # Reference: the full BlazePose pipeline (detector + rotated ROI) on the same frames. Fed the whole
    # letterboxed frame, the landmark model still places the hips within 5 % of the image height of it
    # when the person fills a portrait frame as here.
    ref = get_candidate("blazepose-tflite", smooth_landmarks=False).run(video, cache=False, max_frames=2)
    for name in ("left_hip", "right_hip", "left_shoulder"):
        d = np.linalg.norm(track.keypoint(name) - ref.keypoint(name), axis=1)
        assert np.all(d < 0.05 * track.image_height), (name, d)
    ident = cand.identity
    assert ident.name == "pose-landmark-full-manifest" and ident.params["manifest"].endswith("m.toml")


def test_layout_mismatch_names_file_and_mismatch(tmp_path):
    # A MoveNet-style declaration for a model whose output is [1, 195]
    p = _manifest(tmp_path, layout="keypoints_yx_score", k=17)
    p.write_text(p.read_text().replace('schema = "blazepose33"', 'schema = "coco17"'))
    with pytest.raises(ModelError) as err:
        get_candidate(p)
    msg = str(err.value)
    assert "pose_landmark_full.tflite" in msg and "[1, 195]" in msg and "keypoints_yx_score" in msg
    assert err.value.field == "output.layout"


def test_input_size_mismatch(tmp_path):
    with pytest.raises(ModelError, match=r"\[1, 256, 256, 3\]") as err:
        get_candidate(_manifest(tmp_path, size=192))
    assert err.value.field == "input"


def test_not_a_tflite_flatbuffer(tmp_path):
    fake = tmp_path / "fake.tflite"
    fake.write_text("hello, I am text")
    with pytest.raises(ModelError, match="not a TFLite flatbuffer") as err:
        get_candidate(_manifest(tmp_path, model=fake))
    assert str(fake) in str(err.value)


def test_manifest_errors(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[candidate]\nname = 'x'\nkind = 'onnx'\nmodel = 'a'\n")
    with pytest.raises(ManifestError, match="unknown kind") as err:
        get_candidate(p)
    assert err.value.field == "candidate.kind"
    p.write_text("[candidate\n")
    with pytest.raises(ManifestError, match="not valid TOML"):
        get_candidate(p)
    p.write_text(f"[candidate]\nname = 'x'\nkind = 'tflite'\nmodel = '{mediapipe_model_path('full')}'\n"
                 "[input]\nwidth = 256\nheight = 256\n[output]\nlayout = 'heatmaps'\nnum_keypoints = 39\n")
    with pytest.raises(ManifestError, match="unknown layout"):
        get_candidate(p)
    p.write_text("[candidate]\nname = 'x'\nkind = 'tflite'\nmodel = 'missing.tflite'\n")
    with pytest.raises(ManifestError, match="does not exist"):
        get_candidate(p)


def test_bare_tflite_is_a_blazepose_variant_or_needs_a_manifest():
    # A BlazePose landmark model given as a bare file runs in the BlazePose pipeline (how variants are passed).
    cand = get_candidate(str(mediapipe_model_path("full")))
    assert cand.identity.name == "pose_landmark_full" and cand.kind == "tflite"
    assert cand.unavailable_reason() is None
    # Any other layout (here the detector) needs a manifest, and the error says so.
    with pytest.raises(ModelError, match="needs? a candidate manifest") as err:
        get_candidate(str(mediapipe_model_path("detector")))
    assert "pose_detection.tflite" in str(err.value)


def test_blazepose_variant_through_a_manifest(tmp_path):
    """How the orchestration passes a quantized landmark model: kind = "blazepose-tflite"."""
    import shutil
    variant = tmp_path / "pose_landmark_variant.tflite"
    shutil.copy(mediapipe_model_path("full"), variant)
    p = tmp_path / "variant.toml"
    p.write_text('[candidate]\nname = "blazepose-variant"\nkind = "blazepose-tflite"\n'
                 'model = "pose_landmark_variant.tflite"\nprecision = "fp16"\nsmooth_landmarks = false\n')
    cand = get_candidate(p)
    assert cand.identity.name == "blazepose-variant" and cand.identity.model_path == str(variant)
    assert cand.smooth_landmarks is False
    direct = get_candidate("blazepose-tflite", landmark_model=variant, name="blazepose-variant")
    assert direct.identity.model_sha256 == cand.identity.model_sha256
