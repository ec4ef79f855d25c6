"""``stancebench pose`` in-process: writes the track JSON, prints frames, detection rate and ms/frame, and turns
bad input into exit code 2 with a message naming the file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import shared_path
from harness.cli import main


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import cv2
    from candidates.video import read_frames, write_video
    _, frames = read_frames(shared_path("video", "pose2sim_balancing", "cam04.mp4"), max_frames=3)
    small = [cv2.resize(f, (270, 480), interpolation=cv2.INTER_AREA) for f in frames]
    small.append(np.zeros_like(small[0]))             # a frame with no person
    return write_video(tmp_path_factory.mktemp("c") / "clip.mp4", small, [0.0, 0.017, 0.05, 0.066])


@pytest.mark.parametrize("candidate", ["mediapipe-full", "blazepose-tflite"])
def test_pose_writes_track_and_prints_summary(clip, tmp_path, capsys, candidate):
    out = tmp_path / "track.json"
    rc = main(["pose", str(clip), "--candidate", candidate, "--out", str(out), "--cache-dir", str(tmp_path)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "frames          4" in text and "detection rate  0.750 (1 frame(s) with no person)" in text
    assert "ms/frame" in text
    data = json.loads(out.read_text())
    assert data["schema"] == "blazepose33" and data["image_width"] == 270 and data["image_height"] == 480
    assert len(data["times_s"]) == 4 and len(data["keypoints"][0]) == 33
    assert data["keypoints"][3][0] == [None, None, None]
    assert data["candidate"]["name"] == candidate
    # Second run: from the cache, said so.
    assert main(["pose", str(clip), "--candidate", candidate, "--out", str(out),
                 "--cache-dir", str(tmp_path)]) == 0
    assert "cached (no inference)" in capsys.readouterr().out


def test_bad_inputs_exit_2(tmp_path, capsys, clip):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert main(["pose", str(empty), "--candidate", "blazepose-tflite", "--out", str(tmp_path / "o.json"),
                 "--no-cache"]) == 2
    assert "empty.mp4" in capsys.readouterr().err
    assert main(["pose", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o.json")]) == 2
    assert "missing.mp4: file not found" in capsys.readouterr().err
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"not a model at all")
    manifest = tmp_path / "m.toml"
    manifest.write_text(f'[candidate]\nname = "x"\nkind = "blazepose-tflite"\nmodel = "{fake.name}"\n')
    assert main(["pose", str(clip), "--candidate", str(manifest), "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert "fake.tflite" in err and "not a TFLite flatbuffer" in err
    assert main(["pose", str(clip), "--candidate", "openpose", "--out", str(tmp_path / "o.json")]) == 2
    assert "unknown candidate" in capsys.readouterr().err
    assert main(["pose", str(clip), "--candidate", str(manifest), "--static", "--out", "o.json"]) == 2
    capsys.readouterr()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["pose", str(clip), "--candidate", "blazepose-tflite", "--out", str(blocker / "t.json"),
                 "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "cannot write the track" in capsys.readouterr().err
