"""Manual adjustments: amounts HR adds to (or takes from) an employee's payout after scoring,
each with a reason code, applied to the cent.

Rows are ``employee_id, amount, reason[, note]``; an employee may have several. An amount must
be exact in the policy's smallest unit (``12.345`` is refused where the policy pays cents), the
employee must be one the period pays, and no adjustment may take a payout below zero (a
recovery larger than the payout is a clawback, which a policy's deferral rules decide). Whether
adjustments count against the bonus pool is the policy's ``pool.adjustments`` (``outside``: on
top of the pool; ``inside``: the pool holds them, the formula payouts share what is left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.money import format_units
from alignment_engine.scoring.tables import (
    ProblemCollector,
    TableSource,
    codes_of,
    require_columns,
    suggestion_for,
    text_column,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ManualAdjustment", "check_adjustments", "units_per_employee"]


@dataclass(frozen=True)
class ManualAdjustment:
    employee: int  # row of the employee table
    employee_id: str
    units: int  # in the policy's smallest unit (cents)
    reason: str
    note: str
    line: int  # the row in its file, for messages

    def to_dict(self, decimals: int) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "amount": self.units / 10**decimals,
            "amount_text": format_units(self.units, decimals),
            "reason": self.reason,
            "note": self.note,
        }


def _units(value: Any, decimals: int) -> int | None:
    """An amount as whole units when it is exact at ``decimals`` (None otherwise)."""
    try:
        exact = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not exact.is_finite():
        return None
    scaled = exact.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def check_adjustments(
    frame: pd.DataFrame, employee_ids: Sequence[str], decimals: int
) -> list[ManualAdjustment]:
    """Check every row; raise one InputError listing all bad rows (file and row number)."""
    source = TableSource.of(frame, "adjustments")
    require_columns(frame, source, ["employee_id", "amount", "reason"])
    collector = ProblemCollector(source)
    ids = text_column(frame, "employee_id")
    codes = codes_of(ids, employee_ids)
    empty_id = np.array([v is None or v != v or str(v) == "" for v in ids], dtype=np.bool_)
    collector.add_rows(empty_id, "employee_id", lambda _: ("empty", None))
    collector.add_rows(
        (codes < 0) & ~empty_id,
        "employee_id",
        lambda i: (
            f"'{ids[i]}' is not an employee of this period's employees table",
            suggestion_for(str(ids[i]), employee_ids),
        ),
    )
    raw = frame["amount"].to_numpy(dtype=object)
    units = [_units(v, decimals) for v in raw]
    not_number = np.array([_units(v, 12) is None for v in raw], dtype=np.bool_)
    too_fine = np.array([u is None for u in units], dtype=np.bool_) & ~not_number
    smallest = format_units(1, decimals)
    collector.add_rows(
        not_number, "amount", lambda i: (f"{raw[i]!r} is not a number", "e.g. 1250.00")
    )
    collector.add_rows(
        too_fine,
        "amount",
        lambda i: (
            f"{raw[i]!r} is finer than the policy pays ({smallest})",
            f"round it to {decimals} decimals",
        ),
    )
    reasons = text_column(frame, "reason")
    no_reason = np.array([v is None or v != v or str(v).strip() == "" for v in reasons])
    collector.add_rows(
        no_reason, "reason", lambda _: ("empty", "every adjustment needs a reason code")
    )
    notes = (
        text_column(frame, "note")
        if "note" in frame.columns
        else np.full(len(frame), "", dtype=object)
    )
    collector.raise_if_any()
    return [
        ManualAdjustment(
            employee=int(codes[i]),
            employee_id=str(ids[i]),
            units=int(units[i] or 0),
            reason=str(reasons[i]).strip(),
            note="" if notes[i] is None or notes[i] != notes[i] else str(notes[i]),
            line=source.line(i),
        )
        for i in range(len(frame))
    ]


def units_per_employee(
    adjustments: Sequence[ManualAdjustment], employees: int
) -> npt.NDArray[np.int64]:
    total = np.zeros(employees, dtype=np.int64)
    for adjustment in adjustments:
        total[adjustment.employee] += adjustment.units
    return total
