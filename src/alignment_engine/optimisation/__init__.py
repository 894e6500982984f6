"""Response curves, fitting them from history, and reallocating resources between departments.

This package is the only importer of ``scipy.optimize``.
"""

from alignment_engine.optimisation.fitting import CurveFit, FitAttempt, Interval, fit_response_curve
from alignment_engine.optimisation.from_plan import (
    fit_plan_curves,
    predicted_change_intervals,
    problem_from_plan,
)
from alignment_engine.optimisation.frontier import Frontier, FrontierPoint, budget_frontier
from alignment_engine.optimisation.goal_seeking import GoalSeek, least_total_for
from alignment_engine.optimisation.problem import (
    CurveRecord,
    CurveTable,
    KpiRecord,
    Kpis,
    Membership,
    Pools,
    ReallocationProblem,
    ResourceRecord,
    problem_from_records,
)
from alignment_engine.optimisation.reallocation import ReallocationOptions, suggest_reallocation
from alignment_engine.optimisation.response_curves import ResponseCurve, Shape
from alignment_engine.optimisation.result import (
    AllocationChange,
    AllocationTable,
    BoundStatus,
    KpiPrediction,
    KpiTable,
    Method,
    PerformanceChange,
    PerformanceTable,
    ReallocationResult,
    ResourceSummary,
    Status,
)

__all__ = [
    "AllocationChange",
    "AllocationTable",
    "BoundStatus",
    "CurveFit",
    "CurveRecord",
    "CurveTable",
    "FitAttempt",
    "Frontier",
    "FrontierPoint",
    "GoalSeek",
    "Interval",
    "KpiPrediction",
    "KpiRecord",
    "KpiTable",
    "Kpis",
    "Membership",
    "Method",
    "PerformanceChange",
    "PerformanceTable",
    "Pools",
    "ReallocationOptions",
    "ReallocationProblem",
    "ReallocationResult",
    "ResourceRecord",
    "ResourceSummary",
    "ResponseCurve",
    "Shape",
    "Status",
    "budget_frontier",
    "fit_plan_curves",
    "fit_response_curve",
    "least_total_for",
    "predicted_change_intervals",
    "problem_from_plan",
    "problem_from_records",
    "suggest_reallocation",
]
