"""Payout matrices: one factor from several KPIs' attainments at once, vectorised.

Per axis, as for curves: below the first point the whole matrix pays its ``below`` factor; at or
past the last point the axis stays flat; between points it interpolates linearly (a ``linear``
axis) or takes the point at or below (``step``). Several linear axes interpolate multilinearly
(bilinear for two): the weighted sum of the surrounding corners, each weighted by the product of
its axes' shares, so the factor is exact at every grid point and continuous along linear axes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment_engine.model.decision_tables import PayoutMatrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MatrixEvaluation:
    factor: FloatArray  # (N,), NaN where an attainment is missing
    low: IntArray  # (N, axes): the point at or below each attainment, -1 below the first
    share: FloatArray  # (N, axes): how far towards the next point (0 on step axes)


def evaluate_matrix(
    matrix: PayoutMatrix, attainments: npt.ArrayLike, exact: npt.ArrayLike | None = None
) -> MatrixEvaluation:
    """The matrix's factor at each row of ``attainments`` (one column per axis, in axis order).
    ``exact``: the attainments before their rounding to 12 significant digits; the rounded ones
    decide where each falls, the exact ones how far between two points (as on curves)."""
    values = np.atleast_2d(np.asarray(attainments, dtype=np.float64))
    placed = values if exact is None else np.atleast_2d(np.asarray(exact, dtype=np.float64))
    grid = matrix.grid()
    count, width = values.shape
    if width != len(matrix.axes):
        raise ValueError(f"{len(matrix.axes)} attainments per row expected, got {width}")
    low = np.zeros((count, width), dtype=np.int64)
    share = np.zeros((count, width), dtype=np.float64)
    for number, axis in enumerate(matrix.axes):
        points = np.array(axis.points, dtype=np.float64)
        x = values[:, number]
        below = np.searchsorted(points, x, side="right") - 1
        last = len(points) - 1
        inside = (below >= 0) & (below < last)
        here = np.clip(below, 0, last)
        nxt = np.minimum(here + 1, last)
        if axis.interpolation == "linear":
            with np.errstate(invalid="ignore"):
                span = np.where(inside, points[nxt] - points[here], 1.0)
                share[:, number] = np.where(inside, (placed[:, number] - points[here]) / span, 0.0)
        low[:, number] = np.where(np.isnan(x), -2, below)
    corner_index = np.clip(low, 0, None)
    factor = np.zeros(count, dtype=np.float64)
    shape = np.array(grid.shape, dtype=np.int64)
    for corner in itertools.product((0, 1), repeat=width):
        offset = np.array(corner, dtype=np.int64)
        weight = np.prod(np.where(offset == 1, share, 1.0 - share), axis=1)
        index = np.minimum(corner_index + offset, shape - 1)
        factor += weight * grid[tuple(index.T)]
    factor = np.where((low == -1).any(axis=1), float(matrix.below), factor)
    factor = np.where(np.isnan(values).any(axis=1), np.nan, factor)
    return MatrixEvaluation(factor=factor, low=low, share=share)


def describe_position(matrix: PayoutMatrix, attainments: list[float | None]) -> str:
    """Where one combination of attainments falls, e.g. ``revenue 1.05 between 1 and 1.2,
    margin 0.98 at 0.9 (step)``."""
    parts = []
    for axis, value in zip(matrix.axes, attainments, strict=True):
        if value is None:
            parts.append(f"{axis.name} no result")
            continue
        points = axis.points
        if value < points[0]:
            parts.append(f"{axis.name} {value:g} short of {points[0]:g}")
        elif value >= points[-1]:
            parts.append(f"{axis.name} {value:g} at or beyond {points[-1]:g}")
        else:
            below = max(p for p in points if p <= value)
            above = min(p for p in points if p > value)
            if axis.interpolation == "step":
                parts.append(f"{axis.name} {value:g} at {below:g} (step)")
            else:
                parts.append(f"{axis.name} {value:g} between {below:g} and {above:g}")
    return ", ".join(parts)
