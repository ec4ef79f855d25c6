"""Core ML models (.mlpackage / .mlmodel): description on any OS, prediction on macOS only.

``describe_coreml(path)`` reads the model specification with coremltools (no Core ML framework needed) and
reports inputs, outputs, weight precision, size on disk and sha256 — what a release manager needs to compare
against the device budget. Prediction needs Apple's Core ML framework: off macOS,
:class:`CoreMLCandidate.run` raises NotAvailableError with the reason instead of crashing.
"""
from __future__ import annotations

import hashlib
import platform
import sys
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import ManifestError, ModelError, NotAvailableError

from .base import Candidate, CandidateIdentity, FrameSession

# MIL DataType enum values (coremltools' MIL.proto) → precision labels.
_MIL_DTYPES = {10: "fp16", 11: "fp32", 12: "fp64", 13: "bf16", 21: "int8", 31: "uint8", 25: "int4", 41: "uint4"}
# ArrayFeatureType.ArrayDataType (FeatureTypes.proto).
_ARRAY_DTYPES = {65568: "float32", 65600: "float64", 131104: "int32", 65552: "float16", 131080: "int8"}


def _suppress_coremltools_noise():
    import logging
    import warnings
    logging.getLogger("coremltools").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="coremltools")


def coreml_prediction_available() -> tuple[bool, str]:
    """(available, reason): Core ML prediction needs macOS and coremltools' native extension."""
    if sys.platform != "darwin":
        return False, (f"Core ML prediction needs macOS (Apple's Core ML framework); this machine runs "
                       f"{platform.system()}. Model description (inputs, outputs, precision, size) still works.")
    try:
        import coremltools.libcoremlpython  # noqa: F401
    except ImportError:
        return False, "coremltools was installed without its native extension (libcoremlpython)"
    return True, ""


def _sha256_and_size(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    size = 0
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                size += len(block)
    return h.hexdigest(), size


def _feature(desc) -> dict[str, Any]:
    kind = desc.type.WhichOneof("Type")
    out: dict[str, Any] = {"name": desc.name, "type": kind}
    if kind == "multiArrayType":
        t = desc.type.multiArrayType
        out["shape"] = [int(s) for s in t.shape]
        out["dtype"] = _ARRAY_DTYPES.get(int(t.dataType), str(t.dataType))
    elif kind == "imageType":
        t = desc.type.imageType
        out["shape"] = [1, int(t.height), int(t.width), 3]
        out["color_space"] = int(t.colorSpace)
    return out


def _program_precision(spec) -> str:
    counts: dict[str, int] = {}
    compressed = False
    for fn in spec.mlProgram.functions.values():
        for block in fn.block_specializations.values():
            for op in block.operations:
                if op.type.startswith("constexpr_"):
                    compressed = True
                if op.type != "const" or "val" not in op.attributes:
                    continue
                tt = op.attributes["val"].type.tensorType
                if tt.rank < 2:          # scalars and shape vectors are not weights
                    continue
                n = 1
                for d in tt.dimensions:
                    n *= int(d.constant.size) if d.WhichOneof("dimension") == "constant" else 1
                label = _MIL_DTYPES.get(int(tt.dataType))
                if label:
                    counts[label] = counts.get(label, 0) + n
    if compressed or counts.get("int8", 0) + counts.get("uint8", 0) + counts.get("int4", 0) > 0:
        return "int8"
    if not counts:
        return "unknown"
    return max(counts, key=counts.get)


def _neuralnetwork_precision(spec) -> str:
    nn = getattr(spec, spec.WhichOneof("Type"))
    for layer in getattr(nn, "layers", []):
        for field in ("convolution", "innerProduct", "batchnorm"):
            if layer.HasField(field):
                w = getattr(layer, field).weights
                if len(w.float16Value):
                    return "fp16"
                if w.HasField("quantization") or len(w.rawValue):
                    return "int8"
                return "fp32"
    return "unknown"


def describe_coreml(path: str | PathLike) -> dict[str, Any]:
    """Inputs, outputs, model type, weight precision, bytes and sha256 of a .mlpackage/.mlmodel (any OS)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.suffix.lower() not in (".mlpackage", ".mlmodel"):
        raise ModelError("not a Core ML model", file=path, expected="a .mlpackage folder or a .mlmodel file")
    _suppress_coremltools_noise()
    import coremltools as ct
    try:
        model = ct.models.MLModel(str(path), skip_model_load=True)
        spec = model.get_spec()
    except Exception as exc:  # noqa: BLE001
        # Kept broad: coremltools raises bare Exception (models/model.py) besides RuntimeError, AttributeError
        # and protobuf's DecodeError for unreadable models; any of them means "not a readable Core ML model".
        # The original error stays attached as __cause__ (with its traceback).
        raise ModelError(f"coremltools cannot read the model ({type(exc).__name__}: {exc})", file=path,
                         expected="a valid Core ML .mlpackage or .mlmodel") from exc
    mtype = spec.WhichOneof("Type")
    precision = _program_precision(spec) if mtype == "mlProgram" else _neuralnetwork_precision(spec)
    sha, size = _sha256_and_size(path)
    return {"path": str(path), "model_type": mtype, "spec_version": int(spec.specificationVersion),
            "inputs": [_feature(d) for d in spec.description.input],
            "outputs": [_feature(d) for d in spec.description.output],
            "precision": precision, "model_bytes": size, "sha256": sha,
            "coremltools_version": ct.__version__}


class CoreMLSession(FrameSession):  # pragma: no cover - runs on macOS only
    def __init__(self, cand: "CoreMLCandidate"):
        import coremltools as ct
        self.c = cand
        self.model = ct.models.MLModel(str(cand.path))

    def process(self, rgb: np.ndarray, time_s: float):
        import cv2
        from .tflite_manifest import decode_layout, normalize_input
        c, m = self.c, self.c.manifest
        inp = c.description["inputs"][0]
        iw, ih = int(m.input["width"]), int(m.input["height"])
        h, w = rgb.shape[:2]
        s = max(w / iw, h / ih)
        ox, oy = (w - iw * s) / 2, (h - ih * s) / 2
        img = cv2.warpAffine(rgb, np.array([[s, 0, ox], [0, s, oy]]), (iw, ih),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        if inp["type"] == "imageType":
            from PIL import Image
            feed = Image.fromarray(img)
        else:
            x = normalize_input(img, m.input.get("normalization", "0_1"))[None]
            if inp.get("shape", [0, 0, 0, 3])[1] == 3:
                x = x.transpose(0, 3, 1, 2)
            feed = x.astype(np.float32)
        out = self.model.predict({inp["name"]: feed})
        name = m.output.get("tensor") or c.description["outputs"][0]["name"]
        xy, score = decode_layout(np.asarray(out[name]), m.output["layout"], int(m.output["num_keypoints"]))
        if m.output.get("coordinates", "normalized") == "normalized":
            xy = xy * np.array([iw, ih])
        px = np.column_stack([xy[:, 0] * s + ox, xy[:, 1] * s + oy])
        idx = np.asarray(m.output["keypoint_indices"], dtype=int)
        score = np.clip(score[idx], 0, 1)
        if float(np.mean(score)) < float(m.output.get("min_confidence", 0.2)):
            return None
        return px[idx], score


class CoreMLCandidate(Candidate):
    """A Core ML pose model. Description works everywhere; ``run`` needs macOS and a manifest for the layout.

    Parameters
    ----------
    path : path-like
        The .mlpackage or .mlmodel.
    name : str, optional
        Candidate name (default: the file stem).
    manifest : CandidateManifest, optional
        Input size/normalisation and output layout (as for .tflite manifests); required to run.
    """

    kind = "coreml"

    def __init__(self, path: str | PathLike, *, name: str | None = None, manifest=None):
        super().__init__()
        self.path = Path(path)
        self.description = describe_coreml(self.path)
        self.manifest = manifest
        if manifest is not None:
            self.schema = manifest.schema
        self._name = name or self.path.stem
        self._identity: CandidateIdentity | None = None

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        return (str(self.manifest.path), {}) if self.manifest is not None else (str(self.path), {})

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            import coremltools as ct
            d = self.description
            self._identity = CandidateIdentity(
                name=self._name, kind=self.kind, model_sha256=d["sha256"], runtime="coreml",
                runtime_version=f"coremltools {ct.__version__}", model_path=str(self.path),
                model_bytes=d["model_bytes"], precision=d["precision"],
                params={"model_type": d["model_type"], "inputs": d["inputs"], "outputs": d["outputs"]})
        return self._identity

    def unavailable_reason(self) -> str | None:
        ok, reason = coreml_prediction_available()
        if not ok:
            return reason
        if self.manifest is None:
            return "running a Core ML model needs a candidate manifest declaring its input and output layout"
        return None

    def new_session(self) -> FrameSession:
        ok, reason = coreml_prediction_available()
        if not ok:
            raise NotAvailableError(f"{self.path}: {reason}")
        if self.manifest is None:
            raise ManifestError("running a Core ML model needs a candidate manifest declaring its input size, "
                                "normalisation and output layout", file=self.path, field="manifest",
                                expected="a manifest .toml with kind = 'coreml'")
        return CoreMLSession(self)  # pragma: no cover - macOS only

    def run(self, video_path, *, cache_dir=None, cache: bool = True, max_frames: int | None = None,
            frame_step: int = 1):
        ok, reason = coreml_prediction_available()
        if not ok:  # say why before hashing or decoding anything
            raise NotAvailableError(f"{self.path}: {reason}")
        return super().run(video_path, cache_dir=cache_dir, cache=cache, max_frames=max_frames,
                           frame_step=frame_step)
