"""Pose backbone speed and agreement, measured in one process on the same decoded frames.

Speed: frames per second of each candidate path (stancebench's FrameSession: crop, inference, decoding,
tracking) against the bare call it wraps on the same frames — ``mp.solutions.pose.Pose.process`` for the
MediaPipe graph, ``interpreter.invoke()`` of the landmark model (plus the detector on the first frame) for
BlazePose TFLite. The harness overhead is the ratio − 1; the target is ≤ 10 % for the graph path (the
TFLite path's "overhead" is the app-side pre/post-processing that a phone also pays, reported for
information).

Agreement (``--agreement``): median landmark distance between the BlazePose TFLite pipeline and the
MediaPipe graph on the real videos, in pixels and as % of image height (both with smoothing off).

Usage: python benchmarks/bench_pose.py [--frames N] [--agreement] [--videos V1 V2 ...]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "video"
VIDEOS = [DATA / "pose2sim_balancing" / f"cam0{i}.mp4" for i in range(1, 5)] + [DATA / "sports2d" / "demo.mp4"]


def _time(fn, frames, times, repeats=1):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for t, f in zip(times, frames):
            fn(f, t)
        best = min(best, time.perf_counter() - t0)
    return len(frames) / best


def speed(video: Path, n: int) -> None:
    import mediapipe as mp
    from candidates.backbones import get_candidate
    from candidates.backbones.blazepose_tflite import Roi
    from candidates.video import read_frames

    times, frames = read_frames(video, max_frames=n)
    print(f"{video.name}: {len(frames)} frames {frames.shape[2]}x{frames.shape[1]}")

    # MediaPipe graph: bare Pose.process vs the candidate's session (adds landmark → pixel arrays).
    def bare_graph():
        pose = mp.solutions.pose.Pose(model_complexity=1)
        return lambda f, t: pose.process(f)
    fps_bare = _time(bare_graph(), frames, times)
    fps_cand = _time(get_candidate("mediapipe-full").new_session().process, frames, times)
    print(f"  mediapipe-full   candidate {fps_cand:7.1f} fps  bare graph {fps_bare:7.1f} fps  "
          f"ratio {fps_bare / fps_cand:5.3f} (overhead {100 * (fps_bare / fps_cand - 1):+.1f} %)")

    # BlazePose TFLite: bare interpreter.invoke() on prepared inputs vs the full pipeline.
    cand = get_candidate("blazepose-tflite", smooth_landmarks=False)
    lm = cand.landmark_model
    x = np.zeros(tuple(lm.input["shape"]), np.float32)
    lm.interp.set_tensor(lm.input["index"], x)

    def bare_invoke(f, t):
        lm.interp.invoke()
    fps_bare = _time(bare_invoke, frames, times)
    fps_cand = _time(cand.new_session().process, frames, times)
    print(f"  blazepose-tflite candidate {fps_cand:7.1f} fps  bare invoke {fps_bare:7.1f} fps  "
          f"ratio {fps_bare / fps_cand:5.3f} (pre/post-processing {100 * (fps_bare / fps_cand - 1):+.1f} %)")
    # Harness part only: everything around the two invokes (crop, decode, refine, project, filter).
    sess = cand.new_session()
    sess.process(frames[0], times[0])
    roi = sess.roi or Roi(frames.shape[2] / 2, frames.shape[1] / 2, float(frames.shape[1]), 0.0)
    t0 = time.perf_counter()
    for f in frames:
        lm(f, roi)
    t_model = (time.perf_counter() - t0) / len(frames)
    print(f"  blazepose-tflite landmark crop+invoke {1000 * t_model:.2f} ms/frame vs pipeline "
          f"{1000 / fps_cand:.2f} ms/frame")


def agreement(video: Path, n: int | None) -> tuple[float, float, int]:
    from candidates.backbones import get_candidate
    a = get_candidate("mediapipe-full", smooth_landmarks=False).run(video, cache=False, max_frames=n)
    b = get_candidate("blazepose-tflite", smooth_landmarks=False).run(video, cache=False, max_frames=n)
    both = a.detected & b.detected
    d = np.linalg.norm(a.keypoints[both] - b.keypoints[both], axis=2)
    med = float(np.median(d))
    print(f"{video.parent.name}/{video.name}: frames {a.n_frames}, detected graph {a.detected.sum()} "
          f"tflite {b.detected.sum()} both {both.sum()}; median |Δ| {med:.2f} px = "
          f"{100 * med / a.image_height:.3f} % of height; p90 {np.percentile(d, 90):.2f} px", flush=True)
    return med, 100 * med / a.image_height, int(both.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--agreement", action="store_true")
    ap.add_argument("--videos", nargs="*", type=Path, default=None)
    args = ap.parse_args()
    videos = args.videos or [v for v in VIDEOS if v.exists()]
    if not videos:
        sys.exit("no videos: pass --videos or place ../shared/data beside the project")
    if args.agreement:
        for v in videos:
            agreement(v, None)
    else:
        for v in videos[:1] + videos[-1:]:
            speed(v, args.frames)


if __name__ == "__main__":
    main()
