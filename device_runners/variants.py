"""Model variants for the cost/accuracy trade: fp32, fp16, int8 dynamic-range and full-integer int8 .tflite
files made with ai-edge-quantizer (no TensorFlow needed), each verified to run in the LiteRT interpreter and
compared with fp32 on a real frame.

MediaPipe's BlazePose models ship float16 weights behind DEQUANTIZE ops, which the quantizer does not touch.
:func:`dequantize_fp16_weights` first rewrites the flatbuffer to plain float32 (fold every
DEQUANTIZE(float16 constant) into a float32 constant, drop the ops, renumber tensors and buffers, add a
``serving_default`` signature when the model has none, which the quantizer's calibration needs); that fp32
model is the source of the other variants.
"""
from __future__ import annotations

import json
import struct
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ground_truth.kernel import InputError, ModelError, NotAvailableError, ReaderError, check_option, validate_type

from .model_info import FLOAT16, FLOAT32, describe_model, tflite_precision
from .record import sha256_file

PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8")
_DEQUANTIZE = 6
_DENSIFY = 124
CACHE_VERSION = 2


@dataclass
class VariantInfo:
    """One model variant. Sizes in bytes; ``size_mb`` uses MB = 10^6 bytes.

    ``max_abs_diff`` / ``rel_l2_diff`` compare the variant's first output with the fp32 variant's on
    ``reference_input`` (a real video frame when calibration frames were given), ``output_diffs`` every
    output; ``runs`` says it ran in LiteRT.
    """

    precision: str
    path: str
    bytes: int
    sha256: str
    source_sha256: str
    detected_precision: str
    method: str
    runs: bool = False
    output_name: str | None = None
    max_abs_diff: float | None = None
    rel_l2_diff: float | None = None
    calibration: dict | None = None
    output_diffs: dict = field(default_factory=dict)  # output name -> {"max_abs", "rel_l2"} vs fp32
    notes: list[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return self.bytes / 1e6


# ------------------------------------------------------------------------------------------- flatbuffer rewrite
def dequantize_fp16_weights(data: bytes, *, file=None) -> bytes:
    """Fold float16 constants behind DEQUANTIZE ops (and sparse constants behind DENSIFY ops) into dense
    float32 constants; returns the new flatbuffer.

    A model without such constants is returned re-serialised unchanged in content (plus a signature if
    missing). ModelError when the flatbuffer cannot be read.
    """
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fbu
    try:
        model = fbu.read_model_from_bytearray(bytearray(data))
    except (struct.error, ValueError, TypeError, IndexError) as exc:
        # what the flatbuffers reader raises on truncated or corrupt bytes (seen fuzzing a real model)
        raise ModelError(f"TFLite flatbuffer cannot be read ({type(exc).__name__}: {exc})", file=file) from exc
    for sg in model.subgraphs:
        keep_ops = []
        for op in sg.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            if builtin == _DENSIFY and len(op.inputs) == 1:
                src = sg.tensors[op.inputs[0]]
                buf = model.buffers[src.buffer]
                if src.sparsity is not None and buf.data is not None and len(buf.data) > 0:
                    dtype = {FLOAT32: "<f4", FLOAT16: "<f2", 9: "i1"}.get(src.type)
                    if dtype is None:
                        raise ModelError(f"sparse tensor {src.name!r} has type {src.type}, not densified", file=file)
                    dense = densify(np.frombuffer(bytes(bytearray(buf.data)), dtype=dtype), src.shape, src.sparsity)
                    new_buf = schema.BufferT()
                    new_buf.data = np.frombuffer(dense.astype(dtype).tobytes(), dtype=np.uint8)
                    model.buffers.append(new_buf)
                    dst = sg.tensors[op.outputs[0]]
                    dst.buffer = len(model.buffers) - 1
                    continue  # the op is folded away; a DEQUANTIZE after it now sees a constant
            if builtin == _DEQUANTIZE and len(op.inputs) == 1:
                src = sg.tensors[op.inputs[0]]
                buf = model.buffers[src.buffer]
                if src.type == FLOAT16 and buf.data is not None and len(buf.data) > 0:
                    dst = sg.tensors[op.outputs[0]]
                    values = np.frombuffer(bytes(bytearray(buf.data)), dtype="<f2").astype("<f4")
                    new_buf = schema.BufferT()
                    new_buf.data = np.frombuffer(values.tobytes(), dtype=np.uint8)
                    model.buffers.append(new_buf)
                    dst.buffer = len(model.buffers) - 1
                    dst.type = FLOAT32
                    continue  # the op is folded away
            keep_ops.append(op)
        sg.operators = keep_ops
    _prune(model)
    if not model.signatureDefs:
        sg = model.subgraphs[0]
        sig = schema.SignatureDefT()
        sig.signatureKey = "serving_default"
        sig.subgraphIndex = 0
        sig.inputs, sig.outputs = [], []
        for idx, target in ((sg.inputs, sig.inputs), (sg.outputs, sig.outputs)):
            for t in idx:
                tm = schema.TensorMapT()
                tm.name = sg.tensors[t].name
                tm.tensorIndex = int(t)
                target.append(tm)
        model.signatureDefs = [sig]
    return bytes(fbu.convert_object_to_bytearray(model))


def densify(values: np.ndarray, shape, sparsity) -> np.ndarray:
    """Dense array of a TFLite sparse constant (TACO-style: traversal order, block map, per-dimension DENSE or
    SPARSE_CSR metadata), as TFLite's FormatConverter::SparseToDense does."""
    order = [int(d) for d in sparsity.traversalOrder]
    block_map = [int(d) for d in (sparsity.blockMap if sparsity.blockMap is not None else [])]
    dims = sparsity.dimMetadata
    n = len(shape)
    block_size = {block_map[k]: int(dims[order.index(n + k)].denseSize) for k in range(len(block_map))}
    out = np.zeros([int(d) for d in shape], dtype=values.dtype)
    coords: list[list[int]] = []
    positions: list[int] = []

    def rec(level, pos, prefix):
        dm = dims[level]
        if dm.format == 0:  # DENSE
            size = int(dm.denseSize)
            for i in range(size):
                nxt = pos * size + i
                if level + 1 == len(order):
                    coords.append(prefix + [i])
                    positions.append(nxt)
                else:
                    rec(level + 1, nxt, prefix + [i])
        else:  # SPARSE_CSR
            seg, idx = dm.arraySegments.values, dm.arrayIndices.values
            for j in range(int(seg[pos]), int(seg[pos + 1])):
                if level + 1 == len(order):
                    coords.append(prefix + [int(idx[j])])
                    positions.append(j)
                else:
                    rec(level + 1, j, prefix + [int(idx[j])])

    rec(0, 0, [])
    if not coords:
        return out
    c = np.asarray(coords)  # columns in traversal order
    expanded = np.zeros((len(coords), len(order)), dtype=np.int64)
    expanded[:, order] = c
    original = expanded[:, :n].copy()
    for k, d in enumerate(block_map):
        original[:, d] = original[:, d] * block_size[d] + expanded[:, n + k]
    out[tuple(original.T)] = values[np.asarray(positions)]
    return out


def _prune(model) -> None:
    """Drop tensors no op or subgraph I/O uses and buffers no tensor or metadata uses; renumber references."""
    used_buffers = {0}
    for sg in model.subgraphs:
        used = set(int(t) for t in (sg.inputs if sg.inputs is not None else []))
        used |= set(int(t) for t in (sg.outputs if sg.outputs is not None else []))
        for op in sg.operators:
            for seq in (op.inputs, op.outputs, op.intermediates):
                if seq is not None:
                    used |= {int(t) for t in seq if t >= 0}
        order = sorted(used)
        remap = {old: new for new, old in enumerate(order)}
        sg.tensors = [sg.tensors[i] for i in order]
        sg.inputs = [remap[int(t)] for t in sg.inputs]
        sg.outputs = [remap[int(t)] for t in sg.outputs]
        for op in sg.operators:
            op.inputs = [remap[int(t)] if t >= 0 else -1 for t in op.inputs]
            op.outputs = [remap[int(t)] for t in op.outputs]
            if op.intermediates is not None:
                op.intermediates = [remap[int(t)] for t in op.intermediates]
        for sig in model.signatureDefs or []:
            if sig.subgraphIndex == model.subgraphs.index(sg):
                for tm in list(sig.inputs or []) + list(sig.outputs or []):
                    tm.tensorIndex = remap[tm.tensorIndex]
        used_buffers |= {t.buffer for t in sg.tensors}
    for meta in model.metadata or []:
        used_buffers.add(meta.buffer)
    order = sorted(used_buffers)
    bremap = {old: new for new, old in enumerate(order)}
    model.buffers = [model.buffers[i] for i in order]
    for sg in model.subgraphs:
        for t in sg.tensors:
            t.buffer = bremap[t.buffer]
    for meta in model.metadata or []:
        meta.buffer = bremap[meta.buffer]


# ------------------------------------------------------------------------------------------------ frames
def decode_frames(video, n: int = 8, *, seed_offset: float = 0.0) -> list[np.ndarray]:
    """``n`` RGB frames (H, W, 3 uint8) evenly spaced through a real video, decoded with PyAV."""
    validate_type(video, "path-like", "video")
    validate_type(n, int, "n")
    if n < 1:
        raise InputError(f"must be >= 1, got {n}", field="n")
    import av
    path = Path(video)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        with av.open(str(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except av.error.FFmpegError as exc:
        raise ReaderError(f"cannot decode video ({exc})", file=path) from None
    if not frames:
        raise ReaderError("no video frames", file=path)
    idx = np.unique(np.linspace(0, len(frames) - 1, n).round().astype(int))
    return [frames[i] for i in idx]


def preprocess_frame(frame: np.ndarray, height: int, width: int, value_range=(0.0, 1.0)) -> np.ndarray:
    """Centre-crop to the input's aspect ratio, resize (PyAV/swscale bilinear) and scale to ``value_range``."""
    import av
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    h, w = frame.shape[:2]
    target = width / height
    if w / h > target:
        cw = int(round(h * target))
        x0 = (w - cw) // 2
        frame = frame[:, x0:x0 + cw]
    else:
        ch = int(round(w / target))
        y0 = (h - ch) // 2
        frame = frame[y0:y0 + ch]
    vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    small = vf.reformat(width=width, height=height, format="rgb24").to_ndarray().astype(np.float32) / 255.0
    lo, hi = value_range
    return (lo + small * (hi - lo))[None]


# ------------------------------------------------------------------------------------------------ running
def _interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - the fallback runtime
        from tflite_runtime.interpreter import Interpreter
    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    return interp


def run_model(path, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Run a .tflite once on a float input (quantized inputs are quantized with the tensor's scale)."""
    interp = _interpreter(Path(path))
    det = interp.get_input_details()[0]
    x = inputs
    if det["dtype"] != np.float32:
        scale, zero = det["quantization"]
        info = np.iinfo(det["dtype"])
        x = np.clip(np.round(inputs / scale + zero), info.min, info.max)
    interp.set_tensor(det["index"], x.astype(det["dtype"]))
    interp.invoke()
    out = {}
    for d in interp.get_output_details():
        y = interp.get_tensor(d["index"])
        if d["dtype"] != np.float32 and d["quantization"][0]:
            scale, zero = d["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        out[d["name"]] = np.asarray(y, dtype=np.float64)
    return out


def _quantize(src: Path, recipe, calibration=None) -> bytes:
    import contextlib
    import io
    import warnings

    import ai_edge_quantizer as aeq
    q = aeq.Quantizer(str(src), recipe)
    # its calibrator and its model modifier draw tqdm bars on sys.stderr for models of over 100 tensors (BlazePose
    # lite, full, heavy) whatever enable_progress_bar says: kept out of the user's terminal, anything else it
    # writes there is passed on
    said = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(said):
        # the calibrator keeps all tensors on purpose and warns about it
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        result = q.calibrate(calibration) if calibration is not None else None
        quantized = q.quantize(result, enable_progress_bar=False, enable_progress_report=False)
    rest = [line for line in said.getvalue().replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    if rest:
        print("\n".join(rest), file=sys.stderr)
    return bytes(quantized.quantized_model)


def _fp16_recipe():
    from ai_edge_quantizer import qtyping, recipe_manager
    from ai_edge_quantizer.algorithm_manager import AlgorithmName
    rm = recipe_manager.RecipeManager()
    rm.add_weight_only_config(regex=".*", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED, num_bits=16,
                              algorithm_key=AlgorithmName.FLOAT_CASTING)
    return rm.get_quantization_recipe()


def make_variants(model_path, out_dir, *, calibration_frames=None, precisions=("fp32", "fp16", "int8-dynamic"),
                  input_range=(0.0, 1.0), reference_frame=None) -> list[VariantInfo]:
    """Write precision variants of a .tflite model and verify each one.

    Parameters
    ----------
    model_path : path-like
        Source .tflite (float32, or float16 weights with DEQUANTIZE ops such as MediaPipe's BlazePose).
    out_dir : path-like
        Cache folder; variants go to ``out_dir/<source sha256[:16]>/`` and are reused when the source hash,
        the precision and the files' hashes match ``variants.json`` there.
    calibration_frames : list of (H, W, 3) uint8 RGB arrays, optional
        Real video frames (see :func:`decode_frames`); needed for 'int8' (full integer). The first one is
        also the reference input for the output comparison.
    precisions : tuple of {'fp32', 'fp16', 'int8-dynamic', 'int8'}
    input_range : (float, float)
        Pixel value range the model expects (BlazePose landmark: [0, 1]; BlazePose detector: [-1, 1]).
    reference_frame : (H, W, 3) uint8 array, optional
        Frame for the comparison with fp32 (default: the first calibration frame, else seeded noise).

    Returns
    -------
    list of VariantInfo
        In the order of ``precisions``; fp32 is always built (it is the source of the others).

    Notes
    -----
    'int8-dynamic' is ai-edge-quantizer's ``dynamic_wi8_afp32`` (per-channel int8 weights, activations
    quantized on the fly); 'int8' is ``static_wi8_ai8`` (int8 weights and activations, ranges from the
    calibration frames; inputs/outputs stay float with quantize/dequantize at the edges); 'fp16' is weight-only
    float casting (float16 weights, float32 compute). Read ``rel_l2_diff`` (||y - y_fp32|| / ||y_fp32|| on
    the first output) as the accuracy cost; the accuracy against ground truth is measured by the study.
    """
    validate_type(model_path, "path-like", "model_path")
    validate_type(out_dir, "path-like", "out_dir")
    for p in precisions:
        check_option("precisions", p, PRECISIONS)
    if "int8" in precisions and not calibration_frames:
        raise InputError("full-integer int8 needs calibration frames from real video",
                         field="calibration_frames", expected="a list of RGB frames (decode_frames(video))")
    try:
        import ai_edge_quantizer  # noqa: F401
    except ImportError:
        raise NotAvailableError("ai-edge-quantizer is not installed (pip install ai-edge-quantizer)") from None
    src = Path(model_path)
    info = describe_model(src)
    if info.format != "tflite":
        raise ModelError(f"variants are made from .tflite models, got a {info.format}", file=src)
    folder = Path(out_dir) / info.sha256[:16]
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "variants.json"
    cached = {}
    if manifest_path.is_file():
        try:
            doc = json.loads(manifest_path.read_text())
            if doc.get("source_sha256") == info.sha256 and doc.get("cache_version") == CACHE_VERSION:
                cached = {v["precision"]: v for v in doc["variants"]}
        except (json.JSONDecodeError, KeyError):
            cached = {}
    stem = src.name.removesuffix(".tflite")
    wanted = ["fp32"] + [p for p in precisions if p != "fp32"]
    results: dict[str, VariantInfo] = {}

    fp32_path = folder / f"{stem}.fp32.tflite"
    # reference input for the comparisons
    interp = _interpreter(src)
    det = interp.get_input_details()[0]
    _, h, w, _c = det["shape"]
    ref_frame = reference_frame if reference_frame is not None else (calibration_frames[0] if calibration_frames
                                                                      else None)
    if ref_frame is not None:
        ref_input = preprocess_frame(ref_frame, h, w, input_range)
        ref_kind = "real video frame"
    else:
        lo, hi = input_range
        ref_input = (lo + np.random.default_rng(0).random((1, h, w, 3)) * (hi - lo)).astype(np.float32)
        ref_kind = "seeded uniform noise (no frame given)"

    for precision in wanted:
        path = folder / f"{stem}.{precision}.tflite"
        hit = cached.get(precision)
        if hit and path.is_file() and sha256_file(path) == hit["sha256"] and hit.get("reference") == ref_kind:
            results[precision] = VariantInfo(**{k: v for k, v in hit.items() if k in VariantInfo.__dataclass_fields__})
            continue
        calib_meta = None
        if precision == "fp32":
            data = dequantize_fp16_weights(src.read_bytes(), file=src)
            method = "flatbuffer rewrite: float16 DEQUANTIZE constants folded to float32"
        elif precision == "fp16":
            data = _quantize(fp32_path, _fp16_recipe())
            method = "ai-edge-quantizer weight-only FLOAT_CASTING to float16"
        elif precision == "int8-dynamic":
            from ai_edge_quantizer import recipe
            data = _quantize(fp32_path, recipe.dynamic_wi8_afp32())
            method = "ai-edge-quantizer dynamic_wi8_afp32 (per-channel int8 weights, dynamic activations)"
        else:
            from ai_edge_quantizer import recipe
            key = _signature_input_name(fp32_path)
            samples = [{key: preprocess_frame(f, h, w, input_range)} for f in calibration_frames]
            data = _quantize(fp32_path, recipe.static_wi8_ai8(), calibration={"serving_default": samples})
            method = "ai-edge-quantizer static_wi8_ai8 (int8 weights and activations, calibrated)"
            calib_meta = {"frames": len(calibration_frames), "input_range": list(input_range)}
        path.write_bytes(data)
        v = VariantInfo(precision=precision, path=str(path), bytes=len(data), sha256=sha256_file(path),
                        source_sha256=info.sha256, detected_precision=tflite_precision(data, file=path),
                        method=method, calibration=calib_meta)
        results[precision] = v
        _verify(v, fp32_path, ref_input, ref_kind)
    _write_manifest(manifest_path, info.sha256, results)
    return [results[p] for p in (precisions if "fp32" in precisions else wanted)]


def _signature_input_name(path: Path) -> str:
    interp = _interpreter(path)
    sig = interp.get_signature_runner("serving_default")
    return next(iter(sig.get_input_details()))


def _verify(v: VariantInfo, fp32_path: Path, ref_input: np.ndarray, ref_kind: str) -> None:
    try:
        out = run_model(v.path, ref_input)
    except (RuntimeError, ValueError) as exc:
        v.runs = False
        v.notes.append(f"does not run in LiteRT: {str(exc).strip().splitlines()[0] if str(exc) else exc}")
        return
    v.runs = True
    ref = run_model(fp32_path, ref_input)
    name = next(iter(ref))
    y, y0 = out.get(name, next(iter(out.values()))), ref[name]
    v.output_name = name
    v.max_abs_diff = float(np.max(np.abs(y - y0)))
    v.rel_l2_diff = float(np.linalg.norm(y - y0) / max(np.linalg.norm(y0), 1e-12))
    for key, r in ref.items():
        if key in out and out[key].shape == r.shape:
            d = out[key] - r
            v.output_diffs[key] = {"max_abs": float(np.max(np.abs(d))),
                                   "rel_l2": float(np.linalg.norm(d) / max(np.linalg.norm(r), 1e-12))}
    v.notes.append(f"compared with fp32 on {ref_kind}")
    v.__dict__["reference"] = ref_kind


def _write_manifest(path: Path, source_sha: str, results: dict[str, VariantInfo]) -> None:
    items = []
    for v in results.values():
        d = asdict(v)
        d["reference"] = v.__dict__.get("reference", next((n.split(" on ", 1)[1] for n in v.notes
                                                           if n.startswith("compared with fp32 on ")), None))
        d["size_mb"] = v.size_mb
        items.append(d)
    path.write_text(json.dumps({"cache_version": CACHE_VERSION, "source_sha256": source_sha,
                                "mb_definition": "1 MB = 10^6 bytes", "variants": items}, indent=2) + "\n")
