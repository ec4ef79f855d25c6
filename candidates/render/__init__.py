"""Rendered videos with known truth: a pinhole camera, a drawn human figure, real per-frame timestamps.

``render_video(motion, camera, out_path, clock=VideoClock(...), options=RenderOptions(...))`` writes an
H.264 MP4 and ``<name>.truth.json`` (the exact projected BlazePose-33 landmarks, the camera and the clock).
See docs/rendering.md.
"""
from .camera import PinholeCamera
from .figure import FigureStyle
from .motion import Motion, load_motion, motion_from_recording, pendulum_stance_motion
from .scene import RenderOptions, RenderResult, render_video
from .truth import CLOCK_CONVENTION, RenderTruth, VideoClock, read_truth_json
from .writer import VideoWriter, read_frame_times

__all__ = ["PinholeCamera", "FigureStyle", "Motion", "load_motion", "motion_from_recording",
           "pendulum_stance_motion", "RenderOptions", "RenderResult", "render_video", "CLOCK_CONVENTION",
           "RenderTruth", "VideoClock", "read_truth_json", "VideoWriter", "read_frame_times"]
