"""The device result record: one versioned JSON object per (model x device x runtime x delegate x threads x run).

Every runner (host, Android, iOS) and every saved-log parser produces :class:`DeviceRecord` objects. Fields a
tool did not print are ``None`` and named in ``missing`` (a partial record), never filled with a guess.

Units: latency in milliseconds, memory in MB where **1 MB = 10^6 bytes** (tools that print MiB or KiB are
converted and the source unit is kept in ``memory.source_unit``), model size in bytes, temperatures in degrees
Celsius. Percentiles are nearest-rank (the method TFLite's ``benchmark_model`` uses for its p5/median/p95).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import (BOUNDS, Bound, InputError, ReaderError, as_float_array, read_text_file,
                                 write_text_atomic)
from ground_truth.kernel import file_sha256 as sha256_file  # noqa: F401 - used by model_info, variants

from .plausibility import (CHARGE_MAH, COUNT, LATENCY_FIELDS, LATENCY_SPREAD, MEMORY_DELTA, MEMORY_DELTA_FIELDS,
                           MEMORY_FIELDS, SETUP_S, THROUGHPUT, plausible_tree, plausible_value)

#: Bump when a field is removed or renamed (adding fields keeps the version).
SCHEMA_VERSION = 1
#: Identifies a file of device records written by ``stancebench device-bench`` / ``device-parse``.
FILE_KIND = "stancebench.device-records"
PERCENTILE_METHOD = "nearest-rank"
MB = 1_000_000  # bytes; the report states "MB = 10^6 bytes"
MIB_TO_MB = 1024 * 1024 / MB
KIB_TO_MB = 1024 / MB
KB_TO_MB = 1000 / MB


@dataclass
class ModelInfo:
    """The model file measured: ``sha256`` joins device records to the study's candidates."""

    name: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    format: str | None = None  # tflite | mlmodel | mlpackage | mediapipe-graph | unknown
    precision: str | None = None  # fp32 | fp16 | int8 | dynamic-int8 | mixed | unknown
    path: str | None = None


@dataclass
class DeviceInfo:
    """The machine: platform (linux/macos/android/ios), model, SoC, OS, thermal state at start and end."""

    platform: str | None = None
    model: str | None = None
    soc: str | None = None
    os: str | None = None
    serial: str | None = None
    thermal_status_start: str | None = None
    thermal_status_end: str | None = None
    battery_temp_c_start: float | None = None
    battery_temp_c_end: float | None = None
    charging: bool | None = None
    cpu_affinity: list[int] | None = None


@dataclass
class RuntimeInfo:
    """The inference runtime and how it was configured."""

    name: str | None = None  # litert | tflite_runtime | benchmark_model | mediapipe | coreml | xctest ...
    version: str | None = None
    delegate: str | None = None  # cpu | xnnpack | gpu | nnapi | hexagon | ane | ...
    threads: int | None = None


@dataclass
class ProtocolInfo:
    """How the measurement was run: warm-up runs, timed runs, minimum duration, cooldown, trial index."""

    warmup_runs: int | None = None
    runs: int | None = None
    min_secs: float | None = None
    cooldown_s: float | None = None
    trial: int | None = None
    trials: int | None = None


@dataclass
class LatencyStats:
    """Per-inference latency in ms. ``raw_ms`` holds every timed run when the tool exposes them.

    ``first_ms`` is the very first inference (usually the first warm-up run, slower: caches, lazy init);
    ``init_ms`` is model load + interpreter/session creation.
    """

    init_ms: float | None = None
    first_ms: float | None = None
    warmup_mean_ms: float | None = None
    mean_ms: float | None = None
    std_ms: float | None = None
    min_ms: float | None = None
    p5_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    n: int | None = None
    percentile_method: str = PERCENTILE_METHOD
    throughput_per_s: float | None = None
    raw_ms: list[float] | None = None


@dataclass
class MemoryStats:
    """Memory in MB (10^6 bytes). Each figure is a different thing; ``figures`` lists the ones measured.

    tool_delta_*: growth of the benchmark tool's footprint since it started (benchmark_model);
    peak_mb: peak footprint / resident set (benchmark_model periodic monitoring, VmHWM, XCTest peak physical);
    rss_mb / rss_delta_mb: resident set size at the end / its growth across load + runs;
    pss_mb: proportional set size (Android dumpsys meminfo); swap_pss_mb likewise.
    """

    tool_delta_init_mb: float | None = None
    tool_delta_overall_mb: float | None = None
    peak_mb: float | None = None
    rss_mb: float | None = None
    rss_delta_mb: float | None = None
    pss_mb: float | None = None
    swap_pss_mb: float | None = None
    physical_delta_mb: float | None = None
    source_unit: str | None = None
    figures: list[str] = field(default_factory=list)


@dataclass
class EnergyInfo:
    """Energy or charge used. ``method`` is one of 'batterystats estimate', 'power rails', 'RAPL',
    'not measured'; ``reason`` says why when not measured. batterystats gives modelled charge (mAh), not
    measured energy."""

    value: float | None = None
    unit: str | None = None
    method: str = "not measured"
    reason: str | None = None
    scope: str | None = None
    #: the same energy scaled to one assessment (:func:`assessment_energy`): charge, energy, and how
    assessment_mah: float | None = None
    assessment_j: float | None = None
    assessment_basis: str | None = None


#: One clinical assessment as the energy gate judges it: a 60-s trial filmed at 30 fps (1800 inferences).
ASSESSMENT_S = 60.0
ASSESSMENT_FPS = 30.0


def assessment_energy(energy: EnergyInfo, *, inferences: int | None = None, duration_s: float | None = None,
                      voltage_v: float | None = None, seconds: float = ASSESSMENT_S,
                      fps: float = ASSESSMENT_FPS) -> EnergyInfo:
    """Scale a measured energy to one assessment of ``seconds`` at ``fps`` frames (one inference per frame).

    * ``J/inference`` (host RAPL): × fps × seconds joules;
    * ``mAh`` over ``inferences`` inferences (benchmark_model under batterystats): per inference × fps × seconds;
    * ``mAh`` over ``duration_s`` seconds of app use: × seconds / duration_s.

    Charge and energy convert through the battery voltage measured on the device (``dumpsys battery``),
    E = Q · V (1 mAh = 3.6 C): without a measured voltage only the figure the tool gave is scaled, never a
    nominal one. Sets ``assessment_mah`` / ``assessment_j`` and ``assessment_basis``; returns ``energy``.
    """
    if energy.value is None:
        return energy
    per = f"{seconds:g}-s assessment at {fps:g} fps ({seconds * fps:g} inferences)"
    v_txt = f"; charge <-> energy at the measured battery voltage {voltage_v:.3f} V" if voltage_v else ""
    if energy.unit == "J/inference":
        energy.assessment_j = energy.value * fps * seconds
        energy.assessment_basis = f"{energy.value:.4g} J/inference x {seconds * fps:g} inferences ({per})"
        if voltage_v:
            energy.assessment_mah = energy.assessment_j / (3.6 * voltage_v)
    elif energy.unit == "mAh" and (inferences or duration_s):
        if inferences:
            energy.assessment_mah = energy.value / inferences * fps * seconds
            energy.assessment_basis = (f"{energy.value:.4g} mAh over {inferences} inferences, scaled to {per}")
        else:
            energy.assessment_mah = energy.value * seconds / duration_s
            energy.assessment_basis = (f"{energy.value:.4g} mAh over {duration_s:g} s of app use, scaled to "
                                       f"{seconds:g} s")
        if voltage_v:
            energy.assessment_j = energy.assessment_mah * 3.6 * voltage_v
    else:
        energy.assessment_basis = (f"cannot scale {energy.unit} to an assessment without a count of inferences "
                                   f"or a duration")
        return energy
    energy.assessment_basis += v_txt
    return energy


@dataclass
class DeviceRecord:
    """One result record. ``status`` is 'complete', 'partial' (some fields missing, see ``missing``) or
    'failed' (``errors`` says why; fields measured before the failure are kept)."""

    model: ModelInfo = field(default_factory=ModelInfo)
    device: DeviceInfo = field(default_factory=DeviceInfo)
    runtime: RuntimeInfo = field(default_factory=RuntimeInfo)
    protocol: ProtocolInfo = field(default_factory=ProtocolInfo)
    latency: LatencyStats = field(default_factory=LatencyStats)
    memory: MemoryStats = field(default_factory=MemoryStats)
    energy: EnergyInfo = field(default_factory=EnergyInfo)
    source: dict[str, Any] = field(default_factory=dict)  # tool, file, excerpt index, parser
    extra: dict[str, Any] = field(default_factory=dict)  # tool-specific figures (CPU time, per-UID power ...)
    status: str = "complete"
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    raw_log: str | None = None
    schema_version: int = SCHEMA_VERSION

    #: fields whose absence makes a record partial (the core of what a runner promises)
    REQUIRED = ("latency.mean_ms", "latency.p50_ms", "latency.n")

    def flag_missing(self, required: tuple[str, ...] | None = None) -> "DeviceRecord":
        """Add the required dotted fields that are None to ``missing`` and set status 'partial' if any is.

        ``missing`` may also list optional fields the tool does not report (e.g. p99 from benchmark_model);
        those do not make a record partial."""
        required = self.REQUIRED if required is None else required
        absent = []
        for name in required:
            section, _, attr = name.partition(".")
            if getattr(getattr(self, section), attr) is None:
                absent.append(name)
                if name not in self.missing:
                    self.missing.append(name)
        if absent and self.status == "complete":
            self.status = "partial"
        return self

    def check_plausible(self, file=None) -> "DeviceRecord":
        """Set every figure that is not a plausible number to None, with a note in ``errors`` naming the file
        and the field (a corrupted log, a bit flip or a tool bug must not give a negative or 1e308 latency).

        Latencies against ``BOUNDS['latency_ms']``, memory footprints against ``BOUNDS['memory_bytes']`` (MB x
        10^6), energy in J against ``BOUNDS['energy_j']``, model size against ``BOUNDS['model_bytes']``; counts
        must be whole numbers. A removed field is added to ``missing`` and makes a complete record partial when
        it is one of :attr:`REQUIRED`. Returns the record.
        """
        where = f"{file}: " if file is not None else ""

        def check(section, name, bound, *, scale=1.0, integer=False):
            obj = getattr(self, section)
            value, why = plausible_value(getattr(obj, name), bound, scale=scale, integer=integer)
            if why is not None:
                setattr(obj, name, None)
                self.errors.append(f"{where}{section}.{name}: {why}; set to null as implausible")
                if f"{section}.{name}" not in self.missing:
                    self.missing.append(f"{section}.{name}")
                if f"{section}.{name}" in self.REQUIRED and self.status == "complete":
                    self.status = "partial"
            elif value is not None:
                setattr(obj, name, value)

        for name in LATENCY_FIELDS:
            check("latency", name, BOUNDS["latency_ms"])
        check("latency", "std_ms", LATENCY_SPREAD)
        check("latency", "n", COUNT, integer=True)
        check("latency", "throughput_per_s", THROUGHPUT)
        raw = self.latency.raw_ms
        if raw is not None:
            if not isinstance(raw, (list, tuple)):
                self.latency.raw_ms = None
                self.errors.append(f"{where}latency.raw_ms: {raw!r} is not a list of latencies; set to null")
            else:
                checked = [plausible_value(v, BOUNDS["latency_ms"]) for v in raw]
                bad = [why for _, why in checked if why is not None]
                if bad:
                    self.latency.raw_ms = [v for v, _ in checked]
                    self.errors.append(f"{where}latency.raw_ms: {len(bad)} of {len(raw)} run(s) implausible (e.g. "
                                       f"{bad[0]}); set to null")
        for name in MEMORY_FIELDS:
            check("memory", name, BOUNDS["memory_bytes"], scale=MB)
        for name in MEMORY_DELTA_FIELDS:
            check("memory", name, MEMORY_DELTA, scale=MB)
        figures = self.memory.figures if isinstance(self.memory.figures, list) else []
        self.memory.figures = [f for f in figures if isinstance(f, str) and getattr(self.memory, f, None) is not None]
        energy_bound = {"mAh": CHARGE_MAH, "J": BOUNDS["energy_j"], "J/inference": BOUNDS["energy_j"]}
        if self.energy.value is not None:
            bound = energy_bound.get(self.energy.unit)
            if bound is None:
                bound = Bound(-math.inf, math.inf, str(self.energy.unit), "a finite number")
            check("energy", "value", bound)
            if self.energy.value is None:
                self.energy.reason = "the log's figure is implausible (see errors)"
        check("energy", "assessment_mah", CHARGE_MAH)
        check("energy", "assessment_j", BOUNDS["energy_j"])
        check("model", "bytes", BOUNDS["model_bytes"], integer=True)
        for name in ("warmup_runs", "runs", "trial", "trials"):
            check("protocol", name, COUNT, integer=True)
        for name in ("min_secs", "cooldown_s"):
            check("protocol", name, SETUP_S)
        check("runtime", "threads", COUNT, integer=True)
        return self

    def check_extra(self, path: str, bound: Bound, *, scale: float = 1.0, file=None) -> "DeviceRecord":
        """Replace the implausible numbers of ``extra`` at the dotted ``path`` (a number, or dicts/lists of
        numbers) by None, with a note in ``errors`` naming the file and the figure. Returns the record."""
        *parents, key = path.split(".")
        holder = self.extra
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or key not in holder:
            return self
        value, n_bad, why = plausible_tree(holder[key], bound, scale=scale)
        if n_bad:
            holder[key] = value
            where = f"{file}: " if file is not None else ""
            self.errors.append(f"{where}extra.{path}: {n_bad} figure(s) implausible (e.g. {why}); set to null")
        return self

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, file=None) -> "DeviceRecord":
        """Rebuild a record from :meth:`to_dict` output (unknown keys are ignored: forward compatible)."""
        if not isinstance(data, dict):
            raise ReaderError(f"a device record is {type(data).__name__}", file=file, field="records",
                              expected="an object")
        version = data.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ReaderError(f"device record schema_version {version!r} is not supported", file=file,
                              field="schema_version", expected=f"an integer <= {SCHEMA_VERSION}")
        sections = {"model": ModelInfo, "device": DeviceInfo, "runtime": RuntimeInfo,
                    "protocol": ProtocolInfo, "latency": LatencyStats, "memory": MemoryStats,
                    "energy": EnergyInfo}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            if f.name in sections:
                section = data[f.name] or {}
                if not isinstance(section, dict):
                    raise ReaderError(f"{f.name} is {type(section).__name__}", file=file, field=f.name,
                                      expected="an object of named fields")
                known = {g.name for g in fields(sections[f.name])}
                kwargs[f.name] = sections[f.name](**{k: v for k, v in section.items() if k in known})
            elif f.name in ("source", "extra"):
                kwargs[f.name] = data[f.name] if isinstance(data[f.name], dict) else {}
            elif f.name in ("missing", "errors"):
                kwargs[f.name] = [str(v) for v in data[f.name]] if isinstance(data[f.name], list) else []
            elif f.name == "status" and data[f.name] not in ("complete", "partial", "failed"):
                raise ReaderError(f"status {data[f.name]!r} is not a record status", file=file, field="status",
                                  expected="'complete', 'partial' or 'failed'")
            elif f.name == "raw_log":
                kwargs[f.name] = data[f.name] if isinstance(data[f.name], str) else None
            else:
                kwargs[f.name] = data[f.name]
        return cls(**kwargs)


def _clean(obj):
    """JSON-safe: NaN/inf become None (JSON has no NaN), numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def nearest_rank(sorted_values: np.ndarray, q: float) -> float:
    """Nearest-rank percentile of already-sorted values: the smallest value with at least q% of the data at or
    below it, i.e. ``sorted[ceil(q/100 * n) - 1]`` (q = 0 gives the minimum)."""
    n = sorted_values.size
    rank = max(1, int(math.ceil(q / 100.0 * n - 1e-9)))
    return float(sorted_values[min(rank, n) - 1])


def latency_stats(latencies_ms, *, init_ms: float | None = None, first_ms: float | None = None,
                  warmup_mean_ms: float | None = None, keep_raw: bool = True) -> LatencyStats:
    """Summarise per-inference latencies (ms) into :class:`LatencyStats`.

    Parameters
    ----------
    latencies_ms : array-like
        One latency per timed run, in milliseconds (warm-up runs excluded).
    init_ms, first_ms, warmup_mean_ms : float, optional
        Model initialisation time, the very first inference and the warm-up mean, when known.
    keep_raw : bool
        Keep every latency in ``raw_ms`` (the report draws distributions from it).

    Returns
    -------
    LatencyStats
        mean, sample standard deviation (ddof=1; 0 for a single run), min, max and nearest-rank p5, p50, p90,
        p95, p99.

    Notes
    -----
    Nearest-rank percentiles are actual observed latencies, so p99 of 50 runs is the maximum: read tail
    percentiles together with ``n`` (p99 needs >= 100 runs to differ from the maximum).
    """
    arr = as_float_array(latencies_ms, "latencies_ms", ndim=1)
    if arr.size == 0:
        raise InputError("no latencies to summarise", field="latencies_ms", expected="at least one run")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("latencies must be finite and non-negative", field="latencies_ms")
    s = np.sort(arr)
    return LatencyStats(
        init_ms=init_ms, first_ms=first_ms, warmup_mean_ms=warmup_mean_ms,
        mean_ms=float(arr.mean()), std_ms=float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        min_ms=float(s[0]), max_ms=float(s[-1]), n=int(arr.size),
        p5_ms=nearest_rank(s, 5), p50_ms=nearest_rank(s, 50), p90_ms=nearest_rank(s, 90),
        p95_ms=nearest_rank(s, 95), p99_ms=nearest_rank(s, 99),
        raw_ms=[float(v) for v in arr] if keep_raw else None)


def replicability(records: list[DeviceRecord], *, statistic: str = "p50_ms",
                  tolerance: float = 0.05) -> dict[str, Any]:
    """Do repeated trials agree? Relative spread of one latency statistic across trial records.

    Parameters
    ----------
    records : list of DeviceRecord
        One record per trial of the same configuration.
    statistic : str
        The LatencyStats field compared (default the median, robust to the odd slow run).
    tolerance : float
        Largest allowed relative deviation from the median of the trials (MLPerf Mobile asks 5%).

    Returns
    -------
    dict
        ``values`` (one per trial), ``median``, ``max_rel_dev`` = max |x_i - median| / median, ``within``
        (bool, or None with fewer than 2 trials) and the ``tolerance``.
    """
    values = [getattr(r.latency, statistic) for r in records if r.status != "failed"]
    values = [v for v in values if v is not None]
    out: dict[str, Any] = {"statistic": statistic, "tolerance": tolerance, "values": values,
                           "n_trials": len(values), "median": None, "max_rel_dev": None, "within": None}
    if values:
        med = float(np.median(values))
        out["median"] = med
        if len(values) >= 2 and med > 0:
            dev = float(np.max(np.abs(np.asarray(values) - med)) / med)
            out["max_rel_dev"] = dev
            out["within"] = bool(dev <= tolerance)
    return out


def write_records(path, records: list[DeviceRecord], *, replicability_summary: dict | None = None,
                  errors: list[str] | None = None) -> Path:
    """Write records as one JSON file ``{"schema_version", "kind", "records": [...], ...}``, atomically.

    Every record's figures are checked first (:meth:`DeviceRecord.check_plausible`): what is written is a
    plausible number, or null with a note.
    """
    path = Path(path)
    for rec in records:
        rec.check_plausible()
    doc = {"schema_version": SCHEMA_VERSION, "kind": FILE_KIND, "mb_definition": "1 MB = 10^6 bytes",
           "records": [r.to_dict() for r in records]}
    if replicability_summary is not None:
        doc["replicability"] = _clean(replicability_summary)
    if errors:
        doc["errors"] = list(errors)
    return write_text_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n", field="--json")


def read_records(path) -> list[DeviceRecord]:
    """Read a file written by :func:`write_records` (or a bare list of record dicts).

    The path is checked before it is opened; figures that are not plausible numbers become None with a note
    (:meth:`DeviceRecord.check_plausible`): a hand-edited or corrupted file cannot bring a negative latency in.
    """
    path = Path(path)
    text = read_text_file(path, what="device records JSON file")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ReaderError(f"not valid JSON ({exc})", file=path) from None
    items = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ReaderError("no 'records' list", file=path, field="records", expected="a list of device records")
    return [DeviceRecord.from_dict(item, file=path).check_plausible(file=path) for item in items]


def records_frame(records: list[DeviceRecord]):
    """Tidy table of records (one row each) for ``device.csv`` and the report's device table.

    Columns are ``<section>_<field>`` (``model_sha256``, ``latency_p50_ms``, ``memory_peak_mb``,
    ``energy_method`` ...) plus ``status``, ``missing`` (';'-joined) and ``schema_version``; the per-run list
    ``latency_raw_ms`` and the raw log are left out (they stay in the JSON).
    """
    import pandas as pd
    rows = []
    for rec in records:
        d = rec.to_dict()
        row = {}
        for section in ("model", "device", "runtime", "protocol", "latency", "memory", "energy"):
            for key, value in d[section].items():
                if key == "raw_ms":
                    continue
                row[f"{section}_{key}"] = ",".join(map(str, value)) if isinstance(value, list) else value
        row.update(status=d["status"], missing=";".join(d["missing"]), errors=" | ".join(d["errors"]),
                   source_tool=d["source"].get("tool"), schema_version=d["schema_version"])
        rows.append(row)
    return pd.DataFrame(rows)
