"""What a scenario run needs, already read: from files (see ``files``) or from memory."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from alignment_engine.model import Plan, Policy, Scenario
from alignment_engine.scenarios.overrides import LocatedOverride
from alignment_engine.scenarios.sweeps import Variant, latest_period, sweep_variants


@dataclass(frozen=True)
class ScenarioInputs:
    """Everything a scenario run needs, already read and validated."""

    id: str
    plan: Plan  # the base plan, before the overrides
    name: str = ""
    overrides: tuple[LocatedOverride, ...] = ()
    sweep: LocatedOverride | None = None  # its value is unused; see sweep_values
    sweep_values: tuple[Any, ...] = ()
    policy: Policy | None = None
    actuals: pd.DataFrame | None = None
    employees: pd.DataFrame | None = None
    period: str | None = None
    files: tuple[str, ...] = ()  # the extends chain, this file first, the plan last
    is_scenario: bool = True

    def variants(self) -> list[Variant]:
        return sweep_variants(self.id, self.overrides, self.sweep, self.sweep_values)

    def scoring_period(self) -> str | None:
        if self.period is not None:
            return self.period
        if self.actuals is not None:
            return latest_period(self.actuals)
        return None

    def borrowing(self, other: ScenarioInputs) -> ScenarioInputs:
        """These inputs, with the policy, actuals, employees and period they lack taken from
        ``other`` (so a plan compared with a scenario is scored the same way)."""
        return replace(
            self,
            policy=self.policy if self.policy is not None else other.policy,
            actuals=self.actuals if self.actuals is not None else other.actuals,
            employees=self.employees if self.employees is not None else other.employees,
            period=self.period if self.period is not None else other.period,
        )

    def without_changes(self) -> ScenarioInputs:
        """The base: the same plan, policy and actuals, with no overrides and no sweep."""
        return replace(self, id=f"{self.plan.id} (base)", overrides=(), sweep=None, sweep_values=())


def inputs_from_documents(
    scenario: Scenario,
    plan: Plan,
    *,
    policy: Policy | None = None,
    actuals: pd.DataFrame | None = None,
    employees: pd.DataFrame | None = None,
    source: str = "<scenario>",
) -> ScenarioInputs:
    """Inputs from documents already in memory (an HTTP request): ``plan`` stands for the
    scenario's ``extends``; its ``set``, ``sweep`` and ``period`` apply. Errors name ``source``
    and the key (``set[0].path``)."""
    overrides = tuple(LocatedOverride(o.path, o.value, source) for o in scenario.set)
    sweep = None
    values: tuple[Any, ...] = ()
    if scenario.sweep is not None:
        sweep = LocatedOverride(scenario.sweep.path, None, source)
        values = tuple(scenario.sweep.values)
    return ScenarioInputs(
        id=scenario.id,
        name=scenario.name,
        plan=plan,
        overrides=overrides,
        sweep=sweep,
        sweep_values=values,
        policy=policy,
        actuals=actuals,
        employees=employees,
        period=scenario.period,
        files=(source,),
    )
