from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.scoring.money import format_units, to_units, units_to_decimal, units_to_float
from alignment_engine.scoring.pool import fit_to_pool, largest_remainder

DECIMAL_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


@pytest.mark.parametrize(
    ("amount", "half_up", "half_even", "down"),
    [
        (2.675, 268, 268, 267),  # the float is 2.67499999999999982..., the amount is 2.675
        (0.125, 13, 12, 12),
        (1.005, 101, 100, 100),  # the float is 1.00499999999999989...
        (0.29, 29, 29, 29),  # 0.29 * 100 is 28.999999999999996
        (2.665, 267, 266, 266),
        (-2.675, -268, -268, -267),
        (1234567.895, 123456790, 123456790, 123456789),
    ],
)
def test_rounding_modes_match_decimal_for_amounts_exact_in_decimal(
    amount, half_up, half_even, down
):
    assert to_units([amount], 2, "half_up")[0] == half_up
    assert to_units([amount], 2, "half_even")[0] == half_even
    assert to_units([amount], 2, "down")[0] == down


def test_zero_and_three_decimals():
    assert to_units([0.5, 1.5, 2.5], 0, "half_even").tolist() == [0, 2, 2]
    assert to_units([0.5, 1.5, 2.5], 0, "half_up").tolist() == [1, 2, 3]
    assert to_units([1.0005], 3, "half_up").tolist() == [1001]


def test_halves_past_a_billion_units_are_still_halves():
    # 2,124,161.8255 is 2124161825.4999998 thousandths as a double: still a half to pay on.
    assert to_units([2124161.8255], 3, "half_up").tolist() == [2124161826]
    assert to_units([-2124161.8255], 3, "half_up").tolist() == [-2124161826]
    assert to_units([12345678901.125], 2, "half_even").tolist() == [1234567890112]
    assert to_units([12345678.125], 2, "down").tolist() == [1234567812]


def test_whole_units_past_two_to_the_52_stay_as_they_are():
    # 4503599627370497 + 0.5 is not a double: half-up must not round it to ...498.
    for mode in ("half_up", "half_even", "down"):
        assert to_units([4503599627370497.0], 0, mode).tolist() == [4503599627370497]
        assert to_units([-4503599627370497.0], 0, mode).tolist() == [-4503599627370497]


def test_unknown_mode_and_non_finite_amounts_are_refused():
    with pytest.raises(ValueError, match="rounding mode"):
        to_units([1.0], 2, "ceiling")
    with pytest.raises(ValueError, match="finite"):
        to_units([np.nan], 2, "half_up")


def test_units_print_exactly():
    assert format_units(26750, 2) == "267.50"
    assert format_units(-5, 2) == "-0.05"
    assert format_units(7, 0) == "7"
    assert format_units(-123456789, 2, grouped=True) == "-1,234,567.89"
    assert format_units(1234567, 0, grouped=True) == "1,234,567"
    assert units_to_decimal(26750, 2) == Decimal("267.50")
    assert repr(float(units_to_float(12345, 2))) == "123.45"


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**7), max_value=10**7, places=4, allow_nan=False),
    decimals=st.integers(0, 3),
    mode=st.sampled_from(sorted(DECIMAL_MODES)),
)
def test_rounding_agrees_with_decimal_and_is_idempotent(amount, decimals, mode):
    units = int(to_units([float(amount)], decimals, mode)[0])
    expected = amount.quantize(Decimal(1).scaleb(-decimals), rounding=DECIMAL_MODES[mode])
    assert units_to_decimal(units, decimals) == expected
    again = int(to_units([float(units_to_float(units, decimals))], decimals, mode)[0])
    assert again == units


# The pool -----------------------------------------------------------------------------------


def test_largest_remainder_hits_the_total_and_breaks_ties_by_rank():
    shares = np.array([1.5, 1.5, 1.5, 1.5])  # 6 units to place; remainders all tie
    units = largest_remainder(shares, 6, np.array([3, 0, 2, 1]))
    assert units.tolist() == [1, 2, 1, 2]  # ranks 0 and 1 get the extra units


def test_scale_down_leaves_payouts_alone_under_the_pool():
    amounts = np.array([100.0, 200.0])
    fit = fit_to_pool(
        amounts,
        to_units(amounts, 2, "half_up"),
        decimals=2,
        pool_units=40000,
        mode="scale_down",
        tie_order=np.array([0, 1]),
    )
    assert fit.units.tolist() == [10000, 20000] and fit.scale == 1.0 and not fit.scaled


def test_scale_down_scales_over_the_pool_to_the_cent():
    amounts = np.array([100.0, 100.0, 100.0])
    fit = fit_to_pool(
        amounts,
        to_units(amounts, 2, "half_up"),
        decimals=2,
        pool_units=10000,
        mode="scale_down",
        tie_order=np.array([2, 0, 1]),
    )
    assert fit.units.sum() == 10000
    assert fit.units.tolist() == [3333, 3334, 3333]  # the spare cent goes to rank 0
    assert fit.scaled and fit.scale == pytest.approx(1 / 3)


def test_scale_mode_scales_up_too_and_none_ignores_the_pool():
    amounts = np.array([10.0, 30.0])
    rounded = to_units(amounts, 2, "half_up")
    up = fit_to_pool(
        amounts, rounded, decimals=2, pool_units=8000, mode="scale", tie_order=np.array([0, 1])
    )
    assert up.units.tolist() == [2000, 6000] and up.scale == pytest.approx(2.0)
    ignored = fit_to_pool(
        amounts, rounded, decimals=2, pool_units=1, mode="none", tie_order=np.array([0, 1])
    )
    assert ignored.units.tolist() == [1000, 3000]


def test_nothing_earned_leaves_the_pool_undistributed():
    amounts = np.zeros(3)
    fit = fit_to_pool(
        amounts,
        to_units(amounts, 2, "half_up"),
        decimals=2,
        pool_units=500,
        mode="scale",
        tie_order=np.arange(3),
    )
    assert fit.units.tolist() == [0, 0, 0] and not fit.scaled


def test_tie_rank_is_only_computed_when_scaling_needs_it():
    calls = []

    def rank():
        calls.append(1)
        return np.arange(2)

    amounts = np.array([1.0, 2.0])
    fit_to_pool(
        amounts,
        to_units(amounts, 2, "down"),
        decimals=2,
        pool_units=None,
        mode="scale",
        tie_order=rank,
    )
    assert calls == []
    fit_to_pool(
        amounts,
        to_units(amounts, 2, "down"),
        decimals=2,
        pool_units=100,
        mode="scale",
        tie_order=rank,
    )
    assert calls == [1]


@settings(max_examples=200, deadline=None)
@given(
    amounts=st.lists(st.floats(0, 1e6), min_size=1, max_size=60),
    pool=st.integers(0, 10**10),
    mode=st.sampled_from(["scale", "scale_down"]),
    decimals=st.integers(0, 3),
)
def test_pool_totals_equal_the_pool_to_the_cent(amounts, pool, mode, decimals):
    values = np.array(amounts)
    rounded = to_units(values, decimals, "half_up")
    rank = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
    fit = fit_to_pool(
        values, rounded, decimals=decimals, pool_units=pool, mode=mode, tie_order=rank
    )
    total = int(fit.units.sum())
    if fit.scaled:
        assert total == pool
        exact = values / values.sum() * pool
        assert np.all(np.abs(fit.units - exact) < 1 + 1e-6)  # nobody is a unit off their share
    elif mode == "scale_down":
        assert total <= pool
    else:
        assert values.sum() == 0
    assert np.all(fit.units >= 0)


@settings(max_examples=100, deadline=None)
@given(amounts=st.lists(st.floats(0, 1e4), min_size=2, max_size=30), pool=st.integers(1, 10**7))
def test_pool_allocation_is_deterministic_and_order_independent(amounts, pool):
    values = np.array(amounts)
    rank = np.arange(len(values))
    first = fit_to_pool(
        values,
        to_units(values, 2, "down"),
        decimals=2,
        pool_units=pool,
        mode="scale",
        tie_order=rank,
    )
    order = np.random.default_rng(0).permutation(len(values))
    second = fit_to_pool(
        values[order],
        to_units(values[order], 2, "down"),
        decimals=2,
        pool_units=pool,
        mode="scale",
        tie_order=rank[order],
    )
    np.testing.assert_array_equal(first.units[order], second.units)


def test_amounts_too_large_for_exact_units_are_refused():
    with pytest.raises(ValueError, match="cannot be paid exactly"):
        to_units([1e14], 2, "half_up")


def test_ties_between_equal_remainders_go_by_employee_id_as_text():
    ids = np.array(["e9", "e10", "e2", "e1"], dtype=object)
    units = largest_remainder(np.full(4, 2.5), 11, ids)
    # "e1" < "e10" < "e2" < "e9": the spare unit goes to the first id in text order
    assert dict(zip(ids.tolist(), units.tolist(), strict=True)) == {
        "e9": 2,
        "e10": 3,
        "e2": 3,
        "e1": 3,
    }


def test_a_few_large_remainders_win_before_the_ties():
    shares = np.array([1.9, 1.5, 1.5, 1.2, 0.9])  # 7 units, floors sum to 4: three to place
    units = largest_remainder(shares, 7, np.array(["a", "b", "c", "d", "e"], dtype=object))
    assert units.tolist() == [2, 2, 1, 1, 1]  # 0.9s first (a, e), then the tie b < c


@given(
    units=st.lists(st.integers(min_value=-(10**15), max_value=10**15), max_size=20),
    decimals=st.integers(min_value=0, max_value=6),
)
def test_a_column_of_amounts_reads_as_each_amount_does(units: list[int], decimals: int) -> None:
    from alignment_engine.scoring.money import format_units_column

    assert format_units_column(units, decimals) == [format_units(u, decimals) for u in units]
