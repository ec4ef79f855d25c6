"""Shared fixtures. Real reference data lives in ``../shared/data`` beside the project (never in the repo);
tests that need it skip with a clear reason where it is absent, as on a user's fresh machine."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# An unexpected exception inside a study's trial must fail the test that ran it, not become a status string.
os.environ["STANCEBENCH_STRICT"] = "1"
# Never the user's results store: every run the tests record (in-process or in a subprocess, which inherits the
# environment) goes to a file of this session's own, removed when the session ends.
_STORE_DIR = tempfile.mkdtemp(prefix="stancebench-test-store-")
atexit.register(shutil.rmtree, _STORE_DIR, ignore_errors=True)
os.environ["STANCEBENCH_STORE"] = os.path.join(_STORE_DIR, "stancebench.db")
# Nor the user's installed models: a test that needs one installs it into a folder of its own
os.environ["STANCEBENCH_MODELS"] = os.path.join(_STORE_DIR, "models")

SHARED_DATA = Path(os.environ.get("STANCEBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path of a file in ``../shared/data``; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real reference data not available: {path} is absent "
                    f"(set STANCEBENCH_SHARED_DATA or place ../shared/data beside the project)")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real reference data not available: {SHARED_DATA} is absent")
    return SHARED_DATA


def reference_only_study(root: Path, name: str, kpis: list[str], trials: list[tuple[str, str, float | None, int]],
                         extra_toml: str = "") -> tuple[Path, dict]:
    """The smallest real study: reference-only trials from C3D files written by the synthetic generator.

    ``trials`` holds ``(trial id, condition, fail_at_s or None, seed)``; each becomes ``<id>.c3d`` (one subject,
    right stance leg, at most 4 s). ``extra_toml`` is appended to the manifest (more trials). Returns the
    manifest path and each trial's generator truth by id."""
    import textwrap

    from ground_truth import synthetic
    subject = synthetic.Subject(subject_id="S01", height_m=1.70, mass_kg=65.0, sex="female")
    truth, tables = {}, []
    for tid, cond, fail, seed in trials:
        trial = synthetic.simulate_single_leg_stance(subject, condition=cond, stance_leg="right", duration_s=300.0,
                                                     max_duration_s=4.0, fail_at_s=fail, seed=seed)
        synthetic.write_c3d(trial, root / f"{tid.lower()}.c3d")
        truth[tid] = trial.truth
        tables.append(f'[[trials]]\nid = "{tid}"\nsubject = "S01"\nprotocol = "single_leg_stance"\n'
                      f'condition = "{cond}"\nstance_leg = "right"\nkind = "reference-only"\n'
                      f'gold_standard = "{tid.lower()}.c3d"\nduration_s = 4.0\n')
    manifest = root / "study.toml"
    manifest.write_text(f'[study]\nname = "{name}"\n[settings]\nworkers = 1\nkpis = {kpis!r}\n'
                        '[[subjects]]\nid = "S01"\nheight_m = 1.70\nmass_kg = 65.0\nsex = "F"\n'
                        + "".join(tables) + textwrap.dedent(extra_toml))
    return manifest, truth
