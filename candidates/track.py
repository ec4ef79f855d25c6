"""The keypoint track every candidate produces, and its stable JSON exchange format.

A track holds, for T frames: timestamps in seconds on the candidate's own clock (the video's real per-frame
timestamps, never an assumed constant fps), keypoints (T, K, D) in pixels with D = 2 (x, y) or 3 (x, y, z),
a confidence/visibility (T, K) in [0, 1], NaN for frames where no person was found, the skeleton schema,
the image size and the candidate's identity.

JSON format (read by other tools; keep it stable)::

    {"schema": "blazepose33" | "coco17", "image_width": W, "image_height": H,
     "candidate": {"name": ..., "model_sha256": ..., "runtime": ..., "runtime_version": ..., "params": {...}},
     "times_s": [t0, t1, ...],
     "keypoints": [[[x, y, conf], ... K], ... T]}

``null`` marks a missing value (a whole frame of ``null`` triples is a frame with no person). 3-D tracks store
``[x, y, z, conf]``. An optional ``"meta"`` object carries provenance (video path and sha256, ...).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ReaderError, atomic_output, check_option, jsonable, read_text_file

from .skeletons import SCHEMAS, convert_keypoints

#: Version of the JSON layout written by :meth:`KeypointTrack.to_json` (stored as ``"format_version"``).
TRACK_FORMAT_VERSION = 1
#: Largest keypoint coordinate kept (|value|, pixels or metres). Not in ``BOUNDS``: no image is a million
#: pixels across and no 3-D keypoint lies a thousand kilometres away, so a larger value is a corrupted file,
#: masked to NaN and counted in ``meta["notes"]`` rather than carried into a KPI.
MAX_ABS_COORDINATE = 1e6
#: Largest image side (pixels) of a video, a camera or a track. Not in ``BOUNDS``: the largest video sensors
#: record 8K (7680 px); a side beyond 32768 px is a corrupted file, and rendering it would allocate gigabytes
#: per frame.
MAX_IMAGE_SIDE = 32768


@dataclass
class KeypointTrack:
    times_s: np.ndarray                 # (T,) seconds, candidate clock, strictly increasing
    keypoints: np.ndarray               # (T, K, D) pixels (x right, y down); NaN where missing
    confidence: np.ndarray              # (T, K) in [0, 1]; NaN where missing
    schema: str                         # "blazepose33" | "coco17"
    image_width: int
    image_height: int
    candidate: dict[str, Any] = field(default_factory=dict)  # name, model_sha256, runtime, version, params
    meta: dict[str, Any] = field(default_factory=dict)       # video path, sha256, ...

    @property
    def n_frames(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def n_keypoints(self) -> int:
        return int(self.keypoints.shape[1])

    @property
    def detected(self) -> np.ndarray:
        """(T,) bool: frames where a person was found."""
        return ~np.all(np.isnan(self.keypoints[..., 0]), axis=1)

    @property
    def detection_rate(self) -> float:
        return float(np.mean(self.detected)) if self.n_frames else float("nan")

    @property
    def n_missing_frames(self) -> int:
        """Number of frames with no person (all keypoints NaN)."""
        return int(self.n_frames - np.count_nonzero(self.detected))

    # ------------------------------------------------------------------ checks
    def validate(self, source: str | PathLike | None = None) -> "KeypointTrack":
        """Check shapes, schema, timestamps and ranges; raise InputError naming what is wrong.

        Returns the track itself (coerced to float arrays) so calls can be chained.
        """
        times = np.asarray(self.times_s, dtype=float)
        kp = np.asarray(self.keypoints, dtype=float)
        conf = np.asarray(self.confidence, dtype=float)
        if self.schema not in SCHEMAS:
            raise InputError(f"unknown skeleton schema {self.schema!r}", file=source, field="schema",
                             expected=f"one of {', '.join(SCHEMAS)}")
        k_expected = len(SCHEMAS[self.schema])
        if times.ndim != 1:
            raise InputError(f"times have shape {times.shape}", file=source, field="times_s",
                             expected="a 1-D array of seconds")
        if kp.ndim != 3 or kp.shape[0] != times.shape[0] or kp.shape[1] != k_expected or kp.shape[2] not in (2, 3):
            raise InputError(f"keypoints have shape {kp.shape}", file=source, field="keypoints",
                             expected=f"({times.shape[0]}, {k_expected}, 2 or 3) for {times.shape[0]} frames "
                                      f"of schema {self.schema}")
        if conf.shape != kp.shape[:2]:
            raise InputError(f"confidence has shape {conf.shape}", file=source, field="confidence",
                             expected=f"{kp.shape[:2]}")
        if not np.all(np.isfinite(times)):
            raise InputError("timestamps contain NaN or infinity", file=source, field="times_s",
                             expected="finite seconds for every frame")
        if times.size > 1:
            steps = np.diff(times)
            if np.any(steps <= 0):
                i = int(np.argmax(steps <= 0))
                raise InputError(f"timestamps are not strictly increasing at frame {i + 1} "
                                 f"({times[i]:.6f} s then {times[i + 1]:.6f} s)", file=source, field="times_s",
                                 expected="strictly increasing seconds")
        with np.errstate(invalid="ignore"):
            bad = (conf < -1e-6) | (conf > 1 + 1e-6)
        if np.any(bad):
            t, k = np.argwhere(bad)[0]
            raise InputError(f"confidence {conf[t, k]!r} out of range at frame {t}, keypoint {k}", file=source,
                             field="confidence", expected="values in [0, 1] or null")
        for name, value in (("image_width", self.image_width), ("image_height", self.image_height)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 < value <= MAX_IMAGE_SIDE:
                raise InputError(f"{name} is {value!r}", file=source, field=name,
                                 expected=f"a positive integer of at most {MAX_IMAGE_SIDE} pixels")
        with np.errstate(invalid="ignore"):
            implausible = np.isinf(kp) | (np.abs(kp) > MAX_ABS_COORDINATE)
        if np.any(implausible):
            n_inf = int(np.isinf(kp).sum())
            frames = np.flatnonzero(np.any(implausible, axis=(1, 2)))
            kp = np.where(implausible, np.nan, kp)
            note = (f"{int(implausible.sum())} keypoint coordinate(s) set to NaN as implausible ({n_inf} infinite, "
                    f"the rest beyond ±{MAX_ABS_COORDINATE:g}) in {frames.size} frame(s), first frame {frames[0]}")
            if source is not None:
                note = f"{source}: {note}"
            self.meta = dict(self.meta)
            self.meta["notes"] = list(self.meta.get("notes") or []) + [note]
        self.times_s, self.keypoints, self.confidence = times, kp, conf
        self.image_width, self.image_height = int(self.image_width), int(self.image_height)
        return self

    # ------------------------------------------------------------------ conversions
    def between(self, t0: float, t1: float) -> "KeypointTrack":
        """The frames with ``t0 <= time < t1`` (half-open, as every analysis window of the harness)."""
        keep = (self.times_s >= t0) & (self.times_s < t1)
        return KeypointTrack(self.times_s[keep], self.keypoints[keep], self.confidence[keep], self.schema,
                             self.image_width, self.image_height, dict(self.candidate), dict(self.meta))

    def every(self, frame_step: int) -> "KeypointTrack":
        """Every ``frame_step``-th frame from the first (what a candidate run with ``frame_step`` analyses)."""
        if frame_step == 1:
            return self
        sl = slice(None, None, frame_step)
        return KeypointTrack(self.times_s[sl], self.keypoints[sl], self.confidence[sl], self.schema,
                             self.image_width, self.image_height, dict(self.candidate), dict(self.meta))

    def to_schema(self, schema: str) -> "KeypointTrack":
        """Return a copy in another skeleton schema (see :mod:`candidates.skeletons` for the mapping)."""
        check_option("schema", schema, SCHEMAS)
        return KeypointTrack(
            times_s=self.times_s.copy(),
            keypoints=convert_keypoints(self.keypoints, self.schema, schema),
            confidence=convert_keypoints(self.confidence, self.schema, schema),
            schema=schema, image_width=self.image_width, image_height=self.image_height,
            candidate=dict(self.candidate), meta=dict(self.meta, converted_from=self.schema))

    def keypoint(self, name: str) -> np.ndarray:
        """(T, D) trajectory of one named keypoint (pixels, NaN where missing)."""
        from .skeletons import keypoint_index
        return self.keypoints[:, keypoint_index(self.schema, name)]

    def summary(self) -> dict[str, Any]:
        """Frames, detection rate and missing-frame count, for reports and the CLI."""
        return {"n_frames": self.n_frames, "n_detected": int(np.count_nonzero(self.detected)),
                "n_missing": self.n_missing_frames, "detection_rate": self.detection_rate,
                "duration_s": float(self.times_s[-1] - self.times_s[0]) if self.n_frames > 1 else 0.0}

    def to_dataframe(self):
        """Tidy table: one row per frame and keypoint (``time_s, frame, keypoint, x, y[, z], confidence``)."""
        import pandas as pd
        from .skeletons import SCHEMAS
        n, k, d = self.keypoints.shape
        cols = {"time_s": np.repeat(self.times_s, k), "frame": np.repeat(np.arange(n), k),
                "keypoint": np.tile(np.asarray(SCHEMAS[self.schema]), n)}
        for i, axis in enumerate("xyz"[:d]):
            cols[axis] = self.keypoints[..., i].ravel()
        cols["confidence"] = self.confidence.ravel()
        return pd.DataFrame(cols)

    def to_csv(self, path: str | PathLike) -> Path:
        """Wide CSV (``time_s, <name>_x, <name>_y[, <name>_z], <name>_conf``; empty cells = missing), the
        layout :func:`candidates.importers.read_keypoint_csv` reads."""
        import pandas as pd
        from .skeletons import SCHEMAS
        cols: dict[str, np.ndarray] = {"time_s": self.times_s}
        for j, name in enumerate(SCHEMAS[self.schema]):
            for i, axis in enumerate("xyz"[: self.keypoints.shape[2]]):
                cols[f"{name}_{axis}"] = self.keypoints[:, j, i]
            cols[f"{name}_conf"] = self.confidence[:, j]
        path = Path(path)
        with atomic_output(path, "w", newline="") as fh:
            pd.DataFrame(cols).to_csv(fh, index=False, float_format="%.6g")
        return path

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dictionary of the exchange format (``null`` for missing values)."""
        self.validate()
        values = np.concatenate([self.keypoints, self.confidence[..., None]], axis=2)
        # One vectorised object conversion instead of a Python test per value.
        obj = values.astype(object)
        obj[np.isnan(values)] = None
        return {
            "format_version": TRACK_FORMAT_VERSION,
            "schema": self.schema,
            "image_width": self.image_width,
            "image_height": self.image_height,
            "candidate": jsonable(self.candidate),
            "meta": jsonable(self.meta),
            "times_s": [float(t) for t in self.times_s],
            "keypoints": obj.tolist(),
        }

    def to_json(self, path: str | PathLike) -> Path:
        """Write the track in the exchange format, atomically; returns the path written.

        Raises :class:`ground_truth.kernel.OutputError` when it cannot be written (a full disk, a file where a
        folder should be); no partial or temporary file is left behind.
        """
        path = Path(path)
        text = json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))
        with atomic_output(path, "w", field="track") as fh:
            fh.write(text)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | PathLike | None = None) -> "KeypointTrack":
        """Build a track from the exchange-format dictionary, with errors naming the field at fault."""
        if not isinstance(data, dict):
            raise ReaderError("top level is not a JSON object", file=source, expected="a keypoint track object")
        for key in ("schema", "image_width", "image_height", "times_s", "keypoints"):
            if key not in data:
                raise ReaderError("required field is missing", file=source, field=key,
                                  expected="the keypoint track JSON format (see docs/candidates.md)")
        schema = data["schema"]
        if schema not in SCHEMAS:
            raise ReaderError(f"unknown schema {schema!r}", file=source, field="schema",
                              expected=f"one of {', '.join(SCHEMAS)}")
        k = len(SCHEMAS[schema])
        times = data["times_s"]
        frames = data["keypoints"]
        if not isinstance(times, list) or not isinstance(frames, list):
            raise ReaderError("times_s and keypoints must be lists", file=source, field="keypoints")
        if len(frames) != len(times):
            raise ReaderError(f"{len(frames)} keypoint frames for {len(times)} timestamps", file=source,
                              field="keypoints", expected="one keypoint frame per timestamp (null values for a "
                                                          "frame with no person, never a dropped frame)")
        width = None
        for t, frame in enumerate(frames):
            if not isinstance(frame, list) or len(frame) != k:
                n = len(frame) if isinstance(frame, list) else type(frame).__name__
                raise ReaderError(f"frame {t} has {n} landmarks", file=source, field="keypoints",
                                  expected=f"{k} landmarks per frame for schema {schema}")
            for j, point in enumerate(frame):
                if not isinstance(point, list) or (width is not None and len(point) != width) \
                        or len(point) not in (3, 4):
                    raise ReaderError(f"frame {t}, landmark {j} is {point!r}", file=source, field="keypoints",
                                      expected="[x, y, conf] (or [x, y, z, conf]) with null for missing values, "
                                               "the same length for every landmark")
                width = len(point)
        if width is None:
            width = 3
        try:
            values = np.array([[[np.nan if v is None else v for v in p] for p in f] for f in frames],
                              dtype=float).reshape(len(frames), k, width)
            times_arr = np.array([np.nan if v is None else v for v in times], dtype=float)
        except (TypeError, ValueError) as exc:
            raise ReaderError(f"non-numeric value ({exc})", file=source, field="keypoints",
                              expected="numbers or null") from None
        track = cls(times_s=times_arr, keypoints=values[..., :-1], confidence=values[..., -1], schema=schema,
                    image_width=data["image_width"], image_height=data["image_height"],
                    candidate=dict(data.get("candidate") or {}), meta=dict(data.get("meta") or {}))
        # A frame whose coordinates are missing has no meaningful confidence either.
        track.confidence[np.isnan(track.keypoints[..., 0])] = np.nan
        return track.validate(source)

    @classmethod
    def from_json(cls, path: str | PathLike) -> "KeypointTrack":
        """Read a track written in the exchange format (by stancebench or by an app)."""
        path = Path(path)
        # Checked before opening (a directory or FIFO is refused at once); bytes that are not UTF-8 are an
        # error naming their line.
        text = read_text_file(path, what="keypoint track JSON file")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReaderError(f"not valid JSON ({exc})", file=path, expected="a keypoint track JSON file") from None
        except RecursionError:
            raise ReaderError("JSON nested too deeply", file=path, expected="a keypoint track JSON file") from None
        return cls.from_dict(data, source=path)




def empty_track_arrays(n_frames: int, n_keypoints: int, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """NaN-filled keypoint (T, K, D) and confidence (T, K) arrays for a backbone to fill frame by frame."""
    return np.full((n_frames, n_keypoints, dims), np.nan), np.full((n_frames, n_keypoints), np.nan)
