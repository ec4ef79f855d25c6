"""MP4 writing with PyAV: H.264 frames stamped with their real presentation times.

Every frame carries its own pts in a 1/90000 s time base (11 µs resolution; the MPEG clock), so dropped
frames, jitter and clock drift are visible in the file's timestamps exactly as a phone's variable-frame-rate
recording would show them.

The video is written to a temporary file beside the target and moved into place only when it is complete: a
render that fails part-way (a full disk, an error in a frame, an interrupt) leaves no partial MP4 that a later
step would read as a shorter video.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ground_truth.kernel import InputError, OutputError

TIME_BASE = Fraction(1, 90000)


class VideoWriter:
    """Write RGB frames with explicit timestamps to an H.264 MP4.

    Parameters
    ----------
    path : path-like
    width, height : int
        Even numbers (H.264 with 4:2:0 chroma needs them).
    nominal_fps : float
        Declared rate (metadata only; every frame's pts is explicit).
    crf : int
        x264 quality (lower = better; 18 is visually lossless).
    defer_commit : bool
        Leave the finished video at :attr:`pending_path` after :meth:`close` until :meth:`commit` moves it to
        ``path`` (a caller that writes a companion file first); by default ``close`` commits.

    Notes
    -----
    Frames go to a temporary file beside ``path``; used as a context manager, an exception discards it.
    """

    def __init__(self, path, width: int, height: int, *, nominal_fps: float = 30.0, crf: int = 18,
                 preset: str = "veryfast", defer_commit: bool = False):
        import av

        if width % 2 or height % 2:
            raise InputError(f"image size {width}x{height} has an odd side", field="width/height",
                             expected="even width and height for H.264 4:2:0 video")
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.defer_commit = defer_commit
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=self.path.suffix)
            os.close(fd)
        except OSError as exc:
            raise OutputError(f"cannot be written ({exc.strerror or exc})", file=self.path,
                              expected="a writable location") from None
        #: where the frames are written until the video is committed to ``path``
        self.pending_path: Path | None = Path(tmp)
        # The MP4 movie timescale defaults to 1/1000 s, which would round the edit list that carries a first
        # frame not stamped 0 to the millisecond; 1/90000 keeps every pts exact.
        try:
            self._container = av.open(str(self.pending_path), mode="w", format=_muxer(self.path),
                                      options={"movie_timescale": "90000"})
        except BaseException:
            self.discard()
            raise
        self._stream = self._container.add_stream("libx264", rate=Fraction(nominal_fps).limit_denominator(1001))
        self._stream.width, self._stream.height = self.width, self.height
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = TIME_BASE
        self._stream.codec_context.time_base = TIME_BASE
        # No B-frames and no multi-frame lookahead, like a phone's real-time hardware encoder (IPPP...). It
        # also keeps the file reproducible: with the lookahead on, x264 output at a width that is not a
        # multiple of 16 changed with the process's heap (tests/test_render.py), and every cache and
        # provenance record keys on the video's sha256.
        self._stream.options = {"crf": str(int(crf)), "preset": preset, "x264-params": "bframes=0:rc-lookahead=0"}
        self._last_pts = None
        self.n_frames = 0

    def write(self, frame_rgb: np.ndarray, time_s: float) -> int:
        """Encode one frame shown at ``time_s`` (s, video clock, >= 0, increasing); returns its pts."""
        import av

        pts = int(round(float(time_s) / TIME_BASE))
        if pts < 0 or (self._last_pts is not None and pts <= self._last_pts):
            raise InputError(f"frame time {time_s!r} s is negative or not after the previous frame",
                             file=self.path, field="time_s", expected="increasing times >= 0")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_rgb, dtype=np.uint8), format="rgb24")
        frame.pts = pts
        frame.time_base = TIME_BASE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.n_frames += 1
        return pts

    def close(self) -> None:
        """Flush the encoder and finish the file; then :meth:`commit` unless ``defer_commit``."""
        if self._container is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
                self._container.close()
            except BaseException:
                self.discard()
                raise
            self._container = None
        if not self.defer_commit:
            self.commit()

    def commit(self) -> Path:
        """Move the finished video into place (one rename); returns ``path``."""
        if self._container is not None:
            raise InputError("the video is still open", file=self.path, field="commit",
                             expected="close() before commit()")
        if self.pending_path is not None:
            try:
                os.chmod(self.pending_path, 0o644)
                os.replace(self.pending_path, self.path)
            except OSError as exc:
                self.discard()
                raise OutputError(f"cannot be written ({exc.strerror or exc})", file=self.path,
                                  expected="a writable location") from None
            self.pending_path = None
        return self.path

    def discard(self) -> None:
        """Abandon the video: close it without flushing and remove the temporary file."""
        container, self._container = getattr(self, "_container", None), None
        if container is not None:
            with contextlib.suppress(Exception):   # the file is being thrown away: any error closing it is moot
                container.close()
        if self.pending_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.pending_path)
            self.pending_path = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.discard()
        else:
            self.close()


def _muxer(path: Path) -> str:
    """The FFmpeg muxer of an output name (the temporary file's name must not decide it)."""
    suffix = path.suffix.lower()
    return {".mov": "mov", ".m4v": "mp4", ".mp4": "mp4"}.get(suffix, "mp4")


def read_frame_times(path) -> np.ndarray:
    """Presentation times (s) of every frame of a video's first video stream, in presentation order.

    The video is checked as :func:`candidates.video.probe_video` checks it (a regular file, a plausible time
    scale, every declared frame present).
    """
    from candidates.video import probe_video

    return probe_video(path, with_sha256=False).times_s
