"""Issue 15, the video side: hostile videos, keypoint files, calibrations and options given to ``pose``,
``render`` and ``align`` end in a named error (exit 2) or a flagged partial result, never in a traceback, a
hang, a memory exhaustion or a silently short video.

The hostile inputs are built here from the real files of ``../shared/data`` (copies mutated in ``tmp_path``).
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, shared_path
from ground_truth.kernel import InputError, ReaderError
from harness.cli import main

_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, offset, header size, size) of every MP4 box, depth first."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[i + 8:i + 16])[0], 16
        elif size == 0:
            size = end - i
        if size < header:
            return
        yield kind, i, header, size
        if kind in _CONTAINER_BOXES:
            yield from _boxes(data, i + header, i + size)
        i += size


def _with_media_time_scale(data: bytes, value: int) -> bytes:
    """A copy of an MP4 whose first track's media header ('mdhd') time scale is ``value``."""
    out = bytearray(data)
    for kind, i, header, _ in _boxes(data):
        if kind == b"mdhd":
            version = out[i + header]
            at = i + header + 4 + (16 if version == 1 else 8)
            out[at:at + 4] = struct.pack(">I", value)
            return bytes(out)
    raise AssertionError("no mdhd box")


@pytest.fixture(scope="module")
def demo_bytes():
    return shared_path("video", "sports2d", "demo.mp4").read_bytes()


@pytest.fixture
def truncated(tmp_path, demo_bytes):
    path = tmp_path / "demo_25pct.mp4"
    path.write_bytes(demo_bytes[:len(demo_bytes) // 4])
    return path


# ---------------------------------------------------------------------------------------------- videos
def test_truncated_video_is_refused_with_declared_and_decoded_counts(truncated):
    from candidates.video import iter_frames, probe_video

    # Before: 60 of 230 frames decoded, no error (frame threading drops the decoder's error at the cut).
    with pytest.raises(ReaderError) as err:
        for _ in iter_frames(truncated):
            pass
    text = str(err.value)
    assert str(truncated) in text and "60 of the 230 frames" in text and "7.667 s" in text
    with pytest.raises(ReaderError, match="of the 230 frames") as err:
        probe_video(truncated, with_sha256=False)       # from the packets alone, without decoding
    assert str(truncated) in str(err.value)


def test_partial_video_accepted_on_request_says_what_is_missing(truncated):
    from candidates.video import iter_frames, probe_video

    frames = iter_frames(truncated, allow_partial=True)
    times = [t for t, _ in frames]
    c = frames.completeness
    assert len(times) == c.n_frames == 60 and c.n_declared == 230 and c.missing_frames == 170
    assert c.partial and c.declared_from == "stream" and c.missing_s == pytest.approx(5.667, abs=1e-3)
    assert "60 of the 230 frames" in c.reason and c.to_dict()["partial"] is True
    # what a cached track keeps in its meta refuses again when read back by a caller that wants it whole
    from candidates.video import VideoCompleteness, require_complete
    assert VideoCompleteness.from_dict(c.to_dict()) == c
    with pytest.raises(ReaderError, match="60 of the 230 frames") as err:
        require_complete(c.to_dict())
    assert str(truncated) in str(err.value)
    info = probe_video(truncated, with_sha256=False, allow_partial=True)
    assert info.completeness.partial and info.n_frames == 61      # the last packet is cut short
    # A read cut short by the caller is never judged partial; the intact file is complete.
    few = iter_frames(shared_path("video", "sports2d", "demo.mp4"), max_frames=3)
    assert len(list(few)) == 3 and few.completeness.stopped_early and not few.completeness.partial
    whole = probe_video(shared_path("video", "sports2d", "demo.mp4"), with_sha256=False)
    assert not whole.completeness.partial and whole.completeness.missing_frames == 0
    require_complete(whole.completeness)


def test_decoder_error_mid_stream_names_file_and_frame(tmp_path, demo_bytes):
    from candidates.video import iter_frames

    mdat = next((i, header, size) for kind, i, header, size in _boxes(demo_bytes) if kind == b"mdat")
    data = bytearray(demo_bytes)
    start = mdat[0] + mdat[2] // 10
    data[start:start + 200_000] = b"\x00" * 200_000
    path = tmp_path / "zeroed.mp4"
    path.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match=r"decoding failed at frame \d+") as err:
        for _ in iter_frames(path):
            pass
    assert str(path) in str(err.value)
    frames = iter_frames(path, allow_partial=True)
    n = sum(1 for _ in frames)
    assert 0 < n < 230 and frames.completeness.partial and frames.completeness.decoder_error


def test_zero_time_scale_is_refused(tmp_path, demo_bytes, capsys):
    from candidates.video import iter_frames, probe_video

    # FFmpeg reads an 'mdhd' time scale of 0 as 1 tick per second: 1/512 fps on this 30-fps file.
    path = tmp_path / "timescale0.mp4"
    path.write_bytes(_with_media_time_scale(demo_bytes, 0))
    with pytest.raises(ReaderError, match="frame rate"):
        probe_video(path)
    with pytest.raises(ReaderError, match="frame rate") as err:
        next(iter_frames(path))
    assert str(path) in str(err.value)
    rc = main(["pose", str(path), "--candidate", "blazepose-tflite", "--out", str(tmp_path / "t.json"),
               "--no-cache"])
    err_text = capsys.readouterr().err
    assert rc == 2 and "timescale0.mp4" in err_text and "frame rate" in err_text


def test_rendered_video_with_zero_time_scale_no_longer_decodes_one_frame(tmp_path):
    # The writer's own files carry an edit list: with the time scale at 0 only the first frame was decoded.
    from candidates.render import PinholeCamera, VideoClock, pendulum_stance_motion, render_video
    from candidates.video import iter_frames

    cam = PinholeCamera.look_at([3.5, 0.0, 1.0], [0.0, 0.0, 0.9], fx=100, width=96, height=64, fps=30)
    res = render_video(pendulum_stance_motion(1.0, 100.0), cam, tmp_path / "r.mp4", clock=VideoClock(fps=30))
    bad = tmp_path / "r0.mp4"
    bad.write_bytes(_with_media_time_scale(res.video_path.read_bytes(), 0))
    with pytest.raises(ReaderError, match="frame rate"):
        list(iter_frames(bad))


def test_pose_refuses_truncated_video_before_inference(truncated, tmp_path, capsys):
    rc = main(["pose", str(truncated), "--candidate", "blazepose-tflite", "--out", str(tmp_path / "t.json"),
               "--no-cache"])
    err = capsys.readouterr().err
    assert rc == 2 and str(truncated) in err and "of the 230 frames" in err
    assert not (tmp_path / "t.json").exists()


def test_pose_directory_fifo_and_bad_outputs(tmp_path, capsys):
    folder = tmp_path / "clip.mp4"
    folder.mkdir()
    rc = main(["pose", str(folder), "--out", str(tmp_path / "t.json"), "--no-cache"])
    err = capsys.readouterr().err
    assert rc == 2 and "is a directory" in err and "Traceback" not in err
    video = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    rc = main(["pose", str(video), "--out", str(tmp_path / "t.txt"), "--no-cache"])
    assert rc == 2 and "--out" in capsys.readouterr().err
    blocker = tmp_path / "cache_file"
    blocker.write_text("x")
    rc = main(["pose", str(video), "--out", str(tmp_path / "t.json"), "--cache-dir", str(blocker)])
    assert rc == 2 and "--cache-dir" in capsys.readouterr().err


def test_pose_on_a_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "pose", str(fifo), "--out",
                           str(tmp_path / "t.json"), "--no-cache"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 2 and "FIFO" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------------- render
@pytest.fixture
def camera_toml(tmp_path):
    from candidates.calibration import write_camera_toml
    from candidates.render import PinholeCamera
    cam = PinholeCamera.look_at([3.5, 0.0, 1.0], [0.0, 0.0, 0.9], fx=100, width=96, height=64, fps=30)
    return write_camera_toml(cam, tmp_path / "cam.toml")


@pytest.mark.parametrize("option, value, named", [
    ("--fps", "1e9", "--fps"), ("--duration", "1e9", "--duration"), ("--offset", "nan", "--offset"),
    ("--offset", "-1e300", "--offset"), ("--duration", "nan", "--duration"), ("--yaw", "nan", "--yaw"),
    ("--blur", "100000", "--blur"), ("--exposure-ms", "nan", "--exposure-ms"), ("--seed", "-1", "--seed"),
    ("--drift-ppm", "inf", "--drift-ppm"), ("--jitter-ms", "nan", "--jitter-ms"), ("--noise", "inf", "--noise"),
    ("--out", "x.txt", "--out"), ("--truth", "t.csv", "--truth"),
    # within the bounds of a duration, but its frames and their truth would not fit the memory cap
    ("--duration", "80000", "--duration"),
])
def test_render_refuses_implausible_options_up_front(tmp_path, camera_toml, capsys, option, value, named):
    out = tmp_path / "v.mp4"
    argv = ["render", "pendulum", "--camera", str(camera_toml), "--out", str(out)]
    if option == "--out":
        argv[-1] = str(tmp_path / value)
    else:
        argv.append(f"{option}={tmp_path / value if option == '--truth' else value}")
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and named in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.toml"]


def test_render_out_paths(tmp_path, camera_toml, capsys):
    folder = tmp_path / "v.mp4"
    folder.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out, why in ((folder, "is a directory"), (blocker / "v.mp4", "is a file")):
        rc = main(["render", "pendulum", "--camera", str(camera_toml), "--out", str(out), "--duration", "0.1"])
        err = capsys.readouterr().err
        assert rc == 2 and "--out" in err and why in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.toml", "file", "v.mp4"]


def test_render_budget_names_frames_and_memory(tmp_path, camera_toml, capsys):
    rc = main(["render", "pendulum", "--camera", str(camera_toml), "--out", str(tmp_path / "v.mp4"),
               "--duration", "80000"])
    err = capsys.readouterr().err
    assert rc == 2 and "2,400,001 frames" in err and "GiB" in err and "at most" in err


def test_render_motion_spec_bounds(tmp_path, camera_toml, capsys):
    for spec in ("pendulum:duration_s=1e9", "pendulum:fs_hz=nan", "pendulum:seed=-3",
                 "synthetic:duration_s=80000,max_duration_s=80000"):
        rc = main(["render", spec, "--camera", str(camera_toml), "--out", str(tmp_path / "v.mp4")])
        err = capsys.readouterr().err
        assert rc == 2 and "MOTION" in err and "Traceback" not in err, (spec, err)


def test_failed_render_leaves_no_partial_video(tmp_path, monkeypatch):
    from candidates.render import PinholeCamera, VideoClock, pendulum_stance_motion, render_video
    from candidates.render import scene

    calls = {"n": 0}
    real = scene.draw_figure

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(scene, "draw_figure", failing)
    cam = PinholeCamera.look_at([3.5, 0.0, 1.0], [0.0, 0.0, 0.9], fx=100, width=96, height=64, fps=30)
    with pytest.raises(OSError):
        render_video(pendulum_stance_motion(1.0, 100.0), cam, tmp_path / "v.mp4", clock=VideoClock(fps=30))
    assert list(tmp_path.iterdir()) == []


def test_render_library_checks(tmp_path):
    from candidates.render import PinholeCamera, RenderOptions, VideoClock, pendulum_stance_motion, render_video

    with pytest.raises(InputError, match="fps"):
        VideoClock(fps=1e9)
    with pytest.raises(InputError, match="offset"):
        VideoClock(offset_s=float("nan"))
    with pytest.raises(InputError, match="exposure"):
        RenderOptions(exposure_s=float("nan"))
    with pytest.raises(InputError, match="width"):
        PinholeCamera(fx=100, fy=100, cx=0, cy=0, width=float("nan"), height=64)
    with pytest.raises(InputError, match="translation"):
        PinholeCamera(fx=100, fy=100, cx=0, cy=0, width=96, height=64, translation=[0, 0, 1e30])
    cam = PinholeCamera.look_at([3.5, 0.0, 1.0], [0.0, 0.0, 0.9], fx=100, width=96, height=64, fps=30)
    with pytest.raises(InputError, match="frame period"):
        render_video(pendulum_stance_motion(1.0, 100.0), cam, tmp_path / "v.mp4",
                     options=RenderOptions(exposure_s=0.5))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- align
@pytest.fixture
def align_csvs(tmp_path):
    t = np.arange(0, 20, 0.01)
    x = np.sin(2 * np.pi * 0.3 * t) + 0.5 * np.sin(2 * np.pi * 0.71 * t)
    tc = np.arange(0, 18, 1 / 30)
    ref, cand = tmp_path / "ref.csv", tmp_path / "cand.csv"
    ref.write_text("t,value\n" + "".join(f"{a:.4f},{b:.6f}\n" for a, b in zip(t, x)))
    cand.write_text("t,value\n" + "".join(f"{a:.5f},{b:.6f}\n" for a, b in zip(tc, np.interp(tc + 0.4, t, x))))
    return ref, cand


@pytest.mark.parametrize("option, value", [("--lowpass", "0"), ("--lowpass", "-1"), ("--lowpass", "nan"),
                                           ("--lowpass", "inf"), ("--max-lag", "nan"), ("--max-lag", "1e300"),
                                           ("--min-peak-corr", "nan"), ("--min-peak-corr", "2")])
def test_align_refuses_bad_numeric_options(align_csvs, capsys, option, value):
    rc = main(["align", str(align_csvs[0]), str(align_csvs[1]), option, value])
    err = capsys.readouterr().err
    assert rc == 2 and f"'{option}'" in err and "finite number in" in err and "Traceback" not in err


def test_align_library_parameters():
    from harness.align import com_vertical_force, detect_onset, estimate_offset

    t = np.arange(200) / 100.0
    x = np.sin(t * 3)
    for kwargs, field in (({"lowpass_hz": float("nan")}, "lowpass_hz"), ({"min_peak_corr": 5.0}, "min_peak_corr"),
                          ({"window_s": -1.0}, "window_s"), ({"grid_hz": 1e9}, "grid_hz")):
        with pytest.raises(InputError, match=field):
            estimate_offset(t, x, t, x, max_lag_s=0.5, **kwargs)
    with pytest.raises(InputError, match="lowpass_hz"):
        com_vertical_force(t, x, 70.0, lowpass_hz=float("nan"))
    with pytest.raises(InputError, match="baseline_s"):
        detect_onset(t, x, baseline_s=float("nan"))


# ---------------------------------------------------------------------------------------------- keypoint files
def _bad_byte_on_line(text: str, line: int) -> bytes:
    lines = text.encode().split(b"\n")
    lines[line - 1] = lines[line - 1] + b"\xff\xfe"
    return b"\n".join(lines)


def test_non_utf8_keypoint_files_name_file_and_line(tmp_path):
    from candidates.importers import read_coco_results, read_keypoint_csv, read_keypoints, read_openpose
    from candidates.track import KeypointTrack

    video = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    op = tmp_path / "op"
    op.mkdir()
    body = {"version": 1.3, "people": [{"pose_keypoints_2d": [1.0, 2.0, 0.5] * 25}]}
    (op / "clip_000000000000_keypoints.json").write_bytes(_bad_byte_on_line(json.dumps(body, indent=1), 3))
    coco = tmp_path / "coco.json"
    coco.write_bytes(_bad_byte_on_line(json.dumps([{"image_id": 0, "keypoints": [1.0] * 51}], indent=1), 4))
    track = KeypointTrack(np.array([0.0, 0.1]), np.ones((2, 17, 2)), np.ones((2, 17)), "coco17", 64, 48)
    csv = track.to_csv(tmp_path / "kp.csv")
    csv.write_bytes(_bad_byte_on_line(csv.read_text(), 2))
    trc = tmp_path / "markers.trc"
    trc.write_bytes(_bad_byte_on_line(shared_path("mocap_addbiomechanics", "DJ1", "markers.trc").read_text(), 10))
    tj = tmp_path / "track.json"
    tj.write_bytes(_bad_byte_on_line(json.dumps(track.to_dict(), indent=1), 5))
    cases = [(lambda: read_openpose(op, video=video), "clip_000000000000_keypoints.json", 3),
             (lambda: read_coco_results(coco, video=video), "coco.json", 4),
             (lambda: read_keypoint_csv(csv), "kp.csv", 2),
             (lambda: read_keypoints(trc), "markers.trc", 10),
             (lambda: read_keypoints(tj), "track.json", 5)]
    for read, name, line in cases:
        with pytest.raises(ReaderError) as err:
            read()
        assert name in str(err.value) and f"line {line}" in str(err.value), str(err.value)


def test_keypoint_files_with_text_or_infinite_values(tmp_path):
    from candidates.importers import read_coco_results, read_keypoints
    from candidates.track import KeypointTrack

    video = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    coco = tmp_path / "coco.json"
    coco.write_text(json.dumps([{"image_id": 0, "keypoints": ["x"] + [1.0] * 50}]))
    with pytest.raises(ReaderError, match="entry 0: 'x' is not a number"):
        read_coco_results(coco, video=video)
    track = KeypointTrack(np.array([0.0, 0.1]), np.ones((2, 17, 2)), np.ones((2, 17)), "coco17", 64, 48)
    doc = track.to_dict()
    doc["keypoints"][1][3][0] = 1e300
    tj = tmp_path / "track.json"
    tj.write_text(json.dumps(doc).replace("1e+300", "Infinity", 1))
    back = read_keypoints(tj)
    assert np.isnan(back.keypoints[1, 3, 0]) and "infinite" in back.meta["notes"][0]
    fifo = tmp_path / "kp.csv"
    os.mkfifo(fifo)
    with pytest.raises(ReaderError, match="FIFO"):
        read_keypoints(fifo)          # refused from stat: a FIFO would block the reader


def test_calibration_files(tmp_path):
    from candidates.calibration import read_camera_toml, read_qca

    good = 'name = "c"\n'
    cam = tmp_path / "cam.toml"
    cam.write_bytes(b"[camera]\n" + good.encode() + b"fx = 100\xff\n")
    with pytest.raises(ReaderError, match="line 3") as err:
        read_camera_toml(cam)
    assert "cam.toml" in str(err.value)
    folder = tmp_path / "Calib.qca.txt"
    folder.mkdir()
    with pytest.raises(ReaderError, match="is a directory"):
        read_qca(folder)
    qca = shared_path("video", "pose2sim_balancing", "Calib.qca.txt").read_text()
    bad = tmp_path / "nan.qca.txt"
    bad.write_text(qca.replace('<fov_video bottom="1919"', '<fov_video bottom="nan"', 1))
    with pytest.raises(ReaderError, match="fov_video") as err:
        read_qca(bad)      # before: int(round(nan)) raised a bare ValueError
    assert "nan.qca.txt" in str(err.value)
