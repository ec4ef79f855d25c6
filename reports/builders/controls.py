"""The controls: can this study tell a good model from a bad one? One card per control candidate (what it is,
what it was expected to do, what it did, every gate verdict it got) under a one-word answer for clinical readers.

The outcomes are read from the results: the control's kind from ``candidates[].control`` and its expectation
verdict from ``gates[]`` (``rule_id`` ``"control-expectation"``, written by ``harness.gates.controls``), so the
report, the command line and the gate exit code cannot disagree.

Notes
-----
Controls work as the positive and negative controls run beside patient samples in a laboratory test: if the
known-good sample is rejected or the known-bad one accepted, the run is invalid whatever the samples gave
(CLSI C24, Statistical Quality Control for Quantitative Measurement Procedures, 4th ed., 2016).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from harness.results import CONTROL_RULE_ID, StudyResults

from ..sections import NotMeasured, Paragraph, Section

TITLE = "Controls: can this study tell a good model from a bad one?"

_WHAT = {
    "positive": "A stand-in for a near-perfect model: the true body positions the study knows (for a synthetic "
                "study, those the videos were drawn from), with the small detection errors a real model makes. A "
                "study that can be trusted lets it through.",
    "negative": "A deliberately degraded model: a real model's output made worse in ways that happen in practice "
                "(a delay, left and right confused in some frames, heavy smoothing). A study that can be trusted "
                "stops it.",
}
_EXPECTED = {"positive": "passes every blocking gate",
             "negative": "blocked by at least one blocking gate on a balance measure"}
_EXPECTED_SENTENCE = {"positive": "to pass every blocking gate",
                      "negative": "to be blocked by at least one blocking gate on a balance measure"}


@dataclass
class ControlCard:
    candidate: str
    control: str                 # "positive" | "negative"
    what: str
    expected: str
    actual: str
    as_expected: bool | None     # None: not judged (no gates, or no gate could judge it)
    explanation: str
    made_with: str = ""
    verdicts: list[dict] = field(default_factory=list)

    @property
    def outcome_css(self) -> str:
        return {True: "as-expected", False: "not-as-expected", None: "not-judged"}[self.as_expected]


@dataclass
class ControlsSection(Section):
    """The controls, next to the verdict: the answer, then one card per control."""

    answer: str = ""
    answer_css: str = ""
    cards: list[ControlCard] = field(default_factory=list)
    template: ClassVar[str] = "controls.html.j2"


def _actual(control: str, exp: dict | None, stops: list[dict]) -> str:
    if exp is None:
        return "not judged: no gate policy judged this control"
    outcome = exp.get("actual_outcome")
    ids = ", ".join(dict.fromkeys(str(v.get("rule_id")) for v in stops))
    if outcome == "not blocked":
        return "not blocked: it passed every blocking gate"
    if outcome == "blocked":
        return f"blocked by {len(stops)} gate verdict(s) ({ids})"
    if outcome == "blocked only by missing values":
        return (f"blocked only because values were missing ({ids}), not because a gate measured it worse than its "
                f"threshold")
    return "not judged: no blocking gate on a balance measure measured it"


def _made_with(results: StudyResults, name: str) -> str:
    """The control's own settings (its manifest ``params``: e.g. the jitter, the lag, the swap rate), the plain
    values only: nested identities of the backbone it degrades belong to the provenance table."""
    cand = next((c for c in results.candidates if c.name == name), None)
    params = cand.extra.get("params") if cand is not None else None
    if not isinstance(params, dict):
        return ""
    plain = {k: v for k, v in params.items() if k != "control" and v is not None
             and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 60}
    return ", ".join(f"{k} = {v}" for k, v in plain.items())


def control_cards(results: StudyResults) -> list[ControlCard]:
    """One card per control candidate, in the order of ``candidates``, from the results' gate verdicts."""
    gates = [g for g in results.gates if isinstance(g, dict)]
    cards = []
    for name, kind in results.controls().items():
        mine = [g for g in gates if g.get("candidate") == name]
        exp = next((g for g in mine if g.get("rule_id") == CONTROL_RULE_ID), None)
        rules = [g for g in mine if g.get("rule_id") != CONTROL_RULE_ID]
        stops = [g for g in rules if g.get("would_block")]
        if exp is None:
            as_expected, explanation = None, ("the results hold no verdict on this control: no gate policy was "
                                              "applied" if not gates else "the gates did not judge this control")
        else:
            as_expected = True if exp.get("status") == "pass" else False if exp.get("status") == "fail" else None
            explanation = str(exp.get("message") or "")
        cards.append(ControlCard(name, kind, _WHAT[kind], _EXPECTED[kind], _actual(kind, exp, stops), as_expected,
                                 explanation, _made_with(results, name), rules))
    return cards


def discriminates(cards: list[ControlCard]) -> bool | None:
    """True: a positive and a negative control, both as expected; False: one misbehaved; None: not shown."""
    if any(c.as_expected is False for c in cards):
        return False
    if cards and all(c.as_expected for c in cards) and {c.control for c in cards} == set(_WHAT):
        return True
    return None


def _answer(cards: list[ControlCard]) -> tuple[str, str]:
    verdict = discriminates(cards)
    if verdict is True:
        n_pos = sum(c.control == "positive" for c in cards)
        n_neg = len(cards) - n_pos
        pos = "The positive control" if n_pos == 1 else f"All {n_pos} positive controls"
        neg = "the negative control" if n_neg == 1 else f"all {n_neg} negative controls"
        return (f"Yes. {pos} (a near-perfect stand-in) passed every blocking gate and {neg} (a deliberately "
                f"degraded model) {'was' if n_neg == 1 else 'were'} blocked: with this policy, the study tells a good "
                f"model from a bad one, so its verdicts on the real candidates rest on gates that can discriminate.",
                "answer-yes")
    if verdict is False:
        bad = [c for c in cards if c.as_expected is False]
        what = "; ".join(f"the {c.control} control {c.candidate} was expected {_EXPECTED_SENTENCE[c.control]}, "
                         f"but it was {c.actual}" for c in bad)
        return (f"No. {what[0].upper() + what[1:]}. With this policy the study cannot tell a good model from a bad "
                f"one: do not base a release decision on its verdicts for the real candidates until this is "
                f"resolved (the gate command exits with code 1).", "answer-no")
    kinds = {c.control for c in cards}
    unjudged = [c for c in cards if c.as_expected is None]
    if unjudged:
        names = ", ".join(f"the {c.control} control {c.candidate}" for c in unjudged)
        return (f"Not shown. {names[0].upper() + names[1:]} could not be judged, so the study does not show that it "
                f"can tell a good model from a bad one ({unjudged[0].explanation}).", "answer-unknown")
    missing = "negative" if "positive" in kinds else "positive"
    half = ("it lets a near-perfect model through" if missing == "negative" else "it stops a degraded model")
    other = ("whether it stops a bad model" if missing == "negative" else "whether it lets a good model through")
    return (f"Partly. The {'positive' if missing == 'negative' else 'negative'} control behaved as expected, so "
            f"{half}; there is no {missing} control, so {other} is not shown.", "answer-unknown")


def controls_section(results: StudyResults) -> ControlsSection:
    sec = ControlsSection("controls", TITLE)
    cards = control_cards(results)
    if not cards:
        sec.blocks.append(NotMeasured("this study has no control candidates, so it does not show whether its gates "
                                      "can tell a good model from a bad one (controls need known truth, e.g. the "
                                      "synthetic demo; docs/gates.md)"))
        return sec
    sec.cards = cards
    sec.answer, sec.answer_css = _answer(cards)
    sec.blocks.append(Paragraph("Control candidates check the study itself, not a product: like the controls run "
                                "beside patient samples in a laboratory test, a known-good one must pass and a "
                                "known-bad one must be stopped, or the run cannot be trusted. They are marked "
                                "\"(positive control)\" or \"(negative control)\" in every table and figure below, "
                                "and are never a release candidate nor the baseline.", css="note"))
    return sec
