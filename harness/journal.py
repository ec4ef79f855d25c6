"""The results journal: each finished trial × candidate of a study, written to ``OUT/journal/`` as it finishes.

A study that is killed (a crash, Ctrl-C, the machine going down, the Dask scheduler going away) loses only the
tasks that were running: ``stancebench validate --resume`` reads the journal and computes only what is missing.
Each entry is one JSON file named by its key, written atomically (a temporary file in the same folder, then
``os.replace``), so a reader never sees half an entry and two writers of one key leave one whole entry.

The key is the sha256 of everything a task's result depends on: the sha256 of each of its input files (gold
standard, videos, calibration, truth, annotations, marker mapping, candidate model), the trial and subject as the
manifest gives them, the candidate's identity (name, backbone, parameters, view, control, model sha256, runtime),
the study settings that change numbers, the protocol definition and the versions of stancebench and the
libraries whose numbers end up in results. A task whose inputs changed therefore has another key and is computed
again; an entry of another study in the same folder is never read.

An outcome must come back exactly as it was computed, so that a resumed study's results equal an uninterrupted
one's: floats are written by ``repr`` (the shortest text that reads back to the same bits; NaN and infinities
as ``NaN``/``Infinity``), numpy arrays as their raw bytes (base64) with dtype and shape, tuples and numpy scalars
tagged. A value of any other type is a bug of the pipeline's row and raises ``TypeError`` naming it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ground_truth.kernel import StancebenchError, file_sha256, write_text_atomic

if TYPE_CHECKING:
    from .pipeline import TrialOutcome

#: Bump when what an entry holds or how its key is made changes: entries of an older format are never read.
JOURNAL_FORMAT = 1
#: The folder of the journal inside a study's output folder.
JOURNAL_DIR = "journal"
#: Settings that decide how a study runs, not what it computes: left out of the key.
RUNTIME_SETTINGS = ("workers", "cache_dir")
#: ``error_type`` of a row whose worker process died: never journaled, a resumed study runs it again.
WORKER_DIED = "WorkerProcessDied"
_TAGS = ("__nd__", "__np__", "__tuple__", "__dict__", "__path__")


# ------------------------------------------------------------------------------------------------- encoding
def encode(obj: Any) -> Any:
    """``obj`` as JSON-ready values that :func:`decode` turns back into an equal object (arrays bit-identical)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"journal: cannot store a numpy array of dtype object (shape {obj.shape})")
        data = np.ascontiguousarray(obj).tobytes()
        return {"__nd__": obj.dtype.str, "shape": list(obj.shape), "data": base64.b64encode(data).decode("ascii")}
    if isinstance(obj, np.generic):
        return {"__np__": obj.dtype.str, "v": encode(obj.item())}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v) for v in obj]}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in obj):
            return {k: encode(v) for k, v in obj.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, os.PathLike):
        return {"__path__": os.fspath(obj)}
    raise TypeError(f"journal: cannot store a value of type {type(obj).__module__}.{type(obj).__qualname__}")


def decode(obj: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__nd__" in obj:
        arr = np.frombuffer(base64.b64decode(obj["data"]), dtype=np.dtype(obj["__nd__"]))
        return arr.reshape(obj["shape"]).copy()      # writable, like the array that was stored
    if "__np__" in obj:
        return np.dtype(obj["__np__"]).type(decode(obj["v"]))
    if "__tuple__" in obj:
        return tuple(decode(v) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {decode(k): decode(v) for k, v in obj["__dict__"]}
    if "__path__" in obj:
        return Path(obj["__path__"])
    return {k: decode(v) for k, v in obj.items()}


# ------------------------------------------------------------------------------------------------- keys
def _task_files(task: dict) -> list[str]:
    """Every input file a task reads (the candidate's model file is in its identity)."""
    from .manifest.model import trial_input_files

    trial = task["trial"]
    files = [path for _, path in trial_input_files(trial)]
    mm = trial.get("marker_map")
    if mm and os.path.isfile(mm):       # a mapping TOML; a built-in mapping's name is in the trial itself
        files.append(mm)
    cand = task.get("candidate") or {}
    if cand.get("manifest") and os.path.isfile(cand["manifest"]):
        files.append(cand["manifest"])
    return [os.fspath(f) for f in files]


def _digest(path: str, digests: dict[str, str]) -> str:
    if path not in digests:
        try:
            digests[path] = file_sha256(path)
        except OSError as exc:
            # the task will fail on it and be journaled as failed; a file that appears later changes the key
            digests[path] = f"unreadable: {exc.strerror or exc}"
    return digests[path]


def _candidate_identity(spec: dict | None, idents: dict[str, Any]) -> Any:
    """The candidate's identity without inference (model sha256, runtime and its version), once per name."""
    if spec is None:
        return None
    name = spec["name"]
    if name not in idents:
        from .pipeline.candidate import candidate_identity
        try:
            idents[name] = candidate_identity(spec)
        except StancebenchError as exc:
            # not available here: the task will be recorded so, under a key that says why
            idents[name] = f"not available: {exc}"
    return idents[name]


def _versions() -> dict[str, str]:
    from .results import software_versions
    # the platform string names a kernel build, not the numbers; library versions do change numbers
    return {k: v for k, v in software_versions().items() if k != "platform"}


def task_keys(tasks: list[dict]) -> list[str]:
    """The journal key of each task (see the module notes); each input file is hashed once."""
    digests: dict[str, str] = {}
    idents: dict[str, Any] = {}
    versions = _versions()
    keys = []
    for task in tasks:
        settings = {k: v for k, v in (task.get("settings") or {}).items() if k not in RUNTIME_SETTINGS}
        content = {"format": JOURNAL_FORMAT, "versions": versions, "trial": task["trial"],
                   "subject": task.get("subject"), "candidate": task.get("candidate"),
                   "candidate_identity": _candidate_identity(task.get("candidate"), idents),
                   "settings": settings, "protocol_def": task.get("protocol_def"),
                   "files": {f: _digest(f, digests) for f in _task_files(task)}}
        blob = json.dumps(content, sort_keys=True, default=str, allow_nan=True)
        keys.append(hashlib.sha256(blob.encode()).hexdigest())
    return keys


# ------------------------------------------------------------------------------------------------- the journal
class Journal:
    """The entries of one study's output folder, ``<out>/journal/<key>.json``.

    Parameters
    ----------
    out_dir : path-like
        The study's output folder.
    """

    def __init__(self, out_dir: str | os.PathLike):
        self.root = Path(out_dir) / JOURNAL_DIR
        #: Entries that could not be read back (recomputed), "<file>: <reason>" each.
        self.unreadable: list[str] = []

    def path_for(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def keys(self) -> set[str]:
        """Keys of the entries on disk."""
        if not self.root.is_dir():
            return set()
        return {p.stem for p in self.root.glob("*.json")}

    def clear(self) -> int:
        """Remove every entry (and any temporary file a killed writer left); how many entries were removed."""
        if not self.root.is_dir():
            return 0
        n = 0
        for p in self.root.iterdir():
            if p.is_file() and (p.suffix == ".json" or p.name.endswith(".tmp")):
                n += p.suffix == ".json"
                p.unlink()
        return n

    def write(self, key: str, outcome: TrialOutcome) -> bool:
        """Store ``outcome`` under ``key``; False (nothing written) for a row whose worker died, which a resumed
        study must run again."""
        if outcome.row.get("error_type") == WORKER_DIED:
            return False
        entry = {"format": JOURNAL_FORMAT, "key": key, "trial_id": outcome.row.get("trial_id"),
                 "candidate": outcome.row.get("candidate"),
                 "outcome": {"row": encode(outcome.row), "figures": encode(outcome.figures)}}
        write_text_atomic(self.path_for(key), json.dumps(entry, allow_nan=True, separators=(",", ":")),
                          field="journal")
        return True

    def read(self, key: str) -> TrialOutcome | None:
        """The outcome stored under ``key``, or None when there is none or it cannot be read back (recorded in
        :attr:`unreadable`; the task is then computed again and its entry overwritten)."""
        from .pipeline import TrialOutcome
        path = self.path_for(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.unreadable.append(f"{path}: {exc}")
            return None
        try:
            if entry["format"] != JOURNAL_FORMAT or entry["key"] != key:
                raise ValueError(f"format {entry['format']!r} for key {entry['key']!r}")
            return TrialOutcome(decode(entry["outcome"]["row"]), decode(entry["outcome"]["figures"]))
        except (KeyError, TypeError, ValueError) as exc:     # an entry edited or cut by hand
            self.unreadable.append(f"{path}: not a journal entry of this stancebench ({exc})")
            return None

    def read_many(self, keys: Iterable[str]) -> dict[str, TrialOutcome]:
        """The stored outcomes of those of ``keys`` that have a readable entry."""
        on_disk = self.keys()
        out = {}
        for key in keys:
            if key in on_disk and key not in out:
                got = self.read(key)
                if got is not None:
                    out[key] = got
        return out
