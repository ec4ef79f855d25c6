"""A known-truth study of REAL human single-leg motion: the mocap_single_leg recordings rendered from two phones.

:func:`generate_real_motion_study` takes the real recordings with sustained single-leg stance in
``../shared/data/mocap_single_leg`` (full-body markers and force plates, README there) and, for each:

1. reads its markers through its marker-set mapping (:mod:`ground_truth.marker_mapping`, detected from the names)
   and turns them into the joints the renderer draws (:func:`candidates.render.motion_from_recording`);
2. places the subject in the project's lab frame: turned to face +x (the facing direction is the circular mean
   of the pelvis markers' anterior axis) with the hip centres' median at the origin
   (:meth:`candidates.render.Motion.placed_facing_x`). The cameras stay where the rig puts them
   (:func:`candidates.render.rig.two_phone_rig`: a frontal and a sagittal portrait phone);
3. moves the gold standard the same way: a copy of the C3D file whose markers and force-plate corners are
   rotated and translated by that rigid transform (ezc3d recomputes forces, moments and COP from the untouched
   analog channels through the moved corners), checked by reading it back (markers, net force and net COP equal
   the original's, transformed, to the writer's float32 precision). Every stage of the harness (the reference
   side's AP/ML axes, the calibrated keypoint COM, triangulation) then sees one lab frame with x anterior;
4. renders each camera's video on its own clock (known offset and drift, ``candidates.render.VideoClock``);
5. writes the study manifest ``out_dir/data/study.toml`` in the multi-view format (``video``, ``camera_name``,
   ``known_clock_offset_s``, ``known_drift_ppm`` and ``truth`` one entry per camera; candidates choose a camera
   or ``triangulated`` with ``view``).

Subjects: stature and body mass from each subject's static (standing) trial: mass = median net vertical force
/ g; stature from the head-vertex marker, else C7 (de Leva head ratio), else the lab's own ``PROCESSING:Height``.
The notes of each trial state its hand support, its foot events and what censors it (see :data:`REAL_TRIALS`).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, NotAvailableError, StancebenchError, file_sha256

from ground_truth.lab_files import subject_from_static, write_moved_c3d

from .demo_candidates import DEMO_BACKBONE_PARAMS, candidates_in_views
from .synthetic_study import DemoStudy

#: Bump when the generated files change for the same configuration (invalidates out_dir/data).
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class RealTrial:
    """One real recording of the study and what is known about it (README of mocap_single_leg)."""

    file: str                    # in data_dir
    trial_id: str
    subject: str
    stance_leg: str
    static: str | None           # the subject's standing trial, relative to data_dir
    licence: str
    source: str
    notes: str
    video: bool = True           # False: the marker set cannot give a drawn figure (reference-only trial)


#: The single-leg recordings of mocap_single_leg. Their timelines (measured with
#: ``harness.pipeline.reference.build_reference_side``; the numbers are in tests/test_real_motion.py):
#: welk007-RHJC1 stands on both feet for 1.9 s, lifts the right foot (markers: both feet stand on force plate 1,
#: so the plates cannot separate them) and taps the floor with the right toe at 2.99 s (toe back at standing
#: height for 0.2 s, no load change on the plate): time-to-failure 1.09 s by the clinical rule (the raised foot
#: touches the floor), further toe taps follow while the leg draws its arcs. ECH-right_knee starts and ends on
#: one leg (the foot lift precedes the recording): time-to-failure cannot be timed, the recording's end closes the
#: window. btk-FunctionalLHip starts on one leg and touches down with the left foot at 14.01 s.
#: The protocol maximum (single_leg_stance, 45 s) censors none of them: they are 9-13 s long.
REAL_TRIALS = (
    RealTrial("nimble_welk007_RHJC1.c3d", "welk007-RHJC1", "welk007", "left", "nimble_welk007_static1.c3d",
              "BSD-2-Clause", "keenon/nimblephysics @ c405b056, data/osim/welk007/c3d_Trimmed_RHJC1.c3d",
              "Real recording: functional right-hip calibration (the right leg draws arcs in the air). Both feet "
              "stand on force plate 1 (the plates cannot separate them): foot events from the foot markers. Right "
              "foot lifted at 1.90 s; the right toe touches the floor at 2.99 s (time-to-failure 1.09 s by the "
              "clinical rule), then taps again between arcs. The left wrist barely moves (SD <= 12 mm): light "
              "hand support is possible and is not measured by the plates. No medial knee/ankle markers in this "
              "trial: the mapping's 100/70-mm joint widths place the knee and ankle centres (the static trial's "
              "medial markers measure 124/84 mm, marker centre to marker centre)."),
    RealTrial("biobuddy_right_knee.c3d", "ECH-right_knee", "ECH", "left", "biobuddy_anat_pose_ECH.c3d",
              "MIT", "pyomeca/biobuddy @ 3f598b39, examples/data/functional_trials/right_knee.c3d",
              "Real recording: functional right-knee calibration on the left leg. HAND SUPPORT: both wrists are "
              "static (SD <= 2 mm), the subject holds the handrails; the plates (the belts of a split-belt "
              "treadmill) carry about 7 % less than body weight, so the plate COP is not the whole-body COP. The "
              "recording starts and ends in single-leg stance: no foot lift, time-to-failure not measurable; "
              "the window ends with the recording."),
    RealTrial("BTKData_FunctionalLHip.c3d", "btk-FunctionalLHip", "btk01", "right",
              "../c3d/others_FunctionalStatic.c3d", "BSD-3-Clause",
              "Biomechanical-ToolKit/BTKData @ 6aee0933, Input/C3DSamples/others/FunctionalLHip.c3d",
              "Real recording: functional left-hip calibration on the right leg; lower-body Plug-in Gait markers "
              "only (no trunk, arm or head markers: no figure can be drawn and no marker COM computed; the COM "
              "comes from the plates), hence reference-only. Starts in single-leg stance; the left foot touches "
              "down on force plate 1 at 14.01 s.", video=False),
)

#: The licences of the files (printed in the report).
LICENCES = (
    {"data": "mocap_single_leg: nimble_welk007 (AddBiomechanics welk007)", "licence": "BSD-2-Clause",
     "source": "keenon/nimblephysics @ c405b056"},
    {"data": "mocap_single_leg: biobuddy functional trials", "licence": "MIT", "source": "pyomeca/biobuddy @ 3f598b39"},
    {"data": "mocap_single_leg: BTKData FunctionalLHip / FunctionalStatic", "licence": "BSD-3-Clause",
     "source": "Biomechanical-ToolKit/BTKData @ 6aee0933"},
)


@dataclass
class RealStudyConfig:
    """What :func:`generate_real_motion_study` makes (the fingerprint of a reusable generation)."""

    seed: int = 0
    candidates: tuple[str, ...] = ("blazepose-tflite",)
    views: tuple[str, ...] = ("front", "triangulated")   # one-camera views by camera name, or "triangulated"
    controls: bool = True                # the positive and negative controls of the synthetic demo
    width: int = 360
    height: int = 640
    fps: float = 30.0
    camera_distance_m: float = 3.5       # the free leg swings up to ~0.8 m sideways: 3 m would cut it off
    focal_px: float = 700.0
    offset_range_s: tuple[float, float] = (0.2, 0.8)   # mocap time after the recording's start at video t = 0
    drift_range_ppm: tuple[float, float] = (-80.0, 80.0)
    max_duration_s: float | None = None  # shorten the videos (tests); None: the whole recording

    def fingerprint(self, sources: dict[str, str]) -> str:
        blob = json.dumps({"config": asdict(self), "version": GENERATOR_VERSION, "sources": sources},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


class RealMotionStudy(DemoStudy):
    """What :func:`generate_real_motion_study` made: a :class:`~harness.synthetic_study.DemoStudy` whose
    ``results.json`` section says the motion is real and the check is the moved gold standard's read-back."""

    def results_extra(self) -> dict[str, Any]:
        extra = super().results_extra()
        sec = extra["synthetic"]
        sec["generator"] = ("harness.real_motion_study: real marker + force-plate recordings (mocap_single_leg) "
                            "rendered by candidates.render.render_video from two phones")
        sec["kind"] = "real motion"
        sec["roundtrip"]["what"] = ("each gold-standard C3D moved into the rig's frame and read back: markers, "
                                    "net force and net COP against the original moved in memory")
        return extra


# -- moving a C3D file rigidly --------------------------------------------------------------------------------
#: POINT parameters listing model outputs that are not positions (angles, forces...): never moved.
def _subject_list(subjects: dict[str, dict]) -> list[dict[str, Any]]:
    """The subjects as DemoStudy lists them (id, stature, mass, and how they were found as ``parameters``)."""
    return [{"id": k, "height_m": v["height_m"], "mass_kg": v["mass_kg"], "parameters": dict(v, id=k)}
            for k, v in subjects.items()]


def _sources(data_dir: Path) -> dict[str, str]:
    return {t.file: file_sha256(data_dir / t.file) for t in REAL_TRIALS if (data_dir / t.file).is_file()}


def _make_trial(spec: RealTrial, data_dir: Path, out_data: Path, cfg: RealStudyConfig, rng: np.random.Generator,
                cameras: dict) -> dict[str, Any]:
    from candidates.render import RenderOptions, VideoClock, motion_from_recording, render_video
    from ground_truth.readers import read_recording

    src = data_dir / spec.file
    rec = read_recording(src)
    t0, t1 = float(rec.markers.time[0]), float(rec.markers.time[-1])
    out: dict[str, Any] = {"trial_id": spec.trial_id, "subject": spec.subject, "stance_leg": spec.stance_leg,
                           "source": str(src), "notes": spec.notes, "recording_s": [t0, t1]}
    if spec.video:
        motion = motion_from_recording(rec, file=str(src))
        heading = motion.heading_deg()
        placed = motion.placed_facing_x(centre="pelvis")
        R, t = placed.lab_to_placed()
        out.update(heading_deg=heading, marker_set=motion.meta["marker_set"],
                   missing_joints=motion.meta.get("missing_joints", {}))
    else:
        from ground_truth.marker_mapping import map_markers, pelvis_heading_deg
        from ground_truth.markersets import markers_z_up
        mapped = map_markers(markers_z_up(rec.markers, rec.vertical_axis), file=src)
        heading = pelvis_heading_deg(mapped)
        a = np.deg2rad(-heading)
        R = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        hips = 0.5 * (mapped.joints["left_hip"] + mapped.joints["right_hip"]) @ R.T
        mid = np.nanmedian(hips, axis=0)
        t = np.array([-mid[0], -mid[1], 0.0])
        out.update(heading_deg=heading, marker_set=mapped.mapping.title, missing_joints=dict(mapped.missing))
    gold = out_data / f"{spec.trial_id}.c3d"
    out["roundtrip"] = dict(write_moved_c3d(src, gold, R, t, recording=rec), trial_id=spec.trial_id,
                            file=gold.name)
    out["gold_standard"] = gold.name
    if not out["roundtrip"]["passed"]:
        raise InputError(f"the moved copy of {src.name} does not read back as the original moved "
                         f"({out['roundtrip']})", file=gold, field="gold_standard")
    if not spec.video:
        return out
    videos, truths, offsets, drifts = [], [], [], []
    for k, (name, cam) in enumerate(cameras.items()):
        offset = round(t0 + float(rng.uniform(*cfg.offset_range_s)), 4)
        drift = round(float(rng.uniform(*cfg.drift_range_ppm)), 1)
        # the whole recording after the offset, on the video clock (t_mocap = offset + (1 + drift) t_video)
        duration = (t1 - offset) / (1.0 + drift * 1e-6) - 1.0 / cfg.fps
        if cfg.max_duration_s is not None:
            duration = min(duration, cfg.max_duration_s)
        seed = int(cfg.seed * 1000 + 10 * REAL_TRIALS.index(spec) + k)
        video = out_data / f"{spec.trial_id}-{name}.mp4"
        res = render_video(placed, cam, video,
                           clock=VideoClock(fps=cfg.fps, offset_s=offset, drift_ppm=drift, seed=seed),
                           options=RenderOptions(noise_sigma=2.0, clutter=True, palette=seed % 4, seed=seed),
                           duration_s=duration)
        videos.append(video.name)
        truths.append(Path(res.truth_path).name)
        offsets.append(offset)
        drifts.append(drift)
        conf = np.asarray(res.track.confidence, float)     # 1 inside the image, 0 outside (render truth)
        out.setdefault("landmarks_in_image", {})[name] = float(np.nanmean(conf > 0)) if conf.size else 0.0
    out.update(video=videos, truth_file=truths, offset_s=offsets, drift_ppm=drifts, cameras=list(cameras))
    return out


def _candidates(cfg: RealStudyConfig, cameras) -> list[dict[str, Any]]:
    """The manifest's [[candidates]]: every backbone (then, with ``controls``, the positive and negative control
    of :data:`harness.demo_candidates.CONTROL_CANDIDATES`, the negative degrading the first backbone) in each
    view; the first backbone's first view is the baseline, as in the synthetic demo."""
    for view in cfg.views:
        if view != "triangulated" and view not in cameras:
            raise InputError(f"view {view!r}", field="views",
                             expected=f"a camera of the rig ({', '.join(cameras)}) or 'triangulated'")
    return candidates_in_views([{"name": n, "params": dict(DEMO_BACKBONE_PARAMS)} for n in cfg.candidates],
                               cfg.views, controls=cfg.controls)


def _write_manifest(path: Path, cfg: RealStudyConfig, subjects: dict[str, dict], trials: list[dict],
                    candidates: list[dict]) -> None:
    import tomli_w

    doc = {
        "study": {"name": "stancebench real motion (mocap_single_leg)",
                  "description": "Real human single-leg motion (markers + force plates of functional "
                                 "hip/knee calibration trials) rendered from a frontal and a sagittal phone; "
                                 "gold standard: the real plates and markers, moved into the rig's lab frame."},
        "settings": {"seed": cfg.seed, "alignment_signal": "auto", "max_lag_s": 2.0, "bootstrap": 500,
                     "sway_lowpass_hz": 5.0, "estimate_drift": False},
        "subjects": [{"id": sid, "height_m": s["height_m"], "mass_kg": s["mass_kg"]} for sid, s in subjects.items()],
        "trials": [],
        "candidates": candidates,
        "licences": [dict(x) for x in LICENCES],
    }
    for t in trials:
        entry = {"id": t["trial_id"], "subject": t["subject"], "protocol": "single_leg_stance",
                 "condition": "eyes_open_firm", "stance_leg": t["stance_leg"], "gold_standard": t["gold_standard"]}
        if t.get("video"):
            entry.update(video=t["video"], camera="cameras.toml", camera_name=t["cameras"],
                         known_clock_offset_s=t["offset_s"], known_drift_ppm=t["drift_ppm"], truth=t["truth_file"])
        else:
            entry["kind"] = "reference-only"
        entry["notes"] = (f"{t['notes']} Source: {t['source']} (sha256 {t['roundtrip']['source_sha256'][:12]}), "
                          f"moved into the rig's frame: turned {-t['heading_deg']:.1f} deg about z, translated "
                          f"{np.round(t['roundtrip']['translation_m'], 3).tolist()} m. Eyes state not recorded "
                          f"(taken as open).")
        doc["trials"].append(entry)
    path.write_text("# Written by harness.real_motion_study: real single-leg motion rendered from two phones "
                    "(docs/marker-sets.md, docs/manifest.md).\n" + tomli_w.dumps(doc))


def generate_real_motion_study(out_dir, *, data_dir, seed: int = 0, candidates=("blazepose-tflite",),
                               views=("front", "triangulated"), controls: bool = True,
                               max_duration_s: float | None = None, progress: bool = True) -> RealMotionStudy:
    """Render the mocap_single_leg single-leg trials from two phones and write a study manifest.

    Parameters
    ----------
    out_dir : path-like
        The study folder; files go to ``out_dir/data`` (manifest ``study.toml``, ``cameras.toml``, the moved
        gold-standard copies, videos and truth files).
    data_dir : path-like
        The ``mocap_single_leg`` folder (read-only); the BTK static trial is looked up in ``../c3d``.
    seed : int
        Clock offsets and drifts, noise, clothing.
    candidates : sequence of str
        Backbones; each gets one candidate per entry of ``views``.
    views : sequence of str
        ``"front"``/``"side"`` (one camera) or ``"triangulated"``: the first is named after the backbone, the
        others ``NAME-side``/``NAME-3d``.
    controls : bool
        Add the positive control (the renderer's truth with detection jitter) and the negative control (the first
        backbone's keypoints degraded) in every view, as the synthetic demo does.
    max_duration_s : float, optional
        Cut every video to this length (tests); default the whole recording.
    progress : bool
        Print one line per trial to stderr.

    Returns
    -------
    RealMotionStudy
        A :class:`~harness.synthetic_study.DemoStudy`; ``trials`` holds per trial the source, heading, transform
        and its read-back check (``roundtrip``), the
        clocks, and the fraction of drawn landmarks inside each image.

    Raises
    ------
    NotAvailableError
        ``data_dir`` holds none of the recordings.
    """
    import sys

    from candidates.calibration import write_camera_toml
    from candidates.render.rig import two_phone_rig

    t_start = time.perf_counter()
    data_dir = Path(data_dir)
    cfg = RealStudyConfig(seed=seed, candidates=tuple(candidates), views=tuple(views), controls=bool(controls),
                          max_duration_s=max_duration_s)
    sources = _sources(data_dir)
    if not sources:
        raise NotAvailableError(f"not available: no mocap_single_leg recording in {data_dir} (see "
                                f"../shared/data/mocap_single_leg/README.md)")
    out = Path(out_dir)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    manifest, stamp = data / "study.toml", data / "generated.json"
    if stamp.exists() and manifest.exists():
        try:
            prev = json.loads(stamp.read_text())
        except json.JSONDecodeError:
            prev = {}
        files = [data / f for t in prev.get("trials", []) for f in [t.get("gold_standard"), *t.get("video", []),
                                                                  *t.get("truth_file", [])] if f]
        if prev.get("fingerprint") == cfg.fingerprint(sources) and files and all(f.exists() for f in files):
            return RealMotionStudy(out, manifest, prev["trials"], "reused from a previous run (same configuration)",
                                   time.perf_counter() - t_start, prev.get("notes", []),
                                   _subject_list({t["subject"]: t["subject_info"] for t in prev["trials"]}))
    cameras = two_phone_rig(distance_m=cfg.camera_distance_m, width=cfg.width, height=cfg.height, fps=cfg.fps,
                            focal_px=cfg.focal_px)
    write_camera_toml(cameras, data / "cameras.toml")
    rng = np.random.default_rng(seed)
    trials, notes, subjects = [], [], {}
    for spec in REAL_TRIALS:
        if spec.file not in sources:
            notes.append(f"trial {spec.trial_id}: {spec.file} not found in {data_dir}")
            continue
        try:
            trial = _make_trial(spec, data_dir, data, cfg, rng, cameras)
            if spec.subject not in subjects:
                static = (data_dir / spec.static).resolve() if spec.static else None
                subjects[spec.subject] = subject_from_static(static, data_dir / spec.file)
        except StancebenchError as exc:
            notes.append(f"trial {spec.trial_id}: {type(exc).__name__}: {exc}")
            continue
        trial["subject_info"] = subjects[spec.subject]
        trials.append(trial)
        if progress:
            print(f"real motion: {spec.trial_id} ({'two cameras' if trial.get('video') else 'reference-only'})",
                  file=sys.stderr, flush=True)
    if not trials:
        raise NotAvailableError("not available: no real recording could be prepared (" + "; ".join(notes) + ")")
    cands = _candidates(cfg, cameras)
    _write_manifest(manifest, cfg, {k: v for k, v in subjects.items() if any(t["subject"] == k for t in trials)},
                    trials, cands)
    stamp.write_text(json.dumps({"fingerprint": cfg.fingerprint(sources), "config": asdict(cfg), "trials": trials,
                                 "notes": notes}, indent=1, default=str))
    return RealMotionStudy(out, manifest, trials, "generated", time.perf_counter() - t_start, notes,
                           _subject_list(subjects))


def default_data_dir() -> Path:
    """``$STANCEBENCH_SHARED_DATA/mocap_single_leg`` when set (the variable the tests read), else
    ``../shared/data/mocap_single_leg`` beside the repository (where the project's real data live)."""
    env = os.environ.get("STANCEBENCH_SHARED_DATA")
    if env:
        return Path(env).expanduser() / "mocap_single_leg"
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "mocap_single_leg"
