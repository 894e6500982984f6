"""Random reallocation problems for the optimisation tests, and a cvxpy oracle (dev only)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignment_engine.optimisation import (
    CurveTable,
    Kpis,
    Membership,
    Pools,
    ReallocationProblem,
    ReallocationResult,
)
from alignment_engine.optimisation.objective import Objective
from alignment_engine.optimisation.response_curves import ShapeCode

CONCAVE_SHAPES = (ShapeCode.LINEAR, ShapeCode.SATURATING, ShapeCode.LOG, ShapeCode.POWER)


@dataclass(frozen=True)
class Spec:
    """What a random problem looks like; ``seed`` fills in the numbers."""

    seed: int
    departments: int = 5
    resources: int = 2
    kpis_per_department: int = 2
    shared_goals: int = 1
    max_change: float | None = 0.3
    capacity_factor: float = 1.0  # capacity = factor * today's total
    minimum_share: float = 0.0  # minimums = share * today's amount
    integer: bool = False
    lower_is_better: bool = False  # make some department KPIs lower-is-better
    convex: bool = False  # allow power curves with b > 1
    linear: bool = True  # allow linear curves
    power_exponents: tuple[float, ...] = (0.3, 0.5, 0.7)


def make_problem(spec: Spec) -> ReallocationProblem:
    rng = np.random.default_rng(spec.seed)
    d_count, r_count = spec.departments, spec.resources
    if spec.integer:
        current = rng.integers(5, 40, size=(r_count, d_count)).astype(float)
    else:
        current = rng.uniform(20.0, 150.0, size=(r_count, d_count))
    # Some departments start with nothing of some resource.
    current[rng.random((r_count, d_count)) < 0.1] = 0.0
    current[:, 0] = np.maximum(current[:, 0], 10.0)  # every pool holds something
    capacity = np.floor(current.sum(axis=1) * spec.capacity_factor)
    minimum = np.floor(current * spec.minimum_share)
    pools = Pools(
        ids=tuple(f"res{r}" for r in range(r_count)),
        capacity=capacity,
        current=current,
        minimum=minimum,
        max_change=np.full(r_count, np.nan if spec.max_change is None else spec.max_change),
        step=np.full(r_count, 1.0 if spec.integer else 0.0),
    )
    n_department_kpis = d_count * spec.kpis_per_department
    n_kpis = n_department_kpis + spec.shared_goals
    lower = np.zeros(n_kpis, dtype=bool)
    if spec.lower_is_better:
        lower[:n_department_kpis] = rng.random(n_department_kpis) < 0.4

    curve_rows: list[tuple[int, int, int, int, float, float]] = []
    shapes = [s for s in CONCAVE_SHAPES if spec.linear or s != ShapeCode.LINEAR]

    def add_curve(kpi: int, resource: int, department: int, gain: float, falls: bool) -> None:
        shape = int(rng.choice(shapes))
        x0 = max(current[resource, department], 10.0)
        if shape == ShapeCode.LINEAR:
            b, unit = 1.0, x0
        elif shape == ShapeCode.SATURATING:
            b = rng.uniform(0.3, 3.0) / x0
            unit = -math.expm1(-b * x0)
        elif shape == ShapeCode.LOG:
            b = rng.uniform(0.3, 3.0) / x0
            unit = math.log1p(b * x0)
        else:
            b = float(rng.choice(spec.power_exponents))
            if spec.convex and rng.random() < 0.5:
                b = 1.5
            unit = x0**b
        a = gain / unit
        curve_rows.append((kpi, resource, department, shape, -a if falls else a, b))

    for d in range(d_count):
        for j in range(spec.kpis_per_department):
            k = d * spec.kpis_per_department + j
            for r in range(r_count):
                if r == j % r_count or rng.random() < 0.5:
                    # Lower-is-better KPIs fall as the resource grows.
                    add_curve(k, r, d, rng.uniform(0.05, 0.4), bool(lower[k]))
    for g in range(spec.shared_goals):
        members = rng.choice(d_count, size=min(d_count, int(rng.integers(2, 5))), replace=False)
        for d in members:
            add_curve(n_department_kpis + g, int(rng.integers(r_count)), int(d), 0.1, False)

    baseline = np.full(n_kpis, np.nan)
    baseline[:n_department_kpis] = rng.uniform(0.6, 1.2, n_department_kpis)
    baseline[lower] = rng.uniform(1.0, 1.6, int(lower.sum()))  # above target: worse
    kpis = Kpis(
        ids=tuple(
            [f"d{d}.k{j}" for d in range(d_count) for j in range(spec.kpis_per_department)]
            + [f"goal{g}" for g in range(spec.shared_goals)]
        ),
        target=np.ones(n_kpis),
        baseline=baseline,
        lower_is_better=lower,
    )
    rows = np.array(curve_rows, dtype=float).reshape(-1, 6)
    curves = CurveTable(
        kpi=rows[:, 0].astype(np.int64),
        resource=rows[:, 1].astype(np.int64),
        department=rows[:, 2].astype(np.int64),
        shape=rows[:, 3].astype(np.int8),
        a=rows[:, 4],
        b=rows[:, 5],
        covariance=np.full((rows.shape[0], 2, 2), np.nan),
    )
    weights = rng.uniform(0.2, 1.0, size=(d_count, spec.kpis_per_department))
    weights /= weights.sum(axis=1, keepdims=True)
    departments = tuple(f"d{d}" for d in range(d_count))
    return ReallocationProblem(
        departments=departments,
        pools=pools,
        kpis=kpis,
        curves=curves,
        department_kpis=Membership(
            ids=departments,
            group=np.repeat(np.arange(d_count), spec.kpis_per_department),
            kpi=np.arange(n_department_kpis),
            weight=weights.ravel(),
        ),
        shared_goals=Membership(
            ids=kpis.ids[n_department_kpis:],
            group=np.arange(spec.shared_goals),
            kpi=np.arange(n_department_kpis, n_kpis),
            weight=np.ones(spec.shared_goals),
        ),
    )


def bounds(
    problem: ReallocationProblem, keep_total: bool, increments: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent restatement of the SPEC constraints: (lower, upper, row total), (R, D).
    ``increments`` (R,): new money per pool: nobody goes below today, the total is today's
    plus the increment."""
    pools = problem.pools
    change = pools.max_change[:, None]
    limited = ~np.isnan(change)
    lower = np.where(limited, np.maximum(pools.current * (1 - np.nan_to_num(change)), 0), 0)
    lower = np.maximum(lower, pools.minimum)
    upper = np.where(limited, pools.current * (1 + np.nan_to_num(change)), np.inf)
    total = pools.current.sum(axis=1) if keep_total else pools.capacity
    if increments is not None:
        lower = np.maximum(lower, pools.current)
        total = pools.current.sum(axis=1) + increments
    return lower, upper, total


def assert_constraints_hold(
    problem: ReallocationProblem, result: ReallocationResult, keep_total: bool
) -> None:
    lower, upper, total = bounds(problem, keep_total)
    table = result.allocation_table
    x = table.proposed.reshape(problem.pools.current.shape)
    slack = 1e-9 * np.maximum(1.0, np.abs(problem.pools.current))
    assert (x >= lower - slack).all(), "below a lower bound"
    assert (x <= upper + slack).all(), "above an upper bound"
    assert (x >= 0).all()
    sums = x.sum(axis=1)
    scale = np.maximum(1.0, np.abs(total))
    if keep_total:
        assert np.allclose(sums, total, rtol=1e-12, atol=1e-9 * scale.max())
    else:
        assert (sums <= total + 1e-9 * scale).all(), "a pool is over capacity"
    stepped = problem.pools.step > 0
    for r in np.flatnonzero(stepped):
        units = x[r] / problem.pools.step[r]
        assert np.array_equal(units, np.rint(units)), "not whole units"


# Clarabel's default tolerances leave up to ~1e-5 of the objective on the table; the oracle must
# be tighter than the 1e-6 it certifies.
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 500}


def spec_curve_values(curves: CurveTable, x: np.ndarray) -> np.ndarray:
    """The SPEC's curve formulas, written out independently of the package."""
    a, b, shape = curves.a, curves.b, curves.shape
    return np.select(
        [shape == ShapeCode.LINEAR, shape == ShapeCode.SATURATING, shape == ShapeCode.LOG],
        [a * x, a * (1 - np.exp(-b * x)), a * np.log(1 + b * x)],
        a * np.power(x, b),
    )


def cvxpy_optimum(
    problem: ReallocationProblem,
    *,
    shared_weight: float,
    balance: float,
    keep_total: bool = False,
    increments: np.ndarray | None = None,
) -> tuple[float, bool] | None:
    """The certified optimum from cvxpy + Clarabel (concave, higher-is-better problems only).

    Works in multipliers of today's amounts (unscaled budgets make Clarabel fail, see
    notes/optimisation.md); power exponents must come from a small set of rationals so the
    power atoms have exact second-order-cone forms. Returns our objective at the oracle's point
    (moved exactly inside the constraints) and whether the tight tolerances were reached, or
    None when Clarabel fails outright (rare: wide bounds with several curve shapes).
    """
    import cvxpy as cp  # dev-only oracle
    import scipy.sparse as sp

    objective = Objective(problem, shared_weight=shared_weight, balance=balance)
    pools = problem.pools
    lower, upper, total = bounds(problem, keep_total, increments)
    keep_total = keep_total or increments is not None  # the rows hold with equality
    current = pools.current
    scale = np.where(current > 0, current, 1.0)
    m = cp.Variable(current.shape)
    constraints: list[Any] = [m >= lower / scale]
    finite = np.isfinite(upper)
    constraints.append(cp.multiply(finite, m) <= np.where(finite, upper / scale, 0.0))
    for r in range(current.shape[0]):
        row = cp.sum(cp.multiply(m[r], scale[r])) / max(total[r], 1.0)
        limit = total[r] / max(total[r], 1.0)
        constraints.append(row == limit if keep_total else row <= limit)
    curves = problem.curves
    n_kpis = len(problem.kpis.ids)
    parts = []
    for code in CONCAVE_SHAPES:
        index = np.flatnonzero(curves.shape == code)
        if index.size == 0:
            continue
        r_idx, d_idx = curves.resource[index], curves.department[index]
        mult = m[r_idx, d_idx]
        x0 = scale[r_idx, d_idx]
        a, b = curves.a[index], curves.b[index]
        if code == ShapeCode.LINEAR:
            expression = cp.multiply(a * x0, mult)
        elif code == ShapeCode.SATURATING:
            expression = a - cp.multiply(a, cp.exp(cp.multiply(-b * x0, mult)))
        elif code == ShapeCode.LOG:
            expression = cp.multiply(a, cp.log(1 + cp.multiply(b * x0, mult)))
        else:
            pieces, order = [], []
            for exponent in np.unique(b):
                chosen = np.flatnonzero(b == exponent)
                coefficient = a[chosen] * x0[chosen] ** exponent
                pieces.append(cp.multiply(coefficient, cp.power(mult[chosen], float(exponent))))
                order.append(chosen)
            expression = cp.hstack(pieces)
            index = index[np.concatenate(order)]
        gather = sp.csr_matrix(
            (np.ones(index.size), (curves.kpi[index], np.arange(index.size))),
            shape=(n_kpis, index.size),
        )
        parts.append(gather @ expression)
    today = spec_curve_values(curves, current[curves.resource, curves.department])
    at_today = np.bincount(curves.kpi, today, minlength=n_kpis)
    # Without a baseline a KPI stands at its curves' intercepts (its level at amount 0) plus
    # the curves; with one, the curves move it from the baseline.
    intercepts = (
        np.zeros(n_kpis)
        if curves.c is None
        else np.bincount(curves.kpi, np.nan_to_num(curves.c), minlength=n_kpis)
    )
    baseline = np.where(
        np.isnan(problem.kpis.baseline), at_today + intercepts, problem.kpis.baseline
    )
    offset = baseline - at_today
    values = offset + sum(parts) if parts else offset
    scores = cp.multiply(1.0 / objective.target, values)
    performance = objective.department_matrix @ scores
    shared = objective.shared_matrix @ scores
    total_objective: Any = 0
    if performance.shape[0]:
        total_objective += objective.department_share * cp.sum(performance) / performance.shape[0]
        if objective.balance > 0:
            total_objective += objective.balance * (-cp.log_sum_exp(-50 * performance) / 50)
    if shared.shape[0]:
        total_objective += objective.shared_share * cp.sum(shared) / shared.shape[0]
    model = cp.Problem(cp.Maximize(total_objective), constraints)
    with warnings.catch_warnings():
        # cvxpy notes how it represents each power atom; the exponents used here are exact.
        warnings.simplefilter("ignore")
        try:
            model.solve(solver=cp.CLARABEL, **TIGHT)
            tight = True
        except cp.error.SolverError:
            # Occasionally Clarabel stalls short of the tight tolerances; its default ones
            # then give a lower bound on the optimum good to about 1e-5.
            tight = False
            try:
                model.solve(solver=cp.CLARABEL)
            except cp.error.SolverError:
                return None
    # The solver meets constraints to about 1e-9; put its answer exactly inside them, so a
    # point over capacity cannot look better than ours.
    x = np.clip(m.value * scale, lower, upper)
    for r in range(x.shape[0]):
        excess = x[r].sum() - total[r]
        if excess > 0 or keep_total:
            room = x[r] - lower[r] if excess > 0 else upper[r] - x[r]
            room = np.where(np.isfinite(room), room, 0.0)
            if room.sum() > 0:
                x[r] -= np.sign(excess) * min(abs(excess) / room.sum(), 1.0) * room
    x = x.ravel()
    return objective.value(x), tight
