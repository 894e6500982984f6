"""Messages a new user reads: each names the key once, and says what will happen."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main

ACME = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
POLICY = ACME.parent.parent / "policies" / "annual-bonus-2026.yaml"


def test_a_bad_period_is_named_once_without_a_placeholder_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--plan",
            str(ACME / "plan.yaml"),
            "--policy",
            str(POLICY),
            "--actuals",
            str(ACME / "actuals-2026-q3.csv"),
            "--period",
            "2026Q3",
            "--db",
            f"sqlite:///{tmp_path / 'runs.db'}",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: period: '2026Q3' is not a period (use 2026, 2026-Q3 or 2026-07)"
    )


def test_db_status_on_a_new_sqlite_file_says_it_upgrades_itself(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "status", "--db", f"sqlite:///{tmp_path / 'new.db'}"])
    assert result.exit_code == 0, result.output
    assert "upgraded automatically on first use" in result.stdout
    assert "needs `alignment-engine db upgrade`" not in result.stdout
