"""Joint angles from joint positions: sign conventions (constructed geometry), 2-D = projection of 3-D,
and recovery of the synthetic truth from markers."""
import numpy as np
import pytest
from conftest import shared_path

from ground_truth.angles import angles_from_markers, joint_angles, knee_frontal_angle
from ground_truth.kernel import InputError
from ground_truth.synthetic import simulate_single_leg_stance


def _leg(knee_dy=0.0, knee_dx=0.0, trunk_dx=0.0, n=3):
    """Right leg under a level pelvis (lab z up, subject faces +x, left = +y)."""
    j = {"right_hip": (0, -0.1, 0.9), "left_hip": (0, 0.1, 0.9), "right_knee": (knee_dx, -0.1 + knee_dy, 0.5),
         "right_ankle": (0, -0.1, 0.1), "left_knee": (0, 0.1, 0.5), "left_ankle": (0, 0.1, 0.1),
         "left_shoulder": (trunk_dx, 0.18, 1.4), "right_shoulder": (trunk_dx, -0.18, 1.4)}
    return {k: np.tile(np.asarray(v, float), (n, 1)) for k, v in j.items()}


def test_valgus_positive_varus_negative():
    # knee 0.4*tan(5 deg) medial of the hip-ankle line (towards the left hip): shank and thigh each lean 5 deg,
    # so the frontal-plane projection angle is +10 deg (valgus); lateral displacement gives -10 deg (varus)
    d = 0.4 * np.tan(np.radians(5))
    assert joint_angles(_leg(knee_dy=+d), "right")["knee_frontal"][0] == pytest.approx(10.0, abs=1e-9)
    assert joint_angles(_leg(knee_dy=-d), "right")["knee_frontal"][0] == pytest.approx(-10.0, abs=1e-9)
    # mirror image for the left leg: medial is -y
    j = _leg()
    j["left_knee"] = j["left_knee"] + [0, -d, 0]
    assert joint_angles(j, "left")["knee_frontal"][0] == pytest.approx(10.0, abs=1e-9)


def test_sagittal_signs():
    # knee forward by 0.4*tan(10 deg): shank leans forward 10 deg (dorsiflexion +10), thigh leans back 10 deg,
    # knee flexion +20, hip flexion +10 with an upright trunk
    d = 0.4 * np.tan(np.radians(10))
    a = joint_angles(_leg(knee_dx=d), "right")
    assert a["ankle_sagittal"][0] == pytest.approx(10.0, abs=1e-9)
    assert a["knee_sagittal"][0] == pytest.approx(20.0, abs=1e-9)
    assert a["hip_sagittal"][0] == pytest.approx(10.0, abs=1e-9)
    # trunk leaning forward over straight legs: hip flexion = trunk inclination, atan(0.1 / 0.5)
    b = joint_angles(_leg(trunk_dx=0.1), "right")
    assert b["hip_sagittal"][0] == pytest.approx(np.degrees(np.arctan(0.1 / 0.5)), abs=1e-9)


def test_2d_views_equal_3d_projection():
    tr = simulate_single_leg_stance(duration_s=3.0, max_duration_s=3.0, seed=2, sync=None)
    a3 = joint_angles(tr.joints, "right")
    # orthographic cameras in pixel-like coordinates (y down): frontal camera in front of the subject (image x =
    # -lab y, so the subject's right appears on the image left), sagittal camera on the subject's right
    front = {k: np.column_stack([-v[:, 1], -v[:, 2]]) for k, v in tr.joints.items()}
    side = {k: np.column_stack([v[:, 0], -v[:, 2]]) for k, v in tr.joints.items()}
    af = joint_angles(front, "right", view="frontal")
    asg = joint_angles(side, "right", view="sagittal")
    for name in ("knee_frontal", "hip_frontal", "ankle_frontal"):
        assert np.max(np.abs(af[name] - a3[name])) < 0.2, name
    for name in ("knee_sagittal", "hip_sagittal", "ankle_sagittal"):
        assert np.max(np.abs(asg[name] - a3[name])) < 0.2, name
    assert set(af) == {"knee_frontal", "hip_frontal", "ankle_frontal"}
    # helper for a single knee, 2-D
    fppa = knee_frontal_angle(front["right_hip"], front["right_knee"], front["right_ankle"], front["left_hip"])
    np.testing.assert_allclose(fppa, af["knee_frontal"], atol=1e-9)


def test_markers_recover_synthetic_truth():
    tr = simulate_single_leg_stance(duration_s=4.0, max_duration_s=4.0, seed=3, strategy="hip",
                                    stance_leg="left")
    a = angles_from_markers(tr.markers, "left")
    for name, true in tr.truth["angles"].items():
        assert np.max(np.abs(a[name] - true)) < 1.0, name   # measured 0.2-0.5 deg (0.5 mm marker noise)


def test_nan_propagates_and_errors():
    j = _leg()
    j["right_knee"][1] = np.nan
    a = joint_angles(j, "right")
    assert np.isnan(a["knee_frontal"][1]) and np.isfinite(a["knee_frontal"][[0, 2]]).all()
    with pytest.raises(InputError, match="view"):
        joint_angles({k: v[:, :2] for k, v in _leg().items()}, "right")
    with pytest.raises(InputError, match="right_knee"):
        joint_angles({k: v for k, v in _leg().items() if k != "right_knee"}, "right")


def test_real_static_trial_knee_angles_agree_with_plug_in_gait():
    # Vicon Plug-in-Gait static calibration trial (standing). Plug-in-Gait's own knee angles are exported as
    # POINT channels (deg, read as if mm, hence x 1000): flexion and varus(+)/valgus(-) "adduction" (Cardan
    # angles of its own joint centres). Our projection angles (knee centres from lateral markers + half the
    # PROCESSING:KneeWidth 105 mm) agree within 3 deg; measured: flexion -1.1/-4.7 vs -3.4/-3.2,
    # frontal -4.6/-1.5 (varus) vs adduction +3.1/+1.2.
    from ground_truth.readers.c3d import read_c3d
    rec = read_c3d(shared_path("c3d", "PiG_PiG_Calibration2-NoOption.c3d"))
    for side, pre in (("left", "L"), ("right", "R")):
        a = angles_from_markers(rec.markers, side, knee_width_m=0.105, ankle_width_m=0.075)
        pig = np.nanmean(rec.markers[pre + "KneeAngles"], axis=0) * 1000
        assert abs(np.nanmean(a["knee_sagittal"]) - pig[0]) < 3.0
        assert abs(np.nanmean(a["knee_frontal"]) + pig[1]) < 3.0


def test_angle_excursion_filters_noise_before_the_range():
    """A 0.3 Hz knee sway of amplitude 2 deg has a range of 4 deg (by definition of the sine); 0.5 deg of white
    noise at 30 frames/s widens an unfiltered range by several noise SDs, and the 6 Hz low-pass keeps about
    sqrt(6/15) of the noise SD (measured here: 5.15 deg filtered, 6.64 deg unfiltered)."""
    from ground_truth.angles import angle_excursion

    rng = np.random.default_rng(3)
    t = np.arange(0, 10, 1 / 30) + rng.uniform(-0.004, 0.004, 300)     # phone-like irregular frame times
    clean = 2.0 * np.sin(2 * np.pi * 0.3 * t)
    noisy = clean + rng.normal(0, 0.5, t.size)
    value, how = angle_excursion(t, noisy)
    raw, _ = angle_excursion(t, noisy, lowpass_hz=None)
    assert abs(value - 4.0) < 1.5 and value - 4.0 < 0.8 * (raw - 4.0)
    assert "6 Hz" in how
    gappy = noisy.copy()
    gappy[50:60] = np.nan
    assert np.isfinite(angle_excursion(t, gappy)[0])
    assert np.isnan(angle_excursion(t[:1], noisy[:1])[0])
