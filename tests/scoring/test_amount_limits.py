"""Caps and minimums in money (``caps.employee_amount``, ``minimum.employee_amount``): no payout
above its prorated cap or (when paid) below its prorated minimum, to the unit; payouts inside
the limits are exactly what they are without them; the explanation says which limit acted."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError
from alignment_engine.loading import policy_from_yaml

ROOT = Path(__file__).resolve().parents[2]

QUARTER_START = date(2026, 7, 1)
QUARTER_DAYS = 92


def _employees(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.attrs["source"] = "employees.csv"
    frame.attrs["row_offset"] = 2
    return frame


def _score(rows: list[dict[str, object]], results=ON_TARGET, **policy: object):  # type: ignore[no-untyped-def]
    return score_period(
        make_plan(), make_policy(**policy), actuals_frame(results), _employees(rows), "2026-Q3"
    )


people = st.lists(
    st.tuples(
        st.sampled_from(["sales", "production"]),
        st.decimals(min_value=0, max_value=200_000, places=2),  # target bonus
        st.floats(min_value=0, max_value=3, allow_nan=False),  # individual score
        st.integers(min_value=0, max_value=QUARTER_DAYS - 1),  # days joined after the start
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(
    people=people,
    cap=st.decimals(min_value=1, max_value=100_000, places=2),
    share=st.floats(min_value=0.0, max_value=1.0),
    everyone=st.booleans(),
)
def test_no_payout_passes_its_cap_or_falls_under_its_minimum(
    people: list[tuple[str, Decimal, float, int]],
    cap: Decimal,
    share: float,
    everyone: bool,
) -> None:
    minimum = (cap * Decimal(str(round(share, 4)))).quantize(Decimal("0.01"))
    rows = [
        {
            "employee_id": f"E{i}",
            "department": department,
            "target_bonus": float(bonus),
            "individual_score": score,
            "start_date": (QUARTER_START + timedelta(days=late)).isoformat(),
        }
        for i, (department, bonus, score, late) in enumerate(people)
    ]
    limits: dict[str, object] = {
        "caps": {"kpi": 2.0, "employee": 2.0, "employee_amount": float(cap)}
    }
    if minimum > 0:
        limits["minimum"] = {
            "employee_amount": float(minimum),
            "applies": "everyone" if everyone else "paid",
        }
    free = _score(rows)
    limited = _score(rows, **limits)
    for i, (_, _, _, late) in enumerate(people):
        # The exact share of the quarter employed (the float proration is its nearest double).
        proration = Fraction(QUARTER_DAYS - late, QUARTER_DAYS)
        assert float(limited.employees.proration[i]) == pytest.approx(float(proration), rel=1e-12)
        units = int(limited.employees.units[i])
        formula = float(free.employees.amount[i])
        high = math.floor(Fraction(cap) * proration * 100)
        low = math.ceil(Fraction(minimum) * proration * 100) if minimum > 0 else 0
        assert units <= max(high, 0)
        raised = minimum > 0 and (everyone or formula > 0)
        if raised:
            assert units >= min(low, high)
        unlimited = int(free.employees.units[i])
        if unlimited <= high and (not raised or unlimited >= low):
            assert units == unlimited  # untouched inside the limits
    assert limited.totals.payout_units == int(limited.employees.units.sum())


def test_the_explanation_says_which_limit_acted() -> None:
    rows = [
        {"employee_id": "BIG", "department": "sales", "target_bonus": 90000.0},
        {"employee_id": "SMALL", "department": "sales", "target_bonus": 100.0},
        {"employee_id": "MID", "department": "sales", "target_bonus": 20000.0},
    ]
    result = _score(
        rows,
        caps={"kpi": 2.0, "employee": 2.0, "employee_amount": 50000},
        minimum={"employee_amount": 500},
    )
    assert result.payout_texts() == ["50000.00", "500.00", "20000.00"]
    big, small, mid = (result.explanation(i) for i in range(3))
    assert big is not None and small is not None and mid is not None
    assert big["amount_limit"] == {
        "limit": "caps.employee_amount",
        "per_period": 50000.0,
        "formula_amount": 90000.0,
    }
    assert "capped at 50000.000000 (caps.employee_amount 50000 x proration 1)" in big["summary"]
    assert small["amount_limit"]["limit"] == "minimum.employee_amount"
    assert "raised to 500.000000" in small["summary"]
    assert "amount_limit" not in mid


def test_a_gate_that_zeroes_a_payout_is_not_undone_by_a_paid_minimum() -> None:
    missed = [(p, s, k, 0.0 if k == "company.net_margin" else v) for p, s, k, v in ON_TARGET]
    gate = {
        "id": "profit-gate",
        "when": {"kpi": "company.net_margin", "attainment": {"lt": 0.5}},
        "effect": {"zero": True},
    }
    rows = [{"employee_id": "E1", "department": "sales", "target_bonus": 10000.0}]
    paid = _score(rows, missed, gates=[gate], minimum={"employee_amount": 500})
    assert paid.payout_texts() == ["0.00"]
    everyone = _score(
        rows, missed, gates=[gate], minimum={"employee_amount": 500, "applies": "everyone"}
    )
    assert everyone.payout_texts() == ["500.00"]


def test_a_minimum_above_the_cap_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "annual-bonus-2026.yaml").read_text(encoding="utf-8")
    path = tmp_path / "policy.yaml"
    path.write_text(
        text.replace(
            "caps: {kpi: 2.0, employee: 2.0}",
            "caps: {kpi: 2.0, employee: 2.0, employee_amount: 100}\nminimum: {employee_amount: 200}",
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        policy_from_yaml(path)
    problem = raised.value.problems[0]
    assert problem.file == str(path) and problem.line is not None
    assert "above the cap" in problem.message and problem.key == "minimum.employee_amount"


@settings(max_examples=60, deadline=None)
@given(
    people=people,
    caps=st.lists(st.one_of(st.none(), st.integers(1, 50_000)), min_size=4, max_size=4),
    floors=st.lists(st.one_of(st.none(), st.integers(1, 2_000)), min_size=4, max_size=4),
)
def test_each_component_pays_within_its_money_limits(
    people: list[tuple[str, Decimal, float, int]],
    caps: list[int | None],
    floors: list[int | None],
) -> None:
    names = ("company", "department", "shared", "individual")
    floors = [
        f if f is None or c is None or f <= c else c for f, c in zip(floors, caps, strict=True)
    ]
    cap_map = {n: float(c) for n, c in zip(names, caps, strict=True) if c is not None}
    floor_map = {n: float(f) for n, f in zip(names, floors, strict=True) if f is not None}
    policy: dict[str, object] = {"caps": {"kpi": 2.0, "components": cap_map or None}}
    if floor_map:
        policy["minimum"] = {"components": floor_map}
    rows = [
        {
            "employee_id": f"E{i}",
            "department": department,
            "target_bonus": float(bonus),
            "individual_score": score,
            "start_date": (QUARTER_START + timedelta(days=late)).isoformat(),
        }
        for i, (department, bonus, score, late) in enumerate(people)
    ]
    result = _score(rows, **policy)
    factors = result.factors
    scores = np.nan_to_num(
        np.column_stack(
            [
                np.full(len(factors.department_ids), factors.company_score),
                factors.department_score,
                factors.shared_score,
            ]
        )
    )
    for i in range(len(rows)):
        d = int(result.employees.department[i])
        bonus = float(result.employees.target_bonus[i])
        parts = [
            *(factors.weight[d, :3] * scores[d]),
            factors.weight[d, 3] * rows[i]["individual_score"],
        ]
        expected = 0.0
        for name, part in zip(names, parts, strict=True):
            if bonus > 0:
                if name in floor_map and 0 < part < floor_map[name] / bonus:
                    part = floor_map[name] / bonus
                if name in cap_map:
                    part = min(part, cap_map[name] / bonus)
            expected += part
        assert float(result.employees.factor_before_gates[i]) == pytest.approx(expected, abs=1e-11)
        for name, part in zip(names, parts, strict=True):  # in money, per component
            if name in cap_map and bonus > 0:
                assert min(part, cap_map[name] / bonus) * bonus <= cap_map[name] * (1 + 1e-12)


def test_the_explanation_names_the_component_a_limit_changed() -> None:
    rows = [{"employee_id": "BIG", "department": "sales", "target_bonus": 90000.0}]
    result = _score(rows, caps={"kpi": 2.0, "components": {"department": 10000}})
    explanation = result.explanation(0)
    assert explanation is not None
    assert explanation["component_limits"] == [
        {"component": "department", "cap": 10000.0, "minimum": None}
    ]
    # 0.2 company + 0.2 shared + 0.1 individual on target, department capped at 10000 / 90000
    assert explanation["factor_before_gates"] == pytest.approx(0.5 + 10000 / 90000, abs=1e-11)
