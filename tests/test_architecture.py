"""The layout's rules (README, Architecture), checked on the source itself.

The import direction is import-linter's contract in pyproject.toml (`lint-imports` in CI);
these tests prove that contract fails on a wrong import, and check what it cannot express:
Dagster's private APIs in one module, module size, test modules independent of each other and
every imported library declared.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "footcast"
MAX_MODULE_LINES = 600


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_import_contract_holds():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        (
            "data/schema.py",
            "from footcast.cli import main",
            "footcast.data is not allowed to import footcast.cli",
        ),
        ("models/metrics.py", "import dagster", "footcast.models is not allowed to import dagster"),
        ("quality/__init__.py", "from footcast.models import metrics", "footcast.quality"),
    ],
)
def test_the_import_contract_fails_on_a_wrong_import(tmp_path, module, wrong_import, broken):
    """A copy of the package with one import against the layers is refused by the same check CI runs."""
    shutil.copytree(PACKAGE, tmp_path / "footcast", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "footcast" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberately against the contract\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken in " ".join(result.stdout.split()), result.stdout


def test_only_one_module_imports_private_dagster_apis():
    allowed = PACKAGE / "pipelines" / "dagster_private.py"
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in _modules(PACKAGE) + _modules(REPO / "tests") + _modules(REPO / "benchmarks")
        if path != allowed
        for name in sorted(_imported_modules(path))
        if re.match(r"dagster\._", name)
    ]
    assert offenders == []


def test_no_module_is_longer_than_the_limit():
    long_modules = {
        str(path.relative_to(REPO)): n
        for path in _modules(PACKAGE)
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long_modules == {}


def test_no_test_module_imports_another():
    """Shared servers, daemons and runners live in tests/support; test modules stand alone."""
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in _modules(REPO / "tests")
        for name in sorted(_imported_modules(path))
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == []


def _declared_distributions() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {re.split(r"[\[=<>~! ;]", req, maxsplit=1)[0].lower().replace("_", "-") for req in requirements}


def test_every_imported_library_is_declared():
    """What footcast imports is a declared dependency, not something another package happens to pull in."""
    declared = _declared_distributions()
    providers = importlib.metadata.packages_distributions()
    undeclared: dict[str, list[str]] = {}
    for path in _modules(PACKAGE):
        for name in _imported_modules(path):
            top = name.split(".")[0]
            if top == "footcast" or top in sys.stdlib_module_names or top == "__future__":
                continue
            distributions = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
            if not distributions & declared:
                undeclared.setdefault(top, []).append(str(path.relative_to(REPO)))
    assert undeclared == {}
