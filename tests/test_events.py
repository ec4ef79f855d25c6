"""Foot lift / touch-down from plates and markers, stance-foot movement, and time-to-failure rules."""
import numpy as np
import pytest
from conftest import shared_path

from ground_truth.errors import InputError
from ground_truth.events import (marker_events, plate_events, plate_events_from_recording, time_to_failure)
from ground_truth.synthetic import simulate_single_leg_stance
from ground_truth.timeseries import Event


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
