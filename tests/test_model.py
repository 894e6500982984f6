"""The document models: defaults, parsing conveniences and cross-reference checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alignment_engine.loading import plan_from_yaml, policy_from_yaml, scenario_from_yaml
from alignment_engine.model import (
    Direction,
    Plan,
    Policy,
    policy_plan_problems,
)


@pytest.fixture
def plan(data_dir: Path) -> Plan:
    return plan_from_yaml(data_dir / "valid" / "minimal-plan.yaml")


def test_valid_plan_loads_with_chinese_names(plan: Plan) -> None:
    assert plan.name == "小公司 Tiny Co"
    assert plan.department("sales").name == "销售 Sales"


def test_percent_weights_are_fractions(plan: Plan) -> None:
    weights = [k.weight for k in plan.department("sales").kpis]
    assert weights == pytest.approx([0.4, 0.6])


def test_direction_defaults_to_the_metrics_better_direction(plan: Plan) -> None:
    assert plan.kpi("sales.market_share").direction is Direction.INCREASE
    lower = Plan.model_validate(
        {
            "kind": "plan",
            "id": "p",
            "metrics": [{"id": "defects", "better": "lower"}],
            "departments": [{"id": "q", "kpis": [{"id": "q.d", "metric": "defects"}]}],
        }
    )
    assert lower.kpi("q.d").direction is Direction.DECREASE
    assert lower.kpi("q.d").lower_is_better


def test_influence_signs(plan: Plan) -> None:
    assert [i.sign for i in plan.influences] == [1, -1]
    assert plan.influences[1].strength == 0.6


def test_objective_links_as_a_list_share_equally(plan: Plan) -> None:
    assert plan.kpi("company.revenue").objectives == {"F1": 1.0}


def test_lookups(plan: Plan) -> None:
    scopes = [scope for scope, _ in plan.kpis()]
    assert scopes == ["company", "sales", "sales", "finance", "shared.margin"]
    assert plan.owner("finance.gross_margin") == "finance"
    with pytest.raises(KeyError):
        plan.kpi("nope")


def test_models_are_frozen(plan: Plan) -> None:
    with pytest.raises(ValidationError):
        plan.id = "other"  # type: ignore[misc]


def test_policy_and_plan_fit(data_dir: Path, plan: Plan) -> None:
    policy = policy_from_yaml(data_dir / "valid" / "minimal-policy.yaml")
    assert policy_plan_problems(policy, plan) == []
    assert policy.curve_for("sales.revenue")[0] == "revenue"
    assert policy.curve_for("sales.market_share")[0] == "default"


def test_levels_curve_needs_the_kpis_levels(data_dir: Path, plan: Plan) -> None:
    policy = policy_from_yaml(data_dir / "valid" / "minimal-policy.yaml")
    stripped = plan.model_copy(
        update={
            "company_kpis": [],
            "departments": [
                plan.department("sales").model_copy(
                    update={
                        "kpis": [
                            plan.kpi("sales.market_share").model_copy(update={"threshold": None})
                        ]
                    }
                )
            ],
            "shared_goals": [],
        }
    )
    problems = policy_plan_problems(policy, stripped)
    messages = [p.message for p in problems]
    assert (
        "curve 'default' pays on the KPI's threshold, but KPI 'sales.market_share' has no threshold"
        in messages
    )


def test_policy_gate_refers_to_unknown_kpi(data_dir: Path, plan: Plan) -> None:
    policy = policy_from_yaml(data_dir / "valid" / "minimal-policy.yaml")
    gate = policy.gates[0]
    bad = policy.model_copy(
        update={
            "gates": [
                gate.model_copy(
                    update={"when": gate.when.model_copy(update={"kpi": "finance.gross_margn"})}
                )
            ]
        }
    )
    problems = policy_plan_problems(bad, plan)
    assert problems[0].suggestion == "did you mean 'finance.gross_margin'?"


def test_policy_needs_a_default_curve() -> None:
    with pytest.raises(ValidationError, match="a policy needs a 'default' curve"):
        Policy.model_validate(
            {
                "id": "p",
                "components": {"department": 1},
                "curves": {"main": {"basis": "levels", "points": {"target": 1}}},
            }
        )


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[1.0, 1.0], [0.9, 0.5]], "strictly increasing"),
        ([[0.9, 1.0], [1.0, 0.5]], "must not fall"),
        ({"threshold": 0.5}, "an 'attainment' curve takes points"),
    ],
)
def test_attainment_curves_must_be_monotone(points: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Policy.model_validate(
            {
                "id": "p",
                "components": {"department": 1},
                "curves": {"default": {"basis": "attainment", "points": points}},
            }
        )


def test_power_curve_needs_diminishing_returns() -> None:
    with pytest.raises(ValidationError, match="0 < b < 1"):
        Plan.model_validate(
            {
                "id": "p",
                "metrics": [{"id": "m"}],
                "departments": [{"id": "d", "kpis": [{"id": "d.k", "metric": "m"}]}],
                "resources": [{"id": "r", "capacity": 10}],
                "response_curves": [
                    {"kpi": "d.k", "resource": "r", "shape": "power", "params": {"a": 1, "b": 1.5}}
                ],
            }
        )


def test_unsafe_formula_is_refused() -> None:
    with pytest.raises(ValidationError, match="may only use names, numbers"):
        Plan.model_validate({"id": "p", "metrics": [{"id": "m", "formula": "__import__('os')"}]})


def test_nan_is_not_a_target() -> None:
    with pytest.raises(ValidationError, match="finite number"):
        Plan.model_validate(
            {
                "id": "p",
                "metrics": [{"id": "m"}],
                "departments": [
                    {"id": "d", "kpis": [{"id": "d.k", "metric": "m", "target": float("nan")}]}
                ],
            }
        )


def test_scenario_loads(data_dir: Path) -> None:
    scenario = scenario_from_yaml(data_dir / "valid" / "minimal-scenario.yaml")
    assert scenario.extends == "minimal-plan.yaml"
    assert scenario.sweep is not None
    assert scenario.sweep.values == [0.26, 0.27]


def test_scenario_path_syntax_is_checked() -> None:
    from alignment_engine.model import Scenario

    with pytest.raises(ValidationError, match="is not of the form"):
        Scenario.model_validate(
            {"id": "s", "extends": "p.yaml", "set": [{"path": "a..b", "value": 1}]}
        )


def test_wrongly_typed_metric_reference_is_a_validation_error() -> None:
    # Found by schemathesis: a mapping where a metric id belongs must not crash the defaults.
    with pytest.raises(ValidationError):
        Plan.model_validate(
            {
                "id": "p",
                "metrics": [{"id": "m"}],
                "shared_goals": [{"id": "g", "metric": {}, "departments": ["d"]}],
                "departments": [{"id": "d", "kpis": [{"id": "d.k", "metric": ["m"]}]}],
            }
        )


@pytest.mark.parametrize("text", ["inf", "nan", "inf%", "1e400", "-Infinity"])
def test_non_finite_numbers_written_as_text_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        Policy.model_validate(
            {
                "id": "p",
                "components": {"department": 1},
                "curves": {"default": {"points": {"target": 1}}},
                "caps": {"kpi": text},
            }
        )


def test_did_you_mean_never_suggests_the_word_itself() -> None:
    from alignment_engine.model import did_you_mean

    assert did_you_mean("actuals", ["actuals", "actual"]) == "did you mean 'actual'?"
    assert did_you_mean("actuals", ["actuals"]) is None


def test_suggestions_ignore_case() -> None:
    from alignment_engine.model import did_you_mean

    # 'IT' is no close match for 'it' by letters alone; a department typed in capitals still is.
    assert did_you_mean("IT", ["it", "sales"]) == "did you mean 'it'?"
    assert did_you_mean("SALSE", ["sales", "finance"]) == "did you mean 'sales'?"
    assert did_you_mean("hr", ["engineering", "sales"]) is None


def test_a_bad_percentage_names_the_value_the_user_wrote() -> None:
    # pydantic fills in "{value}" only: "{value!r}" reached users as those very characters.
    with pytest.raises(ValidationError) as raised:
        Plan.model_validate(
            {
                "id": "p",
                "metrics": [{"id": "m"}],
                "departments": [
                    {"id": "d", "kpis": [{"id": "d.k", "metric": "m", "target": "x%"}]}
                ],
            }
        )
    assert "got 'x%'" in str(raised.value) and "{value" not in str(raised.value)
