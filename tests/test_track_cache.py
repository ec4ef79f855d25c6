"""Track cache (video sha256 + model sha256 + parameters) and parallel runs over several videos."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path


@pytest.fixture(scope="module")
def two_clips(tmp_path_factory):
    import cv2
    from candidates.video import read_frames, write_video
    _, frames = read_frames(shared_path("video", "pose2sim_balancing", "cam01.mp4"), max_frames=4)
    small = [cv2.resize(f, (270, 480), interpolation=cv2.INTER_AREA) for f in frames]
    d = tmp_path_factory.mktemp("clips")
    a = write_video(d / "a.mp4", small, [0.0, 0.02, 0.04, 0.07])
    b = write_video(d / "b.mp4", small[::-1], [0.0, 0.03, 0.05, 0.06])
    return a, b


def test_second_run_reads_the_cache(two_clips, tmp_path):
    from candidates.backbones import get_candidate
    cand = get_candidate("blazepose-tflite")
    first = cand.run(two_clips[0], cache_dir=tmp_path)
    assert first.meta["cache_hit"] is False and cand.n_inferred_frames == 4
    second = cand.run(two_clips[0], cache_dir=tmp_path)
    assert second.meta["cache_hit"] is True
    assert cand.n_inferred_frames == 4          # nothing inferred again
    np.testing.assert_array_equal(second.keypoints, first.keypoints)
    assert second.candidate == first.candidate
    # Another parameter value is another key: inferred again.
    other = get_candidate("blazepose-tflite", smooth_landmarks=False)
    assert other.run(two_clips[0], cache_dir=tmp_path).meta["cache_hit"] is False
    assert other.n_inferred_frames == 4
    # A fresh candidate object with the same model and parameters hits the cache.
    again = get_candidate("blazepose-tflite")
    assert again.run(two_clips[0], cache_dir=tmp_path).meta["cache_hit"] is True and again.n_inferred_frames == 0
    assert len(list(tmp_path.glob("tracks/*/*.json"))) == 2


def test_unwritable_cache_keeps_the_result(two_clips, tmp_path):
    from candidates.backbones import get_candidate
    blocker = tmp_path / "not_a_dir"
    blocker.mkdir()
    (blocker / "tracks").write_text("a file where the cache wants a folder")
    track = get_candidate("blazepose-tflite", static_image_mode=True).run(two_clips[0], cache_dir=blocker,
                                                                         max_frames=1)
    assert track.n_frames == 1 and "cache_error" in track.meta


def test_default_cache_dir_from_environment(monkeypatch, tmp_path):
    from candidates.cache import TrackCache, default_cache_dir
    monkeypatch.setenv("STANCEBENCH_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert TrackCache().root == tmp_path / "c"
    monkeypatch.delenv("STANCEBENCH_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir().parts[-2:] == (".cache", "stancebench")
    # the XDG base-directory convention, which `stancebench demo` and `pose` now share (one default)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "stancebench"
    assert TrackCache().root == tmp_path / "xdg" / "stancebench"


def test_corrupt_cache_entry_is_recomputed(two_clips, tmp_path):
    from candidates.backbones import get_candidate
    from candidates.video import file_sha256
    cand = get_candidate("blazepose-tflite", static_image_mode=True)
    key = cand.cache_key(file_sha256(two_clips[1]))
    from candidates.cache import TrackCache
    path = TrackCache(tmp_path).path_for(key)
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    track = cand.run(two_clips[1], cache_dir=tmp_path)
    assert track.meta["cache_hit"] is False and track.n_frames == 4


@pytest.mark.slow
def test_run_many_in_parallel_processes(two_clips, tmp_path):
    from candidates.backbones import get_candidate, run_many
    cand = get_candidate("blazepose-tflite")
    tracks = run_many(list(two_clips), cand, workers=2, cache_dir=tmp_path)
    assert [t.meta["video_path"] for t in tracks] == [str(p) for p in two_clips]
    np.testing.assert_allclose(tracks[1].times_s, [0.0, 0.03, 0.05, 0.06], atol=1e-4)
    # Same result as running here, and the workers filled the shared cache.
    here = cand.run(two_clips[0], cache=False)
    np.testing.assert_allclose(tracks[0].keypoints, here.keypoints, equal_nan=True, atol=1e-3)
    assert all(get_candidate("blazepose-tflite").run(p, cache_dir=tmp_path).meta["cache_hit"] for p in two_clips)
