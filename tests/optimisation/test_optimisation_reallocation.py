"""Reallocation: constraints, never worse than today, feasibility errors, rounding, outputs."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optimisation_cases import Spec, assert_constraints_hold, make_problem

from alignment_engine.errors import InfeasibleError, OptimisationError
from alignment_engine.optimisation import (
    BoundStatus,
    CurveRecord,
    KpiRecord,
    Method,
    ReallocationOptions,
    ReallocationProblem,
    ReallocationResult,
    ResourceRecord,
    ResponseCurve,
    Shape,
    Status,
    problem_from_records,
    suggest_reallocation,
)
from alignment_engine.optimisation.objective import Objective

DEPARTMENTS = ["sales", "marketing", "ops"]


def small_plan(
    *,
    capacity: float = 120,
    minimum: dict[str, float] | None = None,
    max_change: float | None = 0.2,
    integer: bool = True,
    defects_lower: bool = True,
) -> tuple[list[ResourceRecord], list[KpiRecord], list[CurveRecord]]:
    resources = [
        ResourceRecord(
            "headcount",
            capacity,
            {"sales": 40, "marketing": 30, "ops": 50},
            minimum=minimum or {},
            max_change=max_change,
            integer=integer,
        ),
        ResourceRecord("budget", 1e7, {"sales": 4e6, "marketing": 3e6, "ops": 2e6}, max_change=0.3),
    ]
    kpis = [
        KpiRecord("sales.revenue", 100, baseline=90, department="sales", weight=0.6),
        KpiRecord("sales.share", 0.25, baseline=0.21, department="sales", weight=0.4),
        KpiRecord("marketing.leads", 1000, baseline=950, department="marketing"),
        KpiRecord(
            "ops.defects", 0.02, baseline=0.025, lower_is_better=defects_lower, department="ops"
        ),
        KpiRecord("shared.margin", 0.12, baseline=0.1, shared_goal=True),
    ]
    defects = (
        ResponseCurve(Shape.SATURATING, -0.02, 0.02)
        if defects_lower
        else ResponseCurve(Shape.SATURATING, 0.004, 0.02)
    )
    curves = [
        CurveRecord(
            "sales.revenue", "headcount", "sales", ResponseCurve(Shape.SATURATING, 120, 0.03)
        ),
        CurveRecord("sales.share", "budget", "sales", ResponseCurve(Shape.SATURATING, 0.3, 3e-7)),
        CurveRecord("marketing.leads", "budget", "marketing", ResponseCurve(Shape.LOG, 400, 1e-6)),
        CurveRecord("ops.defects", "headcount", "ops", defects),
        CurveRecord("shared.margin", "budget", "ops", ResponseCurve(Shape.POWER, 1e-4, 0.3)),
    ]
    return resources, kpis, curves


def plan_problem(**kwargs: Any) -> ReallocationProblem:
    resources, kpis, curves = small_plan(**kwargs)
    return problem_from_records(DEPARTMENTS, resources, kpis, curves)


def test_small_plan_moves_and_reports() -> None:
    problem = plan_problem(defects_lower=False)
    result = suggest_reallocation(problem)
    assert result.status is Status.OPTIMAL
    assert result.method is Method.INTERIOR_POINT  # the balance term couples departments
    assert result.objective_proposed > result.objective_current
    assert_constraints_hold(problem, result, keep_total=False)
    marketing_budget = result.allocation("budget", "marketing")
    assert marketing_budget.bound is BoundStatus.AT_MAX
    assert marketing_budget.proposed == pytest.approx(3.9e6, rel=1e-12)
    assert marketing_budget.bound_price > 0
    budget = next(r for r in result.resources if r.resource == "budget")
    assert budget.shadow_price > 0
    # A free amount's marginal value equals its pool's shadow price at the optimum.
    sales_budget = result.allocation("budget", "sales")
    assert sales_budget.bound is BoundStatus.FREE
    assert sales_budget.marginal_value == pytest.approx(budget.shadow_price, rel=1e-5)
    assert {p.kpi for p in result.predicted} == {k.id for k in small_plan()[1]}
    assert [d.id for d in result.departments] == DEPARTMENTS


def test_json_shape_has_the_spec_keys() -> None:
    result = suggest_reallocation(plan_problem())
    body = json.loads(json.dumps(result.to_dict()))
    assert {"status", "objective", "allocations", "predicted"} <= set(body)
    assert {"resource", "department", "current", "proposed", "change", "marginal_value"} <= set(
        body["allocations"][0]
    )
    assert {"kpi", "current", "proposed"} <= set(body["predicted"][0])


def test_same_inputs_give_identical_outputs() -> None:
    first = json.dumps(suggest_reallocation(plan_problem()).to_dict())
    second = json.dumps(suggest_reallocation(plan_problem()).to_dict())
    assert first == second


def test_lower_is_better_kpis_make_the_answer_local() -> None:
    result = suggest_reallocation(plan_problem(defects_lower=True))
    assert result.status is Status.LOCAL
    assert any("local optimum" in note for note in result.notes)
    assert result.objective_proposed >= result.objective_current


def test_convex_curve_makes_the_answer_local() -> None:
    resources, kpis, curves = small_plan(defects_lower=False)
    curves = [
        *curves[:4],
        CurveRecord("shared.margin", "budget", "ops", ResponseCurve(Shape.POWER, 1e-9, 1.2)),
    ]
    problem = problem_from_records(DEPARTMENTS, resources, kpis, curves)
    assert suggest_reallocation(problem).status is Status.LOCAL


def test_headcount_comes_back_in_whole_units() -> None:
    problem = plan_problem()
    result = suggest_reallocation(problem)
    headcount = [a.proposed for a in result.allocations if a.resource == "headcount"]
    assert all(value == int(value) for value in headcount)
    assert sum(headcount) <= 120
    assert_constraints_hold(problem, result, keep_total=False)


def test_keep_total_holds_each_pool_at_todays_total() -> None:
    problem = plan_problem()
    result = suggest_reallocation(problem, ReallocationOptions(keep_total=True))
    for summary in result.resources:
        assert summary.total_proposed == pytest.approx(summary.total_current, rel=1e-12)
    assert_constraints_hold(problem, result, keep_total=True)


def test_only_the_named_resource_moves() -> None:
    result = suggest_reallocation(plan_problem(), ReallocationOptions(resources=("budget",)))
    for allocation in result.allocations:
        if allocation.resource == "headcount":
            assert allocation.change == 0
            assert allocation.bound is BoundStatus.FIXED


def test_unknown_resource_gets_a_suggestion() -> None:
    with pytest.raises(
        OptimisationError, match="unknown resource 'budgt' \\(did you mean 'budget'"
    ):
        suggest_reallocation(plan_problem(), ReallocationOptions(resources=("budgt",)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"minimum": {"sales": 50, "marketing": 40, "ops": 40}, "max_change": None},
            "resource 'headcount': minimums sum to 130, but capacity is 120",
        ),
        (
            {"capacity": 90, "max_change": 0.1},
            "resource 'headcount': with max_change 10% (and the minimums) departments must "
            "keep at least 108 in total, but capacity is 90",
        ),
        (
            {"minimum": {"sales": 60}, "max_change": 0.1},
            "resource 'headcount', department 'sales': minimum 60 is above the most "
            "max_change 10% allows (today's 40 + 10% = 44)",
        ),
    ],
)
def test_infeasible_inputs_name_the_constraint(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InfeasibleError) as info:
        suggest_reallocation(plan_problem(**kwargs))
    assert str(info.value) == message


def test_whole_units_without_a_whole_amount_in_range() -> None:
    resources = [
        ResourceRecord("headcount", 200, {"sales": 2.5, "ops": 30}, max_change=0.1, integer=True)
    ]
    kpis = [KpiRecord("sales.revenue", 100, baseline=90, department="sales")]
    curves = [CurveRecord("sales.revenue", "headcount", "sales", ResponseCurve(Shape.LOG, 10, 1))]
    problem = problem_from_records(["sales", "ops"], resources, kpis, curves)
    with pytest.raises(
        InfeasibleError, match=re.escape("department 'sales' may only move between 2.25 and 2.75")
    ):
        suggest_reallocation(problem)


def test_keep_total_over_capacity_is_infeasible() -> None:
    with pytest.raises(InfeasibleError, match="today's total 120 is above capacity 100"):
        suggest_reallocation(plan_problem(capacity=100), ReallocationOptions(keep_total=True))


def test_lower_is_better_kpi_that_could_reach_zero_is_refused() -> None:
    resources = [ResourceRecord("budget", 100, {"ops": 50, "sales": 50}, max_change=0.5)]
    kpis = [KpiRecord("ops.defects", 0.02, baseline=0.01, lower_is_better=True, department="ops")]
    curves = [CurveRecord("ops.defects", "budget", "ops", ResponseCurve(Shape.LINEAR, -0.001))]
    problem = problem_from_records(["ops", "sales"], resources, kpis, curves)
    with pytest.raises(
        OptimisationError, match=re.escape("'ops.defects' (lower is better) could fall")
    ):
        suggest_reallocation(problem)


def test_unknown_ids_in_records_are_refused() -> None:
    resources, kpis, curves = small_plan()
    stray = CurveRecord("sales.revenue", "headcount", "legal", ResponseCurve(Shape.LOG, 1, 1))
    with pytest.raises(OptimisationError, match="unknown department 'legal'"):
        problem_from_records(DEPARTMENTS, resources, kpis, [*curves, stray])


def test_a_single_department_is_solved_exactly() -> None:
    resources = [ResourceRecord("budget", 150, {"sales": 100}, max_change=0.3)]
    kpis = [KpiRecord("sales.revenue", 100, baseline=90, department="sales")]
    curves = [CurveRecord("sales.revenue", "budget", "sales", ResponseCurve(Shape.LOG, 10, 0.01))]
    result = suggest_reallocation(problem_from_records(["sales"], resources, kpis, curves))
    assert result.method is Method.WATER_FILLING  # soft-min of one department is linear
    assert result.allocation("budget", "sales").proposed == 130
    assert result.allocation("budget", "sales").bound is BoundStatus.AT_MAX


def test_forcing_water_filling_on_a_coupled_problem_is_refused() -> None:
    with pytest.raises(OptimisationError, match="water-filling needs a separable"):
        suggest_reallocation(plan_problem(), ReallocationOptions(method=Method.WATER_FILLING))


def test_worthless_amounts_stay_where_they_are_when_the_pool_is_slack() -> None:
    resources = [ResourceRecord("budget", 1000, {"sales": 100, "ops": 100}, max_change=0.5)]
    kpis = [KpiRecord("sales.revenue", 100, baseline=90, department="sales")]
    curves = [CurveRecord("sales.revenue", "budget", "sales", ResponseCurve(Shape.LOG, 10, 0.01))]
    problem = problem_from_records(["sales", "ops"], resources, kpis, curves)
    result = suggest_reallocation(problem)
    assert result.allocation("budget", "ops").proposed == 100  # no curve: nothing to gain
    assert result.allocation("budget", "sales").proposed == 150


def test_fitted_curves_get_a_direction_check() -> None:
    uncertain = ResponseCurve(Shape.SATURATING, 0.3, 3e-7, ((0.3**2, 0.0), (0.0, (3e-7) ** 2)))
    sure = ResponseCurve(Shape.SATURATING, 0.3, 3e-7, ((1e-10, 0.0), (0.0, 1e-22)))
    resources = [ResourceRecord("budget", 9e6, {"a": 3e6, "b": 3e6, "c": 3e6}, max_change=0.3)]
    kpis = [
        KpiRecord("a.k", 1, baseline=0.8, department="a"),
        KpiRecord("b.k", 1, baseline=0.8, department="b"),
        KpiRecord("c.k", 1, baseline=0.8, department="c"),
    ]
    curves = [
        CurveRecord("a.k", "budget", "a", uncertain),
        CurveRecord("b.k", "budget", "b", sure),
        CurveRecord("c.k", "budget", "c", ResponseCurve(Shape.SATURATING, 0.2, 3e-7)),
    ]
    problem = problem_from_records(["a", "b", "c"], resources, kpis, curves)
    result = suggest_reallocation(problem, ReallocationOptions(balance=0, shared_weight=0))
    a, b, c = (result.allocation("budget", d) for d in "abc")
    assert c.direction_agreement is None  # no covariance: not assessed
    assert b.direction_agreement == 1.0 and not b.direction_unstable
    assert a.direction_agreement is not None and a.direction_agreement < 0.8
    assert a.direction_unstable


# Properties over random problems -------------------------------------------------------------


def solve_or_refuse(
    problem: ReallocationProblem, option: ReallocationOptions
) -> ReallocationResult | None:
    """The result, or None when the inputs are refused for a documented reason."""
    try:
        return suggest_reallocation(problem, option)
    except InfeasibleError as exc:
        assert exc.message.startswith("resource 'res")
    except OptimisationError as exc:
        # Random lower-is-better curves may drive a KPI to zero within wide bounds.
        assert "(lower is better) could fall to" in exc.message
    return None


specs = st.builds(
    Spec,
    seed=st.integers(0, 2**31 - 1),
    departments=st.integers(1, 7),
    resources=st.integers(1, 3),
    kpis_per_department=st.integers(1, 3),
    shared_goals=st.integers(0, 2),
    max_change=st.sampled_from([None, 0.0, 0.1, 0.3, 0.5]),
    capacity_factor=st.sampled_from([0.95, 1.0, 1.2]),
    minimum_share=st.sampled_from([0.0, 0.5, 0.9]),
    integer=st.booleans(),
    lower_is_better=st.booleans(),
    convex=st.booleans(),
)
options = st.builds(
    ReallocationOptions,
    shared_weight=st.sampled_from([0.0, 0.3, 1.0]),
    balance=st.sampled_from([0.0, 0.1, 1.0]),
    keep_total=st.booleans(),
)


@settings(max_examples=120, deadline=None)
@given(spec=specs, option=options)
def test_constraints_hold_and_today_is_never_beaten_by_worse(
    spec: Spec, option: ReallocationOptions
) -> None:
    problem = make_problem(spec)
    result = solve_or_refuse(problem, option)
    if result is None:
        return
    assert_constraints_hold(problem, result, option.keep_total)
    today_feasible = not any("breaks a constraint" in note for note in result.notes)
    if today_feasible:
        assert result.objective_proposed >= result.objective_current - 1e-12
    objective = Objective(problem, shared_weight=option.shared_weight, balance=option.balance)
    assert objective.value(result.allocation_table.proposed) == result.objective_proposed


@settings(max_examples=60, deadline=None)
@given(
    spec=specs.map(
        lambda s: dataclasses.replace(s, lower_is_better=False, convex=False, integer=False)
    ),
    low=st.floats(0.0, 0.5),
    high=st.floats(0.5, 1.0),
)
def test_more_weight_on_shared_goals_never_lowers_their_performance(
    spec: Spec, low: float, high: float
) -> None:
    """Exact for the separable objective (balance 0): a standard exchange argument."""
    problem = make_problem(spec)
    try:
        before = suggest_reallocation(problem, ReallocationOptions(shared_weight=low, balance=0))
    except InfeasibleError:
        return
    after = suggest_reallocation(problem, ReallocationOptions(shared_weight=high, balance=0))
    mean_before = np.mean([g.proposed for g in before.shared_goals]) if before.shared_goals else 0
    mean_after = np.mean([g.proposed for g in after.shared_goals]) if after.shared_goals else 0
    assert mean_after >= mean_before - 1e-9


@settings(max_examples=60, deadline=None)
@given(
    spec=specs.map(
        lambda s: dataclasses.replace(s, lower_is_better=False, convex=False, integer=False)
    ),
    keep=st.booleans(),
)
def test_water_filling_and_interior_point_agree(spec: Spec, keep: bool) -> None:
    problem = make_problem(spec)
    option = ReallocationOptions(shared_weight=0.3, balance=0.0, keep_total=keep)
    try:
        exact = suggest_reallocation(
            problem, dataclasses.replace(option, method=Method.WATER_FILLING)
        )
    except InfeasibleError:
        return
    interior = suggest_reallocation(
        problem, dataclasses.replace(option, method=Method.INTERIOR_POINT)
    )
    assert exact.status is Status.OPTIMAL
    assert interior.objective_proposed == pytest.approx(
        exact.objective_proposed, rel=1e-9, abs=1e-12
    )
    assert interior.objective_proposed <= exact.objective_proposed + 1e-12


@settings(max_examples=40, deadline=None)
@given(spec=specs.map(lambda s: dataclasses.replace(s, integer=True)), option=options)
def test_rounding_keeps_every_constraint(spec: Spec, option: ReallocationOptions) -> None:
    problem = make_problem(spec)
    result = solve_or_refuse(problem, option)
    if result is None:
        return
    assert_constraints_hold(problem, result, option.keep_total)
    headcount = result.allocation_table.proposed
    assert np.array_equal(headcount, np.rint(headcount))


@settings(max_examples=40, deadline=None)
@given(spec=specs, extra=st.floats(1.01, 2.0))
def test_minimums_above_capacity_name_the_resource(spec: Spec, extra: float) -> None:
    problem = make_problem(dataclasses.replace(spec, max_change=None, minimum_share=0.0))
    pools = problem.pools
    minimum = np.zeros_like(pools.current)
    minimum[0] = np.ceil(pools.capacity[0] * extra / pools.current.shape[1]) + 1
    broken = dataclasses.replace(problem, pools=dataclasses.replace(pools, minimum=minimum))
    with pytest.raises(
        InfeasibleError, match=r"^resource 'res0': minimums sum to \d+, but capacity is"
    ):
        suggest_reallocation(broken)
