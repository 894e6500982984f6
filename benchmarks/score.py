"""Quarter-end scoring at scale: 1,000,000 employees in 1,000 departments with 5 KPIs each.

From CSV to written outputs, each variant in its own process (so peak memory is its own):

- ``pandas baseline``: a hand-written pandas script doing the same arithmetic and I/O: the three
  tables, ``score.json`` (one row per employee) and ``summary.json`` written, the run stored in
  SQLite (the input files compressed, one row per payout, the result compressed);
- ``engine``: read_table -> engine.score_period -> the three tables, nothing stored;
- ``cli, cold``: the whole ``alignment-engine score --db sqlite:... --out DIR`` command on a new
  database, so the report's conflict check runs too (work the baseline does not do);
- ``cli, after check``: the same after ``alignment-engine check`` stored its run, as the
  quarter-end runbook has it: the report reuses the stored check.

Run: ``python benchmarks/score.py [--employees N] [--departments N]``. Prints a table; the goal
is the CLI within 2x of the baseline and peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from peak import measure_command

KPIS_PER_DEPARTMENT = 5


KPIS_PER_METRIC = 20
INFLUENCES_PER_METRIC = 2


def make_inputs(folder: Path, employees: int, departments: int, seed: int = 2026) -> None:
    """A plan shaped like a large real one: each department's KPIs on metrics drawn from a pool
    of one metric per 20 KPIs, two influences per metric with random signs (so the quarter-end
    report's conflict check has thousands of root causes to find), a company KPI and a policy."""
    rng = np.random.default_rng(seed)
    department_ids = [f"d{i:04d}" for i in range(departments)]
    metric_count = max(5, departments * KPIS_PER_DEPARTMENT // KPIS_PER_METRIC)
    influences = set()
    while len(influences) < INFLUENCES_PER_METRIC * metric_count:
        cause, effect = (int(v) for v in rng.integers(metric_count, size=2))
        if cause != effect:
            influences.add((cause, effect))
    kpi_metrics = rng.integers(metric_count, size=(departments, KPIS_PER_DEPARTMENT))
    plan = {
        "kind": "plan",
        "id": "bench",
        "objectives": [{"id": "F1", "perspective": "financial"}],
        "metrics": [{"id": f"m{k}", "aggregation": "mean"} for k in range(metric_count)]
        + [{"id": "revenue", "aggregation": "sum"}],
        "influences": [
            {"from": f"m{c}", "to": f"m{e}", "sign": "+" if rng.random() < 0.5 else "-"}
            for c, e in sorted(influences)
        ],
        "company_kpis": [
            {
                "id": "company.revenue",
                "metric": "revenue",
                "target": 1000.0,
                "threshold": 800.0,
                "maximum": 1200.0,
                "weight": 1,
                "objectives": ["F1"],
            }
        ],
        "departments": [
            {
                "id": d,
                "kpis": [
                    {
                        "id": f"{d}.k{k}",
                        "metric": f"m{kpi_metrics[i, k]}",
                        "target": 100.0,
                        "threshold": 80.0,
                        "maximum": 120.0,
                        "weight": 0.2,
                        "objectives": ["F1"],
                    }
                    for k in range(KPIS_PER_DEPARTMENT)
                ],
            }
            for i, d in enumerate(department_ids)
        ],
    }
    policy = {
        "kind": "policy",
        "id": "bench-bonus",
        "components": {"company": 0.2, "department": 0.6, "individual": 0.2},
        "curves": {
            "default": {
                "basis": "levels",
                "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0},
            }
        },
        "caps": {"kpi": 2.0, "employee": 2.0},
        "pool": {"amount": float(employees) * 9000.0, "mode": "scale_down"},
        "rounding": {"decimals": 2, "mode": "half_up"},
        "proration": "none",
    }
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    kpi_ids = [f"{d}.k{k}" for d in department_ids for k in range(KPIS_PER_DEPARTMENT)]
    actuals = pd.DataFrame(
        {
            "period": "2026-Q3",
            "scope": np.repeat(department_ids, KPIS_PER_DEPARTMENT),
            "kpi": kpi_ids,
            "actual": np.round(rng.normal(100, 12, len(kpi_ids)), 3),
        }
    )
    company = pd.DataFrame(
        [{"period": "2026-Q3", "scope": "company", "kpi": "company.revenue", "actual": 1040.0}]
    )
    pd.concat([company, actuals]).to_csv(folder / "actuals.csv", index=False)
    pd.DataFrame(
        {
            "employee_id": [f"E{i:07d}" for i in range(employees)],
            "department": rng.choice(department_ids, employees),
            "target_bonus": np.round(rng.uniform(2000, 20000, employees), 2),
            "individual_score": np.round(rng.uniform(0.6, 1.4, employees), 2),
        }
    ).to_csv(folder / "employees.csv", index=False)


ENGINE = """
import sys
from pathlib import Path
import pandas as pd
from alignment_engine.engine import score_period
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.outputs import write_table
from alignment_engine.tables import ACTUALS, EMPLOYEES, read_table
folder, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(exist_ok=True)
plan = plan_from_yaml(folder / "plan.yaml"); policy = policy_from_yaml(folder / "policy.yaml")
result = score_period(plan, policy, read_table(folder / "actuals.csv", ACTUALS),
                      read_table(folder / "employees.csv", EMPLOYEES), "2026-Q3")
write_table(result.employees_frame(), out / "employees.csv", "csv")
write_table(pd.DataFrame([k.to_dict() for k in result.kpis]), out / "kpis.csv", "csv")
departments = [d.to_dict(policy.rounding.decimals) for d in result.departments]
write_table(pd.DataFrame([{k: v for k, v in d.items() if not isinstance(v, (dict, list))} for d in departments]), out / "departments.csv", "csv")
print(result.totals_dict()["payout_text"])
"""


BASELINE = """
import sqlite3, sys
import zstandard  # the codec the store uses: the same I/O
from pathlib import Path
import numpy as np, orjson, pandas as pd
folder, out, db = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
out.mkdir(exist_ok=True)
actuals = pd.read_csv(folder / "actuals.csv")
employees = pd.read_csv(folder / "employees.csv")
# levels curve: threshold 80 -> 0.5, target 100 -> 1.0, maximum 120 -> 2.0, 0 below, capped 2
def factor(actual):
    f = np.interp(actual, [80.0, 100.0, 120.0], [0.5, 1.0, 2.0])
    return np.minimum(np.where(actual < 80.0, 0.0, f), 2.0)
company_actual = actuals.loc[actuals.scope == "company", "actual"].to_numpy()[0]
company = float(np.minimum(np.where(company_actual < 800, 0, np.interp(company_actual, [800, 1000, 1200], [0.5, 1.0, 2.0])), 2.0))
kpis = actuals[actuals.scope != "company"].copy()
kpis["attainment"] = kpis["actual"] / 100.0
kpis["payout_factor"] = factor(kpis["actual"].to_numpy())
departments = kpis.groupby("scope", sort=False)["payout_factor"].mean().rename("score").reset_index()
employees = employees.merge(departments, left_on="department", right_on="scope", how="left")
employees["factor"] = np.minimum(0.2 * company + 0.6 * employees["score"] + 0.2 * employees["individual_score"], 2.0)
amount = employees["target_bonus"].to_numpy() * employees["factor"].to_numpy()
pool = len(employees) * 9000.0
scale = min(1.0, pool / amount.sum())
cents = np.floor(amount * scale * 100 + 0.5).astype(np.int64)
employees["payout"] = cents / 100
# The same outputs as score --out: three tables, the JSON result and its summary.
employees[["employee_id", "department", "target_bonus", "factor", "payout"]].to_csv(out / "employees.csv", index=False)
kpis.to_csv(out / "kpis.csv", index=False)
departments.to_csv(out / "departments.csv", index=False)
summary = {"period": "2026-Q3", "kpis": kpis.to_dict("records"), "departments": departments.to_dict("records"),
           "totals": {"payout": int(cents.sum()) / 100, "pool": pool, "scale": float(scale)}}
rows = [{"employee_id": e, "department": d, "payout": p, "factor": f, "explanation": None}
        for e, d, p, f in zip(employees["employee_id"].tolist(), employees["department"].tolist(),
                              employees["payout"].tolist(), employees["factor"].tolist())]
result = orjson.dumps({**summary, "employees": rows}, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
(out / "score.json").write_bytes(result + b"\\n")
(out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\\n")
# The same storage as --db: the inputs (compressed), one row per payout, the result (compressed).
if db.startswith("postgresql"):
    import io, psycopg
    with psycopg.connect(db.replace("postgresql+psycopg", "postgresql")) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS inputs (run_id TEXT, role TEXT, data BYTEA)")
        connection.execute("CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, result BYTEA)")
        connection.execute("CREATE TABLE IF NOT EXISTS payouts (run_id TEXT, position INTEGER, employee_id TEXT,"
                           " department TEXT, payout_units BIGINT, factor DOUBLE PRECISION, PRIMARY KEY (run_id, position))")
        for role in ("plan.yaml", "policy.yaml", "actuals.csv", "employees.csv"):
            connection.execute("INSERT INTO inputs VALUES (%s, %s, %s)", ("run1", role, zstandard.ZstdCompressor(level=3).compress((folder / role).read_bytes())))
        frame = pd.DataFrame({"run_id": "run1", "position": np.arange(1, len(rows) + 1), "employee_id": employees["employee_id"],
                              "department": employees["department"], "payout_units": cents, "factor": employees["factor"]})
        with connection.cursor() as cursor, cursor.copy("COPY payouts FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(frame.to_csv(index=False, header=False))
        connection.execute("INSERT INTO runs VALUES (%s, %s)", ("run1", zstandard.ZstdCompressor(level=3).compress(result)))
    print(f"{cents.sum() / 100:.2f}")
    sys.exit(0)
connection = sqlite3.connect(db)
connection.executescript(
    "CREATE TABLE IF NOT EXISTS inputs (run_id TEXT, role TEXT, data BLOB);"
    "CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, result BLOB);"
    "CREATE TABLE IF NOT EXISTS payouts (run_id TEXT, position INTEGER, employee_id TEXT,"
    " department TEXT, payout_units INTEGER, factor REAL, PRIMARY KEY (run_id, position)) WITHOUT ROWID;"
)
with connection:
    for role in ("plan.yaml", "policy.yaml", "actuals.csv", "employees.csv"):
        connection.execute("INSERT INTO inputs VALUES (?, ?, ?)", ("run1", role, zstandard.ZstdCompressor(level=3).compress((folder / role).read_bytes())))
    connection.executemany("INSERT INTO payouts VALUES ('run1', ?, ?, ?, ?, ?)",
                           zip(range(1, len(rows) + 1), employees["employee_id"].tolist(),
                               employees["department"].tolist(), cents.tolist(), employees["factor"].tolist()))
    connection.execute("INSERT INTO runs VALUES (?, ?)", ("run1", zstandard.ZstdCompressor(level=3).compress(result)))
print(f"{cents.sum() / 100:.2f}")
"""


def run(label: str, command: list[str]) -> dict[str, object]:
    """Run one variant in its own process (peak memory its own: see peak.py)."""
    measured = measure_command(command)
    if measured.returncode != 0:
        raise SystemExit(f"{label} failed:\n{measured.stderr[-3000:]}")
    lines = measured.stdout.strip().splitlines()
    return {
        "variant": label,
        "seconds": measured.seconds,
        "peak_mb": measured.peak_mb,
        "tree_mb": measured.tree_mb,
        "total": lines[-1] if lines else "",
    }


def postgres_rows(
    folder: Path, cli: list[str], score: Callable[[str, str], list[str]]
) -> list[dict[str, object]]:
    """The baseline and the CLI (after check) on a throwaway PostgreSQL, where one can start."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from throwaway_postgres import (  # a test helper: tests/throwaway_postgres.py
        PostgresUnavailableError,
        ThrowawayPostgres,
        postgres_unavailable_reason,
    )

    if (reason := postgres_unavailable_reason()) is not None:
        print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
        return []
    try:
        server = ThrowawayPostgres.start()
    except PostgresUnavailableError as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return []
    try:
        baseline_url = server.create_database("baseline")
        engine_url = server.create_database("engine")
        baseline = run(
            "pandas baseline (+ PostgreSQL, score.json)",
            [
                sys.executable,
                "-c",
                BASELINE,
                str(folder),
                str(folder / "out-pg-base"),
                baseline_url,
            ],
        )
        plan, policy = str(folder / "plan.yaml"), str(folder / "policy.yaml")
        subprocess.run([*cli, "db", "upgrade", "--db", engine_url], check=True, capture_output=True)
        subprocess.run(
            [*cli, "check", plan, "--policy", policy, "--db", engine_url],
            check=True,
            capture_output=True,
        )
        engine = run("cli, after check (PostgreSQL, --out)", score(engine_url, "out-pg"))
        return [baseline, {**engine, "total": ""}]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=1_000)
    parser.add_argument("--skip-cli", action="store_true", help="leave out the full CLI run")
    parser.add_argument(
        "--no-postgres", action="store_true", help="leave out the throwaway PostgreSQL rows"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ae-bench-score-") as temp:
        folder = Path(temp)
        # In a child process, so that this one stays small (see peak.py).
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); from score import make_inputs; "
                "from pathlib import Path; make_inputs(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))",
                str(Path(__file__).resolve().parent),
                str(folder),
                str(args.employees),
                str(args.departments),
            ],
            check=True,
        )
        baseline_db = folder / "baseline.db"
        rows = [
            run(
                "pandas baseline (+ SQLite, score.json)",
                [
                    sys.executable,
                    "-c",
                    BASELINE,
                    str(folder),
                    str(folder / "out-baseline"),
                    str(baseline_db),
                ],
            ),
            run(
                "engine (no storage)",
                [sys.executable, "-c", ENGINE, str(folder), str(folder / "out-engine")],
            ),
        ]
        if not args.skip_cli:
            plan, policy = str(folder / "plan.yaml"), str(folder / "policy.yaml")
            cli = [sys.executable, "-m", "alignment_engine"]

            def score(db_url: str, out: str) -> list[str]:
                return [
                    *cli,
                    "score",
                    "--plan",
                    plan,
                    "--policy",
                    policy,
                    "--actuals",
                    str(folder / "actuals.csv"),
                    "--employees",
                    str(folder / "employees.csv"),
                    "--period",
                    "2026-Q3",
                    "--db",
                    db_url,
                    "--out",
                    str(folder / out),
                    "--format",
                    "json",
                ]

            row = run(
                "cli, cold (report runs the check)",
                score(f"sqlite:///{folder / 'cold.db'}", "out-cold"),
            )
            rows.append({**row, "total": ""})
            # The quarter-end runbook: check the plan, then score; the report reuses the check.
            checked = folder / "checked.db"
            subprocess.run(
                [*cli, "check", plan, "--policy", policy, "--db", f"sqlite:///{checked}"],
                check=True,
                capture_output=True,
            )
            row = run(
                "cli, after check (SQLite, --out)", score(f"sqlite:///{checked}", "out-checked")
            )
            rows.append({**row, "total": ""})
            if not args.no_postgres:
                rows += postgres_rows(folder, cli, score)

    def baseline_of(row: dict[str, object]) -> float:
        """Each row against the baseline on its own database."""
        backend = "PostgreSQL" if "PostgreSQL" in str(row["variant"]) else "SQLite"
        return next(
            float(r["seconds"])  # type: ignore[arg-type]
            for r in rows
            if str(r["variant"]).startswith("pandas baseline") and backend in str(r["variant"])
        )

    print(
        f"score benchmark: {args.employees:,} employees, {args.departments:,} departments x {KPIS_PER_DEPARTMENT} KPIs"
    )
    print(
        f"{'variant':44} {'seconds':>8} {'x baseline':>10} {'peak MB':>8} {'tree MB':>8}"
        "  total payout"
    )
    for row in rows:
        seconds = float(row["seconds"])  # type: ignore[arg-type]
        print(
            f"{row['variant']!s:44} {seconds:8.2f} {seconds / baseline_of(row):10.2f} {float(row['peak_mb']):8.0f} {float(row['tree_mb']):8.0f}  {row['total']}"
        )  # type: ignore[arg-type]
    if args.employees < 1_000_000:
        # At small sizes importing the engine (pydantic, scipy, durable) dominates every row.
        print("goals (cli within 2x of the baseline, peak < 2 GB) apply at 1,000,000 employees")
    else:
        for row in rows:
            if not str(row["variant"]).startswith("cli"):
                continue
            memory = max(float(row["peak_mb"]), float(row["tree_mb"]))  # type: ignore[arg-type]
            ok = float(row["seconds"]) <= 2 * baseline_of(row) and memory < 2048  # type: ignore[arg-type]
            print(
                f"goal (within 2x of the baseline, peak and tree < 2 GB), {row['variant']}:",
                "met" if ok else "NOT met",
            )
    print(json.dumps({"rows": rows}, default=str))


if __name__ == "__main__":
    main()
