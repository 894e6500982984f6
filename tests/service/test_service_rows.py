"""Rows given as JSON become exactly the tables the CLI reads from files."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from service_harness import Service
from service_samples import score_body

from alignment_engine.errors import InputError
from alignment_engine.service.api import ActualRow, EmployeeRow
from alignment_engine.service.documents import _records, _typed_rows, actuals_table
from alignment_engine.tables import ACTUALS, EMPLOYEES, table_from_records

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8
).map(lambda t: t if t.strip() else "x")
padded = st.builds(
    lambda t, left, right: left + t + right,
    texts,
    st.sampled_from(["", " "]),
    st.sampled_from(["", "  "]),
)
numbers = st.floats(
    allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12
) | st.integers(-(10**6), 10**6)
periods = st.sampled_from(["2026", "2026-Q3", "2026-07", "2025-Q4"])
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def _kpi_row() -> Any:
    return st.builds(
        ActualRow, period=periods, scope=padded, kpi=padded, actual=st.none() | numbers
    )


def _measure_row() -> Any:
    return st.builds(ActualRow, period=periods, scope=padded, measure=texts, value=numbers)


employee_rows = st.builds(
    EmployeeRow,
    employee_id=padded,
    department=texts,
    target_bonus=numbers,
    individual_score=st.none() | numbers,
    start_date=st.none() | dates,
    end_date=st.none() | dates,
    currency=st.none() | st.sampled_from(["CNY", "EUR"]),
    name=st.none() | texts,
    cost_centre=st.none() | texts,
    grade=st.none() | texts,
)


def assert_same(rows: list[Any], spec: Any, source: str) -> None:
    direct = _typed_rows(rows, spec, source)
    loaded = table_from_records(_records(rows), spec, source)
    assert direct is not None
    pd.testing.assert_frame_equal(direct, loaded)
    assert direct.attrs == loaded.attrs


@settings(max_examples=25, deadline=None)
@given(st.lists(_kpi_row(), min_size=1, max_size=6), st.lists(_measure_row(), max_size=3))
def test_actuals_rows_make_the_loaders_table(kpi_rows: list[Any], measure_rows: list[Any]) -> None:
    assume(any(row.actual is not None for row in kpi_rows))  # else a column group is missing
    assert_same(kpi_rows + measure_rows, ACTUALS, "actuals")


@settings(max_examples=25, deadline=None)
@given(st.lists(employee_rows, min_size=1, max_size=6))
def test_employee_rows_make_the_loaders_table(rows: list[Any]) -> None:
    assert_same(rows, EMPLOYEES, "employees")


def test_rows_the_loader_must_judge_get_its_messages() -> None:
    blank_scope = [ActualRow(period="2026-Q3", scope="  ", kpi="k", actual=1.0)]
    assert _typed_rows(blank_scope, ACTUALS, "actuals") is None
    with pytest.raises(InputError) as raised:
        actuals_table(blank_scope)
    assert (raised.value.problems[0].file, raised.value.problems[0].row) == ("actuals", 1)
    no_values = [ActualRow(period="2026-Q3", scope="sales", kpi="k")]
    assert _typed_rows(no_values, ACTUALS, "actuals") is None
    with pytest.raises(InputError, match="actuals need the columns kpi\\+actual"):
        actuals_table(no_values)


def test_rows_as_a_csv_reader_gives_them_are_accepted_as_the_file_is(service: Service) -> None:
    """Every cell a string, empty cells as empty strings: what csv.DictReader gives."""
    import csv
    import io

    body = score_body()
    columns = ["employee_id", "department", "target_bonus", "individual_score", "start_date",
               "end_date", "currency", "name"]  # fmt: skip
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    for row in body["employees"]:
        writer.writerow({c: row.get(c, "") for c in columns})
    as_read = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert any(r["individual_score"] == "" for r in as_read) or any(
        r["start_date"] == "" for r in as_read
    )
    typed = service.post("/v1/score", body, role="hr")
    sent = service.post("/v1/score", {**body, "employees": as_read}, role="hr")
    assert sent.status_code == 200, sent.text[:500]
    assert [e["payout"] for e in sent.json()["employees"]] == [
        e["payout"] for e in typed.json()["employees"]
    ]
