"""Storing a 1,000,000-employee score run: the bulk paths against naive baselines, same run.

    .venv/bin/python benchmarks/storage.py [--rows 1000000] [--postgres URL] [--no-postgres]

For SQLite (a file in a temporary directory) and PostgreSQL (``--postgres URL``, else a throwaway
cluster started here when initdb/pg_ctl are on PATH) it measures:

- staging: canonical CSV and sha256 of the input tables (``RunRecord.create``);
- record_run: the whole stored run in one transaction (documents, compressed input tables,
  the compressed result text, one payout row per employee via COPY or executemany);
- reading the payout rows back, ``get_run`` (the exact result text), and a diff of two runs;
- the baselines, on the same payouts table: one ORM object per row (``session.add``, one commit) (10,000 rows,
  extrapolated) and ``pandas.DataFrame.to_sql`` (100,000 rows, extrapolated).

It prints one table; the last column compares each payout-insert path with the ORM baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from alignment_engine.storage import RunRecord, Store
from alignment_engine.storage.bulk import payout_rows
from alignment_engine.storage.orm import PayoutRow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from throwaway_postgres import (
    PostgresUnavailableError,
    ThrowawayPostgres,
    postgres_unavailable_reason,
)

ORM_SAMPLE = 10_000
TO_SQL_SAMPLE = 100_000


@dataclass
class Measurement:
    backend: str
    step: str
    rows: int
    seconds: float
    extrapolated: bool = False
    payout_insert: bool = False


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def make_inputs(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    departments = np.array(["sales", "marketing", "finance", "production", "rd", "support"])
    employees = pd.DataFrame(
        {
            "employee_id": [f"E{i:07d}" for i in range(rows)],
            "department": departments[rng.integers(0, len(departments), rows)],
            "target_bonus": np.round(rng.uniform(5_000, 50_000, rows), 2),
            "individual_score": np.round(rng.uniform(0.5, 1.5, rows), 3),
        }
    )
    actuals = pd.DataFrame(
        {
            "period": "2026-Q3",
            "scope": ["sales", "finance", "company"],
            "kpi": ["sales.market_share", "finance.margin", "company.revenue"],
            "actual": [0.26, 0.12, 1050.0],
        }
    )
    factor = np.round(rng.uniform(0.0, 2.0, rows), 4)
    payouts = pd.DataFrame(
        {
            "employee_id": employees["employee_id"],
            "department": employees["department"],
            "payout": np.round(employees["target_bonus"].to_numpy() * factor, 2),
            "factor": factor,
        }
    )
    return employees, actuals, payouts


def result_text(run_id: str, payouts: pd.DataFrame) -> str:
    """A score command's JSON output for these payouts (what record_run stores verbatim)."""
    employees = [
        {"employee_id": e, "department": d, "payout": p, "factor": f, "explanation": "curve"}
        for e, d, p, f in zip(
            payouts["employee_id"].tolist(),
            payouts["department"].tolist(),
            payouts["payout"].tolist(),
            payouts["factor"].tolist(),
            strict=True,
        )
    ]
    total = float(payouts["payout"].sum())
    return json.dumps(
        {
            "run_id": run_id,
            "period": "2026-Q3",
            "kpis": [],
            "departments": [],
            "employees": employees,
            "totals": {"payout": total, "pool": None, "scale": 1.0},
        },
        indent=2,
        ensure_ascii=False,
    )


PLAN = {"kind": "plan", "id": "bench", "name": "Benchmark", "currency": "CNY"}
POLICY = {"kind": "policy", "id": "bench-policy"}


def bench_backend(backend: str, url: str, rows: int) -> list[Measurement]:
    out: list[Measurement] = []
    employees, actuals, payouts = make_inputs(rows, seed=1)
    with Store.open(url, check_schema=False) as store:
        store.upgrade()
        seconds, record = timed(
            lambda: RunRecord.create(
                "score",
                period="2026-Q3",
                documents={"plan": PLAN, "policy": POLICY},
                tables={"employees": employees, "actuals": actuals},
                options={"bench": 1},
            )
        )
        out.append(Measurement(backend, "stage inputs (canonical CSV + sha256)", rows, seconds))
        text = result_text(record.run_id, payouts)
        seconds, stored = timed(lambda: store.record_run(record, result_json=text, payouts=payouts))
        out.append(Measurement(backend, "record_run (whole run, one transaction)", rows, seconds))

        # The payout insert alone, as record_run does it, into a fresh run.
        bare = RunRecord.create("score", period="bulk", options={"bench": 2})
        bare_run = store.record_run(bare, result_json="{}", payouts=payouts.iloc[:0])
        frame = payout_rows(bare_run.id, payouts, 2)
        from alignment_engine.storage.bulk import insert_frame
        from alignment_engine.storage.connection import write_transaction

        def bulk_insert() -> None:
            with write_transaction(store._engine) as connection:
                insert_frame(connection, PayoutRow.__table__, frame)  # type: ignore[arg-type]

        seconds, _ = timed(bulk_insert)
        method = "COPY" if store.dialect == "postgresql" else "executemany"
        out.append(Measurement(backend, f"payout rows: bulk {method}", rows, seconds, False, True))

        # Baseline 1: one ORM object per row.
        orm_run = store.record_run(
            RunRecord.create("score", period="orm", options={"bench": 3}),
            result_json="{}",
            payouts=payouts.iloc[:0],
        )
        sample = payout_rows(orm_run.id, payouts.iloc[:ORM_SAMPLE], 2)

        def orm_insert() -> None:
            with Session(store._engine) as session:
                for item in sample.itertuples(index=False):
                    session.add(
                        PayoutRow(
                            run_id=item.run_id,
                            position=int(item.position),
                            employee_id=item.employee_id,
                            department=item.department,
                            payout_units=int(item.payout_units),
                            factor=float(item.factor),
                        )
                    )
                session.commit()

        seconds, _ = timed(orm_insert)
        out.append(
            Measurement(
                backend,
                f"baseline: ORM session.add per row ({ORM_SAMPLE:,} rows, extrapolated)",
                rows,
                seconds * rows / len(sample),
                True,
                True,
            )
        )

        # Baseline 2: pandas to_sql (SQLAlchemy executemany) into the same table.
        to_sql_run = store.record_run(
            RunRecord.create("score", period="to_sql", options={"bench": 4}),
            result_json="{}",
            payouts=payouts.iloc[:0],
        )
        sample = payout_rows(to_sql_run.id, payouts.iloc[:TO_SQL_SAMPLE], 2)

        def to_sql_insert() -> None:
            with store._engine.begin() as connection:
                sample.to_sql("payouts", connection, if_exists="append", index=False)

        seconds, _ = timed(to_sql_insert)
        out.append(
            Measurement(
                backend,
                f"baseline: pandas to_sql ({TO_SQL_SAMPLE:,} rows, extrapolated)",
                rows,
                seconds * rows / len(sample),
                True,
                True,
            )
        )

        seconds, _ = timed(lambda: store.payouts(stored.id))
        out.append(Measurement(backend, "read payout rows back", rows, seconds))
        seconds, _ = timed(lambda: store.get_run(stored.id))
        out.append(Measurement(backend, "get_run (exact result text)", rows, seconds))

        changed = payouts.copy()
        changed.loc[::10, "payout"] += 1.0
        second_record = RunRecord.create(
            "score",
            period="2026-Q3",
            documents={"plan": PLAN, "policy": POLICY},
            tables={"employees": employees, "actuals": actuals},
            options={"bench": 5},
        )
        second = store.record_run(
            second_record, result_json=result_text(second_record.run_id, changed), payouts=changed
        )
        seconds, difference = timed(lambda: store.diff(stored.id, second.id))
        assert difference.payouts is not None
        assert difference.payouts["totals"]["changed"] == len(range(0, rows, 10))
        out.append(Measurement(backend, "diff of two runs (10% changed)", rows, seconds))
    return out


def print_table(measurements: list[Measurement]) -> None:
    header = (
        f"{'backend':<11} {'step':<62} {'rows':>10} {'seconds':>9} {'rows/s':>11} {'vs ORM':>8}"
    )
    print(header)
    print("-" * len(header))
    orm = {
        m.backend: m.seconds
        for m in measurements
        if m.payout_insert and m.step.startswith("baseline: ORM")
    }
    for m in measurements:
        speed = m.rows / m.seconds if m.seconds > 0 else float("inf")
        versus = f"{orm[m.backend] / m.seconds:7.1f}x" if m.payout_insert else ""
        mark = "~" if m.extrapolated else " "
        print(
            f"{m.backend:<11} {m.step:<62} {m.rows:>10,} {mark}{m.seconds:>8.2f} "
            f"{speed:>11,.0f} {versus:>8}"
        )
    print("~ extrapolated linearly from the sample size named in the step")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--no-postgres", action="store_true")
    arguments = parser.parse_args()
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        measurements += bench_backend("sqlite", url, arguments.rows)
    if not arguments.no_postgres:
        if arguments.postgres:
            measurements += bench_backend("postgresql", arguments.postgres, arguments.rows)
        elif (reason := postgres_unavailable_reason()) is not None:
            print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
        else:
            try:
                server = ThrowawayPostgres.start()
            except PostgresUnavailableError as exc:
                print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            else:
                try:
                    url = server.create_database("bench")
                    measurements += bench_backend("postgresql", url, arguments.rows)
                finally:
                    server.stop()
    print_table(measurements)
    return 0


if __name__ == "__main__":
    sys.exit(main())
