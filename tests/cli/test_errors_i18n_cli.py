"""Errors printed in the command's language: the frame, messages and suggestions translated,
the location, keys and the user's own values unchanged; JSON and the service stay English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner
from test_error_catalogue_coverage import spelled_out

from alignment_engine.cli import main
from alignment_engine.cli.error_catalogue import MESSAGES
from alignment_engine.cli.error_messages import error_words, problem_text
from alignment_engine.errors import Problem
from alignment_engine.i18n import translate, using

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def _typo_plan(tmp_path: Path) -> Path:
    text = (ACME / "plan.yaml").read_text(encoding="utf-8")
    assert "\nname:" in text
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace("\nname:", "\nnmae:", 1), encoding="utf-8")
    return path


def test_validate_in_chinese_translates_the_message_and_keeps_the_location(
    tmp_path: Path,
) -> None:
    path = _typo_plan(tmp_path)
    english = CliRunner().invoke(main, ["validate", str(path)])
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", "validate", str(path)])
    assert english.exit_code == chinese.exit_code == 2
    english_line = next(line for line in english.stderr.splitlines() if "nmae" in line)
    chinese_line = next(line for line in chinese.stderr.splitlines() if "nmae" in line)
    assert "unknown key 'nmae'" in english_line and "did you mean 'name'?" in english_line
    assert "未知的键 'nmae'" in chinese_line and "是否想写 'name'？" in chinese_line
    location = english_line.split(": ", 1)[0]
    assert re.search(r"plan\.yaml:\d+:\d+$", location)
    assert chinese_line.startswith(location + ": ")
    assert "unknown key" not in chinese_line


def test_an_error_on_stderr_is_framed_in_chinese_and_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nosuch.yaml"
    result = CliRunner().invoke(main, ["--lang", "zh-CN", "check", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"错误：{missing}: 文件不存在"
    english = CliRunner().invoke(main, ["check", str(missing)])
    assert english.stderr.strip() == f"error: {missing}: no such file"


def test_a_table_error_names_its_row_and_column_in_chinese(tmp_path: Path) -> None:
    actuals = tmp_path / "actuals.csv"
    original = (ACME / "actuals-2026-q3.csv").read_text(encoding="utf-8")
    header, *rows = original.splitlines()
    actuals.write_text("\n".join([header + ",colour", *(r + ",red" for r in rows)]) + "\n")
    arguments = ["score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY)]
    arguments += ["--actuals", str(actuals), "--period", "2026-Q3"]
    arguments += ["--db", f"sqlite:///{tmp_path / 'runs.db'}"]
    english = CliRunner().invoke(main, arguments)
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", *arguments])
    assert english.exit_code == chinese.exit_code == 2, english.output
    assert "unknown column 'colour'" in english.stderr
    assert "中有未知的列 'colour'" in chinese.stderr
    assert chinese.stderr.startswith("错误：")


def test_a_row_problem_is_framed_with_its_row_and_column() -> None:
    problem = Problem(
        "file is empty", "a.csv", key="amount", row=7, suggestion="remove one of them"
    )
    assert problem_text(problem) == problem.render()  # English: exactly what render() says
    with using("zh-CN"):
        assert problem_text(problem) == "a.csv:第 7 行: 列 'amount': 文件为空（删除其中一个）"


def test_messages_the_catalogue_does_not_know_stay_english_and_values_are_never_translated() -> (
    None
):
    with using("zh-CN"):
        assert translate("something nobody wrote down") == "something nobody wrote down"
        # The key happens to be a message of the catalogue: it is still the user's key.
        assert translate("unknown key 'file is empty'") == "未知的键 'file is empty'"
        assert translate("missing required key 'kind'") == "缺少必需的键 'kind'"
    assert translate("unknown key 'x'") == "unknown key 'x'"


def _rendered(node: ast.expr) -> str:
    """A string expression as it reads, each value as ``{}``: f-strings written over several
    lines are one text, and so are ``"a " + f"{b} c"`` concatenations."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_rendered(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _rendered(node.left) + _rendered(node.right)
    return "{}"


def test_every_marked_error_message_is_worded_so_in_the_code() -> None:
    # A reworded error would silently stop being translated: each marked message's literal
    # parts must still be found in the source's strings outside the catalogue itself.
    texts = [
        _rendered(node)
        for path in (ROOT / "src" / "alignment_engine").rglob("*.py")
        if path.name != "error_catalogue.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp)
    ]
    sources = "\n".join(texts)
    missing = []
    for message in MESSAGES:
        if re.search(r"\{\w+\}", re.sub(r"\{\{|\}\}", "", message)):  # a format string
            message = re.sub(r"\{\{|\}\}", lambda m: m.group()[0], message)
        pieces = [p for p in re.split(r"\{\w+\}", message) if p.strip(" .:,;'()")]
        if message.startswith(("Input should", "String should")):
            continue  # pydantic's own words (one is checked below, end to end)
        if not all(piece in sources for piece in pieces) and not spelled_out(message):
            missing.append(message)
    assert missing == []


def test_a_value_pydantic_refuses_is_explained_in_chinese(tmp_path: Path) -> None:
    text = (ACME / "plan.yaml").read_text(encoding="utf-8")
    weight = re.search(r"weight: [0-9.]+", text)
    assert weight is not None
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace(weight.group(0), "weight: lots", 1), encoding="utf-8")
    english = CliRunner().invoke(main, ["validate", str(path)])
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", "validate", str(path)])
    assert "Input should be a valid number" in english.stderr
    assert "应为有效数字，无法把文本解析为数字" in chinese.stderr
    assert "Input should" not in chinese.stderr


def test_the_other_commands_human_lines_follow_the_language(tmp_path: Path) -> None:
    valid = CliRunner().invoke(main, ["--lang", "zh-CN", "validate", str(ACME / "plan.yaml")])
    assert valid.exit_code == 0, valid.output
    assert valid.stdout.startswith("有效    ") and "1 个文件中 1 个有效" in valid.stdout
    database = ["--db", f"sqlite:///{tmp_path / 'new.db'}"]
    status = CliRunner().invoke(main, ["--lang", "zh-CN", "db", "status", *database])
    assert status.exit_code == 0, status.output
    assert "数据库：" in status.stdout and "首次使用时自动升级" in status.stdout
    upgrade = CliRunner().invoke(main, ["--lang", "zh-CN", "db", "upgrade", *database])
    assert upgrade.exit_code == 0, upgrade.output
    assert "已从 空 升级到版本" in upgrade.stdout
    english = CliRunner().invoke(main, ["db", "upgrade", *database])
    assert "already at schema revision" in english.stdout


def test_a_huge_message_is_translated_or_left_as_it_is_without_backtracking() -> None:
    # A key of 1,000 characters full of the patterns' own separators (the most a problem
    # quotes back): each pattern is tried only where all its literal pieces occur.
    key = " x factor  x proration  = " * 38
    with using("zh-CN"):
        assert error_words(f"unknown key '{key}'") == f"未知的键 '{key}'"
        assert error_words(key) == key
