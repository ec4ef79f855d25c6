"""Readers of gold-standard files. Each returns a :class:`ground_truth.Recording` in SI units.

``read_recording(path, format="auto")`` picks the reader from the file's extension and content.
"""
from __future__ import annotations

from pathlib import Path

from ..kernel import ReaderError, check_input_file, check_option
from ..recording import DEFAULT_FZ_THRESHOLD_N, Recording

FORMATS = ("auto", "c3d", "bmclab", "motive", "mot", "trc")


def detect_format(path: str | Path) -> str:
    """Guess a file's format from its extension and first line (the path is checked first: a FIFO, a device or
    a directory is refused without being opened)."""
    path = check_input_file(path, what="gold-standard file")
    suffix = path.suffix.lower()
    if suffix in (".c3d", ".mot", ".trc"):         # the format is named by the extension
        return suffix[1:]
    with open(path, "rb") as fh:
        # only to recognise a layout; the reader decodes the whole file strictly and names a bad byte
        head = fh.read(4096).split(b"\n", 1)[0].decode("utf-8", "replace")
    if head.startswith("Time[s]") or head.lower().startswith("time\t"):
        return "bmclab"
    if head.startswith("Format Version") or "Take Name" in head or suffix == ".csv":
        return "motive"
    raise ReaderError("cannot tell the file format from its name or first line", file=path,
                      expected="one of .c3d, .mot, .trc, a BMClab .txt (header 'Time[s]...') or a Motive .csv; "
                               "or pass the format explicitly")


def read_recording(path: str | Path, format: str = "auto", *, fz_threshold_n: float = DEFAULT_FZ_THRESHOLD_N
                   ) -> Recording:
    """Read any supported gold-standard file into a :class:`Recording`."""
    check_option("format", format, FORMATS)
    path = check_input_file(path, what="gold-standard file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "c3d":
        from .c3d import read_c3d
        return read_c3d(path, fz_threshold_n=fz_threshold_n)
    if fmt == "bmclab":
        from .bmclab import read_bmclab
        return read_bmclab(path, fz_threshold_n=fz_threshold_n)
    if fmt == "motive":
        from .motive import read_motive_csv
        return read_motive_csv(path, fz_threshold_n=fz_threshold_n)
    if fmt == "mot":
        from .opensim import read_mot
        return read_mot(path, fz_threshold_n=fz_threshold_n)
    from .opensim import read_trc
    return read_trc(path)
