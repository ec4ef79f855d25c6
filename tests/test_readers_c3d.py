"""C3D reader on real files from several vendors (../shared/data/c3d) and on broken files made here."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_DATA, shared_path
from ground_truth.kernel import InputError, ReaderError
from ground_truth.readers import read_recording
from ground_truth.readers.c3d import read_c3d

C3D_DIR = SHARED_DATA / "c3d"
C3D_FILES = sorted(p.name for p in C3D_DIR.glob("*") if p.suffix.lower() == ".c3d") if C3D_DIR.is_dir() else []


@pytest.mark.parametrize("name", C3D_FILES or ["(../shared/data/c3d absent)"])
def test_every_vendor_file_loads_in_si(name):
    path = shared_path("c3d", name)
    rec = read_c3d(path)
    assert len(rec.meta["sha256"]) == 64
    if rec.markers is not None:
        assert set(rec.markers.units.values()) == {"m"}
        # a lab is a few metres across: markers in metres must be well under 100
        finite = np.concatenate([v[np.isfinite(v)] for v in rec.markers.data.values()])
        assert np.all(np.abs(finite) < 100)
    for plate in rec.plates:
        assert plate.signals.units["cop"] == "m"
        fv = plate.force[plate.loaded, rec.vertical_axis]
        assert np.all(fv >= plate.threshold_n)            # GRF on the subject: vertical component upward
        assert np.all(np.isnan(plate.cop[~plate.loaded]))  # unloaded plates have no COP


def test_qualisys_first_frame_cop_matches_ezc3d_test():
    # ezc3d's own test suite asserts this COP for Qualisys.c3d at frame 0 (data README, ezc3d 1.7.2).
    rec = read_c3d(shared_path("c3d", "Qualisys.c3d"), fz_threshold_n=0)
    np.testing.assert_allclose(rec.plates[0].cop[0, :2] * 1000, [228.813, 118.296], atol=1e-3)
    # The plate is unloaded at frame 0 (|Fz| < 1 N): with the default 20 N threshold that COP is masked.
    rec = read_c3d(shared_path("c3d", "Qualisys.c3d"))
    assert np.isnan(rec.plates[0].cop[0]).all()
    assert abs(rec.plates[0].force[0, 2]) < 1


def test_qualisys_events_and_time_origin():
    rec = read_c3d(shared_path("c3d", "Qualisys.c3d"))
    assert [e.name for e in rec.events] == ["LHS", "RTO", "RHS", "LTO", "LHS", "RTO", "RHS"]
    assert rec.events[0].time == pytest.approx(3.59, abs=1e-6)
    # header first frame 705 (1-based) at 200 Hz: the first marker sample is at 704/200 s, so the events
    # (absolute C3D times) fall inside the recorded span
    assert rec.markers.time[0] == pytest.approx(704 / 200)
    assert rec.markers.time[0] <= rec.events[0].time <= rec.events[-1].time <= rec.markers.time[-1]
    assert rec.plates[0].signals.time[0] == pytest.approx(rec.markers.time[0])


def test_type2_and_type4_plates_of_one_trial_agree():
    # c3d.org sample10 "a" pair (2003, Motion Analysis): one trial stored as TYPE-2 (diagonal sensitivities)
    # and TYPE-4 (full calibration matrix). Cross-talk terms make them differ slightly; c3d.org's readme says
    # they hold identical force-plate data.
    a = read_c3d(shared_path("c3d", "c3d.org_sample10_type-2a.c3d"))
    b = read_c3d(shared_path("c3d", "c3d.org_sample10_type-4a.c3d"))
    for pa, pb in zip(a.plates, b.plates):
        np.testing.assert_array_equal(pa.loaded, pb.loaded)
        heavy = pa.force[:, 2] > 100  # near the 20 N threshold the COP is ill-conditioned (18 mm apart)
        d = np.linalg.norm(pa.cop - pb.cop, axis=1)[heavy]
        assert np.max(d) < 2e-3  # m; measured 1.5 mm max
        np.testing.assert_allclose(pa.force[heavy, 2], pb.force[heavy, 2], rtol=0.02)


def test_type2_and_type4_uppercase_pair_same_trial():
    # The 2002 pair (TYPE-2.C3D / TYPE-4.C3D, Vicon). Its TYPE-2 channels are an exact diagonal rescaling of
    # the TYPE-4 volts, but with gains that differ from the CAL_MATRIX diagonal by 1-25 % (c3d.org: the 2002
    # versions predate the 2003 correction of the CAL_MATRIX application), so the two COPs cannot coincide:
    # we measured a median distance of 14 mm. What must hold: same loaded frames, vertical force within 3 %,
    # and the same COP path shape (the next test shows the calibration is the whole difference).
    a = read_c3d(shared_path("c3d", "c3d.org_sample10_TYPE-2.C3D"))
    b = read_c3d(shared_path("c3d", "c3d.org_sample10_TYPE-4.C3D"))
    pa, pb = a.plates[0], b.plates[0]
    np.testing.assert_array_equal(pa.loaded, pb.loaded)
    heavy = pa.force[:, 2] > 200
    np.testing.assert_allclose(pa.force[heavy, 2], pb.force[heavy, 2], rtol=0.03)  # measured 2.5 %
    for axis in (0, 1):
        r = np.corrcoef(pa.cop[heavy, axis], pb.cop[heavy, axis])[0, 1]
        assert r > 0.99


def test_type2_and_type4_give_the_same_cop_when_calibrated_alike(tmp_path):
    # Why the uppercase pair differs, and that the two plate-type paths agree on one trial. Both files hold the
    # same ADC counts; TYPE-4 multiplies its volts by the 6x6 CAL_MATRIX, TYPE-2 stores forces through per-
    # channel gains that are not that matrix (Fx/Fy 5 %, Fz 1 %, moments 22-34 % off its diagonal). Written as a
    # TYPE-2 file whose channels are CAL_MATRIX @ volts, the trial reads back with the TYPE-4 COP to < 1 µm
    # (measured 0.0000 mm; with only the diagonal gains, 3 mm of cross-talk remain; as shipped, 13 mm).
    import ezc3d

    t2, t4 = shared_path("c3d", "c3d.org_sample10_TYPE-2.C3D"), shared_path("c3d", "c3d.org_sample10_TYPE-4.C3D")
    c2, c4 = ezc3d.c3d(str(t2)), ezc3d.c3d(str(t4))
    s2 = np.asarray(c2["parameters"]["ANALOG"]["SCALE"]["value"][:6], float)
    s4 = np.asarray(c4["parameters"]["ANALOG"]["SCALE"]["value"][:6], float)
    counts2, counts4 = c2["data"]["analogs"][0, :6] / s2[:, None], c4["data"]["analogs"][0, :6] / s4[:, None]
    np.testing.assert_array_equal(counts2, counts4)
    cal = np.asarray(c4["parameters"]["FORCE_PLATFORM"]["CAL_MATRIX"]["value"], float)[:, :, 0]
    analogs = c2["data"]["analogs"].copy()
    analogs[0, :6] = cal @ c4["data"]["analogs"][0, :6]
    c2["data"]["analogs"] = analogs
    c2.write(str(tmp_path / "type2_calibrated.c3d"))
    pa = read_c3d(tmp_path / "type2_calibrated.c3d").plates[0]
    pb = read_c3d(t4).plates[0]
    np.testing.assert_array_equal(pa.loaded, pb.loaded)
    ok = pb.loaded
    assert np.max(np.linalg.norm(pa.cop[ok] - pb.cop[ok], axis=1)) < 1e-6
    np.testing.assert_allclose(pa.force[ok], pb.force[ok], rtol=1e-6, atol=1e-6)


def test_marker_gaps_are_nan_and_counted():
    rec = read_c3d(shared_path("c3d", "Vicon.c3d"))
    gaps = sum(int(np.isnan(v).any(axis=1).sum()) for v in rec.markers.data.values())
    assert gaps == sum(rec.meta["marker_gap_samples"].values()) == 305  # residual < 0 in the file


def test_units_truncated_and_absent():
    rec = read_c3d(shared_path("c3d", "c3d.org_sample15_FP1.C3D"))
    assert rec.meta["point_units"] == "mete"  # "meters" cut to 4 characters in the file
    assert rec.plates[0].signals.meta["sign_flipped"]  # this plate stores the action on the plate
    rec = read_c3d(shared_path("c3d", "c3d.org_sample28_standing.C3D"))
    assert "POINT:UNITS absent; millimetres assumed" in rec.meta["notes"]
    assert "no analog samples" in rec.meta["plates_note"]
    with pytest.raises(InputError, match="no force plates .*no analog samples"):
        rec.plate("net")


def test_standing_trial_net_cop_and_weight():
    rec = read_c3d(shared_path("c3d", "others_FunctionalStatic.c3d"))
    net = rec.plate("net")
    fz = net["force"][:, 2]
    # quiet standing: total vertical force is body weight, nearly constant
    assert np.std(fz) / np.mean(fz) < 0.02
    cop = net["cop"][:, :2]
    assert np.isfinite(cop).all()
    corners = np.vstack([p.corners[:, :2] for p in rec.plates[:2]])
    assert np.all(cop >= corners.min(axis=0) - 1e-9) and np.all(cop <= corners.max(axis=0) + 1e-9)
    t, xy = rec.horizontal_cop("net")
    assert xy.shape == (t.size, 2)


def test_auto_format_dispatch():
    rec = read_recording(shared_path("c3d", "Qualisys.c3d"))
    assert rec.meta["format"] == "c3d"


# -- bad input -----------------------------------------------------------------------------------------------

def test_truncated_file_is_refused(tmp_path):
    raw = shared_path("c3d", "Qualisys.c3d").read_bytes()
    bad = tmp_path / "cut.c3d"
    bad.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ReaderError, match=r"cut\.c3d.*truncated: the header declares 340 frames but the file holds 110 and ends part-way"):
        read_c3d(bad)


def test_garbage_and_empty_files(tmp_path):
    junk = tmp_path / "junk.c3d"
    junk.write_bytes(b"not a c3d file" * 20)
    with pytest.raises(ReaderError, match="junk.c3d.*not a valid or complete C3D"):
        read_c3d(junk)
    empty = tmp_path / "empty.c3d"
    empty.write_bytes(b"")
    with pytest.raises(ReaderError, match="empty.c3d.*file is empty"):
        read_c3d(empty)
    with pytest.raises(ReaderError, match="file not found"):
        read_c3d(tmp_path / "missing.c3d")


def test_unsupported_plate_type(tmp_path):
    import ezc3d

    c3d = ezc3d.c3d(str(shared_path("c3d", "c3d.org_sample10_TYPE-2.C3D")))
    c3d["parameters"]["FORCE_PLATFORM"]["TYPE"]["value"] = np.array([6])
    out = tmp_path / "type6.c3d"
    c3d.write(str(out))
    with pytest.raises(ReaderError, match=r"FORCE_PLATFORM:TYPE.*not supported.*\['6'\].*types \(1, 2, 3, 4\)"):
        read_c3d(out)


def test_unknown_marker_unit_is_refused(tmp_path):
    import ezc3d

    from ground_truth.kernel import UnitError
    c3d = ezc3d.c3d(str(shared_path("c3d", "Vicon.c3d")))
    c3d["parameters"]["POINT"]["UNITS"]["value"] = ["furlong"]
    out = tmp_path / "furlong.c3d"
    c3d.write(str(out))
    with pytest.raises(UnitError, match=r"furlong.c3d.*POINT:UNITS.*unknown marker unit 'furlong'"):
        read_c3d(out)


def test_shortened_export_is_read_and_says_so():
    # Optotrak.c3d: header and POINT:FRAMES say 1149 frames; the data section ends exactly after frame 29.
    rec = read_c3d(shared_path("c3d", "Optotrak.c3d"))
    assert rec.markers.n_samples == 29
    assert rec.meta["declared_frames"] == 1149
    assert any("only those 29 frames" in n for n in rec.meta["notes"])


def test_no_force_platform_group():
    rec = read_c3d(shared_path("c3d", "Optotrak.c3d"))
    assert rec.plates == []
    with pytest.raises(InputError, match="no force plates .*FORCE_PLATFORM:USED is 0"):
        rec.plate("net")
