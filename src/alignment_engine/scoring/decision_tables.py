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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment_engine.model.decision_tables import DecisionTable, HitPolicy, TableInput
from alignment_engine.scoring.gate_effects import GateOutcome, KpiFact

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


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


@dataclass(frozen=True)
class TableDecision:
    """What a table decides for each of ``N`` sets of results."""

    matched: BoolArray  # (N, rows): which rows match
    value: FloatArray  # (N,): the output by the hit policy; NaN: no effect


def decide_table(table: DecisionTable, columns: Sequence[FloatArray]) -> TableDecision:
    """The table over ``N`` sets of results at once (``columns``: one array of ``N`` values
    per input, NaN for no result). One implementation for ``score`` (``N`` = 1) and for the
    draws of ``policy simulate``."""
    count = columns[0].shape[0] if columns else 0
    rows = table.conditions()
    outputs = np.array([float(r.then) for r in table.rules], dtype=np.float64)
    matched = np.ones((count, len(rows)), dtype=np.bool_)
    for number, column in enumerate(columns):
        matched &= np.stack([row[number].contains(column) for row in rows], axis=1)
    if table.hit is HitPolicy.COLLECT:
        aggregate = str(table.aggregation)
        if aggregate == "sum":
            value = np.where(matched, outputs, 0.0).sum(axis=1)
        elif aggregate == "product":
            value = np.where(matched, outputs, 1.0).prod(axis=1)
        elif aggregate == "max":
            value = np.where(matched, outputs, -np.inf).max(axis=1)
        else:
            value = np.where(matched, outputs, np.inf).min(axis=1)
    else:  # first (and unique, which matches at most one row)
        value = outputs[np.argmax(matched, axis=1)]
    default = np.nan if table.default is None else float(table.default)
    return TableDecision(matched=matched, value=np.where(matched.any(axis=1), value, default))


def table_outcome(
    table: DecisionTable,
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> GateOutcome:
    observed = [_observed(i, kpi_results, department_scores, company_score) for i in table.inputs]
    decision = decide_table(
        table, [np.array([np.nan if v is None else v], dtype=np.float64) for v in observed]
    )
    matched = [int(n) for n in np.flatnonzero(decision.matched[0])]
    chosen = matched[:1] if table.hit is HitPolicy.FIRST else matched
    found = float(decision.value[0])
    value = None if math.isnan(found) else found
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
