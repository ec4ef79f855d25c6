"""Camera calibration files: Qualisys ``.qca.txt`` and the stancebench camera TOML.

Both return :class:`candidates.render.camera.PinholeCamera` objects in the OpenCV convention
(``Xc = R @ X + t``, x right, y down, z forward, metres), so KPIs can back-project keypoints to metres and the
renderer can project joints with the same model.

Qualisys ``.qca.txt`` (XML) convention, as Pose2Sim reads it (``Pose2Sim/calibration.py``: ``read_qca`` then
``world_to_camera_persp`` then ``rotate_cam(ang_x=pi)``):

- ``<transform x y z r11..r33>``: camera position in the lab frame in **mm**, and a rotation matrix
  ``M = [[r11, r12, r13], [r21, r22, r23], [r31, r32, r33]]`` that maps lab vectors into the Qualisys camera
  frame (whose z axis points backwards, out of the lens, and y up). The OpenCV extrinsics are therefore
  ``R = diag(1, -1, -1) @ M`` and ``t = -R @ position_m``.
- ``<intrinsic>``: focal lengths and principal point in 1/64 pixel (Qualisys sub-pixel units):
  ``fx = focalLengthU/64``, ``fy = focalLengthV/64``, ``cx = centerPointU/64 - fov_video.left``,
  ``cy = centerPointV/64 - fov_video.top``. Distortion ``(k1, k2, p1, p2)`` =
  ``(radialDistortion1, radialDistortion2, tangentalDistortion1, tangentalDistortion2)/64`` as Pose2Sim
  does (its effect on these files is below 0.2 px anywhere in the image).
- ``<fov_video left right top bottom>``: the image is ``right-left+1`` by ``bottom-top+1`` pixels.

Only cameras whose ``model`` attribute says ``video`` or ``none`` are video cameras (Pose2Sim's rule); they
are returned in natural name order.
"""
from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from ground_truth.kernel import InputError, ReaderError, atomic_output, check_input_file, read_text_file

from .render.camera import PinholeCamera, rodrigues_from_rotation

#: Qualisys stores focal length and principal point in sub-pixel units: 64 per pixel.
QUALISYS_SUBPIXELS = 64.0


def _natural_key(s: str):
    return [int(c) if c.isdigit() else c.lower() for c in re.split(r"(\d+)", s)]


def _attr(tag, name: str, path, cam: str) -> float:
    value = tag.get(name)
    if value is None:
        raise ReaderError(f"camera {cam!r}: <{tag.tag}> has no attribute {name!r}", file=path, field=name,
                          expected="a Qualisys .qca.txt calibration")
    try:
        return float(value)
    except ValueError:
        raise ReaderError(f"camera {cam!r}: {name}={value!r} is not a number", file=path, field=name) from None


def read_qca(path, *, fps: float = 30.0) -> dict[str, PinholeCamera]:
    """Read a Qualisys ``.qca.txt`` calibration into OpenCV-convention cameras.

    Parameters
    ----------
    path : path-like
        The ``.qca.txt`` file (XML).
    fps : float
        Nominal frame rate to attach to the cameras (the file does not record the video rate).

    Returns
    -------
    dict of str to PinholeCamera
        Keyed by the camera's ``serial`` attribute, in natural order (cam01, cam02, ...). Each camera's
        ``meta``-like provenance (avg residual in mm) is not kept; see the module docstring for the
        conversion.

    Notes
    -----
    The conversion follows Pose2Sim's ``calib_qca_fun`` (Pagnon et al. 2022, JOSS 7:4362), so a Pose2Sim
    TOML converted from the same file holds the same K, distortion, Rodrigues rotation and translation.
    """
    path = Path(path)
    # The XML parser reads the bytes itself (the file may declare its own encoding); a directory or FIFO is
    # refused before it is opened.
    check_input_file(path, what="Qualisys .qca.txt calibration")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ReaderError(f"not valid XML ({exc})", file=path, expected="a Qualisys .qca.txt calibration") from None
    tags = root.findall("cameras/camera")
    if not tags:
        raise ReaderError("no <cameras><camera> elements", file=path, expected="a Qualisys .qca.txt calibration")
    flip = np.diag([1.0, -1.0, -1.0])  # Qualisys camera frame (y up, z backwards) -> OpenCV (y down, z forward)
    cams: dict[str, PinholeCamera] = {}
    for i, tag in enumerate(tags):
        name = tag.get("serial") or f"cam{i + 1:02d}"
        model = (tag.get("model") or "").lower()
        if not any(m in model for m in ("video", "none")):
            continue
        fov, tr, intr = tag.find("fov_video"), tag.find("transform"), tag.find("intrinsic")
        for sub, what in ((fov, "fov_video"), (tr, "transform"), (intr, "intrinsic")):
            if sub is None:
                raise ReaderError(f"camera {name!r} has no <{what}> element", file=path, field=what)
        left, top = _attr(fov, "left", path, name), _attr(fov, "top", path, name)
        width, height = _attr(fov, "right", path, name) - left + 1, _attr(fov, "bottom", path, name) - top + 1
        if not (np.isfinite(width) and np.isfinite(height)):
            raise ReaderError(f"camera {name!r}: image size {width} x {height}", file=path, field="fov_video",
                              expected="finite left, right, top and bottom pixel bounds")
        width, height = round(width), round(height)
        M = np.array([[_attr(tr, f"r{r}{c}", path, name) for c in (1, 2, 3)] for r in (1, 2, 3)])
        pos = np.array([_attr(tr, k, path, name) for k in ("x", "y", "z")]) / 1000.0
        R = flip @ M
        s = QUALISYS_SUBPIXELS
        dist = np.array([_attr(intr, k, path, name) for k in ("radialDistortion1", "radialDistortion2",
                                                                "tangentalDistortion1", "tangentalDistortion2")]) / s
        k3 = intr.get("radialDistortion3")
        dist = np.append(dist, float(k3) / s if k3 is not None else 0.0)
        try:
            cam = PinholeCamera(fx=_attr(intr, "focalLengthU", path, name) / s,
                                fy=_attr(intr, "focalLengthV", path, name) / s,
                                cx=_attr(intr, "centerPointU", path, name) / s - left,
                                cy=_attr(intr, "centerPointV", path, name) / s - top,
                                width=width, height=height, rotation=R, translation=-R @ pos,
                                distortion=dist, fps=fps, name=name)
        except InputError as exc:
            raise ReaderError(f"camera {name!r}: {exc.reason}", file=path, field=exc.field,
                              expected=exc.expected) from None
        cams[name] = cam
    if not cams:
        raise ReaderError("no video cameras (model 'video' or 'none')", file=path, field="model")
    return {k: cams[k] for k in sorted(cams, key=_natural_key)}


# -- camera TOML -------------------------------------------------------------------------------------------
_REQUIRED = ("width", "height", "fx", "cy", "cx")


def camera_from_table(d: dict[str, Any], *, file=None, name: str | None = None) -> PinholeCamera:
    """Build a camera from one TOML table (stancebench ``[camera]`` form or a Pose2Sim calibration table).

    stancebench form: ``width, height, fx, fy, cx, cy`` (px), optional ``fps``, ``distortion`` (OpenCV
    k1 k2 p1 p2 [k3]), and the extrinsics either as ``rotation`` (3×3 world→camera, or a Rodrigues 3-vector)
    + ``translation`` (m), or as ``position`` + ``look_at`` (+ optional ``up``, default ``[0, 0, 1]``) in metres.
    Pose2Sim form: ``size = [w, h]``, ``matrix`` (3×3 K), ``distortions``, ``rotation`` (Rodrigues),
    ``translation`` (m).
    """
    if not isinstance(d, dict):
        raise InputError("camera entry is not a table", file=file, field=name or "camera")
    d = dict(d)
    cam_name = str(d.get("name", name or "camera"))
    if "matrix" in d:  # Pose2Sim calibration TOML
        try:
            K = np.asarray(d["matrix"], dtype=float)
            w, h = (float(v) for v in d["size"])
            if K.shape != (3, 3) or not (np.isfinite(w) and np.isfinite(h)):
                raise ValueError(f"matrix of shape {K.shape}, size {w} x {h}")
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"camera {cam_name!r}: bad Pose2Sim table ({exc})", file=file, field="matrix/size",
                             expected="size = [w, h] and a 3x3 matrix") from None
        d.update(fx=K[0, 0], fy=K[1, 1], cx=K[0, 2], cy=K[1, 2], width=round(w), height=round(h),
                 distortion=d.get("distortions", [0, 0, 0, 0]))
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        raise InputError(f"camera {cam_name!r} lacks {', '.join(missing)}", file=file, field=missing[0],
                         expected="width, height, fx, fy, cx, cy (pixels)")
    common = dict(fx=d["fx"], fy=d.get("fy", d["fx"]), width=d["width"], height=d["height"],
                  distortion=d.get("distortion", [0.0] * 5), fps=d.get("fps", 30.0), name=cam_name)
    try:
        if "rotation" in d and "translation" in d:
            return PinholeCamera(cx=d["cx"], cy=d["cy"], rotation=d["rotation"], translation=d["translation"],
                                 **common)
        if "position" in d and "look_at" in d:
            return PinholeCamera.look_at(d["position"], d["look_at"], up=d.get("up", (0.0, 0.0, 1.0)),
                                         cx=d["cx"], cy=d["cy"], **common)
    except InputError as exc:
        raise InputError(f"camera {cam_name!r}: {exc.reason}", file=file, field=exc.field,
                         expected=exc.expected) from None
    raise InputError(f"camera {cam_name!r} has no extrinsics", file=file, field="rotation/translation",
                     expected="rotation + translation, or position + look_at")


def read_camera_toml(path, name: str | None = None) -> PinholeCamera:
    """Read one camera from a TOML file (see docs/rendering.md for the format).

    A file with a ``[camera]`` table gives that camera; a file of several tables (e.g. a Pose2Sim
    calibration with ``[cam_01]``, ``[cam_02]``, ...) needs ``name`` unless it holds exactly one camera.
    """
    cams = read_cameras_toml(path)
    if name is None:
        if len(cams) != 1:
            raise InputError(f"holds {len(cams)} cameras ({', '.join(cams)})", file=path, field="camera",
                             expected="one camera, or pass the camera name")
        return next(iter(cams.values()))
    if name not in cams:
        raise InputError(f"no camera named {name!r}", file=path, field="camera", expected=f"one of {list(cams)}")
    return cams[name]


def read_cameras_toml(path) -> dict[str, PinholeCamera]:
    """All cameras of a TOML file, keyed by table name (``camera`` for the single-camera form)."""
    path = Path(path)
    text = read_text_file(path, what="camera TOML file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReaderError(f"not valid TOML ({exc})", file=path) from None
    tables = {k: v for k, v in doc.items() if isinstance(v, dict) and k != "metadata"}
    if not tables:
        raise InputError("no camera table", file=path, field="camera",
                         expected="a [camera] table with width, height, fx, fy, cx, cy and extrinsics")
    return {k: camera_from_table(v, file=path, name=k) for k, v in tables.items()}


def write_camera_toml(cameras: PinholeCamera | dict[str, PinholeCamera], path) -> Path:
    """Write one camera (as ``[camera]``) or several (one table each) in the stancebench TOML form.

    The rotation is written as the 3×3 world→camera matrix and, for readers that prefer it, as a Rodrigues
    vector under ``rotation_rodrigues`` (informative; the matrix is what is read back).
    """
    import tomli_w

    if isinstance(cameras, PinholeCamera):
        cameras = {"camera": cameras}
    doc = {}
    for key, cam in cameras.items():
        d = cam.to_dict()
        d.pop("position")
        d["rotation_rodrigues"] = rodrigues_from_rotation(cam.rotation).tolist()
        doc[key] = d
    path = Path(path)
    with atomic_output(path, "wb") as fh:
        tomli_w.dump(doc, fh)
    return path
