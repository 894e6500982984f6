"""Scoring periods: ``2026`` (a year), ``2026-Q3`` (a quarter), ``2026-07`` (a month).

Periods are calendar periods: ``2026-Q3`` runs from 2026-07-01 to 2026-09-30 inclusive. A period
knows its sub-periods (a year's quarters, a quarter's months), which is how actuals reported
monthly make a quarter.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

PeriodKind = Literal["year", "quarter", "month"]

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, order=True)
class Period:
    """One calendar period, ordered by start date, then end date."""

    start: date
    end: date
    kind: PeriodKind
    year: int
    number: int  # the quarter (1-4) or month (1-12); 0 for a year

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def sub_periods(self) -> tuple[Period, ...]:
        """The next finer periods that make this one: quarters of a year, months of a quarter."""
        if self.kind == "year":
            return tuple(quarter(self.year, q) for q in range(1, 5))
        if self.kind == "quarter":
            first = 3 * (self.number - 1) + 1
            return tuple(month(self.year, m) for m in range(first, first + 3))
        return ()

    def parent(self) -> Period | None:
        """The next coarser period: a month's quarter, a quarter's year."""
        if self.kind == "month":
            return quarter(self.year, (self.number - 1) // 3 + 1)
        if self.kind == "quarter":
            return year(self.year)
        return None

    def enclosing(self) -> tuple[Period, ...]:
        """Every coarser period around this one: a month's quarter and year, a quarter's year."""
        parent = self.parent()
        return () if parent is None else (parent, *parent.enclosing())

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return self.label


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31), "year", number, 0)


def quarter(year_number: int, quarter_number: int) -> Period:
    first_month = 3 * (quarter_number - 1) + 1
    last_month = first_month + 2
    last_day = calendar.monthrange(year_number, last_month)[1]
    return Period(
        date(year_number, first_month, 1),
        date(year_number, last_month, last_day),
        "quarter",
        year_number,
        quarter_number,
    )


def month(year_number: int, month_number: int) -> Period:
    last_day = calendar.monthrange(year_number, month_number)[1]
    return Period(
        date(year_number, month_number, 1),
        date(year_number, month_number, last_day),
        "month",
        year_number,
        month_number,
    )


def period_label(text: str) -> str:
    """``2026-q3`` as ``2026-Q3``: the label runs are recorded and looked up by (a text that is
    not a period is left as given: scoring it reports the error)."""
    try:
        return parse_period(text).label
    except ValueError:
        return text


def parse_period(text: object) -> Period:
    """Parse ``2026``, ``2026-Q3`` or ``2026-07``; raises ValueError naming the accepted forms.

    Integers (a spreadsheet's ``2026``) are accepted as years.
    """
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a period (use 2026, 2026-Q3 or 2026-07)")
    if isinstance(text, int | np.integer):
        text = str(int(text))
    if isinstance(text, float | np.floating) and float(text).is_integer():
        text = str(int(text))
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a period (use 2026, 2026-Q3 or 2026-07)")
    value = text.strip()
    if match := _YEAR.match(value):
        return year(int(match.group(1)))
    if match := _QUARTER.match(value):
        return quarter(int(match.group(1)), int(match.group(2)))
    if (match := _MONTH.match(value)) and 1 <= int(match.group(2)) <= 12:
        return month(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"{text!r} is not a period (use 2026, 2026-Q3 or 2026-07)")


def proration_fractions(
    period: Period,
    start: npt.NDArray[np.datetime64],
    end: npt.NDArray[np.datetime64],
) -> npt.NDArray[np.float64]:
    """The share of ``period`` each person was employed, by calendar days (both ends inclusive).

    ``start``/``end`` are ``datetime64[D]`` arrays; NaT means "before the period" / "after the
    period". Someone who joined after the period or left before it gets 0.
    """
    period_start = np.datetime64(period.start, "D")
    period_end = np.datetime64(period.end, "D")
    first = np.where(np.isnat(start), period_start, np.maximum(start, period_start))
    last = np.where(np.isnat(end), period_end, np.minimum(end, period_end))
    days = (last - first).astype(np.int64) + 1
    return np.clip(days, 0, None).astype(np.float64) / float(period.days)


def shifted(period: Period, count: int) -> Period:
    """The period ``count`` periods of the same length after ``period`` (before it when
    ``count`` is negative): 2026-Q3 shifted by 2 is 2027-Q1, 2026-01 by -1 is 2025-12."""
    if period.kind == "year":
        return year(period.year + count)
    per_year = 4 if period.kind == "quarter" else 12
    index = period.year * per_year + (period.number - 1) + count
    make = quarter if period.kind == "quarter" else month
    return make(index // per_year, index % per_year + 1)
