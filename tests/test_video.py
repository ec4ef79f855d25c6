"""Video reading with real per-frame timestamps (PyAV), including variable frame rate."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from candidates.video import file_sha256, iter_frames, probe_video, read_frames, write_video
from ground_truth.kernel import ReaderError


def test_vfr_timestamps_come_from_the_container(tmp_path):
    # Irregular intervals (8 to 50 ms) as a phone produces under changing exposure.
    times = np.array([0.0, 0.033, 0.070, 0.090, 0.150, 0.158, 0.200, 0.250])
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (times.size, 48, 64, 3), dtype=np.uint8)
    path = write_video(tmp_path / "vfr.mp4", frames, times)
    t, f = read_frames(path)
    # Written at a 1/90000 s time base: read back exactly to that resolution, never as index / fps.
    np.testing.assert_allclose(t, times, atol=1 / 90000)
    assert f.shape == (times.size, 48, 64, 3)
    info = probe_video(path)
    np.testing.assert_allclose(info.times_s, times, atol=1 / 90000)
    assert info.is_variable_frame_rate
    assert (info.width, info.height) == (64, 48)
    assert info.sha256 == file_sha256(path)


def test_decoded_pixels_match_written(tmp_path):
    frames = np.zeros((3, 32, 32, 3), np.uint8)
    frames[:, :, :16] = 200
    path = write_video(tmp_path / "c.mp4", frames, [0.0, 0.1, 0.25])
    _, f = read_frames(path)
    assert abs(float(f[1, :, :12].mean()) - 200) < 6 and float(f[1, :, 20:].mean()) < 6


def test_real_video_cam01():
    path = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    info = probe_video(path)
    # Facts stated in shared/data/README.md: 60 fps, 100 frames, 1080x1920 portrait.
    assert info.n_frames == 100
    assert (info.width, info.height) == (1080, 1920)
    assert info.mean_fps == pytest.approx(60.0, rel=1e-3)
    assert not info.is_variable_frame_rate
    t, img = next(iter_frames(path))
    assert img.shape == (1920, 1080, 3) and t == pytest.approx(info.times_s[0])


def test_real_vp9_video_cam02():
    path = shared_path("video", "pose2sim_balancing", "cam02.mp4")
    info = probe_video(path, with_sha256=False)
    assert info.codec == "vp9" and info.n_frames == 100
    t = [t for t, _ in iter_frames(path, max_frames=3)]
    np.testing.assert_allclose(np.diff(t), 1 / 60, atol=1e-4)


def test_empty_and_not_video_files_are_clear(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ReaderError, match="empty") as err:
        probe_video(empty)
    assert str(empty) in str(err.value)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(ReaderError) as err:
        list(iter_frames(text))
    assert str(text) in str(err.value)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        probe_video("/nonexistent/clip.mp4")
