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

import numpy as np

from ground_truth.kernel import InputError, ReaderError, check_input_file
from ground_truth.kernel import file_sha256  # noqa: F401 - re-exported: candidates import it from here

# VideoCompleteness and require_complete are part of this module's API (callers import them from here)
from .video_checks import (VideoCompleteness, check_timing, judge_completeness, read_declaration,  # noqa: F401
                           refuse_partial, require_complete)

_EXPECTED_VIDEO = "a video file (MP4, MOV, WebM, ...)"


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
            declared = read_declaration(container, stream, path)
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
        check_timing(path, times)
        c = judge_completeness(path, declared, times, decoder_error=error, stopped_early=stopped)
        if c.partial and not self.allow_partial:
            raise refuse_partial(c, "decoded")
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
        declared = read_declaration(container, stream, path)
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
    check_timing(path, times)
    completeness = judge_completeness(path, declared, times, decoder_error=error)
    if completeness.partial and not allow_partial:
        raise refuse_partial(completeness, "holds")
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
