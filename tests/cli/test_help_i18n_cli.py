"""--help and Click's usage errors in Chinese: every help text of the command tree has a
translation in the catalogue, `--lang zh-CN ... --help` (or $ALIGNMENT_LANG) prints the page in
Chinese with Click's own words translated and fitting 80 columns, usage errors are Chinese
with exit 2, and English stays byte for byte as it was."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import click
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.cli.help_text import help_texts
from alignment_engine.i18n import _catalogue, untranslated

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _run(*arguments: str, env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(
        main, list(arguments), prog_name="alignment-engine", env={"COLUMNS": "80", **(env or {})}
    )


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_every_help_text_of_every_command_is_in_the_catalogue() -> None:
    texts = set(help_texts(main))
    assert len(texts) > 100
    assert sorted(texts - set(_catalogue("zh-CN"))) == []


def test_every_message_click_shows_people_is_in_the_catalogue() -> None:
    from babel.messages.extract import extract_from_file

    from alignment_engine.cli import help_text

    made_by_programmers = {  # raised while commands are defined, never shown to a user
        "Name '{name}' defined twice",
        "Boolean option {decl!r} cannot use the same flag for true/false.",
        "Could not determine name for option with declarations {decls!r}",
        "No options defined but a name was passed ({name}). Did you mean to declare an "
        "argument instead? Did you mean to pass '--{name}'?",
        "Arguments take exactly one parameter declaration, got {length}: {decls}.",
        "Unknown color {colour!r}",
        "file",  # the names of click.Path, made when the options are made
        "directory",
    }
    messages: set[str] = set()
    for name in help_text._CLICK_MODULES:
        source = Path(click.__file__).parent / f"{name.split('.')[1]}.py"
        for _line, message, _comments, _context in extract_from_file(
            "python", source, keywords={"_": None, "ngettext": (1, 2)}
        ):
            messages.update([message] if isinstance(message, str) else message)
    assert "Usage:" in messages
    assert sorted(messages - made_by_programmers - set(_catalogue("zh-CN"))) == []


def test_score_help_in_chinese_translates_options_and_clicks_words() -> None:
    before = untranslated("zh-CN")
    result = _run("--lang", "zh-CN", "score", "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("用法：alignment-engine score [OPTIONS]\n")
    assert "为某一期间计分：KPI 结果、部门得分和每位员工的奖金。" in result.output
    assert "\n选项：\n" in result.output
    assert "  --plan PATH                     计划 YAML。 [必填]\n" in result.output
    assert "[默认值：csv]" in result.output
    assert "  -h, --help                      显示此帮助并退出。\n" in result.output
    assert "Options" not in result.output and "[required]" not in result.output
    assert untranslated("zh-CN") - before == set()


def test_every_help_page_in_chinese_fits_80_columns() -> None:
    pages = []

    def walk(command: click.Command, path: list[str]) -> None:
        pages.append(path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(main, [])
    before = untranslated("zh-CN")
    for path in pages:
        result = _run("--lang", "zh-CN", *path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" not in result.output, path
        too_wide = [line for line in result.output.splitlines() if _columns(line) > 80]
        usage = f"用法：alignment-engine {' '.join(path)}".rstrip()
        assert [line for line in too_wide if not line.startswith(usage)] == [], path
    assert untranslated("zh-CN") - before == set()


def test_the_main_listing_shows_chinese_short_help_and_headings() -> None:
    result = _run("--lang", "zh-CN", "--help")
    assert result.exit_code == 0, result.output
    assert "\n命令：\n" in result.output
    assert "  runs        列出、显示、比较、审批、定稿和导出已记录的运行。\n" in result.output
    assert "  --version    显示版本并退出。\n" in result.output


def test_the_environment_chooses_the_language_of_help() -> None:
    result = _run("runs", "list", "--help", env={"ALIGNMENT_LANG": "zh-CN"})
    assert result.exit_code == 0, result.output
    assert "列出已记录的运行，最新的在前。" in result.output and "选项：" in result.output


def test_usage_errors_in_chinese_exit_2() -> None:
    before = untranslated("zh-CN")
    missing = _run("--lang", "zh-CN", "score")
    assert missing.exit_code == 2
    assert "用法：alignment-engine score [OPTIONS]\n" in missing.output
    assert "运行 'alignment-engine score --help' 查看帮助。" in missing.output
    assert "错误：缺少选项 '--plan'。" in missing.output
    bogus = _run("--lang", "zh-CN", "check", "--bogus")
    assert bogus.exit_code == 2 and "错误：没有选项 '--bogus'。" in bogus.output
    extra = _run("--lang", "zh-CN", "summary", "a", "b")
    assert extra.exit_code == 2 and "错误：多余的参数（b）" in extra.output
    choice = _run("--lang", "zh-CN", "check", str(ACME / "plan.yaml"), "--format", "xml")
    assert choice.exit_code == 2
    assert "错误：'--format' 的值无效：'xml' 不是 'table', 'json' 之一。" in choice.output
    nothing = _run("--lang", "zh-CN", "nosuch")
    assert nothing.exit_code == 2 and "错误：没有命令 'nosuch'。" in nothing.output
    assert untranslated("zh-CN") - before == set()


def test_english_help_and_errors_are_as_before() -> None:
    env = {"ALIGNMENT_LANG": "en"}
    score = _run("score", "--help", env=env)
    assert score.exit_code == 0
    assert score.output.startswith(
        "Usage: alignment-engine score [OPTIONS]\n\n"
        "  Score a period: KPI results, department scores and every employee's payout.\n"
    )
    assert "  --plan PATH                     The plan YAML.  [required]\n" in score.output
    assert (
        "  --out-format [csv|parquet|xlsx]\n"
        "                                  Table formats for --out (repeatable).\n"
        "                                  [default: csv]\n"
    ) in score.output
    assert "  -h, --help                      Show this message and exit.\n" in score.output
    runs = _run("runs", "--help", env=env)
    assert "  export    Write everything a run read and printed to DIR, from the...\n" in (
        runs.output
    )
    missing = _run("score", env=env)
    assert missing.exit_code == 2
    assert missing.output == (
        "Usage: alignment-engine score [OPTIONS]\n"
        "Try 'alignment-engine score --help' for help.\n\n"
        "Error: Missing option '--plan'.\n"
    )
    # a Chinese run before does not stay: the help option is made once, in English
    _run("--lang", "zh-CN", "check", "--help")
    assert "Show this message and exit." in _run("check", "--help", env=env).output


def test_lang_after_the_commands_name_counts_as_before_it() -> None:
    """`score --help --lang zh-CN` was 'No such option'; --lang goes where people type it."""
    before = _run("--lang", "zh-CN", "score", "--help")
    for arguments in (("score", "--help", "--lang", "zh-CN"), ("score", "--lang=zh-CN", "--help")):
        after = _run(*arguments)
        assert after.exit_code == 0, after.output
        assert after.output == before.output
    refused = _run("score", "--lang", "xx", "--help")
    assert refused.exit_code == 2 and "xx" in refused.output
