"""Employee columns carried to the outputs (name, cost centre, grade, x_...): through `score
--out` and `statements`, and never added to a table that does not have them."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.errors import InputError
from alignment_engine.tables import EMPLOYEES, read_table

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def _employees(folder: Path, extra: dict[str, str]) -> Path:
    with (ACME / "employees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    path = folder / "employees.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0], *extra])
        writer.writeheader()
        writer.writerows({**row, **extra} for row in rows)
    return path


def test_a_table_without_them_is_read_as_before() -> None:
    table = read_table(ACME / "employees.csv", EMPLOYEES)
    assert list(table.columns) == [
        c for c in EMPLOYEES.columns if c not in EMPLOYEES.only_when_given
    ]


def test_carried_columns_reach_the_employees_table_and_the_payroll_export(tmp_path: Path) -> None:
    extra = {"name": "王小明", "cost_centre": "CC-42", "grade": "G3", "x_region": "华东"}
    employees = _employees(tmp_path, extra)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "out"
    args = ["score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY)]
    args += ["--actuals", str(ACME / "actuals-2026-q3.csv"), "--employees", str(employees)]
    made = CliRunner().invoke(main, [*args, "--period", "2026-Q3", "--db", url, "--out", str(out)])
    assert made.exit_code == 0, made.output
    with (out / "employees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:6] == ["employee_id", "department", *extra]
    assert {k: rows[0][k] for k in extra} == extra
    runs = CliRunner().invoke(
        main, ["runs", "list", "--kind", "score", "--db", url, "--format", "json"]
    )
    run_id = runs.output.split('"id": "')[1].split('"')[0]
    statements = tmp_path / "statements"
    written = CliRunner().invoke(
        main, ["statements", run_id, "--out", str(statements), "--employee", "E00001", "--db", url]
    )
    assert written.exit_code == 0, written.output
    with (statements / "payroll.csv").open(encoding="utf-8") as handle:
        payroll = list(csv.DictReader(handle))
    assert {k: payroll[0][k] for k in extra} == extra


def test_a_misspelt_carried_column_is_named(tmp_path: Path) -> None:
    employees = _employees(tmp_path, {"cost_center": "CC-1"})
    try:
        read_table(employees, EMPLOYEES)
    except InputError as error:
        assert "unknown column 'cost_center'" in str(error)
        assert "did you mean 'cost_centre'?" in str(error)
    else:  # pragma: no cover - the test fails here
        raise AssertionError("a misspelt column was accepted")
