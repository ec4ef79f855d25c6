"""Hostile device logs (issue 15, findings 2 and 7): mutated copies of the real logs in
``../shared/data/device_outputs`` never give a traceback, and ``device-parse`` exits 0 only with plausible
figures, or with the implausible ones set to null and named.

The plausibility rules below are written out here, independently of ``ground_truth.kernel.bounds`` and
``device_runners.record``, so the test checks the parsers rather than repeating them.
"""
from __future__ import annotations

import json
import re

import pytest
from conftest import shared_path

from device_runners.record import read_records
from harness.cli import main

LOGS = "device_outputs"
#: a number as the logs print it (not inside a word: no timestamps' or names' digits glued to letters)
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
REPLACEMENTS = ("-1", "1e308", "nan", "abc")
POSITIONS_PER_FILE = 4

HOUR_MS = 3_600_000.0
MAX_BYTES = 2.0 ** 44  # 16 TiB
LATENCY = ("init_ms", "first_ms", "warmup_mean_ms", "mean_ms", "min_ms", "p5_ms", "p50_ms", "p90_ms", "p95_ms",
           "p99_ms", "max_ms")
FOOTPRINTS = ("peak_mb", "rss_mb", "pss_mb", "swap_pss_mb")
DELTAS = ("tool_delta_init_mb", "tool_delta_overall_mb", "rss_delta_mb", "physical_delta_mb")


def _implausible(rec: dict) -> list[str]:
    """Figures of a record (as JSON) that no phone or computer produces."""
    bad = []
    lat, mem = rec["latency"], rec["memory"]
    for name in LATENCY:
        v = lat[name]
        if v is not None and not (0 < v <= HOUR_MS):
            bad.append(f"latency.{name}={v}")
    if lat["std_ms"] is not None and not 0 <= lat["std_ms"] <= HOUR_MS:
        bad.append(f"latency.std_ms={lat['std_ms']}")
    if lat["n"] is not None and not (isinstance(lat["n"], int) and 0 <= lat["n"] <= 1e9):
        bad.append(f"latency.n={lat['n']}")
    bad += [f"latency.raw_ms={v}" for v in lat.get("raw_ms") or [] if v is not None and not 0 < v <= HOUR_MS]
    for name in FOOTPRINTS:
        if mem[name] is not None and not 0 <= mem[name] * 1e6 <= MAX_BYTES:
            bad.append(f"memory.{name}={mem[name]}")
    for name in DELTAS:
        if mem[name] is not None and not abs(mem[name]) * 1e6 <= MAX_BYTES:
            bad.append(f"memory.{name}={mem[name]}")
    energy = rec["energy"]["value"]
    if energy is not None and not 0 <= energy <= 1e6:
        bad.append(f"energy.value={energy}")
    for metric, entry in (rec["extra"].get("xctest") or {}).items():
        for v in entry["values"]:
            if v is None:
                continue
            if entry.get("latency_source") and not 0 < v * (1e3 if entry["unit"] != "ms" else 1) <= HOUR_MS:
                bad.append(f"xctest {metric}={v}")
            elif metric.lower().startswith("memory") and not abs(v) * 1e3 <= MAX_BYTES:
                bad.append(f"xctest {metric}={v}")
            elif not -MAX_BYTES <= v <= 1e15:
                bad.append(f"xctest {metric}={v}")
    for key, entry in (rec["extra"].get("metrickit") or {}).items():
        if entry["value"] is not None and not 0 <= entry["value"] <= MAX_BYTES:
            bad.append(f"metrickit {key}={entry['value']}")
    return bad


def _figures(rec: dict) -> dict[str, float]:
    """The latency/memory/energy figures a record holds (non-null), by dotted name."""
    out = {f"latency.{k}": rec["latency"][k] for k in LATENCY + ("std_ms", "n")}
    out.update({f"memory.{k}": rec["memory"][k] for k in FOOTPRINTS + DELTAS})
    out["energy.value"] = rec["energy"]["value"]
    return {k: v for k, v in out.items() if v is not None}


def _parse(capsys, path) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    rc = main(["device-parse", str(path), "--kind", "auto", "--json"])
    cap = capsys.readouterr()
    return rc, (json.loads(cap.out) if rc == 0 else None), cap.err


def _check(capsys, path, original: dict, what: str) -> int:
    """Run device-parse on ``path``: no traceback (STANCEBENCH_STRICT turns one into a test failure), exit 0 or
    2 with a one-line message, and at exit 0 every figure plausible, every figure the intact log gave that is
    gone now accounted for: listed in ``missing``, named in ``errors``, or a note says a value of the log is
    not a number."""
    rc, doc, err = _parse(capsys, path)
    assert rc in (0, 2), (what, rc, err)
    if rc == 2:
        assert err.startswith("stancebench device-parse: error:") and err.count("\n") == 1, (what, err)
        return rc
    for i, rec in enumerate(doc["records"]):
        assert not _implausible(rec), (what, i, _implausible(rec))
        if len(doc["records"]) != len(original["records"]):
            continue
        lost = set(_figures(original["records"][i])) - set(_figures(rec))
        for name in lost:
            assert (name in rec["missing"] or any(name in e or "not a number" in e for e in rec["errors"])), \
                (what, i, name, rec["errors"])
    return rc


def _logs(shared_data):
    files = sorted(p for p in (shared_data / LOGS).iterdir() if p.name != "README.md")
    assert len(files) >= 17
    return files


def test_mutated_logs_exit_cleanly_with_plausible_or_flagged_figures(shared_data, tmp_path, capsys):
    """Each log: a few numbers (evenly spread over the lines the tools printed, not the '#' comments) replaced
    in turn by -1, 1e308, nan and abc."""
    counts = {0: 0, 2: 0}
    for log in _logs(shared_data):
        text = log.read_text(encoding="utf-8")
        rc, original, err = _parse(capsys, log)
        assert rc == 0, err
        spans = [m.span() for m in NUMBER.finditer(text)
                 if not text[text.rfind("\n", 0, m.start()) + 1:m.start()].lstrip().startswith("#")]
        picks = sorted({spans[round(k * (len(spans) - 1) / (POSITIONS_PER_FILE - 1))]
                        for k in range(POSITIONS_PER_FILE)}) if spans else []
        for start, end in picks:
            for new in REPLACEMENTS:
                mutated = tmp_path / log.name
                mutated.write_text(text[:start] + new + text[end:], encoding="utf-8")
                counts[_check(capsys, mutated, original, f"{log.name}@{start} {text[start:end]!r}->{new}")] += 1
    assert counts[0] > 0 and sum(counts.values()) >= 17 * len(REPLACEMENTS)


@pytest.mark.parametrize("name, old, new, field", [
    # the figures the fuzzing of issue 15 found kept: a negative latency, 1e308 latencies and memory
    ("tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt", "min=105416", "min=-1", "latency.min_ms"),
    ("tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt", "avg=105784", "avg=1e308", "latency.mean_ms"),
    ("tflite_benchmark_model_memory_status_linux.txt", "init=2.43359", "init=1e308", "memory.tool_delta_init_mb"),
    ("android_dumpsys_meminfo_pkg_android10plus.txt", "TOTAL PSS:    39321", "TOTAL PSS:    99999999999999999999",
     "memory.pss_mb"),
    ("litert_python_benchmark_litert_model_pose_landmark_full.json", '"avg_ms": ', '"avg_ms": -', "latency.mean_ms"),
    ("android_batterystats_estimated_power_legacy_android7_11.txt", "Uid u0a90: 15.8", "Uid u0a90: 1e308",
     "energy.value"),
])
def test_implausible_figures_become_null_and_are_named(shared_data, tmp_path, capsys, name, old, new, field):
    text = (shared_data / LOGS / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    rc, doc, err = _parse(capsys, path)
    assert rc == 0, err
    flagged = [rec for rec in doc["records"] if any(field in e and "implausible" in e for e in rec["errors"])]
    assert flagged, [rec["errors"] for rec in doc["records"]]
    section, attr = field.split(".")
    assert all(rec[section][attr] is None and str(path) in " ".join(rec["errors"]) for rec in flagged)
    for rec in doc["records"]:
        assert not _implausible(rec)


@pytest.mark.parametrize("name, old, new", [
    # integers that were int()-ed as printed: a traceback before
    ("android_batterystats_checkin_pwi.txt", "9,1000,l,pwi,uid,1", "9,nan,l,pwi,uid,1"),
    ("mlperf_mobile_extended_result_ios_ipadpro_A12Z.json", '"value": "4"', '"value": "nan"'),
    ("litert_python_benchmark_litert_model_pose_landmark_full_stdout.txt", "Num threads:     1",
     "Num threads:     nan"),
    ("tflite_benchmark_model_android_logcat_sci_notation.txt", "Min num runs: [10]", "Min num runs: [inf]"),
])
def test_nan_integers_are_missing_not_a_traceback(shared_data, tmp_path, capsys, name, old, new):
    text = (shared_data / LOGS / name).read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    rc, doc, err = _parse(capsys, path)
    assert rc == 0, err
    for rec in doc["records"]:
        assert not _implausible(rec)


def test_records_read_back_are_checked(shared_data, tmp_path, capsys):
    # a device.json edited by hand (or corrupted) cannot bring a negative latency or a text count in
    log = shared_path(LOGS, "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt")
    out = tmp_path / "r.json"
    assert main(["device-parse", str(log), "--kind", "benchmark_model", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    doc["records"][0]["latency"]["p50_ms"] = -3.0
    doc["records"][0]["latency"]["n"] = "fifty"
    doc["records"][1]["memory"]["peak_mb"] = 1e300
    out.write_text(json.dumps(doc))
    first, second = read_records(out)
    assert first.latency.p50_ms is None and first.latency.n is None and first.status == "partial"
    assert any("latency.p50_ms" in e and str(out) in e for e in first.errors)
    assert second.memory.peak_mb is None and "peak_mb" not in second.memory.figures
    # the intact figures are untouched
    assert first.latency.mean_ms == pytest.approx(105.784) and second.latency.p50_ms == pytest.approx(115.35)


def test_unreadable_inputs_are_clear_errors(tmp_path, capsys):
    rc, _, err = _parse(capsys, tmp_path)
    assert rc == 2 and "is a directory" in err
    log = shared_path(LOGS, "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt").read_bytes()
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(log.replace(b"INFO:", b"INFO\xe9:", 1))
    rc, _, err = _parse(capsys, bad)
    assert rc == 2 and "not utf-8" in err
    # a log whose only figures are all implausible: nothing usable remains
    path = tmp_path / "mem.txt"
    path.write_text("** MEMINFO in pid 1 [a.b] **\nTOTAL PSS: 99999999999999999999 TOTAL RSS: 99999999999999999999\n")
    rc, _, err = _parse(capsys, path)
    assert rc == 2 and "no plausible figure" in err and "memory.rss_mb" in err


@pytest.mark.parametrize("option, value", [("--runs", "0"), ("--warmup", "-1"), ("--min-secs", "nan"),
                                           ("--cooldown", "-5"), ("--trials", "0")])
def test_device_bench_refuses_impossible_options(tmp_path, capsys, option, value):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"\x00" * 64)
    capsys.readouterr()
    assert main(["device-bench", str(model), "--runner", "host", option, value]) == 2
    err = capsys.readouterr().err
    assert option in err and err.count("\n") == 1


def test_device_bench_refuses_a_directory_as_model(tmp_path, capsys):
    capsys.readouterr()
    assert main(["device-bench", str(tmp_path), "--runner", "host"]) == 2
    assert "is a directory" in capsys.readouterr().err
