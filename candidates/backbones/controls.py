"""Control candidates: what the harness must let pass (``render-truth``) and what it must block (``degraded``).

A harness that judges pose models is itself a measuring instrument, and it is checked the way a laboratory
assay is: with a positive and a negative control run beside the real candidates on the same trials.

``render-truth`` (positive control)
    The renderer's exact 2-D truth of the video (``<stem>.truth.json`` beside ``<stem>.mp4``, written by
    :func:`candidates.render.render_video`, or ``truth=PATH``) with the frame-to-frame jitter a good detector
    shows on that video (seeded Gaussian noise) and a detector-like confidence. Frames where the truth has no
    person are missing. It has no bias, no lag and no swaps, so every agreement gate that a real model could
    ever pass must pass it.
``degraded`` (negative control)
    A real backbone's track (``base``, ``base_params``; run through the base's own cached ``run``, so it costs
    no inference when the base already ran) degraded as detectors and apps degrade tracks in practice:
    dropped detections, left/right swaps, heavy causal smoothing and a constant latency. Every gate on a KPI
    that a degradation corrupts must block it.

If the harness blocks the positive control or passes the negative one, the harness (its alignment, its KPI
code or its gates), not the model, is wrong. docs/candidates.md ("Controls") says how a study uses them.

Notes
-----
Measured detector jitter (the defaults of ``render-truth``). ``blazepose-tflite`` with
``smooth_landmarks=False`` (the demo's setting) was run on the six videos of ``stancebench demo`` (seed 0,
360×640 px, 30 fps, figure 389 px from eyes to heels, every frame detected) and each landmark's error against
the video's truth file taken frame by frame inside the harness's analysis windows (quiet single-leg stance,
113-180 frames per trial). The error has three parts:

- a constant offset per landmark and trial (the model's bias; the positive control has none);
- a slow, pose-dependent part: after removing the offset the error's SD per coordinate is 0.68 px (median
  over the 33 landmarks and six trials), with autocorrelation 0.91, 0.61, 0.35 and 0.08 at lags of 1, 5, 10
  and 30 frames (an AR(1) process with a 0.33-s time constant) and spatially structured: it moves neighbouring
  landmarks together (24 % of its variance is a shift of the whole figure), so the stance knee's
  frontal-plane angle errs by only 0.55° (SD). Independent per-landmark noise of the same size and time
  constant makes that angle err by 0.97° and the COM path length 7 times more (+2.2 cm against +0.3 cm on the
  demo), so it is not a faithful model of this part; it is the model's systematic error, which the harness
  exists to measure on real candidates, not jitter;
- the frame-to-frame jitter: SD(e_i - e_{i-1})/sqrt(2) = 0.20 px (median; 0.17 px horizontal, 0.25 px
  vertical, 0.14 px shoulders and hips; ``mediapipe-full``: 0.21 px).

The positive control adds the jitter: white Gaussian noise with ``jitter_px`` defaulting to 0.20/389 =
0.051 % of the figure's vertical extent in the video (0.20 px on the demo's videos; the landmark model sees a
256-px crop of the person, so its error scales with the person's size in the image). ``jitter_tau_s > 0``
makes it an AR(1) process, for a harsher control (e.g. ``jitter_px=0.68, jitter_tau_s=0.33`` for the slow
part's size, with the caveat above). The visible landmarks' confidence had median 0.98 and quartiles 0.94 and
1.00 (hence ``confidence="detector"``: uniform in [0.9, 1.0] for landmarks inside the image, in [0, 0.1]
outside it). Published BlazePose figures (Bazarevsky et al. 2020, arXiv:2006.10204) are PCK@0.2 (the share of
landmarks within 20 % of the torso size), which gives no per-frame pixel error, hence the measurement.

Degradations of ``degraded``, the KPIs each corrupts and why (applied in this order, as a detector then the
app would apply them):

1. ``drop_fraction`` of the detected frames lose their detection, in runs of ``drop_run_frames`` (a detector
   losing the person for a moment). Corrupts the detection rate and, through gaps, path length and foot events.
   Off by default: the negative control targets the KPIs, not the detection-rate gate.
2. ``swap_fraction`` of the detected frames have their left and right keypoints exchanged (``swap_parts``:
   every left/right pair, or the legs only), in contiguous runs of ``swap_run_frames``, as detectors confuse
   the sides of a person facing the camera (Stenum et al. 2021, PLoS Comput Biol 17:e1008935, had to correct
   such left/right leg swaps of OpenPose before measuring gait). Corrupts what depends on which leg is which: the knee frontal
   angle and excursion (the stance knee's angle is read off the lifted leg), the strategy label (hip/ankle
   angles of the wrong leg), the lifted foot's height and with it foot lift, touch-down and time-to-failure
   (a swapped frame shows the lifted foot on the floor), and the COM (the segment masses move sides).
3. Heavy causal smoothing: an exponential filter with time constant ``smooth_tau_s``, the one-euro filter of
   Casiez et al. (CHI 2012) with ``beta = 0`` at ``min_cutoff = 1/(2π·tau)``: per frame
   ``y_i = y_{i-1} + α_i (x_i - y_{i-1})`` with ``α_i = Δt_i / (Δt_i + tau)`` (their smoothing factor), reset
   at the first frame after a gap (as MediaPipe's smoothing calculators restart on a lost pose). At constant
   ``Δt`` its gain at frequency ``f`` is ``α / |1 - (1-α) e^{-iω}|`` with ``ω = 2π f Δt`` (a first-order low
   pass, ≈ ``1/sqrt(1 + (2π f tau)²)``), and it delays slow motion by about ``tau``. This is what an app does
   when it smooths the skeleton so it does not jitter on screen and then computes its scores from the smoothed
   keypoints. MediaPipe's own landmark filter is a one-euro filter whose cutoff rises with speed
   (``min_cutoff`` 0.05 Hz, ``beta`` 80: pose_landmark_filtering.pbtxt) and smooths its visibility with
   ``α = 0.1`` per frame (τ = 0.3 s at 30 fps); the default 0.5 s is a fixed cutoff of 0.32 Hz. At 30 fps,
   sway at 0.25, 0.5, 1 and 2 Hz keeps 78, 52, 30 and 15 % of its amplitude and is delayed by 0.42, 0.31,
   0.19 and 0.10 s: it attenuates the COM sway amplitude (RMS, range, 95 % ellipse area), more so its velocity
   and path length (dominated by the faster components), shifts the mean frequency down, and delays foot
   events (and so time-to-failure) by about tau.
4. A constant latency of ``latency_frames`` frames: within each run of detected frames the keypoints of frame
   ``i`` are those of frame ``i - latency_frames`` (a result stamped with the frame on which it was delivered
   rather than the one it was computed from). The delay line is primed with the run's first detection, so a
   frame with no person stays without one and the detection rate is unchanged. It shifts every keypoint event
   (foot lift, touch-down, time-to-failure) by ``latency_frames`` frames; an alignment measured from the
   signals absorbs a constant shift into the clock offset, so there it shows as an offset error against the
   known clock rather than as an event bias.

Both controls are deterministic per (video sha256, ``seed``).
"""
from __future__ import annotations

import hashlib
import json
import time
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, check_option, file_sha256, validate_type

from ..skeletons import SCHEMAS
from ..track import KeypointTrack
from .base import Candidate, CandidateIdentity, FrameSession, check_frame_step

#: Bump when a control's output changes for the same inputs and parameters (part of their identity).
CONTROL_VERSION = 1
#: Measured frame-to-frame detector jitter (module Notes): per-coordinate SD as a fraction of the figure's
#: vertical extent in px (0.20 px for a 389-px figure).
DETECTOR_JITTER_FRACTION = 0.20 / 389.0
#: Confidence of a detector for landmarks inside / outside the image (uniform ranges, module Notes).
VISIBLE_CONFIDENCE = (0.9, 1.0)
OUTSIDE_CONFIDENCE = (0.0, 0.1)
CONFIDENCE_MODELS = ("detector", "truth")
SWAP_PARTS = ("all", "legs")
#: The leg keypoints of every schema (BlazePose-33 and COCO-17 names after ``left_``/``right_``).
LEG_PARTS = ("hip", "knee", "ankle", "heel", "foot_index")
#: Truth times may differ from the container's by its timestamp rounding (1/90000 s); a frame is 33 ms.
TRUTH_TIME_TOLERANCE_S = 1e-3


class _NoFrames(FrameSession):  # pragma: no cover - controls derive tracks, they never see frames
    def process(self, rgb, time_s):
        raise NotImplementedError("control candidates do not process frames")


def _version_string() -> str:
    return f"controls-{CONTROL_VERSION}"


def _definition_sha256(name: str, params: dict[str, Any]) -> str:
    """A control has no model file: its 'model' is its algorithm and parameters, hashed as one definition."""
    blob = json.dumps({"control": name, "version": CONTROL_VERSION, "params": params}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def control_rng(video_sha256: str, seed: int, stream: str) -> np.random.Generator:
    """The random generator of one control for one video: seeded by (video sha256, seed, stream name)."""
    words = [int(video_sha256[i:i + 8], 16) for i in range(0, min(len(video_sha256), 64), 8)]
    tag = int(hashlib.sha256(stream.encode()).hexdigest()[:8], 16)
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag, *words]))


def _check_number(name: str, value: Any, *, minimum: float = 0.0, maximum: float | None = None,
                  integer: bool = False) -> None:
    validate_type(value, (int, np.integer) if integer else "numeric", name)
    if isinstance(value, bool):
        raise InputError(f"{name} is {value!r}", field=name, expected="a number, not true/false")
    if not np.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        rng = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise InputError(f"{name} is {value!r}", field=name, expected=f"a finite {'integer' if integer else 'number'} "
                                                                        f"{rng}")


def _copy_track(track: KeypointTrack, keypoints: np.ndarray, confidence: np.ndarray) -> KeypointTrack:
    return KeypointTrack(track.times_s.copy(), keypoints, confidence, track.schema, track.image_width,
                         track.image_height, dict(track.candidate), dict(track.meta))


# ---------------------------------------------------------------------------------------------- positive
def figure_extent_px(track: KeypointTrack, *, min_confidence: float = 0.5) -> float:
    """Median over frames of the vertical extent (px) of the landmarks with confidence above
    ``min_confidence`` (eyes to heels for a standing figure); NaN when no frame has a landmark."""
    y = np.where(track.confidence > min_confidence, track.keypoints[..., 1], np.nan)
    ok = np.any(np.isfinite(y), axis=1)
    if not ok.any():
        return float("nan")
    return float(np.median(np.nanmax(y[ok], axis=1) - np.nanmin(y[ok], axis=1)))


def _ar1(times_s: np.ndarray, eps: np.ndarray, tau_s: float) -> np.ndarray:
    """Unit-variance stationary AR(1) noise along axis 0 from standard normal draws ``eps`` (white if tau 0)."""
    if tau_s == 0 or eps.shape[0] < 2:
        return eps
    rho = np.exp(-np.diff(times_s) / tau_s)
    innov = np.sqrt(1.0 - rho ** 2)
    out = np.empty_like(eps)
    out[0] = eps[0]
    for i in range(1, eps.shape[0]):    # a recursion over frames; each step is one array operation
        out[i] = rho[i - 1] * out[i - 1] + innov[i - 1] * eps[i]
    return out


def add_detection_noise(track: KeypointTrack, *, jitter_px: float, jitter_tau_s: float = 0.0,
                        confidence: str = "detector", rng: np.random.Generator) -> KeypointTrack:
    """The track with detection jitter added to every present coordinate.

    Each coordinate gets its own Gaussian noise of standard deviation ``jitter_px``: white with
    ``jitter_tau_s = 0``, else a stationary AR(1) process with that time constant on the track's own (possibly
    irregular) frame times, ``e_i = ρ_i e_{i-1} + sqrt(1 - ρ_i²) σ ε_i``, ``ρ_i = exp(-Δt_i / tau)``,
    ``e_0 ~ N(0, σ²)``. ``confidence="detector"`` draws each landmark's confidence uniformly in [0.9, 1] when
    the input says it is visible (confidence > 0.5) and in [0, 0.1] otherwise; ``"truth"`` keeps the input's.
    Missing values stay missing.
    """
    _check_number("jitter_px", jitter_px)
    _check_number("jitter_tau_s", jitter_tau_s)
    check_option("confidence", confidence, CONFIDENCE_MODELS)
    kp, conf = track.keypoints, track.confidence
    out_kp = kp + jitter_px * _ar1(track.times_s, rng.standard_normal(kp.shape), jitter_tau_s)
    out_conf = conf.copy()
    if confidence == "detector":
        u = rng.random(conf.shape)
        visible = conf > 0.5
        lo_v, hi_v = VISIBLE_CONFIDENCE
        lo_o, hi_o = OUTSIDE_CONFIDENCE
        out_conf = np.where(visible, lo_v + (hi_v - lo_v) * u, lo_o + (hi_o - lo_o) * u)
    missing = np.isnan(kp[..., 0]) | np.isnan(conf)
    out_kp[missing] = np.nan
    out_conf[missing] = np.nan
    return _copy_track(track, out_kp, out_conf)


class RenderTruthCandidate(Candidate):
    """Positive control: the renderer's exact 2-D truth of a video with realistic detection jitter.

    Parameters
    ----------
    truth : path-like, optional
        The truth file; default ``<video stem>.truth.json`` beside each video run.
    jitter_px : float, optional
        Standard deviation of the noise per coordinate, px; default 0.051 % of the figure's vertical extent in
        the video (0.20 px on the demo's 360×640 videos), BlazePose's frame-to-frame jitter (module Notes).
    jitter_tau_s : float
        Time constant of the noise's autocorrelation, s; default 0 (white, as the measured jitter).
    confidence : {"detector", "truth"}
        Detector-like confidence (uniform in [0.9, 1] visible, [0, 0.1] outside the image) or the truth's 1/0.
    seed : int
        With the video's sha256, seeds the noise: the same video and seed give the same track.

    Notes
    -----
    The track's times are the video's own frame timestamps; the truth must have one frame per video frame at
    the same times (within 1 ms), the video's image size and, when it records one, the video's sha256
    (InputError naming the truth file otherwise).
    """

    kind = "control"
    schema = "blazepose33"
    dims = 2

    def __init__(self, *, truth: str | PathLike | None = None, jitter_px: float | None = None,
                 jitter_tau_s: float = 0.0, confidence: str = "detector", seed: int = 0):
        super().__init__()
        if jitter_px is not None:
            _check_number("jitter_px", jitter_px)
        _check_number("jitter_tau_s", jitter_tau_s)
        check_option("confidence", confidence, CONFIDENCE_MODELS)
        _check_number("seed", seed, integer=True)
        if truth is not None:
            validate_type(truth, "path-like", "truth")
            truth = Path(truth)
            if not truth.is_file():
                raise InputError("the positive control's truth file does not exist", file=truth, field="truth",
                                 expected="a truth file written by candidates.render.render_video")
        self.truth = truth
        self.jitter_px = None if jitter_px is None else float(jitter_px)
        self.jitter_tau_s = float(jitter_tau_s)
        self.confidence = confidence
        self.seed = int(seed)
        self._spec_params = {"truth": None if truth is None else str(truth), "jitter_px": self.jitter_px,
                             "jitter_tau_s": self.jitter_tau_s, "confidence": confidence, "seed": self.seed}
        self._identity: CandidateIdentity | None = None

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            params = dict(self._spec_params, control="positive", control_version=CONTROL_VERSION)
            if self.jitter_px is None:
                params["jitter_fraction_of_figure"] = DETECTOR_JITTER_FRACTION
            self._identity = CandidateIdentity(
                name="render-truth", kind=self.kind, model_sha256=_definition_sha256("render-truth", params),
                runtime="stancebench.controls", runtime_version=_version_string(), precision="unknown",
                params=params)
        return self._identity

    def new_session(self) -> FrameSession:
        return _NoFrames()

    def truth_path(self, video_path: str | PathLike) -> Path:
        """The truth file used for ``video_path``: ``truth=`` or ``<stem>.truth.json`` beside the video."""
        video_path = Path(video_path)
        return self.truth if self.truth is not None else video_path.with_suffix(".truth.json")

    def run(self, video_path: str | PathLike, *, cache_dir: str | PathLike | None = None, cache: bool = True,
            max_frames: int | None = None, frame_step: int = 1) -> KeypointTrack:
        """The jittered truth of ``video_path`` (nothing is inferred, so nothing is cached); with ``frame_step``
        every ``frame_step``-th frame of it (the jitter is drawn at the video's frame rate, then subsampled)."""
        from ..render.truth import read_truth_json
        from ..video import probe_video

        t0 = time.perf_counter()
        video_path = Path(video_path)
        if not video_path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(video_path))
        if max_frames is not None:
            _check_number("max_frames", max_frames, minimum=1, integer=True)
        check_frame_step(frame_step)
        truth_path = self.truth_path(video_path)
        if not truth_path.is_file():
            raise InputError(f"the positive control needs the renderer's truth file beside the video {video_path}",
                             file=truth_path, field="truth",
                             expected="a video rendered by candidates.render.render_video (which writes "
                                      "<stem>.truth.json beside it), or truth=PATH")
        info = probe_video(video_path)
        rt = read_truth_json(truth_path)
        truth = rt.track
        recorded = (rt.info.get("render") or {}).get("video_sha256")
        if recorded and recorded != info.sha256:
            raise InputError(f"describes another video (sha256 {recorded[:12]}…, {video_path.name} has "
                             f"{info.sha256[:12]}…)", file=truth_path, field="render.video_sha256",
                             expected=f"the truth file written with {video_path}")
        if truth.n_frames != info.n_frames:
            raise InputError(f"{truth.n_frames} truth frames for a video of {info.n_frames} frames ({video_path})",
                             file=truth_path, field="times_s", expected="one truth frame per video frame")
        dt = np.max(np.abs(truth.times_s - info.times_s)) if truth.n_frames else 0.0
        if dt > TRUTH_TIME_TOLERANCE_S:
            raise InputError(f"truth times differ from the frame timestamps of {video_path} by up to {dt:.4f} s",
                             file=truth_path, field="times_s",
                             expected=f"the video's frame times within {TRUTH_TIME_TOLERANCE_S * 1e3:.0f} ms")
        if (truth.image_width, truth.image_height) != (info.width, info.height):
            raise InputError(f"image size {truth.image_width}x{truth.image_height} differs from the video's "
                             f"{info.width}x{info.height} ({video_path})", file=truth_path, field="image_width",
                             expected="the video's image size")
        truth.times_s = info.times_s.astype(float)   # exactly the container's, as every candidate returns
        if max_frames is not None:
            truth = KeypointTrack(truth.times_s[:max_frames], truth.keypoints[:max_frames],
                                  truth.confidence[:max_frames], truth.schema, truth.image_width,
                                  truth.image_height)
        extent = figure_extent_px(truth)
        jitter = self.jitter_px
        if jitter is None:
            jitter = DETECTOR_JITTER_FRACTION * extent if np.isfinite(extent) else 0.0
        track = add_detection_noise(truth, jitter_px=jitter, jitter_tau_s=self.jitter_tau_s,
                                    confidence=self.confidence, rng=control_rng(info.sha256, self.seed, "jitter"))
        track = track.every(frame_step)
        track.candidate = self.identity.to_dict()
        n = max(track.n_frames, 1)
        track.meta = {"video_path": str(video_path), "video_sha256": info.sha256, "cache_hit": False,
                      "control": "positive", "truth_file": str(truth_path), "truth_sha256": file_sha256(truth_path),
                      "jitter_px": float(jitter), "figure_extent_px": extent,
                      "ms_per_frame": 1000.0 * (time.perf_counter() - t0) / n}
        return track.validate(video_path)


# ---------------------------------------------------------------------------------------------- negative
def contiguous_runs(n: int, fraction: float, run_frames: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) bool mask with exactly ``round(fraction * n)`` True values in runs of about ``run_frames``.

    The runs have equal lengths (±1) and are placed uniformly at random with at least one False between two
    runs (a uniform random composition of the free frames, "stars and bars").
    """
    _check_number("fraction", fraction, maximum=1.0)
    _check_number("run_frames", run_frames, minimum=1, integer=True)
    mask = np.zeros(n, dtype=bool)
    total = round(fraction * n)
    if total == 0:
        return mask
    if total >= n:
        mask[:] = True
        return mask
    free = n - total
    runs = min(max(1, round(total / run_frames)), free + 1, total)
    lengths = np.full(runs, total // runs)
    lengths[: total % runs] += 1
    rng.shuffle(lengths)
    spare = free - (runs - 1)                  # free frames left once one separates each pair of runs
    bars = np.sort(rng.choice(spare + runs, size=runs, replace=False))
    gaps = np.diff(np.concatenate([[-1], bars, [spare + runs]])) - 1
    gaps[1:-1] += 1
    pos = 0
    for k in range(runs):
        pos += int(gaps[k])
        mask[pos:pos + int(lengths[k])] = True
        pos += int(lengths[k])
    return mask


def swap_permutation(schema: str, parts: str = "all") -> np.ndarray:
    """Keypoint order that exchanges left and right (every pair, or only the legs' with ``parts="legs"``)."""
    check_option("schema", schema, SCHEMAS)
    check_option("swap_parts", parts, SWAP_PARTS)
    names = list(SCHEMAS[schema])
    perm = np.arange(len(names))
    for j, name in enumerate(names):
        side, _, part = name.partition("_")
        if side in ("left", "right") and (parts == "all" or part in LEG_PARTS):
            perm[j] = names.index(("right_" if side == "left" else "left_") + part)
    return perm


def causal_smooth(times_s: np.ndarray, values: np.ndarray, tau_s: float) -> np.ndarray:
    """Exponential smoothing ``y_i = y_{i-1} + α_i (x_i - y_{i-1})``, ``α_i = Δt_i / (Δt_i + tau_s)``, along
    axis 0, restarting at the first present value after a missing one (NaN in, NaN out)."""
    _check_number("smooth_tau_s", tau_s)
    out = np.array(values, dtype=float, copy=True)
    if tau_s == 0 or out.shape[0] < 2:
        return out
    dt = np.diff(np.asarray(times_s, dtype=float))
    alpha = dt / (dt + tau_s)
    for i in range(1, out.shape[0]):   # a recursion over frames; each step is one array operation
        prev, x = out[i - 1], values[i]
        out[i] = np.where(np.isnan(prev), x, prev + alpha[i - 1] * (x - prev))
    return out


def _detected_runs_start(detected: np.ndarray) -> np.ndarray:
    """For each frame, the index of the first frame of the run of detected frames it belongs to."""
    start = np.arange(detected.size)
    for i in range(1, detected.size):
        if detected[i] and detected[i - 1]:
            start[i] = start[i - 1]
    return start


def degrade_track(track: KeypointTrack, *, smooth_tau_s: float = 0.5, latency_frames: int = 3,
                  swap_fraction: float = 0.1, swap_run_frames: int = 15, swap_parts: str = "all",
                  drop_fraction: float = 0.0, drop_run_frames: int = 5, video_sha256: str = "",
                  seed: int = 0) -> tuple[KeypointTrack, dict[str, Any]]:
    """Degrade a keypoint track as detectors and apps do (module docstring: what each step corrupts).

    Steps, in order: drop ``drop_fraction`` of the detected frames (runs of ``drop_run_frames``); swap left
    and right in ``swap_fraction`` of the remaining detected frames (runs of ``swap_run_frames``); causal
    exponential smoothing with time constant ``smooth_tau_s``; a latency of ``latency_frames`` frames within
    each run of detected frames. Random choices are seeded by ``(video_sha256, seed)``.

    Returns
    -------
    (KeypointTrack, dict)
        The degraded track (same times, schema and size) and what was done: the dropped and swapped frame
        indices and the parameters.
    """
    _check_number("smooth_tau_s", smooth_tau_s)
    _check_number("latency_frames", latency_frames, integer=True)
    check_option("swap_parts", swap_parts, SWAP_PARTS)
    kp = track.keypoints.copy()
    conf = track.confidence.copy()
    detected = track.detected.copy()
    det_idx = np.flatnonzero(detected)
    dropped = det_idx[contiguous_runs(det_idx.size, drop_fraction, drop_run_frames,
                                      control_rng(video_sha256, seed, "drop"))]
    kp[dropped] = np.nan
    conf[dropped] = np.nan
    detected[dropped] = False
    det_idx = np.flatnonzero(detected)
    swapped = det_idx[contiguous_runs(det_idx.size, swap_fraction, swap_run_frames,
                                      control_rng(video_sha256, seed, "swap"))]
    perm = swap_permutation(track.schema, swap_parts)
    kp[swapped] = kp[swapped][:, perm]
    conf[swapped] = conf[swapped][:, perm]
    kp = causal_smooth(track.times_s, kp, smooth_tau_s)
    if latency_frames:
        frames = np.arange(track.n_frames)
        src = np.maximum(frames - latency_frames, _detected_runs_start(detected))
        kp = np.where(detected[:, None, None], kp[src], np.nan)
        conf = np.where(detected[:, None], conf[src], np.nan)
    conf[np.isnan(kp[..., 0])] = np.nan
    done = {"dropped_frames": dropped.tolist(), "swapped_frames": swapped.tolist(),
            "n_detected_before": int(track.detected.sum()), "n_detected_after": int(detected.sum()),
            "smooth_tau_s": float(smooth_tau_s), "latency_frames": int(latency_frames),
            "swap_fraction": float(swap_fraction), "swap_run_frames": int(swap_run_frames),
            "swap_parts": swap_parts, "drop_fraction": float(drop_fraction),
            "drop_run_frames": int(drop_run_frames), "seed": int(seed)}
    return _copy_track(track, kp, conf), done


class DegradedCandidate(Candidate):
    """Negative control: a real backbone's track, degraded as happens in practice (module docstring).

    Parameters
    ----------
    base : str
        The backbone degraded (any :func:`~candidates.backbones.base.get_candidate` name, manifest or model).
    base_params : dict, optional
        Its parameters; use the same as the study's own candidate of that backbone so the cached track is
        shared (the demo's: ``{"smooth_landmarks": False}``).
    smooth_tau_s : float
        Time constant of the causal exponential smoothing, s (0 = none); default 0.5 s.
    latency_frames : int
        Constant extra latency, frames (0 = none); default 3 (100 ms at 30 fps).
    swap_fraction : float
        Fraction of the detected frames with left and right exchanged; default 0.10.
    swap_run_frames : int
        Length of each run of swapped frames; default 15 (0.5 s at 30 fps).
    swap_parts : {"all", "legs"}
        Exchange every left/right pair (a person mistaken as facing away) or only the legs'.
    drop_fraction : float
        Fraction of the detected frames whose detection is dropped; default 0 (off).
    drop_run_frames : int
        Length of each run of dropped frames; default 5.
    seed : int
        With the video's sha256, seeds where swaps and drops fall.
    """

    kind = "control"

    def __init__(self, base: str | PathLike = "blazepose-tflite", base_params: dict[str, Any] | None = None, *,
                 smooth_tau_s: float = 0.5, latency_frames: int = 3, swap_fraction: float = 0.1,
                 swap_run_frames: int = 15, swap_parts: str = "all", drop_fraction: float = 0.0,
                 drop_run_frames: int = 5, seed: int = 0):
        super().__init__()
        from .base import get_candidate

        validate_type(base, "path-like", "base")
        validate_type(base_params, (dict, None), "base_params")
        _check_number("smooth_tau_s", smooth_tau_s)
        _check_number("latency_frames", latency_frames, integer=True)
        _check_number("swap_fraction", swap_fraction, maximum=1.0)
        _check_number("swap_run_frames", swap_run_frames, minimum=1, integer=True)
        check_option("swap_parts", swap_parts, SWAP_PARTS)
        _check_number("drop_fraction", drop_fraction, maximum=1.0)
        _check_number("drop_run_frames", drop_run_frames, minimum=1, integer=True)
        _check_number("seed", seed, integer=True)
        self.base = get_candidate(base, **dict(base_params or {}))
        self.schema, self.dims = self.base.schema, self.base.dims
        self.degradations = {"smooth_tau_s": float(smooth_tau_s), "latency_frames": int(latency_frames),
                             "swap_fraction": float(swap_fraction), "swap_run_frames": int(swap_run_frames),
                             "swap_parts": swap_parts, "drop_fraction": float(drop_fraction),
                             "drop_run_frames": int(drop_run_frames), "seed": int(seed)}
        self._spec_params = {"base": str(base), "base_params": dict(base_params or {}), **self.degradations}
        self._identity: CandidateIdentity | None = None

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            b = self.base.identity
            params = {"control": "negative", "control_version": CONTROL_VERSION, **self._spec_params,
                      "base_identity": b.to_dict()}
            # The real model underneath is the one whose footprint the app ships: keep its hash and size.
            self._identity = CandidateIdentity(
                name="degraded", kind=self.kind, model_sha256=b.model_sha256,
                runtime=f"{b.runtime}+stancebench.controls", runtime_version=f"{b.runtime_version}+"
                                                                              f"{_version_string()}",
                model_path=b.model_path, model_bytes=b.model_bytes, precision=b.precision, params=params)
        return self._identity

    def new_session(self) -> FrameSession:
        return _NoFrames()

    def unavailable_reason(self) -> str | None:
        return self.base.unavailable_reason()

    def run(self, video_path: str | PathLike, *, cache_dir: str | PathLike | None = None, cache: bool = True,
            max_frames: int | None = None, frame_step: int = 1) -> KeypointTrack:
        """Run the base through its own (cached) ``run``, then degrade its track (``latency_frames`` counts
        analysed frames: with ``frame_step`` they are that many video frames apart)."""
        base_track = self.base.run(video_path, cache_dir=cache_dir, cache=cache, max_frames=max_frames,
                                   frame_step=frame_step)
        self.n_inferred_frames = self.base.n_inferred_frames
        t0 = time.perf_counter()
        sha = base_track.meta.get("video_sha256") or file_sha256(video_path)
        track, done = degrade_track(base_track, video_sha256=sha, **self.degradations)
        track.candidate = self.identity.to_dict()
        track.meta = dict(base_track.meta, video_sha256=sha, control="negative", degradations=done,
                          base_candidate=base_track.candidate.get("name"),
                          degrade_ms=1000.0 * (time.perf_counter() - t0))
        return track.validate(video_path)
