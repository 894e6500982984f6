"""``alignment-engine init DIR``: a starter company a new user can run every command on."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.starter import STARTER_FILES


def score_args(folder: Path, db: str, *extra: str, period: str = "2026-Q4") -> list[str]:
    """``score`` on the starter's files for its quarter."""
    tables = [
        "--actuals",
        str(folder / "actuals.csv"),
        "--employees",
        str(folder / "employees.csv"),
    ]
    documents = ["--plan", str(folder / "plan.yaml"), "--policy", str(folder / "policy.yaml")]
    return ["score", *documents, *tables, "--period", period, "--db", db, *extra]


def test_the_starter_validates_checks_scores_and_optimises(tmp_path: Path) -> None:
    folder = tmp_path / "my-company"
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    made = CliRunner().invoke(main, ["init", str(folder), "--period", "2026-11-15"])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(STARTER_FILES)
    assert "2026-Q4,sales,sales.revenue" in (folder / "actuals.csv").read_text(encoding="utf-8")
    runner = CliRunner()
    plan, policy = str(folder / "plan.yaml"), str(folder / "policy.yaml")
    valid = runner.invoke(main, ["validate", plan, policy])
    assert valid.exit_code == 0, valid.output
    check = runner.invoke(main, ["check", plan, "--policy", policy, "--format", "json", "--db", db])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["summary"]["total"] >= 1  # the budget asks for more
    score = runner.invoke(main, score_args(folder, db, "--format", "json"))
    assert score.exit_code == 0, score.output
    result = json.loads(score.stdout)
    assert len(result["employees"]) == 5
    assert result["totals"]["payout"] > 0
    optimise = runner.invoke(main, ["optimise", plan, "--format", "json", "--db", db])
    assert optimise.exit_code == 0, optimise.output
    assert json.loads(optimise.stdout)["allocations"]


def test_the_readme_commands_name_the_starter_period(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    assert CliRunner().invoke(main, ["init", str(folder), "--period", "2027-02-01"]).exit_code == 0
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "--period 2027-Q1" in readme
    assert "score --plan plan.yaml" in readme


def test_every_starter_employee_is_paid_in_any_quarter(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    assert CliRunner().invoke(main, ["init", str(folder), "--period", "2027-02-01"]).exit_code == 0
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    result = CliRunner().invoke(main, score_args(folder, db, "--format", "json", period="2027-Q1"))
    assert result.exit_code == 0, result.output
    payouts = {e["employee_id"]: e["payout"] for e in json.loads(result.stdout)["employees"]}
    assert len(payouts) == 5 and all(p > 0 for p in payouts.values())


def test_init_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 2
    assert f"error: {target}: is not an empty folder" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "mine\n"


def test_init_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "plan.yaml").write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 2
    assert "is not an empty folder" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["plan.yaml"]
    assert (folder / "plan.yaml").read_text(encoding="utf-8") == "mine\n"


def test_the_score_table_groups_thousands(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    CliRunner().invoke(main, ["init", str(folder), "--period", "2026-11-15"])
    result = CliRunner().invoke(main, score_args(folder, f"sqlite:///{tmp_path / 'runs.db'}"))
    assert result.exit_code == 0, result.output
    assert "pool 60,000.00;" in result.stdout


def test_a_chinese_starter_is_commented_in_chinese_and_means_the_same(tmp_path: Path) -> None:
    import yaml

    from alignment_engine.i18n import untranslated
    from alignment_engine.starter import _PLAN, _POLICY, comment_blocks

    before = untranslated("zh-CN")
    runner = CliRunner()
    english, chinese = tmp_path / "en", tmp_path / "zh"
    assert runner.invoke(main, ["init", str(english), "--period", "2026-11-15"]).exit_code == 0
    made = runner.invoke(main, ["--lang", "zh-CN", "init", str(chinese), "--period", "2026-11-15"])
    assert made.exit_code == 0, made.output
    assert untranslated("zh-CN") - before == set()
    plan = (chinese / "plan.yaml").read_text(encoding="utf-8")
    assert "# 入门计划：请把其中的标识、名称和数字换成贵公司自己的。" in plan
    readme = (chinese / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# My Company：alignment-engine 入门示例")
    assert "--period 2026-Q4 --out report" in readme
    # Every English comment is gone, and the files hold the same documents and tables.
    for name, template in (("plan.yaml", _PLAN), ("policy.yaml", _POLICY)):
        text = (chinese / name).read_text(encoding="utf-8")
        for block in comment_blocks(template):
            assert block.splitlines()[0] not in text, block
        assert yaml.safe_load(text) == yaml.safe_load((english / name).read_text(encoding="utf-8"))
    for name in ("actuals.csv", "employees.csv"):
        assert (chinese / name).read_bytes() == (english / name).read_bytes()
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    valid = runner.invoke(
        main, ["validate", str(chinese / "plan.yaml"), str(chinese / "policy.yaml")]
    )
    assert valid.exit_code == 0, valid.output
    assert runner.invoke(main, score_args(chinese, db, "--format", "json")).exit_code == 0


def test_an_english_starter_reads_as_before(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    assert CliRunner().invoke(main, ["init", str(folder), "--period", "2026-11-15"]).exit_code == 0
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# My Company: a starter for alignment-engine\n")
    assert readme.rstrip().endswith(
        "Replace the ids, names and numbers with your own; docs/file-formats.md describes every key."
    )
    plan = (folder / "plan.yaml").read_text(encoding="utf-8")
    assert plan.startswith(
        "# A starter plan: replace the ids, names and numbers with your company's."
    )


def test_a_plan_without_findings_scores_without_warnings(tmp_path: Path) -> None:
    """The warnings beside a payroll are the plan's findings: none, no warning at all (the
    starter's one finding is its budget asking for more: with no demand stated, it is gone)."""
    folder = tmp_path / "my-company"
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    assert CliRunner().invoke(main, ["init", str(folder), "--period", "2026-11-15"]).exit_code == 0
    plan = folder / "plan.yaml"
    asked = "    demand: {sales: 170000}\n"
    assert asked in plan.read_text(encoding="utf-8")
    plan.write_text(plan.read_text(encoding="utf-8").replace(asked, ""), encoding="utf-8")
    warned = CliRunner().invoke(main, score_args(folder, db, "--format", "json"))
    assert warned.exit_code == 0, warned.output
    assert json.loads(warned.stdout)["totals"]["payout"] > 0
    assert warned.stderr == ""
