"""The CLI's one error path (issue 15): named errors exit 2 with one line; a bug exits 3 with a short message and
the traceback written to a file; strict runs re-raise; the kernel's path checks and atomic writes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ground_truth.kernel import (OutputError, ReaderError, atomic_output, check_input_file, check_output_path,
                                 read_text_file, write_text_atomic)
from harness import cli
from harness.commands import sway


def test_unexpected_exception_is_a_short_message_and_a_crash_file(monkeypatch, tmp_path, capsys):
    def broken(args):
        raise ZeroDivisionError("deliberately broken command")

    # the handler under test is main's; the command is replaced by one that has a bug
    monkeypatch.setattr(sway, "run", broken)
    monkeypatch.setenv("STANCEBENCH_STRICT", "0")
    monkeypatch.setenv(cli.CRASH_DIR_ENV, str(tmp_path))
    rc = cli.main(["sway", "whatever.c3d"])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_INTERNAL_ERROR == 3
    assert "internal error" in err and "ZeroDivisionError: deliberately broken command" in err
    assert "Traceback" not in err
    crash_files = list(tmp_path.glob("stancebench-sway-*.txt"))
    assert len(crash_files) == 1 and str(crash_files[0]) in err
    text = crash_files[0].read_text()
    assert "Traceback (most recent call last)" in text and "def broken" not in err and "broken" in text


def test_strict_mode_reraises_the_bug(monkeypatch):
    monkeypatch.setattr(sway, "run", lambda args: 1 / 0)
    monkeypatch.setenv("STANCEBENCH_STRICT", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["sway", "whatever.c3d"])


def test_oserror_with_a_path_is_bad_input_not_a_bug(monkeypatch, tmp_path, capsys):
    def denied(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked.txt"))

    monkeypatch.setattr(sway, "run", denied)
    monkeypatch.setenv("STANCEBENCH_STRICT", "0")
    assert cli.main(["sway", "x"]) == 2
    err = capsys.readouterr().err
    assert "locked.txt: Permission denied" in err and "Traceback" not in err


def test_check_input_file_refuses_what_would_block(tmp_path):
    folder = tmp_path / "x.c3d"
    folder.mkdir()
    fifo = tmp_path / "pipe.c3d"
    os.mkfifo(fifo)
    empty = tmp_path / "empty.txt"
    empty.touch()
    for path, words in ((folder, "is a directory"), (fifo, "FIFO"), ("/dev/zero", "is a device"),
                        (empty, "empty"), (tmp_path / "missing.c3d", "not found")):
        with pytest.raises(ReaderError, match=words) as info:
            check_input_file(path, what="C3D file", field="gold_standard")
        assert str(path) in str(info.value) and "gold_standard" in str(info.value)


def test_read_text_file_names_the_line_of_a_non_utf8_byte(tmp_path):
    path = tmp_path / "bds.txt"
    path.write_bytes(b"Time\tFx\n0.0\t1.5\n0.01\t\xff2.0\n")
    with pytest.raises(ReaderError, match=r"byte 0xff at offset 21 \(line 3\)"):
        read_text_file(path, what="BMClab text file")


def test_atomic_output_leaves_the_old_file_and_no_temp_on_failure(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write("half of a new report")
            raise RuntimeError("the writer failed half-way")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_full_disk_is_a_named_error_without_a_partial_file(tmp_path):
    # a real write limit: RLIMIT_FSIZE makes write() fail with EFBIG once the file would pass 1 kB, the same
    # path a full disk (ENOSPC) takes through atomic_output
    script = f"""
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
from ground_truth.kernel import write_text_atomic, OutputError
try:
    write_text_atomic({str(tmp_path / 'results.json')!r}, 'x' * 100_000, field='--out')
except OutputError as exc:
    print('OutputError', exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("OutputError"), done.stderr
    assert "results.json" in done.stdout and "--out" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_check_output_path(tmp_path):
    existing = tmp_path / "results"
    existing.write_text("a file where a folder is wanted")
    with pytest.raises(OutputError, match="exists and is not a directory"):
        check_output_path(existing, field="--out", kind="dir")
    with pytest.raises(OutputError, match=r"ending in \.mp4"):
        check_output_path(tmp_path / "x.txt", field="--out", suffixes=(".mp4",))
    with pytest.raises(OutputError, match="is a file"):
        check_output_path(existing / "report.html", field="--out")
    assert check_output_path(tmp_path / "new" / "video.mp4", field="--out", suffixes=(".mp4",))
