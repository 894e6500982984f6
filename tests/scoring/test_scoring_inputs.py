"""Row-level checks of the actuals and employees tables, and how actuals resolve to a period."""

import pandas as pd
import pytest
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError, PolicyError
from alignment_engine.tables import ACTUALS, read_table


def messages(error: InputError) -> list[str]:
    return [p.render() for p in error.problems]


def test_actuals_errors_name_file_row_column_and_suggest():
    rows = [
        *ON_TARGET,
        ("2026-Q3", "sales", "sales.revnue", 1.0),
        ("2026-Q3", "salse", "sales.revenue", 1.0),
        ("2026-Q3", "sales", "production.defect_rate", 1.0),
        ("2026-Q5", "sales", "sales.revenue", 1.0),
        ("2026-Q3", "shared.gross_margin", "gross_margin", 1.0),
        ("2026-Q3", "sales", "sales.market_share", "abc"),
    ]
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
    assert messages(caught.value) == [
        "actuals.csv:row 8: column 'kpi': 'sales.revnue' is not a KPI of 'sales' (did you mean "
        "'sales.revenue'?)",
        "actuals.csv:row 9: column 'scope': 'salse' is not 'company', a department or a shared "
        "goal of plan 'acme-2026' (did you mean 'sales'?)",
        "actuals.csv:row 10: column 'kpi': 'production.defect_rate' is a KPI of 'production', "
        "not of 'sales'",
        "actuals.csv:row 11: column 'period': '2026-Q5' is not a period (use 2026, 2026-Q3 or "
        "2026-07)",
        "actuals.csv:row 12: column 'kpi': 'gross_margin' is not shared goal "
        "'shared.gross_margin' (a shared goal's kpi is its own id) (did you mean "
        "'shared.gross_margin'?)",
        "actuals.csv:row 13: column 'actual': 'abc' is not a number",
    ]
    first = caught.value.details[0]
    assert (first["file"], first["row"], first["key"]) == ("actuals.csv", 8, "kpi")


def test_row_problems_read_like_the_file_readers(tmp_path):
    # The file reader (alignment_engine.tables) and scoring both write {file}:row N: column 'c'.
    path = tmp_path / "actuals.csv"
    path.write_text("period,scope,kpi,actual\n2026-Q3,sales,sales.revenue,x\n", encoding="utf-8")
    with pytest.raises(InputError) as read:
        read_table(path, ACTUALS)
    rows = [*ON_TARGET[:3], ("2026-Q3", "sales", "sales.revnue", 1.0)]
    with pytest.raises(InputError) as scored:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
    assert messages(read.value)[0].startswith(f"{path}:row 2: column 'actual': ")
    assert messages(scored.value)[0].startswith("actuals.csv:row 5: column 'kpi': ")


def test_duplicate_actual_rows_point_at_the_first():
    rows = [*ON_TARGET, ("2026-Q3", "sales", "sales.revenue", 301.0)]
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")
    assert messages(caught.value) == [
        "actuals.csv:row 8: column 'kpi': duplicate row for kpi 'sales.revenue', period 2026-Q3 "
        "(first at actuals.csv row 5)"
    ]


def test_frames_without_attrs_are_numbered_from_one():
    frame = pd.DataFrame(
        [("2026-Q3", "nope", "x", 1.0)], columns=["period", "scope", "kpi", "actual"]
    )
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), frame, None, "2026-Q3")
    assert (caught.value.problems[0].file, caught.value.problems[0].row) == ("actuals", 1)


def test_missing_columns_are_named():
    frame = pd.DataFrame({"period": ["2026-Q3"], "scope": ["sales"], "kpi": ["sales.revenue"]})
    frame.attrs["source"] = "actuals.csv"
    with pytest.raises(InputError, match="missing column 'actual'"):
        score_period(make_plan(), make_policy(), frame, None, "2026-Q3")


def test_missing_actuals_are_listed_exactly():
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET[:4]), None, "2026-Q3")
    assert messages(caught.value) == [
        "actuals.csv: missing actual: scope 'production', kpi 'production.defect_rate', "
        "period 2026-Q3 (no rows for this period or its months/quarters)",
        "actuals.csv: missing actual: scope 'shared.gross_margin', kpi 'shared.gross_margin', "
        "period 2026-Q3 (no actual, and formula 'gross_profit / revenue' lacks measure(s) "
        "'gross_profit', 'revenue')",
        "actuals.csv: 2 KPI result(s) missing for 2026-Q3; add them, or set the policy's "
        "'missing' to 'zero' or 'exclude'",
    ]


def test_incomplete_months_do_not_make_a_quarter():
    rows = [r for r in ON_TARGET if r[2] != "sales.revenue"]
    rows += [
        ("2026-07", "sales", "sales.revenue", 100.0),
        ("2026-08", "sales", "sales.revenue", 90.0),
    ]
    with pytest.raises(
        InputError, match="only 2026-07, 2026-08 found, which do not make up 2026-Q3"
    ):
        score_period(make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3")


def result_of(rows, period="2026-Q3", **policy):
    result = score_period(make_plan(), make_policy(**policy), actuals_frame(rows), None, period)
    return {k.kpi: k for k in result.kpis}


def test_months_aggregate_by_the_metrics_aggregation():
    rows = [
        r
        for r in ON_TARGET
        if r[2] not in ("sales.revenue", "sales.market_share", "company.net_margin")
    ]
    rows += [
        ("2026-07", "sales", "sales.revenue", 100.0),  # revenue: sum
        ("2026-08", "sales", "sales.revenue", 90.0),
        ("2026-09", "sales", "sales.revenue", 140.0),
        ("2026-09", "sales", "sales.market_share", 0.26),  # market share: last
        ("2026-07", "sales", "sales.market_share", 0.20),
        ("2026-08", "sales", "sales.market_share", 0.23),
        ("2026-07", "company", "company.net_margin", 0.10),  # net margin: mean (the default)
        ("2026-08", "company", "company.net_margin", 0.12),
        ("2026-09", "company", "company.net_margin", 0.14),
        ("2026-10", "sales", "sales.revenue", 1e9),  # outside the period: ignored
    ]
    kpis = result_of(rows)
    assert kpis["sales.revenue"].actual == 330.0
    assert kpis["sales.revenue"].source == "sum of the 3 months of 2026-Q3"
    assert kpis["sales.market_share"].actual == 0.26
    assert kpis["company.net_margin"].actual == pytest.approx(0.12)


def test_exact_period_rows_win_over_months_and_years_build_from_quarters():
    rows = [(p.replace("2026-Q3", "2026"), s, k, v) for p, s, k, v in ON_TARGET]
    rows = [r for r in rows if r[2] != "sales.revenue"]
    rows += [
        ("2026-Q1", "sales", "sales.revenue", 100.0),
        ("2026-Q2", "sales", "sales.revenue", 100.0),
    ]
    rows += [("2026-Q4", "sales", "sales.revenue", 100.0)]
    rows += [(f"2026-{m:02d}", "sales", "sales.revenue", 10.0) for m in (7, 8, 9)]
    rows += [("2026-07", "company", "company.revenue", 1.0)]  # the 2026 row wins
    kpis = result_of(rows, period="2026")
    assert kpis["sales.revenue"].actual == 330.0
    assert kpis["sales.revenue"].source == "sum of the 4 quarters of 2026"
    assert kpis["company.revenue"].actual == 1000.0


def test_formula_metrics_derive_from_aggregated_measures():
    rows = [r for r in ON_TARGET if r[2] != "shared.gross_margin"]
    measures = pd.DataFrame(
        {
            "period": ["2026-07", "2026-08", "2026-09", "2026-07", "2026-08", "2026-09"],
            "scope": ["shared.gross_margin"] * 6,
            "measure": ["gross_profit"] * 3 + ["revenue"] * 3,
            "value": [10.0, 20.0, 15.0, 50.0, 25.0, 25.0],
        }
    )
    result = score_period(
        make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3", measures=measures
    )
    goal = next(k for k in result.kpis if k.kpi == "shared.gross_margin")
    assert goal.actual == pytest.approx(45 / 100)  # quarter profit over quarter revenue
    assert goal.source == "formula gross_profit / revenue"


def test_formula_division_by_zero_names_scope_and_period():
    rows = [r for r in ON_TARGET if r[2] != "shared.gross_margin"]
    measures = pd.DataFrame(
        {
            "period": ["2026-Q3"] * 2,
            "scope": ["shared.gross_margin"] * 2,
            "measure": ["gross_profit", "revenue"],
            "value": [5.0, 0.0],
        }
    )
    with pytest.raises(InputError) as caught:
        score_period(
            make_plan(), make_policy(), actuals_frame(rows), None, "2026-Q3", measures=measures
        )
    assert caught.value.problems[0].message == (
        "scope 'shared.gross_margin', period 2026-Q3: formula 'gross_profit / revenue' of KPI "
        "'shared.gross_margin' divides by zero (gross_profit = 5, revenue = 0)"
    )


def test_unknown_measures_are_rejected_with_a_suggestion():
    measures = pd.DataFrame(
        {"period": ["2026-Q3"], "scope": ["sales"], "measure": ["gros_profit"], "value": [1.0]}
    )
    with pytest.raises(InputError, match=r"did you mean 'gross_profit'\?"):
        score_period(
            make_plan(), make_policy(), actuals_frame(ON_TARGET), None, "2026-Q3", measures=measures
        )


def test_missing_zero_pays_nothing_for_that_kpi_and_exclude_reweights():
    rows = [r for r in ON_TARGET if r[2] != "sales.revenue"]
    zero = result_of(rows, missing="zero")
    assert zero["sales.revenue"].payout_factor == 0.0
    assert zero["sales.revenue"].status == "missing: paid 0"
    assert zero["sales.revenue"].weight == pytest.approx(0.6)
    excluded = result_of(rows, missing="exclude")
    assert excluded["sales.revenue"].payout_factor is None
    assert excluded["sales.market_share"].weight == pytest.approx(1.0)


def test_bad_period_argument_is_an_input_error():
    with pytest.raises(InputError, match="not a period"):
        score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), None, "Q3")


def employees(**columns):
    frame = pd.DataFrame(columns)
    frame.attrs["source"] = "employees.csv"
    frame.attrs["row_offset"] = 2
    return frame


def test_employee_errors_name_each_row():
    table = employees(
        employee_id=["e1", "e2", "e1", None],
        department=["sales", "salse", "finance", "sales"],
        target_bonus=[-1, "x", None, 5],
        start_date=["2026-01-01", "bad", None, None],
        end_date=["2025-01-01", None, None, None],
        currency=["CNY", "USD", None, "cny"],
    )
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), table, "2026-Q3")
    assert messages(caught.value) == [
        "employees.csv:row 2: column 'target_bonus': -1 must not be negative",
        "employees.csv:row 2: column 'end_date': 2025-01-01 is before start_date 2026-01-01",
        "employees.csv:row 3: column 'department': 'salse' is not a department of the plan "
        "(did you mean 'sales'?)",
        "employees.csv:row 3: column 'target_bonus': 'x' is not a number",
        "employees.csv:row 3: column 'start_date': 'bad' is not a date (use YYYY-MM-DD)",
        "employees.csv:row 3: column 'currency': 'USD' differs from the policy's currency 'CNY' "
        "(give an fx table (score --fx: period, currency, rate) with its rate for the period)",
        "employees.csv:row 4: column 'employee_id': duplicate employee 'e1' (first at row 2) "
        "(a row per segment of the period needs its start_date and end_date)",
        "employees.csv:row 4: column 'target_bonus': empty",
        "employees.csv:row 5: column 'employee_id': empty",
    ]


def test_actuals_and_employee_problems_come_out_together():
    rows = [*ON_TARGET, ("2026-Q3", "nowhere", "x", 1.0)]
    table = employees(employee_id=["e1"], department=["nowhere"], target_bonus=[1.0])
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(rows), table, "2026-Q3")
    assert [p.location() for p in caught.value.problems] == [
        "actuals.csv:row 8",
        "employees.csv:row 2",
    ]


def test_many_bad_rows_are_summarised():
    table = employees(
        employee_id=[f"e{i}" for i in range(1000)],
        department=["mars"] * 1000,
        target_bonus=[1.0] * 1000,
    )
    with pytest.raises(InputError) as caught:
        score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), table, "2026-Q3")
    assert len(caught.value.problems) == 21
    assert (
        caught.value.problems[-1].message == "... and 980 more rows with the same kind of problem"
    )


def test_numeric_ids_and_empty_optional_cells():
    table = employees(
        employee_id=[101, 102],
        department=["sales", "sales"],
        target_bonus=[1000, 1000],
        individual_score=[None, 1.5],
    )
    result = score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), table, "2026-Q3")
    assert result.employees.employee_id.tolist() == ["101", "102"]
    assert result.employees.individual_score.tolist() == [1.0, 1.5]


def test_policy_problems_name_the_kpi_and_level():
    plan = make_plan(company_kpis=[{"id": "company.revenue", "metric": "revenue", "target": 1000}])
    rows = [r for r in ON_TARGET if r[0] != "company" or r[2] == "company.revenue"]
    with pytest.raises(PolicyError) as caught:
        score_period(plan, make_policy(), actuals_frame(rows), None, "2026-Q3")
    text = str(caught.value)
    assert "KPI 'company.revenue' has no threshold" in text
    assert "KPI 'company.revenue' has no maximum" in text


def test_levels_out_of_order_are_a_policy_error():
    plan = make_plan(
        departments=[
            {
                "id": "production",
                "kpis": [
                    {
                        "id": "production.defect_rate",
                        "metric": "defect_rate",
                        "target": 0.02,
                        "threshold": 0.01,
                        "maximum": 0.03,
                    }
                ],
            }
        ],
        shared_goals=[],
    )
    with pytest.raises(PolicyError, match=r"threshold >= target >= maximum \(lower is better\)"):
        score_period(plan, make_policy(), actuals_frame([]), None, "2026-Q3")


def test_currency_mismatch_is_a_policy_error():
    with pytest.raises(PolicyError, match="pays in USD but plan 'acme-2026' is in CNY"):
        score_period(
            make_plan(), make_policy(currency="USD"), actuals_frame(ON_TARGET), None, "2026-Q3"
        )
