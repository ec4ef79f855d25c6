"""The shared time-series type, errors and checks, and the CLI skeleton (the import graph: test_import_graph.py)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ground_truth import InputError, TimeSeries
from ground_truth.kernel import check_option, validate_type
from ground_truth.recording import ForcePlate, net_plate


def test_timeseries_rejects_non_monotonic_time():
    with pytest.raises(InputError, match="not strictly increasing at sample 2"):
        TimeSeries(np.array([0.0, 0.1, 0.1, 0.3]), {"x": np.zeros(4)}, {"x": "m"}, meta={"file": "f.txt"})


def test_timeseries_rejects_unknown_unit_and_wrong_length():
    with pytest.raises(InputError, match="unknown unit 'furlong'"):
        TimeSeries(np.arange(3.0), {"x": np.zeros(3)}, {"x": "furlong"})
    with pytest.raises(InputError, match="has 2 samples but time has 3"):
        TimeSeries(np.arange(3.0), {"x": np.zeros(2)}, {"x": "m"})


def test_timeseries_window_is_half_open_and_relative():
    ts = TimeSeries(10 + np.arange(100) / 100, {"x": np.arange(100.0)}, {"x": "m"})
    w = ts.window(0.2, 0.5)
    assert w.n_samples == 30
    assert w["x"][0] == 20 and w["x"][-1] == 49
    assert ts.fs == pytest.approx(100.0)


def test_variable_rate_has_no_fs():
    ts = TimeSeries(np.array([0, 0.03, 0.07, 0.1]), {"x": np.zeros(4)}, {"x": "m"})
    with pytest.raises(InputError, match="not evenly spaced"):
        ts.sampling_rate()


def test_net_cop_is_vertical_force_weighted():
    t = np.arange(3) / 100
    f1 = np.array([[0, 0, 300.0]] * 3)
    f2 = np.array([[0, 0, 100.0], [0, 0, 5.0], [0, 0, 0.0]])
    c1 = np.array([[0.1, 0, 0]] * 3)
    c2 = np.array([[0.5, 0.2, 0]] * 3)
    plates = [ForcePlate(i, TimeSeries(t, {"force": f, "cop": c, "loaded": f[:, 2] >= 20},
                                       {"force": "N", "cop": "m", "loaded": "bool"}))
              for i, (f, c) in enumerate([(f1, c1), (f2, c2)])]
    net = net_plate(plates)
    assert net["cop"][0, 0] == pytest.approx((300 * 0.1 + 100 * 0.5) / 400)
    # plate 2 below threshold: its COP must not leak into the net COP
    assert net["cop"][1, 0] == pytest.approx(0.1)
    assert net["force"][1, 2] == pytest.approx(305)


def test_checks_have_one_wording():
    with pytest.raises(InputError, match="invalid value 'x' for convention"):
        check_option("convention", "x", ["bds2016"])
    with pytest.raises(InputError, match="must be an instance of float"):
        validate_type("a", float, "fs")


def test_cli_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for cmd in ["demo", "validate", "sway", "pose", "render", "align", "agreement", "icc", "kappa",
                "device-bench", "device-parse", "gate"]:
        assert cmd in out

