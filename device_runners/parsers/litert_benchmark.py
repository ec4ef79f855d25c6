"""Read the LiteRT Python benchmark (``python -m ai_edge_litert.tools.benchmark_litert_model``): its JSON result
file or its stdout (``Inference (avg):       20.63 ms (50 runs)`` block). Its "MB" for model size are MiB
(6.14 for the 6 437 296-byte pose_landmark_full.tflite)."""
from __future__ import annotations

import json
import re

from ground_truth.kernel import BOUNDS, ReaderError

from ..plausibility import plausible_value
from ..record import MB, MIB_TO_MB, DeviceRecord, LatencyStats, ModelInfo, ProtocolInfo, RuntimeInfo
from ._text import NUM, to_int

_LINE = re.compile(rf"^(Model initialization|Warmup \(first\)|Warmup \(avg\)|Inference \((?:avg|min|max|median|std|"
                   rf"p5|p95)\)):\s*({NUM})\s*ms(?:\s*\((\d+) runs\))?", re.MULTILINE)
_HDR = re.compile(r"benchmark_litert_model:\s*(Model|Num threads|Warmup runs|Benchmark runs|Accelerators):\s*(.+)$",
                  re.MULTILINE)
_KEYS = {"Model initialization": "init_ms", "Warmup (first)": "first_ms", "Warmup (avg)": "warmup_mean_ms",
         "Inference (avg)": "mean_ms", "Inference (min)": "min_ms", "Inference (max)": "max_ms",
         "Inference (median)": "p50_ms", "Inference (std)": "std_ms", "Inference (p5)": "p5_ms",
         "Inference (p95)": "p95_ms"}


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_json(doc: dict, file) -> DeviceRecord:
    # figures are checked by DeviceRecord.check_plausible; the shapes (an object, a list, a string) here, so a
    # value of the wrong type is missing rather than a crash
    lat = doc.get("latency") if isinstance(doc.get("latency"), dict) else {}
    latency = LatencyStats(init_ms=lat.get("init_ms"), first_ms=lat.get("warmup_first_ms"),
                           warmup_mean_ms=lat.get("warmup_avg_ms"), mean_ms=lat.get("avg_ms"),
                           std_ms=lat.get("std_ms"), min_ms=lat.get("min_ms"), max_ms=lat.get("max_ms"),
                           p5_ms=lat.get("p5_ms"), p50_ms=lat.get("median_ms"), p95_ms=lat.get("p95_ms"),
                           n=lat.get("num_runs"))
    path = _str(doc.get("model"))
    accel = doc.get("accelerators") if isinstance(doc.get("accelerators"), list) else []
    rec = DeviceRecord(model=ModelInfo(name=path.rsplit("/", 1)[-1] if path else None, path=path, format="tflite"),
                       runtime=RuntimeInfo(name="litert (benchmark_litert_model)",
                                           delegate=",".join(a.lower() for a in accel if isinstance(a, str)) or None,
                                           threads=doc.get("num_threads")),
                       protocol=ProtocolInfo(warmup_runs=lat.get("num_warmup_runs"), runs=lat.get("num_runs")),
                       latency=latency, raw_log=json.dumps(doc),
                       source={"tool": "benchmark_litert_model", "parser": "litert_benchmark", "layout": "json",
                               "file": None if file is None else str(file)})
    size, why = plausible_value(doc.get("model_size_mb"), BOUNDS["model_bytes"], scale=MIB_TO_MB * MB)
    if size is not None:
        rec.extra["model_file_size_reported"] = {"value": size, "unit": "MiB", "mb": size * MIB_TO_MB}
    elif why is not None:
        rec.errors.append(f"{'' if file is None else f'{file}: '}model_size_mb: {why}; left out as implausible")
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
    where = "" if file is None else f"{file}: "
    notes = [f"{where}header '{key}: {hdr[key]}' is not a whole number; left out"
             for key in ("Num threads", "Benchmark runs") if key in hdr and to_int(hdr[key]) is None]
    # a result line whose value is not a number does not match _LINE: name its figure as left out
    read = {m.start() for m in _LINE.finditer(text)}
    for m in re.finditer(rf"^({'|'.join(re.escape(k) for k in _KEYS)}):(.*)$", text, re.MULTILINE):
        if m.start() not in read:
            notes.append(f"{where}latency.{_KEYS[m.group(1)]} left out: {m.group(0).strip()!r} is not a number of ms")
    rec = DeviceRecord(model=ModelInfo(name=path.rsplit("/", 1)[-1] if path else None, path=path, format="tflite"),
                       runtime=RuntimeInfo(name="litert (benchmark_litert_model)",
                                           delegate=(hdr.get("Accelerators") or "").lower() or None,
                                           threads=to_int(hdr.get("Num threads"))),
                       protocol=ProtocolInfo(warmup_runs=runs.get("warmup_mean_ms"),
                                             runs=to_int(hdr.get("Benchmark runs"))),
                       latency=lat, raw_log=text,
                       source={"tool": "benchmark_litert_model", "parser": "litert_benchmark", "layout": "stdout",
                               "file": None if file is None else str(file)})
    rec.errors.extend(notes)
    return rec


def parse_litert_benchmark(text: str, *, file=None) -> list[DeviceRecord]:
    """One record from the JSON result or the stdout of ``benchmark_litert_model`` (no p90/p99: missing)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ReaderError(f"not valid JSON ({exc})", file=file) from None
        rec = _from_json(doc, file)
    elif "BENCHMARK RESULTS" in text or _LINE.search(text):
        rec = _from_stdout(text, file)
    else:
        raise ReaderError("neither a benchmark_litert_model JSON result nor its 'BENCHMARK RESULTS' stdout",
                          file=file)
    for name in ("init_ms", "first_ms", "mean_ms", "std_ms", "min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                 "max_ms", "n"):
        if getattr(rec.latency, name) is None:
            rec.missing.append(f"latency.{name}")
    return [rec.check_plausible(file).flag_missing()]
