"""Y-Balance: the reach geometry, the synthetic reach with known truth, and the study end to end (markers and
keypoints on the floor plane, the composite score, frontal-plane KPIs refused for an oblique camera)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ground_truth.kernel import InputError
from ground_truth.reach import reach_direction, reach_distance
from ground_truth.synthetic import simulate_single_leg_stance


def test_reach_lines_of_the_y():
    # Plisky et al. 2009: anterior along the stance foot; the posterior lines 135° from it, towards the stance
    # leg's medial (posteromedial) and lateral (posterolateral) side. Feet pointing +x, z up: left is +y.
    s = np.sqrt(0.5)
    np.testing.assert_allclose(reach_direction("anterior", "right", [2, 0]), [1, 0])
    np.testing.assert_allclose(reach_direction("posteromedial", "right", [1, 0]), [-s, s])   # medial of right = +y
    np.testing.assert_allclose(reach_direction("posterolateral", "right", [1, 0]), [-s, -s])
    np.testing.assert_allclose(reach_direction("posteromedial", "left", [1, 0]), [-s, -s])   # medial of left = -y
    np.testing.assert_allclose(reach_direction("anterior", "left", [0, 3]), [0, 1])
    with pytest.raises(InputError):
        reach_direction("sideways", "left", [1, 0])
    with pytest.raises(InputError):
        reach_direction("anterior", "left", [0, 0])


def test_reach_distance_is_the_most_distal_point_along_the_line():
    t = np.arange(0, 3, 0.01)
    heel = np.tile([0.0, 0.0, 0.0], (t.size, 1))
    toe = np.tile([0.25, 0.0, 0.0], (t.size, 1))
    # the reach foot (heel, toe) slides along -x then returns; its heel is the distal point going backwards
    x = -0.6 * np.sin(np.pi * t / 3)
    pts = np.stack([np.column_stack([x, 0.3 + 0 * t, 0 * t]), np.column_stack([x + 0.25, 0.3 + 0 * t, 0 * t])], 1)
    r = reach_distance(t, heel, toe, pts, direction="posteromedial", stance_leg="right")
    u = np.array([-np.sqrt(0.5), np.sqrt(0.5)])
    expected = max((np.array([x, 0.3 + 0 * t]).T - [0.25, 0.0]) @ u)
    assert r.distance_m == pytest.approx(expected) and r.time_s == pytest.approx(1.5, abs=0.011)
    # a window without the reach foot, and an unknown stance foot, are errors with the reason
    gone = pts.copy()
    gone[t > 0.2] = np.nan
    with pytest.raises(InputError, match="no reach-foot sample"):
        reach_distance(t, heel, toe, gone, direction="anterior", stance_leg="right", window=(1.0, 2.0))
    with pytest.raises(InputError, match="stance heel or toe is unknown"):
        reach_distance(t, heel * np.nan, toe, pts, direction="anterior", stance_leg="right")


@pytest.mark.parametrize("direction", ["anterior", "posteromedial", "posterolateral"])
def test_synthetic_reach_has_known_truth(direction):
    tr = simulate_single_leg_stance(stance_leg="left", reach=(direction, 0.6), seed=2)
    r = tr.truth["reach"]
    assert r["direction"] == direction and 0.25 < r["distance_m"] < 0.8
    assert r["normalised_pct"] == pytest.approx(100 * r["distance_m"] / r["leg_length_m"])
    # inverse kinematics kept every segment its length (a target out of reach was brought in instead)
    j = tr.joints
    for a, b in (("right_hip", "right_knee"), ("right_knee", "right_ankle")):
        seg = np.linalg.norm(j[a] - j[b], axis=1)
        assert np.ptp(seg) < 1e-9
    assert r["ankle_target_fraction_used"] <= 0.6
    # the reach happens in the single-leg period and the foot comes back down
    ev = {e.name: e.time for e in tr.truth["events"]}
    assert ev["foot_lift"] < r["time_s"] < ev["touch_down"] and tr.truth["censor_reason"] == "reach_done"
    with pytest.raises(InputError, match="no loss of balance"):
        simulate_single_leg_stance(reach=(direction, 0.5), fail_at_s=2.0)
    with pytest.raises(InputError, match="reach"):
        simulate_single_leg_stance(reach=(direction, 5.0))


@pytest.fixture(scope="module")
def ybt_study(tmp_path_factory):
    from harness.manifest import load_manifest
    from harness.study import run_study
    from harness.synthetic_study import DemoConfig, generate_demo_study
    out = tmp_path_factory.mktemp("ybt")
    cfg = DemoConfig(protocol="y_balance", n_subjects=2, seed=5, candidates=("mediapipe-full",), controls=False)
    study = generate_demo_study(out, cfg, workers=2, progress=False)
    m = load_manifest(study.manifest_path, data_root=study.manifest_path.parent, check_candidates=False)
    res = run_study(m, out, workers=2, progress=False, device=False, kind="synthetic-demo",
                    extra=study.results_extra())
    truth = {t["trial_id"]: t for t in json.loads((out / "data" / "generated.json").read_text())["trials"]}
    return out, res, truth


@pytest.mark.slow
def test_reaches_on_both_sides_against_the_truth(ybt_study):
    out, res, truth = ybt_study
    reach_rows = [r for r in res["trials"] if r["condition"] != "composite"]
    assert len(reach_rows) == 6 and all(r["status"] == "ok" for r in reach_rows)
    for row in reach_rows:
        t = truth[row["trial_id"]]
        k = {x["kpi"]: x for x in row["kpis"]}
        own = k[f"ybt_{row['condition']}_reach"]
        # markers (heel/toe markers on the skin vs the joints' heel/toe): within 0.5 %LL of the truth
        assert own["reference"] == pytest.approx(t["true_reach_pct"], abs=0.5), (row["trial_id"], own)
        # keypoints on the floor plane from a high front-left camera: measured within 9.2 %LL (the reach foot
        # hovers a few cm above the floor and is projected past it)
        assert abs(own["candidate"] - t["true_reach_pct"]) < 12.0, (row["trial_id"], own)
        assert own["paired"] and "floor plane" in own["candidate_method"]
        # the other directions are not this trial's; the composite is a subject-level score
        others = [x for n, x in k.items() if n.startswith("ybt_") and n != own["kpi"]]
        assert all(x["reference"] is None and x["reference_status"] for x in others)
        # frontal-plane angles from an oblique camera are refused with the reason, never a biased number
        knee = k["knee_frontal_excursion"]
        assert knee["candidate"] is None and "off the frontal axis" in knee["candidate_status"]


@pytest.mark.slow
def test_composite_score_per_subject_and_leg(ybt_study):
    out, res, truth = ybt_study
    comp = [r for r in res["trials"] if r["condition"] == "composite"]
    assert len(comp) == 2
    for row in comp:
        assert len(row["derived_from"]) == 3 and row["kind"] == "paired"
        k = row["kpis"][0]
        mine = [truth[t] for t in row["derived_from"]]
        assert k["kpi"] == "ybt_composite" and k["paired"]
        # one trial per direction here: the composite is the mean of the three normalised reaches
        assert k["reference"] == pytest.approx(np.mean([t["true_reach_pct"] for t in mine]), abs=0.5)
        assert abs(k["candidate"] - k["reference"]) < 8.0
    agree = {(a["kpi"], a["condition"]): a for a in res["agreement"]}
    assert agree[("ybt_composite", "all")]["n"] == 2 and agree[("ybt_composite", "all")]["protocol"] == "y_balance"
    html = (out / "report.html").read_text()
    assert "ybt_composite" in html and "off the frontal axis" in html
