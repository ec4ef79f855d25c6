"""Quality control of keypoint annotations against a labelling guideline (:mod:`.guideline`).

``run_qc(sets, guideline)`` runs every rule of the guideline on every :class:`AnnotationSet` and returns a
:class:`QCResult`: a tidy table of findings (one row per defect, naming file, item, frame, annotator, person and
keypoint) and one verdict per rule, a :class:`harness.gates.GateVerdict` with the gates' semantics (pass / fail /
error / not-evaluable; a blocking rule that fails, errs, or has nothing to examine without ``allow_missing``
blocks; :func:`harness.gates.exit_code` gives 1 when any verdict blocks).

This module judges; the rules are defined, each with its method and sources, where they are computed:

- :mod:`.qc_persons`: what the rules examine and the definitions they share (labelled point, person, person
  size, track and step);
- :mod:`.qc_person_rules`: the rules on single persons (required-keypoints, visibility,
  left-right-swap-geometry, outside-image, duplicate-persons);
- :mod:`.qc_track_rules`: the rules on tracks and frames (left-right-swap-temporal, bone-length,
  frames-beyond-video, sudden-jump).

Their parameters and defaults are in :data:`harness.annotations.guideline.KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from candidates.annotations.model import AnnotationSet
from harness.gates import GateVerdict, exit_code

from .guideline import Guideline, QCRule
from .keypoint_metrics import COCO17_SIGMAS
from .qc_person_rules import CHECKS as PERSON_CHECKS
from .qc_persons import fmt, persons_of
from .qc_track_rules import CHECKS as TRACK_CHECKS

#: COCO's per-keypoint OKS constants σ by keypoint name, as the duplicate-persons rule uses them
#: (:data:`harness.annotations.keypoint_metrics.COCO17_SIGMAS`).
COCO_SIGMAS = COCO17_SIGMAS

#: Columns (and dtypes) of :attr:`QCResult.findings`.
FINDING_COLUMNS = {
    "file": "string", "item": "string", "frame": "Int64", "annotator": "string", "person": "string",
    "keypoint": "string",   # the keypoint, a bone "a-b", or "" for a finding about a whole person or frame
    "rule_id": "string", "kind": "string", "severity": "string", "message": "string",
    "value": "float64",     # the measured quantity the message states (see each kind)
}

_CANDIDATE = "annotations"
_CHECKS = {**PERSON_CHECKS, **TRACK_CHECKS}


# ----------------------------------------------------------------------------------------------------- verdicts
def _verdict(rule: QCRule, n: int, examined: int, notes: list[str], error: str | None) -> GateVerdict:
    spec = rule.spec
    fraction = rule.max_fraction is not None
    threshold = 100.0 * rule.max_fraction if fraction else float(rule.max_findings)
    unit = "%" if fraction else "findings"
    thr = f"{fmt(threshold)}%" if fraction else fmt(threshold)
    actual: float | None = None
    reason = None
    if error:
        status, reason = "error", error
    elif examined == 0:
        status = "not-evaluable"
        reason = f"nothing to examine: {notes[0]}" if notes else "nothing to examine"
    else:
        actual = 100.0 * n / examined if fraction else float(n)
        status = "pass" if actual <= threshold + 1e-12 else "fail"
    if status in ("pass", "fail"):
        shown = (f"{fmt(actual)}% ({n} of {examined} {spec.unit})" if fraction
                 else f"{n} (in {examined} {spec.unit})")
        message = f"{spec.label} {shown} ≤ {thr}: {status}"
    else:
        message = f"{spec.label} ≤ {thr}: {status} ({reason})"
    blocks = rule.blocking and (status in ("fail", "error") or (status == "not-evaluable" and not rule.allow_missing))
    return GateVerdict(rule_id=rule.id, candidate=_CANDIDATE, status=status, severity=rule.severity, blocks=blocks,
                       metric=f"annotations.{rule.kind}", label=spec.label, op="<=", threshold=threshold,
                       actual=actual, unit=unit, message=message, reason=reason, description=rule.description,
                       would_block=blocks)


@dataclass
class QCResult:
    """What :func:`run_qc` found.

    Attributes
    ----------
    guideline : Guideline
    files : list of str
        The sources of the sets checked, in order.
    verdicts : list of GateVerdict
        One per rule, in the guideline's order; ``actual`` is the number of findings (``unit`` "findings") or
        their percentage of the units examined (``unit`` "%", when the rule sets ``max_fraction``).
    findings : pandas.DataFrame
        One row per finding, columns :data:`FINDING_COLUMNS`.
    examined : dict
        Rule id → number of units the rule examined (the denominator of ``max_fraction``).
    notes : dict
        Rule id → what the rule could not examine and why (persons without a size, items without a size ...).
    """

    guideline: Guideline
    files: list[str]
    verdicts: list[GateVerdict]
    findings: pd.DataFrame
    examined: dict[str, int]
    notes: dict[str, list[str]]

    @property
    def exit_code(self) -> int:
        """1 when a verdict blocks (as :func:`harness.gates.exit_code`), else 0."""
        return exit_code(self.verdicts)

    def summary(self) -> dict[str, Any]:
        counts = {s: sum(v.status == s for v in self.verdicts) for s in ("pass", "fail", "error", "not-evaluable")}
        per_rule = self.findings["rule_id"].value_counts()
        return {"rules": len(self.verdicts), **counts, "blocking": sum(v.blocks for v in self.verdicts),
                "findings": int(len(self.findings)),
                "findings_per_rule": {r.id: int(per_rule.get(r.id, 0)) for r in self.guideline.rules},
                "exit_code": self.exit_code}

    def findings_records(self) -> list[dict[str, Any]]:
        """The findings as JSON-ready records (missing values as None)."""
        frame = self.findings.astype(object).where(self.findings.notna(), None)
        return frame.to_dict(orient="records")

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "kind": "stancebench.annotation-qc",
                "guideline": {"name": self.guideline.name, "source": self.guideline.source,
                              "sha256": self.guideline.sha256, "sample": self.guideline.sample},
                "files": list(self.files), "summary": self.summary(),
                "verdicts": [v.to_dict() for v in self.verdicts],
                "examined": dict(self.examined), "notes": {k: list(v) for k, v in self.notes.items()},
                "findings": self.findings_records()}


def run_qc(sets: list[AnnotationSet], guideline: Guideline) -> QCResult:
    """Run every rule of ``guideline`` on every set.

    Parameters
    ----------
    sets : list of AnnotationSet
        Typically one per export file (several raters of one task, or several tasks).
    guideline : Guideline
        From :func:`harness.annotations.guideline.load_guideline`.

    Returns
    -------
    QCResult
        Findings and one verdict per rule, judged over all sets together.

    Notes
    -----
    Methods and their sources are in the docstrings of the rules' modules (listed in this module's docstring):
    OKS and the COCO σ from cocoeval.py (``computeOks``, ``kpt_oks_sigmas``); the OKS-NMS threshold 0.9 from
    mmpose ``oks_nms``; the swap and jump rules are defined there.
    """
    persons = [persons_of(s) for s in sets]
    rows: list[dict[str, Any]] = []
    verdicts, examined, notes = [], {}, {}
    for rule in guideline.rules:
        n, total, rule_notes, error = 0, 0, [], None
        for ps in persons:
            out = _CHECKS[rule.kind](rule, ps)
            total += out.examined
            rule_notes += out.notes
            error = error or out.error
            for f in out.findings:
                f.update(rule_id=rule.id, kind=rule.kind, severity=rule.severity)
            rows += out.findings
            n += len(out.findings)
        verdicts.append(_verdict(rule, n, total, rule_notes, error))
        examined[rule.id] = total
        notes[rule.id] = [*dict.fromkeys(rule_notes)]
    for ps in persons:
        for note in ps.notes:
            notes.setdefault("(all rules)", []).append(f"{ps.file}: {note}")
    findings = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    findings = findings.astype(FINDING_COLUMNS) if len(findings) else \
        pd.DataFrame({c: pd.Series(dtype=t) for c, t in FINDING_COLUMNS.items()})
    return QCResult(guideline, [str(s.source) for s in sets], verdicts, findings, examined, notes)


__all__ = ["COCO_SIGMAS", "FINDING_COLUMNS", "QCResult", "run_qc"]
