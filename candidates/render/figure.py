"""The drawn human figure: landmark model in 3-D and its drawing with OpenCV.

The figure is built from the motion's joints; every BlazePose-33 landmark the motion does not supply (face
points, hand points, heels, toes) is placed on the figure by fixed anthropometric offsets scaled to the
subject's trunk length, and then drawn exactly there, so the projected landmarks are the exact 2-D truth of
what is in the image. Limbs are shaded capsules, the torso a rounded polygon, the head an ellipse with hair,
eyes, nose and mouth that turn with the head; primitives are painted far to near (painter's algorithm).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from candidates.skeletons import BLAZEPOSE33

#: Trunk length (mid-hip to mid-shoulder, m) of the reference 1.75 m figure the offsets below are given for.
REFERENCE_TRUNK_M = 0.504

#: Extra 3-D points of the figure (besides the 33 landmarks): name -> what it is.
EXTRA_POINTS = ("neck", "head_centre", "head_hair", "head_face", "head_up_tip", "mid_hip", "mid_shoulder",
                "left_hand_mid", "right_hand_mid")

PALETTES = (
    # shirt, trousers, skin, hair, shoes (RGB)
    ((200, 60, 50), (40, 50, 110), (224, 172, 140), (50, 35, 25), (30, 30, 30)),
    ((40, 120, 180), (60, 60, 60), (190, 140, 100), (20, 20, 20), (120, 40, 30)),
    ((230, 200, 60), (30, 80, 50), (240, 200, 170), (150, 100, 40), (60, 60, 80)),
    ((120, 60, 150), (90, 70, 50), (140, 95, 60), (15, 10, 10), (220, 220, 220)),
)


@dataclass
class FigureStyle:
    """Colours (RGB 0-255) and body thickness of the drawn figure."""

    shirt: tuple[int, int, int] = PALETTES[0][0]
    trousers: tuple[int, int, int] = PALETTES[0][1]
    skin: tuple[int, int, int] = PALETTES[0][2]
    hair: tuple[int, int, int] = PALETTES[0][3]
    shoes: tuple[int, int, int] = PALETTES[0][4]
    thickness: float = 1.0   # multiplies every limb radius

    @classmethod
    def palette(cls, index: int) -> "FigureStyle":
        return cls(*PALETTES[index % len(PALETTES)])

    def to_dict(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def _unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / n


def _orth(v, axis):
    """Component of v orthogonal to the unit vector ``axis``, normalised."""
    return _unit(v - np.sum(v * axis, axis=-1, keepdims=True) * axis)


def figure_landmarks(joints: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """All 33 BlazePose landmarks and the figure's extra points, (T, 3) metres each.

    Returns the points and the list of BlazePose landmark names that were derived (not in ``joints``).
    """
    J = {k: np.asarray(v, dtype=float) for k, v in joints.items()}
    T = J["left_hip"].shape[0]
    ez = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (T, 3))
    mid_hip = 0.5 * (J["left_hip"] + J["right_hip"])
    mid_sh = 0.5 * (J["left_shoulder"] + J["right_shoulder"])
    trunk = np.linalg.norm(mid_sh - mid_hip, axis=1)
    s = float(np.nanmedian(trunk)) / REFERENCE_TRUNK_M
    if not np.isfinite(s) or s <= 0:
        s = 1.0
    up = _unit(mid_sh - mid_hip)
    lat = _orth((J["left_hip"] - J["right_hip"]) + (J["left_shoulder"] - J["right_shoulder"]), up)
    fwd = _unit(np.cross(lat, up))
    P: dict[str, np.ndarray] = {"mid_hip": mid_hip, "mid_shoulder": mid_sh}
    P["neck"] = J["neck"] if "neck" in J else mid_sh + 0.035 * s * up
    # Head frame: centre, up and forward.
    if "left_ear" in J and "right_ear" in J:
        head_c = 0.5 * (J["left_ear"] + J["right_ear"])
    elif "head_centre" in J:
        head_c = J["head_centre"]
    elif "head_top" in J:
        head_c = J["head_top"] - 0.11 * s * _unit(J["head_top"] - P["neck"])
    else:
        head_c = P["neck"] + 0.13 * s * up + 0.02 * s * fwd
    hup = _unit(J["head_top"] - P["neck"]) if "head_top" in J else up
    hfwd = _orth(J["nose"] - head_c, hup) if "nose" in J else _orth(fwd, hup)
    hlat = _unit(np.cross(hup, hfwd))
    P["head_centre"] = head_c
    P["head_hair"] = head_c - 0.02 * s * hfwd + 0.015 * s * hup
    P["head_face"] = head_c + 0.02 * s * hfwd - 0.012 * s * hup
    P["head_up_tip"] = head_c + 0.1 * s * hup
    face = {
        "nose": 0.10 * hfwd - 0.015 * hup,
        "left_eye": 0.085 * hfwd + 0.025 * hup + 0.033 * hlat,
        "right_eye": 0.085 * hfwd + 0.025 * hup - 0.033 * hlat,
        "left_eye_inner": 0.09 * hfwd + 0.025 * hup + 0.019 * hlat,
        "right_eye_inner": 0.09 * hfwd + 0.025 * hup - 0.019 * hlat,
        "left_eye_outer": 0.075 * hfwd + 0.025 * hup + 0.047 * hlat,
        "right_eye_outer": 0.075 * hfwd + 0.025 * hup - 0.047 * hlat,
        "left_ear": 0.075 * hlat, "right_ear": -0.075 * hlat,
        "mouth_left": 0.085 * hfwd - 0.055 * hup + 0.024 * hlat,
        "mouth_right": 0.085 * hfwd - 0.055 * hup - 0.024 * hlat,
    }
    for name, off in face.items():
        P[name] = J[name] if name in J else head_c + s * off
    for side in ("left", "right"):
        wrist, elbow = J[f"{side}_wrist"], J[f"{side}_elbow"]
        d = _unit(wrist - elbow)
        ts = _orth(fwd, d)   # palms facing the body: thumbs point forward
        hand = {"index": 0.085 * d + 0.02 * ts, "pinky": 0.075 * d - 0.025 * ts, "thumb": 0.04 * d + 0.04 * ts}
        for k, off in hand.items():
            name = f"{side}_{k}"
            P[name] = J[name] if name in J else wrist + s * off
        P[f"{side}_hand_mid"] = 0.5 * (P[f"{side}_index"] + P[f"{side}_pinky"])
        ankle, knee = J[f"{side}_ankle"], J[f"{side}_knee"]
        sd = _unit(ankle - knee)                       # shank direction, downwards when standing
        ff = _orth(_orth(fwd, ez), sd)  # foot forward, perpendicular to the shank
        P[f"{side}_heel"] = J[f"{side}_heel"] if f"{side}_heel" in J else ankle + s * (0.05 * sd - 0.05 * ff)
        P[f"{side}_foot_index"] = (J[f"{side}_foot_index"] if f"{side}_foot_index" in J
                                   else ankle + s * (0.055 * sd + 0.15 * ff))
    for name in BLAZEPOSE33:
        if name not in P:
            P[name] = J[name]
    derived = [n for n in BLAZEPOSE33 if n not in J]
    P["_scale"] = np.full((T, 3), s)
    return P, derived


# -- drawing ------------------------------------------------------------------------------------------------
_SHIFT = 4
_ONE = 1 << _SHIFT

#: Capsules: (from, to, radius at the reference scale in m, colour key)
CAPSULES = (
    ("left_shoulder", "left_elbow", 0.045, "shirt"), ("right_shoulder", "right_elbow", 0.045, "shirt"),
    ("left_elbow", "left_wrist", 0.035, "skin"), ("right_elbow", "right_wrist", 0.035, "skin"),
    ("left_wrist", "left_hand_mid", 0.032, "skin"), ("right_wrist", "right_hand_mid", 0.032, "skin"),
    ("left_hip", "left_knee", 0.072, "trousers"), ("right_hip", "right_knee", 0.072, "trousers"),
    ("left_knee", "left_ankle", 0.052, "trousers"), ("right_knee", "right_ankle", 0.052, "trousers"),
    ("left_heel", "left_foot_index", 0.035, "shoes"), ("right_heel", "right_foot_index", 0.035, "shoes"),
    ("neck", "head_centre", 0.045, "skin"),
)


def _shade(colour, k):
    # plain min/max: np.clip on one Python number costs more than the line it colours (61k calls per trial)
    return tuple(int(min(max(c * k, 0), 255)) for c in colour)


def _pt(uv):
    return (int(round(uv[0] * _ONE)), int(round(uv[1] * _ONE)))


def _capsule(cv2, img, a, b, r_px, colour):
    r = max(r_px, 1.0)
    cv2.line(img, _pt(a), _pt(b), _shade(colour, 0.55), max(int(round(2 * r + 2)), 1), cv2.LINE_AA, _SHIFT)
    cv2.line(img, _pt(a), _pt(b), colour, max(int(round(2 * r)), 1), cv2.LINE_AA, _SHIFT)
    off = np.array([-0.3 * r, -0.3 * r])
    cv2.line(img, _pt(a + off), _pt(b + off), _shade(colour, 1.25), max(int(round(0.7 * r)), 1),
             cv2.LINE_AA, _SHIFT)


def draw_figure(img: np.ndarray, uv: dict[str, np.ndarray], depth: dict[str, np.ndarray], pts3d: dict[str, np.ndarray],
                cam_center: np.ndarray, focal: float, style: FigureStyle) -> None:
    """Draw one frame of the figure in place (RGB uint8 image).

    ``uv``, ``depth`` and ``pts3d`` hold, for this frame, each point's pixel position (2,), camera depth
    (scalar, m) and world position (3,).
    """
    import cv2

    s = float(pts3d["_scale"][0]) * style.thickness
    colours = {"shirt": style.shirt, "trousers": style.trousers, "skin": style.skin, "shoes": style.shoes,
               "hair": style.hair}
    items = []   # (depth, order, callable)

    def ok(*names):
        return all(np.all(np.isfinite(uv[n])) and depth[n] > 1e-3 for n in names)

    for i, (a, b, r, ck) in enumerate(CAPSULES):
        if ok(a, b):
            z = 0.5 * (depth[a] + depth[b])
            r_px = r * s * focal / z
            items.append((z, i, lambda a=a, b=b, r_px=r_px, ck=ck: _capsule(cv2, img, uv[a], uv[b], r_px,
                                                                          colours[ck])))
    corners = ("left_shoulder", "right_shoulder", "right_hip", "left_hip")
    if ok(*corners, "mid_hip", "mid_shoulder"):
        z = float(np.mean([depth[c] for c in corners]))

        def torso(z=z):
            rr = 0.095 * s * focal / z
            _capsule(cv2, img, uv["mid_hip"], uv["mid_shoulder"], rr, style.shirt)
            poly = np.array([_pt(uv[c]) for c in corners], dtype=np.int32)
            cv2.fillConvexPoly(img, poly, style.shirt, cv2.LINE_AA, _SHIFT)
            cv2.polylines(img, [poly], True, style.shirt, max(int(round(0.09 * s * focal / z)), 1), cv2.LINE_AA,
                          _SHIFT)
            centre = np.mean([uv[c] for c in corners], axis=0)
            inner = np.array([_pt(centre + 0.55 * (uv[c] - centre) + np.array([-0.15, -0.15]) * rr)
                              for c in corners], dtype=np.int32)
            cv2.fillConvexPoly(img, inner, _shade(style.shirt, 1.12), cv2.LINE_AA, _SHIFT)
            # Belt line of the trousers across the hips.
            _capsule(cv2, img, uv["left_hip"], uv["right_hip"], 0.075 * s * focal / z, style.trousers)
        items.append((z + 0.01 * s, 100, torso))
    if ok("head_centre", "head_hair", "head_face", "head_up_tip"):
        z = float(depth["head_centre"])
        to_cam = cam_center - pts3d["head_centre"]
        facing = float(np.dot(pts3d["nose"] - pts3d["head_centre"], to_cam) /
                       (np.linalg.norm(pts3d["nose"] - pts3d["head_centre"]) * np.linalg.norm(to_cam) + 1e-12))
        v = uv["head_up_tip"] - uv["head_centre"]
        angle = float(np.degrees(np.arctan2(v[1], v[0])))
        f_px = s * focal / z

        def head():
            def ell(c, a_up, a_side, colour):
                axes = (int(round(a_up * f_px * _ONE)), int(round(a_side * f_px * _ONE)))
                cv2.ellipse(img, _pt(c), axes, angle, 0, 360, colour, -1, cv2.LINE_AA, _SHIFT)
            parts = [(depth["head_hair"], lambda: ell(uv["head_hair"], 0.112, 0.078, style.hair)),
                     (depth["head_face"], lambda: ell(uv["head_face"], 0.1, 0.07, style.skin))]
            for _, fn in sorted(parts, key=lambda p: -p[0]):
                fn()
            if facing > -0.1:
                for eye in ("left_eye", "right_eye"):
                    ev = pts3d[eye] - pts3d["head_centre"]
                    if np.dot(ev, cam_center - pts3d[eye]) > 0:
                        cv2.circle(img, _pt(uv[eye]), max(int(round(0.013 * f_px * _ONE)), _ONE),
                                   (245, 245, 245), -1, cv2.LINE_AA, _SHIFT)
                        cv2.circle(img, _pt(uv[eye]), max(int(round(0.0065 * f_px * _ONE)), _ONE // 2),
                                   (30, 30, 40), -1, cv2.LINE_AA, _SHIFT)
                cv2.circle(img, _pt(uv["nose"]), max(int(round(0.01 * f_px * _ONE)), _ONE // 2),
                           _shade(style.skin, 0.8), -1, cv2.LINE_AA, _SHIFT)
                cv2.line(img, _pt(uv["mouth_left"]), _pt(uv["mouth_right"]), (150, 50, 50),
                         max(int(round(0.008 * f_px)), 1), cv2.LINE_AA, _SHIFT)
        items.append((z, 200, head))
    for _, _, fn in sorted(items, key=lambda it: (-it[0], it[1])):
        fn()


# -- background ---------------------------------------------------------------------------------------------
def background_image(camera, *, clutter: bool = True, seed: int = 0, wall_distance_m: float = 2.5
                     ) -> np.ndarray:
    """A lab scene seen by ``camera``: tiled floor (z = 0) and a back wall, ray-cast per pixel (RGB uint8).

    The wall is vertical, faces the camera and stands ``wall_distance_m`` beyond the lab origin along the
    camera's horizontal viewing direction. ``clutter`` adds posters, a door and boxes at seeded positions.
    """
    rng = np.random.default_rng(seed)
    H, W = camera.height, camera.width
    # Ray directions vary smoothly over the image: cast them on a 4-px grid and interpolate (cv2.remap).
    import cv2
    step = 4
    gu, gv = np.arange(0, W + step, step, dtype=float), np.arange(0, H + step, step, dtype=float)
    u, v = np.meshgrid(gu, gv)
    coarse = camera.rays(np.stack([u, v], axis=-1)).astype(np.float32)
    mx, my = np.meshgrid(np.arange(W, dtype=np.float32) / step, np.arange(H, dtype=np.float32) / step)
    d = cv2.remap(coarse, mx, my, cv2.INTER_LINEAR).astype(float)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    c = camera.center
    fwd = camera.optical_axis.copy()
    fwd[2] = 0.0
    if np.linalg.norm(fwd) < 1e-6:
        fwd = np.array([1.0, 0.0, 0.0])
    fwd /= np.linalg.norm(fwd)
    side = np.cross([0.0, 0.0, 1.0], fwd)
    wall_p = wall_distance_m * fwd
    with np.errstate(invalid="ignore", divide="ignore"):
        s_floor = np.where(d[..., 2] < -1e-9, -c[2] / d[..., 2], np.inf)
        dn = d @ fwd
        s_wall = np.where(dn > 1e-9, ((wall_p - c) @ fwd) / dn, np.inf)
    floor_hit = s_floor < s_wall
    img = np.empty((H, W, 3), dtype=float)
    # Floor: 0.5 m tiles in two tones, darker with distance.
    pf = c + np.where(np.isfinite(s_floor), s_floor, 0.0)[..., None] * d
    tiles = (np.floor(pf[..., 0] / 0.5) + np.floor(pf[..., 1] / 0.5)) % 2
    floor_col = np.where(tiles[..., None] > 0, np.array([150, 140, 125.0]), np.array([170, 160, 145.0]))
    # Wall: plain with a skirting board; coordinates (a along the wall, h height).
    pw = c + np.where(np.isfinite(s_wall), s_wall, 0.0)[..., None] * d
    a, h = pw @ side, pw[..., 2]
    wall_col = np.broadcast_to(np.array([205, 210, 200.0]), (H, W, 3)).copy()
    wall_col[h < 0.12] = (120, 110, 100)
    if clutter:
        for k in range(5):
            a0, h0 = rng.uniform(-3.5, 3.5), rng.uniform(0.8, 1.9)
            w0, h1 = rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.7)
            col = rng.uniform(40, 230, 3)
            m = (np.abs(a - a0) < w0 / 2) & (np.abs(h - h0) < h1 / 2)
            wall_col[m] = col
        a0 = rng.choice([-1, 1]) * rng.uniform(1.5, 3.0)
        m = (np.abs(a - a0) < 0.45) & (h < 2.05) & (h > 0.0)
        wall_col[m] = (140, 100, 70)
        for k in range(3):   # boxes on the floor (flat footprints)
            x0, y0 = rng.uniform(-1, 2), rng.choice([-1, 1]) * rng.uniform(1.0, 2.5)
            col = rng.uniform(60, 200, 3)
            m = floor_hit & (np.abs(pf[..., 0] - x0) < 0.3) & (np.abs(pf[..., 1] - y0) < 0.3)
            floor_col[m] = col
    img[:] = np.where(floor_hit[..., None], floor_col, wall_col)
    dist = np.where(floor_hit, s_floor, s_wall)
    dist = np.where(np.isfinite(dist), dist, 20.0)
    img *= np.clip(1.15 - 0.04 * dist, 0.6, 1.1)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)
