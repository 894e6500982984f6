"""Stress scenarios for the durable_rules adapter, run as ``python durable_stress_worker.py NAME``.

Each scenario runs in its own process (test_durable_stress.py starts it) so that a crash in the C
engine fails a test instead of killing pytest. It prints one JSON object with what it measured;
checks that must hold raise (exit status 1). Timings are reported, never asserted.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from alignment_engine.ruleset.durable import Match, RuleEngine

KPI = {"type": "kpi"}
RULES: dict[str, Any] = {
    "same metric, other department": {
        "all": [
            {"a": KPI},
            {
                "b": {
                    "$and": [
                        KPI,
                        {"metric": {"a": "metric"}},
                        {"$neq": {"department": {"a": "department"}}},
                    ]
                }
            },
        ],
        "derive": [{"type": "shared", "metric": {"$ref": "a.metric"}}],
    },
    "shared metric": {
        "all": [{"s": {"type": "shared"}}, {"k": {"$and": [KPI, {"metric": {"s": "metric"}}]}}]
    },
    "unlinked": {
        "all": [
            {"k": KPI},
            {"o$not": {"$and": [{"type": "objective"}, {"id": {"k": "objective"}}]}},
        ]
    },
    "well over target": {
        "all": [
            {
                "k": {
                    "$and": [
                        KPI,
                        {"$gt": {"actual": {"$mul": {"$l": {"$m": "target"}, "$r": 1.2}}}},
                    ]
                }
            }
        ]
    },
    "rate": {
        "all": [
            {
                "k": {
                    "$and": [
                        KPI,
                        {
                            "$lt": {
                                "rate": {"$div": {"$l": {"$m": "actual"}, "$r": {"$m": "count"}}}
                            }
                        },
                    ]
                }
            }
        ]
    },
}


def small_facts(seed: int) -> list[dict[str, Any]]:
    """A small plan: a few objectives and KPIs over few metrics, so that rules fire."""
    rng = random.Random(seed)
    facts: list[dict[str, Any]] = [{"type": "objective", "id": f"o{i}"} for i in range(3)]
    for i in range(rng.randint(0, 12)):
        facts.append(
            {
                "type": "kpi",
                "id": f"k{i}",
                "metric": rng.choice(["revenue", "cost", "营收", "churn"]),
                "department": rng.choice(["sales", "ops", "财务"]),
                "objective": rng.choice(["o0", "o1", "o2", "o9"]),
                "target": rng.choice([0, 10, 12.5, 1e-12, -3, 2**63 - 1]),
                "actual": rng.choice([0, 13, 20.25, 1e20, -0.0]),
                "count": rng.choice([0, 1, 3]),
                "rate": rng.choice([0.5, 7, -1e-6]),
            }
        )
    rng.shuffle(facts)
    return facts


def canonical(matches: list[Match]) -> str:
    return json.dumps(
        [
            [m.rule, {alias: fact.get("id") for alias, fact in m.facts.items()}, list(m.derived)]
            for m in matches
        ],
        ensure_ascii=False,
        sort_keys=True,
    )


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SETS = 64


def sequential() -> dict[str, Any]:
    engine = RuleEngine({"plan": RULES})
    facts = [small_facts(seed) for seed in range(SETS)]
    reference = [canonical(engine.evaluate("plan", f)) for f in facts]
    started = time.perf_counter()
    count = 10_000
    for n in range(count):
        result = canonical(engine.evaluate("plan", facts[n % SETS]))
        if result != reference[n % SETS]:
            raise AssertionError(f"evaluation {n} differs from the first one on the same facts")
    elapsed = time.perf_counter() - started
    fired = sum(len(json.loads(r)) for r in reference)
    return {"evaluations": count, "per_second": round(count / elapsed), "matches_in_sets": fired}


def threads() -> dict[str, Any]:
    engine = RuleEngine({"plan": RULES})
    facts = [small_facts(seed) for seed in range(SETS)]
    reference = [canonical(engine.evaluate("plan", f)) for f in facts]
    workers, rounds = 16, 150
    barrier = threading.Barrier(workers)
    mismatches: list[str] = []
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(rounds):
                which = (worker * 7 + n) % SETS
                if canonical(engine.evaluate("plan", facts[which])) != reference[which]:
                    mismatches.append(f"worker {worker} set {which}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    if mismatches:
        raise AssertionError(f"{len(mismatches)} results differ from sequential: {mismatches[:3]}")
    return {"evaluations": workers * rounds, "per_second": round(workers * rounds / elapsed)}


def no_findings() -> dict[str, Any]:
    engine = RuleEngine({"plan": RULES})
    quiet = [[], [{"type": "objective", "id": "o1"}], [{"type": "department", "id": "sales"}] * 5]
    started = time.perf_counter()
    count = 6_000
    for n in range(count):
        if engine.evaluate("plan", quiet[n % len(quiet)]):
            raise AssertionError(f"evaluation {n} found something in {quiet[n % len(quiet)]}")
    return {"evaluations": count, "per_second": round(count / (time.perf_counter() - started))}


def big_join() -> dict[str, Any]:
    """40,000 KPIs over 2,000 metrics; pairs of KPIs pulling one metric opposite ways."""
    rules = {
        "opposed": {
            "all": [
                {"up": {"$and": [KPI, {"direction": "increase"}]}},
                {"down": {"$and": [KPI, {"direction": "decrease"}, {"metric": {"up": "metric"}}]}},
            ]
        },
        "heavy": {"all": [{"k": {"$and": [KPI, {"$gt": {"weight": 0.9}}]}}]},
    }
    rng = random.Random(2026)
    facts = [
        {
            "type": "kpi",
            "id": f"kpi-{i}",
            "metric": f"metric-{i % 2000}",
            "department": f"dept-{rng.randrange(40)}",
            "direction": "decrease" if rng.random() < 0.05 else "increase",
            "target": round(rng.uniform(0, 1e6), 2),
            "weight": round(rng.random(), 3),
        }
        for i in range(40_000)
    ]
    expected = _opposed_pairs(facts)
    engine = RuleEngine({"kpis": rules})
    before = rss_mb()
    started = time.perf_counter()
    matches = engine.evaluate("kpis", facts)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    position = {id(fact): n for n, fact in enumerate(facts)}
    got = [
        (position[id(m.facts["up"])], position[id(m.facts["down"])])
        for m in matches
        if m.rule == "opposed"
    ]
    if got != expected:
        raise AssertionError(f"{len(got)} opposed pairs, expected {len(expected)}")
    heavy = sum(1 for m in matches if m.rule == "heavy")
    if heavy != sum(1 for f in facts if f["weight"] > 0.9):
        raise AssertionError("heavy KPIs miscounted")
    return {
        "facts": len(facts),
        "matches": len(matches),
        "seconds": round(elapsed, 2),
        "rss_before_mb": round(before),
        "rss_after_mb": round(after),
        "peak_rss_mb": round(peak_mb()),
    }


def _opposed_pairs(facts: list[dict[str, Any]]) -> list[tuple[int, int]]:
    rising: dict[str, list[int]] = {}
    for n, fact in enumerate(facts):
        if fact["direction"] == "increase":
            rising.setdefault(fact["metric"], []).append(n)
    return sorted(
        (up, down)
        for down, fact in enumerate(facts)
        if fact["direction"] == "decrease"
        for up in rising.get(fact["metric"], [])
    )


def derived_joins() -> dict[str, Any]:
    """Facts derived in one round joined with facts asserted in an earlier one, in text that is
    not ASCII. durable keeps each stored fact's id and sid pointing into the JSON text it was
    given; before the adapter kept those texts alive this read freed memory and crashed."""
    rules = {
        "同一指标": {
            "all": [
                {"a": KPI},
                {"b": {"$and": [KPI, {"指标": {"a": "指标"}}, {"$neq": {"部门": {"a": "部门"}}}]}},
            ],
            "derive": [{"type": "共享", "指标": {"$ref": "a.指标"}}],
        },
        "共享": {"all": [{"s": {"type": "共享"}}, {"k": {"$and": [KPI, {"指标": {"s": "指标"}}]}}]},
    }
    facts = [
        {
            "type": "kpi",
            "id": f"k{i}",
            "指标": ["营收", "流失", "成本"][i % 3],
            "部门": ["财务", "运营"][i % 2],
        }
        for i in range(12)
    ]
    engine = RuleEngine({"plan": rules})
    first = canonical(engine.evaluate("plan", facts))
    for n in range(300):
        if canonical(engine.evaluate("plan", facts)) != first:
            raise AssertionError(f"evaluation {n} differs from the first")
    shared = [m for m in json.loads(first) if m[0] == "共享"]
    if sorted(m[1]["k"] for m in shared) != sorted(f"k{i}" for i in range(12)):
        raise AssertionError(f"derived facts joined {len(shared)} of 12 KPIs")
    return {"evaluations": 301, "joined": len(shared)}


def memory() -> dict[str, Any]:
    engine = RuleEngine({"plan": RULES})
    facts = [small_facts(seed) for seed in range(SETS)]
    for n in range(500):  # warm caches, the id table and the allocator
        engine.evaluate("plan", facts[n % SETS])
    before = rss_mb()
    for n in range(2_000):
        engine.evaluate("plan", facts[n % SETS])
    after = rss_mb()
    return {
        "evaluations": 2_000,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
    }


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "sequential": sequential,
    "threads": threads,
    "no_findings": no_findings,
    "big_join": big_join,
    "derived_joins": derived_joins,
    "memory": memory,
}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
