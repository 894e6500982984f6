"""Deferral and clawback across four quarters through the CLI, on SQLite and PostgreSQL: a
quarter's payout is partly deferred and released two quarters later in that quarter's run; a
restatement that lowers a paid quarter is recovered from the next quarters' pay, never below
zero; a draft made before the ledger changed cannot be finalised; statements and the payroll
export pay what is paid now; every run replays byte for byte from the database alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.replay import replay_run
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"


def _quarter_actuals(folder: Path, quarter: int, net_margin: str | None = None) -> Path:
    """The bundled 2026-Q3 results moved to another quarter (its months moved with it)."""
    with (ACME / "actuals-2026-q3.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    path = folder / f"actuals-q{quarter}-{net_margin or 'as-is'}.csv"
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(rows[0])
        for period, scope, kpi, actual in rows[1:]:
            if period == "2026-Q3":
                period = f"2026-Q{quarter}"
            else:
                period = f"2026-{int(period[-2:]) - 6 + 3 * (quarter - 1):02d}"
            if net_margin is not None and kpi == "company.net_margin" and "Q" in period:
                actual = net_margin
            writer.writerow([period, scope, kpi, actual])
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    policy = POLICY.read_text(encoding="utf-8")
    policy += "deferral: {share: 0.25, periods: 2}\nclawback: {lookback: 2}\n"
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    lines = (ACME / "employees.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "employees.csv").write_text("\n".join(lines[:41]) + "\n", encoding="utf-8")
    return tmp_path


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _score(folder: Path, db: str, quarter: int, *extra: str, margin: str | None = None) -> Any:
    made = _invoke(
        "score", "--plan", str(ACME / "plan.yaml"), "--policy", str(folder / "policy.yaml"),
        "--actuals", str(_quarter_actuals(folder, quarter, margin)),
        "--employees", str(folder / "employees.csv"), "--period", f"2026-Q{quarter}",
        "--db", db, "--format", "json", *extra,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return json.loads(made.stdout)


def _final(db: str, document: dict[str, Any]) -> None:
    done = _invoke("runs", "finalise", document["run_id"], "--db", db)
    assert done.exit_code == 0, done.output


def _cents(document: dict[str, Any], key: str) -> dict[str, int]:
    return {e["employee_id"]: round(e[key] * 100) for e in document["employees"]}


def _ledger(document: dict[str, Any], employee: str) -> dict[str, Any]:
    row = next(e for e in document["employees"] if e["employee_id"] == employee)
    ledger: dict[str, Any] = row["explanation"]["ledger"]
    return ledger


def test_deferral_release_and_clawback_over_four_quarters(folder: Path, db_url: str) -> None:
    q1 = _score(folder, db_url, 1)
    _final(db_url, q1)
    payout = _cents(q1, "payout")
    paid = _cents(q1, "paid")
    assert any(payout.values())
    for employee, units in payout.items():
        deferred = round(units * 0.25 + 1e-9)  # half_up of an exact quarter
        assert paid[employee] == units - deferred
        assert round(_ledger(q1, employee)["deferred"] * 100) == deferred
    totals = q1["totals"]["ledger"]
    assert round(totals["deferred"]["amount"] * 100) + round(totals["paid"]["amount"] * 100) == (
        round(q1["totals"]["payout"] * 100)
    )

    q2 = _score(folder, db_url, 2)
    _final(db_url, q2)
    assert q2["totals"]["ledger"]["released"]["amount"] == 0  # Q1's deferral is due in Q3

    q3 = _score(folder, db_url, 3)
    released = {e: round(_ledger(q3, e)["released"] * 100) for e in payout}
    assert released == {e: units - paid[e] for e, units in payout.items()}  # Q1's, exactly
    _final(db_url, q3)

    # A late correction lowers 2026-Q2: the fall is recovered from the quarters after it.
    draft_q4 = _score(folder, db_url, 4)
    restated = _score(folder, db_url, 2, "--restates", q2["run_id"], margin="0.03")
    falls = {a["employee_id"]: -round(a["adjustment"] * 100) for a in restated["adjustments"]}
    assert falls and all(units > 0 for units in falls.values())
    assert all(a["paid"] == 0 for a in restated["adjustments"]), "recovered later, not now"
    assert {a["employee_id"]: round(a["to_recover"] * 100) for a in restated["adjustments"]} == (
        falls
    )
    _final(db_url, restated)

    refused = _invoke("runs", "finalise", draft_q4["run_id"], "--db", db_url)
    assert refused.exit_code == 2
    assert "score the period again" in refused.output

    q4 = _score(folder, db_url, 4)
    _final(db_url, q4)
    for row in q4["employees"]:
        employee = row["employee_id"]
        ledger = row["explanation"]["ledger"]
        assert ledger["paid"] >= 0
        owed = falls.get(employee, 0)
        available = round((ledger["payable"] - ledger["deferred"] + ledger["released"]) * 100)
        assert round(ledger["recovered"] * 100) == min(owed, available)
    written_off = round(q4["totals"]["ledger"]["written_off"]["amount"] * 100)
    recovered = round(q4["totals"]["ledger"]["recovered"]["amount"] * 100)
    assert recovered + written_off == sum(falls.values())  # Q4 ends the look-back of Q2

    with Store.open(db_url) as store:
        for document in (q1, q3, restated, q4):
            assert replay_run(store, document["run_id"]).identical
        lots = store.open_lots("2027-Q1")
    assert set(lots["origin"]) == {"2026-Q3"}  # Q3's deferral falls due in 2027-Q1

    out = folder / "statements"
    made = _invoke("statements", q4["run_id"], "--out", str(out), "--db", db_url, "--employee",
                   "E00001")  # fmt: skip
    assert made.exit_code == 0, made.output
    with (out / "payroll.csv").open(encoding="utf-8", newline="") as handle:
        payroll = {row["employee_id"]: row["amount"] for row in csv.DictReader(handle)}
    assert payroll == {row["employee_id"]: f"{row['paid']:.2f}" for row in q4["employees"]}, (
        "payroll pays what is paid now"
    )
    page = (out / "statement-E00001.html").read_text(encoding="utf-8")
    assert "paid now" in page and "released, deferred from 2026-Q2" in page


def test_quarterly_advances_are_trued_up_by_the_year(folder: Path, db_url: str) -> None:
    policy = POLICY.read_text(encoding="utf-8") + "advances: {share: 0.5}\n"
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    advanced: dict[str, int] = {}
    for quarter in (1, 2, 3, 4):
        document = _score(folder, db_url, quarter)
        _final(db_url, document)
        for employee, units in _cents(document, "paid").items():
            advanced[employee] = advanced.get(employee, 0) + units
    year_rows = folder / "actuals-2026.csv"
    with year_rows.open("w", encoding="utf-8", newline="") as handle:
        for quarter in (1, 2, 3, 4):
            lines = _quarter_actuals(folder, quarter).read_text(encoding="utf-8").splitlines()
            handle.write("\n".join(lines if quarter == 1 else lines[1:]) + "\n")
    made = _invoke(
        "score", "--plan", str(ACME / "plan.yaml"), "--policy", str(folder / "policy.yaml"),
        "--actuals", str(year_rows), "--employees", str(folder / "employees.csv"),
        "--period", "2026", "--db", db_url, "--format", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    year = json.loads(made.stdout)
    for row in year["employees"]:
        employee = row["employee_id"]
        ledger = row["explanation"]["ledger"]
        assert round(ledger["advanced"] * 100) == advanced[employee]
        assert round(row["paid"] * 100) == max(round(row["payout"] * 100) - advanced[employee], 0)
