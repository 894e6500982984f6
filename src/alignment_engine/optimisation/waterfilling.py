"""Exact water-filling for separable concave allocation (one pool row at a time).

maximise sum_j phi_j(x_j) subject to lower <= x <= upper and sum_j x_j <= total (or == total),
where each phi_j is a non-negative combination of concave response curves. At the optimum every
amount strictly inside its bounds has phi_j'(x_j) = lambda, the pool's shadow price. For one
curve per amount the inverse of phi' is closed form; amounts with several curves are solved by a
safeguarded Newton iteration. lambda itself is found by Newton steps on the pool total,
safeguarded by a bracket bisected in asinh space (so it works at any scale and sign), to
machine precision; the last round-off of the total is then spread over amounts with room, or,
when linear curves tie, the two bracketing allocations are interpolated to meet it exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alignment_engine.optimisation.problem import IntArray
from alignment_engine.optimisation.response_curves import CurveArrays, FloatArray, ShapeCode, sum_by

_MAX_LAMBDA_STEPS = 200
_MAX_NEWTON = 100


@dataclass(frozen=True, eq=False)
class PoolRow:
    """One pool's free amounts and the curves on them, with objective weights folded into a."""

    lower: FloatArray  # (m,)
    upper: FloatArray  # (m,)
    today: FloatArray  # (m,) where worthless amounts go back to, if the pool lets them
    total: float  # right-hand side left for these amounts
    equality: bool
    curve_position: IntArray  # (c,) which of the m amounts each curve acts on
    curves: CurveArrays  # weighted curves (a already multiplied by the objective weight)


@dataclass(frozen=True, eq=False)
class Filled:
    x: FloatArray
    shadow_price: float


class _Responses:
    """x_j(lambda) = argmax phi_j(x) - lambda x over [lower_j, upper_j], vectorised, with
    dx_j/dlambda (for Newton steps on lambda)."""

    def __init__(self, row: PoolRow) -> None:
        m = row.lower.size
        counts = np.bincount(row.curve_position, minlength=m)
        self.row = row
        self.productive = counts > 0
        single_curve = (counts == 1)[row.curve_position]
        self.single_position = row.curve_position[single_curve]
        self.single_curves = _subset(row.curves, single_curve)
        self.single_lower = row.lower[self.single_position]
        self.single_upper = row.upper[self.single_position]
        self.multi = np.flatnonzero(counts > 1)
        local = np.full(m, -1, dtype=np.int64)
        local[self.multi] = np.arange(self.multi.size)
        multi_curve = ~single_curve
        self.multi_curve_position = local[row.curve_position[multi_curve]]
        self.multi_curves = _subset(row.curves, multi_curve)
        self.multi_lower = row.lower[self.multi]
        self.multi_upper = row.upper[self.multi]
        self.multi_slope_lower = self._multi_slopes(self.multi_lower)[0]
        self.multi_slope_upper = self._multi_slopes(self.multi_upper)[0]
        self.multi_guess = 0.5 * (self.multi_lower + self.multi_upper)

    def slope(self, x: FloatArray) -> FloatArray:
        """phi_j'(x_j) for every amount (0 for amounts without curves)."""
        row = self.row
        first = row.curves.evaluate(x[row.curve_position])[1]
        slope: FloatArray = sum_by(row.curve_position, first, row.lower.size)
        return slope

    def at(self, shadow_price: float) -> tuple[FloatArray, FloatArray]:
        row = self.row
        x = row.lower.copy()
        rate = np.zeros_like(x)
        if self.single_position.size:
            slope = np.full(self.single_position.size, shadow_price)
            inverse = self.single_curves.inverse_derivative(slope)
            clipped = np.clip(inverse, self.single_lower, self.single_upper)
            inside = (inverse > self.single_lower) & (inverse < self.single_upper)
            curvature = self.single_curves.evaluate(clipped)[2]
            # A curvature so small that 1/curvature overflows means a flat response: rate 0.
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                single_rate = np.where(inside & (curvature < 0), 1.0 / curvature, 0.0)
            single_rate[~np.isfinite(single_rate)] = 0.0
            x[self.single_position] = clipped
            rate[self.single_position] = single_rate
        if self.multi.size:
            x[self.multi], rate[self.multi] = self._multi_at(shadow_price)
        return x, rate

    def _multi_slopes(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        _, first, second = self.multi_curves.evaluate(x[self.multi_curve_position])
        size = self.multi.size
        return (
            sum_by(self.multi_curve_position, first, size),
            sum_by(self.multi_curve_position, second, size),
        )

    def _multi_at(self, shadow_price: float) -> tuple[FloatArray, FloatArray]:
        """Safeguarded Newton on phi'(x) = lambda for amounts with several curves, started
        from the answer at the previous lambda (successive lambdas are close)."""
        x = np.where(self.multi_slope_lower <= shadow_price, self.multi_lower, self.multi_upper)
        rate = np.zeros_like(x)
        active = np.flatnonzero(
            (self.multi_slope_lower > shadow_price) & (self.multi_slope_upper < shadow_price)
        )
        if active.size == 0:
            return x, rate
        is_active = np.zeros(self.multi.size, dtype=np.bool_)
        is_active[active] = True
        on_active = is_active[self.multi_curve_position]
        remap = np.full(self.multi.size, -1, dtype=np.int64)
        remap[active] = np.arange(active.size)
        position = remap[self.multi_curve_position[on_active]]
        curves = _subset(self.multi_curves, on_active)
        low, high = self.multi_lower[active], self.multi_upper[active]
        guess = self.multi_guess[active]
        y = np.where((guess > low) & (guess < high), guess, 0.5 * (low + high))
        tolerance = 1e-15 * np.maximum(np.abs(high), 1.0)
        second = np.full(active.size, -1.0)
        for _ in range(_MAX_NEWTON):
            _, first_c, second_c = curves.evaluate(y[position])
            excess = sum_by(position, first_c, active.size) - shadow_price
            second = sum_by(position, second_c, active.size)
            low = np.where(excess > 0, y, low)
            high = np.where(excess > 0, high, y)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                newton = y - excess / second
            inside = np.isfinite(newton) & (newton >= low) & (newton <= high)
            step = np.where(inside, newton, 0.5 * (low + high))
            moved = np.abs(step - y)
            y = step
            if (moved <= tolerance).all():
                break
        self.multi_guess[active] = y
        x[active] = y
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            multi_rate = np.where(second < 0, 1.0 / second, 0.0)
        rate[active] = np.where(np.isfinite(multi_rate), multi_rate, 0.0)
        return x, rate


def _subset(curves: CurveArrays, mask: np.ndarray) -> CurveArrays:
    return CurveArrays(curves.shape[mask], curves.a[mask], curves.b[mask])


def water_fill(row: PoolRow) -> Filled:
    """The exact optimum of one separable concave pool row (see module docstring)."""
    responses = _Responses(row)
    productive = responses.productive
    worthless = ~productive
    # Amounts no curve values can sit anywhere in their bounds; they absorb what is left.
    spare_low = math.fsum(row.lower[worthless])
    spare_high = math.fsum(row.upper[worthless])
    budget_high = row.total - spare_low
    budget_low = row.total - spare_high if row.equality else -math.inf

    free_optimum, _ = responses.at(0.0)
    free_total = math.fsum(free_optimum[productive])
    if budget_low <= free_total <= budget_high or not productive.any():
        x, shadow_price = free_optimum, 0.0
    else:
        target = budget_high if free_total > budget_high else budget_low
        x, shadow_price = _find_price(responses, target, positive=free_total > budget_high)
    if worthless.any():
        x[worthless] = spread_worthless(
            row.lower[worthless],
            row.upper[worthless],
            row.today[worthless],
            row.total - math.fsum(x[productive]),
            row.equality,
        )
    return Filled(x=x, shadow_price=shadow_price)


def spread_worthless(
    low: FloatArray, high: FloatArray, today: FloatArray, room: float, equality: bool
) -> FloatArray:
    """Amounts the objective ignores: as close to today's as the pool row allows.

    ``room`` is what the row leaves for them once every other amount is placed; with
    ``equality`` they must fill it exactly.
    """
    today = np.clip(today, low, high)
    if equality or math.fsum(today) > room:
        target = min(max(room, math.fsum(low)), math.fsum(high))
        return _toward(low, today, high, target)
    return today


def _toward(low: FloatArray, today: FloatArray, high: FloatArray, target: float) -> FloatArray:
    """Move ``today`` toward ``low`` or ``high`` proportionally until it sums to ``target``."""
    current = math.fsum(today)
    if target <= current:
        span = math.fsum(today - low)
        share = 0.0 if span <= 0 else (current - target) / span
        result: FloatArray = today - min(share, 1.0) * (today - low)
    else:
        span = math.fsum(high - today)
        share = 0.0 if span <= 0 else (target - current) / span
        result = today + min(share, 1.0) * (high - today)
    return result


def _find_price(
    responses: _Responses, target: float, *, positive: bool
) -> tuple[FloatArray, float]:
    """Find lambda where the productive total meets ``target``; lambda > 0 iff ``positive``.

    Newton steps on lambda (the total's slope is sum dx/dlambda), safeguarded by a bracket that
    is bisected in t = asinh(lambda / scale) whenever Newton would leave it or stalls.
    """
    row = responses.row
    productive = responses.productive
    if positive:
        edge = float(np.max(responses.slope(row.lower)[productive]))
        edge = max(edge, 0.0) * (1 + 1e-9) + 1e-300
    else:
        edge = float(np.min(responses.slope(row.upper)[productive]))
        edge = min(edge, 0.0) * (1 + 1e-9) - 1e-300
    middle = responses.slope(np.clip(row.today, row.lower, row.upper))[productive]
    scale = float(np.median(np.abs(middle))) or abs(edge) or 1.0
    # The heavy end of the bracket places at least the target, the light end at most.
    t_heavy, t_light = (0.0, math.asinh(edge / scale))
    if not positive:
        t_heavy, t_light = math.asinh(edge / scale), 0.0
    x_heavy, _ = responses.at(scale * math.sinh(t_heavy))
    x_light, _ = responses.at(scale * math.sinh(t_light))
    tolerance = 1e-13 * max(1.0, abs(target))
    lam = scale * math.sinh(0.5 * (t_heavy + t_light))
    for _ in range(_MAX_LAMBDA_STEPS):
        x, rate = responses.at(lam)
        total = float(np.sum(x[productive]))
        t = math.asinh(lam / scale)
        if total >= target:
            t_heavy, x_heavy = t, x
        else:
            t_light, x_light = t, x
        if abs(total - target) <= tolerance:
            return _meet_total(x, row, productive, target), lam
        lam_heavy, lam_light = scale * math.sinh(t_heavy), scale * math.sinh(t_light)
        if abs(lam_light - lam_heavy) <= 4e-16 * max(abs(lam_light), abs(lam_heavy)):
            break
        slope = float(np.sum(rate[productive]))
        candidate = lam - (total - target) / slope if slope < 0 else math.nan
        low, high = min(lam_heavy, lam_light), max(lam_heavy, lam_light)
        if math.isfinite(candidate) and low < candidate < high:
            lam = candidate
        else:
            lam = scale * math.sinh(0.5 * (t_heavy + t_light))
    heavy_total = math.fsum(x_heavy[productive])
    light_total = math.fsum(x_light[productive])
    share = 0.0
    if heavy_total > light_total:
        share = min(max((target - light_total) / (heavy_total - light_total), 0.0), 1.0)
    x = x_light + share * (x_heavy - x_light)
    return x, scale * math.sinh(0.5 * (t_heavy + t_light))


def _meet_total(x: FloatArray, row: PoolRow, productive: np.ndarray, target: float) -> FloatArray:
    """Spread the last round-off of the total over the amounts with room to take it."""
    gap = target - math.fsum(x[productive])
    room = np.where(productive, (row.upper - x) if gap > 0 else (x - row.lower), 0.0)
    span = math.fsum(room)
    if gap == 0 or span <= 0:
        return x
    result: FloatArray = x + math.copysign(min(abs(gap) / span, 1.0), gap) * room
    return result


def weighted_curves(curves: CurveArrays, weight: FloatArray) -> CurveArrays:
    """Fold objective weights into the curves (power curves with b == 1 become linear)."""
    shape = curves.shape.copy()
    unit_power = (shape == ShapeCode.POWER) & (curves.b == 1.0)
    shape[unit_power] = ShapeCode.LINEAR
    return CurveArrays(shape, curves.a * weight, curves.b)
