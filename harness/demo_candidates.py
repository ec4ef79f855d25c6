"""What a generated study (``stancebench demo``: synthetic or real motion) analyses and how it is judged: the
backbone parameters, the candidates in each view with the two controls, the int8 landmark variant, the other
BlazePose models when they are installed (on a subsample) and the demo's gate policy."""
from __future__ import annotations

import os
from pathlib import Path

from ground_truth.kernel import StancebenchError

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
