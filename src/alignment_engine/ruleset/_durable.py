"""The durable_rules adapter: the only module that touches durable_rules (stock PyPI 2.0.28).

:class:`RuleEngine` takes rulesets in durable_rules' JSON format, checks them against every limit
of the C engine up front, and evaluates a list of facts (plain dicts) against one ruleset at a
time, returning a :class:`Match` per rule firing. Rules may declare ``derive``: facts built from
their matched facts and asserted back into the same evaluation (forward chaining)::

    {"kpis": {"shared metric": {
        "all": [{"a": {"type": "kpi"}},
                {"b": {"$and": [{"type": "kpi"}, {"metric": {"a": "metric"}}]}}],
        "derive": [{"type": "shared", "metric": {"$ref": "a.metric"}}],
    }}}

Rule keys are ``all`` (required), ``dist`` (0 lets one fact fill several aliases) and ``derive``
(templates whose ``{"$ref": "alias.field"}`` values are copied from the matched facts). Conditions
use ``$and $or $ex $nex $eq $neq $lt $lte $gt $gte``, the equality shorthand ``{"field": value}``,
nested fields ``"a.b"``, joins ``{"alias": "field"}`` to an earlier alias, the matched fact's own
fields ``{"$m": "field"}``, arithmetic ``$add $sub $mul $div`` with ``$l``/``$r``, and negated
aliases ``"x$not"`` (never first). Field names ``id`` and ``sid`` are free to use: the adapter
renames them on the way in, because durable_rules reserves them. Names may not start with ``$``
or contain ``.``, quotes, backslashes or control characters.

Semantics worth knowing (durable's, kept): a comparison only matches facts that have the field;
``$neq`` against null is true, other comparisons with null are false, arithmetic with null gives
false. A join or a ``derive`` reference to ``a.field`` only matches facts ``a`` that have
``field``. ``$div`` always divides as floating point. Negation sees every fact known when a
match is first found (the input and the facts derived so far); a fact derived later does not
undo it. A fact derived with the same content as a known fact is not asserted again. Matches
come back sorted by rule (definition order) and then by the positions of their facts, each
reported once; the facts in a match are the very objects passed in (derived ones are new).

The defects of durable_rules 2.0.28 (/work/shared/notes/durable-rules.md, re-read in the C
source ``src/rules``) and what this module does about each:

1. ``delete_state`` on a state where no action ran frees uninitialised pointers
   (``createStateNode`` leaves ``context`` unset). Each evaluation opens a fresh state with
   ``update_state``, which fires a sentinel rule; completing that action sets the pointers to
   NULL. Only such an "armed" state is ever deleted. A state that cannot be armed is retired
   (never deleted) and after a few the C ruleset is rebuilt.
2. ``reduceExpressionSequence`` steps past the END of an ``$and``/``$or`` group when its last
   join short-circuits, and nested groups end evaluation early. Every alias with a join is one
   flat ``$and`` ending in an always-true integer join on the adapter's fact marker; joins
   under ``$or`` are refused. durable's ``$not`` is not used at all (its retraction path reads
   frame slots by position and deletes other rules' matches): a negated alias becomes a
   positive "blocker" rule and the adapter removes blocked matches itself, which also makes
   negation independent of fact order.
3. ``Host()`` starts self-rescheduling ``threading.Timer`` chains (``Host._run`` arms
   ``dispatch_ruleset`` and ``dispatch_timers`` every 0-0.2 s; they start actions for any state
   and post ``$pulse`` events). This module never creates a ``Host`` and never imports
   ``durable.engine``: it drives the C extension ``durable_rules_engine`` directly, dispatches
   actions synchronously, and makes every C call on one engine thread, one job at a time.
4. At most 1,024 live states per ruleset: one is live per evaluation; retired ones are capped.
5. States and facts are told apart by a 32-bit FNV-1 hash only (over signed ``char``): fact
   ids and state ids are generated here and kept collision-free (:func:`_fnv1_32` is the C
   hash), and so are the field names of each fact and the adapter's own names.
6. Numbers: facts and rules are written by this module's JSON writer: floats in plain decimal
   (no exponent), NaN and infinities refused, integers outside int64 refused. ``$div`` becomes
   ``(l + 0.0) / (r + 0.0)``, so C never divides integers (SIGFPE on zero).
7. Sizes are checked before anything reaches C: rules per ruleset, properties per fact, facts
   per match, expression slots per alias, string length, and the alpha network, simulated as
   rete.c builds it. Wide nodes (the 513th condition after one test hangs; more than 64
   conditions pending for one fact fail the assertion) are spread under always-true bucket
   tests (:func:`_spread`); what cannot be spread, like one huge ``$or``, is refused.
8. The C calls hold the GIL, so serialising them on one thread costs no throughput.
9. ``PyEval_CallObject`` (gone in Python 3.13) is only reached through storage callbacks, which
   this module never sets; the package still does not build there (pyproject.toml pins <3.13).

Found while building this adapter, and handled:

10. ``copyMessage`` (state.c) copies a stored fact but leaves its ``id`` and ``sid`` pointing
    into the JSON text it was given: the adapter keeps every text alive until the state is
    deleted, and nothing it emits compares ``sid`` or ``id``.
11. A join to a field the earlier fact lacks aborts the whole assertion (error 311): the
    earlier alias gets an ``$ex`` test for every field joined on. ``$m`` fields likewise.
12. Arithmetic between two literals is never evaluated (it has no expression type): folded here.
13. A ``$not`` first in a rule never fires; ``any`` pairs facts from different branches; an
    ``$or`` a fact matches twice fires twice: refused, refused, reported once.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import ctypes.util
import importlib
import json
import math
import numbers
import os
import queue
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final, Protocol, TypeAlias, TypeVar, cast

from alignment_engine.errors import RuleError

__all__ = [
    "MAX_ALIASES_PER_RULE",
    "MAX_BRANCHES_PER_CONDITION",
    "MAX_FACTS_PER_EVALUATION",
    "MAX_FACT_PROPERTIES",
    "MAX_RULES_PER_RULESET",
    "MAX_STRING_BYTES",
    "Match",
    "RuleEngine",
]

# ---------------------------------------------------------------------------------------------
# Limits. Each mirrors a constant of the C engine (file and name in the comment).

#: MAX_ACTIONS (rete.c): durable rules per ruleset. The adapter uses one for its sentinel and
#: one per negated alias on top of one per rule.
MAX_RULES_PER_RULESET: Final = 4096
#: MAX_OBJECT_PROPERTIES (state.h) leaves 254 usable slots; the adapter adds id, sid and its
#: fact marker. Nested objects count one per key at every level; a list counts one.
MAX_FACT_PROPERTIES: Final = 251
#: MAX_MESSAGE_FRAMES (state.h): facts held by one match.
MAX_ALIASES_PER_RULE: Final = 16
#: NEXT_BUCKET_LENGTH (rules.h) is 512 and findAlpha loops for ever once it is full, which the
#: 513th distinct condition after the same test does. The adapter stops well before.
MAX_BRANCHES_PER_CONDITION: Final = 500
#: NEXT_LIST_LENGTH (rules.h) is 128 and is scanned for a zero one past the end when full.
_MAX_NOT_EXISTS_PER_CONDITION: Final = 100
#: BETA_LIST_LENGTH (rules.h) is 256; linking a 257th alias to one condition writes past it.
_MAX_ALIASES_PER_CONDITION: Final = 200
#: MAX_STACK_SIZE (events.c): 64 conditions pending while one fact is matched.
_MAX_PENDING_CONDITIONS: Final = 60
#: MAX_SEQUENCE_EXPRESSIONS (rete.h): 32 slots, 31 usable, per alias.
_MAX_SEQUENCE_LENGTH: Final = 31
#: reduceString (events.c) takes lengths as unsigned short.
MAX_STRING_BYTES: Final = 65535
#: durable keeps about 8 KB per stored fact; this bounds one evaluation to about 2 GB.
MAX_FACTS_PER_EVALUATION: Final = 250_000
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
#: States that could not be armed are never deleted (defect 1); this many rebuild the ruleset,
#: which keeps live states far below durable's 1,024 (defect 4).
_MAX_RETIRED_STATES: Final = 32
#: Children per alpha node, and aliases ending on one test, before the adapter spreads them
#: under always-true bucket tests (see _spread).
_FAN: Final = 8
_ENDS_PER_TEST: Final = 100
#: Matches handed over per action (durable's ``cap``): fewer round trips through Python.
_MATCHES_PER_ACTION: Final = 1000

Scalar: TypeAlias = str | int | float | bool | None
_PLAIN: Final = (str, int, float, bool)
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The C extension, typed. Nothing else in the package loads it.


class _NativeEngine(Protocol):
    error: type[Exception]

    def create_ruleset(self, name: str, rules: str, /) -> int: ...
    def delete_ruleset(self, handle: int, /) -> None: ...
    def assert_facts(self, handle: int, facts: str, /) -> tuple[int, int]: ...
    def update_state(self, handle: int, state: str, /) -> int: ...
    def start_action_for_state(self, handle: int, state: int, /) -> tuple[str, str] | None: ...
    def complete_and_start_action(self, handle: int, state: int, /) -> str | None: ...
    def delete_state(self, handle: int, sid: str, /) -> None: ...


# Loaded by name and typed by the Protocol above: the extension ships no stubs, and these seven
# calls are all the adapter uses (no Host, no timers, no storage callbacks).
_native = cast(_NativeEngine, importlib.import_module("durable_rules_engine"))


def _malloc_trim() -> Callable[[], None] | None:
    """glibc's malloc_trim: durable mallocs ~8 KB per fact and glibc keeps the freed heap."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]

    def release() -> None:
        trim(0)

    return release


_trim_heap = _malloc_trim()
#: After an evaluation with this many facts, give the freed heap back to the system.
_TRIM_AFTER_FACTS: Final = 5_000

_NATIVE_ERRORS: Final[Mapping[int, str]] = {
    101: "durable_rules ran out of memory",
    111: "the ruleset was closed",
    302: "a fact has more properties than durable_rules can hold",
    303: "one fact matched more conditions at once than durable_rules can track (64)",
    304: "a match would hold more facts than durable_rules can hold (16)",
    311: "a rule read a field that a fact does not have",
    312: "a rule did arithmetic on, or joined on, values of incompatible types",
}


def _error_code(exc: BaseException) -> int | None:
    found = re.search(r"error code: (\d+)", str(exc))
    return int(found.group(1)) if found else None


def _native_failure(exc: BaseException, doing: str, hint: str | None = None) -> RuleError:
    """Our error for a failed C call (``durable_rules_engine.error`` or MemoryError)."""
    code = _error_code(exc)
    if isinstance(exc, MemoryError):
        reason = "durable_rules ran out of memory"
    elif code is not None:
        reason = _NATIVE_ERRORS.get(code, f"durable_rules failed with error code {code}")
    else:
        reason = f"durable_rules failed: {exc}"
    return RuleError(f"{doing}: {reason}", suggestion=hint)


# ---------------------------------------------------------------------------------------------
# Hashing as the C engine does it.


def _fnv1_32(text: str) -> int:
    """durable's ``fnv1Hash32`` over the UTF-8 bytes of ``text``.

    The C code XORs a signed ``char``, so bytes from 0x80 up enter sign-extended.
    """
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        value = (value * 16777619) & 0xFFFFFFFF
    return value


#: A field the adapter adds to every fact it asserts, and tests first in every condition, so no
#: condition can match the per-state fact durable keeps (``{"sid", "id", "$s"}``).
_MARK: Final = "$f"
_SENTINEL_RULE: Final = "$open"
_RESERVED_HASHES: Final = frozenset(_fnv1_32(name) for name in ("id", "sid", _MARK))
#: Keys durable's parser recognises by hash; generated names must not hash like them.
_KEYWORD_HASHES: Final = frozenset(
    _fnv1_32(word)
    for word in [
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$eq",
        "$neq",
        "$mt",
        "$imt",
        "$iall",
        "$iany",
        "$ex",
        "$nex",
        "$or",
        "$and",
        "$m",
        "$add",
        "$sub",
        "$mul",
        "$div",
        "$l",
        "$r",
        "$forward",
        "$s",
        "$i",
        "all",
        "any",
        "pri",
        "count",
        "cap",
        "dist",
        "name",
        "id",
        "sid",
    ]
)


def _alias_names() -> tuple[str, ...]:
    names = tuple(f"f{position}" for position in range(MAX_ALIASES_PER_RULE))
    hashes = {_fnv1_32(name) for name in names}
    if len(hashes) != len(names) or hashes & (_KEYWORD_HASHES | _RESERVED_HASHES):
        raise RuntimeError("internal alias names collide under FNV-1")  # pragma: no cover
    return names


#: Internal alias names by position in a rule's ``all`` list; user names never reach C.
_ALIASES: Final = _alias_names()


# ---------------------------------------------------------------------------------------------
# JSON writing. durable's parser refuses exponents without a fraction, Infinity and NaN, and
# saturates integers beyond int64, so nothing reaches it that json.dumps wrote.


class _ValueProblem(Exception):
    """A value or name the engine cannot take; the caller says where it was found."""


def _format_float(value: float) -> str:
    if not math.isfinite(value):
        raise _ValueProblem(f"{value!r} is not a finite number (NaN and infinities are refused)")
    text = repr(value)  # the shortest text that reads back to the same double
    if "e" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def _format_int(value: int) -> str:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _ValueProblem(f"{value} does not fit in a 64-bit integer")
    return str(value)


def _format_string(value: str) -> str:
    text = encode_basestring(value)
    if value.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise _ValueProblem("text is not valid Unicode (it holds a lone surrogate)") from exc
    if size > MAX_STRING_BYTES:
        raise _ValueProblem(f"text of {size} bytes is longer than {MAX_STRING_BYTES}")
    return text


def _format_scalar(value: object) -> str:
    kind = type(value)
    if kind is str:
        return _format_string(cast(str, value))
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return _format_int(cast(int, value))
    if kind is float:
        return _format_float(cast(float, value))
    if value is None:
        return "null"
    return _format_scalar(_plain_scalar(value))


def _plain_scalar(value: object) -> Scalar:
    """Subclasses, numpy numbers and Decimal as the plain value they stand for."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _ValueProblem(f"{value!r} is not a finite number")
        return float(value)
    raise _ValueProblem(
        f"a {type(value).__name__} is not a value the rule engine takes "
        "(use text, numbers, true/false, null, lists and objects)"
    )


def _write_json(value: object) -> str:
    """A JSON-like value in the form durable parses (used for rulesets)."""
    if isinstance(value, Mapping):
        items = (f"{_format_string(str(key))}:{_write_json(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_write_json(item) for item in value) + "]"
    return _format_scalar(value)


# ---------------------------------------------------------------------------------------------
# Field names. durable owns "id" and "sid" and the adapter owns names starting with "$"; names
# matching _*id or _*sid gain one underscore on the way in (a bijection callers never see).

_SHIFTED_NAME = re.compile(r"_*s?id")
#: Characters JSON would escape: durable hashes names as written, so keep written == raw.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise _ValueProblem(f"{what} {name!r} is not text")
    if not name:
        raise _ValueProblem(f"{what} is empty")
    if name.startswith("$"):
        raise _ValueProblem(f"{what} '{name}' starts with '$', which the rule engine reserves")
    if "." in name:
        raise _ValueProblem(f"{what} '{name}' contains '.', which separates nested fields")
    if _ESCAPED.search(name):
        raise _ValueProblem(f"{what} {name!r} contains a quote, backslash or control character")
    return name


def _internal_name(name: str) -> str:
    return "_" + name if _SHIFTED_NAME.fullmatch(name) else name


def _internal_path(path: object) -> str:
    """A field path ``a.b`` as written for durable; raises _ValueProblem."""
    if not isinstance(path, str) or not path:
        raise _ValueProblem(f"{path!r} is not a field name")
    return ".".join(_internal_name(_check_name(part, "field name")) for part in path.split("."))


# ---------------------------------------------------------------------------------------------
# Facts: checked and written once each, keys sorted, so equal facts give equal text.

_FieldPlan: TypeAlias = tuple[tuple[str, str], ...]  # (user key, '"internal":') sorted
_plans: dict[tuple[str, tuple[Any, ...]], _FieldPlan] = {}
_PLAN_CACHE_SIZE: Final = 4096


def _field_plan(prefix: str, keys: tuple[Any, ...]) -> _FieldPlan:
    """How to write a mapping with these keys at this nesting; cached per key tuple."""
    cache_key = (prefix, keys)
    plan = _plans.get(cache_key)
    if plan is not None:
        return plan
    fields = sorted((_internal_name(_check_name(key, "field name")), key) for key in keys)
    hashes = [_fnv1_32(prefix + internal) for internal, _ in fields]
    if len(set(hashes)) != len(hashes) or _RESERVED_HASHES.intersection(hashes):
        raise _ValueProblem(
            "two field names collide under durable_rules' 32-bit hash, which would confuse "
            "them; rename one of: " + ", ".join(sorted(str(key) for key in keys))
        )
    plan = tuple((key, f'"{internal}":') for internal, key in fields)
    if len(_plans) >= _PLAN_CACHE_SIZE:
        _plans.clear()
    _plans[cache_key] = plan
    return plan


class _FactWriter:
    """Writes one fact's fields (no braces; id, sid and mark are added per evaluation)."""

    __slots__ = ("nested", "properties")

    def __init__(self) -> None:
        self.properties = 0
        self.nested = False

    def fields(self, fact: Mapping[str, Any], prefix: str = "") -> str:
        plan = _field_plan(prefix, tuple(fact))
        self.properties += len(plan)
        if self.properties > MAX_FACT_PROPERTIES:
            raise _ValueProblem(
                f"a fact has more than {MAX_FACT_PROPERTIES} fields (nested fields count too)"
            )
        parts = []
        for key, written in plan:
            value = fact[key]
            kind = type(value)
            # The common types first: this loop runs once per field of every fact.
            if kind is str:
                parts.append(written + _format_string(value))
            elif kind is float:
                parts.append(written + _format_float(value))
            elif kind is int:
                parts.append(written + _format_int(value))
            elif kind is dict or (kind not in _PLAIN and isinstance(value, Mapping)):
                self.nested = True
                parts.append(written + "{" + self.fields(value, prefix + written[1:-2] + ".") + "}")
            else:
                parts.append(written + self.value(value))
        return ",".join(parts)

    def value(self, value: object) -> str:
        if isinstance(value, list | tuple):
            return "[" + ",".join(self.element(item) for item in value) + "]"
        return _format_scalar(value)

    def element(self, value: object) -> str:
        """A list element; a list is one property to durable, so its objects are opaque."""
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _ValueProblem(f"field name {key!r} is not text")
                items.append(f"{_format_string(key)}:{self.element(item)}")
            return "{" + ",".join(items) + "}"
        return self.value(value)


def _all_paths(fact: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in fact.items():
        path = prefix + _internal_name(key)
        yield path
        if isinstance(value, Mapping):
            yield from _all_paths(value, path + ".")


def _fact_fields(fact: object) -> str:
    """The written fields of one fact; raises _ValueProblem."""
    if type(fact) is not dict and not isinstance(fact, Mapping):
        raise _ValueProblem(f"a fact is a mapping of fields, not a {type(fact).__name__}")
    writer = _FactWriter()
    written = writer.fields(fact)
    if writer.nested:  # plans check one level at a time; across levels needs the whole fact
        hashes = [_fnv1_32(path) for path in _all_paths(fact)]
        if len(set(hashes)) != len(hashes):
            raise _ValueProblem("two nested field names collide under durable_rules' hash")
    return written


def _field_value(fact: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = fact
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


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


# ---------------------------------------------------------------------------------------------
# Compiled rules.


@dataclass(frozen=True, slots=True)
class _Alias:
    name: str  # as the user wrote it
    internal: str
    negated: bool
    condition: _Condition


@dataclass(frozen=True, slots=True)
class _TemplateRef:
    alias: str
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _UserRule:
    index: int
    name: str
    positives: tuple[_Alias, ...]
    #: One entry per negated alias: how many positive aliases come before it.
    negations: tuple[int, ...]
    derive: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _NativeRule:
    """A rule as durable sees it: a user rule's positive aliases, or one of its blockers."""

    rule: _UserRule
    aliases: tuple[str, ...]  # internal alias names, in frame order
    blocks: int | None  # which negation this rule finds blockers for; None: the rule itself
    internal: Mapping[str, str]  # user alias name -> internal name
    chains: tuple[list[_Condition], ...]  # per alias: the tests of its flat $and, in order
    distinct: int

    def durable_json(self) -> dict[str, Any]:
        entries = [
            {name: _condition_json(_Group("$and", tuple(chain)), self.internal)}
            for name, chain in zip(self.aliases, self.chains, strict=True)
        ]
        rule: dict[str, Any] = {"all": entries, "cap": _MATCHES_PER_ACTION}
        if self.distinct == 0:
            rule["dist"] = 0
        return rule


@dataclass(frozen=True, slots=True)
class _CompiledRuleset:
    name: str
    text: str  # the ruleset JSON handed to durable
    rules: tuple[_UserRule, ...]
    native_rules: Mapping[str, _NativeRule]
    #: (field path, rule name) of fields used in arithmetic and in joins, to explain failures.
    arithmetic_fields: tuple[tuple[tuple[str, ...], str], ...]
    join_fields: tuple[tuple[tuple[str, ...], str], ...]
    derives: bool


def _problem(
    ruleset: str, rule: str | None, message: str, suggestion: str | None = None
) -> RuleError:
    key = ruleset if rule is None else f"{ruleset}.{rule}"
    return RuleError(message, key=key, suggestion=suggestion)


def _compile_ruleset(name: str, definition: object) -> _CompiledRuleset:
    if not isinstance(definition, Mapping) or not definition:
        raise _problem(name, None, "a ruleset is a non-empty mapping of rule names to rules")
    sentinel = _test("$eq", "$s", _Literal(1))
    emitted: dict[str, Any] = {
        _SENTINEL_RULE: {"all": [{_ALIASES[0]: _condition_json(sentinel, {})}], "cap": 1}
    }
    rules: list[_UserRule] = []
    native: dict[str, _NativeRule] = {}
    arithmetic: dict[tuple[tuple[str, ...], str], None] = {}
    joins: dict[tuple[tuple[str, ...], str], None] = {}
    for index, (rule_name, raw) in enumerate(definition.items()):
        if not isinstance(rule_name, str) or not rule_name:
            raise _problem(name, str(rule_name), "a rule name is non-empty text")
        try:
            rule, aliases, natives = _compile_rule(index, rule_name, raw)
        except _ValueProblem as exc:
            raise _problem(name, rule_name, str(exc)) from None
        rules.append(rule)
        native.update(natives)
        for test in (test for alias in aliases for test in _tests(alias.condition)):
            for ref in _refs(test.operand, only_in_arithmetic=True):
                arithmetic[tuple(ref.path.split(".")), rule_name] = None
            if _is_join(test):
                for path in (test.path, *(ref.path for ref in _refs(test.operand))):
                    joins[tuple(path.split(".")), rule_name] = None
    if len(native) + 1 > MAX_RULES_PER_RULESET:
        raise _problem(
            name,
            None,
            f"the ruleset needs {len(native) + 1} durable rules; durable_rules holds at most "
            f"{MAX_RULES_PER_RULESET} (one per rule, one per negated alias, one for the adapter)",
            "split it into several rulesets",
        )
    _spread([chain for rule in native.values() for chain in rule.chains])
    emitted.update((native_name, rule.durable_json()) for native_name, rule in native.items())
    _check_alpha_network(
        name,
        [
            (rule.rule.name, _Group("$and", tuple(chain)))
            for rule in native.values()
            for chain in rule.chains
        ],
    )
    return _CompiledRuleset(
        name=name,
        text=_write_json(emitted),
        rules=tuple(rules),
        native_rules=native,
        arithmetic_fields=tuple(arithmetic),
        join_fields=tuple(joins),
        derives=any(rule.derive for rule in rules),
    )


def _compile_rule(
    index: int, rule_name: str, raw: object
) -> tuple[_UserRule, list[_Alias], dict[str, _NativeRule]]:
    if not isinstance(raw, Mapping):
        raise _ValueProblem("a rule is a mapping with an 'all' list")
    unknown = sorted(str(key) for key in raw if key not in ("all", "dist", "derive"))
    if unknown:
        hint = (
            "actions are not supported (matches are recorded); use 'derive' to assert facts"
            if "run" in unknown
            else "rules take 'all', 'dist' and 'derive'"
        )
        raise _ValueProblem(f"unsupported rule key(s) {', '.join(unknown)}: {hint}")
    entries = raw.get("all")
    if not isinstance(entries, list | tuple) or not entries:
        raise _ValueProblem("'all' must be a non-empty list of {alias: condition}")
    if len(entries) > MAX_ALIASES_PER_RULE:
        raise _ValueProblem(
            f"a rule has {len(entries)} aliases; durable_rules holds at most "
            f"{MAX_ALIASES_PER_RULE} facts per match"
        )
    distinct = raw.get("dist", 1)
    if not isinstance(distinct, int) or distinct not in (0, 1):
        raise _ValueProblem("'dist' is 0 or 1")
    aliases = _parse_aliases(entries)
    positives = tuple(alias for alias in aliases if not alias.negated)
    templates = _parse_derive(raw.get("derive", ()), [alias.name for alias in positives])
    negations: list[int] = []
    blockers: list[tuple[_Alias, ...]] = []
    for position, alias in enumerate(aliases):
        if alias.negated:
            before = tuple(a for a in aliases[:position] if not a.negated)
            negations.append(len(before))
            blockers.append((*before, _Alias(alias.name, alias.internal, False, alias.condition)))
    rule = _UserRule(index, rule_name, positives, tuple(negations), tuple(templates))
    derive_refs = [ref for template in templates for ref in _template_refs(template)]
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
            raise _ValueProblem("each entry of 'all' is an object with exactly one alias")
        ((key, condition),) = entry.items()
        if not isinstance(key, str):
            raise _ValueProblem(f"alias {key!r} is not text")
        negated = key.endswith("$not")
        name = key[:-4] if negated else key
        if key.endswith(("$all", "$any")):
            raise _ValueProblem(f"'{key}': nested $all/$any groups are not supported")
        _check_name(name, "alias")
        if any(alias.name == name for alias in aliases):
            raise _ValueProblem(f"alias '{name}' is used twice")
        if negated and position == 0:
            raise _ValueProblem(f"'{key}': a negated alias cannot come first")
        try:
            parsed = _ConditionParser(positives).condition(condition)
        except _ValueProblem as exc:
            raise _ValueProblem(f"alias '{name}': {exc}") from None
        aliases.append(_Alias(name, _ALIASES[position], negated, parsed))
        if not negated:
            positives.append(name)
    return aliases


def _parse_derive(raw: object, positives: Sequence[str]) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise _ValueProblem("'derive' is a list of fact templates")
    templates = []
    for template in raw:
        if not isinstance(template, Mapping) or not template:
            raise _ValueProblem("a 'derive' template is a non-empty mapping of fields")
        templates.append(_parse_template(template, positives))
    return templates


def _parse_template(value: object, positives: Sequence[str]) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"$ref"}:
            target = value["$ref"]
            if not isinstance(target, str) or "." not in target:
                raise _ValueProblem("$ref takes 'alias.field'")
            alias, path = target.split(".", 1)
            if alias not in positives:
                raise _ValueProblem(
                    f"$ref '{target}': '{alias}' is not a positive alias of this rule "
                    f"(known: {', '.join(positives)})"
                )
            _internal_path(path)
            return _TemplateRef(alias, tuple(path.split(".")))
        result = {}
        for key, item in value.items():
            result[_check_name(key, "field name")] = _parse_template(item, positives)
        return result
    if isinstance(value, list | tuple):
        return [_parse_template(item, positives) for item in value]
    plain = value if value is None or type(value) in _PLAIN else _plain_scalar(value)
    _format_scalar(plain)
    return plain


def _template_refs(template: Any) -> Iterator[_TemplateRef]:
    if isinstance(template, _TemplateRef):
        yield template
    elif isinstance(template, dict):
        for item in template.values():
            yield from _template_refs(item)
    elif isinstance(template, list):
        for item in template:
            yield from _template_refs(item)


def _native_rule(
    rule: _UserRule,
    aliases: Sequence[_Alias],
    blocks: int | None,
    derive_refs: Sequence[_TemplateRef],
    distinct: int,
) -> _NativeRule:
    """A durable rule whose aliases are all positive, each condition one flat $and."""
    internal = {alias.name: alias.internal for alias in aliases}
    # Fields that later aliases join on, or that templates copy, must exist on the alias:
    # durable aborts the whole assertion (error 311) when a join reads a missing field.
    needed: dict[str, dict[str, None]] = {alias.name: {} for alias in aliases}
    for alias in aliases:
        for test in _tests(alias.condition):
            for ref in _refs(test.operand):
                if ref.alias is not None:
                    needed[ref.alias][ref.internal] = None
    for template_ref in derive_refs:
        needed[template_ref.alias][_internal_path(".".join(template_ref.path))] = None
    chains = []
    for alias in aliases:
        items: list[_Condition] = [_test("$eq", _MARK, _Literal(1))]
        items += [_test("$ex", path) for path in needed[alias.name]]
        flat = _flatten(_guard_own_fields(alias.condition))
        joins = [test for test in _tests(alias.condition) if _is_join(test)]
        if joins:
            if any(isinstance(item, _Group) for item in flat):
                raise _ValueProblem(
                    f"alias '{alias.name}': a condition that joins another alias cannot also "
                    "use $or (durable_rules evaluates such a condition wrongly); split the rule"
                )
            first = next(ref.alias for ref in _refs(joins[0].operand) if ref.alias is not None)
            # Always true (every asserted fact has mark 1) and an integer: durable's stored
            # sid and id point into the caller's JSON text (copyMessage skips them).
            flat.append(_test("$eq", _MARK, _FieldRef(first, _MARK, _MARK)))
        items += flat
        slots = (
            2
            + _group_slots(items)
            + sum(1 for item in items if isinstance(item, _Test) and _is_join(item))
        )
        if slots > _MAX_SEQUENCE_LENGTH:
            raise _ValueProblem(
                f"alias '{alias.name}' needs {slots} expression slots in durable_rules, which "
                f"has {_MAX_SEQUENCE_LENGTH}: use fewer joins and $or/$and groups"
            )
        chains.append(items)
    return _NativeRule(rule, _internals(aliases), blocks, internal, tuple(chains), distinct)


def _flatten(condition: _Condition) -> list[_Condition]:
    if isinstance(condition, _Group) and condition.op == "$and":
        return [item for inner in condition.items for item in _flatten(inner)]
    return [condition]


def _guard_own_fields(condition: _Condition) -> _Condition:
    """A ``$m`` reference needs its field to exist, else durable reads an unset result."""
    if isinstance(condition, _Group):
        return _Group(condition.op, tuple(_guard_own_fields(item) for item in condition.items))
    own = [ref.internal for ref in _refs(condition.operand) if ref.alias is None]
    if not own:
        return condition
    guards: list[_Condition] = [_test("$ex", path) for path in dict.fromkeys(own)]
    return _Group("$and", (*guards, condition))


def _group_slots(items: Sequence[_Condition]) -> int:
    return sum(2 + _group_slots(item.items) for item in items if isinstance(item, _Group))


def _condition_json(condition: _Condition, aliases: Mapping[str, str]) -> Any:
    if isinstance(condition, _Group):
        return {condition.op: [_condition_json(item, aliases) for item in condition.items]}
    if condition.operand is None:
        return {condition.op: {condition.internal: 1}}
    return {condition.op: {condition.internal: _operand_json(condition.operand, aliases)}}


def _operand_json(operand: _Operand, aliases: Mapping[str, str]) -> Any:
    if isinstance(operand, _Literal):
        return operand.value
    if isinstance(operand, _FieldRef):
        owner = "$m" if operand.alias is None else aliases[operand.alias]
        return {owner: operand.internal}
    left = _operand_json(operand.left, aliases)
    right = _operand_json(operand.right, aliases)
    if operand.op == "$div":
        # Both sides become doubles (or false for null): C never divides integers (SIGFPE).
        # A literal is written as a double; durable cannot evaluate arithmetic of literals.
        left = float(left) if isinstance(operand.left, _Literal) else _as_double(left)
        right = float(right) if isinstance(operand.right, _Literal) else _as_double(right)
    return {operand.op: {"$l": left, "$r": right}}


def _as_double(operand: Any) -> Any:
    return {"$add": {"$l": operand, "$r": 0.0}}


# ---------------------------------------------------------------------------------------------
# The alpha network durable will build (rete.c createAlpha/findAlpha/linkAlpha), simulated to
# keep it inside the C engine's fixed-size arrays.


class _AlphaNode:
    __slots__ = ("aliases", "branches", "equalities", "not_exists", "others")

    def __init__(self) -> None:
        self.branches: dict[object, _AlphaNode] = {}  # its hash set of conditions
        self.not_exists: dict[object, _AlphaNode] = {}  # its list of $nex and $or ends
        self.equalities: dict[int, list[object]] = {}  # literal $eq values per field hash
        self.others = 0  # other children, any of which a fact may match at once
        self.aliases = 0  # aliases ending here


def _shared_key(value: Scalar) -> object:
    """What durable's compareValue treats as the same literal (null never is)."""
    if value is None:
        return object()
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("double", value)
    return ("string", value)


def _loose_key(value: Scalar) -> object:
    """Equality values one field value may satisfy together: durable compares numbers,
    booleans and numeric text loosely."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return None if value is None else float(value)


def _simulate(condition: _Condition, parent: _AlphaNode) -> _AlphaNode:
    if isinstance(condition, _Group):
        if condition.op == "$and":
            node = parent
            for item in condition.items:
                node = _simulate(item, node)
            return node
        forward = _AlphaNode()
        for item in condition.items:
            end = _simulate(item, parent)
            end.not_exists[object()] = forward
            end.others += 1
        return forward
    field_hash = _fnv1_32(condition.internal)
    operand = condition.operand
    if operand is None or isinstance(operand, _Literal):
        value = operand.value if isinstance(operand, _Literal) else 1
        key: object = (condition.op, field_hash, _shared_key(value))
    else:
        key = object()  # references and expressions are never shared
    children = parent.not_exists if condition.op == "$nex" else parent.branches
    child = children.get(key)
    if child is None:
        child = children[key] = _AlphaNode()
        if condition.op == "$eq" and isinstance(operand, _Literal) and operand.value is not None:
            parent.equalities.setdefault(field_hash, []).append(_loose_key(operand.value))
        else:
            parent.others += 1
    return child


def _pending(node: _AlphaNode, memo: dict[int, int]) -> int:
    """Worst-case growth of durable's alpha stack while a fact is matched below ``node``."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 0  # $or ends share a node (a DAG, never a cycle)
    width = node.others
    for values in node.equalities.values():
        width += max(values.count(value) for value in values)
    children = (*node.branches.values(), *node.not_exists.values())
    deepest = max((_pending(child, memo) for child in children), default=0)
    memo[id(node)] = max(width, width - 1 + deepest) if width else 0
    return memo[id(node)]


def _nodes(node: _AlphaNode, seen: set[int]) -> Iterator[_AlphaNode]:
    if id(node) not in seen:
        seen.add(id(node))
        yield node
        for child in (*node.branches.values(), *node.not_exists.values()):
            yield from _nodes(child, seen)


class _TrieNode:
    """A node of the alpha network as the aliases' test chains share it."""

    __slots__ = ("children", "ends", "entries", "weight")

    def __init__(self, weight: int = 1) -> None:
        self.children: dict[object, _TrieNode] = {}
        self.entries: list[tuple[int, int]] = []  # (chain, position) of the test leading here
        self.ends: list[int] = []  # chains whose last test this is
        self.weight = weight  # durable nodes it stands for (an $or: one per branch)


def _trie_key(item: _Condition) -> object:
    """The identity durable's findAlpha gives a test under a given parent."""
    if isinstance(item, _Test) and (item.operand is None or isinstance(item.operand, _Literal)):
        value = item.operand.value if isinstance(item.operand, _Literal) else 1
        return (item.op, _fnv1_32(item.internal), _shared_key(value))
    return object()  # references, expressions and $or groups are never shared


def _bucket_test(value: int) -> _Test:
    """A test every asserted fact passes (its mark is 1); distinct values, distinct nodes."""
    return _test("$neq", _MARK, _Literal(value))


def _spread(chains: Sequence[list[_Condition]]) -> None:
    """Insert always-true bucket tests so that no alpha node has more than _FAN children and
    no test ends more than _ENDS_PER_TEST aliases. durable evaluates every child of a node a
    fact reaches and keeps the matching ones on a 64-entry stack; with buckets the stack holds
    a few siblings per level instead of every rule's next test."""
    root = _TrieNode()
    for number, chain in enumerate(chains):
        node = root
        for position, item in enumerate(chain):
            key = _trie_key(item)
            child = node.children.get(key)
            if child is None:
                weight = len(item.items) if isinstance(item, _Group) else 1
                child = node.children[key] = _TrieNode(weight)
            child.entries.append((number, position))
            node = child
        node.ends.append(number)
    inserts: dict[int, list[tuple[int, list[_Condition]]]] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        children = list(node.children.values())
        pending.extend(children)
        if len(children) > 1 and sum(child.weight for child in children) > _FAN:
            for digits, child in zip(_bucket_digits(children), children, strict=True):
                tests: list[_Condition] = [_bucket_test(2 + digit) for digit in digits]
                for number, position in child.entries:
                    inserts.setdefault(number, []).append((position, tests))
        if len(node.ends) > _ENDS_PER_TEST:
            for order, number in enumerate(node.ends):
                test = _bucket_test(-1 - order // _ENDS_PER_TEST)
                inserts.setdefault(number, []).append((len(chains[number]), [test]))
    for number, places in inserts.items():
        chain = chains[number]
        for position, tests in sorted(places, key=lambda place: place[0], reverse=True):
            chain[position:position] = tests


def _bucket_digits(children: Sequence[_TrieNode]) -> list[tuple[int, ...]]:
    """Bucket numbers, as base-_FAN digits, for children filled in order up to _FAN each."""
    buckets: list[int] = []
    bucket, load = -1, _FAN
    for child in children:
        if load + child.weight > _FAN:
            bucket, load = bucket + 1, 0
        load += child.weight
        buckets.append(bucket)
    levels = 1
    while _FAN**levels < buckets[-1] + 1:
        levels += 1
    return [tuple((b // _FAN**level) % _FAN for level in reversed(range(levels))) for b in buckets]


def _check_alpha_network(ruleset: str, conditions: Sequence[tuple[str, _Condition]]) -> None:
    root = _AlphaNode()
    for rule_name, condition in conditions:
        end = _simulate(condition, root)
        end.aliases += 1
        if end.aliases > _MAX_ALIASES_PER_CONDITION:
            raise _problem(
                ruleset,
                rule_name,
                f"more than {_MAX_ALIASES_PER_CONDITION} aliases have the same condition "
                "(durable_rules links at most 256 aliases to one condition)",
                "vary the conditions or split the ruleset",
            )
    for node in _nodes(root, set()):
        if len(node.branches) > MAX_BRANCHES_PER_CONDITION:
            raise _problem(
                ruleset,
                None,
                f"{len(node.branches)} different conditions follow the same test; durable_rules "
                f"hangs above 511 and this adapter allows {MAX_BRANCHES_PER_CONDITION}",
                "use fewer alternatives in one $or, or give rules a common first test",
            )
        if len(node.not_exists) > _MAX_NOT_EXISTS_PER_CONDITION:
            raise _problem(
                ruleset,
                None,
                f"{len(node.not_exists)} $nex tests and $or branches follow the same test; "
                f"this adapter allows {_MAX_NOT_EXISTS_PER_CONDITION}",
            )
    depth = _pending(root, {})
    if depth > _MAX_PENDING_CONDITIONS:
        raise _problem(
            ruleset,
            None,
            f"one fact could match {depth} conditions at once; durable_rules tracks at most 64 "
            f"(this adapter allows {_MAX_PENDING_CONDITIONS})",
            "start rules with a more selective common test, or split the ruleset",
        )


# ---------------------------------------------------------------------------------------------
# The engine thread: every C call happens here, one job at a time.

_Job: TypeAlias = tuple[Callable[[], Any], "Future[Any] | None"]


class _EngineThread:
    """One daemon thread per process running jobs in order (started again after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` on the engine thread and return its result or raise its exception."""
        if threading.current_thread() is self._thread:
            return job()
        future: Future[T] = Future()
        self._queue().put((job, future))
        return future.result()

    def post(self, job: Callable[[], object]) -> None:
        """Queue ``job`` without waiting for it (finalizers)."""
        self._queue().put((job, None))

    def _queue(self) -> queue.SimpleQueue[_Job]:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._jobs = queue.SimpleQueue()
                    self._thread = threading.Thread(
                        target=self._loop,
                        args=(self._jobs,),
                        name="alignment-engine-rules",
                        daemon=True,
                    )
                    self._thread.start()
                    self._pid = os.getpid()
        return self._jobs

    @staticmethod
    def _loop(jobs: queue.SimpleQueue[_Job]) -> None:
        while True:
            job, future = jobs.get()
            if future is None:
                with contextlib.suppress(Exception):  # a finalizer has nobody to tell
                    job()
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:
                    future.set_exception(exc)


_engine_thread = _EngineThread()


# ---------------------------------------------------------------------------------------------
# Native rulesets, states and fact ids (engine thread only).


class _IdTable:
    """Fact ids ``0, 1, 2, ...`` whose 32-bit FNV-1 hashes all differ (defect 5); a colliding
    candidate gets a suffix. Shared by all evaluations; it grows to the largest one seen."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.hashes: set[int] = set()
        self.position: dict[str, int] = {}

    def ensure(self, count: int, avoid: set[int]) -> list[str]:
        while len(self.ids) < count:
            position = len(self.ids)
            candidate = str(position)
            attempt = 0
            while (value := _fnv1_32(candidate)) in self.hashes or value in avoid:
                attempt += 1
                candidate = f"{position}-{attempt}"
            self.ids.append(candidate)
            self.hashes.add(value)
            self.position[candidate] = position
        return self.ids


_id_table = _IdTable()


class _NativeRuleset:
    """One C ruleset and its states; a state lives for one evaluation."""

    def __init__(self, compiled: _CompiledRuleset) -> None:
        self.compiled = compiled
        self.handle = self._create()
        self.deleted = False
        self.counter = 0
        self.retired: set[int] = set()  # sid hashes of states that are never deleted
        self.open_state_fact: int | None = None  # hash of the open state's own fact id
        #: Every JSON text given to the open state. durable's copyMessage copies a fact but
        #: leaves its id and sid pointing into the text it was given, so the texts must live
        #: until the state is deleted (else joins and hashes read freed memory).
        self.payloads: list[str] = []

    def _create(self) -> int:
        try:
            return _native.create_ruleset("alignment-engine", self.compiled.text)
        except (_native.error, MemoryError) as exc:
            raise _native_failure(exc, f"ruleset '{self.compiled.name}' was refused") from exc

    def open_state(self) -> tuple[str, int]:
        """A fresh, armed state: its sid and offset."""
        if self.deleted:
            raise RuleError("the rule engine is closed")
        if len(self.retired) >= _MAX_RETIRED_STATES:
            self._rebuild()
        while True:
            self.counter += 1
            sid = f"s{self.counter}"
            sid_hash = _fnv1_32(sid)
            fact_hash = _fnv1_32("sid-" + sid)  # the id durable gives the state's own fact
            if sid_hash not in self.retired and fact_hash not in _id_table.hashes:
                break
        state = f'{{"sid":"{sid}","id":"sid-{sid}","$s":1}}'
        self.payloads = [state]
        try:
            offset = _native.update_state(self.handle, state)
            started = _native.start_action_for_state(self.handle, offset)
            completed = _native.complete_and_start_action(self.handle, offset)
        except (_native.error, MemoryError) as exc:
            self.retired.add(sid_hash)
            raise _native_failure(exc, "could not open a rule engine session") from exc
        if started is None or f'"{_SENTINEL_RULE}"' not in started[1] or completed is not None:
            self.retired.add(sid_hash)  # pragma: no cover - durable always fires the sentinel
            raise RuleError("could not open a rule engine session (the sentinel did not fire)")
        self.open_state_fact = fact_hash
        return sid, offset

    def close_state(self, sid: str) -> None:
        """Delete an armed state: its action context pointers are set (defect 1)."""
        self.open_state_fact = None
        try:
            _native.delete_state(self.handle, sid)
        except (_native.error, MemoryError):  # pragma: no cover - the state exists
            self.retired.add(_fnv1_32(sid))
        self.payloads = []  # a retired state is never read again

    def _rebuild(self) -> None:
        """A new C ruleset; deleteRuleset frees the pools and never reads the states."""
        _native.delete_ruleset(self.handle)
        self.deleted = True  # until a new handle exists: durable reuses handle numbers
        self.handle = self._create()
        self.deleted = False
        self.retired.clear()

    def delete(self) -> None:
        if not self.deleted:
            self.deleted = True
            _native.delete_ruleset(self.handle)


def _drain(handle: int, offset: int) -> list[str]:
    """Every pending action of the state, each completed at once (their JSON texts)."""
    started = _native.start_action_for_state(handle, offset)
    if started is None:
        return []
    messages = [started[1]]
    while (text := _native.complete_and_start_action(handle, offset)) is not None:
        messages.append(text)
    return messages


# ---------------------------------------------------------------------------------------------
# Evaluation.


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


class _Evaluation:
    """One evaluation on the engine thread, in rounds: assert, drain, derive, repeat."""

    def __init__(
        self,
        native: _NativeRuleset,
        facts: Sequence[Mapping[str, Any]],
        fields: list[str],
        max_derived: int,
    ) -> None:
        self.native = native
        self.compiled = native.compiled
        self.facts: list[Mapping[str, Any]] = list(facts)
        self.inputs = len(self.facts)
        self.fields = fields
        self.max_derived = max_derived
        self.known: set[str] = set(fields) if self.compiled.derives else set()
        self.blocked: dict[tuple[int, int], set[tuple[int, ...]]] = {}
        self.accepted: set[_Found] = set()
        self.matches: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []

    def run(self) -> _Outcome:
        sid, offset = self.native.open_state()
        try:
            todo = range(len(self.fields))
            while todo:
                self._assert(sid, todo)
                found = self._decode(_drain(self.native.handle, offset))
                todo = self._derive(found)
        except (_native.error, MemoryError) as exc:
            doing = f"ruleset '{self.compiled.name}' could not be evaluated"
            raise _native_failure(exc, doing, _explain(self.compiled, self.facts)) from exc
        finally:
            self.native.close_state(sid)
            if len(self.facts) >= _TRIM_AFTER_FACTS and _trim_heap is not None:
                _trim_heap()
        self.matches.sort()
        return _Outcome(self.matches, self.facts)

    def _assert(self, sid: str, positions: range) -> None:
        avoid = set() if self.native.open_state_fact is None else {self.native.open_state_fact}
        ids = _id_table.ensure(positions.stop, avoid)
        head = f'{{"sid":"{sid}","{_MARK}":1,"id":"'
        texts = [
            head + ids[p] + '"' + ("," + self.fields[p] if self.fields[p] else "") + "}"
            for p in positions
        ]
        payload = "[" + ",".join(texts) + "]"
        self.native.payloads.append(payload)  # durable keeps pointers into it (id and sid)
        code, _ = _native.assert_facts(self.native.handle, payload)
        if code == 2:  # pragma: no cover - ids are kept collision-free
            raise RuleError("the rule engine dropped a fact as a duplicate (id hash collision)")

    def _decode(self, messages: list[str]) -> list[_Found]:
        """This round's new matches, blocked ones removed, in order."""
        position = _id_table.position
        candidates: list[_Found] = []
        for message in messages:
            for native_name, frames in json.loads(message).items():
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


def _instantiate(template: Any, bound: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(template, _TemplateRef):
        present, value = _field_value(bound[template.alias], template.path)
        if not present:  # pragma: no cover - the alias's condition requires the field
            raise RuleError(f"a matched fact has no field {'.'.join(template.path)}")
        return copy.deepcopy(value)
    if isinstance(template, dict):
        return {key: _instantiate(item, bound) for key, item in template.items()}
    if isinstance(template, list):
        return [_instantiate(item, bound) for item in template]
    return template


def _explain(compiled: _CompiledRuleset, facts: Sequence[Mapping[str, Any]]) -> str | None:
    """A likely cause of durable's errors 311/312: text in arithmetic, objects in joins."""
    for path, rule in compiled.arithmetic_fields:
        for position, fact in enumerate(facts):
            present, value = _field_value(fact, path)
            if present and isinstance(value, str | Mapping | list | tuple):
                return (
                    f"fact {position} has {'.'.join(path)} = {value!r} and rule '{rule}' does "
                    "arithmetic with that field"
                )
    for path, rule in compiled.join_fields:
        for position, fact in enumerate(facts):
            present, value = _field_value(fact, path)
            if present and isinstance(value, Mapping | list | tuple):
                return (
                    f"fact {position} has an object or list in {'.'.join(path)} and rule "
                    f"'{rule}' joins on that field"
                )
    return None


# ---------------------------------------------------------------------------------------------
# The public face.


class RuleEngine:
    """Rulesets compiled for durable_rules; facts are evaluated against one ruleset at a time.

    Thread-safe: evaluations from any thread run one after another on the engine thread.
    ``max_derived_facts`` bounds forward chaining per evaluation.
    """

    def __init__(
        self,
        rulesets: Mapping[str, Mapping[str, Any]],
        *,
        max_derived_facts: int = 10_000,
    ) -> None:
        if not isinstance(rulesets, Mapping) or not rulesets:
            raise RuleError("rulesets must be a non-empty mapping of names to rulesets")
        compiled: dict[str, _CompiledRuleset] = {}
        for name, definition in rulesets.items():
            if not isinstance(name, str) or not name:
                raise RuleError(f"ruleset name {name!r} must be non-empty text")
            compiled[name] = _compile_ruleset(name, definition)
        self._compiled = compiled
        self._max_derived = max_derived_facts
        self._closed = False
        self._native = _engine_thread.run(lambda: _create_native(compiled.values()))
        self._finalizer = weakref.finalize(self, _release, list(self._native.values()))
        self._finalizer.atexit = False

    @property
    def ruleset_names(self) -> tuple[str, ...]:
        return tuple(self._compiled)

    def evaluate(self, ruleset_name: str, facts: Sequence[Mapping[str, Any]]) -> list[Match]:
        """Every firing of the ruleset's rules over ``facts`` and the facts they derive."""
        if self._closed:
            raise RuleError("the rule engine is closed")
        native = self._native.get(ruleset_name)
        if native is None:
            known = ", ".join(self._compiled)
            raise RuleError(f"unknown ruleset '{ruleset_name}'", suggestion=f"known: {known}")
        if isinstance(facts, Mapping | str) or not isinstance(facts, Sequence):
            raise RuleError("facts must be a list of mappings")
        if len(facts) > MAX_FACTS_PER_EVALUATION:
            raise RuleError(
                f"{len(facts)} facts in one evaluation; at most {MAX_FACTS_PER_EVALUATION} "
                "(durable_rules keeps about 8 KB per fact)"
            )
        fields = []
        for position, fact in enumerate(facts):
            try:
                fields.append(_fact_fields(fact))
            except _ValueProblem as exc:
                raise RuleError(f"fact {position}: {exc}", key=f"facts[{position}]") from None
        evaluation = _Evaluation(native, facts, fields, self._max_derived)
        outcome = _engine_thread.run(evaluation.run)
        rules = native.compiled.rules
        everything = outcome.facts
        return [
            Match(
                rules[index].name,
                {
                    a.name: everything[p]
                    for a, p in zip(rules[index].positives, positions, strict=True)
                },
                tuple(cast(dict[str, Any], everything[p]) for p in made),
            )
            for index, positions, made in outcome.matches
        ]

    def close(self) -> None:
        """Free the C rulesets; evaluating afterwards raises RuleError."""
        if not self._closed:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _create_native(compiled: Iterable[_CompiledRuleset]) -> dict[str, _NativeRuleset]:
    created: dict[str, _NativeRuleset] = {}
    try:
        for ruleset in compiled:
            created[ruleset.name] = _NativeRuleset(ruleset)
    except BaseException:
        for native in created.values():
            native.delete()
        raise
    return created


def _release(natives: list[_NativeRuleset]) -> None:
    def delete() -> None:
        for native in natives:
            native.delete()

    _engine_thread.post(delete)
