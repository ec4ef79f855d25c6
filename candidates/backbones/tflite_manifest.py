"""Any single-person .tflite pose model described by a candidate manifest (see :mod:`candidates.manifest`).

The whole frame is fitted to the declared input (letterbox or stretch), normalised as declared, run through
LiteRT, and the declared output layout is decoded back to image pixels:

- ``keypoints_yx_score``: ``[..., K, 3]`` = (y, x, score), MoveNet-style ``[1, 1, 17, 3]``;
- ``keypoints_xy_score``: ``[..., K, 3]`` = (x, y, score);
- ``landmarks_xyz_vis``: ``[1, K*5]`` = (x, y, z, visibility, presence) per keypoint, BlazePose-style.

A model whose tensors do not match the manifest raises ModelError naming the file and the mismatch, when the
candidate is built (before any video is read).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ModelError

from .base import Candidate, CandidateIdentity, FrameSession
from .litert import get_output, load_interpreter, runtime_name_version, set_input, tflite_precision

_STRIDE = {"keypoints_yx_score": 3, "keypoints_xy_score": 3, "landmarks_xyz_vis": 5}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def normalize_input(rgb: np.ndarray, normalization) -> np.ndarray:
    """0-255 RGB to the model's declared input range."""
    x = rgb.astype(np.float32)
    if normalization == "0_1":
        return x / 255.0
    if normalization == "-1_1":
        return x / 127.5 - 1.0
    if normalization == "0_255":
        return x
    return (x - np.asarray(normalization["mean"], np.float32)) / np.asarray(normalization["std"], np.float32)


def decode_layout(values: np.ndarray, layout: str, num_keypoints: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode a raw output into input-space coordinates (K, 2) and raw scores (K,)."""
    v = values.reshape(num_keypoints, _STRIDE[layout]).astype(np.float64)
    if layout == "keypoints_yx_score":
        return v[:, [1, 0]], v[:, 2]
    if layout == "keypoints_xy_score":
        return v[:, :2], v[:, 2]
    return v[:, :2], v[:, 3]


class ManifestTFLiteSession(FrameSession):
    def __init__(self, cand: "ManifestTFLiteCandidate"):
        self.c = cand

    def process(self, rgb: np.ndarray, time_s: float):
        import cv2
        c = self.c
        h, w = rgb.shape[:2]
        iw, ih = c.input_size
        if c.resize == "stretch":
            sx, sy, ox, oy = w / iw, h / ih, 0.0, 0.0
            img = cv2.resize(rgb, (iw, ih), interpolation=cv2.INTER_LINEAR)
        else:
            s = max(w / iw, h / ih)
            sx = sy = s
            ox, oy = (w - iw * s) / 2, (h - ih * s) / 2
            m = np.array([[s, 0, ox], [0, s, oy]])
            img = cv2.warpAffine(rgb, m, (iw, ih), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        set_input(c.interp, c.input, normalize_input(img, c.normalization)[None])
        c.interp.invoke()
        xy, score = decode_layout(get_output(c.interp, c.output), c.layout, c.num_keypoints)
        if c.score_activation == "sigmoid":
            score = _sigmoid(score)
        if c.coordinates == "normalized":
            xy = xy * np.array([iw, ih])
        px = np.column_stack([xy[:, 0] * sx + ox, xy[:, 1] * sy + oy])
        idx = c.keypoint_indices
        px, score = px[idx], np.clip(score[idx], 0.0, 1.0)
        if c.presence is not None:
            p = float(get_output(c.interp, c.presence).reshape(-1)[0])
            if c.presence_activation == "sigmoid":
                p = float(_sigmoid(p))
            if p < c.min_confidence:
                return None
        elif float(np.mean(score)) < c.min_confidence:
            return None
        return px, score


class ManifestTFLiteCandidate(Candidate):
    """A .tflite pose model run on whole frames as its manifest declares (no detector, no ROI tracking)."""

    kind = "tflite"

    def __init__(self, manifest, *, num_threads: int | None = 1, min_confidence: float | None = None):
        super().__init__()
        from ..manifest import CandidateManifest, load_manifest
        if not isinstance(manifest, CandidateManifest):
            manifest = load_manifest(manifest)
        self.manifest = manifest
        self.schema = manifest.schema
        path = manifest.model
        self.interp = load_interpreter(path, num_threads=num_threads)
        inp, out = manifest.input, manifest.output
        self.input_size = (int(inp["width"]), int(inp["height"]))
        self.normalization = inp.get("normalization", "0_1")
        self.resize = inp.get("resize", "letterbox")
        self.layout = out["layout"]
        self.num_keypoints = int(out["num_keypoints"])
        self.coordinates = out.get("coordinates", "normalized")
        self.keypoint_indices = np.asarray(out["keypoint_indices"], dtype=int)
        self.score_activation = out.get("score_activation", "sigmoid" if self.layout == "landmarks_xyz_vis"
                                        else "none")
        self.presence_activation = out.get("presence_activation", "none")
        self.min_confidence = float(min_confidence if min_confidence is not None
                                    else out.get("min_confidence", 0.2))
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence is {self.min_confidence}", field="min_confidence",
                             expected="a value in [0, 1]")
        # --- check the model against the manifest, naming the file and the mismatch
        self.input = self.interp.get_input_details()[0]
        shape = tuple(int(s) for s in self.input["shape"])
        want = (1, self.input_size[1], self.input_size[0], 3)
        if shape != want:
            raise ModelError(f"input tensor has shape {list(shape)} but the manifest {manifest.path} declares "
                             f"width={want[2]}, height={want[1]}", file=path, field="input",
                             expected=f"{list(want)}")
        outputs = self.interp.get_output_details()
        self.output = self._find_output(outputs, out.get("tensor"), path)
        oshape = tuple(int(s) for s in self.output["shape"])
        stride = _STRIDE[self.layout]
        ok = int(np.prod(oshape)) == self.num_keypoints * stride
        if self.layout != "landmarks_xyz_vis":
            ok = ok and oshape[-1] == 3 and oshape[-2] == self.num_keypoints
        if not ok:
            expected = (f"[1, {self.num_keypoints * stride}]" if self.layout == "landmarks_xyz_vis"
                        else f"[..., {self.num_keypoints}, 3]")
            raise ModelError(f"output '{self.output['name']}' has shape {list(oshape)}, which does not match "
                             f"layout {self.layout} with num_keypoints={self.num_keypoints} declared in "
                             f"{manifest.path}", file=path, field="output.layout", expected=expected)
        self.presence = None
        if out.get("presence_tensor"):
            self.presence = self._find_output(outputs, out["presence_tensor"], path)
            if int(np.prod(self.presence["shape"])) != 1:
                raise ModelError(f"presence tensor '{out['presence_tensor']}' has shape "
                                 f"{list(self.presence['shape'])}", file=path, field="output.presence_tensor",
                                 expected="a single value [1, 1]")
        self._precision = manifest.precision or tflite_precision(self.interp)
        self._num_threads = num_threads
        self._identity: CandidateIdentity | None = None

    @staticmethod
    def _find_output(outputs: list[dict], name: Any, path) -> dict:
        if name in (None, ""):
            return outputs[0]
        if isinstance(name, int):
            if 0 <= name < len(outputs):
                return outputs[name]
        else:
            for d in outputs:
                if d["name"] == name:
                    return d
        raise ModelError(f"no output tensor {name!r}", file=path, field="output.tensor",
                         expected=f"one of {[d['name'] for d in outputs]}")

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        return str(self.manifest.path), {"num_threads": self._num_threads, "min_confidence": self.min_confidence}

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            from ..video import file_sha256
            runtime, version = runtime_name_version()
            m = self.manifest
            self._identity = CandidateIdentity(
                name=m.name, kind=self.kind, model_sha256=file_sha256(m.model), runtime=runtime,
                runtime_version=version, model_path=str(m.model), model_bytes=m.model.stat().st_size,
                precision=self._precision,
                params={"manifest": str(m.path), "manifest_sha256": file_sha256(m.path),
                        "min_confidence": self.min_confidence})
        return self._identity

    def new_session(self) -> ManifestTFLiteSession:
        return ManifestTFLiteSession(self)
