import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.scoring.payout_curves import (
    BELOW,
    MISSING,
    CurvePoints,
    CurveSet,
    apply_cap,
    attainment,
    evaluate_curve,
    monotone_levels,
    monotone_values,
    segment_label,
)

SPEC_REVENUE = ([0.90, 1.00, 1.10, 1.20], [0.70, 1.00, 1.30, 2.00])  # SPEC's `revenue` curve


def test_linear_interpolation_between_points_and_flat_above():
    xs, ys = SPEC_REVENUE
    result = evaluate_curve([0.95, 1.05, 1.15, 1.20, 1.50, np.inf], xs, ys)
    np.testing.assert_allclose(result.factor, [0.85, 1.15, 1.65, 2.0, 2.0, 2.0])
    assert result.segment.tolist() == [0, 1, 2, 3, 3, 3]


def test_below_first_point_pays_below_threshold():
    xs, ys = SPEC_REVENUE
    result = evaluate_curve([0.0, 0.8999], xs, ys, below=0.25)
    np.testing.assert_allclose(result.factor, [0.25, 0.25])
    assert result.segment.tolist() == [BELOW, BELOW]


def test_step_interpolation_holds_the_factor_of_the_point_below():
    xs, ys = SPEC_REVENUE
    result = evaluate_curve([0.90, 0.99, 1.0, 1.19, 1.2], xs, ys, step=True)
    np.testing.assert_allclose(result.factor, [0.7, 0.7, 1.0, 1.3, 2.0])


def test_missing_results_are_nan_with_their_own_segment():
    result = evaluate_curve([np.nan], [1.0], [1.0])
    assert np.isnan(result.factor[0]) and result.segment[0] == MISSING


def test_single_point_curve_is_a_cliff():
    result = evaluate_curve([0.99, 1.0, 7.0], [1.0], [1.5])
    np.testing.assert_allclose(result.factor, [0.0, 1.5, 1.5])


def test_many_curves_evaluate_together():
    curves = CurveSet.from_points(
        [
            CurvePoints((0.22, 0.25, 0.28), (0.5, 1.0, 2.0)),
            CurvePoints((0.9, 1.0), (0.5, 1.0), step=True, below=0.1),
            CurvePoints((-0.03, -0.02, -0.01), (0.5, 1.0, 2.0)),  # lower is better, negated
        ]
    )
    result = curves.evaluate([0.265, 0.95, -0.015])
    np.testing.assert_allclose(result.factor, [1.5, 0.5, 1.5])
    # One curve at many inputs, through `which`:
    many = curves.evaluate([0.1, 0.25, 0.5], which=[0, 0, 0])
    np.testing.assert_allclose(many.factor, [0.0, 1.0, 2.0])


def test_lower_is_better_levels_run_downwards():
    # defect rate: threshold 3%, target 2%, maximum 1%
    levels = monotone_levels([0.03, 0.02, 0.01], lower_is_better=True)
    assert levels == (-0.03, -0.02, -0.01)
    actual = monotone_values([0.035, 0.025, 0.02, 0.005], [True] * 4)
    result = evaluate_curve(actual, levels, [0.5, 1.0, 2.0])
    np.testing.assert_allclose(result.factor, [0.0, 0.75, 1.0, 2.0])


def test_attainment_inverts_when_lower_is_better():
    got = attainment([110, 0.015, 0.0, 5.0], [100, 0.02, 0.02, 0.0], [False, True, True, False])
    np.testing.assert_allclose(got[:2], [1.1, 0.02 / 0.015])
    assert got[2] == np.inf  # zero defects against a positive target: top of any curve
    assert got[3] == np.inf


def test_cap_keeps_missing_values_missing():
    np.testing.assert_allclose(apply_cap(np.array([0.5, 3.0, np.nan]), 2.0), [0.5, 2.0, np.nan])
    np.testing.assert_array_equal(apply_cap(np.array([3.0]), None), [3.0])


def test_points_must_not_decrease():
    with pytest.raises(ValueError, match="must not decrease"):
        CurvePoints((1.0, 0.9), (1.0, 2.0))


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        (BELOW, "short of threshold"),
        (0, "between threshold and target"),
        (1, "between target and maximum"),
        (2, "at or beyond maximum"),
        (MISSING, "no result"),
    ],
)
def test_segment_labels(segment, words):
    assert segment_label(segment, ("threshold", "target", "maximum")) == words


# Properties ------------------------------------------------------------------------------------


@st.composite
def curves(draw):
    count = draw(st.integers(1, 6))
    # Points at least 0.001 apart: a vertical segment is a (deliberate) jump, not a slope.
    steps = draw(st.lists(st.integers(0, 3000), min_size=count, max_size=count, unique=True))
    xs = [s / 1000 for s in sorted(steps)]
    ys = sorted(draw(st.lists(st.floats(0, 5), min_size=count, max_size=count)))
    below = draw(st.floats(0, ys[0]))
    return xs, ys, below


inputs = st.lists(st.floats(-1, 5), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(curve=curves(), x=inputs, step=st.booleans())
def test_curves_never_pay_less_for_a_better_result(curve, x, step):
    xs, ys, below = curve
    ordered = np.sort(np.array(x))
    factor = evaluate_curve(ordered, xs, ys, step=step, below=below).factor
    assert np.all(np.diff(factor) >= -1e-12)


@settings(max_examples=150, deadline=None)
@given(curve=curves(), x=inputs, cap=st.floats(0, 3))
def test_capped_curves_never_exceed_the_cap(curve, x, cap):
    xs, ys, below = curve
    factor = apply_cap(evaluate_curve(x, xs, ys, below=below).factor, cap)
    assert np.all(factor <= cap)
    assert np.all(factor <= max(ys[-1], below) + 1e-12)


@settings(max_examples=150, deadline=None)
@given(curve=curves(), x=st.floats(0, 3), gap=st.floats(1e-9, 1e-6))
def test_linear_curves_are_continuous_from_the_first_point_on(curve, x, gap):
    xs, ys, _ = curve
    if x < xs[0]:
        x = xs[0]
    slopes = [
        (b_y - a_y) / (b_x - a_x)
        for a_x, b_x, a_y, b_y in zip(xs, xs[1:], ys, ys[1:], strict=False)
    ]
    steepest = max(slopes, default=0.0)
    left, right = evaluate_curve([x, x + gap], xs, ys).factor
    assert abs(right - left) <= steepest * gap + 1e-9
