"""Explanations: why an employee is paid what they are paid, as JSON-able dicts.

The chain reads in the order it was computed: KPI actuals -> curve segment -> KPI factor ->
scope scores and component weights -> gates -> the employee cap -> proration -> pool scale ->
rounded amount. Most of it is the same for everyone in a department, so it is built once per
department (a *template*) and each employee adds only their own numbers. Nothing here runs until
an explanation is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.adjustments import ManualAdjustment
from alignment_engine.scoring.amount_limits import CAPPED, COMPONENT_ORDER
from alignment_engine.scoring.combine import COMPONENTS, DepartmentFactors
from alignment_engine.scoring.fx import PayCurrencies
from alignment_engine.scoring.gate_effects import GateOutcome
from alignment_engine.scoring.ledger import Settlement
from alignment_engine.scoring.money import format_units, units_to_float
from alignment_engine.scoring.outcome import EmployeePayouts, KpiResult, Settings, Totals


class ScoreResult(Protocol):
    """What an explanation reads of a scored period (``scoring.result.ScoreResult`` is one;
    a protocol here keeps the two modules from importing each other)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def factors(self) -> DepartmentFactors: ...
    @property
    def employees(self) -> EmployeePayouts: ...
    @property
    def totals(self) -> Totals: ...
    @property
    def gates(self) -> tuple[GateOutcome, ...]: ...
    @property
    def company_score_before_gates(self) -> float: ...
    @property
    def shared_goals_of(self) -> dict[str, tuple[str, ...]]: ...
    @property
    def manual_adjustments(self) -> tuple[ManualAdjustment, ...]: ...
    @property
    def ledger(self) -> Settlement | None: ...
    @property
    def pay(self) -> PayCurrencies | None: ...

    def kpis_of(self, scope: str) -> list[KpiResult]: ...

    def explanation_template(self, department_index: int) -> dict[str, Any]: ...


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def department_template(result: ScoreResult, department_index: int) -> dict[str, Any]:
    factors = result.factors
    department = factors.department_ids[department_index]
    weight = factors.weight[department_index]
    policy_weight = factors.policy_weight
    goal_ids = result.shared_goals_of.get(department, ())
    company_gates = [g.gate_id for g in result.gates if g.triggered and g.applies_to == "company"]
    factor_gates = [
        g.to_dict()
        for g in result.gates
        if g.triggered and g.applies_to in ("all", f"department:{department}")
    ]
    components = [
        {
            "component": "company",
            "policy_weight": policy_weight["company"],
            "weight": float(weight[0]),
            "score_before_gates": _number(result.company_score_before_gates),
            "gates": company_gates,
            "score": _number(factors.company_score),
            "kpis": [k.to_dict() for k in result.kpis_of("company")],
        },
        {
            "component": "department",
            "policy_weight": policy_weight["department"],
            "weight": float(weight[1]),
            "score": _number(factors.department_score[department_index]),
            "kpis": [k.to_dict() for k in result.kpis_of(department)],
        },
        {
            "component": "shared",
            "policy_weight": policy_weight["shared"],
            "weight": float(weight[2]),
            "score": _number(factors.shared_score[department_index]),
            "rule": "mean of the shared goals' payout factors",
            "goals": [k.to_dict() for goal in goal_ids for k in result.kpis_of(goal)],
        },
        {
            "component": "individual",
            "policy_weight": policy_weight["individual"],
            "weight": float(weight[3]),
        },
    ]
    notes = [
        f"no {name} score for this department: its weight {policy_weight[name]:g} is shared "
        "among the other components"
        for position, name in enumerate(COMPONENTS[:3])
        if policy_weight[name] > 0 and weight[position] == 0
    ]
    return {
        "department": department,
        "components": components,
        "gates": factor_gates,
        "employee_cap": result.settings.employee_cap,
        "kpi_cap": result.settings.kpi_cap,
        "notes": notes,
    }


@dataclass(frozen=True)
class EmployeeColumns:
    """The employee arrays as Python lists, converted once: reading numpy scalars one at a time
    would dominate the cost of rendering a million explanations."""

    department: list[int]
    individual_score: list[float]
    factor_before_gates: list[float]
    factor_after_gates: list[float]
    factor: list[float]
    target_bonus: list[float]
    proration: list[float]
    start: list[str | None]
    end: list[str | None]
    amount: list[float]
    units: list[int]
    payout: list[float]
    shared: dict[str, Any]  # the pool and rounding parts, the same for everyone
    adjustments: dict[int, list[ManualAdjustment]] = field(default_factory=dict)  # by row
    first_row: int = 0  # the row in the employee table of the first of these rows


def _adjustments_by_row(result: ScoreResult, part: slice) -> dict[int, list[ManualAdjustment]]:
    """Each employee's manual adjustments, by row within ``part`` (file order)."""
    found: dict[int, list[ManualAdjustment]] = {}
    start, stop, _ = part.indices(len(result.employees))
    for adjustment in result.manual_adjustments:
        if start <= adjustment.employee < stop:
            found.setdefault(adjustment.employee - start, []).append(adjustment)
    return found


def ledger_tail(step: dict[str, Any], decimals: int) -> str:
    """The cross-period part of an explanation's summary: `` -> paid now 750.00 (deferred
    250.00, released 120.00)``."""
    scale = 10**decimals
    said = [
        f"{name} {format_units(round(step[key] * scale), decimals)}"
        for key, name in (
            ("advanced", "advanced earlier"),
            ("deferred", "deferred"),
            ("released", "released"),
            ("recovered", "recovered"),
        )
        if step[key]
    ]
    paid = format_units(round(step["paid"] * scale), decimals)
    return f"; paid now {paid}" + (f" ({', '.join(said)})" if said else "")


def _dates(values: npt.NDArray[np.datetime64]) -> list[str | None]:
    texts = np.datetime_as_string(values, unit="D").astype(object)
    texts[np.isnat(values)] = None
    return list(texts.tolist())


def employee_columns(result: ScoreResult, rows: slice | None = None) -> EmployeeColumns:
    """The employee arrays (all rows, or a slice of them) as Python lists."""
    employees = result.employees
    settings = result.settings
    scaled = result.totals.scaled
    part = slice(None) if rows is None else rows
    return EmployeeColumns(
        department=employees.department[part].tolist(),
        individual_score=employees.individual_score[part].tolist(),
        factor_before_gates=employees.factor_before_gates[part].tolist(),
        factor_after_gates=employees.factor_after_gates[part].tolist(),
        factor=employees.factor[part].tolist(),
        target_bonus=employees.target_bonus[part].tolist(),
        proration=employees.proration[part].tolist(),
        start=_dates(employees.start[part]),
        end=_dates(employees.end[part]),
        amount=employees.amount[part].tolist(),
        units=employees.units[part].tolist(),
        payout=units_to_float(employees.units[part], settings.decimals).tolist(),
        adjustments=_adjustments_by_row(result, part),
        first_row=part.indices(len(employees))[0],
        shared={
            "pool": {
                "mode": settings.pool_mode,
                "scale": result.totals.scale,
                "allocation": "largest remainder to the pool" if scaled else "rounded on its own",
            },
            "rounding": {"decimals": settings.decimals, "mode": settings.rounding},
            "summary_tail": (
                f"; x pool scale {result.totals.scale:.6g}, largest remainder"
                if scaled
                else f"; rounded {settings.rounding}"
            ),
        },
    )


def employee_explanation(
    result: ScoreResult, columns: EmployeeColumns, index: int, *, full: bool
) -> dict[str, Any]:
    """The explanation of the employee at ``index`` of ``columns``."""
    settings = result.settings
    department_index = columns.department[index]
    department = result.factors.department_ids[department_index]
    factor = columns.factor[index]
    after_gates = columns.factor_after_gates[index]
    proration = columns.proration[index]
    amount = columns.amount[index]
    target_bonus = columns.target_bonus[index]

    explanation: dict[str, Any] = {"department": department}
    template: dict[str, Any] = {}
    if full:
        template = result.explanation_template(department_index)
        explanation["components"] = template["components"]
    else:
        explanation["template"] = department
    explanation["individual_score"] = columns.individual_score[index]
    explanation["factor_before_gates"] = columns.factor_before_gates[index]
    bits = result.employees.component_limited
    if bits is not None and int(bits[columns.first_row + index]):
        mask = int(bits[columns.first_row + index])
        limits = {name: (cap, least) for name, cap, least in settings.component_limits}
        explanation["component_limits"] = [
            {"component": name, "cap": limits.get(name, (None, None))[0],
             "minimum": limits.get(name, (None, None))[1]}
            for position, name in enumerate(COMPONENT_ORDER)
            if mask & (1 << position)
        ]  # fmt: skip
    if full:
        explanation["gates"] = template["gates"]
    explanation["factor_after_gates"] = after_gates
    explanation["employee_cap"] = settings.employee_cap
    explanation["capped"] = factor < after_gates
    explanation["factor"] = factor
    explanation["target_bonus"] = target_bonus
    employees = result.employees
    if employees.salary is not None and employees.bonus_percent is not None:
        row = columns.first_row + index
        salary = float(employees.salary[row])
        if salary == salary:  # not NaN: this target bonus is a percentage of salary
            explanation["target_bonus_basis"] = {
                "salary": salary,
                "percent": float(employees.bonus_percent[row]),
            }
    explanation["proration"] = {
        "method": settings.proration,
        "share": proration,
        "start_date": columns.start[index],
        "end_date": columns.end[index],
    }
    explanation["amount"] = amount
    limit_note = ""
    limited = result.employees.limited
    if limited is not None and result.employees.formula_amount is not None:
        row = columns.first_row + index
        code = int(limited[row])
        if code:
            formula_amount = float(result.employees.formula_amount[row])
            capped = code == CAPPED
            explanation["amount_limit"] = {
                "limit": "caps.employee_amount" if capped else "minimum.employee_amount",
                "per_period": settings.employee_amount_cap if capped else settings.minimum_amount,
                "formula_amount": formula_amount,
            }
            limit_note = (
                f" {'capped at' if capped else 'raised to'} {amount:.6f} "
                f"({'caps' if capped else 'minimum'}.employee_amount "
                f"{explanation['amount_limit']['per_period']:g} x proration {proration:.6g})"
            )
            amount = formula_amount  # the summary shows the formula, then the limit
    segments = result.employees.segments
    parts = (
        []
        if segments is None
        else segments.of(columns.first_row + index, result.factors.department_ids)
    )
    if parts:
        explanation["segments"] = parts
    explanation["pool"] = columns.shared["pool"]
    explanation["rounding"] = columns.shared["rounding"]
    adjustments = columns.adjustments.get(index)
    tail = ""
    if adjustments:
        added = sum(a.units for a in adjustments)
        formula_units = columns.units[index] - added
        explanation["formula_payout"] = formula_units / 10**settings.decimals
        explanation["adjustments"] = [a.to_dict(settings.decimals) for a in adjustments]
        tail = " " + " ".join(
            f"{'-' if a.units < 0 else '+'} {format_units(abs(a.units), settings.decimals)} "
            f"({a.reason})"
            for a in adjustments
        )
        tail = f" = {format_units(formula_units, settings.decimals)}{tail}"
    explanation["payout"] = columns.payout[index]
    ledger = result.ledger
    paid_now = ""
    if ledger is not None and not ledger.restatement:
        step = ledger.explanation(columns.first_row + index)
        explanation["ledger"] = step
        if step["paid"] != step["payout"] or step["entries"]:
            paid_now = ledger_tail(step, settings.decimals)
    pay = result.pay
    if pay is not None:
        row = columns.first_row + index
        converted = pay.explanation(row)
        explanation["fx"] = converted
        if converted["rate"] != 1.0:
            paid_now += (
                f"; paid in {converted['currency']} at {converted['rate']:g}: "
                f"{format_units(int(pay.units[row]), settings.decimals)} {converted['currency']}"
            )
    if full:
        # One line for people; left out of compact explanations, which are for machines.
        formula = (
            " + ".join(
                f"{p['department']} {p['target_bonus']:g} x factor {p['factor']:.6g} x "
                f"proration {p['proration']:.6g}"
                for p in parts
            )
            if parts
            else f"{target_bonus:g} x factor {factor:.6g} x proration {proration:.6g}"
        )
        explanation["summary"] = (
            f"{formula} = {amount:.6f}{limit_note}"
            f"{columns.shared['summary_tail']}{tail} -> "
            f"{format_units(columns.units[index], settings.decimals)} {settings.currency}"
            f"{paid_now}"
        )
        if template["notes"]:
            explanation["notes"] = template["notes"]
    return explanation
