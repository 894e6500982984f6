"""Which amounts move, the pool rows over them, and putting a solver's answer exactly on them.

Amounts whose bounds coincide, or whose pool leaves room only for its least (or, with
``keep_total``, its most) amounts, are fixed before solving. After solving, amounts within
round-off of a bound are snapped onto it, pool rows are met exactly, and amounts no curve values
are put as close to today's as the rows allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from alignment_engine.optimisation.feasibility import Box
from alignment_engine.optimisation.interior_point import Row
from alignment_engine.optimisation.objective import Objective
from alignment_engine.optimisation.problem import IntArray
from alignment_engine.optimisation.response_curves import FloatArray
from alignment_engine.optimisation.waterfilling import spread_worthless

SNAP = 1e-9  # relative distance under which an amount is taken to sit on its bound


@dataclass(frozen=True, eq=False)
class Layout:
    """Which amounts move, the pool rows over them, and where the fixed ones sit."""

    free: IntArray
    free_mask: NDArray[np.bool_]
    start: FloatArray
    rows: tuple[Row, ...]  # one per optimised pool that has free amounts
    row_resource: tuple[int, ...]


def layout_of(box: Box, objective: Objective) -> Layout:
    r_count, d_count = box.lower.shape
    lower, upper = box.lower.ravel(), box.upper.ravel()
    fixed = (box.is_fixed() | ~box.optimised[:, None]).ravel()
    start = np.clip(objective.today, lower, upper)
    start[fixed] = lower[fixed]
    rows: list[Row] = []
    row_resource: list[int] = []
    can_bind: list[bool] = []
    for r in range(r_count):
        if not box.optimised[r]:
            continue
        block = np.arange(r * d_count, (r + 1) * d_count)
        moving = block[~fixed[block]]
        if moving.size == 0:
            continue
        total = float(box.total[r])
        left = total - math.fsum(start[block[fixed[block]]])
        tolerance = 1e-12 * max(1.0, abs(total))
        if math.fsum(lower[moving]) >= left - tolerance:
            start[moving] = lower[moving]  # the pool only has room for the least amounts
            fixed[moving] = True
            continue
        if box.equality[r] and math.fsum(upper[moving]) <= left + tolerance:
            start[moving] = upper[moving]
            fixed[moving] = True
            continue
        rows.append(Row(variables=block, total=total, equality=bool(box.equality[r])))
        row_resource.append(r)
        can_bind.append(bool(box.equality[r]) or math.fsum(upper[moving]) > left)
    free_mask = ~fixed
    # Rows that cannot bind are left out of the interior-point solve.
    kept = [i for i, bind in enumerate(can_bind) if bind]
    return Layout(
        free=np.flatnonzero(free_mask).astype(np.int64),
        free_mask=free_mask,
        start=start,
        rows=tuple(rows[i] for i in kept),
        row_resource=tuple(row_resource[i] for i in kept),
    )


def pool_rows(box: Box, layout: Layout) -> list[tuple[int, IntArray, float]]:
    """(resource, its free amounts, what its row leaves for them) for every optimised pool."""
    r_count, d_count = box.lower.shape
    found = []
    for r in range(r_count):
        if not box.optimised[r]:
            continue
        block = np.arange(r * d_count, (r + 1) * d_count)
        free = block[layout.free_mask[block]]
        if free.size == 0:
            continue
        fixed = block[~layout.free_mask[block]]
        found.append((r, free, float(box.total[r]) - math.fsum(layout.start[fixed])))
    return found


def polish(x: FloatArray, objective: Objective, box: Box, layout: Layout) -> FloatArray:
    """Snap amounts within round-off of a bound onto it, meet pool rows exactly, and put
    amounts the objective ignores as close to today's as the rows allow."""
    x = x.copy()
    lower, upper = box.lower.ravel(), box.upper.ravel()
    free = layout.free
    tolerance = SNAP * np.maximum(1.0, np.maximum(np.abs(lower[free]), np.abs(upper[free])))
    values = x[free]
    values = np.where(values - lower[free] <= tolerance, lower[free], values)
    values = np.where(upper[free] - values <= tolerance, upper[free], values)
    x[free] = values
    x = enforce_rows(x, box, layout)
    worthless_curve = objective.relevant_curves()
    productive = np.zeros(objective.n, dtype=np.bool_)
    productive[objective.curve_variable[worthless_curve]] = True
    for r, moving, left in pool_rows(box, layout):
        worthless = moving[~productive[moving]]
        if worthless.size == 0:
            continue
        used = math.fsum(x[moving[productive[moving]]])
        x[worthless] = spread_worthless(
            lower[worthless],
            upper[worthless],
            objective.today[worthless],
            left - used,
            bool(box.equality[r]),
        )
    return x


def enforce_rows(x: FloatArray, box: Box, layout: Layout) -> FloatArray:
    """Move the last bit of round-off so every pool row holds exactly."""
    x = x.copy()
    lower, upper = box.lower.ravel(), box.upper.ravel()
    for r, moving, left in pool_rows(box, layout):
        total = math.fsum(x[moving])
        excess = total - left
        if not box.equality[r]:
            excess = max(excess, 0.0)
        if excess == 0:
            continue
        room = (x[moving] - lower[moving]) if excess > 0 else (upper[moving] - x[moving])
        # Prefer amounts strictly inside their bounds, so those on a bound stay exactly on it.
        inside = (x[moving] > lower[moving]) & (x[moving] < upper[moving])
        if math.fsum(room[inside]) >= abs(excess):
            room = np.where(inside, room, 0.0)
        span = math.fsum(room)
        if span <= 0:
            continue
        share = min(abs(excess) / span, 1.0)
        x[moving] = x[moving] - math.copysign(share, excess) * room
    return x
