"""The example company: every planted problem is found, with a message a planner accepts, and
nothing aligned is reported (scenarios/acme/expected-findings.json is the ground truth)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from alignment_engine.checking import check_plan
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model import Plan
from alignment_engine.model.findings import CheckResult

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme"
EXPECTED = json.loads((ACME / "expected-findings.json").read_text(encoding="utf-8"))


def identities(result: CheckResult) -> list[dict[str, Any]]:
    return sorted(
        (
            {"rule": f.rule, "departments": sorted(f.departments), "kpis": sorted(f.kpis)}
            for f in result.findings
        ),
        key=lambda f: (f["rule"], f["departments"], f["kpis"]),
    )


def expected(*extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = [dict(e) for e in EXPECTED["expected"]] + [dict(e) for group in extra for e in group]
    return sorted(items, key=lambda f: (f["rule"], f["departments"], f["kpis"]))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_from_yaml(ACME / "plan.yaml")


def test_plan_alone_reports_exactly_the_planted_findings(plan: Plan) -> None:
    assert identities(check_plan(plan)) == expected()


@pytest.mark.parametrize("policy_id", sorted(EXPECTED["with_policy"]))
def test_each_policy_adds_exactly_its_planted_findings(plan: Plan, policy_id: str) -> None:
    policy = policy_from_yaml(ROOT / "policies" / f"{policy_id}.yaml")
    result = check_plan(plan, policy)
    assert identities(result) == expected(EXPECTED["with_policy"][policy_id])
    assert result.summary["policy"] == policy_id


def test_messages_show_the_path_and_who_must_do_what(plan: Plan) -> None:
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    messages = {(f.rule, tuple(f.kpis)): f for f in check_plan(plan, policy).findings}
    promo = messages[("trade-off", ("marketing.promo_intensity", "finance.gross_margin"))]
    assert promo.message == (
        "marketing raises promo_intensity -> discount_rate up -> gross_margin down, which "
        "finance must raise (marketing.promo_intensity works against finance.gross_margin)"
    )
    assert promo.departments == ["marketing", "finance"]
    assert promo.objectives == ["C1", "F2"]
    # It has a maximum (0.22) already: the suggestion is to bring it closer, not to add one.
    assert "bring the maximum of marketing.promo_intensity closer to target, give" in (
        promo.suggestion
    )
    assert "bound marketing.promo_intensity" not in promo.suggestion
    cost = messages[("trade-off", ("production.unit_cost", "quality.defect_rate"))]
    assert cost.message.startswith("production lowers unit_cost -> defect_rate up, which quality")
    gap = next(f for f in messages.values() if f.rule == "cascade-gap")
    assert "come to 237.5, 12.5 short of its target of 250" in gap.message
    hours = next(f for f in messages.values() if f.rule == "resource-oversubscription")
    assert hours.resources == ["engineering_hours"]
    assert "total 362,000 hours against a capacity of 300,000" in hours.message
    terms = messages[
        ("opposing-targets", ("sales.days_sales_outstanding", "finance.days_sales_outstanding"))
    ]
    assert terms.message == (
        "sales is asked to raise days_sales_outstanding (sales.days_sales_outstanding, "
        "target 75) while finance is asked to lower it (finance.days_sales_outstanding, "
        "target 55)"
    )
    pay = messages[
        ("incentive-misalignment", ("sales.days_sales_outstanding", "shared.net_margin"))
    ]
    assert "pays sales 60% on its own KPIs and 10% on shared goals" in pay.message
    assert "days_sales_outstanding -> net_margin down" in pay.message


def _plan_with(changes: list[tuple[str, str, str, Any]]) -> Plan:
    """The acme plan with (department, kpi, field, value) or (resource, 'demand', dept, value)."""
    data = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    for owner, item, key, value in changes:
        if item == "demand":
            resource = next(r for r in data["resources"] if r["id"] == owner)
            resource["demand"][key] = value
            continue
        department = next(d for d in data["departments"] if d["id"] == owner)
        kpi = next(k for k in department["kpis"] if k["id"] == item)
        kpi[key] = value
    return Plan.model_validate(data)


SCENARIOS = {
    "fix-margin-conflict": [
        ("marketing", "marketing.promo_intensity", "direction", "maintain"),
        ("marketing", "marketing.promo_intensity", "target", 0.12),
        ("marketing", "marketing.promo_intensity", "threshold", 0.10),
        ("marketing", "marketing.promo_intensity", "maximum", 0.14),
    ],
    "rebalance-engineering": [
        ("engineering_hours", "demand", "rnd", 198000),
        ("engineering_hours", "demand", "production", 52000),
        ("engineering_hours", "demand", "it", 28000),
        ("engineering_hours", "demand", "quality", 21000),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios_resolve_their_finding_and_change_nothing_else(plan: Plan, name: str) -> None:
    before = identities(check_plan(plan))
    after = identities(check_plan(_plan_with(SCENARIOS[name])))
    resolved = [f for f in before if f not in after]
    added = [f for f in after if f not in before]
    truth = EXPECTED["scenarios"][name]
    assert resolved == sorted(
        (dict(f) for f in truth["resolved"]), key=lambda f: (f["rule"], f["departments"])
    )
    assert added == truth["added"]


def test_results_are_identical_byte_for_byte_on_every_run(plan: Plan) -> None:
    import json

    first = json.dumps(check_plan(plan).to_dict(), ensure_ascii=False)
    for _ in range(3):
        assert json.dumps(check_plan(plan).to_dict(), ensure_ascii=False) == first


def test_a_maximum_already_at_target_is_not_asked_to_come_closer(plan: Plan) -> None:
    """A KPI capped at its target has nothing left to tighten: the suggestion says what else
    to do (a guard KPI, a gate, a shared goal) instead."""
    document = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    marketing = next(d for d in document["departments"] if d["id"] == "marketing")
    promo = next(k for k in marketing["kpis"] if k["id"] == "marketing.promo_intensity")
    promo["maximum"] = promo["target"]
    capped = Plan.model_validate(document)
    finding = next(
        f
        for f in check_plan(capped).findings
        if f.rule == "trade-off" and "marketing.promo_intensity" in f.kpis
    )
    assert "marketing.promo_intensity" not in finding.suggestion.split("give")[0]
    assert finding.suggestion.startswith("Make the trade-off explicit: give marketing a guard KPI")
