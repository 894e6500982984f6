import numpy as np
import pytest

from alignment_engine.model.policy import Gate
from alignment_engine.ruleset.gate_rules import rule_gate_outcomes
from alignment_engine.scoring.gate_effects import KpiFact, Modifier, modifiers_by_target


def gate(gate_id, when, effect, applies_to="all"):
    return Gate.model_validate(
        {"id": gate_id, "when": when, "effect": effect, "applies_to": applies_to}
    )


FACTS = {
    "company.net_margin": KpiFact(actual=0.09, attainment=0.75, payout_factor=0.6),
    "sales.revenue": KpiFact(actual=None, attainment=None, payout_factor=None),
}


def test_kpi_gate_fires_on_attainment():
    [outcome] = rule_gate_outcomes(
        [gate("profit", {"kpi": "company.net_margin", "attainment": {"lt": 0.8}}, {"cap": 0.5})],
        FACTS,
        {},
    )
    assert outcome.triggered and outcome.observed == 0.75
    assert outcome.condition == "attainment < 0.8"
    assert (outcome.effect, outcome.value, outcome.applies_to) == ("cap", 0.5, "all")


def test_department_and_company_gates_read_scores():
    gates = [
        gate(
            "weak-sales",
            {"department": "sales", "score": {"lt": 0.5}},
            {"zero": True},
            "department:sales",
        ),
        gate("strong-company", {"scope": "company", "score": {"gte": 1.2}}, {"multiply": 1.1}),
    ]
    outcomes = rule_gate_outcomes(gates, FACTS, {"sales": 0.4}, company_score=1.0)
    assert [o.triggered for o in outcomes] == [True, False]
    assert outcomes[0].subject == "department:sales"
    assert outcomes[1].subject == "company" and outcomes[1].observed == 1.0


def test_a_gate_without_a_result_does_not_fire():
    outcomes = rule_gate_outcomes(
        [
            gate("g1", {"kpi": "sales.revenue", "actual": {"lt": 100}}, {"zero": True}),
            gate("g2", {"department": "finance", "score": {"lt": 1}}, {"zero": True}),
            gate("g3", {"scope": "company", "score": {"lt": 1}}, {"zero": True}),
        ],
        FACTS,
        {"finance": None},
        company_score=float("nan"),
    )
    assert [(o.triggered, o.observed) for o in outcomes] == [(False, None)] * 3


def test_effects_combine_multiply_then_cap_then_zero():
    gates = [
        gate("boost", {"scope": "company", "score": {"gte": 0}}, {"multiply": 1.5}),
        gate("limit", {"scope": "company", "score": {"gte": 0}}, {"cap": 1.2}),
        gate("boost2", {"scope": "company", "score": {"gte": 0}}, {"multiply": 1.2}),
    ]
    modifiers = modifiers_by_target(rule_gate_outcomes(gates, {}, {}, company_score=1.0))
    combined = modifiers["all"]
    assert combined.multiply == pytest.approx(1.8) and combined.cap == 1.2
    np.testing.assert_allclose(combined.apply(np.array([0.5, 1.0])), [0.9, 1.2])
    zeroed = combined.then(Modifier(zero=True))
    assert zeroed.apply_scalar(1.0) == 0.0


def test_modifiers_are_grouped_by_target():
    gates = [
        gate("a", {"scope": "company", "score": {"gte": 0}}, {"cap": 0.5}, "kpi:sales.revenue"),
        gate("b", {"scope": "company", "score": {"gte": 0}}, {"cap": 0.7}, "company"),
        gate("c", {"scope": "company", "score": {"lt": 0}}, {"zero": True}, "company"),
    ]
    modifiers = modifiers_by_target(rule_gate_outcomes(gates, {}, {}, company_score=1.0))
    assert set(modifiers) == {"kpi:sales.revenue", "company"}
    assert modifiers["company"] == Modifier(cap=0.7)
