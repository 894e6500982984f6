"""Paying employees in their own currency: the rate of the scored period, rounded in the pay
currency by the policy's rule; the policy's own currency untouched to the cent; every bad rate
row named; a currency without a rate refused with the row to add."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alignment_engine.errors import InputError
from alignment_engine.model.policy import PAYABLE_UNITS
from alignment_engine.scoring.fx import convert, rates_for
from alignment_engine.scoring.periods import parse_period


def _fx(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["period", "currency", "rate"])
    frame.attrs["source"] = "fx.csv"
    frame.attrs["row_offset"] = 2
    return frame


@given(
    units=st.lists(st.integers(0, 10**11), min_size=1, max_size=20),
    rate=st.decimals(min_value="0.0001", max_value="500", places=4),
)
def test_a_conversion_is_the_exact_amount_rounded_half_up(units: list[int], rate: Decimal) -> None:
    codes = np.array(["USD"] * len(units), dtype=object)
    paid = convert(
        np.array(units, dtype=np.int64), codes, {"USD": float(rate)}, "CNY", 2, "half_up", "2026-Q3"
    )
    for got, cents in zip(paid.units.tolist(), units, strict=True):
        # Exact: the rate is the decimal written, so ties go half up, also at 10^11 CNY
        # (doubles were a cent off near ties there).
        assert got == int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(
    units=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=20),
    rate=st.decimals(min_value="0.000001", max_value="100000", places=6),
    mode=st.sampled_from(["half_up", "half_even", "down"]),
)
@example(units=[396_613_905_199], rate=Decimal("99999.985406"), mode="half_up")  # past 2^53
def test_every_rounding_mode_converts_exactly_as_decimal_does(
    units: list[int], rate: Decimal, mode: str
) -> None:
    rounding = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}[mode]
    codes = np.array(["USD"] * len(units), dtype=object)
    expected = [
        int((Decimal(cents) * rate).quantize(Decimal(1), rounding=rounding)) for cents in units
    ]
    if max(abs(amount) for amount in expected) >= PAYABLE_UNITS:
        # Past 2^53 units a double no longer holds every cent: refused, never paid inexactly.
        with pytest.raises(InputError, match="cannot be paid exactly"):
            convert(np.array(units, dtype=np.int64), codes, {"USD": float(rate)}, "CNY", 2,
                    mode, "2026-Q3")  # fmt: skip
        return
    paid = convert(
        np.array(units, dtype=np.int64), codes, {"USD": float(rate)}, "CNY", 2, mode, "2026-Q3"
    )
    assert paid.units.tolist() == expected


def test_the_policys_currency_is_paid_unchanged_and_totals_are_per_currency() -> None:
    paid = convert(
        np.array([123456, 100], dtype=np.int64),
        np.array(["CNY", "USD"], dtype=object),
        {"USD": 0.138},
        "CNY",
        2,
        "half_up",
        "2026-Q3",
    )
    assert paid.units.tolist() == [123456, 14]
    assert paid.totals() == {"CNY": "1234.56", "USD": "0.14"}


def test_a_currency_without_a_rate_names_the_row_to_add() -> None:
    with pytest.raises(InputError) as caught:
        convert(np.array([1], dtype=np.int64), np.array(["EUR"], dtype=object), {}, "CNY", 2,
                "half_up", "2026-Q3")  # fmt: skip
    assert "no rate for EUR in 2026-Q3" in caught.value.message
    assert "2026-Q3,EUR,RATE" in (caught.value.suggestion or "")


def test_rates_are_those_of_the_period_and_bad_rows_are_named() -> None:
    good = rates_for(
        _fx([("2026-Q3", "usd", 0.138), ("2026-Q2", "USD", 0.14), ("2026-Q3", "EUR", 0.127)]),
        parse_period("2026-Q3"),
        "CNY",
    )
    assert good == {"USD": 0.138, "EUR": 0.127}
    with pytest.raises(InputError) as caught:
        rates_for(
            _fx([("2026-Q3", "USD", 0), ("2026-Q3", "US", 1), ("2026-Q3", "USD", 2),
                 ("2026-Q3", "CNY", 2)]),
            parse_period("2026-Q3"),
            "CNY",
        )  # fmt: skip
    assert [p.render() for p in caught.value.problems] == [
        "fx.csv:row 2: column 'rate': 0 must be a positive number",
        "fx.csv:row 3: column 'currency': 'US' is not a currency code (e.g. USD)",
        "fx.csv:row 4: column 'currency': a second rate for USD in 2026-Q3 (first at row 2)",
        "fx.csv:row 5: column 'rate': the policy pays in CNY: its own rate is 1",
    ]


def test_a_rate_with_many_digits_converts_exactly_beyond_int64_products() -> None:
    """0.123456789012345 is 24691357802469/200000000000000: cents times that numerator leave
    int64, and Python's integers carry the product."""
    rate = Decimal("0.123456789012345")
    units = [1_000_000, 987_654_321, 5, -333_333_333]
    paid = convert(
        np.array(units, dtype=np.int64),
        np.array(["USD"] * len(units), dtype=object),
        {"USD": float(rate)},
        "CNY",
        2,
        "half_even",
        "2026-Q3",
    )
    assert paid.units.tolist() == [
        int((Decimal(u) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) for u in units
    ]


def test_an_amount_too_large_to_pay_exactly_after_conversion_is_an_error() -> None:
    with pytest.raises(InputError, match="cannot convert the payouts: amounts of"):
        convert(
            np.array([10**15], dtype=np.int64),
            np.array(["JPY"], dtype=object),
            {"JPY": 100.0},
            "CNY",
            2,
            "half_up",
            "2026-Q3",
        )
