"""Documentation stays complete: every file key and every command is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from alignment_engine.cli import main
from alignment_engine.model import Plan, Policy, Scenario
from alignment_engine.model.policy_tests import PolicyTestFile
from alignment_engine.tables import (
    ACTUALS,
    DISTRIBUTIONS,
    EMPLOYEES,
    HISTORY,
    HISTORY_ALLOCATIONS,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _sections(text: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    for match in re.finditer(r"^### (\w+)[^\n]*\n(.*?)(?=^##|\Z)", text, re.M | re.S):
        sections[match.group(1)] = match.group(2)
    return sections


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}

    def visit(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ not in found:
                found[annotation.__name__] = annotation
                for info in annotation.model_fields.values():
                    visit(info.annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(root)
    return found


MODELS = {
    **_models(Plan),
    **_models(Policy),
    **_models(Scenario),
    **_models(PolicyTestFile),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_key_is_documented(name: str) -> None:
    sections = _sections((DOCS / "file-formats.md").read_text(encoding="utf-8"))
    section_name = "KPI" if name == "Kpi" else name
    assert section_name in sections, f"docs/file-formats.md has no section '### {section_name}'"
    model = MODELS[name]
    own = set(model.model_fields)
    if name == "SharedGoal":
        own = {"departments"}
    for field, info in model.model_fields.items():
        if field not in own:
            continue
        key = info.alias or field
        assert f"| `{key}` |" in sections[section_name], f"{name}.{key} is not documented"


@pytest.mark.parametrize(
    "spec",
    [ACTUALS, EMPLOYEES, HISTORY, HISTORY_ALLOCATIONS, DISTRIBUTIONS],
    ids=lambda s: s.name,
)
def test_every_table_column_is_documented(spec: object) -> None:
    text = (DOCS / "file-formats.md").read_text(encoding="utf-8")
    for column in spec.columns:  # type: ignore[attr-defined]
        assert f"| `{column}` |" in text


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += _commands(command, full + " ")
    return found


@pytest.mark.parametrize(
    ("name", "command"), _commands(main), ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_every_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    assert command.help, f"'{name}' has no help text"
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"## `alignment-engine {name}`" in text or f"### `alignment-engine {name}`" in text, (
        f"docs/cli.md does not document 'alignment-engine {name}'"
    )


def test_the_code_cites_only_documents_in_this_repository() -> None:
    # Readers of a clone have docs/ and README.md, not the product brief or notes beside it.
    source = Path(__file__).resolve().parent.parent / "src" / "alignment_engine"
    outside = re.compile(r"\bSPEC\b|DESIGN\.md|/work/|\.\./shared|shared/notes")
    cited = [
        f"{path.relative_to(source)}:{number}"
        for path in sorted(source.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if outside.search(line)
    ]
    assert cited == []


def _documented_defaults(section: str) -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| [^|]* \| ([^|]*) \|", section, re.M)
    return {key: default.strip() for key, default in rows}


def test_a_policy_key_documented_with_a_default_can_be_left_out(tmp_path: Path) -> None:
    """The docs' default column is a promise: leaving such a key out of the shipped policy
    still loads ('required' keys are the ones that may not be left out)."""
    import yaml

    from alignment_engine.errors import InputError
    from alignment_engine.loading import policy_from_yaml

    sections = _sections((DOCS / "file-formats.md").read_text(encoding="utf-8"))
    defaults = _documented_defaults(sections["Policy"])
    shipped = Path(__file__).resolve().parent.parent / "policies" / "annual-bonus-2026.yaml"
    document = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    assert defaults, "no rows read from the Policy section"
    for key, default in defaults.items():
        if key not in document or not default:
            continue
        reduced = tmp_path / f"without-{key}.yaml"
        without = {k: v for k, v in document.items() if k != key}
        reduced.write_text(yaml.safe_dump(without, allow_unicode=True), encoding="utf-8")
        if default == "required":
            with pytest.raises(InputError):
                policy_from_yaml(reduced)
        else:
            policy_from_yaml(reduced)


def test_the_library_reference_documents_every_public_name_and_is_current() -> None:
    """docs/library.md is generated from the docstrings; every name of ``alignment_engine.__all__``
    must have one of its own, and the page must be what the code says now."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "tools" / "library_reference.py"
    spec = importlib.util.spec_from_file_location("library_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import alignment_engine

    for name in alignment_engine.__all__:
        if name in module.TABLES or name == "__version__":
            continue
        assert module.own_doc(getattr(alignment_engine, name)), f"{name} has no docstring"
        assert f"## `{name}`" in (DOCS / "library.md").read_text(encoding="utf-8")
    assert (DOCS / "library.md").read_text(encoding="utf-8") == module.render(), (
        "docs/library.md is out of date: run .venv/bin/python tools/library_reference.py"
    )
