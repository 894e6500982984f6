"""Scoring a period: actuals and employees in, payouts with their explanations out.

How a payout is computed (docs/file-formats.md, "Policy"), and the choices made where the
documents are silent:

1. Each KPI's actual for the period is resolved (:mod:`.actuals`). Most results missing while
   the actuals hold other periods is taken for a wrong period (:mod:`.missing`). Otherwise a
   missing actual follows the policy's ``missing``: ``error`` lists every missing (scope, kpi,
   period); ``zero`` pays that KPI a factor of 0 (not an actual of 0, which would be a perfect
   result for a lower-is-better KPI); ``exclude`` leaves the KPI out and its scope's other KPIs share its weight.
2. KPI payout factor = the KPI's curve at the actual (:mod:`.curves`), capped by ``caps.kpi``.
3. Gates (:mod:`.gates`) are decided on these results: KPI actual/attainment, department and
   company scores, all before any gate acts. ``kpi:<id>`` gates change that KPI's factor (still
   at most ``caps.kpi``), ``company`` gates the company component.
4. Scope scores are weighted means of KPI factors; components combine per department, with
   missing components' weights shared out (:mod:`.combine`).
5. Employee factor = component-weighted sum (the individual component is the employee's
   ``individual_score``), then ``all`` and ``department:<id>`` gates, then ``caps.employee``.
6. Amount = ``target_bonus`` x factor x proration (calendar days employed in the period when
   ``proration: days``), rounded by ``rounding`` to integer units (:mod:`.money`), then fitted to
   the pool (:mod:`.pool`): the total equals the pool to the cent whenever the pool scales.

Everything per employee is numpy arithmetic over columns; Python loops run only over KPIs,
departments and gates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, PolicyError, Problem
from alignment_engine.model.plan import Plan
from alignment_engine.model.policy import Policy
from alignment_engine.scoring.actuals import (
    ResolvedActuals,
    check_actual_rows,
    resolve_actuals,
)
from alignment_engine.scoring.adjustments import (
    ManualAdjustment,
    check_adjustments,
    units_per_employee,
)
from alignment_engine.scoring.amount_limits import AmountLimits, ComponentLimits
from alignment_engine.scoring.catalogue import KpiCatalogue, build_catalogue, place
from alignment_engine.scoring.combine import (
    COMPONENTS,
    NOISE_DECIMALS,
    DepartmentFactors,
    denoise,
    department_factors,
    scope_scores,
    shared_scores,
)
from alignment_engine.scoring.decision_tables import table_outcomes
from alignment_engine.scoring.employees import EmployeeTable, check_employees, empty_employees
from alignment_engine.scoring.fx import convert, rates_for
from alignment_engine.scoring.gate_effects import (
    GateEvaluator,
    GateOutcome,
    KpiFact,
    Modifier,
    modifiers_by_target,
)
from alignment_engine.scoring.ledger import LedgerTerms, settle_period, settle_restatement
from alignment_engine.scoring.missing import check_missing
from alignment_engine.scoring.money import format_units, to_units
from alignment_engine.scoring.payout_curves import (
    CurveEvaluation,
    apply_cap,
    segment_label,
)
from alignment_engine.scoring.payout_matrix import describe_position, evaluate_matrix
from alignment_engine.scoring.periods import Period, parse_period
from alignment_engine.scoring.pool import fit_to_pool
from alignment_engine.scoring.restatement import restatement
from alignment_engine.scoring.result import (
    DepartmentResult,
    EmployeePayouts,
    KpiResult,
    ScoreResult,
    Settings,
    Totals,
)
from alignment_engine.scoring.segments import combine_segments
from alignment_engine.scoring.tables import TableSource

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def score_period(
    plan: Plan,
    policy: Policy,
    actuals: pd.DataFrame,
    employees: pd.DataFrame | None,
    period: str,
    *,
    measures: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    lots: pd.DataFrame | None = None,
    restates: tuple[str, pd.DataFrame] | None = None,
    fx: pd.DataFrame | None = None,
    evaluate_gates: GateEvaluator,
) -> ScoreResult:
    """Score ``period`` (``2026``, ``2026-Q3`` or ``2026-07``) for a plan under a policy.

    ``actuals`` has ``period,scope,kpi,actual`` and/or ``period,scope,measure,value`` rows;
    ``measures`` is an optional second table of base measures. ``employees`` may be None (KPI
    and department results only). ``evaluate_gates`` decides which gates fire (the product's
    is the rule engine's, ``alignment_engine.ruleset.gate_rules.rule_gate_outcomes``, which
    ``alignment_engine.score_period`` passes; see :class:`GateEvaluator`).

    Pay across periods (:mod:`.ledger`): ``lots`` are the open deferral, advance and recovery
    lots (``employee_id, lot, origin, due, units``) this period settles; ``restates`` is
    ``(run_id, payouts)`` when this run restates a final one (its ``employee_id`` and
    ``payout_units``): the result then holds per-employee adjustments. ``fx``: rates
    (``period, currency, rate``) paying employees in their ``currency`` (:mod:`.fx`). Raises
    InputError
    (bad rows, missing actuals, a formula that divides by zero) or PolicyError (the policy does
    not fit the plan).
    """
    target_period = _target_period(period)
    if plan.currency.upper() != policy.currency.upper():
        raise PolicyError(
            f"policy '{policy.id}' pays in {policy.currency} but plan '{plan.id}' is in "
            f"{plan.currency}; amounts are not converted",
            key="currency",
        )
    catalogue = build_catalogue(plan, policy)
    department_ids = [d.id for d in plan.departments]

    problems: list[Problem] = []
    frames = [actuals] if measures is None else [actuals, measures]
    rows = None
    try:
        rows = check_actual_rows(frames, plan, catalogue)
    except InputError as error:
        problems.extend(error.problems)
    rates: dict[str, float] | None = None
    rates_readable = True
    if fx is not None:
        try:
            rates = rates_for(fx, target_period, policy.currency)
        except InputError as error:
            problems.extend(error.problems)
            rates_readable = False
    table = empty_employees()
    if employees is not None:
        try:
            table = check_employees(
                employees, department_ids, policy.currency, rates, check_currency=rates_readable
            )
        except InputError as error:
            problems.extend(error.problems)
    manual: list[ManualAdjustment] = []
    if adjustments is not None and not problems:
        if employees is None:
            raise InputError(
                "adjustments are paid to employees: give the employees table too",
                key="adjustments",
            )
        try:
            manual = check_adjustments(
                adjustments, [str(e) for e in table.people], int(policy.rounding.decimals)
            )
        except InputError as error:
            problems.extend(error.problems)
    if problems or rows is None:
        raise InputError(problems=problems)

    resolved = resolve_actuals(rows, plan, catalogue, target_period)
    check_missing(
        resolved,
        rows,
        plan,
        catalogue,
        target_period,
        source=TableSource.of(actuals, "actuals").name,
        mode=str(policy.missing),
    )
    result = _score(
        plan, policy, catalogue, resolved, table, target_period, evaluate_gates, tuple(manual)
    )
    result = _settle(result, policy, target_period, lots, restates)
    currencies = result.employees.currency
    if rates is not None or (
        currencies is not None and bool((currencies != policy.currency.upper()).any())
    ):
        home = np.full(len(result.employees), policy.currency.upper(), dtype=object)
        result.pay = convert(
            result.paid_now_units(),
            home if currencies is None else currencies,
            rates or {},
            policy.currency,
            int(policy.rounding.decimals),
            str(policy.rounding.mode),
            target_period.label,
        )
    return result


def _settle(
    result: ScoreResult,
    policy: Policy,
    period: Period,
    lots: pd.DataFrame | None,
    restates: tuple[str, pd.DataFrame] | None,
) -> ScoreResult:
    """The restatement's adjustments and what the run pays now across periods."""
    terms = LedgerTerms.of(policy)
    employee_ids = result.employees.employee_id
    if restates is not None:
        run_id, previous = restates
        result.restatement = restatement(
            run_id,
            list(
                zip(
                    previous["employee_id"].astype(str).tolist(),
                    previous["payout_units"].astype("int64").tolist(),
                    strict=True,
                )
            ),
            list(zip([str(e) for e in employee_ids], result.employees.units.tolist(), strict=True)),
            result.settings.decimals,
        )
        if terms.any:
            changes = result.restatement.adjustments
            result.ledger = settle_restatement(
                terms,
                period,
                np.array([a.employee_id for a in changes], dtype=object),
                np.array([a.units for a in changes], dtype=np.int64),
            )
    elif terms.any or (lots is not None and len(lots)):
        result.ledger = settle_period(
            terms, period, employee_ids.astype(object), result.employees.units, lots
        )
    return result


def _target_period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as error:
        raise InputError(str(error), key="period") from None


def _evaluate_curves(
    catalogue: KpiCatalogue, actual: FloatArray
) -> tuple[CurveEvaluation, FloatArray, FloatArray]:
    """Curve evaluation for every KPI at once, each KPI's attainment, and the attainment
    before its rounding (which places a result between two curve points)."""
    found = place(catalogue, actual)
    evaluation = catalogue.curves.evaluate(found.position, exact=found.placed)
    return evaluation, found.attained, found.exact


def score_resolved(
    plan: Plan,
    policy: Policy,
    catalogue: KpiCatalogue,
    resolved: ResolvedActuals,
    table: EmployeeTable,
    period: Period,
    evaluate_gates: GateEvaluator,
) -> ScoreResult:
    """Results already resolved for a period, paid to ``table`` for ``period`` (its
    proration): the scoring steps without reading tables (``policy simulate`` pays each past
    period's results to today's employees this way)."""
    return _score(plan, policy, catalogue, resolved, table, period, evaluate_gates)


def _evaluate_matrices(
    catalogue: KpiCatalogue,
    evaluation: CurveEvaluation,
    attained: FloatArray,
    exact: FloatArray,
) -> tuple[CurveEvaluation, dict[int, str]]:
    """Curve factors with the factor of every KPI paid on a matrix put in (NaN where a result
    the matrix reads is missing), and where each such KPI fell on its matrix, in words."""
    if not catalogue.matrices:
        return evaluation, {}
    factor = evaluation.factor.copy()
    positions: dict[int, str] = {}
    for binding in catalogue.matrices:
        rows = list(binding.rows)
        on_matrix = evaluate_matrix(binding.matrix, attained[rows][None, :], exact[rows][None, :])
        factor[rows] = on_matrix.factor[0]
        values = [None if np.isnan(a) else float(a) for a in attained[rows]]
        words = describe_position(binding.matrix, values)
        positions.update(dict.fromkeys(rows, words))
    return CurveEvaluation(factor=factor, segment=evaluation.segment), positions


def _score(
    plan: Plan,
    policy: Policy,
    catalogue: KpiCatalogue,
    resolved: ResolvedActuals,
    table: EmployeeTable,
    period: Period,
    evaluate_gates: GateEvaluator,
    manual: tuple[ManualAdjustment, ...] = (),
) -> ScoreResult:
    actual = resolved.actual
    evaluation, attained, exact = _evaluate_curves(catalogue, actual)
    evaluation, matrix_positions = _evaluate_matrices(catalogue, evaluation, attained, exact)
    kpi_cap = None if policy.caps.kpi is None else float(policy.caps.kpi)
    # A KPI on a matrix has no factor without every result the matrix reads.
    missing = np.isnan(actual) | np.isnan(evaluation.factor)
    missing_mode = str(policy.missing)
    capped = apply_cap(denoise(evaluation.factor), kpi_cap)
    if missing_mode == "zero":
        capped = np.where(missing, 0.0, capped)
        included = np.ones(len(catalogue), dtype=np.bool_)
    else:
        included = ~missing

    department_ids = [d.id for d in plan.departments]
    goal_ids = [g.id for g in plan.shared_goals]
    scopes = ["company", *department_ids, *goal_ids]
    scope_index = {scope: i for i, scope in enumerate(scopes)}
    scope_of_kpi = np.array([scope_index[e.scope] for e in catalogue.entries], dtype=np.int64)
    departments = slice(1, 1 + len(department_ids))

    # Gates read results before any gate acts.
    before = scope_scores(scope_of_kpi, catalogue.weight, capped, included, len(scopes))
    facts = {
        e.kpi.id: KpiFact(
            actual=None if np.isnan(actual[row]) else float(actual[row]),
            attainment=None if np.isnan(attained[row]) else float(attained[row]),
            payout_factor=None if np.isnan(capped[row]) else float(capped[row]),
        )
        for row, e in enumerate(catalogue.entries)
    }
    department_scores = {
        d: (None if np.isnan(s) else float(s))
        for d, s in zip(department_ids, before.score[departments], strict=True)
    }
    company_before = float(before.score[0])
    known_company = None if np.isnan(company_before) else company_before
    outcomes = [
        *evaluate_gates(policy.gates, facts, department_scores, known_company),
        *table_outcomes(policy.tables, facts, department_scores, known_company),
    ]
    modifiers = modifiers_by_target(outcomes)

    factor, kpi_gates = _apply_kpi_gates(catalogue, capped, outcomes, modifiers, kpi_cap)
    if missing_mode == "zero":  # paid 0 without a result, whatever a table would add to it
        factor = np.where(missing, 0.0, factor)
    factor = np.where(included, factor, np.nan)

    after = scope_scores(scope_of_kpi, catalogue.weight, factor, included, len(scopes))
    company_score = round(
        modifiers.get("company", Modifier()).apply_scalar(float(after.score[0])), NOISE_DECIMALS
    )
    goal_rows = [catalogue.row_of[g] for g in goal_ids]
    goal_factor = factor[goal_rows] if goal_rows else np.zeros(0)
    department_position = {d: i for i, d in enumerate(department_ids)}
    memberships = [
        (department_position[d], goal_number)
        for goal_number, goal in enumerate(plan.shared_goals)
        for d in goal.departments
    ]
    shared_goals_of: dict[str, list[str]] = {d: [] for d in department_ids}
    for department_number, goal_number in memberships:
        shared_goals_of[department_ids[department_number]].append(goal_ids[goal_number])
    factors = department_factors(
        department_ids=department_ids,
        policy_weight={c: float(getattr(policy.components, c)) for c in COMPONENTS},
        company_score=company_score,
        department_score=after.score[departments],
        shared_score=shared_scores(goal_factor, memberships, len(department_ids)),
        modifiers=modifiers,
        employee_cap=None if policy.caps.employee is None else float(policy.caps.employee),
    )

    payouts, totals = _pay(policy, table, factors, period, manual)
    kpis = _kpi_results(
        catalogue,
        resolved,
        evaluation,
        attained,
        factor,
        after.kpi_weight,
        included,
        missing,
        missing_mode,
        kpi_gates,
        matrix_positions,
    )
    return ScoreResult(
        plan_id=plan.id,
        policy_id=policy.id,
        period=period.label,
        settings=Settings(
            currency=policy.currency,
            decimals=int(policy.rounding.decimals),
            rounding=str(policy.rounding.mode),
            pool_mode="none" if policy.pool is None else str(policy.pool.mode),
            proration=str(policy.proration),
            kpi_cap=kpi_cap,
            employee_cap=factors.employee_cap,
            employee_amount_cap=None
            if policy.caps.employee_amount is None
            else float(policy.caps.employee_amount),
            minimum_amount=None
            if policy.minimum is None or policy.minimum.employee_amount is None
            else float(policy.minimum.employee_amount),
            component_limits=_component_limits(policy),
        ),
        kpis=kpis,
        departments=_department_results(factors, outcomes, payouts),
        gates=tuple(outcomes),
        factors=factors,
        employees=payouts,
        totals=totals,
        company_score_before_gates=company_before,
        shared_goals_of={d: tuple(goals) for d, goals in shared_goals_of.items()},
        manual_adjustments=manual,
    )


def _apply_kpi_gates(
    catalogue: KpiCatalogue,
    capped: FloatArray,
    outcomes: Sequence[GateOutcome],
    modifiers: Mapping[str, Modifier],
    kpi_cap: float | None,
) -> tuple[FloatArray, dict[int, list[str]]]:
    """KPI factors after ``kpi:<id>`` gates (still at most ``caps.kpi``), and which gates
    changed each KPI."""

    def row_of(target: str) -> int:
        kpi_id = target.removeprefix("kpi:")
        if kpi_id not in catalogue.row_of:
            raise PolicyError(f"a gate applies to unknown KPI '{kpi_id}'", key="gates")
        return catalogue.row_of[kpi_id]

    factor = capped.copy()
    kpi_gates: dict[int, list[str]] = {}
    for outcome in outcomes:
        if outcome.triggered and outcome.applies_to.startswith("kpi:"):
            kpi_gates.setdefault(row_of(outcome.applies_to), []).append(outcome.gate_id)
    for target, modifier in modifiers.items():
        if target.startswith("kpi:"):
            row = row_of(target)
            factor[row] = modifier.apply_scalar(float(factor[row]))
    return apply_cap(denoise(factor), kpi_cap), kpi_gates


def _pay(
    policy: Policy,
    table: EmployeeTable,
    factors: DepartmentFactors,
    period: Period,
    manual: Sequence[ManualAdjustment] = (),
) -> tuple[EmployeePayouts, Totals]:
    component_limits = ComponentLimits.of(policy)
    before, after, final, component_limited = factors.employee_factors(
        table.department,
        table.individual_score,
        limits=component_limits,
        target_bonus=table.target_bonus,
    )
    proration = table.proration(period, by_days=str(policy.proration) == "days")
    people = table.people
    department, target_bonus, individual = (
        table.department,
        table.target_bonus,
        table.individual_score,
    )
    start, end, segments = table.start, table.end, None
    currency = table.currency
    if table.person is None:
        amount = table.target_bonus * final * proration
    else:  # someone has several rows (a transfer): one payout from their segments
        person = combine_segments(table, before, after, final, proration)
        before, after, final = (
            person.factor_before_gates,
            person.factor_after_gates,
            person.factor,
        )
        department, target_bonus, individual = (
            person.department,
            person.target_bonus,
            person.individual_score,
        )
        proration, amount, start, end = person.proration, person.amount, person.start, person.end
        segments = person.segments
        currency = None if currency is None else currency[person.latest]
    limits = AmountLimits.of(policy)
    limited = formula_amount = None
    if limits is not None:
        formula_amount = amount
        amount, limited = limits.amounts(amount, proration)
    decimals = int(policy.rounding.decimals)
    try:
        rounded = to_units(amount, decimals, str(policy.rounding.mode))
    except ValueError as error:
        raise InputError(f"cannot round the payouts: {error}", key="target_bonus") from None
    if limits is not None and limited is not None and formula_amount is not None:
        rounded, limited = limits.units(rounded, formula_amount, proration, limited, decimals)
    pool_units = None
    pool_mode = "none"
    if policy.pool is not None:
        # A pool is never exceeded: its own amount is rounded down to whole units.
        pool_units = int(to_units([float(policy.pool.amount)], decimals, "down")[0])
        pool_mode = str(policy.pool.mode)
    adjustment = units_per_employee(manual, len(people)) if manual else None
    adjusted = 0 if adjustment is None else int(adjustment.sum())
    formula_pool = pool_units
    inside = policy.pool is not None and policy.pool.adjustments == "inside"
    if pool_units is not None and adjustment is not None and inside:
        # The pool holds the adjustments: the formula payouts share what is left.
        formula_pool = pool_units - adjusted
        if formula_pool < 0:
            raise InputError(
                f"manual adjustments of {format_units(adjusted, decimals)} exceed the pool "
                f"of {format_units(pool_units, decimals)}, which holds them "
                "(pool.adjustments: inside)",
                key="adjustments",
            )
    fit = fit_to_pool(
        amount,
        rounded,
        decimals=decimals,
        pool_units=formula_pool,
        mode=pool_mode,
        tie_order=people,
    )
    units = fit.units if adjustment is None else fit.units + adjustment
    if adjustment is not None and bool((units < 0).any()):
        below = np.flatnonzero(units < 0)
        named = ", ".join(
            f"{people[i]} ({format_units(int(fit.units[i]), decimals)} + "
            f"{format_units(int(adjustment[i]), decimals)})"
            for i in below[:10]
        )
        raise InputError(
            f"manual adjustments take {below.size} payout(s) below zero: {named}",
            key="adjustments",
            suggestion="a recovery larger than the payout is a clawback: carry it to a later "
            "period",
        )
    payouts = EmployeePayouts(
        employee_id=people,
        department=department,
        target_bonus=target_bonus,
        individual_score=individual,
        factor_before_gates=before,
        factor_after_gates=after,
        factor=final,
        proration=proration,
        start=start,
        end=end,
        amount=amount,
        units=units,
        segments=segments,
        salary=table.salary if segments is None else None,
        bonus_percent=table.bonus_percent if segments is None else None,
        currency=currency,
        limited=limited,
        formula_amount=formula_amount,
        component_limited=component_limited if segments is None else None,
    )
    totals = Totals(
        payout_units=int(units.sum()),
        pool_units=pool_units,
        scale=fit.scale,
        scaled=fit.scaled,
        adjustment_units=adjusted,
    )
    return payouts, totals


def _kpi_results(
    catalogue: KpiCatalogue,
    resolved: ResolvedActuals,
    evaluation: CurveEvaluation,
    attained: FloatArray,
    factor: FloatArray,
    weight: FloatArray,
    included: BoolArray,
    missing: BoolArray,
    missing_mode: str,
    kpi_gates: dict[int, list[str]],
    matrix_positions: Mapping[int, str],
) -> tuple[KpiResult, ...]:
    curve_factor = denoise(evaluation.factor)
    results = []
    for row, entry in enumerate(catalogue.entries):
        if not missing[row]:
            status = "scored"
        elif missing_mode == "zero":
            status = "missing: paid 0"
        else:
            status = "missing: excluded"
        segment = int(evaluation.segment[row])
        results.append(
            KpiResult(
                scope=entry.scope,
                kind=entry.kind,
                kpi=entry.kpi.id,
                metric=entry.kpi.metric,
                actual=None if np.isnan(resolved.actual[row]) else float(resolved.actual[row]),
                source=resolved.source[row],
                target=None if entry.kpi.target is None else float(entry.kpi.target),
                attainment=None if np.isnan(attained[row]) else float(attained[row]),
                curve=entry.curve_name,
                basis=str(entry.curve.basis),
                segment=matrix_positions.get(row) or segment_label(segment, entry.point_names),
                curve_factor=None if missing[row] else float(curve_factor[row]),
                payout_factor=None if not included[row] else float(factor[row]),
                weight=float(weight[row]),
                status=status,
                gates=tuple(kpi_gates.get(row, ())),
            )
        )
    return tuple(results)


def _component_limits(policy: Policy) -> tuple[tuple[str, float | None, float | None], ...]:
    caps = policy.caps.components
    least = None if policy.minimum is None else policy.minimum.components

    def value(given: object, component: str) -> float | None:
        found = getattr(given, component, None)
        return None if found is None else float(found)

    return tuple(
        (c, value(caps, c), value(least, c))
        for c in COMPONENTS
        if value(caps, c) is not None or value(least, c) is not None
    )


def _department_results(
    factors: DepartmentFactors, outcomes: Sequence[GateOutcome], payouts: EmployeePayouts
) -> tuple[DepartmentResult, ...]:
    count = len(factors.department_ids)
    _, _, reference, _ = factors.employee_factors(
        np.arange(count, dtype=np.int64), np.ones(count, dtype=np.float64)
    )
    headcount = np.bincount(payouts.department, minlength=count)
    paid = np.zeros(count, dtype=np.int64)
    np.add.at(paid, payouts.department, payouts.units)
    results = []
    for index, department in enumerate(factors.department_ids):
        gates = tuple(
            o.gate_id
            for o in outcomes
            if o.triggered and o.applies_to in ("all", f"department:{department}")
        )
        score = float(factors.department_score[index])
        results.append(
            DepartmentResult(
                department=department,
                score=None if np.isnan(score) else score,
                payout_factor=float(reference[index]),
                component_weights={
                    c: float(w) for c, w in zip(COMPONENTS, factors.weight[index], strict=True)
                },
                gates=gates,
                employees=int(headcount[index]),
                payout_units=int(paid[index]),
            )
        )
    return tuple(results)
