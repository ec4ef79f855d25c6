"""Gate policies: rules declared in TOML, kept separate from the results they judge (as Evidently does).

A policy file::

    [policy]
    name = "release policy"
    baseline = "mediapipe-full"        # optional; default: the candidate flagged baseline=true in results

    [[rule]]
    id = "com-path-icc"
    metric = "agreement.icc_ci_low"    # section.field[.subfield] of results.json
    kpi = "com_path_length"            # shorthand for where.kpi (condition defaults to "all" in agreement)
    op = ">="
    threshold = 0.75
    severity = "blocking"              # or "advisory"

See docs/gates.md for every field.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ground_truth.kernel import ManifestError, validate_type

from ..results import CONTROL_RULE_ID

#: A baseline named ``channel:NAME`` is a release channel's current model, resolved from the results store and added
#: to the results as a candidate of that very name before the gates judge them (harness.store.baseline).
CHANNEL_PREFIX = "channel:"
#: Operators with their printed symbol. Unicode spellings are accepted too.
OPERATORS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
_OP_ALIASES = {"≥": ">=", "≤": "<=", "=": "==", "≠": "!="}
SEVERITIES = ("blocking", "advisory")
MODES = ("absolute", "difference", "ratio", "non-inferiority")
STATS = ("mean", "median", "min", "max", "p50", "p90", "p95", "p99")
#: The rule id of the controls' expectation verdicts (part of the results contract, harness.results).
RESERVED_RULE_ID = CONTROL_RULE_ID

#: Sections of results.json a rule may read, and the fields their rows are documented to have
#: (docs/results-schema.md). ``device`` rows are device-runner records with nested fields, checked against the
#: data only. Fields present in the results rows are accepted too (the schema may grow).
SECTION_FIELDS: dict[str, tuple[str, ...] | None] = {
    "agreement": ("candidate", "kpi", "protocol", "condition", "unit", "n", "n_subjects", "bias", "bias_ci_low",
                  "bias_ci_high", "sd", "multiplier", "loa_lower", "loa_lower_ci_low", "loa_lower_ci_high",
                  "loa_upper", "loa_upper_ci_low", "loa_upper_ci_high", "icc_type", "icc", "icc_ci_low",
                  "icc_ci_high", "icc_interpretation", "ccc", "ccc_ci_low", "ccc_ci_high", "mae", "mae_ci_low",
                  "mae_ci_high", "n_censored", "note"),
    "categorical": ("candidate", "kpi", "protocol", "labels", "confusion", "kappa", "kappa_ci_low", "kappa_ci_high",
                    "weights", "n"),
    "comparisons": ("candidate", "baseline", "kpi", "protocol", "metric", "diff", "diff_ci_low", "diff_ci_high",
                    "n_subjects", "method"),
    "candidates": ("name", "kind", "model_sha256", "model_bytes", "precision", "runtime", "baseline", "control",
                   "view"),
    "trials": ("trial_id", "subject", "protocol", "condition", "candidate", "status", "reason", "detection_rate",
               "alignment", "kpis"),
    "device": None,
    # the backbone comparison's rows (harness.backbones_table; built from the results when the section is absent)
    "backbones": ("candidate", "kpi", "protocol", "condition", "unit", "n", "model_bytes", "host_p50_ms",
                  "host_p90_ms", "loa_lower", "loa_upper", "loa_width", "loa_lower_ci_low", "loa_upper_ci_high",
                  "icc_type", "icc", "icc_ci_low", "icc_ci_high", "pareto", "dominated_by", "note"),
}
#: Printed names of fields no other default names well (a rule's ``label`` overrides them).
DEFAULT_LABELS = {"backbones.pareto": "on the cost/agreement Pareto front (1 yes, 0 no)"}

_POLICY_KEYS = {"name", "description", "baseline"}
_RULE_KEYS = {"id", "description", "metric", "op", "threshold", "margin", "severity", "where", "kpi", "condition",
              "abs", "stat", "scale", "unit", "label", "candidates", "mode", "baseline", "allow_missing",
              "max_size_ratio"}


@dataclass(frozen=True)
class GateRule:
    """One rule of a policy (see docs/gates.md for the meaning of each field)."""

    id: str
    metric: str
    op: str
    threshold: float
    severity: str = "blocking"
    where: dict[str, Any] = field(default_factory=dict)
    abs: bool = False
    stat: str | None = None
    scale: float = 1.0
    unit: str | None = None
    label: str | None = None
    candidates: tuple[str, ...] = ()
    mode: str = "absolute"
    baseline: str | None = None
    allow_missing: bool = False
    description: str = ""
    #: also require model_bytes(candidate) / model_bytes(baseline) <= this (0.7: at least 30 % smaller)
    max_size_ratio: float | None = None

    @property
    def section(self) -> str:
        return self.metric.split(".", 1)[0]

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.metric.split(".")[1:])

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "metric": self.metric, "op": self.op, "threshold": self.threshold,
                "severity": self.severity, "where": dict(self.where), "abs": self.abs, "stat": self.stat,
                "scale": self.scale, "unit": self.unit, "label": self.label, "candidates": list(self.candidates),
                "mode": self.mode, "baseline": self.baseline, "allow_missing": self.allow_missing,
                "description": self.description, "max_size_ratio": self.max_size_ratio}


@dataclass(frozen=True)
class Policy:
    """A named list of gate rules; ``source``/``sha256`` say which file it came from (None if built in code)."""

    rules: tuple[GateRule, ...]
    name: str = "gate policy"
    description: str = ""
    baseline: str | None = None
    source: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "baseline": self.baseline,
                "source": self.source, "sha256": self.sha256, "rules": [r.to_dict() for r in self.rules]}


def _err(msg: str, file, rule_id: str | None, key: str | None = None, expected: str | None = None):
    where = f"rule '{rule_id}'" if rule_id else "policy"
    fld = f"{where}.{key}" if key else where
    return ManifestError(msg, file=file, field=fld, expected=expected)


def _number(value, file, rule_id, key) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise _err(f"{value!r} is not a finite number", file, rule_id, key, "a number")
    return float(value)


def _parse_rule(raw: Any, index: int, policy_baseline: str | None, file) -> GateRule:
    if not isinstance(raw, dict):
        raise _err(f"rule #{index + 1} is not a table", file, None, f"rule[{index}]", "[[rule]] tables")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise _err(f"rule #{index + 1} has no id", file, None, f"rule[{index}].id", "a non-empty string")
    if rid == RESERVED_RULE_ID:
        raise _err(f"rule id {rid!r} is reserved for the controls' expectation verdicts", file, rid, "id",
                   "another id")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise _err(f"unknown field(s) {', '.join(unknown)}", file, rid, unknown[0],
                   f"only {', '.join(sorted(_RULE_KEYS))}")
    mode = raw.get("mode", "absolute")
    if mode not in MODES:
        raise _err(f"unknown mode {mode!r}", file, rid, "mode", f"one of {', '.join(MODES)}")
    metric = raw.get("metric", "comparisons.diff_ci_high" if mode == "non-inferiority" else None)
    if not isinstance(metric, str) or not metric:
        raise _err("missing metric", file, rid, "metric", "a path such as 'agreement.icc_ci_low'")
    parts = metric.split(".")
    if parts[0] not in SECTION_FIELDS or len(parts) < 2 or not all(parts):
        raise _err(f"unknown metric path {metric!r}", file, rid, "metric",
                   f"SECTION.FIELD with SECTION one of {', '.join(SECTION_FIELDS)}")
    if mode == "non-inferiority" and metric != "comparisons.diff_ci_high":
        raise _err(f"a non-inferiority rule is judged on the upper CI bound of the paired difference, not {metric!r}",
                   file, rid, "metric", "'comparisons.diff_ci_high' (or leave metric out)")
    # strict, as harness.agreement.compare_errors: non-inferior when the upper bound is below the margin
    op = raw.get("op", "<" if mode == "non-inferiority" else None)
    op = _OP_ALIASES.get(op, op)
    if op not in OPERATORS:
        raise _err(f"unknown operator {raw.get('op')!r}", file, rid, "op", f"one of {', '.join(OPERATORS)}")
    if mode == "non-inferiority" and op not in ("<=", "<"):
        raise _err(f"operator {op!r} makes no sense for non-inferiority", file, rid, "op", "'<=' or '<'")
    if "threshold" in raw and "margin" in raw:
        raise _err("give threshold or margin, not both", file, rid, "margin")
    key = "margin" if "margin" in raw else "threshold"
    if key not in raw:
        raise _err("missing threshold", file, rid, "threshold", "a number (or margin for non-inferiority)")
    threshold = _number(raw[key], file, rid, key)
    severity = raw.get("severity", "blocking")
    if severity not in SEVERITIES:
        raise _err(f"unknown severity {severity!r}", file, rid, "severity", "'blocking' or 'advisory'")
    where = raw.get("where", {})
    if not isinstance(where, dict):
        raise _err("where must be a table of field = value", file, rid, "where", "e.g. where = {kpi = \"...\"}")
    where = dict(where)
    for short in ("kpi", "condition"):
        if short in raw:
            if short in where and where[short] != raw[short]:
                raise _err(f"{short} given twice with different values", file, rid, short)
            where[short] = raw[short]
    stat = raw.get("stat")
    if stat is not None and stat not in STATS:
        raise _err(f"unknown stat {stat!r}", file, rid, "stat", f"one of {', '.join(STATS)}")
    cands = raw.get("candidates", [])
    if isinstance(cands, str):
        cands = [cands]
    if not isinstance(cands, list) or not all(isinstance(c, str) for c in cands):
        raise _err("candidates must be a list of names", file, rid, "candidates")
    for key_ in ("abs", "allow_missing"):
        if key_ in raw and not isinstance(raw[key_], bool):
            raise _err(f"{raw[key_]!r} is not true/false", file, rid, key_, "a boolean")
    for key_ in ("unit", "label", "description", "baseline"):
        if key_ in raw and not isinstance(raw[key_], str):
            raise _err(f"{raw[key_]!r} is not a string", file, rid, key_, "a string")
    size_ratio = None
    if "max_size_ratio" in raw:
        size_ratio = _number(raw["max_size_ratio"], file, rid, "max_size_ratio")
        if size_ratio <= 0:
            raise _err(f"max_size_ratio {size_ratio:g} is not positive", file, rid, "max_size_ratio",
                       "a ratio such as 0.7 (at least 30 % smaller than the baseline)")
        if mode == "absolute":
            raise _err("max_size_ratio compares the candidate's model with the baseline's, so it needs a relative "
                       "mode", file, rid, "max_size_ratio", "mode = non-inferiority, difference or ratio")
    return GateRule(id=rid, metric=metric, op=op, threshold=threshold, severity=severity, where=where,
                    abs=raw.get("abs", False), stat=stat,
                    scale=_number(raw.get("scale", 1.0), file, rid, "scale"), unit=raw.get("unit"),
                    label=raw.get("label", DEFAULT_LABELS.get(metric)), candidates=tuple(cands), mode=mode,
                    baseline=raw.get("baseline", policy_baseline), allow_missing=raw.get("allow_missing", False),
                    description=raw.get("description", ""), max_size_ratio=size_ratio)


def policy_from_dict(data: dict[str, Any], *, file: str | PathLike | None = None,
                     sha256: str | None = None) -> Policy:
    """Build a :class:`Policy` from parsed TOML data; ManifestError naming the file, rule and field otherwise."""
    if not isinstance(data, dict):
        raise ManifestError("policy must be a table", file=file)
    unknown = sorted(set(data) - {"policy", "rule"})
    if unknown:
        raise _err(f"unknown top-level key(s) {', '.join(unknown)}", file, None, unknown[0],
                   "a [policy] table and [[rule]] tables")
    head = data.get("policy", {})
    if not isinstance(head, dict):
        raise _err("[policy] must be a table", file, None)
    bad = sorted(set(head) - _POLICY_KEYS)
    if bad:
        raise _err(f"unknown field(s) {', '.join(bad)}", file, None, bad[0], f"only {', '.join(sorted(_POLICY_KEYS))}")
    rules_raw = data.get("rule", [])
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _err("no rules", file, None, "rule", "at least one [[rule]] table")
    rules = [_parse_rule(r, i, head.get("baseline"), file) for i, r in enumerate(rules_raw)]
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _err(f"duplicate rule id(s) {', '.join(dup)}", file, dup[0], "id", "unique ids")
    return Policy(rules=tuple(rules), name=str(head.get("name", "gate policy")),
                  description=str(head.get("description", "")), baseline=head.get("baseline"),
                  source=None if file is None else str(file), sha256=sha256)


def with_baseline(policy: Policy, baseline: str) -> Policy:
    """The policy judged against another baseline (``stancebench gate --baseline``).

    ``baseline`` replaces the policy's baseline, and that of every rule that inherited it; a rule that names a
    baseline of its own keeps it. A baseline ``"channel:NAME"`` is a release channel's stored model, which
    :func:`harness.store.baseline.with_channel_baseline` adds to the results as a candidate of that name.
    """
    rules = tuple(dataclasses.replace(r, baseline=baseline) if r.baseline == policy.baseline else r
                  for r in policy.rules)
    return dataclasses.replace(policy, rules=rules, baseline=baseline)


def load_policy(path: str | PathLike) -> Policy:
    """Read and validate a gate policy TOML file.

    Raises
    ------
    ManifestError
        Missing file, invalid TOML, unknown metric section, operator, severity, mode or field; the message
        names the file, the rule id and the field.
    """
    validate_type(path, "path-like", "path")
    path = Path(path)
    if not path.is_file():
        raise ManifestError("policy file not found", file=path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"not valid TOML ({exc})", file=path) from None
    return policy_from_dict(data, file=path, sha256=hashlib.sha256(raw).hexdigest())


def sample_policy_path() -> Path:
    """The sample policy shipped with stancebench (package data)."""
    return Path(__file__).with_name("sample_policy.toml")


def write_sample_policy(directory: str | PathLike) -> Path:
    """Copy the sample policy to ``DIRECTORY/policy.toml`` (what ``stancebench demo`` does) and return its path."""
    out = Path(directory) / "policy.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(sample_policy_path().read_bytes())
    return out
