"""Time alignment on synthetic signals with known offset and drift (30 fps with jittered, variable frame times
against 100 Hz, with noise), refusals, event alignment and resampling onto frame times."""
from __future__ import annotations

import numpy as np
import pytest

from ground_truth.kernel import AlignmentError, InputError
from harness.align import align_by_events, detect_onset, estimate_offset, resample_to, to_reference_time


def _scene(seed=0, offset=1.2345, drift_ppm=0.0, noise=0.1, jitter_s=0.003, duration_s=60.0, scale=1.0,
           ref_rate=100.0):
    """Band-limited sway-like signal (40 sinusoids, 0.1-4 Hz) seen on both clocks.

    The candidate's frames are at 30 fps with ±3 ms timestamp jitter and 20 dropped frames; its clock maps to the
    reference clock as t_ref = t_cand + offset + drift·t_cand.
    """
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.1, 4.0, 40)
    ph = rng.uniform(0, 2 * np.pi, 40)
    amp = 1 / np.sqrt(f)

    def s(t):
        return scale * (amp * np.sin(2 * np.pi * f * t[:, None] + ph)).sum(axis=1)

    tr = np.arange(0, duration_s + 10, 1 / ref_rate)
    rx = s(tr) + noise * rng.normal(size=tr.size)
    n = int(duration_s * 30)
    tc = np.arange(n) / 30 + rng.uniform(-jitter_s, jitter_s, n)
    tc = np.delete(tc, rng.choice(n, 20, replace=False))
    cx = s(tc * (1 + drift_ppm * 1e-6) + offset) + noise * rng.normal(size=tc.size)
    return tr, rx, tc, cx


@pytest.mark.parametrize("seed, offset", [(0, 1.2345), (1, -2.71828), (2, 0.0173)])
def test_offset_within_2_ms(seed, offset):
    tr, rx, tc, cx = _scene(seed, offset=offset)
    r = estimate_offset(tr, rx, tc, cx, max_lag_s=3.0)
    assert r.reliable and r.reason is None
    assert abs(r.offset_s - offset) < 0.002
    assert r.peak_corr > 0.99
    assert 0 < r.lag_uncertainty_s < 0.002
    assert r.method == "xcorr" and r.drift_ppm == 0.0


@pytest.mark.parametrize("seed, drift_ppm", [(3, 80.0), (4, -50.0), (5, 0.0)])
def test_drift_within_20_ppm_over_60_s(seed, drift_ppm):
    tr, rx, tc, cx = _scene(seed, offset=0.8, drift_ppm=drift_ppm)
    r = estimate_offset(tr, rx, tc, cx, max_lag_s=2.0, drift=True)
    assert r.reliable
    assert abs(r.drift_ppm - drift_ppm) < 20
    assert abs(r.offset_s - 0.8) < 0.002
    assert r.method == "xcorr+drift" and r.n_windows >= 3
    # the mapping puts candidate frames on the reference clock
    mapped = r.map_times(tc)
    truth = tc + 0.8 + drift_ppm * 1e-6 * tc
    assert np.max(np.abs(mapped - truth)) < 0.003


def test_ignoring_drift_costs_accuracy_at_the_end():
    tr, rx, tc, cx = _scene(6, offset=0.5, drift_ppm=300.0)
    flat = estimate_offset(tr, rx, tc, cx, max_lag_s=2.0)
    fitted = estimate_offset(tr, rx, tc, cx, max_lag_s=2.0, drift=True)
    end = tc[-1:]
    truth = end + 0.5 + 300e-6 * end
    assert abs(fitted.map_times(end) - truth)[0] < abs(flat.map_times(end) - truth)[0]
    assert flat.residual_s > fitted.residual_s


def test_lowpass_and_kilohertz_reference():
    tr, rx, tc, cx = _scene(7, offset=-0.4, noise=0.5)
    tk = np.arange(tr[0], tr[-1], 0.001)  # a 1 kHz plate
    rk = np.interp(tk, tr, rx)
    r = estimate_offset(tk, rk, tc, cx, max_lag_s=1.0, lowpass_hz=6.0)
    assert abs(r.offset_s + 0.4) < 0.002


def test_nearly_static_trial_is_refused():
    tr, rx, tc, cx = _scene(8, scale=0.002, noise=0.1)
    r = estimate_offset(tr, rx, tc, cx, max_lag_s=3.0)
    assert not r.reliable and "peak correlation" in r.reason
    with pytest.raises(AlignmentError, match="peak correlation"):
        estimate_offset(tr, rx, tc, cx, max_lag_s=3.0, on_unreliable="raise")
    const = estimate_offset(tr, np.full_like(rx, 700.0), tc, cx, max_lag_s=3.0)
    assert not const.reliable and "constant" in const.reason


def test_periodic_signal_is_ambiguous_and_edge_peak_is_refused():
    tr = np.arange(0, 70, 0.01)
    tc = np.arange(0, 60, 1 / 30)
    r = estimate_offset(tr, np.sin(2 * np.pi * 0.5 * tr), tc, np.sin(2 * np.pi * 0.5 * (tc + 0.3)), max_lag_s=3.0)
    assert not r.reliable and "ambiguous" in r.reason
    # true offset outside the search range: refused (low correlation for a broadband signal ...)
    t2, x2, c2, y2 = _scene(9, offset=2.5)
    assert not estimate_offset(t2, x2, c2, y2, max_lag_s=1.0).reliable
    # ... or a peak at the edge of the range for a slow signal whose correlation keeps rising towards it
    slow = lambda t: np.sin(2 * np.pi * 0.03 * t) + 0.5 * np.sin(2 * np.pi * 0.011 * t + 1)  # noqa: E731
    edge = estimate_offset(tr, slow(tr), tc, slow(tc + 1.2), max_lag_s=1.0)
    assert not edge.reliable and "edge" in edge.reason


def test_bad_input():
    t = np.arange(100) / 100.0
    with pytest.raises(InputError, match="strictly increasing"):
        estimate_offset(t[::-1], t, t, t, max_lag_s=1)
    with pytest.raises(InputError, match="has 100 samples but ref_x has 99"):
        estimate_offset(t, t[:-1], t, t, max_lag_s=1)
    with pytest.raises(InputError, match="max_lag_s"):
        estimate_offset(t, t, t, t, max_lag_s=0)
    with pytest.raises(InputError, match="Nyquist"):
        estimate_offset(t, np.sin(t * 20), t, np.sin(t * 20), max_lag_s=0.2, lowpass_hz=60)


def test_align_by_events():
    # a hop at the start and at the end of a trial seen on both clocks
    cand = np.array([1.000, 2.200, 58.000, 59.100])
    ref = cand + 0.250 + 100e-6 * cand + np.array([0.001, -0.001, 0.0005, -0.0005])
    one = align_by_events(ref[:1], cand[:1])
    assert one.offset_s == pytest.approx(0.2511, abs=1e-6) and np.isnan(one.residual_s)
    r = align_by_events(ref, cand, drift=True)
    assert r.offset_s == pytest.approx(0.25, abs=0.002)
    assert r.drift_ppm == pytest.approx(100, abs=40)
    assert r.residual_s < 0.002 and r.reliable
    bad = align_by_events(ref + np.array([0, 0, 0.2, 0]), cand, max_residual_s=0.01)
    assert not bad.reliable and "disagree" in bad.reason
    with pytest.raises(InputError, match="same non-zero number"):
        align_by_events([1.0, 2.0], [1.0])


def test_detect_onset_subsample():
    t = np.arange(0, 5, 0.01)
    x = np.where(t < 2.003, 0.0, (t - 2.003) * 100.0) + 0.001 * np.random.default_rng(0).normal(size=t.size)
    onset = detect_onset(t, x, baseline_s=1.0, min_change=0.05)
    assert abs(onset - 2.003) < 0.01
    with pytest.raises(AlignmentError, match="no onset"):
        detect_onset(t, np.zeros_like(t) + 0.001 * np.random.default_rng(1).normal(size=t.size), min_change=1.0)


def test_resample_to_frame_times_with_gaps():
    ts = np.arange(0, 10, 0.01)
    xs = np.column_stack([np.sin(ts), np.cos(ts)])
    xs[500:520] = np.nan                 # a marker gap
    keep = np.ones(ts.size, bool)
    keep[700:760] = False                # a dropout: samples missing altogether
    frames = np.array([-0.1, 0.0, 1.2345, 5.1, 7.2, 9.99, 10.5])
    out = resample_to(frames, ts[keep], xs[keep])
    assert out.shape == (7, 2)
    assert np.isnan(out[0]).all() and np.isnan(out[-1]).all()          # outside coverage
    assert out[1, 0] == pytest.approx(0.0) and out[2, 0] == pytest.approx(np.sin(1.2345), abs=1e-4)
    assert np.isnan(out[3]).all()                                      # inside the NaN gap
    assert np.isnan(out[4]).all()                                      # across the dropout
    assert out[5, 1] == pytest.approx(np.cos(9.99))


def test_to_reference_time_matches_convention():
    tr, rx, tc, cx = _scene(10, offset=1.0)
    r = estimate_offset(tr, rx, tc, cx, max_lag_s=2.0)
    gold_on_frames = resample_to(to_reference_time(tc, r), tr, rx)
    ok = np.isfinite(gold_on_frames)
    assert np.corrcoef(gold_on_frames[ok], cx[ok])[0, 1] > 0.99


def test_resample_with_antialias_lowpass():
    # a 1 kHz source with a 1 Hz sway and 120 Hz mains hum, resampled onto 30 fps frames
    ts = np.arange(0, 10, 0.001)
    xs = np.sin(2 * np.pi * 1.0 * ts) + 0.5 * np.sin(2 * np.pi * 120.0 * ts)
    xs[4000:4050] = np.nan
    frames = np.arange(0.5, 9.5, 1 / 29.97) + 0.0021  # NTSC-like rate: not phase-locked to the hum
    raw = resample_to(frames, ts, xs)
    filt = resample_to(frames, ts, xs, lowpass_hz=8.0)
    truth = np.sin(2 * np.pi * frames)
    ok = np.isfinite(filt)
    assert np.isnan(filt[(frames > 3.99) & (frames < 4.05)]).all()
    # the filter removes the hum (raw error up to 0.5); bridging the gap costs a little next to it
    assert np.max(np.abs(filt[ok] - truth[ok])) < 0.05 < 0.2 < np.max(np.abs(raw[ok] - truth[ok]))
    with pytest.raises(InputError, match="Nyquist"):
        resample_to(frames, ts, xs, lowpass_hz=600.0)


def test_missing_candidate_frames_are_skipped_or_refused():
    tr, rx, tc, cx = _scene(11, offset=0.3)
    gappy = cx.copy()
    gappy[300:420] = np.nan  # 4 s without a detected person
    r = estimate_offset(tr, rx, tc, gappy, max_lag_s=1.0)
    assert r.reliable and abs(r.offset_s - 0.3) < 0.002
    mostly_missing = cx.copy()
    mostly_missing[: int(0.6 * cx.size)] = np.nan
    bad = estimate_offset(tr, rx, tc, mostly_missing, max_lag_s=1.0)
    assert not bad.reliable and "missing" in bad.reason


def test_com_vertical_force_and_alignment_with_plate():
    from harness.align import com_vertical_force
    # COM bobbing ~2 cm (three incommensurate components, 0.7-2.3 Hz), filmed at ~30 fps with jitter; plate Fz at
    # 1 kHz on a clock 0.42 s ahead
    rng = np.random.default_rng(12)
    m = 70.0
    comps = [(0.010, 2 * np.pi * 0.7, 0.3), (0.007, 2 * np.pi * 1.3, 1.1), (0.005, 2 * np.pi * 2.3, 2.0)]

    def z_of(t):
        return 0.9 + sum(a * np.sin(w * t + p) for a, w, p in comps)

    def f_of(t):
        return m * (9.80665 - sum(a * w ** 2 * np.sin(w * t + p) for a, w, p in comps))

    tc = np.arange(0, 30, 1 / 30) + rng.uniform(-0.002, 0.002, 900)
    f_video = com_vertical_force(tc, z_of(tc), m, lowpass_hz=5.0)
    mid = slice(100, -100)
    # within 10 %: the 5 Hz low-pass attenuates the 2.3 Hz component by ~4 % and the jitter adds noise
    assert np.max(np.abs(f_video[mid] - f_of(tc)[mid])) < 0.1 * np.ptp(f_of(tc))
    tp = np.arange(0, 40, 0.001)
    fz = f_of(tp - 0.42) + rng.normal(0, 2, tp.size)
    r = estimate_offset(tp, fz, tc, f_video, max_lag_s=1.0, lowpass_hz=5.0)
    assert r.reliable and abs(r.offset_s - 0.42) < 0.005


def test_vertical_velocity_and_motion_energy():
    from harness.align import motion_energy, vertical_velocity
    t = np.arange(0, 4, 0.01)
    z = 0.9 + 0.02 * np.sin(2 * np.pi * 0.5 * t)
    v = vertical_velocity(t, z)
    inner = (t > 0.5) & (t < 3.5)
    np.testing.assert_allclose(v[inner], 0.02 * np.pi * np.cos(np.pi * t[inner]), atol=2e-4)
    # two points moving at 1 and 2 m/s: energy 1 + 4 = 5 (m/s)^2; one point missing for a while is made up
    # for by scaling (k / n_valid), so the signal has no step; a sample with too few points is NaN
    pts = np.stack([np.column_stack([t, 0 * t]), np.column_stack([2 * t, 0 * t])], axis=1)
    e = motion_energy(t, pts, lowpass_hz=None)
    np.testing.assert_allclose(e[1:-1], 5.0)
    gap = pts.copy()
    gap[100:150, 1] = np.nan
    e = motion_energy(t, gap, lowpass_hz=None, min_valid_fraction=1.0)
    assert np.all(np.isnan(e[100:150])) and np.isfinite(e[200])
    e = motion_energy(t, gap, lowpass_hz=None, min_valid_fraction=0.5)
    np.testing.assert_allclose(e[110:140], 2.0)       # only the 1 m/s point, scaled by 2/1
    with pytest.raises(InputError, match="points"):
        motion_energy(t, pts[:, :, 0])
