"""Values written as JSON in the form durable_rules' parser reads correctly (defect 6 in
:mod:`alignment_engine.ruleset.durable.engine`): floats in plain decimal, finite numbers only,
integers within int64, strings within the engine's length limit."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Final, TypeAlias, cast

from alignment_engine.ruleset.durable.limits import INT64_MAX, INT64_MIN, MAX_STRING_BYTES

Scalar: TypeAlias = str | int | float | bool | None
PLAIN: Final = (str, int, float, bool)


# ---------------------------------------------------------------------------------------------
# JSON writing. durable's parser refuses exponents without a fraction, Infinity and NaN, and
# saturates integers beyond int64, so nothing reaches it that json.dumps wrote.


class ValueProblem(Exception):
    """A value or name the engine cannot take; the caller says where it was found."""


def format_float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueProblem(f"{value!r} is not a finite number (NaN and infinities are refused)")
    text = repr(value)  # the shortest text that reads back to the same double
    if "e" in text:
        text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def format_int(value: int) -> str:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueProblem(f"{value} does not fit in a 64-bit integer")
    return str(value)


def format_string(value: str) -> str:
    text = encode_basestring(value)
    if value.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ValueProblem("text is not valid Unicode (it holds a lone surrogate)") from exc
    if size > MAX_STRING_BYTES:
        raise ValueProblem(f"text of {size} bytes is longer than {MAX_STRING_BYTES}")
    return text


def format_scalar(value: object) -> str:
    kind = type(value)
    if kind is str:
        return format_string(cast(str, value))
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return format_int(cast(int, value))
    if kind is float:
        return format_float(cast(float, value))
    if value is None:
        return "null"
    return format_scalar(plain_scalar(value))


def plain_scalar(value: object) -> Scalar:
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
            raise ValueProblem(f"{value!r} is not a finite number")
        return float(value)
    raise ValueProblem(
        f"a {type(value).__name__} is not a value the rule engine takes "
        "(use text, numbers, true/false, null, lists and objects)"
    )


def write_json(value: object) -> str:
    """A JSON-like value in the form durable parses (used for rulesets)."""
    if isinstance(value, Mapping):
        items = (f"{format_string(str(key))}:{write_json(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(write_json(item) for item in value) + "]"
    return format_scalar(value)
