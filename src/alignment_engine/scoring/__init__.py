"""Incentive scoring: KPI results -> payout factors -> employee payouts, vectorised.

``score_period`` is the entry point (it is handed the gate decision: the rule engine's, in the
product); the modules below it each do one job: periods (period labels, proration),
payout_curves, formula (metric formulas), actuals (checking and resolving results), missing
(missing results, a wrong period), precision (computed results read as decimals), catalogue
(KPIs with their curves), gate_effects (gate arithmetic), combine (scope scores, components),
money (rounding), pool (fitting to the pool), employees (the employee table), result and
explanation (outputs).
"""

from alignment_engine.scoring.formula import Formula, FormulaError
from alignment_engine.scoring.gate_effects import (
    GateEvaluator,
    GateOutcome,
    KpiFact,
    Modifier,
)
from alignment_engine.scoring.money import format_units, to_units, units_to_decimal
from alignment_engine.scoring.payout_curves import (
    CurveEvaluation,
    CurvePoints,
    CurveSet,
    evaluate_curve,
)
from alignment_engine.scoring.periods import Period, parse_period
from alignment_engine.scoring.pool import PoolFit, fit_to_pool, largest_remainder
from alignment_engine.scoring.result import (
    DepartmentResult,
    EmployeePayouts,
    KpiResult,
    ScoreResult,
)
from alignment_engine.scoring.score import score_period

__all__ = [
    "CurveEvaluation",
    "CurvePoints",
    "CurveSet",
    "DepartmentResult",
    "EmployeePayouts",
    "Formula",
    "FormulaError",
    "GateEvaluator",
    "GateOutcome",
    "KpiFact",
    "KpiResult",
    "Modifier",
    "Period",
    "PoolFit",
    "ScoreResult",
    "evaluate_curve",
    "fit_to_pool",
    "format_units",
    "largest_remainder",
    "parse_period",
    "score_period",
    "to_units",
    "units_to_decimal",
]
