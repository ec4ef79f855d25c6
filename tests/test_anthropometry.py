"""de Leva (1996) table and the whole-body COM from joints (2-D and 3-D, NaN handling)."""
import numpy as np
import pytest

from ground_truth.anthropometry import (SEXES, de_leva_parameters, segment_coms, segment_table,
                                        whole_body_com)
from ground_truth.kernel import InputError


def _standing_skeleton(sex="male", height=1.741, n=4):
    """Upright skeleton built from de Leva's own mean segment lengths (Table 4), scaled to ``height``."""
    p = de_leva_parameters(sex)
    k = height / (1.741 if sex == "male" else 1.735)
    L = {s: v.length_mm / 1000 * k for s, v in p.items()}
    ankle_z = 0.039 * height * 1.0    # lateral malleolus height ~3.9 % of stature (Drillis & Contini 1966)
    knee_z = ankle_z + L["shank_ajc"]
    hip_z = knee_z + L["thigh"]
    neck_z = hip_z + L["trunk"]                # CERV
    sho_z = hip_z + L["trunk_mids"]            # mid-shoulder joint centres (de Leva MIDS-MIDH length)
    top_z = neck_z + L["head"]
    j = {}
    for side, y in (("left", 0.09), ("right", -0.09)):
        s = side + "_"
        j[s + "hip"] = (0, y, hip_z)
        j[s + "knee"] = (0, y, knee_z)
        j[s + "ankle"] = (0, y, ankle_z)
        j[s + "heel"] = (-0.05, y, 0.0)
        j[s + "foot_index"] = (-0.05 + L["foot"], y, 0.0)
        ys = 1.9 * y
        j[s + "shoulder"] = (0, ys, sho_z)
        j[s + "elbow"] = (0, ys, sho_z - L["upper_arm"])
        j[s + "wrist"] = (0, ys, sho_z - L["upper_arm"] - L["forearm"])
        j[s + "hand_tip"] = (0, ys, sho_z - L["upper_arm"] - L["forearm"] - L["hand"])
    j["head_top"] = (0, 0, top_z)
    j["neck"] = (0, 0, neck_z)
    return {k_: np.tile(np.asarray(v, float), (n, 1)) for k_, v in j.items()}


def test_mass_fractions_sum_to_one():
    # de Leva 1996 Table 4: masses sum to 100.0 % (male) and 99.99 % (female, rounding in the paper)
    for sex, expected in (("male", 1.0), ("female", 0.9999)):
        t = segment_table(sex)
        assert t.mass_fraction.sum() == pytest.approx(expected, abs=1e-9)
        assert len(t) == 14


def test_table_values_from_paper():
    # Spot values of de Leva 1996 Table 4: male thigh 14.16 % mass, CM 40.95 % from the hip joint centre;
    # female shank 4.81 %, CM 44.16 % from the knee joint centre; male head CM 50.02 % from the vertex.
    # Joint-centre trunk (MIDS-MIDH): male CM 43.10 %, female 37.82 % from the mid-shoulder point; shank to the
    # ankle joint centre: male 43.95 %.
    m, f = de_leva_parameters("male"), de_leva_parameters("female")
    assert m["trunk_mids"].com_fraction == pytest.approx(0.4310)
    assert f["trunk_mids"].com_fraction == pytest.approx(0.3782)
    assert m["shank_ajc"].com_fraction == pytest.approx(0.4395)
    assert m["thigh"].mass_fraction == pytest.approx(0.1416)
    assert m["thigh"].com_fraction == pytest.approx(0.4095)
    assert f["shank"].mass_fraction == pytest.approx(0.0481)
    assert f["shank"].com_fraction == pytest.approx(0.4416)
    assert m["head"].com_fraction == pytest.approx(0.5002)


@pytest.mark.parametrize("sex", SEXES)
def test_standing_com_height_is_published_fraction_of_stature(sex):
    # Upright standing whole-body COM is commonly reported at about 55-57 % of stature (textbook value; the
    # real Plug-in-Gait static trial in test_com measures 57.5 %); 54-58 % accepted here.
    j = _standing_skeleton(sex, height=1.75)
    com = whole_body_com(j, sex)
    assert com.shape == (4, 3)
    assert 0.54 * 1.75 < com[0, 2] < 0.58 * 1.75
    # left/right symmetric skeleton: COM on the mid-sagittal plane
    assert com[0, 1] == pytest.approx(0.0, abs=1e-12)


def test_hand_computed_single_segment_mix():
    # Independent check of the weighting: move only the left thigh's distal joint (knee) by +10 cm in x.
    # The left thigh COM (40.95 % from the hip) moves by 0.4095*0.10 m and the left shank COM (43.95 % from the
    # knee, its proximal end, to the ankle joint centre) by (1 - 0.4395)*0.10 m, so the whole-body COM moves by
    # 0.1416*0.04095 + 0.0433*0.05605 m in x.
    j = _standing_skeleton("male")
    c0 = whole_body_com(j)
    j["left_knee"] = j["left_knee"] + np.array([0.10, 0, 0])
    c1 = whole_body_com(j)
    expected = 0.1416 * 0.4095 * 0.10 + 0.0433 * (1 - 0.4395) * 0.10
    assert c1[0, 0] - c0[0, 0] == pytest.approx(expected, rel=1e-9)


def test_2d_input_is_projection_of_3d():
    j3 = _standing_skeleton("female")
    rng = np.random.default_rng(1)
    j3 = {k: v + rng.normal(0, 0.02, v.shape) for k, v in j3.items()}
    j2 = {k: v[:, [0, 2]] for k, v in j3.items()}
    np.testing.assert_allclose(whole_body_com(j2, "female"), whole_body_com(j3, "female")[:, [0, 2]], atol=1e-12)


def test_nan_propagates_per_frame_and_renormalise():
    j = _standing_skeleton()
    j["left_wrist"] = j["left_wrist"].copy()
    j["left_wrist"][2] = np.nan
    com = whole_body_com(j)
    assert np.isnan(com[2]).all() and np.isfinite(com[[0, 1, 3]]).all()
    ren = whole_body_com(j, missing="renormalise")
    assert np.isfinite(ren).all()
    # dropping the left forearm and hand (wrist missing) moves the COM by a small amount only
    assert np.abs(ren[2] - com[0]).max() < 0.02


def test_keypoint_subset_uses_fallbacks():
    # COCO-17-like set: no heels, toes, hand tips, vertex or C7; the ears give the head centre.
    j = _standing_skeleton()
    full = whole_body_com(j)
    coco = {k: v for k, v in j.items() if k.split("_", 1)[-1] in ("hip", "knee", "ankle", "shoulder", "elbow",
                                                                     "wrist")}
    head_com = segment_coms(j)["head"]
    coco["left_ear"] = head_com + [0, 0.07, 0]
    coco["right_ear"] = head_com - [0, 0.07, 0]
    sub = whole_body_com(coco)
    assert np.abs(sub - full).max() < 0.01   # within 1 cm of the full model


def test_bad_input_errors():
    j = _standing_skeleton()
    del j["left_knee"]
    with pytest.raises(InputError, match="left_thigh"):
        whole_body_com(j)
    with pytest.raises(InputError, match="shape"):
        whole_body_com({"left_hip": np.zeros((3, 4))})
    with pytest.raises(InputError, match="sex"):
        whole_body_com(_standing_skeleton(), "other")
