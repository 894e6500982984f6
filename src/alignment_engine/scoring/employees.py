"""The employees table, checked and turned into arrays (one element per employee, input order).

Columns: ``employee_id, department, target_bonus`` plus optional ``individual_score`` (default 1;
an empty cell also means 1), ``start_date``, ``end_date`` (ISO dates; empty means "before/after the
period") and ``currency`` (when given it must be the policy's: there is no conversion).
Every check is vectorised; messages are built only for the (capped) rows that fail.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    employee_id: npt.NDArray[np.object_]
    department: IntArray  # index into the department ids given to check_employees
    target_bonus: FloatArray
    individual_score: FloatArray
    start: DateArray  # datetime64[D], NaT where not given
    end: DateArray

    def __len__(self) -> int:
        return int(self.employee_id.shape[0])

    def proration(self, period: Period, by_days: bool) -> FloatArray:
        if not by_days:
            return np.ones(len(self), dtype=np.float64)
        return proration_fractions(period, self.start, self.end)


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
    frame: pd.DataFrame, department_ids: Sequence[str], currency: str
) -> EmployeeTable:
    """Check every row; raise one InputError listing all bad rows (file and row number)."""
    source = TableSource.of(frame, "employees")
    require_columns(frame, source, ["employee_id", "department", "target_bonus"])
    collector = ProblemCollector(source)
    size = len(frame)

    ids = text_column(frame, "employee_id")
    no_id = pd.isna(ids)
    collector.add_rows(no_id, "employee_id", lambda _: ("empty", None))
    first_position = first_positions(ids)
    duplicated = (first_position != np.arange(size)) & ~no_id
    collector.add_rows(
        duplicated,
        "employee_id",
        lambda i: (
            f"duplicate employee '{ids[i]}' (first at row {source.line(int(first_position[i]))})",
            None,
        ),
    )

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

    bonus, bonus_empty, bonus_bad = numeric_column(frame, "target_bonus")
    raw_bonus = frame["target_bonus"].to_numpy(dtype=object)
    collector.add_rows(bonus_empty, "target_bonus", lambda _: ("empty", None))
    collector.add_rows(
        bonus_bad, "target_bonus", lambda i: (f"{raw_bonus[i]!r} is not a number", None)
    )
    with np.errstate(invalid="ignore"):
        negative = bonus < 0
    collector.add_rows(
        negative, "target_bonus", lambda i: (f"{bonus[i]:g} must not be negative", None)
    )
    collector.add_rows(np.isinf(bonus), "target_bonus", lambda _: ("must be a finite number", None))

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

    if "currency" in frame.columns:
        currencies = text_column(frame, "currency")
        foreign = np.array(
            [c is not None and c.upper() != currency.upper() for c in currencies], dtype=np.bool_
        )
        collector.add_rows(
            foreign,
            "currency",
            lambda i: (
                f"'{currencies[i]}' differs from the policy's currency '{currency}' "
                "(amounts are not converted)",
                None,
            ),
        )
    collector.raise_if_any()
    return EmployeeTable(
        employee_id=ids,
        department=codes,
        target_bonus=bonus,
        individual_score=score,
        start=start,
        end=end,
    )


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
