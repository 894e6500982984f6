"""Structural facts about a plan that rules read: weight sums, objective coverage, level order.

Rules cannot add up numbers across facts (durable_rules has no aggregates), so the sums the
alignment rules need are computed here, in plain Python, and handed to the rules as facts
(see :mod:`alignment_engine.ruleset.facts`). The judgements themselves (what is a problem, how
severe, what to say) live in the rule packs, not here, with one exception:
:func:`payroll_blockers`, the three findings that stop a payroll run, decided here in plain
Python so that scoring never waits for a full check.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field

from alignment_engine.model import Direction, Horizon, Kpi, Plan

__all__ = [
    "Coverage",
    "PayrollBlocker",
    "WeightTotal",
    "levels_in_order",
    "objective_coverage",
    "payroll_blockers",
    "weight_totals",
    "weights_normalised",
]

WEIGHT_TOLERANCE = 1e-6  # relative: 0.9999999 sums to 1 after decimal rounding in YAML


def weights_normalised(total: float) -> bool:
    """Weights inside a scope sum to 1 (fractions) or to 100 (percentages)."""
    return abs(total - 1.0) <= WEIGHT_TOLERANCE or abs(total - 100.0) <= 100 * WEIGHT_TOLERANCE


@dataclass(frozen=True)
class WeightTotal:
    """The KPI weights of one scored scope: the company's KPIs or one department's."""

    scope: str  # 'company' or the department id
    total: float
    kpis: tuple[str, ...]

    @property
    def normalised(self) -> bool:
        return weights_normalised(self.total)


def weight_totals(plan: Plan) -> list[WeightTotal]:
    """One total per scope that has KPIs (shared goals are averaged, so carry no weights)."""
    totals = []
    if plan.company_kpis:
        totals.append(
            WeightTotal(
                "company",
                sum(k.weight for k in plan.company_kpis),
                tuple(k.id for k in plan.company_kpis),
            )
        )
    for department in plan.departments:
        if department.kpis:
            totals.append(
                WeightTotal(
                    department.id,
                    sum(k.weight for k in department.kpis),
                    tuple(k.id for k in department.kpis),
                )
            )
    return totals


@dataclass
class Coverage:
    """Which KPIs (company, department and shared goals) serve one objective."""

    objective: str
    kpis: list[str] = field(default_factory=list)
    short: list[str] = field(default_factory=list)
    long: list[str] = field(default_factory=list)


def objective_coverage(plan: Plan) -> dict[str, Coverage]:
    """Objective id -> the KPIs linked to it, split by their horizon."""
    coverage = {objective.id: Coverage(objective.id) for objective in plan.objectives}
    for _, kpi in plan.kpis():
        for objective_id in kpi.objectives:
            entry = coverage.get(objective_id)
            if entry is None:  # pragma: no cover - the plan validator rejects unknown ids
                continue
            entry.kpis.append(kpi.id)
            (entry.short if kpi.horizon is Horizon.SHORT else entry.long).append(kpi.id)
    return coverage


def levels_in_order(kpi: Kpi) -> bool:
    """Threshold, target and maximum (those given) run the way the KPI's direction says.

    ``increase``: threshold < target < maximum; ``decrease``: the reverse. ``maintain`` KPIs
    have no order to break. (The shipped rule ``levels-out-of-order`` says the same.)
    """
    levels = [v for v in (kpi.threshold, kpi.target, kpi.maximum) if v is not None]
    direction = kpi.effective_direction
    if direction is Direction.MAINTAIN:
        return True
    pairs = list(itertools.pairwise(levels))
    if direction is Direction.INCREASE:
        return all(a < b for a, b in pairs)
    return all(a > b for a, b in pairs)


@dataclass(frozen=True)
class PayrollBlocker:
    """A finding that makes payouts wrong, on a KPI a score pays on: the standard rule it is
    (``weights-not-normalised``, ``missing-target``, ``levels-out-of-order``) and what is wrong."""

    rule: str
    scope: str
    kpis: tuple[str, ...]
    message: str


def payroll_blockers(
    plan: Plan, paid_scopes: Collection[str] | None, company: bool, shared: bool
) -> list[PayrollBlocker]:
    """What stops a payroll run: weights of a paid scope that do not sum to 1 (scoring would
    rescale them silently), KPIs without a target, levels against the KPI's direction.

    ``paid_scopes``: the departments paid (None: all); ``company`` and ``shared``: whether the
    policy pays on the company's KPIs and on shared goals. The same conditions as the shipped
    rules of those names, so ``check`` lists the same findings."""

    def paid(scope: str) -> bool:
        if scope == "company":
            return company
        if scope in shared_ids:
            return shared
        return paid_scopes is None or scope in paid_scopes

    shared_ids = {goal.id for goal in plan.shared_goals}
    blockers = [
        PayrollBlocker(
            "weights-not-normalised",
            total.scope,
            total.kpis,
            f"the KPI weights of {total.scope} add up to {total.total:g}, not to 1 (or 100%)",
        )
        for total in weight_totals(plan)
        if paid(total.scope) and not total.normalised
    ]
    for scope, kpi in plan.kpis():
        if not paid(scope):
            continue
        if kpi.target is None:
            blockers.append(
                PayrollBlocker("missing-target", scope, (kpi.id,), f"{kpi.id} has no target")
            )
        elif not levels_in_order(kpi):
            blockers.append(
                PayrollBlocker(
                    "levels-out-of-order",
                    scope,
                    (kpi.id,),
                    f"the threshold, target and maximum of {kpi.id} do not run in its "
                    f"direction ({kpi.effective_direction.value})",
                )
            )
    return blockers
