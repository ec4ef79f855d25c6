"""Read MLPerf Mobile app extended result JSON (``results[]``, ``environment_info``, ``build_info``).

A SingleStream performance run reports throughput (samples/s) over ``measured_duration`` seconds and
``measured_samples`` samples; it prints no per-sample latencies, so latency percentiles are missing. The mean
latency is *not* derived from the throughput (the app reports 1/mean only for SingleStream with no gaps, which
the file does not promise).
"""
from __future__ import annotations

import json

from ground_truth.kernel import BOUNDS, ReaderError

from ..record import DeviceInfo, DeviceRecord, LatencyStats, ModelInfo, ProtocolInfo, RuntimeInfo
from ._text import to_int


def _throughput(value):
    """``{"value": x}`` (app 3.x) or a bare number (older result files)."""
    if isinstance(value, dict):
        value = value.get("value")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _obj(value) -> dict:
    """An object of the JSON, or an empty one when the file holds something else there."""
    return value if isinstance(value, dict) else {}


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_mlperf(text: str, *, file=None) -> list[DeviceRecord]:
    """One record per benchmark in ``results`` (throughput in ``latency.throughput_per_s``)."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=file, expected="an MLPerf Mobile result JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ReaderError("no 'results' list", file=file, field="results",
                          expected="an MLPerf Mobile extended result JSON")
    env = _obj(doc.get("environment_info"))
    platform = _str(env.get("platform"))
    info = _obj(_obj(env.get("value")).get(platform)) if platform else {}
    records = []
    for i, res in enumerate(doc["results"]):
        if not isinstance(res, dict):
            raise ReaderError(f"results[{i}] is {type(res).__name__}", file=file, field=f"results[{i}]",
                              expected="an object per benchmark")
        settings = _obj(res.get("backend_settings"))
        backend = _obj(res.get("backend_info"))
        threads, notes = None, []
        extra_settings = settings.get("extra_settings")
        for s in extra_settings if isinstance(extra_settings, list) else []:
            if _obj(s).get("id") == "num_threads":
                threads = to_int(s.get("value"))
                if threads is None:
                    notes.append(f"{'' if file is None else f'{file}: '}results[{i}] num_threads "
                                 f"{s.get('value')!r} is not a whole number; left out")
        perf = _obj(res.get("performance_run"))
        model_path = _str(settings.get("model_path"))
        rec = DeviceRecord(
            model=ModelInfo(name=model_path.rsplit("/", 1)[-1] if model_path else res.get("benchmark_id"),
                            path=model_path, format="tflite" if model_path and model_path.endswith(".tflite")
                            else None),
            device=DeviceInfo(platform=platform, model=_str(info.get("model_name")) or _str(info.get("model_code")),
                              soc=_str(info.get("soc_name")), os=_str(info.get("os_version"))),
            runtime=RuntimeInfo(name=_str(settings.get("framework")) or _str(backend.get("backend_name")),
                                version=_str(_obj(doc.get("build_info")).get("version")),
                                delegate=_str(settings.get("accelerator_code")), threads=threads),
            protocol=ProtocolInfo(min_secs=res.get("min_duration"), runs=res.get("min_samples")),
            latency=LatencyStats(throughput_per_s=_throughput(perf.get("throughput")),
                                 n=perf.get("measured_samples")),
            source={"tool": "mlperf-mobile", "parser": "mlperf", "file": None if file is None else str(file),
                    "benchmark_id": res.get("benchmark_id"), "scenario": res.get("loadgen_scenario"),
                    "index": i},
            raw_log=json.dumps(res))
        rec.extra["mlperf"] = {"measured_duration_s": perf.get("measured_duration"),
                               "validity": _obj(perf.get("loadgen_info")).get("validity"),
                               "accelerator_name": backend.get("accelerator_name"),
                               "model_code": info.get("model_code")}
        rec.errors.extend(notes)
        rec.check_extra("mlperf.measured_duration_s", BOUNDS["duration_s"], file=file)
        records.append(rec.check_plausible(file).flag_missing())
    return records
