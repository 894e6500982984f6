"""``alignment-engine statements``: one page per employee and the payroll export, from a
stored score run, exactly what it paid."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("statements")
    employees = folder / "employees.csv"
    with (ACME / "employees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["name"] = "王小明 <b>Wang</b>"
    rows[1]["employee_id"] = "E/../x"
    with employees.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].keys()])
        writer.writeheader()
        writer.writerows(rows)
    adjustments = folder / "adjustments.csv"
    adjustments.write_text(
        f"employee_id,amount,reason,note\n{rows[0]['employee_id']},88.00,SPOT,Great quarter\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{folder / 'runs.db'}"
    made = CliRunner().invoke(
        main,
        [
            "score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY),
            "--actuals", str(ACME / "actuals-2026-q3.csv"), "--employees", str(employees),
            "--adjustments", str(adjustments), "--period", "2026-Q3", "--db", url,
            "--format", "json",
        ],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return str(folder), url, json.loads(made.stdout)


def test_statements_and_the_payroll_export(
    scored: tuple[str, str, dict[str, object]], tmp_path: Path
) -> None:
    _, url, document = scored
    run_id = str(document["run_id"])
    employees = document["employees"]
    assert isinstance(employees, list)
    first = employees[0]["employee_id"]
    out = tmp_path / "out"
    made = CliRunner().invoke(
        main,
        ["statements", run_id, "--out", str(out), "--employee", first, "--employee", "E/../x"],
        env={"ALIGNMENT_DB_URL": url},
    )
    assert made.exit_code == 0, made.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["payroll.csv", "statement-E_.._x.html", f"statement-{first}.html"])
    page = (out / f"statement-{first}.html").read_text(encoding="utf-8")
    assert "王小明 &lt;b&gt;Wang&lt;/b&gt;" in page and "<b>Wang" not in page
    payout = Decimal(str(employees[0]["payout"])).quantize(Decimal("0.01"))
    assert f"Payout {payout:,} CNY" in page  # grouped in thousands, exact to the cent
    assert "SPOT" in page and "Great quarter" in page and "88.00" in page
    assert "company.revenue" in page  # the KPI results behind it
    with (out / "payroll.csv").open(encoding="utf-8") as handle:
        payroll = list(csv.DictReader(handle))
    assert len(payroll) == len(employees)
    paid = {
        e["employee_id"]: Decimal(str(e["payout"])).quantize(Decimal("0.01")) for e in employees
    }
    assert {row["employee_id"]: Decimal(row["amount"]) for row in payroll} == paid
    totals = document["totals"]
    assert isinstance(totals, dict)
    assert sum(Decimal(row["amount"]) for row in payroll) == Decimal(totals["payout_text"])
    assert payroll[0]["name"] == "王小明 <b>Wang</b>"


def test_a_department_and_the_mistakes(
    scored: tuple[str, str, dict[str, object]], tmp_path: Path
) -> None:
    _, url, document = scored
    run_id = str(document["run_id"])
    env = {"ALIGNMENT_DB_URL": url}
    made = CliRunner().invoke(
        main, ["statements", run_id, "--out", str(tmp_path / "it"), "--department", "it"], env=env
    )
    assert made.exit_code == 0, made.output
    employees = document["employees"]
    assert isinstance(employees, list)
    expected = sum(1 for e in employees if e["department"] == "it")
    assert len(list((tmp_path / "it").glob("statement-*.html"))) == expected
    unknown = CliRunner().invoke(
        main, ["statements", run_id, "--out", str(tmp_path / "x"), "--employee", "E0001"], env=env
    )
    assert unknown.exit_code == 2 and "no employee 'E0001'" in unknown.output
    wrong = CliRunner().invoke(
        main, ["statements", run_id, "--out", str(tmp_path / "y"), "--department", "sale"], env=env
    )
    assert wrong.exit_code == 2 and "did you mean 'sales'?" in wrong.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_statements_of_a_run_without_payouts_or_an_unknown_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    made = CliRunner().invoke(
        main, ["check", str(ACME / "plan.yaml"), "--db", url, "--format", "json"]
    )
    assert made.exit_code == 0, made.output
    runs = CliRunner().invoke(main, ["runs", "list", "--db", url, "--format", "json"])
    check_id = json.loads(runs.stdout)["runs"][0]["id"]
    refused = CliRunner().invoke(
        main, ["statements", check_id, "--out", str(tmp_path / "a"), "--db", url]
    )
    assert refused.exit_code == 2 and "statements come from a score run" in refused.output
    unknown = CliRunner().invoke(
        main, ["statements", "ffff0000", "--out", str(tmp_path / "b"), "--db", url]
    )
    assert unknown.exit_code == 2 and "no run 'ffff0000'" in unknown.output
    assert "Traceback" not in refused.output + unknown.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_statements_in_chinese_say_the_same_payout_in_the_same_bytes_each_time(
    scored: tuple[str, str, dict[str, object]], tmp_path: Path
) -> None:
    from alignment_engine.i18n import untranslated

    _, url, document = scored
    run_id = str(document["run_id"])
    employees = document["employees"]
    assert isinstance(employees, list)
    first = employees[0]["employee_id"]
    missed_before = untranslated("zh-CN")
    pages = []
    for folder in ("zh-1", "zh-2", "en"):
        language = ["--lang", "en" if folder == "en" else "zh-CN"]
        made = CliRunner().invoke(
            main,
            [*language, "statements", run_id, "--out", str(tmp_path / folder), "--employee", first],
            env={"ALIGNMENT_DB_URL": url},
        )
        assert made.exit_code == 0, made.output
        pages.append((tmp_path / folder / f"statement-{first}.html").read_bytes())
    assert pages[0] == pages[1]  # a statement is a function of the run and the language
    chinese, english = pages[0].decode(), pages[2].decode()
    assert '<html lang="zh-CN">' in chinese and '<html lang="en">' in english
    payout = Decimal(str(employees[0]["payout"])).quantize(Decimal("0.01"))
    assert f"奖金 {payout:,} CNY" in chinese and f"Payout {payout:,} CNY" in english
    for words in ("激励结算单 2026-Q3", "从得分到奖金", "目标奖金", "调整", "公司业绩"):
        assert words in chinese
    for words in ("From scores to payout", "target bonus", "Adjustments", "Company results"):
        assert words not in chinese
    assert "王小明 &lt;b&gt;Wang&lt;/b&gt;" in chinese and "SPOT" in chinese  # what users wrote
    assert untranslated("zh-CN") == missed_before


def test_a_statement_in_chinese_spells_its_formula_in_chinese(
    scored: tuple[str, str, dict[str, object]], tmp_path: Path
) -> None:
    page = _first_statement(scored, tmp_path, "--lang", "zh-CN")
    assert " × 系数 " in page and "；舍入方式 half_up" in page and "(按天)" in page
    assert " x factor " not in page and "rounded" not in page and "(days)" not in page


def _first_statement(
    scored: tuple[str, str, dict[str, object]],
    tmp_path: Path,
    *language: str,
    employee: str | None = None,
) -> str:
    """The statement page of the run's first employee (or ``employee``), in ``language``."""
    _, url, document = scored
    employees = document["employees"]
    assert isinstance(employees, list)
    first = employee or employees[0]["employee_id"]
    out = tmp_path / "out"
    made = CliRunner().invoke(
        main,
        [*language, "statements", str(document["run_id"]), "--out", str(out),
         "--employee", first, "--db", url],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return (out / f"statement-{first}.html").read_text(encoding="utf-8")


def test_a_statement_names_the_employees_department_as_the_plan_does(
    scored: tuple[str, str, dict[str, object]], tmp_path: Path
) -> None:
    """ "部门 production" read like a code: the page says "Production 生产部"."""
    employees = scored[2]["employees"]
    assert isinstance(employees, list)
    producer = next(
        e for e in employees if e["department"] == "production" and "/" not in e["employee_id"]
    )
    page = _first_statement(scored, tmp_path, "--lang", "zh-CN", employee=producer["employee_id"])
    assert "部门 Production 生产部 ·" in page and "部门 production" not in page
