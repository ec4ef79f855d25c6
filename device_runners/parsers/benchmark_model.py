"""Parse the output of TFLite / LiteRT ``benchmark_model`` (command-line binary and Android benchmark app).

Handles every layout we know: lines with or without a prefix (``INFO: ``, ``VERBOSE: ``, an Android logcat
prefix ``07-08 15:33:55.768 I/tflite  ( 5395): `` or ``... tflite  : ``), stat lines
``count= first= curr= min= max= avg= std= [p5= median= p95=]`` (the all-equal form ``count=N curr=X (all same)``),
averages in scientific notation (``avg=2.71985e+06``), the summary ``Inference timings in us: Init: ...``, the
old ``Average inference timings in us: Warmup: ..., Init: ..., Inference: ...`` and ``Timings (microseconds):``
forms, the memory lines (tool footprint delta, periodic peak, ``VmRSS``), and the Android delegate-performance
``report.json`` ``"average time in us"`` string. Several runs in one log are split into one record each.

Units: the tool prints times in microseconds (converted to ms). Its memory "MB" are MiB (it divides KiB by
1024: ``init=2.43359`` is 2492 KiB), converted to MB = 10^6 bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ground_truth.kernel import BOUNDS

from ..plausibility import LATENCY_SPREAD, MEMORY_DELTA, plausible_value
from ..record import MB, MIB_TO_MB, DeviceRecord, LatencyStats, MemoryStats, ModelInfo, ProtocolInfo, RuntimeInfo
from ._text import NUM, kv_numbers, split_excerpts, to_int

_STAT = re.compile(r"(?:^|[\s:])count=(\d+)\b(.*)$")
_RUNNING = re.compile(rf"Running benchmark for at least (\d+) iterations and at least ({NUM}) seconds")
_SUMMARY = re.compile(rf"Inference timings in us: Init: ({NUM}), First inference: ({NUM}), "
                      rf"Warmup \(avg\): ({NUM}), Inference \(avg\): ({NUM})")
_SUMMARY_OLD = re.compile(rf"Average inference timings in us: Warmup: ({NUM}), Init: ({NUM}), "
                          rf"Inference: ({NUM})")
_REPORT_JSON = re.compile(rf'"average time in us"\s*:\s*"init: ({NUM}), warmup: ({NUM}), inference: ({NUM})"')
_INIT_SESSION = re.compile(rf"Initialized session in ({NUM})\s*ms")
_MEM_DELTA = re.compile(rf"Memory footprint delta from the start of the tool \(MB\): init=({NUM}) "
                        rf"overall=({NUM})")
_MEM_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({NUM})")
_VMRSS = re.compile(rf"-\s*VmRSS\s*:\s*({NUM})\s*MB")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): ({NUM})")
_PARAM = re.compile(r"(Graph|Num threads|#threads used for CPU inference|Use gpu|Use NNAPI|Use nnapi|"
                    r"Use xnnpack|Use Hexagon|Min num runs|Num runs|Min warmup runs|Min runs duration "
                    r"\(seconds\)|Min warmup runs duration \(seconds\))\s*:\s*\[(.*?)\]", re.IGNORECASE)
_LOADED = re.compile(r"Loaded model\s+(\S+)")
_DELEGATE = re.compile(r"Created TensorFlow Lite (XNNPACK )?delegate for (\w+)|"
                       r"with delegate \((\w+)\)|Explicitly applied (\w+) delegate|"
                       r"(NNAPI|Hexagon|GPU) delegate(?: created|:\s*\d+ nodes delegated)",
                       re.IGNORECASE)
_ERROR = re.compile(r"(?:^|\s|:)ERROR:\s*(.+)$")
_START = re.compile(r"STARTING!")

#: lines that carry figures, by a label the tool prints before them, with the pattern that reads them and the
#: record fields they fill: a labelled line the pattern does not read holds a value that is not a number
#: (a corrupted log), and its figures are named as left out rather than silently absent
_FIGURE_LINES = (
    ("Inference timings in us: Init:", (_SUMMARY,), "latency.init_ms, latency.first_ms, latency.warmup_mean_ms, "
                                                    "latency.mean_ms"),
    ("Average inference timings in us:", (_SUMMARY_OLD,), "latency.warmup_mean_ms, latency.init_ms, "
                                                           "latency.mean_ms"),
    ('"average time in us"', (_REPORT_JSON,), "latency.init_ms, latency.warmup_mean_ms, latency.mean_ms"),
    ("Initialized session in", (_INIT_SESSION,), "latency.init_ms"),
    ("Memory footprint delta from the start of the tool", (_MEM_DELTA,),
     "memory.tool_delta_init_mb, memory.tool_delta_overall_mb"),
    ("Overall peak memory footprint", (_MEM_PEAK,), "memory.peak_mb"),
    ("VmRSS", (_VMRSS,), "memory.rss_mb"),
    ("The input model file size", (_MODEL_SIZE,), "the reported model size"),
)
#: the record field a stat line's key fills (the timed-run line; a warm-up line's avg is the warm-up mean)
_STAT_FIELDS = {"count": "latency.n", "first": "latency.first_ms", "min": "latency.min_ms", "max": "latency.max_ms",
                "avg": "latency.mean_ms", "std": "latency.std_ms", "p5": "latency.p5_ms", "median": "latency.p50_ms",
                "p95": "latency.p95_ms"}


def _unreadable(line: str) -> str | None:
    """Why a line that carries figures could not be read (a value that is not a number), or None."""
    for label, patterns, fields in _FIGURE_LINES:
        if label in line and not any(p.search(line) for p in patterns):
            return f"{fields} left out: a value is not a number in {line.strip()[-160:]!r}"
    if re.search(r"(?:^|[\s:])count=", line) and "Memory (bytes)" not in line:
        bad = [(k, v) for k, v in re.findall(r"(\w+)=(\S*)", line)
               if k in _STAT_FIELDS and not re.fullmatch(NUM, v)]
        if bad:
            return (f"{', '.join(_STAT_FIELDS[k] for k, _ in bad)} left out: "
                    f"{', '.join(f'{k}={v}' for k, v in bad)} is not a number in {line.strip()[-160:]!r}")
    return None


_DELEGATE_NAMES = {"tflitexnnpackdelegate": "xnnpack", "tflitegpudelegatev2": "gpu", "tflitennapidelegate": "nnapi",
                   "xnnpack": "xnnpack", "gpu": "gpu", "nnapi": "nnapi", "hexagon": "hexagon",
                   "tflitehexagondelegate": "hexagon", "cpu": "xnnpack"}


@dataclass
class _Session:
    lines: list[str] = field(default_factory=list)
    stats: list[tuple[int, dict, str, int]] = field(default_factory=list)  # (count, values, line, n_running)
    running: list[tuple[int, float]] = field(default_factory=list)
    summary: dict | None = None
    init_session_ms: float | None = None
    mem: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    graph: str | None = None
    delegate: str | None = None
    model_size_reported: float | None = None
    errors: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # figure lines whose values are not numbers
    op_summary: list[dict] = field(default_factory=list)  # last "Summary by node type" table
    in_op_table: bool = False

    @property
    def done(self) -> bool:
        # a run ends with its summary line, or (logs that drop it) with the stat line of the timed phase
        return self.summary is not None or any(st[3] >= 2 for st in self.stats)

    @property
    def empty(self) -> bool:
        return not (self.stats or self.summary or self.mem or self.model_size_reported is not None
                    or self.init_session_ms is not None or self.errors or self.op_summary or self.unreadable)


def _delegate_name(match: re.Match) -> str:
    xnn, target, node, applied, created = match.groups()
    if xnn:
        return "xnnpack"
    name = (target or node or applied or created or "").lower()
    return _DELEGATE_NAMES.get(name, name)


def _split_sessions(text: str) -> list[_Session]:
    sessions = [_Session()]
    for line in text.splitlines():
        s = sessions[-1]
        is_new_run_line = bool(_START.search(line) or _RUNNING.search(line) or _STAT.search(line)
                               or _INIT_SESSION.search(line) or _LOADED.search(line)
                               or _DELEGATE.search(line) or _MODEL_SIZE.search(line))
        if "Memory (bytes)" in line:
            is_new_run_line = False
        if (_START.search(line) and not s.empty) or (s.done and is_new_run_line):
            sessions.append(_Session())
            s = sessions[-1]
        s.lines.append(line)
        if "Summary by node type" in line:
            s.in_op_table, s.op_summary = True, []
            continue
        if s.in_op_table:
            row = _op_row(line)
            if row is not None:
                s.op_summary.append(row)
                continue
            if "[Node type]" in line:
                continue
            s.in_op_table = False
        if m := _ERROR.search(line):
            s.errors.append(m.group(1).strip())
        if why := _unreadable(line):
            s.unreadable.append(why)
        if m := _SUMMARY.search(line):
            init, first, warm, inf = (float(x) for x in m.groups())
            s.summary = {"init_us": init, "first_us": first, "warmup_avg_us": warm, "inference_avg_us": inf}
        elif m := _SUMMARY_OLD.search(line):
            warm, init, inf = (float(x) for x in m.groups())
            s.summary = {"init_us": init, "first_us": None, "warmup_avg_us": warm, "inference_avg_us": inf}
        elif m := _REPORT_JSON.search(line):
            init, warm, inf = (float(x) for x in m.groups())
            s.summary = {"init_us": init, "first_us": None, "warmup_avg_us": warm, "inference_avg_us": inf}
        elif "Memory (bytes)" in line:
            continue  # op-profiling memory counter, not a latency stat
        elif m := _STAT.search(line):
            values = kv_numbers("count=" + m.group(1) + " " + m.group(2))
            s.stats.append((int(m.group(1)), values, line, len(s.running)))
        elif m := _RUNNING.search(line):
            s.running.append((int(m.group(1)), float(m.group(2))))
        elif m := _INIT_SESSION.search(line):
            s.init_session_ms = float(m.group(1))
        elif m := _MEM_DELTA.search(line):
            s.mem["init"], s.mem["overall"] = float(m.group(1)), float(m.group(2))
        elif m := _MEM_PEAK.search(line):
            s.mem["peak"] = float(m.group(1))
        elif m := _VMRSS.search(line):
            s.mem["vmrss"] = float(m.group(1))
        elif m := _MODEL_SIZE.search(line):
            s.model_size_reported = float(m.group(1))
        elif m := _PARAM.search(line):
            s.params[m.group(1).lower()] = m.group(2)
            if m.group(1).lower() == "graph" and m.group(2):
                s.graph = m.group(2)
        elif m := _LOADED.search(line):
            s.graph = s.graph or m.group(1)
        if m := _DELEGATE.search(line):
            name = _delegate_name(m)
            # XNNPACK is applied by default on CPU; an explicit GPU/NNAPI/Hexagon delegate wins
            if name and (s.delegate is None or (s.delegate == "xnnpack" and name != "xnnpack")):
                s.delegate = name
    return [s for s in sessions if not s.empty]


def _op_row(line: str) -> dict | None:
    """A row of the op-profiling 'Summary by node type' table (tab-separated), or None."""
    cols = [c.strip() for c in line.split("\t") if c.strip()]
    if len(cols) < 7 or not re.fullmatch(r"[A-Z0-9_]+|[A-Za-z][\w ]*", cols[0]):
        return None
    try:
        return {"node_type": cols[0], "count": int(cols[1]), "avg_ms": float(cols[2]),
                "avg_percent": float(cols[3].rstrip("%")), "cdf_percent": float(cols[4].rstrip("%")),
                "mem_kb": float(cols[5]), "times_called": int(cols[6])}
    except ValueError:
        return None


def _stat_avg(count: int, values: dict) -> float | None:
    if "avg" in values:
        return values["avg"]
    if "curr" in values and (count == 1 or set(values) <= {"count", "curr"}):
        return values["curr"]  # all runs equal: the tool prints only count and curr
    return None


def _assign_phases(s: _Session):
    """Return (warmup_stat, main_stat, note). Each stat is (count, values, line, n_running) or None."""
    if not s.stats:
        return None, None, None
    if s.summary is not None:
        inf, warm = s.summary["inference_avg_us"], s.summary["warmup_avg_us"]

        def rel(stat, target):
            avg = _stat_avg(stat[0], stat[1])
            return abs(avg - target) / max(abs(target), 1e-9) if avg is not None else float("inf")
        # the tool prints averages with 6 significant digits: match within 1e-4 relative, latest first
        main = next((st for st in reversed(s.stats) if rel(st, inf) < 1e-4), s.stats[-1])
        others = [st for st in s.stats if st is not main]
        warmup = next((st for st in others if rel(st, warm) < 1e-4), others[0] if others else None)
        return warmup, main, None
    if len(s.stats) >= 2:
        return s.stats[-2], s.stats[-1], None
    stat = s.stats[0]
    if len(s.running) == 1 and stat[3] == 1:
        # the tool always announces the warm-up phase first: a single stat line after the first
        # "Running benchmark" line, with nothing after it, means the log stops after the warm-up
        return stat, None, "log ends after the warm-up phase: no timed-run statistics"
    return None, stat, None


def _latency(s: _Session) -> tuple[LatencyStats, list[str]]:
    notes: list[str] = []
    warmup, main, note = _assign_phases(s)
    if note:
        notes.append(note)
    lat = LatencyStats()
    if main is not None:
        count, v, line, _ = main
        lat.n = count
        avg = _stat_avg(count, v)
        all_same = set(v) <= {"count", "curr"} or "(all same)" in line
        if all_same and avg is not None:
            lat.mean_ms = lat.min_ms = lat.max_ms = lat.p5_ms = lat.p50_ms = lat.p95_ms = avg / 1000.0
            lat.std_ms = 0.0
            lat.p90_ms = lat.p99_ms = avg / 1000.0  # every run equal: every percentile is that value
        else:
            lat.mean_ms = None if avg is None else avg / 1000.0
            for key, attr in (("std", "std_ms"), ("min", "min_ms"), ("max", "max_ms"), ("p5", "p5_ms"),
                              ("median", "p50_ms"), ("p95", "p95_ms")):
                if key in v:
                    setattr(lat, attr, v[key] / 1000.0)
    if warmup is not None:
        wc, wv, _, _ = warmup
        avg = _stat_avg(wc, wv)
        lat.warmup_mean_ms = None if avg is None else avg / 1000.0
        first = wv.get("first", wv.get("curr") if wc == 1 else None)
        lat.first_ms = None if first is None else first / 1000.0
        if main is None:
            lat.extra_warmup_n = wc  # type: ignore[attr-defined]
    if s.summary is not None:
        sm = s.summary
        lat.init_ms = sm["init_us"] / 1000.0
        if sm["first_us"] is not None:
            lat.first_ms = sm["first_us"] / 1000.0
        lat.warmup_mean_ms = sm["warmup_avg_us"] / 1000.0
        if lat.mean_ms is None:
            lat.mean_ms = sm["inference_avg_us"] / 1000.0
    if lat.init_ms is None and s.init_session_ms is not None:
        lat.init_ms = s.init_session_ms
    return lat, notes


def _memory(s: _Session) -> MemoryStats:
    mem = MemoryStats()
    if not s.mem:
        return mem
    mem.source_unit = "MiB (benchmark_model prints KiB / 1024 labelled 'MB')"
    if "init" in s.mem:
        mem.tool_delta_init_mb = s.mem["init"] * MIB_TO_MB
        mem.tool_delta_overall_mb = s.mem["overall"] * MIB_TO_MB
        mem.figures += ["tool_delta_init_mb", "tool_delta_overall_mb"]
    if "peak" in s.mem:
        mem.peak_mb = s.mem["peak"] * MIB_TO_MB
        mem.figures.append("peak_mb")
    if "vmrss" in s.mem:
        mem.rss_mb = s.mem["vmrss"] * MIB_TO_MB
        mem.figures.append("rss_mb")
    return mem


def _int_param(params: dict, *names: str) -> int | None:
    """The first of the ``--param`` values ``names`` that is a whole number ('[4]' printed as '4')."""
    for name in names:
        value = to_int(params.get(name) or "")
        if value is not None:
            return value
    return None


def _record(s: _Session, *, file, excerpt: int, session: int) -> DeviceRecord:
    lat, notes = _latency(s)
    p = s.params
    delegate = s.delegate
    for key, name in (("use gpu", "gpu"), ("use nnapi", "nnapi"), ("use hexagon", "hexagon")):
        if p.get(key) == "1":
            delegate = name
    rec = DeviceRecord(
        model=ModelInfo(name=s.graph.rsplit("/", 1)[-1] if s.graph else None, path=s.graph,
                        format="tflite" if s.graph and s.graph.endswith(".tflite") else None),
        runtime=RuntimeInfo(name="benchmark_model", delegate=delegate,
                            threads=_int_param(p, "#threads used for cpu inference", "num threads")),
        protocol=ProtocolInfo(runs=_int_param(p, "min num runs", "num runs"),
                              warmup_runs=_int_param(p, "min warmup runs")),
        latency=lat, memory=_memory(s),
        source={"tool": "benchmark_model", "parser": "benchmark_model", "file": None if file is None else str(file),
                "excerpt": excerpt, "run": session},
        raw_log="\n".join(s.lines))
    if s.running:
        rec.protocol.min_secs = s.running[-1][1]
        if rec.protocol.runs is None and len(s.running) >= 2:
            rec.protocol.runs = s.running[-1][0]
    if s.model_size_reported is not None:
        rec.extra["model_file_size_reported"] = {"value": s.model_size_reported,
                                                 "unit": "as printed by the tool ('MB')"}
    if s.op_summary:
        rec.extra["op_summary"] = s.op_summary
    if getattr(lat, "extra_warmup_n", None) is not None:
        rec.extra["warmup_count"] = lat.extra_warmup_n  # type: ignore[attr-defined]
        del lat.extra_warmup_n  # type: ignore[attr-defined]
    rec.errors.extend(notes)
    rec.errors.extend(f"tool error: {e}" for e in s.errors)
    rec.errors.extend(f"{'' if file is None else f'{file}: '}{why}" for why in s.unreadable)
    for name in ("init_ms", "first_ms", "mean_ms", "std_ms", "min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                 "max_ms", "n"):
        if getattr(lat, name) is None:
            rec.missing.append(f"latency.{name}")
    rec.check_extra("model_file_size_reported.value", BOUNDS["model_bytes"], scale=MIB_TO_MB * MB, file=file)
    for row in rec.extra.get("op_summary", []):
        row["avg_ms"], why = plausible_value(row["avg_ms"], LATENCY_SPREAD)
        row["mem_kb"], why_mem = plausible_value(row["mem_kb"], MEMORY_DELTA, scale=1024)
        for what, reason in (("avg_ms", why), ("mem_kb", why_mem)):
            if reason:
                rec.errors.append(f"{'' if file is None else f'{file}: '}extra.op_summary {row['node_type']} "
                                  f"{what}: {reason}; set to null as implausible")
    return rec.check_plausible(file).flag_missing()


def parse_benchmark_model(text: str, *, file=None) -> list[DeviceRecord]:
    """Parse ``benchmark_model`` output into one record per benchmark run found.

    Parameters
    ----------
    text : str
        The log (stdout, logcat, or a saved file with ``---8<---``-separated excerpts).
    file : path-like, optional
        Where the text came from; kept in ``record.source`` and used in error messages.

    Returns
    -------
    list of DeviceRecord
        One per run. Fields the log does not contain are None and listed in ``missing`` (benchmark_model
        never prints p90/p99, and old builds print no percentiles at all); a record whose mean, median or run
        count is absent has status 'partial'. An excerpt without any benchmark figures gives no record.

    Notes
    -----
    The timed-run statistic line is told from the warm-up line by matching the averages printed in the
    ``Inference timings`` summary; without a summary, the last stat line of a run is the timed one. A log
    that stops after the warm-up stat line yields a partial record with the warm-up figures only.
    """
    records = []
    for i, excerpt in enumerate(split_excerpts(text)):
        for j, session in enumerate(_split_sessions(excerpt)):
            records.append(_record(session, file=file, excerpt=i, session=j))
    return records
