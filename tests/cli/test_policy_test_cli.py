"""``alignment-engine policy test``: the shipped policy tests pass; a changed curve fails them
with a diff (exit 1); a bad test file is exit 2 naming the file, line and key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "policies" / "tests"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _copy_company(tmp_path: Path) -> Path:
    """The policies and the example company side by side, as the shipped tests expect them."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "scenarios" / "acme", tmp_path / "scenarios" / "acme")
    return tmp_path / "policies" / "tests"


def test_the_shipped_policy_tests_pass_and_report_their_coverage() -> None:
    result = _run("policy", "test", str(TESTS))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "coverage of annual-bonus-2026: curve segments 9/9, gates fired 3/3" in result.output
    report = json.loads(_run("policy", "test", str(TESTS), "--format", "json").output)
    assert report["summary"]["failed"] == 0 and report["summary"]["cases"] >= 15
    annual = next(c for c in report["coverage"] if c["policy"] == "annual-bonus-2026")
    assert annual["gates"]["fired"] == ["profit-gate", "quality-gate", "service-floor"]
    assert annual["caps"] == {"employee": True, "kpi": False}


def test_changing_a_shipped_curve_fails_the_tests_with_a_diff(tmp_path: Path) -> None:
    tests = _copy_company(tmp_path)
    policy = tmp_path / "policies" / "annual-bonus-2026.yaml"
    text = policy.read_text(encoding="utf-8")
    steeper = text.replace("[1.10, 1.30], [1.20, 2.00]", "[1.10, 1.40], [1.20, 2.00]", 1)
    assert steeper != text
    policy.write_text(steeper, encoding="utf-8")
    result = _run("policy", "test", str(tests / "annual-bonus-2026.yaml"))
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "revenue above plan pays on the steeper" in result.output
    assert "kpi_factors.sales.revenue_north: expected 1.65, found 1.7" in result.output
    assert "-  sales.revenue_north: 1.65" in result.output  # the diff, expected -> found
    assert "+  sales.revenue_north: 1.7" in result.output


def test_a_payout_off_by_a_cent_fails(tmp_path: Path) -> None:
    tests = _copy_company(tmp_path)
    case = tests / "annual-bonus-2026.yaml"
    case.write_text(
        case.read_text(encoding="utf-8").replace("F1: 6172.84", "F1: 6172.83"), encoding="utf-8"
    )
    result = _run("policy", "test", str(case))
    assert result.exit_code == 1
    assert "payouts.F1: expected 6172.83, found 6172.84" in result.output


def test_a_bad_test_file_is_exit_2_naming_the_file_line_and_key(tmp_path: Path) -> None:
    tests = _copy_company(tmp_path)
    case = tests / "annual-bonus-2026.yaml"
    text = case.read_text(encoding="utf-8")
    case.write_text(
        text.replace("actuals: {sales.revenue_north: 82.8}", "actuals: {sales.revenue_nort: 82.8}"),
        encoding="utf-8",
    )
    result = _run("policy", "test", str(case))
    assert result.exit_code == 2, result.output
    assert f"{case}:" in result.output and "sales.revenue_nort" in result.output
    assert "sales.revenue_north" in result.output  # the suggestion

    case.write_text(text.replace("gates_fired: [profit-gate]", "gates_fired: [profit-gat]"))
    result = _run("policy", "test", str(case))
    assert result.exit_code == 2 and "no gate 'profit-gat'" in result.output

    case.write_text(
        text.replace("policy_file: ../annual-bonus-2026.yaml", "policy_file: nope.yaml")
    )
    result = _run("policy", "test", str(case))
    assert (
        result.exit_code == 2 and "no such file" in result.output and "policy_file" in result.output
    )

    case.write_text(text.replace("    expect:\n      payouts: {S1: 10500.00}", "    expect: {}"))
    result = _run("policy", "test", str(case))
    assert result.exit_code == 2 and "expect nothing" in result.output

    result = _run("policy", "test", str(tmp_path / "scenarios"))
    assert result.exit_code == 2 and "no policy tests" in result.output
