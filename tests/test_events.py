"""Foot lift / touch-down from plates and markers, stance-foot movement, and time-to-failure rules."""
import numpy as np
import pytest
from conftest import shared_path

from ground_truth.kernel import Event, InputError
from ground_truth.events import (marker_events, plate_events, plate_events_from_recording, time_to_failure)
from ground_truth.synthetic import simulate_single_leg_stance


@pytest.fixture(scope="module")
def failing():
    return simulate_single_leg_stance(stance_leg="left", fail_at_s=3.0, seed=7)


def _feet(tr):
    free = "R" if tr.stance_leg == "left" else "L"
    st = tr.stance_leg[0].upper()
    return (np.stack([tr.markers[free + "HEE"], tr.markers[free + "TOE"]], axis=1),
            np.stack([tr.markers[st + "HEE"], tr.markers[st + "TOE"]], axis=1))


def test_plate_events_match_truth(failing):
    t = {e.name: e.time for e in failing.truth["events"]}
    sti = failing.truth["stance_plate"]
    ev = plate_events(failing.analog_time_s, failing.plates[sti]["force"][:, 2],
                      failing.plates[1 - sti]["force"][:, 2], lifted_side="Right")
    got = {e.name: e.time for e in ev}
    # the free foot unloads over its last 0.1 s: the 20 N crossing leads the true lift by ~35 ms; landing
    # loads the plate within a few ms
    assert -0.06 < got["foot_lift"] - t["foot_lift"] <= 0.0
    assert 0.0 <= got["touch_down"] - t["touch_down"] < 0.01
    ttf = time_to_failure(ev, max_duration_s=30)
    assert not ttf.censored and ttf.reason == "touch_down"
    assert ttf.value_s == pytest.approx(3.0, abs=0.06)


def test_marker_events_match_truth(failing):
    t = {e.name: e.time for e in failing.truth["events"]}
    lifted, stance = _feet(failing)
    got = {e.name: e.time for e in marker_events(failing.time_s, lifted, stance)}
    # a 3 mm height threshold on the toe over the synthetic 0.4-s lift (the toe rises slowly at first): measured
    # 80 ms late at lift and 80 ms early at landing; a bias of the threshold rule, reported, not tuned away
    assert 0.0 <= got["foot_lift"] - t["foot_lift"] < 0.12
    assert -0.12 < got["touch_down"] - t["touch_down"] <= 0.0
    assert "stance_foot_moved" not in got


def test_stance_foot_hop_and_move_stop_the_clock(failing):
    lifted, stance = _feet(failing)
    moved = stance.copy()
    i = np.searchsorted(failing.time_s, 5.0)
    moved[i:, :, 0] += 0.05                       # the stance foot slides 5 cm forward at 5.0 s
    ev = marker_events(failing.time_s, lifted, moved)
    names = {e.name: e.time for e in ev}
    assert names["stance_foot_moved"] == pytest.approx(5.0, abs=0.011)
    ttf = time_to_failure(ev)
    assert ttf.reason == "stance_foot_moved" and not ttf.censored
    assert ttf.value_s == pytest.approx(5.0 - names["foot_lift"], abs=1e-9)
    # only the touch-down rule: the slide is ignored
    assert time_to_failure(ev, rules=("touch_down",)).reason == "touch_down"
    # a hop: the stance plate unloads for 0.2 s at 5.0 s
    sti = failing.truth["stance_plate"]
    fz = failing.plates[sti]["force"][:, 2].copy()
    ta = failing.analog_time_s
    fz[(ta >= 5.0) & (ta < 5.2)] = 0.0
    pev = plate_events(ta, fz, failing.plates[1 - sti]["force"][:, 2])
    assert {e.name for e in pev} >= {"stance_unloaded"}
    assert time_to_failure(pev).reason == "stance_foot_moved"


def test_censoring_rules():
    lift = Event("foot_lift", 2.0)
    # touch-down after the maximum: end of test, censored at the maximum
    r = time_to_failure([lift, Event("touch_down", 40.0)], max_duration_s=30.0)
    assert r.censored and r.reason == "max_duration" and r.value_s == 30.0
    # recording ends with the foot still up before the maximum: censored at the recording end
    r = time_to_failure([lift], max_duration_s=30.0, recording_end_s=12.0)
    assert r.censored and r.reason == "recording_ended" and r.value_s == 10.0
    # failure before the maximum
    r = time_to_failure([lift, Event("touch_down", 9.5)], max_duration_s=30.0)
    assert not r.censored and r.value_s == 7.5
    with pytest.raises(InputError, match="foot_lift"):
        time_to_failure([Event("touch_down", 1.0)])


def test_synthetic_censored_trial_plates():
    tr = simulate_single_leg_stance(duration_s=4.0, max_duration_s=4.0, seed=8, sync=None)
    sti = tr.truth["stance_plate"]
    ev = plate_events(tr.analog_time_s, tr.plates[sti]["force"][:, 2], tr.plates[1 - sti]["force"][:, 2])
    r = time_to_failure(ev, max_duration_s=4.0, recording_end_s=tr.analog_time_s[-1])
    assert r.censored and r.reason == "max_duration" and r.value_s == 4.0


def test_real_bipedal_recording_has_no_foot_events():
    # PDS (dos Santos et al. 2017): quiet standing with one foot on each plate; no foot ever leaves its plate
    from ground_truth.readers import read_recording
    rec = read_recording(shared_path("cop_pds", "PDS13OF1grf.txt"))
    ev = plate_events_from_recording(rec)
    assert ev == []
    with pytest.raises(InputError, match="foot_lift"):
        time_to_failure(ev)


def test_bad_input():
    with pytest.raises(InputError):
        plate_events(np.arange(10), np.zeros(10), np.zeros(9))
    with pytest.raises(InputError):
        marker_events(np.arange(10) / 100, np.zeros((10, 2)))


def test_hop_before_the_test_is_not_a_foot_lift(failing):
    # a two-footed jump at 1.0-1.2 s (both feet 5 cm up) before the real lift must not start the timing
    lifted, stance = _feet(failing)
    t = failing.time_s
    jump = (t >= 1.0) & (t < 1.2)
    lifted, stance = lifted.copy(), stance.copy()
    lifted[jump, :, 2] += 0.05
    stance[jump, :, 2] += 0.05
    got = {e.name: e.time for e in marker_events(t, lifted, stance)}
    true_lift = [e.time for e in failing.truth["events"] if e.name == "foot_lift"][0]
    assert 0.0 <= got["foot_lift"] - true_lift < 0.12


# -- robustness of the marker/keypoint rule: what keypoint tracks do to a foot's height -------------------------
def _true(failing, name):
    return next(e.time for e in failing.truth["events"] if e.name == name)


def _at_30fps(failing, *arrays):
    """Every 3.33rd marker sample: a 30-fps keypoint clock."""
    t = failing.time_s
    idx = np.unique(np.round(np.arange(0, t[-1], 1 / 30) / (t[1] - t[0])).astype(int))
    return (t[idx],) + tuple(a[idx].copy() for a in arrays)


def test_a_rise_before_the_lift_does_not_start_the_timing(failing):
    # keypoints that drift 3-4 cm up while the foot is still down (measured on the demo's videos: 0.5 s of
    # +2.5 to +4.6 cm before the lift in one trial, for all three candidates)
    # the synthetic foot is held 7 cm up: a 2.5 cm bump (above the 2-cm lift threshold) plays that part
    lifted, stance = _feet(failing)
    t = failing.time_s
    lift = _true(failing, "foot_lift")
    bump = (t >= lift - 0.6) & (t < lift - 0.1)
    lifted = lifted.copy()
    lifted[bump, :, 2] += 0.025
    got = {e.name: e.time for e in marker_events(t, lifted, stance)}
    assert 0.0 <= got["foot_lift"] - lift < 0.12


def test_single_frame_outliers_neither_start_nor_stop_the_timing(failing):
    t, lifted, stance = _at_30fps(failing, *_feet(failing))
    lift, down = _true(failing, "foot_lift"), _true(failing, "touch_down")
    lifted[0, :, 2] += 0.08                                   # first frame 8 cm off (a detection frame)
    i = np.searchsorted(t, 0.5 * (lift + down))
    lifted[i, :, 2] = lifted[0, :, 2] - 0.08                  # one frame on the floor mid-stance
    got = {e.name: e.time for e in marker_events(t, lifted, stance)}
    assert 0.0 <= got["foot_lift"] - lift < 0.12
    assert -0.12 < got["touch_down"] - down <= 0.04


def test_lowering_the_foot_is_not_a_touch_down_but_a_brief_tap_is(failing):
    lifted, stance = _feet(failing)
    t = failing.time_s
    lift, down = _true(failing, "foot_lift"), _true(failing, "touch_down")
    h0 = np.median(lifted[t < 0.5, :, 2].min(axis=1))
    mid = lift + 1.0
    # the foot comes down to 4 cm above the floor for 0.4 s and goes up again: still a single-leg stance
    low = lifted.copy()
    w = (t >= mid) & (t < mid + 0.4)
    low[w, :, 2] = np.minimum(low[w, :, 2], h0 + 0.04 + (low[w, :, 2] - low[w, :, 2].min(axis=1, keepdims=True)))
    got = {e.name: e.time for e in marker_events(t, low, stance)}
    assert abs(got["touch_down"] - down) < 0.12
    # the foot taps the floor for 0.15 s: that is a touch-down (Springer et al. 2007's rule)
    tap = lifted.copy()
    w = (t >= mid) & (t < mid + 0.15)
    tap[w, :, 2] = h0 + (tap[w, :, 2] - tap[w, :, 2].min(axis=1, keepdims=True))
    got = {e.name: e.time for e in marker_events(t, tap, stance)}
    assert abs(got["touch_down"] - mid) < 0.05
    ttf = time_to_failure([Event(k, v) for k, v in got.items()])
    assert ttf.reason == "touch_down" and ttf.value_s == pytest.approx(got["touch_down"] - got["foot_lift"])


def test_a_gap_in_the_foot_track_is_not_a_touch_down(failing):
    t, lifted, stance = _at_30fps(failing, *_feet(failing))
    lift, down = _true(failing, "foot_lift"), _true(failing, "touch_down")
    lifted[(t > lift + 0.5) & (t < lift + 1.1)] = np.nan      # 0.6 s without the foot (frames with no person)
    got = {e.name: e.time for e in marker_events(t, lifted, stance)}
    assert abs(got["touch_down"] - down) < 0.12


def test_keypoint_like_jitter(failing):
    # 30 fps with 1.5 cm of white jitter on every foot point (the demo's keypoint foot heights jitter by
    # 0.2-1.1 cm SD while standing). Without jitter the 30-fps rule reads 2.87 s for the true 3.0 s (the
    # 3-mm onset on the slow synthetic rise, as at 100 Hz); measured with jitter over 40 draws: |error| at
    # most 0.30 s, each event within 0.17 s. Before the hysteresis rule, one draw in two stopped the clock
    # on a jitter dip right after the lift (errors near -2.9 s).
    t, lifted, stance = _at_30fps(failing, *_feet(failing))
    lift, down = _true(failing, "foot_lift"), _true(failing, "touch_down")
    rng = np.random.default_rng(3)
    errors = []
    for _ in range(20):
        ev = marker_events(t, lifted + rng.normal(0, 0.015, lifted.shape), stance)
        got = {e.name: e.time for e in ev}
        assert abs(got["foot_lift"] - lift) < 0.2 and abs(got["touch_down"] - down) < 0.2, got
        errors.append(time_to_failure(ev).value_s - failing.truth["time_to_failure_s"])
    assert np.max(np.abs(errors)) < 0.35, errors
