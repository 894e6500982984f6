"""The scenario runner and the ``scenario`` commands, with the engine replaced by fakes that
return SPEC-shaped results (the real engine is exercised in test_scenarios_acme.py)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from alignment_engine import engine
from alignment_engine.cli import main
from alignment_engine.errors import InfeasibleError
from alignment_engine.model import Plan, Policy, Scenario
from alignment_engine.scenarios import inputs_from_documents, read_inputs, run_inputs, run_scenario

VALID = Path(__file__).resolve().parent / "data" / "valid"


@dataclass
class Fake:
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass
class FakeScore:
    data: dict[str, Any]
    asked: list[str]

    def to_dict(self, explanations: str = "full") -> dict[str, Any]:
        self.asked.append(explanations)
        return self.data


class FakeEngine:
    """Findings follow the market-share target: above 0.26 it 'conflicts' with finance."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.explanations: list[str] = []
        self.infeasible_over: float | None = None

    def check_plan(self, plan: Plan, policy: Policy | None = None, rule_dirs: Any = ()) -> Fake:
        target = plan.kpi("sales.market_share").target or 0.0
        self.calls.append(("check", (target, policy.id if policy else None, tuple(rule_dirs))))
        findings = [
            {
                "rule": "unlinked-kpi",
                "kind": "alignment",
                "severity": "low",
                "departments": ["finance"],
                "kpis": ["finance.gross_margin"],
                "objectives": [],
                "resources": [],
                "message": "stays",
                "suggestion": None,
            }
        ]
        if target > 0.26:
            findings.append(
                {
                    "rule": "trade-off",
                    "kind": "conflict",
                    "severity": "high",
                    "departments": ["sales", "finance"],
                    "kpis": ["sales.market_share", "finance.gross_margin"],
                    "objectives": [],
                    "resources": [],
                    "message": "share vs margin",
                    "suggestion": "lower it",
                }
            )
        return Fake({"findings": findings, "summary": {"findings": len(findings)}})

    def score_period(
        self, plan: Plan, policy: Policy, actuals: pd.DataFrame, employees: Any, period: str
    ) -> FakeScore:
        target = plan.kpi("sales.market_share").target or 1.0
        self.calls.append(("score", (period, len(actuals), employees is not None)))
        factor = round(0.24 / target, 6)
        return FakeScore(
            {
                "period": period,
                "kpis": [
                    {
                        "scope": "sales",
                        "kpi": "sales.market_share",
                        "actual": 0.24,
                        "target": target,
                        "attainment": factor,
                        "payout_factor": factor,
                        "curve": "default",
                        "gates": [],
                    }
                ],
                "departments": [{"department": "sales", "score": factor, "payout_factor": factor}],
                "employees": [
                    {
                        "employee_id": "E1",
                        "department": "sales",
                        "payout": round(1000 * factor, 2),
                        "factor": factor,
                        "explanation": None,
                    }
                ],
                "totals": {"payout": round(1000 * factor, 2), "pool": None, "scale": 1.0},
            },
            self.explanations,
        )

    def suggest_reallocation(self, plan: Plan, options: Any = None) -> Fake:
        budget = plan.resource("budget")
        self.calls.append(("optimise", budget.capacity))
        if self.infeasible_over is not None and budget.capacity > self.infeasible_over:
            raise InfeasibleError("capacity of 'budget' is below the minimum amounts")
        return Fake(
            {
                "status": "optimal",
                "objective": budget.capacity / 1e7,
                "allocations": [
                    {
                        "resource": "budget",
                        "department": d,
                        "current": a,
                        "proposed": a * 1.1,
                        "change": a * 0.1,
                        "marginal_value": 0.0,
                    }
                    for d, a in budget.allocation.items()
                ],
                "predicted": [],
            }
        )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    replacement = FakeEngine()
    monkeypatch.setattr(engine, "check_plan", replacement.check_plan)
    monkeypatch.setattr(engine, "score_period", replacement.score_period)
    monkeypatch.setattr(engine, "suggest_reallocation", replacement.suggest_reallocation)
    return replacement


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(VALID / "minimal-plan.yaml", tmp_path / "plan.yaml")
    shutil.copy(VALID / "minimal-policy.yaml", tmp_path / "policy.yaml")
    (tmp_path / "forecast.csv").write_text(
        "period,scope,kpi,actual\n2026-07,sales,sales.market_share,0.23\n"
        "2026-Q3,sales,sales.market_share,0.24\n",
        encoding="utf-8",
    )
    (tmp_path / "employees.csv").write_text(
        "employee_id,department,target_bonus\nE1,sales,1000\n", encoding="utf-8"
    )
    return tmp_path


def scenario(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"kind: scenario\nid: {name}\nextends: plan.yaml\n{body}", encoding="utf-8")
    return path


SHARE = "departments[sales].kpis[sales.market_share].target"


def test_a_run_checks_scores_and_optimises_the_changed_plan(fake: FakeEngine, folder: Path) -> None:
    path = scenario(
        folder,
        "push",
        f"policy: policy.yaml\nactuals: forecast.csv\nemployees: employees.csv\n"
        f"set:\n  - {{path: '{SHARE}', value: 0.3}}\n",
    )
    result = run_scenario(path, rule_dirs=["extra-rules"])
    assert len(result.variants) == 1
    variant = result.variants[0]
    assert variant.plan.kpi("sales.market_share").target == 0.3
    assert variant.period == "2026-Q3"  # the longest of the periods ending last
    assert ("check", (0.3, "tiny-bonus", ("extra-rules",))) in fake.calls
    assert ("score", ("2026-Q3", 2, True)) in fake.calls
    assert fake.explanations and set(fake.explanations) == {"none"}
    assert variant.optimise is not None and variant.optimise["status"] == "optimal"
    # compared with the plan without the change: the conflict is what the change adds
    assert variant.compare is not None
    added = variant.compare["findings"]["added"]
    assert [f["rule"] for f in added] == ["trade-off"]
    assert variant.compare["findings"]["resolved"] == []
    assert variant.compare["scores"][0]["delta"] == pytest.approx(0.8 - 0.24 / 0.25)
    data = result.to_dict()
    assert data["scenario"] == "push"
    assert data["set"] == [{"path": SHARE, "value": 0.3}]
    assert data["table"][0]["added"] == 1
    assert data["compare"] == data["variants"][0]["compare"]
    json.dumps(data)  # JSON-able as it is


def test_a_sweep_runs_once_per_value_and_tabulates(fake: FakeEngine, folder: Path) -> None:
    path = scenario(
        folder,
        "sweep",
        f"policy: policy.yaml\nactuals: forecast.csv\nperiod: 2026-07\n"
        f"sweep: {{path: '{SHARE}', values: [0.2, 0.25, 0.3]}}\n",
    )
    result = run_scenario(path)
    assert [v.value for v in result.variants] == [0.2, 0.25, 0.3]
    assert [v.plan.kpi("sales.market_share").target for v in result.variants] == [0.2, 0.25, 0.3]
    table = result.table()
    assert [row["findings"] for row in table] == [1, 1, 2]
    assert [row["added"] for row in table] == [0, 0, 1]
    assert [row["payout"] for row in table] == [1200.0, 960.0, 800.0]
    assert {v.period for v in result.variants} == {"2026-07"}
    assert result.to_dict()["sweep"] == {"path": SHARE, "values": [0.2, 0.25, 0.3]}


def test_without_policy_or_actuals_there_is_no_score(fake: FakeEngine, folder: Path) -> None:
    result = run_scenario(scenario(folder, "plain", f"set:\n  - {{path: '{SHARE}', value: 0.2}}\n"))
    assert result.variants[0].score is None
    assert not [c for c in fake.calls if c[0] == "score"]


def test_a_plan_runs_without_a_base_comparison(fake: FakeEngine, folder: Path) -> None:
    result = run_scenario(folder / "plan.yaml")
    assert result.variants[0].compare is None
    assert [c[0] for c in fake.calls] == ["check", "optimise"]


def test_an_infeasible_reallocation_does_not_hide_the_other_results(
    fake: FakeEngine, folder: Path
) -> None:
    fake.infeasible_over = 6_000_000
    path = scenario(
        folder, "big", "set:\n  - {path: 'resources[budget].capacity', value: 9000000}\n"
    )
    variant = run_scenario(path).variants[0]
    assert variant.check is not None
    assert variant.optimise is not None
    assert variant.optimise["status"] == "infeasible"
    assert "capacity of 'budget'" in variant.optimise["message"]


def test_a_bad_override_fails_before_any_engine_call(fake: FakeEngine, folder: Path) -> None:
    path = scenario(folder, "bad", "set:\n  - {path: 'departments[sale].name', value: x}\n")
    with pytest.raises(Exception, match="did you mean 'sales'"):
        run_scenario(path)
    assert fake.calls == []


def test_run_inputs_works_on_documents_already_read(fake: FakeEngine, folder: Path) -> None:
    inputs = read_inputs(folder / "plan.yaml")
    result = run_inputs(inputs, against_base=False)
    assert result.id == "tiny-2026"


def test_documents_in_memory_run_like_files(fake: FakeEngine, folder: Path) -> None:
    plan = read_inputs(folder / "plan.yaml").plan
    scenario_doc = Scenario.model_validate(
        {
            "id": "posted",
            "extends": "(the request's plan)",
            "set": [{"path": SHARE, "value": 0.3}],
            "sweep": {"path": "resources[budget].capacity", "values": [1, 2]},
        }
    )
    result = run_inputs(inputs_from_documents(scenario_doc, plan, source="request"))
    assert [v.label for v in result.variants] == [
        "resources[budget].capacity=1",
        "resources[budget].capacity=2",
    ]
    assert all(v.plan.kpi("sales.market_share").target == 0.3 for v in result.variants)
    bad = scenario_doc.model_copy(
        update={"set": [scenario_doc.set[0].model_copy(update={"path": "x.y"})]}
    )
    with pytest.raises(Exception, match=r"request: x\.y: segment 'x'"):
        run_inputs(inputs_from_documents(bad, plan, source="request"))


# --- the commands ----------------------------------------------------------------------------


def test_cli_run_json(fake: FakeEngine, folder: Path) -> None:
    path = scenario(folder, "push", f"set:\n  - {{path: '{SHARE}', value: 0.3}}\n")
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["variants"][0]["compare"]["findings"]["added"][0]["rule"] == "trade-off"


def test_cli_run_table_and_out(fake: FakeEngine, folder: Path, tmp_path: Path) -> None:
    path = scenario(folder, "sweep", f"sweep: {{path: '{SHARE}', values: [0.2, 0.3]}}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"sweep {SHARE} over [0.2, 0.3]" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "report.html",
        "scenario.json",
        "variant-1.html",
        "variant-2.html",
    ]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="sweep"' in page and 'id="comparison"' in page
    assert json.loads((out / "scenario.json").read_text(encoding="utf-8"))["scenario"] == "sweep"


def test_cli_compare_plan_and_scenario(fake: FakeEngine, folder: Path) -> None:
    path = scenario(
        folder,
        "fix",
        f"policy: policy.yaml\nactuals: forecast.csv\nset:\n  - {{path: '{SHARE}', value: 0.25}}\n",
    )
    pushed = scenario(folder, "pushed", f"set:\n  - {{path: '{SHARE}', value: 0.3}}\n")
    runner = CliRunner()
    result = runner.invoke(
        main, ["scenario", "compare", str(pushed), str(path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["rule"] for f in data["findings"]["resolved"]] == ["trade-off"]
    assert data["findings"]["added"] == []
    assert {"scores", "payouts", "allocations"} <= set(data)
    # A has no policy: it borrows B's, so both sides are scored
    assert data["scores"][0]["before"] == pytest.approx(0.8)
    assert data["scores"][0]["after"] == pytest.approx(0.96)
    table = runner.invoke(main, ["scenario", "compare", str(pushed), str(path)])
    assert table.exit_code == 0
    assert "Findings resolved" in table.stdout and "trade-off" in table.stdout
    assert "Findings added: none" in table.stdout


def test_cli_bad_input_exits_2_without_a_traceback_or_output(
    fake: FakeEngine, folder: Path, tmp_path: Path
) -> None:
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
