"""The layers of docs/architecture.md hold: import-linter's contracts (pyproject.toml) are kept,
and no project import hides inside a function to dodge a cycle."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "config",
    "core",
    "outbox",
    "orders",
    "returns",
    "integrations",
    "sandbox",
    "demo",
    "api",
)


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_layer_violation_breaks_the_contract():
    """The contract is not vacuous: a domain module importing the integrations breaks it."""
    config = (ROOT / "pyproject.toml").read_text()
    probe = ROOT / "orders" / "layer_probe.py"
    probe.write_text("import integrations.services  # noqa: F401\n")
    try:
        lint_imports = Path(sys.executable).with_name("lint-imports")
        result = subprocess.run(
            [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    finally:
        probe.unlink()
    assert (ROOT / "pyproject.toml").read_text() == config
    assert result.returncode != 0
    assert "orders.layer_probe -> integrations.services" in result.stdout


def project_imports_inside_functions(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        # AppConfig.ready() is where Django wants app wiring imported (signals, registries).
        if function.name == "ready" and path.name == "apps.py":
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] in PACKAGES
            ]
    return found


def test_no_project_import_inside_a_function():
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found += project_imports_inside_functions(path)
    assert found == []
