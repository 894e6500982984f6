"""Sweeps and the default scoring period (pure): one variant per sweep value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from alignment_engine.errors import ScenarioError
from alignment_engine.scenarios.overrides import LocatedOverride
from alignment_engine.scoring.periods import parse_period


@dataclass(frozen=True)
class Variant:
    """One run of a scenario: its label, the sweep value (if any) and all overrides in order."""

    label: str
    overrides: tuple[LocatedOverride, ...]
    value: Any = None
    swept: bool = False


def _value_label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sweep_variants(
    name: str,
    overrides: Sequence[LocatedOverride],
    sweep: LocatedOverride | None,
    values: Sequence[Any] = (),
) -> list[Variant]:
    """One variant per sweep value (the sweep applied after ``set``), or just the one."""
    if sweep is None:
        return [Variant(name, tuple(overrides))]
    return [
        Variant(
            f"{sweep.path}={_value_label(value)}",
            (*overrides, replace(sweep, value=value)),
            value,
            True,
        )
        for value in values
    ]


def latest_period(actuals: pd.DataFrame) -> str:
    """The period to score when none is given: of the periods ending last, the longest.

    ``2026-Q3`` wins over ``2026-09`` (both end on 30 September), so a file of quarterly
    results with a few monthly rows is scored for the quarter.
    """
    if "period" not in actuals.columns or actuals.empty:
        raise ScenarioError(
            "the actuals have no periods to score", suggestion="add 'period: 2026-Q3'"
        )
    periods = []
    for text in sorted({str(p) for p in actuals["period"].tolist()}):
        try:
            periods.append(parse_period(text))
        except ValueError as exc:
            raise ScenarioError(str(exc), file=actuals.attrs.get("source")) from None
    last_end = max(p.end for p in periods)
    ending_last = [p for p in periods if p.end == last_end]
    return min(ending_last, key=lambda p: (p.start, p.label)).label
