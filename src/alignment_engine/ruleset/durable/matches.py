"""Matches and forward chaining, free of C calls: which of durable_rules' firings are new and
not blocked by a negation (defect 2 in :mod:`alignment_engine.ruleset.durable.engine`), and the facts
their ``derive`` templates add."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast

import orjson

from alignment_engine.ruleset.durable.compiling import CompiledRuleset, UserRule
from alignment_engine.ruleset.durable.derive import instantiate
from alignment_engine.ruleset.durable.errors import rule_problem
from alignment_engine.ruleset.durable.facts import fact_fields
from alignment_engine.ruleset.durable.ids import MARK, id_table
from alignment_engine.ruleset.durable.jsontext import ValueProblem


@dataclass(frozen=True, slots=True)
class Match:
    """One firing of a rule: its name and the facts matched by its aliases (negated aliases
    hold no fact). ``derived`` are the facts this firing asserted (forward chaining)."""

    rule: str
    facts: dict[str, Mapping[str, Any]]
    derived: tuple[dict[str, Any], ...] = ()


_Found: TypeAlias = tuple[int, tuple[int, ...]]  # (rule index, fact positions by alias)


@dataclass(slots=True)
class Outcome:
    matches: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    facts: list[Mapping[str, Any]] = field(default_factory=list)


# An action's JSON as durable writes it: ``{"rule":[{"alias":{fact},...},...],...}``, each fact
# the very text this adapter asserted, which starts with the state's sid, the fact marker and the
# fact's id. While no asserted fact holds a bracket or a brace (not even inside a string), each
# ``":{"sid":"`` ends an alias name and starts a fact, and a ``[`` before it opens a rule's
# list of frames.
_FACT_START: Final = '":{"sid":"'
_FACT_ID: Final = f'","{MARK}":1,"id":"'


def _flat(text: str) -> bool:
    return "[" not in text and "{" not in text


def _frames(message: str) -> list[tuple[str, list[dict[str, str]]]]:
    """The matches in one action's JSON of flat facts: per native rule, each frame's fact id
    by alias. A large check hands back 230,000 matches of three facts each: cutting their ids
    out of the text takes half the time of parsing 700,000 facts nobody reads."""
    rules: list[tuple[str, list[dict[str, str]]]] = []
    frames: list[dict[str, str]] = []
    frame: dict[str, str] = {}
    parts = message.split(_FACT_START)
    before = parts[0]
    for part in parts[1:]:
        alias = before[before.rfind('"') + 1 :]
        if "[" in before:  # a rule's first frame
            head = before[: before.rindex('":[')]
            if frame:
                frames.append(frame)
            frames, frame = [], {}
            rules.append((head[head.rfind('"') + 1 :], frames))
        elif alias in frame:  # every frame names each alias once: this one starts the next
            frames.append(frame)
            frame = {}
        start = part.index(_FACT_ID) + len(_FACT_ID)
        frame[alias] = part[start : part.index('"', start)]
        before = part
    if frame:
        frames.append(frame)
    return rules


def _parsed_frames(message: str) -> list[tuple[str, list[dict[str, str]]]]:
    return [
        (rule, [{alias: fact["id"] for alias, fact in frame.items()} for frame in frames])
        for rule, frames in orjson.loads(message).items()
    ]


class Chaining:
    """What one evaluation has found so far, in rounds: each round's firings are decoded,
    blocked ones removed, and the facts they derive become the next round's input."""

    def __init__(
        self,
        compiled: CompiledRuleset,
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
        self.flat = all(_flat(text) for text in fields)
        self.blocked: dict[tuple[int, int], set[tuple[int, ...]]] = {}
        self.accepted: set[_Found] = set()
        self.matches: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []

    def _decode(self, messages: list[str]) -> list[_Found]:
        """This round's new matches, blocked ones removed, in order."""
        position = id_table.position
        read = _frames if self.flat else _parsed_frames
        candidates: list[_Found] = []
        for message in messages:
            for native_name, frames in read(message):
                rule = self.compiled.native_rules[native_name]
                for frame in frames:
                    positions = tuple(position[frame[alias]] for alias in rule.aliases)
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
                    made += self._add(rule, cast(dict[str, Any], instantiate(template, bound)))
            self.matches.append((rule_index, positions, tuple(made)))
        return range(start, len(self.facts))

    def _add(self, rule: UserRule, fact: dict[str, Any]) -> list[int]:
        try:
            written = fact_fields(fact)
        except ValueProblem as exc:
            raise rule_problem(self.compiled.name, rule.name, f"a derived fact: {exc}") from None
        if written in self.known:
            return []
        if len(self.facts) - self.inputs >= self.max_derived:
            raise rule_problem(
                self.compiled.name,
                rule.name,
                f"forward chaining derived more than {self.max_derived} facts; a rule probably "
                "keeps deriving new facts from facts it derived",
            )
        self.known.add(written)
        self.flat = self.flat and _flat(written)
        self.facts.append(fact)
        self.fields.append(written)
        return [len(self.facts) - 1]
