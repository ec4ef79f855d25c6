"""Host runner: measure a model on this machine with the LiteRT interpreter (``ai_edge_litert``, falling back
to ``tflite_runtime``), the MediaPipe pose graph, or Core ML (macOS only).

Per trial: create the interpreter (``init_ms``), run ``warmup`` untimed inferences (the first is timed
separately as ``first_ms``), then time each of ``runs`` inferences with ``time.perf_counter_ns`` (continuing
until ``min_secs`` have passed), with optional CPU affinity, and a cooldown sleep between trials. Memory: the
process's resident set before loading, after the runs, and its peak (VmHWM, reset before the trial through
``/proc/self/clear_refs`` when the kernel allows; otherwise the process-lifetime peak, flagged). Energy: Intel
RAPL counters when readable, else "not measured" with the reason.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ground_truth.kernel import InputError, ModelError, NotAvailableError, check_option, validate_type

from .model_info import describe_model
from .record import (DeviceInfo, DeviceRecord, EnergyInfo, KIB_TO_MB, MemoryStats, ProtocolInfo, RuntimeInfo,
                     assessment_energy, latency_stats, replicability)

RUNTIMES = ("litert", "tflite_runtime", "mediapipe", "coreml")
RAPL_ROOT = Path("/sys/class/powercap")


# ----------------------------------------------------------------------------------------------- machine state
def _proc_status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write '5' to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_kib() -> tuple[int | None, str]:
    hwm = _proc_status_kib("VmHWM")
    if hwm is not None:
        return hwm, "VmHWM"
    try:
        import resource
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (maxrss // 1024 if sys.platform == "darwin" else maxrss), "ru_maxrss"
    except (ImportError, OSError):
        return None, "unavailable"


def host_device_info() -> DeviceInfo:
    """Platform, machine model, CPU model, OS; thermal and battery state where /sys exposes them."""
    soc = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                soc = line.split(":", 1)[1].strip()
                break
    except OSError:
        soc = platform.processor() or None
    model = None
    for p in ("/sys/devices/virtual/dmi/id/product_name", "/proc/device-tree/model"):
        try:
            model = Path(p).read_text().strip("\x00\n ") or None
            break
        except OSError:
            continue
    plat = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    info = DeviceInfo(platform=plat, model=model or platform.machine(), soc=soc,
                      os=f"{platform.system()} {platform.release()}")
    info.thermal_status_start = _thermal_summary()
    info.charging, info.battery_temp_c_start = _battery_state()
    return info


def _thermal_summary() -> str | None:
    """Hottest thermal zone as 'zone=type: 45.0 C', or None when the machine exposes none."""
    temps = []
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        try:
            temps.append((int((zone / "temp").read_text()) / 1000.0, (zone / "type").read_text().strip()))
        except (OSError, ValueError):
            continue
    if not temps:
        return None
    t, kind = max(temps)
    return f"max zone {kind}: {t:.1f} C"


def _battery_state() -> tuple[bool | None, float | None]:
    for supply in Path("/sys/class/power_supply").glob("*"):
        try:
            if (supply / "type").read_text().strip() != "Battery":
                continue
            status = (supply / "status").read_text().strip()
            temp = supply / "temp"
            t = int(temp.read_text()) / 10.0 if temp.exists() else None
            return status in ("Charging", "Full"), t
        except (OSError, ValueError):
            continue
    return None, None


# ----------------------------------------------------------------------------------------------------- RAPL
@dataclass
class RaplReader:
    """Package energy from Intel RAPL powercap counters (µJ, wrapping at max_energy_range_uj)."""

    domains: list[Path]
    reason: str | None = None

    @classmethod
    def open(cls, root: Path = RAPL_ROOT) -> "RaplReader":
        if not root.is_dir():
            return cls([], f"{root} absent (no powercap/RAPL interface on this machine or in this container)")
        domains = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not domains:
            return cls([], f"no intel-rapl:N package domains under {root}")
        for d in domains:
            try:
                int((d / "energy_uj").read_text())
            except PermissionError:
                return cls([], f"{d / 'energy_uj'} is not readable (root only since Linux 5.10, CVE-2020-8694)")
            except (OSError, ValueError) as exc:
                return cls([], f"{d / 'energy_uj'} unreadable ({exc})")
        return cls(domains)

    def read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def delta_joules(self, before: list[int], after: list[int]) -> float:
        total = 0
        for d, b, a in zip(self.domains, before, after):
            if a < b:  # counter wrapped
                a += int((d / "max_energy_range_uj").read_text())
            total += a - b
        return total / 1e6


# ------------------------------------------------------------------------------------------------- runtimes
def _make_tflite(path: Path, runtime: str, threads: int):
    """(interpreter, runtime name, version). ModelError when the runtime cannot build the model."""
    interp_cls, name, version = None, runtime, None
    if runtime == "litert":
        try:
            from ai_edge_litert.interpreter import Interpreter as interp_cls
            from importlib.metadata import version as _v
            version = _v("ai-edge-litert")
        except ImportError:
            runtime = "tflite_runtime"  # documented fallback
    if runtime == "tflite_runtime":
        try:
            from tflite_runtime.interpreter import Interpreter as interp_cls
            from importlib.metadata import version as _v
            name, version = "tflite_runtime", _v("tflite-runtime")
        except ImportError:
            raise NotAvailableError("neither ai_edge_litert nor tflite_runtime is installed") from None
    try:
        interp = interp_cls(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        msg = str(exc).strip().splitlines()
        first = next((m for m in msg if "op" in m.lower() or "error" in m.lower()), msg[0] if msg else "")
        raise ModelError(f"{name} {version} cannot run this model: {first}", file=path,
                         expected="a model whose ops this runtime provides") from None
    return interp, name, version


def _fill_inputs(interp, input_data, rng) -> None:
    for i, det in enumerate(interp.get_input_details()):
        shape, dtype = tuple(det["shape"]), det["dtype"]
        if input_data is not None:
            arr = np.asarray(input_data[i] if isinstance(input_data, (list, tuple)) else input_data)
            try:
                arr = arr.astype(dtype).reshape(shape)
            except ValueError:
                raise InputError(f"input {i} has shape {arr.shape}", field="input_data",
                                 expected=f"shape {shape}") from None
        elif np.issubdtype(dtype, np.floating):
            arr = rng.random(shape, dtype=np.float32).astype(dtype)
        else:
            info = np.iinfo(dtype)
            arr = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        interp.set_tensor(det["index"], arr)


def _time_loop(step: Callable[[], Any], runs: int, min_secs: float) -> list[float]:
    """Time ``step`` per call (ms) at least ``runs`` times and for at least ``min_secs`` seconds."""
    out: list[float] = []
    clock = time.perf_counter_ns
    deadline = clock() + int(min_secs * 1e9)
    while len(out) < runs or clock() < deadline:
        t0 = clock()
        step()
        out.append((clock() - t0) / 1e6)
    return out


# ---------------------------------------------------------------------------------------------------- runner
def run_host(model_path, *, runtime: str = "litert", threads: int = 1, runs: int = 50, warmup: int = 5,
             min_secs: float = 0.0, cooldown_s: float = 0.0, trials: int = 1, cpu_affinity=None,
             input_data=None, frame=None, seed: int = 0) -> list[DeviceRecord]:
    """Measure one model on this machine; one record per trial.

    Parameters
    ----------
    model_path : path-like
        A .tflite model (runtimes 'litert', 'tflite_runtime', 'mediapipe'), or a Core ML model ('coreml').
    runtime : {'litert', 'tflite_runtime', 'mediapipe', 'coreml'}
        'litert' falls back to 'tflite_runtime' when ai_edge_litert is not installed. 'mediapipe' times the
        whole MediaPipe Pose graph (detector + landmarks, ``static_image_mode=True``) on ``frame``.
    threads : int
        Interpreter threads.
    runs, warmup : int
        Timed runs (at least) and untimed warm-up runs per trial.
    min_secs : float
        Keep timing until this many seconds have passed (after ``runs`` runs).
    cooldown_s : float
        Sleep between trials so that thermal throttling from one trial does not slow the next.
    trials : int
        Repeated trials; :func:`~device_runners.record.replicability` compares them (MLPerf Mobile: within 5%).
    cpu_affinity : iterable of int, optional
        Pin the process to these CPUs during the measurement (restored afterwards).
    input_data : array or list of arrays, optional
        Inputs (default: seeded uniform [0, 1) floats / random integers; latency of these CNNs does not
        depend on the values).
    frame : (H, W, 3) uint8 RGB array, optional
        A real video frame with a person; required by the 'mediapipe' runtime.

    Returns
    -------
    list of DeviceRecord
        ``latency.raw_ms`` keeps every timed run; percentiles are nearest-rank.
    """
    check_option("runtime", runtime, RUNTIMES)
    for name, value in (("threads", threads), ("runs", runs), ("trials", trials)):
        validate_type(value, int, name)
        if value < 1:
            raise InputError(f"must be >= 1, got {value}", field=name)
    validate_type(warmup, int, "warmup")
    if warmup < 0 or min_secs < 0 or cooldown_s < 0:
        raise InputError("warmup, min_secs and cooldown_s must be >= 0", field="warmup/min_secs/cooldown_s")
    info = describe_model(model_path)
    path = Path(model_path)
    if runtime == "coreml" and sys.platform != "darwin":
        raise NotAvailableError("Core ML prediction needs macOS (coremltools runs models only through the "
                                f"Core ML framework); this is {platform.system()}")
    if runtime == "coreml" and info.format not in ("mlpackage", "mlmodel"):
        raise ModelError(f"runtime 'coreml' needs an .mlpackage or .mlmodel, got a {info.format}", file=path)
    if runtime != "coreml" and info.format != "tflite":
        raise ModelError(f"runtime {runtime!r} needs a .tflite model, got a {info.format}", file=path)
    if runtime == "mediapipe":
        if frame is None:
            raise InputError("the MediaPipe graph only runs its landmark model on a frame with a person",
                             field="frame", expected="a real (H, W, 3) uint8 RGB video frame")
        bundled = _bundled_landmark_model()
        if bundled is None or describe_model(bundled).sha256 != info.sha256:
            raise InputError("the MediaPipe Pose graph runs the models bundled with mediapipe, not this file",
                             file=path, field="model_path",
                             expected=f"the bundled {bundled or 'pose_landmark_full.tflite'}")
    affinity = sorted(int(c) for c in cpu_affinity) if cpu_affinity is not None else None
    old_affinity = None
    if affinity is not None:
        if not hasattr(os, "sched_setaffinity"):
            raise NotAvailableError("CPU affinity is not supported on this platform")
        old_affinity = os.sched_getaffinity(0)
        try:
            os.sched_setaffinity(0, affinity)
        except OSError as exc:
            raise InputError(f"cannot pin to CPUs {affinity} ({exc})", field="cpu_affinity",
                             expected=f"a subset of {sorted(old_affinity)}") from None
    device = host_device_info()
    device.cpu_affinity = affinity or sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    rapl = RaplReader.open()
    records = []
    try:
        for trial in range(trials):
            if trial and cooldown_s:
                time.sleep(cooldown_s)
            records.append(_one_trial(path, info, runtime, threads, runs, warmup, min_secs, cooldown_s, trial,
                                      trials, device, rapl, input_data, frame, seed))
    finally:
        if old_affinity is not None:
            os.sched_setaffinity(0, old_affinity)
    return records


def _one_trial(path, info, runtime, threads, runs, warmup, min_secs, cooldown_s, trial, trials, device, rapl,
               input_data, frame, seed) -> DeviceRecord:
    import copy
    rng = np.random.default_rng(seed)
    peak_reset = _reset_peak_rss()
    rss0 = _proc_status_kib("VmRSS")
    t0 = time.perf_counter_ns()
    if runtime == "mediapipe":
        step, rt_name, version, closer = _make_mediapipe(frame, threads)
    elif runtime == "coreml":
        step, rt_name, version, closer = _make_coreml(path)
    else:
        interp, rt_name, version = _make_tflite(path, runtime, threads)
        _fill_inputs(interp, input_data, rng)
        step, closer = interp.invoke, None
    init_ms = (time.perf_counter_ns() - t0) / 1e6
    dev = copy.deepcopy(device)
    dev.thermal_status_start = _thermal_summary()
    first_ms = None
    warm = _time_loop(step, warmup, 0.0) if warmup else []
    if warm:
        first_ms = warm[0]
    e0 = rapl.read() if rapl.domains else None
    wall0 = time.perf_counter()
    lat_ms = _time_loop(step, runs, min_secs)
    wall = time.perf_counter() - wall0
    e1 = rapl.read() if rapl.domains else None
    rss1 = _proc_status_kib("VmRSS")
    peak, peak_src = _peak_rss_kib()
    if closer is not None:
        closer()
    dev.thermal_status_end = _thermal_summary()
    dev.charging, dev.battery_temp_c_end = _battery_state()
    lat = latency_stats(lat_ms, init_ms=init_ms, first_ms=first_ms,
                        warmup_mean_ms=float(np.mean(warm)) if warm else None)
    mem = MemoryStats(source_unit="KiB (/proc/self/status)")
    if rss1 is not None:
        mem.rss_mb = rss1 * KIB_TO_MB
        mem.figures.append("rss_mb")
        if rss0 is not None:
            mem.rss_delta_mb = (rss1 - rss0) * KIB_TO_MB
            mem.figures.append("rss_delta_mb")
    if peak is not None:
        mem.peak_mb = peak * KIB_TO_MB
        mem.figures.append("peak_mb")
    if e0 is not None:
        joules = rapl.delta_joules(e0, e1)
        energy = assessment_energy(EnergyInfo(value=joules / len(lat_ms), unit="J/inference", method="RAPL",
                                              scope=f"CPU package(s), whole machine, {wall:.2f} s of timed runs "
                                                    f"(total {joules:.3f} J)"))
    else:
        energy = EnergyInfo(method="not measured", reason=rapl.reason)
    rec = DeviceRecord(model=copy.deepcopy(info), device=dev,
                       runtime=RuntimeInfo(name=rt_name, version=version,
                                           delegate={"mediapipe": "graph (cpu)", "coreml": "all compute units"}
                                           .get(runtime, "cpu (xnnpack)"),
                                           threads=threads),
                       protocol=ProtocolInfo(warmup_runs=warmup, runs=runs, min_secs=min_secs,
                                             cooldown_s=cooldown_s, trial=trial, trials=trials),
                       latency=lat, memory=mem, energy=energy,
                       source={"tool": "stancebench host runner", "runner": "host",
                               "python": platform.python_version(), "peak_source": peak_src,
                               "peak_reset_per_trial": peak_reset})
    if not peak_reset:
        rec.errors.append(f"peak RSS ({peak_src}) could not be reset: it is the process-lifetime peak")
    if runtime == "mediapipe":
        rec.model.format = "mediapipe-graph"
        rec.extra["graph"] = "mediapipe.solutions.pose (static_image_mode=True, model_complexity=1)"
    return rec.flag_missing()


def _bundled_landmark_model() -> Path | None:
    try:
        import mediapipe
    except ImportError:
        return None
    path = Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_full.tflite"
    return path if path.is_file() else None


def _make_mediapipe(frame, threads):
    try:
        import mediapipe as mp
        from importlib.metadata import version as _v
    except ImportError:
        raise NotAvailableError("mediapipe is not installed") from None
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise InputError(f"frame has shape {frame.shape}", field="frame", expected="(H, W, 3) RGB uint8")
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    if pose.process(frame).pose_landmarks is None:
        pose.close()
        raise InputError("MediaPipe found no person in the frame, so only its detector would be timed",
                         field="frame", expected="a frame showing the whole person")
    # MediaPipe's graph schedules its own threads; ``threads`` is recorded but cannot be set through solutions
    return (lambda: pose.process(frame)), "mediapipe", _v("mediapipe"), pose.close


def _make_coreml(path: Path):
    """Core ML prediction through coremltools (macOS only): zero-filled inputs of the declared shapes."""
    try:
        import coremltools as ct
        from importlib.metadata import version as _v
    except ImportError:
        raise NotAvailableError("coremltools is not installed") from None
    try:
        model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.ALL)
    except Exception as exc:  # noqa: BLE001
        # Kept broad: coremltools raises bare Exception (models/model.py) besides RuntimeError, AttributeError
        # and protobuf's DecodeError for unreadable packages. The original error stays attached as __cause__.
        raise ModelError(f"Core ML cannot load this model ({type(exc).__name__}: {exc})", file=path) from exc
    inputs = {}
    for inp in model.get_spec().description.input:
        kind = inp.type.WhichOneof("Type")
        if kind == "multiArrayType":
            shape = [int(d) for d in inp.type.multiArrayType.shape]
            inputs[inp.name] = np.zeros(shape, dtype=np.float32)
        elif kind == "imageType":
            from PIL import Image
            inputs[inp.name] = Image.new("RGB", (int(inp.type.imageType.width), int(inp.type.imageType.height)))
        else:
            raise ModelError(f"input {inp.name!r} has type {kind}, which the host runner does not fill", file=path)
    return (lambda: model.predict(inputs)), "coreml (coremltools)", _v("coremltools"), None


def summarize_trials(records: list[DeviceRecord], tolerance: float = 0.05) -> dict:
    """Replicability of the trials' median latency plus their pooled tail latency (p99 of all raw runs)."""
    out = replicability(records, statistic="p50_ms", tolerance=tolerance)
    pooled = [v for r in records for v in (r.latency.raw_ms or [])]
    if pooled:
        s = latency_stats(pooled, keep_raw=False)
        out["pooled"] = {"n": s.n, "p50_ms": s.p50_ms, "p90_ms": s.p90_ms, "p99_ms": s.p99_ms, "max_ms": s.max_ms}
    return out
