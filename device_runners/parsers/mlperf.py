"""Read MLPerf Mobile app extended result JSON (``results[]``, ``environment_info``, ``build_info``).

A SingleStream performance run reports throughput (samples/s) over ``measured_duration`` seconds and
``measured_samples`` samples; it prints no per-sample latencies, so latency percentiles are missing. The mean
latency is *not* derived from the throughput (the app reports 1/mean only for SingleStream with no gaps, which
the file does not promise).
"""
from __future__ import annotations

import json

from ground_truth.kernel import ReaderError

from ..record import DeviceRecord, DeviceInfo, LatencyStats, ModelInfo, ProtocolInfo, RuntimeInfo


def _throughput(value):
    """``{"value": x}`` (app 3.x) or a bare number (older result files)."""
    if isinstance(value, dict):
        value = value.get("value")
    return float(value) if isinstance(value, (int, float)) else None


def parse_mlperf(text: str, *, file=None) -> list[DeviceRecord]:
    """One record per benchmark in ``results`` (throughput in ``latency.throughput_per_s``)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=file, expected="an MLPerf Mobile result JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ReaderError("no 'results' list", file=file, field="results",
                          expected="an MLPerf Mobile extended result JSON")
    env = doc.get("environment_info") or {}
    platform = env.get("platform")
    info = ((env.get("value") or {}).get(platform) or {}) if platform else {}
    records = []
    for i, res in enumerate(doc["results"]):
        settings = res.get("backend_settings") or {}
        backend = res.get("backend_info") or {}
        threads = None
        for s in settings.get("extra_settings") or []:
            if s.get("id") == "num_threads":
                threads = int(s["value"])
        perf = res.get("performance_run") or {}
        model_path = settings.get("model_path")
        rec = DeviceRecord(
            model=ModelInfo(name=model_path.rsplit("/", 1)[-1] if model_path else res.get("benchmark_id"),
                            path=model_path, format="tflite" if model_path and model_path.endswith(".tflite")
                            else None),
            device=DeviceInfo(platform=platform, model=info.get("model_name") or info.get("model_code"),
                              soc=info.get("soc_name"), os=info.get("os_version")),
            runtime=RuntimeInfo(name=settings.get("framework") or backend.get("backend_name"),
                                version=(doc.get("build_info") or {}).get("version"),
                                delegate=settings.get("accelerator_code"), threads=threads),
            protocol=ProtocolInfo(min_secs=res.get("min_duration"), runs=res.get("min_samples")),
            latency=LatencyStats(throughput_per_s=_throughput(perf.get("throughput")),
                                 n=perf.get("measured_samples")),
            source={"tool": "mlperf-mobile", "parser": "mlperf", "file": None if file is None else str(file),
                    "benchmark_id": res.get("benchmark_id"), "scenario": res.get("loadgen_scenario"),
                    "index": i},
            raw_log=json.dumps(res))
        rec.extra["mlperf"] = {"measured_duration_s": perf.get("measured_duration"),
                               "validity": (perf.get("loadgen_info") or {}).get("validity"),
                               "accelerator_name": backend.get("accelerator_name"),
                               "model_code": info.get("model_code")}
        records.append(rec.flag_missing())
    return records
