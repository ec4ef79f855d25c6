"""BlazePose run from its exported .tflite files through LiteRT: the pipeline a mobile app ships.

Two models: ``pose_detection.tflite`` (an SSD-style detector on a 224×224 letterboxed frame) finds the person
and two alignment keypoints (mid-hip centre and a point encoding body size and rotation); from them a rotated
square region of interest (ROI) is cut out at 256×256 for ``pose_landmark_full.tflite``, which returns 33
landmarks plus 2 auxiliary alignment landmarks, visibility/presence logits, a pose-presence score and a
64×64 heatmap used to refine the coordinates. On the next frame the ROI comes from the previous frame's
(smoothed) auxiliary landmarks and the detector only runs again when the pose-presence score falls below the
tracking threshold.

Every constant follows MediaPipe 0.10's graph configuration of the same models (pose_detection_cpu.pbtxt,
pose_detection_to_roi.pbtxt, pose_landmark_by_roi_cpu.pbtxt, tensors_to_pose_landmarks_and_segmentation.pbtxt,
pose_landmarks_to_roi.pbtxt, pose_landmark_filtering.pbtxt); the code is written here from those settings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import ModelError

from .base import Candidate, CandidateIdentity, FrameSession, check_blazepose_options, mediapipe_model_path
from .litert import get_output, load_interpreter, runtime_name_version, set_input, tflite_precision

# --- detector (pose_detection_cpu.pbtxt) ---------------------------------------------------------------
DETECTOR_SIZE = 224
ANCHOR_OPTIONS = dict(num_layers=5, min_scale=0.1484375, max_scale=0.75, input_size=224,
                      anchor_offset=0.5, strides=(8, 16, 32, 32, 32), aspect_ratios=(1.0,),
                      interpolated_scale_aspect_ratio=1.0, fixed_anchor_size=True)
NUM_DETECTION_KEYPOINTS = 4
SCORE_CLIP = 100.0
NMS_IOU = 0.3
# --- ROI (pose_detection_to_roi.pbtxt, pose_landmarks_to_roi.pbtxt) -----------------------------------
ROI_SCALE = 1.25
ROI_TARGET_ANGLE = math.pi / 2
# --- landmarks (pose_landmark_by_roi_cpu.pbtxt and its post-processing) --------------------------------
NUM_LANDMARKS_WITH_AUX = 39
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
# --- filtering (pose_landmark_filtering.pbtxt) ----------------------------------------------------------
AUX_FILTER = dict(min_cutoff=0.01, beta=1.0, derivate_cutoff=1.0)
LANDMARK_FILTER = dict(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0)
VISIBILITY_ALPHA = 0.1


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def ssd_anchors(num_layers: int, min_scale: float, max_scale: float, input_size: int, anchor_offset: float,
                strides: tuple[int, ...], aspect_ratios: tuple[float, ...],
                interpolated_scale_aspect_ratio: float = 1.0, fixed_anchor_size: bool = True) -> np.ndarray:
    """SSD anchor centres (N, 4) = (x, y, w, h) normalised, in the order of MediaPipe's SsdAnchorsCalculator.

    Consecutive layers with the same stride share one feature map; each contributes one anchor per aspect
    ratio plus one interpolated-scale anchor per cell. For the BlazePose detector (strides 8, 16, 32, 32, 32
    on 224 px) this gives 28²·2 + 14²·2 + 7²·6 = 2254 anchors.
    """
    def scale(i: int) -> float:
        return min_scale + (max_scale - min_scale) * i / (num_layers - 1) if num_layers > 1 else \
            (min_scale + max_scale) / 2

    out = []
    layer = 0
    while layer < num_layers:
        sizes = []
        last = layer
        while last < num_layers and strides[last] == strides[layer]:
            s = scale(last)
            for ar in aspect_ratios:
                sizes.append((s / math.sqrt(ar), s * math.sqrt(ar)))
            if interpolated_scale_aspect_ratio > 0:
                s_next = 1.0 if last == num_layers - 1 else scale(last + 1)
                s_int = math.sqrt(s * s_next)
                ar = interpolated_scale_aspect_ratio
                sizes.append((s_int / math.sqrt(ar), s_int * math.sqrt(ar)))
            last += 1
        fm = int(math.ceil(input_size / strides[layer]))
        ys, xs = np.meshgrid(np.arange(fm), np.arange(fm), indexing="ij")
        cx = ((xs + anchor_offset) / fm).reshape(-1, 1)
        cy = ((ys + anchor_offset) / fm).reshape(-1, 1)
        n_a = len(sizes)
        wh = np.ones((n_a, 2)) if fixed_anchor_size else np.array([(w, h) for h, w in sizes])
        block = np.concatenate([np.repeat(cx, n_a, 1)[..., None], np.repeat(cy, n_a, 1)[..., None],
                                np.broadcast_to(wh, (cx.shape[0], n_a, 2))], axis=2)
        out.append(block.reshape(-1, 4))
        layer = last
    return np.concatenate(out).astype(np.float64)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      min_score: float, scale: float = DETECTOR_SIZE,
                      num_keypoints: int = NUM_DETECTION_KEYPOINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode SSD regressors into boxes (N, 4) = (xmin, ymin, xmax, ymax), keypoints (N, k, 2), scores (N,).

    Box offsets are (x, y, w, h) in input pixels relative to the anchor ("reverse output order"); scores are
    clipped to ±100 then passed through a sigmoid; only scores ≥ ``min_score`` are kept.
    """
    scores = _sigmoid(np.clip(raw_scores.reshape(-1).astype(np.float64), -SCORE_CLIP, SCORE_CLIP))
    keep = scores >= min_score
    if not np.any(keep):
        return np.zeros((0, 4)), np.zeros((0, num_keypoints, 2)), np.zeros(0)
    r = raw_boxes.reshape(raw_boxes.shape[-2], -1)[keep].astype(np.float64)
    a = anchors[keep]
    xc = r[:, 0] / scale * a[:, 2] + a[:, 0]
    yc = r[:, 1] / scale * a[:, 3] + a[:, 1]
    w = r[:, 2] / scale * a[:, 2]
    h = r[:, 3] / scale * a[:, 3]
    boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=1)
    kp = r[:, 4:4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) / scale
    kp = kp * a[:, None, 2:4] + a[:, None, 0:2]
    return boxes, kp, scores[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 iou_threshold: float = NMS_IOU) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Weighted non-maximum suppression (MediaPipe's WEIGHTED algorithm, IoU overlap).

    The best remaining detection absorbs every detection overlapping it by IoU > threshold; its box and
    keypoints become the score-weighted mean of that cluster, its score stays the best score.
    Returns ``[(box, keypoints, score), ...]`` best first.
    """
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size:
        top = order[0]
        overlap = _iou(boxes[top], boxes[order]) > iou_threshold
        overlap[0] = True
        cluster = order[overlap]
        w = scores[cluster]
        box = (boxes[cluster] * w[:, None]).sum(0) / w.sum()
        kp = (keypoints[cluster] * w[:, None, None]).sum(0) / w.sum()
        out.append((box, kp, float(scores[top])))
        order = order[~overlap]
    return out


@dataclass
class Roi:
    """A rotated square region in pixels: centre, side length, rotation (radians, clockwise on screen)."""
    cx: float
    cy: float
    size: float
    rotation: float

    def crop_matrix(self, n: int) -> np.ndarray:
        """2×3 affine map from output-tensor pixel (u, v) to image pixel (x, y)."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / n
        return np.array([[c * k, -s * k, self.cx - self.size / 2 * (c - s)],
                         [s * k, c * k, self.cy - self.size / 2 * (s + c)]])

    def project(self, xy_norm: np.ndarray) -> np.ndarray:
        """Map (N, 2) coordinates normalised to the ROI ([0, 1]²) back to image pixels."""
        a = xy_norm[:, 0] - 0.5
        b = xy_norm[:, 1] - 0.5
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        return np.stack([self.cx + self.size * (c * a - s * b), self.cy + self.size * (s * a + c * b)], axis=1)


def _normalize_angle(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def roi_from_alignment_points(center: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE) -> Roi:
    """ROI from two alignment points in pixels (AlignmentPointsRects + RectTransformation, square_long).

    The side is twice the centre-to-scale-point distance times ``scale``; the rotation turns the
    centre→scale-point vector to point up (target angle 90°, y axis flipped).
    """
    dx, dy = float(scale_point[0] - center[0]), float(scale_point[1] - center[1])
    size = 2.0 * math.hypot(dx, dy) * scale
    rotation = _normalize_angle(ROI_TARGET_ANGLE - math.atan2(-dy, dx))
    return Roi(float(center[0]), float(center[1]), size, rotation)


def refine_from_heatmap(xy_norm: np.ndarray, heatmap: np.ndarray, kernel: int = HEATMAP_KERNEL,
                        min_confidence: float = HEATMAP_MIN_CONFIDENCE) -> np.ndarray:
    """Refine normalised landmark coordinates with the model's heatmap (RefineLandmarksFromHeatmap).

    For each landmark, the sigmoid heatmap of its channel in a ``kernel``×``kernel`` window around the
    landmark gives a confidence-weighted mean position, used when the window's peak confidence reaches
    ``min_confidence``.
    """
    hm_h, hm_w, n_ch = heatmap.shape
    out = xy_norm.copy()
    off = (kernel - 1) // 2
    n = min(n_ch, xy_norm.shape[0])
    with np.errstate(invalid="ignore"):
        # static_cast<int> in MediaPipe: truncation toward zero (x in (-1/64, 0) lands in column 0)
        col = np.trunc(xy_norm[:n, 0] * hm_w)
        row = np.trunc(xy_norm[:n, 1] * hm_h)
    ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    idx = np.nonzero(ok)[0]
    if idx.size == 0:
        return out
    col, row = col[idx].astype(int), row[idx].astype(int)
    # Windows clipped at the image border: out-of-range cells get zero weight (and do not count as peaks).
    steps = np.arange(-off, off + 1)
    rows = row[:, None] + steps
    cols = col[:, None] + steps
    valid = ((rows >= 0) & (rows < hm_h))[:, :, None] & ((cols >= 0) & (cols < hm_w))[:, None, :]
    rc = np.clip(rows, 0, hm_h - 1)
    cc = np.clip(cols, 0, hm_w - 1)
    logits = heatmap[rc[:, :, None], cc[:, None, :], idx[:, None, None]].astype(np.float64)
    conf = np.where(valid, _sigmoid(logits), 0.0)                                       # (n, k, k)
    total = conf.sum(axis=(1, 2))
    wx = (conf * cols[:, None, :]).sum(axis=(1, 2))
    wy = (conf * rows[:, :, None]).sum(axis=(1, 2))
    use = (conf.max(axis=(1, 2)) >= min_confidence) & (total > 0)
    sel = idx[use]
    out[sel, 0] = wx[use] / hm_w / total[use]
    out[sel, 1] = wy[use] / hm_h / total[use]
    return out


class OneEuroFilter:
    """One-euro filter over a vector, as MediaPipe's LandmarksSmoothingCalculator applies it.

    Velocities are scaled by ``1 / object_scale`` so that the adaptive cutoff does not depend on how large
    the person is in the image (Casiez et al. 2012, CHI, doi:10.1145/2207676.2208639).
    """

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float, frequency: float = 30.0):
        self.min_cutoff, self.beta, self.dcutoff = min_cutoff, beta, derivate_cutoff
        self.frequency = frequency
        self.reset()

    def reset(self) -> None:
        self.last_time_ns = 0
        self.x_raw = self.x = self.dx = None

    def _alpha(self, cutoff) -> np.ndarray:
        te = 1.0 / self.frequency
        tau = 1.0 / (2 * math.pi * np.asarray(cutoff))
        return 1.0 / (1.0 + tau / te)

    def __call__(self, value: np.ndarray, time_s: float, value_scale: float = 1.0) -> np.ndarray:
        t_ns = int(round(time_s * 1e9))
        if self.last_time_ns >= t_ns:
            return value
        if self.last_time_ns != 0 and t_ns != 0:
            self.frequency = 1.0 / ((t_ns - self.last_time_ns) * 1e-9)
        self.last_time_ns = t_ns
        dvalue = np.zeros_like(value) if self.x_raw is None else (value - self.x_raw) * value_scale * self.frequency
        a_d = self._alpha(self.dcutoff)
        self.dx = dvalue if self.dx is None else a_d * dvalue + (1 - a_d) * self.dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self.dx))
        self.x = value if self.x is None else a * value + (1 - a) * self.x
        self.x_raw = value
        return self.x


def _object_scale(xy: np.ndarray) -> float:
    span = np.nanmax(xy, axis=0) - np.nanmin(xy, axis=0)
    return float((span[0] + span[1]) / 2)


class _LandmarkModel:
    """The landmark .tflite with its outputs found by shape (names change across exports/quantization)."""

    def __init__(self, path: Path, num_threads: int | None):
        self.path = path
        self.interp = load_interpreter(path, num_threads=num_threads)
        self.input = self.interp.get_input_details()[0]
        shape = tuple(self.input["shape"])
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
            raise ModelError(f"input tensor has shape {shape}", file=path, field="input",
                             expected="[1, N, N, 3] RGB (BlazePose landmark model)")
        self.size = int(shape[1])
        self.landmarks = self.flag = self.heatmap = None
        for d in self.interp.get_output_details():
            s = tuple(d["shape"])
            n = int(np.prod(s))
            if len(s) == 2 and n == NUM_LANDMARKS_WITH_AUX * 5:
                self.landmarks = d
            elif n == 1:
                self.flag = d
            elif len(s) == 4 and s[-1] == NUM_LANDMARKS_WITH_AUX:
                self.heatmap = d
        if self.landmarks is None or self.flag is None:
            outs = [tuple(d["shape"]) for d in self.interp.get_output_details()]
            raise ModelError(f"outputs {outs} do not include the BlazePose landmark layout", file=path,
                             field="outputs", expected=f"[1, {NUM_LANDMARKS_WITH_AUX * 5}] landmarks "
                                                       "(x, y, z, visibility, presence) and [1, 1] pose flag")

    def __call__(self, rgb: np.ndarray, roi: Roi):
        import cv2
        crop = cv2.warpAffine(rgb, roi.crop_matrix(self.size), (self.size, self.size),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        set_input(self.interp, self.input, crop.astype(np.float32) / 255.0)
        self.interp.invoke()
        raw = get_output(self.interp, self.landmarks).reshape(NUM_LANDMARKS_WITH_AUX, 5).astype(np.float64)
        flag = float(get_output(self.interp, self.flag).reshape(-1)[0])
        xy_norm = raw[:, :2] / self.size
        if self.heatmap is not None:
            # The heatmap is read in place (no copy of 64×64×39 floats) and used before this method returns,
            # so no view of the interpreter's buffers outlives the call (LiteRT refuses to invoke otherwise).
            heatmap = get_output(self.interp, self.heatmap, view=True)[0]
            xy_norm = refine_from_heatmap(xy_norm, heatmap)
            del heatmap
        return raw, flag, xy_norm


class _Detector:
    def __init__(self, path: Path, num_threads: int | None):
        self.path = path
        self.interp = load_interpreter(path, num_threads=num_threads)
        self.input = self.interp.get_input_details()[0]
        if tuple(self.input["shape"]) != (1, DETECTOR_SIZE, DETECTOR_SIZE, 3):
            raise ModelError(f"input tensor has shape {tuple(self.input['shape'])}", file=path, field="input",
                             expected=f"[1, {DETECTOR_SIZE}, {DETECTOR_SIZE}, 3] (BlazePose pose detector)")
        self.anchors = ssd_anchors(**ANCHOR_OPTIONS)
        self.boxes = self.scores = None
        for d in self.interp.get_output_details():
            s = tuple(d["shape"])
            if len(s) == 3 and s[1] == len(self.anchors) and s[2] == 4 + 2 * NUM_DETECTION_KEYPOINTS:
                self.boxes = d
            elif len(s) == 3 and s[1] == len(self.anchors) and s[2] == 1:
                self.scores = d
        if self.boxes is None or self.scores is None:
            outs = [tuple(d["shape"]) for d in self.interp.get_output_details()]
            raise ModelError(f"outputs {outs} do not match the detector layout", file=path, field="outputs",
                             expected=f"[1, {len(self.anchors)}, 12] regressors and [1, {len(self.anchors)}, 1] "
                                      "scores")

    def __call__(self, rgb: np.ndarray, min_score: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Detections in image pixels: ``[(box, keypoints (4, 2), score), ...]`` best first."""
        import cv2
        h, w = rgb.shape[:2]
        # Letterbox: the whole frame fitted into the square input, zero border (keep_aspect_ratio).
        roi = Roi(w / 2, h / 2, float(max(w, h)), 0.0)
        crop = cv2.warpAffine(rgb, roi.crop_matrix(DETECTOR_SIZE), (DETECTOR_SIZE, DETECTOR_SIZE),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)
        set_input(self.interp, self.input, crop.astype(np.float32) / 127.5 - 1.0)
        self.interp.invoke()
        boxes, kps, scores = decode_detections(get_output(self.interp, self.boxes),
                                               get_output(self.interp, self.scores), self.anchors, min_score)
        out = []
        for box, kp, score in weighted_nms(boxes, kps, scores):
            corners = roi.project(box.reshape(2, 2))
            out.append((corners.reshape(4), roi.project(kp), score))
        return out


class BlazePoseTFLiteSession(FrameSession):
    def __init__(self, cand: "BlazePoseTFLiteCandidate"):
        self.c = cand
        self.roi: Roi | None = None
        self.aux_filter = OneEuroFilter(**AUX_FILTER)
        self.lm_filter = OneEuroFilter(**LANDMARK_FILTER)
        self.vis_state: np.ndarray | None = None
        self.n_detector_runs = 0
        self.last_roi: Roi | None = None   # ROI the landmark model saw on the last frame (for benchmarks)

    def _reset(self) -> None:
        self.roi = None
        self.aux_filter.reset()
        self.lm_filter.reset()
        self.vis_state = None

    def process(self, rgb: np.ndarray, time_s: float):
        c = self.c
        roi = None if c.static_image_mode else self.roi
        if roi is None:
            self.n_detector_runs += 1
            dets = c.detector(rgb, c.min_detection_confidence)
            if not dets:
                self._reset()
                return None
            _, kp, _ = dets[0]
            roi = roi_from_alignment_points(kp[0], kp[1])
        self.last_roi = roi
        raw, flag, xy_norm = c.landmark_model(rgb, roi)
        if flag < c.min_tracking_confidence:
            self._reset()
            return None
        n = c.landmark_model.size
        xy = roi.project(xy_norm)
        z = raw[:, 2] / n * roi.size
        visibility = _sigmoid(raw[:, 3])
        if not c.static_image_mode:
            aux = xy[33:35]
            scale = _object_scale(aux)
            aux_f = self.aux_filter(aux, time_s, 1.0 / scale if scale > 1e-6 else 1.0)
            self.roi = roi_from_alignment_points(aux_f[0], aux_f[1])
        pts = np.column_stack([xy[:33], z[:33]])
        vis = visibility[:33]
        if c.smooth_landmarks and not c.static_image_mode:
            scale = _object_scale(pts[:, :2])
            pts = self.lm_filter(pts, time_s, 1.0 / scale if scale > 1e-6 else 1.0)
            self.vis_state = vis if self.vis_state is None else \
                VISIBILITY_ALPHA * vis + (1 - VISIBILITY_ALPHA) * self.vis_state
            vis = self.vis_state
        return pts, vis


class BlazePoseTFLiteCandidate(Candidate):
    """BlazePose detector + landmark .tflite run through LiteRT with MediaPipe's pre/post-processing.

    Parameters
    ----------
    landmark_model : path-like, optional
        Landmark .tflite (default: ``pose_landmark_full.tflite`` from the mediapipe wheel). Pass a quantized
        or otherwise converted variant here to evaluate exactly what ships; its outputs are found by shape.
    detector_model : path-like, optional
        Detector .tflite (default: ``pose_detection.tflite`` from the wheel).
    name : str
        Candidate name recorded in the identity (e.g. ``"blazepose-tflite-int8"``).
    precision : str, optional
        Label for the identity; detected from the model's tensor types when omitted.
    static_image_mode : bool
        Run the detector on every frame (no ROI tracking).
    smooth_landmarks : bool
        One-euro smoothing of the output landmarks (MediaPipe's default is on).
    min_detection_confidence, min_tracking_confidence : float
        Detector score threshold and pose-presence threshold (re-detect below it).
    num_threads : int
        Interpreter threads.
    """

    kind = "tflite"
    schema = "blazepose33"

    def __init__(self, landmark_model: str | PathLike | None = None, detector_model: str | PathLike | None = None,
                 *, name: str = "blazepose-tflite", precision: str | None = None, static_image_mode: bool = False,
                 smooth_landmarks: bool = True, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, num_threads: int | None = 1):
        super().__init__()
        check_blazepose_options(static_image_mode, smooth_landmarks, min_detection_confidence,
                                min_tracking_confidence)
        self.landmark_path = Path(landmark_model) if landmark_model else mediapipe_model_path("full")
        self.detector_path = Path(detector_model) if detector_model else mediapipe_model_path("detector")
        self.landmark_model = _LandmarkModel(self.landmark_path, num_threads)
        self.detector = _Detector(self.detector_path, num_threads)
        self.static_image_mode = static_image_mode
        self.smooth_landmarks = smooth_landmarks
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self._name = name
        self._precision = precision or tflite_precision(self.landmark_model.interp)
        self._spec_params = dict(landmark_model=str(self.landmark_path), detector_model=str(self.detector_path),
                                 name=name, precision=self._precision, static_image_mode=static_image_mode,
                                 smooth_landmarks=smooth_landmarks,
                                 min_detection_confidence=self.min_detection_confidence,
                                 min_tracking_confidence=self.min_tracking_confidence, num_threads=num_threads)
        self._identity: CandidateIdentity | None = None

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        return "blazepose-tflite", dict(self._spec_params)

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            from ..video import file_sha256
            runtime, version = runtime_name_version()
            self._identity = CandidateIdentity(
                name=self._name, kind=self.kind, model_sha256=file_sha256(self.landmark_path),
                runtime=runtime, runtime_version=version, model_path=str(self.landmark_path),
                model_bytes=self.landmark_path.stat().st_size, precision=self._precision,
                params={"detector_model": str(self.detector_path),
                        "detector_sha256": file_sha256(self.detector_path),
                        "static_image_mode": self.static_image_mode, "smooth_landmarks": self.smooth_landmarks,
                        "min_detection_confidence": self.min_detection_confidence,
                        "min_tracking_confidence": self.min_tracking_confidence})
        return self._identity

    def new_session(self) -> BlazePoseTFLiteSession:
        return BlazePoseTFLiteSession(self)


# ---------------------------------------------------------------------------------------------- named models
#: Named candidates over the landmark models of candidates.models: name -> (model, variant). A variant is made
#: from the installed model by device_runners.variants and cached; "int8" is its dynamic-range int8 (no
#: calibration frames needed), as the demo's blazepose-tflite-int8. "blazepose-tflite" itself stays as above.
NAMED_CANDIDATES: dict[str, tuple[str, str | None]] = {
    f"blazepose{tier}-tflite{suffix}": (model, variant)
    for tier, model in (("-lite", "blazepose-lite"), ("", "blazepose-full"), ("-heavy", "blazepose-heavy"))
    for suffix, variant in (("", None), ("-fp16", "fp16"), ("-int8", "int8-dynamic"))
    if (tier, suffix) != ("", "")}


def named_landmark_model(name: str, *, cache_dir: str | PathLike | None = None) -> Path:
    """The landmark .tflite of a named candidate: the installed model (sha256 verified) or its variant built in
    ``cache_dir`` (default ``<track cache>/variants``). NotAvailableError naming the install command when the
    model is not installed; ModelError when the installed file has other bytes."""
    from ..models import model_path
    model, variant = NAMED_CANDIDATES[name]
    path = model_path(model)
    if variant is None:
        return path
    from device_runners.variants import make_variants
    if cache_dir is None:
        from ..cache import default_cache_dir
        cache_dir = default_cache_dir() / "variants"
    # both variants in one call: make_variants' cache manifest keeps only the precisions of its last call
    made = make_variants(path, cache_dir, precisions=("fp16", "int8-dynamic"))
    return Path(next(v.path for v in made if v.precision == variant))


def named_candidate(name: str, **params: Any) -> BlazePoseTFLiteCandidate:
    """``get_candidate`` for the names of :data:`NAMED_CANDIDATES` (options as BlazePoseTFLiteCandidate's)."""
    return BlazePoseTFLiteCandidate(landmark_model=named_landmark_model(name), **{"name": name, **params})
