"""The embedded default study of ``stancebench demo``: synthetic single-leg stance with known truth.

:func:`generate_demo_study` makes, from one seed, several subjects × single-leg-stance conditions × trials:

1. each trial is simulated by :func:`ground_truth.synthetic.simulate_single_leg_stance` (inverted-pendulum sway
   with ankle/hip strategy, a knee dip as clock-alignment cue, foot lift, a loss of balance with touch-down in
   some trials, the others censored at the protocol's maximum);
2. its gold standard (markers and two force plates) is written as a real C3D file through ezc3d and read back
   with the project's reader (:func:`ground_truth.synthetic.check_roundtrip`; the verdicts go into
   ``results.json`` under ``synthetic.roundtrip`` and into the report);
3. its joints are rendered to an MP4 (:func:`candidates.render.render_video`) by a calibrated pinhole camera
   whose clock is shifted by a known offset and drifts by a known rate: the truth of the alignment;
4. a study manifest (``DIR/data/study.toml``) ties it together, so the demo runs exactly the code path of
   ``stancebench validate``.

Generation is skipped when ``DIR/data/generated.json`` records the same configuration and every file is
present (a second ``stancebench demo`` reuses the data, and the unchanged videos hit the inference cache).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import NotAvailableError, StancebenchError, record_unexpected

from .demo_candidates import study_candidates

#: Trial-id codes of the Y-Balance directions (the abbreviations of Plisky et al. 2009).
REACH_CODE = {"anterior": "ANT", "posteromedial": "PM", "posterolateral": "PL"}
#: Bump when the generated files change for the same configuration (invalidates DIR/data).
GENERATOR_VERSION = 4
#: How long each video goes on after the touch-down (s; the gold standard records 2 s of recovery).
VIDEO_AFTER_TOUCH_DOWN_S = 1.0


@dataclass
class DemoConfig:
    """What the demo generates. Defaults keep ``stancebench demo`` under 3 minutes on 2 cores."""

    n_subjects: int = 3
    seed: int = 0
    duration_s: float = 6.0                  # protocol maximum of the single-leg period (censoring), s
    conditions: tuple[str, ...] = ("eyes_open_firm", "eyes_closed_firm")
    trials_per_condition: int = 1
    width: int = 360                         # portrait video, px
    height: int = 640
    fps: float = 30.0
    camera_distance_m: float = 3.0
    focal_px: float = 700.0
    offset_range_s: tuple[float, float] = (0.2, 0.8)   # mocap time shown at video t = 0
    drift_range_ppm: tuple[float, float] = (-80.0, 80.0)
    marker_rate_hz: int = 100
    analog_rate_hz: int = 1000
    #: The real backbones. Each is analysed from the frontal camera alone (what one phone sees) and, with two
    #: cameras, triangulated ("NAME-3d"). The first one-camera backbone is the baseline ("in production").
    candidates: tuple[str, ...] = ("blazepose-tflite",)
    #: Phones filming each trial: 1 (frontal) or 2 (frontal and sagittal, candidates.render.rig).
    cameras: int = 2
    #: Add the positive control (the renderer's 2-D truth with detection jitter) and the negative control (the
    #: first backbone's keypoints degraded), in every view mode the study has.
    controls: bool = True
    #: "single_leg_stance" (the default demo) or "y_balance": one reach per direction and subject, filmed by
    #: a camera placed high and to the front-left (the floor plane on which reaches are measured)
    protocol: str = "single_leg_stance"
    #: Named candidates added when their model is installed (demo_candidates.EXTRA_MODELS: lite and heavy
    #: BlazePose), on the subsample of :func:`harness.demo_candidates.extra_model_trials`. They change the manifest,
    #: not the data.
    extra_models: tuple[str, ...] = ()

    def __post_init__(self):
        from protocols import get_protocol
        if self.protocol not in ("single_leg_stance", "y_balance"):
            from ground_truth.kernel import InputError
            raise InputError(f"is {self.protocol!r}", field="protocol", expected="single_leg_stance or y_balance")
        if self.protocol == "y_balance":
            self.conditions = tuple(get_protocol("y_balance").condition_names)
            self.cameras = 1     # reaches are measured on the floor plane of the one high camera
        if self.cameras not in (1, 2):
            from ground_truth.kernel import InputError
            raise InputError(f"is {self.cameras!r}", field="cameras", expected="1 or 2")

    def fingerprint(self) -> str:
        """What the generated data depend on (the extra models only change the manifest, rewritten every run)."""
        config = asdict(self)
        del config["extra_models"]
        blob = json.dumps({"config": config, "version": GENERATOR_VERSION}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class DemoStudy:
    """What :func:`generate_demo_study` made."""

    out_dir: Path
    manifest_path: Path
    trials: list[dict] = field(default_factory=list)     # per trial: ids, truth, files, round-trip verdict
    generation_status: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    subjects: list[dict] = field(default_factory=list)   # per subject: id and its true parameters
    #: what the demo says about the extra models: the subsample they ran on, and each one not compared and why
    model_notes: list[str] = field(default_factory=list)

    def results_extra(self) -> dict[str, Any]:
        """The ``synthetic`` section of results.json: the known truth and the C3D round-trip self-check."""
        rt = [t["roundtrip"] for t in self.trials if t.get("roundtrip") is not None]
        ok = [r.get("all_pass", r.get("passed")) for r in rt if isinstance(r, dict)]
        return {"synthetic": {
            "generator": "ground_truth.synthetic.simulate_single_leg_stance + candidates.render.render_video",
            "generation_status": self.generation_status, "generation_s": self.seconds, "notes": self.notes,
            "roundtrip": {"n_trials": len(rt), "n_passed": int(sum(bool(x) for x in ok)),
                          "passed": bool(ok) and all(ok), "trials": rt},
            "population": [s.get("parameters", s) for s in self.subjects],
            "truth": [{k: v for k, v in t.items() if k != "roundtrip"} for t in self.trials]}}


def _subjects(cfg: DemoConfig) -> list[dict]:
    """The study's subjects, drawn from published distributions (``ground_truth.synthetic.population``); each
    carries its true parameters (recorded in results.json) and its simulation arguments per condition."""
    from ground_truth.synthetic import draw_population
    conditions = ("eyes_open_firm",) if cfg.protocol == "y_balance" else cfg.conditions
    out = []
    for p in draw_population(cfg.n_subjects, seed=cfg.seed, conditions=conditions, duration_s=cfg.duration_s):
        sim = {}
        for cond in conditions:
            kw = p.simulation_kwargs(cond)
            kw.pop("subject")
            sim[cond] = kw
        out.append({"id": p.subject_id, "height_m": float(np.round(p.height_m, 3)),
                    "mass_kg": float(np.round(p.mass_kg, 1)), "sex": p.sex, "parameters": p.to_dict(),
                    "simulation": sim})
    return out


def _cameras(cfg: DemoConfig) -> dict:
    """The study's phones by name: the frontal one first (the one-camera view), then the sagittal one."""
    if cfg.protocol == "y_balance" or cfg.cameras == 1:
        return {"front": _camera(cfg)}
    from candidates.render.rig import two_phone_rig
    return two_phone_rig(distance_m=cfg.camera_distance_m, width=cfg.width, height=cfg.height, fps=cfg.fps,
                         focal_px=cfg.focal_px)


def _camera(cfg: DemoConfig):
    from candidates.render import PinholeCamera
    if cfg.protocol == "y_balance":
        # Reaches are measured on the floor: a phone on a stand 2 m high, front-left, looking down at the knees
        # (a frontal camera at hip height sees the floor too obliquely: 1 px at the feet is ~2 cm of depth).
        return PinholeCamera.look_at((2.6, 1.2, 2.0), (0.0, 0.0, 0.6), fx=560.0, width=cfg.width,
                                     height=cfg.height, fps=cfg.fps, name="phone-high")
    # In front of the subject (who faces +x), lens at 1.0 m, looking at the pelvis: a frontal phone view.
    return PinholeCamera.look_at((cfg.camera_distance_m, 0.0, 1.0), (0.0, 0.0, 0.95), fx=cfg.focal_px,
                                 width=cfg.width, height=cfg.height, fps=cfg.fps, name="front")


def _plan(cfg: DemoConfig) -> tuple[list[dict], list[dict]]:
    """Subjects and per-trial simulation parameters, all drawn from the seed."""
    rng = np.random.default_rng(cfg.seed)
    subjects = _subjects(cfg)
    trials = []
    k = 0
    #: Y-Balance ankle targets, fraction of leg length (the generator brings in what the leg cannot reach)
    reach_range = {"anterior": (0.3, 0.5), "posteromedial": (0.5, 0.7), "posterolateral": (0.45, 0.65)}
    for si, subj in enumerate(subjects):
        for cond in cfg.conditions:
            for rep in range(cfg.trials_per_condition):
                if cfg.protocol == "y_balance":
                    trials.append({
                        "trial_id": f"{subj['id']}-{REACH_CODE[cond]}-{rep + 1}", "subject": subj["id"],
                        "condition": cond, "stance_leg": "right" if si % 2 == 0 else "left", "fail_at_s": None,
                        "reach": [cond, float(np.round(rng.uniform(*reach_range[cond]), 3))],
                        "offset_s": float(np.round(rng.uniform(*cfg.offset_range_s), 4)),
                        "drift_ppm": float(np.round(rng.uniform(*cfg.drift_range_ppm), 1)),
                        "seed": int(cfg.seed * 1000 + k)})
                    k += 1
                    continue
                # the subject's own time-to-failure in this condition (censored at the protocol maximum)
                fail_at = subj["simulation"][cond]["fail_at_s"]
                trials.append({
                    "trial_id": f"{subj['id']}-{'EO' if cond.startswith('eyes_open') else 'EC'}-"
                                f"{cond.rsplit('_', 1)[1]}-{rep + 1}",
                    "subject": subj["id"], "condition": cond,
                    "stance_leg": "right" if (si + rep) % 2 == 0 else "left",
                    "fail_at_s": None if fail_at is None else float(np.round(fail_at, 2)),
                    "offset_s": float(np.round(rng.uniform(*cfg.offset_range_s), 4)),
                    "drift_ppm": float(np.round(rng.uniform(*cfg.drift_range_ppm), 1)),
                    "seed": int(cfg.seed * 1000 + k),
                })
                k += 1
    for k, t in enumerate(trials):
        t["clocks"] = _camera_clocks(cfg, k, t)
    return subjects, trials


def _camera_clocks(cfg: DemoConfig, k: int, plan: dict) -> dict[str, dict]:
    """Each phone's clock: the frontal one keeps the trial's drawn offset and drift, every other phone has its
    own (a stream of its own, so the number of cameras changes nothing else in the study)."""
    rng = np.random.default_rng([cfg.seed, k, 17])
    clocks = {}
    for i, name in enumerate(_cameras(cfg)):
        if i == 0:
            clocks[name] = {"offset_s": plan["offset_s"], "drift_ppm": plan["drift_ppm"]}
        else:
            clocks[name] = {"offset_s": float(np.round(rng.uniform(*cfg.offset_range_s), 4)),
                            "drift_ppm": float(np.round(rng.uniform(*cfg.drift_range_ppm), 1))}
    return clocks


def _make_trial(args: tuple[dict, dict, dict, str]) -> dict:
    """Simulate, write and check one trial's C3D, and render its video (runs in a worker process)."""
    plan, subj, cfgd, data_dir = args
    cfg = DemoConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfgd.items()})
    from candidates.render import RenderOptions, VideoClock, motion_from_recording, render_video  # noqa: F401
    from candidates.render.motion import Motion
    from ground_truth import synthetic

    data = Path(data_dir)
    t0 = time.perf_counter()
    subject = synthetic.Subject(subject_id=subj["id"], height_m=subj["height_m"], mass_kg=subj["mass_kg"],
                                sex=subj["sex"])
    reach = tuple(plan["reach"]) if plan.get("reach") else None
    condition = "eyes_open_firm" if reach else plan["condition"]
    sim = dict(subj["simulation"][condition], fail_at_s=plan["fail_at_s"])
    trial = synthetic.simulate_single_leg_stance(
        subject, stance_leg=plan["stance_leg"], seed=plan["seed"], marker_rate_hz=cfg.marker_rate_hz,
        analog_rate_hz=cfg.analog_rate_hz, sync="knee_dip", reach=reach, **sim)
    c3d = data / f"{plan['trial_id']}.c3d"
    try:
        synthetic.write_c3d(trial, c3d)
    except (StancebenchError, OSError) as exc:
        # Without a C3D file the trial has no gold standard: it becomes a labelled candidate-only trial.
        c3d = None
        roundtrip = {"passed": False, "error": f"not available: C3D writer ({type(exc).__name__}: {exc})"}
    if c3d is not None:
        try:
            roundtrip = synthetic.check_roundtrip(trial, c3d)
        except StancebenchError as exc:      # a file the reader refuses is a failed self-check, not a crash
            roundtrip = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    roundtrip = dict(roundtrip, trial_id=plan["trial_id"], file=None if c3d is None else c3d.name)
    # The video shows the motion's drawn joints through the calibrated camera, on a shifted, drifting clock.
    # The video stops 1 s after the touch-down (the mocap records 2 s of recovery): enough for the keypoints to
    # see the foot land, and a tenth fewer frames to infer.
    t_motion = np.asarray(trial.time_s, float)
    td = [e.time for e in trial.truth["events"] if e.name == "touch_down"]
    keep = t_motion <= (td[-1] + VIDEO_AFTER_TOUCH_DOWN_S if td else np.inf)
    joints = {k: np.asarray(v, float)[keep] for k, v in trial.joints.items()}
    motion = Motion(t_motion[keep], joints, f"synthetic:{plan['trial_id']}")
    cameras = _cameras(cfg)
    views = []
    for i, (name, camera) in enumerate(cameras.items()):
        clk = plan["clocks"][name]
        clock = VideoClock(fps=cfg.fps, offset_s=clk["offset_s"], drift_ppm=clk["drift_ppm"], seed=plan["seed"] + i)
        # one camera keeps the historical file name; with several, each video is named after its camera
        video = data / (f"{plan['trial_id']}.mp4" if len(cameras) == 1 else f"{plan['trial_id']}-{name}.mp4")
        res = render_video(motion, camera, video, clock=clock,
                           options=RenderOptions(noise_sigma=2.0, clutter=True, palette=plan["seed"] % 4,
                                                 seed=plan["seed"] + 101 * i))
        views.append({"camera": name, "video": video.name, "truth_file": Path(res.truth_path).name,
                      "n_frames": int(res.n_frames), **clk})
    truth = trial.truth
    out = dict(plan)
    out.update({
        "gold_standard": None if c3d is None else c3d.name, "views": views, "video": views[0]["video"],
        "truth_file": views[0]["truth_file"], "n_frames": views[0]["n_frames"],
        "true_time_to_failure_s": float(truth["time_to_failure_s"]),
        "true_censored": bool(truth["censored"]), "censor_reason": truth.get("censor_reason"),
        "true_strategy": truth.get("strategy_label"), "strategy_fraction": truth.get("strategy_fraction"),
        "true_knee_frontal_excursion_deg": truth.get("knee_frontal_excursion_deg"),
        "events": [e.to_dict() if hasattr(e, "to_dict") else e for e in truth["events"]],
        "seconds": time.perf_counter() - t0, "roundtrip": roundtrip,
    })
    if "reach" in truth:
        out.update(true_reach_m=truth["reach"]["distance_m"], true_reach_pct=truth["reach"]["normalised_pct"],
                   leg_length_m=truth["reach"]["leg_length_m"])
    return out


def _write_manifest(path: Path, cfg: DemoConfig, subjects: list[dict], trials: list[dict],
                    candidates: list[dict]) -> None:
    import tomli_w

    ybt = cfg.protocol == "y_balance"
    legs = {t["subject"]: t["leg_length_m"] for t in trials if t.get("leg_length_m")}
    doc = {
        # the seed is in [settings], not the name: runs with other seeds are runs of the same study, whose trends
        # the report draws across them (the store marks their different manifests)
        "study": {"name": f"stancebench demo (synthetic{', Y-Balance' if ybt else ''})",
                  "description": f"Synthetic {'Y-Balance reaches' if ybt else 'single-leg stance'} with known "
                                 f"truth, generated by stancebench demo."},
        "settings": {"seed": cfg.seed, "alignment_signal": "auto", "max_lag_s": 2.0, "bootstrap": 500,
                     "sway_lowpass_hz": 5.0, "estimate_drift": False},
        "subjects": [{"id": s["id"], "height_m": s["height_m"], "mass_kg": s["mass_kg"],
                      "sex": "F" if s["sex"] == "female" else "M",
                      **({"leg_length_m": round(legs[s["id"]], 4)} if s["id"] in legs else {})} for s in subjects],
        "trials": [{"id": t["trial_id"], "subject": t["subject"], "protocol": cfg.protocol,
                    "condition": t["condition"], "stance_leg": t["stance_leg"],
                    **({"gold_standard": t["gold_standard"]} if t["gold_standard"] else {"kind": "candidate-only"}),
                    "video": [v["video"] for v in t["views"]], "camera": "camera.toml",
                    "camera_name": [v["camera"] for v in t["views"]],
                    "truth": [v["truth_file"] for v in t["views"]],
                    "known_clock_offset_s": [v["offset_s"] for v in t["views"]],
                    "known_drift_ppm": [v["drift_ppm"] for v in t["views"]],
                    **({} if ybt else {"duration_s": cfg.duration_s})} for t in trials],
        "candidates": candidates,
        "licences": [{"data": "synthetic study generated by stancebench demo", "licence": "BSD-3-Clause",
                      "source": "this software"}],
    }
    path.write_text("# Written by `stancebench demo`: the synthetic study, in the format of docs/manifest.md.\n"
                    + tomli_w.dumps(doc))


def generate_demo_study(out_dir: str | os.PathLike, cfg: DemoConfig | None = None, *, workers: int | None = None,
                        progress: bool = True) -> DemoStudy:
    """Generate (or reuse) the synthetic study under ``out_dir/data``; returns a :class:`DemoStudy`."""
    try:
        from ground_truth.synthetic import CONDITIONS  # noqa: F401 - fail early if the generator is missing
    except ImportError as exc:
        raise NotAvailableError(f"not available: the synthetic generator ground_truth.synthetic ({exc})") from None

    from .progress import Progress

    cfg = cfg or DemoConfig()
    t0 = time.perf_counter()
    out = Path(out_dir)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    stamp = data / "generated.json"
    manifest = data / "study.toml"
    subjects, plans = _plan(cfg)
    if stamp.exists() and manifest.exists():
        try:
            prev = json.loads(stamp.read_text())
        except json.JSONDecodeError:
            prev = {}
        files = [data / t["gold_standard"] for t in prev.get("trials", []) if t.get("gold_standard")]
        files += [data / v[k] for t in prev.get("trials", []) for v in t.get("views", [])
                  for k in ("video", "truth_file")]
        if prev.get("fingerprint") == cfg.fingerprint() and files and all(f.exists() for f in files):
            # the candidates (models installed since, another --candidates) are the manifest's: written anew
            gen_notes = prev.get("generation_notes", prev.get("notes", []))
            notes, model_notes = _write_study(data, out, cfg, subjects, prev["trials"], gen_notes)
            return DemoStudy(out, manifest, prev["trials"], "reused from a previous run (same configuration)",
                             time.perf_counter() - t0, notes + model_notes, subjects, model_notes)
    from candidates.calibration import write_camera_toml
    write_camera_toml(_cameras(cfg), data / "camera.toml")
    jobs = [(p, next(s for s in subjects if s["id"] == p["subject"]), asdict(cfg), str(data)) for p in plans]
    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    done: list[dict | None] = [None] * len(jobs)
    bar = Progress(len(jobs), "generate", enabled=progress)
    notes: list[str] = []

    def record(i, fn):
        # A trial that cannot be generated is left out with its reason; the demo goes on with the others.
        tid = jobs[i][0]["trial_id"]
        try:
            done[i] = fn()
        except StancebenchError as exc:
            notes.append(f"trial {tid}: generation failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug in one trial's generation: recorded, raised when strict
            err = record_unexpected(exc)
            notes.append(f"trial {tid}: generation failed: {err['message']}\n{err['traceback']}")
        bar.update(note=tid, failed=done[i] is None)

    try:
        if n == 1:
            for i, j in enumerate(jobs):
                record(i, lambda j=j: _make_trial(j))
        else:
            import concurrent.futures as cf
            import multiprocessing as mp
            with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
                futs = {pool.submit(_make_trial, j): i for i, j in enumerate(jobs)}
                for f in cf.as_completed(futs):
                    record(futs[f], f.result)
    finally:
        bar.close()
    trials = [d for d in done if d is not None]
    if not trials:
        raise NotAvailableError("not available: the synthetic study could not be generated (" + "; ".join(notes)
                                + ")")
    notes, model_notes = _write_study(data, out, cfg, subjects, trials, notes)
    return DemoStudy(out, manifest, trials, "generated", time.perf_counter() - t0, notes + model_notes, subjects,
                     model_notes)


def _write_study(data: Path, out: Path, cfg: DemoConfig, subjects: list[dict], trials: list[dict],
                 generation_notes: list[str]) -> tuple[list[str], list[str]]:
    """Write the manifest (its candidates depend on what is installed now) and the stamp of the generated data;
    returns the study's notes and what it says about the extra models."""
    notes = list(generation_notes)
    candidates, model_notes = study_candidates(cfg, trials, out, notes)
    _write_manifest(data / "study.toml", cfg, subjects, trials, candidates)
    (data / "generated.json").write_text(json.dumps(
        {"fingerprint": cfg.fingerprint(), "config": asdict(cfg), "trials": trials,
         "generation_notes": generation_notes, "notes": notes + model_notes}, indent=1, default=str))
    return notes, model_notes
