"""``stancebench render``: render a video of a figure from 3D motion with known camera and clock, plus its 2D truth."""
from __future__ import annotations

HELP = "Render a video of a figure from 3D motion with known camera and clock, plus its 2D truth."


#: Output names the H.264 writer can mux (the MP4 family).
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")


def _check_options(args) -> None:
    """Every numeric option finite and within its range, before anything is read or drawn (``--fps 1e9`` used
    to exhaust the memory, ``--offset nan`` to render an empty scene and exit 0)."""
    from candidates.render.scene import MAX_BLUR_SAMPLES
    from functools import partial

    from ground_truth.kernel import BOUNDS, check_range

    number = partial(check_range, optional=True)      # an option left unset is not checked
    rate, dur, angle = BOUNDS["frame_rate_hz"], BOUNDS["duration_s"], BOUNDS["angle_deg"]
    number(args.fps, "--fps", rate.low, rate.high, low_open=True, unit="fps")
    number(args.duration, "--duration", dur.low, dur.high, low_open=True, unit="s")
    number(args.offset, "--offset", -dur.high, dur.high, unit="s (mocap time at video time 0)")
    number(args.drift_ppm, "--drift-ppm", -1e5, 1e5, low_open=True, high_open=True, unit="ppm")
    number(args.drop_rate, "--drop-rate", 0.0, 1.0, high_open=True)
    number(args.jitter_ms, "--jitter-ms", 0.0, 1000.0, high_open=True, unit="ms (below one frame period)")
    number(args.noise, "--noise", 0.0, 255.0, unit="grey levels")
    number(args.blur, "--blur", 1, MAX_BLUR_SAMPLES, unit="samples")
    number(args.exposure_ms, "--exposure-ms", 0.0, 1000.0, unit="ms (at most one frame period)")
    number(args.palette, "--palette", 0, 3)
    number(args.seed, "--seed", 0, 2 ** 63 - 1)
    number(args.yaw, "--yaw", angle.low, angle.high, unit="deg")


def _int_list(text: str) -> list[int]:
    from ground_truth.kernel import InputError
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{text!r} is not a comma-separated list of frame numbers", field="--drop") from None


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "render", help=HELP, description=HELP + " The truth (track JSON with the exact projected BlazePose-33 "
        "landmarks, the camera and the clock) is written beside the video as NAME.truth.json. Clock: "
        "t_mocap = offset + (1 + drift_ppm*1e-6) * t_video. See docs/rendering.md.")
    p.add_argument("motion", metavar="MOTION",
                   help="a .c3d/.trc marker file (joint centres from markers), 'synthetic:seed=3,strategy=hip' "
                        "(the synthetic generator's parameters) or 'pendulum:seed=1,stance=left' (a rigid "
                        "test pattern)")
    p.add_argument("--camera", required=True, metavar="CAMERA.toml",
                   help="camera TOML (docs/rendering.md) or a Qualisys .qca.txt calibration")
    p.add_argument("--camera-name", default=None, help="which camera of a multi-camera TOML or .qca.txt")
    p.add_argument("--out", required=True, metavar="VIDEO.mp4", help="video to write")
    p.add_argument("--truth", default=None, metavar="TRUTH.json", help="truth file (default VIDEO.truth.json)")
    p.add_argument("--offset", type=float, default=None, metavar="S",
                   help="mocap time at video time 0 (default: the motion's first sample)")
    p.add_argument("--drift-ppm", type=float, default=0.0, metavar="X", help="camera clock drift, ppm")
    p.add_argument("--fps", type=float, default=None, help="nominal frame rate (default: the camera file's)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="video duration, s")
    p.add_argument("--drop", type=_int_list, default=[], metavar="I,J,...", help="nominal frames to drop")
    p.add_argument("--drop-rate", type=float, default=0.0, metavar="P", help="random frame-drop probability")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="uniform frame-time jitter (peak to peak), ms")
    p.add_argument("--noise", type=float, default=0.0, metavar="SIGMA", help="Gaussian noise SD, grey levels")
    p.add_argument("--blur", type=int, default=1, metavar="N", help="motion-blur samples per frame (1 = none)")
    p.add_argument("--exposure-ms", type=float, default=None, help="exposure for motion blur (default half a frame)")
    p.add_argument("--no-clutter", action="store_true", help="plain background")
    p.add_argument("--palette", type=int, default=0, help="clothing colour palette 0-3")
    p.add_argument("--seed", type=int, default=0, help="seed for background, noise and random drops")
    p.add_argument("--place", choices=("auto", "origin", "none"), default="auto",
                   help="move the subject so the ankles' midpoint is at the lab origin (auto: for marker files "
                        "only; synthetic motion keeps its lab frame)")
    p.add_argument("--yaw", type=float, default=None, metavar="DEG",
                   help="rotate the motion about the vertical (default: a placed marker file is turned to face "
                        "lab +x, its facing direction estimated from the pelvis markers; otherwise 0)")
    p.add_argument("--marker-map", default=None, metavar="MAP.toml",
                   help="marker-set mapping of a marker file: a TOML file (docs/marker-sets.md) or a built-in "
                        "name (plug_in_gait, addbiomechanics, isb_anatomical); default: detected from the "
                        "marker names")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from candidates.calibration import read_camera_toml
    from candidates.render import RenderOptions, VideoClock, load_motion, render_video
    from candidates.render.scene import check_render_budget
    from ground_truth.kernel import check_output_path

    _check_options(args)
    out = check_output_path(args.out, field="--out", suffixes=VIDEO_SUFFIXES)
    truth = check_output_path(args.truth if args.truth is not None else out.with_suffix(".truth.json"),
                              field="--truth", suffixes=(".json",))
    if str(args.camera).endswith(".qca.txt"):
        from candidates.calibration import read_qca
        from ground_truth.kernel import InputError
        cams = read_qca(args.camera, fps=args.fps or 30.0)
        name = args.camera_name or (next(iter(cams)) if len(cams) == 1 else None)
        if name not in cams:
            raise InputError(f"holds cameras {', '.join(cams)}", file=args.camera, field="--camera-name",
                             expected="one of them")
        camera = cams[name]
    else:
        camera = read_camera_toml(args.camera, args.camera_name)
    clock = VideoClock(fps=args.fps or camera.fps, offset_s=args.offset, drift_ppm=args.drift_ppm,
                       dropped=tuple(args.drop), drop_rate=args.drop_rate, jitter_s=args.jitter_ms / 1000.0,
                       seed=args.seed)
    options = RenderOptions(noise_sigma=args.noise, blur_samples=args.blur,
                            exposure_s=None if args.exposure_ms is None else args.exposure_ms / 1000.0,
                            clutter=not args.no_clutter, palette=args.palette, seed=args.seed)
    # Refused before the motion is read: the frames and their truth must fit in memory.
    if args.duration is not None:
        check_render_budget(int(args.duration * clock.fps + 1e-9) + 1, camera, options, fps=clock.fps,
                            field="--duration")
    is_file = args.motion.split(":", 1)[0] not in ("synthetic", "pendulum")
    if args.marker_map is not None and not is_file:
        from ground_truth.kernel import InputError
        raise InputError("a marker mapping applies to marker files only", field="--marker-map",
                         expected="a .c3d/.trc MOTION, or no --marker-map")
    motion = load_motion(args.motion, marker_map=args.marker_map)
    if args.place == "origin" or (args.place == "auto" and is_file):
        motion = motion.placed_at_origin(args.yaw) if args.yaw is not None or not is_file else \
            motion.placed_facing_x()
    elif args.yaw:
        motion = motion.transformed(args.yaw)
    res = render_video(motion, camera, Path(out), clock=clock, options=options, duration_s=args.duration,
                       truth_path=truth)
    tr = res.track
    print(f"wrote {res.video_path} ({tr.n_frames} frames of {res.n_nominal} nominal, {len(res.dropped_indices)} "
          f"dropped, {tr.times_s[-1]:.3f} s video, {camera.width}x{camera.height}) in {res.seconds:.2f} s")
    if "marker_set" in motion.meta:
        import numpy as np
        missing = ", ".join(motion.meta.get("missing_joints", {})) or "none"
        R, t = motion.lab_to_placed()
        yaw = float(np.degrees(np.arctan2(R[1, 0], R[0, 0])))
        print(f"markers: {motion.meta['marker_set']} mapping ({motion.meta['marker_map']}); joints it cannot give "
              f"here: {missing}; placed: turned {yaw:.1f} deg about z, moved ({t[0]:.3f}, {t[1]:.3f}) m")
    print(f"truth {res.truth_path}: blazepose33, person in {tr.detection_rate:.0%} of frames; clock "
          f"t_mocap = {res.info['offset_s']:.6f} + (1 + {args.drift_ppm:g}e-6) * t_video")
    if not tr.detection_rate > 0:
        import sys
        print("stancebench render: warning: the figure is in none of the frames (check --offset, --duration and "
              "where the camera looks)", file=sys.stderr)
    return 0
