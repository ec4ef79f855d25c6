"""Host runner on the real MediaPipe pose model; Android and iOS runners through stand-in adb / xcodebuild
executables (tests/fixtures/device) that answer like the real tools from recorded outputs."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA, shared_path
from device_runners.android import DeviceRunError, measure_app, parse_devices, run_android
from device_runners.host import RaplReader, run_host, summarize_trials
from device_runners.ios import install_template, run_ios, template_text
from device_runners.model_info import describe_model
from device_runners.record import (DeviceRecord, latency_stats, nearest_rank, read_records, replicability,
                                   write_records)
from ground_truth.kernel import DeviceError, InputError, ModelError, NotAvailableError
from harness.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "device"
FAKE_ADB = str(FIXTURES / "fake_adb.py")
FAKE_XCODEBUILD = str(FIXTURES / "fake_xcodebuild.py")


def _mediapipe_model(name: str) -> Path:
    import mediapipe
    sub = "pose_landmark" if "landmark" in name else "pose_detection"
    return Path(mediapipe.__file__).parent / "modules" / sub / name


LANDMARK = _mediapipe_model("pose_landmark_full.tflite")
DETECTOR = _mediapipe_model("pose_detection.tflite")


# ------------------------------------------------------------------------------------------------- record
def test_latency_stats_nearest_rank_matches_numpy_inverted_cdf():
    rng = np.random.default_rng(1)
    x = rng.gamma(4.0, 3.0, size=137)
    s = latency_stats(x)
    # numpy's 'inverted_cdf' is the nearest-rank definition (Hyndman & Fan 1996, definition 1)
    for q, got in ((5, s.p5_ms), (50, s.p50_ms), (90, s.p90_ms), (95, s.p95_ms), (99, s.p99_ms)):
        assert got == np.percentile(x, q, method="inverted_cdf")
    assert s.std_ms == pytest.approx(np.std(x, ddof=1)) and s.n == 137 and len(s.raw_ms) == 137
    # worked example: 10 values 1..10 -> p50 is the 5th value, p90 the 9th, p99 the 10th
    srt = np.arange(1.0, 11.0)
    assert (nearest_rank(srt, 50), nearest_rank(srt, 90), nearest_rank(srt, 99)) == (5.0, 9.0, 10.0)
    with pytest.raises(InputError):
        latency_stats([])
    with pytest.raises(InputError):
        latency_stats([1.0, np.nan])


def test_replicability_within_tolerance():
    recs = [DeviceRecord(latency=latency_stats([v])) for v in (10.0, 10.3, 10.6)]
    out = replicability(recs)
    assert out["median"] == 10.3 and out["max_rel_dev"] == pytest.approx(0.3 / 10.3) and out["within"]
    recs.append(DeviceRecord(latency=latency_stats([12.0])))
    assert replicability(recs)["within"] is False


def test_records_round_trip_file(tmp_path):
    rec = DeviceRecord(latency=latency_stats([1.0, 2.0, 3.0])).flag_missing()
    path = write_records(tmp_path / "r.json", [rec])
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == 1 and doc["mb_definition"] == "1 MB = 10^6 bytes"
    assert read_records(path) == [rec]
    doc["records"][0]["schema_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="schema_version"):
        read_records(path)


# ---------------------------------------------------------------------------------------------------- host
def test_model_info_of_real_models(tmp_path):
    info = describe_model(LANDMARK)
    assert info.format == "tflite" and info.bytes == LANDMARK.stat().st_size
    assert info.precision == "fp16"  # BlazePose ships float16 weights behind DEQUANTIZE ops
    assert len(info.sha256) == 64
    bad = tmp_path / "notes.tflite"
    bad.write_text("this is not a model at all")
    with pytest.raises(ModelError, match="not a model"):
        describe_model(bad)


def test_host_runner_litert_real_model():
    recs = run_host(LANDMARK, threads=1, runs=6, warmup=1, trials=2)
    assert len(recs) == 2
    for trial, rec in enumerate(recs):
        lat = rec.latency
        assert rec.status == "complete" and rec.protocol.trial == trial
        assert lat.n == 6 and len(lat.raw_ms) == 6 and lat.init_ms > 0 and lat.first_ms > 0
        assert lat.min_ms <= lat.p50_ms <= lat.p90_ms <= lat.max_ms
        assert lat.p50_ms == np.percentile(lat.raw_ms, 50, method="inverted_cdf")
        assert rec.model.sha256 == describe_model(LANDMARK).sha256
        assert rec.runtime.name in ("litert", "tflite_runtime") and rec.runtime.threads == 1
        assert rec.memory.rss_mb > 0 and "rss_mb" in rec.memory.figures
        if not Path("/sys/class/powercap").is_dir():
            assert rec.energy.method == "not measured" and "absent" in rec.energy.reason
    summary = summarize_trials(recs)
    assert summary["n_trials"] == 2 and summary["pooled"]["n"] == 12


def test_host_runner_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="runtime"):
        run_host(LANDMARK, runtime="onnx")
    with pytest.raises(InputError):
        run_host(LANDMARK, runs=0)
    with pytest.raises(FileNotFoundError):
        run_host(tmp_path / "absent.tflite")
    if sys.platform != "darwin":
        with pytest.raises(NotAvailableError, match="macOS"):
            run_host(LANDMARK, runtime="coreml")
    with pytest.raises(InputError, match="frame"):
        run_host(LANDMARK, runtime="mediapipe")


def test_host_runner_op_the_runtime_lacks(tmp_path):
    """A real model whose first op is turned into a custom op no runtime registers."""
    from ai_edge_litert.tools import flatbuffer_utils
    model = flatbuffer_utils.read_model(str(DETECTOR))
    code = model.operatorCodes[model.subgraphs[0].operators[0].opcodeIndex]
    code.builtinCode = code.deprecatedBuiltinCode = 32  # BuiltinOperator.CUSTOM
    code.customCode = "StancebenchMissingOp"
    path = tmp_path / "missing_op.tflite"
    flatbuffer_utils.write_model(model, str(path))
    with pytest.raises(ModelError, match="cannot run this model"):
        run_host(path, runs=1, warmup=0)


def test_rapl_absent_or_unreadable_gives_reason(tmp_path):
    reader = RaplReader.open(tmp_path / "powercap")
    assert reader.domains == [] and "absent" in reader.reason
    dom = tmp_path / "pc" / "intel-rapl:0"
    dom.mkdir(parents=True)
    (dom / "energy_uj").write_text("1000\n")
    (dom / "max_energy_range_uj").write_text("262143328850\n")
    reader = RaplReader.open(tmp_path / "pc")
    assert reader.reason is None
    # counter wrap: 262143328850 - 262143328000 + 2000 µJ = 2850 µJ
    assert reader.delta_joules([262143328000], [2000]) == pytest.approx(2850e-6)


def test_energy_of_one_assessment():
    from device_runners.record import EnergyInfo, assessment_energy
    # host RAPL: J/inference x 1800 inferences; no battery, so no charge
    e = assessment_energy(EnergyInfo(value=0.02, unit="J/inference", method="RAPL"))
    assert e.assessment_j == pytest.approx(36.0) and e.assessment_mah is None and "1800 inferences" in e.assessment_basis
    # with a measured voltage: 36 J / (3.6 C/mAh x 4.0 V) = 2.5 mAh
    e = assessment_energy(EnergyInfo(value=0.02, unit="J/inference"), voltage_v=4.0)
    assert e.assessment_mah == pytest.approx(2.5)
    # nothing measured: nothing scaled
    e = assessment_energy(EnergyInfo(method="not measured", reason="no RAPL"))
    assert e.assessment_mah is None and e.assessment_j is None and e.assessment_basis is None


def test_cli_device_bench_host(tmp_path, capsys):
    out = tmp_path / "host.json"
    rc = main(["device-bench", str(DETECTOR), "--runner", "host", "--runs", "5", "--warmup", "1",
               "--trials", "2", "--json", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert len(doc["records"]) == 2 and doc["replicability"]["n_trials"] == 2
    assert doc["records"][0]["model"]["name"] == "pose_detection.tflite"
    assert "replicability" in capsys.readouterr().out
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"\x00" * 64)
    assert main(["device-bench", str(bad), "--runner", "host", "--json", str(out)]) == 2
    assert "not a model" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- android
@pytest.fixture
def fake_adb(monkeypatch, tmp_path):
    shared_path("device_outputs", "tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt")
    monkeypatch.setenv("FAKE_ADB_STATE", str(tmp_path / "adb_state"))
    monkeypatch.setenv("STANCEBENCH_SHARED_DATA", str(SHARED_DATA))

    def use(scenario):
        monkeypatch.setenv("FAKE_ADB_SCENARIO", scenario)
        return FAKE_ADB
    return use


def test_parse_devices_list():
    devs = parse_devices((FIXTURES / "devices_several.txt").read_text())
    assert [(d.serial, d.state) for d in devs] == [("2B151FDH3006K5", "device"), ("emulator-5554", "device")]
    assert devs[0].details["model"] == "Pixel_7"


def test_android_run_parses_recorded_benchmark(fake_adb, tmp_path):
    binary = tmp_path / "benchmark_model"
    binary.write_bytes(b"\x7fELF stand-in")
    (rec,) = run_android(DETECTOR, adb=fake_adb("ok"), benchmark_binary=binary, threads=4, runs=50)
    # recorded CPU run (device_outputs/tflite_benchmark_model_linux_cpu_gpu_p5_median_p95.txt, line 16)
    assert rec.latency.n == 50 and rec.latency.p50_ms == pytest.approx(105.718)
    assert rec.latency.init_ms == pytest.approx(87.639)
    # device identity from getprop (fixtures/device/getprop.txt), state from dumpsys battery / thermalservice
    assert rec.device.model == "Google Pixel 7" and rec.device.soc == "Google GS201"
    assert rec.device.os == "Android 14 (API 34)" and rec.device.serial == "2B151FDH3006K5"
    assert rec.device.battery_temp_c_start == pytest.approx(28.7) and rec.device.thermal_status_start == "none"
    assert rec.device.charging is False
    # shell UID 2000 estimate from fixtures/device/batterystats_checkin.txt: 9,2000,l,pwi,uid,3.61
    assert rec.energy.value == pytest.approx(3.61) and rec.energy.method == "batterystats estimate"
    # scaled to one 60-s assessment at 30 fps: 3.61 mAh over 50 timed + 1 warm-up inferences -> x 1800 / 51;
    # energy at the voltage dumpsys battery printed (4112 mV): E = Q·V, 1 mAh = 3.6 C
    assert rec.energy.assessment_mah == pytest.approx(3.61 / 51 * 1800)
    assert rec.energy.assessment_j == pytest.approx(3.61 / 51 * 1800 * 3.6 * 4.112)
    assert "51 inferences" in rec.energy.assessment_basis and "4.112 V" in rec.energy.assessment_basis
    assert rec.model.sha256 == describe_model(DETECTOR).sha256
    log = (tmp_path / "adb_state" / "commands.log").read_text()
    assert "-s 2B151FDH3006K5 push" in log and "--num_threads=4" in log and "dumpsys batterystats --reset" in log


def test_android_gpu_delegate_and_charging(fake_adb, tmp_path):
    binary = tmp_path / "benchmark_model"
    binary.write_bytes(b"bin")
    (rec,) = run_android(DETECTOR, adb=fake_adb("charging"), benchmark_binary=binary, delegate="gpu")
    assert rec.runtime.delegate == "gpu" and rec.latency.p50_ms == pytest.approx(115.350)  # line 40
    assert rec.energy.value is None and "charging" in rec.energy.reason


@pytest.mark.parametrize("scenario, message", [
    ("none", "no Android device attached"), ("unauthorized", "unauthorized"),
    ("several", "several Android devices attached")])
def test_android_device_faults(fake_adb, scenario, message, tmp_path):
    with pytest.raises(DeviceError, match=message):
        run_android(DETECTOR, adb=fake_adb(scenario), benchmark_binary=FAKE_ADB)


def test_android_several_devices_with_serial(fake_adb):
    (rec,) = run_android(DETECTOR, adb=fake_adb("several"), serial="emulator-5554", benchmark_binary=FAKE_ADB)
    assert rec.device.serial == "emulator-5554"
    with pytest.raises(DeviceError, match="not attached"):
        run_android(DETECTOR, adb=fake_adb("several"), serial="XYZ", benchmark_binary=FAKE_ADB)


def test_android_missing_binary_and_adb(fake_adb, tmp_path):
    with pytest.raises(InputError, match="benchmark_binary"):
        run_android(DETECTOR, adb=fake_adb("ok"))
    with pytest.raises(DeviceError, match="adb executable not found"):
        run_android(DETECTOR, adb=str(tmp_path / "no-adb"), benchmark_binary=FAKE_ADB)


def test_android_op_missing_on_device(fake_adb):
    with pytest.raises(ModelError, match="Didn't find op for builtin opcode"):
        run_android(DETECTOR, adb=fake_adb("missing_op"), benchmark_binary=FAKE_ADB)


def test_android_device_vanishes_mid_run_keeps_results(fake_adb, tmp_path, capsys):
    with pytest.raises(DeviceRunError, match="disappeared") as info:
        run_android(DETECTOR, adb=fake_adb("vanish"), benchmark_binary=FAKE_ADB, trials=2)
    kept, failed = info.value.records
    assert kept.latency.p50_ms == pytest.approx(105.718) and kept.errors  # measured, then lost
    assert failed.status == "failed" and "disappeared" in failed.errors[0]
    # the CLI writes what was measured, then exits 2
    import shutil
    shutil.rmtree(tmp_path / "adb_state")
    out = tmp_path / "android.json"
    rc = main(["device-bench", str(DETECTOR), "--runner", "android", "--adb", fake_adb("vanish"),
               "--benchmark-binary", FAKE_ADB, "--trials", "2", "--json", str(out)])
    assert rc == 2 and "disappeared" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert [r["status"] for r in doc["records"]] == ["complete", "failed"] and doc["errors"]


def test_android_app_level_snapshot(fake_adb):
    rec = measure_app("org.stancebench.app", adb=fake_adb("ok"), duration_s=0.0)
    # fixtures/device/meminfo_app.txt: TOTAL PSS 88210 KiB; batterystats_checkin.txt: uid 10234 -> 5.02 mAh
    assert rec.memory.pss_mb == pytest.approx(88210 * 1024 / 1e6)
    assert rec.energy.value == pytest.approx(5.02) and "10234" in rec.energy.scope
    # a 0-s snapshot cannot be scaled to an assessment: said, not divided by zero
    assert rec.energy.assessment_mah is None and "cannot scale" in rec.energy.assessment_basis
    rec = measure_app("org.stancebench.app", adb=fake_adb("ok"), duration_s=0.05)
    assert rec.energy.assessment_mah == pytest.approx(5.02 * 60 / 0.05)
    with pytest.raises(InputError, match="not installed"):
        measure_app("com.absent.app", adb=fake_adb("ok"), duration_s=0.0)


def test_android_app_level_faults_keep_what_was_measured(fake_adb):
    # an estimate batterystats cannot give: PSS still read, energy flagged with the reason
    rec = measure_app("org.stancebench.app", adb=fake_adb("no_estimate"), duration_s=0.0)
    assert rec.memory.pss_mb == pytest.approx(88210 * 1024 / 1e6) and rec.energy.value is None
    assert "energy.value" in rec.missing and "batterystats printed no estimate" in rec.energy.reason
    # the phone is unplugged during the wait: DeviceRunError with the record (device identity, start state)
    with pytest.raises(DeviceRunError) as info:
        measure_app("org.stancebench.app", adb=fake_adb("vanish_app"), duration_s=0.0)
    (rec,) = info.value.records
    assert rec.status == "failed" and rec.device.model == "Google Pixel 7" and rec.device.battery_temp_c_start
    assert "not found" in rec.errors[-1] and "device lost" in rec.energy.reason


# ----------------------------------------------------------------------------------------------------- iOS
def test_swift_template_installs(tmp_path):
    text = template_text()
    for metric in ("XCTClockMetric()", "XCTCPUMetric()", "XCTMemoryMetric()"):
        assert metric in text
    out = install_template(tmp_path, "PoseLandmark.mlpackage", iterations=30, compute_units="cpuAndNeuralEngine")
    body = out.read_text()
    assert 'modelName = "PoseLandmark"' in body and '?? "") ?? 30' in body and "{{" not in body
    assert "default: return .cpuAndNeuralEngine" in body and 'environment["STANCEBENCH_ITERATIONS"]' in body
    with pytest.raises(InputError):
        install_template(tmp_path, "bad name!.mlmodel")


def test_ios_runner_with_stand_in_xcodebuild(monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_XCODEBUILD_SCENARIO", "ok")
    (rec,) = run_ios(DETECTOR, scheme="PoseApp", destination="platform=iOS,name=Test iPhone,OS=17.5",
                     project=tmp_path / "PoseApp.xcodeproj", xcodebuild=FAKE_XCODEBUILD)
    # fixtures/device/xcodebuild_template_run.log: 10 prediction values, load values mean 0.0410906 s
    assert rec.latency.n == 10 and rec.latency.max_ms == pytest.approx(10.112)
    assert rec.latency.p50_ms == pytest.approx(8.804)
    assert rec.latency.init_ms == pytest.approx(np.mean([47.110, 40.212, 39.876, 38.954, 39.301]))
    assert rec.memory.peak_mb == pytest.approx(64.88064)
    assert rec.runtime.version == "Xcode 15.4" and rec.device.os == "iOS 17.5"
    assert rec.energy.value is None and "XCTest has no energy metric" in rec.energy.reason


def test_ios_runner_replays_real_log_and_reports_faults(monkeypatch, tmp_path):
    shared_path("device_outputs", "ios_xctest_measure_metrics_swift_test_log.txt")
    monkeypatch.setenv("STANCEBENCH_SHARED_DATA", str(SHARED_DATA))
    monkeypatch.setenv("FAKE_XCODEBUILD_SCENARIO", "replay")
    (rec,) = run_ios(DETECTOR, scheme="S", destination="platform=iOS,name=X", project=tmp_path / "P.xcodeproj",
                     xcodebuild=FAKE_XCODEBUILD)
    assert rec.latency.n == 10 and rec.latency.max_ms == pytest.approx(29.607)  # real log line 5
    monkeypatch.setenv("FAKE_XCODEBUILD_SCENARIO", "nodestination")
    with pytest.raises(DeviceError, match="Unable to find a destination"):
        run_ios(DETECTOR, scheme="S", destination="platform=iOS,name=Nope", project=tmp_path / "P.xcodeproj",
                xcodebuild=FAKE_XCODEBUILD)
    with pytest.raises(DeviceError, match="xcodebuild not found"):
        run_ios(DETECTOR, scheme="S", destination="platform=iOS,name=X", project=tmp_path / "P.xcodeproj",
                xcodebuild=str(tmp_path / "none"))


def test_cli_device_bench_ios(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKE_XCODEBUILD_SCENARIO", "ok")
    out = tmp_path / "ios.json"
    rc = main(["device-bench", str(DETECTOR), "--runner", "ios", "--xcodebuild", FAKE_XCODEBUILD,
               "--ios-project", str(tmp_path / "A.xcodeproj"), "--scheme", "A",
               "--destination", "platform=iOS,name=Test iPhone", "--json", str(out)])
    assert rc == 0 and json.loads(out.read_text())["records"][0]["latency"]["n"] == 10
    assert main(["device-bench", str(DETECTOR), "--runner", "ios", "--json", str(out)]) == 2
    assert "--scheme" in capsys.readouterr().err
    # --runs and --delegate reach the template's test process; the record says what was measured
    env_out = tmp_path / "env.txt"
    monkeypatch.setenv("FAKE_XCODEBUILD_ENV_OUT", str(env_out))
    rc = main(["device-bench", str(DETECTOR), "--runner", "ios", "--xcodebuild", FAKE_XCODEBUILD,
               "--ios-project", str(tmp_path / "A.xcodeproj"), "--scheme", "A", "--runs", "25",
               "--delegate", "cpuOnly", "--destination", "platform=iOS,name=Test iPhone", "--json", str(out)])
    assert rc == 0
    assert set(env_out.read_text().splitlines()) >= {"STANCEBENCH_ITERATIONS=25", "STANCEBENCH_COMPUTE_UNITS=cpuOnly"}
    rec = json.loads(out.read_text())["records"][0]
    assert rec["protocol"]["runs"] == rec["latency"]["n"] == 10 and rec["runtime"]["delegate"] == "cpuOnly"
    assert any("asked for 25" in e for e in rec["errors"])
    # options the ios runner cannot honour are refused, not dropped
    capsys.readouterr()
    assert main(["device-bench", str(DETECTOR), "--runner", "ios", "--xcodebuild", FAKE_XCODEBUILD,
                 "--ios-project", str(tmp_path / "A.xcodeproj"), "--scheme", "A", "--threads", "2",
                 "--destination", "platform=iOS,name=Test iPhone"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_cli_device_bench_host_refuses_a_delegate_it_cannot_run(capsys):
    assert main(["device-bench", str(LANDMARK), "--runner", "host", "--delegate", "gpu"]) == 2
    err = capsys.readouterr().err
    assert "--delegate" in err and "android" in err


@pytest.mark.slow
def test_host_runner_mediapipe_graph_on_real_frame():
    from device_runners.variants import decode_frames
    frame = decode_frames(shared_path("video", "pose2sim_balancing", "cam01.mp4"), n=1)[0]
    (rec,) = run_host(LANDMARK, runtime="mediapipe", frame=frame, runs=3, warmup=1)
    assert rec.runtime.name == "mediapipe" and rec.model.format == "mediapipe-graph"
    assert rec.latency.n == 3 and rec.latency.p50_ms > 0 and rec.model.sha256 == describe_model(LANDMARK).sha256
    with pytest.raises(InputError, match="no person"):
        run_host(LANDMARK, runtime="mediapipe", frame=np.zeros((480, 640, 3), np.uint8), runs=1, warmup=0)
    with pytest.raises(InputError, match="bundled"):
        run_host(DETECTOR, runtime="mediapipe", frame=frame, runs=1)


def test_records_frame_is_tidy():
    from device_runners.record import records_frame
    recs = [DeviceRecord(latency=latency_stats([1.0, 2.0, 3.0])), DeviceRecord().flag_missing()]
    df = records_frame(recs)
    assert len(df) == 2 and "latency_raw_ms" not in df and df.loc[0, "latency_p50_ms"] == 2.0
    assert df.loc[1, "status"] == "partial" and "latency.p50_ms" in df.loc[1, "missing"]


def test_android_device_vanishes_during_benchmark(fake_adb):
    with pytest.raises(DeviceRunError, match="disappeared during benchmark_model") as info:
        run_android(DETECTOR, adb=fake_adb("vanish_during"), benchmark_binary=FAKE_ADB)
    (failed,) = info.value.records
    # the warm-up line printed before the cut (recorded log line 13: avg=106065) is kept, nothing more
    assert failed.status == "failed" and failed.latency.warmup_mean_ms == pytest.approx(106.065)
    assert failed.latency.mean_ms is None


def test_parse_devices_no_permissions():
    from device_runners.android import Adb, AttachedDevice
    (dev,) = parse_devices("List of devices attached\n????????????\tno permissions (user in plugdev group; "
                           "are your udev rules wrong?); see [http://developer.android.com/tools/device.html]\n")
    with pytest.raises(DeviceError, match="no permissions"):
        Adb._check_state(dev)
    assert isinstance(dev, AttachedDevice)


def test_host_runner_min_secs_and_affinity():
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    (rec,) = run_host(DETECTOR, runs=2, warmup=0, min_secs=0.3, cpu_affinity=cpus[:1] if cpus else None)
    assert rec.latency.n >= 2 and sum(rec.latency.raw_ms) >= 0.3 * 1e3 * 0.9  # ran for at least ~min_secs
    if cpus:
        assert rec.device.cpu_affinity == cpus[:1] and sorted(os.sched_getaffinity(0)) == cpus  # restored
        with pytest.raises(InputError, match="cpu_affinity"):
            run_host(DETECTOR, runs=1, cpu_affinity=[10_000])
