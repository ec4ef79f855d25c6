"""``stancebench gate`` in-process: printed verdicts, JSON and JUnit outputs, exit codes 0/1/2."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main
from test_report_fixtures import pefr_results

PASSING = """
[policy]
name = "peak flow"
[[rule]]
id = "icc"
metric = "agreement.icc_ci_low"
kpi = "peak_expiratory_flow"
op = ">="
threshold = 0.75
[[rule]]
id = "loa"
metric = "agreement.loa_upper"
kpi = "peak_expiratory_flow"
op = "<="
threshold = 50
severity = "advisory"
"""
FAILING = PASSING + """
[[rule]]
id = "bias"
metric = "agreement.bias"
abs = true
kpi = "peak_expiratory_flow"
op = "<="
threshold = 1.0
"""


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gate") / "results.json"
    path.write_text(json.dumps(pefr_results(with_device=False)), encoding="utf-8")
    return path


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_gate_passes_with_advisory_failure(tmp_path, results_file, capsys):
    pol = write(tmp_path, "ok.toml", PASSING)
    rc = main(["gate", str(results_file), "--policy", str(pol), "--json", str(tmp_path / "v.json"),
               "--junit", str(tmp_path / "v.xml")])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("[ PASS] blocking mini-wright  icc: ICC(A,1) lower 95% bound of peak_expiratory_flow 0.8574 ≥ 0.75: "
            "pass") in out
    assert ("[ FAIL] advisory mini-wright  loa: upper limit of agreement of peak_expiratory_flow 79.65 l/min ≤ "
            "50 l/min: fail") in out
    assert "mini-wright: gates passed" in out
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["kind"] == "stancebench.gate-verdicts" and doc["summary"]["exit_code"] == 0
    assert doc["policy"]["sha256"] and len(doc["verdicts"]) == 4
    assert doc["verdicts"][0]["actual"] == pytest.approx(0.8574, abs=1e-4) and doc["verdicts"][0]["status"] == "pass"
    root = ET.parse(tmp_path / "v.xml").getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0" and root.get("skipped") == "2"


def test_gate_exits_1_when_blocking_rule_fails(tmp_path, results_file, capsys):
    pol = write(tmp_path, "fail.toml", FAILING)
    rc = main(["gate", str(results_file), "--policy", str(pol), "--junit", str(tmp_path / "j.xml")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "|bias| of peak_expiratory_flow 2.118 l/min ≤ 1 l/min: fail BLOCKS" in out
    assert "mini-wright: release blocked" in out
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "2"
    # without --json the verdicts JSON still goes beside the results (the contract: print, write JSON)
    doc = json.loads(results_file.with_name("gates.json").read_text())
    assert any(v["status"] == "fail" and v["blocks"] for v in doc["verdicts"])


@pytest.mark.parametrize("policy_text, needle", [
    ("[[rule]]\nid = 'x'\nmetric = 'agreement.icc'\nop = '=>'\nthreshold = 1\n",
     "field 'rule 'x'.op': unknown operator '=>'"),
    ("[[rule]]\nid = 'x'\nmetric = 'agreement.icc_lower'\nop = '>='\nthreshold = 1\n",
     "field 'rule 'x'.metric': unknown metric path 'agreement.icc_lower'"),
    ("[[rule]]\nid = 'x'\nmetric = 'latency.p90'\nop = '>='\nthreshold = 1\n",
     "field 'rule 'x'.metric': unknown metric path 'latency.p90'"),
    ("[[rule]\nid = 'x'\n", "not valid TOML"),
])
def test_gate_exits_2_on_bad_policy(tmp_path, results_file, capsys, policy_text, needle):
    pol = write(tmp_path, "bad.toml", policy_text)
    rc = main(["gate", str(results_file), "--policy", str(pol)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("stancebench gate: error: ") and str(pol) in err and needle in err


def test_gate_exits_2_on_bad_results(tmp_path, capsys):
    pol = write(tmp_path, "ok.toml", PASSING)
    bad = write(tmp_path, "results.json", "{not json")
    assert main(["gate", str(bad), "--policy", str(pol)]) == 2
    assert "results.json: not valid JSON" in capsys.readouterr().err
    assert main(["gate", str(tmp_path / "missing.json"), "--policy", str(pol)]) == 2
    assert "missing.json: results file not found" in capsys.readouterr().err
    newer = write(tmp_path, "v9.json", json.dumps({"schema_version": 9}))
    assert main(["gate", str(newer), "--policy", str(pol)]) == 2
    assert "schema_version 9 is not supported" in capsys.readouterr().err


def test_gate_reads_schema_2_files_written_through_the_model_and_schema_1_files(tmp_path, capsys):
    from harness.results import SCHEMA_VERSION, write_results
    pol = write(tmp_path, "ok.toml", PASSING)
    res = pefr_results(with_device=False)
    written = write_results(res, tmp_path / "v2")["results"]
    assert json.loads(written.read_text())["schema_version"] == SCHEMA_VERSION == 2
    old = write(tmp_path, "v1.json", json.dumps(dict(res, schema_version=1)))
    for path in (written, old):
        assert main(["gate", str(path), "--policy", str(pol), "--json", str(tmp_path / "v.json")]) == 0
        assert "[ PASS] blocking mini-wright  icc: ICC(A,1) lower 95% bound of peak_expiratory_flow 0.8574" in \
            capsys.readouterr().out
