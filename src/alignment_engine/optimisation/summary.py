"""Assemble a ReallocationResult: before/after per amount, bound status and prices."""

from __future__ import annotations

import math

import numpy as np

from alignment_engine.optimisation.feasibility import Box
from alignment_engine.optimisation.layout import SNAP
from alignment_engine.optimisation.objective import Objective, ObjectiveState
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.response_curves import FloatArray
from alignment_engine.optimisation.result import (
    AllocationTable,
    BoundStatus,
    KpiTable,
    Method,
    PerformanceTable,
    ReallocationResult,
    ResourceSummary,
    Status,
)


def build_result(
    problem: ReallocationProblem,
    objective: Objective,
    box: Box,
    x: FloatArray,
    prices: FloatArray,
    today_state: ObjectiveState,
    proposed_state: ObjectiveState,
    status: Status,
    method: Method,
    iterations: int,
    agreement: FloatArray,
    notes: tuple[str, ...],
) -> ReallocationResult:
    r_count, d_count = box.lower.shape
    today = objective.today
    lower = box.lower.ravel()
    own_upper = box.own_upper.ravel()
    price = np.repeat(prices, d_count)
    gradient = proposed_state.gradient
    tolerance = SNAP * np.maximum(1.0, np.abs(x))
    fixed = (box.is_fixed() | ~box.optimised[:, None]).ravel()
    at_min = x <= lower + tolerance
    at_max = x >= own_upper - tolerance
    codes = {status: code for code, status in enumerate(BoundStatus)}
    bound = np.where(
        fixed,
        codes[BoundStatus.FIXED],
        np.where(
            at_max,
            codes[BoundStatus.AT_MAX],
            np.where(at_min, codes[BoundStatus.AT_MIN], codes[BoundStatus.FREE]),
        ),
    ).astype(np.int8)
    bound_price = np.where(
        fixed,
        np.abs(gradient - price),
        np.where(
            at_max,
            np.maximum(gradient - price, 0.0),
            np.where(at_min, np.maximum(price - gradient, 0.0), 0.0),
        ),
    )
    bound_price = np.where(box.optimised.repeat(d_count), bound_price, 0.0)
    departments = problem.departments
    table = AllocationTable(
        resources=problem.pools.ids,
        departments=departments,
        current=today.copy(),
        proposed=x.copy(),
        bound=bound,
        marginal_value=gradient.copy(),
        marginal_value_current=today_state.gradient.copy(),
        bound_price=bound_price,
        direction_agreement=agreement,
    )
    resources = tuple(
        ResourceSummary(
            resource=problem.pools.ids[r],
            capacity=float(problem.pools.capacity[r]),
            total_current=math.fsum(today[r * d_count : (r + 1) * d_count]),
            total_proposed=math.fsum(x[r * d_count : (r + 1) * d_count]),
            limit=float(box.total[r]),
            keep_total=bool(box.equality[r]),
            optimised=bool(box.optimised[r]),
            shadow_price=float(prices[r]),
        )
        for r in range(r_count)
    )
    kpis = problem.kpis
    kpi_table = KpiTable(
        ids=kpis.ids,
        current=today_state.kpi_values,
        proposed=proposed_state.kpi_values,
        target=kpis.target,
        score_current=today_state.scores,
        score_proposed=proposed_state.scores,
    )
    scored = np.unique(problem.department_kpis.group)
    department_table = PerformanceTable(
        ids=tuple(departments[d] for d in scored),
        current=today_state.department_performance[scored],
        proposed=proposed_state.department_performance[scored],
    )
    goal_table = PerformanceTable(
        ids=tuple(problem.shared_goals.ids[g] for g in objective.scored_goals),
        current=today_state.shared_performance,
        proposed=proposed_state.shared_performance,
    )
    return ReallocationResult(
        status=status,
        method=method,
        objective_current=today_state.value,
        objective_proposed=proposed_state.value,
        allocation_table=table,
        resources=resources,
        kpi_table=kpi_table,
        department_table=department_table,
        shared_goal_table=goal_table,
        iterations=iterations,
        notes=notes,
    )
