"""Video reading with the real per-frame timestamps of the container (PyAV).

Phones record variable frame rate (VFR): the time between frames changes with exposure and load. A frame's
time is therefore read from its presentation timestamp (``pts × time_base``), never computed as
``index / fps``. Frames are returned in presentation order as RGB ``uint8`` arrays (H, W, 3), rotated
upright when the container carries a display rotation (portrait phone video).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from os import PathLike
from pathlib import Path

import numpy as np

from ground_truth.kernel import InputError, ReaderError
from ground_truth.kernel import file_sha256  # noqa: F401 - re-exported: candidates import it from here


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
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.stat().st_size == 0:
        raise ReaderError("the file is empty", file=path, expected="a video file (MP4, MOV, WebM, ...)")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise ReaderError(f"cannot be opened as a video ({exc})", file=path,
                          expected="a video file (MP4, MOV, WebM, ...)") from None
    if not container.streams.video:
        container.close()
        raise ReaderError("has no video stream", file=path, expected="a file with one video stream")
    return container


def _upright(img: np.ndarray, rotation: int) -> np.ndarray:
    # Display rotation is counter-clockwise degrees to apply for upright display.
    k = (int(round(rotation / 90.0))) % 4
    return np.ascontiguousarray(np.rot90(img, k=k)) if k else img


def iter_frames(path: str | PathLike, *, max_frames: int | None = None,
                start_s: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time_s, rgb_frame)`` for each decoded frame, in presentation order.

    Parameters
    ----------
    path : path-like
        The video file.
    max_frames : int, optional
        Stop after this many frames (for short clips in tests and benchmarks).
    start_s : float, optional
        Skip frames whose time is before this (still decoded; no seeking, so times stay exact).

    Raises
    ------
    ReaderError
        The file is not a readable video, has no frames, or a frame has no timestamp or a timestamp that does
        not increase.
    """
    import av
    path = Path(path)
    container = _open(path)
    n = 0
    last_t = -np.inf
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    raise ReaderError(f"frame {n} has no presentation timestamp", file=path, field="pts",
                                      expected="a container with per-frame timestamps")
                t = float(frame.pts * frame.time_base)
                if t <= last_t:
                    raise ReaderError(f"frame {n} has timestamp {t:.6f} s, not after the previous {last_t:.6f} s",
                                      file=path, field="pts", expected="strictly increasing frame timestamps")
                last_t = t
                if start_s is not None and t < start_s:
                    continue
                img = frame.to_ndarray(format="rgb24")
                yield t, _upright(img, getattr(frame, "rotation", 0) or 0)
                n += 1
                if max_frames is not None and n >= max_frames:
                    break
        except av.error.FFmpegError as exc:
            raise ReaderError(f"decoding failed after {n} frames ({exc})", file=path,
                              expected="a complete, decodable video") from None
    finally:
        container.close()
    if n == 0 and start_s is None:
        raise ReaderError("contains no decodable video frames", file=path, expected="at least one frame")


def read_frames(path: str | PathLike, *, max_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All frames at once: ``(times_s (T,), frames (T, H, W, 3) uint8)``. For short clips only."""
    times, frames = [], []
    for t, img in iter_frames(path, max_frames=max_frames):
        times.append(t)
        frames.append(img)
    return np.asarray(times), np.stack(frames)


def probe_video(path: str | PathLike, *, with_sha256: bool = True) -> VideoInfo:
    """Frame times (from packet timestamps, without decoding pixels), size, codec, rotation and sha256."""
    import av
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        tb = stream.time_base
        pts = []
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    pts.append(packet.pts)
        except av.error.FFmpegError as exc:
            raise ReaderError(f"demuxing failed ({exc})", file=path, expected="a complete video") from None
        width, height, codec = stream.codec_context.width, stream.codec_context.height, stream.codec_context.name
    finally:
        container.close()
    if not pts:
        raise ReaderError("contains no video frames", file=path, expected="at least one frame")
    # Packets are in decode order; presentation order is sorted pts (B-frames).
    times = np.sort(np.asarray(pts, dtype=np.int64)) * float(Fraction(tb))
    # Rotation lives on decoded frames (display matrix side data); the upright size follows from it.
    rotation = _first_rotation(path)
    if (rotation // 90) % 2:
        width, height = height, width
    return VideoInfo(path=path, width=int(width), height=int(height), codec=codec, times_s=times,
                     rotation_deg=rotation, sha256=file_sha256(path) if with_sha256 else "")


def _first_rotation(path: Path) -> int:
    container = _open(path)
    try:
        for frame in container.decode(container.streams.video[0]):
            return int(getattr(frame, "rotation", 0) or 0)
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
