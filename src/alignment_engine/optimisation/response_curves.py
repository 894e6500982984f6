"""Response curves: how a KPI moves with one department's amount of one resource.

Shapes (docs/file-formats.md, "ResponseCurve"): ``linear`` a*x, ``saturating`` a*(1-exp(-b*x)),
``log`` a*ln(1+b*x) and ``power`` a*x**b. Everything here is vectorised over many curves of mixed
shapes at once, because the optimiser evaluates every curve on every iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from alignment_engine.errors import OptimisationError

FloatArray = NDArray[np.float64]

# x**(b-1) is infinite at 0 for b < 1; derivatives of power curves are taken at least this far
# from zero so marginal values stay finite (the difference is far below any real unit).
POWER_DERIVATIVE_FLOOR = 1e-12


def sum_by(index: NDArray[np.int64], weights: FloatArray, size: int) -> FloatArray:
    """Sum ``weights`` into ``size`` buckets by ``index`` (a typed ``np.bincount``)."""
    total: FloatArray = np.bincount(index, weights, minlength=size).astype(np.float64, copy=False)
    return total


class Shape(StrEnum):
    LINEAR = "linear"
    SATURATING = "saturating"
    LOG = "log"
    POWER = "power"


class ShapeCode(IntEnum):
    """Compact codes for vectorised evaluation; values index ``SHAPE_BY_CODE``."""

    LINEAR = 0
    SATURATING = 1
    LOG = 2
    POWER = 3


SHAPE_BY_CODE: tuple[Shape, ...] = (Shape.LINEAR, Shape.SATURATING, Shape.LOG, Shape.POWER)
CODE_BY_SHAPE: dict[Shape, ShapeCode] = {
    shape: ShapeCode(i) for i, shape in enumerate(SHAPE_BY_CODE)
}


@dataclass(frozen=True)
class ResponseCurve:
    """One curve with its parameters and, when fitted, their covariance.

    ``b`` is ignored by linear curves. ``covariance`` is the 2x2 covariance of (a, b) in natural
    units (for linear curves only the (a, a) entry is used); it drives the direction-stability
    check of a reallocation.
    """

    shape: Shape
    a: float
    b: float = 1.0
    covariance: tuple[tuple[float, float], tuple[float, float]] | None = None

    def __post_init__(self) -> None:
        check_curve_parameters(self.shape, self.a, self.b)

    @property
    def is_concave(self) -> bool:
        return curve_is_concave(self.shape, self.a, self.b)

    def value(self, x: ArrayLike) -> FloatArray:
        return self._evaluate(x)[0]

    def derivative(self, x: ArrayLike) -> FloatArray:
        return self._evaluate(x)[1]

    def second_derivative(self, x: ArrayLike) -> FloatArray:
        return self._evaluate(x)[2]

    def _evaluate(self, x: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        points = _as_floats(x)
        flat = points.reshape(-1)
        arrays = CurveArrays(
            np.full(flat.size, CODE_BY_SHAPE[self.shape], dtype=np.int8),
            np.full(flat.size, self.a),
            np.full(flat.size, self.b),
        )
        value, first, second = arrays.evaluate(flat)
        return (
            value.reshape(points.shape),
            first.reshape(points.shape),
            second.reshape(points.shape),
        )


def check_curve_parameters(shape: Shape, a: float, b: float) -> None:
    """Raise OptimisationError for parameters no curve of that shape can have."""
    if not (np.isfinite(a) and np.isfinite(b)):
        raise OptimisationError(f"{shape} curve has non-finite parameters a={a}, b={b}")
    if shape is not Shape.LINEAR and b <= 0:
        raise OptimisationError(f"{shape} curve needs b > 0, got b={b}")


def curve_is_concave(shape: Shape, a: float, b: float) -> bool:
    """Concave in x >= 0: what keeps the reallocation's optimum global."""
    if shape is Shape.LINEAR:
        return True
    if shape is Shape.POWER:
        return (a >= 0 and b <= 1) or (a <= 0 and b >= 1)
    return a >= 0


def _as_floats(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


Selector = slice | NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class _Group:
    """The curves of one shape: where they sit, and their parameters pre-gathered."""

    where: Selector
    a: FloatArray
    b: FloatArray
    ab: FloatArray  # a * b
    abb: FloatArray  # a * b * b (saturating, log) or a * b * (b - 1) (power)


@dataclass(frozen=True, eq=False)
class CurveArrays:
    """Many curves of mixed shapes, evaluated together (all arrays have one entry per curve).

    Curves sorted by shape code are evaluated on contiguous slices (views, no copies); callers
    on hot paths keep them sorted (see ``Objective``).
    """

    shape: NDArray[np.int8]
    a: FloatArray
    b: FloatArray

    def __post_init__(self) -> None:
        shape = self.shape
        is_sorted = shape.size < 2 or bool(np.all(shape[1:] >= shape[:-1]))
        groups: list[_Group | None] = []
        for code in ShapeCode:
            where: Selector
            if is_sorted:
                start, stop = np.searchsorted(shape, [code, code + 1])
                where = slice(int(start), int(stop))
                present = stop > start
            else:
                mask = shape == code
                where, present = mask, bool(mask.any())
            if not present:
                groups.append(None)
                continue
            a, b = self.a[where], self.b[where]
            second = a * b * (b - 1.0) if code == ShapeCode.POWER else a * b * b
            groups.append(_Group(where, a, b, a * b, second))
        object.__setattr__(self, "_groups", tuple(groups))

    def groups(self) -> tuple[_Group | None, ...]:
        groups: tuple[_Group | None, ...] = object.__getattribute__(self, "_groups")
        return groups

    def value(self, x: FloatArray) -> FloatArray:
        """Every curve at its own x."""
        value = np.empty_like(x)
        linear, saturating, log, power = self.groups()
        if linear is not None:
            value[linear.where] = linear.a * x[linear.where]
        if saturating is not None:
            value[saturating.where] = -saturating.a * np.expm1(-saturating.b * x[saturating.where])
        if log is not None:
            value[log.where] = log.a * np.log1p(log.b * x[log.where])
        if power is not None:
            value[power.where] = power.a * np.power(np.maximum(x[power.where], 0.0), power.b)
        return value

    def evaluate(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Value, first and second derivative of every curve at its own x (same length)."""
        value = np.empty_like(x)
        first = np.empty_like(x)
        second = np.empty_like(x)
        linear, saturating, log, power = self.groups()
        if linear is not None:
            where = linear.where
            value[where] = linear.a * x[where]
            first[where] = linear.a
            second[where] = 0.0
        if saturating is not None:
            where = saturating.where
            growth = np.expm1(-saturating.b * x[where])  # accurate where b*x is tiny
            decay = 1.0 + growth
            value[where] = -saturating.a * growth
            first[where] = saturating.ab * decay
            second[where] = -saturating.abb * decay
        if log is not None:
            where = log.where
            inverse = 1.0 / (1.0 + log.b * x[where])
            value[where] = log.a * np.log1p(log.b * x[where])
            first[where] = log.ab * inverse
            second[where] = -log.abb * inverse * inverse
        if power is not None:
            where = power.where
            xm = x[where]
            value[where] = power.a * np.power(np.maximum(xm, 0.0), power.b)
            safe = np.maximum(xm, POWER_DERIVATIVE_FLOOR)
            slope = power.ab * np.power(safe, power.b - 1.0)
            first[where] = slope
            second[where] = slope * (power.b - 1.0) / safe
        return value, first, second

    def inverse_derivative(self, slope: FloatArray) -> FloatArray:
        """The x where f'(x) equals ``slope`` (elementwise), for concave increasing curves.

        Closed forms, because each curve is concave and one-dimensional. Where no such x >= 0 exists the
        answer is -inf (the curve is flatter than ``slope`` everywhere) or +inf (steeper
        everywhere). Linear curves have no inverse: +inf where a > slope, -inf where a < slope,
        and 0 on an exact tie (callers resolve ties by bracketing).
        """
        out = np.empty_like(slope)
        linear, saturating, log, power = self.groups()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if linear is not None:
                sm = slope[linear.where]
                out[linear.where] = np.where(
                    linear.a > sm, np.inf, np.where(linear.a < sm, -np.inf, 0.0)
                )
            if saturating is not None:
                sm = slope[saturating.where]
                ratio = saturating.ab / np.where(sm > 0, sm, 1.0)
                x = np.where(
                    ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)) / saturating.b, -np.inf
                )
                out[saturating.where] = np.where(sm > 0, x, np.inf)
            if log is not None:
                sm = slope[log.where]
                x = log.a / np.where(sm > 0, sm, 1.0) - 1.0 / log.b
                out[log.where] = np.where(sm > 0, x, np.inf)
            if power is not None:
                sm = slope[power.where]
                ratio = np.where(sm > 0, sm, 1.0) / power.ab
                x = np.power(ratio, 1.0 / (power.b - 1.0))
                out[power.where] = np.where(sm > 0, x, np.inf)
        return out
