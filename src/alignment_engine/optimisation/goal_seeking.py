"""Goal seeking: the least total of one resource that takes one KPI to a value
(``optimise --target KPI=VALUE``).

    minimise  sum_d x_d   subject to   v(x) >= V   (v <= V for a lower-is-better KPI),
              lower_d <= x_d <= upper_d

where v(x) is the KPI's predicted value: today's plus, over its curves on the resource, the
curve at the new amount less the curve at today's (the other resources stay as they are). Each
curve must move the KPI the right way with diminishing returns (the problem is then convex);
a curve that does not is refused with its name.

Solved by its Lagrangian: for a multiplier l every department takes the amount where its
curve's slope is 1 / l (within its bounds), the KPI's value grows with l, and l is found by
bisection. Curves that are linear make the answer a corner: the last department to move takes
only what is needed, found on the segment between the two bracketing allocations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_engine.errors import InfeasibleError, OptimisationError
from alignment_engine.optimisation.feasibility import allowed_box, format_amount
from alignment_engine.optimisation.objective import Objective
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.response_curves import (
    SHAPE_BY_CODE,
    CurveArrays,
    FloatArray,
    curve_is_concave,
)

__all__ = ["GoalSeek", "least_total_for"]

_ROUNDS = 200
_UNBOUNDED = 1e6  # an amount without an upper bound is searched up to this many times today's


@dataclass(frozen=True)
class GoalSeek:
    kpi: str
    value: float
    lower_is_better: bool
    resource: str
    departments: tuple[str, ...]
    current: FloatArray  # (D,) today's amounts of the resource
    proposed: FloatArray  # (D,) the least-total allocation that reaches the value
    value_today: float
    value_proposed: float
    capacity: float

    @property
    def total(self) -> float:
        return math.fsum(self.proposed.tolist())

    @property
    def total_today(self) -> float:
        return math.fsum(self.current.tolist())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "value": self.value,
            "direction": "at most" if self.lower_is_better else "at least",
            "resource": self.resource,
            "total": self.total,
            "total_today": self.total_today,
            "change": self.total - self.total_today,
            "capacity": self.capacity,
            "within_capacity": self.total <= self.capacity * (1 + 1e-9),
            "kpi_today": self.value_today,
            "kpi_proposed": self.value_proposed,
            "allocations": [
                {
                    "department": d,
                    "current": float(c),
                    "proposed": float(p),
                    "change": float(p - c),
                }
                for d, c, p in zip(self.departments, self.current, self.proposed, strict=True)
            ],
        }


def least_total_for(
    problem: ReallocationProblem, kpi: str, value: float, resource: str | None = None
) -> GoalSeek:
    """The least total of ``resource`` that takes ``kpi`` to ``value``, within each
    department's bounds (minimum, max_change, demand limits; capacity is reported, not
    imposed: the question is what it would take). Raises OptimisationError for a KPI or
    resource the problem does not have, InfeasibleError when the bounds cannot reach it."""
    if kpi not in problem.kpis.ids:
        raise OptimisationError(
            f"--target names '{kpi}', which is not a KPI the optimiser predicts (a department "
            "KPI, a shared goal, or a company KPI with a response curve)"
        )
    k = problem.kpis.ids.index(kpi)
    curves = problem.curves
    on_kpi = np.flatnonzero(curves.kpi == k)
    resources = sorted({problem.pools.ids[int(r)] for r in curves.resource[on_kpi]})
    if not resources:
        raise OptimisationError(f"no response curve moves '{kpi}', so no amount reaches a target")
    if resource is None:
        if len(resources) > 1:
            raise OptimisationError(
                f"'{kpi}' moves with {', '.join(resources)}: say which with --resource"
            )
        resource = resources[0]
    if resource not in problem.pools.ids:
        raise OptimisationError(f"unknown resource '{resource}'")
    if resource not in resources:
        raise OptimisationError(f"no response curve links '{resource}' to '{kpi}'")
    r = problem.pools.ids.index(resource)
    lower_is_better = bool(problem.kpis.lower_is_better[k])
    sign = -1.0 if lower_is_better else 1.0

    chosen = on_kpi[curves.resource[on_kpi] == r]
    for c in chosen:
        shape = SHAPE_BY_CODE[int(curves.shape[c])]
        a, b = sign * float(curves.a[c]), float(curves.b[c])
        if a <= 0 or not curve_is_concave(shape, a, b):
            way = "lower" if lower_is_better else "raise"
            raise OptimisationError(
                f"the {shape} curve of '{kpi}' on '{resource}' for "
                f"'{problem.departments[int(curves.department[c])]}' does not {way} it with "
                "diminishing returns, so the least amount that reaches a value is not defined"
            )

    mask = np.zeros(len(problem.pools.ids), dtype=np.bool_)
    mask[r] = True
    box = allowed_box(problem, keep_total=False, optimised=mask)
    lower = box.lower[r].copy()
    today = problem.pools.current[r].copy()
    span = max(float(today.sum()), float(problem.pools.capacity[r]), 1.0)
    upper = np.where(np.isfinite(box.own_upper[r]), box.own_upper[r], _UNBOUNDED * span)
    # Departments whose amount does not move the KPI keep it (as the optimiser holds amounts no
    # curve links to a KPI): cutting them would lower the total without reaching anything.
    moved = np.zeros(len(problem.departments), dtype=np.bool_)
    moved[curves.department[chosen]] = True
    lower = np.where(moved, lower, today)
    upper = np.where(moved, upper, today)

    objective = Objective(problem, shared_weight=0.0, balance=0.0)
    value_today = float(objective.evaluate(objective.today).kpi_values[k])
    department = curves.department[chosen]
    arrays = CurveArrays(curves.shape[chosen], sign * curves.a[chosen], curves.b[chosen])
    at_today = arrays.evaluate(today[department])[0]
    goal = sign * (value - value_today)  # how much the signed KPI must rise

    def gain(x: FloatArray) -> float:
        return float((arrays.evaluate(x[department])[0] - at_today).sum())

    def amounts(multiplier: float) -> FloatArray:
        """Each department's amount where its curve's slope is 1 / multiplier (in bounds)."""
        x = lower.copy()
        moving = np.unique(department)
        lo, hi = lower[moving].copy(), upper[moving].copy()
        for _ in range(_ROUNDS // 2):
            middle = (lo + hi) / 2
            slope = np.zeros(len(problem.departments))
            np.add.at(slope, department, arrays.evaluate(middle_at(middle, moving))[1])
            steeper = slope[moving] * multiplier > 1.0
            lo, hi = np.where(steeper, middle, lo), np.where(steeper, hi, middle)
        x[moving] = (lo + hi) / 2
        chosen_amounts: FloatArray = x
        return chosen_amounts

    def middle_at(middle: FloatArray, moving: np.ndarray) -> FloatArray:
        full = lower.copy()
        full[moving] = middle
        picked: FloatArray = full[department]
        return picked

    if gain(lower) >= goal:
        best = lower
    else:
        if gain(upper) < goal - 1e-12 * max(1.0, abs(goal)):
            reachable = value_today + sign * gain(upper)
            raise InfeasibleError(
                f"'{kpi}' reaches at most {format_amount(reachable)} with '{resource}' within "
                f"the departments' bounds (max_change, demand limits); the target is "
                f"{format_amount(value)}"
            )
        low_m, high_m = 0.0, 1.0
        while gain(amounts(high_m)) < goal and high_m < 1e300:
            low_m, high_m = high_m, high_m * 2
        for _ in range(_ROUNDS):
            middle = (low_m + high_m) / 2
            if gain(amounts(middle)) < goal:
                low_m = middle
            else:
                high_m = middle
        below, above = amounts(low_m), np.maximum(amounts(high_m), amounts(low_m))
        # Linear pieces jump between the two: the least total is on the segment between them.
        t_low, t_high = 0.0, 1.0
        for _ in range(_ROUNDS):
            t = (t_low + t_high) / 2
            if gain(below + t * (above - below)) < goal:
                t_low = t
            else:
                t_high = t
        best = below + t_high * (above - below)
    return GoalSeek(
        kpi=kpi,
        value=value,
        lower_is_better=lower_is_better,
        resource=resource,
        departments=problem.departments,
        current=today,
        proposed=best,
        value_today=value_today,
        value_proposed=value_today + sign * gain(best),
        capacity=float(problem.pools.capacity[r]),
    )
