"""What scoring a period produces, part by part: KPI results, department results, the employee
columns, totals and the policy settings an explanation quotes (pure data; :mod:`.result` puts
them together as :class:`~alignment_engine.scoring.result.ScoreResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.money import units_to_float
from alignment_engine.scoring.segments import Segments

__all__ = [
    "DepartmentResult",
    "EmployeePayouts",
    "ExplanationStyle",
    "KpiResult",
    "Settings",
    "Totals",
    "json_number",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ExplanationStyle = Literal["full", "compact", "none"]


def json_number(value: float | None) -> float | None:
    """A float for JSON: None for missing or non-finite values (JSON has no NaN or infinity)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class KpiResult:
    scope: str
    kind: str  # company | department | shared
    kpi: str
    metric: str
    actual: float | None
    source: str  # how the actual was found ("reported for 2026-Q3", "sum of the 3 months ...")
    target: float | None
    attainment: float | None
    curve: str
    basis: str
    segment: str  # the curve segment, in words
    curve_factor: float | None  # the curve at the actual, before caps and gates
    payout_factor: float | None  # after caps.kpi and KPI gates; None when excluded
    weight: float  # share of its scope's score (0 when excluded)
    status: str  # scored | missing: paid 0 | missing: excluded
    gates: tuple[str, ...]  # triggered gates that changed this KPI's factor

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "kpi": self.kpi,
            "actual": json_number(self.actual),
            "target": json_number(self.target),
            "attainment": json_number(self.attainment),
            "payout_factor": json_number(self.payout_factor),
            "curve": self.curve,
            "gates": list(self.gates),
            "metric": self.metric,
            "source": self.source,
            "basis": self.basis,
            "segment": self.segment,
            "curve_factor": json_number(self.curve_factor),
            "weight": self.weight,
            "status": self.status,
        }


@dataclass(frozen=True)
class DepartmentResult:
    department: str
    score: float | None  # weighted KPI factors; None for a department without scored KPIs
    payout_factor: float  # the factor of an employee with individual_score 1 (before proration)
    component_weights: dict[str, float]
    gates: tuple[str, ...]  # triggered gates on this department's employees (all + department)
    employees: int
    payout_units: int

    def to_dict(self, decimals: int) -> dict[str, Any]:
        return {
            "department": self.department,
            "score": json_number(self.score),
            "payout_factor": json_number(self.payout_factor),
            "components": self.component_weights,
            "gates": list(self.gates),
            "employees": self.employees,
            "payout": float(units_to_float(self.payout_units, decimals)),
        }


@dataclass(frozen=True)
class EmployeePayouts:
    """Columns, one element per employee in input order."""

    employee_id: npt.NDArray[np.object_]
    department: IntArray  # index into DepartmentFactors.department_ids
    target_bonus: FloatArray
    individual_score: FloatArray
    factor_before_gates: FloatArray
    factor_after_gates: FloatArray
    factor: FloatArray
    proration: FloatArray
    start: npt.NDArray[np.datetime64]
    end: npt.NDArray[np.datetime64]
    amount: FloatArray  # target_bonus * factor * proration, before rounding and the pool
    units: IntArray  # the payout in units (cents), manual adjustments included
    segments: Segments | None = None  # employees with several rows (a transfer): their rows
    # Target bonuses given as a percentage of salary (NaN elsewhere; None when none is).
    salary: FloatArray | None = None
    bonus_percent: FloatArray | None = None
    currency: npt.NDArray[np.object_] | None = None  # the pay currency (None: the policy's)
    # Money limits (scoring.amount_limits): which payouts a cap or minimum changed, and the
    # formula amount before it did (None when the policy has neither).
    limited: npt.NDArray[np.int8] | None = None
    formula_amount: FloatArray | None = None
    # Bitmask per employee of the components a money limit changed (amount_limits.ComponentLimits)
    component_limited: npt.NDArray[np.int8] | None = None

    def __len__(self) -> int:
        return int(self.employee_id.shape[0])


@dataclass(frozen=True)
class Totals:
    payout_units: int
    pool_units: int | None
    scale: float
    scaled: bool  # True when the pool decided the amounts (largest remainder)
    adjustment_units: int = 0  # manual adjustments in all (in payout_units already)


@dataclass(frozen=True)
class Settings:
    """The policy settings an explanation quotes."""

    currency: str
    decimals: int
    rounding: str
    pool_mode: str
    proration: str
    kpi_cap: float | None
    employee_cap: float | None
    employee_amount_cap: float | None = None  # caps.employee_amount
    minimum_amount: float | None = None  # minimum.employee_amount
    # caps.components / minimum.components: (component, cap, minimum) per period
    component_limits: tuple[tuple[str, float | None, float | None], ...] = ()
