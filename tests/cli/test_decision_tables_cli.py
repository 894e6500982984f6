"""Decision tables through the CLI: the shipped matrix policy validates, pays and explains where
each KPI fell on its matrix and which table rows matched; its policy tests fail when the matrix
changes; a table with overlapping rows is exit 2 at the file and line of both rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "matrix-bonus-2026.yaml"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_the_matrix_policy_pays_and_explains_the_matrix_and_the_tables(tmp_path: Path) -> None:
    result = _run(
        "score",
        "--plan", str(ACME / "plan.yaml"),
        "--policy", str(POLICY),
        "--actuals", str(ACME / "actuals-2026-q3.csv"),
        "--employees", str(ACME / "employees.csv"),
        "--period", "2026-Q3",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}",
        "--out", str(tmp_path / "out"),
        "--explain", "E00002",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # revenue 228.5 / 250 = 0.914 and margin 0.0765 / 0.085 = 0.9 (the 0.80 column):
    # 0.3 + 0.14 x (0.6 - 0.3) = 0.342
    assert (
        "company.revenue: actual 228.5 vs target 250 (reported for 2026-Q3); matrix "
        "'revenue_x_margin' at revenue 0.914 between 0.9 and 1, margin 0.9 at 0.8 (step) -> "
        "factor 0.3420" in result.output
    )
    assert (
        "table customer-and-safety: row 3 (collect sum) reading nps 0.9503, injuries 0.9, "
        "company 0.3986 -> add -0.1 on all" in result.output
    )
    score = json.loads((tmp_path / "out" / "score.json").read_text(encoding="utf-8"))
    [table] = [g for g in score["gates"] if g["gate"] == "customer-and-safety"]
    assert table["table"]["rows"] == [3] and table["effect"] == "add"
    replay = _run("runs", "list", "--kind", "score", "--format", "json", "--db",
                  f"sqlite:///{tmp_path / 'runs.db'}")  # fmt: skip
    run_id = json.loads(replay.output)["runs"][0]["id"]
    again = _run("runs", "replay", run_id, "--db", f"sqlite:///{tmp_path / 'runs.db'}")
    assert again.exit_code == 0, again.output
    assert "identical" in again.output


def test_changing_the_shipped_matrix_fails_its_policy_tests(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ACME, tmp_path / "scenarios" / "acme")
    policy = tmp_path / "policies" / "matrix-bonus-2026.yaml"
    text = policy.read_text(encoding="utf-8")
    changed = text.replace("- [0.80, 1.30, 1.60]", "- [0.80, 1.20, 1.60]", 1)
    assert changed != text
    policy.write_text(changed, encoding="utf-8")
    result = _run("policy", "test", str(tmp_path / "policies" / "tests" / "matrix-bonus-2026.yaml"))
    assert result.exit_code == 1, result.output
    assert "kpi_factors.company.revenue: expected 1.15, found 1.1" in result.output


def test_overlapping_rows_are_exit_2_at_the_file_and_line_of_both(tmp_path: Path) -> None:
    text = POLICY.read_text(encoding="utf-8")
    lines = text.splitlines()
    second = next(i for i, line in enumerate(lines) if '"[0.95..1.0)"' in line) + 1
    broken = text.replace('"[0.95..1.0)"', '"[0.95..1.0]"', 1)
    path = tmp_path / "policy.yaml"
    path.write_text(broken, encoding="utf-8")
    result = _run("validate", str(path))
    assert result.exit_code == 2, result.output
    assert (
        f"policy.yaml:{second + 1}:9: tables[sales-retention-ceiling].rules[2]: rows 2 and 3 of "
        f"a 'unique' table overlap: both match retention attainment = 1; row 2 is at line "
        f"{second}" in result.output
    )
