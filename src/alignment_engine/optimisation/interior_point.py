"""A primal-dual interior-point method for the coupled reallocation problem.

Why not scipy's trust-constr: with 6,000 amounts it takes 37 s where this takes well under one
(notes/optimisation.md). The Hessian of the objective is sparse plus rank one: curve curvature on
the diagonal, one small block per department from the soft-min (its performance depends only on
its own amounts and curves), and a single dense rank-one term from the soft-min's normaliser. The
pool rows add at most R more dense columns. Each Newton system is therefore one sparse LU of the
sparse part plus a tiny dense (R + 1) system (Woodbury), and the iteration count does not grow
with the number of departments.

Work is done in multipliers of today's amounts (``y = x / scale``) so every variable and every
pool row is about 1 in size. For concave objectives the exact Hessian is used and the answer is
the global optimum; otherwise (lower-is-better KPIs, convex curves) a positive semi-definite
model of it is, with an Armijo line search on the barrier function, which finds a local optimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from alignment_engine.optimisation.objective import (
    SOFTMIN_TEMPERATURE,
    Objective,
    ObjectiveState,
)
from alignment_engine.optimisation.problem import IntArray
from alignment_engine.optimisation.response_curves import FloatArray, sum_by

_MAX_ITERATIONS = 200
_GAP_TOLERANCE = 1e-12
_FRACTION_TO_BOUNDARY = 0.995
_ARMIJO = 1e-4


@dataclass(frozen=True, eq=False)
class Row:
    """One pool row over free amounts: sum(x[variables]) <= total (or == total)."""

    variables: IntArray  # indices into the flat allocation
    total: float
    equality: bool


@dataclass(frozen=True, eq=False)
class InteriorResult:
    x: FloatArray
    row_prices: FloatArray  # one per row, objective per natural unit (>= 0 for <= rows)
    iterations: int
    converged: bool


class _Hessian:
    """Assembles the sparse part of -d2F/dy2 over the free amounts in a fixed CSC pattern.

    Entries: curve curvature on the diagonal; for the soft-min, one block per department over
    the curves of its KPIs; for lower-is-better KPIs (score target/value is curved in the
    value), one block per KPI over its curves. The soft-min's dense rank-one part is returned
    separately as q.
    """

    def __init__(self, objective: Objective, free: IntArray, scale: FloatArray) -> None:
        self.objective = objective
        n_free = free.size
        self.n_free = n_free
        local = np.full(objective.n, -1, dtype=np.int64)
        local[free] = np.arange(n_free)
        self.curve_local = local[objective.curve_variable]
        self.curve_scale = scale[objective.curve_variable]
        self.free_curve = self.curve_local >= 0
        keep = self.curve_local[objective.incidence_curve] >= 0
        self.inc_group = objective.incidence_group[keep]
        self.inc_curve = objective.incidence_curve[keep]
        self.inc_weight = objective.incidence_weight[keep]
        self.balance_first, self.balance_second = _pairs_within(self.inc_group)
        curved = self.free_curve & objective.lower[objective.curve_kpi]
        self.curved_curve = np.flatnonzero(curved)
        self.score_first, self.score_second = _pairs_within(objective.curve_kpi[self.curved_curve])
        balance_var = self.curve_local[self.inc_curve]
        score_var = self.curve_local[self.curved_curve]
        rows = np.concatenate(
            [np.arange(n_free), balance_var[self.balance_first], score_var[self.score_first]]
        )
        cols = np.concatenate(
            [np.arange(n_free), balance_var[self.balance_second], score_var[self.score_second]]
        )
        key = cols * n_free + rows  # column-major, as CSC stores it
        unique, self.position = np.unique(key, return_inverse=True)
        self.indices = (unique % n_free).astype(np.int32)
        self.indptr = np.searchsorted(unique // n_free, np.arange(n_free + 1)).astype(np.int32)
        self.nnz = unique.size
        self.diagonal_position = self.position[:n_free]

    def sparse_part(
        self, state: ObjectiveState, exact: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        """CSC data of the sparse part S, and the rank-one vector q: H = S - k*50*q q^T.

        ``exact=False`` gives a positive semi-definite model for non-concave objectives: the
        off-diagonal score-curvature terms are dropped and negative diagonal entries cut to 0.
        """
        objective = self.objective
        free_curve = self.free_curve
        slope = state.curve_slope * self.curve_scale  # d f / d y per curve
        coefficient = state.kpi_coefficient[objective.curve_kpi]
        diagonal = sum_by(
            self.curve_local[free_curve],
            -(coefficient * state.curve_curvature * self.curve_scale**2)[free_curve],
            self.n_free,
        )
        score_weight = -(state.score_coefficient * state.score_curvature)[
            objective.curve_kpi[self.curved_curve]
        ]
        curved_slope = slope[self.curved_curve]
        if exact:
            score_values = (
                score_weight[self.score_first]
                * curved_slope[self.score_first]
                * curved_slope[self.score_second]
            )
        else:
            diagonal += sum_by(
                self.curve_local[self.curved_curve], score_weight * curved_slope**2, self.n_free
            )
            np.maximum(diagonal, 0.0, out=diagonal)
            score_values = np.zeros(self.score_first.size)
        q = None
        balance_values = np.zeros(self.balance_first.size)
        if objective.balance > 0 and self.inc_curve.size:
            kpi = objective.curve_kpi[self.inc_curve]
            beta = self.inc_weight * state.score_slope[kpi] * slope[self.inc_curve]
            weight = objective.balance * SOFTMIN_TEMPERATURE * state.softmin_weights
            balance_values = (
                weight[self.inc_group[self.balance_first]]
                * beta[self.balance_first]
                * beta[self.balance_second]
            )
            q = sum_by(
                self.curve_local[self.inc_curve],
                state.softmin_weights[self.inc_group] * beta,
                self.n_free,
            )
        data = sum_by(
            self.position, np.concatenate([diagonal, balance_values, score_values]), self.nnz
        )
        return data, q

    def matrix(self, data: FloatArray) -> sp.csc_matrix:
        return sp.csc_matrix((data, self.indices, self.indptr), shape=(self.n_free, self.n_free))


def _pairs_within(group: IntArray) -> tuple[IntArray, IntArray]:
    """All ordered pairs (i, j) of entries with the same group (i == j included)."""
    if group.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    counts = np.diff(np.r_[starts, group.size])
    size_of = np.repeat(counts, counts)  # group size, per sorted entry
    start_of = np.repeat(starts, counts)
    first = np.repeat(np.arange(group.size), size_of)
    offset = np.arange(first.size) - np.repeat(np.cumsum(size_of) - size_of, size_of)
    second = np.repeat(start_of, size_of) + offset
    return order[first].astype(np.int64), order[second].astype(np.int64)


@dataclass
class _Iterate:
    v: FloatArray  # free amounts (multipliers of scale) then one slack per inequality row
    low_slack: FloatArray
    high_slack: FloatArray
    z_low: FloatArray
    z_high: FloatArray
    price: FloatArray  # one per row (all rows are equalities once slacks are added)


def solve_interior_point(
    objective: Objective,
    free: IntArray,
    lower: FloatArray,
    upper: FloatArray,
    rows: list[Row],
    start: FloatArray,
    *,
    exact: bool,
) -> InteriorResult:
    """Maximise the objective over the free amounts from a feasible ``start`` (others fixed).

    ``start`` must satisfy every row; it is moved strictly inside the bounds first.
    Inequality rows get an explicit slack variable, so every row is an equality and its price
    comes out of the linear algebra rather than from dividing by a vanishing slack.
    """
    x = start.copy()
    n_free = free.size
    today = objective.today[free]
    span = upper[free] - lower[free]
    scale = np.where(today > 0, today, np.where(span > 0, span, 1.0))
    full_scale = np.ones(objective.n)
    full_scale[free] = scale
    local = np.full(objective.n, -1, dtype=np.int64)
    local[free] = np.arange(n_free)

    low_y = lower[free] / scale
    high_y = upper[free] / scale
    n_rows = len(rows)
    inequality = [i for i, row in enumerate(rows) if not row.equality]
    n_slack = len(inequality)
    n = n_free + n_slack
    matrix = np.zeros((n_rows, n))
    totals = np.zeros(n_rows)
    row_scale = np.ones(n_rows)
    for i, row in enumerate(rows):
        members = local[row.variables]
        members = members[members >= 0]
        fixed = row.variables[local[row.variables] < 0]
        total = row.total - math.fsum(x[fixed])
        least = math.fsum(scale[members] * low_y[members])
        # Normalise each row by the room it leaves, so rows and prices are about 1 in size.
        row_scale[i] = max(total - least, 1e-300)
        matrix[i, members] = scale[members] / row_scale[i]
        totals[i] = total / row_scale[i]
    for k, i in enumerate(inequality):
        matrix[i, n_free + k] = 1.0
    low = np.concatenate([low_y, np.zeros(n_slack)])
    high = np.concatenate([high_y, np.full(n_slack, 2.0)])  # slack <= 1 holds anyway

    y = _interior_start(x[free] / scale, low_y, high_y, matrix[:, :n_free], totals, rows)
    slack = totals[inequality] - matrix[inequality, :n_free] @ y
    v = np.concatenate([y, slack])
    hessian = _Hessian(objective, free, full_scale)

    def state_at(v_trial: FloatArray) -> ObjectiveState:
        x[free] = v_trial[:n_free] * scale
        return objective.evaluate(x)

    def gradient_of(state: ObjectiveState) -> FloatArray:
        return np.concatenate([-scale * state.gradient[free], np.zeros(n_slack)])

    state = state_at(v)
    gradient = gradient_of(state)
    low_slack, high_slack = v - low, high - v
    mu0 = (
        0.1
        * (float(np.mean(np.abs(gradient))) or 1e-8)
        * float(np.mean(np.minimum(low_slack, high_slack)))
    )
    norms = (matrix**2).sum(axis=1)
    price = -(matrix @ gradient) / np.where(norms > 0, norms, 1.0)
    residual = gradient + matrix.T @ price
    it = _Iterate(
        v=v,
        low_slack=low_slack,
        high_slack=high_slack,
        z_low=mu0 / low_slack + np.maximum(residual, 0.0),
        z_high=mu0 / high_slack + np.maximum(-residual, 0.0),
        price=price,
    )
    rank_one_weight = objective.balance * SOFTMIN_TEMPERATURE
    converged = False
    iterations = 0
    best_residual, stalled = math.inf, 0
    while iterations < _MAX_ITERATIONS:
        iterations += 1
        gradient = gradient_of(state)
        dual_residual = gradient + matrix.T @ it.price - it.z_low + it.z_high
        gap = float(it.low_slack @ it.z_low + it.high_slack @ it.z_high)
        size = max(1.0, abs(state.value))
        residual_norm = float(np.abs(dual_residual).max()) if n else 0.0
        gradient_norm = float(np.abs(gradient).max()) if n else 0.0
        stationary = residual_norm <= 1e-8 * max(gradient_norm, 1e-300)
        if gap <= _GAP_TOLERANCE * size and stationary:
            converged = True
            break
        if gap <= 1e-3 * _GAP_TOLERANCE * size:
            # Complementarity is done; only stationarity is left. Stop once it stalls.
            if residual_norm < 0.5 * best_residual:
                best_residual, stalled = residual_norm, 0
            else:
                stalled += 1
            if stalled >= 5:
                converged = residual_norm <= 1e-6 * max(gradient_norm, 1e-300)
                break
        mu = gap / (2 * n)
        sigma = it.z_low / it.low_slack + it.z_high / it.high_slack
        base_rhs = -(gradient + matrix.T @ it.price)
        newton = None
        # Exact Hessian first. For non-concave objectives fall back to the positive
        # semi-definite model whenever the exact step is not a descent direction (and for any
        # objective when the exact matrix cannot be factorised).
        for use_exact in (True, False):
            solver = _newton_system(
                hessian, state, use_exact, sigma, n_slack, rank_one_weight, matrix
            )
            if solver is None:
                continue
            affine, _ = solver.solve(base_rhs)
            mu_affine = _gap_after(it, affine, _max_step(it, affine), 0.0) / (2 * n)
            centring = min(1.0, (mu_affine / mu) ** 3) if mu > 0 else 0.0
            target = centring * mu
            step, price_step = solver.solve(
                base_rhs + target / it.low_slack - target / it.high_slack
            )
            descent = float(step @ (base_rhs + target / it.low_slack - target / it.high_slack))
            if np.isfinite(step).all() and (exact or descent > 0):
                newton = (step, price_step, target)
                break
        if newton is None:
            break
        step, price_step, target = newton
        z_low_step = (target - it.low_slack * it.z_low - it.z_low * step) / it.low_slack
        z_high_step = (target - it.high_slack * it.z_high + it.z_high * step) / it.high_slack
        alpha_primal = _max_step(it, step)
        alpha_dual = _fraction_to_boundary(
            np.concatenate([it.z_low, it.z_high]), np.concatenate([z_low_step, z_high_step])
        )
        alpha_primal, state = _line_search(
            it, step, alpha_primal, target, state, state_at, gradient
        )
        it.v = it.v + alpha_primal * step
        it.low_slack = np.maximum(it.low_slack + alpha_primal * step, _TINY)
        it.high_slack = np.maximum(it.high_slack - alpha_primal * step, _TINY)
        it.z_low = np.maximum(it.z_low + alpha_dual * z_low_step, _TINY)
        it.z_high = np.maximum(it.z_high + alpha_dual * z_high_step, _TINY)
        it.price = it.price + alpha_dual * price_step

    x[free] = np.clip(it.v[:n_free] * scale, lower[free], upper[free])
    return InteriorResult(
        x=x, row_prices=it.price / row_scale, iterations=iterations, converged=converged
    )


_TINY = np.finfo(float).tiny


def _newton_system(
    hessian: _Hessian,
    state: ObjectiveState,
    exact: bool,
    sigma: FloatArray,
    n_slack: int,
    rank_one_weight: float,
    rows: FloatArray,
) -> _NewtonSystem | None:
    """The factorised Newton system, or None when the matrix is singular."""
    n_free = hessian.n_free
    data, q = hessian.sparse_part(state, exact)
    data[hessian.diagonal_position] += sigma[:n_free]
    sparse = hessian.matrix(data)
    if n_slack:
        sparse = sp.block_diag([sparse, sp.diags(sigma[n_free:])], format="csc")
        if q is not None:
            q = np.concatenate([q, np.zeros(n_slack)])
    try:
        return _NewtonSystem(sparse, q, rank_one_weight, rows)
    except (RuntimeError, np.linalg.LinAlgError):
        return None


class _NewtonSystem:
    """Solves (S - w q q^T) dv + A^T dp = r, A dv = 0 via one sparse LU and a small dense
    system (Woodbury): S is the sparse part, q the soft-min's rank-one term, A the rows."""

    def __init__(
        self,
        sparse: sp.csc_matrix,
        q: FloatArray | None,
        rank_one_weight: float,
        rows: FloatArray,
    ) -> None:
        self.lu = spla.splu(sparse, permc_spec="MMD_AT_PLUS_A")
        columns = [rows.T]
        inverse_weights = [np.zeros(rows.shape[0])]
        if q is not None and rank_one_weight > 0:
            columns.insert(0, q[:, None])
            inverse_weights.insert(0, np.array([-1.0 / rank_one_weight]))
        self.columns = np.hstack(columns)
        self.n_rows = rows.shape[0]
        self.solved_columns = self.lu.solve(self.columns) if self.columns.shape[1] else None
        small = self.columns.T @ self.solved_columns if self.solved_columns is not None else None
        if small is not None:
            small[np.diag_indices_from(small)] += np.concatenate(inverse_weights)
        self.small = small

    def solve(self, rhs: FloatArray) -> tuple[FloatArray, FloatArray]:
        base: FloatArray = self.lu.solve(rhs)
        if self.small is None or self.solved_columns is None:
            return base, np.zeros(0)
        coefficients = np.linalg.solve(self.small, self.columns.T @ base)
        step = base - self.solved_columns @ coefficients
        return step, coefficients[coefficients.size - self.n_rows :]


def _fraction_to_boundary(values: FloatArray, steps: FloatArray) -> float:
    shrinking = steps < 0
    if not shrinking.any():
        return 1.0
    return float(min(1.0, _FRACTION_TO_BOUNDARY * np.min(-values[shrinking] / steps[shrinking])))


def _max_step(it: _Iterate, step: FloatArray) -> float:
    return _fraction_to_boundary(
        np.concatenate([it.low_slack, it.high_slack]), np.concatenate([step, -step])
    )


def _gap_after(it: _Iterate, step: FloatArray, alpha: float, target: float) -> float:
    z_low_step = (target - it.low_slack * it.z_low - it.z_low * step) / it.low_slack
    z_high_step = (target - it.high_slack * it.z_high + it.z_high * step) / it.high_slack
    alpha_dual = _fraction_to_boundary(
        np.concatenate([it.z_low, it.z_high]), np.concatenate([z_low_step, z_high_step])
    )
    return float(
        (it.low_slack + alpha * step) @ (it.z_low + alpha_dual * z_low_step)
        + (it.high_slack - alpha * step) @ (it.z_high + alpha_dual * z_high_step)
    )


def _barrier(value: float, low: FloatArray, high: FloatArray, mu: float) -> float:
    return -value - mu * float(np.log(low).sum() + np.log(high).sum())


def _line_search(
    it: _Iterate,
    step: FloatArray,
    alpha: float,
    mu: float,
    state: ObjectiveState,
    evaluate: Callable[[FloatArray], ObjectiveState],
    gradient: FloatArray,
) -> tuple[float, ObjectiveState]:
    """Backtrack until the barrier function decreases enough (Armijo)."""
    slope = float(
        gradient @ step - mu * float(np.sum(step / it.low_slack) - np.sum(step / it.high_slack))
    )
    current = _barrier(state.value, it.low_slack, it.high_slack, mu)
    negligible = abs(slope) <= 1e-15 * max(1.0, abs(current))
    for _ in range(40):
        trial = evaluate(it.v + alpha * step)
        if negligible:
            return alpha, trial
        low = it.low_slack + alpha * step
        high = it.high_slack - alpha * step
        if (low > 0).all() and (high > 0).all():
            value = _barrier(trial.value, low, high, mu)
            if np.isfinite(value) and value <= current + _ARMIJO * alpha * slope:
                return alpha, trial
        alpha *= 0.5
    return alpha, evaluate(it.v + alpha * step)


def _interior_start(
    y: FloatArray,
    low: FloatArray,
    high: FloatArray,
    matrix: FloatArray,
    totals: FloatArray,
    rows: list[Row],
) -> FloatArray:
    """A point strictly inside the bounds that meets equality rows and is inside the others.

    Rows touch disjoint sets of amounts (one pool each), so each is fixed on its own.
    """
    span = high - low
    y = low + np.clip((y - low) / span, 0.05, 0.95) * span
    for i, row in enumerate(rows):
        members = matrix[i] > 0
        weights = matrix[i, members]
        least = math.fsum(weights * low[members])
        most = math.fsum(weights * high[members])
        current = math.fsum(weights * y[members])
        goal = totals[i]
        if not row.equality:
            goal = min(current, totals[i] - 0.05 * (totals[i] - least))
        if goal < current:
            share = (current - goal) / math.fsum(weights * (y[members] - low[members]))
            y[members] = y[members] - share * (y[members] - low[members])
        elif goal > current:
            share = (goal - current) / (most - current)
            y[members] = y[members] + share * (high[members] - y[members])
    return y
