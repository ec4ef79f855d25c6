"""``stancebench demo``: run the whole validation study on the embedded synthetic default (no data needed) and write
the report."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ._study import (add_run_options, apply_strict, check_workers, history_extra, open_run_store, print_outputs,
                     record_in_store)

HELP = "Run the whole validation study on the embedded synthetic default (no data needed) and write the report."
DESCRIPTION = (
    "Run the whole validation study on a synthetic study with known truth, generated on the fly (no data "
    "needed). By default: 3 subjects drawn from published distributions (anthropometry, sway by age and "
    "condition, strategy, knee motion, eyes-closed stance time; docs/synthetic.md) x 2 single-leg-stance "
    "conditions, 6-s trials, each filmed by two phones (front and side, each with its own clock offset and "
    "drift); gold standard written as C3D and read back (round-trip self-check); the exported BlazePose TFLite "
    "run through LiteRT on the frontal video (one camera, the baseline) and on both videos triangulated in 3-D; "
    "a positive control (the renderer's truth with detection jitter) and a negative control (the backbone's "
    "keypoints degraded) in both modes; clocks aligned, KPIs computed on both sides and paired (the keypoints' "
    "COP is an inverted-pendulum estimate), agreement measured, the host device runner run, the demo's gate "
    "policy applied (written as DIR/policy.toml; docs/study.md says why its gates block or advise). Writes "
    "DIR/report.html, DIR/results.json and CSV tables, and prints a summary. A second run reuses the generated "
    "data and the inference cache. Exit codes: 0 every blocking gate passes and the controls behave as "
    "expected, 1 a blocking gate failed or a control misbehaved (the study could not tell a good model from a "
    "bad one), 2 bad input. The run is recorded in the results store (created on first use; --store, "
    "--no-store, docs/store.md).")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=DESCRIPTION)
    p.add_argument("--out", default="stancebench-demo", metavar="DIR",
                   help="output folder (default: ./stancebench-demo)")
    p.add_argument("--subjects", type=int, default=3, metavar="N", help="synthetic subjects (default 3)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the synthetic study (default 0)")
    p.add_argument("--duration", type=float, default=6.0, metavar="SECONDS",
                   help="maximum single-leg stance time of each synthetic trial, where time-to-failure is "
                        "censored (default 6 s; each recording lasts about this plus 5 s)")
    p.add_argument("--protocol", choices=("single_leg_stance", "y_balance"), default="single_leg_stance",
                   help="single_leg_stance (default), or y_balance: one reach per direction and subject, filmed "
                        "from a high front-left camera, reaches and the composite score paired")
    p.add_argument("--cameras", type=int, choices=(1, 2), default=2,
                   help="phones filming each trial: 2 (front and side, triangulated candidates; default) or 1")
    p.add_argument("--candidates", default=None, metavar="NAME[,NAME...]",
                   help="real backbones, each on every trial; the first is the baseline (default blazepose-tflite, "
                        "plus blazepose-lite-tflite and blazepose-heavy-tflite on a subsample of trials when their "
                        "models are installed: stancebench models install; also mediapipe-full, mediapipe-lite, "
                        "mediapipe-heavy, blazepose-tflite-int8 and the named lite/heavy candidates with their "
                        "-fp16/-int8 variants)")
    p.add_argument("--no-controls", action="store_true", help="leave out the positive and negative controls")
    p.add_argument("--no-extra-models", action="store_true",
                   help="leave out the installed lite and heavy BlazePose models (the default demo compares them "
                        "on a subsample, which adds about a minute on 2 cores: docs/study.md)")
    p.add_argument("--motion", choices=("synthetic", "real"), default="synthetic",
                   help="synthetic (default: the simulated population) or real: the real single-leg recordings "
                        "of mocap_single_leg (markers and plates; docs/marker-sets.md) rendered from both phones "
                        "and paired against their own plates and markers")
    p.add_argument("--mocap-dir", metavar="DIR", default=None,
                   help="with --motion real: the mocap_single_leg folder (default: $STANCEBENCH_SHARED_DATA/"
                        "mocap_single_leg, else ../shared/data/mocap_single_leg beside the repository)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per core)")
    p.add_argument("--policy", metavar="POLICY.toml",
                   help="gate policy to apply instead of the demo policy (copied to DIR/policy.toml)")
    add_run_options(p, run)


def run(args) -> int:
    apply_strict(args)
    from ground_truth.kernel import InputError, check_output_path

    if not 1 <= args.subjects <= 50:
        raise InputError(f"--subjects is {args.subjects}", field="--subjects", expected="an integer 1..50")
    if not 3.0 <= args.duration <= 45.0:
        raise InputError(f"--duration is {args.duration}", field="--duration",
                         expected="3..45 s (the single-leg stance protocol lasts at most 45 s)")
    check_workers(args.workers)
    check_output_path(args.out, field="--out", kind="dir")
    t0 = time.perf_counter()
    store = open_run_store(args)
    try:
        return _run(args, store, t0)
    finally:
        if store is not None:
            store.close()


def _run(args, store, t0: float) -> int:
    """Generate the synthetic study, run it and record it in ``store`` (None: not recorded)."""
    from ground_truth.kernel import InputError
    from harness.manifest import load_manifest
    from harness.study import run_study, summary_lines
    from harness.demo_candidates import write_demo_policy
    from harness.synthetic_study import DemoConfig, generate_demo_study

    from candidates.backbones.blazepose_tflite import NAMED_CANDIDATES
    from harness.demo_candidates import EXTRA_MODELS

    names = tuple(n.strip() for n in (args.candidates or "blazepose-tflite").split(",") if n.strip())
    known = ("blazepose-tflite", "blazepose-tflite-int8", "mediapipe-full", "mediapipe-lite", "mediapipe-heavy",
             *(n for n in NAMED_CANDIDATES if n != "blazepose-tflite-int8"))
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise InputError(f"--candidates lists {', '.join(unknown) or 'nothing'}", field="--candidates",
                         expected=f"a comma-separated list of {', '.join(known)}")
    for n in names:
        if n in NAMED_CANDIDATES:    # refused now, with the install command, rather than failed on every trial
            from candidates.models import model_path
            model_path(NAMED_CANDIDATES[n][0])
    # the installed lite/heavy models join the default synthetic single-leg study; a chosen list runs as given
    extra = (tuple(EXTRA_MODELS) if args.candidates is None and not args.no_extra_models
             and args.motion == "synthetic" and args.protocol == "single_leg_stance" else ())
    cfg = DemoConfig(n_subjects=args.subjects, seed=args.seed, duration_s=args.duration, protocol=args.protocol,
                     cameras=args.cameras, candidates=names, controls=not args.no_controls, extra_models=extra)
    what = ("Y-Balance reaches" if cfg.protocol == "y_balance"
            else f"single-leg stance up to {cfg.duration_s:g} s")
    n_cands = (len(names) + (2 if cfg.controls else 0)) * (2 if cfg.cameras == 2 else 1)
    print(f"stancebench demo: synthetic study of {cfg.n_subjects} subjects x {len(cfg.conditions)} conditions "
          f"x {cfg.trials_per_condition} trial(s), {what}, {cfg.cameras} camera(s) at {cfg.width}x{cfg.height} "
          f"{cfg.fps:g} fps, {n_cands} candidates ({', '.join(names)}"
          f"{' + controls' if cfg.controls else ''}{', one camera and triangulated' if cfg.cameras == 2 else ''})"
          f" -> {args.out}", file=sys.stderr)
    if args.motion == "real":
        from harness.real_motion_study import default_data_dir, generate_real_motion_study
        mocap = Path(args.mocap_dir) if args.mocap_dir else default_data_dir()
        if not mocap.is_dir():
            raise InputError(f"folder not found: {mocap}", field="--mocap-dir",
                             expected="the mocap_single_leg folder of the project's shared data")
        print("stancebench demo --motion real: the real recordings of " + str(mocap) + " rendered from "
              f"{'both phones' if cfg.cameras == 2 else 'the frontal phone'}", file=sys.stderr)
        study = generate_real_motion_study(args.out, data_dir=mocap, seed=args.seed, candidates=names,
                                           views=("front", "triangulated") if cfg.cameras == 2 else ("front",),
                                           controls=cfg.controls, progress=not args.no_progress)
    else:
        study = generate_demo_study(args.out, cfg, workers=args.workers, progress=not args.no_progress)
        for note in study.model_notes:
            print(f"stancebench demo: {note}", file=sys.stderr)
    policy = write_demo_policy(args.out, source=args.policy)
    # the generated files sit beside the manifest, whatever STANCEBENCH_DATA_ROOT says
    manifest = load_manifest(study.manifest_path, data_root=study.manifest_path.parent, check_candidates=False)
    results = run_study(manifest, args.out, policy=policy, workers=args.workers, progress=not args.no_progress,
                        kind="synthetic-demo" if args.motion == "synthetic" else "real-motion-demo",
                        extra={**study.results_extra(), **history_extra(store, manifest, label=args.label)})
    wall = time.perf_counter() - t0
    for line in summary_lines(results):
        print(line)
    print(f"generated data: {study.generation_status} ({study.seconds:.1f} s); total wall time {wall:.1f} s")
    print(f"policy: {policy}")
    print_outputs(results)
    code = int(results.get("exit_code", 0))
    record_in_store(store, results, command="demo", label=args.label, exit_code=code)
    return code
