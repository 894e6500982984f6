"""Restating a final period (late actuals) through the CLI, with a real SQLite database: a plain
re-score stays refused and names ``--restates``; the restatement is a new run whose adjustments
are exact to the cent; the final run is untouched until the restatement is finalised, and then
it is marked superseded; a restatement can be restated in turn and replays byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.replay import replay_run
from alignment_engine.storage import RunStatus, Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def _score(db: Path, actuals: Path, *extra: str) -> Any:
    args = ["score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY)]
    args += ["--actuals", str(actuals), "--employees", str(ACME / "employees.csv")]
    args += ["--period", "2026-Q3", "--db", f"sqlite:///{db}", "--format", "json", *extra]
    return CliRunner().invoke(main, args)


def _late(folder: Path, share: str) -> Path:
    """The quarter's actuals with a corrected market share (late data from the field)."""
    lines = (ACME / "actuals-2026-q3.csv").read_text(encoding="utf-8").splitlines()
    fixed = [
        f"2026-Q3,sales,sales.market_share,{share}"
        if line.startswith("2026-Q3,sales,sales.market_share,")
        else line
        for line in lines
    ]
    path = folder / f"actuals-{share}.csv"
    path.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    return path


def _units(document: dict[str, Any]) -> dict[str, int]:
    return {e["employee_id"]: round(e["payout"] * 100) for e in document["employees"]}


@pytest.fixture(scope="module")
def final_quarter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("restate")
    db = folder / "runs.db"
    made = _score(db, ACME / "actuals-2026-q3.csv")
    assert made.exit_code == 0, made.output
    first = json.loads(made.stdout)
    finalised = CliRunner().invoke(
        main, ["runs", "finalise", first["run_id"], "--db", f"sqlite:///{db}"]
    )
    assert finalised.exit_code == 0, finalised.output
    return folder, db, first


def test_a_plain_rescore_of_a_final_period_is_refused_and_names_restates(
    final_quarter: tuple[Path, Path, dict[str, Any]],
) -> None:
    folder, db, first = final_quarter
    refused = _score(db, _late(folder, "0.23"))
    assert refused.exit_code == 2
    assert f"--restates {first['run_id']}" in refused.output
    assert "Traceback" not in refused.output


def test_a_restatement_pays_exact_adjustments_and_leaves_the_final_run_alone(
    final_quarter: tuple[Path, Path, dict[str, Any]],
) -> None:
    folder, db, first = final_quarter
    with Store.open(f"sqlite:///{db}") as store:
        before = store.get_run(first["run_id"])
        paid_before = store.payouts(first["run_id"])
    made = _score(db, _late(folder, "0.23"), "--restates", first["run_id"][:8])
    assert made.exit_code == 0, made.output
    restated = json.loads(made.stdout)
    assert restated["restates"] == first["run_id"]
    previous, now = _units(first), _units(restated)
    expected = {e: now.get(e, 0) - previous.get(e, 0) for e in {*previous, *now}}
    expected = {e: units for e, units in expected.items() if units}
    assert expected, "the late market share changes some payouts"
    got = {a["employee_id"]: a for a in restated["adjustments"]}
    assert set(got) == set(expected)
    for employee, units in expected.items():
        adjustment = got[employee]
        assert round(adjustment["adjustment"] * 100) == units
        assert round(adjustment["previous"] * 100) == previous.get(employee, 0)
        assert round(adjustment["restated"] * 100) == now.get(employee, 0)
        whole, cents = divmod(abs(units), 100)
        assert adjustment["adjustment_text"] == f"{'-' if units < 0 else ''}{whole}.{cents:02d}"
    total = sum(expected.values())
    assert restated["totals"]["adjustment_text"] == (
        f"{'-' if total < 0 else ''}{abs(total) // 100}.{abs(total) % 100:02d}"
    )
    with Store.open(f"sqlite:///{db}") as store:
        after = store.get_run(first["run_id"])
        assert after.status is RunStatus.FINAL
        assert after.result_json == before.result_json
        assert store.payouts(first["run_id"]).equals(paid_before)
        assert store.get_run(restated["run_id"]).status is RunStatus.COMPLETED
        assert replay_run(store, restated["run_id"]).identical


def test_finalising_a_restatement_supersedes_and_it_can_be_restated_again(
    final_quarter: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, db, first = final_quarter
    made = _score(db, _late(folder, "0.22"), "--restates", first["run_id"])
    assert made.exit_code == 0, made.output
    second = json.loads(made.stdout)
    url = f"sqlite:///{db}"
    assert (
        CliRunner().invoke(main, ["runs", "finalise", second["run_id"], "--db", url]).exit_code == 0
    )
    with Store.open(url) as store:
        assert store.get_run(first["run_id"]).status is RunStatus.SUPERSEDED
        assert store.get_run(second["run_id"]).status is RunStatus.FINAL
        actions = [entry.action for entry in store.audit_log()]
    assert "run.superseded" in actions
    # The superseded run is no longer what a restatement restates.
    stale = _score(db, ACME / "actuals-2026-q3.csv", "--restates", first["run_id"])
    assert stale.exit_code == 2
    assert f"the final score run of 2026-Q3 is {second['run_id']}" in stale.output
    # Back to the original actuals, restating the restatement: every adjustment reverses.
    again = _score(db, ACME / "actuals-2026-q3.csv", "--restates", second["run_id"])
    assert again.exit_code == 0, again.output
    third = json.loads(again.stdout)
    assert third["restates"] == second["run_id"]
    assert _units(third) == _units(first)
    reversed_ = {a["employee_id"]: a["adjustment"] for a in third["adjustments"]}
    forward = {a["employee_id"]: a["adjustment"] for a in second["adjustments"]}
    assert reversed_ == {e: -v for e, v in forward.items()}


def test_restating_a_run_that_does_not_exist_is_named(tmp_path: Path) -> None:
    refused = _score(tmp_path / "runs.db", ACME / "actuals-2026-q3.csv", "--restates", "abcd1234")
    assert refused.exit_code == 2
    assert "no run 'abcd1234'" in refused.output and "Traceback" not in refused.output
