"""Evaluate a gate policy on study results: one verdict per rule × candidate (× device for device rules).

Statuses
--------
pass / fail
    The value was found and compared with the threshold.
not-evaluable
    The value is not in the results (section empty, no matching row, field null/NaN, no baseline). A
    *blocking* rule that is not evaluable BLOCKS the release (a missing measurement is no evidence of
    safety) unless the rule says ``allow_missing = true``.
error
    The value exists but cannot be judged (not a number, several rows match where one was expected, division
    by a zero baseline). A blocking error blocks.

Control candidates (``candidates[].control``) are judged by the KPI rules like any candidate; their verdicts do
not block, and one expectation verdict per control does when it misbehaves (:mod:`harness.gates.controls`).
"""
from __future__ import annotations

import dataclasses
import operator

from ground_truth.kernel import InputError

from .backbones import backbone_view, refine_verdicts
from .controls import controls_of, expectation_verdict, judges_controls
from .policy import CHANNEL_PREFIX, GateRule, Policy, load_policy, policy_from_dict
from .rows import (_baseline_name, _candidates, _check_fields, _device_key, _Error, _NotEvaluable, _rows_for,
                   _value, _value_over_rows)
from .verdict import GateVerdict, _label, _unit, _verdict

_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
            "!=": operator.ne}


def _evaluate_rule(results: dict, rule: GateRule) -> list[GateVerdict]:
    def _v(*args, **kwargs):
        return _verdict(*args, results=results, **kwargs)
    cands = _candidates(results)
    by_name = {c["name"]: c for c in cands}
    controls = controls_of(results)
    # a rule on the shipped model (its size, its device cost) does not judge a control, which has none, unless
    # it names the control
    # nor does it judge a channel's stored model (harness.store.baseline): the yardstick, not a release candidate
    names = list(rule.candidates) if rule.candidates else [
        n for n in by_name if (n not in controls or judges_controls(rule.section)) and not by_name[n].get("channel")]
    baseline = _baseline_name(results, rule) if rule.mode != "absolute" else None
    if rule.mode != "absolute":
        names = [n for n in names if n != baseline]
    out: list[GateVerdict] = []
    if not names:
        return [_v(rule, "(none)", "not-evaluable", reason="no candidate in results to judge")]
    if baseline and baseline.startswith(CHANNEL_PREFIX) and baseline not in by_name:
        return [_v(rule, name, "not-evaluable", baseline=baseline,
                   reason=f"baseline {baseline!r} is a release channel's stored model; 'stancebench gate' adds it "
                          f"from the results store (docs/promotion.md), and these results do not hold it")
                for name in names]
    if baseline in controls:
        return [_v(rule, name, "not-evaluable", baseline=baseline,
                   reason=f"baseline {baseline!r} is the {controls[baseline]} control; a control checks the harness "
                          f"and never serves as the baseline") for name in names]
    section_label = rule.section
    for name in names:
        if name not in by_name:
            out.append(_v(rule, name, "not-evaluable", reason=f"candidate {name!r} is not in the results"))
            continue
        if rule.mode != "absolute" and baseline is None:
            out.append(_v(rule, name, "not-evaluable", reason="no baseline candidate (set baseline in the "
                          "policy or rule, or flag exactly one candidate baseline=true)"))
            continue
        if rule.mode in ("difference", "ratio") and baseline not in by_name:
            out.append(_v(rule, name, "not-evaluable", baseline=baseline,
                          reason=f"baseline candidate {baseline!r} is not in the results"))
            continue
        rows = _rows_for(results, rule, by_name[name], baseline if rule.section == "comparisons" else None)
        if not rows:
            filt = ", ".join(f"{k}={v}" for k, v in rule.where.items())
            if "condition" not in rule.where and any(isinstance(r, dict) and r.get("condition") == "all"
                                                     for r in results.get(rule.section) or []):
                filt = ", ".join(x for x in (filt, "condition=all") if x)
            what = f" with {filt}" if filt else ""
            extra = f" against baseline {baseline}" if rule.section == "comparisons" and baseline else ""
            if not results.get(rule.section):
                reason = f"results have no '{section_label}' section (not measured in this study)"
            else:
                reason = f"no {section_label} row for candidate {name}{what}{extra}"
            out.append(_v(rule, name, "not-evaluable", reason=reason, baseline=baseline))
            continue
        if len(rows) > 1 and rule.section != "device" and rule.stat is not None:
            try:
                actual = _value_over_rows(rows, rule)
                status = "pass" if _COMPARE[rule.op](actual, rule.threshold) else "fail"
                out.append(_v(rule, name, status, actual=actual, unit=_unit(rule, rows[0], results),
                              row=rows[0], baseline=baseline, label=_label(rule, rows[0], baseline,
                                                                           n_rows=len(rows))))
            except (_NotEvaluable, _Error) as exc:
                # labelled as a statistic over the rows, as when it is evaluable (not as the first row alone)
                out.append(_v(rule, name, "error" if isinstance(exc, _Error) else "not-evaluable",
                              reason=str(exc), row=rows[0], baseline=baseline,
                              label=_label(rule, rows[0], baseline, n_rows=len(rows))))
            continue
        if len(rows) > 1 and rule.section != "device":
            varying = sorted(k for k in rows[0] if any(r.get(k) != rows[0].get(k) for r in rows)
                             and not isinstance(rows[0].get(k), (int, float, list, dict)))
            out.append(_v(rule, name, "error", baseline=baseline, row=rows[0],
                          reason=f"{len(rows)} {section_label} rows match; narrow the rule with where "
                                 f"({', '.join(varying) or 'more fields'})"))
            continue
        base_rows = None
        if rule.mode in ("difference", "ratio"):
            base_rows = _rows_for(results, rule, by_name[baseline], None)
        for row in rows:
            device = _device_key(row) if rule.section == "device" else None
            unit = _unit(rule, row, results)
            try:
                actual = _value(row, rule)
                if base_rows is not None:
                    match = [b for b in base_rows if rule.section != "device" or _device_key(b) == device]
                    if len(match) != 1:
                        raise _NotEvaluable(f"{len(match)} matching rows for baseline {baseline}")
                    bval = _value(match[0], rule)
                    if rule.mode == "difference":
                        actual = actual - bval
                    else:
                        if bval == 0:
                            raise _Error(f"baseline {baseline} value is 0; a ratio is undefined")
                        actual = actual / bval
                status = "pass" if _COMPARE[rule.op](actual, rule.threshold) else "fail"
                out.append(_v(rule, name, status, actual=actual, unit=unit, row=row, baseline=baseline,
                              device=device))
            except _NotEvaluable as exc:
                reason = str(exc)
                # say why, when the results say it: the row's note, or the reason beside a null value
                # (e.g. device energy: {"value": null, "reason": "no powercap interface"})
                parent = row
                for key in rule.path[:-1]:
                    parent = parent.get(key) if isinstance(parent, dict) else None
                if isinstance(parent, dict) and parent is not row and parent.get("reason"):
                    reason += f"; reason: {parent['reason']}"
                if isinstance(row.get("note"), str) and row.get("note"):
                    reason += f"; note: {row['note']}"
                out.append(_v(rule, name, "not-evaluable", unit=unit, reason=reason, row=row,
                              baseline=baseline, device=device))
            except _Error as exc:
                out.append(_v(rule, name, "error", unit=unit, reason=str(exc), row=row, baseline=baseline,
                              device=device))
    return out


def evaluate_policy(results: dict, policy: Policy | dict | str) -> list[GateVerdict]:
    """Judge study results against a gate policy.

    Parameters
    ----------
    results : dict
        Parsed ``results.json`` (docs/results-schema.md).
    policy : Policy, dict or path-like
        A loaded policy, its TOML data as a dict, or the path of a policy TOML file.

    Returns
    -------
    list of GateVerdict
        In rule order, then candidate order (then device order for device rules); then one expectation verdict
        per control candidate (``rule_id`` "control-expectation"), in the order of ``candidates``.

    Raises
    ------
    ManifestError
        The policy names a field that neither the results schema nor the results have (a typo), or is invalid.
    InputError
        ``results`` is not a results dictionary.

    Notes
    -----
    Read ``blocks`` rather than ``status``: a blocking rule that cannot be evaluated blocks the release
    (unless it says ``allow_missing = true``); advisory rules never block. Non-inferiority rules read the
    upper bound of the paired, subject-clustered bootstrap CI of the error difference candidate − baseline
    (``comparisons[].diff_ci_high``) and pass when it stays below the margin δ (Walker & Nowacki 2011).

    A control candidate is judged by the rules on KPI sections (agreement, categorical, comparisons, trials);
    its verdicts carry ``control`` and ``would_block`` and never block. Its expectation verdict blocks when a
    positive control is blocked or a negative control is not failed by any blocking KPI gate: as with an assay
    whose controls miss their known results, the study's verdicts cannot then be trusted (CLSI C24, 2016).

    Rules on ``backbones`` read the backbone comparison's rows (built from the results when the section is absent);
    a rule with ``max_size_ratio`` also requires the candidate's model to be at most that fraction of the
    baseline's, and its verdict states both parts (:mod:`harness.gates.backbones`).
    """
    if not isinstance(results, dict):
        raise InputError(f"results must be a dict parsed from results.json, got {type(results).__name__}",
                         field="results")
    if isinstance(policy, dict):
        policy = policy_from_dict(policy)
    elif not isinstance(policy, Policy):
        policy = load_policy(policy)
    verdicts: list[GateVerdict] = []
    if any(rule.section == "backbones" for rule in policy.rules):
        # the backbone comparison read as rows, like every other section (built from the results when absent)
        results = backbone_view(results)
    for rule in policy.rules:
        _check_fields(results, rule, policy.source)
        verdicts.extend(refine_verdicts(results, rule, _evaluate_rule(results, rule)))
    controls = controls_of(results)
    # a control's verdicts say what the rule does to it (would_block) but never stop a release themselves ...
    verdicts = [dataclasses.replace(v, control=controls[v.candidate], blocks=False) if v.candidate in controls
                else v for v in verdicts]
    # ... its expectation does, when the control misbehaves
    for name, kind in controls.items():
        verdicts.append(expectation_verdict(name, kind, [v for v in verdicts if v.candidate == name]))
    return verdicts
