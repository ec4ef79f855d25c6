"""OpenSim .trc/.mot readers on the real AddBiomechanics recordings and on broken files made here."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from ground_truth.kernel import ReaderError, UnitError
from ground_truth.readers import read_recording
from ground_truth.readers.opensim import read_mot, read_trc


def test_trc_markers_in_metres():
    path = shared_path("mocap_addbiomechanics", "DJ1", "markers.trc")
    rec = read_recording(path)
    assert rec.meta["format"] == "trc"
    assert len(rec.markers.channels) == 51 and rec.markers.n_samples == 231
    assert rec.markers.fs == pytest.approx(100.0)
    assert rec.markers.source_units["r_knee"] == "mm"
    # first row of the file: r_knee = (-1178.26835, 853.60916, -420.51420) mm
    np.testing.assert_allclose(rec.markers["r_knee"][0], [-1.17826835, 0.85360916, -0.42051420])
    assert rec.vertical_axis == 1


def test_mot_force_plates_and_body_weight():
    rec = read_mot(shared_path("mocap_addbiomechanics", "walking1", "grf.mot"))
    assert [p.name for p in rec.plates] == ["R", "L"]
    net = rec.plate("net")
    fy = net["force"][:, 1]
    # walking: the vertical GRF summed over both feet averages about body weight (75.7 kg, subject.json)
    stance = fy > 20
    assert 0.8 < np.mean(fy[stance]) / (75.7 * 9.81) < 1.3
    assert np.all(np.isnan(net["cop"][~net["loaded"]]))
    assert rec.plates[0].signals.fs == pytest.approx(2000.0)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


TRC_HEAD = ("PathFileType\t4\t(X/Y/Z)\tx.trc\nDataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
            "OrigDataStartFrame\tOrigNumFrames\n100\t100\t{n}\t2\t{unit}\t100\t1\t{n}\nFrame#\tTime\tA\t\t\tB\t\t\n"
            "\t\tX1\tY1\tZ1\tX2\tY2\tZ2\n\n")


def test_trc_gaps_are_nan(tmp_path):
    p = _write(tmp_path, "gap.trc", TRC_HEAD.format(n=3, unit="mm") +
               "1\t0.00\t1\t2\t3\t4\t5\t6\n2\t0.01\t\t\t\t4\t5\t6\n3\t0.02\t1\t2\t3\t4\t5\t6\n")
    rec = read_trc(p)
    assert np.isnan(rec.markers["A"][1]).all()
    assert rec.meta["marker_gap_samples"] == {"A": 1}


def test_trc_bad_input(tmp_path):
    with pytest.raises(UnitError, match="bad_unit.trc: field 'Units': unknown marker unit 'furlong'"):
        read_trc(_write(tmp_path, "bad_unit.trc", TRC_HEAD.format(n=1, unit="furlong") + "1\t0\t1\t2\t3\t4\t5\t6\n"))
    with pytest.raises(ReaderError, match="time.*not strictly increasing at row 2"):
        read_trc(_write(tmp_path, "t.trc", TRC_HEAD.format(n=2, unit="mm") +
                        "1\t0.01\t1\t2\t3\t4\t5\t6\n2\t0.00\t1\t2\t3\t4\t5\t6\n"))
    with pytest.raises(ReaderError, match="non-numeric value 'abc'"):
        read_trc(_write(tmp_path, "nn.trc", TRC_HEAD.format(n=1, unit="mm") + "1\t0\tabc\t2\t3\t4\t5\t6\n"))
    with pytest.raises(ReaderError, match="declares 5 frames but the file holds 1"):
        read_trc(_write(tmp_path, "cut.trc", TRC_HEAD.format(n=5, unit="mm") + "1\t0\t1\t2\t3\t4\t5\t6\n"))
    with pytest.raises(ReaderError, match="not a TRC file"):
        read_trc(_write(tmp_path, "x.trc", "hello\n" * 10))


MOT = "name x\ndatacolumns 7\ndatarows {n}\nendheader\ntime\t{cols}\n"


def test_mot_bad_input(tmp_path):
    cols = "ground_force_vx\tground_force_vy\tground_force_vz\tground_force_px\tground_force_py\tground_force_pz"
    rec = read_mot(_write(tmp_path, "ok.mot", MOT.format(n=2, cols=cols) + "0\t0\t700\t0\t0.1\t0\t0.2\n"
                                                                       "0.001\t0\t5\t0\t0.1\t0\t0.2\n"))
    assert rec.plates[0].loaded.tolist() == [True, False]
    assert np.isnan(rec.plates[0].signals["free_moment"]).all()  # no torque columns: NaN, not zero
    with pytest.raises(ReaderError, match="no ground-reaction-force columns"):
        read_mot(_write(tmp_path, "kin.mot", MOT.format(n=1, cols="knee_angle_r") + "0\t12\n"))
    with pytest.raises(ReaderError, match="declares 3 rows but the file holds 1"):
        read_mot(_write(tmp_path, "cut.mot", MOT.format(n=3, cols=cols) + "0\t0\t700\t0\t0.1\t0\t0.2\n"))
    with pytest.raises(ReaderError, match="time"):
        # time going backwards: refused (a silently re-sorted or mis-sampled plate would be a wrong number)
        read_mot(_write(tmp_path, "back.mot", MOT.format(n=3, cols=cols) + "0\t0\t700\t0\t0.1\t0\t0.2\n"
                        "0.002\t0\t700\t0\t0.1\t0\t0.2\n0.001\t0\t700\t0\t0.1\t0\t0.2\n"))
    with pytest.raises(ReaderError, match="no 'endheader' line"):
        read_mot(_write(tmp_path, "nohead.mot", "time\tx\n0\t1\n"))
    with pytest.raises(ReaderError, match="missing columns"):
        read_mot(_write(tmp_path, "part.mot", MOT.format(n=1, cols="ground_force_vx\tground_force_vy\tground_force_vz")
                        + "0\t0\t700\t0\n"))
