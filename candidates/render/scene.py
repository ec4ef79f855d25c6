"""Render a motion to an MP4 seen by a calibrated camera on its own clock, with the exact 2-D truth beside it."""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from candidates.skeletons import BLAZEPOSE33
from candidates.track import KeypointTrack
from ground_truth.kernel import InputError, file_sha256, jsonable, require_plausible, validate_type

from .camera import PinholeCamera
from .figure import EXTRA_POINTS, FigureStyle, background_image, draw_figure, figure_landmarks
from .motion import Motion
from .truth import VideoClock, write_truth_json
from .writer import VideoWriter


#: Most memory a render may plan to use (bytes). The frames are streamed to the encoder, but the truth of every
#: frame is held until the truth file is written; a render past this cap is refused before anything is drawn
#: (``render --duration 1e9`` used to exhaust the machine's memory).
MAX_RENDER_BYTES = 2 * 1024 ** 3
#: Memory held per frame, measured with tracemalloc on 500-2000-frame renders: ~20 kB for the 2-D and 3-D truth
#: (arrays and the JSON lists built from them) and ~3.3 kB per blur sample, rounded up.
_BYTES_PER_FRAME = 24_000
_BYTES_PER_BLUR_SAMPLE = 4_000
#: Most motion-blur samples per frame: each is a full drawing of the figure; 64 instants already give a smooth
#: blur, and more only multiply the time and memory of the render.
MAX_BLUR_SAMPLES = 64


def render_memory_bytes(n_frames: int, width: int, height: int, blur_samples: int = 1,
                        noise: bool = False) -> int:
    """Estimated peak memory (bytes) of rendering ``n_frames`` frames of ``width`` x ``height`` pixels."""
    image = 3 * int(width) * int(height)
    buffers = image * (3 + 2 * int(blur_samples)) + (12 * image if noise else 0)   # background, blur sums, noise
    per_frame = _BYTES_PER_FRAME + _BYTES_PER_BLUR_SAMPLE * int(blur_samples)
    return int(buffers + int(n_frames) * per_frame)


def check_render_budget(n_frames: int, camera: PinholeCamera, options: "RenderOptions", *, fps: float,
                        field: str = "duration_s") -> None:
    """Refuse a render whose planned memory exceeds :data:`MAX_RENDER_BYTES` (InputError naming ``field``)."""
    need = render_memory_bytes(n_frames, camera.width, camera.height, options.blur_samples, options.noise_sigma > 0)
    if need > MAX_RENDER_BYTES:
        fixed = render_memory_bytes(0, camera.width, camera.height, options.blur_samples, options.noise_sigma > 0)
        per = render_memory_bytes(1, camera.width, camera.height, options.blur_samples, options.noise_sigma > 0) \
            - fixed
        most = max(0, (MAX_RENDER_BYTES - fixed) // per)
        raise InputError(f"{n_frames:,} frames of {camera.width}x{camera.height} pixels would need about "
                         f"{need / 2 ** 30:,.1f} GiB, more than the {MAX_RENDER_BYTES / 2 ** 30:g} GiB a render "
                         f"may use", field=field,
                         expected=f"at most {most:,} frames ({most / fps:,.0f} s at {fps:g} fps): a shorter "
                                  f"duration, a lower frame rate or fewer blur samples")


@dataclass
class RenderOptions:
    """Image formation options.

    Parameters
    ----------
    noise_sigma : float
        Standard deviation of additive Gaussian sensor noise, grey levels (0-255 scale).
    blur_samples : int
        Motion blur: number of instants averaged over the exposure (1 = no blur).
    exposure_s : float
        Exposure time (video clock) over which blur samples are spread; default half a frame period.
    clutter : bool
        Posters, a door and boxes in the background.
    palette : int
        Clothing colour palette (see figure.PALETTES).
    seed : int
        Seeds the background layout and the noise.
    crf : int
        x264 quality.
    style : FigureStyle, optional
        Explicit colours and thickness (overrides ``palette``).
    """

    noise_sigma: float = 0.0
    blur_samples: int = 1
    exposure_s: float | None = None
    clutter: bool = True
    palette: int = 0
    seed: int = 0
    crf: int = 18
    style: FigureStyle | None = None

    def __post_init__(self):
        if not (np.isfinite(self.noise_sigma) and 0 <= self.noise_sigma <= 255):
            raise InputError(f"noise sigma is {self.noise_sigma!r}", field="noise_sigma",
                             expected="0 to 255 grey levels")
        if not _is_int(self.blur_samples) or not 1 <= self.blur_samples <= MAX_BLUR_SAMPLES:
            raise InputError(f"blur samples is {self.blur_samples!r}", field="blur_samples",
                             expected=f"a whole number from 1 to {MAX_BLUR_SAMPLES}")
        self.blur_samples = int(self.blur_samples)
        if self.exposure_s is not None and not (np.isfinite(self.exposure_s) and self.exposure_s >= 0):
            raise InputError(f"exposure is {self.exposure_s!r} s", field="exposure_s",
                             expected="a finite exposure >= 0 s (at most one frame period)")
        if not _is_int(self.seed) or self.seed < 0:
            raise InputError(f"seed is {self.seed!r}", field="seed", expected="a whole number >= 0")
        if not _is_int(self.palette) or self.palette < 0:
            raise InputError(f"palette is {self.palette!r}", field="palette", expected="a whole number >= 0")
        if not _is_int(self.crf) or not 0 <= self.crf <= 51:
            raise InputError(f"crf is {self.crf!r}", field="crf", expected="an x264 quality from 0 to 51")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass
class RenderResult:
    """What :func:`render_video` wrote."""

    video_path: Path
    truth_path: Path
    track: KeypointTrack                 # exact 2-D truth of the written frames (video clock)
    mocap_times_s: np.ndarray            # mocap time shown in each written frame
    landmarks_3d: np.ndarray             # (T, 33, 3) m
    n_nominal: int
    dropped_indices: list[int]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return self.track.n_frames


def _interp_points(P: dict[str, np.ndarray], t_src: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for name, a in P.items():
        out[name] = np.stack([np.interp(t, t_src, a[:, k], left=np.nan, right=np.nan) for k in range(3)], axis=-1)
    return out


def render_video(motion: Motion, camera: PinholeCamera, out_path, *, clock: VideoClock | None = None,
                 options: RenderOptions | None = None, duration_s: float | None = None,
                 truth_path=None) -> RenderResult:
    """Render ``motion`` as seen by ``camera`` to an MP4 with real per-frame timestamps, and its truth JSON.

    Parameters
    ----------
    motion : Motion
        Joint trajectories (m, z-up lab frame, mocap clock).
    camera : PinholeCamera
        Intrinsics, extrinsics and optional distortion; the image size is the video size.
    out_path : path-like
        The ``.mp4`` to write.
    clock : VideoClock, optional
        Frame rate, offset, drift, dropped frames and jitter; default: ``camera.fps``, video time 0 at the
        motion's first sample, no drift, no drops.
    options : RenderOptions, optional
    duration_s : float, optional
        Video duration (video clock); default up to the motion's last sample. Frames outside the motion show
        the empty scene and have null truth.
    truth_path : path-like, optional
        Where to write the truth JSON; default ``<out_path stem>.truth.json`` beside the video.

    Returns
    -------
    RenderResult

    Notes
    -----
    The truth of every frame is the projection (same camera model, distortion included) of exactly the 3-D
    landmark positions drawn in it at the frame's mid-exposure instant, so it is exact to the rounding of the
    file (1e-4 px). Occlusion is not modelled in the truth: a landmark hidden behind the body keeps its
    projected position and confidence 1.
    """
    import cv2

    validate_type(motion, Motion, "motion")
    validate_type(camera, PinholeCamera, "camera")
    clock = clock or VideoClock(fps=camera.fps)
    options = options or RenderOptions()
    t_start = _time.perf_counter()
    out_path = Path(out_path)
    truth_path = Path(truth_path) if truth_path is not None else out_path.with_suffix(".truth.json")
    offset = float(motion.time_s[0]) if clock.offset_s is None else float(clock.offset_s)
    if duration_s is None:
        # The last frame, jitter included, must still show the motion.
        duration_s = float(clock.to_video(motion.time_s[-1], offset)) - clock.jitter_s / 2
        if duration_s <= 0:
            raise InputError(f"the motion ends (t = {motion.time_s[-1]:.3f} s) before the video starts "
                             f"(offset {offset:.3f} s)", field="offset_s")
    duration_s = require_plausible(duration_s, "duration_s", field="duration_s", error=InputError)
    exposure = options.exposure_s if options.exposure_s is not None else 0.5 / clock.fps
    if exposure > 1.0 / clock.fps:
        raise InputError(f"exposure {exposure * 1e3:g} ms is longer than a frame period "
                         f"({1e3 / clock.fps:.4g} ms at {clock.fps:g} fps)", field="exposure_s",
                         expected=f"at most {1e3 / clock.fps:.4g} ms")
    check_render_budget(int(np.floor(duration_s * clock.fps + 1e-9)) + 1, camera, options, fps=clock.fps)
    sched = clock.schedule(duration_s)
    keep = sched["keep"]
    t_video = sched["t_video"][keep]
    t_mocap = clock.to_mocap(t_video, offset)

    P, derived = figure_landmarks(motion.joints)
    names = list(BLAZEPOSE33) + [n for n in EXTRA_POINTS if n in P] + ["_scale"]
    P = {n: P[n] for n in names}
    style = options.style or FigureStyle.palette(options.palette)
    K = options.blur_samples
    offsets = (np.linspace(-0.5, 0.5, K) * exposure * (1 + clock.drift)) if K > 1 else np.zeros(1)
    centre = _interp_points(P, motion.time_s, t_mocap)
    uv_c, z_c = {}, {}
    for n in names:
        uv_c[n], z_c[n] = camera.project(centre[n], return_depth=True)
    # Blur instants are kept inside the motion's span so the first and last frames do not lose the figure.
    t0, t1 = motion.time_s[0], motion.time_s[-1]
    inside = (t_mocap >= t0) & (t_mocap <= t1)
    subs = [centre if (K == 1) else
            _interp_points(P, motion.time_s, np.where(inside, np.clip(t_mocap + o, t0, t1), t_mocap + o))
            for o in offsets]
    sub_proj = []
    for S in subs:
        sub_proj.append({n: camera.project(S[n], return_depth=True) for n in names})

    bg = background_image(camera, clutter=options.clutter, seed=options.seed)
    rng = np.random.default_rng(options.seed + 1)
    noise_pool = None
    if options.noise_sigma > 0:
        noise_pool = [np.clip(rng.normal(0, options.noise_sigma, bg.shape), -127, 127).astype(np.int16)
                      for _ in range(6)]
    focal = 0.5 * (camera.fx + camera.fy)
    cam_c = camera.center
    n = t_video.size
    # The video is committed only once its truth file is written: a failure leaves neither a partial MP4 nor
    # a video without its truth.
    writer = VideoWriter(out_path, camera.width, camera.height, nominal_fps=clock.fps, crf=options.crf,
                         defer_commit=True)
    try:
        with writer:
            for i in range(n):
                acc = None
                for S, proj in zip(subs, sub_proj):
                    img = bg.copy()
                    if np.isfinite(S["left_hip"][i, 0]):
                        draw_figure(img, {k: v[0][i] for k, v in proj.items()},
                                    {k: v[1][i] for k, v in proj.items()}, {k: v[i] for k, v in S.items()}, cam_c,
                                    focal, style)
                    if K == 1:
                        acc = img
                    else:
                        acc = img.astype(np.uint16) if acc is None else cv2.add(acc, img.astype(np.uint16))
                frame = acc if K == 1 else (acc // K).astype(np.uint8)
                if noise_pool is not None:
                    frame = np.clip(frame.astype(np.int16) + noise_pool[int(rng.integers(len(noise_pool)))],
                                    0, 255).astype(np.uint8)
                writer.write(frame, t_video[i])
        kp = np.stack([uv_c[nm] for nm in BLAZEPOSE33], axis=1)            # (T, 33, 2)
        depth = np.stack([z_c[nm] for nm in BLAZEPOSE33], axis=1)
        inside = (kp[..., 0] >= -0.5) & (kp[..., 0] <= camera.width - 0.5) & \
                 (kp[..., 1] >= -0.5) & (kp[..., 1] <= camera.height - 0.5) & (depth > 0)
        conf = np.where(inside, 1.0, 0.0)
        conf[~np.all(np.isfinite(kp), axis=2)] = np.nan
        land3d = np.stack([centre[nm] for nm in BLAZEPOSE33], axis=1)
        from importlib.metadata import PackageNotFoundError, version
        try:
            ver = version("stancebench")
        except PackageNotFoundError:
            ver = "unknown"
        params = {"noise_sigma": options.noise_sigma, "blur_samples": K, "exposure_s": exposure,
                  "clutter": options.clutter, "palette": options.palette, "seed": options.seed, "crf": options.crf}
        candidate = {"name": "render-truth", "runtime": "stancebench.render", "version": ver, "model_sha256": None,
                     "params": params}
        video_sha = file_sha256(writer.pending_path)
        track = KeypointTrack(t_video.copy(), kp, conf, "blazepose33", camera.width, camera.height, candidate,
                              {"video": str(out_path), "video_sha256": video_sha})
        dropped = sched["index"][~keep].tolist()
        clock_d = clock.to_dict(offset)
        clock_d.update({"frame_indices": sched["index"][keep].tolist(), "dropped_frame_indices": dropped,
                        "mocap_times_s": [round(float(t), 9) for t in t_mocap], "n_nominal_frames": int(keep.size)})
        motion_meta = {k: v for k, v in motion.meta.items() if isinstance(v, (str, int, float, bool, list, dict))}
        extra = {"motion": {"source": motion.source, "meta": jsonable(motion_meta), "derived_landmarks": derived},
                 "render": {**params, "style": style.to_dict(), "video_file": out_path.name, "video_sha256": video_sha}}
        write_truth_json(truth_path, track, camera=camera, clock=clock_d, landmarks_3d=land3d, extra=extra)
        writer.commit()
    finally:
        writer.discard()     # nothing is left to discard once committed
    return RenderResult(out_path, truth_path, track, t_mocap, land3d, int(keep.size), dropped,
                        _time.perf_counter() - t_start, {"derived_landmarks": derived, "offset_s": offset,
                                                         "drift": clock.drift})

