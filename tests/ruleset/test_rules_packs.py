"""The shipped packs: every standard rule id, each with rule tests that pass, and the influence
chains the conflict rules join (``reach`` facts) agree with chains enumerated one by one."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.model import Influence, Plan
from alignment_engine.rulepacks import (
    SHIPPED_PACK_FILES,
    shipped_packs,
    shipped_rules_dir,
)
from alignment_engine.ruleset.facts import facts_from_plan
from alignment_engine.ruletests import run_rule_tests
from reach_oracle import metric_reach

ROOT = Path(__file__).resolve().parents[2]
STANDARD = {
    "alignment": [
        "unlinked-kpi",
        "uncovered-objective",
        "weights-not-normalised",
        "missing-target",
        "levels-out-of-order",
        "horizon-mismatch",
    ],
    "conflicts": [
        "opposing-targets",
        "trade-off",
        "resource-oversubscription",
        "cascade-gap",
        "incentive-misalignment",
    ],
}


def test_shipped_packs_hold_exactly_the_standard_finding_rules() -> None:
    packs = {loaded.pack.id: loaded for loaded in shipped_packs()}
    assert sorted(packs) == ["alignment", "conflicts"]
    for pack_id, rule_ids in STANDARD.items():
        finding_rules = [r.id for r in packs[pack_id].compiled.rules if r.finding is not None]
        assert finding_rules == rule_ids
        kinds = {r.kind.value for r in packs[pack_id].compiled.rules if r.kind is not None}
        assert kinds == {"alignment" if pack_id == "alignment" else "conflict"}


def test_shipped_packs_are_found_in_the_checkout_and_carry_the_schema_comment() -> None:
    assert shipped_rules_dir() == ROOT / "rules"
    for name in SHIPPED_PACK_FILES:
        first = (ROOT / "rules" / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/rules.schema.json"


def test_every_standard_rule_has_rule_tests_and_they_pass() -> None:
    report = run_rule_tests(ROOT / "rules")
    assert report.passed, [c.to_dict() for c in report.cases if not c.passed]
    tested = {Path(c.file).stem for c in report.cases}
    assert tested == {rule for rules in STANDARD.values() for rule in rules}
    assert len(report.cases) >= 2 * len(tested)  # a planted case and an aligned one, at least


influence_lists = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([1, -1])),
    max_size=14,
).map(
    lambda edges: list(
        {(a, b): s for a, b, s in edges if a != b}.items()  # one sign per (from, to)
    )
)


def _walks(
    influences: list[Influence], source: str, hops: int = 5
) -> dict[tuple[str, int], list[int]]:
    """Every chain from ``source`` enumerated one by one: (metric, sign) -> [shortest, count]."""
    outgoing: dict[str, list[Influence]] = {}
    for influence in influences:
        outgoing.setdefault(influence.from_, []).append(influence)
    found: dict[tuple[str, int], list[int]] = {(source, 1): [0, 1]}

    def walk(metric: str, sign: int, depth: int) -> None:
        if depth == hops:
            return
        for influence in outgoing.get(metric, ()):
            if influence.to == source:
                continue
            key = (influence.to, sign * influence.sign)
            entry = found.setdefault(key, [depth + 1, 0])
            entry[0] = min(entry[0], depth + 1)
            entry[1] += 1
            walk(influence.to, sign * influence.sign, depth + 1)

    walk(source, 1, 0)
    return found


def _plan_facts(influences: list[Influence], metrics: int = 7) -> list[dict[str, object]]:
    plan = Plan.model_validate(
        {
            "id": "reach",
            "metrics": [{"id": f"m{i}"} for i in range(metrics)],
            "influences": [
                {"from": i.from_, "to": i.to, "sign": i.sign, "strength": i.strength}
                for i in influences
            ],
            "departments": [
                {"id": f"d{i}", "kpis": [{"id": f"d{i}.k", "metric": f"m{i}", "target": 1}]}
                for i in range(metrics)
            ],
        }
    )
    return facts_from_plan(plan, types={"reach"})


@settings(max_examples=40, deadline=None)
@given(edges=influence_lists)
def test_reach_facts_count_every_chain_and_keep_the_shortest(
    edges: list[tuple[tuple[int, int], int]],
) -> None:
    influences = [
        Influence.model_validate({"from": f"m{a}", "to": f"m{b}", "sign": sign})
        for (a, b), sign in edges
    ]
    facts = _plan_facts(influences)
    computed = {
        (str(r["source"]), str(r["metric"]), int(r["sign"])): [int(r["hops"]), int(r["paths"])]
        for r in facts
    }
    expected = {
        (f"m{i}", metric, sign): counts
        for i in range(7)
        for (metric, sign), counts in _walks(influences, f"m{i}").items()
    }
    assert computed == expected
    for fact in facts:  # the chain shown is one of the shortest, and reads as one
        steps = str(fact["path_up"]).split(" -> ")
        assert len(steps) == int(fact["hops"]) + 1
        assert steps[0] == fact["source"] and steps[-1].split(" ")[0] == fact["metric"]


def test_reach_paths_read_as_chains() -> None:
    influences = [
        Influence.model_validate({"from": c, "to": e, "sign": s, "strength": 0.5})
        for c, e, s in [("m0", "m1", 1), ("m1", "m2", -1)]
    ]
    by_metric = {r["metric"]: r for r in _plan_facts(influences, 3) if r["source"] == "m0"}
    assert by_metric["m2"]["path_up"] == "m0 -> m1 up -> m2 down"
    assert by_metric["m2"]["path_down"] == "m0 -> m1 down -> m2 up"
    assert by_metric["m2"]["strength"] == 0.25
    assert by_metric["m0"]["hops"] == 0 and by_metric["m0"]["paths"] == 1


def test_metric_reach_lists_sources_in_order_then_hops() -> None:
    influences = [
        Influence.model_validate({"from": c, "to": e, "sign": 1})
        for c, e in [("a", "b"), ("b", "c"), ("c", "a")]
    ]
    found = [
        (r.source, r.metric, r.hops, r.path) for r in metric_reach(influences, sources=["b", "a"])
    ]
    assert found == [
        ("b", "b", 0, ("b",)),
        ("b", "c", 1, ("b", "c")),
        ("b", "a", 2, ("b", "c", "a")),
        ("a", "a", 0, ("a",)),
        ("a", "b", 1, ("a", "b")),
        ("a", "c", 2, ("a", "b", "c")),
    ]
