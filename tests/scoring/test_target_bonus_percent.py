"""A target bonus given as a percentage of salary (``salary``, ``target_bonus_percent``): paid as
salary x percent / 100, explained, and refused with a suggestion where it is ambiguous; a table
without the columns is read (and stored) exactly as before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scoring_builders import ON_TARGET, actuals_frame, make_plan, make_policy, score_period

from alignment_engine.errors import InputError
from alignment_engine.storage.canonical import canonical_table_bytes
from alignment_engine.tables import EMPLOYEES, read_table


def _read(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "employees.csv"
    path.write_text(text, encoding="utf-8")
    return read_table(path, EMPLOYEES)


def _score(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return score_period(make_plan(), make_policy(), actuals_frame(ON_TARGET), frame, "2026-Q3")


def test_a_percentage_of_salary_pays_like_the_amount_it_makes(tmp_path: Path) -> None:
    by_salary = _score(
        _read(
            tmp_path,
            "employee_id,department,target_bonus,salary,target_bonus_percent\n"
            "E1,sales,,80000,15\nE2,sales,9000,,\n",
        )
    )
    by_amount = _score(
        _read(tmp_path, "employee_id,department,target_bonus\nE1,sales,12000\nE2,sales,9000\n")
    )
    assert by_salary.employees.units.tolist() == by_amount.employees.units.tolist()
    explained = by_salary.explanation(0)
    assert explained is not None
    assert explained["target_bonus"] == 12000
    assert explained["target_bonus_basis"] == {"salary": 80000.0, "percent": 15.0}
    assert "target_bonus_basis" not in (by_salary.explanation(1) or {})


def test_salary_columns_alone_need_no_target_bonus_column(tmp_path: Path) -> None:
    frame = _read(
        tmp_path, "employee_id,department,salary,target_bonus_percent\nE1,sales,50000,10\n"
    )
    assert _score(frame).employees.target_bonus.tolist() == [5000.0]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("E1,sales,,80000,0.15", "0.15 reads as 0.15% of salary (write percentages as numbers "
         "of percent: 15 for 15%)"),
        ("E1,sales,1000,80000,15", "gives a target_bonus and a target_bonus_percent"),
        ("E1,sales,,,15", "column 'salary': empty"),
        ("E1,sales,,80000,", "column 'target_bonus_percent': empty"),
        ("E1,sales,,,", "column 'target_bonus': empty (or give salary and target_bonus_percent)"),
    ],
)  # fmt: skip
def test_an_ambiguous_or_incomplete_row_is_refused(tmp_path: Path, row: str, expected: str) -> None:
    frame = _read(
        tmp_path, f"employee_id,department,target_bonus,salary,target_bonus_percent\n{row}\n"
    )
    with pytest.raises(InputError) as caught:
        _score(frame)
    rendered = [p.render() for p in caught.value.problems]
    assert any(expected in text for text in rendered), rendered


def test_a_table_without_salary_columns_is_read_as_before(tmp_path: Path) -> None:
    frame = _read(tmp_path, "employee_id,department,target_bonus\nE1,sales,1000\n")
    assert "salary" not in frame.columns and "target_bonus_percent" not in frame.columns
    assert canonical_table_bytes(frame).startswith(
        b'"employee_id","department","target_bonus","individual_score","start_date"'
    )
