"""Pay in the employee's currency through the CLI: ``score --fx`` converts what is paid now,
the rates are stored with the run (replayed byte for byte), payroll.csv pays each person in their
currency; a foreign currency without rates exits 2 naming --fx."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.replay import replay_run
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def _score(tmp_path: Path, *extra: str) -> object:
    employees = tmp_path / "employees.csv"
    employees.write_text(
        "employee_id,department,target_bonus,currency,name\n"
        "E1,sales,12000,USD,Ann\nE2,sales,10000,CNY,Bob\nE3,finance,9000,,李雷\n",
        encoding="utf-8",
    )
    return CliRunner().invoke(
        main,
        ["score", "--plan", str(ACME / "plan.yaml"), "--policy", str(POLICY),
         "--actuals", str(ACME / "actuals-2026-q3.csv"), "--employees", str(employees),
         "--period", "2026-Q3", "--db", f"sqlite:///{tmp_path / 'runs.db'}", *extra],
    )  # fmt: skip


def test_pay_is_converted_stored_and_exported_in_each_currency(tmp_path: Path) -> None:
    refused = _score(tmp_path)
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    assert "score --fx" in refused.output  # type: ignore[attr-defined]
    rates = tmp_path / "fx.csv"
    rates.write_text("period,currency,rate\n2026-Q3,USD,0.138\n2026-Q2,USD,0.5\n", "utf-8")
    made = _score(tmp_path, "--fx", str(rates), "--format", "json")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    document = json.loads(made.stdout)  # type: ignore[attr-defined]
    rows = {e["employee_id"]: e for e in document["employees"]}
    assert rows["E1"]["pay_currency"] == "USD"
    exact = Decimal(round(rows["E1"]["payout"] * 100)) * Decimal("0.138")
    assert round(rows["E1"]["pay_amount"] * 100) == int(exact.quantize(1, ROUND_HALF_UP))
    assert rows["E2"]["pay_amount"] == rows["E2"]["payout"]
    assert rows["E1"]["explanation"]["fx"]["rate"] == 0.138
    by_currency = document["totals"]["by_currency"]
    cny = round(rows["E2"]["payout"] * 100) + round(rows["E3"]["payout"] * 100)
    assert by_currency["CNY"] == f"{cny // 100}.{cny % 100:02d}"
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    rates.write_text("period,currency,rate\n2026-Q3,USD,9\n", "utf-8")  # edited later
    with Store.open(url) as store:
        assert replay_run(store, document["run_id"]).identical  # the stored rates, not the file
    out = tmp_path / "statements"
    written = CliRunner().invoke(main, ["statements", document["run_id"], "--out", str(out),
                                        "--db", url])  # fmt: skip
    assert written.exit_code == 0, written.output
    with (out / "payroll.csv").open(encoding="utf-8", newline="") as handle:
        payroll = {r["employee_id"]: (r["currency"], r["amount"]) for r in csv.DictReader(handle)}
    assert payroll["E1"] == ("USD", f"{rows['E1']['pay_amount']:.2f}")
    assert payroll["E3"] == ("CNY", f"{rows['E3']['payout']:.2f}")
