"""Release gates: a policy of rules (TOML) judged against study results (results.json).

>>> from harness.gates import load_policy, evaluate_policy, exit_code
>>> verdicts = evaluate_policy(results, load_policy("policy.toml"))   # doctest: +SKIP
>>> exit_code(verdicts)                                                # doctest: +SKIP

Control candidates (a positive and a negative control in a study with known truth) are judged too, and their
expectation verdicts block when the study cannot tell a good model from a bad one (:mod:`.controls`).
See docs/gates.md.
"""
from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from ground_truth.kernel import write_text_atomic

from .controls import (CONTROL_KINDS, CONTROL_RULE_ID, KPI_SECTIONS, control_lines, controls_of, controls_summary,
                       expectation_verdict)
from .evaluate import evaluate_policy
from .junit import junit_xml, write_junit
from .policy import (MODES, OPERATORS, SEVERITIES, GateRule, Policy, load_policy, policy_from_dict,
                     sample_policy_path, write_sample_policy)
from .verdict import STATUSES, GateVerdict, exit_code, format_number, summarize

#: Version of the gates.json document. 2 added the controls: ``control``, ``would_block``, ``expected_outcome``,
#: ``actual_outcome`` on every verdict, one "control-expectation" verdict per control, ``summary.controls``, and
#: ``summary.candidates`` lists the real candidates only.
GATES_SCHEMA_VERSION = 2


def verdicts_document(verdicts: list[GateVerdict], policy: Policy, *, results_path: str | None = None
                      ) -> dict[str, Any]:
    """The JSON document ``stancebench gate --json`` writes: policy identity, summary, verdicts."""
    return {"schema_version": GATES_SCHEMA_VERSION, "kind": "stancebench.gate-verdicts",
            "policy": {"name": policy.name, "source": policy.source, "sha256": policy.sha256},
            "results": results_path, "summary": summarize(verdicts),
            "verdicts": [v.to_dict() for v in verdicts]}


def write_verdicts_json(verdicts: list[GateVerdict], policy: Policy, path: str | PathLike, *,
                        results_path: str | None = None) -> Path:
    """Write :func:`verdicts_document` as JSON, atomically (OutputError on a full disk; nothing half-written)."""
    doc = verdicts_document(verdicts, policy, results_path=results_path)
    return write_text_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", field="--json")


__all__ = ["CONTROL_KINDS", "CONTROL_RULE_ID", "GATES_SCHEMA_VERSION", "GateRule", "GateVerdict", "KPI_SECTIONS",
           "MODES", "OPERATORS", "Policy", "SEVERITIES", "STATUSES", "control_lines", "controls_of",
           "controls_summary", "evaluate_policy", "exit_code", "expectation_verdict", "format_number", "junit_xml",
           "load_policy", "policy_from_dict", "sample_policy_path", "summarize", "verdicts_document", "write_junit",
           "write_sample_policy", "write_verdicts_json"]
