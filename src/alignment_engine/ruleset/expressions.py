"""The expression language of rule packs: conditions, derived fields and message placeholders.

Expressions are written like Python (``b.metric == a.metric and b.sign == -a.sign``) and parsed
with :mod:`ast`, but only a small, typed subset is accepted: fields of matched facts
(``alias.field``, or a bare ``field`` of the fact being matched), numbers, 'text', true/false/null,
``+ - * /``, comparisons, ``and``/``or``/``not``; value expressions (derived fields and
placeholders) may also use ``x if cond else y`` and a few functions. Every name is resolved
against the fact types when a pack is loaded, so a typo fails then, with a suggestion.

Missing values (``null``) follow SQL: arithmetic with null is null, and a comparison with null is
false whichever way it is written (``not`` does not make it true); test with ``== null``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from alignment_engine.model.common import did_you_mean

__all__ = [
    "Arith",
    "Call",
    "Compare",
    "ExpressionError",
    "Field",
    "FieldType",
    "IfElse",
    "Literal_",
    "Logical",
    "Negate",
    "Node",
    "Not",
    "Scope",
    "aliases_in",
    "brief",
    "evaluate",
    "format_value",
    "localise",
    "parse_expression",
    "type_of",
]

FieldType: TypeAlias = Literal["number", "text", "bool", "list"]
ValueType: TypeAlias = Literal["number", "text", "bool", "list", "null"]

_TYPE_WORDS = {"number": "a number", "text": "text", "bool": "true/false", "list": "a list"}


class ExpressionError(Exception):
    """An expression that cannot be used; ``offset`` is the character where the problem is."""

    def __init__(self, message: str, suggestion: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        self.offset = offset


# ---------------------------------------------------------------------------------------------
# Nodes


@dataclass(frozen=True)
class Literal_:
    value: float | str | bool | None


@dataclass(frozen=True)
class Field:
    alias: str
    name: str
    type: FieldType


@dataclass(frozen=True)
class Arith:
    op: Literal["+", "-", "*", "/"]
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Compare:
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: Literal["and", "or"]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class IfElse:
    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node: TypeAlias = Literal_ | Field | Arith | Negate | Compare | Logical | Not | IfElse | Call


# ---------------------------------------------------------------------------------------------
# Scope: which facts an expression may name


@dataclass(frozen=True)
class Scope:
    """The facts visible to an expression: alias -> (fact type, its fields and their types).

    ``current`` is the alias bare field names belong to (the fact a condition matches).
    ``values`` allows the value-only syntax (conditional expressions and functions).
    """

    facts: Mapping[str, tuple[str, Mapping[str, FieldType]]]
    current: str | None = None
    values: bool = False


_CONSTANTS: dict[str, bool | None] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}

_ARITH: dict[type[ast.operator], Literal["+", "-", "*", "/"]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}
_ARITH_NAMES = {
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_COMPARE: dict[type[ast.cmpop], Literal["==", "!=", "<", "<=", ">", ">="]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_COMPARE_NAMES = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}

FUNCTIONS: dict[str, tuple[int, int]] = {  # name -> (fewest, most) arguments
    "abs": (1, 1),
    "round": (1, 2),
    "min": (2, 8),
    "max": (2, 8),
    "len": (1, 1),
    "join": (1, 2),
    "brief": (1, 2),
    "text": (1, 1),
    "union": (2, 2),
}

BRIEF_ITEMS = 5
"""brief() writes a list out in full up to this many items; a longer one as a count and the
first three."""

_ARITH_HINT = "conditions may use + - * / and the comparisons == != < <= > >="


def parse_expression(text: str, scope: Scope) -> Node:
    """Parse and type-check one expression. Raises ExpressionError with a suggestion."""
    source = text.strip()
    if not source:
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        offset = (exc.offset - 1) if exc.offset else None
        hint = exc.msg  # Python's own words, when no better hint applies
        if "&&" in source or "||" in source:
            hint = "write 'and' / 'or' instead of '&&' / '||'"
        elif "=" in source.replace("==", "").replace("!=", "").replace("<=", "").replace(">=", ""):
            hint = "compare with '==', not '='"
        raise ExpressionError(f"not a valid expression: {source}", hint, offset) from None
    node = _Converter(scope).convert(tree.body)
    type_of(node)  # type-check the whole tree now, not at evaluation
    return node


class _Converter:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def fail(self, node: ast.AST, message: str, suggestion: str | None = None) -> ExpressionError:
        return ExpressionError(message, suggestion, getattr(node, "col_offset", None))

    def convert(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or value is None or isinstance(value, str):
                return Literal_(value)
            if isinstance(value, int | float):
                if not math.isfinite(float(value)):
                    raise self.fail(node, "numbers must be finite")
                return Literal_(float(value))
            raise self.fail(node, f"unsupported constant {value!r}")
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.BinOp):
            op = _ARITH.get(type(node.op))
            if op is None:
                symbol = _ARITH_NAMES.get(type(node.op), type(node.op).__name__)
                raise self.fail(node, f"operator '{symbol}' is not supported", _ARITH_HINT)
            return Arith(op, self.convert(node.left), self.convert(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                inner = self.convert(node.operand)
                if isinstance(inner, Literal_) and isinstance(inner.value, float):
                    return Literal_(-inner.value)
                return Negate(inner)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand)
            if isinstance(node.op, ast.Not):
                return Not(self.convert(node.operand))
            raise self.fail(node, "operator '~' is not supported", _ARITH_HINT)
        if isinstance(node, ast.BoolOp):
            logic: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
            return Logical(logic, tuple(self.convert(v) for v in node.values))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            if not self.scope.values:
                raise self.fail(
                    node,
                    "'x if condition else y' is only allowed in derived fields and messages",
                    "write the two cases as two conditions joined with 'or'",
                )
            return IfElse(
                self.convert(node.test), self.convert(node.body), self.convert(node.orelse)
            )
        if isinstance(node, ast.Call):
            return self.call(node)
        kind = type(node).__name__
        friendly = {
            "Subscript": "indexing with [...]",
            "List": "a list",
            "Tuple": "a tuple",
            "Dict": "a mapping",
            "JoinedStr": "an f-string",
            "Lambda": "a lambda",
        }.get(kind, kind)
        raise self.fail(node, f"{friendly} is not supported in rule expressions")

    def known_fields(self, alias: str) -> Mapping[str, FieldType]:
        return self.scope.facts[alias][1]

    def field(self, node: ast.AST, alias: str, name: str) -> Field:
        fact_type, fields = self.scope.facts[alias]
        if name not in fields:
            suggestion = did_you_mean(name, fields) or (
                f"fields of '{fact_type}': {', '.join(sorted(fields))}"
            )
            raise self.fail(node, f"fact '{fact_type}' has no field '{name}'", suggestion)
        return Field(alias, name, fields[name])

    def name(self, node: ast.Name) -> Node:
        if node.id in _CONSTANTS:
            return Literal_(_CONSTANTS[node.id])
        current = self.scope.current
        if current is not None and node.id in self.known_fields(current):
            return self.field(node, current, node.id)
        if node.id in self.scope.facts:
            raise self.fail(
                node,
                f"'{node.id}' is a matched fact, not a value",
                f"name one of its fields, e.g. {node.id}.id",
            )
        choices = list(self.scope.facts)
        if current is not None:
            choices += list(self.known_fields(current))
        if current is not None:
            fact_type = self.scope.facts[current][0]
            message = f"'{node.id}' is neither a field of '{fact_type}' nor a matched fact"
        else:
            message = f"'{node.id}' is not a matched fact"
        suggestion = did_you_mean(node.id, choices)
        if suggestion is None and self.scope.facts:
            suggestion = "matched facts: " + ", ".join(sorted(self.scope.facts))
        raise self.fail(node, message, suggestion)

    def attribute(self, node: ast.Attribute) -> Node:
        base = node.value
        if not isinstance(base, ast.Name):
            raise self.fail(node, "write fields as alias.field (one dot)")
        if base.id not in self.scope.facts:
            suggestion = did_you_mean(base.id, self.scope.facts)
            if suggestion is None:
                known = ", ".join(sorted(self.scope.facts)) or "none yet"
                suggestion = f"facts matched so far: {known}"
            raise self.fail(base, f"'{base.id}' is not a fact matched before here", suggestion)
        return self.field(node, base.id, node.attr)

    def compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left = self.convert(node.left)
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.convert(right_node)
            if isinstance(op_node, ast.Is | ast.IsNot) and (
                isinstance(right, Literal_) and right.value is None
            ):
                parts.append(Compare("==" if isinstance(op_node, ast.Is) else "!=", left, right))
            else:
                op = _COMPARE.get(type(op_node))
                if op is None:
                    symbol = _COMPARE_NAMES.get(type(op_node), type(op_node).__name__)
                    hint = _ARITH_HINT
                    if symbol in ("in", "not in"):
                        hint = "match one fact per member instead, e.g. goal_member"
                    raise self.fail(node, f"operator '{symbol}' is not supported", hint)
                parts.append(Compare(op, left, right))
            left = right
        return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))

    def call(self, node: ast.Call) -> Node:
        if not self.scope.values:
            raise self.fail(
                node,
                "functions are only allowed in derived fields and messages",
                "compare fields directly in conditions",
            )
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else "?"
            raise self.fail(
                node,
                f"unknown function '{name}'",
                did_you_mean(name, FUNCTIONS) or "functions: " + ", ".join(sorted(FUNCTIONS)),
            )
        if node.keywords:
            raise self.fail(node, "functions take no keyword arguments")
        fewest, most = FUNCTIONS[node.func.id]
        if not fewest <= len(node.args) <= most:
            raise self.fail(node, f"{node.func.id}() takes {fewest} to {most} arguments")
        return Call(node.func.id, tuple(self.convert(a) for a in node.args))


# ---------------------------------------------------------------------------------------------
# Types


def _describe(node: Node) -> str:
    if isinstance(node, Field):
        return f"'{node.alias}.{node.name}'"
    if isinstance(node, Literal_):
        return repr(node.value) if not isinstance(node.value, float) else format_value(node.value)
    return "the expression"


def type_of(node: Node) -> ValueType:
    """The value type of an expression; raises ExpressionError on a type mismatch."""
    if isinstance(node, Literal_):
        if node.value is None:
            return "null"
        if isinstance(node.value, bool):
            return "bool"
        if isinstance(node.value, str):
            return "text"
        return "number"
    if isinstance(node, Field):
        return node.type
    if isinstance(node, Arith):
        left, right = type_of(node.left), type_of(node.right)
        if node.op == "+" and left == "text" and right in ("text", "null"):
            return "text"
        for side, kind in ((node.left, left), (node.right, right)):
            if kind not in ("number", "null"):
                raise ExpressionError(
                    f"'{node.op}' needs numbers, but {_describe(side)} is {_TYPE_WORDS[kind]}",
                    "only text can be joined with '+', and only in derived fields and messages"
                    if kind == "text"
                    else None,
                )
        return "number"
    if isinstance(node, Negate):
        kind = type_of(node.operand)
        if kind not in ("number", "null"):
            raise ExpressionError(f"cannot negate {_describe(node.operand)}")
        return "number"
    if isinstance(node, Compare):
        left, right = type_of(node.left), type_of(node.right)
        if "list" in (left, right):
            raise ExpressionError(
                "lists cannot be compared", "match one fact per member (e.g. goal_member)"
            )
        if "null" in (left, right):
            if node.op not in ("==", "!="):
                raise ExpressionError("null can only be tested with == or !=")
            return "bool"
        if left != right:
            raise ExpressionError(
                f"cannot compare {_describe(node.left)} ({_TYPE_WORDS[left]}) "
                f"with {_describe(node.right)} ({_TYPE_WORDS[right]})"
            )
        if left == "bool" and node.op not in ("==", "!="):
            raise ExpressionError("true/false can only be tested with == or !=")
        return "bool"
    if isinstance(node, Logical):
        for operand in node.operands:
            if type_of(operand) != "bool":
                raise ExpressionError(f"'{node.op}' needs conditions, got {_describe(operand)}")
        return "bool"
    if isinstance(node, Not):
        if type_of(node.operand) != "bool":
            raise ExpressionError(f"'not' needs a condition, got {_describe(node.operand)}")
        return "bool"
    if isinstance(node, IfElse):
        if type_of(node.test) != "bool":
            raise ExpressionError("the condition of 'x if condition else y' must be true/false")
        body, orelse = type_of(node.body), type_of(node.orelse)
        if body != orelse and "null" not in (body, orelse):
            raise ExpressionError(
                f"both cases of 'x if condition else y' must have one type "
                f"(got {_TYPE_WORDS[body]} and {_TYPE_WORDS[orelse]})"
            )
        return orelse if body == "null" else body
    # Call
    kinds = [type_of(a) for a in node.args]
    function = node.function.partition("@")[0]  # brief@zh-CN: brief() in another language
    if function == "words":
        return "text"
    if node.function == "len":
        if kinds[0] not in ("list", "text", "null"):
            raise ExpressionError("len() takes a list or text")
        return "number"
    if function == "join":
        if kinds[0] not in ("list", "null") or (len(kinds) > 1 and kinds[1] != "text"):
            raise ExpressionError("join() takes a list and optionally a 'separator'")
        return "text"
    if function == "text":
        return "text"
    if function == "brief":
        if kinds[0] not in ("list", "null") or (len(kinds) > 1 and kinds[1] != "text"):
            raise ExpressionError("brief() takes a list and optionally what one item is")
        return "text"
    if function == "union":
        if any(k not in ("list", "null") for k in kinds):
            raise ExpressionError("union() takes two lists")
        return "list"
    if any(k not in ("number", "null") for k in kinds):
        raise ExpressionError(f"{node.function}() takes numbers")
    return "number"


def aliases_in(node: Node) -> set[str]:
    """The aliases an expression reads."""
    if isinstance(node, Field):
        return {node.alias}
    if isinstance(node, Literal_):
        return set()
    if isinstance(node, Arith | Compare):
        return aliases_in(node.left) | aliases_in(node.right)
    if isinstance(node, Negate | Not):
        return aliases_in(node.operand)
    if isinstance(node, Logical | Call):
        children = node.operands if isinstance(node, Logical) else node.args
        found: set[str] = set()
        for child in children:
            found |= aliases_in(child)
        return found
    return aliases_in(node.test) | aliases_in(node.body) | aliases_in(node.orelse)


# ---------------------------------------------------------------------------------------------
# Evaluation (Python side: derived fields, messages, rule tests)

Env: TypeAlias = Mapping[str, Mapping[str, Any]]


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if op == "+":
        if isinstance(left, str) or isinstance(right, str):
            return f"{left}{right}"
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None  # a ratio over zero is unknown, not infinite
    return left / right


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def evaluate(node: Node, env: Env) -> Any:
    """The value of an expression over matched facts (alias -> fact fields)."""
    found = _closures.get(id(node))
    if found is None or found[0] is not node:
        found = _closures[id(node)] = (node, _closure(node))
    return found[1](env)


_Closure: TypeAlias = Callable[[Env], Any]
#: Each parsed expression as a Python closure (keyed by the node's identity, which the entry
#: keeps alive): messages of 100,000 findings are rendered from these, and walking the tree
#: with isinstance tests took most of a large check.
_closures: dict[int, tuple[Node, _Closure]] = {}


def _closure(node: Node) -> _Closure:
    if isinstance(node, Literal_):
        value = node.value
        return lambda env: value
    if isinstance(node, Field):
        alias, name = node.alias, node.name
        return lambda env: env[alias].get(name)
    if isinstance(node, Arith):
        op, left, right = node.op, _closure(node.left), _closure(node.right)
        return lambda env: _arith(op, left(env), right(env))
    if isinstance(node, Negate):
        operand = _closure(node.operand)

        def negate(env: Env) -> Any:
            value = operand(env)
            return None if value is None else -value

        return negate
    if isinstance(node, Compare):
        return _comparison(node)
    if isinstance(node, Logical):
        operands = tuple(_closure(o) for o in node.operands)
        if node.op == "and":
            return lambda env: all(o(env) for o in operands)
        return lambda env: any(o(env) for o in operands)
    if isinstance(node, Not):
        return _negation(node.operand)
    if isinstance(node, IfElse):
        test, body, orelse = _closure(node.test), _closure(node.body), _closure(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)
    function, args = node.function, tuple(_closure(a) for a in node.args)
    return lambda env: _call(function, [a(env) for a in args])


def _comparison(node: Compare) -> _Closure:
    left, right = _closure(node.left), _closure(node.right)
    if isinstance(node.right, Literal_) and node.right.value is None:
        wanted = node.op == "=="
        return lambda env: (left(env) is None) == wanted
    if isinstance(node.left, Literal_) and node.left.value is None:
        wanted = node.op == "=="
        return lambda env: (right(env) is None) == wanted
    compare = _COMPARATORS[node.op]

    def holds(env: Env) -> bool:
        a, b = left(env), right(env)
        if a is None or b is None:
            return False
        return compare(a, b)

    return holds


def _negation(node: Node) -> _Closure:
    """``not`` with SQL's rule that a comparison with null stays false."""
    if isinstance(node, Compare):
        return _comparison(Compare(_INVERSE[node.op], node.left, node.right))
    if isinstance(node, Logical):
        operands = tuple(_negation(o) for o in node.operands)
        if node.op == "and":
            return lambda env: any(o(env) for o in operands)
        return lambda env: all(o(env) for o in operands)
    if isinstance(node, Not):
        inner = _closure(node.operand)
        return lambda env: bool(inner(env))
    value = _closure(node)
    return lambda env: value(env) is False


_INVERSE: dict[str, Literal["==", "!=", "<", "<=", ">", ">="]] = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
}


def _call(function: str, args: list[Any]) -> Any:
    if "@" in function:
        return _localised_call(function, args)
    if function == "len":
        return None if args[0] is None else float(len(args[0]))
    if function == "join":
        separator = args[1] if len(args) > 1 else ", "
        return None if args[0] is None else separator.join(str(a) for a in args[0])
    if function == "text":
        return format_value(args[0])
    if function == "brief":
        return None if args[0] is None else brief(args[0], args[1] if len(args) > 1 else "")
    if function == "union":  # the first list's items, then the second's not already in it
        return list(dict.fromkeys([*(args[0] or ()), *(args[1] or ())]))
    if any(a is None for a in args):
        return None
    if function == "abs":
        return abs(args[0])
    if function == "round":
        return float(round(args[0], int(args[1]) if len(args) > 1 else 0))
    if function == "min":
        return min(args)
    return max(args)


# -- other languages --------------------------------------------------------------------------
# A rule's message can be given in another language (``translations: {zh-CN: ...}``). Its
# template is parsed as any other, then :func:`localise` makes its list functions write that
# language's lists, and the engine's own words (verbs, perspectives, horizons, chains) read in
# it: what the user wrote (ids, names) is never translated.

LOCALISED_FIELDS = frozenset({"verb", "aim", "perspective", "horizon", "path_up", "path_down"})
"""Fields whose values are the engine's words, read in the template's language."""

_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "raises": "提高",
        "lowers": "降低",
        "holds": "保持",
        "raise": "提高",
        "lower": "降低",
        "hold": "保持",
        "financial": "财务",
        "customer": "客户",
        "internal_process": "内部流程",
        "learning_growth": "学习与成长",
        "short": "短期",
        "long": "长期",
        "up": "上升",
        "down": "下降",
    }
}
_LIST_SEPARATOR = {"zh-CN": "、"}
LOCALISED_LANGUAGES = frozenset(_WORDS)


def localise(node: Node, language: str) -> Node:
    """``node`` as a template in ``language`` reads it: ``brief``/``join`` write that
    language's lists, and the fields in LOCALISED_FIELDS give that language's words."""
    if language not in _WORDS:
        return node
    if isinstance(node, Field):
        if node.name in LOCALISED_FIELDS and node.type == "text":
            return Call(f"words@{language}", (node,))
        return node
    if isinstance(node, Call):
        args = tuple(localise(a, language) for a in node.args)
        if node.function in ("brief", "join"):
            return Call(f"{node.function}@{language}", args)
        return Call(node.function, args)
    if isinstance(node, Arith):
        return Arith(node.op, localise(node.left, language), localise(node.right, language))
    if isinstance(node, Negate):
        return Negate(localise(node.operand, language))
    if isinstance(node, Compare):
        return node  # a comparison reads the values as they are ('raise' == 'raise')
    if isinstance(node, Logical):
        return node
    if isinstance(node, Not):
        return node
    if isinstance(node, IfElse):
        return IfElse(node.test, localise(node.body, language), localise(node.orelse, language))
    return node


def _localised_call(function: str, args: list[Any]) -> Any:
    name, _, language = function.partition("@")
    if name == "words":
        return _words(args[0], language)
    separator = _LIST_SEPARATOR.get(language, ", ")
    if name == "join":
        return (
            None
            if args[0] is None
            else (args[1] if len(args) > 1 else separator).join(format_value(a) for a in args[0])
        )
    # brief
    if args[0] is None:
        return None
    items, noun = args[0], args[1] if len(args) > 1 else ""
    if len(items) <= BRIEF_ITEMS:
        return separator.join(format_value(item) for item in items)
    first = separator.join(format_value(item) for item in items[:3])
    return f"{len(items):,} {noun}（{first} 等）" if noun else f"{len(items):,}（{first} 等）"


def _words(value: Any, language: str) -> Any:
    if type(value) is not str:
        return value
    words = _WORDS[language]
    found = words.get(value)
    if found is not None:
        return found
    if " -> " not in value:
        return value
    # A chain ('a -> b up -> c down'): each step's direction in the language, arrows drawn.
    steps = []
    for step in value.split(" -> "):
        metric, _, direction = step.rpartition(" ")
        steps.append(f"{metric} {words[direction]}" if metric and direction in words else step)
    return " → ".join(steps)


_briefs: dict[tuple[int, int, str], tuple[list[Any], str]] = {}
_BRIEFS_KEPT = 4096


def brief(items: list[Any], noun: str = "") -> str:
    """A long list as a planner can read it: ``212 departments (sales_001, sales_002,
    sales_003, ...)``; up to BRIEF_ITEMS items are written out."""
    # A group's lists appear in the messages of every finding it is party to: write each once.
    key = (id(items), len(items), noun)
    kept = _briefs.get(key)
    if kept is not None and kept[0] is items:
        return kept[1]
    text = _brief(items, noun)
    if len(_briefs) >= _BRIEFS_KEPT:
        _briefs.clear()
    _briefs[key] = (items, text)
    return text


def _brief(items: list[Any], noun: str) -> str:
    if len(items) <= BRIEF_ITEMS:
        return ", ".join(format_value(item) for item in items)
    texts = [item if type(item) is str else format_value(item) for item in items[:3]]
    plural = noun
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        plural = noun[:-1] + "ies"
    elif noun and not noun.endswith("s"):
        plural = noun + "s"
    counted = f"{len(items):,} {plural}" if plural else f"{len(items):,}"
    return f"{counted} ({', '.join(texts[:3])}, ...)"


def format_value(value: Any, spec: str = "") -> str:
    """A value as a planner reads it: 12000000 not 12000000.0, lists joined, null as 'none'."""
    if type(value) is str and not spec:
        return value  # by far the most common: ids and names
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, spec) for v in value)
    if isinstance(value, float | int):
        if spec:
            return format(value, spec)
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        text = f"{number:.6g}"
        if "e" in text:
            text = f"{number:.12f}".rstrip("0").rstrip(".")
        return text
    return format(str(value), spec) if spec else str(value)
