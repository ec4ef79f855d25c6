"""Control candidates (candidates.backbones.controls): the positive control is the truth plus exactly the stated
jitter, the negative control degrades a real backbone's track by exactly the stated amounts.

Every expected number below comes from the parameters given and a formula written out in the test (never from
the code under test): the jitter's standard deviation is the ``jitter_px`` asked for, the AR(1) noise's lag-1
autocorrelation is ``exp(-Δt/tau)``, the smoothing's gain is the first-order IIR formula, the swap count is
``round(fraction × detected frames)``.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from candidates.backbones import get_candidate
from candidates.render import (
    PinholeCamera,
    RenderOptions,
    pendulum_stance_motion,
    read_truth_json,
    render_video,
)
from candidates.skeletons import BLAZEPOSE33
from candidates.track import KeypointTrack
from ground_truth.kernel import InputError

FPS = 30.0


def _mirror_permutation() -> np.ndarray:
    """BlazePose-33 order with every left_X and right_X exchanged (written here from the names)."""
    names = list(BLAZEPOSE33)
    out = []
    for n in names:
        if n.startswith("left_"):
            out.append(names.index("right_" + n[5:]))
        elif n.startswith("right_"):
            out.append(names.index("left_" + n[6:]))
        else:
            out.append(names.index(n))
    return np.asarray(out)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A 2.3-s portrait render of a figure swaying on one leg; the motion ends at 2.0 s, so the last frames show
    the empty scene and have null truth (missing frames of the positive control)."""
    folder = tmp_path_factory.mktemp("controls")
    motion = pendulum_stance_motion(2.0, 100.0, seed=3)
    cam = PinholeCamera.look_at([3.0, 0.0, 1.0], [0.0, 0.0, 0.95], fx=400, width=288, height=512, fps=FPS)
    res = render_video(motion, cam, folder / "sway.mp4", options=RenderOptions(noise_sigma=2.0), duration_s=2.3)
    return res


@pytest.fixture(scope="module")
def base_run(rendered, tmp_path_factory):
    """The real base backbone run once into a private cache, as the study's own candidate would have run.

    It finds the figure in one run of frames from the first and nothing once the figure has gone (measured:
    61 of 70 frames; the motion ends at 2.0 s)."""
    cache = tmp_path_factory.mktemp("cache")
    base = get_candidate("blazepose-tflite", smooth_landmarks=False).run(rendered.video_path, cache_dir=cache)
    det = base.detected
    n_det = int(det.sum())
    assert n_det >= 55 and np.all(det[:n_det]) and not det[n_det:].any()
    return cache, base, n_det


# ---------------------------------------------------------------------------------------------- positive
def test_positive_control_error_is_the_stated_jitter(rendered):
    truth = read_truth_json(rendered.truth_path).track
    track = get_candidate("render-truth", jitter_px=1.5, jitter_tau_s=0.0).run(rendered.video_path)
    err = track.keypoints - truth.keypoints
    present = np.isfinite(err)
    n = int(present.sum())
    # White Gaussian noise of SD 1.5 px per coordinate: the sample RMS has a relative standard error of
    # 1/sqrt(2n) (about 1 % here); 5 % is more than four standard errors.
    assert n > 3000
    rms = np.sqrt(np.mean(err[present] ** 2))
    assert rms == pytest.approx(1.5, rel=0.05)
    assert abs(np.mean(err[present])) < 4 * 1.5 / np.sqrt(n)        # no bias
    # Frames where the truth has no person (after the motion's 2.0 s) are missing, all others present.
    no_person = np.all(np.isnan(truth.keypoints[..., 0]), axis=1)
    assert no_person.sum() >= 5
    assert np.array_equal(~track.detected, no_person)
    assert np.all(np.isnan(track.confidence[no_person]))
    # Detector-like confidence: [0.9, 1] for landmarks inside the image (truth confidence 1).
    visible = truth.confidence == 1
    assert np.all((track.confidence[visible] >= 0.9) & (track.confidence[visible] <= 1.0))
    # The track carries the video's frame times, not a recomputed clock.
    np.testing.assert_allclose(track.times_s, rendered.track.times_s, atol=1 / 90000)


def test_positive_control_default_jitter_scales_with_the_figure(rendered):
    truth = read_truth_json(rendered.truth_path).track
    track = get_candidate("render-truth").run(rendered.video_path)
    # Documented default: 0.20 px per 389 px of the figure's vertical extent (BlazePose's frame-to-frame jitter
    # on the demo videos).
    y = np.where(truth.confidence == 1, truth.keypoints[..., 1], np.nan)
    rows = np.any(np.isfinite(y), axis=1)
    extent = np.median(np.nanmax(y[rows], axis=1) - np.nanmin(y[rows], axis=1))
    assert track.meta["jitter_px"] == pytest.approx(0.20 * extent / 389.0, rel=1e-9)


def test_correlated_jitter_has_the_stated_sd_and_autocorrelation():
    from candidates.backbones.controls import add_detection_noise
    # 100 s of a still figure at 30 fps (all coordinates 100 px): the noise alone is what comes out.
    n = 3000
    times = np.arange(n) / FPS
    truth = KeypointTrack(times, np.full((n, 33, 2), 100.0), np.ones((n, 33)), "blazepose33", 640, 480)
    out = add_detection_noise(truth, jitter_px=2.0, jitter_tau_s=0.5, confidence="truth",
                              rng=np.random.default_rng(7))
    e = out.keypoints - 100.0
    # AR(1) with rho = exp(-dt/tau) per frame: stationary SD 2.0 px, lag-1 autocorrelation exp(-1/15) = 0.9355.
    rho = np.exp(-(1 / FPS) / 0.5)
    # 66 series of 3000 frames, each worth n(1-rho)/(1+rho) = 100 independent samples: RMS within a few %.
    assert np.sqrt(np.mean(e ** 2)) == pytest.approx(2.0, rel=0.05)
    r1 = np.mean([np.corrcoef(e[:-1, k, a], e[1:, k, a])[0, 1] for k in range(33) for a in range(2)])
    assert r1 == pytest.approx(rho, abs=0.01)
    assert np.array_equal(out.confidence, truth.confidence)         # confidence="truth" keeps the truth's


def test_positive_control_is_deterministic_per_video_and_seed(rendered, tmp_path):
    a = get_candidate("render-truth", seed=4).run(rendered.video_path)
    b = get_candidate("render-truth", seed=4).run(rendered.video_path)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    # The same bytes under another name are the same video: the same noise (seeded by content, not path).
    other = tmp_path / "copy.mp4"
    shutil.copyfile(rendered.video_path, other)
    shutil.copyfile(rendered.truth_path, tmp_path / "copy.truth.json")
    np.testing.assert_array_equal(get_candidate("render-truth", seed=4).run(other).keypoints, a.keypoints)
    c = get_candidate("render-truth", seed=5).run(rendered.video_path)
    assert not np.allclose(c.keypoints[a.detected], a.keypoints[a.detected])


def test_missing_truth_file_is_named(rendered, tmp_path):
    lone = tmp_path / "lone.mp4"
    shutil.copyfile(rendered.video_path, lone)
    with pytest.raises(InputError, match="needs the renderer's truth file") as err:
        get_candidate("render-truth").run(lone)
    assert str(tmp_path / "lone.truth.json") in str(err.value)
    with pytest.raises(InputError, match="nope.truth.json"):
        get_candidate("render-truth", truth=tmp_path / "nope.truth.json")


def test_truth_of_another_video_is_refused(rendered, tmp_path):
    from candidates.video import read_frames, write_video
    times, frames = read_frames(rendered.video_path)
    other = write_video(tmp_path / "reencoded.mp4", frames, times)     # same pictures, other bytes
    with pytest.raises(InputError, match="describes another video") as err:
        get_candidate("render-truth", truth=rendered.truth_path).run(other)
    assert str(rendered.truth_path) in str(err.value)


# ---------------------------------------------------------------------------------------------- negative
def _sine_base(tmp_path, f_hz: float, amp_px: float, seconds: float):
    """A base candidate whose track is a known sinusoid: keypoints in the track JSON of issue 3, read through
    an imported-keypoints candidate manifest (the real import path)."""
    n = int(seconds * FPS) + 1
    t = np.arange(n) / FPS
    kp = np.full((n, 33, 2), 200.0)
    kp[..., 0] += amp_px * np.sin(2 * np.pi * f_hz * t)[:, None]
    KeypointTrack(t, kp, np.ones((n, 33)), "blazepose33", 640, 480,
                  candidate={"name": "sine", "kind": "imported", "model_sha256": "0" * 64, "runtime": "test",
                             "runtime_version": "1", "params": {}}).to_json(tmp_path / "sine.json")
    manifest = tmp_path / "sine.toml"
    manifest.write_text('[candidate]\nname = "sine"\nkind = "imported"\nfile = "sine.json"\nformat = "track-json"\n')
    return t, manifest


def test_smoothing_attenuates_a_sinusoid_by_the_filters_analytic_gain(rendered, tmp_path):
    f, tau, amp = 0.5, 0.5, 10.0
    t, manifest = _sine_base(tmp_path, f, amp, 60.0)
    cand = get_candidate("degraded", base=str(manifest), smooth_tau_s=tau, latency_frames=0, swap_fraction=0.0)
    out = cand.run(rendered.video_path)      # the video only seeds the (unused) random draws
    x = out.keypoints[:, 0, 0] - 200.0
    steady = t > 10 * tau                    # the start-up transient decays as exp(-t/tau)
    design = np.column_stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)])[steady]
    (a_sin, a_cos), *_ = np.linalg.lstsq(design, x[steady], rcond=None)
    gain = np.hypot(a_sin, a_cos) / amp
    phase = np.arctan2(a_cos, a_sin)
    # First-order IIR y_i = y_{i-1} + alpha (x_i - y_{i-1}), alpha = dt/(dt + tau) (Casiez et al. 2012):
    # H(w) = alpha / (1 - (1 - alpha) e^{-iw}), w = 2 pi f dt.
    dt = 1 / FPS
    alpha = dt / (dt + tau)
    w = 2 * np.pi * f * dt
    h = alpha / (1 - (1 - alpha) * np.exp(-1j * w))
    assert gain == pytest.approx(abs(h), rel=1e-3)          # 0.525 here
    assert phase == pytest.approx(np.angle(h), abs=1e-3)     # a lag of 0.31 s at 0.5 Hz
    # Close to the continuous first-order low pass 1/sqrt(1 + (2 pi f tau)^2) = 0.537 (sampling costs 2 %).
    assert abs(h) == pytest.approx(1 / np.sqrt(1 + (2 * np.pi * f * tau) ** 2), rel=0.03)


def test_latency_shifts_the_keypoints_by_the_stated_frames(base_run, rendered):
    cache, base, n_det = base_run
    out = get_candidate("degraded", base="blazepose-tflite", base_params={"smooth_landmarks": False},
                        smooth_tau_s=0.0, latency_frames=4, swap_fraction=0.0).run(rendered.video_path,
                                                                                    cache_dir=cache)
    # Frame i shows what the base found at frame i - 4 (the first 4 hold the first detection), at the same times;
    # frames without a person stay without one.
    np.testing.assert_array_equal(out.keypoints[4:n_det], base.keypoints[:n_det - 4])
    np.testing.assert_array_equal(out.keypoints[:4], np.repeat(base.keypoints[:1], 4, axis=0))
    np.testing.assert_array_equal(out.times_s, base.times_s)
    np.testing.assert_array_equal(out.detected, base.detected)


def test_swaps_are_in_the_stated_fraction_of_frames_in_runs(base_run, rendered):
    cache, base, n_det = base_run
    cand = get_candidate("degraded", base="blazepose-tflite", base_params={"smooth_landmarks": False},
                         smooth_tau_s=0.0, latency_frames=0, swap_fraction=0.2, swap_run_frames=5)
    out = cand.run(rendered.video_path, cache_dir=cache)
    d = slice(0, n_det)
    mirrored = base.keypoints[d][:, _mirror_permutation()]
    same = np.all(out.keypoints[d] == base.keypoints[d], axis=(1, 2))
    swapped = np.all(out.keypoints[d] == mirrored, axis=(1, 2)) & ~same
    assert np.all(swapped | same)
    assert swapped.sum() == round(0.2 * n_det)           # 12 of 61 detected frames when measured
    # Contiguous runs of about 5: round(count / 5) runs, each of the same length +-1.
    edges = np.diff(np.concatenate([[0], swapped.astype(int), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    assert len(lengths) == max(1, round(swapped.sum() / 5)) and lengths.max() - lengths.min() <= 1
    assert out.meta["degradations"]["swapped_frames"] == np.flatnonzero(swapped).tolist()


def test_legs_only_swap_and_dropped_detections(base_run, rendered):
    cache, base, n_det = base_run
    out = get_candidate("degraded", base="blazepose-tflite", base_params={"smooth_landmarks": False},
                        smooth_tau_s=0.0, latency_frames=0, swap_fraction=1.0, swap_parts="legs",
                        drop_fraction=0.1).run(rendered.video_path, cache_dir=cache)
    assert out.n_missing_frames == base.n_missing_frames + round(0.1 * n_det)
    kept = out.detected
    li, ri = BLAZEPOSE33.index("left_knee"), BLAZEPOSE33.index("right_knee")
    ls = BLAZEPOSE33.index("left_shoulder")
    np.testing.assert_array_equal(out.keypoints[kept, li], base.keypoints[kept, ri])
    np.testing.assert_array_equal(out.keypoints[kept, ls], base.keypoints[kept, ls])   # arms stay
    assert np.all(np.isnan(out.confidence[~kept]))


def test_degraded_reuses_the_base_cache_is_deterministic_and_records_its_identity(base_run, rendered):
    cache, base, _ = base_run
    params = {"base": "blazepose-tflite", "base_params": {"smooth_landmarks": False}, "seed": 3}
    cand = get_candidate("degraded", **params)
    a = cand.run(rendered.video_path, cache_dir=cache)
    assert a.meta["cache_hit"] and cand.n_inferred_frames == 0        # no inference: the base's track was cached
    b = get_candidate("degraded", **params).run(rendered.video_path, cache_dir=cache)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    c = get_candidate("degraded", **dict(params, seed=4)).run(rendered.video_path, cache_dir=cache)
    assert c.meta["degradations"]["swapped_frames"] != a.meta["degradations"]["swapped_frames"]
    ident = a.candidate
    assert ident["name"] == "degraded" and ident["kind"] == "control"
    assert ident["model_sha256"] == base.candidate["model_sha256"]
    assert ident["params"]["base_identity"]["name"] == "blazepose-tflite"
    assert ident["params"]["base_params"] == {"smooth_landmarks": False}
    for key, value in {"smooth_tau_s": 0.5, "latency_frames": 3, "swap_fraction": 0.1, "swap_run_frames": 15,
                       "swap_parts": "all", "drop_fraction": 0.0, "seed": 3}.items():
        assert ident["params"][key] == value, key
    # The harness rebuilds a candidate in worker processes from its spec.
    name, spec_params = cand.spec
    again = get_candidate(name, **spec_params)
    assert again.identity == cand.identity


def test_bad_control_parameters_are_named():
    with pytest.raises(InputError, match="swap_fraction"):
        get_candidate("degraded", swap_fraction=1.5)
    with pytest.raises(InputError, match="latency_frames"):
        get_candidate("degraded", latency_frames=2.5)
    with pytest.raises(InputError, match="swap_parts"):
        get_candidate("degraded", swap_parts="arms")
    with pytest.raises(InputError, match="jitter_px"):
        get_candidate("render-truth", jitter_px=-1.0)
    with pytest.raises(InputError, match="confidence"):
        get_candidate("render-truth", confidence="always")
