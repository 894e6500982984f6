"""``score --explain`` in the command's language: every word of the explanation translated,
the numbers, ids and policy keys as they are; English unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.i18n import untranslated

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _explain(tmp_path: Path, *language: str) -> str:
    # fmt: off
    result = CliRunner().invoke(
        main,
        [*language, "score", "--plan", str(ACME / "plan.yaml"),
         "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
         "--actuals", str(ACME / "actuals-2026-q3.csv"),
         "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
         "--db", f"sqlite:///{tmp_path / 'runs.db'}", "--explain", "E00002"],
    )
    # fmt: on
    assert result.exit_code == 0, result.output
    return result.output


def test_an_explanation_in_chinese_has_no_english_words_left(tmp_path: Path) -> None:
    before = untranslated("zh-CN")
    text = _explain(tmp_path, "--lang", "zh-CN")
    assert untranslated("zh-CN") - before == set()
    assert "员工 E00002（production）" in text
    assert "（2026-Q3 的 3 个月的平均值）" in text and "介于门槛值与目标值之间" in text
    assert "门槛 quality-gate 已触发" in text and "（各自舍入）" in text
    assert (
        "9,500 × 系数 0.750721 × 折算比例 1 = 7,131.847037；舍入方式 half_up -> 7,131.85 CNY"
        in text
    )
    assert "奖金 7,131.85 CNY" in text
    # What is left in Latin letters is ids, policy keys and curve point names.
    words = set(re.findall(r"\b[a-z]{3,}\b", text)) - {"attainment"}
    for word in ("actual", "target", "factor", "weight", "score", "between", "months", "payout"):
        assert word not in words, word


def test_an_explanation_in_english_reads_as_before(tmp_path: Path) -> None:
    text = _explain(tmp_path)
    assert text.splitlines()[:2] == [
        "Employee E00002 (production)",
        "  company: score 0.7085 x weight 0.200",
    ]
    assert (
        "    production.unit_cost: actual 4.18 vs target 4.2 (mean of the 3 months of 2026-Q3); "
        "curve 'default' between target and maximum -> factor 1.1333 x weight 0.250"
    ) in text
    assert (
        "  gate quality-gate fired: kpi:quality.defect_rate attainment < 0.85 (observed 0.8108) "
        "-> multiply 0.8 on department:production"
    ) in text
    assert (
        "  9,500 x factor 0.750721 x proration 1 = 7,131.847037; rounded half_up -> 7,131.85 CNY"
        in text
    )
    # A mean of three months to six significant digits (0.956826666667 before); the stored
    # explanation keeps every digit.
    assert "shared.knowledge_sharing: actual 0.956827 vs target 1.2 (mean of the 3" in text
    assert "  payout 7,131.85 CNY" in text


def test_the_points_of_an_attainment_curve_are_named_in_chinese(tmp_path: Path) -> None:
    # E00017 (sales) is paid on the 'revenue' curve, whose points are attainments.
    # fmt: off
    arguments = [
        "score", "--plan", str(ACME / "plan.yaml"),
        "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
        "--actuals", str(ACME / "actuals-2026-q3.csv"),
        "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}", "--explain", "E00017",
    ]
    # fmt: on
    english = CliRunner().invoke(main, arguments)
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", *arguments])
    assert english.exit_code == chinese.exit_code == 0, chinese.output
    assert "curve 'revenue' between attainment 0.9 and attainment 1 -> factor" in english.output
    assert "curve 'revenue' short of attainment 0.9 -> factor 0.0000" in english.output
    assert "曲线 'revenue'，介于 达成率 0.9 与 达成率 1 之间 -> 系数" in chinese.output
    assert "曲线 'revenue'，未达 达成率 0.9 -> 系数 0.0000" in chinese.output
    assert "介于门槛值与目标值之间" in chinese.output  # the levels' names, as before
    assert "attainment 0" not in chinese.output and "attainment 1" not in chinese.output


def test_a_statement_names_the_curve_points_in_chinese(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'runs.db'}"
    # fmt: off
    scored = CliRunner().invoke(main, [
        "score", "--plan", str(ACME / "plan.yaml"),
        "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
        "--actuals", str(ACME / "actuals-2026-q3.csv"),
        "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
        "--db", database, "--format", "json",
    ])
    # fmt: on
    assert scored.exit_code == 0, scored.output
    run_id = json.loads(scored.stdout)["run_id"]
    out = tmp_path / "statements"
    statements = ["--lang", "zh-CN", "statements", run_id, "--out", str(out)]
    made = CliRunner().invoke(main, [*statements, "--employee", "E00017", "--db", database])
    assert made.exit_code == 0, made.output
    page = (out / "statement-E00017.html").read_text(encoding="utf-8")
    assert "revenue: 介于 达成率 0.9 与 达成率 1 之间" in page
    assert "revenue: 未达 达成率 0.9" in page
    assert "attainment 0.9" not in page
