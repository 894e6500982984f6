"""The cost of a policy over many possible outcomes (``policy simulate``), vectorised across
draws.

An *outcome* is one set of KPI results for the period. Each is paid as ``score`` pays it
(curves and matrices, ``caps.kpi``, gates and decision tables, component weights, money limits,
proration, rounding to the cent) *before* the pool is fitted: the question is what the results
would cost, and how often that exceeds the pool.

Two sources of outcomes:

- past periods (:func:`period_outcomes`): each is scored exactly as ``score`` scores it, one
  period at a time (a history has tens of periods; missing results follow the policy's
  ``missing``), and draws resample them whole, so the correlations between KPIs are kept;
- draws (:func:`draw_outcomes`): an ``(N, K)`` matrix of results, one row per draw, scored in
  chunks of draws with every step an array operation over draws x KPIs or draws x employees.
  Gates and decision tables are decided here on arrays: a gate is one comparison per draw,
  the same comparison the rule engine makes for ``score`` (tests hold the two to the same
  payouts, draw by draw).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, PolicyError, Problem
from alignment_engine.model.decision_tables import DecisionTable
from alignment_engine.model.plan import Plan
from alignment_engine.model.policy import Comparison, Gate, Policy
from alignment_engine.scoring.actuals import (
    ActualRows,
    ResolvedActuals,
    check_actual_rows,
    resolve_actuals,
)
from alignment_engine.scoring.amount_limits import AmountLimits, ComponentLimits
from alignment_engine.scoring.catalogue import KpiCatalogue, build_catalogue, place
from alignment_engine.scoring.combine import (
    COMPONENTS,
    NOISE_DECIMALS,
    denoise,
    department_factors,
)
from alignment_engine.scoring.decision_tables import decide_table
from alignment_engine.scoring.distributions import (
    KpiDistribution,
    check_distributions,
    draw_results,
)
from alignment_engine.scoring.employees import EmployeeTable, check_employees
from alignment_engine.scoring.gate_effects import GateEvaluator, apply_effects, gate_subject
from alignment_engine.scoring.missing import check_missing
from alignment_engine.scoring.money import to_units
from alignment_engine.scoring.payout_curves import (
    apply_cap,
)
from alignment_engine.scoring.payout_matrix import evaluate_matrix
from alignment_engine.scoring.periods import Period, parse_period
from alignment_engine.scoring.score import score_resolved
from alignment_engine.scoring.tables import TableSource

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DRAWS_PER_CHUNK_CELLS = 2_000_000
"""About how many (draw, employee) cells one chunk holds: a few arrays of this many doubles
stay near 100 MB whatever the company's size."""


@dataclass(frozen=True)
class Outcomes:
    """What each outcome pays, before the pool: totals and per-department totals in units of
    the rounding (cents), and the performance each was paid for."""

    units: IntArray  # (N,)
    department_units: IntArray  # (N, D)
    performance: FloatArray  # (N,): the company score before gates (see ``performance_of``)
    labels: tuple[str, ...] = ()  # the past period of each outcome, when they are periods
    skipped: tuple[str, ...] = ()  # past periods left out: the policy could not score them


def performance_label(catalogue: KpiCatalogue) -> str:
    """What ``Outcomes.performance`` measures for this plan."""
    has_company = any(e.scope == "company" for e in catalogue.entries)
    return "company score" if has_company else "mean department score"


@dataclass(frozen=True)
class _Effects:
    """The combined effect of gates and tables on one target, one value per draw."""

    multiply: FloatArray
    add: FloatArray
    cap: FloatArray
    zero: BoolArray

    @classmethod
    def identity(cls, count: int) -> _Effects:
        return cls(
            np.ones(count),
            np.zeros(count),
            np.full(count, np.inf),
            np.zeros(count, dtype=np.bool_),
        )

    def then(self, other: _Effects) -> _Effects:
        return _Effects(
            self.multiply * other.multiply,
            self.add + other.add,
            np.minimum(self.cap, other.cap),
            self.zero | other.zero,
        )

    def apply(self, values: FloatArray) -> FloatArray:
        """As :meth:`Modifier.apply <alignment_engine.scoring.gate_effects.Modifier.apply>`:
        multiply, then add (never below 0), then cap, then zero; broadcast over the last axis
        of ``values`` when it is wider than one value per draw."""
        shape = (-1,) + (1,) * (values.ndim - 1)
        return apply_effects(
            values,
            self.multiply.reshape(shape),
            self.add.reshape(shape),
            self.cap.reshape(shape),
            self.zero.reshape(shape),
        )


def _holds(comparison: Comparison, values: FloatArray) -> BoolArray:
    """``comparison`` on each value; no result (NaN) never holds, as a gate on a missing
    result does not fire."""
    with np.errstate(invalid="ignore"):
        result = ~np.isnan(values)
        if comparison.lt is not None:
            result &= values < comparison.lt
        if comparison.lte is not None:
            result &= values <= comparison.lte
        if comparison.gt is not None:
            result &= values > comparison.gt
        if comparison.gte is not None:
            result &= values >= comparison.gte
        if comparison.eq is not None:
            result &= values == comparison.eq
    return result


def _gate_effect(gate: Gate, fired: BoolArray) -> _Effects:
    count = fired.shape[0]
    effects = _Effects.identity(count)
    effect = gate.effect
    if effect.zero:
        return _Effects(effects.multiply, effects.add, effects.cap, fired.copy())
    if effect.cap is not None:
        return _Effects(
            effects.multiply, effects.add, np.where(fired, float(effect.cap), np.inf), effects.zero
        )
    factor = float(effect.multiply if effect.multiply is not None else 1.0)
    return _Effects(np.where(fired, factor, 1.0), effects.add, effects.cap, effects.zero)


def _table_effect(table: DecisionTable, value: FloatArray) -> _Effects:
    count = value.shape[0]
    fired = ~np.isnan(value)
    effects = _Effects.identity(count)
    kind = str(table.effect)
    if kind == "multiply":
        return _Effects(np.where(fired, value, 1.0), effects.add, effects.cap, effects.zero)
    if kind == "add":
        return _Effects(effects.multiply, np.where(fired, value, 0.0), effects.cap, effects.zero)
    return _Effects(effects.multiply, effects.add, np.where(fired, value, np.inf), effects.zero)


@dataclass(frozen=True)
class _Layout:
    """What every chunk of draws shares: the plan's scopes as index arrays and matrices."""

    shares: FloatArray  # (K, S): each KPI's share of its scope's score
    counts: FloatArray  # (S,): KPIs per scope
    departments: slice
    goal_rows: IntArray
    goal_members: FloatArray  # (G, D): 1 where a department is in a goal
    goal_counts: FloatArray  # (D,)
    component_weight: FloatArray  # (D, 4)
    department_ids: tuple[str, ...]
    attainment_read: BoolArray  # (K,): KPIs whose attainment pays or is read by a gate/table


def _layout(plan: Plan, policy: Policy, catalogue: KpiCatalogue) -> _Layout:
    department_ids = [d.id for d in plan.departments]
    goal_ids = [g.id for g in plan.shared_goals]
    scopes = ["company", *department_ids, *goal_ids]
    index = {scope: i for i, scope in enumerate(scopes)}
    scope_of_kpi = np.array([index[e.scope] for e in catalogue.entries], dtype=np.int64)
    # Each KPI's share of its scope as scope_scores computes it (weights over their sum, equal
    # shares when they are all zero), every KPI scored.
    totals = np.bincount(scope_of_kpi, weights=catalogue.weight, minlength=len(scopes))
    counts = np.bincount(scope_of_kpi, minlength=len(scopes)).astype(np.float64)
    equal = (totals == 0) & (counts > 0)
    used = np.where(equal[scope_of_kpi], 1.0, catalogue.weight)
    totals = np.where(equal, counts, totals)
    shares = np.zeros((len(catalogue), len(scopes)))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares[np.arange(len(catalogue)), scope_of_kpi] = used / totals[scope_of_kpi]
    position = {d: i for i, d in enumerate(department_ids)}
    members = np.zeros((len(goal_ids), len(department_ids)))
    for number, goal in enumerate(plan.shared_goals):
        for department in goal.departments:
            members[number, position[department]] = 1.0
    departments = slice(1, 1 + len(department_ids))
    # Which components each department has does not change from draw to draw.
    sample = np.where(counts > 0, 1.0, np.nan)
    member_count = members.sum(axis=0)
    weights = department_factors(
        department_ids=department_ids,
        policy_weight={c: float(getattr(policy.components, c)) for c in COMPONENTS},
        company_score=float(sample[0]),
        department_score=sample[departments],
        shared_score=np.where(member_count > 0, 1.0, np.nan),
        modifiers={},
        employee_cap=None,
    ).weight
    read = ~catalogue.levels_basis | catalogue.maintain
    for binding in catalogue.matrices:
        read[list(binding.rows)] = True
    subjects = [gate_subject(g)[:2] for g in policy.gates] + [
        (i.subject, i.read) for t in policy.tables for i in t.inputs
    ]
    for subject, measure in subjects:
        if subject.startswith("kpi:") and measure == "attainment":
            read[catalogue.row_of[subject.removeprefix("kpi:")]] = True
    return _Layout(
        attainment_read=read,
        shares=shares,
        counts=counts,
        departments=departments,
        goal_rows=np.array([catalogue.row_of[g] for g in goal_ids], dtype=np.int64),
        goal_members=members,
        goal_counts=member_count,
        component_weight=weights,
        department_ids=tuple(department_ids),
    )


def _scores(factor: FloatArray, layout: _Layout) -> FloatArray:
    with np.errstate(invalid="ignore"):
        summed = factor @ layout.shares
    result: FloatArray = np.where(layout.counts > 0, denoise(summed), np.nan)
    return result


def draw_outcomes(
    plan: Plan,
    policy: Policy,
    catalogue: KpiCatalogue,
    table: EmployeeTable,
    proration: FloatArray,
    actual: FloatArray,
    *,
    progress: Callable[[int], None] | None = None,
) -> Outcomes:
    """Pay each row of ``actual`` (``(N, K)``, catalogue order, every value present)."""
    if table.person is not None:
        raise InputError(
            "policy simulate pays one row per employee; these employees have several rows "
            "(transfers)",
            key="employees",
            suggestion="give each employee the row of the department they end the period in",
        )
    if np.isnan(actual).any():
        raise InputError("every draw needs a result for every KPI", key="distributions")
    layout = _layout(plan, policy, catalogue)
    count = actual.shape[0]
    # A chunk's widest arrays: draws x employees, and draws x KPIs x curve points.
    size = max(len(table), len(catalogue) * catalogue.curves.xs.shape[1], 1)
    chunk = max(1, min(count, DRAWS_PER_CHUNK_CELLS // size))
    order = np.argsort(table.department, kind="stable")
    headcount = np.bincount(table.department, minlength=len(layout.department_ids))
    present = headcount > 0  # departments with employees, whose payouts reduceat sums
    starts = np.searchsorted(table.department[order], np.flatnonzero(present))
    units = np.zeros(count, dtype=np.int64)
    department_units = np.zeros((count, len(layout.department_ids)), dtype=np.int64)
    performance = np.zeros(count, dtype=np.float64)
    for first in range(0, count, chunk):
        part = slice(first, min(count, first + chunk))
        paid, performed = _pay_chunk(
            plan, policy, catalogue, layout, table, proration, actual[part]
        )
        units[part] = paid.sum(axis=1)
        if len(table):
            department_units[part][:, present] = np.add.reduceat(paid[:, order], starts, axis=1)
        performance[part] = performed
        if progress is not None:
            progress(part.stop)
    return Outcomes(units=units, department_units=department_units, performance=performance)


def _pay_chunk(
    plan: Plan,
    policy: Policy,
    catalogue: KpiCatalogue,
    layout: _Layout,
    table: EmployeeTable,
    proration: FloatArray,
    actual: FloatArray,
) -> tuple[IntArray, FloatArray]:
    """Units paid to each employee in each draw of the chunk, and each draw's performance."""
    draws = actual.shape[0]
    found = place(catalogue, actual, layout.attainment_read)
    attained, exact = found.attained, found.exact
    factor = catalogue.curves.evaluate_columns(found.position, found.placed)
    for binding in catalogue.matrices:
        columns = list(binding.rows)
        on_matrix = evaluate_matrix(binding.matrix, attained[:, columns], exact[:, columns]).factor
        factor[:, columns] = on_matrix[:, None]
    kpi_cap = None if policy.caps.kpi is None else float(policy.caps.kpi)
    capped = apply_cap(denoise(factor), kpi_cap)

    before = _scores(capped, layout)
    company_before = before[:, 0]
    kpi_row = catalogue.row_of

    def value_of(subject: str, measure: str) -> FloatArray:
        if subject == "company":
            return company_before
        kind, _, ref = subject.partition(":")
        if kind == "department":
            return before[:, 1 + layout.department_ids.index(ref)]
        values = attained if measure == "attainment" else actual
        return values[:, kpi_row[ref]]

    effects: dict[str, _Effects] = {}
    for gate in policy.gates:
        subject, measure, comparison = gate_subject(gate)
        fired = _holds(comparison, value_of(subject, measure))
        single = _gate_effect(gate, fired)
        effects[gate.applies_to] = effects.get(gate.applies_to, _Effects.identity(draws)).then(
            single
        )
    for decision in policy.tables:
        columns_read = [value_of(i.subject, i.read) for i in decision.inputs]
        single = _table_effect(decision, decide_table(decision, columns_read).value)
        effects[decision.applies_to] = effects.get(
            decision.applies_to, _Effects.identity(draws)
        ).then(single)

    kpi_factor = capped.copy()
    for target, effect in effects.items():
        if target.startswith("kpi:"):
            row = kpi_row[target.removeprefix("kpi:")]
            kpi_factor[:, row] = effect.apply(kpi_factor[:, row])
    kpi_factor = apply_cap(denoise(kpi_factor), kpi_cap)

    after = _scores(kpi_factor, layout)
    company = after[:, 0]
    if "company" in effects:
        company = effects["company"].apply(company)
    # Python's round, as score rounds it: numpy's differs in the last place for some values.
    company = np.array([round(float(v), NOISE_DECIMALS) for v in company], dtype=np.float64)
    department_score = after[:, layout.departments]
    if layout.goal_rows.size:
        goal_factor = kpi_factor[:, layout.goal_rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            shared = np.where(
                layout.goal_counts > 0,
                denoise((goal_factor @ layout.goal_members) / np.maximum(layout.goal_counts, 1)),
                np.nan,
            )
    else:
        shared = np.full(department_score.shape, np.nan)
    weight = layout.component_weight
    scores = np.stack(
        [
            np.broadcast_to(np.nan_to_num(company, nan=0.0)[:, None], department_score.shape),
            np.nan_to_num(department_score, nan=0.0),
            np.nan_to_num(shared, nan=0.0),
        ],
        axis=2,
    )
    fixed = (weight[None, :, :3] * scores).sum(axis=2)  # (draws, D)

    department = table.department
    individual = table.individual_score
    limits = ComponentLimits.of(policy)
    if limits is None:
        before_gates = denoise(fixed[:, department] + (weight[department, 3] * individual)[None, :])
    else:
        people = len(table)
        parts = np.concatenate(
            [
                (weight[None, :, :3] * scores)[:, department, :],
                np.broadcast_to(
                    (weight[department, 3] * individual)[None, :, None], (draws, people, 1)
                ),
            ],
            axis=2,
        ).reshape(draws * people, 4)
        limited, _ = limits.apply(parts, np.tile(table.target_bonus, draws))
        before_gates = denoise(limited.sum(axis=1)).reshape(draws, people)

    # Each department's effects as (draws, D) columns: `all`'s, then its own where it has any;
    # each employee reads their department's column.
    everyone = effects.get("all", _Effects.identity(draws))
    width = len(layout.department_ids)
    multiply = np.repeat(everyone.multiply[:, None], width, axis=1)
    add = np.repeat(everyone.add[:, None], width, axis=1)
    cap = np.repeat(everyone.cap[:, None], width, axis=1)
    zero = np.repeat(everyone.zero[:, None], width, axis=1)
    column_of = {d: i for i, d in enumerate(layout.department_ids)}
    for target, effect in effects.items():
        kind, _sep, ref = target.partition(":")
        if kind != "department" or ref not in column_of:
            continue
        column = column_of[ref]
        combined = everyone.then(effect)
        multiply[:, column], add[:, column] = combined.multiply, combined.add
        cap[:, column], zero[:, column] = combined.cap, combined.zero
    after_gates = denoise(
        apply_effects(
            before_gates,
            multiply[:, department],
            add[:, department],
            cap[:, department],
            zero[:, department],
        )
    )
    employee_cap = policy.caps.employee
    final = after_gates if employee_cap is None else np.minimum(after_gates, float(employee_cap))

    amount = table.target_bonus[None, :] * final * proration[None, :]
    decimals = int(policy.rounding.decimals)
    mode = str(policy.rounding.mode)
    money = AmountLimits.of(policy)
    flat = amount.ravel()
    if money is None:
        units = to_units(flat, decimals, mode)
    else:
        tiled = np.tile(proration, draws)
        limited_amount, code = money.amounts(flat, tiled)
        units, _ = money.units(
            to_units(limited_amount, decimals, mode), flat, tiled, code, decimals
        )
    paid: IntArray = units.reshape(draws, len(table))

    if performance_label(catalogue) == "company score":
        performance: FloatArray = company_before
    else:
        # as period_outcomes: the departments' scores after KPI gates
        scored = ~np.isnan(department_score)
        with np.errstate(invalid="ignore", divide="ignore"):
            performance = np.where(
                scored.any(axis=1),
                np.nansum(department_score, axis=1) / scored.sum(axis=1),
                np.nan,
            )
    return paid, performance


def outcome_periods(rows: ActualRows, kind: str) -> list[Period]:
    """The periods of ``kind`` a results table reports, directly or through its sub-periods
    (a quarter's months), in order."""
    found: set[Period] = set()
    for period in rows.periods.values():
        current: Period | None = period
        while current is not None and current.kind != kind:
            current = current.parent() if _finer(current.kind, kind) else None
        if current is not None:
            found.add(current)
    return sorted(found)


def _finer(kind: str, than: str) -> bool:
    order = {"month": 0, "quarter": 1, "year": 2}
    return order[kind] < order[than]


def period_outcomes(
    plan: Plan,
    policy: Policy,
    catalogue: KpiCatalogue,
    rows: ActualRows,
    table: EmployeeTable,
    period: Period,
    evaluate_gates: GateEvaluator,
    *,
    source: str,
) -> Outcomes:
    """Each past period's results paid to today's employees for ``period`` (their proration),
    exactly as ``score`` pays them, before the pool."""
    periods = outcome_periods(rows, period.kind)
    if not periods:
        raise InputError(
            f"{source} reports no {period.kind} to take as an outcome",
            key="period",
            suggestion=f"give results by {period.kind}, or a --period of the kind they have",
        )
    unpooled = policy.model_copy(update={"pool": None})
    complete: list[tuple[Period, ResolvedActuals]] = []
    refusal: InputError | None = None
    for past in periods:
        resolved = resolve_actuals(rows, plan, catalogue, past)
        try:
            check_missing(
                resolved, rows, plan, catalogue, past, source=source, mode=str(policy.missing)
            )
        except InputError as error:
            # A history starts and ends where it does (2023 from its fourth quarter, this
            # year so far): a period the policy cannot score is no outcome, and is listed.
            refusal = error
            continue
        complete.append((past, resolved))
    if not complete:
        assert refusal is not None
        raise refusal
    skipped = tuple(p.label for p in periods if p not in {c for c, _r in complete})
    periods = [c for c, _r in complete]
    units = np.zeros(len(periods), dtype=np.int64)
    department_units = np.zeros((len(periods), len(plan.departments)), dtype=np.int64)
    performance = np.zeros(len(periods), dtype=np.float64)
    for number, (_past, resolved) in enumerate(complete):
        result = score_resolved(plan, unpooled, catalogue, resolved, table, period, evaluate_gates)
        units[number] = result.totals.payout_units
        department_units[number] = [d.payout_units for d in result.departments]
        if performance_label(catalogue) == "company score":
            performance[number] = result.company_score_before_gates
        else:
            scores = [d.score for d in result.departments if d.score is not None]
            performance[number] = float(np.mean(scores)) if scores else np.nan
    return Outcomes(
        units=units,
        department_units=department_units,
        performance=performance,
        labels=tuple(p.label for p in periods),
        skipped=skipped,
    )


PAY_FOR_PERFORMANCE_BINS = 10


@dataclass(frozen=True)
class SimulationResult:
    """The cost of a policy over the draws (docs/cli.md, ``policy simulate``): amounts in
    units of the rounding (cents), shown in the currency by :meth:`to_dict`."""

    plan_id: str
    policy_id: str
    period: str
    source: str  # "history" or "distributions"
    draws: int
    seed: int
    currency: str
    decimals: int
    pool_units: int | None
    target_units: int  # what everyone's target bonus (prorated) adds up to
    totals: IntArray  # (N,) each draw's total before the pool
    department_totals: IntArray  # (N, D)
    performance: FloatArray  # (N,)
    performance_measure: str
    department_ids: tuple[str, ...]
    periods: tuple[tuple[str, int], ...] = ()  # history: each past period's total
    skipped_periods: tuple[str, ...] = ()  # history: periods with results the policy refused

    def _money(self, units: float) -> float:
        return float(round(units / 10**self.decimals, self.decimals))

    def _quantiles(self, values: IntArray) -> dict[str, float]:
        # Quantiles are draws' totals (no interpolation between draws): exact amounts.
        p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9], method="inverted_cdf")
        mean = _round_half_up(float(np.mean(values.astype(np.float64))))
        return {
            "mean": self._money(mean),
            "p10": self._money(int(p10)),
            "p50": self._money(int(p50)),
            "p90": self._money(int(p90)),
        }

    def histogram(self, bins: int = 20) -> list[dict[str, float | int]]:
        """How many draws' totals fall in each of ``bins`` equal ranges of amounts."""
        low, high = int(self.totals.min()), int(self.totals.max())
        if low == high:
            return [{"low": self._money(low), "high": self._money(high), "draws": self.draws}]
        edges = np.linspace(low, high, bins + 1)
        counts, _ = np.histogram(self.totals, bins=edges)
        return [
            {
                "low": self._money(round(float(edges[i]))),
                "high": self._money(round(float(edges[i + 1]))),
                "draws": int(counts[i]),
            }
            for i in range(bins)
        ]

    def pay_for_performance(self) -> list[dict[str, float | int]]:
        """Draws grouped by performance into (up to) ten bins of equal counts: each bin's
        performance and its mean cost as a share of the target cost."""
        known = ~np.isnan(self.performance)
        if not known.any():
            return []
        performance = self.performance[known]
        totals = self.totals[known].astype(np.float64)
        order = np.argsort(performance, kind="stable")
        distinct, first_of = np.unique(performance[order], return_index=True)
        if distinct.size <= PAY_FOR_PERFORMANCE_BINS:  # past periods: one bin per outcome
            groups = np.split(order, first_of[1:])
        else:
            groups = np.array_split(order, PAY_FOR_PERFORMANCE_BINS)
        bins = []
        for part in groups:
            if not part.size:
                continue
            mean_total = _round_half_up(float(totals[part].mean()))
            bins.append(
                {
                    "performance_low": round(float(performance[part].min()), 4),
                    "performance_high": round(float(performance[part].max()), 4),
                    "performance_mean": round(float(performance[part].mean()), 4),
                    "draws": int(part.size),
                    "mean_total": self._money(mean_total),
                    "share_of_target": round(mean_total / self.target_units, 4)
                    if self.target_units
                    else 0.0,
                }
            )
        return bins

    def to_dict(self) -> dict[str, object]:
        total: dict[str, object] = dict(self._quantiles(self.totals))
        total["p_over_pool"] = (
            None
            if self.pool_units is None
            else round(float(np.mean(self.totals > self.pool_units)), 6)
        )
        return {
            "plan_id": self.plan_id,
            "policy_id": self.policy_id,
            "period": self.period,
            "source": self.source,
            "draws": self.draws,
            "seed": self.seed,
            "currency": self.currency,
            "pool": None if self.pool_units is None else self._money(self.pool_units),
            "target_total": self._money(self.target_units),
            "total": total,
            "departments": [
                {"department": d, **self._quantiles(self.department_totals[:, i])}
                for i, d in enumerate(self.department_ids)
            ],
            "histogram": self.histogram(),
            "performance_measure": self.performance_measure,
            "pay_for_performance": self.pay_for_performance(),
            "periods": [{"period": p, "total": self._money(u)} for p, u in self.periods],
            "skipped_periods": list(self.skipped_periods),
        }


def _round_half_up(value: float) -> int:
    return int(np.floor(value + 0.5))


def resample(outcomes: Outcomes, draws: int, seed: int) -> Outcomes:
    """``draws`` outcomes drawn with replacement, each equally likely (periods resampled
    whole: every KPI of a draw comes from the same past period)."""
    picks = np.random.default_rng(seed).integers(0, outcomes.units.shape[0], draws)
    return Outcomes(
        units=outcomes.units[picks],
        department_units=outcomes.department_units[picks],
        performance=outcomes.performance[picks],
        labels=outcomes.labels,
        skipped=outcomes.skipped,
    )


MAX_DRAWS = 1_000_000
MAX_DRAWN_RESULTS = 50_000_000
"""The most KPI results drawn at once (draws x KPIs): 400 MB of doubles."""


def simulate_policy(
    plan: Plan,
    policy: Policy,
    results: pd.DataFrame | None,
    employees: pd.DataFrame,
    *,
    period: str | None,
    distributions: pd.DataFrame | None,
    draws: int,
    seed: int,
    evaluate_gates: GateEvaluator,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """The cost of ``policy`` paying ``employees`` over ``draws`` outcomes (docs/cli.md,
    ``policy simulate``): past periods of ``results`` resampled whole, or, with
    ``distributions``, KPI results drawn from them (the others at their result in ``results``
    for ``period``, else at their target)."""
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(f"draws must be between 1 and {MAX_DRAWS:,}, not {draws:,}", key="draws")
    kpi_count = sum(1 for _kpi in plan.kpis())
    if distributions is not None and draws * kpi_count > MAX_DRAWN_RESULTS:
        raise InputError(
            f"{draws:,} draws of {kpi_count:,} KPIs are {draws * kpi_count:,} results, more "
            f"than {MAX_DRAWN_RESULTS:,} held at once",
            key="draws",
            suggestion=f"draw at most {MAX_DRAWN_RESULTS // max(kpi_count, 1):,}",
        )
    if plan.currency.upper() != policy.currency.upper():
        raise PolicyError(
            f"policy '{policy.id}' pays in {policy.currency} but plan '{plan.id}' is in "
            f"{plan.currency}; amounts are not converted",
            key="currency",
        )
    if results is None and distributions is None:
        raise InputError(
            "give past results (--history or --actuals) or --distributions", key="history"
        )
    catalogue = build_catalogue(plan, policy)
    department_ids = [d.id for d in plan.departments]
    problems: list[Problem] = []
    rows = None
    if results is not None:
        try:
            rows = check_actual_rows([results], plan, catalogue)
        except InputError as error:
            problems.extend(error.problems)
    table = None
    try:
        table = check_employees(employees, department_ids, policy.currency)
    except InputError as error:
        problems.extend(error.problems)
    specs = None
    if distributions is not None:
        try:
            specs = check_distributions(distributions, catalogue)
        except InputError as error:
            problems.extend(error.problems)
    if problems or table is None:
        raise InputError(problems=problems)
    target = _planned_period(period, rows)
    proration = table.proration(target, by_days=str(policy.proration) == "days")
    decimals = int(policy.rounding.decimals)
    target_units = int(to_units(table.target_bonus * proration, decimals, "half_up").sum())
    pool_units = (
        None
        if policy.pool is None
        else int(to_units([float(policy.pool.amount)], decimals, "down")[0])
    )
    source_name = "results" if results is None else TableSource.of(results, "results").name
    if specs is None:
        assert rows is not None
        past = period_outcomes(
            plan, policy, catalogue, rows, table, target, evaluate_gates, source=source_name
        )
        outcomes = resample(past, draws, seed)
        source = "history"
        periods = tuple(zip(past.labels, past.units.tolist(), strict=True))
        skipped = past.skipped
    else:
        centre = _centre(plan, catalogue, rows, target, specs)
        drawn = draw_results(specs, centre, catalogue, draws, seed)
        outcomes = draw_outcomes(
            plan, policy, catalogue, table, proration, drawn, progress=progress
        )
        source = "distributions"
        periods = ()
        skipped = ()
    return SimulationResult(
        plan_id=plan.id,
        policy_id=policy.id,
        period=target.label,
        source=source,
        draws=draws,
        seed=seed,
        currency=policy.currency,
        decimals=decimals,
        pool_units=pool_units,
        target_units=target_units,
        totals=outcomes.units,
        department_totals=outcomes.department_units,
        performance=outcomes.performance,
        performance_measure=performance_label(catalogue),
        department_ids=tuple(department_ids),
        periods=periods,
        skipped_periods=skipped,
    )


def _planned_period(text: str | None, rows: ActualRows | None) -> Period:
    """``--period``, else the latest period the results name (the longest at that end)."""
    if text is not None:
        try:
            return parse_period(text)
        except ValueError as error:
            raise InputError(str(error), key="period") from None
    if rows is None or not rows.periods:
        raise InputError(
            "give the period to plan for (--period): it prorates the employees",
            key="period",
        )
    # Quarters first: a history of quarters with this year's first month reported is planned
    # by the quarter, not by that month.
    for kind in ("quarter", "year", "month"):
        found = outcome_periods(rows, kind)
        if found:
            return found[-1]
    return max(rows.periods.values(), key=lambda p: (p.end, p.days))


def _centre(
    plan: Plan,
    catalogue: KpiCatalogue,
    rows: ActualRows | None,
    period: Period,
    specs: Sequence[KpiDistribution],
) -> FloatArray:
    """Each KPI's result in ``period`` where the results give one, else its target."""
    centre = catalogue.target.copy()
    if rows is not None:
        resolved = resolve_actuals(rows, plan, catalogue, period).actual
        centre = np.where(np.isnan(resolved), centre, resolved)
    drawn = {s.kpi for s in specs}
    unknown = [
        e.kpi.id
        for row, e in enumerate(catalogue.entries)
        if np.isnan(centre[row]) and e.kpi.id not in drawn
    ]
    if unknown:
        shown = ", ".join(unknown[:10]) + (
            f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
        )
        raise InputError(
            f"no result for {period.label} and no target for {shown}",
            key="distributions",
            suggestion="give them a distribution, a result in the actuals, or a target",
        )
    return centre
