"""The plain-Python paths for small tables give what the pandas paths give."""

from __future__ import annotations

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
