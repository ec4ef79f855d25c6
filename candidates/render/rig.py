"""Camera rigs of the synthetic studies: where the phones stand around a person doing a balance test.

The person faces the lab's +x axis with y to their left and z up (the gold standard's frame, see
``ground_truth.markersets``). Both phones are portrait, at hip height, aimed at the pelvis, a few metres away:

- ``front``: in front of the person, seeing the frontal plane (medio-lateral sway, knee valgus/varus);
- ``side``: on the person's right, seeing the sagittal plane (antero-posterior sway, hip and ankle flexion).

Two views about 90 degrees apart give well-conditioned triangulation (``candidates.triangulate``).
"""
from __future__ import annotations

import numpy as np

from .camera import PinholeCamera

#: Mild barrel distortion of a phone's main camera after the phone's own correction (OpenCV k1, k2); the
#: renderer draws through it and the triangulation undistorts it.
PHONE_DISTORTION = (-0.02, 0.004, 0.0, 0.0, 0.0)


def phone_camera(position, target=(0.0, 0.0, 0.95), *, name: str, width: int = 360, height: int = 640,
                 fps: float = 30.0, focal_px: float = 700.0, distortion=PHONE_DISTORTION) -> PinholeCamera:
    """A portrait phone at ``position`` (m, lab frame) looking at ``target``, image up along +z."""
    return PinholeCamera.look_at(position, target, fx=focal_px, width=width, height=height, fps=fps, name=name,
                                 distortion=np.asarray(distortion, float))


def two_phone_rig(*, distance_m: float = 3.0, lens_height_m: float = 1.0, target=(0.0, 0.0, 0.95),
                  width: int = 360, height: int = 640, fps: float = 30.0, focal_px: float = 700.0,
                  distortion=PHONE_DISTORTION) -> dict[str, PinholeCamera]:
    """The frontal and sagittal phones (``{"front": ..., "side": ...}``), each ``distance_m`` from the
    person's vertical axis with its lens ``lens_height_m`` above the floor."""
    common = dict(target=target, width=width, height=height, fps=fps, focal_px=focal_px, distortion=distortion)
    return {"front": phone_camera((distance_m, 0.0, lens_height_m), name="front", **common),
            "side": phone_camera((0.0, -distance_m, lens_height_m), name="side", **common)}
