"""The cost of a policy by Monte Carlo (``policy simulate``): 10,000 draws x 2,000 employees.

On a plan shaped like a large real one (``score.py``'s generator: 400 departments x 5 KPIs, a
dense mixed-sign metric graph), with gates and a decision table added to its policy, and every
KPI drawn from a normal distribution. Each variant in its own process (peak memory its own):

- ``score each draw``: the baseline a user has without the command: write each draw's results
  as an actuals table and score it with ``engine.score_period`` (timed on a sample of draws
  and scaled to the whole: that many draws would take too long to run);
- ``cli, distributions``: ``alignment-engine policy simulate --distributions F --draws N`` from
  files, the run stored in SQLite;
- ``cli, history``: the same with ``--history F`` (12 past periods, each scored once and
  resampled).

Run: ``python benchmarks/simulate.py [--draws N] [--employees N] [--departments N]``. Prints
a table; the goal is the distributions run in a few seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from peak import measure_command
from score import KPIS_PER_DEPARTMENT, make_inputs

BASELINE = """
import sys, time
from pathlib import Path
import numpy as np, pandas as pd
from alignment_engine import engine
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.tables import ACTUALS, DISTRIBUTIONS, EMPLOYEES, read_table
folder, sample, draws = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
plan = plan_from_yaml(folder / "plan.yaml"); policy = policy_from_yaml(folder / "policy.yaml")
policy = policy.model_copy(update={"pool": None})
employees = read_table(folder / "employees.csv", EMPLOYEES)
spec = pd.read_csv(folder / "distributions.csv")
rng = np.random.default_rng(0)
started = time.perf_counter()
for _ in range(sample):
    actual = rng.normal(spec["mean"].to_numpy(), spec["sd"].to_numpy())
    scopes = [k.split(".")[0] if not k.startswith("company.") else "company" for k in spec["kpi"]]
    frame = pd.DataFrame({"period": "2026-Q3", "scope": scopes, "kpi": spec["kpi"], "actual": actual})
    engine.score_period(plan, policy, frame, employees, "2026-Q3", accept_findings=True)
print((time.perf_counter() - started) / sample * draws)
"""


def add_design(folder: Path, departments: int) -> None:
    """Gates and a decision table in the policy, distributions for every KPI, and a history of
    12 past quarters."""
    policy = yaml.safe_load((folder / "policy.yaml").read_text(encoding="utf-8"))
    department_ids = [f"d{i:04d}" for i in range(departments)]
    policy["gates"] = [
        {
            "id": "revenue-gate",
            "when": {"kpi": "company.revenue", "attainment": {"lt": 0.9}},
            "effect": {"cap": 0.8},
            "applies_to": "all",
        },
        *[
            {
                "id": f"floor-{d}",
                "when": {"department": d, "score": {"lt": 0.6}},
                "effect": {"multiply": 0.9},
                "applies_to": f"department:{d}",
            }
            for d in department_ids[:50]
        ],
    ]
    policy["tables"] = [
        {
            "id": "company-modifier",
            "inputs": [{"scope": "company"}],
            "hit": "unique",
            "effect": "add",
            "rules": [
                {"when": ["< 0.8"], "then": -0.05},
                {"when": ["[0.8..1.2)"], "then": 0.0},
                {"when": [">= 1.2"], "then": 0.05},
            ],
        }
    ]
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    kpis = ["company.revenue"] + [
        f"{d}.k{k}" for d in department_ids for k in range(KPIS_PER_DEPARTMENT)
    ]
    means = [1000.0] + [100.0] * (len(kpis) - 1)
    sds = [80.0] + [12.0] * (len(kpis) - 1)
    pd.DataFrame({"kpi": kpis, "distribution": "normal", "mean": means, "sd": sds}).to_csv(
        folder / "distributions.csv", index=False
    )
    rng = np.random.default_rng(7)
    scopes = ["company"] + [k.split(".")[0] for k in kpis[1:]]
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "period": f"{2023 + q // 4}-Q{q % 4 + 1}",
                    "scope": scopes,
                    "kpi": kpis,
                    "actual": np.round(rng.normal(means, sds), 3),
                }
            )
            for q in range(12)
        ]
    )
    history.to_csv(folder / "history.csv", index=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--departments", type=int, default=400)
    parser.add_argument("--sample", type=int, default=20, help="draws the baseline scores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        make_inputs(folder, args.employees, args.departments)
        add_design(folder, args.departments)
        cli = [sys.executable, "-m", "alignment_engine", "policy", "simulate",
               "--plan", str(folder / "plan.yaml"), "--policy", str(folder / "policy.yaml"),
               "--employees", str(folder / "employees.csv"), "--period", "2026-Q3",
               "--draws", str(args.draws), "--format", "json"]  # fmt: skip
        baseline = measure_command(
            [sys.executable, "-c", BASELINE, str(folder), str(args.sample), str(args.draws)]
        )
        if baseline.returncode != 0:
            print(baseline.stderr, file=sys.stderr)
            return 1
        baseline_seconds = float(baseline.stdout.strip().splitlines()[-1])
        rows = [("score each draw (scaled)", baseline_seconds, baseline.peak_mb)]
        for name, extra in (
            ("cli, distributions", ["--distributions", str(folder / "distributions.csv")]),
            ("cli, history", ["--history", str(folder / "history.csv")]),
        ):
            measured = measure_command(
                [*cli, *extra, "--db", f"sqlite:///{folder / (name[5:] + '.db')}"]
            )
            if measured.returncode != 0:
                print(measured.stderr, file=sys.stderr)
                return 1
            rows.append((name, measured.seconds, measured.peak_mb))
    kpi_count = args.departments * KPIS_PER_DEPARTMENT + 1
    print(
        f"policy simulate: {args.draws:,} draws x {args.employees:,} employees, "
        f"{args.departments:,} departments, {kpi_count:,} KPIs, 51 gates and a decision table"
    )
    print(f"{'variant':<28} {'seconds':>9} {'peak MB':>8} {'vs baseline':>12}")
    for name, seconds, peak in rows:
        print(f"{name:<28} {seconds:>9.2f} {peak:>8.0f} {baseline_seconds / seconds:>11.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
