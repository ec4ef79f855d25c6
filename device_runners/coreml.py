"""Core ML packages of the pose models and their weight-compressed variants, built with coremltools on any OS.

:func:`tflite_to_coreml` translates a float TFLite CNN made of the ops BlazePose uses (CONV_2D,
DEPTHWISE_CONV_2D, ADD, PAD, MAX_POOL_2D, RESIZE_BILINEAR, RESHAPE, CONCATENATION, DEPTH_TO_SPACE,
LOGISTIC, with fused RELU/RELU6) into a Core ML ML Program (NHWC tensors are carried as NCHW inside; inputs and outputs keep the
TFLite NHWC shapes and names). :func:`compress_coreml` applies coremltools' weight compression (float16,
linear int8, k-means palettization) and reports each package's size and weight precision.

Core ML *prediction* needs macOS (the Core ML framework); elsewhere the packages are built and checked
structurally (every output's shape equals the TFLite output's), and numerical equivalence is left to the iOS
runner / a Mac — the record says so.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ground_truth.kernel import InputError, ModelError, NotAvailableError, check_option, validate_type

from .model_info import describe_model

COMPRESSIONS = ("fp32", "fp16", "linear-int8", "palettize-8bit", "palettize-6bit", "palettize-4bit")
_NUMPY = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}


@dataclass
class CoreMLVariant:
    """One Core ML package. ``bytes`` is the package's total size (MB = 10^6 bytes in ``size_mb``)."""

    compression: str
    path: str
    bytes: int
    weight_precision: str
    op_counts: dict = field(default_factory=dict)
    prediction_checked: bool = False
    note: str | None = None

    @property
    def size_mb(self) -> float:
        return self.bytes / 1e6


def _require_coremltools():
    try:
        import coremltools as ct
    except ImportError:
        raise NotAvailableError("coremltools is not installed") from None
    return ct


def _const(model, sg, idx):
    t = sg.tensors[idx]
    buf = model.buffers[t.buffer]
    if buf.data is None or len(buf.data) == 0:
        return None
    dtype = _NUMPY.get(t.type)
    if dtype is None:
        raise ModelError(f"constant tensor {t.name!r} has TFLite type {t.type}, which is not converted")
    arr = np.frombuffer(bytes(bytearray(buf.data)), dtype=dtype)
    return arr.reshape(t.shape) if t.shape is not None and len(t.shape) else arr


def _opname(model, op) -> str:
    from ai_edge_litert import schema_py_generated as schema
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    return names.get(builtin, str(builtin))


def tflite_to_coreml(tflite_path, out_path, *, compute_precision: str = "fp32"):
    """Translate a float TFLite CNN into a Core ML ML Program package (``.mlpackage``); returns the MLModel.

    Float16 weights behind DEQUANTIZE ops are first folded to float32 (see
    :func:`device_runners.variants.dequantize_fp16_weights`). Raises ModelError naming the first op that is
    not translated. ``compute_precision`` 'fp16' stores float16 weights and computes in float16.
    """
    ct = _require_coremltools()
    check_option("compute_precision", compute_precision, ("fp32", "fp16"))
    src = Path(tflite_path)
    prog = translate_tflite(src)
    precision = ct.precision.FLOAT16 if compute_precision == "fp16" else ct.precision.FLOAT32
    mlmodel = ct.convert(prog, convert_to="mlprogram", compute_precision=precision,
                         minimum_deployment_target=ct.target.iOS15)
    mlmodel.short_description = f"{src.name} translated by stancebench (NHWC float input)"
    out = Path(out_path)
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    mlmodel.save(str(out))
    return mlmodel


def translate_tflite(tflite_path):
    """The MIL program (coremltools Builder) equivalent to a float TFLite CNN; see :func:`tflite_to_coreml`."""
    ct = _require_coremltools()
    from ai_edge_litert.tools import flatbuffer_utils as fbu
    from coremltools.converters.mil import Builder as mb

    from .variants import dequantize_fp16_weights
    src = Path(tflite_path)
    info = describe_model(src)
    if info.format != "tflite":
        raise ModelError(f"expected a .tflite model, got a {info.format}", file=src)
    model = fbu.read_model_from_bytearray(bytearray(dequantize_fp16_weights(src.read_bytes(), file=src)))
    sg = model.subgraphs[0]
    if len(sg.inputs) != 1:
        raise ModelError(f"{len(sg.inputs)} inputs; the translation handles one image input", file=src)
    in_t = sg.tensors[sg.inputs[0]]

    def tname(i):
        n = sg.tensors[i].name
        return n.decode() if isinstance(n, bytes) else n

    def build(x):
        env = {int(sg.inputs[0]): (mb.transpose(x=x, perm=[0, 3, 1, 2]), "nchw")}

        def get(i):
            if int(i) in env:
                return env[int(i)]
            c = _const(model, sg, int(i))
            if c is None:
                raise ModelError(f"tensor {tname(i)!r} is used before it is produced", file=src)
            return c, "const"

        def act(v, fused, name):
            if fused in (0, None):
                return v
            if fused == 1:
                return mb.relu(x=v, name=name + "_relu")
            if fused == 3:
                return mb.relu6(x=v, name=name + "_relu6")
            raise ModelError(f"fused activation code {fused} in op {name!r} is not translated", file=src)

        for k, op in enumerate(sg.operators):
            kind = _opname(model, op)
            opt = op.builtinOptions
            out_i = int(op.outputs[0])
            name = f"op{k}_{kind.lower()}"
            if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                xv, _ = get(op.inputs[0])
                w = _const(model, sg, int(op.inputs[1])).astype(np.float32)
                b = _const(model, sg, int(op.inputs[2])).astype(np.float32) if len(op.inputs) > 2 and \
                    op.inputs[2] >= 0 else None
                if kind == "CONV_2D":
                    weight, groups = w.transpose(0, 3, 1, 2), 1  # OHWI -> OIHW
                else:
                    weight, groups = w.transpose(3, 0, 1, 2), int(xv.shape[1])  # 1HW(C*m) -> (C*m)1HW
                kw = dict(x=xv, weight=weight, strides=[opt.strideH, opt.strideW],
                          pad_type="same" if opt.padding == 0 else "valid",
                          dilations=[opt.dilationHFactor or 1, opt.dilationWFactor or 1], groups=groups,
                          name=name)
                if b is not None:
                    kw["bias"] = b
                v = act(mb.conv(**kw), opt.fusedActivationFunction, name)
                env[out_i] = (v, "nchw")
            elif kind == "ADD":
                (a, la), (c, lc) = get(op.inputs[0]), get(op.inputs[1])
                a = _to_layout(a, la, lc)
                c = _to_layout(c, lc, la)
                env[out_i] = (act(mb.add(x=a, y=c, name=name), opt.fusedActivationFunction, name),
                              "nchw" if "nchw" in (la, lc) else "plain")
            elif kind == "PAD":
                xv, lx = get(op.inputs[0])
                p = _const(model, sg, int(op.inputs[1])).astype(np.int32)
                if lx == "nchw":
                    p = p[[0, 3, 1, 2]]
                env[out_i] = (mb.pad(x=xv, pad=p.reshape(-1), mode="constant", constant_val=0.0, name=name), lx)
            elif kind == "MAX_POOL_2D":
                xv, _ = get(op.inputs[0])
                v = mb.max_pool(x=xv, kernel_sizes=[opt.filterHeight, opt.filterWidth],
                                strides=[opt.strideH, opt.strideW], pad_type="same" if opt.padding == 0 else "valid",
                                name=name)
                env[out_i] = (act(v, opt.fusedActivationFunction, name), "nchw")
            elif kind == "RESIZE_BILINEAR":
                xv, _ = get(op.inputs[0])
                h, w = (int(s) for s in _const(model, sg, int(op.inputs[1])))
                if opt.halfPixelCenters and not opt.alignCorners:
                    # half-pixel centres = upsample_bilinear(align_corners=False), as coremltools' TF frontend
                    hin, win = int(xv.shape[2]), int(xv.shape[3])
                    v = mb.upsample_bilinear(x=xv, scale_factor_height=h / hin if h % hin == 0 else (h + 1e-4) / hin,
                                             scale_factor_width=w / win if w % win == 0 else (w + 1e-4) / win,
                                             align_corners=False, name=name)
                else:
                    v = mb.resize_bilinear(x=xv, target_size_height=h, target_size_width=w, name=name,
                                           sampling_mode="STRICT_ALIGN_CORNERS" if opt.alignCorners else "DEFAULT")
                env[out_i] = (v, "nchw")
            elif kind == "RESHAPE":
                xv, lx = get(op.inputs[0])
                if lx == "nchw":
                    xv = mb.transpose(x=xv, perm=[0, 2, 3, 1], name=name + "_to_nhwc")
                shape = [int(s) for s in sg.tensors[out_i].shape]
                v = mb.reshape(x=xv, shape=shape, name=name)
                env[out_i] = (mb.transpose(x=v, perm=[0, 3, 1, 2], name=name + "_to_nchw"), "nchw") \
                    if len(shape) == 4 else (v, "plain")
            elif kind == "CONCATENATION":
                vals = [get(i) for i in op.inputs]
                layout = vals[0][1]
                axis = opt.axis
                if layout == "nchw":
                    axis = {0: 0, 1: 2, 2: 3, 3: 1, -1: 1}[axis]
                v = mb.concat(values=[val for val, _ in vals], axis=axis, name=name)
                env[out_i] = (act(v, opt.fusedActivationFunction, name), layout)
            elif kind == "DEPTH_TO_SPACE":
                xv, _ = get(op.inputs[0])
                env[out_i] = (mb.depth_to_space(x=xv, block_size=int(opt.blockSize), name=name), "nchw")
            elif kind == "LOGISTIC":
                xv, lx = get(op.inputs[0])
                env[out_i] = (mb.sigmoid(x=xv, name=name), lx)
            else:
                raise ModelError(f"op {kind} (op #{k}) has no Core ML translation here", file=src,
                                 expected="CONV_2D, DEPTHWISE_CONV_2D, ADD, PAD, MAX_POOL_2D, RESIZE_BILINEAR, "
                                          "RESHAPE, CONCATENATION, DEPTH_TO_SPACE, LOGISTIC")
        outs = []
        for i in sg.outputs:
            v, layout = env[int(i)]
            if layout == "nchw":
                v = mb.transpose(x=v, perm=[0, 2, 3, 1])
            outs.append(mb.identity(x=v, name=_safe(tname(i))))
        return tuple(outs)

    spec = mb.TensorSpec(shape=tuple(int(s) for s in in_t.shape))
    prog = mb.program(input_specs=[spec], opset_version=ct.target.iOS15)(build)
    # structural check: Core ML output shapes equal TFLite's
    for i, var in zip(sg.outputs, prog.functions["main"].outputs):
        if tuple(var.shape) != tuple(int(s) for s in sg.tensors[int(i)].shape):
            raise ModelError(f"translated output {tname(i)!r} has shape {var.shape}, TFLite has "
                             f"{tuple(sg.tensors[int(i)].shape)}", file=src)
    return prog


def _to_layout(v, layout, other):
    """Bring a constant operand of ADD to the NCHW layout of the other operand."""
    if layout != "const" or other != "nchw":
        return v
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 4:
        return v.transpose(0, 3, 1, 2)
    if v.ndim == 1:
        return v.reshape(1, -1, 1, 1)
    return v


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def package_weight_precision(mlmodel) -> tuple[str, dict]:
    """('fp32' | 'fp16' | 'int8' | 'palettized-Nbit' | 'mixed', op counts) from an ML Program's ops."""
    spec = mlmodel.get_spec()
    counts: Counter = Counter()
    dtypes: Counter = Counter()
    nbits = set()
    for fn in spec.mlProgram.functions.values():
        for block in fn.block_specializations.values():
            for op in block.operations:
                counts[op.type] += 1
                if op.type == "const":
                    val = op.attributes.get("val")
                    if val is not None and val.type.WhichOneof("type") == "tensorType":
                        dtypes[val.type.tensorType.dataType] += 1
                if op.type == "constexpr_lut_to_dense":
                    lut = op.attributes.get("lut")
                    if lut is not None:
                        n = int(np.prod([d.constant.size for d in lut.type.tensorType.dimensions]))
                        nbits.add(int(np.log2(max(n, 2))))
    from coremltools.proto import MIL_pb2
    if counts["constexpr_lut_to_dense"]:
        return (f"palettized-{'/'.join(str(b) for b in sorted(nbits))}bit" if nbits else "palettized"), dict(counts)
    if counts["constexpr_affine_dequantize"]:
        return "int8", dict(counts)
    f16, f32 = dtypes[MIL_pb2.FLOAT16], dtypes[MIL_pb2.FLOAT32]
    if f16 and f16 >= f32:
        return "fp16", dict(counts)
    return "fp32", dict(counts)


def compress_coreml(source, out_dir, *, compressions=("fp32", "fp16", "linear-int8", "palettize-6bit"),
                    tflite_source=None) -> list[CoreMLVariant]:
    """Write weight-compressed variants of a Core ML ML Program and report size and weight precision.

    Parameters
    ----------
    source : path-like
        An ``.mlpackage`` (ML Program), or a ``.tflite`` that :func:`tflite_to_coreml` translates first.
    out_dir : path-like
        Where ``<stem>.<compression>.mlpackage`` packages are written (and a ``coreml_variants.json``).
    compressions : tuple of {'fp32', 'fp16', 'linear-int8', 'palettize-8bit', 'palettize-6bit',
        'palettize-4bit'}

    Notes
    -----
    linear-int8 is ``OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8")`` per output channel;
    palettize-Nbit is ``OpPalettizerConfig(mode="kmeans", nbits=N)`` (iOS 16+ runtime). Predictions of the
    packages are not checked off macOS (``prediction_checked`` False, with the reason in ``note``).
    """
    ct = _require_coremltools()
    import coremltools.optimize.coreml as cto
    validate_type(out_dir, "path-like", "out_dir")
    for c in compressions:
        check_option("compressions", c, COMPRESSIONS)
    src = Path(source)
    if not src.exists():
        raise FileNotFoundError(2, "No such file", str(src))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = src.name.split(".")[0]
    if src.suffix == ".tflite":
        base_path = out / f"{stem}.fp32.mlpackage"
        tflite_to_coreml(src, base_path, compute_precision="fp32")
    elif src.suffix == ".mlpackage":
        base_path = src
    else:
        raise InputError("not an .mlpackage or .tflite", file=src, field="source",
                         expected="an ML Program .mlpackage (neural-network .mlmodel files are not compressed)")
    base = ct.models.MLModel(str(base_path), skip_model_load=True)
    if base.get_spec().WhichOneof("Type") != "mlProgram":
        raise ModelError("not an ML Program (weight compression needs mlprogram)", file=src)
    note = None
    import sys
    if sys.platform != "darwin":
        note = "prediction not checked: Core ML runs models only on macOS/iOS; structure and sizes checked here"
    results = []
    for c in compressions:
        path = out / f"{stem}.{c}.mlpackage"
        if c == "fp32":
            if path != base_path:
                shutil.copytree(base_path, path, dirs_exist_ok=True)
            model = base
        elif c == "fp16":
            if src.suffix != ".tflite":
                raise InputError("fp16 from an existing package needs its source; pass the .tflite",
                                 field="compressions")
            model = tflite_to_coreml(src, path, compute_precision="fp16")
        elif c == "linear-int8":
            cfg = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric",
                                                                                   dtype="int8"))
            model = cto.linear_quantize_weights(base, config=cfg)
        else:
            nbits = int(c.split("-")[1].removesuffix("bit"))
            cfg = cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(mode="kmeans", nbits=nbits))
            model = cto.palettize_weights(base, config=cfg)
        if c not in ("fp32", "fp16"):
            if path.exists():
                shutil.rmtree(path)
            model.save(str(path))
        precision, counts = package_weight_precision(model)
        results.append(CoreMLVariant(compression=c, path=str(path), bytes=_dir_bytes(path),
                                     weight_precision=precision, op_counts=counts, note=note))
    (out / "coreml_variants.json").write_text(json.dumps(
        {"mb_definition": "1 MB = 10^6 bytes", "source": str(src),
         "variants": [dict(asdict(v), size_mb=v.size_mb) for v in results]}, indent=2) + "\n")
    return results


# ------------------------------------------------------------------------------------ numpy reference
def evaluate_program(prog, x: np.ndarray) -> list[np.ndarray]:
    """Run a MIL program made by :func:`translate_tflite` with numpy (float64), off macOS.

    An independent check of the translation (layouts, padding, resize modes) against the TFLite interpreter;
    it does not replace running the package in Core ML on Apple hardware.
    """
    fn = prog.functions["main"]
    env = {v.name: np.asarray(x, dtype=np.float64) for v in fn.inputs.values()}

    def val(v):
        if v.name in env:
            return env[v.name]
        if v.val is not None:
            return np.asarray(v.val, dtype=np.float64) if np.asarray(v.val).dtype.kind == "f" else np.asarray(v.val)
        raise ModelError(f"MIL value {v.name} is not computed")

    for op in fn.operations:
        t = op.op_type
        if t == "const":
            continue
        a = {k: (val(v) if not isinstance(v, (list, tuple)) else [val(u) for u in v]) for k, v in op.inputs.items()}
        if t == "transpose":
            y = np.transpose(a["x"], a["perm"].astype(int))
        elif t == "conv":
            y = _np_conv(a["x"], a["weight"], a.get("bias"), a["strides"].astype(int), str(a["pad_type"]),
                         a["dilations"].astype(int), int(a["groups"]))
        elif t == "relu":
            y = np.maximum(a["x"], 0)
        elif t == "relu6":
            y = np.clip(a["x"], 0, 6)
        elif t == "add":
            y = a["x"] + a["y"]
        elif t == "pad":
            p = a["pad"].astype(int).reshape(-1, 2)
            p = np.concatenate([np.zeros((a["x"].ndim - len(p), 2), int), p])
            y = np.pad(a["x"], p, mode="constant", constant_values=float(a.get("constant_val", 0.0)))
        elif t == "max_pool":
            y = _np_maxpool(a["x"], a["kernel_sizes"].astype(int), a["strides"].astype(int), str(a["pad_type"]))
        elif t == "resize_bilinear":
            y = _np_resize(a["x"], int(a["target_size_height"]), int(a["target_size_width"]),
                           str(a["sampling_mode"]))
        elif t == "upsample_bilinear":
            h = int(np.floor(a["x"].shape[2] * float(a["scale_factor_height"])))
            w = int(np.floor(a["x"].shape[3] * float(a["scale_factor_width"])))
            y = _np_resize(a["x"], h, w, "HALF_PIXEL")
        elif t == "reshape":
            y = a["x"].reshape(a["shape"].astype(int))
        elif t == "concat":
            y = np.concatenate(a["values"], axis=int(a["axis"]))
        elif t == "depth_to_space":
            bs = int(a["block_size"])
            n, c, h, w = a["x"].shape
            y = a["x"].reshape(n, bs, bs, c // (bs * bs), h, w).transpose(0, 3, 4, 1, 5, 2)
            y = y.reshape(n, c // (bs * bs), h * bs, w * bs)
        elif t == "sigmoid":
            y = 1.0 / (1.0 + np.exp(-a["x"]))
        elif t == "identity":
            y = a["x"]
        else:
            raise ModelError(f"MIL op {t} has no numpy reference")
        env[op.outputs[0].name] = y
    return [env[v.name] for v in fn.outputs]


def _same_pad(size, k, s, d):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _np_conv(x, w, b, strides, pad_type, dil, groups):
    _, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = strides, dil
    if pad_type == "same":
        (pt, pb), (pl, pr) = _same_pad(h, kh, sh, dh), _same_pad(wd, kw, sw, dw)
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    hp, wp = x.shape[2:]
    ho, wo = (hp - (kh - 1) * dh - 1) // sh + 1, (wp - (kw - 1) * dw - 1) // sw + 1
    xg = x.reshape(1, groups, cg, hp, wp)
    wg = w.reshape(groups, o // groups, cg, kh, kw)
    y = np.zeros((1, groups, o // groups, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = xg[:, :, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
            y += np.einsum("bgchw,goc->bgohw", patch, wg[:, :, :, i, j], optimize=True)
    y = y.reshape(1, o, ho, wo)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _np_maxpool(x, k, s, pad_type):
    if pad_type == "same":
        (pt, pb), (pl, pr) = _same_pad(x.shape[2], k[0], s[0], 1), _same_pad(x.shape[3], k[1], s[1], 1)
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    ho, wo = (x.shape[2] - k[0]) // s[0] + 1, (x.shape[3] - k[1]) // s[1] + 1
    y = np.full(x.shape[:2] + (ho, wo), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, x[:, :, i:i + s[0] * (ho - 1) + 1:s[0], j:j + s[1] * (wo - 1) + 1:s[1]])
    return y


def _np_resize(x, h, w, mode):
    def coords(n_in, n_out):
        i = np.arange(n_out, dtype=np.float64)
        if mode in ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS"):
            src = i * (n_in - 1) / max(n_out - 1, 1)
        elif mode == "HALF_PIXEL":
            src = np.maximum((i + 0.5) * n_in / n_out - 0.5, 0)
        else:  # DEFAULT: x_in = x_out * n_in / n_out (TF align_corners=False, no half-pixel centres)
            src = i * n_in / n_out
        lo = np.minimum(np.floor(src).astype(int), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo
    lo, hi, f = coords(x.shape[2], h)
    x = x[:, :, lo] * (1 - f)[None, None, :, None] + x[:, :, hi] * f[None, None, :, None]
    lo, hi, f = coords(x.shape[3], w)
    return x[:, :, :, lo] * (1 - f) + x[:, :, :, hi] * f
