"""File fingerprints for provenance and cache keys (one implementation for every package)."""
from __future__ import annotations

import hashlib
from os import PathLike
from pathlib import Path

#: (resolved path, size, mtime_ns) -> hex digest: a study hashes each video once, not once per candidate
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex), read in chunks; remembered while the file's size and mtime stay."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]
