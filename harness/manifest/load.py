"""Reading a manifest file."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ground_truth.kernel import ManifestError, read_text_file

from .model import StudyManifest
from .parse import parse_manifest

def load_manifest(path: str | os.PathLike, *, data_root: str | os.PathLike | None = None,
                  check_candidates: bool = True) -> StudyManifest:
    """Read and validate a study manifest.

    Parameters
    ----------
    path : path-like
        The TOML manifest.
    data_root : path-like, optional
        Folder that relative file paths resolve against; overrides ``STANCEBENCH_DATA_ROOT`` and the
        manifest's ``[study] data_root``.
    check_candidates : bool
        Also check that every candidate can run on this machine (a ``ManifestError`` otherwise).

    Returns
    -------
    StudyManifest

    Raises
    ------
    ManifestError
        Listing every problem found, each with the field (``trials[2] (id 'S01-EO-1').video``) and what was
        expected.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ManifestError("manifest file not found", file=p, expected="a TOML study manifest")
    # a FIFO or a directory is refused before it is opened; bytes that are not UTF-8 are named by offset and line
    text = read_text_file(p, what="TOML study manifest", error=ManifestError)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"not valid TOML: {exc}", file=p) from None
    return parse_manifest(doc, path=p.resolve(), data_root=data_root, check_candidates=check_candidates)
