"""Verdicts as JUnit XML (the de-facto test-report format read by GitHub Actions test reporters, Fastlane's
``trainer``/``xcpretty`` consumers, Bitrise's Test Reports, Jenkins and GitLab).

Mapping (one ``<testsuite>`` per candidate, one ``<testcase>`` per verdict):

- pass → a plain testcase;
- a verdict that blocks → ``<failure>`` (``type`` = fail or not-evaluable) or ``<error>`` (``type`` = error);
- a verdict that does not block (advisory rule, or ``allow_missing``) but did not pass → ``<skipped>`` whose
  message starts with "advisory (does not block)": CI systems show it as a warning, not a red build.

A control candidate (:mod:`harness.gates.controls`) is one ``<testsuite>`` named "<policy>: control <name>" with
ONE ``<testcase>``, its expectation, named for what is expected ("control negative-control is blocked as
expected", "control truth passes every blocking gate as expected": the name does not change with the outcome, so
CI keeps the test's history): a ``<failure>`` when the control misbehaved or was not judged, else a pass. Its
rule verdicts (a negative control's are meant to fail) are listed in that case's ``<system-out>``, not as
cases of their own, so that a negative control doing its job never turns a build red.

Every testcase carries the verdict message in ``<system-out>``.
"""
from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from ground_truth.kernel import atomic_output

from .controls import CONTROL_RULE_ID, case_name
from .verdict import GateVerdict


@dataclass
class _Case:
    name: str
    classname: str
    outcome: str          # "pass" | "failure" | "error" | "skipped"
    message: str
    text: str
    out: str
    type: str = ""


def _rule_case(v: GateVerdict) -> _Case:
    name = v.rule_id if not v.device else f"{v.rule_id} [{v.device}]"
    outcome = ("error" if v.status == "error" else "failure") if v.blocks else "skipped" if v.status != "pass" \
        else "pass"
    message = f"advisory (does not block): {v.message}" if outcome == "skipped" else v.message
    return _Case(name, f"stancebench.gates.{v.candidate}", outcome, message,
                 f"{v.severity} rule {v.rule_id} on {v.metric}: {v.message}", v.message, v.status)


def _control_case(expectation: GateVerdict, rules: list[GateVerdict]) -> _Case:
    lines = [expectation.message, f"expected: {expectation.expected_outcome}; actual: {expectation.actual_outcome}",
             "verdicts of the control's rules (they never block a release themselves):"]
    lines += [f"  [{v.status}] {v.severity} {v.rule_id}: {v.message}" + (" (stops this control)" if v.would_block
                                                                           else "") for v in rules]
    return _Case(case_name(expectation.candidate, expectation.control or ""),
                 f"stancebench.controls.{expectation.candidate}", "pass" if not expectation.blocks else "failure",
                 expectation.message, f"expected: {expectation.expected_outcome}; actual: "
                 f"{expectation.actual_outcome}: {expectation.message}", "\n".join(lines), expectation.status)


def _suites(verdicts: list[GateVerdict], policy_name: str) -> list[tuple[str, list[_Case]]]:
    by_cand: dict[str, list[GateVerdict]] = {}
    for v in verdicts:
        by_cand.setdefault(v.candidate, []).append(v)
    suites = []
    for cand, vs in by_cand.items():
        exp = [v for v in vs if v.rule_id == CONTROL_RULE_ID and v.control]
        if exp:
            rules = [v for v in vs if v.rule_id != CONTROL_RULE_ID]
            suites.append((f"{policy_name}: control {cand}", [_control_case(exp[0], rules)]))
        else:
            suites.append((f"{policy_name}: {cand}", [_rule_case(v) for v in vs]))
    return suites


def _counts(cases: list[_Case]) -> dict[str, int]:
    return {"tests": len(cases), "failures": sum(c.outcome == "failure" for c in cases),
            "errors": sum(c.outcome == "error" for c in cases), "skipped": sum(c.outcome == "skipped" for c in cases)}


def junit_xml(verdicts: list[GateVerdict], *, policy_name: str = "gate policy") -> ET.ElementTree:
    """Build the JUnit XML tree of the verdicts."""
    stamp = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()
    suites = _suites(verdicts, policy_name)
    every = [c for _, cases in suites for c in cases]
    root = ET.Element("testsuites", name=f"stancebench gates: {policy_name}",
                      **{k: str(v) for k, v in _counts(every).items()}, time="0")
    for i, (suite_name, cases) in enumerate(suites):
        suite = ET.SubElement(root, "testsuite", name=suite_name, id=str(i),
                              **{k: str(n) for k, n in _counts(cases).items()}, time="0", timestamp=stamp)
        for c in cases:
            case = ET.SubElement(suite, "testcase", name=c.name, classname=c.classname, time="0")
            if c.outcome in ("failure", "error"):
                child = ET.SubElement(case, c.outcome, message=c.message, type=c.type)
                child.text = c.text
            elif c.outcome == "skipped":
                ET.SubElement(case, "skipped", message=c.message)
            out = ET.SubElement(case, "system-out")
            out.text = c.out
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(verdicts: list[GateVerdict], path: str | PathLike, *, policy_name: str = "gate policy") -> Path:
    """Write the verdicts as a JUnit XML file (UTF-8, with XML declaration), atomically: a full disk is an
    OutputError and leaves no 0-byte or partial file for the CI to read as a test report."""
    with atomic_output(path, "wb", field="--junit") as fh:
        junit_xml(verdicts, policy_name=policy_name).write(fh, encoding="utf-8", xml_declaration=True)
    return Path(path)
