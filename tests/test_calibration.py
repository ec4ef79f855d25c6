"""Camera calibration files: the real Qualisys calibration of the Pose2Sim balancing videos, and camera TOML."""
from __future__ import annotations

import numpy as np
import pytest

from candidates.calibration import read_camera_toml, read_cameras_toml, read_qca, write_camera_toml
from candidates.render.camera import PinholeCamera, rodrigues_from_rotation, rotation_from_rodrigues
from conftest import shared_path
from ground_truth.kernel import InputError, ReaderError

QCA = ("video", "pose2sim_balancing", "Calib.qca.txt")


def _pose2sim_extrinsics(M, pos_m):
    """Pose2Sim's own steps (calibration.py read_qca -> world_to_camera_persp -> rotate_cam(ang_x=pi)),
    re-derived here literally as the reference for our closed form R = diag(1,-1,-1) @ M."""
    R_read = M.T                        # "by-column to by-line"
    r = R_read.T                        # world_to_camera_persp
    t = -r @ pos_m
    a = np.pi
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    return rx @ r, rx @ t


def test_read_qca_real_file_values_and_convention():
    cams = read_qca(shared_path(*QCA), fps=60)
    assert list(cams) == ["cam01", "cam02", "cam03", "cam04"]
    c1 = cams["cam01"]
    # Values straight from the file's <intrinsic>/<fov_video> of cam01 (sub-pixel units / 64).
    assert c1.fx == pytest.approx(107599.671875 / 64)
    assert c1.fy == pytest.approx(107588.828125 / 64)
    assert c1.cx == pytest.approx(34110.316406 / 64)
    assert c1.cy == pytest.approx(60680.792969 / 64)
    assert (c1.width, c1.height) == (1088, 1920)
    assert c1.distortion[0] == pytest.approx(-0.046183 / 64)
    # The camera centre is the <transform> x, y, z in mm.
    assert np.allclose(c1.center, [1.4602323709212087, -1.9091590482454608, 1.8965058524092062])
    M = np.array([[0.5536380477336265, 0.8046719867383512, 0.2144479094331626],
                  [-0.4345300743838753, 0.05946489349975602, 0.8986921279821063],
                  [0.7104002579937896, -0.5907342212870501, 0.3825762057979294]])
    R_ref, t_ref = _pose2sim_extrinsics(M, c1.center)
    assert np.allclose(c1.rotation, R_ref, atol=1e-12)
    assert np.allclose(c1.translation, t_ref, atol=1e-12)


def test_real_cameras_look_at_the_capture_volume():
    cams = read_qca(shared_path(*QCA))
    for name, cam in cams.items():
        to_origin = -cam.center / np.linalg.norm(cam.center)
        angle = np.degrees(np.arccos(np.clip(cam.optical_axis @ to_origin, -1, 1)))
        assert angle < 25, (name, angle)
        uv = cam.project(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
        assert 0 < uv[0, 0] < cam.width and 0 < uv[0, 1] < cam.height, name
        assert uv[1, 1] < uv[0, 1], f"{name}: lab up must point up in the portrait image"


@pytest.mark.slow
def test_real_multiview_reprojection_is_consistent():
    """Triangulate MediaPipe landmarks of one real frame seen by the 4 calibrated cameras, reproject.

    With a wrong rotation/translation convention the reprojection errors are hundreds of pixels; measured
    with the Pose2Sim convention: median 14 px (0.7 % of the 1920-px image height) on frame 30, a hip height
    of 0.83-0.90 m (the subject stands on a beam)."""
    av = pytest.importorskip("av")
    mp = pytest.importorskip("mediapipe")
    cams = read_qca(shared_path(*QCA), fps=60)
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
    lms = {}
    for name in cams:
        with av.open(str(shared_path("video", "pose2sim_balancing", f"{name}.mp4"))) as c:
            for i, fr in enumerate(c.decode(video=0)):
                if i == 30:
                    img = fr.to_ndarray(format="rgb24")
                    break
        res = pose.process(img)
        assert res.pose_landmarks is not None, name
        h, w = img.shape[:2]
        lms[name] = np.array([[lm.x * w, lm.y * h] for lm in res.pose_landmarks.landmark])
    pose.close()
    errors, heights = [], {}
    for j in (11, 12, 23, 24, 25, 26, 27, 28):   # shoulders, hips, knees, ankles
        rows = []
        for name, cam in cams.items():
            x, y = cam.undistort_normalized(lms[name][j])
            P = np.hstack([cam.rotation, cam.translation[:, None]])
            rows += [x * P[2] - P[0], y * P[2] - P[1]]
        X = np.linalg.svd(np.array(rows))[2][-1]
        X = X[:3] / X[3]
        heights[j] = X[2]
        errors += [np.linalg.norm(cam.project(X) - lms[name][j]) for name, cam in cams.items()]
    assert np.median(errors) < 30
    assert 0.6 < heights[23] < 1.2 and 0.6 < heights[24] < 1.2
    assert heights[27] < heights[25] < heights[23]


def test_camera_toml_round_trip(tmp_path):
    cam = PinholeCamera.look_at([3.0, -1.0, 1.2], [0, 0, 0.9], fx=600, fy=590, width=640, height=480, fps=29.97,
                                distortion=[0.01, -0.002, 0.0005, 0.0, 0.0001], name="front")
    path = write_camera_toml(cam, tmp_path / "cam.toml")
    back = read_camera_toml(path)
    for key in ("fx", "fy", "cx", "cy", "width", "height", "fps"):
        assert getattr(back, key) == pytest.approx(getattr(cam, key))
    assert np.allclose(back.rotation, cam.rotation) and np.allclose(back.translation, cam.translation)
    assert np.allclose(back.distortion, cam.distortion)
    pts = np.random.default_rng(0).uniform([-0.5, -0.5, 0], [0.5, 0.5, 1.8], (20, 3))
    assert np.allclose(back.project(pts), cam.project(pts))


def test_camera_toml_look_at_form_and_pose2sim_form(tmp_path):
    p = tmp_path / "cam.toml"
    p.write_text('[camera]\nwidth = 640\nheight = 480\nfx = 500.0\nfy = 500.0\ncx = 319.5\ncy = 239.5\n'
                 'fps = 30.0\nposition = [4.0, 0.0, 1.0]\nlook_at = [0.0, 0.0, 1.0]\n')
    cam = read_camera_toml(p)
    # Looking along -x with z up: the target is at the principal point; the camera's right-hand side is
    # forward x up = (-x) x z = +y, so +y appears right of centre and +z above it.
    assert np.allclose(cam.project([0.0, 0.0, 1.0]), [319.5, 239.5])
    uv = cam.project([[0.0, 0.5, 1.0], [0.0, 0.0, 1.5]])
    assert uv[0, 0] > 319.5 and uv[1, 1] < 239.5
    # Pose2Sim calibration TOML (Rodrigues rotation, K matrix, distortions, size).
    rvec = rodrigues_from_rotation(cam.rotation)
    q = tmp_path / "p2s.toml"
    q.write_text(f'[cam_01]\nname = "cam_01"\nsize = [640.0, 480.0]\nmatrix = [[500.0, 0.0, 319.5], '
                 f'[0.0, 500.0, 239.5], [0.0, 0.0, 1.0]]\ndistortions = [0.0, 0.0, 0.0, 0.0]\n'
                 f'rotation = {list(rvec)}\ntranslation = {list(cam.translation)}\nfisheye = false\n\n'
                 f'[metadata]\nadjusted = false\nerror = 0.0\n')
    cams = read_cameras_toml(q)
    assert list(cams) == ["cam_01"]
    assert np.allclose(cams["cam_01"].rotation, cam.rotation, atol=1e-9)


def test_rodrigues_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(1)
    for rvec in list(rng.normal(size=(5, 3))) + [np.array([np.pi - 1e-9, 0, 0]), np.zeros(3)]:
        R_cv = cv2.Rodrigues(np.asarray(rvec, dtype=float))[0]
        assert np.allclose(rotation_from_rodrigues(rvec), R_cv, atol=1e-9)
        assert np.allclose(rotation_from_rodrigues(rodrigues_from_rotation(R_cv)), R_cv, atol=1e-6)


def test_bad_calibration_files(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[camera]\nwidth = 640\nheight = 480\nfx = 500.0\ncx = 320.0\n")
    with pytest.raises(InputError, match="cy"):
        read_camera_toml(p)
    p.write_text("[camera]\nwidth = 640\nheight = 480\nfx = 500.0\ncx = 320.0\ncy = 240.0\n")
    with pytest.raises(InputError, match="no extrinsics"):
        read_camera_toml(p)
    p.write_text("[camera]\nwidth = 640\nheight = 480\nfx = -5.0\ncx = 320.0\ncy = 240.0\n"
                 "rotation = [0.0, 0.0, 0.0]\ntranslation = [0.0, 0.0, 3.0]\n")
    with pytest.raises(InputError, match="focal length"):
        read_camera_toml(p)
    p.write_text("[camera]\nwidth = 640\nheight = 480\nfx = 5.0\ncx = 320.0\ncy = 240.0\n"
                 "rotation = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]\ntranslation = [0.0, 0.0, 3.0]\n")
    with pytest.raises(InputError, match="rotation"):
        read_camera_toml(p)
    p.write_text("this is = not [toml")
    with pytest.raises(ReaderError, match="TOML"):
        read_camera_toml(p)
    q = tmp_path / "bad.qca.txt"
    q.write_text("<calibration><cameras><camera serial='c1' model='none'><fov_video left='0' right='9' top='0' "
                 "bottom='9'/><transform x='0'/></camera></cameras></calibration>")
    with pytest.raises(ReaderError, match="intrinsic"):
        read_qca(q)
    q.write_text("not xml <")
    with pytest.raises(ReaderError, match="XML"):
        read_qca(q)
