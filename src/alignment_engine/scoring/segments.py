"""Employees with several rows (a transfer, a new target bonus): one payout from the segments.

Each segment is paid as a row on its own would be (its department's factor, its target bonus,
its days of the period); the employee's amount is the sum, rounded once. The per-employee columns
are the segments' values weighted so that ``target_bonus x factor x proration = amount`` still
holds: proration is the employee's share of the period, the target bonus the time-weighted one,
and the factors weighted by each segment's target bonus x days. The department is the latest
segment's (where the employee was at the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.employees import EmployeeTable

__all__ = ["PersonColumns", "Segments", "combine_segments"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Segments:
    """The rows of employees with more than one, for their explanations (sorted by employee,
    then start)."""

    person: IntArray
    department: IntArray
    target_bonus: FloatArray
    individual_score: FloatArray
    factor: FloatArray
    proration: FloatArray
    start: DateArray
    end: DateArray
    amount: FloatArray

    def of(self, person: int, department_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Employee ``person``'s segments (empty when they have one row)."""
        first, last = np.searchsorted(self.person, [person, person + 1])
        if last - first < 2:
            return []
        dates = np.datetime_as_string(self.start[first:last], unit="D").tolist()
        ends = np.datetime_as_string(self.end[first:last], unit="D").tolist()
        return [
            {
                "department": department_ids[int(self.department[i])],
                "start_date": None if np.isnat(self.start[i]) else dates[i - first],
                "end_date": None if np.isnat(self.end[i]) else ends[i - first],
                "proration": float(self.proration[i]),
                "target_bonus": float(self.target_bonus[i]),
                "individual_score": float(self.individual_score[i]),
                "factor": float(self.factor[i]),
                "amount": float(self.amount[i]),
            }
            for i in range(int(first), int(last))
        ]


@dataclass(frozen=True)
class PersonColumns:
    """Per-employee columns made from segment rows."""

    department: IntArray
    target_bonus: FloatArray
    individual_score: FloatArray
    factor_before_gates: FloatArray
    factor_after_gates: FloatArray
    factor: FloatArray
    proration: FloatArray
    start: DateArray
    end: DateArray
    amount: FloatArray
    segments: Segments
    latest: IntArray  # each employee's latest row


def combine_segments(
    table: EmployeeTable,
    before: FloatArray,
    after: FloatArray,
    final: FloatArray,
    proration: FloatArray,
) -> PersonColumns:
    """Per-employee columns from per-row ones (``table.person`` must be set)."""
    assert table.person is not None and table.person_ids is not None
    person = table.person
    count = len(table.person_ids)
    amount_rows = table.target_bonus * final * proration
    paid_time = table.target_bonus * proration

    def total(values: FloatArray) -> FloatArray:
        return np.bincount(person, weights=values, minlength=count).astype(np.float64)

    share = total(proration)
    weight = total(paid_time)
    amount = total(amount_rows)
    order = np.lexsort((np.arange(len(person)), _sortable(table.start), person))
    last = np.zeros(count, dtype=np.int64)
    last[person[order]] = order  # the latest segment of each employee wins

    def weighted(values: FloatArray) -> FloatArray:
        # Weighted by target bonus x days; an employee with no paid time keeps the latest value.
        summed = total(values * paid_time)
        return np.where(weight > 0, summed / np.where(weight > 0, weight, 1.0), values[last])

    lowest = np.datetime64("0001-01-01", "D")
    highest = np.datetime64("9999-12-31", "D")
    start = np.full(count, highest, dtype="datetime64[D]")
    np.minimum.at(start, person, np.where(np.isnat(table.start), lowest, table.start))
    end = np.full(count, lowest, dtype="datetime64[D]")
    np.maximum.at(end, person, np.where(np.isnat(table.end), highest, table.end))
    return PersonColumns(
        department=table.department[last],
        target_bonus=np.where(
            share > 0, weight / np.where(share > 0, share, 1.0), table.target_bonus[last]
        ),
        individual_score=weighted(table.individual_score),
        factor_before_gates=weighted(before),
        factor_after_gates=weighted(after),
        factor=weighted(final),
        proration=share,
        start=np.where(start == lowest, np.datetime64("NaT"), start).astype("datetime64[D]"),
        end=np.where(end == highest, np.datetime64("NaT"), end).astype("datetime64[D]"),
        amount=amount,
        latest=last,
        segments=Segments(
            person=person[order],
            department=table.department[order],
            target_bonus=table.target_bonus[order],
            individual_score=table.individual_score[order],
            factor=final[order],
            proration=proration[order],
            start=table.start[order],
            end=table.end[order],
            amount=amount_rows[order],
        ),
    )


def _sortable(dates: DateArray) -> IntArray:
    """Dates as integers for sorting, a missing start first."""
    values = dates.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(dates), np.iinfo(np.int64).min, values)
