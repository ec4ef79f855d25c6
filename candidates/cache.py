"""On-disk cache of keypoint tracks, keyed by video sha256 + model sha256 + parameters.

Pose inference is the slow part of a study; a track depends only on the video bytes, the model bytes, the
runtime and the candidate's parameters, so those form the key (see ``Candidate.cache_key``) and a second run
reads the stored track instead of inferring again. Tracks are stored in the stable track-JSON format, written
atomically (a temporary file of a unique name in the entry's folder, fsync, ``os.replace``), so any number of
processes (local workers, Dask workers on a shared filesystem) may write and read one cache at once: a reader
sees no entry or a whole one, and when two write the same key the last rename wins with an equal track
(tests/test_cache_concurrency.py).

A track that cannot be stored (a full disk, no permission) costs only time: :meth:`TrackCache.put` never fails
the run that computed it, leaves no temporary file, names the failure in the track's ``meta["cache_error"]``
and counts it in this process's log of failed writes (:func:`take_write_failures`), which the study runner
turns into the trial's notes.

The default folder is ``$STANCEBENCH_CACHE`` when set, else ``$XDG_CACHE_HOME/stancebench``, else
``~/.cache/stancebench``.
"""
from __future__ import annotations

import json
import os
from os import PathLike
from pathlib import Path

from ground_truth.kernel import InputError, OutputError, write_text_atomic

from .track import KeypointTrack

CACHE_ENV = "STANCEBENCH_CACHE"

#: Failed writes of this process since the last :func:`take_write_failures`: "<file>: <reason>" each.
_FAILED_WRITES: list[str] = []


def take_write_failures() -> list[str]:
    """The cache writes that failed in this process since the last call ("<file>: <reason>" each), then forget
    them."""
    out = list(_FAILED_WRITES)
    del _FAILED_WRITES[:len(out)]
    return out


def default_cache_dir() -> Path:
    """``$STANCEBENCH_CACHE``, else ``$XDG_CACHE_HOME/stancebench``, else ``~/.cache/stancebench``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stancebench"


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
        """The cached track, or None (a corrupt or unreadable entry is ignored and will be overwritten)."""
        path = self.path_for(key)
        if not path.exists():
            return None
        try:
            return KeypointTrack.from_json(path)
        except (InputError, OSError):   # corrupt, unreadable, or not a file: computed again and overwritten
            return None

    def put(self, key: str, track: KeypointTrack) -> Path | None:
        """Store ``track`` under ``key``; the path written, or None when it could not be stored.

        A failed write (a full disk, a file where a folder should be, no permission) leaves neither a temporary
        nor a partial file; it is named in ``track.meta["cache_error"]`` and counted by
        :func:`take_write_failures`, and never raised: the track is computed, only the time saving is lost.
        """
        path = self.path_for(key)
        text = json.dumps(track.to_dict(), allow_nan=False, separators=(",", ":"))
        try:
            write_text_atomic(path, text, field="cache_dir")
        except OutputError as exc:
            why = exc.reason
            track.meta["cache_error"] = f"{path}: {why}"
            _FAILED_WRITES.append(f"{path}: {why}")
            return None
        return path

    def clear(self) -> int:
        """Delete every cached track; returns how many were removed."""
        n = 0
        for p in (self.root / "tracks").glob("*/*.json"):
            p.unlink()
            n += 1
        return n
