"""``stancebench pose``: run a candidate pose backbone on a video and write its keypoint track (JSON)."""
from __future__ import annotations

HELP = "Run a candidate pose backbone on a video and write its keypoint track (JSON)."


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "pose", help=HELP, description=HELP + " Frame times are the video's own timestamps (variable frame rate "
        "supported); frames with no person are written as null and counted in the detection rate.",
        epilog="Example: stancebench pose clip.mp4 --candidate blazepose-tflite --out clip.track.json")
    p.add_argument("video", metavar="VIDEO", help="video file (MP4, MOV, WebM, ...)")
    p.add_argument("--candidate", default="mediapipe-full", metavar="NAME|MANIFEST.toml",
                   help="mediapipe-full, blazepose-tflite, a candidate manifest .toml or a .mlpackage "
                        "(default: mediapipe-full)")
    p.add_argument("--out", required=True, metavar="TRACK.json", help="where to write the track JSON")
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="process only the first N frames")
    p.add_argument("--static", action="store_true",
                   help="detect on every frame (no ROI tracking); MediaPipe/BlazePose candidates only")
    p.add_argument("--no-smoothing", action="store_true",
                   help="turn landmark smoothing off; MediaPipe/BlazePose candidates only")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="track cache folder (default: $STANCEBENCH_CACHE or ~/.cache/stancebench)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the track cache")
    p.set_defaults(func=run)


def run(args) -> int:
    import math

    from candidates.backbones import get_candidate
    from candidates.video import probe_video
    from ground_truth.kernel import InputError, OutputError, check_input_file, check_output_path

    params = {}
    if args.static or args.no_smoothing:
        if args.candidate not in ("mediapipe-full", "blazepose-tflite"):
            raise InputError("--static and --no-smoothing apply to mediapipe-full and blazepose-tflite only",
                             field="--candidate", expected="mediapipe-full or blazepose-tflite")
        if args.static:
            params["static_image_mode"] = True
        if args.no_smoothing:
            params["smooth_landmarks"] = False
    if args.max_frames is not None and args.max_frames < 1:
        raise InputError(f"--max-frames is {args.max_frames}", field="--max-frames", expected="a positive integer")
    # Every path is checked before the model loads: a directory or FIFO given as the video used to end in a
    # traceback from hashing it, or to block.
    video = check_input_file(args.video, what="video file")
    try:
        out_path = check_output_path(args.out, field="--out", suffixes=(".json",))
    except OutputError as exc:
        raise OutputError(f"cannot write the track: {exc.reason}", file=args.out, field="--out",
                          expected=exc.expected) from None
    if args.cache_dir is not None and not args.no_cache:
        check_output_path(args.cache_dir, field="--cache-dir", kind="dir")
    # A truncated video, or one with an implausible time scale, is refused from its packets before any
    # inference (candidates.video checks the decoded frames again).
    probe_video(video, with_sha256=False)
    candidate = get_candidate(args.candidate, **params)
    track = candidate.run(video, cache_dir=args.cache_dir, cache=not args.no_cache, max_frames=args.max_frames)
    try:
        out = track.to_json(out_path)
    except OutputError as exc:
        raise OutputError(f"cannot write the track: {exc.reason}", file=args.out, field="--out",
                          expected=exc.expected) from None
    s = track.summary()
    ms = track.meta.get("ms_per_frame", float("nan"))
    ms_text = "cached (no inference)" if track.meta.get("cache_hit") else \
        (f"{ms:.1f}" if isinstance(ms, float) and math.isfinite(ms) else "n/a")
    print(f"candidate       {track.candidate.get('name')} ({track.candidate.get('runtime')} "
          f"{track.candidate.get('runtime_version')})")
    print(f"frames          {s['n_frames']} ({s['duration_s']:.2f} s, {track.image_width}x{track.image_height})")
    print(f"detection rate  {s['detection_rate']:.3f} ({s['n_missing']} frame(s) with no person)")
    print(f"ms/frame        {ms_text}")
    partial = track.meta.get("video_completeness") or {}
    if partial.get("partial"):
        print(f"partial video   {partial.get('reason')}")
    print(f"track           {out}")
    return 0
