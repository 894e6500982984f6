"""Numbers shown to people: means of months are not printed to twelve digits."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alignment_engine.reports.numbers import readable


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10.4020333333, "10.402"),
        (0.932993333333, "0.932993"),
        (1250000, "1,250,000"),
        (1250000.4, "1,250,000"),
        (0.000123456789, "0.000123457"),
        (-4.2, "-4.2"),
        (0, "0"),
        (95, "95"),
    ],
)
def test_a_number_reads_with_six_significant_digits_at_most(value: float, shown: str) -> None:
    assert readable(value) == shown


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda v: v != 0))
def test_what_is_shown_is_the_number_to_six_significant_digits(value: float) -> None:
    shown = readable(value)
    assert "e" not in shown
    assert math.isclose(float(shown.replace(",", "")), value, rel_tol=1e-5, abs_tol=0)


def test_long_numbers_are_grouped_but_not_ids_periods_or_decimals() -> None:
    from alignment_engine.reports.numbers import grouped_numbers

    assert grouped_numbers("9500 x factor 0.750721 = 7131.847037 -> 1234567.89 CNY") == (
        "9,500 x factor 0.750721 = 7,131.847037 -> 1,234,567.89 CNY"
    )
    assert grouped_numbers("E00002 in 2026-Q3 paid 950 on 2026-09-30, 0.12345") == (
        "E00002 in 2026-Q3 paid 950 on 2026-09-30, 0.12345"
    )
