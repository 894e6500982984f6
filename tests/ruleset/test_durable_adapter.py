"""The durable_rules adapter against the real C engine: matching, forward chaining, numbers,
text, limits and the defences against the engine's defects. No mocks."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
from decimal import Decimal
from typing import Any

import pytest

from alignment_engine.errors import RuleError
from alignment_engine.ruleset.durable import (
    MAX_ALIASES_PER_RULE,
    MAX_BRANCHES_PER_CONDITION,
    MAX_FACT_PROPERTIES,
    MAX_RULES_PER_RULESET,
    MAX_STRING_BYTES,
    Match,
    RuleEngine,
    ids,
    jsontext,
)
from alignment_engine.ruleset.durable import engine as _durable

KPI = {"type": "kpi"}


def run(rules: dict[str, Any], facts: list[dict[str, Any]], **options: Any) -> list[Match]:
    with RuleEngine({"t": rules}, **options) as engine:
        return engine.evaluate("t", facts)


def fired(matches: list[Match]) -> list[tuple[str, dict[str, Any]]]:
    """Each match as (rule, {alias: fact name}), in the order returned."""
    return [(m.rule, {alias: fact["name"] for alias, fact in m.facts.items()}) for m in matches]


def one_rule(condition: Any, facts: list[dict[str, Any]]) -> list[str]:
    """Names of the facts a single-alias rule matches."""
    return [m.facts["x"]["name"] for m in run({"r": {"all": [{"x": condition}]}}, facts)]


# ---------------------------------------------------------------------------------------------
# Conditions


def test_equality_on_text_numbers_booleans_and_null() -> None:
    facts = [
        {"name": "a", "s": "x", "n": 3, "f": 2.5, "b": True, "z": None},
        {"name": "b", "s": "y", "n": 4, "f": 2.5000001, "b": False, "z": 0},
    ]
    assert one_rule({"s": "x"}, facts) == ["a"]
    assert one_rule({"$eq": {"n": 4}}, facts) == ["b"]
    assert one_rule({"f": 2.5}, facts) == ["a"]
    assert one_rule({"n": 3.0}, facts) == ["a"]  # durable compares int and double by value
    assert one_rule({"b": False}, facts) == ["b"]
    assert one_rule({"z": None}, facts) == ["a"]
    assert one_rule({"s": "nope"}, facts) == []


def test_comparisons() -> None:
    facts = [{"name": f"v{v}", "v": v} for v in (-5, 0, 1.5, 2, 10)]
    assert one_rule({"$lt": {"v": 1.5}}, facts) == ["v-5", "v0"]
    assert one_rule({"$lte": {"v": 1.5}}, facts) == ["v-5", "v0", "v1.5"]
    assert one_rule({"$gt": {"v": 2}}, facts) == ["v10"]
    assert one_rule({"$gte": {"v": 2}}, facts) == ["v2", "v10"]
    assert one_rule({"$neq": {"v": 0}}, facts) == ["v-5", "v1.5", "v2", "v10"]
    assert one_rule({"$and": [{"$gt": {"v": -1}}, {"$lt": {"v": 5}}]}, facts) == [
        "v0",
        "v1.5",
        "v2",
    ]
    assert one_rule({"$or": [{"v": -5}, {"v": 10}]}, facts) == ["v-5", "v10"]


def test_a_comparison_needs_the_field_and_exists_tests_see_it() -> None:
    facts = [{"name": "with", "v": 1}, {"name": "without"}]
    assert one_rule({"$neq": {"v": 7}}, facts) == ["with"]
    assert one_rule({"$ex": {"v": 1}}, facts) == ["with"]
    assert one_rule({"$nex": {"v": 1}}, facts) == ["without"]


def test_nested_fields() -> None:
    facts = [{"name": "a", "target": {"value": 5, "unit": "%"}}, {"name": "b", "target": 5}]
    assert one_rule({"target.value": 5}, facts) == ["a"]
    assert one_rule({"$gt": {"target.value": {"$m": "target.value"}}}, facts) == []


def test_an_or_that_matches_twice_is_reported_once() -> None:
    facts = [{"name": "both", "x": 1, "y": 2}, {"name": "one", "x": 1}]
    assert one_rule({"$or": [{"x": 1}, {"y": 2}]}, facts) == ["both", "one"]


def test_no_facts_and_no_matches() -> None:
    rules = {"r": {"all": [{"k": KPI}]}}
    assert run(rules, []) == []
    assert run(rules, [{"type": "objective", "name": "o"}]) == []


# ---------------------------------------------------------------------------------------------
# Joins


SAME_METRIC = {
    "same metric": {
        "all": [
            {"a": KPI},
            {"b": {"$and": [KPI, {"metric": {"a": "metric"}}]}},
        ]
    }
}


def test_join_on_equal_fields_pairs_distinct_facts_both_ways() -> None:
    facts = [
        {"type": "kpi", "name": "k1", "metric": "revenue"},
        {"type": "kpi", "name": "k2", "metric": "revenue"},
        {"type": "kpi", "name": "k3", "metric": "cost"},
    ]
    assert fired(run(SAME_METRIC, facts)) == [
        ("same metric", {"a": "k1", "b": "k2"}),
        ("same metric", {"a": "k2", "b": "k1"}),
    ]


def test_dist_zero_lets_one_fact_fill_both_aliases() -> None:
    rules = {"r": {**SAME_METRIC["same metric"], "dist": 0}}
    facts = [{"type": "kpi", "name": "k1", "metric": "m"}]
    assert fired(run(rules, facts)) == [("r", {"a": "k1", "b": "k1"})]


def test_inequality_joins_where_most_comparisons_are_false() -> None:
    # Mostly false join conditions are where durable reads past its expression array (defect 2).
    rules = {
        "bigger": {
            "all": [
                {"a": KPI},
                {"b": {"$and": [KPI, {"$gt": {"v": {"a": "v"}}}, {"$neq": {"g": {"a": "g"}}}]}},
            ]
        }
    }
    facts = [{"type": "kpi", "name": f"k{i}", "v": i % 7, "g": i % 3} for i in range(40)]
    expected = sorted(
        (i, j) for i in range(40) for j in range(40) if j % 7 > i % 7 and j % 3 != i % 3
    )
    got = [
        (int(m.facts["a"]["name"][1:]), int(m.facts["b"]["name"][1:])) for m in run(rules, facts)
    ]
    assert got == expected


def test_join_on_a_field_some_facts_lack_matches_only_facts_that_have_it() -> None:
    facts = [
        {"type": "kpi", "name": "no metric"},
        {"type": "kpi", "name": "k1", "metric": "m"},
        {"type": "kpi", "name": "k2", "metric": "m"},
    ]
    assert fired(run(SAME_METRIC, facts)) == [
        ("same metric", {"a": "k1", "b": "k2"}),
        ("same metric", {"a": "k2", "b": "k1"}),
    ]


def test_three_way_join() -> None:
    rules = {
        "chain": {
            "all": [
                {"o": {"type": "objective"}},
                {"k": {"$and": [KPI, {"objective": {"o": "id"}}]}},
                {"d": {"$and": [{"type": "department"}, {"id": {"k": "owner"}}]}},
            ]
        }
    }
    facts = [
        {"type": "objective", "name": "O1", "id": "o1"},
        {"type": "kpi", "name": "K1", "objective": "o1", "owner": "sales"},
        {"type": "kpi", "name": "K2", "objective": "o2", "owner": "sales"},
        {"type": "department", "name": "Sales", "id": "sales"},
    ]
    assert fired(run(rules, facts)) == [("chain", {"o": "O1", "k": "K1", "d": "Sales"})]


def test_fields_named_id_and_sid_are_ordinary_fields() -> None:
    rules = {"r": {"all": [{"a": {"id": "k1"}}, {"b": {"$and": [{"sid": {"a": "_sid"}}]}}]}}
    facts = [
        {"name": "A", "id": "k1", "_sid": 7},
        {"name": "B", "id": "k2", "sid": 7},
        {"name": "C", "id": "k3", "sid": 8, "_id": "x", "__sid": 1},
    ]
    matches = run(rules, facts)
    assert fired(matches) == [("r", {"a": "A", "b": "B"})]
    assert matches[0].facts["b"] is facts[1]  # the very objects passed in


# ---------------------------------------------------------------------------------------------
# Negation


LONELY = {
    "lonely": {
        "all": [
            {"k": KPI},
            {"other$not": {"$and": [KPI, {"metric": {"k": "metric"}}]}},
        ]
    }
}


def test_negation_without_a_join() -> None:
    rules = {"no blockers": {"all": [{"k": KPI}, {"b$not": {"type": "blocker"}}]}}
    kpi = {"type": "kpi", "name": "k"}
    blocker = {"type": "blocker", "name": "b"}
    assert fired(run(rules, [kpi])) == [("no blockers", {"k": "k"})]
    assert run(rules, [kpi, blocker]) == []
    assert run(rules, [blocker, kpi]) == []  # fact order does not matter


def test_negation_with_a_join_in_any_fact_order() -> None:
    facts = [
        {"type": "kpi", "name": "alone", "metric": "m1"},
        {"type": "kpi", "name": "k2", "metric": "m2"},
        {"type": "kpi", "name": "k3", "metric": "m2"},
        {"type": "kpi", "name": "no metric"},
    ]
    expected = [("lonely", {"k": "alone"}), ("lonely", {"k": "no metric"})]
    assert fired(run(LONELY, facts)) == expected
    reordered = [facts[2], facts[0], facts[3], facts[1]]
    assert sorted(fired(run(LONELY, reordered)), key=str) == sorted(expected, key=str)


def test_negation_between_positive_aliases_and_several_negations() -> None:
    rules = {
        "r": {
            "all": [
                {"k": KPI},
                {"x$not": {"$and": [{"type": "waiver"}, {"kpi": {"k": "name"}}]}},
                {"o": {"$and": [{"type": "objective"}, {"id": {"k": "objective"}}]}},
                {"y$not": {"$and": [{"type": "veto"}, {"objective": {"o": "id"}}]}},
            ]
        }
    }
    facts = [
        {"type": "kpi", "name": "k1", "objective": "o1"},
        {"type": "kpi", "name": "k2", "objective": "o1"},
        {"type": "kpi", "name": "k3", "objective": "o2"},
        {"type": "objective", "name": "O1", "id": "o1"},
        {"type": "objective", "name": "O2", "id": "o2"},
        {"type": "waiver", "name": "w", "kpi": "k2"},
        {"type": "veto", "name": "v", "objective": "o2"},
    ]
    assert fired(run(rules, facts)) == [("r", {"k": "k1", "o": "O1"})]


def test_a_negated_alias_cannot_come_first() -> None:
    with pytest.raises(RuleError, match="cannot come first"):
        run({"r": {"all": [{"x$not": KPI}, {"k": KPI}]}}, [])


# ---------------------------------------------------------------------------------------------
# Arithmetic


def test_arithmetic_on_the_fact_itself() -> None:
    rules_of = {
        "$add": {"$gt": {"actual": {"$add": {"$l": {"$m": "target"}, "$r": 10}}}},
        "$sub": {"$lt": {"actual": {"$sub": {"$l": {"$m": "target"}, "$r": 10}}}},
        "$mul": {"$gte": {"actual": {"$mul": {"$l": {"$m": "target"}, "$r": 1.5}}}},
        "$div": {"$lte": {"actual": {"$div": {"$l": {"$m": "target"}, "$r": 4}}}},
    }
    facts = [
        {"name": "over", "actual": 200, "target": 100},
        {"name": "under", "actual": 20, "target": 100},
        {"name": "no target", "actual": 5},
    ]
    assert one_rule(rules_of["$add"], facts) == ["over"]
    assert one_rule(rules_of["$sub"], facts) == ["under"]
    assert one_rule(rules_of["$mul"], facts) == ["over"]
    assert one_rule(rules_of["$div"], facts) == ["under"]


def test_division_is_floating_point_and_survives_a_zero_divisor() -> None:
    # Integer $div by zero kills durable with SIGFPE; the adapter divides as doubles.
    condition = {"$gt": {"limit": {"$div": {"$l": {"$m": "amount"}, "$r": {"$m": "count"}}}}}
    facts = [
        {"name": "7/2", "amount": 7, "count": 2, "limit": 3},  # 3.5 > 3, integer division: 3
        {"name": "zero", "amount": 7, "count": 0, "limit": 3},  # 7 / 0.0 = inf
        {"name": "int min", "amount": -(2**63), "count": -1, "limit": 0},
    ]
    assert one_rule(condition, facts) == []
    assert one_rule(
        {"$lt": {"limit": {"$div": {"$l": {"$m": "amount"}, "$r": {"$m": "count"}}}}}, facts
    ) == [
        "7/2",
        "zero",
        "int min",
    ]


def test_arithmetic_across_a_join() -> None:
    rules = {
        "outgrows": {
            "all": [
                {"a": KPI},
                {
                    "b": {
                        "$and": [
                            KPI,
                            {"$gt": {"target": {"$mul": {"$l": {"a": "target"}, "$r": 2}}}},
                        ]
                    }
                },
            ]
        }
    }
    facts = [
        {"type": "kpi", "name": "small", "target": 10},
        {"type": "kpi", "name": "big", "target": 25},
        {"type": "kpi", "name": "mid", "target": 15},
    ]
    assert fired(run(rules, facts)) == [("outgrows", {"a": "small", "b": "big"})]


def test_text_in_joined_arithmetic_fails_with_a_clear_error() -> None:
    rules = {
        "r": {
            "all": [
                {"a": KPI},
                {
                    "b": {
                        "$and": [
                            KPI,
                            {"$gt": {"target": {"$add": {"$l": {"a": "target"}, "$r": 1}}}},
                        ]
                    }
                },
            ]
        }
    }
    facts = [
        {"type": "kpi", "name": "x", "target": "high"},
        {"type": "kpi", "name": "y", "target": 3},
    ]
    with pytest.raises(RuleError, match="arithmetic") as caught:
        run(rules, facts)
    assert "fact 0 has target = 'high'" in str(caught.value.suggestion)


def test_arithmetic_of_literals_is_computed_once() -> None:
    # durable cannot evaluate arithmetic without a field in it; the adapter folds it.
    condition = {"$gt": {"v": {"$mul": {"$l": {"$add": {"$l": 1, "$r": 2}}, "$r": 1.5}}}}
    assert one_rule(condition, [{"name": "4.6", "v": 4.6}, {"name": "4.5", "v": 4.5}]) == ["4.6"]
    with pytest.raises(RuleError, match="64-bit"):
        one_rule({"v": {"$mul": {"$l": 2**62, "$r": 4}}}, [])


def test_division_by_a_literal_zero_is_refused() -> None:
    with pytest.raises(RuleError, match=r"\$div by zero"):
        run({"r": {"all": [{"x": {"$gt": {"v": {"$div": {"$l": {"$m": "w"}, "$r": 0}}}}}]}}, [])


# ---------------------------------------------------------------------------------------------
# Forward chaining


def test_derived_facts_are_matched_by_other_rules() -> None:
    rules = {
        "shared metric": {
            **SAME_METRIC["same metric"],
            "derive": [{"type": "shared", "metric": {"$ref": "a.metric"}, "by": ["adapter"]}],
        },
        "report shared": {"all": [{"s": {"type": "shared"}}]},
    }
    facts = [
        {"type": "kpi", "name": "k1", "metric": "m"},
        {"type": "kpi", "name": "k2", "metric": "m"},
    ]
    matches = run(rules, facts)
    shared = {"type": "shared", "metric": "m", "by": ["adapter"]}
    assert [(m.rule, m.derived) for m in matches] == [
        ("shared metric", (shared,)),
        ("shared metric", ()),  # the second pair derives the same fact: not asserted again
        ("report shared", ()),
    ]
    assert matches[2].facts["s"] == shared


def test_derived_facts_join_facts_asserted_in_earlier_rounds() -> None:
    # (With text that is not ASCII, this crashed durable before the adapter kept the JSON texts
    # alive; that case runs in a subprocess: test_durable_stress.py, scenario "derived_joins".)
    rules = {
        "pair": {
            "all": [
                {"a": KPI},
                {
                    "b": {
                        "$and": [
                            KPI,
                            {"metric": {"a": "metric"}},
                            {"$neq": {"dept": {"a": "dept"}}},
                        ]
                    }
                },
            ],
            "derive": [
                {"type": "shared", "name": {"$ref": "a.metric"}, "metric": {"$ref": "a.metric"}}
            ],
        },
        "shared": {
            "all": [{"s": {"type": "shared"}}, {"k": {"$and": [KPI, {"metric": {"s": "metric"}}]}}]
        },
    }
    facts = [
        {"type": "kpi", "name": f"k{i}", "metric": ["revenue", "churn"][i % 2], "dept": f"d{i % 3}"}
        for i in range(6)
    ]
    with RuleEngine({"t": rules}) as engine:
        results = [fired(engine.evaluate("t", facts)) for _ in range(5)]
    shared = [found for found in results[0] if found[0] == "shared"]
    assert sorted(f["k"] for _, f in shared) == [f"k{i}" for i in range(6)]
    assert all(result == results[0] for result in results)


def test_a_chain_over_several_hops_with_a_cycle_ends() -> None:
    # a -> b -> c -> d, and d -> a again: the fact a derives is identical to the input fact.
    hop = {
        f"{x} to {y}": {
            "all": [{"f": {"stage": x}}],
            "derive": [{"stage": y, "item": {"$ref": "f.item"}}],
        }
        for x, y in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]
    }
    matches = run(hop, [{"stage": "a", "item": "widget"}])
    assert [m.rule for m in matches] == ["a to b", "b to c", "c to d", "d to a"]
    assert [m.derived for m in matches] == [
        ({"stage": "b", "item": "widget"},),
        ({"stage": "c", "item": "widget"},),
        ({"stage": "d", "item": "widget"},),
        (),
    ]


def test_a_rule_that_derives_for_ever_hits_the_cap() -> None:
    # Each round wraps the previous list once more, so every derived fact is new.
    rules = {
        "grow": {"all": [{"n": {"type": "n"}}], "derive": [{"type": "n", "v": [{"$ref": "n.v"}]}]}
    }
    with pytest.raises(RuleError, match="derived more than 25 facts"):
        run(rules, [{"type": "n", "v": 0}], max_derived_facts=25)


def test_negation_sees_facts_derived_in_earlier_rounds() -> None:
    rules = {
        "derive flag": {
            "all": [{"k": KPI}],
            "derive": [{"type": "flag", "kpi": {"$ref": "k.name"}}],
        },
        "unflagged": {
            "all": [
                {"k": {"type": "late kpi"}},
                {"f$not": {"$and": [{"type": "flag"}, {"kpi": {"k": "of"}}]}},
            ]
        },
    }
    facts = [{"type": "kpi", "name": "k1"}, {"type": "late kpi", "name": "L", "of": "k1"}]
    # Round one finds "unflagged" before the flag exists; a later flag does not undo it.
    assert [m.rule for m in run(rules, facts)] == ["derive flag", "unflagged"]


# ---------------------------------------------------------------------------------------------
# Text and numbers


def test_chinese_text_in_values_fields_aliases_rules_and_rulesets() -> None:
    rules = {
        "同一指标": {
            "all": [
                {"甲": {"类型": "指标"}},
                {
                    "乙": {
                        "$and": [
                            {"类型": "指标"},
                            {"度量": {"甲": "度量"}},
                            {"$neq": {"名称": "无"}},
                        ]
                    }
                },
            ],
            "derive": [{"类型": "共享", "度量": {"$ref": "甲.度量"}}],
        }
    }
    facts = [
        {"类型": "指标", "名称": "销售额", "度量": "收入"},
        {"类型": "指标", "名称": "利润", "度量": "收入"},
    ]
    with RuleEngine({"规则": rules}) as engine:
        matches = engine.evaluate("规则", facts)
    assert [(m.rule, m.facts["甲"]["名称"], m.facts["乙"]["名称"]) for m in matches] == [
        ("同一指标", "销售额", "利润"),
        ("同一指标", "利润", "销售额"),
    ]
    assert matches[0].derived == ({"类型": "共享", "度量": "收入"},)


def test_text_that_json_escapes() -> None:
    text = 'quote " backslash \\ newline \n tab \t nul \x00 emoji 😀'
    assert one_rule({"s": text}, [{"name": "a", "s": text}, {"name": "b", "s": text + "!"}]) == [
        "a"
    ]


@pytest.mark.parametrize(
    ("value", "smaller", "bigger"),
    [
        (1e-12, 0, 1e-11),
        (1e20, 1e19, 1e21),
        (2**63 - 1, 2**63 - 2, 9.3e18),
        (0, -1, 1e-300),
        (-0.0, -1e-9, 1e-9),
        (-3.5, -4, -3),
        (-(2**63), -9.3e18, -(2**63) + 1),
        (5e-324, 0, 1e-323),
    ],
)
def test_numbers_compare_correctly(value: float, smaller: float, bigger: float) -> None:
    facts = [{"name": "v", "v": value}]
    assert one_rule({"v": value}, facts) == ["v"]
    assert one_rule({"$gt": {"v": smaller}}, facts) == ["v"]
    assert one_rule({"$lt": {"v": bigger}}, facts) == ["v"]
    assert one_rule({"$lt": {"v": smaller}}, facts) == []


def test_zero_and_negative_zero_are_equal() -> None:
    assert one_rule({"v": 0}, [{"name": "nz", "v": -0.0}, {"name": "z", "v": 0}]) == ["nz", "z"]


def test_floats_are_written_without_exponents() -> None:
    write = jsontext.format_float
    assert write(1e-12) == "0.000000000001"
    assert write(1e20) == "100000000000000000000.0"
    assert write(-0.0) == "-0.0"
    assert write(1e16) == "10000000000000000.0"
    assert write(1.5e-5) == "0.000015"
    assert float(write(5e-324)) == 5e-324


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), Decimal("NaN")])
def test_nan_and_infinities_are_refused_in_facts(bad: object) -> None:
    with pytest.raises(RuleError, match=r"fact 1: .*not a finite number"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": 1}, {"v": bad}])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_and_infinities_are_refused_in_rules(bad: float) -> None:
    with pytest.raises(RuleError, match="not a finite number"):
        run({"r": {"all": [{"x": {"$gt": {"v": bad}}}]}}, [])


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_int64_are_refused(big: int) -> None:
    with pytest.raises(RuleError, match="64-bit"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": big}])
    with pytest.raises(RuleError, match="64-bit"):
        run({"r": {"all": [{"x": {"v": big}}]}}, [])


def test_decimal_and_numpy_numbers_are_taken_as_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    facts = [
        {"name": "d", "v": Decimal("2.50")},
        {"name": "n", "v": numpy.int64(3)},
        {"name": "f", "v": numpy.float64(4.5)},
    ]
    assert one_rule({"$gt": {"v": 2}}, facts) == ["d", "n", "f"]


def test_other_types_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(RuleError, match="set is not a value"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": {1, 2}}])
    with pytest.raises(RuleError, match="lone surrogate"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": "\ud800"}])
    with pytest.raises(RuleError, match="mapping of fields"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [["not", "a", "fact"]])  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------
# Hashing (defect 5)

# Found by a birthday search over "指标<n>": equal under durable's FNV-1 over signed char,
# different under the textbook unsigned FNV-1.
COLLIDING = ("指标38398", "指标1326362")


def test_fnv1_matches_the_hashes_compiled_into_durable() -> None:
    known = {
        "id": 926444256,
        "sid": 3593476751,
        "all": 321211332,
        "$lt": 542787579,
        "$and": 3746487396,
        "$m": 1690058490,
        "$div": 130502,
        "$i": 1622948014,
    }
    assert {word: ids.fnv1_32(word) for word in known} == known
    assert ids.fnv1_32(COLLIDING[0]) == ids.fnv1_32(COLLIDING[1])


def test_durable_confuses_ids_that_collide_and_the_adapter_never_makes_them() -> None:
    native = _durable._native
    handle = native.create_ruleset("collide", '{"r":{"all":[{"a":{"t":1}}]}}')
    try:
        first = native.assert_facts(handle, f'[{{"sid":"x","id":"{COLLIDING[0]}","t":1}}]')
        second = native.assert_facts(handle, f'[{{"sid":"x","id":"{COLLIDING[1]}","t":1}}]')
    finally:
        native.delete_ruleset(handle)
    assert (first[0], second[0]) == (0, 2)  # 2: "already observed", the fact is dropped
    table = ids.IdTable()
    made = table.ensure(5000, avoid=set())
    assert len({ids.fnv1_32(fact_id) for fact_id in made}) == 5000


def test_field_names_that_collide_are_refused() -> None:
    with pytest.raises(RuleError, match="collide"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{COLLIDING[0]: 1, COLLIDING[1]: 2}])


# ---------------------------------------------------------------------------------------------
# Limits, refused up front with clear errors


def test_rules_per_ruleset() -> None:
    # One durable rule is the adapter's sentinel, so 4095 rules fit and 4096 do not.
    rules = {
        f"r{i}": {"all": [{"k": {"$and": [KPI, {"group": i // 64}, {"n": i % 64}]}}]}
        for i in range(MAX_RULES_PER_RULESET - 1)
    }
    assert [m.rule for m in run(rules, [{"type": "kpi", "group": 63, "n": 62}])] == ["r4094"]
    rules["one more"] = {"all": [{"k": KPI}]}
    with pytest.raises(RuleError, match="at most 4096"):
        RuleEngine({"t": rules})
    negated = {"r": {"all": [{"k": KPI}, {"x$not": {"type": "x"}}]}}
    many = {f"r{i}": negated["r"] for i in range(MAX_RULES_PER_RULESET // 2)}
    with pytest.raises(RuleError, match="one per negated alias"):
        RuleEngine({"t": many})


def test_properties_per_fact() -> None:
    fact = {f"p{i}": i for i in range(MAX_FACT_PROPERTIES)}
    rules = {"r": {"all": [{"x": {"p0": 0}}]}}
    assert len(run(rules, [fact])) == 1
    with pytest.raises(RuleError, match=f"more than {MAX_FACT_PROPERTIES} fields"):
        run(rules, [{**fact, "one more": 1}])
    nested = {f"p{i}": i for i in range(MAX_FACT_PROPERTIES - 2)} | {"n": {"a": 1, "b": 2}}
    with pytest.raises(RuleError, match="nested fields count"):
        run(rules, [nested])


def test_alternatives_on_one_field() -> None:
    def alternatives(count: int) -> dict[str, Any]:
        return {"r": {"all": [{"x": {"$or": [{"metric": f"m{i}"} for i in range(count)]}}]}}

    facts = [{"name": "last", "metric": f"m{MAX_BRANCHES_PER_CONDITION - 1}"}]
    assert len(run(alternatives(MAX_BRANCHES_PER_CONDITION), facts)) == 1
    with pytest.raises(RuleError, match="hangs above 511"):
        run(alternatives(MAX_BRANCHES_PER_CONDITION + 1), facts)


def test_many_rules_on_one_kind_of_fact_are_spread_out() -> None:
    # durable would give up matching one fact against more than 64 conditions (error 303);
    # the adapter spreads them under always-true bucket tests.
    thresholds = {
        f"over {i}": {"all": [{"k": {"$and": [KPI, {"$gt": {"v": i}}]}}]} for i in range(70)
    }
    matches = run(
        thresholds, [{"type": "kpi", "name": "k", "v": 100}, {"type": "kpi", "name": "low", "v": 3}]
    )
    expected = [
        (f"over {i}", name) for i in range(70) for name in ("k", "low") if i < 3 or name == "k"
    ]
    assert [(m.rule, m.facts["k"]["name"]) for m in matches] == expected


def test_many_joins_after_the_same_test() -> None:
    # More than 64 joins under `type == kpi` also overflow durable's stack unless spread.
    rules = {
        f"goal {i}": {
            "all": [
                {"g": {"$and": [{"type": "goal"}, {"n": i}]}},
                {"k": {"$and": [KPI, {"metric": {"g": "metric"}}]}},
            ]
        }
        for i in range(300)
    }
    facts = [{"type": "goal", "name": f"g{i}", "n": i, "metric": "m"} for i in range(300)]
    facts.append({"type": "kpi", "name": "k", "metric": "m"})
    assert [m.rule for m in run(rules, facts)] == [f"goal {i}" for i in range(300)]


def test_many_distinct_first_tests_and_identical_aliases() -> None:
    distinct = {f"r{i}": {"all": [{"x": {f"field{i % 9}": i}}]} for i in range(900)}
    assert [m.rule for m in run(distinct, [{"name": "f", "field4": 301}])] == ["r301"]
    same = {f"r{i}": {"all": [{"k": KPI}]} for i in range(300)}
    assert len(run(same, [{"type": "kpi", "name": "k"}])) == 300


def test_conditions_one_fact_could_match_at_once() -> None:
    # Branches of one $or cannot be spread: a fact may match all of them at once.
    wide_or = {"r": {"all": [{"k": {"$or": [{"$gt": {"v": i}} for i in range(70)]}}]}}
    with pytest.raises(RuleError, match="could match 70 conditions at once"):
        RuleEngine({"t": wide_or})
    # Mutually exclusive equalities do not add up.
    types = {"r": {"all": [{"k": {"$or": [{"type": f"t{i}"} for i in range(300)]}}]}}
    RuleEngine({"t": types}).close()


def test_aliases_per_rule() -> None:
    entries = [{f"a{i}": KPI} for i in range(MAX_ALIASES_PER_RULE + 1)]
    with pytest.raises(RuleError, match="at most 16 facts per match"):
        run({"r": {"all": entries}}, [])


def test_long_text_is_refused() -> None:
    with pytest.raises(RuleError, match="longer than"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": "x" * (MAX_STRING_BYTES + 1)}])
    assert one_rule(
        {"v": 1}, [{"name": "ok", "v": 1, "s": "文" * (MAX_STRING_BYTES // 3 - 2)}]
    ) == ["ok"]


def test_facts_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_durable, "MAX_FACTS_PER_EVALUATION", 3)
    with pytest.raises(RuleError, match="at most 3"):
        run({"r": {"all": [{"x": {"v": 1}}]}}, [{"v": 1}] * 4)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"all": [{"k": KPI}], "run": "record"}, "actions are not supported"),
        ({"all": [{"k": KPI}], "pri": 1}, "unsupported rule key"),
        ({"any": [{"k": KPI}]}, "unsupported rule key"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"k": {"type": "kpi", "metric": "m"}}]}, "with one key"),
        ({"all": [{"k": {"$mt": {"name": "a.*"}}}]}, r"\$mt is not supported"),
        ({"all": [{"k": {"$like": {"name": "a"}}}]}, "unknown operator"),
        ({"all": [{"k": KPI}, {"j": {"metric": {"z": "metric"}}}]}, "'z' is not a positive alias"),
        (
            {"all": [{"k": KPI}, {"j": {"$or": [KPI, {"metric": {"k": "metric"}}]}}]},
            "cannot also use",
        ),
        ({"all": [{"k": KPI}, {"k": KPI}]}, "used twice"),
        ({"all": [{"k$all": [KPI]}]}, "nested"),
        ({"all": [{"$k": KPI}]}, "starts with"),
        ({"all": [{"k": {"$v": 1}}]}, "unknown operator"),
        ({"all": [{"k": {"a.$b": 1}}]}, "starts with"),
        ({"all": [{"k": {"v": [1, 2]}}]}, "lists cannot be compared"),
        ({"all": [{"k": KPI}], "derive": [{"x": {"$ref": "q.metric"}}]}, "not a positive alias"),
        ({"all": [{"k": KPI}], "dist": 2}, "'dist' is 0 or 1"),
    ],
)
def test_malformed_rules_are_refused_with_the_rule_named(
    rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleError, match=message) as caught:
        RuleEngine({"pack": {"the rule": rule}})
    assert caught.value.key == "pack.the rule"


# ---------------------------------------------------------------------------------------------
# The engine object


def test_rulesets_given_are_not_changed() -> None:
    rules = {"kpis": {**SAME_METRIC, **LONELY, "d": {"all": [{"k": KPI}], "derive": [{"x": 1}]}}}
    before = copy.deepcopy(rules)
    RuleEngine(rules).close()
    assert rules == before


def test_unknown_ruleset_and_closed_engine() -> None:
    engine = RuleEngine({"a": {"r": {"all": [{"k": KPI}]}}})
    with pytest.raises(RuleError, match="unknown ruleset 'b'") as caught:
        engine.evaluate("b", [])
    assert caught.value.suggestion == "known: a"
    engine.close()
    with pytest.raises(RuleError, match="closed"):
        engine.evaluate("a", [])


def test_evaluations_are_repeatable_and_start_empty() -> None:
    with RuleEngine({"t": SAME_METRIC}) as engine:
        facts = [{"type": "kpi", "name": f"k{i}", "metric": "m"} for i in range(3)]
        first = fired(engine.evaluate("t", facts))
        assert engine.evaluate("t", facts[:1]) == []  # nothing left over from before
        assert fired(engine.evaluate("t", facts)) == first
        assert len(first) == 6


def test_no_timer_threads_only_the_engine_thread() -> None:
    with RuleEngine({"t": SAME_METRIC}) as engine:
        engine.evaluate("t", [{"type": "kpi", "name": "k", "metric": "m"}])
        before = set(threading.enumerate())
        for _ in range(20):
            engine.evaluate("t", [{"type": "kpi", "name": "k", "metric": "m"}])
        after = set(threading.enumerate())
    assert after == before
    assert not any(isinstance(thread, threading.Timer) for thread in after)
    assert [t.name for t in after if t.name == "alignment-engine-rules"] == [
        "alignment-engine-rules"
    ]


def test_durables_python_host_is_never_loaded() -> None:
    # durable.engine.Host starts timer threads (defect 3); the adapter uses the C extension only.
    code = (
        "import sys\n"
        "from alignment_engine.ruleset.durable.engine import RuleEngine\n"
        "RuleEngine({'t': {'r': {'all': [{'k': {'v': 1}}]}}}).evaluate('t', [{'v': 1}])\n"
        "print('durable.engine' in sys.modules, 'durable' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
