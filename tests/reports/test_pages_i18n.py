"""The pages' words HR reads beyond the headings, in Chinese under --lang zh-CN: the charts'
aria-labels and tooltips, the findings' kind, the scorecard's perspectives and statuses, the
payee statement's formula line, a matrix's cell and a decision table's rows; English as before."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from report_samples import acme_plan, sample_check, sample_optimise, sample_score

from alignment_engine import engine
from alignment_engine.cli import main
from alignment_engine.i18n import untranslated, using
from alignment_engine.reports.html import render_report
from alignment_engine.reports.phrases import matrix_position, summary_text, table_condition
from alignment_engine.tables import ACTUALS, read_table

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _attributes(page: str) -> list[str]:
    return re.findall(r'aria-label="([^"]*)"', page) + re.findall(r"<title>([^<]*)</title>", page)


def test_the_charts_labels_and_tooltips_read_in_chinese() -> None:
    plan = acme_plan()
    before = untranslated("zh-CN")
    with using("zh-CN"):
        page = render_report(
            plan=plan,
            check=sample_check(),
            score=sample_score(plan),
            optimise=sample_optimise(plan),
        )
    assert untranslated("zh-CN") - before == set()
    labels = _attributes(page)
    for phrase in (
        "冲突关系图",
        "战略地图",
        "按部门的 KPI 结果",
        "各部门奖金分布",
        "调整前后的资源配置",
    ):
        assert phrase in labels
    assert "C1 驱动 F1" in labels and "sales: 3 个问题" in labels
    assert any("名员工，合计" in t for t in labels) and any("当前 " in t for t in labels)
    assert "<td>冲突</td>" in page
    english = {"drives", "finding", "employees", "today", "proposed", "Conflict", "graph"}
    found = {w for text in labels for w in re.findall(r"[A-Za-z]+", text)} & english
    assert found == set()


def test_the_charts_labels_stay_english_by_default() -> None:
    plan = acme_plan()
    page = render_report(plan=plan, check=sample_check(), score=sample_score(plan))
    labels = _attributes(page)
    assert (
        "Conflict graph" in labels and "C1 drives F1" in labels and "sales: 3 finding(s)" in labels
    )
    assert "<td>conflict</td>" in page


def test_the_scorecard_page_names_perspectives_and_statuses_in_chinese() -> None:
    plan = acme_plan()
    actuals = read_table(ACME / "actuals-2026-q3.csv", ACTUALS)
    card = engine.scorecard(plan, actuals, "2026-Q3").to_dict()
    before = untranslated("zh-CN")
    with using("zh-CN"):
        page = render_report(plan=plan, scorecard=card, title="ACME: scorecard 2026-Q3")
    assert untranslated("zh-CN") - before == set()
    assert "<h1>ACME：2026-Q3 计分卡</h1>" in page
    assert "按维度与部门的得分" in _attributes(page)
    assert "<td>内部流程</td>" in page or "<td>财务</td>" in page
    assert "(amber)" not in page and "(no-data)" not in page and "Internal process" not in page
    english = render_report(plan=plan, scorecard=card, title="ACME: scorecard 2026-Q3")
    assert "<h1>ACME: scorecard 2026-Q3</h1>" in english and "<td>financial</td>" in english


def test_the_formula_matrix_and_table_words_read_in_chinese() -> None:
    summary = (
        "12000 x factor 0.744288 x proration 1 = 8931.460564; rounded half_up -> 8931.46 CNY; "
        "paid in USD at 0.138: 1232.54 USD; paid now 5348.89 (deferred 1782.96, released 10.00)"
    )
    matrix = "revenue 0.914 between 0.9 and 1, margin 0.9 at 0.8 (step)"
    with using("zh-CN"):
        assert summary_text(summary) == (
            "12000 × 系数 0.744288 × 折算比例 1 = 8931.460564；舍入方式 half_up -> 8931.46 CNY；"
            "以 USD 支付，汇率 0.138：1232.54 USD；本次发放 5348.89（递延 1782.96，释放 10.00）"
        )
        assert matrix_position(matrix) == (
            "revenue 0.914 介于 0.9 与 1 之间，margin 0.9 按 0.8 档（阶梯）"
        )
        assert table_condition("row 3 (collect sum)") == "第 3 行（collect sum）"
        assert table_condition("kpi:x attainment < 0.85") == "kpi:x attainment < 0.85"
    assert summary_text(summary) == summary and matrix_position(matrix) == matrix


def test_a_matrix_policy_is_explained_in_chinese(tmp_path: Path) -> None:
    before = untranslated("zh-CN")
    result = CliRunner().invoke(
        main,
        [
            "--lang", "zh-CN", "score", "--plan", str(ACME / "plan.yaml"),
            "--policy", str(ROOT / "policies" / "matrix-bonus-2026.yaml"),
            "--actuals", str(ACME / "actuals-2026-q3.csv"),
            "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
            "--db", f"sqlite:///{tmp_path / 'runs.db'}", "--explain", "E00017",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert untranslated("zh-CN") - before == set()
    out = result.output
    assert (
        "矩阵 'revenue_x_margin'，revenue 0.914 介于 0.9 与 1 之间，margin 0.9 按 0.8 档（阶梯）"
        in out
    )
    assert "决策表 customer-and-safety：第 3 行（collect sum），读取" in out
    assert "（各共同目标支付系数的平均值）" in out and "折算 按天" in out
    assert " between " not in out and "row 3" not in out


def test_the_heat_maps_tooltips_show_means_to_six_significant_digits() -> None:
    plan = acme_plan()
    page = render_report(plan=plan, score=sample_score(plan))
    tooltips = re.findall(r"<title>([^<]*actual [^<]*)</title>", page)
    assert tooltips, "no tooltip names an actual"
    assert [t for t in tooltips if re.search(r"\d\.\d{7,}", t)] == []


def test_the_scorecard_tables_name_objectives_kpis_and_departments() -> None:
    """HR reads "Grow profitable revenue 营收增长", not F1; an id stays where the plan has no
    name."""
    plan = acme_plan()
    actuals = read_table(ACME / "actuals-2026-q3.csv", ACTUALS)
    card = engine.scorecard(plan, actuals, "2026-Q3").to_dict()
    with using("zh-CN"):
        page = render_report(plan=plan, scorecard=card, title="ACME: scorecard 2026-Q3")
    assert "<td>Grow profitable revenue 营收增长</td>" in page and "<td>F1</td>" not in page
    assert "<td>Sales 销售部</td>" in page and "<td>sales</td>" not in page
    assert "<td>公司</td>" in page and "<td>Company revenue 公司营收</td>" in page
    assert "<td>company.revenue</td>" not in page
    assert "Revenue North 华北区营收, Revenue South 华南区营收" in page
    unnamed = plan.model_copy(
        update={"objectives": [o.model_copy(update={"name": ""}) for o in plan.objectives]}
    )
    assert "<td>F1</td>" in render_report(plan=unnamed, scorecard=card, title="t")
