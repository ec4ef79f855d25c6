"""File fingerprints for provenance and cache keys (one implementation for every package)."""
from __future__ import annotations

import hashlib
from os import PathLike


def file_sha256(path: str | PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
