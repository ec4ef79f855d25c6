"""Which video frame an annotated item is, and its time on the video's own clock.

Annotation exports number frames (CVAT for video: absolute frame numbers; CVAT for images and COCO exports of a
video task: file names such as ``frame_000123.png``); the time of a frame is read from the video's packet
timestamps (:func:`candidates.video.probe_video`), never computed as ``frame / fps``, because phone videos have
variable frame rates and dropped frames.
"""
from __future__ import annotations

import re
from os import PathLike

import numpy as np
import pandas as pd

# CVAT names the frames of a video task "frame_000123.<ext>"; other tools write "000123.jpg" or "img_123.png".
# Only the last run of digits before the extension is read, and only when the name is nothing but a prefix
# ending in a separator (or nothing) and those digits: "clip2_frame_000123.png" is frame 123, "IMG_2.JPG" is 2.
_FRAME_NAME = re.compile(r"^(?:.*[_\-./])?(\d+)\.[A-Za-z0-9]+$")


def frame_from_name(name: str) -> int | None:
    """The frame number written in an image file name, or None when the name holds none."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    m = _FRAME_NAME.match(base)
    return int(m.group(1)) if m else None


def attach_video_times(items: pd.DataFrame, video: str | PathLike, notes: list[str]) -> pd.DataFrame:
    """``items`` with ``time_s`` set from the frame timestamps of ``video``.

    Items whose frame lies beyond the video keep NaN and are counted in ``notes`` (QC reports them as frames
    labelled beyond the video); items with no frame number (still images) keep NaN.
    """
    from ..video import probe_video

    info = probe_video(video, with_sha256=False)
    out = items.copy()
    frames = out["frame"]
    known = frames.notna().to_numpy()
    idx = frames.fillna(-1).to_numpy(dtype=np.int64)
    inside = known & (idx >= 0) & (idx < info.n_frames)
    times = np.full(len(out), np.nan)
    times[inside] = info.times_s[idx[inside]]
    out["time_s"] = times
    beyond = int(np.count_nonzero(known & ~inside))
    if beyond:
        notes.append(f"{beyond} annotated frame(s) lie beyond the {info.n_frames} frames of {video}; their time "
                     f"is unknown (NaN)")
    if not known.any():
        notes.append(f"no item carries a frame number, so none could be placed on the clock of {video}")
    return out
