"""The report's opening: the verdict per candidate (release gates) and the plain-language summary per KPI,
with every KPI the study's protocols report but that has no agreement, and why. Control candidates get no
verdict card (they are no product): they are in the controls section (:mod:`.controls`), and the verdict warns
when they show the study cannot discriminate."""
from __future__ import annotations

from harness.results import StudyResults

from ..language import agreement_sentences, kappa_sentence
from ..sections import CandidateVerdict, KPISummary, NotMeasured, Paragraph, SummarySection, VerdictSection
from .controls import TITLE as CONTROLS_TITLE
from .controls import control_cards, discriminates
from .inputs import agreement_all, by_kpi, candidate_names, kpi_info, no_stats, pooled, row_notes, study_protocols


def _kpi_missing_reason(results: StudyResults, kpi: str) -> str:
    """Why a KPI has no agreement: from the agreement notes, else from its per-trial rows (a side with no value
    and the status it gave, e.g. candidate-only trials have no reference)."""
    notes = row_notes([r for r in agreement_all(results) if r.get("kpi") == kpi])
    rows = [k for t in results.trials for k in t.kpis if k.kpi == kpi]
    if not rows:
        return notes or "not computed for any trial in this study"
    found = {}
    for side in ("reference", "candidate"):
        missing = [k for k in rows if getattr(k, side) is None]
        if missing:
            why = [getattr(k, f"{side}_status") or getattr(k, f"{side}_method") for k in missing]
            why = [w for w in why if w]
            found[side] = (len(missing), max(set(why), key=why.count) if why else "no value")
    if len(found) == 2 and found["reference"] == found["candidate"]:
        n, why = found["reference"]
        return f"missing on both sides in {n} of {len(rows)} trial(s) ({why})"
    parts = [f"{side} missing in {n} of {len(rows)} trial(s) ({why})" for side, (n, why) in found.items()]
    # the side that gave no value, with its own reason, says more than "too few pairs (n=0)"
    return "; ".join(parts) or notes or "values were computed but too few valid pairs for agreement statistics"


def verdict_section(results: StudyResults) -> VerdictSection:
    gates = [g for g in results.gates if isinstance(g, dict)]
    sec = VerdictSection("verdict", "Verdict per candidate")
    controls = results.controls()
    cards = control_cards(results)
    if discriminates(cards) is False:
        # read first, before any card: a study whose controls misbehave cannot vouch for a candidate
        sec.blocks.append(Paragraph(f"Warning: this study's controls show that, with this policy, it cannot tell a "
                                    f"good model from a bad one (see \"{CONTROLS_TITLE}\"). The verdicts below must "
                                    f"not be trusted.", css="warning"))
    elif any(c.as_expected is None for c in cards) and results.gates:
        sec.blocks.append(Paragraph(f"Warning: this study's controls could not be judged, so it does not show that it "
                                    f"can tell a good model from a bad one (see \"{CONTROLS_TITLE}\").",
                                    css="warning"))
    names = [n for n in candidate_names(results) if n not in controls]
    for g in gates:
        if g.get("candidate") and g["candidate"] not in names and g["candidate"] not in controls:
            names.append(g["candidate"])
    trials = results.trials
    for name in names:
        mine = [g for g in gates if g.get("candidate") == name]
        counts = {s: sum(g.get("status") == s for g in mine) for s in ("pass", "fail", "error", "not-evaluable")}
        blocks = [g for g in mine if g.get("blocks", g.get("severity") == "blocking" and g.get("status") != "pass")]
        outcome = "not gated" if not mine else "blocked" if blocks else "pass"
        ok = sum(t.candidate == name and t.status == "ok" for t in trials)
        bad = sum(t.candidate == name and t.status != "ok" for t in trials)
        sec.cards.append(CandidateVerdict(name, outcome, counts, mine, ok, bad))
    if not gates:
        reason = results.gates_status or "no gate policy was applied to these results"
        sec.blocks.append(NotMeasured(f"gates not evaluated: {reason}"))
    elif isinstance(results.gates_status, str) and results.gates_status not in ("", "ok"):
        sec.blocks.append(Paragraph(f"Gate policy: {results.gates_status}", css="note"))
    if controls:
        sec.blocks.append(Paragraph(f"{len(controls)} control candidate(s) ("
                                    + ", ".join(f"{n}: {k} control" for n, k in controls.items())
                                    + ") check the study itself, not a product: they have no verdict card here and "
                                      "are shown in the next section.", css="note"))
    sec.blocks.append(Paragraph("A candidate is BLOCKED when a blocking gate fails, errors, or cannot be evaluated "
                                "(a missing measurement is not evidence of safety); advisory gates are shown but "
                                "never block.", css="note"))
    if not names:
        sec.blocks.append(NotMeasured("no candidates in these results"))
    return sec


def summary_section(results: StudyResults) -> SummarySection:
    sec = SummarySection("summary", "What the numbers mean (plain-language summary per KPI)")
    protocols = study_protocols(results)
    by_design = {k.name: k.not_measured_reason for k in results.kpis if k.not_measured_reason}
    measured = set()
    for kpi, rs in by_kpi(agreement_all(results)).items():
        unit, desc, kind, _ = kpi_info(results, kpi)
        unit = rs[0].get("unit") or unit
        if all(no_stats(r) for r in rs):
            sec.not_measured.append((kpi, by_design.get(kpi) or _kpi_missing_reason(results, kpi)))
            continue
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, unit, desc, kind,
                                    [(r.get("candidate", "?"), agreement_sentences(r, kind)) for r in rs]))
    for kpi, cs in by_kpi(pooled(results.categorical, results)).items():
        _, desc, _, _ = kpi_info(results, kpi)
        measured.add(kpi)
        sec.items.append(KPISummary(kpi, "", desc, "categorical",
                                    [(c.get("candidate", "?"), [kappa_sentence(c)]) for c in cs]))
    measured |= {k for k, _ in sec.not_measured}
    # KPIs the protocols of this study report but that have no agreement: say so, with the reason
    for pname, proto in protocols.items():
        if proto is None:
            why = ("unknown protocol" if results.protocol(pname) is not None
                   else "no definition of this protocol in these results")
            sec.not_measured.append((pname, f"{why}: its KPIs cannot be listed"))
            continue
        for m in proto.kpis:
            if m.kpi in measured or any(m.kpi == x for x, _ in sec.not_measured):
                continue
            if m.candidate is None:
                reason = m.not_measured_reason
            else:
                reason = _kpi_missing_reason(results, m.kpi)
            sec.not_measured.append((m.kpi, reason))
    if not sec.items:
        sec.blocks.append(NotMeasured("no agreement statistics in these results"))
    return sec
