"""RuleErrors for what durable_rules refuses or fails at, said in the user's terms."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from alignment_engine.errors import RuleError
from alignment_engine.ruleset.durable.facts import field_value

FieldRules = Sequence[tuple[tuple[str, ...], str]]  # (field path, rule id)


def rule_problem(
    ruleset: str, rule: str | None, message: str, suggestion: str | None = None
) -> RuleError:
    key = ruleset if rule is None else f"{ruleset}.{rule}"
    return RuleError(message, key=key, suggestion=suggestion)


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


def native_failure(exc: BaseException, doing: str, hint: str | None = None) -> RuleError:
    """Our error for a failed C call (the C extension's ``error`` or MemoryError)."""
    code = _error_code(exc)
    if isinstance(exc, MemoryError):
        reason = "durable_rules ran out of memory"
    elif code is not None:
        reason = _NATIVE_ERRORS.get(code, f"durable_rules failed with error code {code}")
    else:
        reason = f"durable_rules failed: {exc}"
    return RuleError(f"{doing}: {reason}", suggestion=hint)


def explain_failure(
    arithmetic_fields: FieldRules, join_fields: FieldRules, facts: Sequence[Mapping[str, Any]]
) -> str | None:
    """A likely cause of durable's errors 311/312: text in arithmetic, objects in joins (the
    compiled ruleset's fields that rules compute with, and that they join on)."""
    for path, rule in arithmetic_fields:
        for position, fact in enumerate(facts):
            present, value = field_value(fact, path)
            if present and isinstance(value, str | Mapping | list | tuple):
                return (
                    f"fact {position} has {'.'.join(path)} = {value!r} and rule '{rule}' does "
                    "arithmetic with that field"
                )
    for path, rule in join_fields:
        for position, fact in enumerate(facts):
            present, value = field_value(fact, path)
            if present and isinstance(value, Mapping | list | tuple):
                return (
                    f"fact {position} has an object or list in {'.'.join(path)} and rule "
                    f"'{rule}' joins on that field"
                )
    return None
