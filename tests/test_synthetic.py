"""Synthetic single-leg stance: reproducibility, internal consistency, and the real-C3D round trip."""
import numpy as np
import pytest

from ground_truth.anthropometry import whole_body_com
from ground_truth.kernel import InputError
from ground_truth.synthetic import Subject, check_roundtrip, simulate_single_leg_stance, write_c3d, write_trc

G = 9.81


@pytest.fixture(scope="module")
def censored_trial():
    return simulate_single_leg_stance(Subject("S1", 1.70, 65.0, sex="female"), duration_s=5.0, max_duration_s=5.0,
                                      seed=11)


@pytest.fixture(scope="module")
def failing_trial():
    return simulate_single_leg_stance(stance_leg="left", fail_at_s=3.0, strategy="hip",
                                      condition="eyes_closed_firm", seed=5)


def test_seeded_and_reproducible():
    a = simulate_single_leg_stance(duration_s=2.0, max_duration_s=2.0, seed=3, sync=None)
    b = simulate_single_leg_stance(duration_s=2.0, max_duration_s=2.0, seed=3, sync=None)
    c = simulate_single_leg_stance(duration_s=2.0, max_duration_s=2.0, seed=4, sync=None)
    np.testing.assert_array_equal(a.truth["cop"], b.truth["cop"])
    np.testing.assert_array_equal(a.markers["LKNE"], b.markers["LKNE"])
    assert not np.allclose(a.truth["cop"], c.truth["cop"])


def test_joint_names_and_frame(censored_trial):
    from candidates.skeletons import BLAZEPOSE33
    tr = censored_trial
    assert set(BLAZEPOSE33) | {"pelvis", "neck", "head_top"} == set(tr.joints)
    for v in tr.joints.values():
        assert v.shape == (tr.time_s.size, 3)
    # z up, standing: head top at stature (within the sway and knee flexion), feet near the floor
    assert tr.joints["head_top"][0, 2] == pytest.approx(1.70, abs=0.03)
    assert tr.joints["right_heel"][0, 2] < 0.05
    # subject faces +x: toes in front of heels; left is +y
    assert np.all(tr.joints["right_foot_index"][:, 0] > tr.joints["right_heel"][:, 0])
    assert tr.joints["left_hip"][0, 1] > tr.joints["right_hip"][0, 1]


def test_com_grf_cop_are_mutually_consistent(censored_trial):
    tr = censored_trial
    t = tr.truth
    # truth COM is the de Leva segmental COM of the joints
    np.testing.assert_allclose(whole_body_com(tr.joints, "female"), t["com"], atol=1e-12)
    # GRF = m (g + COM_z_ddot): mean vertical force over the trial equals body weight (COM starts and ends at rest)
    assert t["force"][:, 2].mean() == pytest.approx(65.0 * G, rel=2e-3)
    # horizontal GRF = m COM_h_ddot, checked by an independent spline derivative of the marker-rate COM
    from scipy.interpolate import make_interp_spline
    spl = make_interp_spline(tr.time_s, t["com"], k=5)
    ta = tr.analog_time_s
    inner = (ta > 0.2) & (ta < ta[-1] - 0.2)
    acc = spl.derivative(2)(ta[inner])
    np.testing.assert_allclose(t["force"][inner, :2] / 65.0, acc[:, :2], atol=0.02)
    # inverted pendulum: COP - COM ~ -(h/g) COM_ddot (angular-momentum term small for an ankle strategy)
    h = t["com_analog"][inner, 2]
    pend = t["com_analog"][inner, :2] - (h / (G + acc[:, 2]))[:, None] * acc[:, :2]
    lo, hi = t["single_leg_window_s"]
    single = (ta[inner] > lo + 0.5) & (ta[inner] < hi - 0.5)
    resid = np.abs(pend[single] - t["cop"][inner][single, :2])
    assert np.percentile(resid, 95) < 0.004


def test_sway_magnitudes_are_plausible(censored_trial):
    # single-leg, eyes open, firm: COP SD of a few mm per axis and COP speed of a few cm/s (see the docs)
    tr = censored_trial
    lo, hi = tr.truth["single_leg_window_s"]
    ta = tr.analog_time_s
    sel = (ta > lo + 0.5) & (ta < hi - 0.5)
    cop = tr.truth["cop"][sel, :2]
    sd = cop.std(axis=0) * 1000
    assert np.all((sd > 1.5) & (sd < 15)), sd
    c100 = cop[::10]
    speed = np.sum(np.linalg.norm(np.diff(c100, axis=0), axis=1)) / (c100.shape[0] / 100) * 100
    assert 1.0 < speed < 10.0, speed
    # the stance foot carries the whole weight between lift and touch-down, the other plate nothing
    st = tr.truth["stance_plate"]
    f = tr.truth["force_plates"]
    assert np.all(f[1 - st][sel, 2] == 0.0)


def test_events_and_censoring(censored_trial, failing_trial):
    t = censored_trial.truth
    names = [e.name for e in t["events"]]
    assert names == ["sync", "foot_lift", "touch_down"]
    assert t["censored"] and t["censor_reason"] == "max_duration" and t["time_to_failure_s"] == 5.0
    f = failing_trial.truth
    assert not f["censored"] and f["time_to_failure_s"] == 3.0
    ev = {e.name: e for e in f["events"]}
    assert ev["touch_down"].time - ev["foot_lift"].time == pytest.approx(3.0)
    assert ev["foot_lift"].context == "Right"      # left stance: the right foot is lifted
    open_end = simulate_single_leg_stance(duration_s=2.0, max_duration_s=10.0, seed=1, sync=None)
    assert open_end.truth["censor_reason"] == "recording_ended"
    assert "touch_down" not in [e.name for e in open_end.truth["events"]]


def test_strategy_truth_labels():
    # the generator's strategy parameter and the indicator of its true angles agree (thresholds 0.4 / 0.6)
    from ground_truth.strategy import ANKLE_BELOW, HIP_ABOVE
    for strategy, seed in (("ankle", 1), ("mixed", 2), ("hip", 3)):
        tr = simulate_single_leg_stance(duration_s=8.0, max_duration_s=8.0, strategy=strategy, seed=seed,
                                        sync=None)
        frac = tr.truth["strategy_fraction"]
        assert tr.truth["strategy_label"] == strategy
        if strategy == "ankle":
            assert frac < ANKLE_BELOW
        elif strategy == "hip":
            assert frac > HIP_ABOVE
        else:
            assert ANKLE_BELOW < frac < HIP_ABOVE


def test_c3d_written_is_read_by_ezc3d_with_right_cop(tmp_path, censored_trial):
    """Sign conventions (CORNERS -> plate axes, ORIGIN -> sensor offset) checked against ezc3d itself."""
    import ezc3d
    tr = censored_trial
    path = write_c3d(tr, tmp_path / "trial.c3d")
    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    assert c["parameters"]["FORCE_PLATFORM"]["TYPE"]["value"].tolist() == [2, 2]
    assert c["parameters"]["POINT"]["UNITS"]["value"] == ["mm"]
    for i, pf in enumerate(c["data"]["platform"]):
        force = pf["force"].T
        # ezc3d's lab-frame force equals the ground reaction on the subject (Fz up)
        np.testing.assert_allclose(force, tr.plates[i]["force"], atol=1e-3)
        loaded = tr.truth["force_plates"][i][:, 2] >= 200
        cop = pf["center_of_pressure"].T[loaded, :2] / 1000
        assert np.max(np.abs(cop - tr.truth["cop_plates"][i][loaded, :2])) < 0.002


def test_roundtrip_through_project_reader(tmp_path, censored_trial, failing_trial):
    for tr in (censored_trial, failing_trial):
        path = write_c3d(tr, tmp_path / f"{tr.stance_leg}.c3d")
        res = check_roundtrip(tr, path)
        for key in ("cop_mm", "com_mm", "event_group_ms", "plate_events_ms", "time_to_failure_ms", "angles_deg"):
            assert res[key]["pass"], (key, res[key])
        assert res["all_pass"]


def test_roundtrip_detects_a_wrong_file(tmp_path, censored_trial, failing_trial):
    # the check must fail when the file does not belong to the trial
    path = write_c3d(failing_trial, tmp_path / "other.c3d")
    res = check_roundtrip(censored_trial, path)
    assert not res["all_pass"]


def test_trc_written(tmp_path, censored_trial):
    from ground_truth.readers.opensim import read_trc
    path = write_trc(censored_trial, tmp_path / "m.trc")
    rec = read_trc(path)
    np.testing.assert_allclose(rec.markers["LKNE"], censored_trial.markers["LKNE"], atol=2e-5)


def test_bad_arguments():
    with pytest.raises(InputError, match="strategy"):
        simulate_single_leg_stance(strategy="knee")
    with pytest.raises(InputError, match="analog"):
        simulate_single_leg_stance(marker_rate_hz=120, analog_rate_hz=1000)
    with pytest.raises(InputError, match="height_m"):
        Subject(height_m=3.0)


def test_marker_gaps_are_nan_and_roundtrip_survives(tmp_path):
    tr = simulate_single_leg_stance(duration_s=3.0, max_duration_s=3.0, seed=12, marker_gaps=5, sync=None)
    gaps = tr.markers.meta["gaps"]
    assert len(gaps) == 5
    g = gaps[0]
    i = int(np.searchsorted(tr.time_s, g["start_s"]))
    assert np.isnan(tr.markers[g["marker"]][i]).all()
    path = write_c3d(tr, tmp_path / "gaps.c3d")
    from ground_truth.readers.c3d import read_c3d
    rec = read_c3d(path)
    assert np.isnan(rec.markers[g["marker"]][i]).all()      # the gap survives the file as a gap
    res = check_roundtrip(tr, path)
    assert res["com_mm"]["pass"] and res["angles_deg"]["pass"]


def test_to_recording_matches_the_file(tmp_path, censored_trial):
    from ground_truth.com import com_from_plates
    from ground_truth.readers.c3d import read_c3d
    direct = censored_trial.to_recording()
    rec = read_c3d(write_c3d(censored_trial, tmp_path / "r.c3d"))
    a = com_from_plates(direct, method="caron", height_m=1.70)["com"]
    b = com_from_plates(rec, method="caron", height_m=1.70)["com"]
    np.testing.assert_allclose(a, b, atol=2e-4)


def test_write_c3d_bad_path(tmp_path, censored_trial):
    with pytest.raises(InputError, match="folder does not exist"):
        write_c3d(censored_trial, tmp_path / "missing" / "x.c3d")


def test_stance_pivot_failure(tmp_path):
    # the stance foot turns toe-out at fail_at_s: uncensored failure "stance_foot_moved", seen by the markers
    tr = simulate_single_leg_stance(fail_at_s=2.5, failure="stance_pivot", stance_leg="left", seed=1, sync=None)
    t = tr.truth
    assert t["censor_reason"] == "stance_foot_moved" and not t["censored"] and t["time_to_failure_s"] == 2.5
    ev = {e.name: e.time for e in t["events"]}
    assert ev["stance_foot_moved"] - ev["foot_lift"] == pytest.approx(2.5)
    assert ev["touch_down"] == pytest.approx(ev["stance_foot_moved"] + 1.0)
    # the toe turned out (to +y for a left foot) by 30 deg about the ankle
    v = tr.joints["left_foot_index"][-1, :2] - tr.joints["left_ankle"][-1, :2]
    assert np.degrees(np.arctan2(v[1], v[0])) == pytest.approx(30.0, abs=0.5)
    res = check_roundtrip(tr, write_c3d(tr, tmp_path / "pivot.c3d"))
    assert res["all_pass"], res
    assert res["time_to_failure_ms"]["detected"]["reason"] == "stance_foot_moved"
