"""Messages a new user reads: each names the key once, and says what will happen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from alignment_engine.cli import main

ACME = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
POLICY = ACME.parent.parent / "policies" / "annual-bonus-2026.yaml"


def score_acme(tmp_path: Path, *extra: str, period: str = "2026-Q3") -> Any:
    """``score`` of the example company for ``period``, its run stored in a new database."""
    documents = ["--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY)]
    tables = ["--actuals", str(ACME / "actuals-2026-q3.csv")]
    database = ["--db", f"sqlite:///{tmp_path / 'runs.db'}"]
    return CliRunner().invoke(
        main, ["score", *documents, *tables, "--period", period, *database, *extra]
    )


def test_a_bad_period_is_named_once_without_a_placeholder_file(tmp_path: Path) -> None:
    result = score_acme(tmp_path, period="2026Q3")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: period: '2026Q3' is not a period (use 2026, 2026-Q3 or 2026-07)"
    )


def test_db_status_on_a_new_sqlite_file_says_it_upgrades_itself(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "status", "--db", f"sqlite:///{tmp_path / 'new.db'}"])
    assert result.exit_code == 0, result.output
    assert "upgraded automatically on first use" in result.stdout
    assert "needs `alignment-engine db upgrade`" not in result.stdout


def test_summary_counts_a_pools_demand_as_check_does(tmp_path: Path) -> None:
    # engineering_hours: departments without a stated demand want their allocation.
    plan = str(ACME / "plan.yaml")
    summary = CliRunner().invoke(main, ["summary", plan])
    assert summary.exit_code == 0, summary.output
    row = next(line for line in summary.stdout.splitlines() if "engineering_hours" in line)
    check = CliRunner().invoke(
        main, ["check", plan, "--format", "json", "--db", f"sqlite:///{tmp_path / 'runs.db'}"]
    )
    message = next(
        f["message"]
        for f in json.loads(check.stdout)["findings"]
        if f["rule"] == "resource-oversubscription" and "engineering_hours" in f["message"]
    )
    total = message.split(" total ")[1].split(" ")[0]
    assert total == "362,000" and total in row
    assert "one without a stated demand wants its allocation" in summary.stdout


def test_an_explanation_reads_as_sentences(tmp_path: Path) -> None:
    employees = ["--employees", str(ACME / "employees.csv")]
    result = score_acme(tmp_path, *employees, "--explain", "E00042")
    assert result.exit_code == 0, result.output
    assert (
        "gate quality-gate fired: kpi:quality.defect_rate attainment < 0.85 (observed 0.8108) "
        "-> multiply 0.8 on department:production"
    ) in result.stdout
    assert "employee cap 2.0 not reached -> factor 0.757921" in result.stdout
    assert '{"gate"' not in result.stdout
