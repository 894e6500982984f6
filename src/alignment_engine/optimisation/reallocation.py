"""Suggest a reallocation of resources between departments (docs/cli.md, ``optimise``).

Steps: check feasibility (naming the clashing constraint), fix what cannot move, solve (exact
water-filling when the objective is separable and concave, the interior-point method otherwise),
polish the answer onto its bounds and pool totals, round stepped resources to whole steps, and
never return anything worse than today's allocation.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation.feasibility import Box, allowed_box, format_amount
from alignment_engine.optimisation.interior_point import solve_interior_point
from alignment_engine.optimisation.layout import Layout, layout_of, polish, pool_rows
from alignment_engine.optimisation.objective import Objective
from alignment_engine.optimisation.problem import ReallocationProblem
from alignment_engine.optimisation.response_curves import CurveArrays, FloatArray, ShapeCode
from alignment_engine.optimisation.result import (
    Method,
    ReallocationResult,
    Status,
)
from alignment_engine.optimisation.rounding import round_to_steps
from alignment_engine.optimisation.stability import check_directions
from alignment_engine.optimisation.summary import build_result
from alignment_engine.optimisation.waterfilling import (
    PoolRow,
    water_fill,
    weighted_curves,
)

_FEASIBLE = 1e-9  # relative tolerance when checking today's allocation against the rules


@dataclass(frozen=True)
class ReallocationOptions:
    shared_weight: float = 0.3  # s: weight of mean shared-goal performance
    balance: float = 0.1  # k: weight of the soft-min of department performance
    keep_total: bool = False  # each pool's total stays at today's instead of <= capacity
    resources: tuple[str, ...] | None = None  # only these move; None: all
    # New money per resource: today's amounts are kept and the increment shared out (only
    # these resources move unless ``resources`` says otherwise).
    increments: tuple[tuple[str, float], ...] = ()
    # A pool's capacity replaced by an amount (points of the budget frontier).
    totals: tuple[tuple[str, float], ...] = ()
    method: Method = Method.AUTO
    direction_draws: int = 1000  # parameter draws for the direction-stability check
    seed: int = 0
    # Amounts that no response curve links to a KPI stay where they are: the model cannot
    # tell what they do, and cutting them "to make room" is not advice a planner can defend.
    hold_unmodelled: bool = True
    # Why predicted KPI values (over ``problem.kpis.ids``; today's, then the proposal's) are
    # not acceptable (a bound on what a department's bonus may lose), or None; no guard: any
    # are. A refused optimum is replaced by the furthest acceptable point towards it from
    # today's allocation.
    guard: Callable[[FloatArray, FloatArray], str | None] | None = None


def suggest_reallocation(
    problem: ReallocationProblem, options: ReallocationOptions | None = None
) -> ReallocationResult:
    """The allocation that maximises the objective of docs/cli.md (``optimise``) within the constraints."""
    options = options or ReallocationOptions()
    increments = dict(options.increments)
    _check_increments(problem, options, increments)
    chosen = options.resources
    if increments and chosen is None:
        chosen = tuple(increments)
    optimised = _optimised_mask(problem, chosen)
    objective = Objective(problem, shared_weight=options.shared_weight, balance=options.balance)
    box = allowed_box(
        problem,
        keep_total=options.keep_total,
        optimised=optimised,
        increments=increments,
        totals=dict(options.totals),
    )
    lower, upper = box.lower.ravel(), box.upper.ravel()
    held = _hold_unmodelled(objective, box) if options.hold_unmodelled else []
    _check_scores_defined(objective, lower, upper)
    layout = layout_of(box, objective)
    concave = _is_concave(objective, layout.free_mask)
    method = _choose_method(options.method, objective, concave)

    notes: list[str] = list(problem.notes) + held
    x, prices, iterations, converged = _solve(objective, box, layout, method, concave, notes)
    today = objective.today
    today_state = objective.evaluate(today)
    proposed_state = objective.evaluate(x)
    status = Status.OPTIMAL if concave and converged else Status.LOCAL
    if not concave:
        notes.append(
            "the objective is not concave here (lower-is-better KPIs score target/value, or a "
            "curve is convex), so this is a local optimum, not necessarily the best possible"
        )
    today_feasible, reason = _today_feasible(box, today)
    if today_feasible:
        margin = 1e-12 * max(1.0, abs(today_state.value))
        if today_state.value > proposed_state.value + margin:
            x, proposed_state, status = today.copy(), today_state, Status.UNCHANGED
            notes.append("no allocation found beats today's, so today's allocation is kept")
    else:
        notes.append(f"today's allocation breaks a constraint ({reason}); it is not a fallback")
    if options.guard is not None and status is not Status.UNCHANGED:
        refusal = options.guard(today_state.kpi_values, proposed_state.kpi_values)
        if refusal is not None:
            if not today_feasible:
                raise OptimisationError(
                    f"the optimum is refused ({refusal}) and today's allocation breaks a "
                    f"constraint ({reason}), so there is no acceptable point between them"
                )
            accept = options.guard
            x, share = _towards(
                objective, box, today, x, prices,
                lambda values: accept(today_state.kpi_values, values),
            )  # fmt: skip
            proposed_state, status = objective.evaluate(x), Status.BOUNDED
            notes.append(
                f"the optimum is refused ({refusal}); this allocation goes {share:.0%} of the "
                "way there from today's, as far as the bound allows"
            )
    notes.extend(_worthless_cuts(objective, box, layout, x))
    notes.extend(
        f"KPI '{kpi}' has no baseline and no response curve; it is assumed on target"
        for kpi in objective.assumed_on_target
    )
    notes.extend(_levels_off_baseline(objective))

    direction = check_directions(
        objective,
        proposed_state,
        today,
        x,
        np.repeat(prices, problem.n_departments),
        draws=options.direction_draws,
        seed=options.seed,
    )
    return build_result(
        problem,
        objective,
        box,
        x,
        prices,
        today_state,
        proposed_state,
        status,
        method,
        iterations,
        direction.agreement,
        tuple(notes),
    )


LEVEL_WARNING = 0.25  # a curve's level today this far from the KPI's baseline is noted


def _levels_off_baseline(objective: Objective) -> list[str]:
    """Curves with an intercept predict the KPI's level: say where today's is far from the
    baseline the plan gives (the curve or the baseline is probably wrong)."""
    kpis = objective.problem.kpis
    notes = []
    for k in np.flatnonzero(objective.has_intercept & ~np.isnan(kpis.baseline)):
        level, baseline = float(objective.curve_level_today[k]), float(kpis.baseline[k])
        if abs(level - baseline) > LEVEL_WARNING * max(abs(baseline), 1e-12):
            notes.append(
                f"warning: the response curves of '{kpis.ids[k]}' predict {level:.6g} at "
                f"today's amounts, {abs(level - baseline) / max(abs(baseline), 1e-12):.0%} from "
                f"its baseline {baseline:.6g}; check the curve (its intercept c) or the baseline"
            )
    return notes


GUARD_STEPS = 30  # bisection steps: the share of the way is found to about 1e-9


def _towards(
    objective: Objective,
    box: Box,
    today: FloatArray,
    optimum: FloatArray,
    prices: FloatArray,
    guard: Callable[[FloatArray], str | None],
) -> tuple[FloatArray, float]:
    """The furthest point on the segment from today's allocation to the optimum that the guard
    accepts (bisection; the objective is concave along it, so further is better), with stepped
    resources rounded back onto their steps; and the share of the way it goes."""
    stepped = bool((box.step > 0).any())

    def point(t: float) -> FloatArray:
        x = today + t * (optimum - today)
        if stepped:
            x = round_to_steps(x, objective, objective.evaluate(x), box, prices)
        return x

    low, high = 0.0, 1.0
    best = point(0.0)
    for _ in range(GUARD_STEPS):
        middle = (low + high) / 2
        candidate = point(middle)
        if guard(objective.evaluate(candidate).kpi_values) is None:
            low, best = middle, candidate
        else:
            high = middle
    return best, low


def _hold_unmodelled(objective: Objective, box: Box) -> list[str]:
    """Fix amounts no curve links to a KPI at today's level, when the pools still fit.

    Any curve counts, whatever its KPI's weight, so the set of movable amounts does not depend
    on --shared-weight or --balance (the comparisons between settings stay like for like)."""
    productive = np.zeros(objective.n, dtype=np.bool_)
    productive[objective.curve_variable] = True
    lower, upper = box.lower.ravel(), box.upper.ravel()
    today = objective.today
    hold = ~productive & (lower <= today) & (today <= upper) & (upper > lower)
    if not hold.any():
        return []
    r_count, d_count = box.lower.shape
    held_lower = np.where(hold, today, lower).reshape(r_count, d_count)
    # Holding must leave each pool feasible: the held amounts plus the others' minimums fit.
    fits = held_lower.sum(axis=1) <= box.total * (1 + 1e-12) + 1e-9
    hold &= np.repeat(fits, d_count)
    lower[hold] = today[hold]
    upper[hold] = today[hold]
    problem = objective.problem
    notes = []
    for r in range(r_count):
        names = [problem.departments[d] for d in range(d_count) if hold[r * d_count + d]]
        if names:
            notes.append(
                f"no response curve links {', '.join(names)} to a KPI through "
                f"'{problem.pools.ids[r]}', so their amounts are held at today's level"
            )
    return notes


def _solve(
    objective: Objective,
    box: Box,
    layout: Layout,
    method: Method,
    concave: bool,
    notes: list[str],
) -> tuple[FloatArray, FloatArray, int, bool]:
    """The polished (and, for stepped resources, rounded) allocation, each pool's shadow
    price, the iteration count and whether the solver converged."""
    x = layout.start.copy()
    prices = np.zeros(box.lower.shape[0])
    if layout.free.size == 0:
        return x, prices, 0, True
    iterations, converged = 0, True
    if method is Method.WATER_FILLING:
        x, prices = _solve_separable(objective, box, layout)
    else:
        lower, upper = box.lower.ravel(), box.upper.ravel()
        best = None
        for start in [x, *([] if concave else _other_starts(box, layout))]:
            solved = solve_interior_point(
                objective, layout.free, lower, upper, list(layout.rows), start, exact=concave
            )
            iterations += solved.iterations
            if best is None or objective.value(solved.x) > objective.value(best.x):
                best = solved
        assert best is not None
        solved = best
        x, converged = solved.x, solved.converged
        for price, r in zip(solved.row_prices, layout.row_resource, strict=True):
            prices[r] = price if box.equality[r] else max(price, 0.0)
        if not converged:
            notes.append(
                f"the solver stopped after {iterations} iterations before reaching full "
                "accuracy; the answer is feasible but may be slightly short of the optimum"
            )
    x = polish(x, objective, box, layout)
    if (box.step[box.optimised] > 0).any():
        x = round_to_steps(x, objective, objective.evaluate(x), box, prices)
        notes.append(
            "amounts of stepped resources (whole units) are rounded from the continuous "
            "optimum and repaired greedily; they are optimal only up to that rounding"
        )
    return x, prices, iterations, converged


MULTI_STARTS = 6
"""Local solves of a problem that is not concave (its optimum may not be the only local one):
from today's allocation and from up to this many others, the best kept."""


def _other_starts(box: Box, layout: Layout) -> list[FloatArray]:
    """Feasible allocations spread over the box, to start local solves from: in every pool the
    ``k``-th moving department gets most of what the pool leaves (the others their least, then
    a fifth of it shared by room), for the first ``MULTI_STARTS`` values of ``k``, and one start
    sharing the pool by room. Each keeps every row and bound."""
    lower, upper = box.lower.ravel(), box.upper.ravel()
    pools = pool_rows(box, layout)
    if not pools:
        return []
    widest = max(moving.size for _r, moving, _left in pools)
    starts = []
    for k in range(min(MULTI_STARTS, widest) + 1):
        x = layout.start.copy()
        for _r, moving, left in pools:
            least = lower[moving]
            room = np.where(np.isfinite(upper[moving]), upper[moving] - least, left)
            spare = max(0.0, min(left, math.fsum(least + room)) - math.fsum(least))
            shared = room / room.sum() if room.sum() > 0 else np.zeros(moving.size)
            if k == widest or k >= moving.size:  # the last start: shared by room
                x[moving] = least + spare * shared
                continue
            tilt = np.zeros(moving.size)
            tilt[k] = min(0.8 * spare, room[k])
            rest = spare - tilt[k]
            others = np.where(np.arange(moving.size) == k, 0.0, room)
            weights = others / others.sum() if others.sum() > 0 else np.zeros(moving.size)
            x[moving] = least + tilt + rest * weights
        starts.append(np.clip(x, lower, upper))
    return starts


def _check_increments(
    problem: ReallocationProblem, options: ReallocationOptions, increments: dict[str, float]
) -> None:
    if not increments:
        return
    if options.keep_total:
        raise OptimisationError(
            "--increment adds to a pool's total and --keep-total holds it: give one of them"
        )
    for resource, amount in increments.items():
        if resource not in problem.pools.ids:
            close = difflib.get_close_matches(resource, problem.pools.ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise OptimisationError(
                f"--increment names '{resource}', which is not a resource of the plan{hint}"
            )
        if not math.isfinite(amount) or amount < 0:
            raise OptimisationError(
                f"--increment {resource}={amount:g}: the new amount must be a number >= 0"
            )
        if options.resources is not None and resource not in options.resources:
            raise OptimisationError(
                f"--increment names '{resource}', which --resource leaves out "
                f"(add --resource {resource})"
            )


def _optimised_mask(
    problem: ReallocationProblem, resources: tuple[str, ...] | None
) -> NDArray[np.bool_]:
    ids = problem.pools.ids
    if resources is None:
        return np.ones(len(ids), dtype=np.bool_)
    for resource in resources:
        if resource not in ids:
            close = difflib.get_close_matches(resource, ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise OptimisationError(f"unknown resource '{resource}'{hint}")
    return np.array([resource in resources for resource in ids], dtype=np.bool_)


def _choose_method(requested: Method, objective: Objective, concave: bool) -> Method:
    separable = objective.separable and concave
    if requested is Method.WATER_FILLING and not separable:
        raise OptimisationError(
            "water-filling needs a separable concave objective (balance 0, higher-is-better "
            "KPIs, concave curves); use the interior-point method"
        )
    if requested is Method.AUTO:
        return Method.WATER_FILLING if separable else Method.INTERIOR_POINT
    return requested


def _check_scores_defined(objective: Objective, lower: FloatArray, upper: FloatArray) -> None:
    """target/value explodes as a lower-is-better value reaches 0: refuse such a model."""
    least = objective.lowest_kpi_values(lower, upper)
    moving = np.bincount(objective.curve_kpi, minlength=objective.n_kpis) > 0
    bad = np.flatnonzero(objective.lower & ((least <= 0) | (moving & ~np.isfinite(least))))
    if bad.size:
        k = int(bad[0])
        raise OptimisationError(
            f"KPI '{objective.problem.kpis.ids[k]}' (lower is better) could fall to "
            f"{format_amount(float(least[k]))} within the allowed moves, where its attainment "
            "target/value is undefined; check its baseline and response curves"
        )


def _is_concave(objective: Objective, free_mask: NDArray[np.bool_]) -> bool:
    relevant = objective.relevant_curves() & free_mask[objective.curve_variable]
    curves = objective.curves
    shape, a, b = curves.shape, curves.a, curves.b
    concave = (
        (shape == ShapeCode.LINEAR)
        | ((shape == ShapeCode.POWER) & (((a >= 0) & (b <= 1)) | ((a <= 0) & (b >= 1))))
        | (((shape == ShapeCode.SATURATING) | (shape == ShapeCode.LOG)) & (a >= 0))
    )
    scored_linearly = ~objective.lower[objective.curve_kpi]
    return bool(np.all((concave & scored_linearly)[relevant]))


def _solve_separable(
    objective: Objective, box: Box, layout: Layout
) -> tuple[FloatArray, FloatArray]:
    x = layout.start.copy()
    prices = np.zeros(box.lower.shape[0])
    lower, upper = box.lower.ravel(), box.upper.ravel()
    # Separable: the KPI coefficients do not depend on the allocation.
    coefficient = objective.evaluate(x).kpi_coefficient[objective.curve_kpi]
    relevant = objective.relevant_curves() & (coefficient != 0)
    for r, free, left in pool_rows(box, layout):
        local = np.full(objective.n, -1, dtype=np.int64)
        local[free] = np.arange(free.size)
        on_row = relevant & (local[objective.curve_variable] >= 0)
        curves = objective.curves
        subset = CurveArrays(curves.shape[on_row], curves.a[on_row], curves.b[on_row])
        row = PoolRow(
            lower=lower[free],
            upper=upper[free],
            today=objective.today[free],
            total=left,
            equality=bool(box.equality[r]),
            curve_position=local[objective.curve_variable[on_row]],
            curves=weighted_curves(subset, coefficient[on_row]),
        )
        filled = water_fill(row)
        x[free] = filled.x
        prices[r] = filled.shadow_price
    return x, prices


def _worthless_cuts(objective: Objective, box: Box, layout: Layout, x: FloatArray) -> list[str]:
    """Say when amounts no curve values were cut to make room for those that gain."""
    productive = np.zeros(objective.n, dtype=np.bool_)
    productive[objective.curve_variable[objective.relevant_curves()]] = True
    d_count = box.lower.shape[1]
    notes = []
    for r, moving, _ in pool_rows(box, layout):
        cut = moving[~productive[moving] & (x[moving] < objective.today[moving] * (1 - 1e-9))]
        if cut.size:
            problem = objective.problem
            names = ", ".join(f"'{problem.departments[j % d_count]}'" for j in cut)
            notes.append(
                f"no response curve links {names} to a KPI through '{problem.pools.ids[r]}', "
                "so the model sees no value in their amounts and cut them to make room; add "
                "curves or minimums to protect them"
            )
    return notes


def _today_feasible(box: Box, today: FloatArray) -> tuple[bool, str]:
    r_count, d_count = box.lower.shape
    lower, upper = box.lower.ravel(), box.upper.ravel()
    slack = _FEASIBLE * np.maximum(1.0, np.abs(today))
    for r in range(r_count):
        if not box.optimised[r]:
            continue
        block = slice(r * d_count, (r + 1) * d_count)
        if (today[block] < lower[block] - slack[block]).any():
            return False, "a department is below its minimum or not on a whole step"
        if (today[block] > upper[block] + slack[block]).any():
            return False, "a department is above what its pool can hold"
        total = math.fsum(today[block])
        limit = float(box.total[r])
        if total > limit * (1 + _FEASIBLE) + _FEASIBLE:
            return False, f"its total {format_amount(total)} is above {format_amount(limit)}"
        step = float(box.step[r])
        if step > 0:
            units = today[block] / step
            if (np.abs(units - np.rint(units)) > 1e-9).any():
                return False, "a stepped resource is not on a whole step"
    return True, ""
