"""Incentive-aware reallocation (``optimise --policy``): the bonus changes it reports are what
scoring the predicted KPI values through the policy gives; with ``--max-payout-loss`` no
department loses more than the bound; the run replays byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignment_engine import score_period
from alignment_engine.cli import main
from alignment_engine.engine import OptimiseOptions
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model import Plan
from alignment_engine.pipeline import OptimiseRun
from alignment_engine.tables import EMPLOYEES, read_table

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme"
PLAN = plan_from_yaml(ACME / "plan.yaml")
POLICY = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
STAFF = read_table(ACME / "employees.csv", EMPLOYEES).iloc[::10].reset_index(drop=True)


def _rescored(plan: Plan, predicted: dict[str, float], period: str) -> dict[str, int]:
    """Each department's payout units, scoring the predicted values by hand: the predicted KPIs
    at their values, the others at their baseline (or target)."""
    kpis = [
        *((k, "company") for k in plan.company_kpis),
        *((k, d.id) for d in plan.departments for k in d.kpis),
        *((g, g.id) for g in plan.shared_goals),
    ]
    rows = []
    for kpi, scope in kpis:
        value = predicted.get(kpi.id, kpi.baseline if kpi.baseline is not None else kpi.target)
        if value is not None:
            rows.append({"period": period, "scope": scope, "kpi": kpi.id, "actual": value})
    frame = pd.DataFrame(rows)
    result = score_period(plan, POLICY, frame, STAFF, period, accept_findings=True)
    return {d.department: d.payout_units for d in result.departments}


def _run(bound: float | None, keep_total: bool, shared_weight: float) -> dict[str, Any]:
    run = OptimiseRun(
        PLAN,
        OptimiseOptions(keep_total=keep_total, shared_weight=shared_weight),
        policy=POLICY,
        period="2026",
        employees=STAFF,
        max_payout_loss=bound,
    )
    return run.document(run.compute())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bound=st.one_of(st.none(), st.sampled_from([0.0, 0.01, 0.03])),
    keep_total=st.booleans(),
    shared_weight=st.sampled_from([0.1, 0.3, 0.6]),
)
def test_reported_bonus_changes_are_the_policy_at_the_predicted_values(
    bound: float | None, keep_total: bool, shared_weight: float
) -> None:
    document = _run(bound, keep_total, shared_weight)
    incentives = document["incentives"]
    today = _rescored(PLAN, {p["kpi"]: p["current"] for p in document["predicted"]}, "2026")
    proposed = _rescored(PLAN, {p["kpi"]: p["proposed"] for p in document["predicted"]}, "2026")
    for row in incentives["departments"]:
        department = row["department"]
        assert round(row["payout_today"] * 100) == today[department]
        assert round(row["payout_proposed"] * 100) == proposed[department]
        assert row["loses_bonus"] == (proposed[department] < today[department])
        if bound is not None and today[department] > 0:
            loss = (today[department] - proposed[department]) / today[department]
            assert loss <= bound + 1e-9, f"{department} loses {loss:.4%} > {bound:.2%}"
    assert document["objective"] >= document["objective_current"] - 1e-12
    assert incentives["losing"] == [
        r["department"] for r in incentives["departments"] if r["loses_bonus"]
    ]


def test_the_bound_binds_where_the_free_optimum_costs_a_bonus() -> None:
    free = _run(None, True, 0.3)
    assert free["incentives"]["losing"], "moving budget within a kept total costs someone"
    bounded = _run(0.01, True, 0.3)
    assert bounded["status"] == "bounded"
    assert any("--max-payout-loss 1.0%" in note for note in bounded["notes"])
    assert free["objective"] > bounded["objective"] >= bounded["objective_current"]
    nothing = _run(0.0, True, 0.3)
    assert nothing["incentives"]["losing"] == []


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_the_cli_stores_and_replays_an_incentive_aware_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["optimise", str(ACME / "plan.yaml"), "--keep-total", "--policy",
            str(ROOT / "policies" / "annual-bonus-2026.yaml"), "--period", "2026",
            "--max-payout-loss", "2%", "--db", db]  # fmt: skip
    shown = _cli(*args)
    assert shown.exit_code == 0, shown.output
    assert "Bonus under annual-bonus-2026 (2026, payout factor)" in shown.output
    assert "loses bonus" in shown.output
    document = json.loads(_cli(*args, "--format", "json").output)
    assert document["incentives"]["max_payout_loss"] == pytest.approx(0.02)
    listed = json.loads(_cli("runs", "list", "--db", db, "--format", "json").output)["runs"]
    replayed = _cli("runs", "replay", listed[0]["id"], "--db", db)
    assert replayed.exit_code == 0 and "identical" in replayed.output, replayed.output


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--max-payout-loss", "5%"], "--max-payout-loss goes with --policy"),
        (["--employees", str(ACME / "employees.csv")], "--employees goes with --policy"),
        (["--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml")], "give --period"),
        (
            [
                "--policy",
                str(ROOT / "policies" / "annual-bonus-2026.yaml"),
                "--period",
                "2026",
                "--max-payout-loss",
                "lots",
            ],
            "is not a share",
        ),
        (
            [
                "--policy",
                str(ROOT / "policies" / "annual-bonus-2026.yaml"),
                "--period",
                "2026",
                "--max-payout-loss",
                "150%",
            ],
            "from 0 to below 1",
        ),
    ],
)
def test_bad_incentive_options_are_exit_2(given: list[str], says: str) -> None:
    result = _cli("optimise", str(ACME / "plan.yaml"), *given)
    assert result.exit_code == 2, result.output
    assert says in result.output
