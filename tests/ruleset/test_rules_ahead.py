"""Shards evaluated ahead in a forked child (ruleset/durable/ahead.py) must find exactly what this process
finds alone, and a child that fails must leave its work to this process, never lose it. All on
the real durable_rules engine and a real fork."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import RuleError
from alignment_engine.model.findings import Finding
from alignment_engine.rulepacks import load_pack, program_for
from alignment_engine.ruleset import evaluation
from alignment_engine.ruleset.compiler import compile_program
from alignment_engine.ruleset.durable import ahead
from alignment_engine.ruleset.durable.engine import RuleEngine
from alignment_engine.ruleset.evaluation import evaluate_program

pytestmark = pytest.mark.skipif(not ahead.evaluates_ahead(), reason="forking ahead is Linux only")

CHAIN_PACK = """
kind: rules
id: chain-pack
rules:
  - id: chained
    kind: conflict
    severity: medium
    when:
      - {fact: kpi, as: a, where: "sign > 0"}
      - {fact: influence, as: r, where: "cause == a.metric"}
      - {fact: kpi, as: b, where: "metric == r.effect and sign < 0"}
    finding:
      group_by: [GROUPING]
      departments: ["{a.owner}", "{b.owner}"]
      kpis: ["{a.id}", "{b.id}"]
      message: "{a.owner} pushes {a.metric} into {b.metric} ({group.matches} influences)"
"""


def chain_facts(metrics: int, links: int) -> list[dict[str, Any]]:
    facts: list[dict[str, Any]] = []
    for m in range(metrics):
        for sign, owner in ((1, f"up{m % 7}"), (-1, f"down{m % 5}")):
            facts.append({"type": "kpi", "id": f"{owner}.m{m}", "metric": f"m{m}",
                          "sign": sign, "owner": owner})  # fmt: skip
    # Several influences per (cause, effect), causes interleaved (a reach table's rows are
    # not): a shard cut anywhere would split groups.
    for i in range(links):
        cause, effect = (i * 7) % metrics, (i * 13 + i // metrics) % metrics
        facts.append({"type": "influence", "cause": f"m{cause}", "effect": f"m{effect}",
                      "sign": 1, "strength": i})  # fmt: skip
    return facts


def run(tmp_path: Path, grouping: str, facts: list[dict[str, Any]]) -> list[Finding]:
    path = tmp_path / "pack.yaml"
    path.write_text(textwrap.dedent(CHAIN_PACK.replace("GROUPING", grouping)), encoding="utf-8")
    loaded = load_pack(path)
    program = compile_program([(loaded.compiled, loaded.source)])
    if evaluation.evaluates_ahead():  # enough facts, in several shards, for a child to fork
        shards, _ = evaluation._Runner(program, facts).shards(program.findings[0])
        assert len(shards) > 1 and sum(map(len, shards)) >= evaluation.AHEAD_FACTS
    return evaluate_program(program, facts).findings


@pytest.mark.parametrize(
    ("grouping", "links"),
    [
        # Tied to the influences' fields: small shards, each holding whole groups.
        ("a.metric, b.metric", evaluation.AHEAD_FACTS + 77),
        # Not tied: groups span shards, cut as they always are, and are made at the end.
        ("a.owner, b.owner", evaluation.SHARD_FACTS + 77),
    ],
)
def test_shards_evaluated_ahead_find_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grouping: str, links: int
) -> None:
    facts = chain_facts(metrics=120, links=links)
    ahead_findings = run(tmp_path, grouping, facts)
    monkeypatch.setenv("ALIGNMENT_EVALUATE_AHEAD", "0")
    alone = run(tmp_path, grouping, facts)
    assert ahead_findings == alone
    assert len(alone) >= 20
    assert sum(int(f.message.split("(")[1].split()[0]) for f in alone) == sum(
        1 for f in facts if f["type"] == "influence"
    )


def test_a_group_larger_than_a_shard_is_cut_anywhere_and_made_at_the_end(
    tmp_path: Path,
) -> None:
    # Every influence from one cause: cutting between causes would make one huge evaluation.
    facts = chain_facts(metrics=3, links=0)
    facts += [{"type": "influence", "cause": "m0", "effect": f"m{1 + i % 2}", "sign": 1,
               "strength": i} for i in range(evaluation.SHARD_FACTS + 500)]  # fmt: skip
    path = tmp_path / "pack.yaml"
    text = CHAIN_PACK.replace("GROUPING", "a.metric, b.metric")
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    loaded = load_pack(path)
    program = compile_program([(loaded.compiled, loaded.source)])
    shards, whole = evaluation._Runner(program, facts).shards(program.findings[0])
    assert not whole
    assert len(shards) == 2 and all(len(s) <= evaluation.SHARD_FACTS + 6 for s in shards)
    messages = sorted(f.message for f in evaluate_program(program, facts).findings)
    assert messages == [
        f"up0 pushes m0 into m{m} ({(evaluation.SHARD_FACTS + 500) // 2} influences)"
        for m in (1, 2)
    ]


def test_the_trade_off_rule_is_cut_between_cause_metrics() -> None:
    program = program_for()
    rule = next(r for r in program.findings if r.id == "trade-off")
    inputs = {
        "kpi_group": [{"type": "kpi_group", "metric": "m1"}],
        "reach": [{"type": "reach", "source": "m1", "metric": "m2"}],
    }
    assert evaluation._whole_group_field(rule, "reach", inputs) == "source"
    # A number where text was expected: durable's looser equality could split a group. The
    # affected metric (tied to b.metric) still keeps them whole; with neither, nothing does.
    inputs["reach"].append({"type": "reach", "source": 1, "metric": "m2"})
    assert evaluation._whole_group_field(rule, "reach", inputs) == "metric"
    inputs["reach"].append({"type": "reach", "source": "m3", "metric": 2})
    assert evaluation._whole_group_field(rule, "reach", inputs) is None


PAIR_RULES = {
    "rs": {
        "pair": {
            "all": [
                {"a": {"type": "left"}},
                {"b": {"$and": [{"type": "right"}, {"key": {"a": "key"}}]}},
            ]
        }
    }
}


def pairs(matches: list[Any]) -> list[tuple[str, str]]:
    return [(m.facts["a"]["key"], m.facts["b"]["label"]) for m in matches]


def test_a_child_evaluates_the_same_matches_in_the_same_order() -> None:
    left = [{"type": "left", "key": f"k{i % 9}"} for i in range(30)]
    shards = [left + [{"type": "right", "key": f"k{j}", "label": f"s{s}.{j}"} for j in range(12)]
              for s in range(4)]  # fmt: skip
    with RuleEngine(PAIR_RULES) as engine:
        evaluated = ahead.evaluate_shards(engine, [("rs", s) for s in shards], {})
        ahead_matches = [pairs(e.matches or []) for e in evaluated]
        alone = [pairs(engine.evaluate("rs", shard)) for shard in shards]
    assert ahead_matches == alone
    assert all(len(p) == 30 for p in alone)


def test_a_child_that_fails_leaves_the_shard_to_this_process() -> None:
    good = [{"type": "left", "key": "k"}, {"type": "right", "key": "k", "label": "ok"}]
    bad = [{"type": "left", "key": "k"}, {"type": "right", "key": "k", "label": math.nan}]
    with RuleEngine(PAIR_RULES) as engine:
        shards = ahead.evaluate_shards(engine, [("rs", s) for s in (good, bad, good)], {})
        assert pairs(next(shards).matches or []) == [("k", "ok")]
        # The child stopped at the bad shard: evaluated here, it fails with our own error.
        with pytest.raises(RuleError, match="fact 1"):
            next(shards)


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=40),
    size=st.integers(min_value=1, max_value=9),
)
def test_cutting_by_a_key_keeps_each_value_in_one_shard(keys: list[str], size: int) -> None:
    facts = [{"type": "t", "k": key, "n": n} for n, key in enumerate(keys)]
    shards = evaluation._cut(facts, size, evaluation._blocks(facts, "k"))
    assert sorted(f["n"] for shard in shards for f in shard) == list(range(len(keys)))
    homes = {f["k"]: i for i, shard in enumerate(shards) for f in shard}
    assert all(homes[f["k"]] == i for i, shard in enumerate(shards) for f in shard)
    for shard in shards:  # each value's facts in their own order
        for key in {f["k"] for f in shard}:
            ns = [f["n"] for f in shard if f["k"] == key]
            assert ns == sorted(ns)
        # Over the size only when one value alone is.
        assert len(shard) <= size or len({f["k"] for f in shard}) == 1
    plain = evaluation._cut(facts, size, None)
    assert [f for shard in plain for f in shard] == facts
    assert all(len(shard) <= size for shard in plain)


def _wait_for(path: Path) -> None:
    """Until the child has written ``path`` (a generous bound: CI shares two cores)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"the child never wrote {path.name}"
        time.sleep(0.01)


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "no-memfd"])
def test_the_child_finishes_the_shards_this_process_has_not_begun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    if not memfd:  # Pythons built against an older glibc have no os.memfd_create
        monkeypatch.delattr(os, "memfd_create", raising=False)
    left = [{"type": "left", "key": f"k{i % 9}"} for i in range(30)]
    shards = [left + [{"type": "right", "key": f"k{j}", "label": f"s{s}.{j}"} for j in range(12)]
              for s in range(5)]  # fmt: skip

    def finish(shard: int, matches: list[Any]) -> tuple[int, list[tuple[str, str]]]:
        (tmp_path / f"finished-{shard}").touch()
        return os.getpid(), pairs(matches)

    with RuleEngine(PAIR_RULES) as engine:
        alone = [pairs(engine.evaluate("rs", shard)) for shard in shards]
        evaluated = ahead.evaluate_shards(
            engine, [("rs", s) for s in shards], {}, finish=finish, finishable=frozenset(range(5))
        )
        first = next(evaluated)  # shard 0 (this process's, unless the child was quicker)
        _wait_for(tmp_path / "finished-1")  # the child took shards 4 to 1 meanwhile
        rest = list(evaluated)
    if first.matches is not None:
        assert pairs(first.matches) == alone[0]
    else:
        assert first.finished[1] == alone[0]
    assert all(e.matches is None for e in rest)
    assert {e.finished[0] for e in rest} == {next(iter({e.finished[0] for e in rest}))}
    assert rest[0].finished[0] != os.getpid()  # made in the child
    assert [e.finished[1] for e in rest] == alone[1:]


def test_a_shard_the_child_took_and_did_not_finish_is_made_here(tmp_path: Path) -> None:
    left = [{"type": "left", "key": "k"}]
    shards = [[*left, {"type": "right", "key": "k", "label": f"s{s}"}] for s in range(4)]

    def finish(shard: int, matches: list[Any]) -> None:
        (tmp_path / f"took-{shard}").touch()
        raise RuntimeError("the child fails while finishing")

    with RuleEngine(PAIR_RULES) as engine:
        evaluated = ahead.evaluate_shards(
            engine, [("rs", s) for s in shards], {}, finish=finish, finishable=frozenset(range(4))
        )
        first = next(evaluated)
        _wait_for(tmp_path / "took-3")  # the child took the last shard, then stopped
        rest = list(evaluated)
    assert [pairs(e.matches or []) for e in [first, *rest]] == [[("k", f"s{s}")] for s in range(4)]


def test_a_child_that_stalls_is_given_up_and_its_shard_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "STALL_SECONDS", 1.0)
    left = [{"type": "left", "key": "k"}]
    shards = [[*left, {"type": "right", "key": "k", "label": f"s{s}"}] for s in range(3)]

    def finish(shard: int, matches: list[Any]) -> None:
        (tmp_path / f"took-{shard}").touch()
        time.sleep(3600)  # stuck for good (the parent kills it)

    with RuleEngine(PAIR_RULES) as engine:
        evaluated = ahead.evaluate_shards(
            engine, [("rs", s) for s in shards], {}, finish=finish, finishable=frozenset(range(3))
        )
        first = next(evaluated)
        _wait_for(tmp_path / "took-2")
        rest = list(evaluated)  # shard 1 here; shard 2 once the child is given up on
    assert [pairs(e.matches or []) for e in [first, *rest]] == [[("k", f"s{s}")] for s in range(3)]


NO_DESCRIPTORS = """
import resource, sys
from alignment_engine.ruleset.durable import ahead
from alignment_engine.ruleset.durable.engine import RuleEngine
rules = {"rs": {"pair": {"all": [{"a": {"type": "left"}},
                                 {"b": {"$and": [{"type": "right"}, {"key": {"a": "key"}}]}}]}}}
shards = [("rs", [{"type": "left", "key": "k"}, {"type": "right", "key": "k", "n": n}])
          for n in range(3)]
with RuleEngine(rules) as engine:
    import os
    used = len(os.listdir("/proc/self/fd")) - 1  # less the listing's own
    resource.setrlimit(resource.RLIMIT_NOFILE, (used, used))  # not one more descriptor
    found = [len(e.matches) for e in ahead.evaluate_shards(engine, shards, {})]
print(found)
"""


def test_without_a_descriptor_to_spare_the_shards_are_evaluated_here() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_DESCRIPTORS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 1, 1]"
