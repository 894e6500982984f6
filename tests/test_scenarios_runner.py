"""The scenario runner and the ``scenario`` commands, through the real engine on the minimal plan
(tests/data/valid), with a small user rule pack whose finding follows the market-share target."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.errors import ScenarioError
from alignment_engine.model import Scenario
from alignment_engine.scenarios import (
    inputs_from_documents,
    read_inputs,
    run_inputs,
    run_scenario,
)
from alignment_engine.storage import Store

VALID = Path(__file__).resolve().parent / "data" / "valid"
SHARE = "departments[sales].kpis[sales.market_share].target"
#: The lines of a scenario that score it.
SCORED = "policy: policy.yaml\nactuals: forecast.csv\nemployees: employees.csv\n"

#: A user rule: a market-share target above 26% is flagged (the minimal plan's is 25%).
AMBITION_PACK = """\
kind: rules
id: ambition
rules:
  - id: ambitious-share
    description: A market-share target above 26%.
    kind: conflict
    severity: high
    when:
      - {fact: kpi, as: k, where: "metric == 'market_share' and target > 0.26"}
    finding:
      departments: ["{k.department}"]
      kpis: ["{k.id}"]
      message: "{k.id} aims at {k.target}"
      suggestion: lower it
"""

#: Every KPI of the minimal plan, for July and for the third quarter (which ends last).
FORECAST = """\
period,scope,kpi,actual
2026-07,company,company.revenue,300
2026-07,sales,sales.market_share,0.23
2026-07,sales,sales.revenue,300
2026-07,finance,finance.gross_margin,0.34
2026-07,shared.margin,shared.margin,0.32
2026-Q3,company,company.revenue,950
2026-Q3,sales,sales.market_share,0.24
2026-Q3,sales,sales.revenue,950
2026-Q3,finance,finance.gross_margin,0.36
2026-Q3,shared.margin,shared.margin,0.33
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(VALID / "minimal-plan.yaml", tmp_path / "plan.yaml")
    shutil.copy(VALID / "minimal-policy.yaml", tmp_path / "policy.yaml")
    (tmp_path / "forecast.csv").write_text(FORECAST, encoding="utf-8")
    (tmp_path / "employees.csv").write_text(
        "employee_id,department,target_bonus\nE1,sales,1000\nE2,finance,1000\n",
        encoding="utf-8",
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ambition.yaml").write_text(AMBITION_PACK, encoding="utf-8")
    return tmp_path


def scenario(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"kind: scenario\nid: {name}\nextends: plan.yaml\n{body}", encoding="utf-8")
    return path


def sales_score(score: dict[str, Any] | None) -> float:
    assert score is not None
    return float(next(d["score"] for d in score["departments"] if d["department"] == "sales"))


def rules_of(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings]


def test_a_run_checks_scores_and_optimises_the_changed_plan(folder: Path) -> None:
    path = scenario(folder, "push", SCORED + f"set:\n  - {{path: '{SHARE}', value: 0.27}}\n")
    result = run_scenario(path, rule_dirs=[folder / "rules"])
    assert len(result.variants) == 1
    variant = result.variants[0]
    assert variant.plan.kpi("sales.market_share").target == 0.27
    assert variant.period == "2026-Q3"  # of the periods in the actuals, the one ending last
    assert variant.check is not None
    assert variant.check["summary"]["policy"] == "tiny-bonus"
    assert "ambition" in variant.check["summary"]["packs"]  # the user's rules ran
    assert variant.score is not None and variant.score["period"] == "2026-Q3"
    assert len(variant.score["employees"]) == 2
    assert all(e["explanation"] is None for e in variant.score["employees"])  # amounts only
    assert variant.optimise is not None and variant.optimise["status"] == "optimal"
    # compared with the plan without the change: the finding is what the change adds
    assert result.base is not None
    assert variant.compare is not None
    assert rules_of(variant.compare["findings"]["added"]) == ["ambitious-share"]
    assert variant.compare["findings"]["resolved"] == []
    sales = next(s for s in variant.compare["scores"] if s["department"] == "sales")
    before, after = sales_score(result.base.score), sales_score(variant.score)
    assert after < before  # same actual, higher target
    assert sales["delta"] == pytest.approx(after - before)
    data = result.to_dict()
    assert data["scenario"] == "push"
    assert data["set"] == [{"path": SHARE, "value": 0.27}]
    assert data["table"][0]["added"] == 1
    assert data["compare"] == data["variants"][0]["compare"]
    json.dumps(data)  # JSON-able as it is


def test_a_sweep_runs_once_per_value_and_tabulates(folder: Path) -> None:
    path = scenario(
        folder,
        "sweep",
        f"policy: policy.yaml\nactuals: forecast.csv\nemployees: employees.csv\n"
        f"period: 2026-07\nsweep: {{path: '{SHARE}', values: [0.23, 0.25, 0.27]}}\n",
    )
    result = run_scenario(path, rule_dirs=[folder / "rules"])
    assert [v.value for v in result.variants] == [0.23, 0.25, 0.27]
    assert [v.plan.kpi("sales.market_share").target for v in result.variants] == [0.23, 0.25, 0.27]
    assert {v.period for v in result.variants} == {"2026-07"}
    table = result.table()
    assert [row["findings"] for row in table] == [0, 0, 1]
    assert [row["added"] for row in table] == [0, 0, 1]
    payouts = [row["payout"] for row in table]
    assert payouts == [v.score["totals"]["payout"] for v in result.variants if v.score]
    assert payouts[0] > payouts[1] > payouts[2]  # the same July share pays less as targets rise
    assert [row["optimise_status"] for row in table] == ["optimal"] * 3
    assert result.to_dict()["sweep"] == {"path": SHARE, "values": [0.23, 0.25, 0.27]}


def test_without_policy_or_actuals_there_is_no_score(folder: Path) -> None:
    result = run_scenario(
        scenario(folder, "plain", f"set:\n  - {{path: '{SHARE}', value: 0.24}}\n")
    )
    variant = result.variants[0]
    assert variant.score is None and variant.period is None
    assert variant.check is not None and variant.optimise is not None
    assert result.base is not None and result.base.score is None


def test_a_plan_runs_without_a_base_comparison(folder: Path) -> None:
    result = run_scenario(folder / "plan.yaml")
    assert result.base is None
    [variant] = result.variants
    assert variant.compare is None and variant.score is None
    assert variant.check is not None and variant.optimise is not None


def test_an_infeasible_reallocation_does_not_hide_the_other_results(folder: Path) -> None:
    # max_change 20% lets sales reach 2.4 million at most; a 4 million floor cannot be met
    path = scenario(
        folder,
        "floor",
        SCORED + "set:\n  - {path: 'resources[budget].minimum', value: {sales: 4000000}}\n",
    )
    result = run_scenario(path)
    variant = result.variants[0]
    assert variant.check is not None
    assert variant.score is not None and variant.score["totals"]["payout"] > 0
    assert variant.optimise is not None
    assert variant.optimise["status"] == "infeasible"
    assert "minimum 4000000" in variant.optimise["message"]
    assert variant.optimise["allocations"] == []
    assert result.base is not None and result.base.optimise is not None
    assert result.base.optimise["status"] == "optimal"
    assert variant.compare is not None  # still compared with the base


def test_a_bad_override_fails_before_any_engine_call(folder: Path) -> None:
    # A broken rule pack is a tripwire: the first engine call (a check) would fail on it.
    (folder / "broken").mkdir()
    (folder / "broken" / "pack.yaml").write_text(
        "kind: rules\nid: broken\nrules:\n  - {id: r, when: [{fact: nothing}]}\n", encoding="utf-8"
    )
    tripwire = [folder / "broken"]
    bad_set = scenario(folder, "bad", "set:\n  - {path: 'departments[sale].name', value: x}\n")
    with pytest.raises(ScenarioError, match="did you mean 'sales'"):
        run_scenario(bad_set, rule_dirs=tripwire)
    # Every variant is built before the first runs: a bad last sweep value stops them all.
    bad_last = scenario(folder, "late", f"sweep: {{path: '{SHARE}', values: [0.25, oops]}}\n")
    with pytest.raises(ScenarioError, match="after the scenario's changes, the plan is invalid"):
        run_scenario(bad_last, rule_dirs=tripwire)
    # The tripwire does go off once an override is fine.
    good = scenario(folder, "good", f"set:\n  - {{path: '{SHARE}', value: 0.25}}\n")
    with pytest.raises(Exception, match="broken") as raised:
        run_scenario(good, rule_dirs=tripwire)
    assert not isinstance(raised.value, ScenarioError)


def test_run_inputs_works_on_documents_already_read(folder: Path) -> None:
    inputs = read_inputs(folder / "plan.yaml")
    result = run_inputs(inputs, against_base=False)
    assert result.id == "tiny-2026"
    assert result.base is None and result.variants[0].check is not None


def test_documents_in_memory_run_like_files(folder: Path) -> None:
    plan = read_inputs(folder / "plan.yaml").plan
    scenario_doc = Scenario.model_validate(
        {
            "id": "posted",
            "extends": "(the request's plan)",
            "set": [{"path": SHARE, "value": 0.27}],
            "sweep": {"path": "resources[budget].capacity", "values": [4000000, 6000000]},
        }
    )
    result = run_inputs(inputs_from_documents(scenario_doc, plan, source="request"))
    assert [v.label for v in result.variants] == [
        "resources[budget].capacity=4000000",
        "resources[budget].capacity=6000000",
    ]
    assert all(v.plan.kpi("sales.market_share").target == 0.27 for v in result.variants)
    assert [v.plan.resource("budget").capacity for v in result.variants] == [4e6, 6e6]
    bad = scenario_doc.model_copy(
        update={"set": [scenario_doc.set[0].model_copy(update={"path": "x.y"})]}
    )
    with pytest.raises(ScenarioError, match=r"request: x\.y: segment 'x'"):
        run_inputs(inputs_from_documents(bad, plan, source="request"))


# --- the commands ----------------------------------------------------------------------------


def test_cli_run_json(folder: Path) -> None:
    path = scenario(folder, "push", f"set:\n  - {{path: '{SHARE}', value: 0.27}}\n")
    result = CliRunner().invoke(
        main, ["scenario", "run", str(path), "--format", "json", "--rules", str(folder / "rules")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert rules_of(data["variants"][0]["compare"]["findings"]["added"]) == ["ambitious-share"]


def test_cli_run_table_and_out(folder: Path, tmp_path: Path) -> None:
    path = scenario(folder, "sweep", f"sweep: {{path: '{SHARE}', values: [0.23, 0.27]}}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"sweep {SHARE} over [0.23, 0.27]" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "report.html",
        "scenario.json",
        "variant-1.html",
        "variant-2.html",
    ]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="sweep"' in page and 'id="comparison"' in page
    assert json.loads((out / "scenario.json").read_text(encoding="utf-8"))["scenario"] == "sweep"


def test_cli_run_says_why_the_reallocation_failed_and_exits_2(folder: Path, tmp_path: Path) -> None:
    path = scenario(
        folder,
        "floor",
        SCORED + "set:\n  - {path: 'resources[budget].minimum', value: {sales: 4000000}}\n",
    )
    out = tmp_path / "out"
    for extra in ([], ["--format", "json"]):
        result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out), *extra])
        assert result.exit_code == 2, result.output
        assert "error: optimiser (floor): " in result.stderr
        assert "minimum 4000000" in result.stderr
        assert (out / "scenario.json").is_file()  # the other results still stand, written


def test_cli_run_lists_every_file_it_wrote(folder: Path, tmp_path: Path) -> None:
    path = scenario(folder, "sweep", f"sweep: {{path: '{SHARE}', values: [0.23, 0.27]}}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = ", ".join(str(out / n) for n in ("scenario.json", "report.html", "variant-1.html"))
    assert f"wrote {written} and {out / 'variant-2.html'}" in " ".join(result.stdout.split())


def test_cli_compare_plan_and_scenario(folder: Path) -> None:
    fixed = scenario(folder, "fix", SCORED + f"set:\n  - {{path: '{SHARE}', value: 0.25}}\n")
    pushed = scenario(folder, "pushed", f"set:\n  - {{path: '{SHARE}', value: 0.27}}\n")
    runner = CliRunner()
    rules = ["--rules", str(folder / "rules")]
    result = runner.invoke(
        main, ["scenario", "compare", str(pushed), str(fixed), "--format", "json", *rules]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert rules_of(data["findings"]["resolved"]) == ["ambitious-share"]
    assert data["findings"]["added"] == []
    assert {"scores", "payouts", "allocations"} <= set(data)
    # A has no policy: it borrows B's, so both sides are scored
    sales = next(s for s in data["scores"] if s["department"] == "sales")
    assert sales["before"] is not None and sales["after"] is not None
    assert sales["before"] < sales["after"]  # 0.24 against 0.27, then against 0.25
    assert data["totals"]["payout_before"] < data["totals"]["payout_after"]
    table = runner.invoke(main, ["scenario", "compare", str(pushed), str(fixed), *rules])
    assert table.exit_code == 0, table.output
    assert "Findings resolved" in table.stdout and "ambitious-share" in table.stdout
    assert "Findings added: none" in table.stdout
    # Recorded: the comparison as the run's result, both sides' inputs by role.
    run_id = table.stdout.split("stored as run ")[-1].split()[0]
    with Store.open(os.environ["ALIGNMENT_DB_URL"]) as store:
        stored = store.get_run(run_id)
    assert stored.kind.value == "scenario"
    assert json.loads(stored.result_json) == data
    assert {"a.plan", "b.plan", "b.policy"} <= set(stored.documents)
    assert stored.options["compare"]["b"]["set"] == [{"path": SHARE, "value": 0.25}]


def test_cli_bad_input_exits_2_without_a_traceback_or_output(folder: Path, tmp_path: Path) -> None:
    path = scenario(folder, "bad", "set:\n  - {path: 'departments[sale].name', value: x}\n")
    out = tmp_path / "never"
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "segment 'departments[sale]'" in result.stderr
    assert "did you mean 'sales'?" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    missing = CliRunner().invoke(
        main, ["scenario", "compare", str(path), str(folder / "nope.yaml")]
    )
    assert missing.exit_code == 2
