"""Reports in HR's language: every page the CLI writes renders in Chinese with every message
translated from the catalogue (locale/zh_CN/LC_MESSAGES/messages.po), English stays as it was,
the CLI's --lang and the locale choose, and every marked message in the code is in the
catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_samples import acme_plan, sample_check, sample_optimise, sample_score

from alignment_engine import engine
from alignment_engine.cli import main
from alignment_engine.errors import InputError
from alignment_engine.i18n import _catalogue, from_environment, normalise, untranslated, using
from alignment_engine.loading import policy_from_yaml
from alignment_engine.reports.html import render_report
from alignment_engine.reports.simulation import simulation_report
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _pages() -> dict[str, str]:
    plan = acme_plan()
    actuals = read_table(ACME / "actuals-2026-q3.csv", ACTUALS)
    card = engine.scorecard(plan, actuals, "2026-Q3").to_dict()
    cost = engine.simulate_policy(
        plan,
        policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml"),
        read_table(ACME / "history-kpis.csv", ACTUALS),
        read_table(ACME / "employees.csv", EMPLOYEES),
        period="2026-Q3",
        draws=100,
    ).to_dict()
    return {
        "report": render_report(
            plan=plan,
            check=sample_check(),
            score=sample_score(plan),
            optimise=sample_optimise(plan),
        ),
        "scorecard": render_report(plan=plan, scorecard=card),
        "simulation": simulation_report(cost),
    }


def test_every_page_renders_in_chinese_with_every_message_translated() -> None:
    before = untranslated("zh-CN")
    with using("zh-CN"):
        pages = _pages()
    assert untranslated("zh-CN") - before == set()
    report = pages["report"]
    assert '<html lang="zh-CN">' in report
    for heading in ("概览", "战略地图", "冲突与对齐问题", "KPI 结果", "奖金分布", "资源配置"):
        assert f"<h2>{heading}</h2>" in report
    assert "奖金总额（CNY）" in report and "严重" in report
    assert re.search(r"问题（\d+ 严重，\d+ 高，\d+ 中，\d+ 低）", report)  # no ASCII commas
    assert "按维度与部门的计分卡" in pages["scorecard"]
    assert "按部门" in pages["simulation"] and "lang='zh-CN'" in pages["simulation"]


def test_english_is_the_default_and_untouched() -> None:
    report = _pages()["report"]
    assert '<html lang="en">' in report
    assert "<h2>Summary</h2>" in report and "概览" not in report


@pytest.mark.parametrize(
    ("written", "language"),
    [("zh", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("zh-cn", "zh-CN"), ("en_US", "en"), ("C", "en")],
)
def test_language_names_are_read_as_people_and_locales_write_them(
    written: str, language: str
) -> None:
    assert normalise(written) == language


def test_the_locale_chooses_when_nothing_else_does() -> None:
    assert from_environment({"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert from_environment({"LANG": "fr_FR.UTF-8"}) == "en"  # no French messages: English
    assert from_environment({"ALIGNMENT_LANG": "zh-CN", "LANG": "en_US.UTF-8"}) == "zh-CN"
    with pytest.raises(InputError, match="no messages in 'fr'"):
        normalise("fr")


def test_every_marked_message_in_the_code_is_in_the_catalogue() -> None:
    from babel.messages.extract import extract_from_dir

    marked = {
        message
        for _filename, _line, message, _comments, _context in extract_from_dir(
            ROOT / "src" / "alignment_engine",
            method_map=[("**.py", "python")],
            keywords={"_": None},
        )
        if isinstance(message, str)
    }
    assert marked, "no marked messages found"
    assert sorted(marked - set(_catalogue("zh-CN"))) == []


def test_lang_on_the_command_line_writes_the_report_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "--lang", "zh-CN", "score",
            "--plan", str(ACME / "plan.yaml"),
            "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
            "--actuals", str(ACME / "actuals-2026-q3.csv"),
            "--employees", str(ACME / "employees.csv"),
            "--period", "2026-Q3",
            "--db", f"sqlite:///{tmp_path / 'runs.db'}",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "<h2>奖金分布</h2>" in page
    bad = CliRunner().invoke(main, ["--lang", "fr", "summary", str(ACME / "plan.yaml")])
    assert bad.exit_code == 2
    assert "no messages in 'fr'" in bad.output and "zh-CN" in bad.output


def test_the_tables_commands_print_for_people_follow_the_language(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    runner = CliRunner()
    check = runner.invoke(main, ["--lang", "zh-CN", "check", str(ACME / "plan.yaml"), "--db", db])
    assert check.exit_code == 0, check.output
    assert "计划 'acme-2026' 的问题" in check.output and "个问题（" in check.output
    card = runner.invoke(
        main,
        [
            "--lang", "zh-CN", "scorecard", str(ACME / "plan.yaml"),
            "--actuals", str(ACME / "actuals-2026-q3.csv"), "--period", "2026-Q3", "--db", db,
        ],
    )  # fmt: skip
    assert card.exit_code == 0, card.output
    assert "维度与目标" in card.output and "财务" in card.output
    cost = runner.invoke(
        main,
        [
            "--lang", "zh-CN", "policy", "simulate", "--plan", str(ACME / "plan.yaml"),
            "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
            "--history", str(ACME / "history-kpis.csv"),
            "--employees", str(ACME / "employees.csv"), "--draws", "200", "--db", db,
        ],
    )  # fmt: skip
    assert cost.exit_code == 0, cost.output
    assert "奖金总额" in cost.output and "按部门" in cost.output
    english = runner.invoke(
        main, ["check", str(ACME / "plan.yaml"), "--db", db], env={"ALIGNMENT_LANG": "en"}
    )
    assert "Findings for plan 'acme-2026'" in english.output  # the language did not stick


def test_each_message_is_translated_in_one_file_of_the_catalogue() -> None:
    from babel.messages.pofile import read_po

    folder = ROOT / "src" / "alignment_engine" / "locale" / "zh_CN" / "LC_MESSAGES"
    homes: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as stream:
            for message in read_po(stream, locale="zh_CN"):
                if message.id:
                    homes.setdefault(str(message.id), []).append(path.name)
    assert {"messages.po", "cli.po", "help.po", "reports.po"} <= {
        p.name for p in folder.glob("*.po")
    }
    assert {message: files for message, files in homes.items() if len(files) > 1} == {}
