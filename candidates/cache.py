"""On-disk cache of keypoint tracks, keyed by video sha256 + model sha256 + parameters.

Pose inference is the slow part of a study; a track depends only on the video bytes, the model bytes, the
runtime and the candidate's parameters, so those form the key (see ``Candidate.cache_key``) and a second run
reads the stored track instead of inferring again. Tracks are stored in the stable track-JSON format, written
atomically (temporary file + rename), so parallel workers never read half-written files.

The default folder is ``$STANCEBENCH_CACHE`` when set, else ``~/.cache/stancebench``.
"""
from __future__ import annotations

import os
import tempfile
from os import PathLike
from pathlib import Path

from ground_truth.kernel import InputError

from .track import KeypointTrack

CACHE_ENV = "STANCEBENCH_CACHE"


def default_cache_dir() -> Path:
    """``$STANCEBENCH_CACHE`` or ``~/.cache/stancebench``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "stancebench"


class TrackCache:
    """Tracks stored as ``<dir>/tracks/<key[:2]>/<key>.json``."""

    def __init__(self, cache_dir: str | PathLike | None = None):
        self.root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        if self.root.exists() and not self.root.is_dir():
            raise InputError("cache location exists and is not a folder", file=self.root, field="cache_dir",
                             expected="a folder (or a path that can be created)")

    def path_for(self, key: str) -> Path:
        return self.root / "tracks" / key[:2] / f"{key}.json"

    def get(self, key: str) -> KeypointTrack | None:
        """The cached track, or None (a corrupt entry is ignored and will be overwritten)."""
        path = self.path_for(key)
        if not path.exists():
            return None
        try:
            return KeypointTrack.from_json(path)
        except InputError:
            return None

    def put(self, key: str, track: KeypointTrack) -> Path:
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            track.to_json(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def clear(self) -> int:
        """Delete every cached track; returns how many were removed."""
        n = 0
        for p in (self.root / "tracks").glob("*/*.json"):
            p.unlink()
            n += 1
        return n
