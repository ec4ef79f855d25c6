"""Every path a user hands stancebench is checked before anything opens it, and every output is written
atomically: one wording for both, used by every reader, command and writer.

Why check before opening: a directory named ``x.c3d`` makes the C3D library block, a FIFO blocks ``open()``
until a writer appears and ``/dev/zero`` never ends, so a path that is not a regular file is refused from its
``stat`` alone (which never blocks). Why write atomically: a full disk or a killed process must not leave a
0-byte report or a half-written results file that a later step reads as if it were whole.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from .errors import InputError, ReaderError

#: Largest input file read by default (a 4K video of a minute is ~1 GB; a force-plate text file a few MB).
MAX_INPUT_BYTES = 8 * 1024 ** 3


class OutputError(InputError):
    """An output cannot be written where it was asked for (a folder in the way, no space left, no permission)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_input_file(path: str | PathLike, *, what: str = "file", field: str | None = None,
                     max_bytes: int | None = MAX_INPUT_BYTES, allow_empty: bool = False,
                     error: type[InputError] = ReaderError) -> Path:
    """The path, once it is a readable, non-empty regular file no larger than ``max_bytes``.

    Nothing is opened for reading except a zero-length probe of a regular file (so FIFOs, devices and
    directories never block). Raises ``error`` (ReaderError by default) naming the file, ``field`` and what
    was expected.
    """
    p = Path(path)
    expected = f"a readable {what}"
    try:
        st = p.stat()
    except FileNotFoundError:
        raise error("file not found", file=p, field=field, expected=expected) from None
    except (PermissionError, NotADirectoryError) as exc:
        raise error(f"cannot be reached ({exc.strerror})", file=p, field=field, expected=expected) from None
    except OSError as exc:   # ELOOP (a symlink loop), ENAMETOOLONG
        raise error(f"cannot be reached ({exc.strerror or exc})", file=p, field=field, expected=expected) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"is {_kind(st.st_mode)}", file=p, field=field, expected=f"a regular {what}")
    if st.st_size == 0 and not allow_empty:
        raise error("file is empty (0 bytes)", file=p, field=field, expected=f"a non-empty {what}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise error(f"file is {st.st_size:,} bytes, more than the {max_bytes:,} bytes read", file=p, field=field,
                    expected=f"a {what} of at most {max_bytes:,} bytes")
    try:
        with open(p, "rb") as fh:
            fh.read(0)
    except OSError as exc:
        raise error(f"cannot be opened for reading ({exc.strerror or exc})", file=p, field=field,
                    expected=expected) from None
    return p


def read_text_file(path: str | PathLike, *, what: str = "text file", field: str | None = None,
                   encoding: str = "utf-8", max_bytes: int | None = MAX_INPUT_BYTES, allow_empty: bool = False,
                   error: type[InputError] = ReaderError) -> str:
    """The text of a checked input file; bytes that are not ``encoding`` are an error naming line and byte.
    ``allow_empty``: an empty file is "" (for a reader whose own message for it is better)."""
    p = check_input_file(path, what=what, field=field, max_bytes=max_bytes, allow_empty=allow_empty, error=error)
    data = p.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}) is not {encoding} text",
                    file=p, field=field, expected=f"a {what} encoded as {encoding}") from None


def check_output_path(path: str | PathLike, *, field: str, kind: str = "file",
                      suffixes: tuple[str, ...] | None = None) -> Path:
    """The path an output will be written to, refused now (not after the work) when it cannot be.

    ``kind="dir"``: an existing path must be a directory. ``kind="file"``: an existing path must not be a
    directory, and the name must end with one of ``suffixes`` when given. The parent of a missing path must
    not be a file.
    """
    p = Path(path)
    if kind == "dir":
        if p.exists() and not p.is_dir():
            raise OutputError("exists and is not a directory", file=p, field=field,
                              expected="a directory to write the outputs into (or a path that does not exist)")
    else:
        if p.is_dir():
            raise OutputError("is a directory", file=p, field=field, expected="a file name")
        if suffixes and p.suffix.lower() not in suffixes:
            raise OutputError(f"has the extension {p.suffix or '(none)'!r}", file=p, field=field,
                              expected=f"a file name ending in {' or '.join(suffixes)}")
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot be created: {parent} is a file", file=p, field=field,
                                  expected="a path under a directory")
            break
    return p


def make_output_dir(path: str | PathLike, *, field: str) -> Path:
    """The folder outputs will be written into, checked (:func:`check_output_path`) and created; an OSError
    while creating it is an :class:`OutputError` naming it."""
    out = check_output_path(path, field=field, kind="dir")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot be created ({exc.strerror or exc})", file=out, field=field,
                          expected="a folder that can be written") from None
    return out


def _output_error(exc: OSError, path: Path, field: str | None) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError("no space left on the device while writing", file=path, field=field,
                           expected="free disk space")
    if exc.errno == errno.EDQUOT:
        return OutputError("disk quota exceeded while writing", file=path, field=field, expected="free quota")
    return OutputError(f"cannot be written ({exc.strerror or exc})", file=path, field=field,
                       expected="a writable location")


@contextlib.contextmanager
def atomic_output(path: str | PathLike, mode: str = "w", *, field: str | None = None,
                  encoding: str | None = "utf-8", newline: str | None = None) -> Iterator:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` in one step.

    On any failure the temporary file is removed and ``path`` is left as it was; an OSError while writing
    (a full disk, no permission) becomes :class:`OutputError` naming the file.
    """
    target = Path(path)
    binary = "b" in mode
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _output_error(exc, target, field) from None
    try:
        with os.fdopen(fd, mode, **({} if binary else {"encoding": encoding, "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _output_error(exc, target, field) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | PathLike, text: str, *, field: str | None = None,
                      encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, "w", field=field, encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes_atomic(path: str | PathLike, data: bytes, *, field: str | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, "wb", field=field) as fh:
        fh.write(data)
    return Path(path)
