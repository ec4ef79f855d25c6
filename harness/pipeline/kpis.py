"""Stage 5, the KPIs of both sides within the analysis window: one call per family of KPIs, in the order of
the KPI registry's families (sway, time-to-failure, reach, posture). Every requested KPI gets a value or the
reason it has none, on every side the trial has."""
from __future__ import annotations

from dataclasses import dataclass

from . import failure, posture, sway
from .clock import ClockAlignment
from .sides import CandidateSide, ReferenceSide
from .values import KPIValue, missing
from .window import MIN_WINDOW_S


@dataclass
class TrialKPIs:
    """Both sides' KPI values (None for a side the trial does not have) and the COM stabilogram."""

    reference: dict[str, KPIValue] | None
    candidate: dict[str, KPIValue] | None
    stabilogram: sway.Stabilogram | None = None


def compute_kpis(ref: ReferenceSide | None, cand: CandidateSide | None, kpi_names: list[str], window,
                 clock: ClockAlignment | None, *, trial: dict, subject: dict, fs: float, lowpass_hz,
                 max_duration_s: float, bipedal: bool) -> TrialKPIs:
    """Every KPI of ``kpi_names`` on each side present, measured over ``window`` (reference clock)."""
    r: dict[str, KPIValue] = {}
    c: dict[str, KPIValue] = {}
    stabilogram = None
    if window[1] - window[0] < MIN_WINDOW_S:
        # too short for a sway or angle measure: those KPIs say why on both sides; events still give the rest
        short = missing(f"not measured: the analysis window lasts {window[1] - window[0]:.2f} s, shorter than "
                        f"the {MIN_WINDOW_S:g} s a sway or joint-angle measure needs (the single-leg stance ended "
                        f"that soon)")
        for k in kpi_names:
            if k.startswith(("cop_", "com_")) or k in posture.ANGLE_KPIS:
                if ref is not None:
                    r[k] = short
                if cand is not None:
                    c[k] = short
    cop = [k for k in kpi_names if k.startswith("cop_") and k not in c and k not in r]
    if cop:
        rc, cc = sway.cop_kpis(ref, cand, cop, window, fs, lowpass_hz, clock)
        r.update(rc)
        c.update(cc)
    com = [k for k in kpi_names if k.startswith("com_") and k not in c and k not in r]
    if com:
        rc, cc, stabilogram = sway.com_kpis(ref, cand, com, window, fs, lowpass_hz, clock)
        r.update(rc)
        c.update(cc)
    if "time_to_failure" in kpi_names:
        if bipedal:
            if ref is not None:
                r["time_to_failure"] = failure.step_ttf(ref, window, None, max_duration_s)
            if cand is not None:
                c["time_to_failure"] = failure.step_ttf(cand, window, clock, max_duration_s)
        else:
            if ref is not None:
                r["time_to_failure"] = failure.events_ttf(ref, max_duration_s)
            if cand is not None:
                c["time_to_failure"] = (failure.events_ttf(cand, max_duration_s) if cand.triangulated
                                        else failure.candidate_ttf(cand, trial, subject, max_duration_s))
    reach = [k for k in kpi_names if k.startswith("ybt_")]
    if reach:
        rv, cv = posture.reach_kpis(ref, cand, reach, window, clock, trial, subject)
        r.update(rv)
        c.update(cv)
    angles = [k for k in kpi_names if k in posture.ANGLE_KPIS and k not in c and k not in r]
    if angles:
        if ref is not None:
            r.update(posture.reference_angle_kpis(ref, window, trial, angles))
        if cand is not None:
            c.update(posture.candidate_angle_kpis(cand, window, clock, trial, angles))
    for side, vals in ((ref, r), (cand, c)):
        if side is None:
            continue
        for k in kpi_names:
            vals.setdefault(k, missing(side.unavailable.get(k, f"not computed on the {side.role} side")))
    return TrialKPIs(r if ref is not None else None, c if cand is not None else None, stabilogram)
