"""Every real device log in ../shared/data/device_outputs parses to the values printed in it.

Each expected number below is read by eye from the cited file and line (µs -> ms by /1000; benchmark_model's
"MB" are MiB -> x 1.048576 to MB of 10^6 bytes; dumpsys meminfo KiB -> x 1.024e-3 MB).
"""
from __future__ import annotations

import json

import pytest

from conftest import shared_path
from device_runners.parsers import (KINDS, parse_batterystats, parse_benchmark_model, parse_litert_benchmark,
                                    parse_meminfo, parse_metrickit, parse_mlperf, parse_xctest, split_excerpts)
from device_runners.parsers.batterystats import uid_number
from device_runners.parsers.metrickit import parse_measurement
from device_runners.record import MIB_TO_MB, DeviceRecord
from ground_truth.kernel import ReaderError
from harness.cli import main

approx = pytest.approx


def _read(name):
    return shared_path("device_outputs", name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------- benchmark_model
def test_logcat_prefix_and_scientific_notation():
    recs = parse_benchmark_model(_read("tflite_benchmark_model_android_logcat_sci_notation.txt"))
    assert len(recs) == 1
    r = recs[0]
    lat = r.latency
    # line 20: count=10 first=2653894 curr=2709263 min=2640862 max=3025403 avg=2.71985e+06 std=105101
    #          p5=2640862 median=2709263 p95=3025403
    assert lat.n == 10
    assert lat.mean_ms == approx(2719.85)
    assert lat.std_ms == approx(105.101)
    assert (lat.min_ms, lat.max_ms) == (approx(2640.862), approx(3025.403))
    assert (lat.p5_ms, lat.p50_ms, lat.p95_ms) == (approx(2640.862), approx(2709.263), approx(3025.403))
    # line 21: Init: 458883, First inference: 2732148, Warmup (avg): 2.73215e+06
    assert lat.init_ms == approx(458.883) and lat.first_ms == approx(2732.148)
    assert lat.warmup_mean_ms == approx(2732.15)
    assert lat.p90_ms is None and lat.p99_ms is None  # benchmark_model never prints them
    assert "latency.p99_ms" in r.missing and r.status == "complete"
    # line 23: init=286.73 overall=337 (MiB)
    assert r.memory.tool_delta_init_mb == approx(286.73 * MIB_TO_MB)
    assert r.memory.tool_delta_overall_mb == approx(337 * MIB_TO_MB)
    # lines 5, 6, 13: 4 threads, the graph, XNNPACK
    assert r.runtime.threads == 4 and r.runtime.delegate == "xnnpack"
    assert r.model.name == "yolo26l_fp16.tflite"
    assert r.protocol.runs == 10  # line 4: Min num runs: [10]
    assert r.extra["model_file_size_reported"]["value"] == approx(49.9313)  # line 15


def test_linux_cpu_then_gpu_runs_split():
    recs = parse_benchmark_model(_read("tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt"))
    assert len(recs) == 2
    cpu, gpu = recs
    # line 16: count=50 ... avg=105784 std=260 p5=105485 median=105718 p95=106281; line 18 Init: 87639
    assert cpu.latency.n == 50 and cpu.latency.mean_ms == approx(105.784)
    assert cpu.latency.p50_ms == approx(105.718) and cpu.latency.p5_ms == approx(105.485)
    assert cpu.latency.init_ms == approx(87.639) and cpu.latency.first_ms == approx(106.436)
    assert cpu.runtime.delegate == "xnnpack"
    # line 40: GPU count=50 avg=115246 median=115350; line 42 Init: 1361236; line 44 init=132.816
    assert gpu.runtime.delegate == "gpu"
    assert gpu.latency.mean_ms == approx(115.246) and gpu.latency.p50_ms == approx(115.350)
    assert gpu.latency.init_ms == approx(1361.236)
    assert gpu.memory.tool_delta_init_mb == approx(132.816 * MIB_TO_MB)


def test_memory_status_excerpts_give_partial_records():
    recs = parse_benchmark_model(_read("tflite_benchmark_model_memory_status_linux.txt"))
    assert len(recs) == 2
    a, b = recs
    # lines 3, 4, 6: init=2.43359 overall=8.67578, peak 13.1797, VmRSS 13 MB
    assert a.memory.tool_delta_init_mb == approx(2.43359 * MIB_TO_MB)
    assert a.memory.tool_delta_overall_mb == approx(8.67578 * MIB_TO_MB)
    assert a.memory.peak_mb == approx(13.1797 * MIB_TO_MB) and a.memory.rss_mb == approx(13 * MIB_TO_MB)
    # line 11 is truncated to "FO: Memory footprint ..." and still parses: overall=20.543; line 12 peak 25.0508
    assert b.memory.tool_delta_overall_mb == approx(20.543 * MIB_TO_MB)
    assert b.memory.peak_mb == approx(25.0508 * MIB_TO_MB)
    assert b.extra["model_file_size_reported"]["value"] == approx(0.007588)  # line 10
    for r in recs:  # no latency in these excerpts: partial, nothing invented
        assert r.status == "partial" and r.latency.mean_ms is None and "latency.mean_ms" in r.missing


def test_misc_variants():
    recs = parse_benchmark_model(_read("tflite_benchmark_model_misc_variants.txt"))
    assert len(recs) == 5
    a, b, c, d, e = recs
    # Variant A line 5: count=520 ... avg=1885.74 std=870 (no percentiles); line 2 warm-up count=1 curr=637079
    assert a.latency.n == 520 and a.latency.mean_ms == approx(1.88574) and a.latency.max_ms == approx(9.925)
    assert a.latency.first_ms == approx(637.079) and a.latency.init_ms == approx(66.002)
    assert a.latency.p50_ms is None and a.status == "partial"
    # Variant B line 15: avg=971535; line 17 warm-up avg in scientific notation 1.04176e+06
    assert b.latency.mean_ms == approx(971.535) and b.latency.warmup_mean_ms == approx(1041.76)
    assert b.memory.tool_delta_overall_mb == approx(109.848 * MIB_TO_MB)  # line 19
    # Variant C (no prefix) line 25: avg=2.95034e+06 std=109798; line 29 overall=46.0859
    assert c.latency.mean_ms == approx(2950.34) and c.latency.std_ms == approx(109.798)
    assert c.memory.tool_delta_overall_mb == approx(46.0859 * MIB_TO_MB)
    # Variant D line 36: Android app summary only: Init 1007529, First 4098, Inference (avg) 1687.92
    assert d.latency.init_ms == approx(1007.529) and d.latency.first_ms == approx(4.098)
    assert d.latency.mean_ms == approx(1.68792) and d.latency.n is None and d.status == "partial"
    # Variant E lines 39, 44: old "Timings (microseconds): count=50 ... avg=79732" and
    # "Average inference timings in us: Warmup: 83235, Init: 38467, Inference: 79760.9"
    assert e.latency.n == 50 and e.latency.mean_ms == approx(79.732)
    assert e.latency.init_ms == approx(38.467) and e.latency.warmup_mean_ms == approx(83.235)


def test_op_profiling_memory_counter_is_not_a_latency():
    recs = parse_benchmark_model(_read("tflite_benchmark_model_op_profiling_excerpt.txt"))
    assert len(recs) == 1
    # line 17: Timings (microseconds): count=50 ... avg=79732 std=1929; line 18 "Memory (bytes): count=0" ignored
    assert recs[0].latency.n == 50 and recs[0].latency.mean_ms == approx(79.732)
    assert recs[0].latency.min_ms == approx(77.385) and recs[0].latency.max_ms == approx(88.213)


def test_chromeos_peak_memory_and_verbose_prefix():
    cpu, gpu = parse_benchmark_model(_read("tflite_benchmark_model_peak_memory_chromeos.txt"))
    # lines 8-11: warm-up count=9 avg=58984.7, timed count=1061 avg=56265.8, peak 93.2383
    assert cpu.latency.n == 1061 and cpu.latency.mean_ms == approx(56.2658)
    assert cpu.latency.warmup_mean_ms == approx(58.9847) and cpu.latency.first_ms == approx(81.913)
    assert cpu.memory.peak_mb == approx(93.2383 * MIB_TO_MB) and cpu.runtime.delegate == "xnnpack"
    # lines 20-22: count=1694 avg=35134.9, peak 74.6641, GPU delegate
    assert gpu.latency.n == 1694 and gpu.latency.mean_ms == approx(35.1349)
    assert gpu.memory.peak_mb == approx(74.6641 * MIB_TO_MB) and gpu.runtime.delegate == "gpu"


def test_delegate_performance_report_json():
    recs = parse_benchmark_model(_read("tflite_delegate_performance_app_report_json_excerpt.txt"))
    # line 4 and report.json line 11: init 1007529, warmup 1686.59, inference 1687.92; the accuracy excerpt
    # (lines 15-16) holds no timing and gives no record
    assert len(recs) == 1
    assert recs[0].latency.init_ms == approx(1007.529) and recs[0].latency.mean_ms == approx(1.68792)
    assert recs[0].latency.warmup_mean_ms == approx(1.68659)


def test_all_same_and_truncated_logs():
    # synthetic lines in the exact form of benchmark_model's Stat::OutputToStream when every run is equal
    text = ("INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds\n"
            "INFO: count=3 curr=1500 (all same)\n"
            "INFO: Running benchmark for at least 50 iterations and at least 1 seconds\n"
            "INFO: count=120 curr=1200 (all same)\n")
    (rec,) = parse_benchmark_model(text)
    assert rec.latency.n == 120 and rec.latency.p50_ms == 1.2 and rec.latency.std_ms == 0.0
    assert rec.latency.p99_ms == 1.2 and rec.latency.warmup_mean_ms == 1.5
    # a log cut after the warm-up: partial record, warm-up figures only, nothing invented
    cut = "".join(_read("tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt").splitlines(True)[2:14])
    (rec,) = parse_benchmark_model(cut)
    assert rec.status == "partial" and rec.latency.mean_ms is None
    assert rec.latency.warmup_mean_ms == approx(106.065) and rec.errors


# ------------------------------------------------------------------------------------------------ batterystats
def test_batterystats_legacy():
    a, b = parse_batterystats(_read("android_batterystats_estimated_power_legacy_android7_11.txt"))
    # Source A line 13: Capacity: 6700, Computed drain: 298, actual drain: 335-402; line 16 Uid u0a90: 15.8
    assert a.format == "legacy-7-11" and a.capacity_mah == 6700 and a.actual_drain_mah == (335, 402)
    assert a.uids[10090]["total_mah"] == 15.8 and a.uids[1000]["components"]["sensor"] == approx(0.0868)
    assert a.items["Screen"] == 244 and a.on_battery is False
    # Source B line 26: Uid 0: 83.1 ( cpu=82.8 radio=0.314 wifi=0.00000209 )
    assert b.uids[0]["components"]["wifi"] == approx(2.09e-6) and b.uids[10192]["total_mah"] == 53.8
    assert b.items["Wifi"] == 12.3 and len(b.uids) == 11


def test_batterystats_android12():
    (bs,) = parse_batterystats(_read("android_batterystats_estimated_power_android12plus.txt"))
    # line 5: Capacity: 4174, Computed drain: 2671, actual drain: 2463-2671; line 11 mobile_radio: 6386 apps: 2584
    assert bs.format == "android12+" and bs.capacity_mah == 4174 and bs.actual_drain_mah == (2463, 2671)
    assert bs.items["global.mobile_radio"] == 6386 and bs.uids[10195]["total_mah"] == 10.5  # line 13


def test_batterystats_checkin():
    a, b = parse_batterystats(_read("android_batterystats_checkin_pwi.txt"))
    # lines 3-7: uid 1000 -> test_package1 1 mAh, uid 1001 -> 2 mAh, pws 1728,2000,190,207
    assert a.uids[1000]["total_mah"] == 1 and a.uids[1000]["package"] == "test_package1"
    assert a.capacity_mah == 1728 and a.computed_drain_mah == 2000 and a.actual_drain_mah == (190, 207)
    # line 10: 9,11458,l,pwi,uid,0.0820,0,0.134,0.0342
    assert b.uids[11458]["total_mah"] == approx(0.082) and b.uids[11458]["components"]["screen"] == approx(0.134)


def test_uid_names():
    assert uid_number("u0a90") == 10090 and uid_number("u10a5") == 1010005 and uid_number("2000") == 2000


# ------------------------------------------------------------------------------------------------- meminfo
def test_meminfo_android10():
    (m,) = parse_meminfo(_read("android_dumpsys_meminfo_pkg_android10plus.txt"))
    # line 40: TOTAL PSS: 39321 TOTAL RSS: 124676 TOTAL SWAP PSS: 545; line 7 pid 5369 [org.ming.mgo]
    assert (m.total_pss_kib, m.total_rss_kib, m.total_swap_pss_kib) == (39321, 124676, 545)
    assert (m.pid, m.package, m.layout) == (5369, "org.ming.mgo", "android10+")
    assert m.summary_pss_kib["Native Heap"] == 12464  # line 32
    (rec,) = KINDS["meminfo"](_read("android_dumpsys_meminfo_pkg_android10plus.txt"))
    assert rec.memory.pss_mb == approx(39321 * 1024 / 1e6) and rec.memory.rss_mb == approx(124676 * 1024 / 1e6)


def test_meminfo_android8_legacy_excerpt():
    (m,) = parse_meminfo(_read("android_dumpsys_meminfo_pkg_android8_9_legacy_excerpt.txt"))
    # line 37: TOTAL:   174545       TOTAL SWAP PSS:      303 ; line 33 Graphics: 60288
    assert (m.total_pss_kib, m.total_rss_kib, m.total_swap_pss_kib, m.layout) == (174545, None, 303, "android8-9")
    assert m.summary_pss_kib["Graphics"] == 60288


def test_meminfo_truncated_before_summary():
    lines = _read("android_dumpsys_meminfo_pkg_android10plus.txt").splitlines()[:27]  # up to the TOTAL row
    (rec,) = KINDS["meminfo"]("\n".join(lines))
    assert rec.memory.pss_mb == approx(39321 * 1024 / 1e6) and rec.memory.rss_mb is None and rec.errors


# --------------------------------------------------------------------------------------------------- iOS
def test_xctest_lines():
    recs = parse_xctest(_read("ios_xctest_measure_metrics_swift_test_log.txt"))
    assert len(recs) == 4
    wall, wrapped, old, pulsum = recs
    # line 5: [Time, seconds] average: 0.013, values: [0.029607, 0.014741, ..., 0.009005] (10 values)
    assert wall.latency.n == 10 and wall.latency.max_ms == approx(29.607) and wall.latency.min_ms == approx(8.939)
    assert wall.latency.mean_ms == approx(12.8655)  # mean of the 10 printed values
    assert wall.latency.p50_ms == approx(10.068)  # nearest rank 5 of the sorted 10 values
    assert wall.extra["xctest"]["Time"]["relative_std_percent"] == approx(46.411)
    # lines 8-12: memory physical 0 kB, peak 23315.104 kB, CPU time values, no time metric -> partial
    assert wrapped.memory.peak_mb == approx(23.315104) and wrapped.memory.physical_delta_mb == 0.0
    assert wrapped.extra["xctest"]["CPU Time"]["values"][0] == approx(0.009677)
    assert wrapped.extra["xctest"]["CPU Instructions Retired"]["average"] == approx(288050.640)
    assert wrapped.status == "partial" and wrapped.latency.mean_ms is None
    # line 18 (older Xcode, no polarity): average 1.002 s over 10 values
    assert old.latency.n == 10 and old.latency.mean_ms == approx(1002.0747)
    assert pulsum.memory.peak_mb == approx(55.266424)  # line 22


def test_metrickit_localised_strings():
    a, b = parse_metrickit(_read("ios_metrickit_payload_excerpts.txt"))
    # lines 7, 13, 35: iPhone9,2; "1,106,818千字节" = 1 106 818 kB; "2,717秒" = 2717 s
    assert a.device.model == "iPhone9,2"
    assert a.memory.peak_mb == approx(1106.818)
    assert a.extra["metrickit"]["cumulativeCPUTime"]["value"] == 2717
    assert a.extra["metrickit"]["averageSuspendedMemory.averageValue"]["value"] == approx(228.145)  # line 15
    # lines 48, 58: "50000 ms" and "100 sec"
    assert b.extra["metrickit"]["signpostCumulativeCPUTime"]["value"] == approx(50.0)
    assert b.extra["metrickit"]["cumulativeCPUTime"]["value"] == 100
    assert parse_measurement("0 apl") is None  # unknown unit: skipped, not guessed


def test_mlperf_result():
    ic, nlp = parse_mlperf(_read("mlperf_mobile_extended_result_ios_ipadpro_A12Z.json"))
    # lines 41, 52, 125-127: throughput 615.32/s over 38475 samples, iPad Pro A12Z, iOS 16.2
    assert ic.latency.throughput_per_s == approx(615.3217579004238) and ic.latency.n == 38475
    assert ic.device.soc == "A12Z Bionic" and ic.runtime.delegate == "ane" and ic.runtime.threads == 4
    assert ic.latency.mean_ms is None and ic.status == "partial"
    assert nlp.runtime.name == "TFLite Metal" and nlp.latency.throughput_per_s == approx(5.830463224647649)


def test_litert_python_benchmark_json_and_stdout_agree():
    (j,) = parse_litert_benchmark(_read("litert_python_benchmark_litert_model_pose_landmark_full.json"))
    (s,) = parse_litert_benchmark(_read("litert_python_benchmark_litert_model_pose_landmark_full_stdout.txt"))
    # JSON lines 11-22 / stdout lines 51-60: init 38.1, avg 20.63, median 21.7, p95 22.9, 50 runs
    for r in (j, s):
        assert r.latency.init_ms == approx(38.1) and r.latency.mean_ms == approx(20.63)
        assert r.latency.p50_ms == approx(21.7) and r.latency.p95_ms == approx(22.9) and r.latency.n == 50
        assert r.model.name == "pose_landmark_full.tflite" and r.runtime.threads == 1
    assert j.extra["model_file_size_reported"]["value"] == approx(6.14)


# ------------------------------------------------------------------------------------------------ generic
def test_excerpt_split_and_record_round_trip():
    parts = split_excerpts("# c\nA\n---8<--- x\nB\n# --- title\nC\n")
    assert parts == ["A", "B", "C"]
    (rec,) = parse_benchmark_model(_read("tflite_benchmark_model_android_logcat_sci_notation.txt"))
    back = DeviceRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert back == rec


def test_bad_logs_raise_clear_errors():
    with pytest.raises(ReaderError, match="meminfo"):
        parse_meminfo("nothing here")
    with pytest.raises(ReaderError, match="Estimated power use"):
        parse_batterystats("Statistics since last charge:\n  Discharge: 2671 mAh\n")
    with pytest.raises(ReaderError, match="JSON"):
        parse_mlperf("{not json")


def test_cli_device_parse(tmp_path, capsys):
    path = shared_path("device_outputs", "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt")
    out = tmp_path / "r.json"
    assert main(["device-parse", str(path), "--kind", "benchmark_model", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1 and len(doc["records"]) == 2
    assert doc["records"][1]["latency"]["p50_ms"] == approx(115.35)
    # an excerpt without an estimate is skipped and says so (JSON and stderr), never dropped silently
    a12 = shared_path("device_outputs", "android_batterystats_estimated_power_android12plus.txt")
    capsys.readouterr()
    assert main(["device-parse", str(a12), "--kind", "batterystats", "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["skipped_excerpts"] == [
        {"excerpt": 1, "reason": "no 'Estimated power use' block or per-UID rows (device-wide discharge 2671 mAh, "
                                 "not attributable to an app or a model)"}]
    assert "excerpt 1 skipped" in cap.err
    # the contract's form: --json without a file prints the same document on stdout
    capsys.readouterr()
    assert main(["device-parse", str(path), "--kind", "benchmark_model", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == doc
    bs = shared_path("device_outputs", "android_batterystats_estimated_power_legacy_android7_11.txt")
    assert main(["device-parse", str(bs), "--kind", "batterystats", "--uid", "10090"]) == 0
    assert "energy=15.8mAh" in capsys.readouterr().out
    readme = shared_path("device_outputs", "README.md")
    assert main(["device-parse", str(readme), "--kind", "xctest"]) == 2
    assert "no xctest measurements" in capsys.readouterr().err


def test_batterystats_newer_layouts():
    # Layout of AOSP BatteryUsageStats.dump in Android 15/16: "Capacity: C, Rated: R, Typical: T, Computed
    # drain: D, actual drain: A" and UID lines with fg/bg/cached splits and components on the next lines
    # (numbers typed for this test; the layout follows the AOSP dump code and a published Android 16 sample).
    text = """  Estimated power use (mAh):
    Capacity: 4610, Rated: 4700, Typical: 4820, Computed drain: 100, actual drain: 98
    Global
      screen: 20.1 apps: 20.1 duration: 1h 0m 0s 0ms
    UID u0a1384: 33.9 fg: 0.651 (3m 35s 938ms) bg: 28.0 (14h 13m 34s 204ms) cached: 1.06
        screen=4.19 cpu=29.4 (16m 48s 884ms) audio=0.233 (35s 440ms) sensors=1.25
        (on battery, screen off/doze) cpu=25.3 (12m 37s 258ms)
    UID u999a42: 2.50 bg: 2.00 (20m 0s)
        cpu=1.25 (10m 0s) wakelock=0.50 (5m 0s)
"""
    (bs,) = parse_batterystats(text)
    assert bs.capacity_mah == 4610 and bs.computed_drain_mah == 100 and bs.actual_drain_mah == (98, 98)
    assert bs.items["capacity.rated"] == 4700 and bs.items["capacity.typical"] == 4820
    a = bs.uids[10000 + 1384]
    assert a["total_mah"] == 33.9 and a["states_mah"] == {"fg": 0.651, "bg": 28.0, "cached": 1.06}
    assert a["components"] == {"screen": 4.19, "cpu": 29.4, "audio": 0.233, "sensors": 1.25}  # doze line apart
    assert bs.uids[999 * 100000 + 10042]["components"] == {"cpu": 1.25, "wakelock": 0.5}
    # Android 9-11 "Including smearing" suffix is not mixed into the components
    (old,) = parse_batterystats("Estimated power use (mAh):\n  Capacity: 3000, Computed drain: 50, actual drain: "
                                "40-60\n  Uid u0a12: 5.5 ( cpu=5.0 wake=0.5 ) Including smearing: 6.1 ( screen=0.6 )\n")
    assert old.uids[10012]["components"] == {"cpu": 5.0, "wake": 0.5}
    assert old.uids[10012]["including_smearing_mah"] == 6.1


def test_more_layouts_seen_in_the_wild():
    # benchmark_model that failed: the error is kept, nothing invented (message layout of TFLite's tool)
    (rec,) = parse_benchmark_model("INFO: Loaded model m.tflite\nERROR: Failed to apply GPU delegate.\n"
                                   "ERROR: Benchmarking failed.\n")
    assert rec.status == "partial" and "tool error: Benchmarking failed." in rec.errors
    # Hexagon delegate summary line
    (rec,) = parse_benchmark_model("INFO: Hexagon delegate: 42 nodes delegated out of 42 nodes with 1 partitions.\n"
                                   "INFO: count=50 first=9 curr=9 min=8 max=10 avg=9 std=0 p5=8 median=9 p95=10\n")
    assert rec.runtime.delegate == "hexagon" and rec.latency.p50_ms == 0.009
    # swift-corelibs-xctest on Linux names cases 'Class.test'
    (x,) = parse_xctest("Test Case 'PerfTests.testSort' measured [Time, seconds] average: 0.002, relative "
                        "standard deviation: 5.000%, values: [0.002000, 0.002100, 0.001900], "
                        "performanceMetricID:com.apple.XCTPerformanceMetric_WallClockTime")
    assert x.source["test_case"] == "PerfTests.testSort" and x.latency.p50_ms == approx(2.0)
    # meminfo of a package with two processes gives two dumps
    one = _read("android_dumpsys_meminfo_pkg_android10plus.txt")
    two = one + "\n" + one.replace("pid 5369 [org.ming.mgo]", "pid 5400 [org.ming.mgo:remote]")
    infos = parse_meminfo(two)
    assert [i.pid for i in infos] == [5369, 5400] and infos[1].total_pss_kib == 39321
    # MLPerf result files with a bare throughput number
    doc = json.loads(_read("mlperf_mobile_extended_result_ios_ipadpro_A12Z.json"))
    doc["results"][0]["performance_run"]["throughput"] = 12.5
    assert parse_mlperf(json.dumps(doc))[0].latency.throughput_per_s == 12.5


def test_op_profiling_summary_table():
    (rec,) = parse_benchmark_model(_read("tflite_benchmark_model_op_profiling_excerpt.txt"))
    rows = rec.extra["op_summary"]
    # lines 11-15: CONV_2D 15 nodes 1.406 ms 89.270 %, DEPTHWISE_CONV_2D 13 0.169 ms 10.730 %, ...
    assert [r["node_type"] for r in rows] == ["CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX", "RESHAPE",
                                              "AVERAGE_POOL_2D"]
    assert rows[0]["count"] == 15 and rows[0]["avg_ms"] == 1.406 and rows[0]["avg_percent"] == 89.27
    assert rows[1]["cdf_percent"] == 100.0


def test_two_runs_without_summary_lines_are_split():
    # two back-to-back runs whose summary lines were filtered out (e.g. grep count= / Running), in
    # benchmark_model's line layout; values typed for the test
    text = ("Running benchmark for at least 1 iterations and at least 0.5 seconds\n"
            "count=3 first=12000 curr=11000 min=11000 max=12000 avg=11333.3 std=471\n"
            "Running benchmark for at least 50 iterations and at least 1 seconds\n"
            "count=50 first=10000 curr=10100 min=9900 max=10500 avg=10080 std=120 p5=9950 median=10060 p95=10400\n"
            "Running benchmark for at least 1 iterations and at least 0.5 seconds\n"
            "count=2 first=22000 curr=21000 min=21000 max=22000 avg=21500 std=500\n"
            "Running benchmark for at least 50 iterations and at least 1 seconds\n"
            "count=50 first=20000 curr=20100 min=19900 max=20500 avg=20080 std=120 p5=19950 median=20060 p95=20400\n")
    a, b = parse_benchmark_model(text)
    assert (a.latency.p50_ms, a.latency.first_ms) == (approx(10.06), approx(12.0))
    assert (b.latency.p50_ms, b.latency.first_ms) == (approx(20.06), approx(22.0))


def test_every_saved_log_parses_and_serialises(shared_data, tmp_path):
    """Every file in device_outputs (including ones added later) is recognised and gives JSON-clean records."""
    from device_runners.parsers import guess_kind
    from device_runners.record import read_records
    expected = {"tflite_": "benchmark_model", "android_batterystats": "batterystats", "android_dumpsys_meminfo":
                "meminfo", "ios_xctest": "xctest", "ios_metrickit": "metrickit", "mlperf": "mlperf",
                "litert_": "litert_benchmark"}
    files = sorted(p for p in (shared_data / "device_outputs").iterdir() if p.name != "README.md")
    assert len(files) >= 17
    for path in files:
        kind = guess_kind(path.read_text(encoding="utf-8"))
        want = next((v for k, v in expected.items() if path.name.startswith(k)), None)
        if want is not None:
            assert kind == want, path.name
        out = tmp_path / (path.name + ".json")
        assert main(["device-parse", str(path), "--kind", "auto", "--json", str(out)]) == 0, path.name
        assert read_records(out), path.name
