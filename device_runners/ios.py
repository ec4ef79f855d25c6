"""iOS runner: an XCTest template that measures a Core ML model, and ``xcodebuild test`` driving it.

The template (``templates/StancebenchModelBenchmarkTests.swift``) measures model load (``testModelLoad``) and
per-prediction latency with XCTClockMetric, XCTCPUMetric and XCTMemoryMetric (``testPredictionLatency``).
:func:`run_ios` runs ``xcodebuild test`` on the user's project and turns the ``measured [...]`` lines into one
record (latency from the prediction test, ``init_ms`` from the load test).
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from importlib import resources
from pathlib import Path

from ground_truth.kernel import DeviceError, InputError, check_option, validate_type

from .model_info import describe_model
from .parsers.xctest import parse_xctest
from .record import DeviceRecord, ProtocolInfo, RuntimeInfo

TEMPLATE_NAME = "StancebenchModelBenchmarkTests.swift"
TEST_CLASS = "StancebenchModelBenchmarkTests"
COMPUTE_UNITS = ("all", "cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine")


def template_text() -> str:
    """The Swift XCTest template shipped as package data."""
    return resources.files("device_runners").joinpath("templates", TEMPLATE_NAME).read_text(encoding="utf-8")


def install_template(dest_dir, model_file: str, *, iterations: int = 50, compute_units: str = "all") -> Path:
    """Write the template for ``model_file`` into ``dest_dir`` (the unit-test target's folder); returns the path."""
    validate_type(model_file, str, "model_file")
    validate_type(iterations, int, "iterations")
    check_option("compute_units", compute_units, COMPUTE_UNITS)
    if iterations < 1:
        raise InputError(f"must be >= 1, got {iterations}", field="iterations")
    name = Path(model_file).name
    stem = name.split(".")[0]
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", stem):
        raise InputError(f"model name {stem!r} cannot be a Swift string resource name", field="model_file",
                         expected="letters, digits, '_' or '-'")
    text = (template_text().replace("{{MODEL_NAME}}", stem).replace("{{MODEL_FILE}}", name)
            .replace("{{ITERATIONS}}", str(iterations)).replace("{{COMPUTE_UNITS}}", compute_units))
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / TEMPLATE_NAME
    out.write_text(text, encoding="utf-8")
    return out


def _destination_info(destination: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in destination.split(",") if "=" in part)


def _xcode_version(xcodebuild: str) -> str | None:
    try:
        proc = subprocess.run([xcodebuild, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (proc.stdout or "").strip().splitlines()
    return first[0] if first and proc.returncode == 0 else None


def run_ios(model_path, *, scheme: str, destination: str, project=None, workspace=None,
            xcodebuild: str = "xcodebuild", only_testing: str | None = None, compute_units: str = "all",
            runs: int | None = None, timeout_s: float = 3600.0) -> list[DeviceRecord]:
    """Run the template's tests with ``xcodebuild test`` and return one record.

    Parameters
    ----------
    model_path : path-like
        The Core ML model (.mlmodel / .mlpackage) the test target bundles; hashed for the record.
    scheme, destination : str
        ``-scheme`` and ``-destination`` of xcodebuild (e.g. ``'platform=iOS,name=My iPhone'``).
    project, workspace : path-like, optional
        ``-project`` or ``-workspace`` (exactly one).
    xcodebuild : str
        The xcodebuild executable.
    only_testing : str, optional
        ``-only-testing:`` value, e.g. ``AppTests/StancebenchModelBenchmarkTests``.
    compute_units, runs : optional
        Passed to the template's test process as ``STANCEBENCH_COMPUTE_UNITS`` and ``STANCEBENCH_ITERATIONS``
        (through xcodebuild's ``TEST_RUNNER_`` environment prefix, Xcode 13+). The record's ``protocol.runs``
        is the number of predictions the log holds; a different number than asked for is recorded in
        ``errors`` (e.g. an older template with a fixed count).

    Raises
    ------
    DeviceError
        xcodebuild missing, no matching destination, test failure, or no ``measured`` lines in the log.
    """
    validate_type(scheme, str, "scheme")
    validate_type(destination, str, "destination")
    check_option("compute_units", compute_units, COMPUTE_UNITS)
    if (project is None) == (workspace is None):
        raise InputError("give exactly one of project or workspace", field="project/workspace",
                         expected="an .xcodeproj or an .xcworkspace")
    info = describe_model(model_path)
    cmd = [str(xcodebuild), "test", "-scheme", scheme, "-destination", destination]
    cmd += ["-project", str(project)] if project is not None else ["-workspace", str(workspace)]
    if only_testing:
        cmd.append(f"-only-testing:{only_testing}")
    if runs is not None:
        validate_type(runs, int, "runs")
        if runs < 1:
            raise InputError(f"must be >= 1, got {runs}", field="runs")
    env = dict(os.environ, TEST_RUNNER_STANCEBENCH_COMPUTE_UNITS=compute_units)
    if runs is not None:
        env["TEST_RUNNER_STANCEBENCH_ITERATIONS"] = str(runs)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout_s, env=env)
    except FileNotFoundError:
        raise DeviceError(f"xcodebuild not found: {xcodebuild} (Xcode runs on macOS; pass --xcodebuild PATH)") \
            from None
    except subprocess.TimeoutExpired:
        raise DeviceError(f"xcodebuild test did not finish within {timeout_s:.0f} s") from None
    log = (proc.stdout or "") + (proc.stderr or "")
    cases = parse_xctest(log)
    errors = [ln.strip() for ln in log.splitlines() if re.search(r"xcodebuild: error:|error: |\*\* TEST FAILED",
                                                                  ln)]
    if not cases:
        detail = "; ".join(errors[:3]) or log.strip()[-300:]
        raise DeviceError(f"'{' '.join(shlex.quote(c) for c in cmd)}' exited {proc.returncode} without XCTest "
                          f"measurements: {detail}")
    latency_case = next((r for r in cases if r.source["test_case"].endswith("testPredictionLatency")),
                        next((r for r in cases if r.latency.n is not None), cases[0]))
    load_case = next((r for r in cases if r.source["test_case"].endswith("testModelLoad")), None)
    rec = latency_case
    rec.model = info
    dest = _destination_info(destination)
    rec.device.model = dest.get("name") or dest.get("id")
    rec.device.serial = dest.get("id")
    rec.device.os = dest.get("OS") and f"{dest.get('platform', 'iOS')} {dest['OS']}"
    rec.runtime = RuntimeInfo(name="coreml (xctest)", version=_xcode_version(str(xcodebuild)),
                              delegate=compute_units, threads=None)
    rec.protocol = ProtocolInfo(warmup_runs=1, runs=rec.latency.n)
    rec.source.update({"runner": "ios", "command": " ".join(cmd), "exit_status": proc.returncode})
    if load_case is not None:
        rec.latency.init_ms = load_case.latency.mean_ms
        rec.extra["model_load"] = load_case.extra.get("xctest")
        if rec.memory.peak_mb is None and load_case.memory.peak_mb is not None:
            rec.memory.peak_mb = load_case.memory.peak_mb
            rec.memory.figures.append("peak_mb")
    rec.extra["other_test_cases"] = [r.source["test_case"] for r in cases if r is not rec and r is not load_case]
    rec.raw_log = log
    if proc.returncode != 0:
        rec.errors.append(f"xcodebuild exited {proc.returncode}: " + "; ".join(errors[:3]))
    if runs is not None and rec.latency.n is not None and rec.latency.n != runs:
        rec.errors.append(f"asked for {runs} timed predictions, the log holds {rec.latency.n} (a template "
                          f"installed with a fixed count, or an Xcode older than 13 that does not forward "
                          f"TEST_RUNNER_ variables)")
    rec.missing = []
    for name in ("init_ms", "first_ms", "p90_ms", "p99_ms"):
        if getattr(rec.latency, name) is None:
            rec.missing.append(f"latency.{name}")
    rec.energy.reason = "XCTest has no energy metric (use Instruments' Energy Log or MetricKit)"
    return [rec.flag_missing()]
