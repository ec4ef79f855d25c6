"""Keypoint schemas (BlazePose-33, COCO-17) and the mapping between them.

BlazePose-33 landmark order is MediaPipe's (``mp.solutions.pose.PoseLandmark``); COCO-17 order is the COCO
keypoint challenge's. Every COCO-17 keypoint has a BlazePose-33 counterpart with the same anatomical meaning
(BlazePose's eye landmarks are the eye centres, its ears the tragion-ish points like COCO's), so a BlazePose
track converts to COCO-17 losslessly for those 17 points; the other direction leaves the 16 BlazePose-only
points (eye corners, mouth, hands, heels, foot index) missing (NaN).
"""
from __future__ import annotations

import numpy as np

from ground_truth.kernel import check_option

BLAZEPOSE33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)

SCHEMAS = {"blazepose33": BLAZEPOSE33, "coco17": COCO17}

#: For each COCO-17 keypoint, the index of the BlazePose-33 landmark with the same meaning.
COCO17_TO_BLAZEPOSE33 = tuple(BLAZEPOSE33.index(name) for name in COCO17)

#: Bones drawn in figures, as pairs of keypoint names present in both schemas.
BONES = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
)


def keypoint_names(schema: str) -> tuple[str, ...]:
    check_option("schema", schema, SCHEMAS)
    return SCHEMAS[schema]


def keypoint_index(schema: str, name: str) -> int:
    names = keypoint_names(schema)
    if name not in names:
        from ground_truth.kernel import InputError
        raise InputError(f"no keypoint named {name!r} in schema {schema}", field="keypoint",
                         expected=f"one of {', '.join(names)}")
    return names.index(name)


def convert_keypoints(values: np.ndarray, source: str, target: str) -> np.ndarray:
    """Convert an array whose axis 1 holds keypoints (T, K, ...) from one schema to another.

    BlazePose-33 → COCO-17 selects the 17 shared landmarks; COCO-17 → BlazePose-33 fills the 16
    BlazePose-only landmarks with NaN.
    """
    check_option("source", source, SCHEMAS)
    check_option("target", target, SCHEMAS)
    values = np.asarray(values, dtype=float)
    if values.ndim < 2 or values.shape[1] != len(SCHEMAS[source]):
        from ground_truth.kernel import InputError
        raise InputError(f"keypoint array has shape {values.shape}", field="keypoints",
                         expected=f"(T, {len(SCHEMAS[source])}, ...) for schema {source}")
    if source == target:
        return values.copy()
    idx = np.asarray(COCO17_TO_BLAZEPOSE33)
    if source == "blazepose33":
        return values[:, idx].copy()
    out = np.full((values.shape[0], len(BLAZEPOSE33)) + values.shape[2:], np.nan)
    out[:, idx] = values
    return out
