"""Response curves: values, analytic derivatives, closed-form inverse derivatives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation import ResponseCurve, Shape
from alignment_engine.optimisation.response_curves import (
    CODE_BY_SHAPE,
    CurveArrays,
    curve_is_concave,
)


def test_shapes_follow_the_spec_formulas() -> None:
    x = np.array([0.0, 1.0, 2.5])
    assert np.allclose(ResponseCurve(Shape.LINEAR, 2.0).value(x), 2.0 * x)
    assert np.allclose(
        ResponseCurve(Shape.SATURATING, 3.0, 0.5).value(x), 3.0 * (1 - np.exp(-0.5 * x))
    )
    assert np.allclose(ResponseCurve(Shape.LOG, 3.0, 0.5).value(x), 3.0 * np.log(1 + 0.5 * x))
    assert np.allclose(ResponseCurve(Shape.POWER, 3.0, 0.5).value(x), 3.0 * x**0.5)


shapes = st.sampled_from(list(Shape))
positive = st.floats(0.05, 5.0)


@settings(max_examples=150, deadline=None)
@given(shape=shapes, a=st.floats(-5.0, 5.0), b=positive, x=st.floats(0.2, 20.0))
def test_derivatives_match_finite_differences(shape: Shape, a: float, b: float, x: float) -> None:
    curve = ResponseCurve(shape, a, b)
    h = 1e-5 * max(1.0, x)
    first = float(curve.derivative(x))
    second = float(curve.second_derivative(x))
    numeric_first = float(curve.value(x + h) - curve.value(x - h)) / (2 * h)
    numeric_second = float(curve.derivative(x + h) - curve.derivative(x - h)) / (2 * h)
    assert math.isclose(first, numeric_first, rel_tol=1e-6, abs_tol=1e-9)
    assert math.isclose(second, numeric_second, rel_tol=1e-5, abs_tol=1e-8)


@settings(max_examples=150, deadline=None)
@given(
    shape=st.sampled_from([Shape.SATURATING, Shape.LOG, Shape.POWER]),
    a=positive,
    b=st.floats(0.05, 0.95),
    x=st.floats(0.1, 10.0),
)
def test_inverse_derivative_round_trips(shape: Shape, a: float, b: float, x: float) -> None:
    curve = ResponseCurve(shape, a, b)
    slope = curve.derivative(np.array([x]))
    arrays = CurveArrays(
        np.array([CODE_BY_SHAPE[shape]], dtype=np.int8), np.array([a]), np.array([b])
    )
    assert math.isclose(float(arrays.inverse_derivative(slope)[0]), x, rel_tol=1e-9)


def test_mixed_shapes_evaluate_together() -> None:
    curves = [
        ResponseCurve(Shape.LINEAR, 1.5),
        ResponseCurve(Shape.SATURATING, 2.0, 0.3),
        ResponseCurve(Shape.LOG, 1.0, 2.0),
        ResponseCurve(Shape.POWER, 0.7, 0.4),
    ]
    arrays = CurveArrays(
        np.array([CODE_BY_SHAPE[c.shape] for c in curves], dtype=np.int8),
        np.array([c.a for c in curves]),
        np.array([c.b for c in curves]),
    )
    x = np.array([1.0, 2.0, 3.0, 4.0])
    value, first, second = arrays.evaluate(x)
    for i, curve in enumerate(curves):
        assert value[i] == pytest.approx(float(curve.value(x[i])))
        assert first[i] == pytest.approx(float(curve.derivative(x[i])))
        assert second[i] == pytest.approx(float(curve.second_derivative(x[i])))


def test_power_marginal_stays_finite_at_zero() -> None:
    assert math.isfinite(float(ResponseCurve(Shape.POWER, 1.0, 0.5).derivative(0.0)))


@pytest.mark.parametrize(
    ("shape", "a", "b", "concave"),
    [
        (Shape.LINEAR, -1.0, 1.0, True),
        (Shape.SATURATING, 1.0, 0.5, True),
        (Shape.SATURATING, -1.0, 0.5, False),
        (Shape.LOG, -1.0, 0.5, False),
        (Shape.POWER, 1.0, 0.5, True),
        (Shape.POWER, 1.0, 1.5, False),
        (Shape.POWER, -1.0, 1.5, True),
    ],
)
def test_concavity(shape: Shape, a: float, b: float, concave: bool) -> None:
    assert curve_is_concave(shape, a, b) is concave


@pytest.mark.parametrize("shape", [Shape.SATURATING, Shape.LOG, Shape.POWER])
def test_bad_parameters_are_refused(shape: Shape) -> None:
    with pytest.raises(OptimisationError, match="b > 0"):
        ResponseCurve(shape, 1.0, 0.0)
    with pytest.raises(OptimisationError, match="non-finite"):
        ResponseCurve(shape, math.nan, 1.0)
