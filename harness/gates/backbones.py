"""Gate rules on cost against agreement (issue 11, item 6; docs/gates.md, "Backbones: cost against agreement").

- ``metric = "backbones.pareto"`` (with ``kpi``, ``op = "=="``, ``threshold = 1``): the candidate is on the KPI's
  cost/agreement Pareto front. The rows are the results' ``backbones`` section as the study wrote it, else built
  from the results by :func:`harness.backbones_table.backbone_comparison` (results written before the section
  existed, hand-built dictionaries). A failing verdict names the candidates that dominate it.
- ``max_size_ratio = 0.7`` on a relative rule (``mode = "non-inferiority"``, ``difference`` or ``ratio``): the
  candidate must also be at most 0.7 times the baseline's ``candidates[].model_bytes`` (at least 30 % smaller).
  One verdict states both parts, actual against threshold, and passes only when both pass. A control has no model
  to ship: its size is not judged (the rule judges it as a rule without the key would).
"""
from __future__ import annotations

import dataclasses

from harness.backbones_table import backbone_comparison

from .controls import controls_of
from .policy import GateRule
from .rows import _baseline_name, _candidates, _rows_for
from .verdict import GateVerdict, format_number

#: Worst first: a part that cannot be judged is no pass, and a part that fails fails the rule whatever the other.
_PRECEDENCE = ("error", "fail", "not-evaluable", "pass")


def backbone_view(results: dict) -> dict:
    """``results`` with ``backbones`` replaced by the list of its rows, the shape every other section a rule reads
    has: the section's own rows, or rows built from the results when it is absent (a shallow copy; ``results`` is
    not changed)."""
    section = results.get("backbones")
    if isinstance(section, list):
        return results
    rows = section.get("rows") if isinstance(section, dict) else backbone_comparison(results)["rows"]
    return {**results, "backbones": [r for r in rows or [] if isinstance(r, dict)]}


def _blocks(rule: GateRule, status: str) -> bool:
    return rule.blocking and (status in ("fail", "error") or (status == "not-evaluable" and not rule.allow_missing))


def _mb(n: int) -> str:
    return f"{format_number(n / 1e6)} MB"


def _size_part(results: dict, rule: GateRule, v: GateVerdict) -> tuple[str, str]:
    """(status, text) of "model size at most max_size_ratio × the baseline's" for the verdict's candidate."""
    limit = rule.max_size_ratio
    want = f"≤ {format_number(limit)}× (at least {format_number(100 * (1 - limit))}% smaller)" if limit < 1 else \
        f"≤ {format_number(limit)}×"
    base = v.baseline or _baseline_name(results, rule)
    if base is None:
        return "not-evaluable", f"model size {want} the baseline's: not-evaluable (no baseline candidate)"
    by_name = {c["name"]: c for c in _candidates(results)}
    sizes = {}
    for name in (v.candidate, base):
        b = (by_name.get(name) or {}).get("model_bytes")
        if isinstance(b, bool) or not isinstance(b, int) or b <= 0:
            return "not-evaluable", (f"model size {want} {base}'s: not-evaluable (no model_bytes for {name} in "
                                     f"candidates)")
        sizes[name] = b
    ratio = sizes[v.candidate] / sizes[base]
    status = "pass" if ratio <= limit else "fail"
    return status, (f"model size {_mb(sizes[v.candidate])} = {format_number(ratio)}× {base}'s "
                    f"{_mb(sizes[base])} {want}: {status}")


def _with_size(results: dict, rule: GateRule, verdicts: list[GateVerdict]) -> list[GateVerdict]:
    controls = controls_of(results)
    out = []
    for v in verdicts:
        if v.candidate not in {c["name"] for c in _candidates(results)}:
            out.append(v)  # "(none)", or a candidate missing from the results: already not evaluable
            continue
        if v.candidate in controls:
            out.append(dataclasses.replace(v, message=f"{v.message}; model size not judged (a control has no model "
                                                      f"to ship)"))
            continue
        size_status, text = _size_part(results, rule, v)
        status = min((v.status, size_status), key=_PRECEDENCE.index)
        blocks = _blocks(rule, status)
        reason = v.reason
        if size_status != "pass" and status != "pass":
            reason = "; ".join(x for x in (reason, text) if x)
        out.append(dataclasses.replace(v, status=status, blocks=blocks, would_block=blocks, reason=reason,
                                       message=f"{v.message}; {text}; together: {status}"))
    return out


def _with_dominators(results: dict, rule: GateRule, verdicts: list[GateVerdict]) -> list[GateVerdict]:
    by_name = {c["name"]: c for c in _candidates(results)}
    out = []
    for v in verdicts:
        rows = _rows_for(results, rule, by_name[v.candidate], None) if v.candidate in by_name else []
        who = rows[0].get("dominated_by") if len(rows) == 1 and v.status in ("pass", "fail") else None
        if who and isinstance(who, list):
            text = f"dominated by {', '.join(map(str, who))}"
            v = dataclasses.replace(v, reason=text, message=f"{v.message} ({text})")
        out.append(v)
    return out


def refine_verdicts(results: dict, rule: GateRule, verdicts: list[GateVerdict]) -> list[GateVerdict]:
    """The rule's verdicts with what the cost/agreement rules add: the dominating candidates of a Pareto rule, the
    model-size part of a rule with ``max_size_ratio``. Other rules' verdicts are returned as they are."""
    if rule.section == "backbones" and rule.path == ("pareto",):
        verdicts = _with_dominators(results, rule, verdicts)
    if rule.max_size_ratio is not None:
        verdicts = _with_size(results, rule, verdicts)
    return verdicts
