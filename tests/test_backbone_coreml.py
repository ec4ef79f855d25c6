"""Core ML: description on any OS from a real (tiny) .mlpackage built with coremltools' MIL builder; prediction
only on macOS, elsewhere a clear NotAvailableError."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from ground_truth.kernel import ModelError, NotAvailableError


@pytest.fixture(scope="module")
def tiny_mlpackage(tmp_path_factory):
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 32, 24, 3))])
    def prog(image):
        m = mb.reduce_mean(x=image, axes=[1, 2], keep_dims=False)                   # (1, 3)
        y = mb.matmul(x=m, y=mb.const(val=np.full((3, 51), 0.5, dtype=np.float32)))  # (1, 51)
        return mb.reshape(x=y, shape=[1, 1, 17, 3], name="keypoints")

    path = tmp_path_factory.mktemp("coreml") / "tiny_pose.mlpackage"
    # mlprogram's default compute precision stores weights as float16.
    ct.convert(prog, convert_to="mlprogram", skip_model_load=True,
               minimum_deployment_target=ct.target.iOS15).save(str(path))
    return path


def test_describe_reports_inputs_outputs_precision_size(tiny_mlpackage):
    from candidates.backbones.coreml import describe_coreml
    d = describe_coreml(tiny_mlpackage)
    assert d["model_type"] == "mlProgram"
    assert d["inputs"] == [{"name": "image", "type": "multiArrayType", "shape": [1, 32, 24, 3], "dtype": "float32"}]
    assert d["outputs"][0]["name"] == "keypoints" and d["outputs"][0]["shape"] == [1, 1, 17, 3]
    assert d["precision"] == "fp16"
    size = sum(p.stat().st_size for p in tiny_mlpackage.rglob("*") if p.is_file())
    assert d["model_bytes"] == size and len(d["sha256"]) == 64


def test_fp32_precision_is_seen(tmp_path):
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb
    from candidates.backbones.coreml import describe_coreml

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))])
    def prog(x):
        return mb.matmul(x=x, y=mb.const(val=np.ones((4, 6), dtype=np.float32)), name="y")

    path = tmp_path / "fp32.mlpackage"
    ct.convert(prog, convert_to="mlprogram", skip_model_load=True, compute_precision=ct.precision.FLOAT32,
               minimum_deployment_target=ct.target.iOS15).save(str(path))
    assert describe_coreml(path)["precision"] == "fp32"


def test_candidate_identity_and_run_off_macos(tiny_mlpackage, tmp_path):
    from candidates.backbones import get_candidate
    cand = get_candidate(tiny_mlpackage)
    ident = cand.identity
    assert ident.kind == "coreml" and ident.precision == "fp16" and ident.name == "tiny_pose"
    if sys.platform == "darwin":
        pytest.skip("prediction is available on macOS")
    assert "needs macOS" in cand.unavailable_reason()
    with pytest.raises(NotAvailableError, match="needs macOS"):
        cand.run(tmp_path / "any.mp4")


def test_corrupt_model_is_a_model_error(tmp_path):
    from candidates.backbones.coreml import describe_coreml
    bad = tmp_path / "broken.mlmodel"
    bad.write_bytes(b"\x01\x02garbage" * 10)
    with pytest.raises(ModelError) as err:
        describe_coreml(bad)
    assert str(bad) in str(err.value)
    with pytest.raises(ModelError, match="not a Core ML model"):
        describe_coreml(tmp_path)
