"""Real human single-leg motion through the harness: marker-set mappings, the gold-standard side of the
mocap_single_leg recordings, their two-camera renders and the study they make (issue 10, part 5).

Data: ../shared/data/mocap_single_leg (README there; read-only). Every expected number below comes from the
recordings' own data or from the literature, measured by methods independent of the code under test (a sphere
fit written here, the lab software's own hip centres, the plates' COP against the markers' feet), never from
the code's own output.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import shared_path
from ground_truth.kernel import InputError

STANCE = {"nimble_welk007_RHJC1.c3d": "left", "biobuddy_right_knee.c3d": "left", "BTKData_FunctionalLHip.c3d": "right"}


def _markers(name: str):
    from ground_truth.markersets import markers_z_up
    from ground_truth.readers import read_recording
    rec = read_recording(shared_path("mocap_single_leg", name))
    return rec, markers_z_up(rec.markers, rec.vertical_axis)


# -- mappings -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, mapping", [("nimble_welk007_RHJC1.c3d", "addbiomechanics"),
                                           ("biobuddy_right_knee.c3d", "isb_anatomical"),
                                           ("BTKData_FunctionalLHip.c3d", "plug_in_gait")])
def test_each_mapping_gives_the_joints(name, mapping):
    from candidates.render.motion import REQUIRED_JOINTS
    from ground_truth.marker_mapping import map_markers

    _, markers = _markers(name)
    mapped = map_markers(markers)                      # detected from the names (README: the three sets)
    assert mapped.mapping.name == mapping
    lower = [f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle", "heel", "foot_index")]
    assert all(j in mapped.joints for j in lower)
    # de Leva (1996, Table 4) mean thigh length 422 mm (men) / 369 mm (women) at ~1.74 m stature; shank 434/432 mm
    for side in ("left", "right"):
        thigh = np.nanmedian(np.linalg.norm(mapped.joints[f"{side}_hip"] - mapped.joints[f"{side}_knee"], axis=1))
        shank = np.nanmedian(np.linalg.norm(mapped.joints[f"{side}_knee"] - mapped.joints[f"{side}_ankle"], axis=1))
        assert 0.33 < thigh < 0.50 and 0.33 < shank < 0.50, (side, thigh, shank)
    if mapping == "plug_in_gait":
        # README: lower body only, the upper-body labels exist but are empty: said, not guessed
        assert not any(j in mapped.joints for j in ("left_shoulder", "left_wrist", "neck"))
        assert "no valid sample" in mapped.missing["left_shoulder"]
    else:
        assert all(j in mapped.joints for j in REQUIRED_JOINTS)
    if mapping == "addbiomechanics":
        # the Vicon subject prefix is stripped; no head or hand markers: stated in the mapping
        assert mapped.landmarks["left_knee_lateral"] == "FullBody_dynamic:L_knee"
        assert "cannot give" in mapped.missing["left_hand_tip"]
        assert "extrapolated" in mapped.used["head_top"]
    if mapping == "isb_anatomical":
        # every joint from its medial and lateral markers (no assumed width)
        assert mapped.used["left_knee"].startswith("midpoint of LLFE, LMFE")
        assert mapped.used["left_ankle"].startswith("midpoint of LLM, LSPH")


def _pelvis_frame(mapped):
    from ground_truth.marker_mapping import harrington_hip_centres
    lm = mapped.landmark
    left, right, fr = harrington_hip_centres(lm("left_asis"), lm("right_asis"), lm("left_psis"), lm("right_psis"))
    return left, right, fr["origin"], np.stack([fr["x"], fr["y"], fr["z"]], axis=1)


def _sphere_centre(points: np.ndarray) -> np.ndarray:
    """Common centre of markers each moving on its own sphere (algebraic least squares, Gamage & Lasenby 2002,
    J Biomech 35:87-93, without their bias correction): |p_ij - c|^2 = r_j^2 is linear in c and r_j^2 - |c|^2."""
    n, k, _ = points.shape
    rows, rhs = [], []
    for j in range(k):
        p = points[:, j][np.all(np.isfinite(points[:, j]), axis=1)]
        a = np.zeros((p.shape[0], 3 + k))
        a[:, :3] = 2 * p
        a[:, 3 + j] = 1.0
        rows.append(a)
        rhs.append(np.sum(p ** 2, axis=1))
    sol, *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(rhs), rcond=None)
    return sol[:3]


@pytest.mark.parametrize("name, side, cluster, bound_mm", [
    # measured 9.0 mm: the thigh cluster LF01-05 (its distances to LKNE vary 1-4 mm; LT01-05 is the shank's)
    ("BTKData_FunctionalLHip.c3d", "left", ("LF01", "LF02", "LF03", "LF04", "LF05"), 15.0),
    # measured 16.2 mm
    ("nimble_welk007_RHJC1.c3d", "right", tuple(f"r_thigh{i}" for i in range(1, 6)), 25.0)])
def test_harrington_hip_centre_against_functional_centre(name, side, cluster, bound_mm):
    """Both trials are functional hip calibrations (the free thigh draws arcs): the hip centre is the common
    centre of the thigh markers' spheres in the pelvis frame. Harrington et al. (2007, J Biomech 40:595) report
    regression errors of about 5 mm per axis in their adults; against imaging, regressions and functional
    methods both err by 10-20 mm (Sangeux et al. 2014, Gait Posture 40:20), so their difference stays below 2.5 cm."""
    from ground_truth.marker_mapping import map_markers

    _, markers = _markers(name)
    mapped = map_markers(markers)
    left, right, origin, axes = _pelvis_frame(mapped)
    local = lambda x: np.einsum("nij,nj->ni", axes, x - origin)   # noqa: E731 - lab -> ISB pelvis frame
    names = {n.split(":")[-1]: n for n in markers.channels}
    pts = np.stack([local(markers[names[c]]) for c in cluster], axis=1)
    functional = _sphere_centre(pts)
    harrington = np.nanmedian(local(left if side == "left" else right), axis=0)
    # the mapping's hip centre is that regression (not a marker: these files have none)
    assert "Harrington" in mapped.used[f"{side}_hip"]
    assert np.linalg.norm(functional - harrington) * 1000 < bound_mm


def test_harrington_hip_centres_against_the_labs_own():
    """BTKData's LeftHipCenter/RightHipCenter labels hold no valid sample (in the functional and the static
    trial), so the lab's own hip centres are Plug-in Gait's femur proximal points LFEP/RFEP of the same subject's
    static trial (Davis et al. 1991 regression with the leg length and ASIS-trochanter distance in PROCESSING):
    measured 17.0 and 17.4 mm from Harrington's, the size of the Davis-Harrington difference reported against
    CT (Davis 25 mm, Harrington 12 mm mean error; Mantovani et al. 2016, Gait Posture 44:48). DJ1's *_HJC_reg
    markers (an AddBiomechanics regression, unnamed): measured 4.9 (right) and 14.0 mm (left)."""
    from ground_truth.marker_mapping import map_markers
    from ground_truth.markersets import markers_z_up
    from ground_truth.readers import read_recording

    _, dyn = _markers("BTKData_FunctionalLHip.c3d")
    assert not np.isfinite(dyn["LeftHipCenter"]).any() and not np.isfinite(dyn["RightHipCenter"]).any()
    static = read_recording(shared_path("c3d", "others_FunctionalStatic.c3d"))
    mapped = map_markers(static.markers, "plug_in_gait")
    for side, ref in (("left", "LFEP"), ("right", "RFEP")):
        d = np.linalg.norm(mapped.joints[f"{side}_hip"] - static.markers[ref], axis=1) * 1000
        assert 10.0 < np.nanmedian(d) < 25.0, (side, np.nanmedian(d))
    dj1 = read_recording(shared_path("mocap_addbiomechanics", "DJ1", "markers.trc"))
    markers = markers_z_up(dj1.markers, dj1.vertical_axis)
    mapped = map_markers(markers, "addbiomechanics")
    harrington_left, harrington_right, _, _ = _pelvis_frame(mapped)
    for h, ref in ((harrington_left, "L_HJC_reg"), (harrington_right, "R_HJC_reg")):
        assert np.nanmedian(np.linalg.norm(h - markers[ref], axis=1)) * 1000 < 20.0
    # and the file's own hip-centre markers win over the regression in the mapping
    assert mapped.used["left_hip"] == "marker L_HJC"


def test_a_users_mapping_file_and_what_a_set_cannot_give(tmp_path):
    from candidates.render import motion_from_recording
    from ground_truth.com import com_from_markers
    from ground_truth.marker_mapping import load_marker_mapping, map_markers

    rec, markers = _markers("nimble_welk007_RHJC1.c3d")
    # a lab's own file: its names for a few landmarks, the Vicon prefix stripped, the arms declared absent
    path = tmp_path / "my_lab.toml"
    path.write_text('[marker_set]\nname = "my_lab"\n[markers]\nleft_asis = "L.ASIS"\nright_asis = "r.ASIS"\n'
                    'left_psis = "L.PSIS"\nright_psis = "r.PSIS"\n"{side}_knee_lateral" = "{S}_knee"\n'
                    '"{side}_ankle_lateral" = "{S}_ankle"\n[widths]\nknee_m = 0.11\n'
                    '[cannot_give]\n"{side}_shoulder" = "no arm markers in this lab"\n')
    mapped = map_markers(markers, path)
    assert mapped.mapping.widths_m["knee"] == 0.11
    assert "55.0 mm medially" in mapped.used["left_knee"]             # half the 0.11-m width
    assert mapped.missing["right_shoulder"].endswith("(no arm markers in this lab)")
    with pytest.raises(InputError, match="right_shoulder: the marker set cannot give it"):
        motion_from_recording(rec, marker_map=path)
    with pytest.raises(InputError, match="trunk"):                     # the COM names the segments, no number
        com_from_markers(markers, mapping=path)
    bad = tmp_path / "bad.toml"
    bad.write_text('[marker_set]\nname = "bad"\n[markers]\nleft_kneecap = "LKNE"\n')
    with pytest.raises(InputError, match="markers.left_kneecap"):
        load_marker_mapping(bad)
    # a lower-body set cannot be drawn: the renderer lists what is missing
    btk, _ = _markers("BTKData_FunctionalLHip.c3d")
    with pytest.raises(InputError, match="left_shoulder: left_acromion: marker LSHO has no valid sample"):
        motion_from_recording(btk)


# -- the gold-standard side ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference_sides():
    from harness.pipeline.reference import build_reference_side
    out = {}
    for name, leg in STANCE.items():
        path = shared_path("mocap_single_leg", name)
        out[name] = build_reference_side({"id": name, "gold_standard": [str(path)], "stance_leg": leg},
                                         {"mass_kg": 60.0, "height_m": 1.68}, bipedal=False)
    return out


def test_reference_side_of_each_single_leg_file(reference_sides):
    # README: plate loads - welk007 553 N median on plate 1 (560 N standing), ECH 601 N (+ ~9 N belt offset)
    # with hand support, BTK 599 N on plate 0; each recording's net COP exists wherever a plate is loaded
    expect_grf = {"nimble_welk007_RHJC1.c3d": 553.0, "biobuddy_right_knee.c3d": 601.0,
                  "BTKData_FunctionalLHip.c3d": 599.0}
    for name, side in reference_sides.items():
        t, cop = side.series("cop")
        _, fz = side.series("grf_vertical")
        assert np.isfinite(cop).all(axis=1).mean() > 0.99, name
        assert np.median(fz) == pytest.approx(expect_grf[name], rel=0.03), name
        assert side.has("com"), (name, side.unavailable)
        assert side.has("free_ankle_vertical")
    nimble = reference_sides["nimble_welk007_RHJC1.c3d"]
    # both feet stand on force plate 1 (foot markers inside its corners): the markers give the events. The COP
    # sits between the feet until ~1.9 s (both loaded) and the right foot rises 0.5 m at 2.0-2.5 s; the right toe
    # is back at its standing height 2.98-3.18 s (toe marker 74-79 mm, standing 74-76 mm)
    assert "both feet stand on force plate 1" in nimble.event_source
    events = {e.name: e.time for e in nimble.events}
    assert events["foot_lift"] == pytest.approx(1.9, abs=0.1)
    assert events["touch_down"] == pytest.approx(3.0, abs=0.05)
    # the subject faces -103 deg (lab -y): the lab's x is the medio-lateral axis
    assert nimble.axes == ("ml", "ap") and "faces -103 deg" in nimble.source("com")
    assert "addbiomechanics" in nimble.source("com_xyz")
    # ECH starts and ends on one leg (right foot 0.32 m up at the start; right belt ~9 N throughout)
    ech = reference_sides["biobuddy_right_knee.c3d"]
    assert "foot lift precedes it" in ech.unavailable["time_to_failure"]
    assert "no touch-down" in ech.unavailable["time_to_failure"] and not ech.events
    # BTK: starts on one leg; plate 1 takes the left foot near the end (299 N on plate 0 in the last second)
    btk = reference_sides["BTKData_FunctionalLHip.c3d"]
    assert [e.name for e in btk.events] == ["touch_down"]
    assert btk.events[0].time == pytest.approx(14.0, abs=0.1)
    # no trunk or arm markers: no marker COM, the plates' (Zatsiorsky & King double integration) instead
    assert not btk.has("com_xyz") and "Zatsiorsky" in btk.source("com")


def test_reference_time_to_failure_and_window(reference_sides):
    """The KPI stages on these sides: the welk007 window runs from the foot lift to the toe touch."""
    from harness.pipeline.failure import events_ttf
    from harness.pipeline.window import analysis_window

    nimble = reference_sides["nimble_welk007_RHJC1.c3d"]
    ttf = events_ttf(nimble, 45.0)
    assert ttf.value == pytest.approx(1.09, abs=0.1) and not ttf.censored
    lo, hi = analysis_window(nimble, None, None, 45.0, bipedal=False)
    assert (lo, hi) == pytest.approx((1.9, 2.99), abs=0.1)
    ech = reference_sides["biobuddy_right_knee.c3d"]
    assert events_ttf(ech, 45.0).value is None


# -- rendering and the study --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_study(tmp_path_factory):
    from harness.real_motion_study import generate_real_motion_study
    data_dir = shared_path("mocap_single_leg", "README.md").parent
    out = tmp_path_factory.mktemp("real_short")
    return generate_real_motion_study(out, data_dir=data_dir, max_duration_s=0.5, progress=False)


def test_render_both_views_and_manifest(short_study):
    from candidates.render import read_truth_json
    from harness.manifest import load_manifest

    m = load_manifest(short_study.manifest_path, check_candidates=False)
    trials = {t.id: t for t in m.trials}
    assert set(trials) == {"welk007-RHJC1", "ECH-right_knee", "btk-FunctionalLHip"}
    assert trials["btk-FunctionalLHip"].kind == "reference-only"           # lower body: no figure
    gen = {t["trial_id"]: t for t in short_study.trials}
    for tid in ("welk007-RHJC1", "ECH-right_knee"):
        t = trials[tid]
        assert t.camera_name == ["front", "side"] and len(t.video) == 2 and len(t.truth) == 2
        assert t.known_clock_offset_s == gen[tid]["offset_s"]
        for i, truth_path in enumerate(t.truth):
            tr = read_truth_json(truth_path)
            # the clock the video was drawn on is the manifest's
            assert tr.clock["offset_s"] == pytest.approx(t.known_clock_offset_s[i])
            assert tr.clock["drift_ppm"] == pytest.approx(t.known_drift_ppm[i])
            # frames k/30 s for k = 0..15 within the 0.5-s clip, the person drawn in every one
            assert tr.track.n_frames == 16 and tr.track.detection_rate == 1.0
        assert min(gen[tid]["landmarks_in_image"].values()) > 0.95
    assert {c.view for c in m.candidates} == {"front", "triangulated"}
    # the demo's naming: the backbone from the frontal phone is the baseline, NAME-3d triangulated, + controls
    names = {c.name: c for c in m.candidates}
    assert names["blazepose-tflite"].baseline and names["blazepose-tflite-3d"].view == "triangulated"
    assert names["negative-control-3d"].control == "negative"


def test_moved_gold_standard_matches_the_placed_video(short_study):
    """The gold standard copy is the original moved by the same rigid transform as the drawn figure: its pelvis
    faces +x and its marker COM is the original's, transformed."""
    from harness.pipeline.reference import build_reference_side

    gen = {t["trial_id"]: t for t in short_study.trials}
    t = gen["welk007-RHJC1"]
    assert t["roundtrip"]["passed"] and t["roundtrip"]["max_net_cop_diff_m"] < 1e-6
    subject = {"mass_kg": 57.1, "height_m": 1.65}
    moved = build_reference_side({"gold_standard": [str(short_study.manifest_path.parent / t["gold_standard"])],
                                  "stance_leg": "left"}, subject, bipedal=False)
    orig = build_reference_side({"gold_standard": [t["source"]], "stance_leg": "left"}, subject, bipedal=False)
    R, tr = np.asarray(t["roundtrip"]["rotation"]), np.asarray(t["roundtrip"]["translation_m"])
    _, c_moved = moved.series("com_xyz")
    _, c_orig = orig.series("com_xyz")
    assert np.nanmax(np.abs(c_moved - (c_orig @ R.T + tr))) < 1e-6
    assert moved.axes == ("ap", "ml") and "faces" not in moved.source("com")
    assert [e.name for e in moved.events] == [e.name for e in orig.events]
    # the subjects from their static trials (README: 560 N welk007, 325 + 322 N ECH; PROCESSING Height 1680 mm)
    info = {x["subject"]: x["subject_info"] for x in short_study.trials}
    assert info["welk007"]["mass_kg"] == pytest.approx(560 / 9.81, abs=0.3)
    assert info["ECH"]["mass_kg"] == pytest.approx(647 / 9.81, abs=0.3)
    assert info["btk01"]["height_m"] == pytest.approx(1.68)


# -- COP estimated from the real marker COM -----------------------------------------------------------------
@pytest.mark.parametrize("name, window, max_rms_mm, min_r", [
    # measured (1 Hz default cut-off): RMS 27.2 / 24.9 mm (x, y), r 0.61 / 0.63 over the single-leg span
    # (the COP stays under the left foot 2.0-11.0 s); the swinging leg breaks the single-pendulum model
    ("nimble_welk007_RHJC1.c3d", (2.0, 11.0), 35.0, (0.5, 0.5)),
    # measured: RMS 20.1 / 37.1 mm, r 0.74 (x, anterior) and -0.39 (y): the handrails carry ~7 % of the weight
    # and the plate COP moves 0.8 mm SD medio-laterally, so the ML estimate has nothing to follow
    ("biobuddy_right_knee.c3d", (1.5, 9.7), 45.0, (0.6, None)),
])
def test_cop_estimated_from_marker_com_against_plates(reference_sides, name, window, max_rms_mm, min_r):
    pendulum = pytest.importorskip("ground_truth.sway.pendulum")
    from ground_truth.grid import resample_to

    side = reference_sides[name]
    t, com = side.series("com_xyz")
    tc, cop = side.series("cop")
    est = pendulum.estimate_cop_from_com(t, com)
    sel = (t >= window[0]) & (t <= window[1])
    plate = resample_to(t, tc, cop)[sel]
    guess = est.cop_xy[sel]
    ok = np.all(np.isfinite(plate), axis=1) & np.all(np.isfinite(guess), axis=1)
    rms = np.sqrt(np.mean((guess[ok] - plate[ok]) ** 2, axis=0)) * 1000
    assert np.all(rms < max_rms_mm), rms
    for k in range(2):
        if min_r[k] is not None:
            assert np.corrcoef(guess[ok, k], plate[ok, k])[0, 1] > min_r[k]


# -- end to end ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def full_study(tmp_path_factory):
    from harness.real_motion_study import generate_real_motion_study
    data_dir = shared_path("mocap_single_leg", "README.md").parent
    out = tmp_path_factory.mktemp("real_full")
    return generate_real_motion_study(out, data_dir=data_dir, progress=False)


def _run(study, view: str | None, tmp_path, kind: str = "paired"):
    from harness.manifest import load_manifest
    from harness.study import run_study

    m = load_manifest(study.manifest_path)
    m.trials = [t for t in m.trials if t.kind == kind]
    m.candidates = [c for c in m.candidates if c.view == view and c.control is None]
    assert len(m.candidates) == (0 if view is None else 1)
    res = run_study(m, tmp_path / "out", workers=1, progress=False, device=False, report=False)
    return {(r["trial_id"]): r for r in res["trials"]}


@pytest.mark.slow
def test_end_to_end_one_camera(full_study, tmp_path):
    """BlazePose TFLite on the frontal phone against the real plates and markers (measured on this machine:
    clock offset errors -4.2 and +7.3 ms, detection in every frame)."""
    rows = _run(full_study, "front", tmp_path)
    for tid in ("welk007-RHJC1", "ECH-right_knee"):
        row = rows[tid]
        assert row["status"] == "ok", (tid, row.get("reason"))
        assert row["detection_rate"] > 0.95
        # within 1.5 frames at 30 fps, the demo's alignment criterion (tests/test_demo.py)
        assert abs(row["alignment"]["offset_error_s"]) < 0.05
        kpis = {k["kpi"]: k for k in row["kpis"]}
        assert kpis["com_rms_ml"]["paired"] and kpis["knee_frontal_excursion"]["paired"]
    welk = {k["kpi"]: k for k in rows["welk007-RHJC1"]["kpis"]}
    assert welk["time_to_failure"]["reference"] == pytest.approx(1.09, abs=0.1)
    assert rows["welk007-RHJC1"]["window_s"] == pytest.approx([1.9, 2.99], abs=0.1)
    ech = {k["kpi"]: k for k in rows["ECH-right_knee"]["kpis"]}
    assert ech["time_to_failure"]["reference"] is None and not ech["time_to_failure"]["paired"]


@pytest.mark.slow
def test_end_to_end_triangulated(full_study, tmp_path):
    rows = _run(full_study, "triangulated", tmp_path)
    for tid in ("welk007-RHJC1", "ECH-right_knee"):
        row = rows[tid]
        assert row["status"] == "ok", (tid, row.get("reason"))
        kpis = {k["kpi"]: k for k in row["kpis"]}
        # two cameras see both horizontal axes: the 2-D sway KPIs are paired
        assert kpis["com_area_95_ellipse"]["paired"] and kpis["com_rms_ap"]["paired"]


def test_reference_only_lower_body_trial(short_study, tmp_path):
    rows = _run(short_study, None, tmp_path, kind="reference-only")
    row = rows["btk-FunctionalLHip"]
    assert row["status"] == "ok", row.get("reason")
    kpis = {k["kpi"]: k for k in row["kpis"]}
    assert kpis["cop_rms_ml"]["reference"] is not None
    assert kpis["time_to_failure"]["reference"] is None           # the foot lift precedes the recording
    assert row["window_s"][1] == pytest.approx(14.01, abs=0.05)   # ends at the touch-down on plate 1


def test_generation_is_reused(short_study):
    from harness.real_motion_study import generate_real_motion_study
    data_dir = shared_path("mocap_single_leg", "README.md").parent
    again = generate_real_motion_study(short_study.out_dir, data_dir=data_dir, max_duration_s=0.5, progress=False)
    assert again.generation_status.startswith("reused")
    assert os.path.samefile(again.manifest_path, short_study.manifest_path)


def test_harrington_equations_on_a_constructed_pelvis():
    """No data needed: a pelvis square to the lab (facing +x, z up) with pelvic width PW = 250 mm and depth
    PD = 160 mm. Harrington et al. (2007) single-variable equations, by hand, in the ISB pelvis frame (x anterior,
    y up, z right): x = -0.24*160 - 9.9 = -48.3 mm, y = -0.30*250 - 10.9 = -85.9 mm, z = +-(0.33*250 + 7.3)
    = +-89.8 mm; in this lab ISB z (right) is -y."""
    from ground_truth.marker_mapping import map_markers

    n = 3
    mid = np.array([0.1, 0.2, 0.95])
    pts = {"LASI": mid + [0, 0.125, 0], "RASI": mid + [0, -0.125, 0], "LPSI": mid + [-0.16, 0.05, 0],
           "RPSI": mid + [-0.16, -0.05, 0], "LKNE": mid + [0, 0.1, -0.45], "RKNE": mid + [0, -0.1, -0.45],
           "LANK": mid + [0, 0.1, -0.85], "RANK": mid + [0, -0.1, -0.85], "LHEE": mid + [-0.05, 0.1, -0.9],
           "RHEE": mid + [-0.05, -0.1, -0.9], "LTOE": mid + [0.15, 0.1, -0.92], "RTOE": mid + [0.15, -0.1, -0.92]}
    markers = {k: np.tile(v, (n, 1)) for k, v in pts.items()}
    mapped = map_markers(markers)
    assert mapped.mapping.name == "plug_in_gait"
    right = (mapped.joints["right_hip"][0] - mid) * 1000
    left = (mapped.joints["left_hip"][0] - mid) * 1000
    np.testing.assert_allclose(right, [-48.3, -89.8, -85.9], atol=1e-6)
    np.testing.assert_allclose(left, [-48.3, 89.8, -85.9], atol=1e-6)
    # no medial markers: the knee centre half the default 100-mm width medial of LKNE, along the ASIS line
    np.testing.assert_allclose(mapped.joints["left_knee"][0], mid + [0, 0.05, -0.45], atol=1e-12)
    with pytest.raises(InputError, match="match no built-in marker set"):
        map_markers({"FOO": np.zeros((n, 3)), "BAR": np.ones((n, 3))})
