"""Matches and forward chaining, free of C calls: which of durable_rules' firings are new and
not blocked by a negation (defect 2 in :mod:`alignment_engine.ruleset._durable`), and the facts
their ``derive`` templates add."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

import orjson

from alignment_engine.ruleset._durable_compile import _CompiledRuleset, _UserRule
from alignment_engine.ruleset._durable_derive import _instantiate
from alignment_engine.ruleset._durable_errors import _problem
from alignment_engine.ruleset._durable_facts import _fact_fields
from alignment_engine.ruleset._durable_ids import _id_table
from alignment_engine.ruleset._durable_json import _ValueProblem


@dataclass(frozen=True, slots=True)
class Match:
    """One firing of a rule: its name and the facts matched by its aliases (negated aliases
    hold no fact). ``derived`` are the facts this firing asserted (forward chaining)."""

    rule: str
    facts: dict[str, Mapping[str, Any]]
    derived: tuple[dict[str, Any], ...] = ()


_Found: TypeAlias = tuple[int, tuple[int, ...]]  # (rule index, fact positions by alias)


@dataclass(slots=True)
class _Outcome:
    matches: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    facts: list[Mapping[str, Any]] = field(default_factory=list)


class _Chaining:
    """What one evaluation has found so far, in rounds: each round's firings are decoded,
    blocked ones removed, and the facts they derive become the next round's input."""

    def __init__(
        self,
        compiled: _CompiledRuleset,
        facts: Sequence[Mapping[str, Any]],
        fields: list[str],
        max_derived: int,
    ) -> None:
        self.compiled = compiled
        self.facts: list[Mapping[str, Any]] = list(facts)
        self.inputs = len(self.facts)
        self.fields = fields
        self.max_derived = max_derived
        self.known: set[str] = set(fields) if self.compiled.derives else set()
        self.blocked: dict[tuple[int, int], set[tuple[int, ...]]] = {}
        self.accepted: set[_Found] = set()
        self.matches: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []

    def _decode(self, messages: list[str]) -> list[_Found]:
        """This round's new matches, blocked ones removed, in order."""
        position = _id_table.position
        candidates: list[_Found] = []
        for message in messages:
            for native_name, frames in orjson.loads(message).items():
                rule = self.compiled.native_rules[native_name]
                for frame in frames:
                    positions = tuple(position[frame[alias]["id"]] for alias in rule.aliases)
                    if rule.blocks is None:
                        candidates.append((rule.rule.index, positions))
                    else:
                        blocked = self.blocked.setdefault((rule.rule.index, rule.blocks), set())
                        blocked.add(positions[:-1])
        found: list[_Found] = []
        for candidate in candidates:
            rule_index, positions = candidate
            negations = self.compiled.rules[rule_index].negations
            if candidate in self.accepted or any(
                positions[:before] in self.blocked.get((rule_index, which), ())
                for which, before in enumerate(negations)
            ):
                continue
            self.accepted.add(candidate)
            found.append(candidate)
        found.sort()
        return found

    def _derive(self, found: list[_Found]) -> range:
        start = len(self.facts)
        for rule_index, positions in found:
            rule = self.compiled.rules[rule_index]
            made: list[int] = []
            if rule.derive:
                bound = {
                    a.name: self.facts[p] for a, p in zip(rule.positives, positions, strict=True)
                }
                for template in rule.derive:
                    made += self._add(rule, cast(dict[str, Any], _instantiate(template, bound)))
            self.matches.append((rule_index, positions, tuple(made)))
        return range(start, len(self.facts))

    def _add(self, rule: _UserRule, fact: dict[str, Any]) -> list[int]:
        try:
            written = _fact_fields(fact)
        except _ValueProblem as exc:
            raise _problem(self.compiled.name, rule.name, f"a derived fact: {exc}") from None
        if written in self.known:
            return []
        if len(self.facts) - self.inputs >= self.max_derived:
            raise _problem(
                self.compiled.name,
                rule.name,
                f"forward chaining derived more than {self.max_derived} facts; a rule probably "
                "keeps deriving new facts from facts it derived",
            )
        self.known.add(written)
        self.facts.append(fact)
        self.fields.append(written)
        return [len(self.facts) - 1]
