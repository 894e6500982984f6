"""Decision tables in policies: payout matrices over several KPIs' attainments, and gates in
table form with DMN hit policies, validated at load (overlaps and gaps at file:line)."""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError
from alignment_engine.loading import policy_from_yaml
from alignment_engine.model.decision_tables import DecisionTable, Interval, PayoutMatrix
from alignment_engine.scoring.decision_tables import table_outcome
from alignment_engine.scoring.gate_effects import KpiFact
from alignment_engine.scoring.payout_curves import evaluate_curve
from alignment_engine.scoring.payout_matrix import evaluate_matrix

REVENUE_POINTS = [0.9, 1.0, 1.1, 1.2]
SHARE_POINTS = [0.8, 1.0, 1.2]
FACTORS = [
    [0.3, 0.5, 0.6],
    [0.6, 1.0, 1.2],
    [0.8, 1.3, 1.6],
    [1.0, 1.6, 2.0],
]


def _matrix(**overrides: Any) -> dict[str, Any]:
    matrix: dict[str, Any] = {
        "axes": [
            {"name": "revenue", "points": REVENUE_POINTS, "interpolation": "linear"},
            {"name": "share", "points": SHARE_POINTS, "interpolation": "step"},
        ],
        "factors": FACTORS,
        "kpis": [{"revenue": "sales.revenue", "share": "sales.market_share"}],
    }
    matrix.update(overrides)
    return matrix


def _employees(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.attrs["source"] = "employees.csv"
    frame.attrs["row_offset"] = 2
    return frame


def _expected_matrix_factor(revenue: Fraction, share: Fraction) -> Fraction:
    """The matrix by hand: linear along revenue, the share column at or below."""
    revenue_points = [Fraction(str(p)) for p in REVENUE_POINTS]
    share_points = [Fraction(str(p)) for p in SHARE_POINTS]
    if revenue < revenue_points[0] or share < share_points[0]:
        return Fraction(0)
    column = max(i for i, p in enumerate(share_points) if p <= share)
    ys = [Fraction(str(row[column])) for row in FACTORS]
    if revenue >= revenue_points[-1]:
        return ys[-1]
    i = max(i for i, p in enumerate(revenue_points) if p <= revenue)
    t = (revenue - revenue_points[i]) / (revenue_points[i + 1] - revenue_points[i])
    return ys[i] + t * (ys[i + 1] - ys[i])


# --- the matrix itself ----------------------------------------------------------------------


def test_the_matrix_pays_its_grid_points_exactly_and_interpolates_along_linear_axes() -> None:
    matrix = PayoutMatrix.model_validate(_matrix())
    grid = [[r, s] for r, s in itertools.product(REVENUE_POINTS, SHARE_POINTS)]
    on_grid = evaluate_matrix(matrix, grid).factor
    assert on_grid.tolist() == pytest.approx([f for row in FACTORS for f in row], abs=1e-12)
    between = evaluate_matrix(matrix, [[1.05, 1.0], [1.05, 1.19], [1.05, 0.95]]).factor
    # halfway up revenue; share holds its point until the next (a step axis)
    assert between.tolist() == pytest.approx([1.15, 1.15, 0.7], abs=1e-12)


def test_below_any_axis_pays_below_and_past_the_last_point_the_matrix_stays_flat() -> None:
    matrix = PayoutMatrix.model_validate(_matrix(below=0.1))
    found = evaluate_matrix(
        matrix, [[0.89, 1.0], [1.0, 0.79], [5.0, 9.0], [math.inf, 1.0], [math.nan, 1.0]]
    ).factor
    assert found[:4].tolist() == pytest.approx([0.1, 0.1, 2.0, 1.6])
    assert math.isnan(found[4])


def test_two_linear_axes_interpolate_bilinearly() -> None:
    matrix = PayoutMatrix.model_validate(
        {
            "axes": [{"name": "a", "points": [0, 1]}, {"name": "b", "points": [0, 2]}],
            "factors": [[0, 1], [2, 5]],
            "kpis": [{"a": "x", "b": "y"}],
        }
    )
    a, b = 0.25, 0.5  # b is a quarter of the way along its axis
    expected = (1 - a) * (1 - 0.25) * 0 + (1 - a) * 0.25 * 1 + a * (1 - 0.25) * 2 + a * 0.25 * 5
    assert evaluate_matrix(matrix, [[a, b]]).factor[0] == pytest.approx(expected, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.floats(min_value=0.05, max_value=1.0),
            st.floats(min_value=0.0, max_value=1.0),
        ),
        min_size=1,
        max_size=5,
    ),
    below=st.floats(min_value=0.0, max_value=1.0),
    step=st.booleans(),
    x=st.floats(min_value=-1.0, max_value=8.0),
)
def test_a_one_axis_matrix_is_the_attainment_curve_with_the_same_points(
    points: list[tuple[float, float]], below: float, step: bool, x: float
) -> None:
    xs = list(itertools.accumulate(p for p, _ in points))
    ys = list(itertools.accumulate(f for _, f in points))
    matrix = PayoutMatrix.model_validate(
        {
            "axes": [{"name": "a", "points": xs, "interpolation": "step" if step else "linear"}],
            "factors": ys,
            "below": below,
            "kpis": [{"a": "k"}],
        }
    )
    curve = evaluate_curve([x], xs, ys, step=step, below=below).factor[0]
    assert evaluate_matrix(matrix, [[x]]).factor[0] == pytest.approx(curve, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    revenue=st.floats(min_value=0.5, max_value=1.5),
    share=st.floats(min_value=0.5, max_value=1.5),
    more=st.floats(min_value=0.0, max_value=0.5),
)
def test_the_factor_never_falls_as_either_attainment_rises(
    revenue: float, share: float, more: float
) -> None:
    matrix = PayoutMatrix.model_validate(_matrix())
    base, up_revenue, up_share = evaluate_matrix(
        matrix, [[revenue, share], [revenue + more, share], [revenue, share + more]]
    ).factor
    assert up_revenue >= base - 1e-12
    assert up_share >= base - 1e-12


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"factors": [[0.3, 0.5, 0.6]] * 3}, "factors must be a list of 4"),
        ({"factors": [[0.3, 0.5], *FACTORS[1:]]}, "factors[0] must be a list of 3"),
        ({"factors": [[0.3, 0.2, 0.6], *FACTORS[1:]]}, "must not fall as 'share'"),
        ({"kpis": [{"revenue": "sales.revenue"}]}, "no KPI for share"),
        ({"factors": [[0.3, 0.5, -0.6], *FACTORS[1:]]}, "must not be negative"),
    ],
)
def test_a_malformed_matrix_is_refused_saying_what_is_wrong(
    overrides: dict[str, Any], said: str
) -> None:
    with pytest.raises(ValueError, match=re_escape(said)):
        PayoutMatrix.model_validate(_matrix(**overrides))


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


# --- the matrix in scoring: cent-exact ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    revenue=st.integers(min_value=850, max_value=1300),  # attainment in thousandths
    share=st.integers(min_value=750, max_value=1300),
    bonus=st.integers(min_value=1, max_value=200_000),
)
def test_a_revenue_by_share_matrix_pays_both_kpis_and_the_employee_to_the_cent(
    revenue: int, share: int, bonus: int
) -> None:
    revenue_attainment = Fraction(revenue, 1000)
    share_attainment = Fraction(share, 1000)
    results = [
        (p, s, k, a) for p, s, k, a in ON_TARGET if k not in ("sales.revenue", "sales.market_share")
    ] + [
        ("2026-Q3", "sales", "sales.revenue", float(300 * revenue_attainment)),
        ("2026-Q3", "sales", "sales.market_share", float(Fraction(1, 4) * share_attainment)),
    ]
    policy = make_policy(matrices={"revenue_x_share": _matrix()}, caps={"kpi": 3.0})
    result = score_period(
        make_plan(),
        policy,
        actuals_frame(results),
        _employees([{"employee_id": "A", "department": "sales", "target_bonus": bonus}]),
        "2026-Q3",
    )
    expected = _expected_matrix_factor(revenue_attainment, share_attainment)
    factors = {k.kpi: k.payout_factor for k in result.kpis}
    assert factors["sales.revenue"] == pytest.approx(float(expected), abs=1e-9)
    assert factors["sales.market_share"] == pytest.approx(float(expected), abs=1e-9)
    # company, shared and individual on target: 0.2 + 0.5 x matrix + 0.2 + 0.1
    factor = min(Fraction(1, 2) + Fraction(1, 2) * expected, Fraction(2))
    amount = Decimal(bonus * factor.numerator) / Decimal(factor.denominator)
    cents = int(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    assert int(result.employees.units[0]) == cents


def test_a_missing_result_on_a_matrix_leaves_both_of_its_kpis_unpaid() -> None:
    results = [r for r in ON_TARGET if r[2] != "sales.market_share"]
    policy = make_policy(matrices={"revenue_x_share": _matrix()}, missing="exclude")
    result = score_period(make_plan(), policy, actuals_frame(results), None, "2026-Q3")
    by_kpi = {k.kpi: k for k in result.kpis}
    assert by_kpi["sales.revenue"].payout_factor is None
    assert by_kpi["sales.revenue"].actual == 300.0  # its own result is there
    assert by_kpi["sales.revenue"].status == "missing: excluded"
    assert {d.department: d.score for d in result.departments}["sales"] is None


def test_the_explanation_says_where_each_kpi_fell_on_the_matrix() -> None:
    results = [
        (p, s, k, 315.0 if k == "sales.revenue" else a) for p, s, k, a in ON_TARGET
    ]  # revenue at 1.05
    policy = make_policy(matrices={"revenue_x_share": _matrix()})
    result = score_period(make_plan(), policy, actuals_frame(results), None, "2026-Q3")
    revenue = next(k for k in result.kpis if k.kpi == "sales.revenue")
    assert revenue.curve == "matrix:revenue_x_share"
    assert revenue.segment == "revenue 1.05 between 1 and 1.1, share 1 at 1 (step)"
    assert revenue.payout_factor == pytest.approx(1.15)


def test_a_kpi_paid_on_a_matrix_and_a_curve_or_an_unknown_kpi_is_refused() -> None:
    with pytest.raises(ValueError, match="paid on matrix 'm' and on curve"):
        make_policy(
            matrices={"m": _matrix()},
            curves={
                "default": {"basis": "levels", "points": {"target": 1.0}},
                "other": {"basis": "attainment", "points": [[1, 1]]},
            },
            kpi_curves={"sales.revenue": "other"},
        )
    from alignment_engine.model.consistency import policy_plan_problems

    policy = make_policy(
        matrices={"m": _matrix(kpis=[{"revenue": "sales.revenu", "share": "sales.market_share"}])}
    )
    problems = policy_plan_problems(policy, make_plan())
    assert [(p.path, p.message, p.suggestion) for p in problems] == [
        (
            ("matrices", "m", "kpis", 0, "revenue"),
            "plan 'acme-2026' has no KPI 'sales.revenu'",
            "did you mean 'sales.revenue'?",
        )
    ]


# --- decision tables: conditions and hit policies -------------------------------------------


@pytest.mark.parametrize(
    ("written", "inside", "outside"),
    [
        ("-", [-1e9, 0.0, 1e9], []),
        ("< 0.9", [0.5, 0.8999], [0.9, 1.0]),
        ("<= 0.9", [0.9], [0.9001]),
        ("> 1.1", [1.1001], [1.1]),
        (">= 1.1", [1.1, math.inf], [1.0999]),
        ("= 0", [0.0], [0.0001]),
        (0, [0.0], [1.0]),
        ("[0.9..1.1)", [0.9, 1.0], [0.8999, 1.1]),
        ("(0.9..1.1]", [1.1], [0.9]),
        ("]0.9..1.1[", [1.0], [0.9, 1.1]),
        ("[90%..110%]", [0.9, 1.1], [1.11]),
    ],
)
def test_conditions_read_as_dmn_unary_tests(
    written: str | float, inside: list[float], outside: list[float]
) -> None:
    interval = Interval.parse(written)
    assert interval.contains(np.array(inside)).all()
    assert not interval.contains(np.array(outside, dtype=np.float64)).any()


def test_an_unreadable_condition_says_how_to_write_one() -> None:
    with pytest.raises(ValueError, match=r"write '-', '< 0.9'"):
        Interval.parse("=> 1.1")
    with pytest.raises(ValueError, match="is empty"):
        Interval.parse("[1.1..0.9]")


def _table(**overrides: Any) -> DecisionTable:
    table: dict[str, Any] = {
        "id": "t",
        "inputs": [
            {"name": "margin", "kpi": "company.net_margin"},
            {"name": "company", "scope": "company"},
        ],
        "hit": "collect",
        "effect": "add",
        "rules": [
            {"when": {"margin": ">= 1.1"}, "then": 0.05},
            {"when": {"company": "> 1"}, "then": 0.1},
            {"when": ["< 0.9", "-"], "then": -0.2},
        ],
    }
    table.update(overrides)
    return DecisionTable.model_validate(table)


def _decide(table: DecisionTable, margin: float | None, company: float | None) -> Any:
    facts = {"company.net_margin": KpiFact(actual=None, attainment=margin, payout_factor=None)}
    return table_outcome(table, facts, {}, company)


@pytest.mark.parametrize(("aggregate", "expected"), [("sum", 0.15), ("max", 0.1), ("min", 0.05)])
def test_a_collect_table_aggregates_every_matching_row(aggregate: str, expected: float) -> None:
    outcome = _decide(_table(aggregate=aggregate), 1.2, 1.3)
    assert outcome.rows == (1, 2)
    assert outcome.value == pytest.approx(expected)
    assert outcome.triggered


def test_a_collect_table_with_no_matching_row_has_no_effect_unless_it_has_a_default() -> None:
    assert not _decide(_table(), 1.0, 1.0).triggered
    outcome = _decide(_table(default=0.01), 1.0, 1.0)
    assert outcome.triggered and outcome.value == 0.01 and outcome.rows == ()


def test_a_first_table_takes_the_first_matching_row_in_the_order_written() -> None:
    table = _table(
        hit="first",
        effect="multiply",
        rules=[
            {"when": {"margin": ">= 1.1"}, "then": 1.2},
            {"when": {"margin": ">= 0.9"}, "then": 1.0},
            {"when": {"margin": "-"}, "then": 0.5},
        ],
    )
    assert [_decide(table, m, 1.0).value for m in (1.5, 1.0, 0.1)] == [1.2, 1.0, 0.5]
    assert _decide(table, 1.5, 1.0).rows == (1,)


def test_a_missing_result_matches_only_dash() -> None:
    table = _table(
        hit="first",
        effect="cap",
        rules=[{"when": ["< 1", "-"], "then": 0.5}, {"when": [">= 1", "-"], "then": 2.0}],
        default=1.0,
    )
    outcome = _decide(table, None, 1.0)
    assert outcome.rows == () and outcome.value == 1.0  # the default
    assert dict(outcome.inputs) == {"margin": None, "company": 1.0}


# --- decision tables: overlaps and gaps at load --------------------------------------------


def _policy_text(rows: str, hit: str = "unique", extra: str = "") -> str:
    return f"""\
kind: policy
id: p
components: {{company: 0.5, department: 0.5}}
curves:
  default: {{basis: levels, points: {{target: 1.0}}}}
tables:
  - id: margin-ceiling
    inputs:
      - {{name: margin, kpi: company.net_margin}}
      - {{name: dept, department: sales}}
    hit: {hit}
    effect: cap
{extra}    rules:
{rows}"""


def test_overlapping_rows_of_a_unique_table_are_refused_at_file_line_naming_both(
    tmp_path: Path,
) -> None:
    rows = (
        '      - {when: ["< 0.9", "-"], then: 0.5}\n'  # line 14
        '      - {when: ["[0.9..1.1]", "-"], then: 1.0}\n'  # line 15
        '      - {when: [">= 1.1", "-"], then: 2.0}\n'  # line 16
    )
    path = tmp_path / "policy.yaml"
    path.write_text(_policy_text(rows), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        policy_from_yaml(path)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == (str(path), 16)
    assert problem.message == (
        "rows 2 and 3 of a 'unique' table overlap: both match margin attainment = 1.1; "
        "row 2 is at line 15"
    )
    assert "hit: first" in (problem.suggestion or "")


def test_a_gap_in_a_unique_table_is_refused_naming_the_rows_on_either_side(
    tmp_path: Path,
) -> None:
    rows = (
        '      - {when: ["< 0.9", "-"], then: 0.5}\n'  # line 14
        '      - {when: ["[0.95..1.1)", "-"], then: 1.0}\n'  # line 15
        '      - {when: [">= 1.1", "-"], then: 2.0}\n'  # line 16
    )
    path = tmp_path / "policy.yaml"
    path.write_text(_policy_text(rows), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        policy_from_yaml(path)
    [problem] = raised.value.problems
    assert problem.line == 15
    assert problem.message == (
        "no row of a 'unique' table matches margin attainment in [0.9..0.95) "
        "(between rows 1 and 2); row 1 is at line 14"
    )
    assert "default" in (problem.suggestion or "")


def test_a_gap_on_a_second_input_is_found_too(tmp_path: Path) -> None:
    rows = '      - {when: ["< 1", "-"], then: 0.5}\n      - {when: [">= 1", "> 0.5"], then: 1.0}\n'
    path = tmp_path / "policy.yaml"
    path.write_text(_policy_text(rows), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        policy_from_yaml(path)
    messages = [p.message for p in raised.value.problems]
    assert messages == [
        "no row of a 'unique' table matches margin attainment >= 1, dept score <= 0.5 "
        "(between rows 1 and 2); row 1 is at line 14"
    ]


def test_a_first_table_may_overlap_and_a_default_fills_a_gap(tmp_path: Path) -> None:
    rows = '      - {when: ["< 0.9", "-"], then: 0.5}\n      - {when: ["< 1.2", "-"], then: 1.0}\n'
    path = tmp_path / "policy.yaml"
    path.write_text(_policy_text(rows, hit="first", extra="    default: 2.0\n"), encoding="utf-8")
    assert policy_from_yaml(path).tables[0].default == 2.0
    path.write_text(_policy_text(rows, hit="first"), encoding="utf-8")
    with pytest.raises(InputError, match=r"margin attainment >= 1.2"):
        policy_from_yaml(path)


def test_a_row_naming_an_unknown_input_or_the_wrong_number_of_conditions_is_refused(
    tmp_path: Path,
) -> None:
    rows = (
        '      - {when: {marign: "< 0.9"}, then: 0.5}\n'
        '      - {when: ["< 1.2"], then: 1.0}\n'
        '      - {when: ["=> 1.2", "-"], then: 1.0}\n'
    )
    path = tmp_path / "policy.yaml"
    path.write_text(_policy_text(rows, hit="collect"), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        policy_from_yaml(path)
    found = [(p.line, p.message) for p in raised.value.problems]
    assert found[0] == (14, "unknown input 'marign'")
    assert found[1] == (15, "row 2 has 1 conditions for 2 inputs (margin, dept)")
    assert found[2][0] == 16 and "'=> 1.2' is not a condition" in found[2][1]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["-", "<", "<=", ">", ">=", "=", "range"]),
            st.integers(min_value=0, max_value=6),
            st.integers(min_value=0, max_value=6),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    hit=st.sampled_from(["unique", "first"]),
)
def test_the_load_check_finds_every_overlap_and_gap_a_sample_of_results_shows(
    rows: list[tuple[str, int, int, bool, bool]], hit: str
) -> None:
    conditions = []
    for kind, a, b, open_low, open_high in rows:
        low, high = sorted((a / 4, b / 4))
        if kind == "range":
            if low == high:
                open_low = open_high = False
            written = f"{'(' if open_low else '['}{low}..{high}{')' if open_high else ']'}"
        elif kind == "-":
            written = "-"
        else:
            written = f"{kind} {low}"
        conditions.append(written)
    table = {
        "id": "t",
        "inputs": [{"name": "x", "kpi": "k"}],
        "hit": hit,
        "effect": "multiply",
        "rules": [{"when": [c], "then": 1.0} for c in conditions],
    }
    model = DecisionTable.model_validate(table)
    messages = [p.message for p in model.problems(("tables", 0))]
    samples = np.array([v / 8 for v in range(-8, 60)] + [-1e9, 1e9, math.inf], dtype=np.float64)
    hits = np.stack([c[0].contains(samples) for c in model.conditions()], axis=1)
    gap = bool((hits.sum(axis=1) == 0).any())
    overlap = hit == "unique" and bool((hits.sum(axis=1) > 1).any())
    assert any("matches" in m and "no row" in m for m in messages) == gap
    assert any("overlap" in m for m in messages) == overlap


# --- decision tables in scoring ---------------------------------------------------------------


def test_a_collect_sum_table_adds_to_every_factor_to_the_cent() -> None:
    policy = make_policy(
        tables=[
            {
                "id": "bonus-points",
                "inputs": [
                    {"name": "margin", "kpi": "company.net_margin"},
                    {"name": "defects", "kpi": "production.defect_rate", "measure": "actual"},
                ],
                "hit": "collect",
                "aggregate": "sum",
                "effect": "add",
                "rules": [
                    {"when": {"margin": ">= 1"}, "then": 0.05},
                    {"when": {"defects": "<= 0.02"}, "then": 0.025},
                    {"when": {"margin": ">= 2"}, "then": 1.0},
                ],
            }
        ]
    )
    employees = _employees(
        [
            {"employee_id": "A", "department": "sales", "target_bonus": 12_345.67},
            {"employee_id": "B", "department": "production", "target_bonus": 1.01},
        ]
    )
    result = score_period(make_plan(), policy, actuals_frame(ON_TARGET), employees, "2026-Q3")
    assert result.payout_texts() == ["13271.60", "1.09"]  # x 1.075, half up
    [outcome] = [g for g in result.gates if g.gate_id == "bonus-points"]
    assert outcome.rows == (1, 2) and outcome.value == pytest.approx(0.075)
    assert outcome.to_dict()["table"] == {
        "rows": [1, 2],
        "inputs": {"margin": 1.0, "defects": 0.02},
    }


def test_table_effects_join_the_gates_on_the_same_target_in_the_documented_order() -> None:
    policy = make_policy(
        gates=[
            {
                "id": "double",
                "when": {"scope": "company", "score": {"gte": 0}},
                "effect": {"multiply": 2.0},
                "applies_to": "department:sales",
            }
        ],
        tables=[
            {
                "id": "minus",
                "inputs": [{"scope": "company"}],
                "hit": "collect",
                "effect": "add",
                "rules": [{"when": ["-"], "then": -0.5}],
                "applies_to": "department:sales",
            },
            {
                "id": "ceiling",
                "inputs": [{"scope": "company"}],
                "hit": "unique",
                "effect": "cap",
                "rules": [{"when": ["-"], "then": 1.4}],
                "applies_to": "department:sales",
            },
        ],
        caps={"kpi": 2.0, "employee": 3.0},
    )
    employees = _employees([{"employee_id": "A", "department": "sales", "target_bonus": 1000}])
    result = score_period(make_plan(), policy, actuals_frame(ON_TARGET), employees, "2026-Q3")
    # 1.0 x 2 - 0.5 = 1.5, capped at 1.4
    assert result.employees.factor_after_gates.tolist() == [1.4]
    assert result.payout_texts() == ["1400.00"]


def test_an_add_never_takes_a_factor_below_zero() -> None:
    policy = make_policy(
        tables=[
            {
                "id": "malus",
                "inputs": [{"scope": "company"}],
                "hit": "collect",
                "effect": "add",
                "rules": [{"when": ["-"], "then": -5}],
            }
        ]
    )
    employees = _employees([{"employee_id": "A", "department": "sales", "target_bonus": 1000}])
    result = score_period(make_plan(), policy, actuals_frame(ON_TARGET), employees, "2026-Q3")
    assert result.payout_texts() == ["0.00"]


def test_a_collect_table_that_multiplies_takes_the_product_and_refuses_a_sum() -> None:
    table = _table(
        effect="multiply",
        rules=[
            {"when": {"margin": ">= 1.1"}, "then": 1.05},
            {"when": {"company": ">= 1.1"}, "then": 1.05},
        ],
    )
    outcome = _decide(table, 1.2, 1.2)
    assert outcome.value == pytest.approx(1.1025)  # 1.05 x 1.05, not 2.1
    summed = _table(effect="multiply", aggregate="sum", rules=[{"when": ["-", "-"], "then": 1}])
    [problem] = summed.problems(("tables", 0))
    assert "add its multipliers together" in problem.message


def test_a_missing_kpi_paid_zero_stays_at_zero_whatever_a_table_adds() -> None:
    policy = make_policy(
        missing="zero",
        tables=[
            {
                "id": "lift",
                "inputs": [{"scope": "company"}],
                "hit": "collect",
                "effect": "add",
                "rules": [{"when": ["-"], "then": 0.3}],
                "applies_to": "kpi:sales.market_share",
            }
        ],
    )
    results = [r for r in ON_TARGET if r[2] != "sales.market_share"]
    result = score_period(make_plan(), policy, actuals_frame(results), None, "2026-Q3")
    share = next(k for k in result.kpis if k.kpi == "sales.market_share")
    assert share.status == "missing: paid 0" and share.payout_factor == 0.0


def test_only_tables_that_need_it_are_checked_for_gaps_and_overlaps() -> None:
    wide = {
        "id": "wide",
        "inputs": [{"name": f"k{i}", "kpi": f"kpi{i}"} for i in range(8)],
        "hit": "collect",
        "effect": "add",
        "rules": [{"when": {f"k{i}": f"[0.{i + 1}..1.{i})"}, "then": 0.01} for i in range(8)],
    }
    assert DecisionTable.model_validate(wide).problems(("tables", 0)) == []
    first = {**wide, "hit": "first", "default": 0.0}
    assert DecisionTable.model_validate(first).problems(("tables", 0)) == []


def test_percentages_in_conditions_mean_exactly_the_decimal() -> None:
    table = _table(
        hit="unique",
        effect="cap",
        inputs=[{"name": "margin", "kpi": "company.net_margin"}],
        rules=[{"when": ["< 99.9%"], "then": 0.5}, {"when": [">= 99.9%"], "then": 2.0}],
    )
    assert table.problems(("tables", 0)) == []
    assert _decide(table, 0.999, None).value == 2.0


@pytest.mark.parametrize(("actual", "factor"), [(305.0, 1.05), (302.0, 1.02), (297.0, 0.97)])
def test_a_result_between_two_points_pays_without_float_noise(actual: float, factor: float) -> None:
    """305 / 300 = 1.0166...: its attainment reads 1.01666666667 (12 digits) but pays exactly
    1.05 on a slope of 3 (it paid 1.05000000001, the rounding times the slope)."""
    curves = {
        "default": {"basis": "levels", "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0}},
        "steep": {"basis": "attainment", "points": [[0.9, 0.7], [1.0, 1.0], [1.1, 1.3]]},
    }
    policy = make_policy(curves=curves, kpi_curves={"sales.revenue": "steep"})
    results = [(p, s, k, actual if k == "sales.revenue" else a) for p, s, k, a in ON_TARGET]
    result = score_period(make_plan(), policy, actuals_frame(results), None, "2026-Q3")
    revenue = next(k for k in result.kpis if k.kpi == "sales.revenue")
    assert revenue.payout_factor == factor
    matrix = make_policy(matrices={"m": _matrix()})
    on_matrix = score_period(make_plan(), matrix, actuals_frame(results), None, "2026-Q3")
    paid = next(k for k in on_matrix.kpis if k.kpi == "sales.revenue").payout_factor
    # the revenue axis at share 1.0: 1.0 + (attainment - 1) x 3, or 0.5 + (a - 0.9) x 5 below
    expected = {305.0: 1.05, 302.0: 1.02, 297.0: 0.95}[actual]
    assert paid == expected


def test_a_unique_table_too_large_to_check_is_refused_with_a_way_out() -> None:
    inputs = [{"name": f"k{i}", "kpi": f"kpi{i}"} for i in range(6)]
    rules = [
        {"when": {f"k{i}": f"< {n / 10 + i}" for i in range(6)}, "then": 1.0} for n in range(12)
    ]
    table = DecisionTable.model_validate(
        {"id": "huge", "inputs": inputs, "hit": "unique", "effect": "cap", "rules": rules}
    )
    [problem] = table.problems(("tables", 0))
    assert "too many combinations to check" in problem.message
    assert problem.suggestion == "split it into smaller tables"
