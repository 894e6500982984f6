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


def test_a_stored_check_loads_no_table_libraries(tmp_path: Path) -> None:
    """pandas and pyarrow cost about 0.7 s to import: a check reads no table, so it waits for
    neither (the CLI end to end, the run stored)."""
    plan = Path(__file__).resolve().parent.parent / "scenarios" / "acme" / "plan.yaml"
    code = (
        "import sys\n"
        "from alignment_engine.cli import main\n"
        "try:\n"
        f"    main(['check', {str(plan)!r}, '--db', {f'sqlite:///{tmp_path}/runs.db'!r},"
        " '--format', 'json'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print('LOADED:' + ','.join(m for m in ('pandas', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.rstrip().endswith("LOADED:"), result.stdout[-300:]


LAYERS = {
    # Used by every layer: the error tree, the collector switch, canonical JSON.
    "shared": ("errors", "collector", "jsonio", "memo", "i18n"),
    # The pure core: documents, scoring, optimisation, the rule language, scenario logic.
    "core": (
        "model",
        "scoring",
        "optimisation",
        "ruleset",
        "scenarios.compare",
        "scenarios.inputs",
        "scenarios.overrides",
        "scenarios.paths",
        "scenarios.results",
        "scenarios.sweeps",
        "alignment",
        "conflicts",
        "reach",
    ),
    # The durable_rules adapter, reached through its package's interface.
    "adapter": ("ruleset.durable",),
    # What the CLI and the service call: the facade, the run pipeline and replays, and the
    # scenarios package's own interface (its __init__: read, run and compare scenarios).
    "facade": ("", "engine", "pipeline", "replay", "jobs", "incentives", "scenarios"),
    # The core put to work for the facade.
    "orchestration": ("checking", "scenarios.runner"),
    # Files, tables, the database, reports and the two front ends.
    "edge": (
        "__main__",
        "loading",
        "tables",
        "storage",
        "reports",
        "outputs",
        "rulepacks",
        "ruletests",
        "policytests",
        "validation",
        "schemas",
        "starter",
        "scenarios.files",
        "cli",
        "service",
    ),
}
EDGE_LIBRARIES = (
    "click",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "yaml",
    "openpyxl",
    "durable",
    "durable_rules_engine",
)
FRONT_ENDS = ("alignment_engine.cli", "alignment_engine.service")


def _layer(module: str) -> str:
    """The layer of a module: the longest listed prefix wins, every module has one."""
    relative = module.removeprefix("alignment_engine").removeprefix(".")
    best, best_layer = -1, ""
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            inside = relative == prefix or (prefix and relative.startswith(prefix + "."))
            if (inside or (prefix == "" and relative == "")) and len(prefix) > best:
                best, best_layer = len(prefix), layer
    if not best_layer:
        raise AssertionError(f"{module} is in no layer of LAYERS: add it where it belongs")
    return best_layer


def _library_imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _imports(path) if not name.startswith("alignment_")}


def test_every_module_has_a_layer() -> None:
    assert {_layer(module) for module in _import_graph()} <= set(LAYERS)


def test_the_core_imports_no_edge_no_facade_and_no_edge_library() -> None:
    graph, paths = _import_graph(), _module_paths()
    allowed = {"shared", "core", "adapter"}
    offenders = []
    for module in sorted(graph):
        if _layer(module) not in ("core", "shared", "adapter"):
            continue
        offenders += [f"{module} -> {m}" for m in sorted(graph[module]) if _layer(m) not in allowed]
        libraries = _library_imports(paths[module]) & set(EDGE_LIBRARIES)
        offenders += [f"{module} -> {lib}" for lib in sorted(libraries)]
    assert offenders == []


def test_the_front_ends_reach_the_core_only_through_the_facade() -> None:
    graph = _import_graph()
    offenders = [
        f"{module} -> {imported}"
        for module in sorted(graph)
        if module.startswith(FRONT_ENDS)
        for imported in sorted(graph[module])
        if _layer(imported) not in ("shared", "facade", "edge")
    ]
    assert offenders == []


def test_nothing_reaches_into_the_durable_adapter_past_its_interface() -> None:
    graph = _import_graph()
    offenders = [
        f"{module} -> {imported}"
        for module in sorted(graph)
        if _layer(module) != "adapter"
        for imported in sorted(graph[module])
        if imported.startswith("alignment_engine.ruleset.durable.")
    ]
    assert offenders == []


def test_only_the_adapter_loads_durable_rules() -> None:
    loaders = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "durable_rules_engine" in path.read_text(encoding="utf-8")
        or "durable" in _library_imports(path)
    )
    assert loaders == ["ruleset/durable/engine.py"]


def test_only_optimisation_imports_scipy_optimize() -> None:
    offenders = [
        m for m in _modules_importing("scipy.optimize") if not m.startswith("optimisation/")
    ]
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_paths() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


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


def test_a_module_in_no_layer_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="in no layer"):
        _layer("alignment_engine.somewhere_new")
    assert _layer("alignment_engine.ruleset.durable.engine") == "adapter"
    assert _layer("alignment_engine.ruleset.evaluation") == "core"
    assert _layer("alignment_engine.scenarios.files") == "edge"
    assert _layer("alignment_engine") == "facade"
