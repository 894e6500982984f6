"""Whole units (headcount) and other steps: round the continuous answer, then repair it.

The bounds and pool rows were already tightened to multiples of the step (feasibility.py), so
rounding to the nearest multiple keeps every amount inside its bounds; only the pool total can
then be off. It is repaired greedily, one step at a time, taking from the amounts whose loss is
smallest or giving to those whose gain is largest, valued with the objective's KPI coefficients at
the continuous optimum (exact curve differences, so diminishing returns are respected).
"""

from __future__ import annotations

import math

import numpy as np

from alignment_engine.optimisation.feasibility import Box
from alignment_engine.optimisation.objective import Objective, ObjectiveState
from alignment_engine.optimisation.response_curves import CurveArrays, FloatArray, sum_by

_MAX_ROUNDS = 10_000


def round_to_steps(
    x: FloatArray,
    objective: Objective,
    state: ObjectiveState,
    box: Box,
    row_prices: FloatArray,
) -> FloatArray:
    """``x`` with every stepped resource on multiples of its step, constraints kept."""
    result = x.copy()
    r_count, d_count = box.lower.shape
    coefficient = state.kpi_coefficient[objective.curve_kpi]
    for r in range(r_count):
        step = float(box.step[r])
        if step <= 0 or not box.optimised[r]:
            continue
        block = slice(r * d_count, (r + 1) * d_count)
        low = np.rint(box.lower[r] / step)
        high = np.rint(box.upper[r] / step)
        units = np.clip(np.rint(x[block] / step), low, high)
        limit = round(float(box.total[r]) / step)
        on_pool = (objective.curve_variable >= r * d_count) & (
            objective.curve_variable < (r + 1) * d_count
        )
        position = objective.curve_variable[on_pool] - r * d_count
        curves = objective.curves
        shape, a, b = curves.shape[on_pool], curves.a[on_pool], curves.b[on_pool]
        weight = coefficient[on_pool]
        pool_curves = CurveArrays(shape, a, b)

        binding = row_prices[r] > 0 and math.fsum(x[block]) >= (limit - 0.5) * step
        for _ in range(_MAX_ROUNDS):
            total = int(units.sum())
            need = limit - total
            if not (box.equality[r] or total > limit or (binding and total < limit)):
                break
            if need == 0:
                break
            if need > 0:
                room = units < high
                gain = _value_change(pool_curves, position, weight, units, 1.0, step, d_count)
                if not box.equality[r]:
                    room &= gain > 0
                candidates = np.flatnonzero(room)
                if candidates.size == 0:
                    break
                order = candidates[np.argsort(-gain[candidates], kind="stable")]
                units[order[:need]] += 1
            else:
                room = units > low
                loss = -_value_change(pool_curves, position, weight, units, -1.0, step, d_count)
                candidates = np.flatnonzero(room)
                if candidates.size == 0:
                    break
                order = candidates[np.argsort(loss[candidates], kind="stable")]
                units[order[:-need]] -= 1
        result[block] = units * step
    return result


def _value_change(
    curves: CurveArrays,
    position: np.ndarray,
    weight: FloatArray,
    units: FloatArray,
    delta: float,
    step: float,
    size: int,
) -> FloatArray:
    """Objective change per amount when it moves by ``delta`` steps (fixed KPI weights)."""
    before = curves.evaluate(units[position] * step)[0]
    after = curves.evaluate((units[position] + delta) * step)[0]
    change: FloatArray = sum_by(position, weight * (after - before), size)
    return change
