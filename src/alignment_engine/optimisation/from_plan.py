"""From a validated plan to the optimiser's arrays, and fitting its ``fit: history`` curves.

The objective reads department KPIs (weighted inside their department) and shared goals (each
weighted by its own ``weight``). Company KPIs are carried only when a curve moves them, so their
predicted values are reported. A KPI without a positive target cannot be scored as attainment;
it is left out of the objective and the problem's notes say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from alignment_engine.errors import OptimisationError
from alignment_engine.model.plan import CurveShape, Kpi, Plan
from alignment_engine.model.plan import ResponseCurve as PlanCurve
from alignment_engine.optimisation.fitting import CurveFit, Interval, fit_response_curve
from alignment_engine.optimisation.problem import (
    CurveTable,
    Kpis,
    Membership,
    Pools,
    ReallocationProblem,
)
from alignment_engine.optimisation.response_curves import CODE_BY_SHAPE, ResponseCurve, Shape

CurveKey = tuple[str, str, str]  # (kpi, resource, department)


@dataclass(frozen=True)
class _KpiEntry:
    kpi: Kpi
    scope: str  # department id, shared goal id, or "company"


def curve_key(plan: Plan, curve: PlanCurve) -> CurveKey:
    """(kpi, resource, department) of a plan curve, the department defaulting to the owner."""
    return (curve.kpi, curve.resource, curve.department or plan.owner(curve.kpi))


def problem_from_plan(
    plan: Plan, *, fits: Mapping[CurveKey, CurveFit] | None = None
) -> ReallocationProblem:
    """The plan's reallocation problem. ``fits`` supplies the curves marked ``fit: history``
    (see ``fit_plan_curves``); without one such a curve raises OptimisationError."""
    if not plan.resources:
        raise OptimisationError(f"plan '{plan.id}' has no resources to reallocate")
    notes: list[str] = []
    departments = tuple(d.id for d in plan.departments)
    department_index = {d: i for i, d in enumerate(departments)}
    curve_kpis = {c.kpi for c in plan.response_curves}

    entries: list[_KpiEntry] = []
    for department in plan.departments:
        entries += [_KpiEntry(kpi, department.id) for kpi in department.kpis]
    entries += [_KpiEntry(goal, goal.id) for goal in plan.shared_goals]
    entries += [_KpiEntry(kpi, "company") for kpi in plan.company_kpis if kpi.id in curve_kpis]
    scorable = []
    for entry in entries:
        target = entry.kpi.target
        if target is None or not math.isfinite(target) or target <= 0:
            if entry.scope != "company":
                notes.append(
                    f"KPI '{entry.kpi.id}' has no positive target, so its attainment cannot be "
                    "scored; it is left out of the objective"
                )
            continue
        scorable.append(entry)
    kpi_index = {entry.kpi.id: i for i, entry in enumerate(scorable)}
    kpis = Kpis(
        ids=tuple(entry.kpi.id for entry in scorable),
        target=np.array([entry.kpi.target for entry in scorable], dtype=np.float64),
        baseline=np.array(
            [np.nan if e.kpi.baseline is None else e.kpi.baseline for e in scorable],
            dtype=np.float64,
        ),
        lower_is_better=np.array([e.kpi.lower_is_better for e in scorable], dtype=np.bool_),
    )
    department_kpis = _department_membership(plan, departments, kpi_index, notes)
    goals = [goal for goal in plan.shared_goals if goal.id in kpi_index]
    shared_goals = Membership(
        ids=tuple(goal.id for goal in goals),
        group=np.arange(len(goals), dtype=np.int64),
        kpi=np.array([kpi_index[goal.id] for goal in goals], dtype=np.int64),
        weight=np.array([goal.weight for goal in goals], dtype=np.float64),
    )
    return ReallocationProblem(
        departments=departments,
        pools=_pools(plan, department_index),
        kpis=kpis,
        curves=_curves(plan, kpi_index, department_index, fits or {}),
        department_kpis=department_kpis,
        shared_goals=shared_goals,
        notes=tuple(notes),
    )


def _department_membership(
    plan: Plan, departments: tuple[str, ...], kpi_index: Mapping[str, int], notes: list[str]
) -> Membership:
    rows: list[tuple[int, int, float]] = []
    for d, department in enumerate(plan.departments):
        weights = [(kpi_index[k.id], k.weight) for k in department.kpis if k.id in kpi_index]
        total = math.fsum(w for _, w in weights)
        # Weights given as percentages without a % sign sum to 100: read them as fractions.
        divisor = 100.0 if total > 1.0 + 1e-9 and math.isclose(total, 100.0) else 1.0
        if divisor != 1.0:
            notes.append(f"department '{department.id}': KPI weights sum to 100, read as %")
        rows += [(d, k, w / divisor) for k, w in weights]
    return Membership(
        ids=departments,
        group=np.array([r[0] for r in rows], dtype=np.int64),
        kpi=np.array([r[1] for r in rows], dtype=np.int64),
        weight=np.array([r[2] for r in rows], dtype=np.float64),
    )


def _pools(plan: Plan, department_index: Mapping[str, int]) -> Pools:
    d_count, r_count = len(department_index), len(plan.resources)
    current = np.zeros((r_count, d_count))
    minimum = np.zeros((r_count, d_count))
    limit = np.full((r_count, d_count), np.inf)
    for r, resource in enumerate(plan.resources):
        for department, amount in resource.allocation.items():
            current[r, department_index[department]] = amount
        for department, amount in resource.minimum.items():
            minimum[r, department_index[department]] = amount
        if resource.demand_is_limit:
            for department, amount in resource.demand.items():
                limit[r, department_index[department]] = amount
    return Pools(
        ids=tuple(resource.id for resource in plan.resources),
        capacity=np.array([resource.capacity for resource in plan.resources], dtype=np.float64),
        current=current,
        minimum=minimum,
        max_change=np.array(
            [np.nan if r.max_change is None else r.max_change for r in plan.resources],
            dtype=np.float64,
        ),
        step=np.array([1.0 if r.integer else 0.0 for r in plan.resources], dtype=np.float64),
        limit=limit if np.isfinite(limit).any() else None,
    )


def _curves(
    plan: Plan,
    kpi_index: Mapping[str, int],
    department_index: Mapping[str, int],
    fits: Mapping[CurveKey, CurveFit],
) -> CurveTable:
    resource_index = {resource.id: i for i, resource in enumerate(plan.resources)}
    chosen: list[tuple[int, int, int, ResponseCurve]] = []
    intercepts: list[float] = []
    for plan_curve in plan.response_curves:
        if plan_curve.kpi not in kpi_index:
            continue
        key = curve_key(plan, plan_curve)
        kpi, resource, department = key
        if department not in department_index:
            raise OptimisationError(
                f"response curve of KPI '{kpi}' on '{resource}': '{department}' is not a "
                "department, so no amount moves it; name the department"
            )
        intercept = math.nan
        if plan_curve.params is not None:
            params = plan_curve.params
            curve = ResponseCurve(Shape(plan_curve.shape.value), params["a"], params.get("b", 1.0))
            intercept = float(params.get("c", math.nan))
        elif key in fits:
            curve = fits[key].curve()
            intercept = fits[key].c
        else:
            raise OptimisationError(
                f"response curve of KPI '{kpi}' on '{resource}' for '{department}' says "
                "'fit: history', but no history fit was supplied for it"
            )
        chosen.append(
            (kpi_index[kpi], resource_index[resource], department_index[department], curve)
        )
        intercepts.append(intercept)
    covariance = np.full((len(chosen), 2, 2), np.nan)
    for i, (_, _, _, curve) in enumerate(chosen):
        if curve.covariance is not None:
            covariance[i] = curve.covariance
    return CurveTable(
        kpi=np.array([c[0] for c in chosen], dtype=np.int64),
        resource=np.array([c[1] for c in chosen], dtype=np.int64),
        department=np.array([c[2] for c in chosen], dtype=np.int64),
        shape=np.array([CODE_BY_SHAPE[c[3].shape] for c in chosen], dtype=np.int8),
        a=np.array([c[3].a for c in chosen], dtype=np.float64),
        b=np.array([c[3].b for c in chosen], dtype=np.float64),
        covariance=covariance,
        c=np.array(intercepts, dtype=np.float64)
        if any(not math.isnan(v) for v in intercepts)
        else None,
    )


def fit_plan_curves(
    plan: Plan,
    amounts: Iterable[tuple[str, str, str, float]],
    results: Iterable[tuple[str, str, str, float]],
) -> dict[CurveKey, CurveFit]:
    """Fit every ``fit: history`` curve of the plan from past periods.

    ``amounts``: (period, department, resource, amount) rows; ``results``: (period, scope, kpi,
    actual) rows, as in the history and actuals tables. Each curve pairs the periods where both
    its amount and its KPI are known, fits the plan's shape, and reports the marginal return at
    today's allocation. Raises OptimisationError naming the curve when its fit is refused.
    """
    amount_by = {(d, r, p): float(a) for p, d, r, a in amounts}
    result_by = {(s, k, p): float(v) for p, s, k, v in results}
    fitted: dict[CurveKey, CurveFit] = {}
    for plan_curve in plan.response_curves:
        if plan_curve.fit is None:
            continue
        key = curve_key(plan, plan_curve)
        kpi, resource, department = key
        scope = plan.owner(kpi)
        periods = sorted(
            p
            for (d, r, p) in amount_by
            if d == department and r == resource and (scope, kpi, p) in result_by
        )
        x = [amount_by[(department, resource, p)] for p in periods]
        y = [result_by[(scope, kpi, p)] for p in periods]
        today = plan.resource(resource).allocation.get(department)
        label = f"response curve of KPI '{kpi}' on '{resource}' for '{department}'"
        try:
            fitted[key] = fit_response_curve(
                x,
                y,
                _shape(plan_curve.shape),
                today=None if today is None else float(today),
                intercept=plan_curve.intercept,
            )
        except OptimisationError as exc:
            raise OptimisationError(f"{label}: {exc.message}") from None
    return fitted


def _shape(shape: CurveShape) -> Shape:
    return Shape(shape.value)


def predicted_change_intervals(
    fits: Mapping[CurveKey, CurveFit],
    moves: Mapping[tuple[str, str], tuple[float, float]],
    *,
    level: float = 0.9,
) -> dict[str, Interval]:
    """Each fitted KPI's predicted change with an interval, from the moves of its amounts.

    ``moves`` maps (resource, department) to (current, proposed). A KPI moved by several fitted
    curves gets the sum of their estimates, and the sum of their bounds as its bounds: a
    conservative interval, since the curves' errors are not independent estimates of one thing.
    """
    totals: dict[str, list[float]] = {}
    for (kpi, resource, department), found in sorted(fits.items()):
        current, proposed = moves.get((resource, department), (0.0, 0.0))
        interval = found.predicted_change(current, proposed, level=level)
        estimate, low, high = totals.setdefault(kpi, [0.0, 0.0, 0.0])
        totals[kpi] = [estimate + interval.estimate, low + interval.low, high + interval.high]
    return {
        kpi: Interval(estimate=values[0], low=values[1], high=values[2], level=level)
        for kpi, values in totals.items()
    }
