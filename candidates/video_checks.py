"""A video against its own declaration: what the container says it holds (frame count, stream or container
duration, frame rate) and whether the frames read fall short of it.

A truncated file decodes only the frames its bytes still hold and the decoder may not say so (with frame
threading FFmpeg drops the error at the cut), so decoding fewer frames than declared, beyond a small tolerance,
is partial (:class:`VideoCompleteness`); a time scale or frame rate no camera produces is an error as soon as
the file is opened. :mod:`candidates.video` reads frames and asks this module whether they are all there.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import BOUNDS, ReaderError, require_plausible

#: A video may fall short of its own declaration by this many frames (or this fraction of them, whichever is
#: larger) and still count as complete: muxers disagree with decoders by a frame or two (an edit list that
#: trims an encoder-priming frame, a last frame whose duration is guessed).
PARTIAL_TOLERANCE_FRAMES = 2
PARTIAL_TOLERANCE_FRACTION = 0.02
#: Lowest frame rate read as a video. ``BOUNDS["frame_rate_hz"]`` only requires a rate above 0; below 1 fps
#: no balance trial can be followed, and in practice such a rate comes from a corrupted time scale (an MP4
#: 'mdhd' time scale of 0, which FFmpeg replaces by 1 tick per second, gives 1/512 fps on a 30-fps file).
MIN_VIDEO_FPS = 1.0
#: The container's duration spans every stream (audio too): when the file holds other streams, a shortfall
#: against it is judged with this wider margin (s, and fraction) so that a longer audio track is not a gap.
CONTAINER_DURATION_SLACK_S = 1.0
CONTAINER_DURATION_SLACK_FRACTION = 0.10

@dataclass(frozen=True)
class VideoCompleteness:
    """How many frames a video gave against what its container declares.

    ``partial`` is True when the shortfall is above the tolerance (:data:`PARTIAL_TOLERANCE_FRAMES`,
    :data:`PARTIAL_TOLERANCE_FRACTION`) or the decoder failed part-way; ``reason`` then says what is missing in
    words fit for a results note. ``stopped_early`` marks a read the caller cut short (``max_frames``), which
    is never judged partial.
    """

    path: str
    n_frames: int                               # frames decoded (or demuxed, for probe_video)
    n_declared: int | None                      # frames the container declares (None: not declared)
    duration_s: float                           # time the frames read cover (last - first + one interval)
    declared_duration_s: float | None           # duration the container declares (None: not declared)
    declared_from: str = ""                     # "stream" or "container"
    partial: bool = False
    reason: str = ""
    decoder_error: str | None = None
    stopped_early: bool = False

    @property
    def missing_frames(self) -> int | None:
        """Declared frames that were not read (None when the container declares no frame count)."""
        return None if self.n_declared is None else max(0, self.n_declared - self.n_frames)

    @property
    def missing_s(self) -> float | None:
        """Declared seconds not covered by the frames read (None when no duration is declared)."""
        if self.declared_duration_s is None:
            return None
        return max(0.0, self.declared_duration_s - self.duration_s)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "VideoCompleteness":
        """Back from :meth:`to_dict` (e.g. the ``meta`` of a cached track)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a track's ``meta`` or a results note."""
        return {"path": self.path, "n_frames": self.n_frames, "n_declared": self.n_declared,
                "missing_frames": self.missing_frames, "duration_s": self.duration_s,
                "declared_duration_s": self.declared_duration_s, "missing_s": self.missing_s,
                "declared_from": self.declared_from, "partial": self.partial, "reason": self.reason,
                "decoder_error": self.decoder_error, "stopped_early": self.stopped_early}


@dataclass(frozen=True)
class Declared:
    n_frames: int | None
    duration_s: float | None
    source: str                 # "stream", "container" or ""
    fps: float | None
    other_streams: bool


def read_declaration(container, stream, path: Path) -> Declared:
    """What the container says the video stream holds; a time base, rate or duration no camera gives is an
    error (ReaderError naming the file and the field)."""
    tb = stream.time_base
    if tb is None or tb <= 0:
        raise ReaderError(f"the video stream's time base is {tb}", file=path, field="time_base",
                          expected="a positive time scale (ticks per second)")
    b = BOUNDS["frame_rate_hz"]
    rate = stream.average_rate
    fps = float(rate) if rate else None           # 0 or None: not declared (some VFR WebM files)
    if fps is not None and not MIN_VIDEO_FPS <= fps <= b.high:
        raise ReaderError(f"the declared frame rate is {fps:.6g} fps (time base {tb})", file=path,
                          field="frame rate", expected=f"{MIN_VIDEO_FPS:g} to {b.high:g} fps (a corrupted time "
                                                       f"scale gives a rate no camera records at)")
    n = int(stream.frames or 0) or None
    duration, source = None, ""
    if stream.duration is not None and stream.duration > 0:
        duration, source = float(stream.duration * tb), "stream"
    elif container.duration is not None and container.duration > 0:
        import av
        duration, source = container.duration / av.time_base, "container"
    if duration is not None:
        require_plausible(duration, "duration_s", file=path, field=f"{source} duration")
    return Declared(n, duration, source, fps, len(container.streams) > 1)


def judge_completeness(path: Path, declared: Declared, times: Sequence[float], *, decoder_error: str | None = None,
                  stopped_early: bool = False) -> VideoCompleteness:
    """Frames read against the declaration; ``partial`` when the shortfall is above the tolerance."""
    n = len(times)
    if n >= 2:
        interval = float(np.median(np.diff(np.asarray(times, dtype=float))))
    else:
        interval = 1.0 / declared.fps if declared.fps else 0.0
    span = float(times[-1] - times[0]) + interval if n else 0.0
    reasons = []
    if not stopped_early:
        if declared.n_frames is not None:
            missing = declared.n_frames - n
            if missing > max(PARTIAL_TOLERANCE_FRAMES, PARTIAL_TOLERANCE_FRACTION * declared.n_frames):
                reasons.append(f"{n} of the {declared.n_frames} frames the container declares "
                               f"({missing} missing)")
        if declared.duration_s is not None:
            slack = max(2 * interval, PARTIAL_TOLERANCE_FRACTION * declared.duration_s)
            if declared.source == "container" and declared.other_streams:
                slack = max(slack, CONTAINER_DURATION_SLACK_S,
                            CONTAINER_DURATION_SLACK_FRACTION * declared.duration_s)
            if declared.duration_s - span > slack:
                reasons.append(f"{span:.3f} s of the {declared.duration_s:.3f} s the {declared.source} declares "
                               f"({declared.duration_s - span:.3f} s missing)")
        if decoder_error is not None:
            reasons.append(f"the decoder failed after frame {n - 1} ({decoder_error})" if n else
                           f"the decoder failed at the first frame ({decoder_error})")
    return VideoCompleteness(path=str(path), n_frames=n, n_declared=declared.n_frames, duration_s=span,
                             declared_duration_s=declared.duration_s, declared_from=declared.source,
                             partial=bool(reasons), reason="; ".join(reasons), decoder_error=decoder_error,
                             stopped_early=stopped_early)


def check_timing(path: Path, times: Sequence[float]) -> None:
    """The frame rate the timestamps themselves give must be one a camera records at."""
    if len(times) < 2:
        return
    fps = (len(times) - 1) / (times[-1] - times[0])
    high = BOUNDS["frame_rate_hz"].high
    if not MIN_VIDEO_FPS <= fps <= high:
        raise ReaderError(f"its {len(times)} frame timestamps span {times[-1] - times[0]:.6g} s, a mean rate of "
                          f"{fps:.6g} fps", file=path, field="pts",
                          expected=f"{MIN_VIDEO_FPS:g} to {high:g} fps (a corrupted time scale gives a rate no "
                                   f"camera records at)")


def refuse_partial(c: VideoCompleteness, what: str) -> ReaderError:
    return ReaderError(f"{what} {c.reason}", file=c.path, field="frames",
                       expected="a complete video, not a truncated or damaged file")


def require_complete(completeness: VideoCompleteness | dict[str, Any] | None) -> None:
    """Raise the ReaderError of a partial video (naming the file and what is missing); None or a complete
    video passes. For results read back later, e.g. a cached track whose ``meta["video_completeness"]`` was
    recorded by a run that accepted a partial video."""
    if completeness is None:
        return
    c = completeness if isinstance(completeness, VideoCompleteness) else VideoCompleteness.from_dict(completeness)
    if c.partial:
        raise refuse_partial(c, "decoded")
