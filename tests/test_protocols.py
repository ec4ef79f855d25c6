"""Protocol definitions, the KPI registry, TOML loading and the Y-Balance formulas."""
from __future__ import annotations

import numpy as np
import pytest
import tomli_w

from ground_truth.kernel import InputError, ManifestError
from protocols import (KPIS, composite_score, get_kpi, get_protocol, list_kpis, list_protocols, load_protocol,
                       normalised_reach, protocol_from_dict)


def test_builtin_protocols_listed_and_looked_up():
    import protocols
    # a study manifest may have registered its own protocols in this process: they come after the built-ins
    assert protocols.BUILT_IN == ("single_leg_stance", "mctsib", "y_balance")
    assert list_protocols()[:3] == list(protocols.BUILT_IN)
    with pytest.raises(InputError, match="unknown protocol 'tandem'.*single_leg_stance"):
        get_protocol("tandem")


def test_register_a_labs_own_protocol():
    import dataclasses

    from protocols import MCTSIB, register_protocol
    with pytest.raises(InputError, match="built-in"):
        register_protocol(MCTSIB)
    mine = dataclasses.replace(MCTSIB, name="mctsib_60s_test", max_duration_s=60.0)
    assert register_protocol(mine) is mine and get_protocol("mctsib_60s_test") is mine
    register_protocol(mine)                      # the same definition again: fine
    with pytest.raises(InputError, match="already registered"):
        register_protocol(dataclasses.replace(mine, title="something else"))


def test_single_leg_stance_definition():
    p = get_protocol("single_leg_stance")
    # Springer et al. 2007: maximum 45 s, eyes open and closed; firm and foam surfaces per the issue.
    assert p.max_duration_s == 45.0
    assert set(p.condition_names) == {"eyes_open_firm", "eyes_closed_firm", "eyes_open_foam", "eyes_closed_foam"}
    assert all(c.stance == "single_leg" and c.duration_s <= 45 for c in p.conditions)
    assert p.stance_legs == ("left", "right")
    assert p.alignment_cue.kind == "hop" and p.alignment_cue.optional
    assert {"foot_touchdown", "eyes_open", "max_duration"} <= {r.name for r in p.stopping_rules}
    for kpi in ("com_path_length", "com_area_95_ellipse", "com_rms_ml", "com_mean_frequency", "time_to_failure",
                "strategy_label", "knee_frontal_excursion"):
        m = p.measurement(kpi)
        assert m.reference and m.candidate, kpi
    # COP needs forces: reference side only, with the reason the report prints
    cop = p.measurement("cop_mean_velocity")
    assert cop.reference.startswith("force plate") and cop.candidate is None
    assert "no COP estimate from keypoints" in cop.not_measured_reason
    assert p.measurement("com_path_length").unit == "cm"
    with pytest.raises(InputError, match="ybt_composite"):
        p.measurement("ybt_composite")
    with pytest.raises(InputError, match="eyes_open_firm"):
        p.condition("eyes_shut")


def test_mctsib_has_four_bipedal_conditions():
    p = get_protocol("mctsib")
    # Shumway-Cook & Horak 1986 (modified): EO/EC × firm/foam, feet together, 30 s.
    assert len(p.conditions) == 4
    assert {(c.vision, c.surface) for c in p.conditions} == {
        ("eyes_open", "firm"), ("eyes_closed", "firm"), ("eyes_open", "foam"), ("eyes_closed", "foam")}
    assert all(c.stance == "bipedal" and c.duration_s == 30 for c in p.conditions)
    assert p.stance_legs == ()


def test_y_balance_reports_three_reaches_and_composite():
    p = get_protocol("y_balance")
    assert p.kpi_names[:4] == ["ybt_anterior_reach", "ybt_posteromedial_reach", "ybt_posterolateral_reach",
                               "ybt_composite"]
    assert all(get_kpi(k).unit == "%LL" for k in p.kpi_names[:4])


def test_y_balance_composite_formula():
    # Plisky et al. 2009: composite = (A + PM + PL) / (3 × LL) × 100. By hand: (60+100+95)/(3·90)·100 = 94.444...
    assert composite_score(60, 100, 95, 90) == pytest.approx(255 / 270 * 100)
    # Vectorised, and a missing reach gives NaN rather than a composite over two directions.
    out = composite_score([60, np.nan], [100, 100], [95, 95], [90, 90])
    assert out[0] == pytest.approx(94.4444444, rel=1e-9) and np.isnan(out[1])
    assert normalised_reach(63.0, 90.0) == pytest.approx(70.0)
    with pytest.raises(InputError, match="limb_length"):
        composite_score(60, 100, 95, 0)
    with pytest.raises(InputError, match="reach"):
        normalised_reach("far", 90)


def test_kpi_registry_entries_are_complete():
    assert len(list_kpis()) == len(KPIS) >= 19
    for k in KPIS.values():
        assert k.description and k.definition and k.citation
        assert k.kind in ("continuous", "categorical", "censored")
    assert get_kpi("time_to_failure").kind == "censored"
    assert get_kpi("strategy_label").labels == ("ankle", "hip", "mixed")
    assert get_kpi("cop_area_95_ellipse").unit == "cm²"
    with pytest.raises(InputError, match="unknown KPI 'sway'"):
        get_kpi("sway")


def test_protocol_round_trips_through_toml(tmp_path):
    for name in list_protocols():
        p = get_protocol(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(tomli_w.dumps(p.to_dict()), encoding="utf-8")
        assert load_protocol(path) == p


def test_protocol_toml_errors_name_file_and_field(tmp_path):
    data = get_protocol("single_leg_stance").to_dict()
    data["kpis"][0]["kpi"] = "com_wobble"
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"bad.toml.*kpis\[0\].*unknown KPI 'com_wobble'"):
        load_protocol(path)
    data = get_protocol("single_leg_stance").to_dict()
    data["conditions"][1]["duration_s"] = 60.0
    with pytest.raises(ManifestError, match="longer than the protocol's maximum 45"):
        protocol_from_dict(data)
    data = get_protocol("single_leg_stance").to_dict()
    data["conditions"][0]["surface"] = "sand"
    with pytest.raises(ManifestError, match=r"conditions\[0\].*'sand'"):
        protocol_from_dict(data, file="lab.toml")
    del data["max_duration_s"]
    with pytest.raises(ManifestError, match="max_duration_s"):
        protocol_from_dict(data)
    (tmp_path / "broken.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(ManifestError, match="broken.toml.*not valid TOML"):
        load_protocol(tmp_path / "broken.toml")
    data = get_protocol("mctsib").to_dict()
    data["kpis"].append({"kpi": "time_to_failure", "reference": "x", "candidate": "y"})
    with pytest.raises(ManifestError, match="twice"):
        protocol_from_dict(data)
