"""``check`` on synthetic plans of 1,000 to 40,000 KPIs, against a plain-Python baseline.

    .venv/bin/python benchmarks/check.py [--sizes 1000,10000,40000] [--seed 7] [--markdown]

Each synthetic plan has 20 KPIs per department (up to 2,000 departments), about four KPIs per
metric, a few thousand influences (mostly consistent with each metric's better direction, a few
planted against it), shared goals, roll-ups, resource pools and a department-heavy policy, with
every standard problem planted a few times. For each size it measures, each in a fresh
subprocess (so peak memory is that run's own):

- ``engine``: ``check_plan`` (facts, forward chaining of influence reach, every rule, findings);
- ``baseline``: the same checks written as plain-Python dict joins (no rule engine).

It prints wall time, peak memory (max RSS) and finding counts by rule for both; the counts
must agree (the baseline doubles as a cross-check of the rule packs).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

SIZES = (1_000, 10_000, 40_000)
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


POLICY = {
    "kind": "policy",
    "id": "department-heavy",
    "components": {"company": 0.2, "department": 0.6, "shared": 0.1, "individual": 0.1},
    "curves": {"default": {"basis": "attainment", "points": [[0.8, 0.5], [1.0, 1.0], [1.2, 2.0]]}},
}


# ---------------------------------------------------------------------------------------------
# The baseline: the same checks as plain dict joins


def baseline_check(plan: Any, policy: Any) -> dict[str, int]:
    """Finding identities per rule, computed without the rule engine."""
    from alignment_engine.alignment import levels_in_order, objective_coverage, weight_totals
    from alignment_engine.conflicts import (
        direction_sign,
        metric_reach,
        pay_mix,
        pool_totals,
        rollup_totals,
    )

    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    kpis = [(scope, kpi) for scope, kpi in plan.kpis()]
    goal_ids = {g.id for g in plan.shared_goals}

    for _, kpi in kpis:
        if not kpi.objectives:
            found["unlinked-kpi"].add((kpi.id,))
        if kpi.target is None:
            found["missing-target"].add((kpi.id,))
        if not levels_in_order(kpi):
            found["levels-out-of-order"].add((kpi.id,))
    for objective_id, cover in objective_coverage(plan).items():
        objective = next(o for o in plan.objectives if o.id == objective_id)
        if not cover.kpis:
            found["uncovered-objective"].add((objective_id,))
        elif not (cover.long if objective.horizon.value == "long" else cover.short):
            found["horizon-mismatch"].add((objective_id,))
    for total in weight_totals(plan):
        if not total.normalised:
            found["weights-not-normalised"].add((total.scope,))

    department_kpis: dict[str, list[Any]] = defaultdict(list)  # by metric
    for scope, kpi in kpis:
        if scope != "company" and scope not in goal_ids:
            department_kpis[kpi.metric].append((scope, kpi))
    for pairs in department_kpis.values():
        ups = [(s, k) for s, k in pairs if direction_sign(k.effective_direction) > 0]
        downs = [(s, k) for s, k in pairs if direction_sign(k.effective_direction) < 0]
        for s1, k1 in ups:
            for s2, k2 in downs:
                if s1 != s2:
                    found["opposing-targets"].add(tuple(sorted((k1.id, k2.id))))

    pushed = {k.metric for pairs in department_kpis.values() for _, k in pairs}
    reaches = metric_reach(plan.influences, HOP_LIMIT, sorted(pushed))
    by_source: dict[str, list[Any]] = defaultdict(list)
    by_metric: dict[str, list[Any]] = defaultdict(list)
    for reach in reaches:
        by_source[reach.source].append(reach)
        by_metric[reach.metric].append(reach)
    for pairs in department_kpis.values():
        for s1, k1 in pairs:
            sign1 = direction_sign(k1.effective_direction)
            if sign1 == 0:
                continue
            for reach in by_source[k1.metric]:
                if reach.hops == 0:
                    continue
                for s2, k2 in department_kpis.get(reach.metric, ()):
                    if s2 != s1 and direction_sign(k2.effective_direction) == -sign1 * reach.sign:
                        found["trade-off"].add(tuple(sorted((k1.id, k2.id))))

    for pool in pool_totals(plan):
        if pool.demanded > pool.capacity:
            found["resource-oversubscription"].add((pool.resource,))
    for rollup in rollup_totals(plan):
        if rollup.shortfall is not None and rollup.shortfall > 0:
            found["cascade-gap"].add((rollup.parent,))

    if policy is not None and pay_mix(policy).mostly_local:
        kpis_by_department: dict[str, list[Any]] = defaultdict(list)
        for pairs in department_kpis.values():
            for scope, kpi in pairs:
                kpis_by_department[scope].append(kpi)
        for goal in plan.shared_goals:
            goal_sign = direction_sign(goal.effective_direction)
            if goal_sign == 0:
                continue
            for reach in by_metric.get(goal.metric, ()):
                for department in goal.departments:
                    for kpi in kpis_by_department.get(department, ()):
                        sign = direction_sign(kpi.effective_direction)
                        if (
                            kpi.metric == reach.source
                            and kpi.weight > 0
                            and sign == -reach.sign * goal_sign
                        ):
                            found["incentive-misalignment"].add((department, kpi.id, goal.id))
    return {rule: len(ids) for rule, ids in sorted(found.items())}


# ---------------------------------------------------------------------------------------------
# Running one measurement in this process


def measure(kpis: int, mode: str, seed: int) -> dict[str, Any]:
    from alignment_engine.model import Plan, Policy

    plan = Plan.model_validate(synthetic_plan(kpis, seed))
    policy = Policy.model_validate(POLICY)
    if mode == "engine":
        from alignment_engine.checking import check_plan

        check_plan(plan.model_copy(update={"departments": plan.departments[:2]}), policy)
        start, cpu = time.perf_counter(), time.process_time()
        result = check_plan(plan, policy)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        counts = result.summary["by_rule"]
        derived = result.summary["derived_facts"]
    else:
        start, cpu = time.perf_counter(), time.process_time()
        counts = baseline_check(plan, policy)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        derived = 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "kpis": kpis,
        "mode": mode,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "findings": sum(counts.values()),
        "by_rule": counts,
        "derived": derived,
        "influences": len(plan.influences),
        "departments": len(plan.departments),
    }


def run_child(kpis: int, mode: str, seed: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", f"{kpis}:{mode}", "--seed", str(seed)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    if args.child:
        kpis, mode = args.child.split(":")
        print(json.dumps(measure(int(kpis), mode, args.seed)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        engine = run_child(size, "engine", args.seed)
        baseline = run_child(size, "baseline", args.seed)
        agree = engine["by_rule"] == baseline["by_rule"]
        rows.append((engine, baseline, agree))
        if not agree:
            print(f"MISMATCH at {size}: engine {engine['by_rule']} baseline {baseline['by_rule']}")
    if args.markdown:
        print(
            "| KPIs | departments | influences | derived facts | findings | engine wall s | "
            "engine CPU s | engine peak MB | baseline wall s | baseline peak MB | counts agree |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for engine, baseline, agree in rows:
            print(
                f"| {engine['kpis']:,} | {engine['departments']:,} | {engine['influences']:,} | "
                f"{engine['derived']:,} | {engine['findings']:,} | {engine['seconds']:.2f} | "
                f"{engine['cpu']:.2f} | {engine['peak_mb']:.0f} | {baseline['seconds']:.3f} | "
                f"{baseline['peak_mb']:.0f} | {'yes' if agree else 'NO'} |"
            )
        print()
        print("Findings by rule (largest size): " + json.dumps(rows[-1][0]["by_rule"]))
        return
    header = (
        f"{'KPIs':>7} {'depts':>6} {'infl':>6} {'derived':>8} {'findings':>8} "
        f"{'engine s':>9} {'eng cpu':>8} {'eng MB':>7} {'base s':>8} {'base MB':>8}  agree"
    )
    print(header)
    for engine, baseline, agree in rows:
        print(
            f"{engine['kpis']:>7,} {engine['departments']:>6,} {engine['influences']:>6,} "
            f"{engine['derived']:>8,} {engine['findings']:>8,} {engine['seconds']:>9.2f} "
            f"{engine['cpu']:>8.2f} {engine['peak_mb']:>7.0f} {baseline['seconds']:>8.3f} "
            f"{baseline['peak_mb']:>8.0f}  {'yes' if agree else 'NO'}"
        )
    print("findings by rule at the largest size:", json.dumps(rows[-1][0]["by_rule"]))


if __name__ == "__main__":
    main()
