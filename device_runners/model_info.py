"""What a model file is: format, size, sha256 and numeric precision (read from the TFLite flatbuffer)."""
from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

from ground_truth.kernel import ModelError, NotAvailableError, validate_type

from .record import ModelInfo, sha256_file

# TFLite schema TensorType codes (tensorflow/lite/schema/schema.fbs)
FLOAT32, FLOAT16, INT32, UINT8, INT64, INT16, INT8 = 0, 1, 2, 3, 4, 7, 9
_DEQUANTIZE = 6


def model_format(path: Path) -> str:
    """'tflite' (flatbuffer identifier TFL3), 'mlpackage', 'mlmodel'; ModelError otherwise."""
    if path.is_dir():
        if path.suffix == ".mlpackage" or (path / "Manifest.json").is_file():
            return "mlpackage"
        raise ModelError("is a directory but not a Core ML .mlpackage", file=path,
                         expected="a .tflite file, a .mlmodel file or a .mlpackage directory")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) == 8 and head[4:8] == b"TFL3":
        return "tflite"
    if path.suffix == ".mlmodel":
        return "mlmodel"
    raise ModelError(f"is not a model: the first bytes are {head[:8]!r}, not a TFLite flatbuffer "
                     "(identifier 'TFL3' at byte 4)", file=path, expected="a .tflite, .mlmodel or .mlpackage model")


def sha256_tree(path: Path) -> str:
    """Hash of a directory model (.mlpackage): sha256 over each file's relative path and its sha256, in
    sorted path order, so the same package hashes the same wherever it lives."""
    import hashlib
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(p.relative_to(path).as_posix().encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def tflite_precision(data: bytes, *, file=None) -> str:
    """Numeric precision of a TFLite model from its tensors.

    Returns 'fp32' (float weights and activations), 'fp16' (float16 weights dequantized at run time),
    'int8' (integer weights and activations: full-integer quantization), 'dynamic-int8' (int8 weights consumed
    by float ops: dynamic-range quantization), 'int8-weight-only' (int8 weights dequantized to float).
    """
    try:
        from ai_edge_litert.tools import flatbuffer_utils
    except ImportError:
        raise NotAvailableError("not available: reading TFLite precision needs ai_edge_litert "
                                "(pip install ai-edge-litert)") from None
    try:
        model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    except (struct.error, ValueError, TypeError, IndexError) as exc:
        # what the flatbuffers reader raises on truncated or corrupt bytes (seen fuzzing a real model)
        raise ModelError(f"TFLite flatbuffer cannot be read ({type(exc).__name__}: {exc})", file=file) from exc
    weight_types: Counter = Counter()
    act_types: Counter = Counter()
    int8_weights_dequantized = int8_weights_direct = 0
    for sg in model.subgraphs:
        producers = {}
        for op in sg.operators:
            for t in op.outputs if op.outputs is not None else []:
                producers[t] = op
        consumers: dict[int, list] = {}
        for op in sg.operators:
            for t in op.inputs if op.inputs is not None else []:
                if t >= 0:
                    consumers.setdefault(t, []).append(op)
        for i, tensor in enumerate(sg.tensors):
            buf = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
            is_const = buf is not None and buf.data is not None and len(buf.data) > 0 or (
                buf is not None and getattr(buf, "size", 0) and getattr(buf, "offset", 0) > 1)
            if is_const:
                weight_types[tensor.type] += 1
                if tensor.type in (INT8, UINT8):
                    codes = [model.operatorCodes[op.opcodeIndex] for op in consumers.get(i, [])]
                    builtin = [max(c.builtinCode, getattr(c, "deprecatedBuiltinCode", 0)) for c in codes]
                    if builtin and all(b == _DEQUANTIZE for b in builtin):
                        int8_weights_dequantized += 1
                    else:
                        int8_weights_direct += 1
            elif i in producers or i in (sg.inputs if sg.inputs is not None else []):
                act_types[tensor.type] += 1
    float_acts = act_types[FLOAT32] + act_types[FLOAT16]
    int_acts = act_types[INT8] + act_types[UINT8] + act_types[INT16]
    if weight_types[INT8] + weight_types[UINT8]:
        if int_acts > float_acts:
            return "int8"
        return "dynamic-int8" if int8_weights_direct >= int8_weights_dequantized else "int8-weight-only"
    if weight_types[FLOAT16]:
        return "fp16"
    return "fp32"


def describe_model(path, *, precision: str | None = None) -> ModelInfo:
    """ModelInfo of a model file: name, sha256, bytes, format and precision (detected for TFLite).

    Raises ModelError naming the file when it is not a model and FileNotFoundError when it is absent.
    """
    validate_type(path, "path-like", "model_path")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    fmt = model_format(path)
    if fmt == "mlpackage":
        return ModelInfo(name=path.name, sha256=sha256_tree(path), bytes=_dir_bytes(path), format=fmt,
                         precision=precision, path=str(path))
    info = ModelInfo(name=path.name, sha256=sha256_file(path), bytes=path.stat().st_size, format=fmt,
                     precision=precision, path=str(path))
    if fmt == "tflite" and precision is None:
        info.precision = tflite_precision(path.read_bytes(), file=path)
    return info
