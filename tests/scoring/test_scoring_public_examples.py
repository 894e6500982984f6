"""Public incentive-plan disclosures, reproduced with the engine.

Each test cites where its numbers come from. Where a document discloses the payout schedule but
not the underlying dollar levels (net income, EBITDA, salaries), the levels are illustrative and
only the disclosed percentages are asserted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from scoring_builders import score_period

from alignment_engine.model.plan import Plan
from alignment_engine.model.policy import Policy
from alignment_engine.scoring import evaluate_curve


def company_plan(kpis: list[dict[str, Any]], departments: tuple[str, ...] = ("staff",)) -> Plan:
    return Plan.model_validate(
        {
            "kind": "plan",
            "id": "public-example",
            "currency": "USD",
            "metrics": [{"id": k["metric"], "better": "higher"} for k in kpis],
            "company_kpis": kpis,
            "departments": [{"id": d} for d in departments],
        }
    )


def company_policy(curves: dict[str, Any], **extra: Any) -> Policy:
    return Policy.model_validate(
        {
            "kind": "policy",
            "id": "public-example",
            "currency": "USD",
            "components": {"company": 1.0},
            "curves": curves,
            **extra,
        }
    )


def actuals(values: dict[str, float], period: str = "2026") -> pd.DataFrame:
    return pd.DataFrame(
        [(period, "company", kpi, value) for kpi, value in values.items()],
        columns=["period", "scope", "kpi", "actual"],
    )


def people(bonuses: dict[str, float], department: str = "staff", **columns: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "employee_id": list(bonuses),
            "department": department,
            "target_bonus": list(bonuses.values()),
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


# 1. Universal Hospital Services, 2011 Executive Incentive Plan Targets (Exhibit 10.18)
# https://www.sec.gov/Archives/edgar/data/886171/000110465911013301/a11-2267_1ex10d18.htm
# "Target Achievement -> Bonus Multiplier": 110% -> 150%, 105% -> 125%, 100% -> 100%,
# 99% -> 95%, 98% -> 90%, 97% -> 85%, 96% -> 80%, 95% -> 75%, 94% -> 70%, 93% -> 65%,
# <93% -> zero. "every 1% variance to Target has a 5 times multiplier, with bookends at 110% and
# 93%". Targets: G. D. Blackford 100% of base salary, R. T. Clevenger 75%, W. T. Chesley 65%.
UHS_2011 = [
    [1.10, 1.50],
    [1.05, 1.25],
    [1.00, 1.00],
    [0.99, 0.95],
    [0.98, 0.90],
    [0.97, 0.85],
    [0.96, 0.80],
    [0.95, 0.75],
    [0.94, 0.70],
    [0.93, 0.65],
]


def test_uhs_2011_multiplier_table_rung_by_rung():
    points = sorted(UHS_2011)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    rungs = evaluate_curve(xs, xs, ys).factor
    assert rungs.tolist() == pytest.approx(ys)
    # "5 times multiplier" between rungs, zero below 93%, flat past the 110% bookend.
    between = evaluate_curve([1.02, 0.955, 0.9299, 1.25], xs, ys).factor
    assert between.tolist() == pytest.approx([1.10, 0.775, 0.0, 1.50])


def test_uhs_2011_bonus_for_each_executive_target():
    plan = company_plan([{"id": "company.ebitda", "metric": "ebitda", "target": 100.0}])
    policy = company_policy({"default": {"basis": "attainment", "points": sorted(UHS_2011)}})
    salary = 400_000.0  # illustrative; the exhibit gives targets as % of base salary
    staff = people(
        {"blackford": salary * 1.00, "clevenger": salary * 0.75, "chesley": salary * 0.65}
    )
    result = score_period(plan, policy, actuals({"company.ebitda": 104.0}), staff, "2026")
    # 104% achievement: 100% + 4 x 5 = 120% multiplier
    assert result.kpis[0].payout_factor == pytest.approx(1.20)
    assert [str(result.payout(i)) for i in range(3)] == ["480000.00", "360000.00", "312000.00"]


# 2. Universal Hospital Services, 2005 Executive Incentive Plan Targets (Exhibit 10.19)
# https://contracts.justia.com/companies/agiliti-health-inc-7569/contract/810854
# 110% -> 200%, 105% -> 150%, 100% -> 100%, 99% -> 90%, ..., 93% -> 30%, <93% -> zero.
# "Every 1% variance to Target has a 10x multiplier ... Interpolation between rungs if needed."
UHS_2005 = [[0.93 + i / 100, 0.30 + i / 10] for i in range(8)] + [[1.05, 1.50], [1.10, 2.00]]


def test_uhs_2005_steep_scale_interpolates_between_rungs():
    xs, ys = [p[0] for p in UHS_2005], [p[1] for p in UHS_2005]
    assert ys[:7] == pytest.approx([0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90])
    got = evaluate_curve([0.93, 0.965, 0.99, 1.00, 1.075, 1.10, 0.92], xs, ys).factor
    assert got.tolist() == pytest.approx([0.30, 0.65, 0.90, 1.00, 1.75, 2.00, 0.0])
    # The same table read as steps (no interpolation) pays the rung at or below.
    steps = evaluate_curve([0.965, 1.075], xs, ys, step=True).factor
    assert steps.tolist() == pytest.approx([0.60, 1.50])


# 3. Corporate-wide goal with a cliff at 80% and an accelerator to 120% (Exhibit 10.20)
# https://www.sec.gov/Archives/edgar/data/862831/000095015206002115/l17984aexv10w20.htm
# CEO: target incentive 50% of base pay; below 80% achievement 0%; 80-100%: achievement x 50%;
# 100-120%: +1.5% of base pay per 1% from 50% to 80%; at or above 120%: 80%. Individual modifier
# 0% to 125%; the table's "Maximum After Applying Modifier" is 100% of base pay (EVPs: 40%
# target, 64% at 120%, 80% after modifier).
CORPORATE_GOAL = [[0.80, 0.80], [1.00, 1.00], [1.20, 1.60]]


@pytest.mark.parametrize(
    ("achievement", "ceo_percent_of_base", "evp_percent_of_base"),
    [
        (0.79, 0.0, 0.0),
        (0.80, 40.0, 32.0),
        (0.90, 45.0, 36.0),
        (1.00, 50.0, 40.0),
        (1.10, 65.0, 52.0),
        (1.20, 80.0, 64.0),
        (1.35, 80.0, 64.0),
    ],
)
def test_corporate_goal_schedule_for_ceo_and_evp(
    achievement, ceo_percent_of_base, evp_percent_of_base
):
    plan = company_plan([{"id": "company.goal", "metric": "goal", "target": 100.0}])
    policy = company_policy({"default": {"basis": "attainment", "points": CORPORATE_GOAL}})
    base = 100_000.0
    staff = people({"ceo": base * 0.50, "evp": base * 0.40})
    result = score_period(plan, policy, actuals({"company.goal": 100 * achievement}), staff, "2026")
    assert float(result.payout(0)) == pytest.approx(base * ceo_percent_of_base / 100)
    assert float(result.payout(1)) == pytest.approx(base * evp_percent_of_base / 100)


def test_corporate_goal_maximum_after_the_individual_modifier():
    # The plan multiplies by an individual modifier (up to 125%); the engine's individual
    # component is additive, so the multiplicative modifier is applied to the target bonus.
    plan = company_plan([{"id": "company.goal", "metric": "goal", "target": 100.0}])
    policy = company_policy(
        {"default": {"basis": "attainment", "points": CORPORATE_GOAL}}, caps={"employee": 2.0}
    )
    base, modifier = 100_000.0, 1.25
    staff = people({"ceo": base * 0.50 * modifier, "evp": base * 0.40 * modifier})
    result = score_period(plan, policy, actuals({"company.goal": 130.0}), staff, "2026")
    assert [str(result.payout(i)) for i in range(2)] == ["100000.00", "80000.00"]


# 4. ALLETE Executive Annual Incentive Plan, 2009 form of award (Exhibit 10(h)7)
# https://www.sec.gov/Archives/edgar/data/66756/000006675609000015/exhibit_10h7.htm
# Weights: Net Income 50%, Cash from Operating Activities 25%, Strategic Goals 25%.
# Payout as % of target award at Threshold / Target / Superior: Net Income 25/50/100,
# Cash Flow 12.5/25/50, Strategic 0/25/50; in total 37.5% / 100% / 200%.
# "If Threshold Net Income Not Achieved": Net Income 0, Cash Flow 12.5/25/50, Strategic 0;
# in total 12.5% / 25% / 50%.
ALLETE_PLAN = company_plan(
    [
        {
            "id": "company.net_income",
            "metric": "net_income",
            "weight": "50%",
            "threshold": 80.0,
            "target": 100.0,
            "maximum": 120.0,
        },
        {
            "id": "company.cash_flow",
            "metric": "cash_flow",
            "weight": "25%",
            "threshold": 160.0,
            "target": 200.0,
            "maximum": 240.0,
        },
        {
            "id": "company.strategic",
            "metric": "strategic",
            "weight": "25%",
            "threshold": 1.0,
            "target": 2.0,
            "maximum": 3.0,
        },
    ]
)
ALLETE_POLICY = company_policy(
    {
        "default": {"basis": "levels", "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0}},
        "strategic": {
            "basis": "levels",
            "points": {"threshold": 0.0, "target": 1.0, "maximum": 2.0},
        },
    },
    kpi_curves={"company.strategic": "strategic"},
    gates=[
        {
            "id": "net-income-threshold",
            "when": {"kpi": "company.net_income", "actual": {"lt": 80.0}},
            "effect": {"zero": True},
            "applies_to": "kpi:company.strategic",
        }
    ],
)
LEVELS = {
    "threshold": (80.0, 160.0, 1.0),
    "target": (100.0, 200.0, 2.0),
    "superior": (120.0, 240.0, 3.0),
}


@pytest.mark.parametrize(
    ("level", "net_income_met", "percent_of_target"),
    [
        ("threshold", True, 37.5),
        ("target", True, 100.0),
        ("superior", True, 200.0),
        ("threshold", False, 12.5),
        ("target", False, 25.0),
        ("superior", False, 50.0),
    ],
)
def test_allete_weighted_goals_and_net_income_gate(level, net_income_met, percent_of_target):
    net_income, cash_flow, strategic = LEVELS[level]
    if not net_income_met:
        net_income = 79.0
    values = {
        "company.net_income": net_income,
        "company.cash_flow": cash_flow,
        "company.strategic": strategic,
    }
    staff = people({"executive": 100_000.0})
    result = score_period(ALLETE_PLAN, ALLETE_POLICY, actuals(values), staff, "2026")
    assert float(result.payout(0)) == pytest.approx(1000.0 * percent_of_target)
    gate = result.gates[0]
    assert gate.triggered is not net_income_met


# 5. Sales commission with an accelerator band (blended tiers)
# https://bonuspaycalc.com/guides/commission-tiers-accelerators-caps.html
# "$0 - $100k at 5%", "$100k - $250k at 7%"; worked example: "Deal size: $180,000 - First
# $100,000 at 5% -> $5,000 - Next $80,000 at 7% -> $5,600 - Total commission = $10,600".
def test_blended_commission_tiers_as_an_attainment_curve():
    quota = 100_000.0
    at_quota = 0.05 * quota  # $5,000 of commission at 100% of quota
    top_of_band = (at_quota + 0.07 * 150_000) / at_quota  # $250k: 3.1 x the at-quota amount
    plan = company_plan([{"id": "company.bookings", "metric": "bookings", "target": quota}])
    policy = company_policy(
        {"default": {"basis": "attainment", "points": [[0.0, 0.0], [1.0, 1.0], [2.5, top_of_band]]}}
    )
    result = score_period(
        plan, policy, actuals({"company.bookings": 180_000.0}), people({"rep": at_quota}), "2026"
    )
    assert str(result.payout(0)) == "10600.00"


# 6. A pool shared pro rata, and a bonus prorated by days employed
# Pro-rata share of an incentive pool ("multiplying the amount of the Incentive Pool by a
# fraction determined based upon your Base Salary divided by the base salary of all ..."):
# https://dictionary.contracts.justia.com/pro-rata-share-of-incentive-pool/
# Prorated bonus ("based on the number of days Executive was employed by the Company during the
# year"): https://dictionary.contracts.justia.com/prorated-bonus/
# These define the method; the amounts below are ours.
def test_pool_shared_pro_rata_to_the_cent():
    plan = company_plan([{"id": "company.ebitda", "metric": "ebitda", "target": 100.0}])
    policy = company_policy(
        {"default": {"basis": "attainment", "points": [[0.0, 0.0], [1.0, 1.0]]}},
        pool={"amount": 100.0, "mode": "scale"},
    )
    staff = people({"c": 1000.0, "a": 1000.0, "b": 1000.0})  # equal salaries: equal shares
    result = score_period(plan, policy, actuals({"company.ebitda": 100.0}), staff, "2026")
    # 100.00 / 3 = 33.333...: the spare cent goes to the first employee id, "a".
    assert [str(result.payout(i)) for i in range(3)] == ["33.33", "33.34", "33.33"]
    assert str(result.total_payout) == "100.00"


def test_bonus_prorated_by_days_employed_in_the_year():
    plan = company_plan([{"id": "company.ebitda", "metric": "ebitda", "target": 100.0}])
    policy = company_policy({"default": {"basis": "attainment", "points": [[1.0, 1.0]]}})
    staff = people(
        {"leaver": 36_500.0, "joiner": 36_500.0},
        start_date=[None, "2026-10-01"],
        end_date=["2026-06-30", None],
    )
    result = score_period(plan, policy, actuals({"company.ebitda": 100.0}), staff, "2026")
    # 181 days (Jan 1 - Jun 30) and 92 days (Oct 1 - Dec 31) of 365, at 100.00 a day
    assert [str(result.payout(i)) for i in range(2)] == ["18100.00", "9200.00"]
