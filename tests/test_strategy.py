"""Hip-vs-ankle strategy indicator: hand-computed values, label thresholds, synthetic strategies."""
import numpy as np
import pytest

from ground_truth.kernel import InputError
from ground_truth.strategy import hip_ankle_fraction, strategy_indicator
from ground_truth.synthetic import simulate_single_leg_stance


def test_hand_computed_fraction_and_antiphase():
    t = np.linspace(0, 10, 1001)
    ankle = np.sin(2 * np.pi * 0.5 * t)             # RMS 1/sqrt(2)
    hip = -3.0 * np.sin(2 * np.pi * 0.5 * t)        # RMS 3/sqrt(2), anti-phase
    # fraction = 3 / (3 + 1) = 0.75, anti-phase index = +1
    r = strategy_indicator(hip, ankle)
    assert r.hip_fraction == pytest.approx(0.75, abs=1e-3)
    assert r.antiphase_index == pytest.approx(1.0, abs=1e-6)
    assert r.label == "hip"
    r2 = strategy_indicator(0.2 * ankle, ankle)       # in phase, small hip motion: 0.2 / 1.2
    assert r2.hip_fraction == pytest.approx(1 / 6, abs=1e-3)
    assert r2.antiphase_index == pytest.approx(-1.0, abs=1e-6)
    assert r2.label == "ankle"
    # planes combine as root of summed mean squares: sagittal (1, 1), frontal (0, 1) -> sqrt(.5)/(sqrt(.5)+1)
    f = hip_ankle_fraction(ankle, ankle, 0 * ankle, ankle)
    assert f == pytest.approx(np.sqrt(0.5) / (np.sqrt(0.5) + 1), abs=1e-3)
    assert strategy_indicator(ankle, ankle).label == "mixed"


def test_linear_drift_is_not_sway():
    t = np.linspace(0, 10, 1001)
    ankle = np.sin(2 * np.pi * 0.4 * t)
    hip = 0.1 * ankle + 0.5 * t                     # a slow posture change on the hip
    assert strategy_indicator(hip, ankle).label == "ankle"


def test_synthetic_strategies_from_marker_angles():
    # strategies generated with known labels are recovered from the markers' angles over the single-leg period
    from ground_truth.angles import angles_from_markers
    for strategy, seed in (("ankle", 4), ("mixed", 5), ("hip", 6)):
        tr = simulate_single_leg_stance(duration_s=6.0, max_duration_s=6.0, strategy=strategy, seed=seed,
                                        sync=None)
        a = angles_from_markers(tr.markers, tr.stance_leg)
        lo, hi = tr.truth["single_leg_window_s"]
        sel = (tr.time_s >= lo + 1.0) & (tr.time_s <= hi)
        r = strategy_indicator(a["hip_sagittal"][sel], a["ankle_sagittal"][sel], a["hip_frontal"][sel],
                               a["ankle_frontal"][sel], fs=100.0)
        assert r.label == strategy, (strategy, r)
        assert abs(r.hip_fraction - tr.truth["strategy_fraction"]) < 0.05


def test_nan_and_errors():
    x = np.sin(np.linspace(0, 20, 500))
    y = x.copy()
    y[100:120] = np.nan
    assert np.isfinite(strategy_indicator(0.3 * x, y).hip_fraction)
    with pytest.raises(InputError):
        strategy_indicator(x, x[:-1])
    with pytest.raises(InputError):
        strategy_indicator()
    with pytest.raises(InputError):
        strategy_indicator(hip_sagittal=x)
