"""Quarter-end scoring as HR runs it: rows that contradict each other, a wrong ``--period``, and
results that read as the decimals they were computed from."""

from pathlib import Path

import pandas as pd
import pytest
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def messages(error: InputError) -> list[str]:
    return [p.render() for p in error.problems]


def without(kpi: str) -> list[tuple[str, str, str, float]]:
    return [r for r in ON_TARGET if r[2] != kpi]


# 1. A period's own row next to rows of its months (or quarters) -------------------------------

MONTHS = [
    ("2026-07", "sales", "sales.revenue", 100.0),
    ("2026-08", "sales", "sales.revenue", 90.0),
    ("2026-09", "sales", "sales.revenue", 110.0),
]


def test_a_quarter_row_next_to_its_months_is_an_error_naming_both():
    rows = [*without("sales.revenue"), *MONTHS, ("2026-Q3", "sales", "sales.revenue", 99.0)]
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
    assert messages(caught.value) == [
        "actuals.csv:row 10: column 'period': sales.revenue has a 2026-Q3 row (99) and monthly "
        "rows (rows 7, 8, 9: sum 300) for the same period: give one or the other"
    ]


def test_months_that_agree_with_the_quarter_or_do_not_make_it_up_are_no_contradiction():
    agreeing = [*ON_TARGET, *MONTHS]  # the quarter's 300 is the sum of its months
    partial = [*ON_TARGET, ("2026-07", "sales", "sales.revenue", 90.0)]  # July alone: no quarter
    for rows in (agreeing, partial):
        result = score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
        revenue = next(k for k in result.kpis if k.kpi == "sales.revenue")
        assert (revenue.actual, revenue.source) == (300.0, "reported for 2026-Q3")


def test_a_year_row_next_to_quarters_and_months_lists_both_kinds():
    rows = [(p.replace("2026-Q3", "2026"), s, k, v) for p, s, k, v in ON_TARGET]
    rows += [(f"2026-Q{q}", "company", "company.revenue", v) for q, v in ((1, 250.0), (2, 250.0))]
    rows += [(f"2026-Q{q}", "company", "company.revenue", v) for q, v in ((3, 250.0), (4, 300.0))]
    rows += [(f"2026-Q{q}", "sales", "sales.revenue", 100.0) for q in (1, 2, 4)]
    rows += MONTHS
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026")
    assert messages(caught.value) == [
        "actuals.csv:row 3: column 'period': company.revenue has a 2026 row (1000) and quarterly "
        "rows (rows 8, 9, 10, 11: sum 1050) for the same period: give one or the other",
        "actuals.csv:row 5: column 'period': sales.revenue has a 2026 row (300) and quarterly and "
        "monthly rows (rows 12, 13, 14, 15, 16, 17: sum 600) for the same period: give one or "
        "the other",
    ]


def test_rows_outside_the_scored_period_do_not_contradict_it():
    # A year's total kept next to the months is fine while a quarter is scored.
    rows = [*without("sales.revenue"), *MONTHS, ("2026", "sales", "sales.revenue", 1200.0)]
    result = score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
    revenue = next(k for k in result.kpis if k.kpi == "sales.revenue")
    assert revenue.actual == 300.0


def test_a_measure_quarter_next_to_its_months_in_another_table():
    measures = pd.DataFrame(
        {
            "period": ["2026-Q3", "2026-Q3", "2026-07", "2026-08", "2026-09"],
            "scope": ["shared.gross_margin"] * 5,
            "measure": ["gross_profit", "revenue", "revenue", "revenue", "revenue"],
            "value": [40.0, 100.0, 30.0, 30.0, 30.0],
        }
    )
    measures.attrs["source"] = "measures.csv"
    measures.attrs["row_offset"] = 2
    rows = without("shared.gross_margin")
    with pytest.raises(InputError) as caught:
        score_period(
            make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3", measures=measures
        )
    assert messages(caught.value) == [
        "measures.csv:row 3: column 'period': measure 'revenue' of scope 'shared.gross_margin' "
        "has a 2026-Q3 row (100) and monthly rows (rows 4, 5, 6: sum 90) for the same period: "
        "give one or the other"
    ]


def test_the_example_company_with_an_extra_quarter_row(tmp_path: Path):
    text = (ACME / "actuals-2026-q3.csv").read_text(encoding="utf-8")
    path = tmp_path / "actuals.csv"
    path.write_text(text + "2026-Q3,company,company.operating_cash_flow,99\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        score_period(
            plan_from_yaml(ACME / "plan.yaml"),
            policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml"),
            read_table(path, ACTUALS),
            None,
            "2026-Q3",
        )
    assert messages(caught.value) == [
        f"{path}:row 95: column 'period': company.operating_cash_flow has a 2026-Q3 row (99) and "
        "monthly rows (rows 4, 5, 6: sum 25.5) for the same period: give one or the other"
    ]


# 2. A --period the actuals do not hold ----------------------------------------------------------


def test_a_period_without_any_actual_says_so_and_suggests_the_period_held():
    rows = [*without("sales.revenue"), *MONTHS]
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q2")
    assert messages(caught.value) == [
        "actuals.csv: period: no actuals for 2026-Q2: the actuals hold 2026-Q3 and the months "
        "2026-07..2026-09 (did you mean --period 2026-Q3?)",
        "actuals.csv: 6 KPI result(s) missing for 2026-Q2: check --period and the actuals",
    ]
    assert not any("'zero'" in m or "'exclude'" in m for m in messages(caught.value))


def test_a_wrong_period_is_an_error_even_when_missing_results_pay_zero():
    for missing in ("zero", "exclude"):
        with pytest.raises(InputError, match=r"did you mean --period 2026-Q3\?"):
            score_period(
                make_plan(), make_policy(missing=missing), actuals_frame(ON_TARGET), None, "2026-Q4"
            )


def test_a_period_mostly_missing_lists_what_is_held_first():
    rows = [*ON_TARGET, ("2026-Q2", "sales", "sales.revenue", 280.0)]
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q2")
    found = messages(caught.value)
    assert found[0] == (
        "actuals.csv: period: only 1 of 6 KPI results found for 2026-Q2: the actuals hold "
        "2026-Q2 and 2026-Q3 (did you mean --period 2026-Q3?)"
    )
    assert (
        found[-1]
        == "actuals.csv: 5 KPI result(s) missing for 2026-Q2: check --period and the actuals"
    )
    assert len(found) == 7  # the headline, the 5 missing, the count


def test_a_year_that_quarters_do_not_complete_points_at_the_quarter():
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), None, "2026")
    assert messages(caught.value)[0] == (
        "actuals.csv: period: 0 of 6 KPI results found for 2026: the actuals hold 2026-Q3 (did "
        "you mean --period 2026-Q3?)"
    )


def test_a_period_outside_the_fiscal_year_is_mentioned():
    plan = make_plan(fiscal_year=2026)
    with pytest.raises(InputError) as caught:
        score_period(plan, make_policy(), actuals_frame(ON_TARGET), None, "2025-Q3")
    assert messages(caught.value)[0] == (
        "actuals.csv: period: no actuals for 2025-Q3 (outside the plan's fiscal_year 2026): the "
        "actuals hold 2026-Q3 (did you mean --period 2026-Q3?)"
    )


def test_a_period_outside_the_fiscal_year_is_mentioned_with_any_missing_result():
    rows = [(p.replace("2026", "2025"), s, k, v) for p, s, k, v in without("sales.revenue")]
    plan = make_plan(fiscal_year=2026)
    with pytest.raises(InputError) as caught:
        score_period(plan, make_policy(), actuals_frame(rows), None, "2025-Q3")
    assert messages(caught.value)[-1] == (
        "actuals.csv: 1 KPI result(s) missing for 2025-Q3 (outside the plan's fiscal_year 2026); "
        "add them, or set the policy's 'missing' to 'zero' or 'exclude'"
    )


def test_a_few_missing_results_still_offer_zero_or_exclude():
    with pytest.raises(InputError) as caught:
        score_period(
            make_plan(), make_policy(), actuals_frame(without("sales.revenue")), None, "2026-Q3"
        )
    assert messages(caught.value)[-1].endswith("set the policy's 'missing' to 'zero' or 'exclude'")


def test_the_example_company_scored_for_the_wrong_quarter():
    with pytest.raises(InputError) as caught:
        score_period(
            plan_from_yaml(ACME / "plan.yaml"),
            policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml"),
            read_table(ACME / "actuals-2026-q3.csv", ACTUALS),
            None,
            "2026-Q2",
        )
    found = messages(caught.value)
    assert found[0].endswith(
        "period: no actuals for 2026-Q2: the actuals hold 2026-Q3 and the months "
        "2026-07..2026-09 (did you mean --period 2026-Q3?)"
    )
    assert len(found) == 2


# 4. Results read as decimals --------------------------------------------------------------------


def test_aggregated_actuals_and_attainment_are_rounded_to_12_significant_digits():
    rows = [r for r in ON_TARGET if r[2] not in ("company.revenue", "company.net_margin")]
    rows += [
        ("2026-07", "company", "company.revenue", 300.1),  # 300.1 + 300.2 + 399.8 is
        ("2026-08", "company", "company.revenue", 300.2),  # 1000.0999999999999 in binary
        ("2026-09", "company", "company.revenue", 399.8),
        ("2026-Q3", "company", "company.net_margin", 0.114),  # / 0.12 is 0.9500000000000001
    ]
    kpis = {
        k.kpi: k
        for k in score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3").kpis
    }
    assert kpis["company.revenue"].actual == 1000.1
    assert kpis["company.revenue"].attainment == 1.0001
    assert kpis["company.net_margin"].attainment == 0.95


def test_formula_results_are_rounded_too():
    measures = pd.DataFrame(
        {
            "period": ["2026-Q3", "2026-Q3"],
            "scope": ["shared.gross_margin"] * 2,
            "measure": ["gross_profit", "revenue"],
            "value": [1.1, 3.3],  # 1.1 / 3.3 is 0.33333333333333337 in binary
        }
    )
    result = score_period(
        make_plan(),
        make_policy(),
        actuals_frame(without("shared.gross_margin")),
        None,
        "2026-Q3",
        measures=measures,
    )
    goal = next(k for k in result.kpis if k.kpi == "shared.gross_margin")
    assert goal.actual == 0.333333333333


def test_the_example_company_reads_as_decimals_and_pays_the_same():
    result = score_period(
        plan_from_yaml(ACME / "plan.yaml"),
        policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml"),
        read_table(ACME / "actuals-2026-q3.csv", ACTUALS),
        read_table(ACME / "employees.csv", EMPLOYEES),
        "2026-Q3",
    )
    kpis = {k.kpi: k for k in result.kpis}
    assert kpis["company.operating_cash_flow"].actual == 25.5
    assert kpis["company.net_margin"].attainment == 0.9
    assert kpis["customer_service.first_response_hours"].actual == 3.8
    assert all(len(repr(k.actual)) <= 16 for k in result.kpis)  # no 0.9456700000000001
    # The total before rounding was introduced: rounding by 1e-12 moves no cent.
    assert result.totals_dict()["payout_text"] == "39553381.49"
