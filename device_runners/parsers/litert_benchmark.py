"""Read the LiteRT Python benchmark (``python -m ai_edge_litert.tools.benchmark_litert_model``): its JSON result
file or its stdout (``Inference (avg):       20.63 ms (50 runs)`` block). Its "MB" for model size are MiB
(6.14 for the 6 437 296-byte pose_landmark_full.tflite)."""
from __future__ import annotations

import json
import re

from ground_truth.kernel import ReaderError

from ..record import DeviceRecord, LatencyStats, MIB_TO_MB, ModelInfo, ProtocolInfo, RuntimeInfo
from ._text import NUM

_LINE = re.compile(rf"^(Model initialization|Warmup \(first\)|Warmup \(avg\)|Inference \((?:avg|min|max|median|std|"
                   rf"p5|p95)\)):\s*({NUM})\s*ms(?:\s*\((\d+) runs\))?", re.MULTILINE)
_HDR = re.compile(r"benchmark_litert_model:\s*(Model|Num threads|Warmup runs|Benchmark runs|Accelerators):\s*(.+)$",
                  re.MULTILINE)
_KEYS = {"Model initialization": "init_ms", "Warmup (first)": "first_ms", "Warmup (avg)": "warmup_mean_ms",
         "Inference (avg)": "mean_ms", "Inference (min)": "min_ms", "Inference (max)": "max_ms",
         "Inference (median)": "p50_ms", "Inference (std)": "std_ms", "Inference (p5)": "p5_ms",
         "Inference (p95)": "p95_ms"}


def _from_json(doc: dict, file) -> DeviceRecord:
    lat = doc.get("latency") or {}
    latency = LatencyStats(init_ms=lat.get("init_ms"), first_ms=lat.get("warmup_first_ms"),
                           warmup_mean_ms=lat.get("warmup_avg_ms"), mean_ms=lat.get("avg_ms"),
                           std_ms=lat.get("std_ms"), min_ms=lat.get("min_ms"), max_ms=lat.get("max_ms"),
                           p5_ms=lat.get("p5_ms"), p50_ms=lat.get("median_ms"), p95_ms=lat.get("p95_ms"),
                           n=lat.get("num_runs"))
    path = doc.get("model")
    accel = doc.get("accelerators") or []
    rec = DeviceRecord(model=ModelInfo(name=path.rsplit("/", 1)[-1] if path else None, path=path, format="tflite"),
                       runtime=RuntimeInfo(name="litert (benchmark_litert_model)",
                                           delegate=",".join(a.lower() for a in accel) or None,
                                           threads=doc.get("num_threads")),
                       protocol=ProtocolInfo(warmup_runs=lat.get("num_warmup_runs"), runs=lat.get("num_runs")),
                       latency=latency, raw_log=json.dumps(doc),
                       source={"tool": "benchmark_litert_model", "parser": "litert_benchmark", "layout": "json",
                               "file": None if file is None else str(file)})
    if doc.get("model_size_mb") is not None:
        rec.extra["model_file_size_reported"] = {"value": doc["model_size_mb"], "unit": "MiB",
                                                 "mb": doc["model_size_mb"] * MIB_TO_MB}
    rec.extra["fully_accelerated"] = doc.get("fully_accelerated")
    return rec


def _from_stdout(text: str, file) -> DeviceRecord:
    values, runs = {}, {}
    for name, value, n in _LINE.findall(text):
        values[_KEYS[name]] = float(value)
        if n:
            runs[_KEYS[name]] = int(n)
    hdr = {k: v.strip() for k, v in _HDR.findall(text)}
    path = hdr.get("Model")
    lat = LatencyStats(**values, n=runs.get("mean_ms"))
    rec = DeviceRecord(model=ModelInfo(name=path.rsplit("/", 1)[-1] if path else None, path=path, format="tflite"),
                       runtime=RuntimeInfo(name="litert (benchmark_litert_model)",
                                           delegate=(hdr.get("Accelerators") or "").lower() or None,
                                           threads=int(hdr["Num threads"]) if "Num threads" in hdr else None),
                       protocol=ProtocolInfo(warmup_runs=runs.get("warmup_mean_ms"),
                                             runs=int(hdr["Benchmark runs"]) if "Benchmark runs" in hdr else None),
                       latency=lat, raw_log=text,
                       source={"tool": "benchmark_litert_model", "parser": "litert_benchmark", "layout": "stdout",
                               "file": None if file is None else str(file)})
    return rec


def parse_litert_benchmark(text: str, *, file=None) -> list[DeviceRecord]:
    """One record from the JSON result or the stdout of ``benchmark_litert_model`` (no p90/p99: missing)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            rec = _from_json(json.loads(stripped), file)
        except json.JSONDecodeError as exc:
            raise ReaderError(f"not valid JSON ({exc})", file=file) from None
    elif "BENCHMARK RESULTS" in text or _LINE.search(text):
        rec = _from_stdout(text, file)
    else:
        raise ReaderError("neither a benchmark_litert_model JSON result nor its 'BENCHMARK RESULTS' stdout",
                          file=file)
    for name in ("init_ms", "first_ms", "mean_ms", "std_ms", "min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                 "max_ms", "n"):
        if getattr(rec.latency, name) is None:
            rec.missing.append(f"latency.{name}")
    return [rec.flag_missing()]
