"""What a reallocation does to pay: each department's bonus at today's and at the proposed KPI
values, under a policy (``optimise --policy``).

The KPIs the optimiser predicts take their predicted values; every other KPI its baseline, or
its target where it has none (the same in both columns, so only the moved KPIs change the
answer). Both columns are scored exactly as ``score`` scores a period's results, gates, caps and
pool included: with employees, in money (each department's payout total); without, as each
department's payout factor. A department whose bonus falls is flagged; ``max_loss`` turns that
into a bound the optimiser must keep (see ``ReallocationOptions.guard``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alignment_engine.errors import InputError
from alignment_engine.model import Plan, Policy

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from alignment_engine.engine import ScoreResult

__all__ = ["DepartmentPay", "IncentiveImpact", "PayModel"]


@dataclass(frozen=True)
class DepartmentPay:
    department: str
    factor_today: float
    factor_proposed: float
    payout_today: int | None  # units (cents) with employees; None without
    payout_proposed: int | None

    @property
    def change(self) -> float:
        """The relative change of the bonus (money with employees, else the factor)."""
        if self.payout_today is not None and self.payout_proposed is not None:
            before, after = float(self.payout_today), float(self.payout_proposed)
        else:
            before, after = self.factor_today, self.factor_proposed
        if before == 0:
            return 0.0 if after == 0 else math.inf
        return (after - before) / before

    @property
    def loses(self) -> bool:
        if self.payout_today is not None and self.payout_proposed is not None:
            return self.payout_proposed < self.payout_today
        return self.factor_proposed < self.factor_today - 1e-12


@dataclass(frozen=True)
class IncentiveImpact:
    policy: str
    period: str
    decimals: int
    currency: str
    departments: tuple[DepartmentPay, ...]
    max_loss: float | None

    def to_dict(self) -> dict[str, Any]:
        scale = 10**self.decimals

        def money(units: int | None) -> float | None:
            return None if units is None else units / scale

        return {
            "policy": self.policy,
            "period": self.period,
            "currency": self.currency,
            "max_payout_loss": self.max_loss,
            "departments": [
                {
                    "department": d.department,
                    "factor_today": d.factor_today,
                    "factor_proposed": d.factor_proposed,
                    "payout_today": money(d.payout_today),
                    "payout_proposed": money(d.payout_proposed),
                    "payout_change": None
                    if d.payout_today is None or d.payout_proposed is None
                    else money(d.payout_proposed - d.payout_today),
                    "change": d.change if math.isfinite(d.change) else None,
                    "loses_bonus": d.loses,
                }
                for d in self.departments
            ],
            "losing": [d.department for d in self.departments if d.loses],
        }


class PayModel:
    """Scores predicted KPI values under a policy, for ``optimise --policy``."""

    def __init__(
        self,
        plan: Plan,
        policy: Policy,
        period: str,
        employees: pd.DataFrame | None = None,
        max_loss: float | None = None,
    ) -> None:
        if max_loss is not None and not 0 <= max_loss < 1:
            raise InputError(
                f"--max-payout-loss {max_loss:g} must be a share from 0 to below 1 (5% or 0.05)",
                key="--max-payout-loss",
            )
        self.plan, self.policy, self.period = plan, policy, period
        self.employees, self.max_loss = employees, max_loss
        self._scopes = _scopes(plan)
        self._neutral = _neutral_values(plan)
        self._today: IncentiveImpact | None = None

    def _result(self, values: Mapping[str, float]) -> ScoreResult:
        import pandas as pd

        from alignment_engine.engine import score_period

        merged = {**self._neutral, **{k: v for k, v in values.items() if math.isfinite(v)}}
        frame = pd.DataFrame(
            {
                "period": [self.period] * len(merged),
                "scope": [self._scopes[k] for k in merged],
                "kpi": list(merged),
                "actual": [float(v) for v in merged.values()],
            }
        )
        frame.attrs["source"] = "predicted KPI values"
        frame.attrs["row_offset"] = 1
        return score_period(
            self.plan, self.policy, frame, self.employees, self.period, accept_findings=True
        )

    def _pay(self, values: Mapping[str, float]) -> dict[str, tuple[float, int | None]]:
        result = self._result(values)
        with_money = self.employees is not None
        return {
            d.department: (d.payout_factor, d.payout_units if with_money else None)
            for d in result.departments
        }

    def impact(self, today: Mapping[str, float], proposed: Mapping[str, float]) -> IncentiveImpact:
        before, after = self._pay(today), self._pay(proposed)
        settings = self._result(today).settings
        return IncentiveImpact(
            policy=self.policy.id,
            period=self.period,
            decimals=settings.decimals,
            currency=settings.currency,
            departments=tuple(
                DepartmentPay(d, before[d][0], after[d][0], before[d][1], after[d][1])
                for d in before
            ),
            max_loss=self.max_loss,
        )

    def guard(self, kpi_ids: Sequence[str]) -> Any:
        """The optimiser's guard: why a proposal's KPI values are refused (a department losing
        more than ``max_loss`` of its bonus against today's), or None. None without a bound."""
        if self.max_loss is None:
            return None
        bound = self.max_loss
        known: dict[bytes, dict[str, tuple[float, int | None]]] = {}

        def refuse(today_values: npt.NDArray[Any], values: npt.NDArray[Any]) -> str | None:
            key = today_values.tobytes()
            if key not in known:
                known[key] = self._pay(dict(zip(kpi_ids, today_values.tolist(), strict=True)))
            today = known[key]
            after = self._pay(dict(zip(kpi_ids, values.tolist(), strict=True)))
            for department, (factor, units) in after.items():
                then_factor, then_units = today[department]
                pay = DepartmentPay(department, then_factor, factor, then_units, units)
                if pay.change < -bound - 1e-12:
                    return (
                        f"{department} would lose {-pay.change:.1%} of its bonus, more than "
                        f"--max-payout-loss {bound:.1%}"
                    )
            return None

        return refuse


def _scopes(plan: Plan) -> dict[str, str]:
    return {kpi.id: scope for scope, kpi in plan.kpis()}


def _neutral_values(plan: Plan) -> dict[str, float]:
    """Each KPI's value where the optimiser predicts none: its baseline, else its target."""
    values: dict[str, float] = {}
    for _, kpi in plan.kpis():
        value = kpi.baseline if kpi.baseline is not None else kpi.target
        if value is not None:
            values[kpi.id] = float(value)
    return values
