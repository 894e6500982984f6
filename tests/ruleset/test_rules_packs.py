"""The shipped packs: every standard rule id, each with rule tests that pass, and the influence
propagation derived by forward chaining agrees with the Python reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.conflicts import metric_reach
from alignment_engine.model import Influence
from alignment_engine.ruleset.evaluation import evaluate_program
from alignment_engine.ruleset.packs import (
    SHIPPED_PACK_FILES,
    program_for,
    shipped_packs,
    shipped_rules_dir,
)
from alignment_engine.ruleset.testing import run_rule_tests

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


@settings(max_examples=40, deadline=None)
@given(edges=influence_lists)
def test_forward_chained_reach_equals_the_python_reference(
    edges: list[tuple[tuple[int, int], int]],
) -> None:
    influences = [
        Influence.model_validate({"from": f"m{a}", "to": f"m{b}", "sign": sign})
        for (a, b), sign in edges
    ]
    metrics = [{"type": "metric", "id": f"m{i}", "kpi_count": 1.0} for i in range(7)]
    facts = metrics + [
        {
            "type": "influence",
            "cause": i.from_,
            "effect": i.to,
            "sign": float(i.sign),
            "strength": 1.0,
        }
        for i in influences
    ]
    derived = evaluate_program(program_for(), facts).facts.get("reach", [])
    engine = {(r["source"], r["metric"], int(r["sign"]), int(r["hops"])) for r in derived}
    reference = {
        (r.source, r.metric, r.sign, r.hops)
        for r in metric_reach(influences, sources=[f"m{i}" for i in range(7)])
    }
    assert engine == reference


@pytest.mark.parametrize("hops", [5])
def test_reach_paths_read_as_chains(hops: int) -> None:
    facts = [{"type": "metric", "id": "a", "kpi_count": 1.0}] + [
        {"type": "influence", "cause": c, "effect": e, "sign": s, "strength": 0.5}
        for c, e, s in [("a", "b", 1.0), ("b", "c", -1.0)]
    ]
    reach = evaluate_program(program_for(), facts).facts["reach"]
    by_metric = {r["metric"]: r for r in reach}
    assert by_metric["c"]["path_up"] == "a -> b up -> c down"
    assert by_metric["c"]["path_down"] == "a -> b down -> c up"
    assert by_metric["c"]["strength"] == 0.25
    assert max(r["hops"] for r in reach) <= hops
