"""The committed JSON Schemas (for editors) match the models, and shipped files point at them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.schemas import SCHEMA_KINDS, schema_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_committed_schema_is_current(kind: str) -> None:
    committed = ROOT / "schemas" / f"{kind}.schema.json"
    expected = json.dumps(schema_for(kind), indent=2, ensure_ascii=False) + "\n"
    assert committed.read_text(encoding="utf-8") == expected, (
        f"regenerate with: alignment-engine schema {kind} > schemas/{kind}.schema.json"
    )


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_command_prints_the_schema(kind: str) -> None:
    result = CliRunner().invoke(main, ["schema", kind])
    assert result.exit_code == 0
    assert json.loads(result.output) == schema_for(kind)


def test_shipped_yaml_files_carry_the_schema_comment() -> None:
    shipped = [
        p
        for folder in ("scenarios", "policies", "rules")
        for p in sorted((ROOT / folder).rglob("*.yaml"))
        if "tests" not in p.parts
    ]
    assert shipped
    for path in shipped:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: schema comment points at a missing file"
