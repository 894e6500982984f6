"""The outcome of scoring a period, and its JSON-able form (``score --format json``, docs/cli.md).

Employee results are kept as columns (numpy arrays), not as a million objects; per-employee dicts
and explanations are built only when asked for (:meth:`ScoreResult.to_dict`,
:meth:`ScoreResult.explanation`, :meth:`ScoreResult.iter_employees`).

Money in JSON: amounts are computed as exact integer units (cents) and written as JSON numbers
made from them (``units / 10**decimals``, the double nearest the exact amount, which prints with
at most ``decimals`` digits: ``1234.5`` for 1234.50). ``totals`` also carries ``payout_text`` and
the pool as exact strings with exactly ``decimals`` digits, and :meth:`ScoreResult.payout` gives
a Decimal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.scoring.adjustments import ManualAdjustment
from alignment_engine.scoring.combine import DepartmentFactors
from alignment_engine.scoring.explanation import (
    EmployeeColumns,
    department_template,
    employee_columns,
    employee_explanation,
)
from alignment_engine.scoring.fx import PayCurrencies
from alignment_engine.scoring.gate_effects import GateOutcome
from alignment_engine.scoring.ledger import Settlement
from alignment_engine.scoring.money import (
    format_units,
    format_units_column,
    units_to_decimal,
    units_to_float,
)
from alignment_engine.scoring.outcome import (  # re-exported: the result's parts
    DepartmentResult,
    EmployeePayouts,
    ExplanationStyle,
    KpiResult,
    Settings,
    Totals,
    json_number,
)
from alignment_engine.scoring.restatement import Restatement

__all__ = [
    "DepartmentResult",
    "EmployeePayouts",
    "ExplanationStyle",
    "KpiResult",
    "ScoreResult",
    "Settings",
    "Totals",
    "json_number",
]


@dataclass
class ScoreResult:
    """A scored period: KPI results, department scores, employee payouts (integer units) and
    totals; ``to_dict()`` is ``score --format json``, ``explanation_for(id)`` one payout's
    chain, ``employees_frame()`` the employees table."""

    plan_id: str
    policy_id: str
    period: str
    settings: Settings
    kpis: tuple[KpiResult, ...]
    departments: tuple[DepartmentResult, ...]
    gates: tuple[GateOutcome, ...]
    factors: DepartmentFactors
    employees: EmployeePayouts
    totals: Totals
    company_score_before_gates: float
    shared_goals_of: dict[str, tuple[str, ...]]  # department -> the shared goals it belongs to
    manual_adjustments: tuple[ManualAdjustment, ...] = ()  # `score --adjustments`, in file order
    restatement: Restatement | None = None  # `score --restates`: the adjustments it pays
    ledger: Settlement | None = None  # pay across periods: deferrals, advances, recoveries
    pay: PayCurrencies | None = None  # pay converted to employees' currencies (an fx table)
    _templates: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _by_scope: dict[str, list[KpiResult]] = field(default_factory=dict, repr=False)
    _columns: list[EmployeeColumns] = field(default_factory=list, repr=False)

    def employee_columns(self) -> EmployeeColumns:
        """The employee arrays as Python lists (built on first use, for rendering)."""
        if not self._columns:
            self._columns.append(employee_columns(self))
        return self._columns[0]

    def kpis_of(self, scope: str) -> list[KpiResult]:
        """The KPI results of one scope (company, a department, a shared goal)."""
        if not self._by_scope:
            for kpi in self.kpis:
                self._by_scope.setdefault(kpi.scope, []).append(kpi)
        return self._by_scope.get(scope, [])

    # Money ---------------------------------------------------------------------------------

    def payout(self, index: int) -> Decimal:
        """Employee ``index``'s exact payout."""
        return units_to_decimal(int(self.employees.units[index]), self.settings.decimals)

    def payout_texts(self) -> list[str]:
        """Every employee's exact payout as text (``7511.35``), in input order."""
        return format_units_column(self.employees.units, self.settings.decimals)

    def paid_now_units(self) -> npt.NDArray[np.int64]:
        """What payroll pays each employee for this run, in units of the policy's currency and
        input order: the payout; what is paid now where pay crosses periods (deferrals,
        releases, recoveries); for a restatement, its adjustment (what is paid now of it,
        under a deferral or a clawback)."""
        ledger = self.ledger
        if self.restatement is None:
            return self.employees.units if ledger is None else ledger.paid
        now = {
            a.employee_id: a.units if ledger is None else int(ledger.paid[i])
            for i, a in enumerate(self.restatement.adjustments)
        }
        units = [now.get(str(e), 0) for e in self.employees.employee_id]
        return np.array(units, dtype=np.int64)

    def paid_now_texts(self) -> list[str]:
        """:meth:`paid_now_units` as exact text, in the pay currency where an fx table
        converts it."""
        if self.pay is not None:
            return self.pay.texts()
        return format_units_column(self.paid_now_units(), self.settings.decimals)

    def pay_currencies(self) -> list[str]:
        """Each employee's pay currency, in input order."""
        if self.pay is not None:
            return [str(c) for c in self.pay.currency.tolist()]
        return [self.settings.currency.upper()] * len(self.employees)

    @property
    def total_payout(self) -> Decimal:
        return units_to_decimal(self.totals.payout_units, self.settings.decimals)

    # Explanations --------------------------------------------------------------------------

    def explanation_template(self, department_index: int) -> dict[str, Any]:
        """What every employee of one department shares: KPI results, curves, component
        weights, gates, caps. Built once per department, on first use."""
        if department_index not in self._templates:
            self._templates[department_index] = department_template(self, department_index)
        return self._templates[department_index]

    def explanation(self, index: int, style: ExplanationStyle = "full") -> dict[str, Any] | None:
        """Employee ``index``'s payout chain: KPI actuals -> curve segment -> factor -> weights
        -> gates -> caps -> proration -> pool scale -> rounded amount."""
        if style == "none":
            return None
        index = range(len(self.employees))[index]  # negative indexes count from the end
        if self._columns:
            return employee_explanation(self, self._columns[0], index, full=style == "full")
        # One employee: convert just their row, not a million.
        row = employee_columns(self, slice(index, index + 1))
        return employee_explanation(self, row, 0, full=style == "full")

    def explanation_for(self, employee_id: str) -> dict[str, Any] | None:
        matches = np.flatnonzero(self.employees.employee_id == employee_id)
        if matches.size == 0:
            return None
        return self.explanation(int(matches[0]))

    # Output --------------------------------------------------------------------------------

    def iter_employees(self, style: ExplanationStyle = "full") -> Iterator[dict[str, Any]]:
        if style == "none":
            yield from self._rows_without_explanations()
            return
        columns = self.employee_columns()
        department_ids = self.factors.department_ids
        paid = self._paid_now()
        pay = self._pay_columns()
        for index, employee_id in enumerate(self.employees.employee_id.tolist()):
            row = {
                "employee_id": employee_id,
                "department": department_ids[columns.department[index]],
                "payout": columns.payout[index],
                "factor": columns.factor[index],
                "explanation": self.explanation(index, style),
            }
            if paid is not None:
                row["paid"] = paid[index]
            if pay is not None:
                row["pay_currency"], row["pay_amount"] = pay[0][index], pay[1][index]
            yield row

    def _pay_columns(self) -> tuple[list[str], list[float]] | None:
        """Each employee's pay currency and amount paid now in it (an fx table), else None."""
        if self.pay is None:
            return None
        amounts = units_to_float(self.pay.units, self.settings.decimals).tolist()
        return [str(c) for c in self.pay.currency.tolist()], list(amounts)

    def _paid_now(self) -> list[float] | None:
        """What each employee is paid now, where pay crosses periods (else None)."""
        ledger = self.ledger
        if ledger is None or ledger.restatement:
            return None
        return list(units_to_float(ledger.paid, self.settings.decimals).tolist())

    def _rows_without_explanations(self) -> Iterator[dict[str, Any]]:
        """The rows of a large run: four columns converted at once, no per-row lookups (a
        million rows in a fraction of a second)."""
        employees = self.employees
        department_ids = np.array(self.factors.department_ids, dtype=object)
        departments = department_ids[employees.department].tolist() if len(employees) else []
        payouts = units_to_float(employees.units, self.settings.decimals).tolist()
        paid = self._paid_now()
        pay = self._pay_columns()
        for index, (employee_id, department, payout, factor) in enumerate(
            zip(
                employees.employee_id.tolist(),
                departments,
                payouts,
                employees.factor.tolist(),
                strict=True,
            )
        ):
            row = {
                "employee_id": employee_id,
                "department": department,
                "payout": payout,
                "factor": factor,
                "explanation": None,
            }
            if paid is not None:
                row["paid"] = paid[index]
            if pay is not None:
                row["pay_currency"], row["pay_amount"] = pay[0][index], pay[1][index]
            yield row

    def totals_dict(self) -> dict[str, Any]:
        decimals = self.settings.decimals
        pool = self.totals.pool_units
        return {
            "payout": float(units_to_float(self.totals.payout_units, decimals)),
            "pool": None if pool is None else float(units_to_float(pool, decimals)),
            "scale": self.totals.scale,
            "scaled": self.totals.scaled,
            "currency": self.settings.currency,
            "decimals": decimals,
            "employees": len(self.employees),
            "payout_text": format_units(self.totals.payout_units, decimals),
            "pool_text": None if pool is None else format_units(pool, decimals),
            **(
                {
                    "manual_adjustment": float(
                        units_to_float(self.totals.adjustment_units, decimals)
                    ),
                    "manual_adjustment_text": format_units(self.totals.adjustment_units, decimals),
                }
                if self.manual_adjustments
                else {}
            ),
        }

    def to_dict(self, explanations: ExplanationStyle = "full") -> dict[str, Any]:
        """The ``score --format json`` shape (without ``run_id``, which the run recorder adds).

        ``explanations``: ``full`` puts each employee's whole chain in their row; ``compact``
        puts per-employee numbers there and the department part once, under
        ``explanation_templates``; ``none`` leaves them out (null).
        """
        decimals = self.settings.decimals
        body: dict[str, Any] = {
            "period": self.period,
            "plan": self.plan_id,
            "policy": self.policy_id,
            "kpis": [k.to_dict() for k in self.kpis],
            "departments": [d.to_dict(decimals) for d in self.departments],
            "employees": list(self.iter_employees(explanations)),
            "totals": self.totals_dict(),
            "gates": [g.to_dict() for g in self.gates],
        }
        if self.manual_adjustments:
            body["manual_adjustments"] = [
                a.to_dict(self.settings.decimals) for a in self.manual_adjustments
            ]
        if self.ledger is not None and not self.ledger.restatement:
            body["totals"]["ledger"] = self.ledger.totals()
        if self.restatement is not None:
            self._restatement_parts(body)
        if self.pay is not None:
            body["totals"]["by_currency"] = self.pay.totals()
        if explanations == "compact":
            used = sorted(set(self.employees.department.tolist()))
            body["explanation_templates"] = {
                self.factors.department_ids[d]: self.explanation_template(d) for d in used
            }
        return body

    def _restatement_parts(self, body: dict[str, Any]) -> None:
        """``restates``, per-employee ``adjustments`` and ``totals.adjustment`` (docs/cli.md);
        where pay crosses periods, what each adjustment pays now, defers or leaves to
        recover."""
        change = self.restatement
        assert change is not None
        decimals = self.settings.decimals
        rows = change.adjustments_list()
        ledger = self.ledger
        if ledger is not None:
            scale = 10**decimals
            to_recover = ledger.paid - ledger.payable + ledger.deferred  # falls held over
            for index, row in enumerate(rows):
                row["deferred"] = int(ledger.deferred[index]) / scale
                row["to_recover"] = int(to_recover[index]) / scale
                row["paid"] = int(ledger.paid[index]) / scale
        body["restates"] = change.restates
        body["adjustments"] = rows
        body["totals"] = {
            **body["totals"],
            "adjustment": change.total_units / 10**decimals,
            "adjustment_text": format_units(change.total_units, decimals),
        }
        if ledger is not None:
            body["totals"]["ledger"] = ledger.totals()

    def employees_frame(self) -> pd.DataFrame:
        """One row per employee, for CSV/Parquet/XLSX outputs (no explanations)."""
        decimals = self.settings.decimals
        department_ids = np.array(self.factors.department_ids, dtype=object)
        # Text stays as Python objects (pd.Series(dtype=object)): pandas would convert it to
        # Arrow strings, and storing or writing it converts it back, a second per million rows.
        frame = pd.DataFrame(
            {
                "employee_id": pd.Series(self.employees.employee_id, dtype=object, copy=False),
                "department": pd.Series(
                    department_ids[self.employees.department]
                    if len(self.employees)
                    else np.array([], dtype=object),
                    dtype=object,
                    copy=False,
                ),
                "target_bonus": self.employees.target_bonus,
                "individual_score": self.employees.individual_score,
                "factor": self.employees.factor,
                "proration": self.employees.proration,
                "payout": units_to_float(self.employees.units, decimals),
                "payout_units": self.employees.units,
            }
        )
        ledger = self.ledger
        if ledger is not None and not ledger.restatement:
            for name in ("advanced", "payable", "deferred", "released", "recovered"):
                frame[name] = units_to_float(getattr(ledger, name), decimals)
            frame["paid"] = units_to_float(ledger.paid, decimals)
            frame["paid_units"] = ledger.paid
        if self.pay is not None:
            frame["pay_currency"] = pd.Series(self.pay.currency, dtype=object, copy=False)
            frame["fx_rate"] = self.pay.rate
            frame["pay_amount"] = units_to_float(self.pay.units, decimals)
        return frame
