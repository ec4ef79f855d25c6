"""Android runner over adb: TFLite ``benchmark_model`` runs and app-level battery / memory snapshots.

Everything goes through the ``adb`` executable given by the user (a real adb, or any program that answers
like it); its messages for no device, an unauthorised device, several devices and a device that disappears
are turned into :class:`DeviceError` with what to do. Measurements already taken are kept when a later step
fails: :class:`DeviceRunError` carries them.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ground_truth.kernel import DeviceError, InputError, ModelError, check_option, validate_type

from .model_info import describe_model
from .parsers.batterystats import parse_batterystats, uid_charge
from .parsers.benchmark_model import parse_benchmark_model
from .parsers.meminfo import meminfo_records, parse_meminfo
from .record import DeviceInfo, DeviceRecord, EnergyInfo, ProtocolInfo, RuntimeInfo, assessment_energy

REMOTE_DIR = "/data/local/tmp"
DELEGATES = ("cpu", "xnnpack", "gpu", "nnapi", "hexagon")
_DELEGATE_FLAGS = {"cpu": ["--use_xnnpack=false"], "xnnpack": ["--use_xnnpack=true"], "gpu": ["--use_gpu=true"],
                   "nnapi": ["--use_nnapi=true"], "hexagon": ["--use_hexagon=true"]}
SHELL_UID = 2000  # AID_SHELL: benchmark_model started by 'adb shell' runs as this UID
THERMAL_STATUS = {0: "none", 1: "light", 2: "moderate", 3: "severe", 4: "critical", 5: "emergency",
                  6: "shutdown"}


class DeviceRunError(DeviceError):
    """A device run failed part-way; ``records`` holds what was measured before (and a failed record)."""

    def __init__(self, message: str, records: list[DeviceRecord]):
        super().__init__(message)
        self.records = records


@dataclass
class AttachedDevice:
    serial: str
    state: str  # device | unauthorized | offline | ...
    details: dict = field(default_factory=dict)


def parse_devices(text: str) -> list[AttachedDevice]:
    """Parse ``adb devices -l`` output."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("List of devices", "*", "adb server")):
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        details = dict(p.split(":", 1) for p in parts[2:] if ":" in p)
        out.append(AttachedDevice(parts[0], parts[1], details))
    return out


def parse_getprop(text: str) -> dict[str, str]:
    """``[key]: [value]`` lines of ``adb shell getprop`` -> dict."""
    return dict(re.findall(r"^\[([^\]]+)\]:\s*\[(.*)\]\s*$", text, re.MULTILINE))


def device_info_from_props(props: dict[str, str], serial: str) -> DeviceInfo:
    maker = props.get("ro.product.manufacturer", "")
    model = props.get("ro.product.model")
    soc = " ".join(v for v in (props.get("ro.soc.manufacturer"), props.get("ro.soc.model")) if v) or \
        props.get("ro.board.platform") or props.get("ro.hardware")
    release, sdk = props.get("ro.build.version.release"), props.get("ro.build.version.sdk")
    os_name = f"Android {release}" + (f" (API {sdk})" if sdk else "") if release else None
    return DeviceInfo(platform="android", model=f"{maker} {model}".strip() if model else None, soc=soc,
                      os=os_name, serial=serial)


def parse_battery(text: str) -> tuple[bool | None, float | None]:
    """``dumpsys battery`` -> (charging, temperature in °C). Temperature is printed in tenths of a degree."""
    powered = [m.group(1) == "true" for m in re.finditer(r"(?:AC|USB|Wireless|Dock) powered:\s*(\w+)", text)]
    temp = re.search(r"^\s*temperature:\s*(-?\d+)", text, re.MULTILINE)
    return (any(powered) if powered else None), (int(temp.group(1)) / 10.0 if temp else None)


def parse_battery_voltage(text: str) -> float | None:
    """``dumpsys battery`` -> battery voltage in V (printed in mV), or None."""
    m = re.search(r"^\s*voltage:\s*(\d+)", text, re.MULTILINE)
    return int(m.group(1)) / 1000.0 if m and int(m.group(1)) > 0 else None


def parse_thermal(text: str) -> str | None:
    """``dumpsys thermalservice`` -> 'none', 'light', ... (PowerManager THERMAL_STATUS_*), or None."""
    m = re.search(r"Thermal Status:\s*(\d+)", text)
    return THERMAL_STATUS.get(int(m.group(1)), m.group(1)) if m else None


class Adb:
    """Run adb commands against one device; adb's failure messages become DeviceError."""

    def __init__(self, adb: str = "adb", serial: str | None = None, timeout_s: float = 900.0):
        validate_type(adb, "path-like", "adb")
        self.adb, self.serial, self.timeout_s = str(adb), serial, timeout_s

    def run(self, *args: str, use_serial: bool = True, check: bool = True,
            timeout_s: float | None = None) -> subprocess.CompletedProcess:
        cmd = [self.adb] + (["-s", self.serial] if use_serial and self.serial else []) + list(args)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                  timeout=timeout_s or self.timeout_s)
        except FileNotFoundError:
            raise DeviceError(f"adb executable not found: {self.adb} (install Android platform-tools or pass "
                              "--adb PATH)") from None
        except PermissionError:
            raise DeviceError(f"adb executable {self.adb} is not executable") from None
        except subprocess.TimeoutExpired:
            raise DeviceError(f"'{' '.join(shlex.quote(c) for c in cmd)}' did not finish within "
                              f"{timeout_s or self.timeout_s:.0f} s") from None
        text = (proc.stdout or "") + (proc.stderr or "")
        self._raise_for_adb_error(text, proc.returncode, check, cmd)
        return proc

    def _raise_for_adb_error(self, text: str, rc: int, check: bool, cmd: list[str]) -> None:
        low = text.lower()
        who = f"device '{self.serial}'" if self.serial else "the device"
        if "unauthorized" in low and ("device unauthorized" in low or "adb: device" in low):
            raise DeviceError(f"{who} is unauthorized: unlock it and accept the 'Allow USB debugging' prompt")
        if "no devices/emulators found" in low:
            raise DeviceError("no Android device attached (adb lists none): connect one and enable USB debugging")
        if "more than one device" in low:
            raise DeviceError("several Android devices attached: choose one with --serial SERIAL")
        if re.search(r"device '[^']*' not found|device not found", low):
            raise DeviceError(f"{who} disappeared (adb: device not found): it was unplugged, rebooted or lost "
                              "its connection")
        if re.search(r"error: closed|protocol fault|connection reset", low):
            raise DeviceError(f"{who} dropped the adb connection ({text.strip().splitlines()[-1][:120]})")
        if "device offline" in low:
            raise DeviceError(f"{who} is offline: reconnect it or restart adb ('adb kill-server')")
        if check and rc != 0:
            raise DeviceError(f"'{' '.join(cmd[1:])}' failed with exit status {rc}: {text.strip()[:400]}")

    def attached(self) -> bool:
        """Is the selected device still listed as ready by ``adb devices``?"""
        try:
            listed = parse_devices(self.run("devices", use_serial=False).stdout)
        except DeviceError:
            return False
        return any(d.serial == self.serial and d.state == "device" for d in listed)

    def shell(self, command: str, **kw) -> str:
        return self.run("shell", command, **kw).stdout

    def select(self, serial: str | None = None) -> str:
        """Choose the device: ``serial`` if attached and authorised, else the only attached device."""
        devices = parse_devices(self.run("devices", "-l", use_serial=False).stdout)
        if serial is not None:
            match = [d for d in devices if d.serial == serial]
            if not match:
                listed = ", ".join(d.serial for d in devices) or "none"
                raise DeviceError(f"device '{serial}' is not attached (attached: {listed})")
            self._check_state(match[0])
            self.serial = serial
            return serial
        if not devices:
            raise DeviceError("no Android device attached (adb lists none): connect one and enable USB debugging")
        ready = [d for d in devices if d.state == "device"]
        if len(devices) > 1 and len(ready) != 1:
            listed = ", ".join(f"{d.serial} ({d.state})" for d in devices)
            raise DeviceError(f"several Android devices attached ({listed}): choose one with --serial SERIAL")
        chosen = ready[0] if ready else devices[0]
        self._check_state(chosen)
        self.serial = chosen.serial
        return chosen.serial

    @staticmethod
    def _check_state(dev: AttachedDevice) -> None:
        if dev.state == "unauthorized":
            raise DeviceError(f"device '{dev.serial}' is unauthorized: unlock it and accept the 'Allow USB "
                              "debugging' prompt")
        if dev.state == "no":  # "no permissions (user in plugdev group; are your udev rules wrong?)"
            raise DeviceError(f"device '{dev.serial}': adb has no permissions for it (udev rules / plugdev group)")
        if dev.state != "device":
            raise DeviceError(f"device '{dev.serial}' is {dev.state}, not ready")


def _device_state(adb: Adb) -> tuple[str | None, bool | None, float | None]:
    thermal = parse_thermal(adb.shell("dumpsys thermalservice", check=False))
    charging, temp = parse_battery(adb.shell("dumpsys battery", check=False))
    return thermal, charging, temp


def _benchmark_errors(text: str) -> list[str]:
    return [ln.split("ERROR:", 1)[1].strip() for ln in text.splitlines() if "ERROR:" in ln]


def run_android(model_path, *, adb: str = "adb", serial: str | None = None, benchmark_binary=None,
                threads: int = 4, runs: int = 50, warmup: int = 1, min_secs: float = 1.0,
                delegate: str = "xnnpack", trials: int = 1, cooldown_s: float = 0.0,
                battery: bool = True) -> list[DeviceRecord]:
    """Run TFLite ``benchmark_model`` on an Android device over adb; one record per trial.

    Parameters
    ----------
    model_path : path-like
        The .tflite model (pushed to /data/local/tmp).
    adb : str
        adb executable.
    serial : str, optional
        Device serial (``adb -s``); required when several devices are attached.
    benchmark_binary : path-like, optional
        A ``benchmark_model`` binary built for the device's ABI (pushed to /data/local/tmp). Without it the
        binary must already be at /data/local/tmp/benchmark_model.
    threads, runs, warmup, min_secs : benchmark_model's --num_threads, --num_runs, --warmup_runs, --min_secs.
    delegate : {'cpu', 'xnnpack', 'gpu', 'nnapi', 'hexagon'}
    trials, cooldown_s : repeated runs with a pause between them (thermal recovery).
    battery : bool
        Reset batterystats before each trial and read the shell UID's (2000) estimate after it. batterystats
        only accumulates on battery: while the device charges the energy is "not measured" with that reason.

    Returns
    -------
    list of DeviceRecord

    Raises
    ------
    DeviceError
        No device, unauthorised device, several devices without ``serial``, adb missing.
    DeviceRunError
        The device vanished or a run failed after some trials: ``.records`` keeps the measured ones.
    ModelError
        benchmark_model refused the model (e.g. an op it lacks) on the first trial.
    """
    check_option("delegate", delegate, DELEGATES)
    for name, value in (("threads", threads), ("runs", runs), ("trials", trials), ("warmup", warmup)):
        validate_type(value, int, name)
    info = describe_model(model_path)
    if info.format != "tflite":
        raise ModelError(f"benchmark_model needs a .tflite model, got a {info.format}", file=model_path)
    a = Adb(adb, serial)
    a.select(serial)
    props = parse_getprop(a.shell("getprop"))
    device = device_info_from_props(props, a.serial)
    remote_model = f"{REMOTE_DIR}/{Path(model_path).name}"
    remote_bin = f"{REMOTE_DIR}/benchmark_model"
    a.run("push", str(model_path), remote_model)
    if benchmark_binary is not None:
        if not Path(benchmark_binary).is_file():
            raise InputError("benchmark_model binary not found", file=benchmark_binary, field="benchmark_binary")
        a.run("push", str(benchmark_binary), remote_bin)
        a.shell(f"chmod 755 {remote_bin}")
    elif (res := a.run("shell", f"ls {remote_bin}", check=False)).returncode != 0 or \
            "No such file" in (res.stdout or "") + (res.stderr or ""):
        raise InputError(f"{remote_bin} is not on the device", field="benchmark_binary",
                         expected="--benchmark-binary PATH to a benchmark_model built for the device")
    cmd = [shlex.quote(remote_bin), f"--graph={shlex.quote(remote_model)}", f"--num_threads={threads}",
           f"--num_runs={runs}",
           f"--warmup_runs={warmup}", f"--min_secs={min_secs}", "--report_peak_memory_footprint=true",
           *_DELEGATE_FLAGS[delegate]]
    records: list[DeviceRecord] = []
    for trial in range(trials):
        try:
            records.append(_android_trial(a, cmd, info, device, props, delegate, threads, runs, warmup, min_secs,
                                          cooldown_s, trial, trials, battery))
        except (DeviceError, ModelError) as exc:
            if not records and isinstance(exc, ModelError):
                raise
            failed = getattr(exc, "partial_record", None) or DeviceRecord()
            failed.model, failed.device, failed.status = info, device, "failed"
            failed.errors.append(str(exc))
            failed.protocol = ProtocolInfo(trial=trial, trials=trials)
            failed.runtime = RuntimeInfo(name="benchmark_model", delegate=delegate, threads=threads)
            failed.source.update({"runner": "android", "command": " ".join(cmd)})
            raise DeviceRunError(f"{exc} (trial {trial + 1} of {trials}; {len(records)} earlier trial(s) kept)",
                                 records + [failed]) from None
        if cooldown_s and trial + 1 < trials:
            time.sleep(cooldown_s)
    return records


def _android_trial(a: Adb, cmd, info, device, props, delegate, threads, runs, warmup, min_secs, cooldown_s,
                   trial, trials, battery) -> DeviceRecord:
    import copy
    thermal0, charging, temp0 = _device_state(a)
    if battery:
        a.shell("dumpsys batterystats --reset")
    proc = a.run("shell", " ".join(cmd), check=False)
    out = (proc.stdout or "") + (proc.stderr or "")
    parsed = parse_benchmark_model(out)
    errors = _benchmark_errors(out)
    if not parsed or (proc.returncode != 0 and parsed[-1].latency.mean_ms is None):
        if not a.attached():  # cut short because the device went away, not because of the model
            err = DeviceError(f"device '{a.serial}' disappeared during benchmark_model (exit status "
                              f"{proc.returncode})")
            err.partial_record = parsed[-1] if parsed else None  # what it printed before it went
            raise err
        raise ModelError("benchmark_model failed on the device: " + ("; ".join(errors) or out.strip()[-300:]),
                         file=info.path)
    rec = parsed[-1]
    try:
        thermal1, charging1, temp1 = _device_state(a)
    except DeviceError as exc:  # the run is measured; the device went away afterwards
        thermal1 = charging1 = temp1 = None
        battery = False
        rec.errors.append(f"after the run: {exc}")
        rec.missing += ["device.thermal_status_end", "device.battery_temp_c_end", "energy.value"]
        rec.energy = EnergyInfo(method="not measured", reason=f"device lost after the run: {exc}")
    dev = copy.deepcopy(device)
    dev.thermal_status_start, dev.thermal_status_end = thermal0, thermal1
    dev.battery_temp_c_start, dev.battery_temp_c_end = temp0, temp1
    dev.charging = charging if charging1 is None else (charging or charging1)
    rec.model = copy.deepcopy(info)
    rec.device = dev
    if rec.runtime.delegate:
        rec.extra["delegate_in_log"] = rec.runtime.delegate  # what the tool reported it created
    rec.runtime = RuntimeInfo(name="benchmark_model", delegate=delegate, threads=threads)
    rec.protocol = ProtocolInfo(warmup_runs=warmup, runs=runs, min_secs=min_secs, cooldown_s=cooldown_s,
                                trial=trial, trials=trials)
    rec.source.update({"runner": "android", "command": " ".join(cmd), "exit_status": proc.returncode})
    if errors:
        rec.errors.extend(errors)
    if battery:
        rec.energy = _shell_uid_energy(a, dev.charging)
        n = (rec.latency.n or 0) + (warmup or 0)
        assessment_energy(rec.energy, inferences=n or None,
                          voltage_v=parse_battery_voltage(a.shell("dumpsys battery", check=False)))
    return rec


def _shell_uid_energy(a: Adb, charging: bool | None) -> EnergyInfo:
    if charging:
        return EnergyInfo(method="not measured", reason="device was charging: batterystats only accumulates on "
                          "battery (unplug, or 'adb shell dumpsys battery unplug' over Wi-Fi adb)")
    text = a.shell("dumpsys batterystats --checkin", check=False)
    try:
        stats = parse_batterystats(text)
    except InputError:
        return EnergyInfo(method="not measured", reason="dumpsys batterystats --checkin printed no estimate")
    value = uid_charge(stats[0], SHELL_UID)
    if value is None:
        return EnergyInfo(method="not measured", reason=f"shell UID {SHELL_UID} absent from the estimate")
    return EnergyInfo(value=value, unit="mAh", method="batterystats estimate", scope=f"uid {SHELL_UID} (shell: "
                      "benchmark_model)", reason="modelled from the device power profile since the reset, not "
                      "measured")


def package_uid(a: Adb, package: str) -> int | None:
    """UID of an installed package (``pm list packages -U``)."""
    m = re.search(rf"package:{re.escape(package)}\s+uid:(\d+)", a.shell(f"pm list packages -U {package}",
                                                                          check=False))
    return int(m.group(1)) if m else None


def _app_readings(a: Adb, rec: DeviceRecord, package: str, uid: int, duration_s: float) -> None:
    """PSS, end state and the UID's charge after an app-level wait; unreadable outputs become errors/flags."""
    dev = rec.device
    mem_text = a.shell(f"dumpsys meminfo {package}", check=False)
    try:
        rec.memory = meminfo_records(parse_meminfo(mem_text))[0].memory
    except InputError:
        rec.errors.append(f"dumpsys meminfo {package}: no totals (is the app running?)")
        rec.missing.append("memory.pss_mb")
    dev.thermal_status_end, charging1, dev.battery_temp_c_end = _device_state(a)
    if dev.charging or charging1:
        rec.energy = EnergyInfo(method="not measured", reason="device was charging: batterystats only "
                                "accumulates on battery")
        return
    try:
        stats = parse_batterystats(a.shell("dumpsys batterystats --checkin", check=False))
    except InputError as exc:
        rec.errors.append(f"dumpsys batterystats --checkin: {exc}")
        rec.missing.append("energy.value")
        rec.energy = EnergyInfo(method="not measured", reason=f"batterystats printed no estimate: {exc}")
        return
    value = uid_charge(stats[0], uid)
    rec.energy = EnergyInfo(value=value, unit="mAh" if value is not None else None,
                            method="batterystats estimate" if value is not None else "not measured",
                            scope=f"uid {uid} ({package}) over {duration_s:g} s",
                            reason="modelled from the device power profile" if value is not None
                            else f"uid {uid} absent from the estimate")
    assessment_energy(rec.energy, duration_s=duration_s,
                      voltage_v=parse_battery_voltage(a.shell("dumpsys battery", check=False)))


def measure_app(package: str, *, adb: str = "adb", serial: str | None = None, duration_s: float = 60.0,
                model_path=None, reset: bool = True) -> DeviceRecord:
    """App-level snapshot: reset batterystats, let the app run ``duration_s``, then read its UID's estimate
    (``dumpsys batterystats --checkin``) and its PSS (``dumpsys meminfo PACKAGE``)."""
    validate_type(package, str, "package")
    a = Adb(adb, serial)
    a.select(serial)
    props = parse_getprop(a.shell("getprop"))
    dev = device_info_from_props(props, a.serial)
    dev.thermal_status_start, dev.charging, dev.battery_temp_c_start = _device_state(a)
    uid = package_uid(a, package)
    if uid is None:
        raise InputError(f"package {package!r} is not installed on {a.serial}", field="package")
    if reset:
        a.shell("dumpsys batterystats --reset")
    time.sleep(duration_s)
    rec = DeviceRecord(device=dev, runtime=RuntimeInfo(name=f"app {package}"),
                       source={"runner": "android-app", "package": package, "uid": uid,
                               "duration_s": duration_s})
    if model_path is not None:
        rec.model = describe_model(model_path)
    try:
        _app_readings(a, rec, package, uid, duration_s)
    except DeviceError as exc:
        # the device went away after the wait: keep what was read, say what was not
        rec.status = "failed"
        rec.errors.append(f"after {duration_s:g} s of app use: {exc}")
        if rec.energy.value is None and rec.energy.method == "not measured" and not rec.energy.reason:
            rec.energy = EnergyInfo(method="not measured", reason=f"device lost before the estimate: {exc}")
        raise DeviceRunError(f"app-level run of {package}: {exc}", [rec.flag_missing(required=())]) from exc
    return rec.flag_missing(required=())
