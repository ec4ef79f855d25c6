"""Candidate manifests (TOML): describe any pose model so the harness can run it.

Example, a MoveNet-style single-pose head (output ``[1, 1, 17, 3]`` = y, x, score normalised)::

    [candidate]
    name = "movenet-lightning-int8"
    kind = "tflite"                 # tflite | blazepose-tflite | coreml | imported
    model = "movenet_lightning_int8.tflite"   # relative to this manifest
    schema = "coco17"               # schema of the landmarks kept (see keypoint_indices)
    precision = "int8"              # optional label; detected from the model when omitted

    [input]
    width = 192
    height = 192
    normalization = "0_255"         # "0_1" | "-1_1" | "0_255" | {mean = [...], std = [...]} on 0-255 values
    resize = "letterbox"            # "letterbox" (keep aspect, zero border) | "stretch"

    [output]
    layout = "keypoints_yx_score"   # keypoints_yx_score | keypoints_xy_score | landmarks_xyz_vis
    num_keypoints = 17              # keypoints in the output tensor
    coordinates = "normalized"      # "normalized" ([0, 1] of the input) | "input_pixels"
    tensor = "Identity"             # optional: output name (default: the first output)
    keypoint_indices = []           # optional: which output keypoints form the schema, in order
    score_activation = "none"       # "none" | "sigmoid" (logits)
    presence_tensor = ""            # optional: name of a [1, 1] person-presence output
    presence_activation = "none"
    min_confidence = 0.2            # a frame has a person when its mean kept-keypoint score reaches this

``kind = "blazepose-tflite"`` runs the full BlazePose pipeline (detector + ROI tracking) with ``model`` as the
landmark model (e.g. a quantized variant) and an optional ``detector``. ``kind = "coreml"`` names an
``.mlpackage``/``.mlmodel``. ``kind = "imported"`` names a keypoint ``file`` and its ``format``.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ground_truth.kernel import ManifestError

from .skeletons import SCHEMAS

KINDS = ("tflite", "blazepose-tflite", "coreml", "imported")
LAYOUTS = ("keypoints_yx_score", "keypoints_xy_score", "landmarks_xyz_vis")
NORMALIZATIONS = ("0_1", "-1_1", "0_255")


@dataclass
class CandidateManifest:
    path: Path
    name: str
    kind: str
    model: Path | None
    schema: str = "blazepose33"
    precision: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)   # kind-specific keys of [candidate]


def _need(table: dict, key: str, path: Path, section: str, expected: str):
    if key not in table:
        raise ManifestError("required key is missing", file=path, field=f"{section}.{key}", expected=expected)
    return table[key]


def load_manifest(path: str | PathLike) -> CandidateManifest:
    """Read and check a candidate manifest; relative model paths are resolved against the manifest's folder."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"not valid TOML ({exc})", file=path, expected="a candidate manifest") from None
    cand = data.get("candidate")
    if not isinstance(cand, dict):
        raise ManifestError("missing [candidate] table", file=path, field="candidate",
                            expected="a [candidate] table with name, kind and model")
    name = str(_need(cand, "name", path, "candidate", "a candidate name"))
    kind = _need(cand, "kind", path, "candidate", f"one of {', '.join(KINDS)}")
    if kind not in KINDS:
        raise ManifestError(f"unknown kind {kind!r}", file=path, field="candidate.kind",
                            expected=f"one of {', '.join(KINDS)}")
    model = None
    if kind != "imported":
        model = path.parent / str(_need(cand, "model", path, "candidate", "the model file path"))
        if not model.exists():
            raise ManifestError(f"model file {model} does not exist", file=path, field="candidate.model",
                                expected="a path (relative to the manifest) to an existing model file")
    schema = cand.get("schema", "blazepose33")
    if schema not in SCHEMAS:
        raise ManifestError(f"unknown schema {schema!r}", file=path, field="candidate.schema",
                            expected=f"one of {', '.join(SCHEMAS)}")
    m = CandidateManifest(path=path, name=name, kind=kind, model=model, schema=schema,
                          precision=cand.get("precision"), input=dict(data.get("input", {})),
                          output=dict(data.get("output", {})),
                          extra={k: v for k, v in cand.items()
                                 if k not in ("name", "kind", "model", "schema", "precision")})
    if kind == "tflite":
        _check_tflite_sections(m)
    if kind == "imported":
        _need(cand, "file", path, "candidate", "the keypoint file (relative to the manifest)")
        _need(cand, "format", path, "candidate", "openpose | coco | track-json | csv | trc")
    return m


def _check_tflite_sections(m: CandidateManifest) -> None:
    p = m.path
    for key in ("width", "height"):
        v = _need(m.input, key, p, "input", "the model's input size in pixels")
        if not isinstance(v, int) or v <= 0:
            raise ManifestError(f"{v!r}", file=p, field=f"input.{key}", expected="a positive integer")
    norm = m.input.get("normalization", "0_1")
    if not (norm in NORMALIZATIONS or (isinstance(norm, dict) and {"mean", "std"} <= set(norm))):
        raise ManifestError(f"{norm!r}", file=p, field="input.normalization",
                            expected=f"one of {', '.join(NORMALIZATIONS)} or {{mean = [...], std = [...]}}")
    if m.input.get("resize", "letterbox") not in ("letterbox", "stretch"):
        raise ManifestError(f"{m.input.get('resize')!r}", file=p, field="input.resize",
                            expected="'letterbox' or 'stretch'")
    layout = _need(m.output, "layout", p, "output", f"one of {', '.join(LAYOUTS)}")
    if layout not in LAYOUTS:
        raise ManifestError(f"unknown layout {layout!r}", file=p, field="output.layout",
                            expected=f"one of {', '.join(LAYOUTS)}")
    k = _need(m.output, "num_keypoints", p, "output", "the number of keypoints in the output tensor")
    if not isinstance(k, int) or k <= 0:
        raise ManifestError(f"{k!r}", file=p, field="output.num_keypoints", expected="a positive integer")
    idx = m.output.get("keypoint_indices") or list(range(min(k, len(SCHEMAS[m.schema]))))
    if len(idx) != len(SCHEMAS[m.schema]) or any((not isinstance(i, int)) or i < 0 or i >= k for i in idx):
        raise ManifestError(f"{len(idx)} keypoint indices for schema {m.schema} from {k} output keypoints",
                            file=p, field="output.keypoint_indices",
                            expected=f"{len(SCHEMAS[m.schema])} indices in [0, {k})")
    m.output["keypoint_indices"] = list(idx)
    if m.output.get("coordinates", "normalized") not in ("normalized", "input_pixels"):
        raise ManifestError(f"{m.output.get('coordinates')!r}", file=p, field="output.coordinates",
                            expected="'normalized' or 'input_pixels'")


def candidate_from_manifest(path: str | PathLike, **params: Any):
    """The candidate a manifest describes (``params`` override manifest options)."""
    m = load_manifest(path)
    if m.kind == "tflite":
        from .backbones.tflite_manifest import ManifestTFLiteCandidate
        return ManifestTFLiteCandidate(m, **params)
    if m.kind == "blazepose-tflite":
        from .backbones.blazepose_tflite import BlazePoseTFLiteCandidate
        kw = {k: v for k, v in m.extra.items() if k in (
            "static_image_mode", "smooth_landmarks", "min_detection_confidence", "min_tracking_confidence",
            "num_threads")}
        if "detector" in m.extra:
            kw["detector_model"] = m.path.parent / m.extra["detector"]
        kw.update(params)
        return BlazePoseTFLiteCandidate(landmark_model=m.model, name=m.name, precision=m.precision, **kw)
    if m.kind == "coreml":
        from .backbones.coreml import CoreMLCandidate
        return CoreMLCandidate(m.model, name=m.name, manifest=m, **params)
    from .importers import ImportedCandidate
    return ImportedCandidate(m.path.parent / m.extra["file"], format=m.extra["format"], name=m.name,
                             schema=m.schema if "schema" in m.extra or m.schema != "blazepose33" else None,
                             **params)
