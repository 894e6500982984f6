"""Rule conditions parsed from durable_rules JSON into a small tree the adapter checks and
rewrites before compiling it back (defects 2, 11 and 12 in
:mod:`alignment_engine.ruleset.durable.engine`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, cast

from alignment_engine.ruleset.durable.facts import internal_path
from alignment_engine.ruleset.durable.jsontext import (
    PLAIN,
    Scalar,
    ValueProblem,
    format_scalar,
    plain_scalar,
)

# ---------------------------------------------------------------------------------------------
# Conditions, parsed from durable JSON into a small tree the adapter checks and rewrites.

_COMPARISONS: Final = frozenset({"$eq", "$neq", "$lt", "$lte", "$gt", "$gte"})
_EXISTENCE: Final = frozenset({"$ex", "$nex"})
_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul", "$div"})
_GROUPS: Final = frozenset({"$and", "$or"})
_UNSUPPORTED: Final = frozenset({"$mt", "$imt", "$iall", "$iany"})


@dataclass(frozen=True, slots=True)
class LiteralValue:
    value: Scalar


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``alias.path`` of an earlier alias, or of the fact being matched when alias is None."""

    alias: str | None
    path: str
    internal: str


@dataclass(frozen=True, slots=True)
class _Arithmetic:
    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = LiteralValue | FieldRef | _Arithmetic


@dataclass(frozen=True, slots=True)
class Test:
    op: str
    path: str  # as the user wrote it
    internal: str
    operand: Operand | None = None  # None for $ex / $nex


@dataclass(frozen=True, slots=True)
class Group:
    op: str
    items: tuple[Condition, ...]


Condition: TypeAlias = Test | Group


def refs_of(operand: Operand | None, *, only_in_arithmetic: bool = False) -> Iterator[FieldRef]:
    """Field references in an operand (only those inside arithmetic, if asked)."""
    if isinstance(operand, FieldRef):
        if not only_in_arithmetic:
            yield operand
    elif isinstance(operand, _Arithmetic):
        yield from refs_of(operand.left)
        yield from refs_of(operand.right)


def tests_of(condition: Condition) -> Iterator[Test]:
    if isinstance(condition, Group):
        for item in condition.items:
            yield from tests_of(item)
    else:
        yield condition


def is_join(test: Test) -> bool:
    return any(ref.alias is not None for ref in refs_of(test.operand))


def make_test(op: str, path: str, operand: Operand | None = None) -> Test:
    return Test(op, path, path, operand)


class ConditionParser:
    """Parses one alias's condition; ``earlier`` are the positive aliases before it."""

    def __init__(self, earlier: Sequence[str]) -> None:
        self.earlier = earlier

    def condition(self, raw: object) -> Condition:
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise ValueProblem("a condition is an object with one key (combine tests with $and)")
        ((key, value),) = raw.items()
        if not isinstance(key, str):
            raise ValueProblem(f"condition key {key!r} is not text")
        if key in _GROUPS:
            if not isinstance(value, list | tuple) or not value:
                raise ValueProblem(f"{key} takes a non-empty list of conditions")
            return Group(key, tuple(self.condition(item) for item in value))
        if key in _EXISTENCE:
            path, _ = self._one_field(key, value)
            return Test(key, path, internal_path(path))
        if key in _COMPARISONS:
            path, operand = self._one_field(key, value)
            return Test(key, path, internal_path(path), self.operand(operand))
        if key in _UNSUPPORTED:
            raise ValueProblem(f"{key} is not supported by this adapter")
        if key.startswith("$"):
            raise ValueProblem(f"unknown operator '{key}'")
        return Test("$eq", key, internal_path(key), self.operand(value))

    @staticmethod
    def _one_field(op: str, value: object) -> tuple[str, object]:
        if not isinstance(value, Mapping) or len(value) != 1:
            raise ValueProblem(f"{op} takes an object with exactly one field")
        ((path, operand),) = value.items()
        internal_path(path)
        return cast(str, path), operand

    def operand(self, raw: object) -> Operand:
        if isinstance(raw, Mapping):
            return self._object_operand(raw)
        if isinstance(raw, list | tuple):
            raise ValueProblem("lists cannot be compared")
        value = cast(Scalar, raw) if raw is None or type(raw) in PLAIN else plain_scalar(raw)
        format_scalar(value)
        return LiteralValue(value)

    def _object_operand(self, raw: Mapping[Any, Any]) -> Operand:
        if len(raw) != 1:
            raise ValueProblem("a value object has one key: an alias, $m or an arithmetic operator")
        ((key, value),) = raw.items()
        if key in _ARITHMETIC:
            if not isinstance(value, Mapping) or set(value) != {"$l", "$r"}:
                raise ValueProblem(f"{key} takes an object with exactly $l and $r")
            left, right = self.operand(value["$l"]), self.operand(value["$r"])
            for side in (left, right):
                number = side.value if isinstance(side, LiteralValue) else 0
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ValueProblem(f"{key} on a value that is not a number: {number!r}")
            if key == "$div" and isinstance(right, LiteralValue) and right.value == 0:
                raise ValueProblem("$div by zero")
            if isinstance(left, LiteralValue) and isinstance(right, LiteralValue):
                return _fold(key, left, right)  # durable cannot evaluate constant arithmetic
            result = _Arithmetic(key, left, right)
            if len({ref.alias is None for ref in refs_of(result)}) > 1:
                raise ValueProblem("arithmetic cannot mix $m with another alias's fields")
            return result
        if not isinstance(value, str):
            raise ValueProblem(f"the reference {{{key!r}: {value!r}}} names no field")
        if key == "$m":
            return FieldRef(None, value, internal_path(value))
        if key not in self.earlier:
            known = ", ".join(self.earlier) or "none"
            raise ValueProblem(f"'{key}' is not a positive alias before this one (known: {known})")
        return FieldRef(cast(str, key), value, internal_path(value))


def _fold(op: str, left: LiteralValue, right: LiteralValue) -> LiteralValue:
    """Constant arithmetic, done here as durable would (integers stay integers, $div floats)."""
    a, b = cast(int | float, left.value), cast(int | float, right.value)
    if op == "$div":
        value: int | float = float(a) / float(b)
    else:
        value = a + b if op == "$add" else a - b if op == "$sub" else a * b
    format_scalar(value)  # refuses results beyond int64 or not finite
    return LiteralValue(value)
