"""Video reading with the real per-frame timestamps of the container (PyAV).

Phones record variable frame rate (VFR): the time between frames changes with exposure and load. A frame's
time is therefore read from its presentation timestamp (``pts × time_base``), never computed as
``index / fps``. Frames are returned in presentation order as RGB ``uint8`` arrays (H, W, 3), rotated
upright when the container carries a display rotation (portrait phone video).

A video is also checked against what its container declares (frame count, stream or container duration):
a truncated file decodes only the frames its bytes still hold and the decoder may not say so (with frame
threading FFmpeg drops the error at the cut), so decoding fewer frames than declared, beyond a small
tolerance, is an error naming the file, unless the caller accepts a partial video (``allow_partial=True``)
and records what is missing (:class:`VideoCompleteness`). A time scale or frame rate no camera produces (an
MP4 whose media time scale is 0 is read by FFmpeg at 1 tick per second) is an error as soon as the file is
opened.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import BOUNDS, InputError, ReaderError, check_input_file, require_plausible
from ground_truth.kernel import file_sha256  # noqa: F401 - re-exported: candidates import it from here

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

_EXPECTED_VIDEO = "a video file (MP4, MOV, WebM, ...)"


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


@dataclass
class VideoInfo:
    """What a video holds: size (upright, after rotation), codec, frame times and file hash."""
    path: Path
    width: int
    height: int
    codec: str
    times_s: np.ndarray = field(repr=False)   # (T,) presentation times in seconds, strictly increasing
    rotation_deg: int = 0
    sha256: str = ""
    completeness: VideoCompleteness | None = None

    @property
    def n_frames(self) -> int:
        return int(self.times_s.size)

    @property
    def mean_fps(self) -> float:
        """Frames per second averaged over the whole video (informative only; frame times are the truth)."""
        if self.times_s.size < 2:
            return float("nan")
        return float((self.times_s.size - 1) / (self.times_s[-1] - self.times_s[0]))

    @property
    def is_variable_frame_rate(self) -> bool:
        """True when frame intervals differ by more than 1 % of their median (phone-style VFR)."""
        if self.times_s.size < 3:
            return False
        d = np.diff(self.times_s)
        return bool(np.max(np.abs(d - np.median(d))) > 0.01 * np.median(d))


@dataclass(frozen=True)
class _Declared:
    n_frames: int | None
    duration_s: float | None
    source: str                 # "stream", "container" or ""
    fps: float | None
    other_streams: bool


def _open(path: Path):
    import av
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    # Directories, FIFOs and devices are refused from stat alone: FFmpeg would block on a FIFO or read
    # /dev/zero for ever.
    check_input_file(path, what="video file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise ReaderError(f"cannot be opened as a video ({exc})", file=path, expected=_EXPECTED_VIDEO) from None
    if not container.streams.video:
        container.close()
        raise ReaderError("has no video stream", file=path, expected="a file with one video stream")
    return container


def _declared(container, stream, path: Path) -> _Declared:
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
    return _Declared(n, duration, source, fps, len(container.streams) > 1)


def _completeness(path: Path, declared: _Declared, times: Sequence[float], *, decoder_error: str | None = None,
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


def _check_timing(path: Path, times: Sequence[float]) -> None:
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


def _refuse_partial(c: VideoCompleteness, what: str) -> ReaderError:
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
        raise _refuse_partial(c, "decoded")


def _upright(img: np.ndarray, rotation: int) -> np.ndarray:
    # Display rotation is counter-clockwise degrees to apply for upright display.
    k = (int(round(rotation / 90.0))) % 4
    return np.ascontiguousarray(np.rot90(img, k=k)) if k else img


class VideoFrames:
    """The frames of a video, in presentation order, as ``(time_s, rgb_frame)`` pairs (an iterator).

    Once the iteration has ended by itself (not cut short by the caller), :attr:`completeness` tells how many
    frames were decoded against the container's declaration. See :func:`iter_frames` for the parameters.
    """

    def __init__(self, path: str | PathLike, *, max_frames: int | None = None, start_s: float | None = None,
                 allow_partial: bool = False):
        if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer))
                                       or max_frames < 1):
            raise InputError(f"max_frames is {max_frames!r}", field="max_frames", expected="a positive integer")
        if start_s is not None and not math.isfinite(start_s):
            raise InputError(f"start_s is {start_s!r}", field="start_s", expected="a finite time in seconds")
        self.path = Path(path)
        self.max_frames = max_frames
        self.start_s = start_s
        self.allow_partial = bool(allow_partial)
        #: set when the iteration ends by itself or at ``max_frames``
        self.completeness: VideoCompleteness | None = None
        self._gen = self._frames()

    def __iter__(self) -> "VideoFrames":
        return self

    def __next__(self) -> tuple[float, np.ndarray]:
        return next(self._gen)

    def close(self) -> None:
        """Stop early and release the file."""
        self._gen.close()

    def _frames(self) -> Iterator[tuple[float, np.ndarray]]:
        import av
        path = self.path
        container = _open(path)
        times: list[float] = []
        n_out = 0
        error = None
        stopped = False
        try:
            stream = container.streams.video[0]
            declared = _declared(container, stream, path)
            stream.thread_type = "AUTO"
            try:
                for frame in container.decode(stream):
                    i = len(times)
                    if frame.pts is None:
                        raise ReaderError(f"frame {i} has no presentation timestamp", file=path, field="pts",
                                          expected="a container with per-frame timestamps")
                    t = float(frame.pts * frame.time_base)
                    if times and t <= times[-1]:
                        raise ReaderError(f"frame {i} has timestamp {t:.6f} s, not after the previous "
                                          f"{times[-1]:.6f} s", file=path, field="pts",
                                          expected="strictly increasing frame timestamps")
                    times.append(t)
                    if self.start_s is not None and t < self.start_s:
                        continue
                    img = frame.to_ndarray(format="rgb24")
                    yield t, _upright(img, getattr(frame, "rotation", 0) or 0)
                    n_out += 1
                    if self.max_frames is not None and n_out >= self.max_frames:
                        stopped = True
                        break
            except av.error.FFmpegError as exc:
                if not self.allow_partial:
                    raise ReaderError(f"decoding failed at frame {len(times)} ({exc})", file=path,
                                      field="frames", expected="a complete, decodable video") from None
                error = str(exc)
        finally:
            container.close()
        if not times:
            raise ReaderError("contains no decodable video frames", file=path, expected="at least one frame")
        _check_timing(path, times)
        c = _completeness(path, declared, times, decoder_error=error, stopped_early=stopped)
        if c.partial and not self.allow_partial:
            raise _refuse_partial(c, "decoded")
        self.completeness = c


def iter_frames(path: str | PathLike, *, max_frames: int | None = None, start_s: float | None = None,
                allow_partial: bool = False) -> VideoFrames:
    """Yield ``(time_s, rgb_frame)`` for each decoded frame, in presentation order.

    Parameters
    ----------
    path : path-like
        The video file.
    max_frames : int, optional
        Stop after this many frames (for short clips in tests and benchmarks; such a read is not judged
        partial).
    start_s : float, optional
        Skip frames whose time is before this (still decoded; no seeking, so times stay exact).
    allow_partial : bool
        Accept a video that decodes fewer frames (or a shorter time) than its container declares, or whose
        decoder fails part-way: the frames that decode are yielded and the returned iterator's
        ``completeness`` (a :class:`VideoCompleteness`, set once the iteration ends) says what is missing, so
        a study can flag the trial. By default such a video is an error.

    Returns
    -------
    VideoFrames
        An iterator of ``(time_s, rgb_frame)``; ``.completeness`` after it is exhausted.

    Raises
    ------
    ReaderError
        The file is not a readable video (a directory, FIFO or device is refused before opening), has no
        frames, a frame has no timestamp or a timestamp that does not increase, the time scale or frame rate
        is implausible, the decoder fails at a frame (named), or, unless ``allow_partial``, fewer frames decode
        than the container declares beyond the tolerance (the error says how many of how many).
    """
    return VideoFrames(path, max_frames=max_frames, start_s=start_s, allow_partial=allow_partial)


def read_frames(path: str | PathLike, *, max_frames: int | None = None,
                allow_partial: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All frames at once: ``(times_s (T,), frames (T, H, W, 3) uint8)``. For short clips only."""
    times, frames = [], []
    for t, img in iter_frames(path, max_frames=max_frames, allow_partial=allow_partial):
        times.append(t)
        frames.append(img)
    return np.asarray(times), np.stack(frames)


def probe_video(path: str | PathLike, *, with_sha256: bool = True, allow_partial: bool = False) -> VideoInfo:
    """Frame times (from packet timestamps, without decoding pixels), size, codec, rotation and sha256.

    The packets found are checked against the container's declared frame count and duration as
    :func:`iter_frames` checks decoded frames (``info.completeness``); a partial video is an error unless
    ``allow_partial``. Demuxing alone cannot see a packet that does not decode: :func:`iter_frames` checks
    again.
    """
    import av
    path = Path(path)
    container = _open(path)
    error = None
    try:
        stream = container.streams.video[0]
        declared = _declared(container, stream, path)
        tb = stream.time_base
        pts = []
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    pts.append(packet.pts)
        except av.error.FFmpegError as exc:
            if not allow_partial:
                raise ReaderError(f"demuxing failed after {len(pts)} packets ({exc})", file=path,
                                  field="frames", expected="a complete video") from None
            error = str(exc)
        width, height, codec = stream.codec_context.width, stream.codec_context.height, stream.codec_context.name
    finally:
        container.close()
    if not pts:
        raise ReaderError("contains no video frames", file=path, expected="at least one frame")
    # Packets are in decode order; presentation order is sorted pts (B-frames).
    times = np.sort(np.asarray(pts, dtype=np.int64)) * float(Fraction(tb))
    _check_timing(path, times)
    completeness = _completeness(path, declared, times, decoder_error=error)
    if completeness.partial and not allow_partial:
        raise _refuse_partial(completeness, "holds")
    # Rotation lives on decoded frames (display matrix side data); the upright size follows from it.
    rotation = _first_rotation(path)
    if (rotation // 90) % 2:
        width, height = height, width
    return VideoInfo(path=path, width=int(width), height=int(height), codec=codec, times_s=times,
                     rotation_deg=rotation, sha256=file_sha256(path) if with_sha256 else "",
                     completeness=completeness)


def _first_rotation(path: Path) -> int:
    import av
    container = _open(path)
    try:
        for frame in container.decode(container.streams.video[0]):
            return int(getattr(frame, "rotation", 0) or 0)
    except av.error.FFmpegError as exc:
        raise ReaderError(f"decoding failed at frame 0 ({exc})", file=path, field="frames",
                          expected="a decodable video") from None
    finally:
        container.close()
    return 0


def write_video(path: str | PathLike, frames: np.ndarray | Sequence[np.ndarray], times_s: Sequence[float], *,
                codec: str = "libx264", time_base: Fraction = Fraction(1, 90000), crf: int = 18) -> Path:
    """Write RGB frames with explicit per-frame timestamps (variable frame rate allowed).

    Used to make small test videos (VFR clips, clips with blank frames). Each frame's pts is
    ``round(time / time_base)``; times must be strictly increasing and representable in ``time_base``.
    """
    import av
    path = Path(path)
    times = np.asarray(times_s, dtype=float)
    if times.ndim != 1 or len(frames) != times.size or times.size == 0:
        raise InputError(f"{len(frames)} frames for {times.size} timestamps", field="times_s",
                         expected="one timestamp per frame")
    pts = np.round(times / float(time_base)).astype(np.int64)
    if np.any(np.diff(pts) <= 0):
        raise InputError("timestamps are not strictly increasing at the time base resolution", field="times_s",
                         expected=f"strictly increasing multiples of {time_base}")
    h, w = np.asarray(frames[0]).shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=max(1, int(round((times.size - 1) / max(times[-1] - times[0], 1e-9))))
                                if times.size > 1 else 30)
        stream.width, stream.height = int(w), int(h)
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "libx264":
            stream.options = {"crf": str(crf)}
        for img, p in zip(frames, pts):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img, dtype=np.uint8), format="rgb24")
            frame.pts = int(p)
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
