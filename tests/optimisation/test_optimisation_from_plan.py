"""From the bundled example plan to a reallocation, including curves fitted from history."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from alignment_engine.errors import InfeasibleError, OptimisationError
from alignment_engine.loading import document_from_text, plan_from_yaml
from alignment_engine.model import Plan
from alignment_engine.optimisation import (
    ReallocationOptions,
    Shape,
    Status,
    suggest_reallocation,
)
from alignment_engine.optimisation.from_plan import fit_plan_curves, problem_from_plan

ACME = Path(__file__).resolve().parents[2] / "scenarios" / "acme"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_from_yaml(ACME / "plan.yaml")


def history_rows(name: str) -> list[tuple[str, str, str, float]]:
    with (ACME / name).open(encoding="utf-8") as handle:
        return [(r[0], r[1], r[2], float(r[3])) for r in list(csv.reader(handle))[1:]]


def test_the_example_plan_reallocates(plan: Plan) -> None:
    problem = problem_from_plan(plan)
    assert problem.departments == tuple(d.id for d in plan.departments)
    assert problem.pools.ids == tuple(r.id for r in plan.resources)
    result = suggest_reallocation(problem)
    assert result.status is Status.OPTIMAL
    assert result.objective_proposed > result.objective_current
    headcount = [a for a in result.allocations if a.resource == "headcount"]
    assert all(a.proposed == int(a.proposed) for a in headcount)
    budget = plan.resource("budget")
    for allocation in result.allocations:
        if allocation.resource == "budget":
            today = budget.allocation[allocation.department]
            assert abs(allocation.change) <= 0.2 * today * (1 + 1e-12)
    minimum = budget.minimum["production"]
    assert result.allocation("budget", "production").proposed >= minimum
    assert any("no response curve links" in note for note in result.notes)


def test_keep_total_and_a_single_resource(plan: Plan) -> None:
    problem = problem_from_plan(plan)
    kept = suggest_reallocation(problem, ReallocationOptions(keep_total=True))
    for summary in kept.resources:
        assert summary.total_proposed == pytest.approx(summary.total_current, rel=1e-12)
    only = suggest_reallocation(problem, ReallocationOptions(resources=("engineering_hours",)))
    assert all(a.change == 0 for a in only.allocations if a.resource != "engineering_hours")


def plan_with_fitted_market_share() -> Plan:
    text = (ACME / "plan.yaml").read_text(encoding="utf-8")
    curve = "params: {a: 0.24, b: 6.2e-8}"
    assert curve in text
    document = document_from_text(text.replace(curve, "fit: history"), "plan.yaml", "plan")
    assert isinstance(document, Plan)
    return document


def test_history_fits_recover_the_curve_and_feed_the_optimiser() -> None:
    plan = plan_with_fitted_market_share()
    fits = fit_plan_curves(
        plan, history_rows("history-allocations.csv"), history_rows("history-kpis.csv")
    )
    fit = fits[("sales.market_share", "budget", "sales")]
    assert fit.shape is Shape.SATURATING
    assert fit.r_squared > 0.5
    assert fit.marginal_today is not None
    true_slope = 0.24 * 6.2e-8 * 2.718281828459045 ** (-6.2e-8 * 28_000_000)
    assert fit.marginal_today.estimate == pytest.approx(true_slope, rel=0.5)
    result = suggest_reallocation(problem_from_plan(plan, fits=fits))
    sales = result.allocation("budget", "sales")
    assert sales.direction_agreement is not None  # fitted curve: its direction is checked


def test_a_history_curve_without_a_fit_is_refused() -> None:
    with pytest.raises(OptimisationError, match="says 'fit: history', but no history fit"):
        problem_from_plan(plan_with_fitted_market_share())


def test_a_refused_fit_names_the_curve() -> None:
    plan = plan_with_fitted_market_share()
    flat = [
        (p, s, k, 0.2 if k == "sales.market_share" else v)
        for p, s, k, v in history_rows("history-kpis.csv")
    ]
    with pytest.raises(
        OptimisationError,
        match=re.escape(
            "response curve of KPI 'sales.market_share' on 'budget' for 'sales': the KPI never"
        ),
    ):
        fit_plan_curves(plan, history_rows("history-allocations.csv"), flat)


def _with_demand_limits(plan: Plan) -> Plan:
    data = plan.model_dump(mode="json", exclude_none=True)
    for resource in data["resources"]:
        resource["demand_is_limit"] = True
    return Plan.model_validate(data)


def test_demand_is_a_limit_when_the_plan_says_so(plan: Plan) -> None:
    free = suggest_reallocation(problem_from_plan(plan))
    over = [
        a
        for a in free.allocations
        if a.proposed > plan.resource(a.resource).demand.get(a.department, float("inf"))
    ]
    assert over, "without the limit some department is proposed more than it asked for"
    limited = suggest_reallocation(problem_from_plan(_with_demand_limits(plan)))
    assert limited.status is Status.OPTIMAL
    for allocation in limited.allocations:
        demand = plan.resource(allocation.resource).demand.get(allocation.department)
        if demand is not None:
            assert allocation.proposed <= demand * (1 + 1e-9)
    for allocation in over:  # the limit binds where the free answer went past it
        again = limited.allocation(allocation.resource, allocation.department)
        assert again.bound.value == "at_max"
    assert limited.objective_proposed >= limited.objective_current - 1e-12


def test_a_minimum_above_a_limiting_demand_is_infeasible(plan: Plan) -> None:
    data = _with_demand_limits(plan).model_dump(mode="json", exclude_none=True)
    budget = next(r for r in data["resources"] if r["id"] == "budget")
    budget["minimum"]["production"] = budget["demand"]["production"] + 1
    with pytest.raises(InfeasibleError, match=r"above its demand .*\(demand_is_limit\)"):
        problem = problem_from_plan(Plan.model_validate(data))
        suggest_reallocation(problem)
