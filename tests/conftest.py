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
