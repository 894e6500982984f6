"""Gate arithmetic: what a gate reads, what its outcome says, how triggered gates combine.

Gates are conditions on a few results (a KPI, a department, the company) that change payouts.
Whether a gate fires is decided in one place, by the rule engine
(``alignment_engine.ruleset.gate_rules``), handed in to scoring as a :class:`GateEvaluator`;
this module reads the values a gate compares (:func:`read_gate`), writes the outcome
(:func:`gate_outcome`) and combines the effects of the gates that fired
(:func:`modifiers_by_target`) for the vectorised arithmetic. Conditions are read on results
*before* any gate acts (KPI factors already capped by ``caps.kpi``), so the order gates are
listed in never changes which of them fire.

Effects on one target combine in a fixed order: every ``multiply`` (their product), then every
``add`` of a decision table (their sum; the factor never falls below 0), then the lowest ``cap``,
then ``zero``. A cap is therefore the last word over a multiplier.

Targets (``applies_to``): ``kpi:<id>`` changes that KPI's factor (and so every score that uses
it); ``company`` changes the company component; ``department:<id>`` changes the factor of that
department's employees; ``all`` changes every employee's factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from alignment_engine.model.policy import Comparison, Gate

FloatArray = npt.NDArray[np.float64]

_OPERATORS = (("lt", "<"), ("lte", "<="), ("gt", ">"), ("gte", ">="), ("eq", "=="))


@dataclass(frozen=True)
class KpiFact:
    """What a gate may read about one KPI (None: no result, e.g. an excluded missing actual)."""

    actual: float | None
    attainment: float | None
    payout_factor: float | None


@dataclass(frozen=True)
class GateOutcome:
    gate_id: str
    triggered: bool
    subject: str  # "kpi:<id>", "department:<id>" or "company"
    measure: str  # "attainment", "actual" or "score"
    observed: float | None  # None: the subject had no result, so the gate did not fire
    condition: str  # e.g. "attainment < 0.8"
    effect: str  # "cap", "zero", "multiply" or (decision tables) "add"
    value: float | None  # the cap, multiplier or addition; None for zero
    applies_to: str
    # A decision table's outcome: the rows that matched (1-based; empty: the default or nothing)
    # and the values it read, by input name. None for a gate.
    rows: tuple[int, ...] | None = None
    inputs: tuple[tuple[str, float | None], ...] = ()

    def describe_effect(self) -> str:
        if self.effect == "zero":
            return "zero"
        return f"{self.effect} {self.value:g}"

    def to_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "gate": self.gate_id,
            "triggered": self.triggered,
            "subject": self.subject,
            "measure": self.measure,
            "observed": self.observed,
            "condition": self.condition,
            "effect": self.effect,
            "value": self.value,
            "applies_to": self.applies_to,
        }
        if self.rows is not None:
            described["table"] = {
                "rows": list(self.rows),
                "inputs": dict(self.inputs),
            }
        return described


@dataclass(frozen=True)
class Modifier:
    """The combined effect of the triggered gates on one target."""

    multiply: float = 1.0
    cap: float | None = None
    zero: bool = False
    add: float = 0.0  # decision tables' `add`, after the multipliers; never below 0

    def apply(self, values: FloatArray) -> FloatArray:
        cap = np.inf if self.cap is None else self.cap
        return apply_effects(values, self.multiply, self.add, cap, self.zero)

    def apply_scalar(self, value: float) -> float:
        return float(self.apply(np.array([value], dtype=np.float64))[0])

    def then(self, other: Modifier) -> Modifier:
        """Both modifiers together (same combination order as applying their gates at once)."""
        caps = [c for c in (self.cap, other.cap) if c is not None]
        return Modifier(
            multiply=self.multiply * other.multiply,
            cap=min(caps) if caps else None,
            zero=self.zero or other.zero,
            add=self.add + other.add,
        )

    @property
    def is_identity(self) -> bool:
        return self.multiply == 1.0 and self.cap is None and not self.zero and self.add == 0.0


IDENTITY = Modifier()


def apply_effects(
    values: FloatArray,
    multiply: npt.ArrayLike,
    add: npt.ArrayLike,
    cap: npt.ArrayLike,
    zero: npt.ArrayLike,
) -> FloatArray:
    """Combined effects on factors, in the one order they combine: times ``multiply``, plus
    ``add`` (never below 0), at most ``cap``, then 0 where ``zero``. Every argument broadcasts:
    a scalar of one target (:class:`Modifier`), one value per department's employees, one per
    draw of ``policy simulate``."""
    added = np.asarray(add, dtype=np.float64)
    result = np.asarray(values, dtype=np.float64) * np.asarray(multiply, dtype=np.float64)
    result = np.where(added != 0, np.maximum(result + added, 0.0), result)
    result = np.minimum(result, np.asarray(cap, dtype=np.float64))
    applied: FloatArray = np.where(np.asarray(zero, dtype=np.bool_), 0.0, result)
    return applied


def _condition(comparison: Comparison) -> str:
    parts = [
        f"{symbol} {getattr(comparison, name):g}"
        for name, symbol in _OPERATORS
        if getattr(comparison, name) is not None
    ]
    return " and ".join(parts)


def gate_subject(gate: Gate) -> tuple[str, str, Comparison]:
    """What a gate looks at: its subject (``kpi:<id>``, ``department:<id>`` or ``company``),
    the measure it compares and the comparison."""
    when = gate.when
    if when.kpi is not None:
        if when.attainment is not None:
            return f"kpi:{when.kpi}", "attainment", when.attainment
        if when.actual is not None:
            return f"kpi:{when.kpi}", "actual", when.actual
        raise ValueError(f"gate '{gate.id}' compares a KPI on neither attainment nor actual")
    if when.score is None:
        raise ValueError(f"gate '{gate.id}' compares a department or the company without 'score'")
    if when.department is not None:
        return f"department:{when.department}", "score", when.score
    return "company", "score", when.score


@dataclass(frozen=True)
class GateReading:
    """A gate's subject and comparison with the value it observes, before deciding anything."""

    subject: str
    measure: str
    comparison: Comparison
    observed: float | None  # None: the subject has no result (missing or NaN)


def read_gate(
    gate: Gate,
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None,
) -> GateReading:
    """The value ``gate`` compares, looked up in the results (NaN read as no result)."""
    subject, measure, comparison = gate_subject(gate)
    when = gate.when
    observed: float | None
    if when.kpi is not None:
        fact = kpi_results.get(when.kpi)
        observed = None if fact is None else getattr(fact, measure)
    elif when.department is not None:
        observed = department_scores.get(when.department)
    else:
        observed = company_score
    if observed is not None and math.isnan(observed):
        observed = None
    return GateReading(subject, measure, comparison, observed)


def gate_outcome(gate: Gate, reading: GateReading, triggered: bool) -> GateOutcome:
    """The outcome of ``gate`` as decided by an evaluator (``triggered``)."""
    effect = gate.effect
    if effect.zero:
        kind, value = "zero", None
    elif effect.cap is not None:
        kind, value = "cap", float(effect.cap)
    else:
        kind, value = "multiply", float(effect.multiply if effect.multiply is not None else 1)
    return GateOutcome(
        gate_id=gate.id,
        triggered=triggered,
        subject=reading.subject,
        measure=reading.measure,
        observed=reading.observed,
        condition=f"{reading.measure} {_condition(reading.comparison)}",
        effect=kind,
        value=value,
        applies_to=gate.applies_to,
    )


class GateEvaluator(Protocol):
    """What :func:`score_period <alignment_engine.scoring.score.score_period>` calls to decide
    which gates fire. The product has one, the rule engine's
    (``alignment_engine.ruleset.gate_rules.rule_gate_outcomes``); scoring never decides a gate
    for ``score`` (decision tables, :mod:`.decision_tables`, and the draws of
    ``policy simulate``, :mod:`.simulation`, are decided on arrays, held to the rule engine's
    decisions by the tests)."""

    def __call__(
        self,
        gates: Sequence[Gate],
        kpi_results: Mapping[str, KpiFact],
        department_scores: Mapping[str, float | None],
        company_score: float | None = None,
    ) -> list[GateOutcome]: ...


def modifiers_by_target(outcomes: Sequence[GateOutcome]) -> dict[str, Modifier]:
    """The combined effect of the triggered gates for each ``applies_to`` target."""
    combined: dict[str, Modifier] = {}
    for outcome in outcomes:
        if not outcome.triggered:
            continue
        if outcome.effect == "zero":
            single = Modifier(zero=True)
        elif outcome.effect == "cap":
            single = Modifier(cap=outcome.value)
        elif outcome.effect == "add":
            single = Modifier(add=outcome.value if outcome.value is not None else 0.0)
        else:
            single = Modifier(multiply=outcome.value if outcome.value is not None else 1.0)
        combined[outcome.applies_to] = combined.get(outcome.applies_to, IDENTITY).then(single)
    return combined
