"""The records commands (runs, audit, tokens, db, docs) in Chinese for people: headers,
statuses, counts and lines translated, ids, hashes and values kept; JSON and English as before
(except the audit details, now `key: value` lines in both languages)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from alignment_engine.cli import main
from alignment_engine.i18n import untranslated

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _run(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments), env={"COLUMNS": "120"})


def _scored(db: str) -> str:
    # fmt: off
    made = _run("score", "--plan", str(ACME / "plan.yaml"),
                "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
                "--actuals", str(ACME / "actuals-2026-q3.csv"),
                "--employees", str(ACME / "employees.csv"), "--period", "2026-Q3",
                "--db", db, "--format", "json")
    # fmt: on
    assert made.exit_code == 0, made.output
    return str(
        json.loads(_run("runs", "list", "--format", "json", "--db", db).output)["runs"][0]["id"]
    )


def test_runs_tokens_audit_and_settings_read_in_chinese(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = _scored(db)
    before = untranslated("zh-CN")
    zh = ("--lang", "zh-CN")
    listed = _run(*zh, "runs", "list", "--db", db)
    assert listed.exit_code == 0, listed.output
    assert "完成时间（UTC）" in listed.output and "运行哈希" in listed.output
    assert (
        "已完成" in listed.output and "共 2 次运行" in listed.output
    )  # the score and its check and run_id in listed.output
    approved = _run(*zh, "runs", "approve", run_id, "--by", "controller", "--db", db)
    assert f"运行 {run_id}（score 2026-Q3）已由 controller 审批" in approved.output
    assert _run(*zh, "runs", "finalise", run_id, "--db", db).exit_code == 0
    shown = _run(*zh, "runs", "show", run_id, "--db", db)
    assert f"运行 {run_id}" in shown.output and "已定稿" in shown.output
    assert (
        "controller 于 " in shown.output and "引擎版本" in shown.output and "文档" in shown.output
    )
    created = _run(*zh, "tokens", "create", "--name", "alice", "--role", "planner", "--db", db)
    assert "已创建令牌 'alice'，角色为 planner；令牌只显示这一次" in created.stderr
    tokens = _run(*zh, "tokens", "list", "--db", db)
    assert "创建时间（UTC）" in tokens.output and "planner" in tokens.output
    settings = _run(*zh, "db", "settings", "--db", db)
    assert settings.output == "需要审批：否\n"
    audit = _run(*zh, "audit", "--db", db)
    assert "时间（UTC）" in audit.output and "详情" in audit.output
    assert "制单人：root" in audit.output and "状态：已完成" in audit.output
    assert "强制：否" in audit.output and "run.created" in audit.output
    diff = _run(*zh, "runs", "diff", run_id, run_id, "--db", db)
    assert "奖金总额：" in diff.output and "没有差异" in diff.output
    assert untranslated("zh-CN") - before == set()


def test_audit_details_read_as_key_value_lines_and_json_is_unchanged(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = _scored(db)
    table = _run("audit", "--db", db).output
    assert "forced: false" in table and "kind: score" in table and "status: completed" in table
    assert '{"forced"' not in table
    entries = json.loads(_run("audit", "--format", "json", "--db", db).output)["entries"]
    created = next(e for e in entries if e["action"] == "run.created")
    assert created["subject"] == run_id and created["details"]["forced"] is False
    assert len(created["details"]["run_hash"]) == 64


def test_the_audit_table_in_80_columns_keeps_each_detail_on_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = _scored(db)
    table = CliRunner().invoke(main, ["audit", "--db", db], env={"COLUMNS": "80"}).output
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The actor under the time, the subject under the action, each detail whole.
    assert any(re.search(r"run hash: [0-9a-f]{12} ", line) for line in lines)
    assert any(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) for line in lines)
    assert any("status: completed" in line for line in lines)
    assert any(run_id in line for line in lines)


def test_the_records_commands_in_english_read_as_before(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = _scored(db)
    listed = _run("runs", "list", "--db", db).output
    assert "finished (UTC)" in listed and "completed" in listed and "2 runs\n" in listed
    assert _run("db", "settings", "--db", db).output == "require_approval: false\n"
    approved = _run("runs", "approve", run_id, "--by", "controller", "--db", db).output
    assert approved == (
        f"run {run_id} (score 2026-Q3) approved by controller; "
        f"`alignment-engine runs finalise {run_id}` makes it final\n"
    )


def test_docs_push_list_and_diff_in_chinese(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    plan = ACME / "plan.yaml"
    harder = tmp_path / "plan-2.yaml"
    harder.write_text(
        plan.read_text(encoding="utf-8").replace("target: 250,", "target: 260,", 1),
        encoding="utf-8",
    )
    before = untranslated("zh-CN")
    zh = ("--lang", "zh-CN")
    pushed = _run(*zh, "docs", "push", str(plan), "--name", "acme", "--version", "1",
                  "--effective-to", "2026-06-30", "--db", db)  # fmt: skip
    assert pushed.output.startswith("计划 acme@1：")
    _run(*zh, "docs", "push", str(harder), "--name", "acme", "--version", "2", "--db", db)
    listed = _run(*zh, "docs", "list", "--db", db).output
    assert "计划    acme@1" in listed and "… 至 2026-06-30" in listed
    changed = _run(*zh, "docs", "diff", "acme@1", "acme@2", "--db", db).output
    assert changed == "company_kpis[company.revenue].target：250.0 -> 260.0\n"
    assert untranslated("zh-CN") - before == set()
    english = _run("docs", "list", "--db", db).output
    assert "plan    acme@1" in english and "… to 2026-06-30" in english


def test_runs_list_fits_an_80_column_terminal_without_cutting_a_word(tmp_path: Path) -> None:
    """At 80 columns `runs list` showed `comple…` and `2026-…`: kind goes over status and the
    time under the date, in both languages."""
    import unicodedata

    db = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = _scored(db)
    for language, status in (("en", "completed"), ("zh-CN", "已完成")):
        listed = CliRunner().invoke(
            main, ["--lang", language, "runs", "list", "--db", db], env={"COLUMNS": "80"}
        )
        assert listed.exit_code == 0, listed.output
        assert "…" not in listed.output and run_id in listed.output and status in listed.output
        assert re.search(r"\d{4}-\d\d-\d\d +│.*\n.*\d\d:\d\d:\d\d", listed.output)
        assert all(
            sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) <= 80
            for line in listed.output.splitlines()
        )
