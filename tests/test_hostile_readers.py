"""Hostile input to the gold-standard readers (issue 15, findings 1, 2, 5 and the reader part of 7): real files
from ../shared/data mutated here, each read through the readers and ``stancebench sway``. Nothing may crash the
process, hang, print a traceback, or exit 0 with a number that no note explains."""
from __future__ import annotations

import json
import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import ROOT, shared_path
from ground_truth.kernel import ReaderError
from ground_truth.readers import isolated, read_recording
from ground_truth.readers.plausibility import isolated_spikes, mask_together, off_plate

BDS_HEADER = "Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\tCOPx[cm]\tCOPy[cm]\n"


def _sway(capsys, *args):
    """(exit status, stdout, stderr) of ``stancebench sway ARGS --json`` run in this process."""
    from harness.cli import main

    rc = main(["sway", *map(str, args), "--json"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _refused_or_flagged(rc, out, err, *words):
    """Exit 2 with one line naming ``words``, or exit 0 with ``words`` in the JSON notes: never an unflagged
    number, never a traceback."""
    assert "Traceback" not in err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1, err
        text = err
    else:
        assert rc == 0, (rc, err)
        text = " ".join(json.loads(out)["notes"])
    for word in words:
        assert word in text, (word, text)
    return text


# -- C3D parameter records, found as the C3D format lays them out -------------------------------------------------
def _param_data(raw: bytes, group: str, name: str) -> tuple[int, int, int]:
    """(file offset of the data, data type, number of values) of parameter GROUP:NAME of an Intel C3D file."""
    base = (raw[0] - 1) * 512
    pos, groups, params = base + 4, {}, {}
    while True:
        n = abs(struct.unpack("b", raw[pos:pos + 1])[0])
        gid = struct.unpack("b", raw[pos + 1:pos + 2])[0]
        if n == 0:
            break
        label = raw[pos + 2:pos + 2 + n].decode()
        offset = struct.unpack("<h", raw[pos + 2 + n:pos + 4 + n])[0]
        body = pos + 4 + n
        if gid < 0:
            groups[-gid] = label
        else:
            dtype, ndims = struct.unpack("b", raw[body:body + 1])[0], raw[body + 1]
            count = int(np.prod(list(raw[body + 2:body + 2 + ndims]))) if ndims else 1
            params[(gid, label)] = (body + 2 + ndims, dtype, count, pos)
        if offset == 0:
            break
        pos = pos + 2 + n + offset
    gid = next(k for k, v in groups.items() if v == group)
    at, dtype, count, _ = params[(gid, name)]
    return at, dtype, count


def _param_record(raw: bytes, group: str, name: str) -> int:
    """File offset of the record of parameter GROUP:NAME (its name starts 2 bytes further)."""
    at, _, _ = _param_data(raw, group, name)
    # the data follow name, offset word, type, ndims and dims: walk back to the record start by matching
    for start in range(at - 1, (raw[0] - 1) * 512, -1):
        n = abs(struct.unpack("b", raw[start:start + 1])[0])
        if n == len(name) and raw[start + 2:start + 2 + n] == name.encode():
            return start
    raise AssertionError("record not found")


def _mutated(tmp_path, src, name="mutated.c3d", edits=()):
    raw = bytearray(src.read_bytes())
    for at, value in edits:
        raw[at:at + len(value)] = value
    out = tmp_path / name
    out.write_bytes(bytes(raw))
    return out


# -- finding 1: a crash in native code --------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [1433, 1434])
def test_kistler_byte_1434_set_to_255_is_refused_before_the_library_sees_it(tmp_path, capsys, offset):
    # issue 15: byte 1434 of Kistler.c3d set to 255 killed `stancebench sway` with SIGSEGV and no message.
    # It is the dimension count (or first dimension) of FORCE_PLATFORM:ZERO: 255 values that do not fit.
    src = shared_path("c3d", "Kistler.c3d")
    bad = _mutated(tmp_path, src, edits=[(offset, b"\xff")])
    rc, out, err = _sway(capsys, bad)
    assert rc == 2 and "Traceback" not in err
    assert "not a valid or complete C3D file" in err and "'ZERO'" in err and "Kistler" not in out


def test_a_crash_of_the_c3d_library_is_a_reader_error_and_the_next_read_works(tmp_path, capsys):
    # A corruption the structural check lets through (ANALOG:SCALE renamed: a parameter ezc3d 1.7.2 needs
    # and dereferences without checking) kills the library with SIGSEGV: in its child process, not here.
    src = shared_path("c3d", "PiG_PiG_Calibration2-NoOption.c3d")
    raw = src.read_bytes()
    at = _param_record(raw, "ANALOG", "SCALE")
    bad = _mutated(tmp_path, src, edits=[(at + 2 + 3, b"\xd8")])   # "SCALE" -> "SCA\xd8E"
    rc, out, err = _sway(capsys, bad)
    assert rc == 2 and out == "" and "Traceback" not in err
    assert "the C3D library crashed reading this file (signal SIGSEGV)" in err and bad.name in err
    rec = read_recording(src)                                       # a new reading process serves the next file
    assert len(rec.plates) == 2


def test_isolated_calls_crash_hang_and_failure_are_named():
    pid = isolated.call(os.getpid, timeout_s=60)
    with pytest.raises(isolated.WorkerCrashed) as crash:
        isolated.call(os.kill, pid, signal.SIGSEGV, timeout_s=60)
    assert crash.value.cause == "signal SIGSEGV"
    t0 = time.monotonic()
    with pytest.raises(isolated.WorkerTimeout):
        isolated.call(time.sleep, 30, timeout_s=0.5)
    assert time.monotonic() - t0 < 10
    with pytest.raises(isolated.WorkerFailed, match="ValueError: math domain error"):
        isolated.call(math.sqrt, -1.0, timeout_s=60)
    assert isolated.call(math.sqrt, 4.0, timeout_s=60) == 2.0
    assert isolated.call(os.getpid, timeout_s=60) != pid
    if sys.platform.startswith("linux"):      # a runaway allocation fails in the child, which lives on
        with pytest.raises(isolated.WorkerFailed, match="MemoryError"):
            isolated.call(np.ones, 2 ** 33, timeout_s=60, memory_budget=2 ** 30)
        assert isolated.call(np.ones, 2 ** 20, timeout_s=60, memory_budget=2 ** 30).size == 2 ** 20


def test_a_hanging_c3d_library_is_stopped_with_a_reader_error(tmp_path, monkeypatch):
    from ground_truth.readers import c3d

    real_call = isolated.call

    def blocking(func, *args, timeout_s, memory_budget, **kwargs):   # the library blocks: the child sleeps
        assert func is c3d._library_read
        return real_call(time.sleep, 30, timeout_s=0.5)

    monkeypatch.setattr(isolated, "call", blocking)
    with pytest.raises(ReaderError, match=r"did not finish reading this file within 0.5 s and was stopped"):
        c3d.read_c3d(shared_path("c3d", "FP_Type3.c3d"))


def test_the_reading_process_dies_with_its_parent():
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from ground_truth.readers import isolated
        isolated.call(os.getpid, timeout_s=60)
        print(isolated.worker_pid(), flush=True)
        os.kill(os.getpid(), 9)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9
    child = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"reading process {child} outlived its killed parent")


# -- finding 5 and 7: paths that are not regular files, bytes that are not text ------------------------------------
def test_directory_fifo_and_device_are_refused_at_once(tmp_path):
    # issue 15: a directory named x.c3d made the C3D library block; a FIFO or /dev/zero ran until killed. In a
    # child process with a time limit, so that a regression fails the test instead of blocking the suite.
    (tmp_path / "x.c3d").mkdir()
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.c3d")
    paths = [str(tmp_path / "x.c3d"), str(tmp_path / "pipe.txt"), str(tmp_path / "pipe.c3d"), "/dev/zero"]
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from harness.cli import main
        out = []
        for path in sys.argv[1:]:
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = main(["sway", path])
            out.append([rc, err.getvalue()])
        print(json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for path, kind, (rc, err) in zip(paths, ("a directory", "a FIFO", "a FIFO", "a device"), results):
        assert rc == 2 and kind in err and "Traceback" not in err, (path, rc, err)
    for path in (tmp_path / "x.c3d", "/dev/zero"):
        with pytest.raises(ReaderError):
            read_recording(path, "c3d")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_refused(tmp_path, capsys):
    p = tmp_path / "BDS.txt"
    p.write_text(BDS_HEADER + "0.01\t0\t0\t500\t0\t0\t0\t0\t0\n")
    p.chmod(0)
    rc, _, err = _sway(capsys, p)
    assert rc == 2 and "cannot be opened" in err


@pytest.mark.parametrize("folder, name, fmt", [("cop_bds", "BDS00001.txt", "bmclab"),
                                               ("cop_quijoux", "amti_standing_trial.csv", "motive")])
def test_non_utf8_bytes_are_a_reader_error_naming_the_line(tmp_path, capsys, folder, name, fmt):
    lines = shared_path(folder, name).read_bytes().split(b"\n")
    lines[40] = lines[40][:3] + b"\xff" + lines[40][4:]
    bad = tmp_path / name
    bad.write_bytes(b"\n".join(lines))
    rc, out, err = _sway(capsys, bad, "--format", fmt)
    assert rc == 2 and "Traceback" not in err
    assert "byte 0xff" in err and "(line 41)" in err and name in err


def test_non_utf8_opensim_files(tmp_path):
    trc = tmp_path / "m.trc"
    trc.write_bytes(b"PathFileType\t4\t(X/Y/Z)\tm.trc\n\xfe\n")
    with pytest.raises(ReaderError, match=r"not a text file: byte 0xfe at offset \d+ \(line 2\)"):
        read_recording(trc)


def test_duplicated_motive_header_lines(tmp_path, capsys):
    # issue 15: a duplicated header line of a Motive export ended in a traceback
    src = shared_path("cop_quijoux", "amti_standing_trial.csv")
    lines = src.read_text().split("\n")
    header = next(i for i, line in enumerate(lines) if "Fz" in [c.strip() for c in line.split(",")])
    copy = list(lines)
    copy.insert(header, lines[header])
    bad = tmp_path / "dup_columns.csv"
    bad.write_text("\n".join(copy))
    rc, out, err = _sway(capsys, bad, "--convention", "quijoux2021")
    assert rc == 2 and "Traceback" not in err and "field 'MocapFrame'" in err and "holds 'MocapFrame'" in err
    copy = list(lines)
    copy.insert(1, lines[1])                       # the same metadata line twice says nothing new
    same = tmp_path / "dup_meta.csv"
    same.write_text("\n".join(copy))
    assert _sway(capsys, same, "--convention", "quijoux2021")[0] == 0
    copy = list(lines)
    copy.insert(1, "Capture Frame Rate,abc")       # the same key twice with another value is refused
    bad = tmp_path / "twice.csv"
    bad.write_text("\n".join(copy))
    with pytest.raises(ReaderError, match="field 'Capture Frame Rate'.*appears twice"):
        read_recording(bad)


def test_duplicate_motive_columns_are_refused(tmp_path):
    text = ("Format Version,1.23\nTake Name,t\n\nMocapFrame,MocapTime,Fx,Fy,Fz,Mx,My,Mz,Fz\n"
            + "".join(f"{i},{i / 100},0,0,600,1,2,0,600\n" for i in range(5)))
    p = tmp_path / "dup.csv"
    p.write_text(text)
    with pytest.raises(ReaderError, match="field 'Fz'.*duplicate column"):
        read_recording(p)


TRC = ("PathFileType\t4\t(X/Y/Z)\tx.trc\nDataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\n"
       "{rate}\t100\t{frames}\t{markers}\tmm\nFrame#\tTime\tA\t\t\n\t\tX1\tY1\tZ1\n\n")


@pytest.mark.parametrize("rate, frames, markers, field", [("abc", "3", "1", "DataRate"), ("nan", "3", "1", "DataRate"),
                                                          ("0", "3", "1", "DataRate"), ("100", "x", "1", "NumFrames"),
                                                          ("100", "3", "1.5", "NumMarkers")])
def test_malformed_trc_header_fields(tmp_path, rate, frames, markers, field):
    p = tmp_path / "bad.trc"
    p.write_text(TRC.format(rate=rate, frames=frames, markers=markers)
                 + "".join(f"{i + 1}\t{i / 100}\t1\t2\t3\n" for i in range(3)))
    with pytest.raises(ReaderError, match=f"bad.trc: field '{field}'"):
        read_recording(p)


def test_malformed_mot_header(tmp_path):
    cols = "ground_force_vx\tground_force_vy\tground_force_vz\tground_force_px\tground_force_py\tground_force_pz"
    body = "".join(f"{i / 100}\t0\t700\t0\t0.1\t0\t0.2\n" for i in range(3))
    p = tmp_path / "bad.mot"
    p.write_text(f"name x\ndatarows abc\nendheader\ntime\t{cols}\n" + body)
    with pytest.raises(ReaderError, match="field 'datarows'.*not a count"):
        read_recording(p)
    p.write_text(f"name x\ndatarows 3\ndatarows 4\nendheader\ntime\t{cols}\n" + body)
    with pytest.raises(ReaderError, match="field 'datarows'.*twice"):
        read_recording(p)


# -- finding 2: confident nonsense ---------------------------------------------------------------------------------
def test_c3d_header_scale_factor_nan_is_refused(tmp_path, capsys):
    # issue 15: a NaN header scale factor made ezc3d read float data as integers: area 37,730 cm2, exit 0
    src = shared_path("c3d", "PiG_PiG_Calibration-FlatFoot-Full.c3d")
    bad = _mutated(tmp_path, src, edits=[(12, struct.pack("<f", float("nan")))])
    rc, out, err = _sway(capsys, bad)
    assert rc == 2 and "field 'header words 7-8 (scale factor)'" in err and "nan is not plausible" in err


@pytest.mark.parametrize("group, name, value", [("POINT", "SCALE", float("nan")), ("ANALOG", "GEN_SCALE", 1e30),
                                                ("ANALOG", "SCALE", float("inf")), ("POINT", "RATE", float("nan"))])
def test_c3d_scale_factors_and_rates_are_checked(tmp_path, group, name, value):
    src = shared_path("c3d", "PiG_PiG_Calibration-FlatFoot-Full.c3d")
    raw = src.read_bytes()
    at, dtype, _ = _param_data(raw, group, name)
    assert dtype == 4
    bad = _mutated(tmp_path, src, edits=[(at, struct.pack("<f", value))])
    with pytest.raises(ReaderError, match=f"field '{group}:{name}(\\[1\\]|')"):
        read_recording(bad)


def test_force_platform_origin_1e30_is_flagged(tmp_path, capsys):
    # issue 15: FORCE_PLATFORM:ORIGIN = 1e30 gave an area of 3e55 cm2, exit 0
    src = shared_path("mocap_single_leg", "nimble_welk007_static1.c3d")
    at, dtype, _ = _param_data(src.read_bytes(), "FORCE_PLATFORM", "ORIGIN")
    bad = _mutated(tmp_path, src, edits=[(at, struct.pack("<f", 1e30))])
    rec = read_recording(bad)
    assert any("FORCE_PLATFORM:ORIGIN" in n for n in rec.meta["notes"])
    assert np.isnan(rec.plates[0].cop).all() and np.isfinite(rec.plates[0].force).all()
    for convention in ("bds2016", "quijoux2021"):
        _refused_or_flagged(*_sway(capsys, bad, "--convention", convention), "FORCE_PLATFORM:ORIGIN")


def test_force_platform_corners_1e30_and_an_origin_off_the_plate(tmp_path, capsys):
    src = shared_path("mocap_single_leg", "nimble_welk007_static1.c3d")
    raw = src.read_bytes()
    at, _, _ = _param_data(raw, "FORCE_PLATFORM", "CORNERS")
    rec = read_recording(_mutated(tmp_path, src, "corners.c3d", edits=[(at, struct.pack("<f", 1e30))]))
    assert any("FORCE_PLATFORM:CORNERS" in n for n in rec.meta["notes"])
    assert np.isnan(rec.plates[0].force).all() and rec.plates[0].corners is None
    # an origin 5 m away is within the bounds of a position but puts the COP metres off the plate
    at, _, _ = _param_data(raw, "FORCE_PLATFORM", "ORIGIN")
    bad = _mutated(tmp_path, src, "origin.c3d", edits=[(at + 4, struct.pack("<f", 5000.0))])
    rec = read_recording(bad)
    assert any("outside the plate's corners" in n for n in rec.meta["notes"])
    assert np.isnan(rec.plates[0].cop).all()
    _refused_or_flagged(*_sway(capsys, bad, "--convention", "quijoux2021"), "outside the plate's corners")


def _bds_with(tmp_path, value, column=8, row=1000):
    lines = shared_path("cop_bds", "BDS00001.txt").read_text().split("\n")
    cells = lines[row].split("\t")
    cells[column] = value
    lines[row] = "\t".join(cells)
    p = tmp_path / f"BDS_{value}.txt"
    p.write_text("\n".join(lines))
    return p


@pytest.mark.parametrize("value", ["1e30", "1e300", "-inf", "nan"])
def test_bds_cell_out_of_bounds_is_nan_and_named(tmp_path, capsys, value):
    # issue 15: one BDS COP cell of 1e30 gave area 4e28 cm2; 1e300 gave area 0.0, both exit 0
    bad = _bds_with(tmp_path, value)
    rec = read_recording(bad)
    assert np.isnan(rec.plates[0].cop[999]).all() and np.isfinite(rec.plates[0].cop[998]).all()  # line 1001
    why = "spell not-a-number" if value == "nan" else "COP: 1 of 18000 value(s) set to NaN as implausible"
    assert any(why in n for n in rec.meta["notes"]), rec.meta["notes"]
    rc, out, err = _sway(capsys, bad)                     # bds2016 defines no gap handling: refused, and why
    _refused_or_flagged(rc, out, err, why)
    assert rc == 2
    rc, out, err = _sway(capsys, bad, "--convention", "quijoux2021")   # reported on the rest, with the note
    _refused_or_flagged(rc, out, err, why)
    assert rc == 0 and json.loads(out)["metrics"]["area95_cov_corrected_cm2"] < 10


def test_bds_force_cell_masks_the_whole_sample(tmp_path):
    rec = read_recording(_bds_with(tmp_path, "1e30", column=3))
    plate = rec.plates[0]
    assert np.isnan(plate.force[999]).all() and np.isnan(plate.cop[999]).all() and not plate.loaded[999]
    assert any("force: 1 of" in n for n in rec.meta["notes"])
    assert any("NaN in every one of its signals" in n for n in rec.meta["notes"])


def test_pds_minus_inf_in_a_force_column_is_not_used(tmp_path, capsys):
    # issue 15: -inf in a PDS force column was used silently (range 5.73 -> 14.06 cm)
    src = shared_path("cop_pds", "PDS13OR2grf.txt")
    lines = src.read_text().split("\n")
    names = lines[0].split("\t")
    cells = lines[500].split("\t")
    cells[names.index("RGRF_X")] = "-inf"
    lines[500] = "\t".join(cells)
    bad = tmp_path / src.name
    bad.write_text("\n".join(lines))
    rec = read_recording(bad)
    assert np.isnan(rec.plates[0].force[499]).all()
    text = _refused_or_flagged(*_sway(capsys, bad, "--plate", "1", "--convention", "quijoux2021"), "right plate")
    assert "1 infinite" in text


def test_an_isolated_spike_is_named_not_changed(tmp_path, capsys):
    bad = _bds_with(tmp_path, "1540.0", column=3, row=2000)   # Fz ~540 N, one sample 1000 N higher
    rec = read_recording(bad)
    assert rec.plates[0].force[1999, 2] == 1540.0
    assert any("1 isolated single-sample spike(s) (z: 1), first at sample 1999" in n for n in rec.meta["notes"])
    rc, out, err = _sway(capsys, bad, "--convention", "quijoux2021")
    assert rc == 0 and any("isolated single-sample spike" in n for n in json.loads(out)["notes"])
    clean = read_recording(shared_path("cop_bds", "BDS00001.txt"))
    assert clean.meta["notes"] == []


def test_trc_marker_out_of_bounds_is_a_gap_with_a_note(tmp_path):
    p = tmp_path / "m.trc"
    p.write_text(TRC.format(rate=100, frames=4, markers=1)
                 + "1\t0\t1\t2\t3\n2\t0.01\t1e30\t2\t3\n3\t0.02\t1\t2\t3\n4\t0.03\t1\t2\t3\n")
    rec = read_recording(p)
    assert np.isnan(rec.markers["A"][1]).all() and rec.meta["marker_gap_samples"] == {"A": 1}
    assert any("markers: 1 of 4 position(s) set to NaN" in n and "A: 1" in n for n in rec.meta["notes"])


# -- the plausibility helpers on arrays -----------------------------------------------------------------------------
def test_spike_detector_finds_exponent_bit_flips_and_ignores_real_shapes():
    rng = np.random.default_rng(0)
    t = np.arange(6000) / 1000
    fz = 600 + 20 * np.sin(2 * np.pi * 0.5 * t) + rng.normal(0, 2, t.size)
    fz[2000:2010] = np.linspace(600, 1400, 10)           # a fast real ramp
    fz[2010:2100] = 1400
    flipped = fz.copy()
    f32 = np.array([flipped[4000]], dtype=np.float32)
    f32.view(np.uint32)[0] ^= 1 << 24                      # one exponent bit: the value x 2 or / 2
    flipped[4000] = float(f32[0])
    assert not isolated_spikes(fz, 100.0).any()
    assert np.flatnonzero(isolated_spikes(flipped, 100.0)).tolist() == [4000]


def test_mask_together_and_off_plate():
    notes: list[str] = []
    force = np.array([[0, 0, 600.0], [0, 0, 1e30], [0, 0, 610.0]])
    cop = np.array([[0.1, 0.1, 0], [0.1, 0.1, 0], [0.1, 0.2, 0]])
    out, bad = mask_together({"force": force, "cop": cop}, {"force": "force_n", "cop": "cop_m"}, what="f",
                             notes=notes)
    assert bad.tolist() == [False, True, False] and np.isnan(out["cop"][1]).all()
    assert len(notes) == 2 and "f force: 1 of 9 value(s)" in notes[0] and math.isnan(out["force"][1, 0])
    corners = np.array([[0, 0, 0], [0.6, 0, 0], [0.6, 0.4, 0], [0, 0.4, 0.0]])
    mask, margin = off_plate(np.array([[0.3, 0.2, 0], [1.3, 0.2, 0], [-0.7, 0.2, 0], [np.nan] * 3]), corners)
    assert margin == pytest.approx(0.6) and mask.tolist() == [False, True, True, False]
    assert off_plate(cop, np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0.0]])) is None   # not in order


def test_a_denormal_header_scale_of_a_dec_file_is_refused(tmp_path):
    # the fuzz suite's case: IEEE inf written over the header scale of a DEC-format file (processor 85) reads
    # as 1.1e-41 there, so the library took the data for integers scaled by nothing: velocity 21,435 cm/s with
    # only spike notes. A vanishing scale, or one whose sign disagrees with POINT:SCALE, is refused.
    src = shared_path("c3d", "others_FunctionalStatic.c3d")
    path = _mutated(tmp_path, src, edits=((12, struct.pack("<f", math.inf)),))
    with pytest.raises(ReaderError, match="scale factor"):
        read_recording(path)
