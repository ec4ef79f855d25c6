"""Control candidates: does the study tell a good model from a bad one?

A study with known truth may carry two control candidates (``control = "positive"`` / ``"negative"`` in the
manifest, ``candidates[].control`` in results.json). They check the harness, not a product model:

positive control
    The truth itself with realistic detection jitter (a near-perfect model). Expected: **not blocked**: no
    blocking gate stops it.
negative control
    A real model's track degraded in ways that happen in practice (a lag, left/right swaps, heavy smoothing).
    Expected: **blocked**: at least one blocking KPI gate measures it and finds it on the wrong side of its
    threshold (status ``fail``).

Each control is judged by the policy's KPI rules (sections ``agreement``, ``categorical``, ``comparisons``,
``trials``) like any candidate; rules on the shipped model (``candidates``: its size; ``device``: its latency,
memory, energy) do not apply to a control, which is no product, unless the rule names it in ``candidates``.
Those verdicts never stop a release themselves (``blocks`` False, ``would_block`` keeps the outcome). One
expectation verdict per control (``rule_id`` = :data:`CONTROL_RULE_ID`) states the expected outcome against the
actual one and blocks the release when they differ: if the positive control is blocked or the negative control
passes, the study cannot discriminate good from bad models and its verdicts on the real candidates must not be
trusted.

Notes
-----
The logic is that of the positive and negative controls of a laboratory assay: a run whose controls do not give
their known results is invalid, whatever the samples gave (CLSI C24, *Statistical Quality Control for
Quantitative Measurement Procedures*, 4th ed., 2016; Westgard JO et al., Clin Chem 1981;27:493-501, whose
rules reject an analytical run on its control results, not on the patients'). A negative control blocked only
because values are missing (``not-evaluable``) shows nothing: no gate measured it, so its expectation is
not evaluable, and blocks, as any missing measurement does (docs/gates.md).
"""
from __future__ import annotations

from typing import Any

from ..results import CONTROL_KINDS, CONTROL_RULE_ID
from .verdict import GateVerdict

# CONTROL_RULE_ID: the ``rule_id`` of a control's expectation verdict (reserved: a policy rule may not use it);
# CONTROL_KINDS: "positive", "negative", as the manifest spells them. Both are part of the results contract.
#: Sections whose rules judge what a candidate measures (a KPI, or how it measured it): they judge controls.
KPI_SECTIONS = ("agreement", "categorical", "comparisons", "trials")
#: What each kind of control is expected to do.
EXPECTED = {"positive": "not blocked", "negative": "blocked"}

_WHAT = {"positive": "a stand-in for a near-perfect model (the known truth with realistic detection jitter)",
         "negative": "a deliberately degraded model (a real model's track with a lag, left/right swaps, heavy "
                     "smoothing)"}


def controls_of(results: dict) -> dict[str, str]:
    """Candidate name -> control kind ("positive" or "negative") of the control candidates in ``results``.

    Results written before schema 3 have no ``control`` field: they have no controls.
    """
    out = {}
    for c in results.get("candidates") or []:
        if isinstance(c, dict) and isinstance(c.get("name"), str) and c.get("control") in CONTROL_KINDS:
            out[c["name"]] = c["control"]
    return out


def judges_controls(section: str) -> bool:
    """Whether a rule on this results section judges control candidates (KPI sections do; footprint and device
    sections judge the shipped model, which a control does not have)."""
    return section in KPI_SECTIONS


def case_name(candidate: str, control: str) -> str:
    """The JUnit test-case name of a control's expectation: stable across runs, whatever the outcome."""
    if control == "positive":
        return f"control {candidate} passes every blocking gate as expected"
    return f"control {candidate} is blocked as expected"


def _names(vs: list[GateVerdict]) -> str:
    return ", ".join(dict.fromkeys(v.rule_id for v in vs))


def _section(v: GateVerdict) -> str:
    return v.metric.split(".", 1)[0]


def expectation_verdict(candidate: str, control: str, mine: list[GateVerdict]) -> GateVerdict:
    """The expectation verdict of one control from its rule verdicts (``would_block`` set, ``blocks`` False).

    ``actual`` is a count: for a positive control the blocking verdicts that stop it (expected ``== 0``), for a
    negative control the blocking KPI verdicts that measured it and failed it (expected ``>= 1``).
    """
    judged = [v for v in mine if v.severity == "blocking" and judges_controls(_section(v))]
    measured = [v for v in judged if v.status in ("pass", "fail")]   # a value was found and compared
    stops = [v for v in mine if v.would_block]
    what = f"{control} control {candidate}"
    if control == "positive":
        op, threshold, actual = "==", 0.0, float(len(stops))
        label = f"blocking gates that stop the {what}"
        if stops:
            status, outcome = "fail", "blocked"
            reason = "; ".join(v.message for v in stops)
            message = (f"{what} is BLOCKED, expected not blocked: the gates reject a near-perfect model "
                       f"({len(stops)} blocking verdict(s): {reason})")
        elif not measured:
            # nothing blocks it, but no blocking gate measured it either: passing it shows nothing
            status, outcome = "not-evaluable", "not judged"
            reason = ("no blocking KPI gate measured it (the policy's KPI rules are advisory, name other "
                      "candidates, or found no value)")
            message = f"{what} was not judged, expected not blocked: {reason}"
        else:
            status, outcome, reason = "pass", "not blocked", None
            message = (f"{what} is not blocked, as expected: {len(measured)} blocking KPI verdict(s) measured it "
                       f"and pass ({_names(measured)})")
    else:
        caught = [v for v in judged if v.status == "fail"]
        missing = [v for v in judged if v.would_block and v.status != "fail"]
        op, threshold, actual = ">=", 1.0, float(len(caught))
        label = f"blocking KPI gates that fail the {what}"
        if caught:
            status, outcome, reason = "pass", "blocked", None
            message = (f"{what} is blocked, as expected: {len(caught)} of the {len(measured)} blocking KPI gate(s) "
                       f"that measured it fail it ({_names(caught)})")
        elif missing:
            status, outcome = "not-evaluable", "blocked only by missing values"
            reason = ("no blocking KPI gate measured it worse than its threshold; it is blocked only where a value "
                      "was missing: " + "; ".join(v.message for v in missing))
            message = f"{what} was not measured, expected blocked: {reason}"
        elif not judged:
            status, outcome = "not-evaluable", "not judged"
            reason = "no blocking KPI gate judged it (the policy's KPI rules are advisory or name other candidates)"
            message = f"{what} was not judged, expected blocked: {reason}"
        else:
            status, outcome = "fail", "not blocked"
            reason = f"every blocking KPI gate passed it ({_names(judged)})"
            message = (f"{what} is NOT blocked, expected blocked: {reason}; the gates cannot tell a degraded "
                       f"model from a good one")
    blocks = status != "pass"
    return GateVerdict(rule_id=CONTROL_RULE_ID, candidate=candidate, status=status, severity="blocking",
                       blocks=blocks, metric="gates.would_block", label=label, op=op, threshold=threshold,
                       actual=actual, unit="", message=message, reason=reason, control=control,
                       would_block=blocks, expected_outcome=EXPECTED[control], actual_outcome=outcome,
                       description=f"{control} control: {_WHAT[control]}; expected {EXPECTED[control]}")


def _get(v: Any, key: str) -> Any:
    return v.get(key) if isinstance(v, dict) else getattr(v, key, None)


def expectations(verdicts: list) -> list:
    """The expectation verdicts (GateVerdict objects or their dictionaries) among ``verdicts``."""
    return [v for v in verdicts if _get(v, "rule_id") == CONTROL_RULE_ID and _get(v, "control") in CONTROL_KINDS]


def controls_summary(verdicts: list) -> dict[str, Any]:
    """What the controls say about the study, from the verdicts (objects or dictionaries, e.g. results' gates).

    Returns
    -------
    dict
        ``discriminates``: True when every control behaved as expected and there is a positive and a negative
        one; False when a control misbehaved (a positive control blocked, a negative control passed); None when
        it is not shown: no controls, only one kind (half of the question is not asked), or a control that could
        not be judged (its expectation is not-evaluable, which blocks like any missing measurement).
        ``text``: one plain-language line (empty without controls); ``by_candidate``: name -> {control,
        expected, actual, as_expected, status, message}.
    """
    exp = expectations(verdicts)
    by = {_get(v, "candidate"): {"control": _get(v, "control"), "expected": _get(v, "expected_outcome"),
                                 "actual": _get(v, "actual_outcome"), "as_expected": _get(v, "status") == "pass",
                                 "status": _get(v, "status"), "message": _get(v, "message")} for v in exp}
    kinds = {c["control"] for c in by.values()}
    if any(c["status"] == "fail" for c in by.values()):
        discriminates = False
    elif by and all(c["as_expected"] for c in by.values()) and kinds == set(CONTROL_KINDS):
        discriminates = True
    else:
        discriminates = None
    return {"discriminates": discriminates, "text": _text(by, discriminates), "by_candidate": by}


def _outcome_words(c: dict) -> str:
    if c["as_expected"]:
        return "passed" if c["control"] == "positive" else "blocked"
    if c["status"] == "fail":
        return "BLOCKED (expected to pass)" if c["control"] == "positive" else "NOT blocked (expected blocked)"
    return f"{c['actual']} (expected {c['expected']})"


def _text(by: dict[str, dict], discriminates: bool | None) -> str:
    if not by:
        return ""
    parts = [f"{c['control']} control {name} {_outcome_words(c)}"
             for kind in CONTROL_KINDS for name, c in by.items() if c["control"] == kind]
    head = "controls: " + ", ".join(parts)
    if discriminates is True:
        return head + ": the harness discriminates (it passes a near-perfect model and blocks a degraded one)"
    if discriminates is False:
        return (head + ": the harness does NOT discriminate a good model from a bad one on this policy; do not "
                "trust its verdicts on the real candidates")
    if not all(c["as_expected"] for c in by.values()):
        return (head + ": whether the harness discriminates is NOT shown (a control could not be judged); its "
                "verdicts on the real candidates are not vouched for")
    missing = "negative" if "positive" in {c["control"] for c in by.values()} else "positive"
    shown = "blocks a degraded model" if missing == "positive" else "passes a near-perfect model"
    return (head + f": the harness {shown}; with no {missing} control, whether it "
            + ("passes a good model" if missing == "positive" else "blocks a bad one") + " is not shown")


def control_lines(verdicts: list) -> list[str]:
    """The plain-language line about the controls, then each misbehaving control's message (for the CLI)."""
    s = controls_summary(verdicts)
    if not s["text"]:
        return []
    return [s["text"]] + [f"  {c['message']}" for c in s["by_candidate"].values() if not c["as_expected"]]
