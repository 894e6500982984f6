"""Fitting response curves from history: recovery, refusal, shape choice, intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation import ResponseCurve, Shape
from alignment_engine.optimisation.fitting import fit_response_curve

TRUTH = {
    Shape.SATURATING: (0.3, 8e-8),  # market share vs a budget in CNY: the case that broke
    Shape.LOG: (0.1, 3e-7),
    Shape.POWER: (0.002, 0.25),
    Shape.LINEAR: (2e-8, 1.0),
}
TODAY = 1.2e7


def history(
    shape: Shape, seed: int, noise: float, periods: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = TRUTH[shape]
    x = TODAY * rng.uniform(0.4, 1.8, periods)
    y = ResponseCurve(shape, a, b).value(x) * (1 + noise * rng.standard_normal(periods))
    return x, y


@pytest.mark.parametrize("shape", list(Shape))
def test_recovers_parameters_in_natural_units(shape: Shape) -> None:
    x, y = history(shape, seed=3, noise=0.005)
    fit = fit_response_curve(x, y, shape, today=TODAY, level=0.99)
    a, b = TRUTH[shape]
    assert fit.shape is shape
    assert fit.a == pytest.approx(a, rel=0.1)
    if shape is not Shape.LINEAR:
        assert fit.b == pytest.approx(b, rel=0.1)
    assert fit.r_squared > 0.95
    true_marginal = float(ResponseCurve(shape, a, b).derivative(TODAY))
    assert fit.marginal_today is not None
    assert fit.marginal_today.low <= true_marginal <= fit.marginal_today.high
    assert fit.marginal_today.sign_is_clear
    se_a, se_b = fit.standard_errors
    assert se_a > 0 and (se_b > 0 or shape is Shape.LINEAR)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([Shape.SATURATING, Shape.LOG, Shape.POWER]),
    seed=st.integers(0, 10_000),
    periods=st.integers(8, 12),
)
def test_noisy_quarters_never_crash_the_fit(shape: Shape, seed: int, periods: int) -> None:
    """8-12 quarters with 10% noise: either a usable fit or a clear refusal, never a crash."""
    x, y = history(shape, seed=seed, noise=0.1, periods=periods)
    try:
        fit = fit_response_curve(x, y, shape, today=TODAY)
    except OptimisationError as exc:
        assert str(exc).startswith("no response curve fits the history")
        return
    assert np.isfinite(np.array(fit.covariance)).all()
    assert fit.marginal_today is not None
    assert fit.marginal_today.low <= fit.marginal_today.high


def test_picks_the_better_shape_by_aicc() -> None:
    x, y = history(Shape.SATURATING, seed=5, noise=0.002)
    fit = fit_response_curve(x, y)
    accepted = [attempt for attempt in fit.attempts if attempt.refused is None]
    assert fit.shape is Shape.SATURATING
    assert fit.aicc == min(attempt.aicc for attempt in accepted if attempt.aicc is not None)
    assert {attempt.shape for attempt in fit.attempts} == set(Shape)


def test_interval_widens_with_noise() -> None:
    tight = fit_response_curve(*history(Shape.LOG, 1, 0.01), Shape.LOG, today=TODAY)
    loose = fit_response_curve(*history(Shape.LOG, 1, 0.08), Shape.LOG, today=TODAY)
    assert tight.marginal_today is not None and loose.marginal_today is not None
    width = tight.marginal_today.high - tight.marginal_today.low
    assert loose.marginal_today.high - loose.marginal_today.low > width


def test_predicted_change_has_an_interval() -> None:
    fit = fit_response_curve(*history(Shape.SATURATING, 2, 0.03), Shape.SATURATING)
    change = fit.predicted_change(TODAY, 1.2 * TODAY)
    assert change.low < change.estimate < change.high
    assert change.estimate > 0


def test_fitted_curve_carries_its_covariance() -> None:
    fit = fit_response_curve(*history(Shape.LOG, 4, 0.03), Shape.LOG)
    curve = fit.curve()
    assert curve.covariance == fit.covariance
    assert -1.0 <= fit.correlation <= 1.0


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1.0, 2.0], [1.0, 2.0], "need at least 3 periods of history"),
        ([5.0, 5.0, 5.0, 5.0, 5.0], [1.0, 1.1, 0.9, 1.0, 1.2], "never changed"),
        ([1.0, 2.0, 3.0, 4.0, 5.0], [0.3, 0.3, 0.3, 0.3, 0.3], "KPI never moved"),
        ([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 4.0], "missing or infinite"),
        ([1.0, -2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], "negative resource amounts"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "one KPI value per resource amount"),
    ],
)
def test_degenerate_history_is_refused(x: list[float], y: list[float], message: str) -> None:
    with pytest.raises(OptimisationError, match=message):
        fit_response_curve(x, y)


def test_too_few_points_for_a_two_parameter_shape() -> None:
    with pytest.raises(OptimisationError, match="needs at least 4 periods, got 3"):
        fit_response_curve([1.0, 2.0, 3.0], [1.0, 1.5, 1.8], Shape.SATURATING)


def test_noise_without_signal_is_refused() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 2.0, 12)
    y = 1.0 + 0.1 * rng.standard_normal(12)
    with pytest.raises(OptimisationError, match="no response curve fits the history") as info:
        fit_response_curve(x, y)
    for shape in Shape:
        assert f"{shape}:" in str(info.value)
