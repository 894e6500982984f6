"""Rulesets validated and compiled to the JSON durable_rules is given: every alias one flat
``$and``, negated aliases as positive blocker rules, limits checked up front (defects 2, 7,
11 and 13 in :mod:`alignment_engine.ruleset.durable.engine`). Pure Python: builds nothing in C."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignment_engine.ruleset.durable.alpha import check_alpha_network, spread_wide_nodes
from alignment_engine.ruleset.durable.conditions import (
    Condition,
    ConditionParser,
    FieldRef,
    Group,
    LiteralValue,
    Operand,
    Test,
    is_join,
    make_test,
    refs_of,
    tests_of,
)
from alignment_engine.ruleset.durable.derive import TemplateRef, parse_derive, template_refs
from alignment_engine.ruleset.durable.errors import rule_problem
from alignment_engine.ruleset.durable.facts import check_name, internal_path
from alignment_engine.ruleset.durable.ids import ALIASES, MARK, SENTINEL_RULE
from alignment_engine.ruleset.durable.jsontext import ValueProblem, write_json
from alignment_engine.ruleset.durable.limits import (
    MATCHES_PER_ACTION,
    MAX_ALIASES_PER_RULE,
    MAX_RULES_PER_RULESET,
    MAX_SEQUENCE_LENGTH,
)

# ---------------------------------------------------------------------------------------------
# Compiled rules.


@dataclass(frozen=True, slots=True)
class _Alias:
    name: str  # as the user wrote it
    internal: str
    negated: bool
    condition: Condition


@dataclass(frozen=True, slots=True)
class UserRule:
    index: int
    name: str
    positives: tuple[_Alias, ...]
    #: One entry per negated alias: how many positive aliases come before it.
    negations: tuple[int, ...]
    derive: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _NativeRule:
    """A rule as durable sees it: a user rule's positive aliases, or one of its blockers."""

    rule: UserRule
    aliases: tuple[str, ...]  # internal alias names, in frame order
    blocks: int | None  # which negation this rule finds blockers for; None: the rule itself
    internal: Mapping[str, str]  # user alias name -> internal name
    chains: tuple[list[Condition], ...]  # per alias: the tests of its flat $and, in order
    distinct: int

    def durable_json(self) -> dict[str, Any]:
        entries = [
            {name: _condition_json(Group("$and", tuple(chain)), self.internal)}
            for name, chain in zip(self.aliases, self.chains, strict=True)
        ]
        rule: dict[str, Any] = {"all": entries, "cap": MATCHES_PER_ACTION}
        if self.distinct == 0:
            rule["dist"] = 0
        return rule


@dataclass(frozen=True, slots=True)
class CompiledRuleset:
    name: str
    text: str  # the ruleset JSON handed to durable
    rules: tuple[UserRule, ...]
    native_rules: Mapping[str, _NativeRule]
    #: (field path, rule name) of fields used in arithmetic and in joins, to explain failures.
    arithmetic_fields: tuple[tuple[tuple[str, ...], str], ...]
    join_fields: tuple[tuple[tuple[str, ...], str], ...]
    derives: bool


def compile_ruleset(name: str, definition: object) -> CompiledRuleset:
    if not isinstance(definition, Mapping) or not definition:
        raise rule_problem(name, None, "a ruleset is a non-empty mapping of rule names to rules")
    sentinel = make_test("$eq", "$s", LiteralValue(1))
    emitted: dict[str, Any] = {
        SENTINEL_RULE: {"all": [{ALIASES[0]: _condition_json(sentinel, {})}], "cap": 1}
    }
    rules: list[UserRule] = []
    native: dict[str, _NativeRule] = {}
    arithmetic: dict[tuple[tuple[str, ...], str], None] = {}
    joins: dict[tuple[tuple[str, ...], str], None] = {}
    for index, (rule_name, raw) in enumerate(definition.items()):
        if not isinstance(rule_name, str) or not rule_name:
            raise rule_problem(name, str(rule_name), "a rule name is non-empty text")
        try:
            rule, aliases, natives = _compile_rule(index, rule_name, raw)
        except ValueProblem as exc:
            raise rule_problem(name, rule_name, str(exc)) from None
        rules.append(rule)
        native.update(natives)
        for test in (test for alias in aliases for test in tests_of(alias.condition)):
            for ref in refs_of(test.operand, only_in_arithmetic=True):
                arithmetic[tuple(ref.path.split(".")), rule_name] = None
            if is_join(test):
                for path in (test.path, *(ref.path for ref in refs_of(test.operand))):
                    joins[tuple(path.split(".")), rule_name] = None
    if len(native) + 1 > MAX_RULES_PER_RULESET:
        raise rule_problem(
            name,
            None,
            f"the ruleset needs {len(native) + 1} durable rules; durable_rules holds at most "
            f"{MAX_RULES_PER_RULESET} (one per rule, one per negated alias, one for the adapter)",
            "split it into several rulesets",
        )
    spread_wide_nodes([chain for rule in native.values() for chain in rule.chains])
    emitted.update((native_name, rule.durable_json()) for native_name, rule in native.items())
    check_alpha_network(
        name,
        [
            (rule.rule.name, Group("$and", tuple(chain)))
            for rule in native.values()
            for chain in rule.chains
        ],
    )
    return CompiledRuleset(
        name=name,
        text=write_json(emitted),
        rules=tuple(rules),
        native_rules=native,
        arithmetic_fields=tuple(arithmetic),
        join_fields=tuple(joins),
        derives=any(rule.derive for rule in rules),
    )


def _compile_rule(
    index: int, rule_name: str, raw: object
) -> tuple[UserRule, list[_Alias], dict[str, _NativeRule]]:
    if not isinstance(raw, Mapping):
        raise ValueProblem("a rule is a mapping with an 'all' list")
    unknown = sorted(str(key) for key in raw if key not in ("all", "dist", "derive"))
    if unknown:
        hint = (
            "actions are not supported (matches are recorded); use 'derive' to assert facts"
            if "run" in unknown
            else "rules take 'all', 'dist' and 'derive'"
        )
        raise ValueProblem(f"unsupported rule key(s) {', '.join(unknown)}: {hint}")
    entries = raw.get("all")
    if not isinstance(entries, list | tuple) or not entries:
        raise ValueProblem("'all' must be a non-empty list of {alias: condition}")
    if len(entries) > MAX_ALIASES_PER_RULE:
        raise ValueProblem(
            f"a rule has {len(entries)} aliases; durable_rules holds at most "
            f"{MAX_ALIASES_PER_RULE} facts per match"
        )
    distinct = raw.get("dist", 1)
    if not isinstance(distinct, int) or distinct not in (0, 1):
        raise ValueProblem("'dist' is 0 or 1")
    aliases = _parse_aliases(entries)
    positives = tuple(alias for alias in aliases if not alias.negated)
    templates = parse_derive(raw.get("derive", ()), [alias.name for alias in positives])
    negations: list[int] = []
    blockers: list[tuple[_Alias, ...]] = []
    for position, alias in enumerate(aliases):
        if alias.negated:
            before = tuple(a for a in aliases[:position] if not a.negated)
            negations.append(len(before))
            blockers.append((*before, _Alias(alias.name, alias.internal, False, alias.condition)))
    rule = UserRule(index, rule_name, positives, tuple(negations), tuple(templates))
    derive_refs = [ref for template in templates for ref in template_refs(template)]
    natives = {f"r{index}": _native_rule(rule, positives, None, derive_refs, distinct)}
    for which, members in enumerate(blockers):
        natives[f"r{index}n{which}"] = _native_rule(rule, members, which, [], distinct)
    return rule, aliases, natives


def _internals(aliases: Sequence[_Alias]) -> tuple[str, ...]:
    return tuple(alias.internal for alias in aliases)


def _parse_aliases(entries: Sequence[object]) -> list[_Alias]:
    aliases: list[_Alias] = []
    positives: list[str] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ValueProblem("each entry of 'all' is an object with exactly one alias")
        ((key, condition),) = entry.items()
        if not isinstance(key, str):
            raise ValueProblem(f"alias {key!r} is not text")
        negated = key.endswith("$not")
        name = key[:-4] if negated else key
        if key.endswith(("$all", "$any")):
            raise ValueProblem(f"'{key}': nested $all/$any groups are not supported")
        check_name(name, "alias")
        if any(alias.name == name for alias in aliases):
            raise ValueProblem(f"alias '{name}' is used twice")
        if negated and position == 0:
            raise ValueProblem(f"'{key}': a negated alias cannot come first")
        try:
            parsed = ConditionParser(positives).condition(condition)
        except ValueProblem as exc:
            raise ValueProblem(f"alias '{name}': {exc}") from None
        aliases.append(_Alias(name, ALIASES[position], negated, parsed))
        if not negated:
            positives.append(name)
    return aliases


def _native_rule(
    rule: UserRule,
    aliases: Sequence[_Alias],
    blocks: int | None,
    derive_refs: Sequence[TemplateRef],
    distinct: int,
) -> _NativeRule:
    """A durable rule whose aliases are all positive, each condition one flat $and."""
    internal = {alias.name: alias.internal for alias in aliases}
    # Fields that later aliases join on, or that templates copy, must exist on the alias:
    # durable aborts the whole assertion (error 311) when a join reads a missing field.
    needed: dict[str, dict[str, None]] = {alias.name: {} for alias in aliases}
    for alias in aliases:
        for test in tests_of(alias.condition):
            for ref in refs_of(test.operand):
                if ref.alias is not None:
                    needed[ref.alias][ref.internal] = None
    for template_ref in derive_refs:
        needed[template_ref.alias][internal_path(".".join(template_ref.path))] = None
    chains = []
    for alias in aliases:
        items: list[Condition] = [make_test("$eq", MARK, LiteralValue(1))]
        items += [make_test("$ex", path) for path in needed[alias.name]]
        flat = _flatten(_guard_own_fields(alias.condition))
        joins = [test for test in tests_of(alias.condition) if is_join(test)]
        if joins:
            if any(isinstance(item, Group) for item in flat):
                raise ValueProblem(
                    f"alias '{alias.name}': a condition that joins another alias cannot also "
                    "use $or (durable_rules evaluates such a condition wrongly); split the rule"
                )
            first = next(ref.alias for ref in refs_of(joins[0].operand) if ref.alias is not None)
            # Always true (every asserted fact has mark 1) and an integer: durable's stored
            # sid and id point into the caller's JSON text (copyMessage skips them).
            flat.append(make_test("$eq", MARK, FieldRef(first, MARK, MARK)))
        items += flat
        slots = (
            2
            + _group_slots(items)
            + sum(1 for item in items if isinstance(item, Test) and is_join(item))
        )
        if slots > MAX_SEQUENCE_LENGTH:
            raise ValueProblem(
                f"alias '{alias.name}' needs {slots} expression slots in durable_rules, which "
                f"has {MAX_SEQUENCE_LENGTH}: use fewer joins and $or/$and groups"
            )
        chains.append(items)
    return _NativeRule(rule, _internals(aliases), blocks, internal, tuple(chains), distinct)


def _flatten(condition: Condition) -> list[Condition]:
    if isinstance(condition, Group) and condition.op == "$and":
        return [item for inner in condition.items for item in _flatten(inner)]
    return [condition]


def _guard_own_fields(condition: Condition) -> Condition:
    """A ``$m`` reference needs its field to exist, else durable reads an unset result."""
    if isinstance(condition, Group):
        return Group(condition.op, tuple(_guard_own_fields(item) for item in condition.items))
    own = [ref.internal for ref in refs_of(condition.operand) if ref.alias is None]
    if not own:
        return condition
    guards: list[Condition] = [make_test("$ex", path) for path in dict.fromkeys(own)]
    return Group("$and", (*guards, condition))


def _group_slots(items: Sequence[Condition]) -> int:
    return sum(2 + _group_slots(item.items) for item in items if isinstance(item, Group))


def _condition_json(condition: Condition, aliases: Mapping[str, str]) -> Any:
    if isinstance(condition, Group):
        return {condition.op: [_condition_json(item, aliases) for item in condition.items]}
    if condition.operand is None:
        return {condition.op: {condition.internal: 1}}
    return {condition.op: {condition.internal: _operand_json(condition.operand, aliases)}}


def _operand_json(operand: Operand, aliases: Mapping[str, str]) -> Any:
    if isinstance(operand, LiteralValue):
        return operand.value
    if isinstance(operand, FieldRef):
        owner = "$m" if operand.alias is None else aliases[operand.alias]
        return {owner: operand.internal}
    left = _operand_json(operand.left, aliases)
    right = _operand_json(operand.right, aliases)
    if operand.op == "$div":
        # Both sides become doubles (or false for null): C never divides integers (SIGFPE).
        # A literal is written as a double; durable cannot evaluate arithmetic of literals.
        left = float(left) if isinstance(operand.left, LiteralValue) else _as_double(left)
        right = float(right) if isinstance(operand.right, LiteralValue) else _as_double(right)
    return {operand.op: {"$l": left, "$r": right}}


def _as_double(operand: Any) -> Any:
    return {"$add": {"$l": operand, "$r": 0.0}}
