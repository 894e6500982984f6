"""The budget frontier: the best objective with at most each total of one resource
(``optimise --frontier RESOURCE``).

Each point sets the pool's capacity at an amount and reallocates it as ``optimise`` does (the
other resources stay as they are), so more money never scores lower. The totals run from the
least the departments' bounds allow (their minimums and ``max_change`` floors, and today's
amounts where no curve says what they do, which optimise holds) to the most (their
``max_change`` ceilings and demand limits; twice today's total where nothing caps it), with
today's total among them. The curve shows what more money buys, and where it stops buying.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_engine.errors import InfeasibleError, OptimisationError
from alignment_engine.optimisation.feasibility import allowed_box
from alignment_engine.optimisation.objective import Objective
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.reallocation import ReallocationOptions, suggest_reallocation

__all__ = ["Frontier", "FrontierPoint", "budget_frontier"]


@dataclass(frozen=True)
class FrontierPoint:
    total: float
    objective: float | None  # None where no allocation of this total fits the bounds
    status: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "objective": self.objective,
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class Frontier:
    resource: str
    total_today: float
    objective_today: float
    capacity: float
    points: tuple[FrontierPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "total_today": self.total_today,
            "objective_today": self.objective_today,
            "capacity": self.capacity,
            "points": [p.to_dict() for p in self.points],
        }


def budget_frontier(
    problem: ReallocationProblem,
    resource: str,
    options: ReallocationOptions | None = None,
    points: int = 9,
) -> Frontier:
    """The frontier of ``resource`` over ``points`` totals (and today's)."""
    if resource not in problem.pools.ids:
        raise OptimisationError(f"--frontier names '{resource}', which is not a resource")
    if not 2 <= points <= 100:
        raise OptimisationError(f"--frontier-points {points}: give 2 to 100 points")
    chosen = options or ReallocationOptions()
    r = problem.pools.ids.index(resource)
    mask = np.zeros(len(problem.pools.ids), dtype=np.bool_)
    mask[r] = True
    box = allowed_box(problem, keep_total=False, optimised=mask)
    today = problem.pools.current[r]
    total_today = math.fsum(today.tolist())
    # Amounts no curve links to a KPI are held at today's level (as optimise holds them), so
    # the least total keeps them: below it, releasing them would make the curve jump.
    modelled = np.zeros(len(problem.departments), dtype=np.bool_)
    modelled[problem.curves.department[problem.curves.resource == r]] = True
    least = math.fsum(np.where(modelled, box.lower[r], np.maximum(today, box.lower[r])).tolist())
    ceiling = box.own_upper[r]
    most = math.fsum(ceiling.tolist()) if np.isfinite(ceiling).all() else 2 * total_today
    step = float(problem.pools.step[r])
    grid = {float(t) for t in np.linspace(least, max(most, least), points)} | {total_today}
    if step > 0:
        grid = {math.floor(t / step + 1e-9) * step for t in grid}
    objective = Objective(problem, shared_weight=chosen.shared_weight, balance=chosen.balance)
    found: list[FrontierPoint] = []
    for total in sorted(grid):
        settings = dataclasses.replace(
            chosen,
            resources=(resource,),
            keep_total=False,
            increments=(),
            totals=((resource, total),),
        )
        try:
            result = suggest_reallocation(problem, settings)
        except InfeasibleError as error:
            found.append(FrontierPoint(total, None, "infeasible", error.message))
            continue
        found.append(FrontierPoint(total, result.objective_proposed, result.status.value))
    return Frontier(
        resource=resource,
        total_today=total_today,
        objective_today=float(objective.evaluate(objective.today).value),
        capacity=float(problem.pools.capacity[r]),
        points=tuple(found),
    )
