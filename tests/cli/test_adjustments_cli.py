"""``score --adjustments`` end to end: stored with the run, replayed, explained on demand."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.replay import replay_run
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def test_adjustments_are_stored_replayed_and_explained(tmp_path: Path) -> None:
    adjustments = tmp_path / "adjustments.csv"
    adjustments.write_text(
        "employee_id,amount,reason,note\n"
        "E00002,500.00,SPOT-AWARD,Closed the Hangzhou deal 杭州\n"
        "E00002,-120.50,CORRECTION,\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY)]
    args += ["--actuals", str(ACME / "actuals-2026-q3.csv")]
    args += ["--employees", str(ACME / "employees.csv"), "--period", "2026-Q3", "--db", url]
    plain = CliRunner().invoke(main, [*args, "--format", "json"])
    adjusted = CliRunner().invoke(
        main, [*args, "--adjustments", str(adjustments), "--format", "json"]
    )
    assert plain.exit_code == 0 and adjusted.exit_code == 0, adjusted.output
    before, after = json.loads(plain.stdout), json.loads(adjusted.stdout)
    assert after["run_id"] != before["run_id"]
    paid = {e["employee_id"]: e["payout"] for e in before["employees"]}
    now = {e["employee_id"]: e["payout"] for e in after["employees"]}
    assert round((now["E00002"] - paid["E00002"]) * 100) == 37950
    assert {e: v for e, v in now.items() if e != "E00002"} == {
        e: v for e, v in paid.items() if e != "E00002"
    }
    assert after["totals"]["manual_adjustment_text"] == "379.50"
    assert [a["reason"] for a in after["manual_adjustments"]] == ["SPOT-AWARD", "CORRECTION"]
    with Store.open(url) as store:
        assert "adjustments" in store.get_run(after["run_id"]).tables
        assert replay_run(store, after["run_id"]).identical
    shown = CliRunner().invoke(
        main, ["runs", "show", after["run_id"], "--explain", "E00002", "--db", url]
    )
    assert shown.exit_code == 0, shown.output
    assert "+ 500.00 (SPOT-AWARD) - 120.50 (CORRECTION)" in shown.output
