"""People who move mid-period: several rows per employee (a transfer, a new target bonus), each
paid for its days at its own department's factor and target bonus, one payout per employee,
the segments in the explanation; overlapping rows are refused, naming both rows."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError

# Sales beats its market-share target, production is on target: the two factors differ.
RESULTS = [("2026-Q3", s, k, 0.28 if k == "sales.market_share" else v) for _, s, k, v in ON_TARGET]


def _employees(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.attrs["source"] = "employees.csv"
    frame.attrs["row_offset"] = 2
    return frame


def _score(rows: list[dict[str, object]], **policy: object):  # type: ignore[no-untyped-def]
    return score_period(
        make_plan(), make_policy(**policy), actuals_frame(RESULTS), _employees(rows), "2026-Q3"
    )


def test_a_transfer_pays_each_segment_at_its_department_and_target_bonus() -> None:
    moved = _score(
        [
            {"employee_id": "E1", "department": "sales", "target_bonus": 12000.0,
             "end_date": "2026-08-15"},
            {"employee_id": "E1", "department": "production", "target_bonus": 15000.0,
             "start_date": "2026-08-16"},
        ]
    )  # fmt: skip
    # The same two segments as two people of their own.
    apart = _score(
        [
            {"employee_id": "A", "department": "sales", "target_bonus": 12000.0,
             "end_date": "2026-08-15"},
            {"employee_id": "B", "department": "production", "target_bonus": 15000.0,
             "start_date": "2026-08-16"},
        ]
    )  # fmt: skip
    assert len(moved.employees) == 1
    assert moved.employees.amount[0] == pytest.approx(apart.employees.amount.sum(), rel=1e-12)
    assert int(moved.employees.units[0]) == round(apart.employees.amount.sum() * 100)
    assert moved.factors.department_ids[moved.employees.department[0]] == "production"
    assert moved.employees.proration[0] == pytest.approx(1.0)
    explanation = moved.explanation(0)
    assert explanation is not None
    parts = explanation["segments"]
    assert [(p["department"], p["start_date"], p["end_date"]) for p in parts] == [
        ("sales", None, "2026-08-15"),
        ("production", "2026-08-16", None),
    ]
    assert [p["amount"] for p in parts] == pytest.approx(apart.employees.amount.tolist())
    assert "sales 12000 x factor" in explanation["summary"]
    # The per-employee columns still multiply out to the amount.
    e = moved.employees
    assert e.target_bonus[0] * e.factor[0] * e.proration[0] == pytest.approx(e.amount[0])


def test_without_proration_the_segments_share_the_whole_period() -> None:
    moved = _score(
        [
            {"employee_id": "E1", "department": "sales", "target_bonus": 10000.0,
             "start_date": "2026-08-01", "end_date": "2026-08-31"},
            {"employee_id": "E1", "department": "production", "target_bonus": 10000.0,
             "start_date": "2026-09-01"},
        ],
        proration="none",
    )  # fmt: skip
    parts = moved.explanation(0)["segments"]  # type: ignore[index]
    assert sum(p["proration"] for p in parts) == pytest.approx(1.0)
    assert parts[0]["proration"] == pytest.approx(31 / 61)


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({"start_date": "2026-08-10"}, "employee 'E1' again: this row's dates overlap row 2"),
        ({}, "duplicate employee 'E1' (first at row 2)"),
    ],
)
def test_overlapping_rows_are_refused_naming_both(second: dict[str, object], expected: str) -> None:
    rows = [
        {"employee_id": "E1", "department": "sales", "target_bonus": 1.0, "end_date": "2026-08-15"},
        {"employee_id": "E1", "department": "production", "target_bonus": 1.0, **second},
    ]
    with pytest.raises(InputError) as caught:
        _score(rows)
    [problem] = caught.value.problems
    assert problem.location() == "employees.csv:row 3"
    assert expected in problem.message


@settings(max_examples=40, deadline=None)
@given(
    split=st.integers(0, 90),
    bonuses=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
)
def test_a_split_anywhere_pays_the_sum_of_its_parts(split: int, bonuses: tuple[int, int]) -> None:
    day = date(2026, 7, 1) + timedelta(days=split)
    first = {"employee_id": "E1", "department": "sales", "target_bonus": float(bonuses[0]),
             "end_date": (day - timedelta(days=1)).isoformat()}  # fmt: skip
    second = {"employee_id": "E1", "department": "production",
              "target_bonus": float(bonuses[1]), "start_date": day.isoformat()}  # fmt: skip
    moved = _score([first, second])
    apart = _score([{**first, "employee_id": "A"}, {**second, "employee_id": "B"}])
    assert moved.employees.amount[0] == pytest.approx(apart.employees.amount.sum(), abs=1e-6)
    assert moved.employees.proration[0] == pytest.approx(1.0)
