"""What keeps large checks fast must not change what they find: the semi-join that spares the
engine facts no join can pair, reading matches out of durable_rules' JSON text, and rendering
placeholders once per distinct facts. Each is checked against the plain path, for real on
durable_rules."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignment_engine.model.findings import Finding, FindingKind, FindingTranslation, Severity
from alignment_engine.rulepacks import load_pack
from alignment_engine.ruleset import evaluation
from alignment_engine.ruleset.compiler import compile_program
from alignment_engine.ruleset.durable.engine import RuleEngine
from alignment_engine.ruleset.durable.matches import _frames, _parsed_frames
from alignment_engine.ruleset.evaluation import evaluate_program
from alignment_engine.ruleset.expressions import Scope
from alignment_engine.ruleset.templates import RenderMemo, parse_template

JOIN_RULE = """
kind: rules
id: join-pack
rules:
  - id: goal-at-risk
    kind: conflict
    severity: low
    when:
      - {fact: goal_member, as: g}
      - {fact: kpi, as: k, where: "metric == g.metric and sign < 0"}
    finding:
      kpis: ["{k.id}"]
      message: "{k.id} lowers {g.metric} for {g.goal}"
"""


def run_pack(tmp_path: Path, text: str, facts: list[dict[str, Any]]) -> list[Finding]:
    path = tmp_path / "pack.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    loaded = load_pack(path)
    program = compile_program([(loaded.compiled, loaded.source)])
    return evaluate_program(program, facts).findings


def test_a_join_finds_what_durable_pairs_even_across_types(tmp_path: Path) -> None:
    # durable_rules' equality pairs the text "1" with the number 1 (and "true" with true): the
    # pre-filter compares text only, so a side holding numbers is handed over whole.
    facts: list[dict[str, Any]] = [
        {"type": "goal_member", "goal": "g-text", "metric": "1"},
        {"type": "goal_member", "goal": "g-plain", "metric": "margin"},
        {"type": "kpi", "id": "k-number", "metric": 1, "sign": -1},
        {"type": "kpi", "id": "k-margin", "metric": "margin", "sign": -1},
        {"type": "kpi", "id": "k-other", "metric": "share", "sign": -1},
        {"type": "kpi", "id": "k-missing", "sign": -1},
    ]
    messages = [f.message for f in run_pack(tmp_path, JOIN_RULE, facts)]
    assert messages == ["k-margin lowers margin for g-plain", "k-number lowers 1 for g-text"]


metric_ids = st.sampled_from(["m1", "m2", "m3", "m4", "m5", 1, 2.0])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    goals=st.lists(metric_ids, max_size=6),
    kpis=st.lists(st.tuples(metric_ids, st.sampled_from([-1, 1])), max_size=12),
)
def test_the_semi_join_never_changes_the_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, goals: list[Any], kpis: list[Any]
) -> None:
    facts: list[dict[str, Any]] = [
        {"type": "goal_member", "goal": f"g{i}", "metric": m} for i, m in enumerate(goals)
    ] + [{"type": "kpi", "id": f"k{i}", "metric": m, "sign": s} for i, (m, s) in enumerate(kpis)]
    filtered = run_pack(tmp_path, JOIN_RULE, facts)
    with monkeypatch.context() as patch:
        patch.setattr(evaluation, "_semi_joined", lambda rule, inputs: inputs)
        whole = run_pack(tmp_path, JOIN_RULE, facts)
    assert filtered == whole


awkward_text = st.text(
    alphabet=st.sampled_from(["a", "b", '"', "\\", "[", "]", "{", "}", ":", ",", "é", "指"]),
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(awkward_text, min_size=1, max_size=6))
def test_matches_are_read_back_whatever_the_facts_hold(values: list[str]) -> None:
    rules = {
        "rs": {
            "pair": {
                "all": [
                    {"a": {"type": "left"}},
                    {"b": {"$and": [{"type": "right"}, {"key": {"a": "key"}}]}},
                ]
            }
        }
    }
    facts = [{"type": "left", "key": v, "note": v} for v in values]
    facts += [{"type": "right", "key": v, "label": v + "!"} for v in values]
    with RuleEngine(rules) as engine:
        matches = engine.evaluate("rs", facts)
    pairs = sorted((m.facts["a"]["note"], m.facts["b"]["label"]) for m in matches)
    expected = sorted((v, w + "!") for v in values for w in values if v == w)
    assert pairs == expected


def test_the_fast_reader_and_the_json_parser_agree() -> None:
    head = '"sid":"s1","$f":1,"id":'
    message = (
        '{"r0":[{"f0":{' + head + '"0","metric":"m1"},"f1":{' + head + '"1","n":2.5}},'
        '{"f0":{' + head + '"2","x":"a\\"b"},"f1":{' + head + '"3"}}],'
        '"r1":[{"f0":{' + head + '"9"}}]}'
    )
    assert _frames(message) == _parsed_frames(message)
    assert _frames(message) == [
        ("r0", [{"f0": "0", "f1": "1"}, {"f0": "2", "f1": "3"}]),
        ("r1", [{"f0": "9"}]),
    ]


def test_a_memo_renders_what_the_template_renders() -> None:
    scope = Scope(
        {"a": ("group", {"name": "text", "size": "number"}), "n": ("nth", {"i": "number"})},
        values=True,
    )
    template = parse_template(
        "{a.name} has {a.size:,.0f} ({n.i}) {'big' if a.size > 10 else 'small'}", scope
    )
    memo = RenderMemo(fresh=frozenset({"n"}))
    small, big = {"name": "ops", "size": 3.0}, {"name": "sales", "size": 12000.0}
    envs = [
        {"a": small, "n": {"i": 1.0}},
        {"a": big, "n": {"i": 2.0}},
        {"a": small, "n": {"i": 3.0}},
    ]
    # A fact made anew with the same content, and one whose content differs, each render afresh.
    envs += [
        {"a": dict(small), "n": {"i": 4.0}},
        {"a": {"name": "hr", "size": 40.0}, "n": {"i": 5.0}},
    ]
    assert [template.render(e, memo) for e in envs] == [template.render(e) for e in envs]
    assert template.render(envs[2], memo) == "ops has 3 (3) small"


def test_a_memo_keeps_literal_braces_and_the_order_of_interleaved_facts() -> None:
    # The memo renders through a format string with each fact's texts gathered: literal
    # braces must stay literal, and texts of facts read in turn must land back in place.
    scope = Scope(
        {
            "a": ("group", {"name": "text", "size": "number"}),
            "b": ("group", {"name": "text", "size": "number"}),
            "n": ("nth", {"i": "number"}),
        },
        values=True,
    )
    template = parse_template(
        "{{0}} {a.name} vs {b.name} ({a.size:.0f}/{b.size:.0f}) {a.name + '/' + b.name}"
        " #{n.i} {{x}}{b.name}}}",
        scope,
    )
    memo = RenderMemo(fresh=frozenset({"n"}))
    ops, hr = {"name": "ops", "size": 3.0}, {"name": "hr", "size": 40.0}
    envs = [{"a": ops, "b": hr, "n": {"i": 1.0}}, {"a": hr, "b": ops, "n": {"i": 2.0}}]
    envs.append({"a": ops, "b": hr, "n": {"i": 3.0}})
    assert [template.render(e, memo) for e in envs] == [template.render(e) for e in envs]
    assert template.render(envs[2], memo) == "{0} ops vs hr (3/40) ops/hr #3 {x}hr}"


def test_a_trusted_finding_is_what_model_construct_makes() -> None:
    values: dict[str, Any] = {
        "rule": "trade-off",
        "kind": FindingKind.CONFLICT,
        "severity": Severity.MEDIUM,
        "departments": ["sales"],
        "kpis": ["k1", "k2"],
        "objectives": [],
        "resources": [],
        "message": "m",
        "suggestion": "s",
        "translation": None,
    }
    translated = {
        **values,
        "translation": FindingTranslation(language="zh-CN", message="讯息", suggestion="建议"),
    }
    for fields in (values, translated):
        trusted, constructed = Finding.trusted(dict(fields)), Finding.model_construct(**fields)
        assert trusted == constructed
        assert trusted.model_dump() == constructed.model_dump()
        assert trusted.model_fields_set == constructed.model_fields_set
        assert repr(trusted) == repr(constructed)
        assert Finding.model_validate(trusted.model_dump()) == trusted
