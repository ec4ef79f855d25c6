"""quijoux2021 against the feature values the authors' code lists for its worked example, and the
convention's building blocks (SWARII, sway density, MSD) against direct loops."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import shared_path

from ground_truth.readers import read_recording
from ground_truth.sway import sway_metrics
from ground_truth.sway import quijoux2021 as q
from harness.cli import main

# Every number below is copied from the output of cell 12 (``features``) of main.ipynb in
# github.com/Jythen/code_descriptors_postural_control (Quijoux et al. 2021, Physiol Rep 9:e15067), commit
# 1b505f030ea5f2246e4b5987314d4272f87e593a: their code run on test.csv (= ../shared/data/cop_quijoux/
# amti_standing_trial.csv), COP = 100 * (My/Fz, Mx/Fz) cm as (ML, AP), centred on the whole recording,
# window rows 4000:7000 (40-70 s), 100 Hz. The same output, to the last digit, is already in main.ipynb at
# commit 39fc1b0982647e73767aa321dc6cf98c0e1912a0 (the commit that added test.csv); the code of that commit
# is what produced it: its descriptors/dynamic.py has one function per feature in the output's key order
# (zeroCrossing, peak_velocity_pos/neg/all, mean_peak_swd, mean_distance_peak_swd, ...), and its rules for
# the positive/negative peak velocities and the sway-density peaks are the ones that reproduce those six
# values (the later single ``velocity_peaks`` / ``swd_peaks`` functions do not).
PUBLISHED = {
    'mean_value_ML': 0.00022477811286917337,
    'mean_value_AP': -0.001808882526784325,
    'maximum_value_ML': 1.0934116824820324,
    'maximum_value_AP': 1.0760854903981534,
    'maximum_value_Radius': 1.1715638528570644,
    'mean_distance_ML': 0.17958109553112522,
    'mean_distance_AP': 0.34804323313894586,
    'mean_distance_Radius': 0.4254325412234754,
    'RMS_ML': 0.26540984939429485,
    'RMS_AP': 0.4164844164729688,
    'RMS_Radius': 0.49386400690912025,
    'amplitude_ML': 1.6807988285326023,
    'amplitude_AP': 2.125676504433462,
    'amplitude_ML_AND_AP': 2.1272550639100785,
    'Quotient_both_direction_ML_AND_AP': 0.7907124273270222,
    'sway_length_ML': 10.71708562172667,
    'sway_length_AP': 15.570111593699238,
    'sway_length_ML_AND_AP': 20.80537378260378,
    'confidence_ellipse_area_ML_AND_AP': 2.08357482747723,
    'length_over_area_ML_AND_AP': 9.98542193360759,
    'Coefficient_sway_direction_ML_AND_AP': 0.005998238374447,
    'planar_deviation_ML_AND_AP': 0.4938606430351945,
    'fractal_dimension_cc_ML_AND_AP': 1.6145394692347101,
    'fractal_dimension_ce_ML_AND_AP': 1.6258909660648888,
    'fractal_dimension_pd_ML_AND_AP': 1.52579344755057,
    'mean_velocity_ML': 0.35819136436252236,
    'mean_velocity_AP': 0.5203914302706965,
    'mean_velocity_ML_AND_AP': 0.6953667708089498,
    'zero_crossing_SPD_ML': 96,
    'zero_crossing_SPD_AP': 119,
    'peak_velocity_pos_SPD_ML': 0.4450715316369367,
    'peak_velocity_pos_SPD_AP': 0.5480156038376609,
    'peak_velocity_neg_SPD_ML': 0.45958427913559174,
    'peak_velocity_neg_SPD_AP': 0.586722950346652,
    'peak_velocity_all_SPD_ML': 0.4428007026325763,
    'peak_velocity_all_SPD_AP': 0.5529084024610856,
    'mean_peak_Sway_Density': 1.815384615384615,
    'mean_distance_peak_Sway_Density': 0.4393011341182813,
    'principal_sway_direction_ML_AND_AP': 2.2916430478276535,
    'mean_frequency_ML': 0.3530697430306713,
    'mean_frequency_AP': 0.2646689220465917,
    'mean_frequency_ML_AND_AP': 0.26048598103306414,
    'phase_plane_parameters_ML': 0.5738584780323811,
    'phase_plane_parameters_AP': 0.8245444932747031,
    'sway_area_per_second_ML_AND_AP': 0.09587003176410192,
    'VFY_ML_AND_AP': -156.76402404707238,
    'power_frequency_50_Power_Spectrum_Density_ML': 0.1953125,
    'power_frequency_50_Power_Spectrum_Density_AP': 0.1953125,
    'power_frequency_95_Power_Spectrum_Density_ML': 0.390625,
    'power_frequency_95_Power_Spectrum_Density_AP': 0.5859375,
    'frequency_mode_Power_Spectrum_Density_ML': 0.09765625,
    'frequency_mode_Power_Spectrum_Density_AP': 0.09765625,
    'total_power_Power_Spectrum_Density_ML': 1.0264173140187547,
    'total_power_Power_Spectrum_Density_AP': 1.2643309041603314,
    'centroid_frequency_Power_Spectrum_Density_ML': 0.30950841394440154,
    'centroid_frequency_Power_Spectrum_Density_AP': 0.34824621539886136,
    'frequency_dispersion_Power_Spectrum_Density_ML': 0.6824543411012801,
    'frequency_dispersion_Power_Spectrum_Density_AP': 0.7531821337276859,
    'energy_content_0_05_Power_Spectrum_Density_ML': 0.9398768753790416,
    'energy_content_0_05_Power_Spectrum_Density_AP': 1.100402527902292,
    'energy_content_05_2_Power_Spectrum_Density_ML': 0.02423663067348915,
    'energy_content_05_2_Power_Spectrum_Density_AP': 0.08018084057730632,
    'energy_content_2_inf_Power_Spectrum_Density_ML': 0.0018196501074933947,
    'energy_content_2_inf_Power_Spectrum_Density_AP': 0.0020101513409273362,
    'frequency_quotient_Power_Spectrum_Density_ML': 0.0018225515620254242,
    'frequency_quotient_Power_Spectrum_Density_AP': 0.0015427413474362018,
    'short_time_diffusion_Diffusion_ML': 0.15090846958680665,
    'long_time_diffusion_Diffusion_ML': 0.17848366042769717,
    'critical_time_Diffusion_ML': 1.0948561247013364,
    'critical_displacement_Diffusion_ML': 0.1778955256994695,
    'short_time_scaling_Diffusion_ML': 0.9077332572699822,
    'long_time_scaling_Diffusion_ML': -0.018210699820200328,
    'short_time_diffusion_Diffusion_AP': 0.2969846298467046,
    'long_time_diffusion_Diffusion_AP': 0.8407079713632779,
    'critical_time_Diffusion_AP': 1.530749782015165,
    'critical_displacement_Diffusion_AP': 0.6432588727723383,
    'short_time_scaling_Diffusion_AP': 0.9076370373880291,
    'long_time_scaling_Diffusion_AP': -0.314377326228536,
}

# Their feature name -> ours (ours carry units; their ML/AP suffixes become _ml/_ap).
MAP = {
 'mean_value_ML':'mean_value_ml_cm','mean_value_AP':'mean_value_ap_cm',
 'maximum_value_ML':'max_distance_ml_cm','maximum_value_AP':'max_distance_ap_cm','maximum_value_Radius':'max_distance_radius_cm',
 'mean_distance_ML':'mean_distance_ml_cm','mean_distance_AP':'mean_distance_ap_cm','mean_distance_Radius':'mean_distance_radius_cm',
 'RMS_ML':'rms_ml_cm','RMS_AP':'rms_ap_cm','RMS_Radius':'rms_radius_cm',
 'amplitude_ML':'range_ml_cm','amplitude_AP':'range_ap_cm','amplitude_ML_AND_AP':'range_cm',
 'Quotient_both_direction_ML_AND_AP':'range_ratio_ml_ap',
 'sway_length_ML':'path_length_ml_cm','sway_length_AP':'path_length_ap_cm','sway_length_ML_AND_AP':'path_length_cm',
 'confidence_ellipse_area_ML_AND_AP':'area95_cm2','length_over_area_ML_AND_AP':'length_over_area_1_cm',
 'Coefficient_sway_direction_ML_AND_AP':'coefficient_sway_direction','planar_deviation_ML_AND_AP':'planar_deviation_cm',
 'fractal_dimension_cc_ML_AND_AP':'fractal_dimension_cc','fractal_dimension_ce_ML_AND_AP':'fractal_dimension_ce','fractal_dimension_pd_ML_AND_AP':'fractal_dimension_pd',
 'mean_velocity_ML':'mean_velocity_ml_cm_s','mean_velocity_AP':'mean_velocity_ap_cm_s','mean_velocity_ML_AND_AP':'mean_velocity_cm_s',
 'zero_crossing_SPD_ML':'zero_crossings_velocity_ml_count','zero_crossing_SPD_AP':'zero_crossings_velocity_ap_count',
 'peak_velocity_pos_SPD_ML':'peak_velocity_pos_ml_cm_s','peak_velocity_pos_SPD_AP':'peak_velocity_pos_ap_cm_s',
 'peak_velocity_neg_SPD_ML':'peak_velocity_neg_ml_cm_s','peak_velocity_neg_SPD_AP':'peak_velocity_neg_ap_cm_s',
 'peak_velocity_all_SPD_ML':'peak_velocity_all_ml_cm_s','peak_velocity_all_SPD_AP':'peak_velocity_all_ap_cm_s',
 'mean_peak_Sway_Density':'sway_density_mean_peak_s','mean_distance_peak_Sway_Density':'sway_density_mean_peak_distance_cm',
 'principal_sway_direction_ML_AND_AP':'principal_sway_direction_deg',
 'mean_frequency_ML':'mean_frequency_ml_hz','mean_frequency_AP':'mean_frequency_ap_hz','mean_frequency_ML_AND_AP':'mean_frequency_hz',
 'phase_plane_parameters_ML':'phase_plane_ml_cm','phase_plane_parameters_AP':'phase_plane_ap_cm',
 'sway_area_per_second_ML_AND_AP':'sway_area_per_s_cm2_s','VFY_ML_AND_AP':'vfy_cm_s2',
}
for ax in ('ML','AP'):
    a = ax.lower()
    for k, v in [('power_frequency_50',f'f50_{a}_hz'),('power_frequency_95',f'f95_{a}_hz'),('frequency_mode',f'frequency_mode_{a}_hz'),
                 ('total_power',f'total_power_{a}'),('centroid_frequency',f'centroid_frequency_{a}_hz'),('frequency_dispersion',f'frequency_dispersion_{a}'),
                 ('energy_content_0_05',f'energy_below_0_5hz_{a}'),('energy_content_05_2',f'energy_0_5_to_2hz_{a}'),('energy_content_2_inf',f'energy_above_2hz_{a}'),
                 ('frequency_quotient',f'frequency_quotient_{a}')]:
        MAP[f'{k}_Power_Spectrum_Density_{ax}'] = v
    for k, u in [('short_time_diffusion','_cm2_s'),('long_time_diffusion','_cm2_s'),('critical_time','_s'),('critical_displacement','_cm2'),('short_time_scaling',''),('long_time_scaling','')]:
        MAP[f'{k}_Diffusion_{ax}'] = f'{k}_{a}{u}'

@pytest.fixture(scope="module")
def authors_input():
    """The authors' input, built as their main.py does, through our reader and TimeSeries.window."""
    from ground_truth import TimeSeries

    rec = read_recording(shared_path("cop_quijoux", "amti_standing_trial.csv"))
    ts = rec.plate(0)
    fz, m = ts["force"][:, 2], ts["moment"]
    ml = np.full(fz.size, np.nan)
    ap = np.full(fz.size, np.nan)
    ok = fz != 0
    ml[ok] = 100 * m[ok, 1] / fz[ok]     # their X = My/Fz (the mirror of the plate's x = -My/Fz)
    ap[ok] = 100 * m[ok, 0] / fz[ok]     # their Y = Mx/Fz
    ml -= np.nanmean(ml)
    ap -= np.nanmean(ap)
    win = TimeSeries(ts.time, {"c": np.column_stack([ml, ap])}, {"c": "m"}).window(40, 70)
    assert win.n_samples == 3000 and win.time[0] == pytest.approx(40.0)
    return win["c"]


@pytest.fixture(scope="module")
def ours(authors_input):
    return sway_metrics(authors_input, 100.0, "quijoux2021", units_in="cm", axes=("ml", "ap"))


def test_mapping_covers_every_published_feature():
    assert set(MAP) == set(PUBLISHED) and len(set(MAP.values())) == len(MAP)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_feature_values(ours, name):
    assert ours.metrics[MAP[name]] == pytest.approx(PUBLISHED[name], rel=1e-3)


def test_peak_statistics_match_published_closely(ours):
    # The six values that depend on the peak-picking rule (commit 39fc1b09 of the reference code, see the
    # header) are reproduced far inside the 1e-3 acceptance: only summation order differs.
    for name in ("peak_velocity_pos_SPD_ML", "peak_velocity_pos_SPD_AP", "peak_velocity_neg_SPD_ML",
                 "peak_velocity_neg_SPD_AP", "mean_peak_Sway_Density", "mean_distance_peak_Sway_Density"):
        assert ours.metrics[MAP[name]] == pytest.approx(PUBLISHED[name], rel=1e-12), name


def test_result_describes_preprocessing(ours):
    assert ours.n_samples == 3000 and ours.fs_hz == 100.0 and ours.analysis_fs_hz == 25.0
    assert "Quijoux" in ours.citation and any("SWARII" in n for n in ours.notes)
    assert ours.units["area95_cm2"] == "cm^2" and ours.units["mean_velocity_cm_s"] == "cm/s"
    assert ours.units["short_time_diffusion_ml_cm2_s"] == "cm^2/s"


def test_cli_on_the_worked_example(capsys):
    # The reader's COP is the plate's (x = -My/Fz): the mirror image of the authors' ML. Mirror-invariant
    # features must agree with the published values; the signed ML mean flips sign.
    path = shared_path("cop_quijoux", "amti_standing_trial.csv")
    assert main(["sway", str(path), "--convention", "quijoux2021", "--window", "40:70", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["axes"] == ["ml", "ap"] and out["n_samples"] == 3000 and out["analysis_fs_hz"] == 25.0
    m = out["metrics"]
    for name in ("confidence_ellipse_area_ML_AND_AP", "mean_velocity_ML_AND_AP", "mean_frequency_ML_AND_AP",
                 "sway_length_ML_AND_AP", "RMS_ML", "RMS_AP", "critical_time_Diffusion_AP",
                 "power_frequency_95_Power_Spectrum_Density_AP", "VFY_ML_AND_AP", "principal_sway_direction_ML_AND_AP"):
        assert m[MAP[name]] == pytest.approx(PUBLISHED[name], rel=1e-3), name
    assert m["mean_value_ml_cm"] == pytest.approx(-PUBLISHED["mean_value_ML"], rel=1e-3)
    # mirroring ML negates its velocity, so its positive and negative peak velocities trade places
    assert m["peak_velocity_neg_ml_cm_s"] == pytest.approx(PUBLISHED["peak_velocity_pos_SPD_ML"], rel=1e-3)
    assert m["peak_velocity_pos_ml_cm_s"] == pytest.approx(PUBLISHED["peak_velocity_neg_SPD_ML"], rel=1e-3)


# -- building blocks against direct loops ------------------------------------------------------------
def _swarii_loop(time, sig, fs_out, window):
    """Direct transcription of the SWARII definition (weighted average in a sliding window)."""
    h = window / 2
    out_t, out_s = [], []
    c = max(0.0, time[0])
    while c < time[-1]:
        rel = [j for j in range(len(time)) if abs(time[j] - c) < h]
        if rel:
            if len(rel) == 1:
                out_s.append(sig[rel[0]])
            else:
                num, den = 0.0, 0.0
                for i, j in enumerate(rel):
                    left = max(time[0], c - h) if (i == 0 or j == 0) else 0.5 * (time[j] + time[j - 1])
                    right = min(time[-1], c + h) if i == len(rel) - 1 else 0.5 * (time[j + 1] + time[j])
                    num = num + sig[j] * (right - left)
                    den += right - left
                out_s.append(num / den)
            out_t.append(c)
        c += 1.0 / fs_out
    return np.array(out_t), np.array(out_s)


def test_swarii_matches_direct_loop_on_irregular_samples():
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.004, 0.016, size=400))
    x = np.column_stack([np.sin(t), np.cos(3 * t)]) + rng.normal(0, 0.01, (400, 2))
    t_ref, s_ref = _swarii_loop(t, x, 25.0, q.SWARII_WINDOW_S)
    t_out, s_out, n_empty = q.swarii(t, x)
    assert n_empty == 0
    np.testing.assert_allclose(t_out, t_ref)
    np.testing.assert_allclose(s_out, s_ref, rtol=1e-12, atol=1e-12)


def test_swarii_bridges_gaps_by_interpolation():
    t = np.arange(0, 10, 0.01)
    keep = (t < 4) | (t > 4.5)            # a 0.5 s dropout
    x = np.column_stack([t, 2 * t])[keep]
    t_out, s_out, n_empty = q.swarii(t[keep], x)
    assert n_empty > 5
    assert np.allclose(np.diff(t_out), 0.04)
    # A ramp stays a ramp: exactly where the window is full, within a sample's span near the edges and
    # across the gap (filled by linear interpolation between the nearest full windows).
    full = (t_out > 0.1) & (t_out < 9.9) & ((t_out < 3.95) | (t_out > 4.55))
    np.testing.assert_allclose(s_out[full, 0], t_out[full], atol=1e-9)
    np.testing.assert_allclose(s_out[:, 0], t_out, atol=0.03)
    np.testing.assert_allclose(s_out[:, 1], 2 * s_out[:, 0], atol=1e-9)


def test_sway_density_matches_direct_loop():
    rng = np.random.default_rng(6)
    x = np.cumsum(rng.normal(0, 0.05, size=(600, 2)), axis=0)
    n = len(x)
    direct = np.zeros(n - 1)
    for i in range(n - 1):
        j = i + 1
        while j < n and np.linalg.norm(x[j] - x[i]) <= 0.3:
            j += 1
        direct[i] = (j - i - 1) / 25
    np.testing.assert_array_equal(q.sway_density(x, 0.3, 25.0), direct)


def test_msd_matches_direct_sum():
    x = np.cumsum(np.random.default_rng(7).normal(size=(300, 2)), axis=0)
    msd = q.mean_squared_displacement(x, 100)
    for lag in (1, 7, 100):
        np.testing.assert_allclose(msd[lag], np.mean((x[lag:] - x[:-lag]) ** 2, axis=0), rtol=1e-9)
    assert np.all(msd[0] == 0) or np.allclose(msd[0], 0, atol=1e-9)


# -- peak picking against direct transcriptions of the reference rules ------------------------------------
def _velocity_peaks_loop(v):
    """Sample-by-sample transcription of the rules (descriptors/dynamic.py at commit 39fc1b09 of the
    reference code): 'all' closes a half-wave before the crossing sample; 'pos'/'neg' fold the crossing
    sample into the half-wave that ended and do not reset at the first crossing."""
    peaks_all, pos, neg = [], [], []
    past, cur_all, cur_pn, crossed, n_cross = 0.0, 0.0, 0.0, False, 0
    for x in v:
        if x == 0:
            continue
        cur_pn = max(cur_pn, abs(x))
        if x * past >= 0:
            cur_all = max(cur_all, abs(x))
            past = x
            continue
        past = x
        n_cross += 1
        if crossed:
            peaks_all.append(cur_all)
            (pos if x < 0 else neg).append(cur_pn)
            cur_pn = 0.0
        crossed = True
        cur_all = abs(x)
    mean = lambda a: float(np.mean(a)) if a else float("nan")   # noqa: E731
    return n_cross, mean(pos), mean(neg), mean(peaks_all)


def _sway_density_peaks_loop(sd, sig):
    """Transcription of the median-crossing rule (mean_peak_swd at commit 39fc1b09 of the reference code)."""
    med = np.median(sd) or 1e-4
    d = sd - med
    peaks, past, cur, cur_i, started = [], 0.0, 0.0, 0, False
    for i, x in enumerate(d):
        if x == 0:
            continue
        if x * past > 0:
            past = x
            if x > cur:
                cur, cur_i = x, i
            continue
        past = x
        if started and x < 0:
            peaks.append(cur_i)
        started = True
        cur, cur_i = 0.0, 0
        if x > cur:
            cur, cur_i = x, i
    dist = np.linalg.norm(np.diff(sig[peaks], axis=0), axis=1)
    return float(np.mean(sd[peaks])), float(np.mean(dist))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_velocity_peaks_match_direct_loop(seed):
    rng = np.random.default_rng(seed)
    v = np.round(np.cumsum(rng.normal(0, 1, 400)), 0)     # rounded: exact zeros and ties occur
    v[:3] = 0
    n, pos, neg, allp = _velocity_peaks_loop(v)
    got = q.velocity_peaks(v)
    assert got["zero_crossings"] == n
    assert got["pos"] == pytest.approx(pos, rel=1e-12) and got["neg"] == pytest.approx(neg, rel=1e-12)
    assert got["all"] == pytest.approx(allp, rel=1e-12)


def test_velocity_peaks_on_a_known_wave():
    # Half-waves +1 +3 | -2 -5 | +4 | -1: crossings at the -2, the +4 and the -1.
    v = np.array([1.0, 3.0, -2.0, -5.0, 4.0, -1.0])
    got = q.velocity_peaks(v)
    assert got["zero_crossings"] == 3
    assert got["all"] == pytest.approx((5 + 4) / 2)      # the two complete half-waves
    # pos/neg (reference rule): the first segment runs from the start (no reset at the first crossing)
    # through the crossing sample +4: max |.| = 5, ended by a positive sample -> neg. The +4 is used up, so
    # the next segment is just the crossing sample -1: 1, ended by a negative sample -> pos.
    assert got["neg"] == pytest.approx(5.0)
    assert got["pos"] == pytest.approx(1.0)
    assert np.isnan(q.velocity_peaks(np.array([1.0, 2.0, 0.0]))["all"])


@pytest.mark.parametrize("seed", [3, 4])
def test_sway_density_peaks_match_direct_loop(seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 0.05, size=(500, 2)), axis=0)
    sd = q.sway_density(x, 0.3, 25.0)                    # multiples of 1/25 s: ties and values at the median
    assert np.any(sd == np.median(sd))
    peak, dist = q.sway_density_peaks(sd, x)
    ref_peak, ref_dist = _sway_density_peaks_loop(sd, x)
    assert peak == pytest.approx(ref_peak, rel=1e-12) and dist == pytest.approx(ref_dist, rel=1e-12)


def test_sway_density_peaks_known_curve():
    # median 1 (11 values); samples equal to it are skipped. Excursions above it: [3, 5, 5] (first maximum:
    # index 1) and [2] (index 6), each closed by a return below; the final [4] is never closed, not counted.
    sd = np.array([3.0, 5.0, 5.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 4.0, 1.0])
    sig = np.column_stack([np.arange(11.0), np.zeros(11)])
    peak, dist = q.sway_density_peaks(sd, sig)
    assert peak == pytest.approx((5 + 2) / 2) and dist == pytest.approx(6.0 - 1.0)
