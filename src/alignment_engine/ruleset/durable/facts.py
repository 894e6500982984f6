"""Facts checked and written as durable_rules JSON: field names renamed around the ones
durable reserves, property counts bounded, and names whose hashes collide refused."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeAlias

import orjson

from alignment_engine.ruleset.durable.ids import RESERVED_HASHES, fnv1_32
from alignment_engine.ruleset.durable.jsontext import (
    PLAIN,
    ValueProblem,
    format_float,
    format_int,
    format_scalar,
    format_string,
)
from alignment_engine.ruleset.durable.limits import MAX_FACT_PROPERTIES

# ---------------------------------------------------------------------------------------------
# Field names. durable owns "id" and "sid" and the adapter owns names starting with "$"; names
# matching _*id or _*sid gain one underscore on the way in (a bijection callers never see).

_SHIFTED_NAME = re.compile(r"_*s?id")
#: Characters JSON would escape: durable hashes names as written, so keep written == raw.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise ValueProblem(f"{what} {name!r} is not text")
    if not name:
        raise ValueProblem(f"{what} is empty")
    if name.startswith("$"):
        raise ValueProblem(f"{what} '{name}' starts with '$', which the rule engine reserves")
    if "." in name:
        raise ValueProblem(f"{what} '{name}' contains '.', which separates nested fields")
    if _ESCAPED.search(name):
        raise ValueProblem(f"{what} {name!r} contains a quote, backslash or control character")
    return name


def _internal_name(name: str) -> str:
    return "_" + name if _SHIFTED_NAME.fullmatch(name) else name


def internal_path(path: object) -> str:
    """A field path ``a.b`` as written for durable; raises ValueProblem."""
    if not isinstance(path, str) or not path:
        raise ValueProblem(f"{path!r} is not a field name")
    return ".".join(_internal_name(check_name(part, "field name")) for part in path.split("."))


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
    fields = sorted((_internal_name(check_name(key, "field name")), key) for key in keys)
    hashes = [fnv1_32(prefix + internal) for internal, _ in fields]
    if len(set(hashes)) != len(hashes) or RESERVED_HASHES.intersection(hashes):
        raise ValueProblem(
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
            raise ValueProblem(
                f"a fact has more than {MAX_FACT_PROPERTIES} fields (nested fields count too)"
            )
        parts = []
        for key, written in plan:
            value = fact[key]
            kind = type(value)
            # The common types first: this loop runs once per field of every fact.
            if kind is str:
                parts.append(written + format_string(value))
            elif kind is float:
                parts.append(written + format_float(value))
            elif kind is int:
                parts.append(written + format_int(value))
            elif kind is dict or (kind not in PLAIN and isinstance(value, Mapping)):
                self.nested = True
                parts.append(written + "{" + self.fields(value, prefix + written[1:-2] + ".") + "}")
            else:
                parts.append(written + self.value(value))
        return ",".join(parts)

    def value(self, value: object) -> str:
        if isinstance(value, list | tuple):
            return "[" + ",".join(self.element(item) for item in value) + "]"
        return format_scalar(value)

    def element(self, value: object) -> str:
        """A list element; a list is one property to durable, so its objects are opaque."""
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueProblem(f"field name {key!r} is not text")
                items.append(f"{format_string(key)}:{self.element(item)}")
            return "{" + ",".join(items) + "}"
        return self.value(value)


def _all_paths(fact: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in fact.items():
        path = prefix + _internal_name(key)
        yield path
        if isinstance(value, Mapping):
            yield from _all_paths(value, path + ".")


#: Floats orjson writes in plain decimal (it uses an exponent from 1e16 up and for the
#: tiniest numbers): inside this range its text is what durable reads correctly.
_PLAIN_FLOATS: Final = (1e-4, 1e15)
#: Strings of at most this many characters fit MAX_STRING_BYTES in any encoding.
_SHORT_TEXT: Final = 16383
_INT64_RANGE: Final = range(-(2**63), 2**63)
_renamed: dict[tuple[Any, ...], bool] = {}


def _fast_fields(fact: dict[str, Any]) -> str | None:
    """A flat fact of short text, true/false and plain numbers written by orjson (a tenth of
    the time); None sends the fact to the careful writer, which also words any refusal."""
    keys = tuple(fact)
    renamed = _renamed.get(keys)
    if renamed is None:
        if len(keys) > MAX_FACT_PROPERTIES:
            return None
        plan = _field_plan("", keys)  # checks the names, and their hashes
        renamed = any(written != f'"{key}":' for key, written in plan)
        if len(_renamed) >= _PLAN_CACHE_SIZE:
            _renamed.clear()
        _renamed[keys] = renamed
    if renamed:
        return None
    low, high = _PLAIN_FLOATS
    for value in fact.values():
        kind = type(value)
        if kind is str:
            if len(value) > _SHORT_TEXT:
                return None
        elif kind is float:
            if not (value == 0 or low <= abs(value) < high):
                return None
        elif kind is int:
            if value not in _INT64_RANGE:
                return None
        elif kind is not bool:
            return None
    try:
        return orjson.dumps(fact, option=orjson.OPT_SORT_KEYS)[1:-1].decode()
    except orjson.JSONEncodeError:  # a lone surrogate: the careful writer says so
        return None


def fact_fields(fact: object) -> str:
    """The written fields of one fact; raises ValueProblem."""
    if type(fact) is dict:
        fast = _fast_fields(fact)
        if fast is not None:
            return fast
    if type(fact) is not dict and not isinstance(fact, Mapping):
        raise ValueProblem(f"a fact is a mapping of fields, not a {type(fact).__name__}")
    writer = _FactWriter()
    written = writer.fields(fact)
    if writer.nested:  # plans check one level at a time; across levels needs the whole fact
        hashes = [fnv1_32(path) for path in _all_paths(fact)]
        if len(set(hashes)) != len(hashes):
            raise ValueProblem("two nested field names collide under durable_rules' hash")
    return written


def field_value(fact: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = fact
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value
