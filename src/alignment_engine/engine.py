"""The facade that the CLI, the HTTP service and library users call.

Each function takes validated documents (and pandas tables) and returns a result object whose
``to_dict()`` is the command's ``--format json`` shape (docs/cli.md). Nothing here imports click, FastAPI or
SQLAlchemy: storing a run is the caller's choice (see ``alignment_engine.storage``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignment_engine.conflicts import pool_totals
from alignment_engine.errors import InputError
from alignment_engine.memo import ObjectMemo
from alignment_engine.model import Plan, Policy
from alignment_engine.model.findings import shown_texts
from alignment_engine.ruleset.expressions import brief

if TYPE_CHECKING:
    import pandas as pd

    from alignment_engine.model.findings import CheckResult
    from alignment_engine.optimisation import Frontier, GoalSeek, ReallocationResult
    from alignment_engine.rulepacks import PackSource
    from alignment_engine.scoring.result import ScoreResult
    from alignment_engine.scoring.scorecard import Scorecard
    from alignment_engine.scoring.simulation import SimulationResult

__all__ = [
    "OptimiseOptions",
    "ScoreResult",
    "brief",
    "check_plan",
    "pool_totals",
    "reallocation_document",
    "score_period",
    "scorecard",
    "shown_texts",
    "simulate_policy",
    "suggest_reallocation",
]


def __getattr__(name: str) -> Any:
    # Scoring (and pandas with it) loads when a score needs it, not for every check.
    if name == "ScoreResult":
        from alignment_engine.scoring.result import ScoreResult

        return ScoreResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class OptimiseOptions:
    """The ``optimise`` command's options (docs/cli.md: --resource, --shared-weight, --balance,
    --keep-total, --increment)."""

    resources: tuple[str, ...] | None = None
    shared_weight: float = 0.3
    balance: float = 0.1
    keep_total: bool = False
    # --increment RESOURCE=AMOUNT: only new money is allocated (today's amounts are kept).
    increments: tuple[tuple[str, float], ...] = ()
    # --target KPI=VALUE: the least total of a resource that takes the KPI to the value.
    target: tuple[str, float] | None = None
    # --frontier RESOURCE (with --frontier-points N): the best objective at each total.
    frontier: tuple[str, int] | None = None


def check_plan(
    plan: Plan,
    policy: Policy | None = None,
    rule_dirs: Sequence[PackSource] = (),
    *,
    language: str = "en",
) -> CheckResult:
    """Alignment and conflict findings (shipped rule packs plus ``rule_dirs``: folders or files
    of user packs, or packs already loaded); with ``language`` (``zh-CN``) each finding whose
    rule is translated carries its texts in that language as well."""
    from alignment_engine.checking import check_plan as run_checks

    return run_checks(
        plan, policy, extra_packs=[_pack_source(d) for d in rule_dirs], language=language
    )


def _pack_source(source: PackSource) -> PackSource:
    return Path(source) if isinstance(source, str) else source


def score_period(
    plan: Plan,
    policy: Policy,
    actuals: pd.DataFrame,
    employees: pd.DataFrame | None,
    period: str,
    *,
    accept_findings: bool = False,
    adjustments: pd.DataFrame | None = None,
    lots: pd.DataFrame | None = None,
    restates: tuple[str, pd.DataFrame] | None = None,
    fx: pd.DataFrame | None = None,
) -> ScoreResult:
    """Quarter-end scoring: KPI results, department scores, employee payouts, totals.

    Refuses (PolicyError) a plan with findings that make payouts wrong on KPIs it pays on:
    KPI weights that do not sum to 1, KPIs without a target, levels against the KPI's direction
    (``alignment.payroll_blockers``), unless ``accept_findings``. Other findings, conflicts
    included, never stop a payroll run.

    Gates are decided by the rule engine (one rule per gate, over the KPI, department and
    company results); the per-employee arithmetic stays vectorised in ``scoring``. ``lots`` and
    ``restates``: pay across periods and restatements; ``fx``: pay in employees' currencies
    (``scoring.score_period``)."""
    from alignment_engine.ruleset.gate_rules import rule_gate_outcomes
    from alignment_engine.scoring import score_period as run_scoring

    if not accept_findings:
        _refuse_broken_payroll(plan, policy, employees)

    return run_scoring(
        plan,
        policy,
        actuals,
        employees,
        period,
        adjustments=adjustments,
        lots=lots,
        restates=restates,
        fx=fx,
        evaluate_gates=rule_gate_outcomes,
    )


def simulate_policy(
    plan: Plan,
    policy: Policy,
    results: pd.DataFrame | None,
    employees: pd.DataFrame,
    *,
    period: str | None = None,
    distributions: pd.DataFrame | None = None,
    draws: int = 10_000,
    seed: int = 0,
    accept_findings: bool = False,
) -> SimulationResult:
    """A Monte Carlo of the policy's cost (docs/cli.md, ``policy simulate``): each draw's
    results paid as ``score`` pays them, before the pool. ``results`` are past periods (each
    one equally likely, resampled whole) or, with ``distributions``, the period the drawn KPIs
    vary around. Gates in ``score`` are the rule engine's; here they are decided on arrays of
    draws by the same comparisons (held to the same payouts by the tests)."""
    from alignment_engine.ruleset.gate_rules import rule_gate_outcomes
    from alignment_engine.scoring.simulation import simulate_policy as run_simulation

    if not accept_findings:  # what score refuses to pay, simulate refuses to price
        _refuse_broken_payroll(plan, policy, employees)
    return run_simulation(
        plan,
        policy,
        results,
        employees,
        period=period,
        distributions=distributions,
        draws=draws,
        seed=seed,
        evaluate_gates=rule_gate_outcomes,
    )


def scorecard(
    plan: Plan,
    actuals: pd.DataFrame,
    period: str,
    *,
    department: str | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Scorecard:
    """The Balanced Scorecard of a period: KPI, objective, perspective and overall scores and
    statuses (docs/cli.md, `scorecard`), for the company or one ``department`` (its subtree
    and the shared goals it belongs to). ``previous`` is the preceding period's scorecard as
    :func:`scorecard_trend` reads it from a stored run (``run_id``, ``period``, ``scores``),
    for each item's ``previous`` and ``change``; None gives no trend. No policy is involved."""
    from alignment_engine.scoring.scorecard import score_scorecard

    scores = None if previous is None else dict(previous.get("scores") or {})
    compared = (
        None
        if previous is None
        else {"run_id": previous.get("run_id"), "period": previous.get("period")}
    )
    return score_scorecard(
        plan, [actuals], period, department=department, previous=scores, compared_with=compared
    )


_BLOCKERS: ObjectMemo[list[Any]] = ObjectMemo(64)


def _refuse_broken_payroll(plan: Plan, policy: Policy, employees: pd.DataFrame | None) -> None:
    from alignment_engine.alignment import payroll_blockers
    from alignment_engine.errors import PolicyError, Problem

    paid = None
    if employees is not None and "department" in employees.columns:
        paid = set(employees["department"].astype(str).unique().tolist())
    components = policy.components
    if not components.department:
        paid = set()
    blockers = _BLOCKERS.get(
        (plan, policy),
        None if paid is None else frozenset(paid),
        lambda: payroll_blockers(
            plan, paid, company=components.company > 0, shared=components.shared > 0
        ),
    )
    if not blockers:
        return
    advice = (
        "fix the plan (`alignment-engine check PLAN` lists these findings), or pass "
        "--accept-findings (HTTP: options.accept_findings) to pay anyway; the run records it"
    )
    raise PolicyError(
        problems=[
            # Not a file problem (the plan validates): the finding and its scope say where.
            Problem(f"{b.rule}: {b.message}; payouts on it would be wrong", suggestion=advice)
            for b in blockers
        ]
    )


def suggest_reallocation(
    plan: Plan,
    options: OptimiseOptions | None = None,
    fits: Mapping[Any, Any] | None = None,
    pay: Any = None,
) -> ReallocationResult:
    """A reallocation of the plan's resources per the optimisation model of docs/cli.md (``optimise``). ``fits`` are the
    curves fitted from history (``optimisation.fit_plan_curves``) for curves marked
    ``fit: history``."""
    from alignment_engine.optimisation import (
        ReallocationOptions,
        problem_from_plan,
    )
    from alignment_engine.optimisation import (
        suggest_reallocation as solve,
    )

    options = options or OptimiseOptions()
    problem = problem_from_plan(plan, fits=fits)
    return solve(
        problem,
        ReallocationOptions(
            shared_weight=options.shared_weight,
            balance=options.balance,
            keep_total=options.keep_total,
            resources=options.resources,
            increments=options.increments,
            # ``pay`` (an ``incentives.PayModel``) with a bound refuses moves that cost a
            # department more of its bonus than the bound allows.
            guard=None if pay is None else pay.guard(problem.kpis.ids),
        ),
    )


def seek_target(
    plan: Plan, options: OptimiseOptions, fits: Mapping[Any, Any] | None = None
) -> GoalSeek:
    """``optimise --target KPI=VALUE``: the least total of one resource (``options.resources``
    names it when several move the KPI) that takes the KPI to the value."""
    from alignment_engine.optimisation import least_total_for, problem_from_plan

    if options.target is None:  # pragma: no cover - callers check
        raise InputError("no --target given")
    resources = options.resources or ()
    if len(resources) > 1:
        raise InputError("--target allocates one resource: give at most one --resource")
    kpi, value = options.target
    problem = problem_from_plan(plan, fits=fits)
    return least_total_for(problem, kpi, value, resources[0] if resources else None)


def budget_frontier(
    plan: Plan, options: OptimiseOptions, fits: Mapping[Any, Any] | None = None
) -> Frontier:
    """``optimise --frontier RESOURCE``: the best objective at each total of the resource."""
    from alignment_engine.optimisation import (
        ReallocationOptions,
        problem_from_plan,
    )
    from alignment_engine.optimisation import budget_frontier as frontier_of

    if options.frontier is None:  # pragma: no cover - callers check
        raise InputError("no --frontier given")
    resource, points = options.frontier
    return frontier_of(
        problem_from_plan(plan, fits=fits),
        resource,
        ReallocationOptions(shared_weight=options.shared_weight, balance=options.balance),
        points,
    )


def reallocation_document(
    result: ReallocationResult, fits: Mapping[Any, Any] | None = None
) -> dict[str, Any]:
    """The optimise JSON; with fitted curves each predicted KPI carries ``change_interval``
    (the predicted change with its 90% interval, from the fits' parameter uncertainty)."""
    document = result.to_dict()
    if not fits:
        return document
    from alignment_engine.optimisation import predicted_change_intervals

    moves = {
        (row["resource"], row["department"]): (row["current"], row["proposed"])
        for row in document["allocations"]
    }
    intervals = predicted_change_intervals(fits, moves)
    for row in document["predicted"]:
        interval = intervals.get(row["kpi"])
        if interval is not None:
            row["change_interval"] = {
                "estimate": interval.estimate,
                "low": interval.low,
                "high": interval.high,
                "level": interval.level,
            }
    return document
