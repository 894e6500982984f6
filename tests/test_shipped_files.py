"""Every shipped file loads, and every shipped policy scores the example company."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.engine import check_plan, score_period
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table
from alignment_engine.validation import validate_paths

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme"
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))


def test_validate_accepts_every_shipped_file() -> None:
    report = validate_paths([ROOT / "scenarios", ROOT / "policies", ROOT / "rules"])
    problems = [p.render() for f in report.files for p in f.problems]
    assert problems == []
    kinds = {f.kind for f in report.files}
    assert kinds == {"plan", "policy", "policy-tests", "rules", "rule-tests", "scenario"}


def test_validate_cli_on_shipped_folders() -> None:
    result = CliRunner().invoke(
        main, ["validate", str(ROOT / "scenarios"), str(ROOT / "policies"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output


def test_example_company_is_as_large_as_promised() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    kpis = [k for d in plan.departments for k in d.kpis]
    assert len(plan.departments) >= 8
    assert len(kpis) >= 35
    assert {o.perspective.value for o in plan.objectives} == {
        "financial", "customer", "internal_process", "learning_growth",
    }  # fmt: skip
    assert {k.horizon.value for k in kpis} == {"short", "long"}
    assert {r.id for r in plan.resources} >= {"budget", "headcount", "engineering_hours"}
    employees = read_table(ACME / "employees.csv", EMPLOYEES)
    assert 1900 <= len(employees) <= 2100


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_every_policy_scores_the_example_company(policy_path: Path) -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    policy = policy_from_yaml(policy_path)
    result = score_period(
        plan,
        policy,
        read_table(ACME / "actuals-2026-q3.csv", ACTUALS),
        read_table(ACME / "employees.csv", EMPLOYEES),
        "2026-Q3",
    )
    document = result.to_dict("none")
    assert document["totals"]["payout"] > 0
    assert policy.pool is not None
    assert document["totals"]["payout"] <= policy.pool.amount
    assert check_plan(plan, policy).to_dict()["findings"]
