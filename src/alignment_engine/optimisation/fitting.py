"""Fitting response curves from a few periods of history (docs/cli.md, ``fit``).

What was measured (notes/optimisation.md): naive ``curve_fit`` in natural units fails every time
for the saturating curve (exp underflow, infinite covariance, no exception); rescaling x and y by
their means, bounds, a data-derived starting point and the ``trf`` method never failed. Even then
the marginal return at today's level is uncertain by 11-46% and a and b correlate at 0.95-1.00,
so a fit reports the marginal return with an interval, not just parameter standard errors.

Every fit refuses, with OptimisationError and a plain reason, when the data cannot support it:
too few periods, an amount that never changed, a KPI that never moved, a best fit at the edge of
the allowed parameter range, an undefined covariance, or a poor R-squared.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation.response_curves import (
    CODE_BY_SHAPE,
    CurveArrays,
    FloatArray,
    ResponseCurve,
    Shape,
)

DEFAULT_SHAPES: tuple[Shape, ...] = (Shape.SATURATING, Shape.LOG, Shape.POWER, Shape.LINEAR)
DEFAULT_MIN_R_SQUARED = 0.3

# Bounds on b in rescaled units (x divided by its mean). Beyond them a saturating or log curve is
# indistinguishable from a straight line (small b) or a step (large b) over the data.
_B_BOUNDS: dict[Shape, tuple[float, float]] = {
    Shape.SATURATING: (1e-3, 1e3),
    Shape.LOG: (1e-3, 1e3),
    Shape.POWER: (1e-3, 1.0),
}
_EDGE = 1e-4  # relative distance from a bound that counts as "at the bound"


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    level: float  # e.g. 0.9 for a 90% interval

    @property
    def sign_is_clear(self) -> bool:
        """Whether the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class FitAttempt:
    """One shape that was tried: its AICc when accepted, else why it was refused."""

    shape: Shape
    aicc: float | None
    r_squared: float | None
    refused: str | None


@dataclass(frozen=True)
class CurveFit:
    shape: Shape
    a: float
    b: float  # 1.0 and meaningless for linear curves
    covariance: tuple[tuple[float, float], tuple[float, float]]  # of (a, b), natural units
    r_squared: float
    aicc: float
    n_points: int
    marginal_today: Interval | None  # marginal return at today's amount, if one was given
    attempts: tuple[FitAttempt, ...]  # every shape tried, the chosen one included
    c: float = math.nan  # the intercept (the KPI at amount 0) when fitted with one

    @property
    def standard_errors(self) -> tuple[float, float]:
        return (math.sqrt(self.covariance[0][0]), math.sqrt(self.covariance[1][1]))

    @property
    def correlation(self) -> float:
        se_a, se_b = self.standard_errors
        if se_a == 0 or se_b == 0:
            return 0.0
        return self.covariance[0][1] / (se_a * se_b)

    def curve(self) -> ResponseCurve:
        """The fitted curve, carrying its covariance for the direction-stability check."""
        return ResponseCurve(self.shape, self.a, self.b, self.covariance)

    def marginal_return(
        self, x: float, *, level: float = 0.9, draws: int = 4000, seed: int = 0
    ) -> Interval:
        """d KPI / d amount at ``x``, with an interval from parameter draws."""
        estimate = float(self.curve().derivative(x))
        slopes = self._draw(lambda c: c.evaluate(np.full(c.a.size, x))[1], draws, seed)
        return _interval(estimate, slopes, level)

    def predicted_change(
        self, start: float, end: float, *, level: float = 0.9, draws: int = 4000, seed: int = 0
    ) -> Interval:
        """KPI change when the amount moves from ``start`` to ``end``, with an interval."""
        curve = self.curve()
        estimate = float(curve.value(end) - curve.value(start))
        changes = self._draw(
            lambda c: (
                c.evaluate(np.full(c.a.size, end))[0] - c.evaluate(np.full(c.a.size, start))[0]
            ),
            draws,
            seed,
        )
        return _interval(estimate, changes, level)

    def _draw(
        self, statistic: Callable[[CurveArrays], FloatArray], draws: int, seed: int
    ) -> FloatArray:
        rng = np.random.default_rng(seed)
        covariance = np.array(self.covariance)
        if self.shape is Shape.LINEAR:
            a = self.a + math.sqrt(max(covariance[0, 0], 0.0)) * rng.standard_normal(draws)
            b = np.ones(draws)
        else:
            sample = rng.multivariate_normal(
                [self.a, self.b], covariance, size=draws, method="eigh", check_valid="ignore"
            )
            valid = sample[:, 1] > 0  # a draw with b <= 0 is not a curve of this shape
            a, b = sample[valid, 0], sample[valid, 1]
        curves = CurveArrays(np.full(a.size, CODE_BY_SHAPE[self.shape], dtype=np.int8), a, b)
        return statistic(curves)


def _interval(estimate: float, values: FloatArray, level: float) -> Interval:
    if values.size == 0:
        return Interval(estimate, -math.inf, math.inf, level)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return Interval(estimate, float(low), float(high), level)


# Model functions in rescaled units (x and y divided by their means) ----------------------------


def _floats(values: ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _basis(shape: Shape, x: FloatArray, b: float) -> FloatArray:
    """The curve with a = 1 (every shape is linear in a)."""
    if shape is Shape.LINEAR:
        return x
    if shape is Shape.SATURATING:
        return _floats(-np.expm1(-b * x))
    if shape is Shape.LOG:
        return _floats(np.log1p(b * x))
    return _floats(np.power(x, b))


def _basis_db(shape: Shape, x: FloatArray, b: float) -> FloatArray:
    if shape is Shape.SATURATING:
        return _floats(x * np.exp(-b * x))
    if shape is Shape.LOG:
        return _floats(x / (1.0 + b * x))
    positive = np.where(x > 0, x, 1.0)
    return _floats(np.where(x > 0, np.power(x, b) * np.log(positive), 0.0))


def _starting_point(shape: Shape, x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Best a for each b on a grid (a is linear given b), keeping the b with least error."""
    low, high = _B_BOUNDS[shape]
    grid = np.geomspace(low, high, 61) if shape is not Shape.POWER else np.linspace(0.05, 1.0, 39)
    best = (math.inf, 1.0, 1.0)
    for b in grid:
        g = _basis(shape, x, float(b))
        gg = float(g @ g)
        if gg <= 0:
            continue
        a = float(g @ y) / gg
        error = float(np.sum((y - a * g) ** 2))
        if error < best[0]:
            best = (error, a, float(b))
    return best[1], best[2]


@dataclass(frozen=True)
class _ScaledFit:
    a: float
    b: float
    covariance: FloatArray  # 2x2 in rescaled units
    sse: float
    c: float = math.nan  # the intercept, in rescaled units, when fitted with one


def _fit_with_intercept(shape: Shape, x: FloatArray, y: FloatArray) -> _ScaledFit:
    """y = c + a * g(x; b): least squares with the KPI's level as a third parameter."""
    n = x.size
    if shape is Shape.LINEAR:
        design = np.column_stack([x, np.ones(n)])
        (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((y - design @ np.array([a, c])) ** 2))
        inverse = np.linalg.pinv(design.T @ design)
        variance = sse / max(n - 2, 1) * float(inverse[0, 0])
        if not variance > 0:
            raise _Refused("the slope's variance cannot be estimated")
        return _ScaledFit(float(a), 1.0, np.array([[variance, 0.0], [0.0, 0.0]]), sse, float(c))
    from scipy.optimize import OptimizeWarning, curve_fit

    low, high = _B_BOUNDS[shape]
    grid = np.geomspace(low, high, 61) if shape is not Shape.POWER else np.linspace(0.05, 1.0, 39)
    best = (math.inf, 1.0, 1.0, 0.0)
    for b in grid:
        design = np.column_stack([_basis(shape, x, float(b)), np.ones(n)])
        (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
        error = float(np.sum((y - design @ np.array([a, c])) ** 2))
        if error < best[0]:
            best = (error, float(a), float(b), float(c))

    def model(xv: FloatArray, a: float, b: float, c: float) -> FloatArray:
        return c + a * _basis(shape, xv, b)

    def jacobian(xv: FloatArray, a: float, b: float, c: float) -> FloatArray:
        return np.column_stack(
            [_basis(shape, xv, b), a * _basis_db(shape, xv, b), np.ones(xv.size)]
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            params, covariance = curve_fit(
                model,
                x,
                y,
                p0=[best[1], min(max(best[2], low * 1.01), high * 0.99), best[3]],
                jac=jacobian,
                bounds=([-np.inf, low, -np.inf], [np.inf, high, np.inf]),
                method="trf",
                maxfev=4000,
            )
        except (RuntimeError, ValueError, OptimizeWarning) as exc:
            raise _Refused(f"the least-squares fit did not converge ({exc})") from None
    a, b, c = (float(v) for v in params)
    if b <= low * (1 + _EDGE) or b >= high * (1 - _EDGE):
        which = "smallest" if b <= low * (1 + _EDGE) else "largest"
        raise _Refused(
            f"the best fit runs to the {which} allowed b, so the history does not show this "
            "shape's curvature"
        )
    covariance = np.asarray(covariance, dtype=np.float64)[:2, :2]
    if not np.isfinite(covariance).all() or covariance[0, 0] <= 0 or covariance[1, 1] <= 0:
        raise _Refused("the parameters' covariance cannot be estimated (they are not identified)")
    sse = float(np.sum((y - model(x, a, b, c)) ** 2))
    return _ScaledFit(a, b, covariance, sse, c)


def _fit_scaled(shape: Shape, x: FloatArray, y: FloatArray, intercept: bool = False) -> _ScaledFit:
    """Least squares in rescaled units; raises _Refused with the reason it cannot be trusted."""
    if intercept:
        return _fit_with_intercept(shape, x, y)
    n = x.size
    if shape is Shape.LINEAR:
        xx = float(x @ x)
        a = float(x @ y) / xx
        sse = float(np.sum((y - a * x) ** 2))
        variance = sse / (n - 1) / xx
        return _ScaledFit(a, 1.0, np.array([[variance, 0.0], [0.0, 0.0]]), sse)

    # Imported here: scipy.optimize takes a third of a second to load, and only fitting uses it.
    from scipy.optimize import OptimizeWarning, curve_fit

    a0, b0 = _starting_point(shape, x, y)
    low, high = _B_BOUNDS[shape]

    def model(xv: FloatArray, a: float, b: float) -> FloatArray:
        return a * _basis(shape, xv, b)

    def jacobian(xv: FloatArray, a: float, b: float) -> FloatArray:
        return np.column_stack([_basis(shape, xv, b), a * _basis_db(shape, xv, b)])

    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            params, covariance = curve_fit(
                model,
                x,
                y,
                p0=[a0, min(max(b0, low * 1.01), high * 0.99)],
                jac=jacobian,
                bounds=([-np.inf, low], [np.inf, high]),
                method="trf",
                maxfev=2000,
            )
        except (RuntimeError, ValueError, OptimizeWarning) as exc:
            raise _Refused(f"the least-squares fit did not converge ({exc})") from None
    a, b = float(params[0]), float(params[1])
    if b <= low * (1 + _EDGE) or b >= high * (1 - _EDGE):
        which = "smallest" if b <= low * (1 + _EDGE) else "largest"
        raise _Refused(
            f"the best fit runs to the {which} allowed b, so the history does not show this "
            "shape's curvature"
        )
    covariance = np.asarray(covariance, dtype=np.float64)
    if not np.isfinite(covariance).all() or covariance[0, 0] <= 0 or covariance[1, 1] <= 0:
        raise _Refused("the parameters' covariance cannot be estimated (they are not identified)")
    sse = float(np.sum((y - model(x, a, b)) ** 2))
    return _ScaledFit(a, b, covariance, sse)


class _Refused(Exception):
    """A shape the data cannot support; the message says why."""


def _to_natural(
    shape: Shape, fit: _ScaledFit, x_mean: float, y_mean: float
) -> tuple[float, float, FloatArray]:
    if shape is Shape.LINEAR:
        factor = y_mean / x_mean
        return fit.a * factor, 1.0, fit.covariance * np.array([[factor**2, 0.0], [0.0, 0.0]])
    if shape is Shape.POWER:
        a = fit.a * y_mean / x_mean**fit.b
        jacobian = np.array([[y_mean / x_mean**fit.b, -a * math.log(x_mean)], [0.0, 1.0]])
    else:
        a = fit.a * y_mean
        jacobian = np.array([[y_mean, 0.0], [0.0, 1.0 / x_mean]])
    b = fit.b if shape is Shape.POWER else fit.b / x_mean
    covariance: FloatArray = jacobian @ fit.covariance @ jacobian.T
    return a, b, covariance


def _parameter_count(shape: Shape, intercept: bool = False) -> int:
    return (1 if shape is Shape.LINEAR else 2) + int(intercept)


def _check_history(x: FloatArray, y: FloatArray) -> None:
    if x.ndim != 1 or y.ndim != 1 or x.size != y.size:
        raise OptimisationError(
            f"history needs one KPI value per resource amount, got {x.size} amounts and "
            f"{y.size} values"
        )
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise OptimisationError("history holds missing or infinite values")
    if (x < 0).any():
        raise OptimisationError("history holds negative resource amounts")
    if x.size < 3:
        raise OptimisationError(
            f"need at least 3 periods of history to fit a response curve, got {x.size}"
        )
    if np.ptp(x) <= 1e-9 * max(float(np.max(np.abs(x))), 1e-300):
        raise OptimisationError(
            f"the resource amount never changed in the history (always {x[0]:g}), so its "
            "effect on the KPI cannot be estimated"
        )
    if np.ptp(y) <= 1e-12 * max(float(np.max(np.abs(y))), 1e-300):
        raise OptimisationError(
            f"the KPI never moved in the history (always {y[0]:g}), so no response to the "
            "resource can be estimated"
        )


def fit_response_curve(
    x: ArrayLike,
    y: ArrayLike,
    shapes: Shape | Sequence[Shape] = DEFAULT_SHAPES,
    *,
    today: float | None = None,
    min_r_squared: float = DEFAULT_MIN_R_SQUARED,
    level: float = 0.9,
    draws: int = 4000,
    seed: int = 0,
    intercept: bool = False,
) -> CurveFit:
    """Fit y = curve(x) (``intercept``: y = c + curve(x)) for each shape and keep the one with
    the least AICc. A negative ``a`` is a curve that falls with the amount.

    ``x``: the resource amounts of past periods; ``y``: the KPI's values in the same periods.
    ``today``: the current amount, at which the marginal return and its interval are reported.
    Raises OptimisationError when no shape gives a trustworthy fit, listing every reason.
    """
    amounts = np.asarray(x, dtype=np.float64)
    values = np.asarray(y, dtype=np.float64)
    _check_history(amounts, values)
    candidates = (shapes,) if isinstance(shapes, Shape) else tuple(shapes)
    if not candidates:
        raise OptimisationError("no curve shape to fit")
    n = amounts.size
    x_mean = float(np.mean(amounts))
    y_mean = float(np.mean(np.abs(values)))
    xs, ys = amounts / x_mean, values / y_mean
    total = float(np.sum((ys - ys.mean()) ** 2))

    attempts: list[FitAttempt] = []
    accepted: list[tuple[float, Shape, _ScaledFit, float]] = []
    for shape in candidates:
        k = _parameter_count(shape, intercept)
        if n < k + 2:
            attempts.append(
                FitAttempt(shape, None, None, f"needs at least {k + 2} periods, got {n}")
            )
            continue
        try:
            fit = _fit_scaled(shape, xs, ys, intercept)
        except _Refused as exc:
            attempts.append(FitAttempt(shape, None, None, str(exc)))
            continue
        r_squared = 1.0 - fit.sse / total
        sse = max(fit.sse, 1e-300 * max(total, 1e-300))
        aicc = n * math.log(sse / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
        if r_squared < min_r_squared:
            attempts.append(
                FitAttempt(
                    shape,
                    aicc,
                    r_squared,
                    f"fits the history poorly (R-squared {r_squared:.2f} < {min_r_squared:.2f})",
                )
            )
            continue
        attempts.append(FitAttempt(shape, aicc, r_squared, None))
        accepted.append((aicc, shape, fit, r_squared))
    if not accepted:
        reasons = "; ".join(f"{a.shape}: {a.refused}" for a in attempts)
        raise OptimisationError(f"no response curve fits the history ({reasons})")
    aicc, shape, fit, r_squared = min(accepted, key=lambda item: item[0])
    a, b, covariance = _to_natural(shape, fit, x_mean, y_mean)
    result = CurveFit(
        shape=shape,
        a=a,
        b=b,
        covariance=(
            (float(covariance[0, 0]), float(covariance[0, 1])),
            (float(covariance[1, 0]), float(covariance[1, 1])),
        ),
        r_squared=r_squared,
        aicc=aicc,
        n_points=n,
        marginal_today=None,
        attempts=tuple(attempts),
        c=fit.c * y_mean if intercept else math.nan,
    )
    if today is None:
        return result
    marginal = result.marginal_return(today, level=level, draws=draws, seed=seed)
    return CurveFit(**{**result.__dict__, "marginal_today": marginal})
