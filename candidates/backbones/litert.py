"""Loading TFLite models through LiteRT (``ai_edge_litert``, falling back to ``tflite_runtime``)."""
from __future__ import annotations

from os import PathLike
from pathlib import Path

from ground_truth.kernel import ModelError, NotAvailableError


def runtime_name_version() -> tuple[str, str]:
    """``(runtime, version)`` of the TFLite interpreter that will be used."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        import ai_edge_litert.interpreter  # noqa: F401 - only whether it imports
        module, dist = "ai_edge_litert", "ai-edge-litert"
    except ImportError:
        try:
            import tflite_runtime.interpreter  # noqa: F401
            module, dist = "tflite_runtime", "tflite-runtime"
        except ImportError:
            raise NotAvailableError("no TFLite interpreter installed (pip install ai-edge-litert or "
                                    "tflite-runtime)") from None
    try:
        return module, version(dist)
    except PackageNotFoundError:
        return module, "unknown"


def check_tflite_file(path: str | PathLike) -> Path:
    """Raise ModelError unless the file is a TFLite flatbuffer (file identifier ``TFL3`` at byte 4)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise ModelError(f"is not a TFLite flatbuffer (file identifier {head[4:8]!r})", file=path,
                         expected="a .tflite model with identifier b'TFL3'")
    return path


def load_interpreter(path: str | PathLike, *, num_threads: int | None = 1):
    """A ready (tensors allocated) LiteRT interpreter for a .tflite file."""
    path = check_tflite_file(path)
    runtime, _ = runtime_name_version()
    if runtime == "ai_edge_litert":
        from ai_edge_litert.interpreter import Interpreter
    else:  # the fallback runtime (tests/test_backbone_blazepose.py runs it with ai_edge_litert hidden)
        from tflite_runtime.interpreter import Interpreter
    try:
        interp = Interpreter(model_path=str(path), num_threads=num_threads)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"LiteRT cannot load the model ({exc})", file=path, expected="a valid .tflite model") \
            from None
    return interp


def tflite_precision(interp) -> str:
    """Weight/activation precision of a loaded model: ``fp32``, ``fp16``, ``int8`` or ``dynamic-int8``.

    int8 tensors with int8 model inputs or QUANTIZE ops (activations in int8) → ``int8`` (full integer);
    int8 tensors without them → ``dynamic-int8`` (int8 weights, float activations); float16 tensors (weights
    stored in half precision behind DEQUANTIZE ops, as MediaPipe ships BlazePose) → ``fp16``.
    """
    import numpy as np
    dtypes = {d["dtype"] for d in interp.get_tensor_details()}
    inputs = {d["dtype"] for d in interp.get_input_details()}
    if np.int8 in dtypes or np.uint8 in dtypes:
        try:
            ops = {op["op_name"] for op in interp._get_ops_details()}
        except (AttributeError, KeyError, RuntimeError):
            ops = set()
        full = np.int8 in inputs or np.uint8 in inputs or "QUANTIZE" in ops
        return "int8" if full else "dynamic-int8"
    if np.float16 in dtypes:
        return "fp16"
    return "fp32"


def set_input(interp, detail: dict, values) -> None:
    """Feed float values to an input tensor, quantizing when the model expects integers."""
    import numpy as np
    dtype = detail["dtype"]
    if dtype in (np.int8, np.uint8):
        scale, zero = detail["quantization"]
        info = np.iinfo(dtype)
        values = np.clip(np.round(values / scale + zero), info.min, info.max)
    interp.set_tensor(detail["index"], np.asarray(values, dtype=dtype).reshape(detail["shape"]))


def get_output(interp, detail: dict, *, view: bool = False):
    """An output tensor as float32, dequantized when the model returns integers.

    ``view=True`` returns float outputs without copying (valid only until the next ``invoke``).
    """
    import numpy as np
    values = interp.tensor(detail["index"])() if view else interp.get_tensor(detail["index"])
    if values.dtype in (np.int8, np.uint8, np.int16, np.int32):
        scale, zero = detail["quantization"]
        if scale:
            return (values.astype(np.float32) - zero) * scale
    return values.astype(np.float32, copy=False)
