"""Common interface of every candidate pose backbone, the registry and parallel runs.

A *candidate* turns a video into a :class:`~candidates.track.KeypointTrack`. Each one records its identity
(name, kind, model file sha256, runtime and version, parameters) in the track, so a result can always be traced
to the exact model that produced it. Frame-based backbones implement :meth:`Candidate.new_session`, a
per-video stateful processor (tracking backbones carry the previous frame's region of interest); the base class
reads the frames with their real timestamps, fills NaN for frames with no person and caches results on disk.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ModelError, check_input_file, validate_type

from ..track import KeypointTrack


@dataclass(frozen=True)
class CandidateIdentity:
    """Who produced a track: recorded in every track and in results.json's ``candidates`` list."""
    name: str
    kind: str                               # "mediapipe" | "tflite" | "coreml" | "imported"
    model_sha256: str
    runtime: str
    runtime_version: str
    model_path: str = ""
    model_bytes: int = 0
    precision: str = "fp32"                 # "fp32" | "fp16" | "int8" | "dynamic-int8" | "unknown"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FrameSession(ABC):
    """Processes the frames of one video in order (state such as a tracked ROI lives here)."""

    @abstractmethod
    def process(self, rgb: np.ndarray, time_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Return ``(keypoints (K, D) pixels, confidence (K,))`` for one RGB frame, or None if no person."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (graphs, interpreters)."""


class Candidate(ABC):
    """A pose candidate: ``.identity`` and ``.run(video_path) -> KeypointTrack``."""

    #: "mediapipe" | "tflite" | "coreml" | "imported"
    kind: str = ""

    #: skeleton schema of the tracks this candidate produces
    schema: str = "blazepose33"
    #: coordinates per keypoint (2 = x, y in pixels)
    dims: int = 2

    def __init__(self) -> None:
        self.n_inferred_frames = 0   # frames actually run through the model (cache hits add nothing)

    @property
    @abstractmethod
    def identity(self) -> CandidateIdentity:
        """Name, model sha256, runtime and version, parameters."""

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        """``(name_or_manifest_path, params)`` that :func:`get_candidate` turns back into this candidate
        (used to rebuild it in worker processes)."""
        return self.identity.name, dict(self._spec_params)

    _spec_params: dict[str, Any] = {}

    @abstractmethod
    def new_session(self) -> FrameSession:
        """A fresh per-video processor."""

    def unavailable_reason(self) -> str | None:
        """Why this candidate cannot run on this machine (e.g. Core ML off macOS), or None when it can."""
        return None

    def cache_key(self, video_sha256: str, max_frames: int | None = None, frame_step: int = 1) -> str:
        ident = self.identity
        content = {"video": video_sha256, "model": ident.model_sha256, "name": ident.name,
                   "runtime": ident.runtime, "runtime_version": ident.runtime_version,
                   "params": ident.params, "max_frames": max_frames, "schema": self.schema}
        if frame_step != 1:     # keys of every-frame runs stay what they were: existing caches stay valid
            content["frame_step"] = frame_step
        payload = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def run(self, video_path: str | PathLike, *, cache_dir: str | PathLike | None = None, cache: bool = True,
            max_frames: int | None = None, frame_step: int = 1) -> KeypointTrack:
        """Run the candidate on a video and return its keypoint track.

        Parameters
        ----------
        video_path : path-like
            The video; frame times are read from its container (variable frame rate supported).
        cache_dir : path-like, optional
            Where cached tracks live (default: ``$STANCEBENCH_CACHE`` or ``~/.cache/stancebench``).
        cache : bool
            Set False to neither read nor write the cache.
        max_frames : int, optional
            Process only the first ``max_frames`` frames (short clips).
        frame_step : int
            Analyse every ``frame_step``-th frame from the first (1: every frame). Every frame is still decoded,
            so times stay the container's; the track holds the analysed frames only, and a study computes its
            sway KPIs at that frame rate. For a costly model compared on a budget (the demo's heavy BlazePose).

        Returns
        -------
        KeypointTrack
            ``meta`` holds the video path and sha256, ``cache_hit``, and ``ms_per_frame`` of the inference
            (NaN on a cache hit).
        """
        from ..cache import TrackCache
        from ..video import file_sha256

        video_path = Path(video_path)
        if not video_path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(video_path))
        # a directory or a FIFO would fail in hashing or block it: refuse it by its stat, naming the file
        check_input_file(video_path, what="video file", field="video")
        if max_frames is not None and (not isinstance(max_frames, (int, np.integer)) or max_frames < 1):
            raise InputError(f"max_frames is {max_frames!r}", field="max_frames", expected="a positive integer")
        check_frame_step(frame_step)
        video_sha = file_sha256(video_path)
        store = TrackCache(cache_dir) if cache else None
        key = self.cache_key(video_sha, max_frames, frame_step)
        if store is not None:
            hit = store.get(key)
            if hit is not None:
                hit.meta.update(cache_hit=True, video_path=str(video_path))
                return hit
        track = self._infer(video_path, max_frames=max_frames, frame_step=frame_step)
        track.meta.update(video_path=str(video_path), video_sha256=video_sha, cache_hit=False, cache_key=key)
        if store is not None:
            store.put(key, track)   # a failed write is recorded in track.meta["cache_error"], never raised
        return track

    def _infer(self, video_path: Path, *, max_frames: int | None, frame_step: int = 1) -> KeypointTrack:
        from ..video import iter_frames

        times, kps, confs = [], [], []
        width = height = None
        session = self.new_session()
        k = None
        t_model = 0.0
        try:
            for i, (t, rgb) in enumerate(iter_frames(video_path, max_frames=max_frames)):
                height, width = rgb.shape[:2]
                if i % frame_step:
                    continue
                t0 = time.perf_counter()
                out = session.process(rgb, t)
                t_model += time.perf_counter() - t0
                self.n_inferred_frames += 1
                times.append(t)
                if out is None:
                    kps.append(None)
                    confs.append(None)
                else:
                    kp, cf = out
                    k = kp.shape[0]
                    kps.append(np.asarray(kp, dtype=float)[:, : self.dims])
                    confs.append(np.asarray(cf, dtype=float))
        finally:
            session.close()
        from ..skeletons import SCHEMAS
        k = k or len(SCHEMAS[self.schema])
        n = len(times)
        keypoints = np.full((n, k, self.dims), np.nan)
        confidence = np.full((n, k), np.nan)
        for i, (kp, cf) in enumerate(zip(kps, confs)):
            if kp is not None:
                keypoints[i] = kp
                confidence[i] = cf
        track = KeypointTrack(times_s=np.asarray(times, dtype=float), keypoints=keypoints, confidence=confidence,
                              schema=self.schema, image_width=int(width), image_height=int(height),
                              candidate=self.identity.to_dict(),
                              meta={"ms_per_frame": 1000.0 * t_model / max(n, 1)})
        return track.validate(video_path)


def check_frame_step(frame_step) -> int:
    """``frame_step`` of :meth:`Candidate.run`: a positive integer (InputError naming the field otherwise)."""
    if isinstance(frame_step, bool) or not isinstance(frame_step, (int, np.integer)) or frame_step < 1:
        raise InputError(f"frame_step is {frame_step!r}", field="frame_step",
                         expected="a positive integer (1: every frame)")
    return int(frame_step)


# ---------------------------------------------------------------------------------------------- registry
def _model_dir() -> Path:
    import mediapipe
    return Path(mediapipe.__file__).parent / "modules"


def mediapipe_model_path(kind: str) -> Path:
    """Path of a model shipped in the mediapipe wheel: ``"detector"``, ``"lite"``, ``"full"`` or ``"heavy"``."""
    if kind == "detector":
        return _model_dir() / "pose_detection" / "pose_detection.tflite"
    return _model_dir() / "pose_landmark" / f"pose_landmark_{kind}.tflite"


def check_blazepose_options(static_image_mode: bool, smooth_landmarks: bool, min_detection_confidence: float,
                            min_tracking_confidence: float) -> None:
    """The tracking options both BlazePose runners take (MediaPipe's names): two flags and two thresholds in
    [0, 1]; InputError naming the option otherwise."""
    validate_type(static_image_mode, bool, "static_image_mode")
    validate_type(smooth_landmarks, bool, "smooth_landmarks")
    for nm, v in (("min_detection_confidence", min_detection_confidence),
                  ("min_tracking_confidence", min_tracking_confidence)):
        validate_type(v, "numeric", nm)
        if not 0.0 <= v <= 1.0:
            raise InputError(f"{nm} is {v}", field=nm, expected="a value in [0, 1]")


NAMES = ("mediapipe-full", "mediapipe-lite", "mediapipe-heavy", "blazepose-tflite", "render-truth",
         "degraded")


def get_candidate(name_or_path: str | PathLike, **params: Any) -> Candidate:
    """The candidate for a name, a candidate manifest (.toml) or a model file.

    Parameters
    ----------
    name_or_path : str or path-like
        ``"mediapipe-full"`` (MediaPipe BlazePose graph, model_complexity 1), ``"blazepose-tflite"`` (the
        exported detector + landmark .tflite run through LiteRT), a candidate manifest ``.toml`` (any .tflite,
        a BlazePose landmark variant, a Core ML model or imported keypoints), or a ``.mlpackage``/``.mlmodel``.
        Two control candidates check the harness itself (:mod:`candidates.backbones.controls`):
        ``"render-truth"`` (positive control: a rendered video's exact truth with realistic detection jitter)
        and ``"degraded"`` (negative control: a real backbone's track, ``base=``, with lag, left/right swaps
        and heavy smoothing). Also ``"blazepose-lite-tflite"``, ``"blazepose-heavy-tflite"`` and the ``-fp16`` /
        ``-int8`` variants of those and of ``"blazepose-tflite"``
        (:data:`candidates.backbones.blazepose_tflite.NAMED_CANDIDATES`): the models of :mod:`candidates.models`
        (``stancebench models install``) in the BlazePose TFLite pipeline.
    **params
        Options of that candidate (e.g. ``smooth_landmarks=False``, ``landmark_model=PATH``; for the controls
        ``truth=PATH``, ``jitter_px=`` or ``base="blazepose-tflite"``, ``base_params={...}``,
        ``smooth_tau_s=``, ``latency_frames=``, ``swap_fraction=``).

    Raises
    ------
    InputError
        Unknown name; ModelError for models that are unusable (not shipped, wrong format, wrong layout).
    """
    text = str(name_or_path)
    if text.startswith("mediapipe-"):
        from .mediapipe_graph import MediaPipeGraphCandidate
        complexity = {"mediapipe-lite": 0, "mediapipe-full": 1, "mediapipe-heavy": 2}.get(text)
        if complexity is None:
            raise InputError(f"unknown candidate {text!r}", field="candidate",
                             expected="mediapipe-full, blazepose-tflite or a manifest .toml")
        params.setdefault("model_complexity", complexity)
        return MediaPipeGraphCandidate(**params)
    if text == "blazepose-tflite":
        from .blazepose_tflite import BlazePoseTFLiteCandidate
        return BlazePoseTFLiteCandidate(**params)
    from .blazepose_tflite import NAMED_CANDIDATES
    if text in NAMED_CANDIDATES:
        # the lite/heavy models and the variants live in the models folder of candidates.models
        from .blazepose_tflite import named_candidate
        return named_candidate(text, **params)
    if text == "render-truth":
        from .controls import RenderTruthCandidate
        return RenderTruthCandidate(**params)
    if text == "degraded":
        from .controls import DegradedCandidate
        return DegradedCandidate(**params)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        from ..manifest import candidate_from_manifest
        return candidate_from_manifest(path, **params)
    if suffix in (".mlpackage", ".mlmodel"):
        from .coreml import CoreMLCandidate
        return CoreMLCandidate(path, **params)
    if suffix == ".tflite":
        # A bare .tflite is accepted when it is a BlazePose landmark model (e.g. a quantized variant): it then
        # runs in the full BlazePose pipeline. Any other layout needs a manifest.
        from .blazepose_tflite import BlazePoseTFLiteCandidate
        try:
            return BlazePoseTFLiteCandidate(landmark_model=path, **{"name": path.stem, **params})
        except ModelError as exc:
            if "TFLite flatbuffer" in str(exc):
                raise
            raise ModelError(f"is not a BlazePose landmark model ({exc.reason}); other .tflite models need a "
                             "candidate manifest (.toml) declaring input size, normalisation and output layout",
                             file=path, field="candidate", expected="a manifest .toml (see docs/candidates.md)") \
                from None
    raise InputError(f"unknown candidate {text!r}", field="candidate",
                     expected="mediapipe-full, blazepose-tflite, render-truth, degraded, a manifest .toml or a "
                              ".mlpackage/.mlmodel")


# ---------------------------------------------------------------------------------------------- parallel
def _run_one(spec: tuple[str, dict[str, Any]], video: str, cache_dir: str | None, cache: bool,
             max_frames: int | None) -> KeypointTrack:
    name, params = spec
    return get_candidate(name, **params).run(video, cache_dir=cache_dir, cache=cache, max_frames=max_frames)


def run_many(videos: Sequence[str | PathLike], candidate: Candidate | str, *, workers: int | None = None,
             cache_dir: str | PathLike | None = None, cache: bool = True,
             max_frames: int | None = None) -> list[KeypointTrack]:
    """Run one candidate on several videos in parallel worker processes; tracks come back in input order.

    Each worker rebuilds the candidate from its :attr:`Candidate.spec` (models are not pickled) and uses the
    same on-disk cache, so videos already processed are not inferred again. ``workers=None`` uses
    ``min(len(videos), os.cpu_count())``; ``workers=1`` runs in this process.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(candidate, (str, PathLike)):
        candidate = get_candidate(candidate)
    videos = [str(v) for v in videos]
    if not videos:
        return []
    n = workers or min(len(videos), os.cpu_count() or 1)
    cd = None if cache_dir is None else str(cache_dir)
    # Imported keypoints involve no inference: read them here.
    if n <= 1 or len(videos) == 1 or candidate.kind == "imported":
        return [candidate.run(v, cache_dir=cd, cache=cache, max_frames=max_frames) for v in videos]
    # spawn: MediaPipe and LiteRT hold threads that do not survive fork.
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_run_one, candidate.spec, v, cd, cache, max_frames) for v in videos]
        return [f.result() for f in futures]
