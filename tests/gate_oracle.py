"""Gates decided in plain Python: the reference the rule engine's decision is checked against
(tests only; the product decides gates in ``alignment_engine.ruleset.gate_rules``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alignment_engine.model.policy import Gate
from alignment_engine.scoring.gate_effects import GateOutcome, KpiFact, gate_outcome, read_gate


def gate_outcomes(
    gates: Sequence[Gate],
    kpi_results: Mapping[str, KpiFact],
    department_scores: Mapping[str, float | None],
    company_score: float | None = None,
) -> list[GateOutcome]:
    """Which gates fire on these results. A gate whose subject has no result (or a NaN one) does
    not fire; its outcome says so with ``observed=None``."""
    outcomes = []
    for gate in gates:
        reading = read_gate(gate, kpi_results, department_scores, company_score)
        triggered = reading.observed is not None and reading.comparison.holds(reading.observed)
        outcomes.append(gate_outcome(gate, reading, triggered))
    return outcomes
