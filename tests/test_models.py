"""Models as verifiable inputs (candidates.models, ``stancebench models``) and the named lite/heavy candidates.

Every sha256 and size expected here comes from ../shared/data/models/blazepose/README.md (its table: the files
of npm @mediapipe/pose@0.5.1675469404) and is re-computed with hashlib from the real files, never taken from
the registry under test. Real files, real npm, a real video: no mocks.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path

# ../shared/data/models/blazepose/README.md, table "file | bytes | sha256"
LITE = ("pose_landmark_lite.tflite", 2_819_824, "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61")
HEAVY = ("pose_landmark_heavy.tflite", 27_709_200,
         "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe")
# same README: the full model of the mediapipe 0.10.21 wheel (byte-identical to the npm package's)
FULL_SHA = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
NPM_CMD = "npm pack @mediapipe/pose@0.5.1675469404"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def blazepose_dir():
    return shared_path("models", "blazepose")


@pytest.fixture
def models_env(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("STANCEBENCH_MODELS", str(folder))
    monkeypatch.setenv("STANCEBENCH_CACHE", str(tmp_path / "cache"))
    return folder


@pytest.fixture(autouse=True)
def _models_command(monkeypatch):
    """``stancebench models`` in the CLI (a no-op once harness/cli.py lists it, as test_promotion does)."""
    import harness.cli
    from harness.commands import models
    if models not in harness.cli.COMMAND_MODULES:
        monkeypatch.setattr(harness.cli, "COMMAND_MODULES", (*harness.cli.COMMAND_MODULES, models))


def _cli(capsys, *argv):
    from harness.cli import main
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _listed(capsys) -> dict:
    rc, out, _ = _cli(capsys, "models", "list", "--json")
    assert rc == 0
    return {m["name"]: m for m in json.loads(out)["models"]}


def test_registry_pins_the_published_files(blazepose_dir):
    """The registry's pins equal the README's table and the real files' own hashes."""
    import importlib.util
    from candidates.models import MODELS
    for (fname, size, sha), name in ((LITE, "blazepose-lite"), (HEAVY, "blazepose-heavy")):
        real = blazepose_dir / fname
        assert (real.stat().st_size, _sha(real)) == (size, sha)
        spec = MODELS[name]
        assert (spec.filename, spec.bytes, spec.sha256) == (fname, size, sha)
        assert spec.npm_path == f"package/{fname}" and spec.licence == "Apache-2.0"
    # found without importing mediapipe (seconds): mediapipe/modules/pose_landmark/ in the wheel
    wheel = importlib.util.find_spec("mediapipe").submodule_search_locations[0]
    wheel_full = Path(wheel) / "modules" / "pose_landmark" / "pose_landmark_full.tflite"
    assert _sha(wheel_full) == FULL_SHA == MODELS["blazepose-full"].sha256
    # MediaPipe ships float16 weights (DEQUANTIZE ops); the variants builder widens them to fp32.
    assert {m.precision for m in MODELS.values()} == {"fp16"}


def test_models_folder_location(tmp_path, monkeypatch):
    from candidates.models import models_dir
    monkeypatch.delenv("STANCEBENCH_MODELS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert models_dir() == tmp_path / "xdg" / "stancebench" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models_dir() == tmp_path / "home" / ".local" / "share" / "stancebench" / "models"
    monkeypatch.setenv("STANCEBENCH_MODELS", str(tmp_path / "m"))
    assert models_dir() == tmp_path / "m"


def test_install_file_then_folder_and_list(blazepose_dir, models_env, capsys):
    before = _listed(capsys)
    assert before["blazepose-lite"]["installed"] is False
    assert before["blazepose-lite"]["location"] == "not installed"
    assert before["blazepose-full"]["installed"] is True          # the wheel's copy, verified
    assert before["blazepose-lite"]["sha256"] == LITE[2] and before["blazepose-heavy"]["bytes"] == HEAVY[1]

    rc, out, err = _cli(capsys, "models", "install", str(blazepose_dir / LITE[0]))
    assert rc == 0, err
    assert "installed" in out and LITE[2] in out
    assert _sha(models_env / LITE[0]) == LITE[2]
    mid = _listed(capsys)
    assert mid["blazepose-lite"]["installed"] and mid["blazepose-lite"]["location"] == str(models_env / LITE[0])
    assert not mid["blazepose-heavy"]["installed"]

    rc, out, err = _cli(capsys, "models", "install", str(blazepose_dir), "--json")
    assert rc == 0, err
    actions = {r["name"]: r["action"] for r in json.loads(out)["results"]}
    assert actions == {"blazepose-lite": "already installed", "blazepose-heavy": "installed"}
    after = _listed(capsys)
    assert all(m["installed"] for m in after.values())
    assert _sha(models_env / HEAVY[0]) == HEAVY[2]
    assert not list(models_env.glob(".*part"))                   # no temporary file left behind


def test_corrupted_copy_is_refused(blazepose_dir, models_env, tmp_path, capsys):
    bad = tmp_path / "src" / LITE[0]
    bad.parent.mkdir()
    data = bytearray((blazepose_dir / LITE[0]).read_bytes())
    data[len(data) // 2] ^= 0xFF                                  # one byte flipped
    bad.write_bytes(bytes(data))
    actual = _sha(bad)
    rc, out, err = _cli(capsys, "models", "install", str(bad))
    assert rc == 2
    assert f"expected {LITE[2]}" in err and f"actual {actual}" in err
    assert not (models_env / LITE[0]).exists()
    # the same bytes placed by hand in the models folder are "corrupt", never used
    models_env.mkdir(exist_ok=True)
    shutil.copy(bad, models_env / LITE[0])
    listed = _listed(capsys)["blazepose-lite"]
    assert (listed["state"], listed["installed"], listed["actual_sha256"]) == ("corrupt", False, actual)
    from candidates.backbones import get_candidate
    from ground_truth.kernel import ModelError
    with pytest.raises(ModelError, match=actual):
        get_candidate("blazepose-lite-tflite")
    # a folder holding one good and one corrupt model installs neither
    shutil.copy(blazepose_dir / HEAVY[0], bad.parent / HEAVY[0])
    (models_env / LITE[0]).unlink()
    rc, _, err = _cli(capsys, "models", "install", str(bad.parent))
    assert rc == 2 and "nothing installed" in err and actual in err
    assert not (models_env / HEAVY[0]).exists()


def test_tarball_made_by_npm_pack(blazepose_dir, models_env, tmp_path, capsys):
    """The tarball path, without network: ``npm pack`` of a local folder laid out like @mediapipe/pose. Only the
    lite model is packed (gzip of the 27.7 MB heavy model takes ~4 s here); the folder test covers heavy."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not on PATH: the npm pack tarball path cannot be exercised")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": "@mediapipe/pose", "version": "0.5.1675469404",
                                                  "license": "Apache-2.0"}))
    shutil.copy(blazepose_dir / LITE[0], pkg / LITE[0])
    subprocess.run([npm, "pack", "--pack-destination", str(tmp_path)], cwd=pkg, check=True, capture_output=True,
                   timeout=120)
    tgz = tmp_path / "mediapipe-pose-0.5.1675469404.tgz"
    rc, out, err = _cli(capsys, "models", "install", str(tgz))
    assert rc == 0, err
    assert _sha(models_env / LITE[0]) == LITE[2]
    assert _listed(capsys)["blazepose-lite"]["installed"]


def test_hostile_tarball_writes_nothing(models_env, tmp_path, capsys):
    """Path traversal and a link named like a model: nothing is extracted; the link is refused."""
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        payload = b"not a model"
        info = tarfile.TarInfo("../../pose_landmark_lite.tflite")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("package/pose_landmark_lite.tflite")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    rc, _, err = _cli(capsys, "models", "install", str(tgz))
    assert rc == 2 and "link" in err
    assert not (tmp_path.parent / "pose_landmark_lite.tflite").exists()
    assert not models_env.exists() or not list(models_env.iterdir())
    garbage = tmp_path / "garbage.tgz"
    garbage.write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    rc, _, err = _cli(capsys, "models", "install", str(garbage))
    assert rc == 2 and "cannot be read as an npm package tarball" in err


def test_install_without_source_and_without_npm(models_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    rc, _, err = _cli(capsys, "models", "install")
    assert rc == 2
    assert "npm is not on PATH" in err and NPM_CMD in err and str(models_env) in err


def test_install_without_source_npm_cannot_reach_registry(models_env, monkeypatch, capsys):
    if shutil.which("npm") is None:
        pytest.skip("npm is not on PATH")
    # a registry nobody listens on: the real npm client fails at once, as it does offline
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    rc, _, err = _cli(capsys, "models", "install", "--timeout", "60")
    assert rc == 2
    assert "failed" in err and "by hand" in err and NPM_CMD in err
    assert not models_env.exists() or not list(models_env.glob("*.tflite"))


def test_uninstalled_candidates_are_refused_with_the_install_command(models_env, tmp_path, capsys):
    from candidates.backbones import get_candidate
    from candidates.video import write_video
    from ground_truth.kernel import NotAvailableError
    for name in ("blazepose-lite-tflite", "blazepose-heavy-tflite-int8"):
        with pytest.raises(NotAvailableError, match="stancebench models install") as exc:
            get_candidate(name)
        assert str(models_env) in str(exc.value)
    video = write_video(tmp_path / "v.mp4", np.zeros((2, 32, 32, 3), np.uint8), [0.0, 1 / 30])
    rc, _, err = _cli(capsys, "pose", str(video), "--candidate", "blazepose-lite-tflite",
                      "--out", str(tmp_path / "t.json"))
    assert rc == 2 and "stancebench models install" in err
    # the names are known to the one dispatcher, so every caller of it (the negative control's base backbone,
    # run_many's workers) resolves them too, not only the package-level function
    from candidates.backbones.base import get_candidate as base_get_candidate
    with pytest.raises(NotAvailableError, match="stancebench models install"):
        base_get_candidate("blazepose-lite-tflite")


# --------------------------------------------------------------------------------------------- candidates
BLANK = [3]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """4 frames: 3 of pose2sim cam01 (a real person, downscaled to 540x960) then a blank one, at irregular
    (variable-frame-rate) times, as in tests/test_candidate_conformance.py; short because the heavy model takes
    ~0.3 s a frame on this machine."""
    import cv2
    from candidates.video import read_frames, write_video
    _, frames = read_frames(shared_path("video", "pose2sim_balancing", "cam01.mp4"), max_frames=3)
    small = [cv2.resize(f, (540, 960), interpolation=cv2.INTER_AREA) for f in frames]
    seq = small + [np.full_like(small[0], 128)]
    times = np.concatenate([[0.0], np.cumsum([0.016, 0.033, 0.020])])
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, seq, times)
    return path, times


@pytest.fixture
def installed(blazepose_dir, models_env):
    from candidates.model_install import install_from
    install_from(blazepose_dir)
    return models_env


def _check_runs(name, clip, *, sha=None, precision=None):
    from candidates.backbones import get_candidate
    from candidates.backbones.conformance import check_track
    cand = get_candidate(name, smooth_landmarks=False)
    track = cand.run(clip[0], cache=False)
    assert check_track(track, clip[0]) == []
    np.testing.assert_allclose(track.times_s, clip[1], atol=1 / 90000)
    assert track.detected.tolist() == [True] * 3 + [False]
    assert np.all(np.isnan(track.keypoints[BLANK]))
    ident = track.candidate
    assert ident["name"] == name and ident["kind"] == "tflite"
    if sha is not None:
        assert ident["model_sha256"] == sha
    if precision is not None:
        assert ident["precision"] == precision
    # rebuilt in a worker process from its spec: the same model file
    spec_name, params = cand.spec
    assert spec_name == "blazepose-tflite" and params["name"] == name
    return track


@pytest.mark.slow
def test_lite_and_heavy_run_and_conform(installed, clip):
    from candidates.backbones import get_candidate
    full = get_candidate("blazepose-tflite", smooth_landmarks=False).run(clip[0], cache=False)
    lite = _check_runs("blazepose-lite-tflite", clip, sha=LITE[2], precision="fp16")
    heavy = _check_runs("blazepose-heavy-tflite", clip, sha=HEAVY[2], precision="fp16")
    assert lite.candidate["model_bytes"] == LITE[1] and heavy.candidate["model_bytes"] == HEAVY[1]
    # No published per-frame agreement between the three models exists; the bound (5 % of the image height)
    # only says each found the same person, not a measured accuracy.
    for other in (lite, heavy):
        d = np.linalg.norm(other.keypoints[:3] - full.keypoints[:3], axis=2)
        assert np.nanmedian(d) / full.image_height < 0.05


@pytest.mark.slow
def test_lite_variants_from_the_variant_builder(installed, clip):
    fp16 = _check_runs("blazepose-lite-tflite-fp16", clip, precision="fp16")
    int8 = _check_runs("blazepose-lite-tflite-int8", clip, precision="dynamic-int8")
    # int8 weights take about half the bytes of float16 ones (device_runners.variants builds them)
    assert int8.candidate["model_bytes"] < 0.75 * fp16.candidate["model_bytes"]
    assert int8.candidate["model_sha256"] not in (LITE[2], fp16.candidate["model_sha256"])
