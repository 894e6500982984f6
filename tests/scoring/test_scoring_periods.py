from datetime import date

import numpy as np
import pytest

from alignment_engine.scoring.periods import parse_period, proration_fractions


@pytest.mark.parametrize(
    ("text", "label", "start", "end", "days"),
    [
        ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31), 365),
        (2026, "2026", date(2026, 1, 1), date(2026, 12, 31), 365),
        ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), 92),
        ("2026-q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), 90),
        ("2024-Q1", "2024-Q1", date(2024, 1, 1), date(2024, 3, 31), 91),
        ("2026-07", "2026-07", date(2026, 7, 1), date(2026, 7, 31), 31),
        ("2026-7", "2026-07", date(2026, 7, 1), date(2026, 7, 31), 31),
        ("2024-02", "2024-02", date(2024, 2, 1), date(2024, 2, 29), 29),
    ],
)
def test_periods_parse_to_calendar_ranges(text, label, start, end, days):
    period = parse_period(text)
    assert (period.label, period.start, period.end, period.days) == (label, start, end, days)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "Q3-2026", "", "2026-00", True, None])
def test_bad_periods_say_which_forms_work(text):
    with pytest.raises(ValueError, match="2026-Q3"):
        parse_period(text)


def test_sub_periods_and_parents():
    year = parse_period("2026")
    assert [p.label for p in year.sub_periods()] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    q3 = parse_period("2026-Q3")
    assert [p.label for p in q3.sub_periods()] == ["2026-07", "2026-08", "2026-09"]
    assert parse_period("2026-08").parent() == q3
    assert q3.parent() == year
    assert year.contains(parse_period("2026-11")) and not q3.contains(parse_period("2026-10"))


def test_proration_counts_calendar_days_inclusively():
    q3 = parse_period("2026-Q3")  # 92 days
    nat = np.datetime64("NaT")
    start = np.array([nat, "2026-08-01", "2026-06-01", "2026-10-01", "2026-07-01"], "datetime64[D]")
    end = np.array([nat, nat, "2026-07-31", nat, "2026-07-01"], dtype="datetime64[D]")
    shares = proration_fractions(q3, start, end)
    np.testing.assert_allclose(shares, [1.0, 61 / 92, 31 / 92, 0.0, 1 / 92])


def test_a_sum_beyond_the_float_range_is_infinite_not_a_crash() -> None:
    from alignment_engine.scoring.actuals import resolve_values
    from alignment_engine.scoring.periods import parse_period

    rows = {month: {"k": 1e308} for month in ("2026-07", "2026-08", "2026-09")}
    values, how, overlaps = resolve_values(rows, parse_period("2026-Q3"), {"k": "sum"}, "sum")
    assert values == {"k": float("inf")}
    assert how == {"k": "sum of the 3 months of 2026-Q3"}
    assert overlaps == []


def test_sub_period_sums_are_exactly_rounded() -> None:
    from alignment_engine.scoring.actuals import resolve_values
    from alignment_engine.scoring.periods import parse_period

    rows = {"2026-07": {"k": 1e16}, "2026-08": {"k": 1.0}, "2026-09": {"k": -1e16}}
    values, _, _ = resolve_values(rows, parse_period("2026-Q3"), {"k": "sum"}, "sum")
    assert values == {"k": 1.0}  # left to right in floats it would be 0
