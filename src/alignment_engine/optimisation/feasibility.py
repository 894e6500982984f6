"""The allowed region of a reallocation, checked before anything is solved.

Each department's amount of a resource lies in a box (never below zero or its minimum, within
``max_change`` of today), and each pool's total stays within capacity (or, with ``keep_total``,
equals today's total). When no allocation fits, InfeasibleError names the constraint that
cannot hold, with the numbers that clash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alignment_engine.errors import InfeasibleError
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.response_curves import FloatArray

# Relative slack when comparing sums of user-given amounts, so 0.1 + 0.2 "fits" 0.3.
_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Box:
    """Bounds and pool rows of the variables, shaped (R, D) like ``Pools.current``."""

    lower: FloatArray
    upper: FloatArray  # also capped by what the pool can hold, so always finite
    own_upper: FloatArray  # the department's own limit (max_change); inf where none
    total: FloatArray  # (R,) right-hand side of each pool row
    equality: NDArray[np.bool_]  # (R,) the row must hold with equality (keep_total)
    optimised: NDArray[np.bool_]  # (R,) False: the resource stays at today's amounts
    step: FloatArray  # (R,) smallest unit, 0 for continuous

    def is_fixed(self) -> NDArray[np.bool_]:
        """Variables whose bounds leave no room to move, shaped (R, D)."""
        fixed: NDArray[np.bool_] = self.upper - self.lower <= _TOLERANCE * np.maximum(
            1.0, np.abs(self.upper)
        )
        return fixed


def _exceeds(amount: float, limit: float) -> bool:
    return amount > limit * (1 + _TOLERANCE) + _TOLERANCE


def format_amount(value: float) -> str:
    """Amounts in messages: whole numbers without decimals, others to 6 significant digits."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _percent(fraction: float) -> str:
    return f"{format_amount(fraction * 100)}%"


def allowed_box(
    problem: ReallocationProblem,
    *,
    keep_total: bool,
    optimised: NDArray[np.bool_],
    increments: Mapping[str, float] | None = None,
    totals: Mapping[str, float] | None = None,
) -> Box:
    """The box and pool rows of the problem; raises InfeasibleError naming the clash.

    ``increments``: new money per resource: each department keeps at least today's amount and
    the pool's total is today's plus the increment, all of it allocated. ``totals``: a pool's
    capacity replaced by an amount (the budget frontier: the best use of at most that much)."""
    pools = problem.pools
    r = pools.current.shape[0]
    lower = pools.current.copy()
    upper = pools.current.copy()
    own_upper = pools.current.copy()
    total = pools.current.sum(axis=1)
    equality = np.zeros(r, dtype=np.bool_)
    added = increments or {}
    fixed = totals or {}
    for i in range(r):
        if not optimised[i]:
            continue
        increment = added.get(pools.ids[i])
        given = fixed.get(pools.ids[i])
        low, high, own_high, row_total = _resource_box(problem, i, keep_total, increment, given)
        lower[i], upper[i], own_upper[i], total[i] = low, high, own_high, row_total
        equality[i] = keep_total or increment is not None
    return Box(
        lower=lower,
        upper=upper,
        own_upper=own_upper,
        total=total,
        equality=equality,
        optimised=optimised.copy(),
        step=np.where(optimised, pools.step, 0.0),
    )


def _resource_box(
    problem: ReallocationProblem,
    i: int,
    keep_total: bool,
    increment: float | None = None,
    given_total: float | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    pools = problem.pools
    name = pools.ids[i]
    today = pools.current[i]
    minimum = pools.minimum[i]
    change = float(pools.max_change[i])
    capacity = float(pools.capacity[i])
    today_total = math.fsum(today)
    limited = not math.isnan(change)

    change_floor = np.maximum(today * (1.0 - change), 0.0) if limited else np.zeros_like(today)
    own_upper = today * (1.0 + change) if limited else np.full_like(today, np.inf)
    demand = None if pools.limit is None else pools.limit[i]
    if demand is not None:
        over = np.flatnonzero(minimum > demand * (1 + _TOLERANCE) + _TOLERANCE)
        if over.size:
            j = int(over[0])
            raise InfeasibleError(
                f"resource '{name}', department '{problem.departments[j]}': minimum "
                f"{format_amount(minimum[j])} is above its demand {format_amount(demand[j])}, "
                "which the plan makes a limit (demand_is_limit)"
            )
        own_upper = np.minimum(own_upper, demand)
        # Today's amount above the demand must shrink to it, whatever max_change says.
        change_floor = np.minimum(change_floor, demand)
    lower = np.maximum(change_floor, minimum)
    if increment is not None:
        lower = np.maximum(lower, today)  # only new money moves: nobody gives any up
        too_high = np.flatnonzero(today > own_upper * (1 + _TOLERANCE) + _TOLERANCE)
        if too_high.size:
            j = int(too_high[0])
            raise InfeasibleError(
                f"resource '{name}', department '{problem.departments[j]}': today's "
                f"{format_amount(today[j])} is above its demand {format_amount(own_upper[j])} "
                "(demand_is_limit), but --increment takes nothing away"
            )

    too_high = np.flatnonzero(minimum > own_upper * (1 + _TOLERANCE))
    if too_high.size:
        j = int(too_high[0])
        raise InfeasibleError(
            f"resource '{name}', department '{problem.departments[j]}': minimum "
            f"{format_amount(minimum[j])} is above the most max_change {_percent(change)} allows "
            f"(today's {format_amount(today[j])} + {_percent(change)} = "
            f"{format_amount(own_upper[j])})"
        )

    if given_total is not None:
        row_total, row_label = given_total, f"the total is at most {format_amount(given_total)}"
    elif increment is not None:
        row_total, row_label = (
            today_total + increment,
            f"--increment adds {format_amount(increment)} to today's {format_amount(today_total)}",
        )
    elif keep_total:
        if today_total > capacity * (1 + _TOLERANCE):
            raise InfeasibleError(
                f"resource '{name}': today's total {format_amount(today_total)} is above "
                f"capacity {format_amount(capacity)}, so --keep-total cannot hold it"
            )
        row_total, row_label = (
            today_total,
            f"--keep-total holds the total at today's {format_amount(today_total)}",
        )
    else:
        row_total, row_label = capacity, f"capacity is {format_amount(capacity)}"

    step = float(pools.step[i])
    fixed_total = keep_total or increment is not None
    if step > 0:
        lower, own_upper, row_total = _whole_units(
            problem, i, lower, own_upper, row_total, fixed_total
        )

    lower_sum = math.fsum(lower)
    if _exceeds(lower_sum, row_total):
        minimum_sum = math.fsum(minimum)
        continuous_sum = math.fsum(np.maximum(change_floor, minimum))
        if _exceeds(minimum_sum, row_total):
            reason = f"minimums sum to {format_amount(minimum_sum)}"
        elif _exceeds(continuous_sum, row_total):
            reason = (
                f"with max_change {_percent(change)} (and the minimums) departments must keep "
                f"at least {format_amount(continuous_sum)} in total"
            )
        else:
            reason = (
                f"in whole steps of {format_amount(step)} departments must keep at least "
                f"{format_amount(lower_sum)} in total"
            )
        raise InfeasibleError(f"resource '{name}': {reason}, but {row_label}")
    upper_sum = math.fsum(np.minimum(own_upper, row_total))
    if fixed_total and upper_sum < row_total * (1 - _TOLERANCE) - _TOLERANCE:
        limits = " and ".join(
            ([f"max_change {_percent(change)}"] if limited else [])
            + (["their demands (demand_is_limit)"] if demand is not None else [])
        )
        raise InfeasibleError(
            f"resource '{name}': with {limits}, departments can hold at most "
            f"{format_amount(upper_sum)} in total, but {row_label}"
        )
    # No department can hold more than the pool leaves once the others have their least.
    room = row_total - (lower_sum - lower)
    upper = np.maximum(np.minimum(own_upper, room), lower)
    return lower, upper, own_upper, row_total


def _whole_units(
    problem: ReallocationProblem,
    i: int,
    lower: FloatArray,
    own_upper: FloatArray,
    row_total: float,
    keep_total: bool,
) -> tuple[FloatArray, FloatArray, float]:
    """Tighten bounds and the row to multiples of the resource's step (its integer hull)."""
    pools = problem.pools
    name = pools.ids[i]
    step = float(pools.step[i])
    unit = "whole units" if step == 1 else f"multiples of {format_amount(step)}"
    low = np.ceil(lower / step - _TOLERANCE) * step
    high = np.where(np.isfinite(own_upper), np.floor(own_upper / step + _TOLERANCE) * step, np.inf)
    empty = np.flatnonzero(low > high)
    if empty.size:
        j = int(empty[0])
        raise InfeasibleError(
            f"resource '{name}' is counted in {unit}, but department "
            f"'{problem.departments[j]}' may only move between {format_amount(lower[j])} and "
            f"{format_amount(own_upper[j])} (today's {format_amount(pools.current[i, j])}, "
            f"max_change {_percent(float(pools.max_change[i]))})"
        )
    units = row_total / step
    if keep_total and abs(units - round(units)) > _TOLERANCE * max(1.0, abs(units)):
        raise InfeasibleError(
            f"resource '{name}' is counted in {unit}, but the total to hold "
            f"{format_amount(row_total)} is not (--keep-total or --increment)"
        )
    whole_total = (round(units) if keep_total else math.floor(units + _TOLERANCE)) * step
    return low, high, float(whole_total)
