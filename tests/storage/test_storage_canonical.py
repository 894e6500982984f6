"""Canonical bytes: equal inputs hash equal however they were written."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_samples import PLAN

from alignment_engine.errors import InputError
from alignment_engine.model import Plan
from alignment_engine.storage import (
    RunRecord,
    canonical_json,
    canonical_table_bytes,
    content_hash,
    table_from_bytes,
)


def test_key_order_and_spacing_do_not_matter() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "销售"]}) == '{"a":[1.5,"销售"],"b":1}'
    assert content_hash(canonical_json({"b": 1, "a": 2})) == content_hash(
        canonical_json({"a": 2, "b": 1})
    )


def test_not_json_is_an_input_error() -> None:
    import pytest

    with pytest.raises(InputError, match="not plain JSON"):
        canonical_json({"x": math.nan})
    with pytest.raises(InputError, match="not plain JSON"):
        canonical_json({"x": object()})


def test_a_model_and_its_dump_are_the_same_document() -> None:
    plan = Plan.model_validate(
        {"id": "p", "name": "P", "currency": "CNY", "fiscal_year": 2026, "departments": []}
    )
    from_model = RunRecord.create("check", documents={"plan": plan})
    dumped = plan.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    from_dict = RunRecord.create("check", documents={"plan": {"kind": "plan", **dumped}})
    assert from_model.documents[0].hash == from_dict.documents[0].hash
    assert from_model.run_hash == from_dict.run_hash


def test_run_hash_covers_kind_period_inputs_and_options() -> None:
    def make(**changes: object) -> str:
        arguments: dict[str, object] = {
            "kind": "score",
            "period": "2026-Q3",
            "documents": {"plan": PLAN},
            "tables": {"t": pd.DataFrame({"a": [1]})},
            "options": {"x": 1},
        }
        arguments.update(changes)
        kind = str(arguments.pop("kind"))
        return RunRecord.create(kind, **arguments, engine_version="1").run_hash  # type: ignore[arg-type]

    base = make()
    assert make() == base
    variants = [
        make(kind="check"),
        make(period="2026-Q4"),
        make(documents={"plan": {**PLAN, "id": "other"}}),
        make(documents={"policy": PLAN}),
        make(tables={"t": pd.DataFrame({"a": [2]})}),
        make(options={"x": 2}),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_tables_keep_types_as_text() -> None:
    frame = pd.DataFrame(
        {
            "employee_id": ["E1", "E,2"],
            "target_bonus": [1000.1, np.nan],
            "start_date": pd.to_datetime(["2026-01-01", None]),
            "name": ["王伟", ""],
        }
    )
    data = canonical_table_bytes(frame)
    assert data.decode() == (
        '"employee_id","target_bonus","start_date","name"\n'
        '"E1",1000.1,"2026-01-01","王伟"\n'
        '"E,2",,,""\n'
    )
    back = table_from_bytes(data)
    assert back.to_dict("list") == {
        "employee_id": ["E1", "E,2"],
        "target_bonus": ["1000.1", ""],
        "start_date": ["2026-01-01", ""],
        "name": ["王伟", ""],
    }


cells = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=8)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(cells, st.floats(allow_nan=False, allow_infinity=False)), min_size=1))
def test_table_bytes_round_trip(rows: list[tuple[str, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["text", "number"])
    data = canonical_table_bytes(frame)
    back = table_from_bytes(data)
    assert back["text"].tolist() == frame["text"].tolist()
    assert [float(v) for v in back["number"]] == frame["number"].tolist()
    retyped = back.astype({"number": float})
    assert canonical_table_bytes(retyped) == data
