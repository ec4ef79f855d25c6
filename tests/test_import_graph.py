"""The import graph of the six packages, read statically (``ast``) from every module: imports inside functions
count, relative imports are resolved to absolute names, and importing by string is a violation of its own
(``importlib.import_module``, ``__import__`` or a helper such as ``need("module", ...)`` hides an edge from this
very check).

The rule (README, "Data flows one way"):

* ``ground_truth``, ``candidates`` and ``protocols`` never import ``harness`` or ``reports``; the gold standard
  (``ground_truth``) and the protocol definitions do not depend on the candidates or the device runners either;
* ``device_runners`` never imports ``candidates``, ``harness`` or ``reports``;
* ``reports`` imports from the project only itself, the results model (``harness.results`` and its submodules)
  and the kernel (``ground_truth.kernel``); those two import nothing else of the project, so the report's
  dependencies stay that small transitively.

The self-tests at the end feed the checker synthetic modules that break each rule: the check can fail.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ground_truth", "candidates", "protocols", "harness", "device_runners", "reports")


@dataclass(frozen=True)
class Rule:
    """What the modules under ``scope`` (each a package or module, with its submodules) may import."""

    scope: tuple[str, ...]
    why: str
    forbidden: tuple[str, ...] = ()          # never these (nor their submodules)
    only: tuple[str, ...] | None = None      # of the project, only these (and their submodules)


RULES = (
    Rule(("ground_truth", "protocols"), "the gold standard and the protocols sit below everything else",
         forbidden=("candidates", "device_runners", "harness", "reports")),
    Rule(("candidates",), "candidates feed the harness, never the other way",
         forbidden=("harness", "reports")),
    Rule(("device_runners",), "device runners measure model files, not candidates or studies",
         forbidden=("candidates", "harness", "reports")),
    Rule(("reports",), "the report reads the results model and the kernel only",
         only=("reports", "harness.results", "ground_truth.kernel")),
    Rule(("harness.results",), "the results model is what reports may import: it must not pull in more",
         only=("harness.results", "ground_truth.kernel")),
    Rule(("ground_truth.kernel",), "the kernel is what everything imports: it imports nothing of the project",
         only=("ground_truth.kernel",)),
)

#: Functions that import the module named by their argument.
IMPORT_FUNCTIONS = frozenset({"import_module", "__import__"})
#: Helpers known to import by string (``harness.pairing.need``); others are found by :func:`string_import_helpers`.
KNOWN_HELPERS = frozenset({"need"})


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """Absolute name of ``from <level dots><name> import ...`` in ``module``; None when it climbs above the
    top-level package."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 >= len(parts):
        return None
    base = parts[:len(parts) - (level - 1)]
    return ".".join(base + ([name] if name else []))


@dataclass(frozen=True)
class Import:
    """One import statement: the module it names, and the submodules it may name (``from X import a``)."""

    line: int
    module: str
    names: tuple[str, ...] = ()

    def targets(self) -> tuple[str, ...]:
        return (self.module,) + tuple(f"{self.module}.{n}" for n in self.names if n != "*")


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _import_aliases(tree: ast.AST) -> set[str]:
    """Local names bound to import_module / __import__ (``from importlib import import_module as im``)."""
    return {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for a in node.names if a.name in IMPORT_FUNCTIONS}


def string_import_helpers(sources: Iterable[str]) -> set[str]:
    """Names of functions that pass one of their parameters to import_module / __import__ (``need``-style)."""
    helpers = set(KNOWN_HELPERS)
    for source in sources:
        tree = ast.parse(source)
        importers = IMPORT_FUNCTIONS | _import_aliases(tree)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = fn.args
            params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if p is not None}
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and _call_name(call) in importers and any(
                        isinstance(n, ast.Name) and n.id in params
                        for arg in (*call.args, *(k.value for k in call.keywords)) for n in ast.walk(arg)):
                    helpers.add(fn.name)
    return helpers


def check_module(source: str, module: str, *, is_package: bool = False,
                 helpers: Iterable[str] = KNOWN_HELPERS) -> list[str]:
    """The import-rule violations of one module's source (``module`` is its dotted name)."""
    tree = ast.parse(source)
    out: list[str] = []
    imports: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [Import(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                imports.append(Import(node.lineno, node.module or "", tuple(a.name for a in node.names)))
                continue
            target = resolve_relative(module, is_package, node.level, node.module)
            if target is None:
                out.append(f"{module} line {node.lineno}: relative import {'.' * node.level}{node.module or ''} "
                           f"climbs above the top-level package")
            else:
                imports.append(Import(node.lineno, target, tuple(a.name for a in node.names)))
    rules = [r for r in RULES if any(_within(module, s) for s in r.scope)]
    for imp in imports:
        if not _is_project(imp.module):
            continue
        for r in rules:
            banned = next((f for f in r.forbidden if _within(imp.module, f)), None)
            if banned is not None:
                out.append(f"{module} line {imp.line}: imports {imp.module} ({r.why})")
            if r.only is not None:
                ok = any(_within(imp.module, a) for a in r.only) or (
                    imp.names and all(any(_within(t, a) for a in r.only) for t in imp.targets()[1:]))
                if not ok:
                    what = imp.module + (f" ({', '.join(imp.names)})" if imp.names else "")
                    out.append(f"{module} line {imp.line}: imports {what}; {r.why} "
                               f"(allowed: {', '.join(r.only)})")
    by_string = IMPORT_FUNCTIONS | _import_aliases(tree)
    helpers = set(helpers)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in by_string or name in helpers:
                kind = "import by string" if name in by_string else "import by string through a helper"
                out.append(f"{module} line {node.lineno}: {kind}: {ast.unparse(node)[:80]} (use a plain import "
                           f"statement, which this check can see)")
    return out


def project_modules(root: Path = ROOT) -> list[tuple[str, bool, Path]]:
    """(dotted name, is a package, file) of every module of the six packages."""
    out = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            out.append((".".join(parts[:-1] if is_package else parts), is_package, path))
    return out


def check_tree(root: Path = ROOT) -> list[str]:
    modules = [(name, is_pkg, path.read_text(encoding="utf-8")) for name, is_pkg, path in project_modules(root)]
    helpers = string_import_helpers(src for _, _, src in modules)
    return [v for name, is_pkg, src in modules for v in check_module(src, name, is_package=is_pkg, helpers=helpers)]


# ------------------------------------------------------------------------------------------------ the real tree
def test_every_package_is_read():
    seen = {name.split(".")[0] for name, _, _ in project_modules()}
    assert seen == set(PACKAGES)
    assert len(project_modules()) > 50


def test_the_import_graph_follows_the_rule():
    violations = check_tree()
    assert not violations, f"{len(violations)} import-rule violation(s):\n" + "\n".join(violations)


# -------------------------------------------------------------------------------------- the checker can fail
def test_relative_imports_resolve_to_absolute_names():
    assert resolve_relative("candidates.backbones.base", False, 1, "litert") == "candidates.backbones.litert"
    assert resolve_relative("candidates.backbones.base", False, 2, "kpis") == "candidates.kpis"
    assert resolve_relative("candidates.backbones", True, 1, "base") == "candidates.backbones.base"
    assert resolve_relative("candidates.backbones", True, 2, None) == "candidates"
    assert resolve_relative("harness.cli", False, 1, None) == "harness"
    assert resolve_relative("harness.cli", False, 2, "reports") is None


@pytest.mark.parametrize("module, source, expected", [
    # lower layers never import the harness or the report, also inside functions
    ("candidates.kpis", "def f():\n    from harness import gates\n", "imports harness"),
    ("candidates.kpis", "import reports.report\n", "imports reports.report"),
    ("ground_truth.events", "if True:\n    import harness.align as al\n", "imports harness.align"),
    ("protocols.kpis", "class K:\n    def m(self):\n        from reports import build_report\n", "imports reports"),
    ("ground_truth.sway.common", "from candidates.kpis import com_track\n", "imports candidates.kpis"),
    # device runners never import candidates
    ("device_runners.host", "def f():\n    from candidates.backbones import get_candidate\n",
     "imports candidates.backbones"),
    ("device_runners.variants", "import harness.gates\n", "imports harness.gates"),
    # reports: only itself, the results model and the kernel
    ("reports.report", "from protocols import get_kpi\n", "imports protocols"),
    ("reports.report", "from harness import gates\n", "imports harness (gates)"),
    ("reports.figures", "from ground_truth import TimeSeries\n", "imports ground_truth (TimeSeries)"),
    ("reports.figures", "from harness.agreement import interpret\n", "imports harness.agreement"),
    # the results model and the kernel stay leaves; relative imports are resolved before the check
    ("harness.results.model", "from ..align import estimate_offset\n", "imports harness.align"),
    ("ground_truth.kernel.checks", "from ..recording import Recording\n", "imports ground_truth.recording"),
    ("ground_truth.kernel", "from .. import events\n", "imports ground_truth (events)"),
    ("ground_truth.sway.common", "from ...harness import align\n", "climbs above the top-level package"),
    # importing by string, wherever it points
    ("harness.study", "import importlib\nm = importlib.import_module('harness.gates')\n", "import by string"),
    ("candidates.backbones.litert", "def f(m):\n    __import__(f'{m}.interpreter')\n", "import by string"),
    ("harness.cli", "from importlib import import_module as im\nim('harness.commands.demo')\n",
     "import by string"),
    ("harness.synthetic_study", "from .pairing import need\nf = need('device_runners.variants', 'make')\n",
     "through a helper"),
    ("harness.study", "from . import pairing\npairing.need('harness.gates', 'load_policy')\n", "through a helper"),
])
def test_the_checker_catches_each_kind_of_violation(module, source, expected):
    is_package = module in ("ground_truth.kernel",)
    found = check_module(source, module, is_package=is_package)
    assert any(expected in v for v in found), found


def test_a_helper_that_imports_its_argument_is_found_by_definition():
    helper = "import importlib\n\ndef load_by_name(name, attr=None):\n    return importlib.import_module(name)\n"
    use = "from harness.util import load_by_name\nload_by_name('candidates.kpis')\n"
    helpers = string_import_helpers([helper, use])
    assert "load_by_name" in helpers
    assert any("through a helper" in v for v in check_module(use, "harness.other", helpers=helpers))
    # a loop probing fixed third-party names is not a helper, but its __import__ is still reported
    probe = "def probe():\n    for m in ('a', 'b'):\n        __import__(m)\n"
    assert "probe" not in string_import_helpers([probe])
    assert check_module(probe, "candidates.backbones.litert")


@pytest.mark.parametrize("module, source", [
    ("candidates.kpis", "from ground_truth.kernel import InputError\nfrom . import track\nimport numpy\n"),
    ("candidates.manifest", "def f(t):\n    return _need(t, 'name', None, 'candidate', 'a name')\n"),
    ("reports.report", ("from harness.results import StudyResults\nfrom harness import results\n"
                        "from ground_truth.kernel import validate_type\nimport ground_truth.kernel.errors\n"
                        "from ground_truth import kernel\nfrom .language import koo_li_word\nimport jinja2\n")),
    ("harness.results.writer", "from .model import StudyResults\nfrom ground_truth.kernel import jsonable\n"),
    ("harness.pipeline.trial", "from candidates import kpis\nfrom reports import build_report\n"),
    ("device_runners.host", "from ground_truth.kernel import DeviceError\nfrom .record import ModelInfo\n"),
])
def test_the_checker_accepts_allowed_imports(module, source):
    assert check_module(source, module) == []


def test_the_tree_walk_reports_violations_in_files(tmp_path):
    # a miniature project: package files, a subpackage with a relative import, a helper defined in one module
    # and called in another
    files = {
        "ground_truth/__init__.py": "", "ground_truth/kernel/__init__.py": "from .errors import InputError\n",
        "ground_truth/kernel/errors.py": "class InputError(Exception):\n    pass\n",
        "candidates/__init__.py": "", "candidates/backbones/__init__.py": "from ..kpis import f\n",
        "candidates/kpis.py": "def f():\n    import harness.align\n",
        "protocols/__init__.py": "", "device_runners/__init__.py": "",
        "harness/__init__.py": "", "harness/util.py": "import importlib\n\ndef grab(m):\n"
                                                      "    return importlib.import_module(m)\n",
        "harness/study.py": "from .util import grab\ngates = grab('harness.gates')\n",
        "reports/__init__.py": "from protocols import get_kpi\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    violations = check_tree(tmp_path)
    found = "\n".join(violations)
    assert "candidates.kpis line 2: imports harness.align" in found
    assert "harness.util line 4: import by string" in found
    assert "harness.study line 2: import by string through a helper" in found
    assert "reports line 1: imports protocols" in found
    assert len(violations) == 4, found
