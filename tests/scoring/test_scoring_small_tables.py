"""The plain-Python paths for small tables give what the pandas paths give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.scoring import tables

cells = st.none() | st.sampled_from(["", " ", "sales", " sales ", "finance", "E1", "E2 "])
column = st.lists(cells, min_size=1, max_size=40)
KNOWN = ["sales", "finance", "E1"]


def both_paths(call: Any) -> tuple[Any, Any]:
    small = call()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "SMALL_TABLE_ROWS", -1)
        large = call()
    return small, large


@settings(max_examples=60, deadline=None)
@given(column)
def test_text_columns_read_alike(values: list[str | None]) -> None:
    frame = pd.DataFrame({"c": pd.Series(values, dtype="str")})
    small, large = both_paths(lambda: tables.text_column(frame, "c"))
    assert small.tolist() == large.tolist()


@settings(max_examples=60, deadline=None)
@given(column)
def test_lookups_agree(values: list[str | None]) -> None:
    array = np.array(values, dtype=object)
    for call in (
        lambda: tables.first_positions(array),
        lambda: tables.codes_of(array, KNOWN),
        lambda: tables.is_in(array, KNOWN),
        lambda: tables.looked_up(array, {"sales": "S", "E1": "e"}),
    ):
        small, large = both_paths(call)
        assert small.tolist() == large.tolist()


def test_a_row_without_scope_still_has_its_kpi_checked() -> None:
    from alignment_engine.errors import InputError
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml
    from alignment_engine.scoring.actuals import check_actual_rows
    from alignment_engine.scoring.catalogue import build_catalogue

    data = Path(__file__).resolve().parents[1] / "data" / "valid"
    plan = plan_from_yaml(data / "minimal-plan.yaml")
    catalogue = build_catalogue(plan, policy_from_yaml(data / "minimal-policy.yaml"))
    frame = pd.DataFrame(
        {
            "period": ["2026-Q3"] * 2,
            "scope": ["", ""],
            "kpi": ["nope", "sales.revenue"],
            "actual": [1.0, 2.0],
        }
    )
    with pytest.raises(InputError) as raised:
        check_actual_rows([frame], plan, catalogue)
    messages = [(p.row, p.key, p.message, p.suggestion) for p in raised.value.problems]
    assert (1, "kpi", "'nope' is not a KPI of the plan", None) in messages
    assert (2, "kpi", "'sales.revenue' is a KPI of 'sales'", "give scope 'sales'") in messages
