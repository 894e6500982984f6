"""Rule packs -> durable_rules rulesets, with every name, field, type and operator checked first.

A rule's conditions become one durable_rules ``all`` list: each condition is an alias whose
expression tests the fact's ``type`` and its ``where`` clause; joins refer to earlier aliases
(``{"a": "metric"}``), the fact's own fields to ``$m``, and ``none:`` conditions become
``alias$not``. Comparisons are rearranged so a field of the matched fact stands alone on the
left (``b.target - a.target > 5`` becomes ``b.target > 5 + a.target``), which is the only form
durable_rules accepts; what cannot be rearranged fails here, with the rule's line, rather than
at evaluation.

Rules that derive facts are ordered into strata: a rule that says "there is no T" runs only
after every rule deriving T has finished, so negation never sees half the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr, model_validator

from alignment_engine.errors import Problem, RuleError
from alignment_engine.model.common import ReferenceProblem, did_you_mean, raise_reference_problems
from alignment_engine.model.findings import FindingKind, Severity
from alignment_engine.ruleset.expressions import (
    Arith,
    ExpressionError,
    Field,
    FieldType,
    Literal_,
    Logical,
    Negate,
    Node,
    Not,
    Scope,
    aliases_in,
    parse_expression,
    type_of,
)
from alignment_engine.ruleset.expressions import Compare as Comparison
from alignment_engine.ruleset.facts import (
    BASE_FACT_TYPES,
    DERIVED_FACT_TYPES,
    KPI_GROUP_FACT_TYPE,
    FactType,
)
from alignment_engine.ruleset.schema import RulePackFields
from alignment_engine.ruleset.templates import Template, parse_template

if TYPE_CHECKING:
    from alignment_engine.ruleset.schema import Condition, Rule

__all__ = [
    "GROUP_ALIAS",
    "GROUP_FIELDS",
    "TYPE_FIELD",
    "CompiledCondition",
    "CompiledDerivation",
    "CompiledFinding",
    "CompiledPack",
    "CompiledRule",
    "RulePack",
    "RuleProgram",
    "compile_pack_checked",
    "compile_program",
]

TYPE_FIELD = "type"
"""The fact field holding its type; every condition tests it first."""

GROUP_ALIAS = "group"
"""In a grouped finding's texts: the group itself (``group.count``, ``group.matches``)."""
GROUP_FIELDS: Mapping[str, FieldType] = {"count": "number", "matches": "number"}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class CompiledCondition:
    alias: str
    fact_type: str
    negated: bool
    predicate: Node | None
    expression: dict[str, Any]  # durable_rules JSON for this alias

    def durable(self) -> dict[str, Any]:
        return {f"{self.alias}$not" if self.negated else self.alias: self.expression}


@dataclass(frozen=True)
class CompiledFinding:
    message: Template
    suggestion: Template
    departments: tuple[Template, ...]
    kpis: tuple[Template, ...]
    objectives: tuple[Template, ...]
    resources: tuple[Template, ...]
    rank: Node | None
    group_by: tuple[Node, ...] = ()
    count: Node | None = None
    parties: tuple[str, ...] = ()
    # language -> message and suggestion
    translations: Mapping[str, tuple[Template, Template]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledDerivation:
    fact_type: str
    fields: Mapping[str, Node]
    key: tuple[str, ...]


@dataclass(frozen=True)
class CompiledRule:
    id: str
    pack: str
    description: str
    kind: FindingKind | None
    severity: Severity | None
    conditions: tuple[CompiledCondition, ...]
    finding: CompiledFinding | None
    derive: CompiledDerivation | None

    @property
    def matches(self) -> frozenset[str]:
        return frozenset(c.fact_type for c in self.conditions if not c.negated)

    @property
    def negates(self) -> frozenset[str]:
        return frozenset(c.fact_type for c in self.conditions if c.negated)

    @property
    def reads(self) -> frozenset[str]:
        return frozenset(c.fact_type for c in self.conditions)

    def durable(self) -> dict[str, Any]:
        """The rule as durable_rules JSON (no ``run``: the engine adapter attaches actions)."""
        return {"all": [c.durable() for c in self.conditions]}


@dataclass(frozen=True, eq=False)  # identity: compiled programs are cached per pack object
class CompiledPack:
    id: str
    rules: tuple[CompiledRule, ...]
    derived: Mapping[str, FactType]


# ---------------------------------------------------------------------------------------------
# Expressions -> durable_rules JSON


class _Unsupported(ExpressionError):
    pass


_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_DURABLE_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}


def _mentions(node: Node, alias: str) -> bool:
    return alias in aliases_in(node)


def _number(node: Node) -> float | None:
    if isinstance(node, Literal_) and isinstance(node.value, float):
        return node.value
    return None


def _isolate(op: str, left: Node, right: Node, alias: str) -> tuple[str, str, Node]:
    """Rearrange ``left op right`` into ``alias.field op expression``."""
    if isinstance(left, Field) and left.alias == alias:
        return left.name, op, right
    if isinstance(right, Field) and right.alias == alias:
        return right.name, _FLIP[op], left
    if _mentions(left, alias) and _mentions(right, alias):
        raise _Unsupported(
            f"'{alias}' appears on both sides of the comparison",
            f"keep one field of '{alias}' alone on one side, e.g. {alias}.x > {alias}.y * 2",
        )
    if not _mentions(left, alias):
        if not _mentions(right, alias):
            raise _Unsupported(
                f"this comparison does not use '{alias}', the fact this condition matches",
                "move it to the condition of a fact it names",
            )
        left, right, op = right, left, _FLIP[op]
    # left holds the field of `alias` inside arithmetic: undo one operation at a time.
    if isinstance(left, Negate):
        return _isolate(_FLIP[op], left.operand, Negate(right), alias)
    if isinstance(left, Arith):
        x, y = left.left, left.right
        in_x = _mentions(x, alias)
        if left.op == "+":
            return (
                _isolate(op, x, Arith("-", right, y), alias)
                if in_x
                else _isolate(op, y, Arith("-", right, x), alias)
            )
        if left.op == "-":
            return (
                _isolate(op, x, Arith("+", right, y), alias)
                if in_x
                else _isolate(_FLIP[op], y, Arith("-", x, right), alias)
            )
        factor = _number(y) if in_x else _number(x)
        inner = x if in_x else y
        if left.op == "/" and not in_x:
            raise _Unsupported(
                f"cannot divide by a field of '{alias}' in a condition",
                f"multiply instead, e.g. {alias}.x * 2 > a.y",
            )
        if factor is None or factor == 0:
            raise _Unsupported(
                f"a field of '{alias}' multiplied or divided by something other than a "
                "non-zero number cannot be compared",
                f"compare the field of '{alias}' alone, e.g. {alias}.x > a.y / a.z",
            )
        new_op = op if factor > 0 else _FLIP[op]
        if left.op == "*":
            return _isolate(new_op, inner, Arith("/", right, Literal_(factor)), alias)
        return _isolate(new_op, inner, Arith("*", right, Literal_(factor)), alias)
    raise _Unsupported("this comparison cannot be rearranged for durable_rules")  # pragma: no cover


def _value(node: Node, alias: str) -> Any:
    """A right-hand side: literal, join reference, own field ($m), or arithmetic."""
    if isinstance(node, Literal_):
        if node.value is None:
            raise _Unsupported("null cannot be compared or computed with", "test it with == null")
        return node.value
    if isinstance(node, Field):
        if node.type == "list":
            raise _Unsupported(f"'{node.alias}.{node.name}' is a list and cannot be compared")
        return {"$m": node.name} if node.alias == alias else {node.alias: node.name}
    if isinstance(node, Negate):
        inner = _value(node.operand, alias)
        if isinstance(inner, float):
            return -inner
        return {"$mul": {"$l": inner, "$r": -1.0}}
    if isinstance(node, Arith):
        if type_of(node) == "text":
            raise _Unsupported(
                "text cannot be joined with '+' in a condition",
                "derive a fact with the joined text first",
            )
        left, right = _value(node.left, alias), _value(node.right, alias)
        if isinstance(left, float) and isinstance(right, float):
            folded = {"+": left + right, "-": left - right, "*": left * right}
            if node.op in folded:
                return folded[node.op]
            if right != 0:
                return left / right
        return {_DURABLE_ARITH[node.op]: {"$l": left, "$r": right}}
    raise _Unsupported("only fields, numbers, text and + - * / can be compared")


def _comparison(node: Comparison, alias: str, negate: bool) -> dict[str, Any]:
    op = _INVERSE[node.op] if negate else node.op
    left, right = node.left, node.right
    if isinstance(left, Literal_) and left.value is None:
        left, right = right, left
    if isinstance(right, Literal_) and right.value is None:
        if not (isinstance(left, Field) and left.alias == alias):
            owner = sorted(aliases_in(left))
            raise _Unsupported(
                "only a field of the fact this condition matches can be tested against null",
                f"test it in the condition of '{owner[0]}'" if owner else None,
            )
        return {"$nex" if op == "==" else "$ex": {left.name: 1}}
    name, final_op, rhs = _isolate(op, left, right, alias)
    mentioned = aliases_in(rhs)
    if alias in mentioned and len(mentioned) > 1:
        raise _Unsupported(
            f"durable_rules cannot compare with an expression mixing fields of '{alias}' "
            "and of facts matched before",
            "split it into two comparisons, or derive the combined value first",
        )
    value = _value(rhs, alias)
    if final_op == "==":
        return {name: value}
    if final_op == "!=":
        # durable_rules counts a missing field as different from everything; SQL does not.
        return {"$and": [{"$ex": {name: 1}}, {"$neq": {name: value}}]}
    return {_DURABLE_OPS[final_op]: {name: value}}


def _boolean(node: Node, alias: str, negate: bool = False) -> dict[str, Any] | None:
    """A condition as a durable_rules expression; None means "always true"."""
    if isinstance(node, Comparison):
        return _comparison(node, alias, negate)
    if isinstance(node, Not):
        return _boolean(node.operand, alias, not negate)
    if isinstance(node, Logical):
        op = node.op if not negate else ("or" if node.op == "and" else "and")
        parts = [_boolean(operand, alias, negate) for operand in node.operands]
        if op == "or" and any(p is None for p in parts):
            return None
        terms: list[dict[str, Any]] = []
        key = f"${op}"
        for part in parts:
            if part is None:
                continue
            terms.extend(part[key] if list(part) == [key] else [part])
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else {key: terms}
    if isinstance(node, Field) and node.type == "bool":
        if node.alias != alias:
            raise _Unsupported(
                f"test '{node.alias}.{node.name}' in the condition of '{node.alias}'"
            )
        return {node.name: not negate}
    if isinstance(node, Literal_) and isinstance(node.value, bool):
        if node.value != negate:
            return None
        raise _Unsupported("this condition can never hold")
    raise _Unsupported("a condition must be a comparison, 'and', 'or', 'not' or a true/false field")


def _condition_expression(fact_type: str, nodes: Sequence[Node], alias: str) -> dict[str, Any]:
    terms: list[dict[str, Any]] = [{TYPE_FIELD: fact_type}]
    for node in nodes:
        compiled = _boolean(node, alias)
        if compiled is None:
            continue
        terms.extend(compiled["$and"] if list(compiled) == ["$and"] else [compiled])
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _joins(term: Any) -> bool:
    """Whether a durable_rules term reads a field of another alias (a join)."""
    if isinstance(term, dict):
        for key, value in term.items():
            if key in ("$and", "$or"):
                if any(_joins(item) for item in value):
                    return True
            elif isinstance(value, dict):
                for operand in value.values() if key.startswith("$") else [value]:
                    if _operand_joins(operand):
                        return True
    return False


def _operand_joins(operand: Any) -> bool:
    if not isinstance(operand, dict) or len(operand) != 1:
        return False
    ((key, value),) = operand.items()
    if key in ("$add", "$sub", "$mul", "$div") and isinstance(value, dict):
        return _operand_joins(value.get("$l")) or _operand_joins(value.get("$r"))
    return key != "$m" and isinstance(value, str)


def _engine_refusal(condition: CompiledCondition) -> str | None:
    """What the engine adapter would refuse in this condition (checked here, at load time)."""
    expression = condition.expression
    terms = expression["$and"] if list(expression) == ["$and"] else [expression]
    if any(_joins(t) for t in terms) and any("$or" in t for t in terms):
        return (
            f"the condition on '{condition.alias}' compares with an earlier fact and also "
            "uses 'or'; durable_rules cannot evaluate that combination"
        )
    return None


def _adapter_problem(rule_id: str, rule: dict[str, Any]) -> str | None:
    """The adapter's own verdict on one rule (pure Python: builds nothing in the engine)."""
    from alignment_engine.ruleset.durable import compile_ruleset

    try:
        compile_ruleset(rule_id, {rule_id: rule})
    except RuleError as exc:
        return exc.message
    return None


# ---------------------------------------------------------------------------------------------
# Packs


@dataclass
class _PackCompiler:
    pack: RulePack
    types: dict[str, FactType]
    problems: list[ReferenceProblem] = field(default_factory=list)

    def problem(self, path: Path, message: str, suggestion: str | None = None) -> None:
        self.problems.append(ReferenceProblem(path, message, suggestion))

    def scope_for(
        self, rule_index: int, conditions: Sequence[Condition], report: bool
    ) -> list[tuple[str, str, bool, Mapping[str, FieldType]]] | None:
        """(alias, type, negated, fields) per condition, or None if a type is unknown."""
        resolved = []
        seen: set[str] = set()
        for index, condition in enumerate(conditions):
            path: Path = ("rules", rule_index, "when", index)
            fact_type = self.types.get(condition.fact_type)
            if fact_type is None:
                if report:
                    self.problem(
                        (*path, "none" if condition.negated else "fact"),
                        f"unknown fact type '{condition.fact_type}'",
                        did_you_mean(condition.fact_type, self.types)
                        or "fact types: " + ", ".join(sorted(self.types)),
                    )
                return None
            if condition.alias in seen:
                if report:
                    self.problem(
                        (*path, "as" if condition.as_ else "fact"),
                        f"'{condition.alias}' already names an earlier fact in this rule",
                        "give each fact its own name with 'as:'",
                    )
                return None
            seen.add(condition.alias)
            resolved.append(
                (condition.alias, condition.fact_type, condition.negated, fact_type.fields)
            )
        return resolved

    def expression(
        self, text: str, scope: Scope, path: Path, *, hint_quotes: bool = False
    ) -> Node | None:
        try:
            return parse_expression(text, scope)
        except ExpressionError as exc:
            suggestion = exc.suggestion
            if hint_quotes and text.strip().isidentifier():
                suggestion = f"write text in quotes: \"'{text.strip()}'\""
            self.problem(path, exc.message, suggestion)
            return None

    def conditions(
        self, rule_index: int, rule: Rule
    ) -> tuple[list[CompiledCondition], dict[str, tuple[str, Mapping[str, FieldType]]]] | None:
        resolved = self.scope_for(rule_index, rule.when, report=True)
        if resolved is None:
            return None
        compiled: list[CompiledCondition] = []
        visible: dict[str, tuple[str, Mapping[str, FieldType]]] = {}
        ok = True
        for index, (condition, (alias, fact_type, negated, fields)) in enumerate(
            zip(rule.when, resolved, strict=True)
        ):
            scope = Scope({**visible, alias: (fact_type, fields)}, current=alias)
            texts = condition.expressions()
            nodes: list[Node] = []
            for number, text in enumerate(texts):
                path: Path = ("rules", rule_index, "when", index, "where")
                if isinstance(condition.where, list):
                    path = (*path, number)
                node = self.expression(text, scope, path)
                if node is None:
                    ok = False
                    continue
                if type_of(node) != "bool":
                    self.problem(path, "a condition must be true or false, e.g. x.sign > 0")
                    ok = False
                    continue
                try:
                    _boolean(node, alias)
                except ExpressionError as exc:
                    self.problem(path, exc.message, exc.suggestion)
                    ok = False
                    continue
                nodes.append(node)
            predicate: Node | None = None
            if nodes:
                predicate = nodes[0] if len(nodes) == 1 else Logical("and", tuple(nodes))
            if ok:
                compiled.append(
                    CompiledCondition(
                        alias,
                        fact_type,
                        negated,
                        predicate,
                        _condition_expression(fact_type, nodes, alias),
                    )
                )
            if not negated:
                visible[alias] = (fact_type, fields)
        return (compiled, visible) if ok else None

    def finding(
        self,
        rule_index: int,
        rule: Rule,
        visible: Mapping[str, tuple[str, Mapping[str, FieldType]]],
    ) -> CompiledFinding | None:
        template = rule.finding
        assert template is not None
        base: Path = ("rules", rule_index, "finding")
        ok = True
        group_by: list[Node] = []
        plain = Scope(visible, values=True)
        for index, text in enumerate(template.group_by):
            node = self.expression(text, plain, (*base, "group_by", index))
            if node is None:
                ok = False
            elif type_of(node) not in ("number", "text", "bool"):
                self.problem((*base, "group_by", index), "group by numbers, text or true/false")
                ok = False
            else:
                group_by.append(node)
        count = None
        if template.count is not None:
            count = self.expression(template.count, plain, (*base, "count"))
            if count is not None and type_of(count) != "number":
                self.problem((*base, "count"), "count must be a number")
                count = None
            ok = ok and count is not None
        parties = tuple(template.parties)
        if parties:
            if len(parties) != 2:
                self.problem((*base, "parties"), "parties names two matched facts, one per side")
                ok = False
            for index, alias in enumerate(parties):
                found = visible.get(alias)
                hint = "parties are the aliases of two 'fact: kpi_group' conditions"
                if found is None:
                    self.problem(
                        (*base, "parties", index),
                        f"'{alias}' is not a matched fact",
                        did_you_mean(alias, visible) or hint,
                    )
                    ok = False
                elif found[0] != KPI_GROUP_FACT_TYPE.name:
                    self.problem(
                        (*base, "parties", index),
                        f"'{alias}' is a {found[0]} fact; parties are kpi_group facts",
                        hint,
                    )
                    ok = False
        if (template.group_by or template.count is not None) and GROUP_ALIAS in visible:
            self.problem(
                (*base, "group_by"),
                f"'{GROUP_ALIAS}' names a matched fact, but grouped findings use it for the group",
                "give that fact another name with 'as:'",
            )
            ok = False
        shown = dict(visible)
        if template.group_by:
            shown[GROUP_ALIAS] = ("group", GROUP_FIELDS)
        scope = Scope(shown, values=True)

        def parse(text: str, path: Path, language: str = "en") -> Template | None:
            nonlocal ok
            try:
                return parse_template(text, scope, language)
            except ExpressionError as exc:
                self.problem(path, exc.message, exc.suggestion)
                ok = False
                return None

        message = parse(template.message, (*base, "message"))
        suggestion = parse(template.suggestion, (*base, "suggestion"))
        translations: dict[str, tuple[Template, Template]] = {}
        for language, texts in template.translations.items():
            where = (*base, "translations", language)
            translated = parse(texts.message, (*where, "message"), language)
            # No suggestion given in the language: the English one is shown.
            translated_suggestion = (
                parse(texts.suggestion, (*where, "suggestion"), language)
                if texts.suggestion
                else suggestion
            )
            if translated is not None and translated_suggestion is not None:
                translations[language] = (translated, translated_suggestion)
        lists: dict[str, list[Template]] = {}
        for name in ("departments", "kpis", "objectives", "resources"):
            lists[name] = []
            for index, text in enumerate(getattr(template, name)):
                parsed = parse(text, (*base, name, index))
                if parsed is not None:
                    lists[name].append(parsed)
        rank = None
        if template.rank is not None:
            rank = self.expression(template.rank, scope, (*base, "rank"))
            if rank is not None and type_of(rank) not in ("number", "text"):
                self.problem((*base, "rank"), "rank must be a number or text")
                rank = None
            ok = ok and rank is not None
        if not ok or message is None or suggestion is None:
            return None
        return CompiledFinding(
            message,
            suggestion,
            tuple(lists["departments"]),
            tuple(lists["kpis"]),
            tuple(lists["objectives"]),
            tuple(lists["resources"]),
            rank,
            tuple(group_by),
            count,
            parties,
            translations,
        )

    def derivation_fields(
        self,
        rule_index: int,
        rule: Rule,
        visible: Mapping[str, tuple[str, Mapping[str, FieldType]]],
        report: bool,
    ) -> dict[str, Node] | None:
        derive = rule.derive
        assert derive is not None
        scope = Scope(visible, values=True)
        nodes: dict[str, Node] = {}
        ok = True
        for name, value in derive.fields.items():
            path: Path = ("rules", rule_index, "derive", "fields", name)
            if isinstance(value, bool):
                nodes[name] = Literal_(value)
                continue
            if isinstance(value, int | float):
                nodes[name] = Literal_(float(value))
                continue
            if report:
                node = self.expression(value, scope, path, hint_quotes=True)
            else:
                try:
                    node = parse_expression(value, scope)
                except ExpressionError:
                    node = None
            if node is None:
                ok = False
                continue
            if type_of(node) == "null":
                if report:
                    self.problem(path, "the type of this field cannot be told from null")
                ok = False
                continue
            nodes[name] = node
        return nodes if ok else None

    def declare_derived(self) -> None:
        """Infer the fields of the fact types this pack derives (before compiling any rule)."""
        pending = [
            (index, rule) for index, rule in enumerate(self.pack.rules) if rule.derive is not None
        ]
        progress = True
        while pending and progress:
            progress = False
            for item in list(pending):
                index, rule = item
                assert rule.derive is not None
                name = rule.derive.fact
                # Derived fields read positive facts only, so "none:" conditions (which may name
                # the very type being derived) do not hold up the inference.
                positives = [c for c in rule.when if not c.negated]
                resolved = self.scope_for(index, positives, report=False)
                if resolved is None:
                    continue
                visible = {a: (t, f) for a, t, negated, f in resolved if not negated}
                nodes = self.derivation_fields(index, rule, visible, report=False)
                pending.remove(item)
                progress = True
                if nodes is None or name in self.types:
                    continue  # reported when the rule itself is compiled
                self.types[name] = FactType(
                    name,
                    f"derived by rule '{rule.id}' in pack '{self.pack.id}'",
                    "rules",
                    {n: _field_type(node) for n, node in nodes.items()},
                    dict.fromkeys(nodes, "derived"),
                )

    def derivation(
        self,
        rule_index: int,
        rule: Rule,
        visible: Mapping[str, tuple[str, Mapping[str, FieldType]]],
    ) -> CompiledDerivation | None:
        derive = rule.derive
        assert derive is not None
        base: Path = ("rules", rule_index, "derive")
        if derive.fact in BASE_FACT_TYPES:
            self.problem(
                (*base, "fact"),
                f"'{derive.fact}' facts come from the plan; rules cannot derive them",
                "choose a new fact type name",
            )
            return None
        nodes = self.derivation_fields(rule_index, rule, visible, report=True)
        if nodes is None:
            return None
        declared = self.types.get(derive.fact)
        if declared is not None:
            given = {n: _field_type(node) for n, node in nodes.items()}
            if set(given) != set(declared.fields):
                missing = sorted(set(declared.fields) - set(given))
                extra = sorted(set(given) - set(declared.fields))
                detail = "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(missing)}" if missing else "",
                        f"unexpected {', '.join(extra)}" if extra else "",
                    )
                    if part
                )
                self.problem(
                    (*base, "fields"),
                    f"'{derive.fact}' facts have the fields {', '.join(declared.fields)} "
                    f"({detail})",
                    "derive every field, with the same names",
                )
                return None
            for name, kind in given.items():
                if kind != declared.fields[name]:
                    self.problem(
                        (*base, "fields", name),
                        f"'{derive.fact}.{name}' is {declared.fields[name]}, "
                        f"but this expression gives {kind}",
                    )
                    return None
        for index, key in enumerate(derive.key):
            if key not in nodes:
                self.problem(
                    (*base, "key", index),
                    f"'{key}' is not one of the derived fields",
                    did_you_mean(key, nodes),
                )
                return None
        ordered = {name: nodes[name] for name in sorted(nodes)}
        return CompiledDerivation(derive.fact, ordered, tuple(derive.key or sorted(nodes)))

    def engine_accepts(self, index: int, rule: CompiledRule) -> bool:
        for position, condition in enumerate(rule.conditions):
            refusal = _engine_refusal(condition)
            if refusal is not None:
                self.problem(
                    ("rules", index, "when", position, "where"),
                    refusal,
                    "split the 'or' into separate rules, one per alternative",
                )
                return False
        refusal = _adapter_problem(rule.id, rule.durable())
        if refusal is not None:
            self.problem(("rules", index, "when"), refusal)
            return False
        return True

    def compile(self) -> CompiledPack | None:
        self.declare_derived()
        compiled_rules: list[CompiledRule] = []
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.pack.rules):
            if rule.id in seen:
                self.problem(
                    ("rules", index, "id"),
                    f"duplicate rule id '{rule.id}' (first at rules[{seen[rule.id]}])",
                )
                continue
            seen[rule.id] = index
            result = self.conditions(index, rule)
            if result is None:
                continue
            conditions, visible = result
            finding = self.finding(index, rule, visible) if rule.finding is not None else None
            derive = self.derivation(index, rule, visible) if rule.derive is not None else None
            if finding is None and derive is None:
                continue
            compiled = CompiledRule(
                rule.id,
                self.pack.id,
                rule.description,
                rule.kind,
                rule.severity,
                tuple(conditions),
                finding,
                derive,
            )
            if self.engine_accepts(index, compiled):
                compiled_rules.append(compiled)
        if self.problems:
            return None
        derived = {
            name: fact_type
            for name, fact_type in self.types.items()
            if name not in BASE_FACT_TYPES and name not in DERIVED_FACT_TYPES
        }
        return CompiledPack(self.pack.id, tuple(compiled_rules), derived)


def _field_type(node: Node) -> FieldType:
    kind = type_of(node)
    return "text" if kind == "null" else kind


def known_fact_types() -> dict[str, FactType]:
    return {**BASE_FACT_TYPES, **DERIVED_FACT_TYPES}


def compile_pack_checked(pack: RulePack) -> tuple[CompiledPack | None, list[ReferenceProblem]]:
    """Compile one pack against the plan's fact types, the standard derived ones and its own."""
    compiler = _PackCompiler(pack, known_fact_types())
    compiled = compiler.compile()
    return compiled, compiler.problems


# ---------------------------------------------------------------------------------------------
# Programs: several packs evaluated together


@dataclass(frozen=True, eq=False)  # identity: one rule engine is built per program object
class RuleProgram:
    """Packs compiled together: derivation strata (in order), then the finding rules."""

    packs: tuple[str, ...]
    strata: tuple[tuple[CompiledRule, ...], ...]
    findings: tuple[CompiledRule, ...]
    fact_types: Mapping[str, FactType]

    @property
    def rules(self) -> list[CompiledRule]:
        return [rule for stratum in self.strata for rule in stratum] + list(self.findings)

    def rule(self, rule_id: str) -> CompiledRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def compile_program(packs: Iterable[tuple[CompiledPack, str]]) -> RuleProgram:
    """Join compiled packs (each with its source file, for errors) into one program."""
    owners: dict[str, str] = {}
    derived_by: dict[str, str] = {}
    types = known_fact_types()
    rules: list[CompiledRule] = []
    pack_ids: list[str] = []
    problems: list[Problem] = []
    for pack, source in packs:
        pack_ids.append(pack.id)
        for name, fact_type in pack.derived.items():
            if name in derived_by and types[name].fields != fact_type.fields:
                problems.append(
                    Problem(
                        f"pack '{pack.id}' derives '{name}' facts with other fields than "
                        f"{derived_by[name]}",
                        source,
                        suggestion="give the fact type another name",
                    )
                )
            derived_by.setdefault(name, source)
            types.setdefault(name, fact_type)
        for rule in pack.rules:
            if rule.id in owners:
                problems.append(
                    Problem(
                        f"rule id '{rule.id}' is already defined in {owners[rule.id]}",
                        source,
                        key=rule.id,
                        suggestion="give the rule another id",
                    )
                )
                continue
            owners[rule.id] = source
            rules.append(rule)
    if problems:
        raise RuleError(problems=problems)
    strata = _stratify([r for r in rules if r.derive is not None])
    findings = tuple(r for r in rules if r.finding is not None)
    return RuleProgram(tuple(pack_ids), strata, findings, types)


def _stratify(rules: Sequence[CompiledRule]) -> tuple[tuple[CompiledRule, ...], ...]:
    """Order derivation rules so each "no T" runs after everything deriving T is done."""
    level = {rule.id: 0 for rule in rules}
    derivers: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        assert rule.derive is not None
        derivers.setdefault(rule.derive.fact_type, []).append(rule)
    for _ in range(len(rules) + 1):
        changed = False
        for rule in rules:
            needed = 0
            for fact_type in rule.matches:
                for other in derivers.get(fact_type, []):
                    needed = max(needed, level[other.id])
            for fact_type in rule.negates:
                for other in derivers.get(fact_type, []):
                    needed = max(needed, level[other.id] + 1)
            if needed > level[rule.id]:
                level[rule.id] = needed
                changed = True
        if not changed:
            break
    else:
        cyclic = sorted(rule.id for rule in rules if level[rule.id] >= len(rules))
        raise RuleError(
            f"rules {', '.join(cyclic)} depend on their own results through 'none:' conditions",
            suggestion="a rule may not say 'none: T' about facts it (indirectly) derives",
        )
    count = max(level.values(), default=-1) + 1
    return tuple(tuple(r for r in rules if level[r.id] == index) for index in range(count))


class RulePack(RulePackFields):
    # A ``kind: rules`` document, compiled when validated: a rule that does not compile is a
    # validation error located in its file, and the compiled form is kept for evaluation.
    # (A comment, not a docstring: the docstring would become the JSON Schema's description.)

    _compiled: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compiles(self) -> RulePack:
        compiled, problems = compile_pack_checked(self)
        raise_reference_problems(problems)
        self._compiled = compiled
        return self
