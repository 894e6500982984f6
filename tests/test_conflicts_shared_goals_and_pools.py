"""Conflicts involving shared goals, and pools asked for exactly what they hold."""

from __future__ import annotations

from typing import Any

from alignment_engine.engine import check_plan
from alignment_engine.model import Plan


def plan(**changes: Any) -> Plan:
    data: dict[str, Any] = {
        "id": "p",
        "objectives": [{"id": "F1", "perspective": "financial"}],
        "metrics": [{"id": m} for m in ("m1", "m2", "m3", "m4")] + [{"id": "c1", "better": "lower"}],
        "influences": [
            {"from": "m1", "to": "m2", "sign": "+"},
            {"from": "m2", "to": "m3", "sign": "+"},
            {"from": "m3", "to": "m4", "sign": "-"},
        ],
        "departments": [
            {"id": "a", "kpis": [{"id": "a.m1", "metric": "m1", "target": 10, "objectives": ["F1"]}]},
            {"id": "b", "kpis": [{"id": "b.x", "metric": "m2", "target": 10, "objectives": ["F1"]}]},
            {"id": "c", "kpis": [{"id": "c.c1", "metric": "c1", "direction": "increase", "target": 100,
                                 "objectives": ["F1"]}]},
        ],
    }  # fmt: skip
    data.update(changes)
    return Plan.model_validate(data)


def findings(checked: Plan, rule: str) -> list[dict[str, Any]]:
    return [f for f in check_plan(checked).to_dict()["findings"] if f["rule"] == rule]


def test_a_department_against_a_shared_goal_it_is_not_part_of() -> None:
    goal = {
        "id": "shared.c1",
        "metric": "c1",
        "target": 90,
        "departments": ["a", "b"],
        "objectives": ["F1"],
    }
    found = findings(plan(shared_goals=[goal]), "opposing-targets")
    assert [(f["departments"], f["kpis"]) for f in found] == [
        (["c", "a", "b"], ["c.c1", "shared.c1"])
    ]
    assert "shared.c1 (a, b) is asked to lower it" in found[0]["message"]


def test_no_opposition_with_a_shared_goal_the_department_belongs_to() -> None:
    goal = {
        "id": "shared.c1",
        "metric": "c1",
        "target": 90,
        "departments": ["c"],
        "objectives": ["F1"],
    }
    assert findings(plan(shared_goals=[goal]), "opposing-targets") == []


def test_a_trade_off_over_three_hops_into_a_shared_goal() -> None:
    goal = {
        "id": "shared.m4",
        "metric": "m4",
        "target": 5,
        "departments": ["b"],
        "objectives": ["F1"],
    }
    found = findings(plan(shared_goals=[goal]), "trade-off")
    assert [(f["departments"], f["kpis"]) for f in found] == [(["a", "b"], ["a.m1", "shared.m4"])]
    assert "m1 -> m2 up -> m3 up -> m4 down, which shared.m4 (b) must raise" in found[0]["message"]


def test_a_pool_asked_for_exactly_its_fractional_capacity_is_not_oversubscribed() -> None:
    pool = {
        "id": "fte",
        "capacity": 3.3,
        "allocation": {"a": 2.7, "b": 0.6},
        "demand": {"a": 2.7, "b": 0.6},
    }
    assert findings(plan(resources=[pool]), "resource-oversubscription") == []


SMALL_POOL = {
    "id": "fte",
    "unit": "FTE",
    "capacity": 3.3,
    "allocation": {"a": 2.7, "b": 0.6},
    "demand": {"a": 3.2},  # b states none: its allocation counts
}


def test_small_pools_are_reported_with_readable_numbers() -> None:
    pool = SMALL_POOL
    found = findings(plan(resources=[pool]), "resource-oversubscription")
    assert found[0]["message"].startswith(
        "Demands on fte total 3.8 FTE against a capacity of 3.3 (0.5 or 15% over"
    )


def test_a_department_without_a_stated_demand_is_said_to_count_at_its_allocation() -> None:
    """`summary` showed a pool's demand without b's allocation, `check` counted it: the finding
    says who stated no demand and how they count."""
    pool = SMALL_POOL
    checked = plan(resources=[pool])
    found = findings(checked, "resource-oversubscription")
    assert found[0]["message"] == (
        "Demands on fte total 3.8 FTE against a capacity of 3.3 (0.5 or 15% over; allocated "
        "today: 3.3; b states no demand: its allocation counts as demand)"
    )
    chinese = check_plan(checked, language="zh-CN").to_dict()["findings"]
    pooled = next(f for f in chinese if f["rule"] == "resource-oversubscription")
    assert pooled["translation"]["message"].endswith("；b 未申报需求，按其当前分配计入需求）")
    stated = {**pool, "demand": {"a": 3.2, "b": 0.6}}
    again = findings(plan(resources=[stated]), "resource-oversubscription")
    assert again[0]["message"].endswith("allocated today: 3.3)")
