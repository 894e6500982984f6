"""The commands' human lines in the command's language (``--lang zh-CN``): scenario run and
compare, optimise (its notes, bounds, frontier and bonus tables), fit, summary, check, policy
test and rules list read in Chinese, ids, numbers and what users wrote as they are; every
message asked for is in the catalogue; English reads as before."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.i18n import untranslated

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
PLAN = str(ACME / "plan.yaml")
POLICY = str(ROOT / "policies" / "annual-bonus-2026.yaml")
HISTORY = ["--history", str(ACME / "history-kpis.csv"), "--history",
           str(ACME / "history-allocations.csv")]  # fmt: skip


def _run(tmp_path: Path, arguments: list[str], *language: str, db: bool = True) -> str:
    stored = ["--db", f"sqlite:///{tmp_path / 'runs.db'}"] if db else []
    result = CliRunner().invoke(main, [*language, *arguments, *stored], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


def _chinese(tmp_path: Path, arguments: list[str], db: bool = True) -> str:
    before = untranslated("zh-CN")
    text = _run(tmp_path, arguments, "--lang", "zh-CN", db=db)
    assert untranslated("zh-CN") - before == set()
    return text


def test_a_scenario_run_reads_in_chinese_with_its_findings_resolved(tmp_path: Path) -> None:
    text = _chinese(tmp_path, ["scenario", "run", str(ACME / "fix-margin-conflict.yaml")])
    assert "情景 fix-margin-conflict（" in text
    assert "  设置 departments[marketing].kpis[marketing.promo_intensity].target = 0.12" in text
    for header in ("变体", "问题数", "新增", "已解决", "奖金", "优化器"):
        assert header in text, header
    assert "最优 0.9884" in text and "新增问题：无" in text and "已解决问题" in text
    # The resolved finding in the words of its rule's translation, the ids as they are.
    assert "marketing 提高 promo_intensity" in text and "works against" not in text
    assert "资源配置" in text and "当前 A -> B" in text and "建议变化" in text
    assert "问题数 5 -> 4" in text


def test_a_sweep_reads_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = _chinese(
        tmp_path, ["scenario", "run", str(ACME / "discount-push.yaml"), "--out", str(out)]
    )
    assert (
        "参数扫描 departments[marketing].kpis[marketing.promo_intensity].target，取值 [0.18, 0.22, 0.26]"
        in text
    )
    assert "93.2% 琥珀" in text and "计分卡" in text
    assert f"已写入 {out / 'scenario.json'}, " in text and f" 和 {out / 'variant-3.html'}" in text


def test_a_scenario_in_english_reads_as_before(tmp_path: Path) -> None:
    text = _run(tmp_path, ["scenario", "run", str(ACME / "fix-margin-conflict.yaml")])
    assert text.startswith("Scenario fix-margin-conflict (")
    assert (
        "  set departments[marketing].kpis[marketing.promo_intensity].direction = 'maintain'"
        in text
    )
    assert "optimal 0.9884" in text and "Findings added: none" in text
    assert "(marketing.promo_intensity works against finance.gross_margin)" in text
    assert "today A -> B" in text and text.rstrip().endswith("findings 5 -> 4")


def test_a_comparison_reads_in_chinese(tmp_path: Path) -> None:
    compare = ["scenario", "compare", PLAN, str(ACME / "fix-margin-conflict.yaml")]
    text = _chinese(tmp_path, compare)
    assert text.startswith("acme-2026 -> fix-margin-conflict\n新增问题：无\n已解决问题")
    assert "已存储为运行 " in text and "严重程度" in text and "说明" in text
    english = _run(tmp_path, compare)
    assert english.startswith("acme-2026 -> fix-margin-conflict\nFindings added: none\n")
    assert "stored as run " in english


def test_the_optimisers_notes_and_bounds_read_in_chinese(tmp_path: Path) -> None:
    text = _chinese(tmp_path, ["optimise", PLAN])
    assert (
        "注：没有响应曲线通过 'budget' 把 rnd, quality, finance, it 与任何 KPI 关联起来，"
        "因此其数量保持当前水平"
    ) in text
    assert "注：按整单位分配的资源" in text and "note:" not in text
    assert "处于上限" in text and "未受限" in text and "at_max" not in text
    english = _run(tmp_path, ["optimise", PLAN])
    assert (
        "note: no response curve links rnd, quality, finance, it to a KPI through 'budget', so "
        "their amounts are held at today's level"
    ) in english
    assert "at_max" in english and "free" in english


def test_a_refused_optimum_is_noted_in_chinese_with_its_reason() -> None:
    from alignment_engine.cli.optimise import note_words
    from alignment_engine.i18n import using

    note = (
        "the optimum is refused (sales would lose 7.5% of its bonus, more than "
        "--max-payout-loss 5.0%); this allocation goes 40% of the way there from today's, as "
        "far as the bound allows"
    )
    with using("zh-CN"):
        assert note_words(note) == (
            "最优方案被拒绝（sales 将损失其奖金的 7.5%，超过 --max-payout-loss 5.0%）；"
            "此配置从当前配置向最优方案前进了 40%，即约束所允许的最大程度"
        )
    assert note_words(note) == note


def test_the_budget_frontier_reads_in_chinese(tmp_path: Path) -> None:
    arguments = ["optimise", PLAN, "--frontier", "engineering_hours"]
    text = _chinese(tmp_path, arguments)
    assert text.startswith("engineering_hours 的预算前沿：当前合计 295,000.00，")
    assert "前沿" in text and "最优目标函数值" in text and "│ 最优" in text
    english = _run(tmp_path, arguments)
    assert english.startswith(
        "Budget frontier of engineering_hours: today's total 295,000.00 gives 0.972171 as "
        "allocated today (capacity 300,000.00)"
    )
    assert "best objective" in english and "optimal" in english


def test_the_bonus_table_of_a_reallocation_reads_in_chinese(tmp_path: Path) -> None:
    arguments = ["optimise", PLAN, "--policy", POLICY, "--period", "2026"]
    text = _chinese(tmp_path, arguments)
    assert "annual-bonus-2026 下的奖金（2026，奖金系数）" in text
    english = _run(tmp_path, arguments)
    assert "Bonus under annual-bonus-2026 (2026, payout factor)" in english


def test_fitted_curves_read_in_chinese(tmp_path: Path) -> None:
    text = _chinese(tmp_path, ["fit", PLAN, *HISTORY], db=False)
    assert "拟合的响应曲线" in text and "当前边际（90% 区间）" in text and "饱和" in text
    english = _run(tmp_path, ["fit", PLAN, *HISTORY], db=False)
    assert "Fitted response curves" in english and "saturating" in english


def test_the_summarys_counts_read_in_chinese(tmp_path: Path) -> None:
    text = _chinese(tmp_path, ["summary", PLAN], db=False)
    assert (
        "52 个指标，30 条影响关系，3 个公司 KPI，44 个部门 KPI，4 个共同目标，12 条响应曲线" in text
    )
    english = _run(tmp_path, ["summary", PLAN], db=False)
    assert (
        "52 metrics, 30 influences, 3 company KPIs, 44 department KPIs, 4 shared goals, "
        "12 response curves"
    ) in english


def test_policy_coverage_reads_in_chinese_and_test_names_stay(tmp_path: Path) -> None:
    from alignment_engine.policytests import run_policy_tests

    folder = str(ROOT / "policies" / "tests")
    text = _chinese(tmp_path, ["policy", "test", folder], db=False)
    assert (
        "annual-bonus-2026 的覆盖情况：曲线区段 9/9，已触发门槛 3/3，已达上限 1/2（employee）"
    ) in text
    assert "已匹配的决策表行 5/6" in text
    assert "every KPI on target pays the target bonus" in text  # the user's test name
    english = _run(tmp_path, ["policy", "test", folder], db=False)
    for coverage in run_policy_tests(folder).coverage:
        assert coverage.line() + "\n" in english


def test_rules_list_shows_the_rules_descriptions_in_chinese(tmp_path: Path) -> None:
    text = _chinese(tmp_path, ["rules", "list"], db=False)
    assert "某个 KPI 没有目标值。" in text
    missing = next(line for line in text.splitlines() if line.startswith("missing-target "))
    assert "对齐" in missing and "严重" in missing
    assert "A KPI has no target." not in text
    english = _run(tmp_path, ["rules", "list"], db=False)
    assert (
        f"{'missing-target':<28} {'alignment':<12} {'alignment':<10} {'critical':<9} "
        "A KPI has no target."
    ) in english


def test_a_check_with_many_findings_counts_them_in_chinese(tmp_path: Path) -> None:
    import yaml

    from alignment_engine.cli import check as check_cli

    data = yaml.safe_load(Path(PLAN).read_text(encoding="utf-8"))
    for department in data["departments"]:
        for kpi in department["kpis"]:
            kpi.pop("objectives", None)  # every KPI unlinked: more findings than the table shows
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert check_cli.TABLE_FINDINGS == 25
    text = _chinese(tmp_path, ["check", str(plan)])
    assert "按规则统计的" in text and "问题数" in text and "对齐" in text
    assert "│ conflict" not in text and "│ alignment" not in text


def test_a_scenarios_report_pages_show_its_findings_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "out"
    arguments = ["scenario", "run", str(ACME / "fix-margin-conflict.yaml"), "--out", str(out)]
    _chinese(tmp_path, arguments)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>情景 fix-margin-conflict：" in page
    assert "works against" not in page and "serves no objective" not in page
    assert "相互抵触" in page
    _run(tmp_path, [*arguments[:3], "--out", str(tmp_path / "en")])
    english = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert "works against" in english and "<title>Scenario fix-margin-conflict: " in english
    scenario = (out / "scenario.json").read_text(encoding="utf-8")
    assert scenario == (tmp_path / "en" / "scenario.json").read_text(encoding="utf-8")


def test_the_frontier_chart_is_labelled_in_chinese(tmp_path: Path) -> None:
    import re

    chinese, english = tmp_path / "zh.svg", tmp_path / "en.svg"
    arguments = ["optimise", PLAN, "--frontier", "budget", "--chart"]
    _chinese(tmp_path, [*arguments, str(chinese)])
    _run(tmp_path, [*arguments, str(english)])
    svg = chinese.read_text(encoding="utf-8")
    shown = re.sub(r"<[^>]+>", " ", svg) + " ".join(re.findall(r'aria-label="([^"]*)"', svg))
    assert "按 budget 总量的最优目标值" in shown and "当前" in shown
    assert set(re.findall(r"[A-Za-z]{3,}", shown)) == {"budget"}  # the resource id only
    assert "best objective" in english.read_text(encoding="utf-8").lower()


def test_the_scorecard_table_shows_means_to_six_significant_digits(tmp_path: Path) -> None:
    import re

    arguments = ["scorecard", PLAN, "--actuals", str(ACME / "actuals-2026-q3.csv"),
                 "--period", "2026-Q3"]  # fmt: skip
    text = _run(tmp_path, arguments)
    assert "10.402 " in text  # a mean of three months, 10.4020333333 before
    assert re.findall(r"\d\.\d{7,}", text) == []
