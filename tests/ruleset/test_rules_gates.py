"""Gates decided by durable_rules (ruleset/gate_rules.py) agree with the plain-Python reference
(tests/gate_oracle.py), and the engine facade scores with them."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine import engine
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model.policy import Comparison, Gate
from alignment_engine.ruleset.gate_rules import (
    GATES_PER_RULESET,
    compiled_gates,
    rule_gate_outcomes,
)
from alignment_engine.scoring import score_period
from alignment_engine.scoring.gate_effects import KpiFact
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table
from gate_oracle import gate_outcomes

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"

INF, NAN = math.inf, math.nan
KPIS = ["k1", "k2", "销售.收入"]  # the last never has results in the property test
DEPARTMENTS = ["d1", "d2"]
#: Shared by thresholds and observed values, so equalities and boundaries come up often.
COMMON = [0.0, -0.0, 0.8, 1.0]
#: Extremes: numbers must reach durable_rules exactly (no exponent, no rounding).
EXTREME = [-2.5, 0.1 + 0.2, 1e-7, 1e16, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]
NON_FINITE = [INF, -INF, NAN]


def unchecked_comparison(terms: dict[str, float]) -> Comparison:
    """A comparison whose thresholds may be non-finite, which validating a float refuses."""
    return Comparison.model_construct(None, **terms)


def gate(gate_id: str, when: dict[str, Any], effect: dict[str, Any], applies_to: str) -> Gate:
    return Gate.model_validate(
        {"id": gate_id, "when": when, "effect": effect, "applies_to": applies_to}
    )


# ---------------------------------------------------------------------------------------------
# Strategies

finite = st.one_of(
    st.sampled_from(COMMON),
    st.sampled_from(EXTREME).flatmap(lambda x: st.sampled_from([x, -x])),
    st.floats(allow_nan=False, allow_infinity=False),
)
#: Observed values: finite, infinite (zero defects give an infinite attainment), NaN or none.
observed = st.one_of(st.none(), st.sampled_from(NON_FINITE), finite, st.sampled_from(COMMON))
#: Thresholds: mostly finite; the policy model lets "inf" and "nan" through as text.
threshold = st.one_of(finite, st.sampled_from(COMMON), st.sampled_from(NON_FINITE))


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    names = draw(
        st.lists(st.sampled_from(["lt", "lte", "gt", "gte", "eq"]), min_size=1, unique=True)
    )
    return unchecked_comparison({name: draw(threshold) for name in names})


@st.composite
def gates(draw: st.DrawFn) -> Gate:
    comparison = draw(comparisons())
    when = draw(
        st.one_of(
            st.builds(
                lambda k, m: {"kpi": k, m: comparison},
                st.sampled_from([*KPIS, "k-without-results"]),
                st.sampled_from(["attainment", "actual"]),
            ),
            st.builds(
                lambda d: {"department": d, "score": comparison},
                st.sampled_from([*DEPARTMENTS, "d-without-score"]),
            ),
            st.just({"scope": "company", "score": comparison}),
        )
    )
    effect = draw(
        st.one_of(
            st.just({"zero": True}),
            st.builds(lambda x: {"cap": x}, st.floats(0, 3)),
            st.builds(lambda x: {"multiply": x}, st.floats(0, 3)),
        )
    )
    applies_to = draw(st.sampled_from(["all", "company", "department:d1", "kpi:k1"]))
    gate_id = draw(st.sampled_from(["g1", "g2", "g3", "门槛"]))  # repeats are allowed here
    return gate(gate_id, when, effect, applies_to)


kpi_facts = st.builds(KpiFact, actual=observed, attainment=observed, payout_factor=observed)


# ---------------------------------------------------------------------------------------------
# The rule engine decides as Python does


@settings(max_examples=100, deadline=None)
@given(
    gate_list=st.lists(gates(), max_size=8),
    kpi_results=st.fixed_dictionaries({"k1": kpi_facts}, optional={"k2": kpi_facts}),
    department_scores=st.fixed_dictionaries({"d1": observed}, optional={"d2": observed}),
    company_score=observed,
)
def test_rules_decide_every_gate_as_gate_outcomes_does(
    gate_list: list[Gate],
    kpi_results: dict[str, KpiFact],
    department_scores: dict[str, float | None],
    company_score: float | None,
) -> None:
    expected = gate_outcomes(gate_list, kpi_results, department_scores, company_score)
    assert rule_gate_outcomes(gate_list, kpi_results, department_scores, company_score) == expected


OPERATORS = ["lt", "lte", "gt", "gte", "eq"]
GRID_THRESHOLDS = [0.8, 0.0, -0.0, *NON_FINITE]
GRID_VALUES: list[float | None] = [0.8, 0.0, -0.0, 1.0, -1.0, *NON_FINITE, None]


def test_every_operator_threshold_and_value_pair() -> None:
    """Every comparison of one or two operators over notable thresholds (non-finite too), on
    each kind of subject, against notable values: the rules agree with Python on all."""
    comparisons_ = [unchecked_comparison({op: t}) for op in OPERATORS for t in GRID_THRESHOLDS]
    comparisons_ += [
        unchecked_comparison({a: t, b: u})
        for i, a in enumerate(OPERATORS)
        for b in OPERATORS[i + 1 :]
        for t in GRID_THRESHOLDS
        for u in GRID_THRESHOLDS
    ]
    whens = [
        *({"kpi": "k1", "attainment": c} for c in comparisons_),
        *({"kpi": "k1", "actual": c} for c in comparisons_[:30]),
        *({"department": "d1", "score": c} for c in comparisons_[:30]),
        *({"scope": "company", "score": c} for c in comparisons_[:30]),
    ]
    gate_list = [gate(f"g{n}", when, {"zero": True}, "all") for n, when in enumerate(whens)]
    for value in GRID_VALUES:
        results = {"k1": KpiFact(actual=value, attainment=value, payout_factor=None)}
        expected = gate_outcomes(gate_list, results, {"d1": value}, value)
        assert rule_gate_outcomes(gate_list, results, {"d1": value}, value) == expected
        assert any(o.triggered for o in expected) == (value is not None and not math.isnan(value))


def test_missing_nan_and_infinite_results() -> None:
    low = {"lt": 0.85}
    gate_list = [
        gate("low", {"kpi": "quality.defects", "attainment": low}, {"cap": 0.5}, "all"),
        gate("high", {"kpi": "quality.defects", "attainment": {"gte": 1.5}}, {"zero": True}, "all"),
        gate("weak", {"department": "ops", "score": low}, {"multiply": 0.8}, "department:ops"),
        gate("company", {"scope": "company", "score": low}, {"cap": 1.0}, "company"),
    ]
    zero_defects = {"quality.defects": KpiFact(actual=0.0, attainment=INF, payout_factor=2.0)}
    fired = rule_gate_outcomes(gate_list, zero_defects, {"ops": NAN}, None)
    assert [(o.gate_id, o.triggered, o.observed) for o in fired] == [
        ("low", False, INF),
        ("high", True, INF),
        ("weak", False, None),
        ("company", False, None),
    ]
    missing = {"quality.defects": KpiFact(actual=None, attainment=None, payout_factor=None)}
    assert not any(o.triggered for o in rule_gate_outcomes(gate_list, missing, {}, NAN))


def test_non_finite_thresholds_compare_as_python_does() -> None:
    def on_score(**terms: float) -> Gate:
        when = {"scope": "company", "score": unchecked_comparison(terms)}
        return gate("-".join(terms), when, {"zero": True}, "all")

    gate_list = [
        on_score(lt=INF),
        on_score(lte=-INF),
        on_score(gt=NAN),
        on_score(gte=-INF, lt=2.0),
    ]
    for company in (1.0, INF, -INF):
        expected = gate_outcomes(gate_list, {}, {}, company)
        assert rule_gate_outcomes(gate_list, {}, {}, company) == expected
    assert [o.triggered for o in rule_gate_outcomes(gate_list, {}, {}, 1.0)] == [
        True,
        False,
        False,
        True,
    ]


# ---------------------------------------------------------------------------------------------
# Compilation and caching


def quality_gate(effect: dict[str, Any], threshold: float = 0.85) -> Gate:
    when = {"kpi": "quality.defect_rate", "attainment": {"lt": threshold}}
    return gate("quality-gate", when, effect, "department:production")


def test_one_rule_per_gate_that_can_fire() -> None:
    never = gate(
        "never",
        {"scope": "company", "score": unchecked_comparison({"eq": NAN})},
        {"zero": True},
        "all",
    )
    compiled = compiled_gates([quality_gate({"cap": 0.5}), never])
    [ruleset] = compiled.rulesets
    assert list(ruleset.definition) == ["quality-gate#0"]
    assert ruleset.definition["quality-gate#0"] == {
        "all": [
            {
                "result": {
                    "$and": [
                        {"subject": "kpi:quality.defect_rate"},
                        {"$or": [{"$lt": {"attainment": 0.85}}, {"attainment_infinity": -1}]},
                    ]
                }
            }
        ]
    }


def test_rulesets_are_cached_by_the_gates_conditions() -> None:
    capped = compiled_gates([quality_gate({"cap": 0.5})])
    assert compiled_gates([quality_gate({"cap": 0.5})]) is capped
    assert compiled_gates([quality_gate({"multiply": 0.8})]) is capped  # effects are not rules
    assert compiled_gates([quality_gate({"cap": 0.5}, threshold=0.9)]) is not capped
    assert compiled_gates([quality_gate({"cap": 0.5}, threshold=-0.0)]) is not compiled_gates(
        [quality_gate({"cap": 0.5}, threshold=0.0)]
    )


def test_more_gates_than_one_ruleset_holds_are_split() -> None:
    count = GATES_PER_RULESET + 50
    gate_list = [
        gate(
            f"g{i}",
            {"kpi": KPIS[i % len(KPIS)], "attainment": {"lt": (i % 20) / 10}},
            {"cap": 0.5},
            "all",
        )
        for i in range(count)
    ]
    assert len(compiled_gates(gate_list).rulesets) == 2
    results = {
        k: KpiFact(actual=1.0, attainment=0.1 * n + 0.05, payout_factor=1.0)
        for n, k in enumerate(KPIS)
    }
    outcomes = rule_gate_outcomes(gate_list, results, {}, None)
    assert outcomes == gate_outcomes(gate_list, results, {}, None)
    assert 0 < sum(o.triggered for o in outcomes) < count


def test_threads_share_the_compiled_rules() -> None:
    gate_list = [quality_gate({"cap": 0.5})]

    def decide(value: float) -> bool:
        results = {"quality.defect_rate": KpiFact(actual=1.0, attainment=value, payout_factor=1)}
        return rule_gate_outcomes(gate_list, results, {}, None)[0].triggered

    values = [i / 100 for i in range(60, 110)] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        decided = list(pool.map(decide, values))
    assert decided == [v < 0.85 for v in values]


# ---------------------------------------------------------------------------------------------
# The example company through the engine facade


def test_the_example_company_is_scored_with_rule_gates() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    policy = policy_from_yaml(POLICY)
    actuals = read_table(ACME / "actuals-2026-q3.csv", ACTUALS)
    employees = read_table(ACME / "employees.csv", EMPLOYEES)
    result = engine.score_period(plan, policy, actuals, employees, "2026-Q3")
    fired = {o.gate_id: o for o in result.gates if o.triggered}
    assert list(fired) == ["quality-gate"]
    quality = fired["quality-gate"]
    assert quality.subject == "kpi:quality.defect_rate" and quality.observed is not None
    assert quality.observed < 0.85
    production = next(d for d in result.departments if d.department == "production")
    assert production.gates == ("quality-gate",)
    # The same payouts, to the cent, as the pure-Python gates give.
    python_gates = score_period(
        plan, policy, actuals, employees, "2026-Q3", evaluate_gates=gate_outcomes
    )
    assert result.to_dict() == python_gates.to_dict()
