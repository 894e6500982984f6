"""The rule language: expressions, joins, negation, arithmetic and forward chaining, run for real
on durable_rules (no mocks)."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import RuleError
from alignment_engine.model.findings import Finding
from alignment_engine.rulepacks import load_pack, program_for
from alignment_engine.ruleset.compiler import compile_program
from alignment_engine.ruleset.evaluation import evaluate_program
from alignment_engine.ruleset.expressions import (
    Field,
    Scope,
    evaluate,
    format_value,
    parse_expression,
)

HEADER = "kind: rules\nid: test-pack\nrules:\n"


def write_pack(tmp_path: Path, rules: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(rules), "  "), encoding="utf-8")
    return path


def run_alone(tmp_path: Path, rules: str, facts: list[dict[str, Any]]) -> list[Finding]:
    """Evaluate a pack on its own (no shipped rules) over raw facts."""
    loaded = load_pack(write_pack(tmp_path, rules))
    program = compile_program([(loaded.compiled, loaded.source)])
    return evaluate_program(program, facts).findings


def kpi(kpi_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": "kpi", "id": kpi_id, **fields}


# ---------------------------------------------------------------------------------------------
# Joins, negation, arithmetic


def test_join_between_facts_reports_each_pair(tmp_path: Path) -> None:
    rules = """
    - id: same-metric
      kind: conflict
      severity: low
      when:
        - {fact: kpi, as: a, where: "sign > 0"}
        - {fact: kpi, as: b, where: "metric == a.metric and sign < 0"}
      finding:
        kpis: ["{a.id}", "{b.id}"]
        message: "{a.id} up, {b.id} down on {a.metric}"
    """
    facts = [
        kpi("k1", metric="m", sign=1.0),
        kpi("k2", metric="m", sign=-1.0),
        kpi("k3", metric="other", sign=-1.0),
        kpi("k4", metric="m", sign=-1.0),
    ]
    found = run_alone(tmp_path, rules, facts)
    assert [f.message for f in found] == ["k1 up, k2 down on m", "k1 up, k4 down on m"]


def test_negation_means_there_is_no_such_fact_whatever_the_order(tmp_path: Path) -> None:
    rules = """
    - id: lonely
      kind: alignment
      severity: low
      when:
        - {fact: kpi, as: k}
        - {none: kpi_link, where: "kpi == k.id"}
      finding:
        kpis: ["{k.id}"]
        message: "{k.id} has no link"
    """
    link = {"type": "kpi_link", "kpi": "k1", "objective": "F1"}
    facts = [kpi("k1"), kpi("k2"), link]
    for ordering in itertools.permutations(facts):
        found = run_alone(tmp_path, rules, list(ordering))
        assert [f.kpis for f in found] == [["k2"]]


def test_arithmetic_in_a_join_and_a_fact_compared_with_itself(tmp_path: Path) -> None:
    rules = """
    - id: far-above
      kind: conflict
      severity: low
      when:
        - {fact: kpi, as: a}
        - {fact: kpi, as: b, where: ["b.target - a.target > 5", "target > threshold * 2"]}
      finding:
        kpis: ["{a.id}", "{b.id}"]
        message: "{b.id} is {b.target - a.target} above {a.id}"
    """
    facts = [
        kpi("low", target=10.0, threshold=1.0),
        kpi("high", target=20.0, threshold=5.0),
        kpi("mid", target=14.0, threshold=9.0),
    ]
    found = run_alone(tmp_path, rules, facts)
    assert [f.message for f in found] == ["high is 10 above low", "high is 6 above mid"]


def test_missing_values_follow_sql_comparisons_are_false(tmp_path: Path) -> None:
    rules = """
    - id: not-sales
      kind: alignment
      severity: low
      when:
        - {fact: kpi, as: k, where: "department != 'sales' and not (target > 5)"}
      finding:
        kpis: ["{k.id}"]
        message: "{k.id} {k.target}"
    """
    facts = [
        kpi("a", department="ops", target=3.0),
        kpi("b", target=3.0),
        kpi("c", department="ops"),
    ]
    found = run_alone(tmp_path, rules, facts)
    assert [f.message for f in found] == ["a 3"]


def test_null_tests_and_true_false_fields(tmp_path: Path) -> None:
    rules = """
    - id: no-target
      kind: alignment
      severity: low
      when:
        - {fact: weight_total, as: w, where: "not normalised and department != null"}
      finding:
        departments: ["{w.department}"]
        message: "{w.scope}"
    """
    facts = [
        {"type": "weight_total", "scope": "company", "normalised": False, "total": 2.0},
        {"type": "weight_total", "scope": "ops", "department": "ops", "normalised": False},
        {"type": "weight_total", "scope": "hr", "department": "hr", "normalised": True},
    ]
    assert [f.departments for f in run_alone(tmp_path, rules, facts)] == [["ops"]]


def test_derived_facts_chain_and_later_rules_match_them(tmp_path: Path) -> None:
    """A user pack derives its own fact type (forward chaining) and reports on it."""
    rules = """
    - id: chain-start
      when:
        - {fact: influence, as: i}
      derive:
        fact: chain
        key: [start, end]
        fields: {start: i.cause, end: i.effect, length: 1, route: "i.cause + '>' + i.effect"}
    - id: chain-grow
      when:
        - {fact: chain, as: c, where: "length < 10"}
        - {fact: influence, as: i, where: "cause == c.end and effect != c.start"}
      derive:
        fact: chain
        key: [start, end]
        fields: {start: c.start, end: i.effect, length: c.length + 1, route: "c.route + '>' + i.effect"}
    - id: long-chain
      kind: conflict
      severity: low
      when:
        - {fact: chain, as: c, where: "length >= 3"}
      finding:
        message: "{c.route} ({c.length:.0f} links)"
    """
    facts = [
        {"type": "influence", "cause": a, "effect": b, "sign": 1.0}
        for a, b in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]
    ]
    found = run_alone(tmp_path, rules, facts)
    assert sorted(f.message for f in found) == [
        "a>b>c>d (3 links)",
        "b>c>d>a (3 links)",
        "c>d>a>b (3 links)",
        "d>a>b>c (3 links)",
    ]


def test_same_finding_from_several_matches_is_reported_once_lowest_rank_first(
    tmp_path: Path,
) -> None:
    rules = """
    - id: pair
      kind: conflict
      severity: low
      when:
        - {fact: kpi, as: a}
        - {fact: kpi, as: b, where: "metric == a.metric"}
      finding:
        kpis: ["{a.id}", "{b.id}"]
        rank: a.weight
        message: "kept {a.id}"
    """
    facts = [kpi("x", metric="m", weight=2.0), kpi("y", metric="m", weight=1.0)]
    found = run_alone(tmp_path, rules, facts)
    assert [f.message for f in found] == ["kept y"]


# ---------------------------------------------------------------------------------------------
# Comparisons are rearranged for durable_rules exactly as Python evaluates them

CONDITIONS = [
    "b.target - a.target > 5",
    "2 * b.target <= a.threshold + 1",
    "-b.target < a.target",
    "b.target / 4 >= a.threshold",
    "b.target * -2 > a.threshold",
    "a.threshold - b.target >= 3",
    "b.target != a.target",
    "b.target == a.threshold * 2",
    "not (b.target > a.target)",
    "not (b.threshold < 0 or b.threshold > 9)",
    "b.target > b.threshold",
    "a.target < b.target < a.threshold",
]

values = st.one_of(st.none(), st.integers(-20, 20).map(float))
KPI_FIELDS = {"id": "text", "target": "number", "threshold": "number"}


@pytest.fixture(scope="module")
def comparisons(tmp_path_factory: pytest.TempPathFactory) -> Any:
    rules = "".join(
        f"""
- id: c{number}
  kind: conflict
  severity: low
  when:
    - {{fact: kpi, as: a}}
    - {{fact: kpi, as: b, where: "{text}"}}
  finding: {{message: "{{a.id}}-{{b.id}}", kpis: ["{{a.id}}-{{b.id}}"]}}
"""
        for number, text in enumerate(CONDITIONS)
    )
    path = tmp_path_factory.mktemp("comparisons") / "pack.yaml"
    path.write_text(HEADER + textwrap.indent(rules, "  "), encoding="utf-8")
    loaded = load_pack(path)
    return compile_program([(loaded.compiled, loaded.source)])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(values, values), min_size=2, max_size=5))
def test_engine_matches_python_evaluation(
    comparisons: Any, rows: list[tuple[float | None, float | None]]
) -> None:
    """Every rearranged comparison selects exactly the pairs Python's evaluation selects."""
    facts: list[dict[str, Any]] = []
    for index, (target, threshold) in enumerate(rows):
        fact: dict[str, Any] = {"type": "kpi", "id": f"k{index}"}
        if target is not None:
            fact["target"] = target
        if threshold is not None:
            fact["threshold"] = threshold
        facts.append(fact)
    found = evaluate_program(comparisons, facts).findings
    scope = Scope({"a": ("kpi", KPI_FIELDS), "b": ("kpi", KPI_FIELDS)}, current="b")
    for number, text in enumerate(CONDITIONS):
        node = parse_expression(text, scope)
        expected = sorted(
            f"{a['id']}-{b['id']}"
            for a, b in itertools.permutations(facts, 2)
            if evaluate(node, {"a": a, "b": b})
        )
        got = sorted(f.message for f in found if f.rule == f"c{number}")
        assert got == expected, text


# ---------------------------------------------------------------------------------------------
# Expressions on their own


def test_value_expressions_format_for_planners() -> None:
    scope = Scope({"p": ("pool_total", {"excess": "number", "unit": "text"})}, values=True)
    node = parse_expression("p.excess / 4 if p.unit == 'hours' else null", scope)
    assert evaluate(node, {"p": {"excess": 62000.0, "unit": "hours"}}) == 15500.0
    assert evaluate(node, {"p": {"excess": 1.0, "unit": "CNY"}}) is None
    assert format_value(15500.0) == "15500"
    assert format_value(0.085) == "0.085"
    assert format_value(1234567.0, ",.0f") == "1,234,567"
    assert format_value(["a", "b"]) == "a, b"
    assert format_value(None) == "none"


def test_bare_names_are_fields_of_the_fact_being_matched() -> None:
    scope = Scope({"k": ("kpi", {"sign": "number"})}, current="k")
    assert parse_expression("sign", scope) == Field("k", "sign", "number")


def test_program_of_shipped_packs_has_only_finding_rules() -> None:
    program = program_for()
    assert program.strata == ()  # reach and kpi_group come from the facts builder
    assert "trade-off" in {r.id for r in program.findings}


def test_a_rule_negating_what_it_derives_cannot_be_ordered(tmp_path: Path) -> None:
    rules = """
    - id: loop
      when:
        - {fact: metric, as: m}
        - {none: mark, where: "metric == m.id"}
      derive: {fact: mark, fields: {metric: m.id}}
    """
    loaded = load_pack(write_pack(tmp_path, rules))
    with pytest.raises(RuleError, match="depend on their own results through 'none:'"):
        compile_program([(loaded.compiled, loaded.source)])
