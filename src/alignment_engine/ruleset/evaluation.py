"""Running a compiled rule program over facts: forward chaining, then findings.

Derivation rules run stratum by stratum (see :mod:`.compiler`). Within a stratum they run in
rounds until no new fact appears: each round hands the engine only what can give new matches
(semi-naive evaluation). A rule that matches one fact type derived in its own stratum (like
``reach-extend``) sees only the facts derived in the previous round for that condition, so
chaining five hops costs five small evaluations, not five full ones. Derived fields are computed
here in Python from the match (arithmetic, text, conditionals), and each derived fact is kept
once per ``key``, which is also what ends cycles.

Finding rules then run in one evaluation over every fact type they read, and each match is
rendered through the rule's templates. Matches that describe the same finding (same rule and
ids) are reported once, the lowest ``rank`` first. A rule with ``group_by`` reports one finding
per group of matches instead, rendered once; with ``parties`` each match first keeps only the
members of its two kpi_group facts that conflict with the other side.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignment_engine.collector import collector_paused
from alignment_engine.conflicts import PartyGroup, conflicting
from alignment_engine.errors import RuleError
from alignment_engine.model.findings import Finding, FindingTranslation
from alignment_engine.ruleset.compiler import (
    GROUP_ALIAS,
    TYPE_FIELD,
    CompiledFinding,
    CompiledRule,
    RuleProgram,
)
from alignment_engine.ruleset.durable import Match, RuleEngine, evaluate_shards, evaluates_ahead
from alignment_engine.ruleset.expressions import (
    Compare,
    Env,
    Field,
    Logical,
    Node,
    aliases_in,
    evaluate,
)
from alignment_engine.ruleset.facts import GROUP_KEY, Fact, group_fact, party_kind
from alignment_engine.ruleset.templates import RenderMemo, Template

__all__ = ["MAX_DERIVED_FACTS", "Evaluation", "evaluate_program"]

MAX_DERIVED_FACTS = 500_000
"""Forward chaining stops with an error past this many derived facts (a runaway rule)."""

AHEAD_FACTS = 10_000
"""A child evaluates the finding rules ahead (``durable.ahead``) when they read this many facts in
all (with their shards' repeats): below, forking costs more than it saves."""

AHEAD_SHARDS = 16
"""With a child evaluating shards ahead (``durable.ahead``), a large rule is cut into about this
many shards, so the first comes back early and the rest while it is rendered ..."""
AHEAD_SHARD_FACTS = 2_000
"""... but none smaller than this (each shard asserts every other fact the rule reads again)."""

SHARD_FACTS = 20_000
"""A finding rule whose conditions match one fact type at most once (and never negate it) is
evaluated over that type's facts this many at a time, with every other fact it reads each time:
the same matches, and durable_rules' cost per pending match stays flat (it grows with the
matches one evaluation holds)."""


def _derive_ruleset(rule: CompiledRule) -> str:
    return f"derive:{rule.id}"


def _find_ruleset(rule: CompiledRule) -> str:
    return f"find:{rule.id}"


def _shardable(rule: CompiledRule) -> frozenset[str]:
    """Fact types this rule matches with one condition and never negates."""
    counts: dict[str, int] = {}
    for condition in rule.conditions:
        counts[condition.fact_type] = counts.get(condition.fact_type, 0) + (
            99 if condition.negated else 1
        )
    return frozenset(t for t, n in counts.items() if n == 1)


def _field_equalities(rule: CompiledRule) -> list[tuple[Field, Field]]:
    """Every ``alias.field == other.field`` a rule's match always satisfies: the top-level
    conjuncts of its conditions (negated ones aside)."""
    return [
        (node.left, node.right)
        for condition in rule.conditions
        if not condition.negated and condition.predicate is not None
        for node in _conjuncts(condition.predicate)
        if isinstance(node, Compare)
        and node.op == "=="
        and isinstance(node.left, Field)
        and isinstance(node.right, Field)
    ]


def _equality_joins(rule: CompiledRule) -> list[tuple[Field, Field]]:
    """The equalities of :func:`_field_equalities` between two aliases that are each the only
    condition on their fact type (so dropping a fact of that type can only drop matches of
    this pair)."""
    single = _shardable(rule)
    types = {c.alias: c.fact_type for c in rule.conditions}
    return [
        (left, right)
        for left, right in _field_equalities(rule)
        if left.alias != right.alias
        and types.get(left.alias) in single
        and types.get(right.alias) in single
        and types[left.alias] != types[right.alias]
    ]


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, Logical) and node.op == "and":
        return [part for operand in node.operands for part in _conjuncts(operand)]
    return [node]


def _semi_joined(rule: CompiledRule, inputs: dict[str, list[Fact]]) -> dict[str, list[Fact]]:
    """``inputs`` without the facts an equality join can never pair with any fact of the other
    side (a semi-join, as databases push one below a join): a rule joining 133,000 reach facts
    to 25 goal metrics then hands durable_rules 1,700 of them.

    Only text keys are compared here. durable_rules' own equality is looser across types
    (``"1"`` equals ``1``, ``"true"`` equals ``true``, yet ``1`` is not ``1.0``), so a side
    holding anything but text is left whole, and a fact whose value is not text is kept: the
    engine still decides every match; this only spares it facts that cannot match."""
    types = {c.alias: c.fact_type for c in rule.conditions}
    for first, second in _equality_joins(rule):
        for mine, theirs in ((first, second), (second, first)):
            other = inputs[types[theirs.alias]]
            keys = {fact.get(theirs.name) for fact in other}
            if not all(type(key) is str for key in keys):
                continue
            own_type = types[mine.alias]
            inputs[own_type] = [
                fact
                for fact in inputs[own_type]
                if type(value := fact.get(mine.name)) is not str or value in keys
            ]
    return inputs


def _fields_read(rules: Iterable[CompiledRule]) -> dict[str, set[str]]:
    """Per fact type, the fields some condition reads (only these go to the engine)."""
    needed: dict[str, set[str]] = {}
    for rule in rules:
        types = {c.alias: c.fact_type for c in rule.conditions}
        for condition in rule.conditions:
            needed.setdefault(condition.fact_type, set()).add(TYPE_FIELD)
            if condition.predicate is None:
                continue
            for field in _fields_in(condition.predicate):
                owner = (
                    condition.fact_type if field.alias == condition.alias else types[field.alias]
                )
                needed.setdefault(owner, set()).add(field.name)
    return needed


def _fields_in(node: Node) -> list[Field]:
    if isinstance(node, Field):
        return [node]
    found: list[Field] = []
    for name in ("left", "right", "operand", "test", "body", "orelse"):
        child = getattr(node, name, None)
        if child is not None:
            found += _fields_in(child)
    for name in ("operands", "args"):
        for child in getattr(node, name, ()):
            found += _fields_in(child)
    return found


class _Engines:
    """One RuleEngine per program, built on first use and shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: weakref.WeakKeyDictionary[RuleProgram, RuleEngine] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, program: RuleProgram) -> RuleEngine:
        with self._lock:
            engine = self._engines.get(program)
            if engine is None:
                engine = RuleEngine(program_rulesets(program))
                self._engines[program] = engine
            return engine


_engines = _Engines()


def program_rulesets(program: RuleProgram) -> dict[str, dict[str, Any]]:
    """The durable_rules rulesets of a program: one per derivation rule, one for findings."""
    rulesets: dict[str, dict[str, Any]] = {}
    for stratum in program.strata:
        for rule in stratum:
            rulesets[_derive_ruleset(rule)] = {rule.id: rule.durable()}
    for rule in program.findings:
        rulesets[_find_ruleset(rule)] = {rule.id: rule.durable()}
    if not rulesets:
        raise RuleError("the rule packs hold no rules")
    return rulesets


@dataclass
class Evaluation:
    """The outcome of running a program: all facts (given and derived) and the findings."""

    facts: dict[str, list[Fact]]
    derived: int
    findings: list[Finding]
    matches: int


class _Runner:
    def __init__(self, program: RuleProgram, facts: Sequence[Fact], language: str = "en") -> None:
        self.program = program
        self.language = language
        self.engine = _engines.get(program)
        self.by_type: dict[str, list[Fact]] = {}
        for fact in facts:
            self.by_type.setdefault(fact[TYPE_FIELD], []).append(fact)
        self.fields = {t: sorted(f) for t, f in _fields_read(program.rules).items()}
        self.slim_cache: dict[int, dict[str, Any]] = {}
        self.full_of: dict[int, Fact] = {}
        self.derived = 0
        self.seen_keys: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}
        self.written: dict[int, str] = {}  # each slim fact's JSON, written once per run

    def slim(self, fact: Fact) -> dict[str, Any]:
        """The fact as the engine sees it: only the scalar fields rules read."""
        found = self.slim_cache.get(id(fact))
        if found is None:
            wanted = self.fields.get(fact[TYPE_FIELD], (TYPE_FIELD,))
            found = {k: fact[k] for k in wanted if k in fact}
            self.slim_cache[id(fact)] = found
            self.full_of[id(found)] = fact
        return found

    def run_engine(self, ruleset: str, facts: Iterable[Fact]) -> list[Match]:
        slim = [self.slim(fact) for fact in facts]
        if not slim:
            return []
        return self.engine.evaluate(ruleset, slim, written=self.written)

    def shards(self, rule: CompiledRule) -> tuple[list[list[Fact]], bool]:
        """The fact lists one finding rule is evaluated over, and whether each holds every
        match of each group it has a match of (so its findings can be made before the next).

        One list, or the rule's largest shardable fact type cut into shards, each with every
        other fact the rule reads. Cuts fall between the values of a field the rule's groups
        agree on where there is one (shards then never split a group), else anywhere."""
        inputs = {t: self.by_type.get(t, []) for t in sorted(rule.reads)}
        inputs = _semi_joined(rule, inputs)
        if any(not inputs[c.fact_type] for c in rule.conditions if not c.negated):
            return [], True
        shardable = [t for t in _shardable(rule) if len(inputs[t]) > AHEAD_SHARD_FACTS]
        if shardable:
            split = max(shardable, key=lambda t: (len(inputs[t]), t))
            facts = inputs[split]
            blocks = _blocks(facts, _whole_group_field(rule, split, inputs))
            # Whole groups are made shard by shard, the same however the shards are cut, so
            # their shards may be small; other groups gather matches in shard order, so their
            # cut stays the one it always is (a finding must not depend on the machine).
            if blocks is not None:
                others = sum(map(len, inputs.values())) - len(facts)
                size = _shard_size(len(facts), others)
            else:
                size = SHARD_FACTS
            if len(facts) > size:
                rest = [f for t in inputs if t != split for f in inputs[t]]
                chunks = _cut(facts, size, blocks)
                return [rest + chunk for chunk in chunks], blocks is not None
        return [[f for t in inputs for f in inputs[t]]], True

    def env(self, match: Match) -> dict[str, Fact]:
        return {alias: self.full_of[id(fact)] for alias, fact in match.facts.items()}

    # -- forward chaining ------------------------------------------------------------------

    def derive_all(self) -> None:
        for stratum in self.program.strata:
            self.derive_stratum(stratum)

    def derive_stratum(self, stratum: Sequence[CompiledRule]) -> None:
        here = {rule.derive.fact_type for rule in stratum if rule.derive is not None}
        delta: dict[str, list[Fact]] | None = None  # None: the first round sees everything
        found: dict[str, set[tuple[int, ...]]] = {rule.id: set() for rule in stratum}
        while True:
            produced: dict[str, list[Fact]] = {}
            for rule in stratum:
                recursive = [c for c in rule.conditions if not c.negated and c.fact_type in here]
                if delta is not None and not any(delta.get(c.fact_type) for c in recursive):
                    continue
                linear = delta is not None and len({c.fact_type for c in recursive}) == 1
                inputs: list[Fact] = []
                for fact_type in sorted(rule.reads):
                    if linear and fact_type in here and delta is not None:
                        inputs += delta.get(fact_type, [])
                    else:
                        inputs += self.by_type.get(fact_type, [])
                for match in self.run_engine(_derive_ruleset(rule), inputs):
                    env = self.env(match)
                    if not linear:
                        identity = tuple(id(env[c.alias]) for c in rule.conditions if not c.negated)
                        if identity in found[rule.id]:
                            continue
                        found[rule.id].add(identity)
                    fact = self.derive(rule, env)
                    if fact is not None:
                        produced.setdefault(fact[TYPE_FIELD], []).append(fact)
            if not produced:
                return
            for fact_type, facts in produced.items():
                self.by_type.setdefault(fact_type, []).extend(facts)
            delta = produced

    def derive(self, rule: CompiledRule, env: Env) -> Fact | None:
        derivation = rule.derive
        if derivation is None:  # pragma: no cover - only derivation rules get here
            return None
        fact: Fact = {TYPE_FIELD: derivation.fact_type}
        for name, expression in derivation.fields.items():
            value = evaluate(expression, env)
            if value is not None:
                fact[name] = value
        key_fields = derivation.key
        seen = self.seen_keys.get((derivation.fact_type, key_fields))
        if seen is None:
            seen = {
                tuple(f.get(k) for k in key_fields)
                for f in self.by_type.get(derivation.fact_type, [])
            }
            self.seen_keys[(derivation.fact_type, key_fields)] = seen
        key = tuple(fact.get(k) for k in key_fields)
        if key in seen:
            return None
        seen.add(key)
        self.derived += 1
        if self.derived > MAX_DERIVED_FACTS:
            raise RuleError(
                f"rule '{rule.id}' (pack '{rule.pack}') derived more than "
                f"{MAX_DERIVED_FACTS:,} facts; it probably keeps deriving from its own results",
                suggestion="bound the chain (e.g. a hop count) or narrow its key",
            )
        return fact

    # -- findings --------------------------------------------------------------------------

    def findings(self) -> tuple[list[Finding], int]:
        if not self.program.findings:
            return [], 0
        rendering = _Rendering(self)
        jobs = []
        for rule in self.program.findings:
            shards, whole_groups = self.shards(rule)
            jobs.append(
                (rule, [[self.slim(fact) for fact in shard] for shard in shards], whole_groups)
            )
        # The largest rules first: while this process renders them, the child evaluating ahead
        # gets through the small ones, and nothing waits for them at the end.
        jobs.sort(key=lambda job: -sum(map(len, job[1])))
        rule_of = [(rule, whole) for rule, shards, whole in jobs for _ in shards]
        # A shard holding whole groups of a grouped rule makes its findings on its own: the
        # child may make them (the two processes share the rendering); others need this
        # process's state (kept findings, groups across shards).
        finishable = frozenset(
            i
            for i, (rule, whole) in enumerate(rule_of)
            if whole and rule.finding is not None and rule.finding.group_by
        )

        def finish(shard: int, matches: list[Match]) -> tuple[int, list[dict[str, Any]]]:
            made = rendering.grouped(rule_of[shard][0], matches)
            return len(matches), [finding.__dict__ for finding in made]  # fields, as made

        results = evaluate_shards(
            self.engine,
            [(_find_ruleset(rule), shard) for rule, shards, _ in jobs for shard in shards],
            self.written,
            ahead=sum(len(shard) for _, shards, _ in jobs for shard in shards) >= AHEAD_FACTS,
            finish=finish,
            finishable=finishable,
        )
        found: list[Finding] = []
        count = 0
        with contextlib.closing(results):  # the child ends with the rules, even on an error
            for rule, shards, whole_groups in jobs:
                groups: dict[tuple[Any, ...], _Group] = {}
                for _shard in shards:
                    evaluated = next(results)
                    if evaluated.matches is None:  # made in the child
                        matched, made = evaluated.finished
                        count += matched
                        found += [Finding.trusted(values) for values in made]
                        continue
                    count += len(evaluated.matches)
                    rendering.add(rule, evaluated.matches, groups)
                    if whole_groups:  # this shard's groups are whole: made now, their matches freed
                        found += rendering.made(groups)
                        groups.clear()
                found += rendering.made(groups)
        found += rendering.kept()
        return sorted(found, key=Finding.sort_key), count


class _Rendering:
    """Matches into findings: grouped, or rendered one by one and the best of each kept."""

    def __init__(self, runner: _Runner) -> None:
        self.runner = runner
        self.language = runner.language
        self.best: dict[tuple[Any, ...], tuple[tuple[Any, ...], Finding]] = {}
        self.memo = RenderMemo(fresh=frozenset({GROUP_ALIAS}))
        self.narrowed: dict[tuple[int, tuple[Any, ...]], tuple[PartyGroup, Fact]] = {}
        self.list_fields = {
            name: {f for f, kind in fact_type.fields.items() if kind == "list"}
            for name, fact_type in runner.program.fact_types.items()
        }
        self.merged: dict[tuple[int, ...], _Made] = {}

    def add(
        self, rule: CompiledRule, matches: list[Match], groups: dict[tuple[Any, ...], _Group]
    ) -> None:
        template = rule.finding
        for match in matches:
            env: Env = self.runner.env(match)
            if template is not None and template.parties:
                narrowed = _with_parties(env, template.parties, self.narrowed)
                if narrowed is None:
                    continue  # no member of one side conflicts with any member of the other
                env = narrowed
            if template is not None and template.group_by:
                key = tuple(_value(node, env) for node in template.group_by)
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(rule)
                group.add(env)
                continue
            finding = render_finding(rule, env, self.memo, self.language)
            rank = _rank(rule, env, finding)
            identity = finding.identity()
            kept = self.best.get(identity)
            if kept is None or rank < kept[0]:
                self.best[identity] = (rank, finding)

    def made(self, groups: Mapping[tuple[Any, ...], _Group]) -> list[Finding]:
        return [
            group.finding(self.list_fields, self.memo, self.merged, self.language)
            for group in groups.values()
        ]

    def grouped(self, rule: CompiledRule, matches: list[Match]) -> list[Finding]:
        """The findings of whole groups of a grouped rule."""
        groups: dict[tuple[Any, ...], _Group] = {}
        self.add(rule, matches, groups)
        return self.made(groups)

    def kept(self) -> list[Finding]:
        return [finding for _, finding in self.best.values()]


def _shard_size(facts: int, others: int) -> int:
    """Facts of the split type per shard: ``SHARD_FACTS``, or with a child evaluating ahead
    about a sixteenth of them (at least ``AHEAD_SHARD_FACTS``), so the first shard comes soon;
    fewer shards where the rule reads many ``others``."""
    if not evaluates_ahead():
        return SHARD_FACTS
    # Every shard asserts the rule's other facts again: at most half as much work again.
    shards = max(1, min(AHEAD_SHARDS, facts // max(1, 2 * others)))
    return min(SHARD_FACTS, max(AHEAD_SHARD_FACTS, -(-facts // shards)))


def _whole_group_field(
    rule: CompiledRule, split: str, inputs: Mapping[str, Sequence[Fact]]
) -> str | None:
    """A field of the split fact type on which all matches of one group of the rule agree: a
    ``group_by`` field of the split alias, or one an equality (:func:`_field_equalities`)
    ties to a ``group_by`` field. Only text
    counts (durable's equality is looser across types: see _semi_joined)."""
    template = rule.finding
    if template is None or not template.group_by:
        return None
    alias = next(c.alias for c in rule.conditions if c.fact_type == split and not c.negated)
    types = {c.alias: c.fact_type for c in rule.conditions}
    joins = _field_equalities(rule)
    for node in template.group_by:
        if type(node) is not Field:
            continue
        candidates = [node.name] if node.alias == alias else []
        for left, right in joins:
            for mine, theirs in ((left, right), (right, left)):
                if (theirs.alias, theirs.name) == (node.alias, node.name) and mine.alias == alias:
                    candidates.append(mine.name)
        for name in candidates:
            if _all_text(inputs[split], name) and _all_text(inputs[types[node.alias]], node.name):
                return name
    return None


def _all_text(facts: Sequence[Fact], name: str) -> bool:
    return all(type(fact.get(name)) is str for fact in facts)


def _blocks(facts: Sequence[Fact], key: str | None) -> list[list[Fact]] | None:
    """``facts`` by their value of ``key`` (in the order the values first appear, each value's
    facts in their own order), or None without a key or when one value holds more facts than an
    evaluation should (``SHARD_FACTS``: the shards of that rule are cut anywhere)."""
    if key is None:
        return None
    by_value: dict[Any, list[Fact]] = {}
    for fact in facts:
        by_value.setdefault(fact.get(key), []).append(fact)
    if max(map(len, by_value.values()), default=0) > SHARD_FACTS:
        return None
    return list(by_value.values())


def _cut(facts: Sequence[Fact], size: int, blocks: list[list[Fact]] | None) -> list[list[Fact]]:
    """``facts`` in shards of about ``size``: whole ``blocks`` where given (a shard is larger
    only when one block is), else anywhere."""
    if blocks is None:
        return [list(facts[start : start + size]) for start in range(0, len(facts), size)]
    shards: list[list[Fact]] = []
    shard: list[Fact] = []
    for members in blocks:
        if shard and len(shard) + len(members) > size:
            shards.append(shard)
            shard = []
        shard += members
    if shard:
        shards.append(shard)
    return shards


def _value(node: Node, env: Env) -> Any:
    if type(node) is Field:  # most group keys are plain fields: read without the closure
        return env[node.alias].get(node.name)
    return evaluate(node, env)


def _with_parties(
    env: Env,
    parties: Sequence[str],
    made: dict[tuple[int, tuple[Any, ...]], tuple[PartyGroup, Fact]],
) -> Env | None:
    """The match with each side cut to the members that conflict with the other side (each
    cut group's fact made once: ``made`` holds them, by group and members kept)."""
    first, second = (env[alias].get(GROUP_KEY) for alias in parties)
    if not isinstance(first, PartyGroup) or not isinstance(second, PartyGroup):
        return env  # pragma: no cover - the compiler only accepts kpi_group aliases
    mine = conflicting(first, second)
    if not mine:
        return None
    theirs = conflicting(second, first)
    narrowed = dict(env)
    for alias, group, kept in ((parties[0], first, mine), (parties[1], second, theirs)):
        if len(kept) < len(group.parties):
            key = (id(group), kept)
            found = made.get(key)
            if found is None:  # the group is kept beside its fact, so its id stays its own
                found = made[key] = group, group_fact(group, kept)
            narrowed[alias] = found[1]
    return narrowed


_Made = tuple[list[Mapping[str, Any]], Mapping[str, Any]]
"""A merged party group's fact, beside the facts it was merged from."""


class _Group:
    """The matches of one grouped finding: the lowest-ranked one speaks for the group."""

    def __init__(self, rule: CompiledRule) -> None:
        self.rule = rule
        self.envs: list[Env] = []
        self.best: tuple[Any, ...] | None = None
        self.best_env: Env | None = None

    def add(self, env: Env) -> None:
        template = self.rule.finding
        value = None if template is None or template.rank is None else evaluate(template.rank, env)
        rank = (value is None, value if value is not None else 0, len(self.envs))
        if self.best is None or rank < self.best:
            self.best, self.best_env = rank, env
        self.envs.append(env)

    def merged(
        self, list_fields: Mapping[str, set[str]], made: dict[tuple[int, ...], _Made]
    ) -> dict[str, Mapping[str, Any]]:
        """The best match's facts, each with its list fields collected over the group.

        ``made``: party groups merged so far, by the identities of the facts merged (kept
        beside them, so an id stays theirs): the two sides of one affected metric meet every
        cause that reaches it."""
        assert self.best_env is not None
        if len(self.envs) == 1:
            return dict(self.best_env)
        merged: dict[str, Mapping[str, Any]] = {}
        for alias, fact in self.best_env.items():
            facts = list({id(env[alias]): env[alias] for env in self.envs}.values())
            if len(facts) == 1:
                merged[alias] = fact
                continue
            key = tuple(map(id, facts))
            if key in made:
                merged[alias] = made[key][1]
                continue
            groups = [f.get(GROUP_KEY) for f in facts]
            if all(isinstance(g, PartyGroup) for g in groups):
                first = groups[0]
                assert isinstance(first, PartyGroup)
                parties = tuple(
                    dict.fromkeys(p for g in groups if isinstance(g, PartyGroup) for p in g.parties)
                )
                kinds = {
                    p: party_kind(g) for g in groups if isinstance(g, PartyGroup) for p in g.parties
                }
                merged[alias] = group_fact(first, parties, kinds)
                made[key] = (facts, merged[alias])
                continue
            collected = list_fields.get(str(fact.get(TYPE_FIELD)), set())
            if not collected:
                merged[alias] = fact  # nothing to collect: the best match's fact speaks
                continue
            # Read through get(): a fact may compute fields when first read (reach chains).
            combined = {name: fact.get(name) for name in list(fact) if fact.get(name) is not None}
            for name in collected:
                combined[name] = _unique(
                    v for f in facts for v in (f.get(name) or ()) if isinstance(v, str)
                )
            merged[alias] = combined
        return merged

    def finding(
        self,
        list_fields: Mapping[str, set[str]],
        memo: RenderMemo,
        made: dict[tuple[int, ...], _Made],
        language: str = "en",
    ) -> Finding:
        rule, template = self.rule, self.rule.finding
        if template is None or rule.kind is None or rule.severity is None:  # pragma: no cover
            raise RuleError(f"rule '{rule.id}' reports no finding")
        env: dict[str, Mapping[str, Any]] = dict(self.merged(list_fields, made))
        counted = float(len(self.envs))
        if template.count is not None:
            readers = _readers(template.count)
            distinct = {tuple(id(e[a]) for a in readers): e for e in self.envs}
            counted = float(sum(evaluate(template.count, e) or 0 for e in distinct.values()))
        env[GROUP_ALIAS] = {"count": counted, "matches": float(len(self.envs))}

        def ids(templates: Sequence[Template]) -> list[str]:
            if not templates:
                return []
            values: list[str] = []
            for item in templates:
                field = item.list_field()
                owner = None if field is None else env[field.alias]
                listed = None if owner is None or field is None else owner.get(field.name)
                # A party group's lists are text by construction; others are checked.
                if (
                    type(listed) is list
                    and owner is not None
                    and (GROUP_KEY in owner or set(map(type, listed)) <= _TEXT)
                ):
                    values += listed  # the merged list itself: no template to render
                elif field is not None:
                    values += item.values(env)
                else:
                    values += [v for e in self.envs for v in item.values(e)]
            unique = dict.fromkeys(values)  # values() gives no empty text; a list may
            unique.pop("", None)
            return list(unique)

        # Built from values this module made (the rule's own kind and severity, lists of
        # text): validating 200,000 of them again cost a fifth of rendering a large check.
        return Finding.trusted(
            {
                "rule": rule.id,
                "kind": rule.kind,
                "severity": rule.severity,
                "departments": ids(template.departments),
                "kpis": ids(template.kpis),
                "objectives": ids(template.objectives),
                "resources": ids(template.resources),
                "message": _tidy(template.message.render(env, memo)),
                "suggestion": _tidy(template.suggestion.render(env, memo)),
                "translation": _translation(template, language, env, memo),
            }
        )


def _translation(
    template: CompiledFinding, language: str, env: Env, memo: RenderMemo | None
) -> FindingTranslation | None:
    """The finding's texts in ``language`` when its rule has them (English needs none)."""
    texts = template.translations.get(language) if template.translations else None
    if texts is None:
        return None
    message, suggestion = texts
    return FindingTranslation(
        language=language,
        message=_tidy(message.render(env, memo)),
        suggestion=_tidy(suggestion.render(env, memo)),
    )


_TEXT = {str}


_READERS: dict[int, tuple[Node, list[str]]] = {}


def _readers(node: Node) -> list[str]:
    """The aliases an expression reads, by the node's identity (kept beside them, as the
    closures of :func:`evaluate` are): hashing the tree itself each time cost more."""
    found = _READERS.get(id(node))
    if found is None or found[0] is not node:
        found = _READERS[id(node)] = node, sorted(aliases_in(node))
    return found[1]


def _rank(rule: CompiledRule, env: Env, finding: Finding) -> tuple[Any, ...]:
    value: Any = None
    if rule.finding is not None and rule.finding.rank is not None:
        value = evaluate(rule.finding.rank, env)
    # Unknown ranks go last; ties fall back to the text, so the choice never depends on order.
    return (value is None, value if value is not None else 0, finding.message, finding.suggestion)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


_UNTIDY = re.compile(r"\s\s|[^\S ]")  # two whitespace characters, or one that is not a space


def _tidy(text: str) -> str:
    """Whitespace runs as one space, ends trimmed (most messages already are: left as they are)."""
    # isprintable() is false for every whitespace character but the space: a printable text
    # without two spaces in a row, or one at either end, is tidy (the test is C, the regex not).
    if text.isprintable():
        if "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text
    elif _UNTIDY.search(text) is None and text == text.strip():
        return text
    return " ".join(text.split())


def render_finding(
    rule: CompiledRule,
    env: Mapping[str, Mapping[str, Any]],
    memo: RenderMemo | None = None,
    language: str = "en",
) -> Finding:
    template = rule.finding
    if template is None or rule.kind is None or rule.severity is None:  # pragma: no cover
        raise RuleError(f"rule '{rule.id}' reports no finding")
    return Finding(
        rule=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        departments=_unique(v for t in template.departments for v in t.values(env)),
        kpis=_unique(v for t in template.kpis for v in t.values(env)),
        objectives=_unique(v for t in template.objectives for v in t.values(env)),
        resources=_unique(v for t in template.resources for v in t.values(env)),
        message=_tidy(template.message.render(env, memo)),
        suggestion=_tidy(template.suggestion.render(env, memo)),
        translation=_translation(template, language, env, memo),
    )


def evaluate_program(
    program: RuleProgram, facts: Sequence[Fact], language: str = "en"
) -> Evaluation:
    """Derive, then find. ``facts`` are flat dicts with a ``type`` (see :mod:`.facts`);
    findings carry their texts in ``language`` too where their rules have them."""
    with collector_paused():  # matches, environments and findings all live to the end
        runner = _Runner(program, facts, language)
        runner.derive_all()
        findings, matches = runner.findings()
    return Evaluation(runner.by_type, runner.derived, findings, matches)
