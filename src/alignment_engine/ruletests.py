"""Rule tests: small plans (or facts) and the findings the rules must report on them.

A test file (``kind: rule-tests``) sits beside rule packs, e.g. ``rules/tests/trade-off.yaml``::

    kind: rule-tests
    id: trade-off
    rules: [trade-off]             # whose findings are compared (default: rules named in expect)
    cases:
      - name: promotions cut the margin finance must raise
        plan: {id: t, metrics: [...], influences: [...], departments: [...]}
        expect:
          - {rule: trade-off, kpis: [finance.gm, marketing.promo], message_contains: "-> gm down"}
      - name: aligned departments are not flagged
        plan: {...}
        expect: []

Each case gives ``plan:`` (inline) or ``plan_file:`` (relative to the test file), optionally a
``policy:``/``policy_file:``, or raw ``facts:`` instead of a plan. An expected finding matches an
actual one when every key it gives agrees (lists in any order); every finding of the rules
under test must be expected, and every expectation found.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alignment_engine.errors import InputError, Problem, RuleError
from alignment_engine.loading import (
    LoadedYaml,
    document_from_file,
    model_from_data,
    read_text,
    yaml_from_text,
)
from alignment_engine.model import Plan, Policy, did_you_mean, policy_plan_problems
from alignment_engine.model.findings import Finding
from alignment_engine.rulepacks import TEST_KIND, YAML_SUFFIXES, packs_in, program_for
from alignment_engine.ruleset.compiler import TYPE_FIELD, RuleProgram
from alignment_engine.ruleset.evaluation import evaluate_program
from alignment_engine.ruleset.facts import Fact, facts_from_plan
from alignment_engine.ruleset.test_schema import ExpectedFinding, RuleTestCase, RuleTestFile

__all__ = [
    "CaseResult",
    "ExpectedFinding",
    "RuleTestCase",
    "RuleTestFile",
    "RuleTestReport",
    "run_rule_tests",
]


@dataclass
class CaseResult:
    file: str
    line: int | None
    name: str
    passed: bool
    missing: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    diff: str = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "case": self.name,
            "passed": self.passed,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "diff": self.diff,
        }


@dataclass
class RuleTestReport:
    cases: list[CaseResult]

    @property
    def passed(self) -> bool:
        return all(case.passed for case in self.cases)

    def to_dict(self) -> dict[str, Any]:
        failed = sum(1 for case in self.cases if not case.passed)
        return {
            "cases": [case.to_dict() for case in self.cases],
            "summary": {
                "cases": len(self.cases),
                "passed": len(self.cases) - failed,
                "failed": failed,
            },
        }


def _sub_yaml(loaded: LoadedYaml, prefix: tuple[Any, ...], data: Any) -> LoadedYaml:
    """The part of a file under ``prefix``, keeping its line numbers for errors."""
    size = len(prefix)
    positions = {
        path[size:]: where for path, where in loaded.positions.items() if path[:size] == prefix
    }
    return LoadedYaml(data=data, source=loaded.source, positions=positions)


def _check_facts(facts: Sequence[dict[str, Any]], program: RuleProgram, where: str) -> list[Fact]:
    """Raw facts from a test: known types and fields, values of the field's type."""
    problems: list[Problem] = []
    checked: list[Fact] = []
    kinds: dict[str, tuple[type, ...]] = {"text": (str,), "bool": (bool,), "list": (list,)}
    for index, fact in enumerate(facts):
        fact_type = fact.get(TYPE_FIELD)
        declared = program.fact_types.get(str(fact_type))
        key = f"{where}.facts[{index}]"
        if declared is None:
            problems.append(
                Problem(
                    f"unknown fact type {fact_type!r}",
                    key=key,
                    suggestion=did_you_mean(str(fact_type), program.fact_types),
                )
            )
            continue
        clean: Fact = {TYPE_FIELD: declared.name}
        for name, value in fact.items():
            if name == TYPE_FIELD:
                continue
            kind = declared.fields.get(name)
            if kind is None:
                problems.append(
                    Problem(
                        f"fact '{declared.name}' has no field '{name}'",
                        key=key,
                        suggestion=did_you_mean(name, declared.fields),
                    )
                )
                continue
            if value is None:
                continue
            if kind == "number":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    problems.append(
                        Problem(f"field '{name}' must be a number, got {value!r}", key=key)
                    )
                    continue
                clean[name] = float(value)
            elif not isinstance(value, kinds[kind]):
                problems.append(Problem(f"field '{name}' must be {kind}, got {value!r}", key=key))
            else:
                clean[name] = value
        checked.append(clean)
    if problems:
        raise RuleError(problems=problems)
    return checked


def _load_document(path: Path, kind: str) -> Any:
    return document_from_file(path, kind)


def _case_facts(
    case: RuleTestCase, index: int, loaded: LoadedYaml, folder: Path, program: RuleProgram
) -> list[Fact]:
    prefix = ("cases", index)
    if case.facts is not None:
        return _check_facts(case.facts, program, f"{loaded.source}: cases[{index}]")
    if case.plan is not None:
        data = {"kind": "plan", **case.plan}
        plan = model_from_data(Plan, _sub_yaml(loaded, (*prefix, "plan"), data))
    else:
        plan = typing.cast(Plan, _load_document(folder / str(case.plan_file), "plan"))
    policy: Policy | None = None
    if case.policy is not None:
        data = {"kind": "policy", **case.policy}
        policy = model_from_data(Policy, _sub_yaml(loaded, (*prefix, "policy"), data))
    elif case.policy_file is not None:
        policy = typing.cast(Policy, _load_document(folder / case.policy_file, "policy"))
    if policy is not None:
        problems = policy_plan_problems(policy, plan)
        if problems:
            line, column = loaded.locate((*prefix, "policy"))
            raise InputError(
                problems=[
                    Problem(p.message, loaded.source, line, column, None, p.suggestion)
                    for p in problems
                ]
            )
    return facts_from_plan(plan, policy)


def _projection(finding: Finding, keys: set[str]) -> dict[str, Any]:
    shown = finding.model_dump(mode="json")
    return {k: v for k, v in shown.items() if k in keys or k == "rule"}


def _yaml_lines(items: list[dict[str, Any]]) -> list[str]:
    if not items:
        return ["[]"]
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=True, width=100)
    return text.splitlines()


def _compare(
    expected: list[ExpectedFinding], actual: list[Finding]
) -> tuple[list[ExpectedFinding], list[Finding]]:
    remaining = list(actual)
    missing: list[ExpectedFinding] = []
    for wanted in expected:
        found = next((f for f in remaining if wanted.matches(f)), None)
        if found is None:
            missing.append(wanted)
        else:
            remaining.remove(found)
    return missing, remaining


def _run_case(
    case: RuleTestCase,
    index: int,
    test_file: RuleTestFile,
    loaded: LoadedYaml,
    path: Path,
    program: RuleProgram,
) -> CaseResult:
    line, _ = loaded.locate(("cases", index))
    scope = case.rules or test_file.rules or sorted({e.rule for e in case.expect})
    known = {rule.id for rule in program.findings}
    for rule_id in scope:
        if rule_id not in known:
            line_r, column = loaded.locate(("cases", index, "rules"))
            raise RuleError(
                f"case '{case.name}' tests rule '{rule_id}', which no loaded pack defines",
                file=str(path),
                line=line_r,
                column=column,
                suggestion=did_you_mean(rule_id, known),
            )
    if not scope:
        raise RuleError(
            f"case '{case.name}' expects nothing and names no rule",
            file=str(path),
            line=line,
            suggestion="say which rules it tests with 'rules: [...]'",
        )
    facts = _case_facts(case, index, loaded, path.parent, program)
    findings = [f for f in evaluate_program(program, facts).findings if f.rule in scope]
    missing, unexpected = _compare(case.expect, findings)
    result = CaseResult(str(path), line, case.name, not missing and not unexpected)
    if result.passed:
        return result
    result.missing = [m.shown() for m in missing]
    keys = {k.removesuffix("_contains") for e in case.expect for k in e.shown()}
    if keys <= {"rule"}:
        keys = {"rule", "departments", "kpis", "message"}
    result.unexpected = [_projection(f, keys) for f in unexpected]
    want = [e.shown() for e in case.expect]
    got = [_projection(f, keys) for f in findings]
    result.diff = "\n".join(
        difflib.unified_diff(
            _yaml_lines(want), _yaml_lines(got), "expected", "found", lineterm="", n=3
        )
    )
    return result


def _test_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in YAML_SUFFIXES or not path.is_file():
            continue
        loaded = yaml_from_text(read_text(path), str(path))
        if isinstance(loaded.data, dict) and loaded.data.get("kind") == TEST_KIND:
            found.append(path)
    return found


def run_rule_tests(folder: str | Path) -> RuleTestReport:
    """Run every rule test under ``folder`` against the shipped packs plus the folder's packs."""
    root = Path(folder)
    if not root.exists():
        raise RuleError("no such folder", file=str(root))
    program = program_for(packs_in(root) if root.is_dir() else [])
    files = _test_files(root)
    if not files:
        raise RuleError(
            f"no rule tests (kind: {TEST_KIND}) under {root}",
            file=str(root),
            suggestion="add test files such as rules/tests/my-rule.yaml",
        )
    results: list[CaseResult] = []
    for path in files:
        loaded = yaml_from_text(read_text(path), str(path))
        try:
            test_file = model_from_data(RuleTestFile, loaded)
        except InputError as exc:
            raise RuleError(problems=exc.problems) from None
        for index, case in enumerate(test_file.cases):
            results.append(_run_case(case, index, test_file, loaded, path, program))
    return RuleTestReport(results)
