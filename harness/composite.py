"""Subject-level KPIs derived from several trials: the Y-Balance composite score.

Plisky et al. (2009): each direction's reach is the best of its trials, and the composite is
(anterior + posteromedial + posterolateral) / (3 × limb length) × 100. The trial rows of a study carry each
reach already normalised (% of limb length), so the composite of one subject and stance leg is the mean of
the three best normalised reaches. Each side (gold standard, candidate) takes its own best trials, as a
clinician would with either instrument; the derived row lists the trials it was made from.
"""
from __future__ import annotations

from ground_truth.reach import DIRECTIONS

COMPOSITE_KPI = "ybt_composite"


def ybt_composite_rows(rows: list[dict]) -> list[dict]:
    """One derived ``trials[]`` row per subject × stance leg × candidate with Y-Balance trials.

    Its only KPI row is ``ybt_composite`` on both sides (``reference``/``candidate``, % of limb length), or
    None with the reason (a direction without a usable reach). ``kind`` follows the trials (``paired`` only
    when every source trial is), ``condition`` is ``"composite"``, ``derived_from`` lists the trial ids.
    """
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get("protocol") == "y_balance" and r.get("status") == "ok" and r.get("condition") in DIRECTIONS:
            groups.setdefault((r["subject"], r.get("stance_leg"), r.get("candidate")), []).append(r)
    out = []
    for (subject, leg, candidate), trials in groups.items():
        sides = {}
        for side in ("reference", "candidate"):
            best, missing = {}, []
            for d in DIRECTIONS:
                vals = [k[side] for t in trials if t["condition"] == d for k in t["kpis"]
                        if k["kpi"] == f"ybt_{d}_reach" and k.get(side) is not None]
                if vals:
                    best[d] = max(vals)
                else:
                    missing.append(d)
            if missing:
                sides[side] = (None, f"no usable {' / '.join(missing)} reach on the {side} side")
            else:
                sides[side] = (sum(best.values()) / 3.0,
                               "mean of the best normalised reach per direction (" +
                               ", ".join(f"{d} {best[d]:.1f}" for d in DIRECTIONS) + " %LL; Plisky et al. 2009)")
        kinds = {t.get("kind", "paired") for t in trials}
        kind = kinds.pop() if len(kinds) == 1 else "paired"
        (rv, rm), (cv, cm) = sides["reference"], sides["candidate"]
        if kind == "candidate-only":
            rv, rm = None, "no gold standard (candidate-only trials)"
        if kind == "reference-only":
            cv, cm = None, "no video (reference-only trials)"
        out.append({
            "trial_id": f"{subject}-{leg}-ybt-composite", "subject": subject, "protocol": "y_balance",
            "condition": "composite", "stance_leg": leg, "kind": kind, "candidate": candidate, "status": "ok",
            "reason": None, "derived_from": sorted(t["trial_id"] for t in trials),
            "kpis": [{"kpi": COMPOSITE_KPI, "unit": "%LL", "reference": rv, "candidate": cv,
                      "reference_method": rm, "candidate_method": cm, "censored": False,
                      "censored_reference": False, "censored_candidate": False,
                      "reference_status": None if rv is not None else rm,
                      "candidate_status": None if cv is not None else cm,
                      "paired": kind == "paired" and rv is not None and cv is not None}],
        })
    return out
