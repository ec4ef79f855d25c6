"""Pinhole camera with OpenCV conventions: intrinsics, extrinsics and optional lens distortion.

World points ``X`` (metres, lab frame) map to camera coordinates ``Xc = R @ X + t`` (x right, y down,
z forward, the OpenCV convention), then to normalised image coordinates ``(x, y) = (Xc/Zc, Yc/Zc)``, through the
Brown-Conrady distortion ``(k1, k2, p1, p2[, k3])`` exactly as ``cv2.projectPoints`` applies it, and finally to
pixels ``u = fx*x_d + cx``, ``v = fy*y_d + cy`` (as OpenCV: pixel centres at integer coordinates, the
top-left pixel's centre at (0, 0)).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from candidates.track import MAX_IMAGE_SIDE
from ground_truth.kernel import BOUNDS, InputError, as_float_array


def _unit(v: np.ndarray, name: str) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n < 1e-12:
        raise InputError(f"is a zero or non-finite vector {v.tolist()}", field=name, expected="a direction")
    return v / n


def _finite_number(value, field: str, expected: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a number", field=field, expected=expected) from None
    if not np.isfinite(v):
        raise InputError(f"{field} is {v!r}", field=field, expected=f"a finite number: {expected}")
    return v


def rotation_from_rodrigues(rvec) -> np.ndarray:
    """3×3 rotation matrix of a Rodrigues (axis × angle, radians) vector, as ``cv2.Rodrigues``."""
    r = as_float_array(rvec, "rotation", ndim=1)
    theta = float(np.linalg.norm(r))
    if theta < 1e-15:
        return np.eye(3)
    k = r / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * (kx @ kx)


def rodrigues_from_rotation(R: np.ndarray) -> np.ndarray:
    """Rodrigues vector of a rotation matrix (inverse of :func:`rotation_from_rodrigues`)."""
    R = np.asarray(R, dtype=float)
    cos_t = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    theta = float(np.arccos(cos_t))
    if theta < 1e-12:
        return np.zeros(3)
    if np.pi - theta < 1e-6:  # near 180°: the antisymmetric part vanishes; R ≈ 2kk^T - I
        B = (R + np.eye(3)) / 2.0
        i = int(np.argmax(np.diag(B)))
        k = B[:, i] / np.sqrt(max(B[i, i], 1e-300))
        return theta * k / np.linalg.norm(k)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / (2.0 * np.sin(theta))
    return theta * w


@dataclass
class PinholeCamera:
    """A calibrated camera (OpenCV pinhole model).

    Parameters
    ----------
    fx, fy : float
        Focal lengths in pixels.
    cx, cy : float
        Principal point in pixels (OpenCV: pixel centres at integer coordinates).
    width, height : int
        Image size in pixels.
    rotation : (3, 3) array
        World-to-camera rotation ``R`` (rows are the camera's x-right, y-down, z-forward axes in the world).
    translation : (3,) array
        World-to-camera translation ``t`` in metres, ``Xc = R @ X + t``; the camera centre is ``-R.T @ t``.
    distortion : (4,) or (5,) array, optional
        OpenCV ``(k1, k2, p1, p2[, k3])``; zeros (no distortion) by default.
    fps : float, optional
        Nominal frame rate of the camera's clock (used by the renderer).
    name : str
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(5))
    fps: float = 30.0
    name: str = "camera"

    def __post_init__(self):
        for key in ("fx", "fy"):
            v = _finite_number(getattr(self, key), key, "a positive number of pixels")
            if v <= 0:
                raise InputError(f"focal length is {v!r}", field=key, expected="a positive number of pixels")
            setattr(self, key, v)
        for key in ("cx", "cy"):
            v = _finite_number(getattr(self, key), key, "a principal point in pixels")
            setattr(self, key, v)
        for key in ("width", "height"):
            v = getattr(self, key)
            ok = not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and \
                np.isfinite(v) and float(v) == int(v) and 0 < int(v) <= MAX_IMAGE_SIDE
            if not ok:
                raise InputError(f"image {key} is {v!r}", field=key,
                                 expected=f"a whole number of pixels from 1 to {MAX_IMAGE_SIDE}")
            setattr(self, key, int(v))
        R = as_float_array(self.rotation, "rotation")
        if R.shape == (3,):
            R = rotation_from_rodrigues(R)
        if R.shape != (3, 3):
            raise InputError(f"rotation has shape {R.shape}", field="rotation",
                             expected="a 3x3 matrix or a Rodrigues 3-vector")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-5) or np.linalg.det(R) < 0:
            raise InputError("rotation is not a proper rotation matrix (R R^T != I or det < 0)",
                             field="rotation", expected="an orthonormal matrix with determinant +1")
        self.rotation = R
        t = as_float_array(self.translation, "translation", ndim=1)
        if t.shape != (3,):
            raise InputError(f"translation has {t.size} values", field="translation", expected="3 values (m)")
        pos = BOUNDS["position_m"]
        if not np.all(pos.contains(t)):
            raise InputError(f"translation is {t.tolist()} m", field="translation",
                             expected=f"finite values in {pos.describe()} ({pos.why})")
        self.translation = t
        d = as_float_array(self.distortion if self.distortion is not None else np.zeros(5), "distortion")
        if d.ndim != 1 or d.size not in (4, 5, 0):
            raise InputError(f"distortion has {d.size} values", field="distortion",
                             expected="OpenCV (k1, k2, p1, p2) or (k1, k2, p1, p2, k3)")
        if not np.all(np.isfinite(d)):
            raise InputError(f"distortion is {d.tolist()}", field="distortion", expected="finite coefficients")
        self.distortion = np.concatenate([d, np.zeros(5 - d.size)])
        self.fps = _finite_number(self.fps, "fps", "a frame rate")
        rate = BOUNDS["frame_rate_hz"]
        if not rate.contains(np.array([self.fps]))[0]:
            raise InputError(f"fps is {self.fps!r}", field="fps", expected=f"a frame rate in {rate.describe()}")

    # -- construction ---------------------------------------------------------------------------------------
    @classmethod
    def look_at(cls, position, target, *, fx: float, fy: float | None = None, width: int, height: int,
                cx: float | None = None, cy: float | None = None, up=(0.0, 0.0, 1.0), **kwargs
                ) -> "PinholeCamera":
        """A camera at ``position`` looking at ``target`` with image-up along the world ``up`` axis."""
        pos = as_float_array(position, "position", ndim=1)
        tgt = as_float_array(target, "look_at", ndim=1)
        upv = _unit(as_float_array(up, "up", ndim=1), "up")
        z = _unit(tgt - pos, "look_at - position")
        x = np.cross(z, upv)
        if np.linalg.norm(x) < 1e-9:
            raise InputError("the viewing direction is parallel to 'up'", field="up",
                             expected="an up vector not parallel to look_at - position")
        x = x / np.linalg.norm(x)
        y = np.cross(z, x)
        R = np.stack([x, y, z])
        return cls(fx=fx, fy=fx if fy is None else fy, cx=(width - 1) / 2.0 if cx is None else cx,
                   cy=(height - 1) / 2.0 if cy is None else cy, width=width, height=height, rotation=R,
                   translation=-R @ pos, **kwargs)

    # -- geometry -------------------------------------------------------------------------------------------
    @property
    def K(self) -> np.ndarray:
        """3×3 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def center(self) -> np.ndarray:
        """Camera centre in world coordinates (m)."""
        return -self.rotation.T @ self.translation

    @property
    def optical_axis(self) -> np.ndarray:
        """Unit viewing direction in world coordinates."""
        return self.rotation[2].copy()

    @property
    def has_distortion(self) -> bool:
        return bool(np.any(self.distortion != 0))

    def to_camera(self, points) -> np.ndarray:
        """World points (..., 3) → camera coordinates (..., 3) in metres."""
        p = np.asarray(points, dtype=float)
        return p @ self.rotation.T + self.translation

    def _distort(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k1, k2, p1, p2, k3 = self.distortion
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        return xd, yd

    def project(self, points, *, return_depth: bool = False):
        """Project world points (..., 3) to pixels (..., 2).

        Points at or behind the camera plane (depth <= 1 mm) and NaN inputs project to NaN. With
        ``return_depth`` the camera-frame depth ``Zc`` (m, (...,)) is returned too.
        """
        pc = self.to_camera(points)
        z = pc[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = z > 1e-3
            zs = np.where(ok, z, np.nan)
            x, y = pc[..., 0] / zs, pc[..., 1] / zs
        if self.has_distortion:
            x, y = self._distort(x, y)
        uv = np.stack([self.fx * x + self.cx, self.fy * y + self.cy], axis=-1)
        return (uv, z) if return_depth else uv

    def undistort_normalized(self, uv) -> np.ndarray:
        """Pixels (..., 2) → undistorted normalised coordinates (..., 2) (fixed-point inversion, as OpenCV)."""
        uv = np.asarray(uv, dtype=float)
        xd = (uv[..., 0] - self.cx) / self.fx
        yd = (uv[..., 1] - self.cy) / self.fy
        if not self.has_distortion:
            return np.stack([xd, yd], axis=-1)
        k1, k2, p1, p2, k3 = self.distortion
        x, y = xd.copy(), yd.copy()
        for _ in range(30):
            r2 = x * x + y * y
            radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
            dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
            dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
            x_new, y_new = (xd - dx) / radial, (yd - dy) / radial
            step = np.nanmax(np.abs(x_new - x) + np.abs(y_new - y)) if x.size else 0.0
            x, y = x_new, y_new
            if not step > 1e-12:   # converged (or all NaN)
                break
        return np.stack([x, y], axis=-1)

    def rays(self, uv) -> np.ndarray:
        """Unit world-frame ray directions (..., 3) through pixels (..., 2)."""
        xy = self.undistort_normalized(uv)
        d_cam = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)
        d = d_cam @ self.rotation  # R.T @ d for each row
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def back_project_to_plane(self, uv, plane_point, plane_normal) -> np.ndarray:
        """Intersect the rays through pixels (..., 2) with a world plane; (..., 3) metres.

        Rays parallel to the plane or meeting it behind the camera give NaN.
        """
        p0 = as_float_array(plane_point, "plane_point", ndim=1)
        n = _unit(as_float_array(plane_normal, "plane_normal", ndim=1), "plane_normal")
        d = self.rays(uv)
        c = self.center
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = d @ n
            s = ((p0 - c) @ n) / denom
            s = np.where((np.abs(denom) > 1e-12) & (s > 0), s, np.nan)
        return c + s[..., None] * d

    def pixels_per_metre(self, depth_m) -> np.ndarray:
        """Image scale (px per metre) of a fronto-parallel length at camera depth ``depth_m``."""
        return 0.5 * (self.fx + self.fy) / np.asarray(depth_m, dtype=float)

    # -- export ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the ``[camera]`` table of the camera TOML, with an explicit rotation)."""
        return {"name": self.name, "width": self.width, "height": self.height, "fps": self.fps,
                "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy,
                "distortion": self.distortion.tolist(), "rotation": self.rotation.tolist(),
                "translation": self.translation.tolist(), "position": self.center.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, file=None) -> "PinholeCamera":
        """Build from the ``[camera]`` table of a camera TOML (see docs/rendering.md)."""
        from ..calibration import camera_from_table
        return camera_from_table(d, file=file)
