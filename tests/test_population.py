"""The synthetic population (ground_truth.synthetic.population): its spread against the cited sources, the BDS
table against the real trials, reproducible seeds, and simulated trials whose true KPIs differ between subjects.

Expected numbers are typed here from the sources (Fryar et al. 2025 tables, Springer et al. 2007), not taken from
the module under test; the BDS table is recomputed from the files of ../shared/data/cop_bds when present.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from ground_truth import InputError
from ground_truth.strategy import strategy_indicator
from ground_truth.sway import sway_metrics
from ground_truth.synthetic import (CONDITIONS, SubjectParameters, draw_population, simulate_single_leg_stance,
                                    summarize_bds)
from ground_truth.synthetic.population import BDS_SWAY

Z95 = 1.6448536

# Fryar CD et al. Anthropometric reference data for children and adults: United States, August 2021-August 2023.
# Vital Health Stat 3. 2025;(50). Per sex, the age groups 20-29 ... 70-79 (the generator's ages 20-80 are uniform,
# so each group weighs 1/6): Table 7 height (cm) mean, 5th and 95th percentiles; Table 3 weight (kg) mean.
HEIGHT_T7 = {
    "male": [(176.3, 162.0, 188.1), (176.1, 163.6, 187.1), (176.4, 162.3, 189.9), (174.3, 163.0, 185.6),
             (174.7, 161.8, 186.6), (172.4, 159.5, 184.1)],
    "female": [(163.5, 153.2, 174.6), (162.5, 150.1, 172.9), (161.7, 149.8, 172.1), (161.2, 150.4, 172.4),
               (160.5, 149.6, 171.2), (158.3, 148.6, 168.2)],
}
WEIGHT_T3_MEANS = {"male": [86.8, 91.4, 95.3, 92.1, 89.2, 87.7], "female": [74.8, 80.9, 80.4, 81.6, 77.5, 73.8]}
# Springer BA et al. J Geriatr Phys Ther. 2007;30(1):8-15: eyes-closed unipedal stance, mean of the best of 3
# trials (s), by sex and age group.
SPRINGER_EC = {("female", 20, 40): 13.1, ("male", 20, 40): 16.9, ("female", 40, 50): 13.5, ("male", 40, 50): 12.0,
               ("female", 50, 60): 7.9, ("male", 50, 60): 8.6, ("female", 60, 70): 3.6, ("male", 60, 70): 5.1,
               ("female", 70, 80): 3.7, ("male", 70, 80): 2.6}


@pytest.fixture(scope="module")
def big():
    return draw_population(2000, seed=20240610, conditions=tuple(CONDITIONS), duration_s=30.0)


def test_seeds_reproducible_and_each_subject_independent_of_the_population_size():
    a = [p.to_dict() for p in draw_population(5, seed=3, conditions=("eyes_open_firm",), duration_s=10.0)]
    b = [p.to_dict() for p in draw_population(8, seed=3, conditions=("eyes_open_firm",), duration_s=10.0)]
    c = [p.to_dict() for p in draw_population(5, seed=4, conditions=("eyes_open_firm",), duration_s=10.0)]
    assert a == b[:5]
    assert a != c
    import json
    json.dumps(a)        # JSON-ready as it is recorded in the results


def test_height_and_mass_spread_match_nhanes(big):
    for sex in ("male", "female"):
        sub = [p for p in big if p.sex == sex]
        h = np.array([p.height_m for p in sub]) * 100
        m = np.array([p.mass_kg for p in sub])
        assert 900 < len(sub) < 1100          # 1/2 each (this generator's assumption)
        means = np.array([r[0] for r in HEIGHT_T7[sex]])
        # within-group SD from the published 5th-95th percentile span (normal), plus the spread of the groups
        sd_within = np.array([(r[2] - r[1]) / (2 * Z95) for r in HEIGHT_T7[sex]])
        sd_pop = math.sqrt(np.mean(sd_within ** 2) + np.var(means))
        se = sd_pop / math.sqrt(len(sub))
        assert abs(h.mean() - means.mean()) < 4 * se + 0.2, (sex, h.mean(), means.mean())
        assert abs(h.std() / sd_pop - 1) < 0.08, (sex, h.std(), sd_pop)
        # mass = BMI (Table 10) x height^2 must reproduce the measured weights of Table 3 (an independent table)
        assert abs(m.mean() - np.mean(WEIGHT_T3_MEANS[sex])) < 2.5, (sex, m.mean())


def test_eyes_closed_time_to_failure_follows_springer_and_is_censored_at_the_maximum(big):
    for (sex, lo, hi), mean in SPRINGER_EC.items():
        t = np.array([p.ec_time_to_failure_s for p in big if p.sex == sex and lo <= p.age_years < hi])
        # log-normal with log-SD 0.8 (the generator's assumption): the SD is ~0.95 x the mean
        tol = 4 * 0.95 / math.sqrt(t.size)
        assert abs(t.mean() / mean - 1) < tol, (sex, lo, t.mean(), mean, t.size)
    for p in big:
        assert p.fail_at_s["eyes_open_firm"] is None and p.fail_at_s["eyes_open_foam"] is None
        firm = p.time_to_failure_s["eyes_closed_firm"]
        assert firm == pytest.approx(max(0.8, p.ec_time_to_failure_s), abs=1e-3)
        assert (p.fail_at_s["eyes_closed_firm"] is None) == (firm >= 30.0)
        assert (p.fail_at_s["eyes_closed_foam"] is None) == (p.time_to_failure_s["eyes_closed_foam"] >= 30.0)
    censored = np.mean([p.fail_at_s["eyes_closed_firm"] is None for p in big])
    assert 0.02 < censored < 0.3        # the long tail of the young reaches the 30-s maximum


def test_sway_draw_reproduces_the_bds_table(big):
    # The table itself is checked against the real trials in the next test.
    young = [p for p in big if p.age_years < 60]
    older = [p for p in big if p.age_years >= 60]
    for c in CONDITIONS:
        lr = np.log([p.cop_amplitude_ratio[c] for p in young])
        assert abs(lr.mean()) < 4 * BDS_SWAY["pooled_log_sd_rms"][c] / math.sqrt(lr.size)
        assert lr.std() == pytest.approx(BDS_SWAY["pooled_log_sd_rms"][c], rel=0.08)
        lo = np.log([p.cop_amplitude_ratio[c] for p in older])
        g = BDS_SWAY["groups"]
        assert lo.mean() == pytest.approx(math.log(g["older"][c]["gm_rms_mm"] / g["young"][c]["gm_rms_mm"]),
                                          abs=4 * BDS_SWAY["pooled_log_sd_rms"][c] / math.sqrt(lo.size))
        lf = np.log([p.sway_frequency_scale[c] for p in young])
        assert lf.std() == pytest.approx(BDS_SWAY["pooled_log_sd_mean_freq"][c], rel=0.08)
    a = np.log([[p.cop_amplitude_ratio[c] for c in CONDITIONS] for p in young])
    r = np.corrcoef(a.T)[np.triu_indices(4, 1)]
    assert np.mean(r) == pytest.approx(BDS_SWAY["rho_rms"], abs=0.05)


def test_bds_table_is_what_the_real_trials_give():
    folder = shared_path("cop_bds", "BDSinfoCOP_trials001-200.tsv").parent
    assert summarize_bds(folder) == BDS_SWAY
    # the age split the generator uses (60 years) is the data set's own: AgeGroup "Old" iff age >= 60
    info = pd.read_csv(folder / "BDSinfoCOP_trials001-200.tsv", sep="\t")
    assert ((info["AgeGroup"] == "Old") == (info["Age"] >= 60)).all()


def test_simulated_population_has_between_subject_variation_in_true_kpis():
    pop = draw_population(10, seed=5, conditions=("eyes_open_firm",), duration_s=6.0)
    exc, frac, labels = [], [], []
    for i, p in enumerate(pop):
        tr = simulate_single_leg_stance(**p.simulation_kwargs("eyes_open_firm"), seed=100 + i,
                                        stance_leg="right" if i % 2 else "left")
        lift = next(e.time for e in tr.truth["events"] if e.name == "foot_lift")
        end = min(next((e.time for e in tr.truth["events"] if e.name == "touch_down"), tr.time_s[-1]), lift + 6.0)
        m = (tr.time_s >= lift) & (tr.time_s <= end)
        ang = tr.truth["angles"]
        # the KPI's definition (range of the stance knee's frontal-plane angle over the single-leg window)
        e = float(np.ptp(ang["knee_frontal"][m]))
        # the harness's reference label: frontal-plane hip and ankle angles over the same window
        s = strategy_indicator(hip_frontal=ang["hip_frontal"][m], ankle_frontal=ang["ankle_frontal"][m], fs=100.0)
        exc.append(e)
        frac.append(s.hip_fraction)
        labels.append(s.label)
        target = p.knee_valgus_excursion_deg["eyes_open_firm"]
        assert e == pytest.approx(tr.truth["knee_frontal_excursion_deg"], abs=1e-9)
        # reached unless the target is below the lift transient of the baseline valgus plus the sway jitter
        assert e == pytest.approx(target, abs=0.05) or e > target
        if p.hip_fraction["eyes_open_firm"] >= 0.3:    # the ankle mode alone gives ~0.25-0.3
            assert tr.truth["strategy_fraction"] == pytest.approx(p.hip_fraction["eyes_open_firm"], abs=0.02)
    exc, frac = np.array(exc), np.array(frac)
    # real between-subject variance: knee excursions several degrees apart, strategies across the labels
    assert exc.max() - exc.min() > 3.0, exc
    assert frac.std() > 0.08, frac
    assert len(set(labels)) >= 2, labels


def test_population_trial_failure_and_censoring():
    pop = draw_population(40, seed=11, conditions=("eyes_closed_firm",), duration_s=4.0)
    fails = next(p for p in pop if p.fail_at_s["eyes_closed_firm"] is not None)
    holds = next(p for p in pop if p.fail_at_s["eyes_closed_firm"] is None)
    tr = simulate_single_leg_stance(**fails.simulation_kwargs("eyes_closed_firm"), seed=1)
    assert not tr.truth["censored"] and tr.truth["censor_reason"] == "touch_down"
    assert tr.truth["time_to_failure_s"] == pytest.approx(fails.time_to_failure_s["eyes_closed_firm"])
    tr = simulate_single_leg_stance(**holds.simulation_kwargs("eyes_closed_firm"), seed=2)
    assert tr.truth["censored"] and tr.truth["censor_reason"] == "max_duration"
    assert tr.truth["time_to_failure_s"] == pytest.approx(4.0)


def _com_sway(tr, window_s=20.0):
    lift = tr.truth["single_leg_window_s"][0]
    m = (tr.time_s >= lift + 0.5) & (tr.time_s < lift + window_s)
    met = sway_metrics(tr.truth["com"][m, :2], 100.0, "bds2016").metrics
    return math.hypot(met["rms_ap_cm"], met["rms_ml_cm"]), met["mean_frequency_hz"]


def test_sway_scale_and_frequency_scale_act_on_the_com_as_documented():
    # analog at the marker rate: the COM truth needs no plate rate, and the test runs 10x faster
    kw = {"duration_s": 300.0, "max_duration_s": 20.0, "sync": None, "force_noise": False, "analog_rate_hz": 100}
    rms1, _ = _com_sway(simulate_single_leg_stance(**kw, seed=3))
    rms2, _ = _com_sway(simulate_single_leg_stance(**kw, seed=3, sway_scale=2.0))
    # every sway mode is multiplied (the COM is linear in the small sway angles)
    assert rms2 / rms1 == pytest.approx(2.0, rel=0.02)
    # the ankle mode's band is time-scaled, so the COM's mean frequency follows; one 20-s trial's mean frequency
    # is noisy (a few slow cycles: single-seed ratios 1.2-1.9 seen), so the geometric mean of eight seeds
    ratios = [_com_sway(simulate_single_leg_stance(**kw, seed=s, sway_frequency_scale=1.5))[1]
              / _com_sway(simulate_single_leg_stance(**kw, seed=s))[1] for s in range(1, 9)]
    assert math.exp(np.mean(np.log(ratios))) == pytest.approx(1.5, rel=0.15), ratios


def test_neutral_subject_parameters_leave_the_trial_bit_identical():
    kw = {"duration_s": 5.0, "max_duration_s": 30.0, "seed": 9, "condition": "eyes_closed_firm"}
    a = simulate_single_leg_stance(**kw)
    b = simulate_single_leg_stance(**kw, sway_scale=1.0, sway_frequency_scale=1.0, hip_fraction=0.25,
                                   knee_valgus_deg=3.0)
    np.testing.assert_array_equal(a.truth["cop"], b.truth["cop"])
    np.testing.assert_array_equal(a.truth["angles"]["knee_frontal"], b.truth["angles"]["knee_frontal"])
    assert b.truth["strategy"] == "ankle" and b.params["hip_fraction"] == 0.25


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError):
        draw_population(0, seed=1)
    with pytest.raises(InputError):
        draw_population(3, seed=1, conditions=("eyes_open_sand",))
    with pytest.raises(InputError):
        draw_population(3, seed=1, duration_s=0.1)
    with pytest.raises(InputError):
        simulate_single_leg_stance(duration_s=3.0, hip_fraction=0.9)
    with pytest.raises(InputError):
        simulate_single_leg_stance(duration_s=3.0, knee_valgus_excursion_deg=-1.0)
    p = draw_population(1, seed=1, conditions=("eyes_open_firm",))[0]
    assert isinstance(p, SubjectParameters)
    with pytest.raises(InputError):
        p.simulation_kwargs("eyes_closed_firm")
