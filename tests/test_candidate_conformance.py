"""Conformance suite (scikit-learn style): what every candidate kind must satisfy.

One clip is built from the first 8 frames of a real video (pose2sim cam01, downscaled) with 3 blank frames
in the middle and irregular (variable-frame-rate) timestamps. Every candidate must return: the video's own
frame times (strictly increasing), keypoints (T, K, D) and confidence (T, K) for its schema, NaN on the
blank frames (no person), a detection rate equal to the fraction of detected frames, and its identity.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from conftest import shared_path
from ground_truth.kernel import InputError
from candidates.skeletons import SCHEMAS
from candidates.track import KeypointTrack

# Irregular frame intervals (s), like a phone's VFR recording; 11 frames, blank at indices 5, 6, 7.
INTERVALS = [0.016, 0.018, 0.017, 0.033, 0.016, 0.020, 0.016, 0.034, 0.016, 0.017]
BLANK = [5, 6, 7]


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    import cv2
    from candidates.video import read_frames, write_video
    src = shared_path("video", "pose2sim_balancing", "cam01.mp4")
    _, frames = read_frames(src, max_frames=8)
    small = [cv2.resize(f, (540, 960), interpolation=cv2.INTER_AREA) for f in frames]
    blank = np.full_like(small[0], 128)
    seq = small[:5] + [blank] * 3 + small[5:8]
    times = np.concatenate([[0.0], np.cumsum(INTERVALS)])
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, seq, times)
    return path, times


@pytest.fixture(scope="session")
def reference_track(clip):
    """A BlazePose track of the clip, used to make the imported-format files."""
    from candidates.backbones import get_candidate
    return get_candidate("blazepose-tflite").run(clip[0], cache=False)


def _write_imports(track: KeypointTrack, folder, fmt: str):
    """Write a track in one import format (the writers are independent of the readers under test)."""
    coco = track.to_schema("coco17")
    if fmt == "track-json":
        p = folder / "track.json"
        track.to_json(p)
        return p
    if fmt == "openpose":
        # BODY_25 order from OpenPose's documentation; heels/big toes from BlazePose's heels/foot_index.
        names = ["nose", None, "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                 "left_wrist", None, "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
                 "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_foot_index", None,
                 "left_heel", "right_foot_index", None, "right_heel"]
        d = folder / "openpose"
        d.mkdir()
        bp = SCHEMAS["blazepose33"]
        for t in range(track.n_frames):
            people = []
            if track.detected[t]:
                vals = []
                for n in names:
                    if n is None:
                        vals += [0.0, 0.0, 0.0]
                    else:
                        i = bp.index(n)
                        vals += [float(track.keypoints[t, i, 0]), float(track.keypoints[t, i, 1]),
                                 float(track.confidence[t, i])]
                people.append({"person_id": [-1], "pose_keypoints_2d": vals})
            (d / f"clip_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
        return d
    if fmt == "coco":
        rows = [{"image_id": t, "category_id": 1, "score": 0.9,
                 "keypoints": np.column_stack([coco.keypoints[t], coco.confidence[t]]).ravel().tolist()}
                for t in range(coco.n_frames) if coco.detected[t]]
        p = folder / "results.json"
        p.write_text(json.dumps(rows))
        return p
    if fmt == "csv":
        import pandas as pd
        cols = {"frame": np.arange(coco.n_frames)}
        for i, n in enumerate(SCHEMAS["coco17"]):
            cols[f"{n}_x"] = coco.keypoints[:, i, 0]
            cols[f"{n}_y"] = coco.keypoints[:, i, 1]
            cols[f"{n}_conf"] = coco.confidence[:, i]
        p = folder / "kp.csv"
        pd.DataFrame(cols).to_csv(p, index=False)
        return p
    raise ValueError(fmt)


KINDS = ["mediapipe-full", "mediapipe-full-static", "blazepose-tflite", "blazepose-tflite-static",
         "manifest-tflite", "imported-track-json", "imported-openpose", "imported-coco", "imported-csv", "coreml",
         "render-truth", "degraded"]


def _clip_truth(clip, reference_track, folder):
    """A truth file for the clip in the renderer's format (candidates.render.truth.write_truth_json).

    The clip is a real video, not a render, so BlazePose's own track of it stands in for the exact 2-D truth
    (null on the blank frames); the positive control only needs the file's layout, frame times and video hash.
    """
    from candidates.render import PinholeCamera
    from candidates.render.truth import write_truth_json
    from candidates.video import file_sha256
    video, times = clip
    camera = PinholeCamera(fx=500.0, fy=500.0, cx=269.5, cy=479.5, width=540, height=960)
    return write_truth_json(folder / "clip.truth.json", reference_track, camera=camera,
                            clock={"mocap_times_s": [float(t) for t in times]},
                            landmarks_3d=np.full((len(times), 33, 3), np.nan),
                            extra={"render": {"video_sha256": file_sha256(video)}})


@pytest.fixture(scope="session")
def landmark_manifest(tmp_path_factory):
    from candidates.backbones import mediapipe_model_path
    d = tmp_path_factory.mktemp("manifest")
    p = d / "bp.toml"
    p.write_text(f"""
[candidate]
name = "pose-landmark-full-manifest"
kind = "tflite"
model = "{mediapipe_model_path('full')}"
schema = "blazepose33"
[input]
width = 256
height = 256
normalization = "0_1"
[output]
layout = "landmarks_xyz_vis"
num_keypoints = 39
coordinates = "input_pixels"
tensor = "Identity"
presence_tensor = "Identity_1"
min_confidence = 0.5
""")
    return p


@pytest.fixture(scope="session")
def tiny_coreml(tmp_path_factory):
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 16, 16, 3))])
    def prog(image):
        m = mb.reduce_mean(x=image, axes=[1, 2], keep_dims=False)
        y = mb.matmul(x=m, y=mb.const(val=np.full((3, 51), 0.01, dtype=np.float32)))
        return mb.reshape(x=y, shape=[1, 1, 17, 3], name="keypoints")

    path = tmp_path_factory.mktemp("coreml") / "tiny.mlpackage"
    ct.convert(prog, convert_to="mlprogram", skip_model_load=True,
               minimum_deployment_target=ct.target.iOS15).save(str(path))
    return path


@pytest.fixture(scope="session")
def tracks(clip, reference_track, landmark_manifest, tiny_coreml, tmp_path_factory):
    """Lazily computed track per candidate kind (each computed once per session)."""
    from candidates.backbones import get_candidate
    from candidates.importers import ImportedCandidate
    cache: dict = {}
    folder = tmp_path_factory.mktemp("imports")

    def get(kind: str):
        if kind in cache:
            return cache[kind]
        video = clip[0]
        if kind == "mediapipe-full":
            cand = get_candidate("mediapipe-full")
        elif kind == "mediapipe-full-static":
            cand = get_candidate("mediapipe-full", static_image_mode=True, smooth_landmarks=False)
        elif kind == "blazepose-tflite":
            cache[kind] = (get_candidate("blazepose-tflite"), reference_track)
            return cache[kind]
        elif kind == "blazepose-tflite-static":
            cand = get_candidate("blazepose-tflite", static_image_mode=True)
        elif kind == "manifest-tflite":
            cand = get_candidate(landmark_manifest)
        elif kind.startswith("imported-"):
            fmt = kind.removeprefix("imported-")
            cand = ImportedCandidate(_write_imports(reference_track, folder, fmt), format=fmt)
        elif kind == "render-truth":
            cand = get_candidate("render-truth", truth=_clip_truth(clip, reference_track, folder))
        elif kind == "degraded":
            # Default degradations; on the clip's 8 person frames one frame is swapped, the blanks stay blank.
            cand = get_candidate("degraded", base="blazepose-tflite")
        elif kind == "coreml":
            from candidates.backbones.coreml import coreml_prediction_available
            ok, reason = coreml_prediction_available()
            if not ok:
                pytest.skip(reason)
            cand = get_candidate(tiny_coreml)  # pragma: no cover - macOS only
        cache[kind] = (cand, cand.run(video, cache=False))
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", KINDS)
def test_timestamps_are_the_videos(kind, tracks, clip):
    _, track = tracks(kind)
    # The clip was written with these pts at 1/90000 s resolution.
    np.testing.assert_allclose(track.times_s, clip[1], atol=1 / 90000)
    assert np.all(np.diff(track.times_s) > 0)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_schema(kind, tracks):
    _, track = tracks(kind)
    k = len(SCHEMAS[track.schema])
    assert track.keypoints.shape[:2] == (11, k) and track.keypoints.shape[2] in (2, 3)
    assert track.confidence.shape == (11, k)
    assert (track.image_width, track.image_height) == (540, 960)
    finite = np.isfinite(track.confidence)
    assert np.all((track.confidence[finite] >= 0) & (track.confidence[finite] <= 1))


@pytest.mark.parametrize("kind", KINDS)
def test_blank_frames_are_nan_and_counted(kind, tracks):
    _, track = tracks(kind)
    assert np.all(np.isnan(track.keypoints[BLANK]))
    assert np.all(np.isnan(track.confidence[BLANK]))
    # The person frames of the real video are found (every backbone found all 8 when this was written).
    person = [i for i in range(11) if i not in BLANK]
    assert track.detected[person].sum() >= 7
    assert track.detection_rate == pytest.approx(track.detected.mean())
    assert track.detection_rate <= 8 / 11


@pytest.mark.parametrize("kind", KINDS)
def test_identity_recorded(kind, tracks):
    cand, track = tracks(kind)
    ident = track.candidate
    for key in ("name", "kind", "model_sha256", "runtime", "runtime_version", "params"):
        assert key in ident, key
    assert len(ident["model_sha256"]) == 64
    expected = cand.identity.to_dict()
    for key in ("name", "kind", "model_sha256", "runtime", "runtime_version", "precision"):
        assert ident[key] == expected[key], key
    if kind.startswith("imported-track-json"):  # the app's own identity is kept, not lost
        assert ident["params"]["original_candidate"]["name"] == "blazepose-tflite"


@pytest.mark.parametrize("kind", KINDS)
def test_check_track_passes(kind, tracks, clip):
    from candidates.backbones.conformance import check_track
    _, track = tracks(kind)
    assert check_track(track, clip[0]) == []


def test_check_track_finds_violations(reference_track, clip):
    from candidates.backbones.conformance import check_track
    t = reference_track
    dropped = KeypointTrack(t.times_s[1:], t.keypoints[1:], t.confidence[1:], t.schema, t.image_width,
                            t.image_height, t.candidate)
    assert any("10 track frames for 11 video frames" in p for p in check_track(dropped, clip[0]))
    shifted = KeypointTrack(t.times_s + 0.01, t.keypoints, t.confidence, t.schema, t.image_width, t.image_height,
                            {})
    problems = check_track(shifted, clip[0])
    assert any("identity lacks" in p for p in problems) and any("differ from the video" in p for p in problems)


@pytest.mark.parametrize("kind", KINDS)
def test_track_round_trips_through_json(kind, tracks, tmp_path):
    _, track = tracks(kind)
    back = KeypointTrack.from_json(track.to_json(tmp_path / "t.json"))
    np.testing.assert_allclose(back.keypoints, track.keypoints, equal_nan=True)
    np.testing.assert_allclose(back.times_s, track.times_s)
    assert back.candidate["name"] == track.candidate["name"]


def test_coreml_skip_reason_is_clear(tiny_coreml, clip):
    from candidates.backbones import get_candidate
    from ground_truth.kernel import NotAvailableError
    if sys.platform == "darwin":
        pytest.skip("Core ML runs here; the skip reason applies off macOS only")
    with pytest.raises(NotAvailableError, match="needs macOS"):
        get_candidate(tiny_coreml).run(clip[0], cache=False)


#: Kinds whose keypoints of a frame do not depend on the frames before it (no tracked region of interest, no
#: temporal filter): analysing every 3rd frame must give exactly those frames of an every-frame run.
FRAME_INDEPENDENT = ("mediapipe-full-static", "blazepose-tflite-static", "render-truth")


@pytest.mark.parametrize("kind", KINDS)
def test_frame_step_analyses_every_nth_frame(kind, tracks, clip):
    """``run(frame_step=3)``: the video's frames 0, 3, 6, 9 with their own times (a costly model on a budget)."""
    cand, full = tracks(kind)
    stepped = cand.run(clip[0], cache=False, frame_step=3)
    np.testing.assert_allclose(stepped.times_s, clip[1][::3], atol=1 / 90000)
    assert stepped.keypoints.shape == (4,) + full.keypoints.shape[1:]
    if kind in FRAME_INDEPENDENT or kind.startswith("imported-"):
        np.testing.assert_array_equal(stepped.keypoints, full.keypoints[::3])
    # frame 6 is blank (BLANK): no person there whatever the step
    assert np.all(np.isnan(stepped.keypoints[2]))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="frame_step"):
            cand.run(clip[0], cache=False, frame_step=bad)


def test_frame_step_has_its_own_cache_entry(clip, tmp_path):
    """A stepped run is cached under its own key; an every-frame run keeps the key it always had."""
    from candidates.backbones import get_candidate
    cand = get_candidate("blazepose-tflite")
    assert cand.cache_key("abc") == cand.cache_key("abc", None, 1) != cand.cache_key("abc", None, 2)
    first = cand.run(clip[0], cache_dir=tmp_path, frame_step=2)
    again = cand.run(clip[0], cache_dir=tmp_path, frame_step=2)
    assert not first.meta["cache_hit"] and again.meta["cache_hit"]
    assert again.n_frames == 6
    assert not cand.run(clip[0], cache_dir=tmp_path).meta["cache_hit"]
