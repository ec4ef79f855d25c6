"""Sway metrics: bds2016 against the published BDS values, prieto1996 against closed-form truths, the shared
building blocks against brute force, and the ``stancebench sway`` command."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from ground_truth import InputError
from ground_truth.readers import read_recording
from ground_truth.sway import CONVENTIONS, sway_metrics
from ground_truth.sway.common import diameter, prediction_ellipse_area
from harness.cli import main


# -- bds2016 on the published values -------------------------------------------------------------------
@pytest.fixture(scope="module")
def bds_published():
    # Published per-trial COP area (cm²), mean velocity (cm/s) and mean frequency (Hz) of BDS trials 1-100:
    # Santos & Duarte 2016 (PeerJ 4:e2648), file BDSinfoCOP.txt of the data set (copied in
    # ../shared/data/cop_bds/BDSinfoCOP_trials001-200.tsv).
    info = pd.read_csv(shared_path("cop_bds", "BDSinfoCOP_trials001-200.tsv"), sep="\t")
    return info.iloc[:100]


def test_bds2016_reproduces_published_values_of_trials_1_to_100(bds_published):
    got = []
    for trial in bds_published["Trial"]:
        rec = read_recording(shared_path("cop_bds", f"{trial}.txt"))
        ts = rec.plate(0)
        _, cop = rec.horizontal_cop(0)
        m = sway_metrics(cop, ts.fs, "bds2016").metrics
        got.append([m["area95_cm2"], m["mean_velocity_cm_s"], m["mean_frequency_hz"]])
    got = np.array(got)
    ref = bds_published[["COParea", "COPvelo", "COPmfreq"]].to_numpy()
    rel = np.abs(got / ref - 1)
    assert rel.shape == (100, 3)
    # acceptance: 1e-6 relative (the formulas reproduce them to ~1e-12)
    assert rel.max() < 1e-6, rel.max(axis=0)


def test_bds2016_units_frame_and_unit_invariance():
    rec = read_recording(shared_path("cop_bds", "BDS00001.txt"))
    _, cop = rec.horizontal_cop(0)
    res_m = sway_metrics(cop, 100.0)
    res_mm = sway_metrics(cop * 1000, 100.0, units_in="mm")
    for k, v in res_m.metrics.items():
        assert res_mm.metrics[k] == pytest.approx(v, rel=1e-12)
    assert res_m.units["area95_cm2"] == "cm^2" and res_m.units["mean_velocity_cm_s"] == "cm/s"
    assert res_m.units["mean_frequency_hz"] == "Hz" and res_m.units["rms_ap_cm"] == "cm"
    frame = res_m.to_frame()
    assert list(frame.columns) == ["metric", "value", "unit", "convention"]
    assert set(frame["convention"]) == {"bds2016"} and len(frame) == len(res_m.metrics)
    assert res_m.n_samples == 6000 and res_m.fs_hz == 100.0 and "Santos" in res_m.citation
    # BDS COPx is AP; swapping the declared axes swaps the per-axis metrics
    swapped = sway_metrics(cop, 100.0, axes=("ml", "ap"))
    assert swapped.metrics["rms_ml_cm"] == pytest.approx(res_m.metrics["rms_ap_cm"])
    assert swapped.metrics["area95_cm2"] == pytest.approx(res_m.metrics["area95_cm2"])


def test_prediction_ellipse_covers_95_percent_of_new_gaussian_samples():
    # Independent check of the prediction-ellipse formula: for Gaussian data, the 95% prediction ellipse of
    # n samples should contain ~95% of NEW samples from the same distribution.
    rng = np.random.default_rng(0)
    cov = np.array([[4.0, 1.5], [1.5, 1.0]])
    hits = []
    for _ in range(200):
        x = rng.multivariate_normal([0, 0], cov, size=30)
        new = rng.multivariate_normal([0, 0], cov, size=1)[0]
        area, lam = prediction_ellipse_area(x)
        k = area / (np.pi * np.sqrt(lam[0] * lam[1]))     # squared Mahalanobis radius of the ellipse
        d = new - x.mean(axis=0)
        hits.append(d @ np.linalg.solve(np.cov(x.T), d) <= k)
    assert 0.91 < np.mean(hits) < 0.99


# -- NaN handling --------------------------------------------------------------------------------------
def test_nan_is_refused_with_count_and_location():
    x = np.random.default_rng(1).normal(size=(500, 2)) * 0.01
    x[100:103] = np.nan
    x[400] = np.nan
    for conv in ("bds2016", "prieto1996"):
        with pytest.raises(InputError, match=r"4 NaN sample\(s\) of 500 \(2 run\(s\): samples 100-102 "
                                             r"\(1.000-1.020 s\), sample 400 \(4.000 s\)\)"):
            sway_metrics(x, 100.0, conv)


@pytest.mark.parametrize("kwargs, match", [
    (dict(cop=np.zeros((100, 3)), fs_hz=100.0), "expected \\(n, 2\\)"),
    (dict(cop=np.zeros((5, 2)), fs_hz=100.0), "5 samples"),
    (dict(cop=np.zeros((100, 2)), fs_hz=0.0), "positive number"),
    (dict(cop=np.zeros((100, 2)), fs_hz=100.0, convention="romberg"), "invalid value 'romberg'"),
    (dict(cop=np.zeros((100, 2)), fs_hz=100.0, units_in="in"), "invalid value 'in' for units_in"),
    (dict(cop=[["a", "b"]] * 20, fs_hz=100.0), "cannot be converted"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        sway_metrics(**kwargs)


# -- prieto1996 against closed forms ------------------------------------------------------------------
@pytest.mark.filterwarnings("error")
def test_prieto1996_circle_and_sine_truths():
    fs, T, R, f0 = 100.0, 40.0, 0.5, 0.4            # a COP circling at radius R cm, f0 Hz, for T s
    t = np.arange(int(fs * T)) / fs
    circle = np.column_stack([R * np.cos(2 * np.pi * f0 * t), R * np.sin(2 * np.pi * f0 * t)])
    m = sway_metrics(circle, fs, "prieto1996", units_in="cm").metrics
    assert m["mean_distance_cm"] == pytest.approx(R, rel=1e-4)
    assert m["rms_ap_cm"] == pytest.approx(R / np.sqrt(2), rel=1e-3)
    # path of a circle traversed f0*T times; velocity = 2πR f0 (discretisation error ~1e-4)
    assert m["mean_velocity_cm_s"] == pytest.approx(2 * np.pi * R * f0, rel=1e-3)
    assert m["mean_frequency_hz"] == pytest.approx(f0, rel=1e-3)        # MVELO / (2π MDIST)
    assert m["range_cm"] == pytest.approx(2 * R, rel=1e-4)
    assert m["area95_circle_cm2"] == pytest.approx(np.pi * R ** 2, rel=1e-3)   # s_RD = 0
    # one-axis pure tone: centroid = f0, dispersion ~0, 50% and 95% power at the tone's bin
    assert m["centroid_frequency_ap_hz"] == pytest.approx(f0, abs=0.05)
    assert m["frequency_dispersion_ap"] < 0.2
    assert abs(m["f50_ap_hz"] - f0) <= 0.05
    # sway area per unit time: the COP sweeps πR² per revolution
    assert m["sway_area_per_s_cm2_s"] == pytest.approx(np.pi * R ** 2 * f0, rel=1e-3)
    # a single straight sweep has TOTEX = d = RANGE, so FD-PD = log N / log N = 1; its ML axis is constant:
    # the ML frequency measures are undefined and come back as NaN (not a warning, not a number)
    line = np.column_stack([np.linspace(0, 1, t.size), np.zeros_like(t)])
    m_line = sway_metrics(line, fs, "prieto1996", units_in="cm").metrics
    assert m_line["fractal_dimension_pd"] == pytest.approx(1.0)
    assert np.isnan(m_line["mean_frequency_ml_hz"]) and np.isnan(m_line["centroid_frequency_ml_hz"])


def test_prieto_and_bds_agree_where_definitions_coincide():
    rec = read_recording(shared_path("cop_bds", "BDS00002.txt"))
    _, cop = rec.horizontal_cop(0)
    a = sway_metrics(cop, 100.0, "bds2016").metrics
    b = sway_metrics(cop, 100.0, "prieto1996").metrics
    for k in ("mean_velocity_cm_s", "path_length_cm", "rms_ap_cm", "rms_ml_cm", "range_ap_cm"):
        assert b[k] == pytest.approx(a[k], rel=1e-12)
    # confidence (1/N) vs prediction (n-1, (n+1)/n) ellipse: within a fraction of a percent for n = 6000
    assert b["area95_cm2"] == pytest.approx(a["area95_cm2"], rel=2e-3)


def test_welch_psd_equals_scipy():
    from scipy import signal

    from ground_truth.sway.common import welch_psd

    x = np.random.default_rng(4).normal(size=(6001, 2)).cumsum(axis=0)
    for kw in (dict(nperseg=3000, noverlap=1500, nfft=3000), dict(nperseg=256)):
        f1, p1 = welch_psd(x, 100.0, **kw)
        f2, p2 = signal.welch(x, 100.0, window="hann", detrend="constant", axis=0, **kw)
        np.testing.assert_allclose(p1, p2, rtol=1e-10)
        np.testing.assert_array_equal(f1, f2)


def test_diameter_is_exact_and_fast_path_matches_brute_force():
    rng = np.random.default_rng(3)
    for n in (3, 50, 400):
        x = rng.normal(size=(n, 2))
        brute = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)).max()
        assert diameter(x) == pytest.approx(brute, rel=1e-12)
    collinear = np.column_stack([np.linspace(0, 3, 50), np.linspace(0, 4, 50)])
    assert diameter(collinear) == pytest.approx(5.0)
    # hulls of every shape: random walks at any scale, points on an ellipse (every point a hull vertex),
    # grids with ties and collinear hull vertices
    from scipy.spatial.distance import pdist
    for trial in range(300):
        n = int(rng.integers(3, 300))
        kind = trial % 3
        if kind == 0:
            x = np.cumsum(rng.normal(size=(n, 2)), axis=0) * rng.uniform(0.01, 100)
        elif kind == 1:
            t = rng.uniform(0, 2 * np.pi, n)
            x = np.column_stack([np.cos(t), 0.3 * np.sin(t)])
        else:
            x = rng.integers(0, 5, (n, 2)).astype(float)
        assert diameter(x) == pytest.approx(pdist(x).max(), rel=1e-12), (trial, n)


def test_diameter_of_a_hull_with_many_vertices_is_not_quadratic():
    # A smooth closed COP loop: all 100000 samples are hull vertices. A pairwise distance array over them
    # would need 160 GB; rotating calipers take O(h log h).
    t = np.linspace(0, 2 * np.pi, 100_000, endpoint=False)
    x = np.column_stack([3 * np.cos(t), np.sin(t)])
    assert diameter(x) == pytest.approx(6.0, rel=1e-9)


# -- CLI ----------------------------------------------------------------------------------------------
def test_cli_json_reproduces_published_bds_values(capsys, bds_published):
    for i in (0, 41, 99):
        row = bds_published.iloc[i]
        path = shared_path("cop_bds", f"{row.Trial}.txt")
        assert main(["sway", str(path), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["convention"] == "bds2016" and out["plate"] == 1 and out["n_samples"] == 6000
        assert out["fs_hz"] == pytest.approx(100.0) and out["file"] == str(path)
        assert out["metrics"]["area95_cm2"] == pytest.approx(row.COParea, rel=1e-6)
        assert out["metrics"]["mean_velocity_cm_s"] == pytest.approx(row.COPvelo, rel=1e-6)
        assert out["metrics"]["mean_frequency_hz"] == pytest.approx(row.COPmfreq, rel=1e-6)
        assert out["units"]["area95_cm2"] == "cm^2" and "Santos" in out["citation"]


def test_cli_pds_defaults_to_net_and_windows(capsys):
    path = shared_path("cop_pds", "PDS13OR1grf.txt")
    assert main(["sway", str(path), "--json", "--window", "10:40"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plate"] == "net" and out["n_samples"] == 3000 and out["window_s"] == [10.0, 40.0]
    assert main(["sway", str(path), "--json", "--plate", "2", "--convention", "prieto1996"]) == 0
    out2 = json.loads(capsys.readouterr().out)
    assert out2["plate"] == 2 and out2["convention"] == "prieto1996" and out2["n_samples"] == 6000
    assert main(["sway", str(path)]) == 0
    table = capsys.readouterr().out
    assert "area95_cm2" in table and "cm^2" in table and "cm/s" in table


def test_cli_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "broken.txt"
    bad.write_text("Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\tCOPx[cm]\n0.01\t1\t2\t500\t1\t2\t3\t4\n")
    assert main(["sway", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.txt" in err and "missing column" in err and "COPy" in err
    assert main(["sway", str(tmp_path / "absent.txt")]) == 2
    assert "file not found" in capsys.readouterr().err
    path = shared_path("cop_bds", "BDS00001.txt")
    for args, match in ((["--plate", "0"], "numbered from 1"), (["--window", "30:10"], "empty"),
                        (["--window", "a:b"], "not a number"), (["--window", "100:200"], "holds no samples")):
        assert main(["sway", str(path), *args]) == 2
        assert match in capsys.readouterr().err


def test_cli_reads_c3d_and_mot_and_honours_format(capsys):
    # a C3D standing trial (3 plates at 1080 Hz, net COP by default) and an OpenSim .mot (a drop jump: the
    # window is the landing, on the plates; in the air there is no COP and the command says so)
    c3d = shared_path("c3d", "others_FunctionalStatic.c3d")
    assert main(["sway", str(c3d), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "c3d" and out["plate"] == "net" and out["fs_hz"] == 1080.0 and out["n_samples"] > 5000
    assert out["metrics"]["area95_cm2"] > 0
    mot = shared_path("mocap_addbiomechanics", "DJ1", "grf.mot")
    assert main(["sway", str(mot), "--format", "mot", "--window", "1.1:1.65", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "mot" and out["fs_hz"] == 2000.0 and out["n_samples"] == 1100
    assert main(["sway", str(mot), "--json"]) == 2
    assert "NaN sample(s)" in capsys.readouterr().err
    # a --format that does not fit the file is refused with the reason, never read as something else
    assert main(["sway", str(c3d), "--format", "mot"]) == 2
    assert "is not a text file" in capsys.readouterr().err


def test_cli_refuses_gaps_under_bds_but_quijoux_bridges_them(capsys):
    path = shared_path("cop_quijoux", "amti_standing_trial.csv")
    assert main(["sway", str(path)]) == 2
    err = capsys.readouterr().err
    assert "7 NaN sample(s)" in err and "amti_standing_trial.csv" in err
    assert main(["sway", str(path), "--window", "40:70", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_samples"] == 3000
    assert main(["sway", str(path), "--convention", "quijoux2021", "--json", "--window", "0:30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["analysis_fs_hz"] == 25.0 and any("NaN sample(s) dropped" in n for n in out["notes"])


def test_every_convention_runs_on_a_real_trial():
    rec = read_recording(shared_path("cop_bds", "BDS00003.txt"))
    _, cop = rec.horizontal_cop(0)
    for conv in CONVENTIONS:
        res = sway_metrics(cop, 100.0, conv)
        assert res.convention == conv and res.citation
        for key in ("area95_cm2", "mean_velocity_cm_s", "mean_frequency_hz", "path_length_cm"):
            assert np.isfinite(res.metrics[key]) and res.units[key]
