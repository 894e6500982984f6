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
ids) are reported once, the lowest ``rank`` first.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignment_engine.errors import RuleError
from alignment_engine.model.findings import Finding
from alignment_engine.ruleset._durable import Match, RuleEngine
from alignment_engine.ruleset.compiler import TYPE_FIELD, CompiledRule, RuleProgram
from alignment_engine.ruleset.expressions import Env, Field, Node, evaluate
from alignment_engine.ruleset.facts import Fact

__all__ = ["MAX_DERIVED_FACTS", "Evaluation", "evaluate_program"]

MAX_DERIVED_FACTS = 500_000
"""Forward chaining stops with an error past this many derived facts (a runaway rule)."""

FINDINGS_RULESET = "findings"


def _derive_ruleset(rule: CompiledRule) -> str:
    return f"derive:{rule.id}"


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
    if program.findings:
        rulesets[FINDINGS_RULESET] = {rule.id: rule.durable() for rule in program.findings}
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
    def __init__(self, program: RuleProgram, facts: Sequence[Fact]) -> None:
        self.program = program
        self.engine = _engines.get(program)
        self.by_type: dict[str, list[Fact]] = {}
        for fact in facts:
            self.by_type.setdefault(fact[TYPE_FIELD], []).append(fact)
        self.fields = {t: sorted(f) for t, f in _fields_read(program.rules).items()}
        self.slim_cache: dict[int, dict[str, Any]] = {}
        self.full_of: dict[int, Fact] = {}
        self.derived = 0
        self.seen_keys: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}

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
        return self.engine.evaluate(ruleset, slim)

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
        rules = {rule.id: rule for rule in self.program.findings}
        if not rules:
            return [], 0
        reads = sorted({t for rule in rules.values() for t in rule.reads})
        inputs = [fact for fact_type in reads for fact in self.by_type.get(fact_type, [])]
        matches = self.run_engine(FINDINGS_RULESET, inputs)
        best: dict[tuple[Any, ...], tuple[tuple[Any, ...], Finding]] = {}
        for match in matches:
            rule = rules[match.rule]
            env = self.env(match)
            finding = render_finding(rule, env)
            rank = _rank(rule, env, finding)
            identity = finding.identity()
            kept = best.get(identity)
            if kept is None or rank < kept[0]:
                best[identity] = (rank, finding)
        ordered = sorted((finding for _, finding in best.values()), key=Finding.sort_key)
        return ordered, len(matches)


def _rank(rule: CompiledRule, env: Env, finding: Finding) -> tuple[Any, ...]:
    value: Any = None
    if rule.finding is not None and rule.finding.rank is not None:
        value = evaluate(rule.finding.rank, env)
    # Unknown ranks go last; ties fall back to the text, so the choice never depends on order.
    return (value is None, value if value is not None else 0, finding.message, finding.suggestion)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _tidy(text: str) -> str:
    return " ".join(text.split())


def render_finding(rule: CompiledRule, env: Mapping[str, Mapping[str, Any]]) -> Finding:
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
        message=_tidy(template.message.render(env)),
        suggestion=_tidy(template.suggestion.render(env)),
    )


def evaluate_program(program: RuleProgram, facts: Sequence[Fact]) -> Evaluation:
    """Derive, then find. ``facts`` are flat dicts with a ``type`` (see :mod:`.facts`)."""
    runner = _Runner(program, facts)
    runner.derive_all()
    findings, matches = runner.findings()
    return Evaluation(runner.by_type, runner.derived, findings, matches)
