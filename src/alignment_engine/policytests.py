"""Policy tests: results and employees, and what a policy must pay on them (GIVEN / EXPECT).

A test file (``kind: policy-tests``) names the policy and the plan it pays on, and each case
gives the period's results (an actuals file, with ``actuals:`` setting single KPIs) and the
employees, then what scoring must give: KPI payout factors, department factors, which gates
fire, and cent-exact payouts::

    kind: policy-tests
    id: annual-bonus-2026
    policy_file: ../annual-bonus-2026.yaml
    plan_file: ../../scenarios/acme/plan.yaml
    period: 2026-Q3
    actuals_file: ../../scenarios/acme/actuals-2026-q3.csv
    cases:
      - name: a net margin short by a quarter caps everyone at half their bonus
        actuals: {company.net_margin: 0.06}
        employees: [{employee_id: E1, department: sales, target_bonus: 10000}]
        expect:
          gates_fired: [profit-gate]
          payouts: {E1: 5000.00}

Every case runs through the scoring path ``alignment-engine score`` uses. A failure names the
case (file:line), what was expected and found, and a diff; the report ends with the coverage
of the cases: which segments of each curve the KPIs' results fell in, which gates fired and
which caps were reached.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from alignment_engine import tables
from alignment_engine.engine import ScoreResult, score_period
from alignment_engine.errors import InputError, Problem
from alignment_engine.loading import (
    LoadedYaml,
    model_from_data,
    plan_from_yaml,
    policy_from_yaml,
    read_text,
    yaml_from_text,
)
from alignment_engine.model import Plan, Policy, did_you_mean
from alignment_engine.model.policy_tests import PolicyTestCase, PolicyTestFile
from alignment_engine.rulepacks import YAML_SUFFIXES
from alignment_engine.scoring.catalogue import build_catalogue
from alignment_engine.scoring.money import format_units
from alignment_engine.scoring.payout_curves import BELOW, segment_label

__all__ = ["PolicyCaseResult", "PolicyTestReport", "run_policy_tests"]

TEST_KIND = "policy-tests"
FACTOR_TOLERANCE = 1e-9


@dataclass
class PolicyCaseResult:
    file: str
    line: int | None
    name: str
    passed: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
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
            "failures": self.failures,
            "diff": self.diff,
        }


@dataclass
class _Coverage:
    """What the cases of one policy exercised."""

    policy: str
    segments: dict[str, set[str]]  # curve -> every segment it has
    reached: dict[str, set[str]] = field(default_factory=dict)
    gates: set[str] = field(default_factory=set)
    fired: set[str] = field(default_factory=set)
    caps: dict[str, bool] = field(default_factory=dict)  # cap -> reached
    table_rows: dict[str, int] = field(default_factory=dict)  # decision table -> its rows
    matched_rows: dict[str, set[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "curves": {
                name: {
                    "segments": sorted(possible),
                    "exercised": sorted(self.reached.get(name, set()) & possible),
                }
                for name, possible in sorted(self.segments.items())
            },
            "gates": {"defined": sorted(self.gates), "fired": sorted(self.fired)},
            "caps": dict(sorted(self.caps.items())),
            "tables": {
                name: {
                    "rows": count,
                    "matched": sorted(self.matched_rows.get(name, set())),
                }
                for name, count in sorted(self.table_rows.items())
            },
        }

    def line(self) -> str:
        possible = sum(len(s) for s in self.segments.values())
        reached = sum(len(self.reached.get(n, set()) & s) for n, s in self.segments.items())
        caps = [name for name, hit in sorted(self.caps.items()) if hit]
        unfired = sorted(self.gates - self.fired)
        missing = "" if not unfired else f" (never fired: {', '.join(unfired)})"
        return (
            f"coverage of {self.policy}: curve segments {reached}/{possible}, gates fired "
            f"{len(self.fired & self.gates)}/{len(self.gates)}{missing}, caps reached "
            f"{len(caps)}/{len(self.caps)}"
            + (f" ({', '.join(caps)})" if caps else "")
            + self._rows_line()
        )

    def _rows_line(self) -> str:
        if not self.table_rows:
            return ""
        total = sum(self.table_rows.values())
        matched = sum(len(self.matched_rows.get(n, set())) for n in self.table_rows)
        return f", table rows matched {matched}/{total}"


@dataclass
class PolicyTestReport:
    cases: list[PolicyCaseResult]
    coverage: list[_Coverage]

    @property
    def passed(self) -> bool:
        return all(case.passed for case in self.cases)

    def to_dict(self) -> dict[str, Any]:
        failed = sum(1 for case in self.cases if not case.passed)
        return {
            "cases": [case.to_dict() for case in self.cases],
            "coverage": [c.to_dict() for c in self.coverage],
            "summary": {
                "cases": len(self.cases),
                "passed": len(self.cases) - failed,
                "failed": failed,
            },
        }


def _possible_segments(plan: Plan, policy: Policy) -> dict[str, set[str]]:
    catalogue = build_catalogue(plan, policy)
    segments: dict[str, set[str]] = {}
    for entry in catalogue.entries:
        names = entry.point_names
        if not names:  # paid on a payout matrix: no curve segments
            continue
        codes = [BELOW, *range(len(names) - 1), len(names) - 1]
        segments.setdefault(entry.curve_name, set()).update(
            segment_label(code, names) for code in codes
        )
    return segments


def _scopes(plan: Plan) -> dict[str, str]:
    """Each KPI's scope, as an actuals row names it."""
    return {kpi.id: scope for scope, kpi in plan.kpis()}


class _File:
    """One test file: its documents, and the case inputs its paths name (read once)."""

    def __init__(self, path: Path, loaded: LoadedYaml, test_file: PolicyTestFile) -> None:
        self.path = path
        self.loaded = loaded
        self.test_file = test_file
        folder = path.parent
        self.plan = plan_from_yaml(self._existing(folder / test_file.plan_file, ("plan_file",)))
        self.policy = policy_from_yaml(
            self._existing(folder / test_file.policy_file, ("policy_file",))
        )
        self.scopes = _scopes(self.plan)
        self._tables: dict[tuple[str, str], Any] = {}

    def _existing(self, path: Path, key: tuple[Any, ...]) -> Path:
        if not path.is_file():
            line, column = self.loaded.locate(key)
            raise InputError(
                f"no such file: {path}",
                file=str(self.path),
                line=line,
                column=column,
                key=".".join(str(k) for k in key),
            )
        return path

    def table(self, name: str, key: tuple[Any, ...], spec: tables.TableSpec) -> Any:
        cached = self._tables.get((name, spec.name))
        if cached is None:
            path = self._existing(self.path.parent / name, key)
            cached = self._tables[(name, spec.name)] = tables.read_table(path, spec)
        return cached.copy()

    def problem(self, message: str, key: tuple[Any, ...], suggestion: str | None = None) -> Problem:
        line, column = self.loaded.locate(key)
        return Problem(message, str(self.path), line, column, ".".join(map(str, key)), suggestion)


def _actuals(source: _File, case: PolicyTestCase, index: int, period: str) -> Any:
    import pandas as pd

    prefix: tuple[Any, ...] = ("cases", index)
    name = case.actuals_file or source.test_file.actuals_file
    problems = [
        source.problem(
            f"'{kpi}' is not a KPI of plan '{source.plan.id}'",
            (*prefix, "actuals", kpi),
            did_you_mean(kpi, source.scopes),
        )
        for kpi in case.actuals
        if kpi not in source.scopes
    ]
    if problems:
        raise InputError(problems=problems)
    rows: list[dict[str, object]] = [
        {"period": period, "scope": source.scopes[kpi], "kpi": kpi, "actual": str(value)}
        for kpi, value in case.actuals.items()
    ]
    where = f"{source.path}: cases[{index}].actuals"
    given = tables.table_from_records(rows, tables.ACTUALS, where) if rows else None
    if name is None:
        if given is None:
            raise InputError(
                problems=[
                    source.problem(
                        "the case has no results",
                        prefix,
                        "give actuals_file (here or at the top) or actuals",
                    )
                ]
            )
        return given
    key = (*prefix, "actuals_file") if case.actuals_file else ("actuals_file",)
    base = source.table(name, key, tables.ACTUALS)
    if given is None:
        return base
    replaced = base["kpi"].isin(list(case.actuals)) & (base["period"] == period)
    merged = pd.concat([base[~replaced], given], ignore_index=True)
    merged.attrs = base.attrs
    return merged


def _employees(source: _File, case: PolicyTestCase, index: int) -> Any:
    if case.employees is not None:
        records: list[dict[str, object]] = [
            {k: "" if v is None else str(v) for k, v in row.items()} for row in case.employees
        ]
        where = f"{source.path}: cases[{index}].employees"
        return tables.table_from_records(records, tables.EMPLOYEES, where)
    name = case.employees_file or source.test_file.employees_file
    if name is None:
        return None
    key = ("cases", index, "employees_file") if case.employees_file else ("employees_file",)
    return source.table(name, key, tables.EMPLOYEES)


def _amount(value: float | str, decimals: int) -> str | None:
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        return None
    quantum = Decimal(1).scaleb(-decimals)
    if exact != exact.quantize(quantum):
        return None  # finer than the policy pays: never equal to a payout
    return str(exact.quantize(quantum))


def _found(result: ScoreResult, case: PolicyTestCase, source: _File, index: int) -> dict[str, Any]:
    """What the case's expectation compares, read from the result (unknown ids are errors)."""
    expect = case.expect
    prefix = ("cases", index, "expect")
    problems: list[Problem] = []
    found: dict[str, Any] = {}
    decimals = result.settings.decimals

    def read(section: str, wanted: Mapping[str, Any], known: Mapping[str, Any], what: str) -> None:
        """``found[section]``: each wanted id's value in ``known``; unknown ids are problems."""
        if not wanted:
            return
        found[section] = {}
        for key in wanted:
            if key not in known:
                problems.append(
                    source.problem(
                        f"'{key}' is not {what}", (*prefix, section, key), did_you_mean(key, known)
                    )
                )
                continue
            found[section][key] = known[key]

    read(
        "kpi_factors",
        expect.kpi_factors,
        {k.kpi: k.payout_factor for k in result.kpis},
        "a KPI of the plan",
    )
    read(
        "department_factors",
        expect.department_factors,
        {d.department: d.payout_factor for d in result.departments},
        "a department of the plan",
    )
    if expect.gates_fired is not None:
        defined = {g.id for g in source.policy.gates} | {t.id for t in source.policy.tables}
        for gate in expect.gates_fired:
            if gate not in defined:
                problems.append(
                    source.problem(
                        f"the policy has no gate '{gate}'",
                        (*prefix, "gates_fired"),
                        did_you_mean(gate, defined),
                    )
                )
        found["gates_fired"] = sorted({g.gate_id for g in result.gates if g.triggered})
    texts = dict(
        zip([str(e) for e in result.employees.employee_id], result.payout_texts(), strict=True)
    )
    read("payouts", expect.payouts, texts, "an employee of the case")
    if expect.total is not None:
        found["total"] = format_units(int(result.employees.units.sum()), decimals)
    if problems:
        raise InputError(problems=problems)
    return found


def _expected(case: PolicyTestCase, decimals: int) -> dict[str, Any]:
    expect = case.expect
    wanted: dict[str, Any] = {}
    if expect.kpi_factors:
        wanted["kpi_factors"] = dict(expect.kpi_factors)
    if expect.department_factors:
        wanted["department_factors"] = dict(expect.department_factors)
    if expect.gates_fired is not None:
        wanted["gates_fired"] = sorted(set(expect.gates_fired))
    if expect.payouts:
        wanted["payouts"] = {e: _amount(v, decimals) or str(v) for e, v in expect.payouts.items()}
    if expect.total is not None:
        wanted["total"] = _amount(expect.total, decimals) or str(expect.total)
    return wanted


def _failures(wanted: dict[str, Any], found: dict[str, Any]) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    for section, expected in wanted.items():
        got = found[section]
        if isinstance(expected, dict):
            for key, value in expected.items():
                actual = got.get(key)
                if isinstance(value, float):
                    same = actual is not None and abs(float(actual) - value) <= FACTOR_TOLERANCE
                else:
                    same = value == actual
                if not same:
                    failures.append(
                        {"what": f"{section}.{key}", "expected": value, "found": actual}
                    )
        elif expected != got:
            failures.append({"what": section, "expected": expected, "found": got})
    return failures


def _yaml_lines(data: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=True, width=100).splitlines()


def _cover(coverage: _Coverage, result: ScoreResult, source: _File) -> None:
    catalogue = build_catalogue(source.plan, source.policy)
    for kpi in result.kpis:
        row = catalogue.row_of.get(kpi.kpi)
        if row is None or kpi.status != "scored":
            continue
        coverage.reached.setdefault(catalogue.entries[row].curve_name, set()).add(kpi.segment)
    coverage.fired |= {g.gate_id for g in result.gates if g.triggered}
    for outcome in result.gates:
        if outcome.rows is not None:
            coverage.matched_rows.setdefault(outcome.gate_id, set()).update(outcome.rows)
    kpi_cap, employee_cap = result.settings.kpi_cap, result.settings.employee_cap
    if kpi_cap is not None:
        coverage.caps["kpi"] = coverage.caps.get("kpi", False) or any(
            k.curve_factor is not None and k.curve_factor > kpi_cap for k in result.kpis
        )
    if employee_cap is not None:
        coverage.caps["employee"] = coverage.caps.get("employee", False) or bool(
            (result.employees.factor_after_gates > employee_cap).any()
        )


def _run_case(
    source: _File, case: PolicyTestCase, index: int, coverage: _Coverage
) -> PolicyCaseResult:
    line, _ = source.loaded.locate(("cases", index))
    period = case.period or source.test_file.period
    if period is None:
        raise InputError(
            problems=[
                source.problem(f"case '{case.name}' has no period", ("cases", index), "give period")
            ]
        )
    actuals = _actuals(source, case, index, period)
    employees = _employees(source, case, index)
    try:
        result = score_period(source.plan, source.policy, actuals, employees, period)
    except InputError as error:
        raise InputError(
            problems=[
                source.problem(f"case '{case.name}' cannot be scored:", ("cases", index)),
                *error.problems,
            ]
        ) from None
    _cover(coverage, result, source)
    wanted = _expected(case, result.settings.decimals)
    found = _found(result, case, source, index)
    failures = _failures(wanted, found)
    outcome = PolicyCaseResult(str(source.path), line, case.name, not failures, failures)
    if failures:
        outcome.diff = "\n".join(
            difflib.unified_diff(
                _yaml_lines(wanted), _yaml_lines(found), "expected", "found", lineterm="", n=3
            )
        )
    return outcome


def _test_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for root in paths:
        if not root.exists():
            raise InputError("no such file or folder", file=str(root))
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            if path.suffix.lower() not in YAML_SUFFIXES or not path.is_file():
                continue
            loaded = yaml_from_text(read_text(path), str(path))
            if isinstance(loaded.data, dict) and loaded.data.get("kind") == TEST_KIND:
                found.append(path)
            elif root.is_file():
                raise InputError(
                    f"not a policy test file (kind: {TEST_KIND})", file=str(path), key="kind"
                )
    return found


def run_policy_tests(*paths: str | Path) -> PolicyTestReport:
    """Run every policy test file in ``paths`` (files, or folders searched for them)."""
    files = _test_files([Path(p) for p in paths])
    if not files:
        raise InputError(
            f"no policy tests (kind: {TEST_KIND}) in {', '.join(map(str, paths))}",
            suggestion="add a file such as policies/tests/my-policy.yaml",
        )
    results: list[PolicyCaseResult] = []
    coverage: dict[str, _Coverage] = {}
    for path in files:
        loaded = yaml_from_text(read_text(path), str(path))
        test_file = model_from_data(PolicyTestFile, loaded)
        source = _File(path, loaded, test_file)
        policy = source.policy
        covered = coverage.get(policy.id)
        if covered is None:
            covered = coverage[policy.id] = _Coverage(
                policy.id,
                _possible_segments(source.plan, policy),
                gates={g.id for g in policy.gates} | {t.id for t in policy.tables},
                table_rows={t.id: len(t.rules) for t in policy.tables},
                caps={
                    name: False
                    for name, cap in (("kpi", policy.caps.kpi), ("employee", policy.caps.employee))
                    if cap is not None
                },
            )
        for index, case in enumerate(test_file.cases):
            results.append(_run_case(source, case, index, covered))
    return PolicyTestReport(results, list(coverage.values()))
