"""score_period end to end: the SPEC arithmetic, gates, caps, pool, proration, outputs."""

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import PolicyError
from alignment_engine.scoring import GateOutcome
from alignment_engine.scoring import score_period as score_core

SPEC_KEYS = {
    "kpis": {"scope", "kpi", "actual", "target", "attainment", "payout_factor", "curve", "gates"},
    "departments": {"department", "score", "payout_factor"},
    "employees": {"employee_id", "department", "payout", "factor", "explanation"},
    "totals": {"payout", "pool", "scale"},
}


def with_actuals(**changes):
    return [(p, s, k, changes.get(k, v)) for p, s, k, v in ON_TARGET]


def staff(rows):
    frame = pd.DataFrame(rows, columns=["employee_id", "department", "target_bonus"])
    frame.attrs["source"] = "employees.csv"
    return frame


STAFF = staff([("e1", "sales", 10000), ("e2", "production", 20000), ("e3", "finance", 5000)])


def run(rows=ON_TARGET, employees=STAFF, plan=None, **policy):
    return score_period(
        plan or make_plan(), make_policy(**policy), actuals_frame(rows), employees, "2026-Q3"
    )


def by_id(result):
    return dict(
        zip(result.employees.employee_id.tolist(), result.employees.units.tolist(), strict=True)
    )


def test_on_target_everyone_earns_their_target_bonus():
    result = run()
    assert by_id(result) == {"e1": 1_000_000, "e2": 2_000_000, "e3": 500_000}
    assert [d.payout_factor for d in result.departments] == [1.0, 1.0, 1.0]
    assert result.total_payout == pytest.approx(35000)


def test_json_shape_has_every_spec_key_and_serialises():
    body = run().to_dict()
    for section, keys in SPEC_KEYS.items():
        rows = body[section] if isinstance(body[section], list) else [body[section]]
        for row in rows:
            assert keys <= set(row), (section, keys - set(row))
    text = json.dumps(body, allow_nan=False)
    assert json.loads(text)["totals"]["payout_text"] == "35000.00"


def test_weighted_department_score_and_component_sum():
    # sales: market share at maximum (2.0, weight 0.4), revenue at threshold (0.5, weight 0.6)
    result = run(with_actuals(**{"sales.market_share": 0.28, "sales.revenue": 270.0}))
    sales = result.departments[0]
    assert sales.score == pytest.approx(0.4 * 2.0 + 0.6 * 0.5)
    # 0.2 company (1.0) + 0.5 department (1.1) + 0.2 shared (1.0) + 0.1 individual (1.0)
    assert sales.payout_factor == pytest.approx(1.05)
    assert by_id(result)["e1"] == 1_050_000


def test_lower_is_better_kpi_on_levels():
    # defect rate: threshold 3%, target 2%, maximum 1%; 1.5% is halfway from target to maximum
    result = run(with_actuals(**{"production.defect_rate": 0.015}))
    defect = next(k for k in result.kpis if k.kpi == "production.defect_rate")
    assert defect.payout_factor == pytest.approx(1.5)
    assert defect.attainment == pytest.approx(0.02 / 0.015)
    assert defect.segment == "between target and maximum"


def test_departments_without_kpis_or_shared_goals_reweight_components():
    result = run(with_actuals(**{"company.revenue": 1200.0}))  # company component 1.5
    finance = result.departments[2]  # no KPIs, in the shared goal
    assert finance.score is None
    assert finance.component_weights == pytest.approx(
        {"company": 0.4, "department": 0.0, "shared": 0.4, "individual": 0.2}
    )
    assert finance.payout_factor == pytest.approx(0.4 * 1.5 + 0.4 + 0.2)
    production = result.departments[1]  # KPIs, but in no shared goal
    assert production.component_weights["shared"] == 0.0
    assert production.component_weights["department"] == pytest.approx(0.625)


def test_shared_component_is_the_mean_over_the_departments_goals():
    plan = make_plan(
        metrics=[
            *make_plan().model_dump(by_alias=True)["metrics"],
            {"id": "nps", "better": "higher"},
        ],
        shared_goals=[
            {
                "id": "shared.gross_margin",
                "metric": "gross_margin",
                "target": 0.4,
                "threshold": 0.3,
                "maximum": 0.5,
                "departments": ["sales", "finance"],
            },
            {
                "id": "shared.nps",
                "metric": "nps",
                "target": 50,
                "threshold": 40,
                "maximum": 60,
                "departments": ["sales"],
            },
        ],
    )
    rows = [
        *with_actuals(**{"shared.gross_margin": 0.5}),
        ("2026-Q3", "shared.nps", "shared.nps", 40.0),
    ]
    result = run(rows, plan=plan)
    sales, _, finance = result.departments
    assert result.factors.shared_score[0] == pytest.approx((2.0 + 0.5) / 2)
    assert result.factors.shared_score[2] == pytest.approx(2.0)
    assert sales.payout_factor == pytest.approx(0.2 + 0.5 + 0.2 * 1.25 + 0.1)
    assert finance.payout_factor == pytest.approx(0.4 + 0.4 * 2.0 + 0.2)


def test_caps_per_kpi_and_per_employee():
    rows = with_actuals(**{"sales.market_share": 0.40, "sales.revenue": 1000.0})
    result = run(
        rows,
        caps={"kpi": 1.5, "employee": 1.2},
        curves={"default": {"basis": "attainment", "points": [[0.5, 0.5], [3.0, 3.0]]}},
    )
    sales_kpis = [k for k in result.kpis if k.scope == "sales"]
    assert [k.payout_factor for k in sales_kpis] == [1.5, 1.5]
    assert result.departments[0].payout_factor == 1.2


def test_individual_score_and_proration_by_days():
    table = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "department": ["sales"] * 3,
            "target_bonus": [9200.0] * 3,
            "individual_score": [2.0, 1.0, 1.0],
            "start_date": [None, "2026-08-01", "2026-10-01"],
            "end_date": [None, None, None],
        }
    )
    result = run(employees=table)
    # a: 0.9 + 0.1 * 2 = 1.1; b: joined for 61 of Q3's 92 days; c: joined after the quarter
    assert by_id(result) == {"a": 1_012_000, "b": 610_000, "c": 0}
    assert run(employees=table, proration="none").employees.units.tolist()[1] == 920_000


def test_kpi_gate_changes_that_kpi_only():
    gates = [
        {
            "id": "quality-first",
            "when": {"kpi": "production.defect_rate", "actual": {"gt": 0.025}},
            "effect": {"zero": True},
            "applies_to": "kpi:sales.revenue",
        }
    ]
    result = run(with_actuals(**{"production.defect_rate": 0.026}), gates=gates)
    revenue = next(k for k in result.kpis if k.kpi == "sales.revenue")
    assert revenue.payout_factor == 0.0 and revenue.curve_factor == 1.0
    assert revenue.gates == ("quality-first",)
    assert result.departments[0].score == pytest.approx(0.4)


def test_company_gate_changes_the_company_component():
    gates = [
        {
            "id": "profit",
            "when": {"kpi": "company.net_margin", "attainment": {"lt": 0.8}},
            "effect": {"cap": 0.5},
            "applies_to": "company",
        }
    ]
    rows = with_actuals(**{"company.net_margin": 0.09, "company.revenue": 1200.0})
    result = run(rows, gates=gates)
    assert result.company_score_before_gates == pytest.approx((0.625 + 2.0) / 2)
    assert result.factors.company_score == 0.5
    assert result.departments[0].payout_factor == pytest.approx(0.2 * 0.5 + 0.8)


def test_department_and_all_gates_change_employee_factors():
    gates = [
        {
            "id": "sales-floor",
            "when": {"department": "sales", "score": {"lt": 0.9}},
            "effect": {"zero": True},
            "applies_to": "department:sales",
        },
        {
            "id": "boost",
            "when": {"scope": "company", "score": {"gte": 1.0}},
            "effect": {"multiply": 1.1},
            "applies_to": "all",
        },
    ]
    result = run(with_actuals(**{"sales.revenue": 270.0, "sales.market_share": 0.22}), gates=gates)
    sales, production, _ = result.departments
    assert sales.payout_factor == 0.0 and sales.gates == ("sales-floor", "boost")
    assert production.payout_factor == pytest.approx(1.1)
    outcomes = {g.gate_id: g.triggered for g in result.gates}
    assert outcomes == {"sales-floor": True, "boost": True}


def test_pool_scale_down_to_the_cent_with_ties_by_employee_id():
    table = staff([("b", "sales", 100.0), ("a", "sales", 100.0), ("c", "sales", 100.0)])
    result = run(employees=table, pool={"amount": 200.0, "mode": "scale_down"})
    assert by_id(result) == {"a": 6667, "b": 6667, "c": 6666}
    assert result.totals.payout_units == 20000 and result.totals.scaled
    body = result.to_dict()
    assert body["totals"]["payout"] == body["totals"]["pool"] == 200.0
    assert body["totals"]["scale"] == pytest.approx(2 / 3)


def test_pool_not_needed_when_under_it():
    result = run(pool={"amount": 1_000_000, "mode": "scale_down"})
    assert not result.totals.scaled and result.totals.scale == 1.0


def test_explanation_chain_reads_in_order():
    result = run(pool={"amount": 30000, "mode": "scale"})
    explanation = result.explanation_for("e1")
    assert list(explanation) == [
        "department",
        "components",
        "individual_score",
        "factor_before_gates",
        "gates",
        "factor_after_gates",
        "employee_cap",
        "capped",
        "factor",
        "target_bonus",
        "proration",
        "amount",
        "pool",
        "rounding",
        "payout",
        "summary",
    ]
    company = explanation["components"][0]
    assert company["kpis"][0]["segment"] == "between target and maximum"
    assert explanation["pool"]["allocation"] == "largest remainder to the pool"
    assert explanation["payout"] == pytest.approx(10000 * 30000 / 35000, abs=0.01)
    assert explanation["summary"].endswith("CNY")
    assert result.explanation_for("nobody") is None


def test_compact_explanations_share_one_template_per_department():
    body = run().to_dict("compact")
    assert set(body["explanation_templates"]) == {"sales", "production", "finance"}
    first = body["employees"][0]["explanation"]
    assert first["template"] == "sales" and "components" not in first
    assert run().to_dict("none")["employees"][0]["explanation"] is None


def test_templates_are_built_once_per_department():
    result = run(employees=staff([("x", "sales", 1.0), ("y", "sales", 2.0)]))
    first = result.explanation(0)["components"]
    assert result.explanation(1)["components"] is first


def test_without_employees_kpis_and_departments_still_score():
    result = run(employees=None)
    assert len(result.employees) == 0 and result.totals.payout_units == 0
    body = result.to_dict()
    assert body["employees"] == [] and len(body["departments"]) == 3


def test_employees_frame_for_machine_outputs():
    frame = run().employees_frame()
    assert frame["payout_units"].tolist() == [1_000_000, 2_000_000, 500_000]
    assert frame["department"].tolist() == ["sales", "production", "finance"]


def test_same_inputs_give_byte_identical_json():
    rows = with_actuals(**{"sales.revenue": 281.7, "production.defect_rate": 0.0217})
    first = json.dumps(run(rows, pool={"amount": 33333.33, "mode": "scale"}).to_dict())
    second = json.dumps(run(rows, pool={"amount": 33333.33, "mode": "scale"}).to_dict())
    assert first == second


def _maintained_defects(actual: float, **curves: Any) -> Any:
    """production.defect_rate (threshold 0.03, target 0.02, maximum 0.01) set to maintain."""
    document = make_plan().model_dump(by_alias=True, exclude_none=True)
    document["departments"][1]["kpis"][0]["direction"] = "maintain"
    result = run(
        with_actuals(**{"production.defect_rate": actual}),
        plan=make_plan(departments=document["departments"]),
        **curves,
    )
    return next(k for k in result.kpis if k.kpi == "production.defect_rate")


@pytest.mark.parametrize("actual", [0.01, 0.015, 0.02, 0.03])
def test_a_maintained_kpi_inside_its_band_pays_the_target_and_no_more(actual: float) -> None:
    # Beating the target of a "hold it here" KPI is no achievement: the band pays 1.0 flat.
    defect = _maintained_defects(actual)
    assert defect.attainment == 1.0
    assert defect.payout_factor == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("actual", "attained"),
    [(0.005, 0.5), (0.0075, 0.75), (0.04, 0.75), (0.06, 0.5)],
)
def test_a_maintained_kpi_falls_off_on_both_sides_of_its_band(
    actual: float, attained: float
) -> None:
    # Below the band: actual / 0.01; above it: 0.03 / actual; the same attainment either side.
    defect = _maintained_defects(actual)
    assert defect.attainment == pytest.approx(attained)
    # On the levels curve it sits at target x attainment: 0.75 -> 0.015, between the threshold's
    # position (0.02**2 / 0.03) and the target; 0.5 -> 0.01, below the threshold: nothing.
    expected = (
        0.0 if attained == 0.5 else 0.5 + 0.5 * (0.015 - 0.02**2 / 0.03) / (0.02 - 0.02**2 / 0.03)
    )
    assert defect.payout_factor == pytest.approx(expected)


def test_a_maintained_kpi_on_an_attainment_curve_is_paid_its_band_attainment() -> None:
    curves = {
        "default": {"basis": "levels", "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0}},
        "flat": {"basis": "attainment", "points": [[0.5, 0.0], [1.0, 1.0], [1.5, 2.0]]},
    }
    kpi_curves = {"production.defect_rate": "flat"}
    assert _maintained_defects(0.02, curves=curves, kpi_curves=kpi_curves).payout_factor == 1.0
    over = _maintained_defects(0.04, curves=curves, kpi_curves=kpi_curves)
    assert (over.attainment, over.payout_factor) == (0.75, pytest.approx(0.5))


@pytest.mark.parametrize(
    "levels",
    [
        {"threshold": -10, "target": 0, "maximum": 10},
        {"threshold": -10, "target": -5, "maximum": 5},
    ],
)
def test_a_maintained_kpi_needs_a_band_above_zero(levels: dict[str, float]) -> None:
    # Its pay is a ratio to the band: at or below zero, a miss would read as on target or better.
    document = make_plan().model_dump(by_alias=True, exclude_none=True)
    document["departments"][1]["kpis"][0].update(direction="maintain", **levels)
    with pytest.raises(PolicyError, match="needs its target, threshold and maximum above zero"):
        run(plan=make_plan(departments=document["departments"]))


def test_attainment_curve_with_step_interpolation_per_kpi():
    curves = {
        "default": {"basis": "levels", "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0}},
        "revenue": {
            "basis": "attainment",
            "points": [[0.9, 0.7], [1.0, 1.0], [1.1, 1.3]],
            "interpolation": "step",
            "below_threshold": 0.1,
        },
    }
    rows = with_actuals(**{"sales.revenue": 327.0, "company.revenue": 850.0})
    result = run(
        rows, curves=curves, kpi_curves={"sales.revenue": "revenue", "company.revenue": "revenue"}
    )
    kpis = {k.kpi: k for k in result.kpis}
    assert kpis["sales.revenue"].payout_factor == 1.0  # 1.09 attainment: the 1.0 step
    assert kpis["sales.revenue"].segment == "between attainment 1 and attainment 1.1"
    assert kpis["company.revenue"].payout_factor == 0.1  # 0.85: below the first point


def test_gate_evaluation_can_be_swapped():
    seen = {}

    def evaluate(gates, kpi_results, department_scores, company_score=None):
        seen.update(
            kpis=set(kpi_results), departments=dict(department_scores), company=company_score
        )
        return [
            GateOutcome(
                gate_id="external",
                triggered=True,
                subject="company",
                measure="score",
                observed=company_score,
                condition="rule engine",
                effect="multiply",
                value=0.5,
                applies_to="all",
            )
        ]

    result = score_core(
        make_plan(),
        make_policy(),
        actuals_frame(ON_TARGET),
        STAFF,
        "2026-Q3",
        evaluate_gates=evaluate,
    )
    assert seen["company"] == 1.0 and seen["departments"]["finance"] is None
    assert "shared.gross_margin" in seen["kpis"]
    assert by_id(result)["e1"] == 500_000


def test_one_table_may_hold_kpi_rows_and_measure_rows():
    rows = [(p, s, k, v, None, None) for p, s, k, v in ON_TARGET if k != "shared.gross_margin"]
    rows += [
        ("2026-Q3", "shared.gross_margin", None, None, "gross_profit", 50.0),
        ("2026-Q3", "shared.gross_margin", None, None, "revenue", 100.0),
    ]
    frame = pd.DataFrame(rows, columns=["period", "scope", "kpi", "actual", "measure", "value"])
    result = score_period(make_plan(), make_policy(), frame, None, "2026-Q3")
    goal = next(k for k in result.kpis if k.kpi == "shared.gross_margin")
    assert goal.actual == 0.5 and goal.payout_factor == 2.0


def test_everything_missing_and_excluded_pays_on_what_is_left():
    result = run([], employees=staff([("e1", "sales", 1000.0)]), missing="exclude")
    sales = result.departments[0]
    assert sales.score is None
    assert sales.component_weights == {
        "company": 0.0,
        "department": 0.0,
        "shared": 0.0,
        "individual": 1.0,
    }
    assert by_id(result) == {"e1": 100_000}


def test_an_empty_employee_table():
    result = run(employees=staff([]))
    assert len(result.employees) == 0 and result.to_dict()["employees"] == []


@st.composite
def scenario(draw):
    kpi_values = {
        "company.net_margin": draw(st.floats(0.0, 0.3)),
        "company.revenue": draw(st.floats(0, 2000)),
        "sales.market_share": draw(st.floats(0, 0.5)),
        "sales.revenue": draw(st.floats(0, 600)),
        "production.defect_rate": draw(st.floats(0, 0.06)),
        "shared.gross_margin": draw(st.floats(0, 0.8)),
    }
    count = draw(st.integers(0, 25))
    bonuses = draw(st.lists(st.floats(0, 50_000), min_size=count, max_size=count))
    scores = draw(st.lists(st.floats(0, 3), min_size=count, max_size=count))
    departments = draw(
        st.lists(
            st.sampled_from(["sales", "production", "finance"]), min_size=count, max_size=count
        )
    )
    pool = draw(st.one_of(st.none(), st.integers(0, 10**6)))
    mode = draw(st.sampled_from(["scale", "scale_down", "none"]))
    caps = draw(st.fixed_dictionaries({"kpi": st.floats(0.5, 3), "employee": st.floats(0.5, 3)}))
    return kpi_values, bonuses, scores, departments, pool, mode, caps


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_scores_respect_caps_and_the_pool_for_any_inputs(case):
    kpi_values, bonuses, scores, departments, pool, mode, caps = case
    table = pd.DataFrame(
        {
            "employee_id": [f"e{i:03d}" for i in range(len(bonuses))],
            "department": departments,
            "target_bonus": bonuses,
            "individual_score": scores,
        }
    )
    extra = {} if pool is None else {"pool": {"amount": pool, "mode": mode}}
    result = run(with_actuals(**kpi_values), employees=table, caps=caps, **extra)
    factors = [k.payout_factor for k in result.kpis]
    assert all(0 <= f <= caps["kpi"] + 1e-12 for f in factors)
    assert all(0 <= f <= caps["employee"] + 1e-12 for f in result.employees.factor)
    total = int(result.employees.units.sum())
    assert total == result.totals.payout_units
    if (
        pool is not None
        and mode == "scale"
        and sum(bonuses) > 0
        and result.employees.amount.sum() > 0
    ):
        assert total == pool * 100
    if pool is not None and mode == "scale_down":
        assert total <= pool * 100
    if pool is None or mode == "none":
        amounts = [b * float(f) for b, f in zip(bonuses, result.employees.factor, strict=True)]
        for units, amount in zip(result.employees.units.tolist(), amounts, strict=True):
            cents = amount * 100
            if abs(cents - int(cents) - 0.5) > 1e-6:  # away from a half cent: plain half-up
                assert units == round_half_up(amount)
            else:
                assert abs(units - cents) <= 0.5 + 1e-6


def round_half_up(amount: float) -> int:
    return int(Decimal(amount).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_one_explanation_matches_the_bulk_rendering():
    result = run()
    alone = result.explanation(-1)
    bulk = list(result.iter_employees())[-1]["explanation"]
    assert alone == bulk and alone["department"] == "finance"
    with pytest.raises(IndexError):
        result.explanation(3)
