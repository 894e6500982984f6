"""``check`` as a user runs it (the CLI, from a YAML file, the run stored) on synthetic plans of
1,000 to 40,000 KPIs, against a plain-Python baseline in the same run.

    .venv/bin/python benchmarks/check.py [--family dense|planted] [--sizes 1000,5000,40000]
                                         [--seed 7] [--markdown]

Two families of plans:

- ``dense`` (the default): shaped like a large company's plan: 5 KPIs per department up to
  5,000 KPIs, 20 above (2,000 departments x 20 KPIs at 40,000), about 20 KPIs per metric, two
  influences per metric with random signs, one KPI in ten pushing against its metric's better
  direction, 25 shared goals. Every KPI pair in a trade-off is one of thousands of root causes.
- ``planted``: 20 KPIs per department, four per metric, influences mostly consistent with each
  metric's better direction, every standard problem planted a few times (the finding counts
  are small and checked one by one).

For each size, each in a fresh process (so peak memory is that run's own, from ``wait4``):

- ``cli``: ``alignment-engine check PLAN --policy POLICY --format json --db sqlite:///...``;
- ``baseline``: a plain-Python script doing the same job by hand: read the YAML (libyaml),
  the same checks as dict joins grouped by root cause (no rule engine, no validation, no
  storage), the findings written as JSON.

It prints wall time, peak memory, the number of conflicting KPI pairs and the grouped finding
counts by rule for both; the counts must agree rule by rule.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from peak import measure_command

SIZES = (1_000, 5_000, 40_000)
KPIS_PER_DEPARTMENT = 20
KPIS_PER_METRIC = 4
HOP_LIMIT = 5


# ---------------------------------------------------------------------------------------------
# Synthetic plans


def synthetic_plan(kpis: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    departments = max(2, kpis // KPIS_PER_DEPARTMENT)
    metric_count = max(10, kpis // KPIS_PER_METRIC)
    metrics = [
        {"id": f"m{i}", "better": "higher" if rng.random() < 0.7 else "lower"}
        for i in range(metric_count)
    ]
    better = {m["id"]: 1 if m["better"] == "higher" else -1 for m in metrics}
    objectives = [
        {"id": f"O{i}", "perspective": p, "horizon": "long" if i % 2 else "short"}
        for i, p in enumerate(["financial", "customer", "internal_process", "learning_growth"] * 3)
    ]
    # Influences: mostly "improving the cause improves the effect"; 1% planted the other way.
    influences = []
    seen: set[tuple[str, str]] = set()
    target_count = min(4_000, int(metric_count * 0.4))
    while len(influences) < target_count:
        a, b = rng.randrange(metric_count), rng.randrange(metric_count)
        cause, effect = f"m{a}", f"m{b}"
        if a == b or (cause, effect) in seen:
            continue
        seen.add((cause, effect))
        sign = better[cause] * better[effect]
        if rng.random() < 0.01:
            sign = -sign
        influences.append({"from": cause, "to": effect, "sign": sign, "strength": 0.5})

    metric_ids = [m["id"] for m in metrics]
    plan_departments = []
    counter = 0
    for d in range(departments):
        dept_kpis = []
        chosen = rng.sample(metric_ids, KPIS_PER_DEPARTMENT)
        weight = 1.0 / KPIS_PER_DEPARTMENT
        for k, metric in enumerate(chosen):
            counter += 1
            sign = better[metric]
            if rng.random() < 0.002:
                sign = -sign  # planted opposing targets
            target = 100.0 + k
            if sign > 0:
                levels = {"threshold": target * 0.9, "target": target, "maximum": target * 1.1}
            else:
                levels = {"threshold": target * 1.1, "target": target, "maximum": target * 0.9}
            if rng.random() < 0.002:
                levels["threshold"], levels["maximum"] = levels["maximum"], levels["threshold"]
            kpi: dict[str, Any] = {
                "id": f"d{d}.k{k}",
                "metric": metric,
                "direction": "increase" if sign > 0 else "decrease",
                **levels,
                "weight": weight,
                "objectives": {f"O{counter % 12}": 1.0},
                "horizon": "long" if counter % 12 % 2 else "short",
            }
            if rng.random() < 0.002:
                del kpi["target"]  # planted missing target
            if rng.random() < 0.002:
                kpi["objectives"] = {}  # planted unlinked KPI
            dept_kpis.append(kpi)
        if rng.random() < 0.01:
            dept_kpis[0]["weight"] = 0.2  # planted weights not normalised
        plan_departments.append({"id": f"d{d}", "kpis": dept_kpis})

    # Roll-ups: 10 company KPIs, each the sum of 20 department KPIs (some short of it).
    company_kpis = []
    parents = min(10, departments // 20 or 1)
    for p in range(parents):
        metric = f"rollup{p}"
        metrics.append({"id": metric, "better": "higher"})
        children = []
        for c in range(20):
            dept = plan_departments[(p * 20 + c) % departments]
            child = {
                "id": f"{dept['id']}.rollup{p}",
                "metric": metric,
                "target": 10.0,
                "weight": 0.0,
                "objectives": {"O0": 1.0},
                "horizon": "short",
                "rolls_up_to": f"company.r{p}",
            }
            dept["kpis"].append(child)
            children.append(child)
        total = 200.0 if p % 3 else 210.0  # every third parent is short by 10
        company_kpis.append(
            {
                "id": f"company.r{p}",
                "metric": metric,
                "target": total,
                "weight": 1.0 / parents,
                "objectives": {"O0": 1.0},
                "horizon": "short",
                "rollup": "sum",
            }
        )

    # Shared goals: each department belongs to one of 50 goals.
    goal_count = min(50, departments)
    goal_metrics = rng.sample(metric_ids, goal_count)
    shared_goals = [
        {
            "id": f"shared.g{g}",
            "metric": goal_metrics[g],
            "target": 1.0,
            "objectives": {"O1": 1.0},
            "horizon": "short",
            "departments": [f"d{d}" for d in range(g, departments, goal_count)],
        }
        for g in range(goal_count)
    ]

    pools = []
    for r in range(3):
        allocation = {f"d{d}": 100.0 for d in range(departments)}
        demand = {f"d{d}": 100.0 + (5.0 if d % 2 else 0.0) for d in range(departments)}
        capacity = 100.0 * departments * (1.02 if r == 0 else 1.1)
        pools.append(
            {
                "id": f"pool{r}",
                "unit": "hours",
                "capacity": capacity,
                "allocation": allocation,
                "demand": demand,
            }
        )
    return {
        "kind": "plan",
        "id": f"synthetic-{kpis}",
        "objectives": objectives,
        "metrics": metrics,
        "influences": influences,
        "company_kpis": company_kpis,
        "departments": plan_departments,
        "shared_goals": shared_goals,
        "resources": pools,
    }


def dense_plan(kpis: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    per_department = 5 if kpis <= 5_000 else 20
    departments = max(2, kpis // per_department)
    metric_count = max(10, kpis // 20)
    metrics = [
        {"id": f"m{i}", "better": "higher" if rng.random() < 0.6 else "lower"}
        for i in range(metric_count)
    ]
    better = {m["id"]: 1 if m["better"] == "higher" else -1 for m in metrics}
    influences: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    while len(influences) < 2 * metric_count:
        a, b = rng.randrange(metric_count), rng.randrange(metric_count)
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        influences.append({"from": f"m{a}", "to": f"m{b}", "sign": rng.choice(["+", "-"])})
    objectives = [
        {"id": f"O{i}", "perspective": p, "horizon": "long"}
        for i, p in enumerate(["financial", "customer", "internal_process", "learning_growth"])
    ]
    weight = round(1.0 / per_department, 6)
    plan_departments = []
    for d in range(departments):
        dept_kpis = []
        for k in range(per_department):
            metric = f"m{rng.randrange(metric_count)}"
            sign = better[metric] if rng.random() < 0.9 else -better[metric]
            dept_kpis.append(
                {
                    "id": f"d{d:04d}.k{k}",
                    "metric": metric,
                    "direction": "increase" if sign > 0 else "decrease",
                    "target": 100.0,
                    "weight": weight if k else round(1 - weight * (per_department - 1), 6),
                    "objectives": {f"O{k % 4}": 1.0},
                    "horizon": "long",
                }
            )
        plan_departments.append({"id": f"d{d:04d}", "kpis": dept_kpis})
    shared_goals = [
        {
            "id": f"shared.g{g}",
            "metric": f"m{rng.randrange(metric_count)}",
            "target": 1.0,
            "objectives": {"O1": 1.0},
            "horizon": "long",
            "departments": [f"d{d:04d}" for d in range(g, departments, 25)],
        }
        for g in range(min(25, departments))
    ]
    return {
        "kind": "plan",
        "id": f"dense-{kpis}",
        "objectives": objectives,
        "metrics": metrics,
        "influences": influences,
        "departments": plan_departments,
        "shared_goals": shared_goals,
    }


POLICY = {
    "kind": "policy",
    "id": "department-heavy",
    "components": {"company": 0.2, "department": 0.6, "shared": 0.1, "individual": 0.1},
    "curves": {"default": {"basis": "attainment", "points": [[0.8, 0.5], [1.0, 1.0], [1.2, 2.0]]}},
}


# ---------------------------------------------------------------------------------------------
# The baseline: the same checks by hand, on the raw YAML, grouped by root cause


def _sign(kpi: dict[str, Any], better: dict[str, int]) -> int:
    direction = kpi.get("direction")
    if direction is None:
        return better.get(kpi["metric"], 1)
    return {"increase": 1, "decrease": -1}.get(direction, 0)


def baseline_check(plan: dict[str, Any], policy: dict[str, Any] | None) -> dict[str, Any]:
    """Finding counts per rule (conflicts grouped as SPEC says) and conflicting KPI pairs."""
    better = {m["id"]: -1 if m.get("better") == "lower" else 1 for m in plan["metrics"]}
    goals = {g["id"]: g for g in plan.get("shared_goals", [])}
    parties = []  # (kpi id, owner, departments, shared, metric, sign)
    for department in plan["departments"]:
        for kpi in department.get("kpis", []):
            sign = _sign(kpi, better)
            if sign:
                parties.append(
                    (kpi["id"], department["id"], (department["id"],), False, kpi["metric"], sign)
                )
    for goal in goals.values():
        sign = _sign(goal, better)
        if sign:
            parties.append(
                (goal["id"], goal["id"], tuple(goal["departments"]), True, goal["metric"], sign)
            )
    by_push: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for party in parties:
        by_push[(party[4], party[5])].append(party)

    def conflict(x: Any, y: Any) -> bool:
        if x[1] == y[1]:
            return False
        if not x[3] and y[3] and x[1] in y[2]:
            return False
        return not (x[3] and not y[3] and y[1] in x[2])

    counts: dict[str, int] = defaultdict(int)
    pairs = 0
    for (metric, sign), ups in by_push.items():
        if sign > 0:
            downs = by_push.get((metric, -1), [])
            found = sum(1 for x in ups for y in downs if conflict(x, y))
            pairs += found
            counts["opposing-targets"] += 1 if found else 0
    outgoing: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for influence in plan.get("influences", []):
        outgoing[influence["from"]].append(
            (influence["to"], -1 if str(influence["sign"]) in ("-", "-1") else 1)
        )
    measured = {p[4] for p in parties}
    reach: dict[str, set[tuple[str, int]]] = {}
    for source in measured:
        found_states: set[tuple[str, int]] = set()
        frontier = {(source, 1)}
        for _ in range(HOP_LIMIT):
            frontier = {
                (effect, s * e_sign)
                for metric, s in frontier
                for effect, e_sign in outgoing.get(metric, ())
                if effect != source
            }
            found_states |= frontier
        reach[source] = found_states
    for (metric, sign), pushers in by_push.items():
        department_pushers = [p for p in pushers if not p[3]]
        if not department_pushers:
            continue
        affected: dict[str, set[int]] = defaultdict(set)
        for effect, effect_sign in reach.get(metric, ()):
            affected[effect].add(-(sign * effect_sign))
        for effect, needs in affected.items():
            found = 0
            for need in needs:
                for y in by_push.get((effect, need), []):
                    found += sum(1 for x in department_pushers if conflict(x, y))
            pairs += found
            counts["trade-off"] += 1 if found else 0
    if policy is not None:
        weights = policy["components"]
        total = sum(weights.values())
        if weights.get("department", 0) / total > weights.get("shared", 0) / total:
            kpis_of = {d["id"]: d.get("kpis", []) for d in plan["departments"]}
            found_ids = set()
            for goal in goals.values():
                goal_sign = _sign(goal, better)
                for department in goal["departments"]:
                    for kpi in kpis_of.get(department, []):
                        sign = _sign(kpi, better)
                        if not sign or not kpi.get("weight", 0) > 0:
                            continue
                        states = reach.get(kpi["metric"], set()) | {(kpi["metric"], 1)}
                        if any(m == goal["metric"] and sign == -(s * goal_sign) for m, s in states):
                            found_ids.add((department, kpi["id"], goal["id"]))
            counts["incentive-misalignment"] = len(found_ids)
    return {"by_rule": {k: v for k, v in sorted(counts.items()) if v}, "pairs": pairs}


BASELINE = """
import json, sys, time, yaml
sys.path.insert(0, sys.argv[3])
from check import baseline_check
plan = yaml.load(open(sys.argv[1], encoding="utf-8"), Loader=yaml.CSafeLoader)
policy = yaml.load(open(sys.argv[2], encoding="utf-8"), Loader=yaml.CSafeLoader)
result = baseline_check(plan, policy)
print(json.dumps(result))
"""


# ---------------------------------------------------------------------------------------------
# Running one measurement in its own process


def run(command: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak MB (the largest process's: see peak.py), the process tree's largest
    total MB and standard output."""
    measured = measure_command(command)
    if measured.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{measured.stderr[-3000:]}")
    return measured.seconds, measured.peak_mb, measured.tree_mb, measured.stdout


def measure(family: str, kpis: int, seed: int, folder: Path) -> dict[str, Any]:
    plan = dense_plan(kpis, seed) if family == "dense" else synthetic_plan(kpis, seed)
    plan_path, policy_path = folder / f"plan-{kpis}.yaml", folder / "policy.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    policy_path.write_text(yaml.safe_dump(POLICY, sort_keys=False), encoding="utf-8")
    db = f"sqlite:///{folder / f'check-{kpis}.db'}"
    cli = [sys.executable, "-m", "alignment_engine", "check", str(plan_path)]
    cli += ["--policy", str(policy_path), "--format", "json", "--db", db]
    cli_seconds, cli_mb, cli_tree_mb, out = run(cli)
    result = json.loads(out)
    here = str(Path(__file__).resolve().parent)
    base_seconds, base_mb, _base_tree_mb, base_out = run(
        [sys.executable, "-c", BASELINE, str(plan_path), str(policy_path), here]
    )
    baseline = json.loads(base_out)
    conflict_rules = {"opposing-targets", "trade-off", "incentive-misalignment"}
    engine_counts = {
        rule: n for rule, n in result["summary"]["by_rule"].items() if rule in conflict_rules
    }
    return {
        "family": family,
        "kpis": kpis,
        "departments": len(plan["departments"]),
        "metrics": len(plan["metrics"]),
        "influences": len(plan["influences"]),
        "bytes": plan_path.stat().st_size,
        "cli_seconds": cli_seconds,
        "cli_mb": cli_mb,
        "cli_tree_mb": cli_tree_mb,
        "base_seconds": base_seconds,
        "base_mb": base_mb,
        "pairs": baseline["pairs"],
        "findings": result["summary"]["total"],
        "by_rule": result["summary"]["by_rule"],
        "agree": engine_counts == baseline["by_rule"],
        "baseline_by_rule": baseline["by_rule"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=["dense", "planted"], default="dense")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ae-bench-check-") as temp:
        for size in (int(s) for s in args.sizes.split(",")):
            row = measure(args.family, size, args.seed, Path(temp))
            rows.append(row)
            if not row["agree"]:
                print(
                    f"MISMATCH at {size}: cli {row['by_rule']} baseline {row['baseline_by_rule']}"
                )
    header = (
        "| family | KPIs | departments | metrics | influences | plan MB | conflicting pairs | "
        "findings | cli s | cli MB | cli tree MB | baseline s | baseline MB | x baseline | "
        "counts agree |"
    )
    print(header if args.markdown else header.replace("|", " "))
    if args.markdown:
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        cells = [
            r["family"],
            f"{r['kpis']:,}",
            f"{r['departments']:,}",
            f"{r['metrics']:,}",
            f"{r['influences']:,}",
            f"{r['bytes'] / 1e6:.1f}",
            f"{r['pairs']:,}",
            f"{r['findings']:,}",
            f"{r['cli_seconds']:.2f}",
            f"{r['cli_mb']:.0f}",
            f"{r['cli_tree_mb']:.0f}",
            f"{r['base_seconds']:.2f}",
            f"{r['base_mb']:.0f}",
            f"{r['cli_seconds'] / r['base_seconds']:.1f}",
            "yes" if r["agree"] else "NO",
        ]
        print("| " + " | ".join(cells) + " |" if args.markdown else "  ".join(cells))
    print("findings by rule at the largest size:", json.dumps(rows[-1]["by_rule"]))
    if not all(r["agree"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
