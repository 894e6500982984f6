"""The reallocation objective (docs/cli.md, ``optimise``), with analytic derivatives.

Predicted KPI value v_k = baseline_k + sum over its curves of (curve(new) - curve(today)).
Score u_k = v_k / target_k, or target_k / v_k when lower is better. Department performance
P_d = sum_k w_dk u_k, shared-goal performance Q_g likewise, and

    F = (1 - s) * mean(P) + s * mean(Q) + k * softmin(P),
    softmin(P) = -(1/50) * ln(sum_d exp(-50 * P_d)).

The gradient is ``sum over curves c on a variable of g_v[kpi(c)] * f_c'(x)``: one coefficient per
KPI (``kpi_coefficient``), which depends on the shared goals and the balance term only through
the departments' performances. Fixing those coefficients makes the problem separable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation.problem import IntArray, Membership, ReallocationProblem
from alignment_engine.optimisation.response_curves import CurveArrays, FloatArray, sum_by

SOFTMIN_TEMPERATURE = 50.0


@dataclass(frozen=True, eq=False)
class ObjectiveState:
    """The objective and everything derived from it at one allocation ``x`` (flat, R*D)."""

    x: FloatArray
    value: float
    kpi_values: FloatArray  # (K,)
    scores: FloatArray  # (K,)
    score_slope: FloatArray  # (K,) d score / d value
    score_curvature: FloatArray  # (K,) d2 score / d value2
    department_performance: FloatArray  # (D,) every department; 0 where it has no KPIs
    shared_performance: FloatArray  # (G,)
    softmin_weights: FloatArray  # (scored departments,) softmax(-50 P)
    score_coefficient: FloatArray  # (K,) dF / d score
    kpi_coefficient: FloatArray  # (K,) dF / d value
    curve_slope: FloatArray  # (C,) f'(x) per curve
    curve_curvature: FloatArray  # (C,) f''(x) per curve
    gradient: FloatArray  # (R*D,) dF / dx


def _group_matrix(membership: Membership, groups: IntArray, n_kpis: int) -> sp.csr_matrix:
    """Rows: the given groups (in order); columns: KPIs; entries: weights."""
    position = np.full(len(membership.ids), -1, dtype=np.int64)
    position[groups] = np.arange(groups.size)
    row = position[membership.group]
    keep = row >= 0
    return sp.csr_matrix(
        (membership.weight[keep], (row[keep], membership.kpi[keep])),
        shape=(groups.size, n_kpis),
    )


def _positive_groups(membership: Membership) -> IntArray:
    """Groups with a positive total weight (the others would score a constant 0)."""
    totals = sum_by(membership.group, membership.weight, len(membership.ids))
    groups: IntArray = np.flatnonzero(totals > 0).astype(np.int64)
    return groups


class Objective:
    """Evaluates F, its gradient and the pieces of its Hessian at any allocation."""

    def __init__(self, problem: ReallocationProblem, *, shared_weight: float, balance: float):
        if not 0.0 <= shared_weight <= 1.0:
            raise OptimisationError(f"shared weight must be between 0 and 1, got {shared_weight}")
        if not (np.isfinite(balance) and balance >= 0):
            raise OptimisationError(f"balance must be >= 0, got {balance}")
        self.problem = problem
        n_departments = problem.n_departments
        self.n = problem.n_resources * n_departments
        curves = problem.curves
        kpis = problem.kpis
        n_kpis = len(kpis.ids)
        self.n_kpis = n_kpis
        # Curves sorted by shape evaluate on contiguous slices; ``curve_order[i]`` is the
        # problem's index of our curve i.
        self.curve_order: IntArray = np.argsort(curves.shape, kind="stable").astype(np.int64)
        order = self.curve_order
        self.curve_variable: IntArray = (curves.resource * n_departments + curves.department)[order]
        self.curve_kpi: IntArray = curves.kpi[order]
        self.curve_covariance: FloatArray = curves.covariance[order]
        self.curves = CurveArrays(curves.shape[order], curves.a[order], curves.b[order])
        self.today: FloatArray = problem.pools.current.ravel()
        self.curve_today = self.curves.value(self.today[self.curve_variable])

        curve_count = np.bincount(self.curve_kpi, minlength=n_kpis)
        intercept = (
            np.zeros(len(self.curve_kpi)) if curves.c is None else np.nan_to_num(curves.c[order])
        )
        # A curve's level today: its intercept (the KPI at amount 0) plus the curve.
        curve_sum = sum_by(self.curve_kpi, self.curve_today + intercept, n_kpis)
        self.curve_level_today = curve_sum
        self.has_intercept: NDArray[np.bool_] = np.zeros(n_kpis, dtype=np.bool_)
        if curves.c is not None:
            self.has_intercept[curves.kpi[~np.isnan(curves.c)]] = True
        missing = np.isnan(kpis.baseline)
        self.baseline: FloatArray = np.where(
            missing, np.where(curve_count > 0, curve_sum, kpis.target), kpis.baseline
        )
        self.assumed_on_target: tuple[str, ...] = tuple(
            kpis.ids[i] for i in np.flatnonzero(missing & (curve_count == 0))
        )
        self.target: FloatArray = kpis.target
        self.lower: NDArray[np.bool_] = kpis.lower_is_better

        self.scored_departments = _positive_groups(problem.department_kpis)
        self.scored_goals = _positive_groups(problem.shared_goals)
        self.department_matrix = _group_matrix(
            problem.department_kpis, self.scored_departments, n_kpis
        )
        self.all_department_matrix = _group_matrix(
            problem.department_kpis, np.arange(n_departments, dtype=np.int64), n_kpis
        )
        self.shared_matrix = _group_matrix(problem.shared_goals, self.scored_goals, n_kpis)
        has_departments = self.scored_departments.size > 0
        has_goals = self.scored_goals.size > 0
        if not (has_departments or has_goals):
            raise OptimisationError(
                "nothing to optimise: no department KPI or shared goal has a positive weight"
            )
        # Without shared goals all weight goes to departments (and the reverse), so the
        # objective stays on the scale of a performance (about 1 when on target).
        self.department_share = (1.0 - shared_weight if has_goals else 1.0) * has_departments
        self.shared_share = (shared_weight if has_departments else 1.0) * has_goals
        self.balance = balance if has_departments else 0.0
        alpha = np.zeros(n_kpis)
        if has_departments:
            alpha += (
                self.department_share
                / self.scored_departments.size
                * np.asarray(self.department_matrix.sum(axis=0)).ravel()
            )
        if has_goals:
            alpha += (
                self.shared_share
                / self.scored_goals.size
                * np.asarray(self.shared_matrix.sum(axis=0)).ravel()
            )
        self.linear_score_weight: FloatArray = alpha
        self.department_matrix_t = self.department_matrix.T.tocsr()

        # Which departments each curve counts for (softmin Hessian): one entry per
        # (scored department, curve) pair linked through a KPI.
        self.incidence_group, self.incidence_curve, self.incidence_weight = self._incidence()

    def _incidence(self) -> tuple[IntArray, IntArray, FloatArray]:
        coo = self.department_matrix.tocoo()
        order = np.argsort(self.curve_kpi, kind="stable")
        sorted_kpis = self.curve_kpi[order]
        start = np.searchsorted(sorted_kpis, coo.col, side="left")
        stop = np.searchsorted(sorted_kpis, coo.col, side="right")
        counts = stop - start
        rows = np.repeat(np.arange(coo.nnz), counts)
        offsets = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        curves = order[np.repeat(start, counts) + offsets]
        return (
            coo.row[rows].astype(np.int64),
            curves.astype(np.int64),
            coo.data[rows].astype(np.float64),
        )

    @property
    def separable(self) -> bool:
        """True when fixing nothing is needed: no balance term across several departments."""
        return self.balance == 0.0 or self.scored_departments.size <= 1

    def relevant_curves(self) -> NDArray[np.bool_]:
        """Curves whose KPI counts in the objective at all."""
        counts_linearly = self.linear_score_weight > 0
        counts_in_balance = (
            np.asarray(self.department_matrix.sum(axis=0)).ravel() > 0
            if self.balance > 0
            else np.zeros(self.n_kpis, dtype=np.bool_)
        )
        relevant: NDArray[np.bool_] = (counts_linearly | counts_in_balance)[self.curve_kpi]
        return relevant

    def kpi_values(self, x: FloatArray) -> FloatArray:
        value = self.curves.value(x[self.curve_variable])
        values: FloatArray = self.baseline + sum_by(
            self.curve_kpi, value - self.curve_today, self.n_kpis
        )
        return values

    def value(self, x: FloatArray) -> float:
        return self.evaluate(x, derivatives=False).value

    def evaluate(self, x: FloatArray, *, derivatives: bool = True) -> ObjectiveState:
        if derivatives:
            curve_value, slope, curvature = self.curves.evaluate(x[self.curve_variable])
        else:
            curve_value = self.curves.value(x[self.curve_variable])
            slope = curvature = np.zeros(0)
        values = self.baseline + sum_by(self.curve_kpi, curve_value - self.curve_today, self.n_kpis)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(self.lower, self.target / values, values / self.target)
            score_slope = np.where(self.lower, -self.target / (values * values), 1.0 / self.target)
            score_curvature = np.where(
                self.lower, 2.0 * self.target / (values * values * values), 0.0
            )
        performance = self.department_matrix @ scores
        shared = self.shared_matrix @ scores
        value = 0.0
        weights = np.zeros(performance.size)
        if performance.size:
            value += self.department_share * float(performance.mean())
            if self.balance > 0:
                lowest = float(performance.min())
                exponent = np.exp(-SOFTMIN_TEMPERATURE * (performance - lowest))
                total = float(exponent.sum())
                value += self.balance * (lowest - np.log(total) / SOFTMIN_TEMPERATURE)
                weights = exponent / total
        if shared.size:
            value += self.shared_share * float(shared.mean())
        empty = np.zeros(0)
        if not derivatives:
            return ObjectiveState(
                x, value, values, scores, score_slope, score_curvature,
                self.all_department_matrix @ scores, shared, weights,
                empty, empty, slope, curvature, empty,
            )  # fmt: skip
        score_coefficient = self.linear_score_weight + self.balance * (
            self.department_matrix_t @ weights
        )
        kpi_coefficient = score_coefficient * score_slope
        gradient = sum_by(self.curve_variable, kpi_coefficient[self.curve_kpi] * slope, self.n)
        return ObjectiveState(
            x=x,
            value=float(value),
            kpi_values=values,
            scores=scores,
            score_slope=score_slope,
            score_curvature=score_curvature,
            department_performance=self.all_department_matrix @ scores,
            shared_performance=shared,
            softmin_weights=weights,
            score_coefficient=score_coefficient,
            kpi_coefficient=kpi_coefficient,
            curve_slope=slope,
            curve_curvature=curvature,
            gradient=gradient,
        )

    def lowest_kpi_values(self, lower: FloatArray, upper: FloatArray) -> FloatArray:
        """Each KPI's least value over the box (curves are monotone, so at an end of it)."""
        at_lower = self.curves.value(lower[self.curve_variable])
        at_upper = self.curves.value(upper[self.curve_variable])
        least: FloatArray = self.baseline + sum_by(
            self.curve_kpi, np.minimum(at_lower, at_upper) - self.curve_today, self.n_kpis
        )
        return least
