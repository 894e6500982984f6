"""Payout curves: piecewise functions from a KPI result to a payout factor, vectorised.

Many curves (one per KPI: a ``levels`` curve sits on each KPI's own threshold/target/maximum) are
stored as padded matrices and evaluated in one pass, so scoring thousands of KPIs is a handful of
numpy operations rather than a Python loop.

Conventions shared by every curve:

- points ``(x_0, y_0) ... (x_n, y_n)`` with non-decreasing ``x`` (the "better" coordinate: a
  lower-is-better KPI's levels are negated first, see :func:`monotone_levels`);
- below ``x_0`` the factor is the curve's ``below_threshold``;
- at or above ``x_n`` the factor stays ``y_n`` (flat);
- between points: ``linear`` interpolation, or ``step`` (the factor of the point at or below);
- a NaN input gives a NaN factor and segment :data:`MISSING`.

Each evaluation also reports the *segment* it fell into: :data:`BELOW` (-1), ``i`` for
``x_i <= x < x_{i+1}``, ``n`` for at-or-above the last point. Explanations turn it into words with
:func:`segment_label`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.precision import round_significant

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BELOW = -1
"""Segment code: the result is below the curve's first point."""
MISSING = -2
"""Segment code: there was no result to evaluate (NaN)."""


@dataclass(frozen=True)
class CurveEvaluation:
    factor: FloatArray
    segment: IntArray


@dataclass(frozen=True)
class CurvePoints:
    """One curve's points in its monotone coordinate, before it joins a :class:`CurveSet`."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    step: bool = False
    below: float = 0.0

    def __post_init__(self) -> None:
        if not self.xs or len(self.xs) != len(self.ys):
            raise ValueError("a curve needs at least one point and one factor per point")
        if any(b < a for a, b in itertools.pairwise(self.xs)):
            raise ValueError(f"curve points must not decrease: {list(self.xs)}")


@dataclass(frozen=True)
class CurveSet:
    """``K`` curves as padded ``(K, P)`` matrices; row ``k`` is curve ``k``."""

    xs: FloatArray  # padded with +inf so padding is never "at or below" a finite input
    ys: FloatArray  # padded by repeating the last factor
    counts: IntArray
    step: BoolArray
    below: FloatArray

    @classmethod
    def from_points(cls, curves: Sequence[CurvePoints]) -> CurveSet:
        width = max((len(c.xs) for c in curves), default=1)
        size = len(curves)
        xs = np.full((size, width), np.inf)
        ys = np.zeros((size, width))
        for row, curve in enumerate(curves):
            n = len(curve.xs)
            xs[row, :n] = curve.xs
            ys[row, :n] = curve.ys
            ys[row, n:] = curve.ys[-1]
        return cls(
            xs=xs,
            ys=ys,
            counts=np.array([len(c.xs) for c in curves], dtype=np.int64),
            step=np.array([c.step for c in curves], dtype=np.bool_),
            below=np.array([c.below for c in curves], dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def evaluate(
        self,
        x: npt.ArrayLike,
        which: npt.ArrayLike | None = None,
        *,
        exact: npt.ArrayLike | None = None,
    ) -> CurveEvaluation:
        """Evaluate curve ``which[j]`` at ``x[j]`` for every ``j`` (``which`` defaults to
        ``0..K-1``, i.e. one input per curve).

        ``exact``: the inputs before their rounding to 12 significant digits (attainments,
        :func:`attainment`). The rounded input decides the segment, so a result on a point in
        decimal is on it; the exact one places it inside the segment, so 67.1 / 66 (attainment
        1.01666666667) pays 1.05 on a slope of 3, not 1.05000000001."""
        values = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(self)) if which is None else np.asarray(which, dtype=np.int64)
        values, rows = np.broadcast_arrays(values, rows)
        values = values.ravel()
        rows = rows.ravel()
        placed = values if exact is None else np.broadcast_to(exact, rows.shape).ravel()
        xs = self.xs[rows]
        ys = self.ys[rows]
        last = self.counts[rows] - 1

        missing = np.isnan(values)
        # Points at or below x form a prefix (x is sorted), so counting them finds the segment.
        segment = np.minimum((values[:, None] >= xs).sum(axis=1) - 1, last).astype(np.int64)
        inside = (segment >= 0) & (segment < last)

        here = np.clip(segment, 0, None)
        nxt = np.minimum(here + 1, last)
        x0 = np.take_along_axis(xs, here[:, None], axis=1)[:, 0]
        x1 = np.take_along_axis(xs, nxt[:, None], axis=1)[:, 0]
        y0 = np.take_along_axis(ys, here[:, None], axis=1)[:, 0]
        y1 = np.take_along_axis(ys, nxt[:, None], axis=1)[:, 0]

        width = np.where(inside, x1 - x0, 1.0)
        with np.errstate(invalid="ignore"):
            share = np.where(inside & ~self.step[rows], (placed - x0) / width, 0.0)
        factor = np.where(segment == BELOW, self.below[rows], y0 + share * (y1 - y0))
        factor = np.where(missing, np.nan, factor)
        segment = np.where(missing, MISSING, segment)
        return CurveEvaluation(factor=factor, segment=segment)

    def evaluate_columns(self, x: FloatArray, exact: FloatArray | None = None) -> FloatArray:
        """Factors only, for a ``(N, K)`` matrix whose column ``k`` is evaluated on curve
        ``k`` (many draws of every KPI): the arithmetic of :meth:`evaluate`, broadcast over
        the rows instead of gathering each curve's points once per input."""
        values = np.asarray(x, dtype=np.float64)
        last = self.counts - 1
        width = self.xs.shape[1]
        segment = np.minimum((values[:, :, None] >= self.xs[None, :, :]).sum(axis=2) - 1, last)
        inside = (segment >= 0) & (segment < last)
        here = np.clip(segment, 0, None)
        nxt = np.minimum(here + 1, last)
        base = (np.arange(len(self)) * width)[None, :]
        xs, ys = self.xs.ravel(), self.ys.ravel()
        x0, x1 = xs[base + here], xs[base + nxt]
        y0, y1 = ys[base + here], ys[base + nxt]
        placed = values if exact is None else exact
        with np.errstate(invalid="ignore"):
            span = np.where(inside, x1 - x0, 1.0)
            share = np.where(inside & ~self.step[None, :], (placed - x0) / span, 0.0)
        factor = np.where(segment == BELOW, self.below[None, :], y0 + share * (y1 - y0))
        result: FloatArray = np.where(np.isnan(values), np.nan, factor)
        return result


def evaluate_curve(
    x: npt.ArrayLike,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    step: bool = False,
    below: float = 0.0,
) -> CurveEvaluation:
    """Evaluate one curve at many inputs (convenience over :class:`CurveSet`)."""
    curve = CurveSet.from_points([CurvePoints(tuple(xs), tuple(ys), step=step, below=below)])
    values = np.asarray(x, dtype=np.float64)
    evaluation = curve.evaluate(values.ravel(), np.zeros(values.size, dtype=np.int64))
    return CurveEvaluation(
        factor=evaluation.factor.reshape(values.shape),
        segment=evaluation.segment.reshape(values.shape),
    )


def attainment_ratio(
    actual: npt.ArrayLike, target: npt.ArrayLike, lower_is_better: npt.ArrayLike
) -> FloatArray:
    """:func:`attainment` before its rounding to 12 significant digits (where a curve places
    a result between its points: see ``CurveSet.evaluate``'s ``exact``)."""
    actual_values = np.asarray(actual, dtype=np.float64)
    target_values = np.asarray(target, dtype=np.float64)
    lower = np.asarray(lower_is_better, dtype=np.bool_)
    numerator = np.where(lower, target_values, actual_values)
    denominator = np.where(lower, actual_values, target_values)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = numerator / denominator
    undefined = denominator == 0
    ratio = np.where(undefined & (numerator > 0), np.inf, ratio)
    ratio = np.where(undefined & (numerator <= 0), np.nan, ratio)
    result: FloatArray = np.where(np.isnan(actual_values) | np.isnan(target_values), np.nan, ratio)
    return result


def attainment(
    actual: npt.ArrayLike, target: npt.ArrayLike, lower_is_better: npt.ArrayLike
) -> FloatArray:
    """``actual / target``, or ``target / actual`` where lower is better.

    A zero denominator with a positive numerator is infinitely good (+inf, the top of any curve:
    e.g. zero defects against a positive target); otherwise it is undefined (NaN). Callers reject
    zero targets before scoring.

    Rounded to 12 significant digits (:mod:`.precision`): ``0.0765 / 0.085`` is 0.9, exactly
    on a 0.9 curve point or gate threshold, not 0.8999999999999999 just below it.
    """
    return round_significant(attainment_ratio(actual, target, lower_is_better))


def band_attainment(
    actual: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike, *, rounded: bool = True
) -> FloatArray:
    """A ``maintain`` KPI's attainment: 1 inside [low, high], ``actual / low`` below it and
    ``high / actual`` above it, rounded like :func:`attainment` (NaN without a band or result;
    ``rounded=False``: before the rounding). A band edge at or below zero gives no ratio: an
    actual past it is undefined (NaN)."""
    actual_values = np.asarray(actual, dtype=np.float64)
    low_values = np.asarray(low, dtype=np.float64)
    high_values = np.asarray(high, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        below = np.where(low_values > 0, actual_values / low_values, np.nan)
        above = np.where(high_values > 0, high_values / actual_values, np.nan)
    ratio = np.where(
        actual_values < low_values, below, np.where(actual_values > high_values, above, 1.0)
    )
    if rounded:
        ratio = round_significant(ratio)
    unknown = np.isnan(actual_values) | np.isnan(low_values) | np.isnan(high_values)
    return np.where(unknown, np.nan, ratio)


def monotone_levels(levels: Sequence[float], lower_is_better: bool) -> tuple[float, ...]:
    """A KPI's levels (threshold, target, maximum order) in the coordinate where bigger is
    better: negated when lower is better, so ``threshold > target > maximum`` becomes increasing.
    """
    return tuple(-v for v in levels) if lower_is_better else tuple(levels)


def monotone_values(values: npt.ArrayLike, lower_is_better: npt.ArrayLike) -> FloatArray:
    """Actual results in the same coordinate as :func:`monotone_levels`."""
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.asarray(lower_is_better, dtype=np.bool_), -array, array)


def apply_cap(factor: FloatArray, cap: float | None) -> FloatArray:
    """``min(factor, cap)``; no cap leaves the factor as it is (NaN stays NaN)."""
    if cap is None:
        return factor
    return np.where(np.isnan(factor), factor, np.minimum(factor, cap))


def segment_label(segment: int, point_names: Sequence[str]) -> str:
    """Words for a segment code, e.g. ``"between threshold and target"``.

    "short of" and "at or beyond" read right whichever way is better for the KPI.
    """
    if segment == MISSING:
        return "no result"
    if segment == BELOW:
        return f"short of {point_names[0]}"
    if segment >= len(point_names) - 1:
        return f"at or beyond {point_names[-1]}"
    return f"between {point_names[segment]} and {point_names[segment + 1]}"
