"""The employees table, checked and turned into arrays (one element per row, input order).

Columns: ``employee_id, department, target_bonus`` plus optional ``individual_score`` (default 1;
an empty cell also means 1), ``start_date``, ``end_date`` (ISO dates; empty means "before/after the
period") and ``currency`` (when given it must be the policy's: there is no conversion).

An employee may have several rows, one per *segment* of the period: a transfer to another
department, a change of target bonus. Their dates must not overlap (a second row without dates
overlaps everything, which is how a duplicate is caught); each segment is paid for its days and
the employee gets one payout (:class:`Segments`).
Every check is vectorised; messages are built only for the (capped) rows that fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.scoring.periods import Period, proration_fractions
from alignment_engine.scoring.tables import (
    ProblemCollector,
    TableSource,
    codes_of,
    first_positions,
    numeric_column,
    require_columns,
    suggestion_for,
    text_column,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class EmployeeTable:
    """One element per row (a segment); ``person`` maps rows to employees when someone has
    several rows (None when everyone has one: then rows are employees)."""

    employee_id: npt.NDArray[np.object_]
    department: IntArray  # index into the department ids given to check_employees
    target_bonus: FloatArray
    individual_score: FloatArray
    start: DateArray  # datetime64[D], NaT where not given
    end: DateArray
    person: IntArray | None = None  # row -> position in person_ids (first-appearance order)
    person_ids: npt.NDArray[np.object_] | None = None
    # Where a target bonus is a percentage of salary: the salary and the percentage (NaN in
    # rows that give the amount); None when no row does.
    salary: FloatArray | None = None
    bonus_percent: FloatArray | None = None
    # The currency each row is paid in (upper case; the policy's where not given); None when
    # the table has no currency column.
    currency: npt.NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return int(self.employee_id.shape[0])

    @property
    def people(self) -> npt.NDArray[np.object_]:
        """The employees' ids, one per employee, in first-appearance order."""
        return self.employee_id if self.person_ids is None else self.person_ids

    def proration(self, period: Period, by_days: bool) -> FloatArray:
        """Each row's share of the period. Segments always split by days; without proration
        (``proration: none``) an employee's segments share the whole period."""
        if not by_days and self.person is None:
            return np.ones(len(self), dtype=np.float64)
        share = proration_fractions(period, self.start, self.end)
        if by_days or self.person is None or self.person_ids is None:
            return share
        total = np.bincount(self.person, weights=share, minlength=len(self.person_ids))
        employed = total[self.person]
        return np.where(employed > 0, share / np.where(employed > 0, employed, 1.0), 0.0)


def empty_employees() -> EmployeeTable:
    nat = np.array([], dtype="datetime64[D]")
    return EmployeeTable(
        employee_id=np.array([], dtype=object),
        department=np.array([], dtype=np.int64),
        target_bonus=np.array([], dtype=np.float64),
        individual_score=np.array([], dtype=np.float64),
        start=nat,
        end=nat.copy(),
    )


def check_employees(
    frame: pd.DataFrame,
    department_ids: Sequence[str],
    currency: str,
    rates: Mapping[str, float] | None = None,
    *,
    check_currency: bool = True,
) -> EmployeeTable:
    """Check every row; raise one InputError listing all bad rows (file and row number).
    ``rates``: the currencies an FX table converts to in this period (else only the policy's
    currency can be paid); ``check_currency`` False: the rates themselves were bad (and
    reported), so the currencies are not judged against them."""
    source = TableSource.of(frame, "employees")
    by_salary = "salary" in frame.columns and "target_bonus_percent" in frame.columns
    require_columns(
        frame, source, ["employee_id", "department", *([] if by_salary else ["target_bonus"])]
    )
    collector = ProblemCollector(source, column_order=tuple(str(c) for c in frame.columns))
    size = len(frame)

    ids = text_column(frame, "employee_id")
    no_id = pd.isna(ids)
    collector.add_rows(no_id, "employee_id", lambda _: ("empty", None))
    departments = text_column(frame, "department")
    codes = codes_of(departments, department_ids)
    unknown = codes < 0
    no_department = pd.isna(departments)
    collector.add_rows(no_department, "department", lambda _: ("empty", None))
    collector.add_rows(
        unknown & ~no_department,
        "department",
        lambda i: (
            f"'{departments[i]}' is not a department of the plan",
            suggestion_for(str(departments[i]), department_ids),
        ),
    )

    bonus, salary, bonus_percent = _target_bonus(frame, collector)
    score = np.ones(size, dtype=np.float64)
    if "individual_score" in frame.columns:
        values, empty, bad = numeric_column(frame, "individual_score")
        raw_score = frame["individual_score"].to_numpy(dtype=object)
        collector.add_rows(
            bad, "individual_score", lambda i: (f"{raw_score[i]!r} is not a number", None)
        )
        with np.errstate(invalid="ignore"):
            negative_score = values < 0
        collector.add_rows(
            negative_score | np.isinf(values),
            "individual_score",
            lambda i: (f"{values[i]:g} must be a finite number, 0 or more", None),
        )
        score = np.where(empty | bad, 1.0, values)

    start = _dates(frame, "start_date", collector)
    end = _dates(frame, "end_date", collector)
    backwards = ~np.isnat(start) & ~np.isnat(end) & (end < start)
    collector.add_rows(
        backwards,
        "end_date",
        lambda i: (f"{end[i]} is before start_date {start[i]}", None),
    )

    pay_currency = None
    if "currency" in frame.columns:
        currencies = text_column(frame, "currency")
        home = currency.upper()
        # Column operations: a million rows, a handful of distinct currencies.
        given = pd.Series(currencies, dtype=object).fillna("").astype(str).str.strip()
        currency_codes = given.str.upper().where(given != "", home)
        pay_currency = currency_codes.to_numpy(dtype=object)
        convertible = [home, *(rates or {})]
        foreign = (
            ~currency_codes.isin(convertible).to_numpy(dtype=np.bool_)
            if check_currency
            else np.zeros(len(currency_codes), dtype=np.bool_)
        )
        collector.add_rows(
            foreign,
            "currency",
            lambda i: (
                f"'{currencies[i]}' differs from the policy's currency '{currency}'"
                + (" and the fx table has no rate for it" if rates else ""),
                "give an fx table (score --fx: period, currency, rate) with its rate for the "
                "period",
            ),
        )
    first_position = first_positions(ids)
    repeated = (first_position != np.arange(size)) & ~no_id
    person = person_ids = None
    if repeated.any():
        _check_segments(ids, first_position, start, end, no_id, collector, source)
        person_ids = ids[np.flatnonzero((first_position == np.arange(size)) & ~no_id)]
        person = codes_of(ids, [str(p) for p in person_ids])
    collector.raise_if_any()
    return EmployeeTable(
        employee_id=ids,
        department=codes,
        target_bonus=bonus,
        individual_score=score,
        start=start,
        end=end,
        person=person,
        person_ids=person_ids,
        salary=salary,
        bonus_percent=bonus_percent,
        currency=pay_currency,
    )


def _target_bonus(
    frame: pd.DataFrame, collector: ProblemCollector
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """Each row's target bonus: ``target_bonus``, or ``salary`` x ``target_bonus_percent`` / 100
    (a percentage written as 15 for 15%)."""
    size = len(frame)
    bonus = np.full(size, np.nan)
    given = np.zeros(size, dtype=np.bool_)
    basis: tuple[FloatArray | None, FloatArray | None] = (None, None)
    empty = np.ones(size, dtype=np.bool_)
    if "target_bonus" in frame.columns:
        bonus, empty, bad = numeric_column(frame, "target_bonus")
        _not_numbers(frame, "target_bonus", bad, collector)
        given = ~empty & ~bad
    by_salary = "salary" in frame.columns and "target_bonus_percent" in frame.columns
    if by_salary:
        salary, salary_empty, salary_bad = numeric_column(frame, "salary")
        percent, percent_empty, percent_bad = numeric_column(frame, "target_bonus_percent")
        for column, bad in (("salary", salary_bad), ("target_bonus_percent", percent_bad)):
            _not_numbers(frame, column, bad, collector)
        with np.errstate(invalid="ignore"):
            collector.add_rows(
                (salary < 0) | np.isinf(salary),
                "salary",
                lambda i: (f"{salary[i]:g} must be a finite number, 0 or more", None),
            )
            fraction_like = (percent > 0) & (percent < 1)
            collector.add_rows(
                fraction_like,
                "target_bonus_percent",
                lambda i: (
                    f"{percent[i]:g} reads as {percent[i]:g}% of salary",
                    f"write percentages as numbers of percent: {percent[i] * 100:g} for "
                    f"{percent[i] * 100:g}%",
                ),
            )
            collector.add_rows(
                (percent < 0) | (percent > 1000) | np.isinf(percent),
                "target_bonus_percent",
                lambda i: (f"{percent[i]:g} must be between 0 and 1000", None),
            )
        pair = ~salary_empty & ~salary_bad & ~percent_empty & ~percent_bad
        collector.add_rows(
            pair & given,
            "target_bonus_percent",
            lambda i: (
                "this row gives a target_bonus and a target_bonus_percent",
                "keep one: the amount, or salary and target_bonus_percent",
            ),
        )
        half = (salary_empty ^ percent_empty) & ~given
        collector.add_rows(
            half & salary_empty,
            "salary",
            lambda _: ("empty", "target_bonus_percent is a percentage of salary"),
        )
        collector.add_rows(
            half & percent_empty,
            "target_bonus_percent",
            lambda _: ("empty", "give the percentage of salary, or a target_bonus"),
        )
        from_salary = pair & ~given
        bonus = np.where(from_salary, salary * percent / 100.0, bonus)
        given = given | pair
        if from_salary.any():
            basis = (np.where(from_salary, salary, np.nan), np.where(from_salary, percent, np.nan))
    missing = empty & ~given
    if by_salary:
        missing &= ~np.asarray(frame["salary"].notna()) & ~np.asarray(
            frame["target_bonus_percent"].notna()
        )
    collector.add_rows(
        missing,
        "target_bonus",
        lambda _: ("empty", "or give salary and target_bonus_percent" if by_salary else None),
    )
    with np.errstate(invalid="ignore"):
        collector.add_rows(
            bonus < 0, "target_bonus", lambda i: (f"{bonus[i]:g} must not be negative", None)
        )
    collector.add_rows(np.isinf(bonus), "target_bonus", lambda _: ("must be a finite number", None))
    return bonus, basis[0], basis[1]


def _not_numbers(
    frame: pd.DataFrame, column: str, bad: npt.NDArray[np.bool_], collector: ProblemCollector
) -> None:
    raw = frame[column].to_numpy(dtype=object)
    collector.add_rows(bad, column, lambda i: (f"{raw[i]!r} is not a number", None))


def _check_segments(
    ids: npt.NDArray[np.object_],
    first_position: IntArray,
    start: DateArray,
    end: DateArray,
    no_id: npt.NDArray[np.bool_],
    collector: ProblemCollector,
    source: TableSource,
) -> None:
    """An employee's rows are segments of time: none may overlap another (rows without dates
    span all time, so a plain duplicate overlaps)."""
    rows = np.flatnonzero(
        ~no_id & np.isin(first_position, first_position[first_position != np.arange(len(ids))])
    )
    lowest = np.datetime64("0001-01-01", "D")
    highest = np.datetime64("9999-12-31", "D")
    begins = np.where(np.isnat(start[rows]), lowest, start[rows])
    ends = np.where(np.isnat(end[rows]), highest, end[rows])
    order = np.lexsort((rows, begins, first_position[rows]))
    rows, begins, ends = rows[order], begins[order], ends[order]
    same = first_position[rows[1:]] == first_position[rows[:-1]]
    # Running latest end within each employee, and the row it belongs to (rows are few).
    latest_end = ends.copy()
    latest_row = rows.copy()
    for position in range(1, rows.size):
        if same[position - 1] and latest_end[position - 1] >= latest_end[position]:
            latest_end[position] = latest_end[position - 1]
            latest_row[position] = latest_row[position - 1]
    clash = np.flatnonzero(same & (begins[1:] <= latest_end[:-1])) + 1
    overlapping = np.zeros(len(ids), dtype=np.bool_)
    other = np.full(len(ids), -1, dtype=np.int64)
    for position in clash.tolist():  # the later row of the file is the one reported
        a, b = int(rows[position]), int(latest_row[position - 1])
        later, earlier = max(a, b), min(a, b)
        if not overlapping[later]:
            overlapping[later] = True
            other[later] = earlier

    def message(i: int) -> tuple[str, str | None]:
        first = source.line(int(other[i]))
        if np.isnat(start[i]) and np.isnat(end[i]):  # a row without dates spans all time
            return (
                f"duplicate employee '{ids[i]}' (first at row {first})",
                None
                if np.isnat(start[other[i]]) and np.isnat(end[other[i]])
                else "a row per segment of the period needs its start_date and end_date",
            )
        return (
            f"employee '{ids[i]}' again: this row's dates overlap row {first}",
            "an employee has one row per segment of the period (a transfer, a new target "
            "bonus), with start_date and end_date that do not overlap",
        )

    collector.add_rows(overlapping, "employee_id", message)


def _dates(frame: pd.DataFrame, column: str, collector: ProblemCollector) -> DateArray:
    size = len(frame)
    if column not in frame.columns:
        return np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
    series = frame[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.to_datetime(series)
        unreadable = np.zeros(size, dtype=np.bool_)
    else:
        texts = text_column(frame, column)
        present = ~pd.isna(texts)
        parsed = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce", format="ISO8601")
        unreadable = present & parsed.isna().to_numpy()
        collector.add_rows(
            unreadable,
            column,
            lambda i: (f"{texts[i]!r} is not a date (use YYYY-MM-DD)", None),
        )
    dates = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return np.where(unreadable, np.datetime64("NaT"), dates).astype("datetime64[D]")
