"""Text force-plate readers: BMClab BDS/PDS exports and the Motive/AMTI CSV, on the real files and on small
broken files written to tmp_path."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import shared_path

from ground_truth import InputError, ReaderError, UnitError
from ground_truth.readers import read_recording
from ground_truth.readers.bmclab import read_bmclab
from ground_truth.readers.motive import read_motive_csv
from ground_truth.recording import net_plate

BDS_HEADER = "Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\tCOPx[cm]\tCOPy[cm]\n"


def _bds_rows(n=5, fz=540.0):
    return "".join(f"{(i + 1) / 100:.3f}\t-1.6\t-3.7\t{fz}\t5.38\t43.0\t-0.57\t{-7.98 + i * 0.01:.4f}\t0.998\n"
                   for i in range(n))


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- BDS ------------------------------------------------------------------------------------------------
def test_bds_real_file_si_units_and_provenance():
    path = shared_path("cop_bds", "BDS00001.txt")
    rec = read_recording(path)
    assert rec.meta["layout"] == "BDS" and rec.vertical_axis == 2 and len(rec.plates) == 1
    ts = rec.plate(0)
    assert ts.n_samples == 6000 and ts.fs == pytest.approx(100.0)
    # first data row of the file: 0.010 ... COPx -7.988789 cm, COPy 0.998673 cm, Fz 539.066061 N
    assert ts.time[0] == pytest.approx(0.010)
    assert ts["cop"][0] == pytest.approx([-0.07988789, 0.00998673, 0.0])
    assert ts["force"][0, 2] == pytest.approx(539.066061)
    assert ts.source_units["cop"] == "cm" and rec.meta["source_units"]["Mx"] == "Nm"
    assert rec.meta["vertical_force_sign"] == 1 and ts["loaded"].all()
    # the file's COP is the plate's own -My/Fz, Mx/Fz (checked to 1 µm: the file keeps 6 decimals)
    f, m, cop = ts["force"], ts["moment"], ts["cop"]
    np.testing.assert_allclose(cop[:, 0], -m[:, 1] / f[:, 2], atol=1e-6)
    np.testing.assert_allclose(cop[:, 1], m[:, 0] / f[:, 2], atol=1e-6)


def test_bds_masks_cop_below_threshold(tmp_path):
    text = BDS_HEADER + _bds_rows(3) + _bds_rows(2, fz=5.0).replace("0.010", "0.040").replace("0.020", "0.050")
    rec = read_bmclab(_write(tmp_path, "low.txt", text))
    ts = rec.plate(0)
    assert ts["loaded"].tolist() == [True, True, True, False, False]
    assert np.isnan(ts["cop"][3:]).all() and np.isfinite(ts["cop"][:3]).all()
    assert rec.meta["n_unloaded"] == {"plate": 2}
    rec2 = read_bmclab(_write(tmp_path, "low2.txt", text), fz_threshold_n=1.0)
    assert rec2.plate(0)["loaded"].all()


def test_negative_vertical_force_convention_is_detected_and_recorded(tmp_path):
    # Some exports give the plate's reaction as negative Fz under load: the sign is decided per file (median),
    # recorded, and loading is judged on the signed-up force, so such a file is not "unloaded" throughout.
    text = BDS_HEADER + _bds_rows(4, fz=-540.0) + "0.050\t0\t0\t-3.0\t0\t0\t0\t0\t0\n"
    rec = read_bmclab(_write(tmp_path, "neg.txt", text))
    assert rec.meta["vertical_force_sign"] == -1
    assert rec.plate(0)["loaded"].tolist() == [True, True, True, True, False]
    assert rec.plate(0)["force"][0, 2] == -540.0     # values are kept as the file has them


def test_bds_mm_units_are_converted(tmp_path):
    text = BDS_HEADER.replace("COPx[cm]", "COPx[mm]").replace("Mx[Nm]", "Mx[N.m]") + _bds_rows(3)
    rec = read_bmclab(_write(tmp_path, "mm.txt", text))
    assert rec.plate(0)["cop"][0, 0] == pytest.approx(-7.98e-3)
    assert rec.plate(0)["cop"][0, 1] == pytest.approx(0.998e-2)


@pytest.mark.parametrize("name, text, error, match", [
    ("missing.txt", BDS_HEADER.replace("\tCOPy[cm]", "") + "".join(
        r.rsplit("\t", 1)[0] + "\n" for r in _bds_rows(3).splitlines()), ReaderError, "missing column.*COPy"),
    ("unit.txt", BDS_HEADER.replace("COPx[cm]", "COPx[furlong]") + _bds_rows(3), UnitError,
     "COPx.*unknown unit 'furlong'"),
    ("nounit.txt", BDS_HEADER.replace("Fz[N]", "Fz") + _bds_rows(3), UnitError, "Fz.*no \\[unit\\]"),
    ("text.txt", BDS_HEADER + _bds_rows(2) + "0.030\t-1.6\tabc\t540\t5.38\t43.0\t-0.57\t-7.9\t0.99\n", ReaderError,
     "field 'Fy'.*data row 3.*'abc', not a number"),
    ("order.txt", BDS_HEADER + _bds_rows(3) + _bds_rows(1), ReaderError,
     "field 'Time'.*not strictly increasing at data row 4"),
    ("truncated.txt", BDS_HEADER + _bds_rows(3) + "0.040\t-1.6\t-3.7\t540\n", ReaderError,
     "data row 4.*truncated"),
    ("empty.txt", "", ReaderError, "empty"),
    ("header_only.txt", BDS_HEADER, ReaderError, "no data rows"),
    ("other.txt", "Frame\tX\tY\n1\t2\t3\n", ReaderError, "neither the BDS layout"),
])
def test_bmclab_bad_input_names_file_and_field(tmp_path, name, text, error, match):
    path = _write(tmp_path, name, text)
    with pytest.raises(error, match=match) as info:
        read_bmclab(path)
    assert str(path) in str(info.value)


# -- PDS ------------------------------------------------------------------------------------------------
def test_pds_two_plates_and_net_cop_reproduce_the_file():
    path = shared_path("cop_pds", "PDS13CF1grf.txt")
    rec = read_recording(path)
    assert rec.meta["layout"] == "PDS" and rec.vertical_axis == 1 and rec.horizontal_axes == (0, 2)
    assert [p.name for p in rec.plates] == ["right", "left"]
    right = rec.plate(0)
    # first data row: RGRF_Y 307.272755 N, RCOP_X 0.254712 m, RCOP_Z 0.127070 m
    assert right["force"][0, 1] == pytest.approx(307.272755)
    assert right["cop"][0] == pytest.approx([0.254712, 0.0, 0.127070])


def test_pds_net_cop_is_the_file_copnet_and_agrees_with_the_recomputed_one_on_all_trials():
    # The data set's own COPNET is the Fz-weighted mean of the two plates' COP to within ~6 µm
    # (../shared/data/README.md); both are stored to 1 µm, so allow 10 µm worst case, 6 µm mean.
    folder = shared_path("cop_pds")
    files = sorted(folder.glob("PDS*grf.txt"))
    assert len(files) == 12
    for path in files:
        rec = read_recording(path)
        ref = rec.analogs["file_net_cop"][:, [0, 2]]
        recomputed = net_plate(rec.plates, rec.vertical_axis)["cop"][:, [0, 2]]
        err = np.abs(recomputed - ref)
        assert err.max() < 1e-5, path.name
        assert err.mean() < 6e-6, path.name
        # the net COP used is the file's COPNET itself, and the reader's check reports the same difference
        _, cop = rec.horizontal_cop("net")
        assert cop.shape == (6000, 2)
        np.testing.assert_array_equal(cop, ref)
        assert rec.plate("net").meta["net_cop"]["source"] == "file"
        assert rec.meta["file_net_cop"]["max_abs_diff_mm"] == pytest.approx(err.max() * 1e3, rel=1e-9)


def test_pds_missing_column(tmp_path):
    head = "Time\tRGRF_X\tRGRF_Y\tRGRF_Z\tCOPNET_X\n"
    path = _write(tmp_path, "pds.txt", head + "0.0\t1\t300\t2\t0.25\n0.01\t1\t300\t2\t0.25\n")
    with pytest.raises(ReaderError, match="missing column.*LGRF_X"):
        read_bmclab(path)


# -- Motive ---------------------------------------------------------------------------------------------
def test_motive_real_file_dropouts_masked_without_warnings():
    path = shared_path("cop_quijoux", "amti_standing_trial.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a division by Fz = 0 must not even warn
        rec = read_recording(path)
    assert rec.meta["format"] == "motive" and rec.meta["header_line"] == 35
    ts = rec.plate(0)
    assert ts.n_samples == 15605 and ts.fs == pytest.approx(100.0)
    # 7 frames have Fz = 0 (../shared/data/README.md): frames 1-2 and 15600-15604
    assert rec.meta["n_dropout_frames"] == 7
    assert rec.meta["dropout_times_s"] == pytest.approx([0.01, 0.02, 156.0, 156.01, 156.02, 156.03, 156.04])
    cop = ts["cop"]
    assert np.isnan(cop[~ts["loaded"]]).all() and np.count_nonzero(~ts["loaded"]) == 7
    assert np.isfinite(cop[ts["loaded"]]).all()
    # COP from forces and moments equals the file's own Cx, Cy columns (to the file's 1 µm rounding)
    file_cop = rec.analogs["file_cop"]
    loaded = ts["loaded"]
    np.testing.assert_allclose(cop[loaded, :2], file_cop[loaded, :2], atol=1e-6)
    # frame 0 of the file: Fz 581.4375, Mx -37.412109, My -12.18457 -> Quijoux's (My/Fz, Mx/Fz) mirrors x
    assert cop[0, 0] == pytest.approx(12.18457 / 581.4375) and cop[0, 1] == pytest.approx(-37.412109 / 581.4375)


def _motive_text(rows, columns="MocapFrame, MocapTime, DeviceFrame, Fx, Fy, Fz, Mx, My, Mz, Cx, Cy, Cz"):
    head = "Format Version,1.0,\nTake Name,t,\nCapture Frame Rate,100.00,\n\nPlateLength,19.75,\n\n\n"
    return head + columns + "\n" + "".join(rows)


def _motive_row(i, fz=580.0):
    return f"{i},{i / 100:.6f},{i},1.6,-8.2,{fz},-37.4,-12.2,3.46,0.02,-0.06,0\n"


def test_motive_synthetic_file_and_threshold(tmp_path):
    path = _write(tmp_path, "m.csv", _motive_text([_motive_row(i) for i in range(4)] + [_motive_row(4, 0.0)]))
    rec = read_motive_csv(path)
    assert rec.meta["n_dropout_frames"] == 1 and np.isnan(rec.plate(0)["cop"][4]).all()
    assert rec.plate(0)["cop"][0, 0] == pytest.approx(12.2 / 580)


@pytest.mark.parametrize("name, text, match", [
    ("nofz.csv", _motive_text([_motive_row(i) for i in range(3)],
                              "MocapFrame, MocapTime, DeviceFrame, Fx, Fy, Fq, Mx, My, Mz, Cx, Cy, Cz"),
     "no column header with Fz|missing column"),
    ("nomy.csv", _motive_text([_motive_row(i) for i in range(3)],
                              "MocapFrame, MocapTime, DeviceFrame, Fx, Fy, Fz, Mx, Mq, Mz, Cx, Cy, Cz"),
     "missing column.*My"),
    ("bad.csv", _motive_text([_motive_row(0), "1,0.01,1,1.6,x,580,-37,-12,3,0,0,0\n", _motive_row(2)]),
     "field 'Fy'.*'x', not a number"),
    ("back.csv", _motive_text([_motive_row(0), _motive_row(2), _motive_row(1)]), "MocapTime.*not strictly"),
    ("empty.csv", "", "empty or not a Motive export"),
    ("headonly.csv", _motive_text([]), "no data rows"),
])
def test_motive_bad_input(tmp_path, name, text, match):
    path = _write(tmp_path, name, text)
    with pytest.raises(ReaderError, match=match) as info:
        read_motive_csv(path)
    assert str(path) in str(info.value)


def test_reader_errors_are_input_errors(tmp_path):
    # the CLI maps StancebenchError subclasses to exit code 2; readers must not leak pandas/numpy errors
    with pytest.raises(InputError):
        read_bmclab(tmp_path / "absent.txt")
