"""Tables from CSV, Parquet and XLSX, with errors that name the row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from alignment_engine.errors import InputError
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table, table_from_records

ACTUALS_CSV = (
    "period,scope,kpi,actual\n2026-Q3,sales,sales.revenue,310.5\n2026-07,sales,sales.share,0.24\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_actuals_from_csv(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path, "a.csv", ACTUALS_CSV), ACTUALS)
    assert list(frame["actual"]) == [310.5, 0.24]
    assert frame.attrs["row_offset"] == 2
    assert list(frame.columns) == ["period", "scope", "kpi", "actual", "measure", "value"]


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_same_table_from_parquet_and_xlsx(tmp_path: Path, suffix: str) -> None:
    source = pd.read_csv(write(tmp_path, "a.csv", ACTUALS_CSV))
    path = tmp_path / f"a{suffix}"
    if suffix == ".parquet":
        source.to_parquet(path)
    else:
        source.to_excel(path, index=False)
    frame = read_table(path, ACTUALS)
    assert list(frame["kpi"]) == ["sales.revenue", "sales.share"]
    assert list(frame["actual"]) == [310.5, 0.24]


def test_bad_number_names_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", ACTUALS_CSV + "2026-Q3,sales,sales.x,abc\n")
    with pytest.raises(InputError) as caught:
        read_table(path, ACTUALS)
    assert str(caught.value) == f"{path}:row 4: column 'actual': not a number 'abc'"


def test_bad_period(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "period,scope,kpi,actual\n2026-Q5,sales,k,1\n")
    with pytest.raises(InputError, match=r"row 2: column 'period': not a period"):
        read_table(path, ACTUALS)


def test_unknown_column_gets_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "period,scope,kpi,actaul\n2026,sales,k,1\n")
    with pytest.raises(InputError) as caught:
        read_table(path, ACTUALS)
    assert caught.value.problems[0].suggestion == "did you mean 'actual'?"


def test_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "employee_id,department\nE1,sales\n")
    with pytest.raises(
        InputError, match=r"need the columns target_bonus or salary\+target_bonus_percent"
    ):
        read_table(path, EMPLOYEES)


def test_employees_defaults_and_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "employee_id,department,target_bonus,start_date\nE1,sales,1000,\nE2,销售,2000,2026-08-01\n",
    )
    frame = read_table(path, EMPLOYEES)
    assert list(frame["individual_score"]) == [1.0, 1.0]
    assert frame["start_date"].isna().tolist() == [True, False]
    assert frame["department"].tolist() == ["sales", "销售"]


def test_bad_date(tmp_path: Path) -> None:
    path = write(
        tmp_path, "e.csv", "employee_id,department,target_bonus,end_date\nE1,s,1,31/12/2026\n"
    )
    with pytest.raises(InputError, match=r"row 2: column 'end_date': not a date"):
        read_table(path, EMPLOYEES)


def test_empty_required_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", "employee_id,department,target_bonus\nE1,,1\n")
    with pytest.raises(InputError, match=r"row 2: column 'department': is empty"):
        read_table(path, EMPLOYEES)


def test_non_utf8_csv(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("period,scope,kpi,actual\n2026,café,k,1\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_table(path, ACTUALS)


@pytest.mark.parametrize(
    ("text", "message"), [("", "file is empty"), ("period,scope,kpi,actual\n", "has no rows")]
)
def test_empty_tables(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_table(write(tmp_path, "a.csv", text), ACTUALS)


def test_unsupported_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported table format"):
        read_table(write(tmp_path, "a.json", "{}"), ACTUALS)


def test_base_measures_instead_of_kpis(tmp_path: Path) -> None:
    path = write(
        tmp_path, "m.csv", "period,scope,measure,value\n2026-Q3,finance,gross_profit,12.5\n"
    )
    frame = read_table(path, ACTUALS)
    assert frame["measure"].tolist() == ["gross_profit"]
    assert frame["kpi"].tolist() == [""]


def test_records_from_http(tmp_path: Path) -> None:
    frame = table_from_records(
        [{"period": "2026-Q3", "scope": "sales", "kpi": "k", "actual": 1.5}], ACTUALS, "actuals"
    )
    assert frame["actual"].tolist() == [1.5]
    with pytest.raises(InputError, match="actuals:row 1: column 'actual': not a number"):
        table_from_records(
            [{"period": "2026-Q3", "scope": "s", "kpi": "k", "actual": "x"}], ACTUALS, "actuals"
        )


@pytest.mark.parametrize(
    ("cell", "expected"), [('"1,250,000.5"', 1250000.5), ('"-1,000"', -1000.0), ("1250", 1250.0)]
)
def test_thousands_separators_are_read(tmp_path: Path, cell: str, expected: float) -> None:
    path = write(tmp_path, "a.csv", f"period,scope,kpi,actual\n2026,sales,k,{cell}\n")
    assert read_table(path, ACTUALS)["actual"].tolist() == [expected]


@pytest.mark.parametrize("cell", ['"1,5"', '"1,05"', '"12,34,567"'])
def test_a_decimal_comma_is_not_a_number(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path, "a.csv", f"period,scope,kpi,actual\n2026,sales,k,{cell}\n")
    with pytest.raises(InputError, match=r"row 2: column 'actual': not a number"):
        read_table(path, ACTUALS)


def test_a_bad_number_is_quoted_as_written_not_as_a_numpy_repr(tmp_path: Path) -> None:
    path = tmp_path / "employees.parquet"  # typed cells: the number itself is a numpy float
    frame = pd.DataFrame({"employee_id": ["E1"], "department": ["sales"]})
    frame["target_bonus"] = float("inf")
    frame.to_parquet(path)
    with pytest.raises(InputError) as caught:
        read_table(path, EMPLOYEES)
    assert "np.float64" not in caught.value.message
    assert "row 1: column 'target_bonus': not a number 'inf'" in caught.value.message


def test_a_nul_character_in_an_id_is_named_with_its_row(tmp_path: Path) -> None:
    """PostgreSQL cannot store a NUL; it is refused at reading, on any database, with the
    row, not later as "the database is not available"."""
    path = tmp_path / "employees.csv"
    path.write_bytes(b"employee_id,department,target_bonus\nE1,sales,100\nE\x002,sales,100\n")
    with pytest.raises(InputError) as caught:
        read_table(path, EMPLOYEES)
    assert "row 3: column 'employee_id': contains a NUL character" in caught.value.message


def test_a_control_character_in_a_document_id_is_not_an_id() -> None:
    from alignment_engine.loading import document_from_text

    with pytest.raises(InputError) as caught:
        document_from_text('kind: plan\nid: "a\\0b"\n', "plan.yaml")
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.key) == ("plan.yaml", 2, "id")
    assert "is not an id" in problem.message and "control characters" in str(problem.suggestion)


def test_a_row_with_an_extra_field_is_named_by_its_line_with_what_to_do(tmp_path: Path) -> None:
    """An unquoted decimal comma (10,5) splits a cell in two: the row is named, not a column,
    and the message says how to write it (it was pandas' "Error tokenizing data")."""
    path = tmp_path / "employees.csv"
    path.write_text(
        "employee_id,department,target_bonus\nE1,sales,100\nE2,sales,10,5\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        read_table(path, EMPLOYEES)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(path), 3)
    assert "row 3 has 4 fields where the header names 3 columns" in problem.message
    assert '"10,5"' in str(problem.suggestion)
    assert "tokenizing" not in caught.value.message


def test_a_semicolon_separated_file_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "actuals.csv", "period;scope;kpi;actual\n2026-Q3;sales;sales.x;10,5\n")
    with pytest.raises(InputError) as caught:
        read_table(path, ACTUALS)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(path), 1)
    assert "separated by ';'" in problem.message
    assert "comma delimited" in str(problem.suggestion)
    assert "missing column" not in caught.value.message


def test_a_quoted_decimal_comma_gets_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "actuals.csv", 'period,scope,kpi,actual\n2026-Q3,sales,sales.x,"10,5"\n')
    with pytest.raises(InputError) as caught:
        read_table(path, ACTUALS)
    assert caught.value.message == (
        f"{path}:row 2: column 'actual': not a number '10,5' "
        "(looks like a decimal comma: write 10.5)"
    )
