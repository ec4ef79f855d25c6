"""COM from markers, from GRF double integration (Zatsiorsky & King 1998) and from the COP filter (Caron 1997)."""
import numpy as np
import pytest
from conftest import shared_path

from ground_truth.com import (com_from_cop_filter, com_from_grf_integration, com_from_markers, com_from_plates,
                              joint_centres_from_markers)
from ground_truth.kernel import InputError
from ground_truth.synthetic import simulate_single_leg_stance, write_c3d


@pytest.fixture(scope="module")
def trial_and_recording(tmp_path_factory):
    from ground_truth.readers.c3d import read_c3d
    tr = simulate_single_leg_stance(duration_s=8.0, max_duration_s=8.0, seed=21, strategy="mixed")
    path = write_c3d(tr, tmp_path_factory.mktemp("com") / "t.c3d")
    return tr, read_c3d(path)


def test_joint_centres_from_markers_recover_synthetic_joints(trial_and_recording):
    tr, rec = trial_and_recording
    j = joint_centres_from_markers(rec.markers)
    # Harrington hips, Rab shoulders, medial/lateral midpoints: the generator placed markers for these rules,
    # so only the 0.5 mm marker noise remains (x 1-2 through the regressions)
    for name in ("left_hip", "right_hip", "left_knee", "right_ankle", "left_shoulder", "right_wrist"):
        err = np.linalg.norm(j[name] - tr.joints[name], axis=1)
        assert err.max() < 0.004, name


def test_plate_methods_track_true_com(trial_and_recording):
    tr, rec = trial_and_recording
    lo, hi = tr.truth["single_leg_window_s"]
    ta = tr.analog_time_s
    sel = (ta > lo + 1) & (ta < hi - 1)
    true = tr.truth["com_analog"][sel, :2]
    for method, kw in (("zatsiorsky_king", {}), ("caron", {"height_m": 1.75})):
        ts = com_from_plates(rec, method=method, **kw)
        assert method.split("_")[0].lower() in ts.meta["method"].lower()
        est = ts["com"][sel]
        rmse = np.sqrt(np.nanmean((est - true) ** 2, axis=0))
        # measured on this trial: ZK ~0.3-0.7 mm, Caron ~0.15-0.2 mm RMSE for a COM SD of ~3 mm
        assert np.all(rmse < 0.0015), (method, rmse)
        assert ts.meta["mass_kg"] == pytest.approx(70.0, rel=0.01)


def test_marker_com_matches_truth(trial_and_recording):
    tr, rec = trial_and_recording
    ts = com_from_markers(rec.markers)
    assert "de Leva" in ts.meta["method"]
    err = np.linalg.norm(ts["com"] - tr.truth["com"], axis=1)
    assert err.max() < 0.002


def test_zatsiorsky_king_on_analytic_pendulum():
    # Point-mass inverted pendulum, h = 1 m: x(t) = A sin(wt) gives F = -m A w^2 sin(wt) and
    # COP = x - (h/g) x_ddot = A (1 + w^2 h / g) sin(wt). Zero force where sin = 0, where COP = COM.
    fs, m, A, w, h, g = 200.0, 70.0, 0.01, 2 * np.pi * 0.4, 1.0, 9.81
    t = np.arange(0, 20, 1 / fs)
    x = A * np.sin(w * t)
    f = -m * A * w ** 2 * np.sin(w * t)
    cop = A * (1 + w ** 2 * h / g) * np.sin(w * t)
    com = com_from_grf_integration(f, cop, fs, m, cutoff_hz=None)
    ok = np.isfinite(com)
    assert ok.mean() > 0.9
    assert np.max(np.abs(com[ok] - x[ok])) < 1e-5
    caron = com_from_cop_filter(cop, fs, h)
    inner = slice(int(2 * fs), int(-2 * fs))
    assert np.max(np.abs(caron[inner] - x[inner])) < 2e-4


def test_caron_gain_and_nan_runs():
    # the filter's gain at f is 1 / (1 + (2 pi f)^2 h / g): 0.2 at f with (2 pi f)^2 h / g = 4
    fs, h = 100.0, 0.9
    f0 = np.sqrt(4 * 9.81 / h) / (2 * np.pi)
    t = np.arange(0, 60, 1 / fs)
    cop = np.sin(2 * np.pi * f0 * t)
    out = com_from_cop_filter(cop, fs, h)
    amp = np.std(out[1000:-1000]) / np.std(cop[1000:-1000])
    assert amp == pytest.approx(0.2, rel=0.02)
    cop2 = cop.copy()
    cop2[3000:3050] = np.nan
    out2 = com_from_cop_filter(cop2, fs, h)
    assert np.isnan(out2[3000:3050]).all() and np.isfinite(out2[:3000]).all()


def test_real_plates_methods_agree():
    # BDS trial 1 (Santos & Duarte 2016) and a PDS dual-plate trial: the COM sways less than the COP and the two
    # plate methods agree (methods compared by Lafond et al. 2004, J Biomech 37:1421); measured r 0.91-0.996, RMS diff < 1 mm.
    from ground_truth.readers import read_recording
    for path in (shared_path("cop_bds", "BDS00001.txt"), shared_path("cop_pds", "PDS13OF1grf.txt")):
        rec = read_recording(path)
        a, b = rec.horizontal_axes
        cop = rec.plate("net")["cop"][:, [a, b]]
        zk = com_from_plates(rec, method="zatsiorsky_king")["com"]
        ca = com_from_plates(rec, method="caron", height_m=1.7)["com"]
        ok = np.all(np.isfinite(zk), axis=1) & np.all(np.isfinite(ca), axis=1)
        assert ok.mean() > 0.9
        assert np.all(np.nanstd(zk, axis=0) < np.nanstd(cop, axis=0))
        for k in range(2):
            assert np.corrcoef(zk[ok, k], ca[ok, k])[0, 1] > 0.85
        assert np.sqrt(np.mean((zk[ok] - ca[ok]) ** 2)) < 0.002


def test_real_markers_com_over_cop_in_static_standing():
    # Vicon Plug-in-Gait static trial on two plates: standing still, the horizontal COM lies over the mean COP
    # (measured 7 and 14 mm apart) and at 53-60 % of stature (measured 57.5 % of 1.735 m, PROCESSING:Height).
    from ground_truth.readers.c3d import read_c3d
    rec = read_c3d(shared_path("c3d", "PiG_PiG_Calibration2-NoOption.c3d"))
    com = com_from_markers(rec.markers)["com"]
    cop = rec.plate("net")["cop"]
    d = np.nanmean(com[:, :2], axis=0) - np.nanmean(cop[:, :2], axis=0)
    assert np.all(np.abs(d) < 0.03), d
    assert 0.53 * 1.735 < np.nanmean(com[:, 2]) < 0.60 * 1.735


def test_real_lower_body_only_file_is_a_clear_error():
    # others_FunctionalStatic.c3d keeps upper-body markers that are never valid: the full-body COM cannot be
    # computed, and the error names the segments instead of returning a number
    from ground_truth.readers.c3d import read_c3d
    rec = read_c3d(shared_path("c3d", "others_FunctionalStatic.c3d"))
    with pytest.raises(InputError, match="head, trunk"):
        com_from_markers(rec.markers)
    # its knee centres (lateral marker + half the 99 mm knee width in PROCESSING:LKneeWidth; the medial LKNEin
    # is empty) lie ~1 cm from Plug-in-Gait's own knee centre (LFEO), measured 10.4 mm
    j = joint_centres_from_markers(rec.markers, knee_width_m=0.099)
    assert np.nanmean(np.linalg.norm(j["left_knee"] - rec.markers["LFEO"], axis=1)) < 0.02


def test_bad_input():
    with pytest.raises(InputError):
        com_from_grf_integration(np.zeros(10), np.zeros(11), 100.0, 70.0)
    with pytest.raises(InputError):
        com_from_cop_filter(np.zeros(10), 100.0, -1.0)
