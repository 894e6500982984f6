"""Manual adjustments after scoring: exact to the cent, inside or outside the pool, shown in
the explanation, refused where they would mislead."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError

EMPLOYEES = pd.DataFrame(
    {
        "employee_id": [f"E{i}" for i in range(6)],
        "department": ["sales", "production"] * 3,
        "target_bonus": [10000.0, 12000.0, 8000.0, 9000.0, 15000.0, 11000.0],
    }
)


def _adjustments(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["employee_id", "amount", "reason"])
    frame.attrs["source"] = "adjustments.csv"
    frame.attrs["row_offset"] = 2
    return frame


def _units(result: object) -> list[int]:
    return [int(u) for u in result.employees.units]  # type: ignore[attr-defined]


_amounts = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=-50_000, max_value=200_000),  # cents
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(amounts=_amounts, inside=st.booleans(), mode=st.sampled_from(["scale", "scale_down"]))
def test_adjustments_reconcile_to_the_cent(
    amounts: list[tuple[int, int]], inside: bool, mode: str
) -> None:
    pool = {"amount": 40000, "mode": mode, "adjustments": "inside" if inside else "outside"}
    policy = make_policy(pool=pool)
    plan, actuals = make_plan(), actuals_frame(ON_TARGET)
    base = score_period(plan, policy, actuals, EMPLOYEES, "2026-Q3")
    rows = [(f"E{e}", f"{c / 100:.2f}", "R") for e, c in amounts]
    added = [0] * 6
    for e, c in amounts:
        added[e] += c
    try:
        result = score_period(
            plan, policy, actuals, EMPLOYEES, "2026-Q3", adjustments=_adjustments(rows)
        )
    except InputError as error:  # only a payout below zero or a pool they overflow refuse
        assert "below zero" in error.message or "exceed the pool" in error.message
        return
    units = _units(result)
    assert all(u >= 0 for u in units)
    assert result.totals.adjustment_units == sum(added)
    assert result.totals.payout_units == sum(units)
    pool_units = 4_000_000
    if not inside:
        # Outside the pool: the formula payouts are the base run's, the adjustments on top.
        assert [u - a for u, a in zip(units, added, strict=True)] == _units(base)
    else:
        assert sum(units) <= pool_units  # the pool holds the adjustments too
        if mode == "scale":
            assert sum(units) == pool_units  # the pool, exactly, adjustments included
    body = result.to_dict("none")
    if not rows:  # nothing to list: the score's shape is the plain one
        assert "manual_adjustments" not in body and "manual_adjustment" not in body["totals"]
        return
    assert len(body["manual_adjustments"]) == len(rows)
    assert body["totals"]["manual_adjustment_text"] == (
        f"{'-' if sum(added) < 0 else ''}{abs(sum(added)) // 100}.{abs(sum(added)) % 100:02d}"
    )


def test_the_explanation_shows_each_adjustment_with_its_reason() -> None:
    result = score_period(
        make_plan(),
        make_policy(),
        actuals_frame(ON_TARGET),
        EMPLOYEES,
        "2026-Q3",
        adjustments=_adjustments([("E1", "500.00", "SPOT"), ("E1", "-20.25", "CORRECTION")]),
    )
    explanation = result.explanation_for("E1")
    assert explanation is not None
    assert [(a["amount_text"], a["reason"]) for a in explanation["adjustments"]] == [
        ("500.00", "SPOT"),
        ("-20.25", "CORRECTION"),
    ]
    assert round((explanation["payout"] - explanation["formula_payout"]) * 100) == 47975
    assert "+ 500.00 (SPOT) - 20.25 (CORRECTION)" in explanation["summary"]
    assert "adjustments" not in (result.explanation_for("E0") or {})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("E1", "10.005", "R")], "row 2: column 'amount': '10.005' is finer than the policy pays"),
        ([("E9", "10", "R")], "row 2: column 'employee_id': 'E9' is not an employee"),
        ([("E1", "ten", "R")], "row 2: column 'amount': 'ten' is not a number"),
        ([("E1", "-99999", "R")], "take 1 payout(s) below zero: E1"),
    ],
)
def test_misleading_adjustments_are_refused(rows: list[tuple[str, str, str]], message: str) -> None:
    with pytest.raises(InputError) as caught:
        score_period(
            make_plan(),
            make_policy(),
            actuals_frame(ON_TARGET),
            EMPLOYEES,
            "2026-Q3",
            adjustments=_adjustments(rows),
        )
    assert message in str(caught.value)


def test_adjustments_need_the_employees() -> None:
    with pytest.raises(InputError, match="give the employees table too"):
        score_period(
            make_plan(),
            make_policy(),
            actuals_frame(ON_TARGET),
            None,
            "2026-Q3",
            adjustments=_adjustments([("E1", "1", "R")]),
        )
