"""What a restatement pays: per employee, the restated payout minus the one already paid.

A final period is never rewritten: late or corrected actuals are scored again as a new run that
*restates* the final one, and the difference per employee is the adjustment payroll pays (or
recovers) now. Amounts are integers of the policy's smallest unit (cents), so adjustments and
their total are exact; an employee missing from one of the two runs counts 0 there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alignment_engine.scoring.money import format_units

__all__ = ["Adjustment", "Restatement", "restatement"]


@dataclass(frozen=True)
class Adjustment:
    employee_id: str
    previous_units: int
    restated_units: int

    @property
    def units(self) -> int:
        return self.restated_units - self.previous_units


@dataclass(frozen=True)
class Restatement:
    restates: str  # the run restated
    adjustments: tuple[Adjustment, ...]  # the employees whose payout changed, restated order
    decimals: int

    @property
    def total_units(self) -> int:
        return sum(a.units for a in self.adjustments)

    def adjustments_list(self) -> list[dict[str, Any]]:
        scale = 10**self.decimals
        return [
            {
                "employee_id": a.employee_id,
                "previous": a.previous_units / scale,
                "restated": a.restated_units / scale,
                "adjustment": a.units / scale,
                "adjustment_text": format_units(a.units, self.decimals),
            }
            for a in self.adjustments
        ]


def restatement(
    restates: str,
    previous: Sequence[tuple[str, int]],
    restated: Sequence[tuple[str, int]],
    decimals: int,
) -> Restatement:
    """Adjustments from the previous run's payouts and the restated ones, each ``(employee_id,
    units)``: employees of the restated run first (in its order), then those only the previous
    run paid (in its order). An employee listed twice in one run is summed there."""
    before: dict[str, int] = {}
    for employee, units in previous:
        before[employee] = before.get(employee, 0) + int(units)
    after: dict[str, int] = {}
    for employee, units in restated:
        after[employee] = after.get(employee, 0) + int(units)
    order = list(after) + [e for e in before if e not in after]
    return Restatement(
        restates,
        tuple(
            Adjustment(e, before.get(e, 0), after.get(e, 0))
            for e in order
            if before.get(e, 0) != after.get(e, 0)
        ),
        decimals,
    )
