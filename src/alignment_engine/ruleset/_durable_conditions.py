"""Rule conditions parsed from durable_rules JSON into a small tree the adapter checks and
rewrites before compiling it back (defects 2, 11 and 12 in
:mod:`alignment_engine.ruleset._durable`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, cast

from alignment_engine.ruleset._durable_facts import _internal_path
from alignment_engine.ruleset._durable_json import (
    _PLAIN,
    Scalar,
    _format_scalar,
    _plain_scalar,
    _ValueProblem,
)

# ---------------------------------------------------------------------------------------------
# Conditions, parsed from durable JSON into a small tree the adapter checks and rewrites.

_COMPARISONS: Final = frozenset({"$eq", "$neq", "$lt", "$lte", "$gt", "$gte"})
_EXISTENCE: Final = frozenset({"$ex", "$nex"})
_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul", "$div"})
_GROUPS: Final = frozenset({"$and", "$or"})
_UNSUPPORTED: Final = frozenset({"$mt", "$imt", "$iall", "$iany"})


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Scalar


@dataclass(frozen=True, slots=True)
class _FieldRef:
    """``alias.path`` of an earlier alias, or of the fact being matched when alias is None."""

    alias: str | None
    path: str
    internal: str


@dataclass(frozen=True, slots=True)
class _Arithmetic:
    op: str
    left: _Operand
    right: _Operand


_Operand: TypeAlias = _Literal | _FieldRef | _Arithmetic


@dataclass(frozen=True, slots=True)
class _Test:
    op: str
    path: str  # as the user wrote it
    internal: str
    operand: _Operand | None = None  # None for $ex / $nex


@dataclass(frozen=True, slots=True)
class _Group:
    op: str
    items: tuple[_Condition, ...]


_Condition: TypeAlias = _Test | _Group


def _refs(operand: _Operand | None, *, only_in_arithmetic: bool = False) -> Iterator[_FieldRef]:
    """Field references in an operand (only those inside arithmetic, if asked)."""
    if isinstance(operand, _FieldRef):
        if not only_in_arithmetic:
            yield operand
    elif isinstance(operand, _Arithmetic):
        yield from _refs(operand.left)
        yield from _refs(operand.right)


def _tests(condition: _Condition) -> Iterator[_Test]:
    if isinstance(condition, _Group):
        for item in condition.items:
            yield from _tests(item)
    else:
        yield condition


def _is_join(test: _Test) -> bool:
    return any(ref.alias is not None for ref in _refs(test.operand))


def _test(op: str, path: str, operand: _Operand | None = None) -> _Test:
    return _Test(op, path, path, operand)


class _ConditionParser:
    """Parses one alias's condition; ``earlier`` are the positive aliases before it."""

    def __init__(self, earlier: Sequence[str]) -> None:
        self.earlier = earlier

    def condition(self, raw: object) -> _Condition:
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise _ValueProblem("a condition is an object with one key (combine tests with $and)")
        ((key, value),) = raw.items()
        if not isinstance(key, str):
            raise _ValueProblem(f"condition key {key!r} is not text")
        if key in _GROUPS:
            if not isinstance(value, list | tuple) or not value:
                raise _ValueProblem(f"{key} takes a non-empty list of conditions")
            return _Group(key, tuple(self.condition(item) for item in value))
        if key in _EXISTENCE:
            path, _ = self._one_field(key, value)
            return _Test(key, path, _internal_path(path))
        if key in _COMPARISONS:
            path, operand = self._one_field(key, value)
            return _Test(key, path, _internal_path(path), self.operand(operand))
        if key in _UNSUPPORTED:
            raise _ValueProblem(f"{key} is not supported by this adapter")
        if key.startswith("$"):
            raise _ValueProblem(f"unknown operator '{key}'")
        return _Test("$eq", key, _internal_path(key), self.operand(value))

    @staticmethod
    def _one_field(op: str, value: object) -> tuple[str, object]:
        if not isinstance(value, Mapping) or len(value) != 1:
            raise _ValueProblem(f"{op} takes an object with exactly one field")
        ((path, operand),) = value.items()
        _internal_path(path)
        return cast(str, path), operand

    def operand(self, raw: object) -> _Operand:
        if isinstance(raw, Mapping):
            return self._object_operand(raw)
        if isinstance(raw, list | tuple):
            raise _ValueProblem("lists cannot be compared")
        value = cast(Scalar, raw) if raw is None or type(raw) in _PLAIN else _plain_scalar(raw)
        _format_scalar(value)
        return _Literal(value)

    def _object_operand(self, raw: Mapping[Any, Any]) -> _Operand:
        if len(raw) != 1:
            raise _ValueProblem(
                "a value object has one key: an alias, $m or an arithmetic operator"
            )
        ((key, value),) = raw.items()
        if key in _ARITHMETIC:
            if not isinstance(value, Mapping) or set(value) != {"$l", "$r"}:
                raise _ValueProblem(f"{key} takes an object with exactly $l and $r")
            left, right = self.operand(value["$l"]), self.operand(value["$r"])
            for side in (left, right):
                number = side.value if isinstance(side, _Literal) else 0
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise _ValueProblem(f"{key} on a value that is not a number: {number!r}")
            if key == "$div" and isinstance(right, _Literal) and right.value == 0:
                raise _ValueProblem("$div by zero")
            if isinstance(left, _Literal) and isinstance(right, _Literal):
                return _fold(key, left, right)  # durable cannot evaluate constant arithmetic
            result = _Arithmetic(key, left, right)
            if len({ref.alias is None for ref in _refs(result)}) > 1:
                raise _ValueProblem("arithmetic cannot mix $m with another alias's fields")
            return result
        if not isinstance(value, str):
            raise _ValueProblem(f"the reference {{{key!r}: {value!r}}} names no field")
        if key == "$m":
            return _FieldRef(None, value, _internal_path(value))
        if key not in self.earlier:
            known = ", ".join(self.earlier) or "none"
            raise _ValueProblem(f"'{key}' is not a positive alias before this one (known: {known})")
        return _FieldRef(cast(str, key), value, _internal_path(value))


def _fold(op: str, left: _Literal, right: _Literal) -> _Literal:
    """Constant arithmetic, done here as durable would (integers stay integers, $div floats)."""
    a, b = cast(int | float, left.value), cast(int | float, right.value)
    if op == "$div":
        value: int | float = float(a) / float(b)
    else:
        value = a + b if op == "$add" else a - b if op == "$sub" else a * b
    _format_scalar(value)  # refuses results beyond int64 or not finite
    return _Literal(value)
