"""Curves that start somewhere (an intercept, the KPI's level at amount 0) and curves that fall
(a lower-is-better KPI that improves with the resource: more staff, shorter waits), against
independent optima.

Rising curves with intercepts keep the problem concave: cvxpy + Clarabel certifies the optimum.
A lower-is-better KPI scores ``target / v`` with ``v = c - |a| f(x)`` falling and convex in the
amount, and that score is not concave in general (for a straight line it is convex), so no
convex solver can certify those problems; they are held to a global search instead: every
allocation on a fine grid of the free amounts (one per pool when totals are kept), the best
refined by a bounded scalar or simplex search.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from optimisation_cases import Spec, bounds, cvxpy_optimum, make_problem, spec_curve_values
from scipy.optimize import minimize, minimize_scalar

from alignment_engine.errors import InfeasibleError
from alignment_engine.optimisation import (
    ReallocationOptions,
    ReallocationProblem,
    Status,
    suggest_reallocation,
)
from alignment_engine.optimisation.objective import Objective

pytest.importorskip("cvxpy")


def _with_intercepts(problem: ReallocationProblem, seed: int, falling: bool) -> ReallocationProblem:
    """No baselines: each KPI stands at its curves' intercepts plus the curves. A falling KPI's
    intercept keeps it above zero at any amount the pools could give it."""
    rng = np.random.default_rng(seed)
    curves = problem.curves
    most = (
        problem.pools.capacity[curves.resource] + problem.pools.current.sum(axis=1)[curves.resource]
    )
    reach = np.abs(spec_curve_values(curves, most))
    c = np.where(
        curves.a < 0, reach + rng.uniform(0.3, 1.2, len(curves)), rng.uniform(0.1, 0.8, len(curves))
    )
    if not falling:
        c = rng.uniform(0.1, 0.8, len(curves))
    kpis = dataclasses.replace(problem.kpis, baseline=np.full(len(problem.kpis.ids), np.nan))
    return dataclasses.replace(problem, kpis=kpis, curves=dataclasses.replace(curves, c=c))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    departments=st.integers(2, 5),
    resources=st.integers(1, 2),
    keep=st.booleans(),
)
def test_rising_curves_with_intercepts_match_cvxpy(
    seed: int, departments: int, resources: int, keep: bool
) -> None:
    spec = Spec(
        seed=seed, departments=departments, resources=resources, max_change=0.5,
        capacity_factor=1.1,
    )  # fmt: skip
    problem = _with_intercepts(make_problem(spec), seed, falling=False)
    options = ReallocationOptions(
        shared_weight=0.3, balance=0.0, keep_total=keep, hold_unmodelled=False
    )
    try:
        result = suggest_reallocation(problem, options)
    except InfeasibleError:
        event("infeasible")
        return
    assert result.status is Status.OPTIMAL
    reference = cvxpy_optimum(problem, shared_weight=0.3, balance=0.0, keep_total=keep)
    if reference is None:
        event("the oracle failed")
        return
    event("compared")
    value, tight = reference
    gap = (value - result.objective_proposed) / abs(value)
    assert (abs(gap) if tight else gap) <= 1e-6


def _global_optimum(problem: ReallocationProblem, objective: Objective) -> float:
    """The best objective over every allocation that keeps each pool's total, to 1e-9: the
    first department's amount of each pool on a grid, the rest to the second."""
    lower, upper, total = bounds(problem, keep_total=True)
    low = np.maximum(lower[:, 0], total - upper[:, 1])
    high = np.minimum(upper[:, 0], total - lower[:, 1])

    def value(first: np.ndarray) -> float:
        x = np.column_stack([first, total - first])
        return float(objective.value(x.ravel()))

    pools = total.shape[0]
    grid = [np.linspace(low[r], high[r], 401 if pools == 1 else 81) for r in range(pools)]
    points = np.array(np.meshgrid(*grid, indexing="ij")).reshape(pools, -1).T
    values = np.array([value(p) for p in points])
    best = points[int(np.argmax(values))]
    if pools == 1:
        step = (high[0] - low[0]) / 400 if high[0] > low[0] else 0.0
        found = minimize_scalar(
            lambda v: -value(np.array([v])),
            bounds=(max(low[0], best[0] - step), min(high[0], best[0] + step)),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return max(-float(found.fun), float(values.max()))
    found = minimize(
        lambda v: -value(np.clip(v, low, high)),
        best,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000},
    )
    return max(-float(found.fun), float(values.max()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), resources=st.integers(1, 2), goals=st.integers(0, 1))
@example(seed=9984913, resources=2, goals=1)  # a local optimum 0.15% short, before multi-starts
def test_falling_curves_with_intercepts_reach_the_global_optimum(
    seed: int, resources: int, goals: int
) -> None:
    spec = Spec(
        seed=seed,
        departments=2,
        resources=resources,
        kpis_per_department=1,
        shared_goals=goals,
        max_change=0.6,
        capacity_factor=1.1,  # today's total fits (capacity is whole units)
        lower_is_better=True,
    )
    problem = make_problem(spec)
    # Every department KPI lower-is-better and improving with its resource.
    kpis = dataclasses.replace(
        problem.kpis,
        lower_is_better=np.array([True] * 2 + [False] * goals),
    )
    curves = problem.curves
    falls = kpis.lower_is_better[curves.kpi]
    curves = dataclasses.replace(curves, a=np.where(falls, -np.abs(curves.a), np.abs(curves.a)))
    problem = _with_intercepts(
        dataclasses.replace(problem, kpis=kpis, curves=curves), seed, falling=True
    )
    options = ReallocationOptions(
        shared_weight=0.3, balance=0.0, keep_total=True, hold_unmodelled=False
    )
    try:
        result = suggest_reallocation(problem, options)
    except InfeasibleError:
        event("infeasible")
        return
    event("compared")
    objective = Objective(problem, shared_weight=0.3, balance=0.0)
    best = _global_optimum(problem, objective)
    assert result.objective_proposed >= best - 1e-6 * abs(best)
