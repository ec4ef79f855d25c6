"""Verdicts as JUnit XML (the de-facto test-report format read by GitHub Actions test reporters, Fastlane's
``trainer``/``xcpretty`` consumers, Bitrise's Test Reports, Jenkins and GitLab).

Mapping (one ``<testsuite>`` per candidate, one ``<testcase>`` per verdict):

- pass → a plain testcase;
- a verdict that blocks → ``<failure>`` (``type`` = fail or not-evaluable) or ``<error>`` (``type`` = error);
- a verdict that does not block (advisory rule, or ``allow_missing``) but did not pass → ``<skipped>`` whose
  message starts with "advisory (does not block)": CI systems show it as a warning, not a red build.

Every testcase carries the verdict message in ``<system-out>``.
"""
from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from os import PathLike
from pathlib import Path

from .verdict import GateVerdict


def _suite_counts(verdicts: list[GateVerdict]) -> dict[str, int]:
    failures = sum(v.blocks and v.status != "error" for v in verdicts)
    errors = sum(v.blocks and v.status == "error" for v in verdicts)
    skipped = sum((not v.blocks) and v.status != "pass" for v in verdicts)
    return {"tests": len(verdicts), "failures": failures, "errors": errors, "skipped": skipped}


def junit_xml(verdicts: list[GateVerdict], *, policy_name: str = "gate policy") -> ET.ElementTree:
    """Build the JUnit XML tree of the verdicts."""
    stamp = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()
    root = ET.Element("testsuites", name=f"stancebench gates: {policy_name}",
                      **{k: str(v) for k, v in _suite_counts(verdicts).items()}, time="0")
    by_cand: dict[str, list[GateVerdict]] = {}
    for v in verdicts:
        by_cand.setdefault(v.candidate, []).append(v)
    for i, (cand, vs) in enumerate(by_cand.items()):
        suite = ET.SubElement(root, "testsuite", name=f"{policy_name}: {cand}", id=str(i),
                              **{k: str(n) for k, n in _suite_counts(vs).items()}, time="0", timestamp=stamp)
        for v in vs:
            name = v.rule_id if not v.device else f"{v.rule_id} [{v.device}]"
            case = ET.SubElement(suite, "testcase", name=name, classname=f"stancebench.gates.{cand}", time="0")
            if v.blocks:
                tag = "error" if v.status == "error" else "failure"
                child = ET.SubElement(case, tag, message=v.message, type=v.status)
                child.text = f"{v.severity} rule {v.rule_id} on {v.metric}: {v.message}"
            elif v.status != "pass":
                ET.SubElement(case, "skipped", message=f"advisory (does not block): {v.message}")
            out = ET.SubElement(case, "system-out")
            out.text = v.message
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(verdicts: list[GateVerdict], path: str | PathLike, *, policy_name: str = "gate policy") -> Path:
    """Write the verdicts as a JUnit XML file (UTF-8, with XML declaration)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(verdicts, policy_name=policy_name).write(path, encoding="utf-8", xml_declaration=True)
    return path
