"""The dependency rules of DESIGN.md, checked: the core stays free of the edges."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "alignment_engine"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules_importing(prefix: str) -> list[str]:
    return sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == prefix or name.startswith(prefix + ".") for name in _imports(path))
    )


def test_engine_import_loads_no_edge_libraries() -> None:
    code = (
        "import sys, alignment_engine.engine, alignment_engine.loading\n"
        "edges = ['click', 'fastapi', 'sqlalchemy', 'uvicorn', 'starlette', 'alembic']\n"
        "print(','.join(m for m in edges if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_only_the_adapter_imports_durable_rules() -> None:
    assert _modules_importing("durable") in ([], ["ruleset/_durable.py"])


def test_only_optimisation_imports_scipy_optimize() -> None:
    offenders = [
        m for m in _modules_importing("scipy.optimize") if not m.startswith("optimisation/")
    ]
    assert offenders == []


PURE_CORE = [
    "model",
    "scoring",
    "optimisation",
    "conflicts.py",
    "alignment.py",
    "scenarios/paths.py",
    "scenarios/sweeps.py",
    "scenarios/compare.py",
]


@pytest.mark.parametrize("core", PURE_CORE)
def test_pure_core_does_no_io_and_imports_no_edges(core: str) -> None:
    edges = (
        "click",
        "fastapi",
        "sqlalchemy",
        "uvicorn",
        "durable",
        "alignment_engine.cli",
        "alignment_engine.service",
        "alignment_engine.storage",
        "alignment_engine.loading",
        "alignment_engine.tables",
    )
    target = PACKAGE / core
    paths = [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert paths
    for path in paths:
        for name in _imports(path):
            assert not name.startswith(edges), f"{path.relative_to(PACKAGE)} imports {name}"
