"""Overrides addressed by id: paths, application to the plan's plain data, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import ScenarioError
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model import Plan
from alignment_engine.scenarios import (
    LocatedOverride,
    PathSegment,
    apply_overrides,
    parse_path,
    plan_with_overrides,
    policy_with_overrides,
)

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme" / "plan.yaml"
MINIMAL = ROOT / "tests" / "data" / "valid"


@pytest.fixture(scope="module")
def acme() -> Plan:
    return plan_from_yaml(ACME)


def change(path: str, value: object) -> LocatedOverride:
    return LocatedOverride(path, value, "what-if.yaml", 7, 5)


def test_parse_path_splits_ids_with_dots() -> None:
    assert parse_path("departments[sales].kpis[sales.market_share].target") == (
        PathSegment("departments", "sales"),
        PathSegment("kpis", "sales.market_share"),
        PathSegment("target"),
    )
    assert parse_path("resources[budget].allocation.marketing") == (
        PathSegment("resources", "budget"),
        PathSegment("allocation"),
        PathSegment("marketing"),
    )


@pytest.mark.parametrize("bad", ["", "a..b", "a[x]b", "a[x", ".a", "a."])
def test_parse_path_refuses_malformed_paths(bad: str) -> None:
    with pytest.raises(ScenarioError):
        parse_path(bad)


def test_overrides_reach_kpis_resources_company_and_shared_goals(acme: Plan) -> None:
    changed = plan_with_overrides(
        acme,
        [
            change("departments[sales].kpis[sales.market_share].target", 0.22),
            change("resources[budget].allocation.marketing", 9_000_000),
            change("resources[headcount].allocation[rnd]", 270),
            change("company_kpis[company.revenue].target", 237.5),
            change("shared_goals[shared.net_margin].threshold", "6%"),
            change("response_curves[sales.market_share].params.a", 0.3),
            change("objectives[F1].name", "利润 Profit"),
        ],
    )
    assert changed.kpi("sales.market_share").target == 0.22
    assert changed.resource("budget").allocation["marketing"] == 9_000_000
    assert changed.resource("headcount").allocation["rnd"] == 270
    assert changed.kpi("company.revenue").target == 237.5
    assert changed.kpi("shared.net_margin").threshold == pytest.approx(0.06)
    assert changed.response_curves[0].params == {"a": 0.3, "b": 6.2e-8}
    assert changed.objectives[0].name == "利润 Profit"
    # Everything not addressed is untouched.
    assert changed.kpi("sales.new_customers") == acme.kpi("sales.new_customers")
    assert changed.resource("budget").allocation["sales"] == 28_000_000


def test_later_overrides_win_and_the_input_is_not_mutated(acme: Plan) -> None:
    data = acme.model_dump(mode="json", by_alias=True)
    before = repr(data)
    path = "departments[sales].kpis[sales.market_share].target"
    result = apply_overrides(data, [change(path, 0.22), change(path, 0.23)])
    assert repr(data) == before
    sales = next(d for d in result["departments"] if d["id"] == "sales")
    assert next(k for k in sales["kpis"] if k["id"] == "sales.market_share")["target"] == 0.23


def test_a_whole_item_or_list_can_be_replaced(acme: Plan) -> None:
    changed = plan_with_overrides(
        acme,
        [
            change("objectives[C1].drives", ["F1", "F2"]),
            change(
                "departments[finance].kpis",
                [{"id": "finance.only", "metric": "days_sales_outstanding", "target": 50}],
            ),
        ],
    )
    assert changed.objectives[3].drives == ["F1", "F2"]
    assert [k.id for k in changed.department("finance").kpis] == ["finance.only"]
    # the direction default is filled again from the metric
    assert changed.kpi("finance.only").effective_direction.value == "decrease"


def test_no_overrides_returns_the_same_plan(acme: Plan) -> None:
    assert plan_with_overrides(acme, []) is acme


@pytest.mark.parametrize(
    ("path", "segment", "expected", "suggestion"),
    [
        (
            "departments[salse].kpis[sales.market_share].target",
            "departments[salse]",
            ["customer_service", "finance", "sales"],
            "did you mean 'sales'?",
        ),
        (
            "departments[sales].kpis[sales.market_shar].target",
            "kpis[sales.market_shar]",
            ["sales.market_share", "sales.new_customers"],
            "did you mean 'sales.market_share'?",
        ),
        (
            "departments[sales].kpis[sales.market_share].targt",
            "targt",
            ["target", "threshold", "maximum"],
            "did you mean 'target'?",
        ),
        (
            "departmnts[sales].name",
            "departmnts[sales]",
            ["departments", "company_kpis"],
            "did you mean 'departments'?",
        ),
        (
            "company_kpis[company.revenu].target",
            "company_kpis[company.revenu]",
            ["company.revenue", "company.net_margin"],
            "did you mean 'company.revenue'?",
        ),
        (
            "resources[budgte].allocation.sales",
            "resources[budgte]",
            ["budget", "headcount", "engineering_hours"],
            "did you mean 'budget'?",
        ),
        (
            "resources[budget].demand[salse].x",
            "demand[salse]",
            ["sales", "marketing"],
            "did you mean 'sales'?",
        ),
    ],
)
def test_bad_segments_are_named_with_the_ids_that_exist(
    acme: Plan, path: str, segment: str, expected: list[str], suggestion: str
) -> None:
    with pytest.raises(ScenarioError) as raised:
        plan_with_overrides(acme, [change(path, 1)])
    problem = raised.value.problems[0]
    assert f"segment '{segment}'" in problem.message
    for name in expected:
        assert name in problem.message
    assert problem.suggestion == suggestion
    assert (problem.file, problem.line, problem.column, problem.key) == (
        "what-if.yaml",
        7,
        5,
        path,
    )
    assert str(raised.value).startswith(f"what-if.yaml:7:5: {path}: ")


def test_a_value_has_no_fields(acme: Plan) -> None:
    with pytest.raises(ScenarioError, match=r"segment 'x'.* is a value \(0.21\)"):
        plan_with_overrides(
            acme, [change("departments[sales].kpis[sales.market_share].target.x", 1)]
        )


def test_brackets_on_a_plain_list_say_to_give_the_whole_list(acme: Plan) -> None:
    with pytest.raises(ScenarioError) as raised:
        plan_with_overrides(acme, [change("objectives[F1].drives[F2]", "F3")])
    assert "not a list of items with ids" in raised.value.message
    assert raised.value.problems[0].suggestion is not None
    assert "without '[F2]'" in raised.value.problems[0].suggestion


def test_every_bad_path_is_reported_at_once(acme: Plan) -> None:
    with pytest.raises(ScenarioError) as raised:
        plan_with_overrides(
            acme, [change("departments[x].name", "a"), change("resources[y].capacity", 1)]
        )
    assert len(raised.value.problems) == 2


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("resources[budget].allocation.marketting", 1, "unknown department 'marketting'"),
        ("resources[budget].allocation.sales", -5, "must not be negative"),
        ("departments[sales].kpis[sales.market_share].target", "lots", "number"),
        ("departments[sales].kpis[sales.market_share].objectives", {"C9": 1}, "unknown objective"),
    ],
)
def test_the_changed_plan_is_validated_again(
    acme: Plan, path: str, value: object, fragment: str
) -> None:
    with pytest.raises(ScenarioError) as raised:
        plan_with_overrides(acme, [change(path, value)])
    problem = raised.value.problems[0]
    assert "after the scenario's changes, the plan is invalid" in problem.message
    assert fragment in problem.message
    assert problem.file == "what-if.yaml"
    assert problem.line == 7


def test_policy_paths_change_the_policy() -> None:
    policy = policy_from_yaml(MINIMAL / "minimal-policy.yaml")
    changed = policy_with_overrides(
        policy,
        [
            change("policy.caps.employee", 1.5),
            change("policy.curves[default].points.target", 1.1),
            change("policy.kpi_curves[sales.revenue]", "default"),
            change("departments[sales].name", "ignored by the policy"),
        ],
    )
    assert changed is not None
    assert changed.caps.employee == 1.5
    assert changed.curves["default"].points.target == 1.1  # type: ignore[union-attr]
    assert changed.kpi_curves["sales.revenue"] == "default"
    with pytest.raises(ScenarioError, match="did you mean 'caps'"):
        policy_with_overrides(policy, [change("policy.caps_.employee", 1)])
    with pytest.raises(ScenarioError, match="names none"):
        policy_with_overrides(None, [change("policy.caps.employee", 1)])


def test_a_policy_change_that_breaks_the_policy_is_reported() -> None:
    policy = policy_from_yaml(MINIMAL / "minimal-policy.yaml")
    with pytest.raises(ScenarioError, match=r"the policy is invalid.*unknown curve 'nope'"):
        policy_with_overrides(policy, [change("policy.kpi_curves[sales.revenue]", "nope")])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_kpi_target_can_be_set_and_read_back(data: st.DataObject) -> None:
    plan = plan_from_yaml(MINIMAL / "minimal-plan.yaml")
    scope, kpi = data.draw(st.sampled_from(list(plan.kpis())))
    value = data.draw(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
    if scope == "company":
        path = f"company_kpis[{kpi.id}].target"
    elif scope == kpi.id:
        path = f"shared_goals[{kpi.id}].target"
    else:
        path = f"departments[{scope}].kpis[{kpi.id}].target"
    changed = plan_with_overrides(plan, [change(path, value)])
    assert changed.kpi(kpi.id).target == value
    others = [k for _, k in changed.kpis() if k.id != kpi.id]
    assert others == [k for _, k in plan.kpis() if k.id != kpi.id]
