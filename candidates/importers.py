"""Keypoints computed elsewhere, imported as keypoint tracks.

Formats:

- ``openpose``: a folder of OpenPose per-frame JSON files (``*_keypoints.json``, ``pose_keypoints_2d``),
  BODY_25 (→ BlazePose-33: heels and big toes kept) or COCO-18 (→ COCO-17);
- ``coco``: a COCO keypoint *results* JSON (a list of ``{"image_id", "keypoints": [x, y, v]*17, "score"}``)
  whose ``image_id`` is the frame index;
- ``track-json``: the stancebench track JSON (what a phone app exports from ML Kit or Core ML);
- ``csv``: one row per frame, ``time_s`` (or ``frame``) then ``<keypoint>_x, <keypoint>_y[, <keypoint>_conf]``
  for every keypoint of a schema (empty cells = missing);
- ``trc``: an OpenSim ``.trc`` of 3-D keypoints (e.g. Pose2Sim's triangulated output), in metres.

Formats without timestamps (OpenPose, COCO, CSV with ``frame``) take the frame times of the matching video
(never ``index / fps``); a keypoint file whose frame count does not match the video, or whose frames have
gaps in their numbering, is an error naming the file and what was expected. Frames with no person (empty
``people``, no COCO entry) are NaN and counted in the detection rate.
"""
from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ReaderError, check_input_file, check_option, parse_json, read_text_file

from .backbones.base import Candidate, CandidateIdentity, FrameSession, check_frame_step
from .skeletons import BLAZEPOSE33, SCHEMAS
from .track import KeypointTrack

FORMATS = ("auto", "openpose", "coco", "track-json", "csv", "trc")

# OpenPose BODY_25 and COCO-18 keypoint names (OpenPose's documentation, output format section).
OPENPOSE_BODY25 = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                   "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
                   "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe",
                   "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
OPENPOSE_COCO18 = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                   "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                   "right_eye", "left_eye", "right_ear", "left_ear")
# BlazePose's foot_index is the tip of the foot, closest to OpenPose's big toe.
_ALIASES = {"left_big_toe": "left_foot_index", "right_big_toe": "right_foot_index",
            "lbigtoe": "left_foot_index", "rbigtoe": "right_foot_index"}


def _canonical(name: str) -> str:
    """'RHip' / 'r_hip' / 'Right Hip' / 'right_hip' → 'right_hip' (Pose2Sim and OpenPose spellings)."""
    raw = name.strip()
    low = raw.lower().replace(" ", "_").replace("-", "_")
    if low in _ALIASES:
        return _ALIASES[low]
    m = re.match(r"^([LR])([A-Z].*)$", raw)
    if m:
        side = "left" if m.group(1) == "L" else "right"
        rest = re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(2)).lower()
        low = f"{side}_{rest}"
    elif re.match(r"^[lr]_", low):
        low = ("left_" if low[0] == "l" else "right_") + low[2:]
    return _ALIASES.get(low, low)


def _map_to_schema(names: list[str], schema: str) -> tuple[np.ndarray, np.ndarray]:
    """(source indices, target indices) for source keypoint names present in the target schema."""
    target = SCHEMAS[schema]
    src, dst = [], []
    for i, n in enumerate(names):
        c = _canonical(n)
        if c in target:
            src.append(i)
            dst.append(target.index(c))
    return np.asarray(src, dtype=int), np.asarray(dst, dtype=int)


def _numbers(values, path: Path, field: str, where: str) -> np.ndarray:
    """``values`` as floats; a string, list or object among them is an error naming where it is."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        bad = next((v for v in values if isinstance(v, (str, list, dict)) or v is None), values)
        raise ReaderError(f"{where}: {bad!r} is not a number", file=path, field=field,
                          expected="numbers (x, y, confidence per keypoint)") from None


def _read_json(path: Path, what: str):
    """A JSON keypoint file, checked before opening; bad bytes or bad JSON are errors naming the line."""
    return parse_json(read_text_file(path, what=what), file=path, expected=what)


def _video_times(video: str | PathLike | None, n: int, source: Path) -> tuple[np.ndarray, int, int]:
    if video is None:
        raise InputError("this keypoint format has no timestamps; pass the matching video", file=source,
                         field="video", expected="the video the keypoints were computed on")
    from .video import probe_video
    info = probe_video(video, with_sha256=False)
    if info.n_frames != n:
        raise ReaderError(f"{n} keypoint frames for a video of {info.n_frames} frames ({video})", file=source,
                          field="frames", expected=f"one keypoint frame per video frame ({info.n_frames})")
    return info.times_s, info.width, info.height


def read_openpose(folder: str | PathLike, *, video: str | PathLike | None = None,
                  image_size: tuple[int, int] | None = None) -> KeypointTrack:
    """Read a folder of OpenPose per-frame JSON files.

    Files are ordered by the frame number in their names (``..._000000000012_keypoints.json``); a gap in that
    numbering is an error (a missing frame would silently shift every later time). The person with the
    highest mean keypoint confidence is kept in frames with several people; zero-confidence keypoints are
    missing (NaN).
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(2, "No such file or directory", str(folder))
    files = sorted(folder.glob("*.json")) if folder.is_dir() else [folder]
    if not files:
        raise ReaderError("no OpenPose JSON files", file=folder, expected="files named *_keypoints.json")
    numbers = []
    for f in files:
        m = re.search(r"(\d+)(?:_keypoints)?\.json$", f.name)
        numbers.append(int(m.group(1)) if m else None)
    if all(n is not None for n in numbers):
        order = np.argsort(numbers)
        files = [files[i] for i in order]
        nums = np.asarray(numbers)[order]
        gaps = np.nonzero(np.diff(nums) != 1)[0]
        if gaps.size:
            i = gaps[0]
            raise ReaderError(f"frame numbers jump from {nums[i]} to {nums[i + 1]} ({files[i + 1].name})",
                              file=folder, field="frames",
                              expected="one JSON file per frame with consecutive frame numbers")
    frames, k = [], None
    for f in files:
        data = _read_json(f, "an OpenPose keypoints JSON")
        people = data.get("people") if isinstance(data, dict) else None
        if people is None:
            raise ReaderError("no 'people' list", file=f, field="people", expected="OpenPose JSON output")
        best = None
        for p in people:
            vals = p.get("pose_keypoints_2d")
            if not isinstance(vals, list) or len(vals) % 3:
                raise ReaderError(f"pose_keypoints_2d has {len(vals) if isinstance(vals, list) else vals!r} values",
                                  file=f, field="pose_keypoints_2d", expected="3 values (x, y, c) per keypoint")
            arr = _numbers(vals, f, "pose_keypoints_2d", "a person's keypoints").reshape(-1, 3)
            if k is None:
                k = arr.shape[0]
            if arr.shape[0] != k or k not in (25, 18):
                raise ReaderError(f"{arr.shape[0]} keypoints", file=f, field="pose_keypoints_2d",
                                  expected="25 (BODY_25) or 18 (COCO) keypoints per person, the same in every file")
            if best is None or arr[:, 2].mean() > best[:, 2].mean():
                best = arr
        frames.append(best)
    k = k or 25
    names = OPENPOSE_BODY25 if k == 25 else OPENPOSE_COCO18
    schema = "blazepose33" if k == 25 else "coco17"
    src, dst = _map_to_schema(list(names), schema)
    n = len(frames)
    kp = np.full((n, len(SCHEMAS[schema]), 2), np.nan)
    conf = np.full((n, len(SCHEMAS[schema])), np.nan)
    for t, arr in enumerate(frames):
        if arr is None:
            continue
        a = arr[src].copy()
        a[a[:, 2] <= 0] = np.nan   # OpenPose writes (0, 0, 0) for a keypoint it did not find
        kp[t, dst] = a[:, :2]
        conf[t, dst] = a[:, 2]
    times, w, h = _track_frame(folder, n, video, image_size)
    return KeypointTrack(times, kp, conf, schema, w, h, candidate={}, meta={
        "source_file": str(folder), "format": "openpose", "openpose_model": "BODY_25" if k == 25 else "COCO"
    }).validate(folder)


def _track_frame(source: Path, n: int, video, image_size) -> tuple[np.ndarray, int, int]:
    times, w, h = _video_times(video, n, source)
    if image_size is not None:
        w, h = image_size
    return times, int(w), int(h)


def read_coco_results(path: str | PathLike, *, video: str | PathLike | None = None,
                      image_size: tuple[int, int] | None = None, first_image_id: int = 0) -> KeypointTrack:
    """Read a COCO keypoint results JSON; ``image_id - first_image_id`` is the frame index.

    Frames without an entry had no person detected (NaN); with several entries, the highest ``score`` wins.
    COCO visibility flags ``v`` are kept as confidence when in [0, 1], else mapped v>0 → 1.
    """
    path = Path(path)
    data = _read_json(path, "a COCO keypoint results list")
    if isinstance(data, dict) and "annotations" in data:
        data = data["annotations"]
    if not isinstance(data, list):
        raise ReaderError("top level is not a list", file=path, expected="a COCO results list of detections")
    if video is None:
        raise InputError("COCO results have no timestamps; pass the matching video", file=path, field="video",
                         expected="the video the keypoints were computed on")
    from .video import probe_video
    info = probe_video(video, with_sha256=False)
    n = info.n_frames
    kp = np.full((n, 17, 2), np.nan)
    conf = np.full((n, 17), np.nan)
    best = np.full(n, -np.inf)
    for j, det in enumerate(data):
        vals = det.get("keypoints") if isinstance(det, dict) else None
        if not isinstance(vals, list) or len(vals) != 51:
            raise ReaderError(f"entry {j} has {len(vals) if isinstance(vals, list) else 'no'} keypoint values",
                              file=path, field="keypoints", expected="51 values (x, y, v for 17 COCO keypoints)")
        try:
            frame = int(det["image_id"]) - first_image_id
        except (KeyError, TypeError, ValueError):
            raise ReaderError(f"entry {j} has no integer image_id", file=path, field="image_id") from None
        if not 0 <= frame < n:
            raise ReaderError(f"entry {j}: image_id {det['image_id']} is outside the video's {n} frames",
                              file=path, field="image_id",
                              expected=f"frame indices {first_image_id}..{first_image_id + n - 1}")
        score = float(_numbers([det.get("score", 1.0)], path, "score", f"entry {j}")[0])
        if np.isnan(score):     # kept only when the frame has no other detection
            score = -np.finfo(float).max
        if score <= best[frame]:
            continue
        best[frame] = score
        a = _numbers(vals, path, "keypoints", f"entry {j}").reshape(17, 3)
        v = a[:, 2]
        c = np.where((v >= 0) & (v <= 1), v, (v > 0).astype(float))
        missing = (a[:, 0] == 0) & (a[:, 1] == 0) & (v == 0)
        a[missing, :2] = np.nan
        c[missing] = np.nan
        kp[frame], conf[frame] = a[:, :2], c
    w, h = image_size if image_size is not None else (info.width, info.height)
    return KeypointTrack(info.times_s, kp, conf, "coco17", int(w), int(h), candidate={},
                         meta={"source_file": str(path), "format": "coco"}).validate(path)


def read_keypoint_csv(path: str | PathLike, *, video: str | PathLike | None = None,
                      image_size: tuple[int, int] | None = None, schema: str | None = None) -> KeypointTrack:
    """Read a CSV with ``time_s`` (or ``frame``) and ``<name>_x, <name>_y[, <name>_conf]`` per keypoint."""
    import io

    import pandas as pd
    path = Path(path)
    text = read_text_file(path, what="keypoint CSV file")
    try:
        df = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReaderError(f"cannot be read as CSV ({exc})", file=path) from None
    cols = set(df.columns)
    if schema is None:
        schema = "blazepose33" if {f"{n}_x" for n in BLAZEPOSE33} <= cols else "coco17"
    check_option("schema", schema, SCHEMAS)
    names = SCHEMAS[schema]
    missing = [f"{n}_{a}" for n in names for a in ("x", "y") if f"{n}_{a}" not in cols]
    if missing:
        raise ReaderError(f"{len(missing)} keypoint column(s) missing, e.g. {', '.join(missing[:4])}", file=path,
                          field="columns", expected=f"<name>_x and <name>_y for all {len(names)} keypoints of "
                                                    f"{schema}")
    try:
        xy = df[[f"{n}_{a}" for n in names for a in ("x", "y")]].to_numpy(dtype=float).reshape(len(df), -1, 2)
        conf = np.column_stack([df[f"{n}_conf"].to_numpy(dtype=float) if f"{n}_conf" in cols
                                else np.where(np.isnan(xy[:, i, 0]), np.nan, 1.0) for i, n in enumerate(names)])
    except ValueError as exc:
        raise ReaderError(f"non-numeric keypoint value ({exc})", file=path, expected="numbers or empty cells") \
            from None
    if "time_s" in cols:
        times = df["time_s"].to_numpy(dtype=float)
        if image_size is None and video is None:
            raise InputError("image size unknown", file=path, field="image_size",
                             expected="image_size=(W, H) or the matching video")
        if image_size is None:
            from .video import probe_video
            info = probe_video(video, with_sha256=False)
            image_size = (info.width, info.height)
        w, h = image_size
    elif "frame" in cols:
        frames = df["frame"].to_numpy()
        if np.any(np.diff(frames) != 1):
            raise ReaderError("frame numbers are not consecutive", file=path, field="frame",
                              expected="one row per frame (empty cells for a frame with no person)")
        times, w, h = _track_frame(path, len(df), video, image_size)
    else:
        raise ReaderError("no time column", file=path, field="time_s", expected="a 'time_s' or 'frame' column")
    return KeypointTrack(times, xy, conf, schema, int(w), int(h), candidate={},
                         meta={"source_file": str(path), "format": "csv"}).validate(path)


def read_trc_keypoints(path: str | PathLike) -> KeypointTrack:
    """3-D keypoints from an OpenSim .trc (names like ``RHip``/``right_hip`` mapped to BlazePose-33).

    Coordinates are in metres (converted from the file's unit); ``image_width``/``image_height`` are 1 and
    ``meta["units"] == "m"`` since there is no image. Confidence is 1 where a marker is present.
    """
    from ground_truth.readers.opensim import read_trc
    path = Path(path)
    # Decoded here first so that bytes that are not UTF-8 are an error naming their line whatever the .trc
    # reader does with them.
    read_text_file(path, what=".trc marker file")
    rec = read_trc(path)
    names = list(rec.markers.data)
    src, dst = _map_to_schema(names, "blazepose33")
    if src.size == 0:
        raise ReaderError(f"no marker name matches a pose keypoint (names: {', '.join(names[:6])}...)", file=path,
                          field="marker names", expected="keypoint names such as RHip, LKnee, Nose or right_hip")
    t = rec.markers.time
    kp = np.full((t.size, 33, 3), np.nan)
    for s, d in zip(src, dst):
        kp[:, d] = rec.markers.data[names[s]]
    conf = np.where(np.isnan(kp[..., 0]), np.nan, 1.0)
    conf[:, [i for i in range(33) if i not in set(dst.tolist())]] = np.nan
    return KeypointTrack(np.asarray(t, dtype=float), kp, conf, "blazepose33", 1, 1, candidate={},
                         meta={"source_file": str(path), "format": "trc", "units": "m",
                               "matched_markers": [names[s] for s in src]}).validate(path)


def detect_format(path: str | PathLike) -> str:
    path = Path(path)
    if path.is_dir():
        return "openpose"
    suffix = path.suffix.lower()
    if suffix in (".trc", ".csv"):         # the format is named by the extension
        return suffix[1:]
    if suffix == ".json":
        head = read_text_file(path, what="JSON keypoint file")[:4096].lstrip()
        if head.startswith("["):
            return "coco"
        if '"people"' in head:
            return "openpose"
        return "track-json"
    raise ReaderError("cannot tell the keypoint format from the name", file=path,
                      expected="a folder of OpenPose JSON, .json (COCO results or track), .csv or .trc")


def read_keypoints(path: str | PathLike, format: str = "auto", *, video: str | PathLike | None = None,
                   **kwargs: Any) -> KeypointTrack:
    """Read any supported keypoint file into a :class:`KeypointTrack` (``format="auto"`` guesses it)."""
    check_option("format", format, FORMATS)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if not path.is_dir():     # a folder is OpenPose output; anything else must be a regular file (never a FIFO)
        check_input_file(path, what="keypoint file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "openpose":
        return read_openpose(path, video=video, **kwargs)
    if fmt == "coco":
        return read_coco_results(path, video=video, **kwargs)
    if fmt == "csv":
        return read_keypoint_csv(path, video=video, **kwargs)
    if fmt == "trc":
        return read_trc_keypoints(path)
    return KeypointTrack.from_json(path)


class _NoSession(FrameSession):  # pragma: no cover - imported candidates do not process frames
    def process(self, rgb, time_s):
        raise NotImplementedError


class ImportedCandidate(Candidate):
    """Keypoints computed elsewhere, presented through the candidate interface.

    ``run(video)`` reads the keypoint file (taking frame times from the video when the format has none) and
    records the keypoint file's sha256 as the model identity. Nothing is inferred, so nothing is cached.
    """

    kind = "imported"

    def __init__(self, path: str | PathLike, *, format: str = "auto", name: str | None = None,
                 schema: str | None = None, **read_kwargs: Any):
        super().__init__()
        check_option("format", format, FORMATS)
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(self.path))
        if not self.path.is_dir():   # hashed for the identity: a FIFO would block, a device never end
            check_input_file(self.path, what="keypoint file")
        self.format = detect_format(self.path) if format == "auto" else format
        self.schema = schema or "blazepose33"
        self._target_schema = schema
        self.read_kwargs = read_kwargs
        self._name = name or f"imported-{self.format}"
        self._identity: CandidateIdentity | None = None

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        return str(self.path), {}

    @property
    def identity(self) -> CandidateIdentity:
        if self._identity is None:
            from .video import file_sha256
            if self.path.is_dir():
                import hashlib
                h = hashlib.sha256()
                for f in sorted(self.path.glob("*.json")):
                    h.update(f.name.encode())
                    h.update(file_sha256(f).encode())
                sha, size = h.hexdigest(), sum(f.stat().st_size for f in self.path.glob("*.json"))
            else:
                sha, size = file_sha256(self.path), self.path.stat().st_size
            self._identity = CandidateIdentity(name=self._name, kind=self.kind, model_sha256=sha,
                                               runtime=f"import:{self.format}", runtime_version="1",
                                               model_path=str(self.path), model_bytes=size, precision="unknown",
                                               params={"format": self.format})
        return self._identity

    def new_session(self) -> FrameSession:
        return _NoSession()

    def run(self, video_path: str | PathLike | None = None, *, cache_dir=None, cache: bool = True,
            max_frames: int | None = None, allow_partial: bool = False, frame_step: int = 1) -> KeypointTrack:
        """The imported track (``video_path`` gives the frame times of formats that have none).

        The keypoint file decides the frames. ``allow_partial`` is accepted for the common candidate interface
        but does not relax anything here: when the video's frame times are needed, the video must be complete,
        since the frames of a truncated video cannot be matched to the keypoint frames.
        """
        track = read_keypoints(self.path, self.format, video=video_path, **self.read_kwargs)
        if self._target_schema and track.schema != self._target_schema:
            track = track.to_schema(self._target_schema)
        if max_frames is not None:
            track = KeypointTrack(track.times_s[:max_frames], track.keypoints[:max_frames],
                                  track.confidence[:max_frames], track.schema, track.image_width,
                                  track.image_height, track.candidate, track.meta)
        track = track.every(check_frame_step(frame_step))
        imported_identity = dict(track.candidate)
        track.candidate = self.identity.to_dict()
        if imported_identity:
            track.candidate["params"] = dict(track.candidate["params"], original_candidate=imported_identity)
        track.meta.update(video_path=None if video_path is None else str(video_path), cache_hit=False)
        return track
