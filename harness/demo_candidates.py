"""What a generated study (``stancebench demo``: synthetic or real motion) analyses and how it is judged: the
backbone parameters, the candidates in each view with the two controls, the int8 landmark variant, the other
BlazePose models when they are installed (on a subsample, :func:`extra_model_trials`), the synthetic study's
whole [[candidates]] list (:func:`study_candidates`) and the demo's gate policy."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ground_truth.kernel import StancebenchError

if TYPE_CHECKING:
    from .synthetic_study import DemoConfig

#: The demo judges the per-frame landmarks: BlazePose's temporal landmark filter delays them by about
#: 1.5 frames (measured on the demo videos: -48 ms MediaPipe graph, -60 ms BlazePose TFLite, against +8 and
#: +2 ms unfiltered), a lag that would be read as a clock offset. See docs/study.md.
DEMO_BACKBONE_PARAMS = {"smooth_landmarks": False}


def int8_landmark_model(cache_dir: Path) -> tuple[Path | None, str]:
    """The dynamic-range int8 BlazePose landmark model (device_runners.variants, built once and cached).

    Dynamic-range int8 (int8 weights, activations quantized on the fly) needs no calibration frames, so a fresh
    machine can build it without any real video; device_runners documents its output cost against fp32.
    """
    from candidates.backbones.base import mediapipe_model_path
    from device_runners.variants import make_variants
    try:
        infos = make_variants(mediapipe_model_path("full"), cache_dir, precisions=("int8-dynamic",))
    except StancebenchError as exc:      # the demo goes on with the other candidates
        msg = str(exc)
        return None, msg if msg.startswith("not available") else f"not available: int8 variant: {msg}"
    path = next((Path(v.path) for v in infos if v.precision == "int8-dynamic"), None)
    return (path, "ok") if path is not None else (None, "not available: no int8-dynamic variant was made")


def candidates_in_views(backbones: list[dict], views, *, controls: bool) -> list[dict]:
    """[[candidates]] tables of generated studies: every backbone (then, with ``controls``, the positive control
    and the negative control degrading the first backbone) in each view, named ``NAME`` in the first view,
    ``NAME-3d`` triangulated and ``NAME-VIEW`` in another camera; the first backbone's first view is the
    baseline."""
    specs = [dict(b) for b in backbones]
    if controls and specs:
        base = specs[0]
        specs += [dict(CONTROL_CANDIDATES["positive"]),
                  {**CONTROL_CANDIDATES["negative"],
                   "params": {**CONTROL_CANDIDATES["negative"]["params"], "base": base.get("backbone", base["name"]),
                              "base_params": base["params"]}}]
    out: list[dict] = []
    for i, view in enumerate(views):
        suffix = "" if i == 0 else ("-3d" if view == "triangulated" else f"-{view}")
        for spec in specs:
            c = dict(spec, name=spec["name"] + suffix, view=view)
            if suffix and "backbone" not in c:
                c["backbone"] = spec["name"]
            out.append(c)
    first = next((c for c in out if not c.get("control")), None)
    if first is not None:
        first["baseline"] = True
    return out


#: The named candidates the demo adds when their model is installed (``stancebench models install``), with the
#: model's registry name (candidates.models) and the frame step they run at. A trial of lite costs about 0.7, of
#: heavy about 3.5 times the CPU of the full model (measured: 9, 14 and 45 s per one-camera trial on this 2-core
#: machine), so the demo runs them on a subsample of trials and heavy on every 2nd frame (15 fps: above twice the
#: demo's 5 Hz sway low-pass). Even so they add about a minute on 2 cores: past the 3 minutes of the demo without
#: them (docs/study.md, "The other BlazePose models", has the measurements).
EXTRA_MODELS: dict[str, tuple[str, int]] = {"blazepose-lite-tflite": ("blazepose-lite", 1),
                                            "blazepose-heavy-tflite": ("blazepose-heavy", 2)}


def extra_model_candidates(trials: list[str], *, names=tuple(EXTRA_MODELS), exclude=()
                           ) -> tuple[list[dict], list[str]]:
    """[[candidates]] tables of the extra models that are installed, each on ``trials`` only, and one note per model
    that is not compared, with the reason and the install command.

    Each installed model is a one-camera candidate (the frontal video; no triangulation, no fp16/int8 variants:
    the demo's time budget) at its :data:`EXTRA_MODELS` frame step. Names in ``exclude`` (already candidates of
    the study, e.g. chosen with ``--candidates``) are left out.
    """
    from candidates.models import install_command, model_status
    specs: list[dict] = []
    notes: list[str] = []
    missing = []
    for name in names:
        if name in exclude:
            continue
        model, step = EXTRA_MODELS[name]
        st = model_status(model)
        if st.installed:
            specs.append({"name": name, "params": dict(DEMO_BACKBONE_PARAMS), "view": "first",
                          "trials": list(trials), **({"frame_step": step} if step != 1 else {})})
            continue
        missing.append(st.spec)
        if st.state == "corrupt":
            notes.append(f"{name} not compared: model file {st.path} has sha256 {st.actual_sha256}, not the pinned "
                         f"{st.spec.sha256}")
        else:
            notes.append(f"{name} not compared: model {model} not installed")
    if missing:     # one command installs them all: said once
        notes.append("to compare them: " + install_command(missing[0] if len(missing) == 1 else None))
    return specs, notes


#: The control candidates of the demo (candidates.backbones.controls): what each is, docs/candidates.md.
CONTROL_CANDIDATES = {
    "positive": {"name": "positive-control", "backbone": "render-truth", "control": "positive", "params": {}},
    "negative": {"name": "negative-control", "backbone": "degraded", "control": "negative", "params": {}},
}


def write_demo_policy(out_dir: str | os.PathLike, *, source: str | os.PathLike | None = None) -> Path:
    """Write the gate policy the demo applies to ``out_dir/policy.toml`` and return its path.

    By default this is the demo policy shipped beside this module (``demo_policy.toml``, see docs/study.md
    for why its blocking rules are the ones a small synthetic study can honestly judge); ``source`` copies a
    user's policy instead.
    """
    out = Path(out_dir) / "policy.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    src = Path(source) if source is not None else Path(__file__).with_name("demo_policy.toml")
    if not src.is_file():
        from ground_truth.kernel import ManifestError
        raise ManifestError("policy file not found", file=src)
    out.write_bytes(src.read_bytes())
    return out


#: Trials of the extra models' subsample: the agreement statistics need 3 pairs (fewer leave every KPI gate not
#: evaluable, which blocks).
MIN_SUBSAMPLE = 3


def extra_model_trials(cfg: DemoConfig, trials: list[dict]) -> list[str]:
    """The trials the extra models analyse: every trial of the first condition (one per subject: independent
    pairs, and the same trials as the study's own candidates' rows of that condition, so the two compare on the
    same pairs), topped up in study order to :data:`MIN_SUBSAMPLE`."""
    chosen = [t["trial_id"] for t in trials if t["condition"] == cfg.conditions[0]]
    chosen += [t["trial_id"] for t in trials if t["trial_id"] not in chosen][:max(0, MIN_SUBSAMPLE - len(chosen))]
    return chosen


def study_candidates(cfg: DemoConfig, trials: list[dict], out: Path,
                     notes: list[str]) -> tuple[list[dict], list[str]]:
    """The generated study's [[candidates]] (:func:`_demo_candidates`, then the installed extra models on their
    subsample) and what the demo says about the extra models. A candidate left out is named in ``notes``."""
    candidates = _demo_candidates(cfg, out, notes)
    subsample = extra_model_trials(cfg, trials)
    extras, model_notes = (extra_model_candidates(subsample, names=cfg.extra_models, exclude=cfg.candidates)
                           if cfg.extra_models else ([], []))
    if extras:
        step = {c["name"]: c.get("frame_step", 1) for c in extras}
        model_notes.insert(0, f"{', '.join(step)} compared on a subsample (all of them on every trial "
                              f"would take several times the demo's 3 minutes; even so they add about a minute "
                              f"on 2 cores, and --no-extra-models leaves them out): the frontal camera of "
                              f"{len(subsample)} of the {len(trials)} trials ({', '.join(subsample)}), no "
                              f"triangulation, no fp16/int8 variants"
                              + "".join(f"; {n} on every {k}{'nd' if k == 2 else 'th'} frame (its sway KPIs, on "
                                        f"both sides, at {cfg.fps / k:g} fps)" for n, k in step.items() if k != 1)
                              + (f". Compare them with the other candidates on the {cfg.conditions[0]} rows (the "
                                 f"same trials), not on 'all'" if all(t["condition"] == cfg.conditions[0]
                                                                      for t in trials if t["trial_id"] in subsample)
                                 else ". Their rows come from these trials only, the others' from every trial"))
    return candidates + extras, model_notes


def _demo_candidates(cfg: DemoConfig, out: Path, notes: list[str]) -> list[dict]:
    """The manifest's [[candidates]]: each real backbone from the frontal camera and (two cameras)
    triangulated, then the controls in the same view modes. The first one-camera backbone is the baseline."""
    real: list[dict] = []
    for name in cfg.candidates:
        if name == "blazepose-tflite-int8":
            from .study import NATIVE_LOG, default_cache_dir, native_stderr_to
            with native_stderr_to(out / NATIVE_LOG):
                model, status = int8_landmark_model(default_cache_dir() / "variants")
            if model is None:
                notes.append(f"candidate {name}: {status}")
                continue
            real.append({"name": name, "backbone": "blazepose-tflite",
                         "params": {"landmark_model": str(model), **DEMO_BACKBONE_PARAMS}})
        else:
            real.append({"name": name, "params": dict(DEMO_BACKBONE_PARAMS)})
    return candidates_in_views(real, ("front", "triangulated") if cfg.cameras == 2 else ("front",),
                               controls=cfg.controls)
