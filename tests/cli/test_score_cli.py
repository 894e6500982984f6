"""``alignment-engine score`` end to end on the example company, with a real SQLite database."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def score_args(db: Path, *extra: str, actuals: Path = ACME / "actuals-2026-q3.csv") -> list[str]:
    return [
        "score",
        "--plan", str(ACME / "plan.yaml"),
        "--policy", str(POLICY),
        "--actuals", str(actuals),
        "--employees", str(ACME / "employees.csv"),
        "--period", "2026-Q3",
        "--db", f"sqlite:///{db}",
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], str]:
    folder = tmp_path_factory.mktemp("score")
    db = folder / "runs.db"
    result = CliRunner().invoke(
        main, score_args(db, "--format", "json", "--out", str(folder / "out"))
    )
    assert result.exit_code == 0, result.output
    return folder, json.loads(result.stdout), result.stdout


def test_json_has_the_spec_shape(scored: tuple[Path, dict, str]) -> None:
    _, document, _ = scored
    assert {"run_id", "period", "kpis", "departments", "employees", "totals"} <= set(document)
    assert {
        "scope",
        "kpi",
        "actual",
        "target",
        "attainment",
        "payout_factor",
        "curve",
        "gates",
    } <= set(document["kpis"][0])
    assert {"department", "score", "payout_factor"} <= set(document["departments"][0])
    assert {"employee_id", "department", "payout", "factor", "explanation"} <= set(
        document["employees"][0]
    )
    assert {"payout", "pool", "scale"} <= set(document["totals"])
    assert document["period"] == "2026-Q3"
    assert len(document["employees"]) == 2015


def test_payouts_reconcile_to_the_cent(scored: tuple[Path, dict, str]) -> None:
    _, document, _ = scored
    total = sum(Decimal(str(e["payout"])) for e in document["employees"])
    assert total == Decimal(document["totals"]["payout_text"])
    assert all(
        Decimal(str(e["payout"])) == Decimal(str(e["payout"])).quantize(Decimal("0.01"))
        for e in document["employees"]
    )


def test_outputs_are_written(scored: tuple[Path, dict, str]) -> None:
    folder, _, output = scored
    out = folder / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "departments.csv", "employees.csv", "kpis.csv", "report.html", "score.json", "summary.json",
    ]  # fmt: skip
    assert (out / "score.json").read_text(encoding="utf-8") == output
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
    employees = (out / "employees.csv").read_text(encoding="utf-8").splitlines()
    assert len(employees) == 2016


def test_runs_show_prints_the_same_json(scored: tuple[Path, dict, str]) -> None:
    folder, document, output = scored
    shown = CliRunner().invoke(
        main,
        [
            "runs",
            "show",
            str(document["run_id"]),
            "--format",
            "json",
            "--db",
            f"sqlite:///{folder / 'runs.db'}",
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert shown.output == output


def test_same_inputs_same_result(scored: tuple[Path, dict, str], tmp_path: Path) -> None:
    _, document, _ = scored
    again = CliRunner().invoke(main, score_args(tmp_path / "other.db", "--format", "json"))
    assert again.exit_code == 0
    other = json.loads(again.stdout)
    assert {k: v for k, v in other.items() if k != "run_id"} == {
        k: v for k, v in document.items() if k != "run_id"
    }


def test_explain_prints_the_chain(scored: tuple[Path, dict, str]) -> None:
    folder, _, _ = scored
    result = CliRunner().invoke(main, score_args(folder / "runs.db", "--explain", "E00002"))
    assert result.exit_code == 0, result.output
    assert "Employee E00002 (production)" in result.output
    assert "gate" in result.output and "rounded half_up" in result.output


def test_explain_unknown_employee(scored: tuple[Path, dict, str]) -> None:
    folder, _, _ = scored
    result = CliRunner().invoke(main, score_args(folder / "runs.db", "--explain", "E0002"))
    assert result.exit_code == 2
    assert "no employee 'E0002'" in result.output
    assert "Traceback" not in result.output


def test_bad_actuals_exit_2_and_write_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "actuals.csv"
    text = (ACME / "actuals-2026-q3.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("sales.market_share", "sales.market_shar", 1), encoding="utf-8")
    db = tmp_path / "runs.db"
    result = CliRunner().invoke(main, score_args(db, "--out", str(tmp_path / "out"), actuals=bad))
    assert result.exit_code == 2
    assert "sales.market_shar" in result.output
    assert "did you mean 'sales.market_share'?" in result.output
    assert not (tmp_path / "out").exists()
    listed = CliRunner().invoke(
        main, ["runs", "list", "--format", "json", "--db", f"sqlite:///{db}"]
    )
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)["runs"] == []


def test_parquet_and_xlsx_outputs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        score_args(
            tmp_path / "runs.db",
            "--out",
            str(tmp_path / "out"),
            "--out-format",
            "parquet",
            "--out-format",
            "xlsx",
        ),
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert (
        "employees.parquet" in names and "employees.xlsx" in names and "employees.csv" not in names
    )


def test_unwritable_out_exits_2_before_storing_anything(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    db = tmp_path / "runs.db"
    result = CliRunner().invoke(main, score_args(db, "--out", str(blocker / "out")))
    assert result.exit_code == 2
    assert "cannot write outputs here" in result.output
    assert "Traceback" not in result.output
    assert not db.exists()


def test_report_shows_conflicts_and_the_reallocation(scored: tuple[Path, dict, str]) -> None:
    folder, _, _ = scored
    page = (folder / "out" / "report.html").read_text(encoding="utf-8")
    assert "Conflict" in page
    assert "no proposal was computed" not in page


@pytest.mark.parametrize("target", ["0", "-1000"])
def test_attainment_curve_on_a_target_that_is_not_positive_exits_2(
    tmp_path: Path, target: str
) -> None:
    data = ROOT / "tests" / "data" / "valid"
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        (data / "minimal-plan.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "{id: sales.revenue, metric: revenue, target: 1000,",
            f"{{id: sales.revenue, metric: revenue, target: {target},",
        ),
        encoding="utf-8",
    )
    actuals = tmp_path / "a.csv"
    actuals.write_text(
        "period,scope,kpi,actual\n2026-Q3,company,company.revenue,900\n2026-Q3,sales,sales.market_share,0.24\n"
        "2026-Q3,sales,sales.revenue,900\n2026-Q3,finance,finance.gross_margin,0.33\n"
        "2026-Q3,shared.margin,shared.margin,0.36\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["score", "--plan", str(plan), "--policy", str(data / "minimal-policy.yaml"), "--actuals", str(actuals),
         "--period", "2026-Q3", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"KPI 'sales.revenue' has target {int(target)}" in result.output
    assert "give a positive target" in result.output
    assert not (tmp_path / "out").exists()


def test_identical_scores_at_once_print_only_stored_run_ids(tmp_path: Path) -> None:
    """Several processes scoring the same inputs at once: each prints a run that exists (the
    ones that lost the race print the stored run, never the id of a run they did not store)."""
    import re
    import subprocess
    import sys

    from alignment_engine.storage import Store

    db = tmp_path / "race.db"
    Store.open(f"sqlite:///{db}").close()  # the schema first: the race is over the run
    command = [sys.executable, "-m", "alignment_engine", *score_args(db), "--format", "table"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    printed = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        printed += re.findall(r"\(run ([0-9a-f]+)\)", out)
    assert len(printed) == 4
    with Store.open(f"sqlite:///{db}") as store:
        stored = {run.id for run in store.list_runs(kind="score")}
    assert set(printed) <= stored


FORMULAS = ['=HYPERLINK("http://evil.example/","x")', "=1+2", "-2+3", "+1", "@SUM(A1)"]


def _formula_employees(tmp_path: Path) -> Path:
    import csv

    path = tmp_path / "employees.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["employee_id", "department", "target_bonus"])
        for index, formula in enumerate(FORMULAS):
            writer.writerow([formula, "sales", 1000 + index])
    return path


@pytest.mark.parametrize("raw", [False, True])
def test_cells_a_spreadsheet_would_run_are_neutralised(tmp_path: Path, raw: bool) -> None:
    import csv

    import openpyxl

    employees = _formula_employees(tmp_path)
    out = tmp_path / "out"
    args = score_args(tmp_path / "runs.db", "--out", str(out))
    args[args.index("--employees") + 1] = str(employees)
    args += ["--out-format", "csv", "--out-format", "xlsx"] + (["--raw-cells"] if raw else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with (out / "employees.csv").open(encoding="utf-8", newline="") as handle:
        ids = [row["employee_id"] for row in csv.DictReader(handle)]
    sheet = openpyxl.load_workbook(out / "employees.xlsx").active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    column = header.index("employee_id")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    if raw:
        assert sorted(ids) == sorted(FORMULAS)
    else:
        assert sorted(ids) == sorted("'" + f for f in FORMULAS)
        assert sorted(str(c.value) for c in cells) == sorted("'" + f for f in FORMULAS)
        assert all(c.data_type != "f" for c in cells)  # text, not formulas
    with (out / "employees.csv").open(encoding="utf-8", newline="") as handle:
        payouts = [row["payout"] for row in csv.DictReader(handle)]
    assert all(not p.startswith("'") for p in payouts)  # numbers are left alone


def test_a_stored_run_explains_any_payout_on_demand(scored: tuple[Path, dict, str]) -> None:
    """`runs show ID --explain E` derives the chain from the stored inputs alone: the same text
    `score --explain` prints, ending in the stored payout."""
    folder, document, _ = scored
    db = f"sqlite:///{folder / 'runs.db'}"
    run_id = str(document["run_id"])
    derived = CliRunner().invoke(main, ["runs", "show", run_id, "--explain", "E00002", "--db", db])
    assert derived.exit_code == 0, derived.output
    direct = CliRunner().invoke(main, score_args(folder / "runs.db", "--explain", "E00002"))
    assert derived.output == direct.stdout
    stored = next(e for e in document["employees"] if e["employee_id"] == "E00002")  # type: ignore[attr-defined]
    as_json = CliRunner().invoke(
        main, ["runs", "show", run_id, "--explain", "E00002", "--format", "json", "--db", db]
    )
    explanation = json.loads(as_json.stdout)
    assert explanation["run_id"] == run_id and explanation["payout"] == stored["payout"]
    assert explanation["components"] == stored["explanation"]["components"]


def test_explaining_an_unknown_employee_of_a_stored_run_exits_2(
    scored: tuple[Path, dict, str],
) -> None:
    folder, document, _ = scored
    db = f"sqlite:///{folder / 'runs.db'}"
    result = CliRunner().invoke(
        main, ["runs", "show", str(document["run_id"]), "--explain", "E0002", "--db", db]
    )
    assert result.exit_code == 2
    assert "no employee 'E0002' in run" in result.output
    assert "did you mean" in result.output and "<input>" not in result.output


def test_large_runs_leave_explanations_to_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the auto threshold (20,000 employees; lowered here) the JSON carries the numbers
    and no explanation objects; the stored run still explains each payout and replays."""
    import alignment_engine.cli.score as score_module

    monkeypatch.setattr(score_module, "FULL_EXPLANATIONS_UP_TO", 3)
    db = tmp_path / "runs.db"
    result = CliRunner().invoke(main, score_args(db, "--format", "json"))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {e["explanation"] for e in document["employees"]} == {None}
    run_id = document["run_id"]
    explained = CliRunner().invoke(
        main,
        [
            "runs",
            "show",
            run_id,
            "--explain",
            "E00002",
            "--format",
            "json",
            "--db",
            f"sqlite:///{db}",
        ],
    )
    assert explained.exit_code == 0, explained.output
    payout = next(e["payout"] for e in document["employees"] if e["employee_id"] == "E00002")
    assert json.loads(explained.stdout)["payout"] == payout
    replayed = CliRunner().invoke(main, ["runs", "replay", run_id, "--db", f"sqlite:///{db}"])
    assert replayed.exit_code == 0, replayed.output
    assert "identical" in replayed.output


def test_an_explanation_that_does_not_match_the_stored_payout_is_refused(tmp_path: Path) -> None:
    """Derived chains must end in the stored cent; where they would not (a changed engine, an
    edited database), the command says so instead of explaining another payout."""
    import sqlite3

    db = tmp_path / "runs.db"
    result = CliRunner().invoke(main, score_args(db, "--format", "json"))
    run_id = json.loads(result.stdout)["run_id"]
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE payouts SET payout_units = payout_units + 1 WHERE employee_id = 'E00002'"
        )
    refused = CliRunner().invoke(
        main, ["runs", "show", run_id, "--explain", "E00002", "--db", f"sqlite:///{db}"]
    )
    assert refused.exit_code == 2
    assert "cannot be explained by this engine" in refused.output
    assert f"runs replay {run_id}" in refused.output


def _plan_with_weights_summing_to_0_9(folder: Path) -> Path:
    import yaml

    plan = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    department = next(d for d in plan["departments"] if d["id"] == "production")
    total = sum(
        float(str(k["weight"]).rstrip("%")) / (100 if "%" in str(k["weight"]) else 1)
        for k in department["kpis"]
    )
    first = department["kpis"][0]
    first["weight"] = float(str(first["weight"]).rstrip("%")) / (
        100 if "%" in str(first["weight"]) else 1
    ) - (total - 0.9)
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return path


def test_score_refuses_to_pay_on_weights_that_do_not_sum_to_one(tmp_path: Path) -> None:
    """validate passes and check flags it; score must not silently rescale the weights."""
    plan = _plan_with_weights_summing_to_0_9(tmp_path)
    db = tmp_path / "runs.db"
    args = score_args(db, "--format", "json")
    args[args.index("--plan") + 1] = str(plan)
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert "weights-not-normalised: the KPI weights of production add up to 0.9" in refused.output
    assert "--accept-findings" in refused.output and "Traceback" not in refused.output
    listed = CliRunner().invoke(
        main, ["runs", "list", "--format", "json", "--db", f"sqlite:///{db}"]
    )
    assert json.loads(listed.stdout)["runs"] == []
    paid = CliRunner().invoke(main, [*args, "--accept-findings"])
    assert paid.exit_code == 0, paid.output
    run_id = json.loads(paid.stdout)["run_id"]
    shown = CliRunner().invoke(main, ["runs", "show", run_id, "--db", f"sqlite:///{db}"])
    assert '"accept_findings": true' in shown.output
    replayed = CliRunner().invoke(main, ["runs", "replay", run_id, "--db", f"sqlite:///{db}"])
    assert replayed.exit_code == 0 and "identical" in replayed.output
    checked = CliRunner().invoke(
        main, ["check", str(plan), "--format", "json", "--db", f"sqlite:///{db}"]
    )
    found = [
        f for f in json.loads(checked.stdout)["findings"] if f["rule"] == "weights-not-normalised"
    ]
    assert [f["departments"] for f in found] == [["production"]]  # check says the same


def test_a_refused_payroll_names_the_broken_plan_in_chinese(tmp_path: Path) -> None:
    """HR reading Chinese is told why the payroll stops in Chinese, ids and numbers kept."""
    import re

    plan = _plan_with_weights_summing_to_0_9(tmp_path)
    args = score_args(tmp_path / "runs.db")
    args[args.index("--plan") + 1] = str(plan)
    refused = CliRunner().invoke(main, ["--lang", "zh-CN", *args])
    assert refused.exit_code == 2
    assert "weights-not-normalised：production 的 KPI 权重合计为 0.9，而不是 1（或 100%）" in (
        refused.output
    )
    assert "据此计算的奖金将是错误的" in refused.output
    words = set(re.findall(r"\b[a-z]{3,}\b", refused.output))
    assert words <= {
        "weights",
        "not",
        "normalised",
        "production",
        "alignment",
        "engine",
        "check",
        "accept",
        "findings",
        "options",
        "accept_findings",
    }, words


def test_a_run_stored_before_the_payroll_check_still_replays(tmp_path: Path) -> None:
    """Runs stored by earlier versions on plans the check now refuses (their options carry no
    accept_findings) replay identical: a replay recomputes what was stored."""
    import dataclasses

    from alignment_engine.loading import plan_from_yaml, policy_from_yaml
    from alignment_engine.pipeline import ScoreRun
    from alignment_engine.replay import replay_run
    from alignment_engine.storage import Store
    from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table

    plan = plan_from_yaml(_plan_with_weights_summing_to_0_9(tmp_path))
    then = ScoreRun(
        plan,
        policy_from_yaml(POLICY),
        read_table(ACME / "actuals-2026-q3.csv", ACTUALS),
        read_table(ACME / "employees.csv", EMPLOYEES),
        "2026-Q3",
    )
    record = then.record()  # options as earlier versions recorded them
    accepted = dataclasses.replace(then, accept_findings=True)  # how it was paid then
    output = accepted.output(accepted.compute(), record.run_id)
    with Store.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        stored = store.record_run(record, result_json=output.result_json, payouts=output.payouts)
        assert "accept_findings" not in stored.options
        replayed = replay_run(store, stored.id)
    assert replayed.identical, replayed.difference()


def _variant(folder: Path, change: str) -> Path:
    """The example plan with one production KPI broken the way ``change`` says."""
    import yaml

    plan = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    kpi = next(d for d in plan["departments"] if d["id"] == "production")["kpis"][1]
    if change == "missing-target":
        kpi.pop("target", None)
    elif change == "levels-out-of-order":
        kpi["threshold"], kpi["maximum"] = kpi.get("maximum", 2.0), kpi.get("threshold", 0.5)
    path = folder / f"{change}.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change", ["missing-target", "levels-out-of-order"])
def test_the_payroll_check_agrees_with_the_shipped_rules(tmp_path: Path, change: str) -> None:
    """The three findings that stop a payroll run are decided in Python (score must not wait
    for a whole check); on the same plan they name what `check`'s rules name."""
    from alignment_engine.alignment import payroll_blockers
    from alignment_engine.loading import plan_from_yaml

    path = _variant(tmp_path, change)
    plan = plan_from_yaml(path)
    blocked = {
        (b.rule, kpi)
        for b in payroll_blockers(plan, None, company=True, shared=True)
        for kpi in b.kpis
        if b.rule != "weights-not-normalised"
    }
    checked = CliRunner().invoke(
        main, ["check", str(path), "--format", "json", "--db", f"sqlite:///{tmp_path / 'c.db'}"]
    )
    rules = {"missing-target", "levels-out-of-order"}
    found = {
        (f["rule"], kpi)
        for f in json.loads(checked.stdout)["findings"]
        if f["rule"] in rules
        for kpi in f["kpis"]
    }
    assert blocked == found and any(rule == change for rule, _ in blocked)
    refused = CliRunner().invoke(main, [*_with_plan(tmp_path, path), "--format", "json"])
    assert refused.exit_code == 2 and change in refused.output


def _with_plan(folder: Path, plan: Path) -> list[str]:
    args = score_args(folder / "runs.db")
    args[args.index("--plan") + 1] = str(plan)
    return args


def test_explaining_a_run_that_pays_no_one_says_why(scored: tuple[Path, dict, str]) -> None:
    folder, _, _ = scored
    db = f"sqlite:///{folder / 'runs.db'}"
    check_run = CliRunner().invoke(
        main, ["check", str(ACME / "plan.yaml"), "--format", "json", "--db", db]
    )
    assert check_run.exit_code == 0
    runs = json.loads(
        CliRunner()
        .invoke(main, ["runs", "list", "--kind", "check", "--format", "json", "--db", db])
        .output
    )["runs"]
    result = CliRunner().invoke(
        main, ["runs", "show", runs[0]["id"], "--explain", "E00002", "--db", db]
    )
    assert result.exit_code == 2
    assert "is a check run; only score runs have payouts to explain" in result.output
    unknown = CliRunner().invoke(
        main, ["runs", "show", "ffffffffffff", "--explain", "E1", "--db", db]
    )
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output


def test_the_plans_findings_are_warnings_on_stderr_beside_the_payroll(tmp_path: Path) -> None:
    """Conflicts never stop a payroll, but the people paying see them: the most severe on
    stderr, their count, and the command listing them all; stdout stays the result."""
    db = tmp_path / "runs.db"
    paid = CliRunner().invoke(main, score_args(db, "--format", "json"))
    assert paid.exit_code == 0, paid.output
    json.loads(paid.stdout)  # nothing but the result on stdout
    warned = paid.stderr.splitlines()
    assert warned[0] == (
        "warning: the plan has 6 findings (4 high, 2 medium; 6 conflicts); "
        "they do not stop this payroll:"
    )
    assert warned[1].startswith("  high  cascade-gap: The targets rolling up to company.revenue")
    assert any(
        "opposing-targets: sales is asked to raise days_sales_outstanding" in w for w in warned
    )
    assert warned[-1].startswith("  and 1 more: `alignment-engine check ")
    # The check behind the warnings is stored: `check` reuses it.
    listed = json.loads(
        CliRunner()
        .invoke(main, ["runs", "list", "--format", "json", "--db", f"sqlite:///{db}"])
        .stdout
    )
    assert sorted(run["kind"] for run in listed["runs"]) == ["check", "score"]
    chinese = CliRunner().invoke(main, ["--lang", "zh-CN", *score_args(db)])
    assert chinese.exit_code == 0, chinese.output
    assert chinese.stderr.startswith("警告：该计划有 6 个问题（4 高, 2 中；其中冲突 6 个）")
    assert "opposing-targets: sales 被要求提高 days_sales_outstanding" in chinese.stderr
