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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every module's imports of other modules of the package: at module level, inside
    functions and under TYPE_CHECKING alike (a late import that closes a cycle is a cycle),
    relative imports resolved, ``from package import module`` counted as the module."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {known(a.name) for a in node.names if a.name.startswith("alignment_")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                if not base.startswith("alignment_engine"):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else known(base))
        graph[name] = {m for m in found if m is not None and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_run_in_a_cycle() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
