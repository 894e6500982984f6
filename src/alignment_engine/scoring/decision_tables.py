"""Deciding a policy's decision tables (docs/file-formats.md, "DecisionTable").

A table reads the same values gates read (KPI attainment or actual, department and company
scores, before any gate acts), finds its matching rows by its hit policy and gives one outcome,
shaped as a gate's, so its effect joins the gates' on the same target (:mod:`.gate_effects`).

Tables are decided here rather than in the rule engine that decides gates: a hit policy is a
property of the table as a whole (the *first* matching row in the order written, an *aggregate*
over all of them), which a forward-chaining rule set has no notion of. Each row's conditions are
an interval per input, so a table is decided with a few numpy comparisons.

A result that is missing (no actual, an excluded KPI) matches only ``-``: a table whose rows all
ask something of it then matches no row, gives its ``default`` if it has one, and otherwise has
no effect, as a gate on a missing result does not fire.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from alignment_engine.model.decision_tables import DecisionTable, HitPolicy, TableInput
from alignment_engine.scoring.gate_effects import GateOutcome, KpiFact


def _observed(
    table_input: TableInput,
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> float | None:
    value: float | None
    if table_input.kpi is not None:
        fact = kpi_results.get(table_input.kpi)
        value = None if fact is None else getattr(fact, table_input.read)
    elif table_input.department is not None:
        value = department_scores.get(table_input.department)
    else:
        value = company_score
    return None if value is None or math.isnan(value) else float(value)


def table_outcome(
    table: DecisionTable,
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> GateOutcome:
    observed = [_observed(i, kpi_results, department_scores, company_score) for i in table.inputs]
    values = np.array([np.nan if v is None else v for v in observed], dtype=np.float64)
    rows = table.conditions()
    matched = [
        number
        for number, conditions in enumerate(rows)
        if all(bool(c.contains(values[i : i + 1])[0]) for i, c in enumerate(conditions))
    ]
    outputs = [float(table.rules[n].then) for n in matched]
    chosen: list[int] = matched
    value: float | None
    if table.hit is HitPolicy.FIRST and matched:
        chosen = matched[:1]
        value = outputs[0]
    elif table.hit is HitPolicy.COLLECT and matched:
        aggregate = str(table.aggregation)
        if aggregate == "sum":
            value = math.fsum(outputs)
        elif aggregate == "product":
            value = math.prod(outputs)
        else:
            value = max(outputs) if aggregate == "max" else min(outputs)
    elif matched:  # unique: validated to match at most one row
        value = outputs[0]
    else:
        value = None if table.default is None else float(table.default)
    how = str(table.hit) if table.hit is not HitPolicy.COLLECT else f"collect {table.aggregation}"
    if chosen:
        said = ", ".join(str(n + 1) for n in chosen)
        condition = f"{'rows' if len(chosen) > 1 else 'row'} {said} ({how})"
    elif value is not None:
        condition = f"no row matched: default ({how})"
    else:
        condition = f"no row matched ({how})"
    return GateOutcome(
        gate_id=table.id,
        triggered=value is not None,
        subject="table",
        measure="rows",
        observed=None,
        condition=condition,
        effect=str(table.effect),
        value=value,
        applies_to=table.applies_to,
        rows=tuple(n + 1 for n in chosen),
        inputs=tuple((i.label, v) for i, v in zip(table.inputs, observed, strict=True)),
    )


def table_outcomes(
    tables: Sequence[DecisionTable],
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> list[GateOutcome]:
    return [table_outcome(t, kpi_results, department_scores, company_score) for t in tables]
