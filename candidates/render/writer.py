"""MP4 writing with PyAV: H.264 frames stamped with their real presentation times.

Every frame carries its own pts in a 1/90000 s time base (11 µs resolution; the MPEG clock), so dropped
frames, jitter and clock drift are visible in the file's timestamps exactly as a phone's variable-frame-rate
recording would show them.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from ground_truth.kernel import InputError

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
    """

    def __init__(self, path, width: int, height: int, *, nominal_fps: float = 30.0, crf: int = 18,
                 preset: str = "veryfast"):
        import av

        if width % 2 or height % 2:
            raise InputError(f"image size {width}x{height} has an odd side", field="width/height",
                             expected="even width and height for H.264 4:2:0 video")
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        # The MP4 movie timescale defaults to 1/1000 s, which would round the edit list that carries a first
        # frame not stamped 0 to the millisecond; 1/90000 keeps every pts exact.
        self._container = av.open(str(self.path), mode="w", options={"movie_timescale": "90000"})
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
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_frame_times(path) -> np.ndarray:
    """Presentation times (s) of every frame of a video's first video stream, in decode order of pts."""
    import av

    with av.open(str(path)) as c:
        st = c.streams.video[0]
        pts = [p.pts for p in c.demux(st) if p.pts is not None]
        tb = st.time_base
    return np.sort(np.asarray(pts, dtype=float)) * float(tb)
