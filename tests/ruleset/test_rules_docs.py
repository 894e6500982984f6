"""docs/rules.md documents every fact type and field, and its examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alignment_engine.ruleset.facts import BASE_FACT_TYPES, DERIVED_FACT_TYPES
from alignment_engine.ruletests import run_rule_tests

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
TEXT = DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted({**BASE_FACT_TYPES, **DERIVED_FACT_TYPES}))
def test_every_fact_type_and_field_is_documented(name: str) -> None:
    fact_type = {**BASE_FACT_TYPES, **DERIVED_FACT_TYPES}[name]
    section = re.search(rf"^### `{name}`\n(.*?)(?=^##|\Z)", TEXT, re.M | re.S)
    assert section, f"docs/rules.md has no section '### `{name}`'"
    for field, kind in fact_type.fields.items():
        assert f"| `{field}` | {kind} |" in section.group(1), f"{name}.{field} is not documented"


def test_the_rule_test_example_passes(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(kind: rule-tests\n.*?)```", TEXT, re.S)
    assert len(blocks) == 1
    (tmp_path / "example.yaml").write_text(blocks[0], encoding="utf-8")
    report = run_rule_tests(tmp_path)
    assert report.passed, report.to_dict()
    assert len(report.cases) == 2
