"""Goal seeking (``optimise --target KPI=VALUE``): the least total of a resource that takes a KPI
to a value, against a certified optimum from cvxpy + Clarabel on random problems."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from optimisation_cases import TIGHT, Spec, bounds, make_problem, spec_curve_values

from alignment_engine.errors import InfeasibleError, OptimisationError
from alignment_engine.optimisation.goal_seeking import least_total_for
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.response_curves import ShapeCode

cp = pytest.importorskip("cvxpy")

specs = st.builds(
    Spec,
    seed=st.integers(0, 2**31 - 1),
    departments=st.integers(3, 6),
    resources=st.just(1),
    kpis_per_department=st.just(1),
    shared_goals=st.just(1),
    max_change=st.sampled_from([None, 0.3, 1.0]),
    minimum_share=st.sampled_from([0.0, 0.5]),
)


def _oracle(problem: ReallocationProblem, kpi: int, goal: float) -> float | None:
    """min sum x s.t. the KPI's curves gain at least ``goal`` over today's, in the bounds."""
    curves = problem.curves
    chosen = np.flatnonzero(curves.kpi == kpi)
    lower, upper, _ = bounds(problem, keep_total=False)
    today = problem.pools.current[0]
    moving = sorted({int(d) for d in curves.department[chosen]})
    x = cp.Variable(len(moving))
    position = {d: i for i, d in enumerate(moving)}
    gains = []
    for c in chosen:
        shape = int(curves.shape[c])
        a, b, v = float(curves.a[c]), float(curves.b[c]), x[position[int(curves.department[c])]]
        if shape == ShapeCode.LINEAR:
            gains.append(a * v)
        elif shape == ShapeCode.SATURATING:
            gains.append(a - a * cp.exp(-b * v))
        elif shape == ShapeCode.LOG:
            gains.append(a * cp.log(1 + b * v))
        else:
            gains.append(a * cp.power(v, b))
    at_today = spec_curve_values(curves, problem.pools.current[curves.resource, curves.department])
    constraints = [cp.sum(cp.hstack(gains)) >= goal + float(at_today[chosen].sum())]
    low = np.array([lower[0, d] for d in moving])
    high = np.array([upper[0, d] for d in moving])
    constraints.append(x >= low)
    finite = np.isfinite(high)
    if finite.any():
        constraints.append(x[np.flatnonzero(finite)] <= high[finite])
    model = cp.Problem(cp.Minimize(cp.sum(x)), constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.solve(solver=cp.CLARABEL, **TIGHT)
        except cp.error.SolverError:
            return None
    if model.status not in ("optimal",):
        return None
    held = sum(float(today[d]) for d in range(len(today)) if d not in position)
    return float(model.value) + held


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, reach=st.sampled_from([0.1, 0.5, 0.9]))
def test_the_least_total_matches_cvxpy(spec: Spec, reach: float) -> None:
    problem = make_problem(spec)
    goal_index = len(problem.kpis.ids) - 1  # the shared goal: several departments move it
    kpi = problem.kpis.ids[goal_index]
    chosen = np.flatnonzero(problem.curves.kpi == goal_index)
    assume(chosen.size >= 2)
    # A target part of the way from today to the most the bounds allow (or to +50% if unbounded).
    lower, upper, _ = bounds(problem, keep_total=False)
    today_amounts = problem.pools.current[0]
    top = np.where(np.isfinite(upper[0]), upper[0], today_amounts * 3 + 10)
    curves = problem.curves
    at = lambda amounts: spec_curve_values(curves, amounts[curves.department])[chosen].sum()  # noqa: E731
    most = float(at(top) - at(today_amounts))
    assume(most > 1e-6)
    seek = least_total_for(problem, kpi, 0.0)  # only for today's value
    value = seek.value_today + reach * most
    result = least_total_for(problem, kpi, value)
    event("solved")
    assert result.value_proposed >= value - 1e-9 * max(1.0, abs(value))
    assert (result.proposed >= lower[0] - 1e-9).all() and (result.proposed <= upper[0] + 1e-9).all()
    reference = _oracle(problem, goal_index, reach * most)
    assume(reference is not None)
    assert reference is not None
    assert math.isclose(result.total, reference, rel_tol=1e-6, abs_tol=1e-6)


def test_an_unreachable_target_and_a_wrong_kpi_are_refused() -> None:
    problem = make_problem(Spec(seed=3, departments=4, resources=1, max_change=0.2))
    kpi = problem.kpis.ids[-1]
    with pytest.raises(InfeasibleError, match="reaches at most"):
        least_total_for(problem, kpi, 1e9)
    with pytest.raises(OptimisationError, match="not a KPI the optimiser predicts"):
        least_total_for(problem, "nope", 1.0)
