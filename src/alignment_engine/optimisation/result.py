"""What a reallocation returns: before/after per amount, prices, predictions, performances."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alignment_engine.optimisation.response_curves import FloatArray
from alignment_engine.scoring.precision import round_significant

UNSTABLE_BELOW = 0.8  # share of parameter draws that must agree on a move's direction


class Status(StrEnum):
    OPTIMAL = "optimal"  # concave problem: the global optimum
    LOCAL = "local"  # not concave (lower-is-better KPIs, convex curves): a local optimum
    UNCHANGED = "unchanged"  # nothing found beat today's allocation, which is returned
    BOUNDED = "bounded"  # part of the way to the optimum: a guard (a bound on pay) stopped it


class Method(StrEnum):
    AUTO = "auto"
    WATER_FILLING = "water-filling"
    INTERIOR_POINT = "interior-point"


class BoundStatus(StrEnum):
    AT_MIN = "at_min"  # at zero, its minimum, or the most max_change lets it shrink
    AT_MAX = "at_max"  # at the most max_change (or its demand, when a limit) lets it grow
    FREE = "free"
    FIXED = "fixed"  # no room to move (not optimised, or its bounds coincide)


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class AllocationChange:
    """One department's amount of one resource, today and proposed."""

    resource: str
    department: str
    current: float
    proposed: float
    change: float
    bound: BoundStatus
    marginal_value: float  # d objective / d one more unit, at the proposal
    marginal_value_current: float  # the same at today's amounts
    bound_price: float  # objective gained per unit the binding bound is relaxed (0 if free)
    direction_agreement: float | None  # share of parameter draws that agree on the move
    direction_unstable: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "department": self.department,
            "current": self.current,
            "proposed": self.proposed,
            "change": self.change,
            "marginal_value": _number(self.marginal_value),
            "marginal_value_current": _number(self.marginal_value_current),
            "bound": self.bound.value,
            "bound_price": _number(self.bound_price),
            "direction_agreement": self.direction_agreement,
            "direction_unstable": self.direction_unstable,
        }


_BOUNDS = tuple(BoundStatus)


@dataclass(frozen=True, eq=False)
class AllocationTable:
    """Every (resource, department) amount as columns, resource-major (index = r * D + d).

    Kept as arrays so large reallocations stay cheap; ``rows()`` gives one object per amount.
    """

    resources: tuple[str, ...]
    departments: tuple[str, ...]
    current: FloatArray
    proposed: FloatArray
    bound: NDArray[np.int8]  # index into BoundStatus, in declaration order
    marginal_value: FloatArray
    marginal_value_current: FloatArray
    bound_price: FloatArray
    direction_agreement: FloatArray  # NaN where not assessed

    @property
    def change(self) -> FloatArray:
        change: FloatArray = self.proposed - self.current
        return change

    def rows(self) -> tuple[AllocationChange, ...]:
        d_count = len(self.departments)
        names = [(r, d) for r in self.resources for d in self.departments]
        agreement = self.direction_agreement
        unstable = (np.nan_to_num(agreement, nan=1.0) < UNSTABLE_BELOW).tolist()
        return (
            tuple(
                AllocationChange(
                    resource=resource,
                    department=department,
                    current=current,
                    proposed=proposed,
                    change=proposed - current,
                    bound=_BOUNDS[bound],
                    marginal_value=marginal,
                    marginal_value_current=marginal_current,
                    bound_price=price,
                    direction_agreement=None if math.isnan(share) else share,
                    direction_unstable=flag,
                )
                for (
                    resource,
                    department,
                ), current, proposed, bound, marginal, marginal_current, price, share, flag in zip(
                    names,
                    self.current.tolist(),
                    self.proposed.tolist(),
                    self.bound.tolist(),
                    self.marginal_value.tolist(),
                    self.marginal_value_current.tolist(),
                    self.bound_price.tolist(),
                    agreement.tolist(),
                    unstable,
                    strict=True,
                )
            )
            if d_count
            else ()
        )


@dataclass(frozen=True)
class ResourceSummary:
    resource: str
    capacity: float
    total_current: float
    total_proposed: float
    limit: float  # the pool row's right-hand side (capacity, or today's total with keep_total)
    keep_total: bool
    optimised: bool
    shadow_price: float  # objective gained per extra unit of the pool (lambda)

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "capacity": self.capacity,
            "total_current": self.total_current,
            "total_proposed": self.total_proposed,
            "limit": self.limit,
            "keep_total": self.keep_total,
            "optimised": self.optimised,
            "shadow_price": _number(self.shadow_price),
        }


@dataclass(frozen=True)
class KpiPrediction:
    kpi: str
    current: float
    proposed: float
    target: float
    score_current: float
    score_proposed: float

    def to_dict(self) -> dict[str, Any]:
        # Computed values read as the decimals they are (0.88, not 0.8800000000000001): 12
        # significant digits, as every result the engine computes (scoring.precision).
        return {
            "kpi": self.kpi,
            "current": _shown(self.current),
            "proposed": _shown(self.proposed),
            "target": self.target,
            "score_current": _shown(self.score_current),
            "score_proposed": _shown(self.score_proposed),
        }


def _shown(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return float(round_significant([value])[0])


@dataclass(frozen=True, eq=False)
class KpiTable:
    """Predicted KPI values as columns; ``rows()`` gives one object per KPI."""

    ids: tuple[str, ...]
    current: FloatArray
    proposed: FloatArray
    target: FloatArray
    score_current: FloatArray
    score_proposed: FloatArray

    def rows(self) -> tuple[KpiPrediction, ...]:
        return tuple(
            KpiPrediction(kpi, current, proposed, target, score_current, score_proposed)
            for kpi, current, proposed, target, score_current, score_proposed in zip(
                self.ids,
                self.current.tolist(),
                self.proposed.tolist(),
                self.target.tolist(),
                self.score_current.tolist(),
                self.score_proposed.tolist(),
                strict=True,
            )
        )


@dataclass(frozen=True, eq=False)
class PerformanceTable:
    """Performances of departments or shared goals as columns."""

    ids: tuple[str, ...]
    current: FloatArray
    proposed: FloatArray

    def rows(self) -> tuple[PerformanceChange, ...]:
        return tuple(
            PerformanceChange(id, current, proposed)
            for id, current, proposed in zip(
                self.ids, self.current.tolist(), self.proposed.tolist(), strict=True
            )
        )


@dataclass(frozen=True)
class PerformanceChange:
    """A department's (or shared goal's) performance: its weighted KPI scores."""

    id: str
    current: float
    proposed: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "current": _number(self.current), "proposed": _number(self.proposed)}


@dataclass(frozen=True)
class ReallocationResult:
    """A suggested reallocation: its status and objective, each department's current and
    proposed amounts with marginal values, and the predicted KPI changes; ``to_dict()`` is
    ``optimise --format json``."""

    status: Status
    method: Method
    objective_current: float
    objective_proposed: float
    allocation_table: AllocationTable
    resources: tuple[ResourceSummary, ...]
    kpi_table: KpiTable
    department_table: PerformanceTable
    shared_goal_table: PerformanceTable
    iterations: int
    notes: tuple[str, ...]

    @cached_property
    def allocations(self) -> tuple[AllocationChange, ...]:
        return self.allocation_table.rows()

    @cached_property
    def predicted(self) -> tuple[KpiPrediction, ...]:
        return self.kpi_table.rows()

    @cached_property
    def departments(self) -> tuple[PerformanceChange, ...]:
        return self.department_table.rows()

    @cached_property
    def shared_goals(self) -> tuple[PerformanceChange, ...]:
        return self.shared_goal_table.rows()

    def allocation(self, resource: str, department: str) -> AllocationChange:
        table = self.allocation_table
        index = table.resources.index(resource) * len(table.departments)
        return self.allocations[index + table.departments.index(department)]

    def to_dict(self) -> dict[str, Any]:
        """The ``optimise --format json`` shape (docs/cli.md), with the extra detail alongside."""
        return {
            "status": self.status.value,
            "objective": _number(self.objective_proposed),
            "objective_current": _number(self.objective_current),
            "method": self.method.value,
            "allocations": [a.to_dict() for a in self.allocations],
            "resources": [r.to_dict() for r in self.resources],
            "predicted": [p.to_dict() for p in self.predicted],
            "departments": [d.to_dict() for d in self.departments],
            "shared_goals": [g.to_dict() for g in self.shared_goals],
            "iterations": self.iterations,
            "notes": list(self.notes),
        }
