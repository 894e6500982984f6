"""Plain data to a model, with pydantic's errors turned into our located problems.

Pure: the caller says where the data came from (a file, a request member) and, for a file, how
to find the line and column of a key path; :mod:`alignment_engine.loading` does that for YAML.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alignment_engine.collector import collector_paused
from alignment_engine.errors import MAX_PROBLEMS, InputError, Problem
from alignment_engine.model.common import annotation_types, did_you_mean

__all__ = ["Locate", "problems_from_validation", "validated"]

Key = str | int
ModelT = TypeVar("ModelT", bound=BaseModel)
Locate = Callable[[Sequence[Any]], tuple[int | None, int | None]]
"""A key path to the (line, column) where it is written, 1-based, or (None, None)."""


def _keys_at(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """The keys a mapping at ``path`` may have, following the model's field types."""
    candidates: list[Any] = [model]
    for segment in path:
        following: list[Any] = []
        for candidate in candidates:
            for concrete in annotation_types(candidate):
                origin = typing.get_origin(concrete)
                if isinstance(concrete, type) and issubclass(concrete, BaseModel):
                    if isinstance(segment, str):
                        for name, info in concrete.model_fields.items():
                            if segment in (name, info.alias):
                                following.append(info.annotation)
                elif origin in (list, tuple) and isinstance(segment, int):
                    following += [a for a in typing.get_args(concrete) if a is not Ellipsis]
                elif origin is dict and isinstance(segment, str):
                    following.append(typing.get_args(concrete)[1])
        candidates = following
    keys: list[str] = []
    for candidate in candidates:
        for concrete in annotation_types(candidate):
            if isinstance(concrete, type) and issubclass(concrete, BaseModel):
                keys += [info.alias or name for name, info in concrete.model_fields.items()]
    return keys


def _dotted(path: Sequence[Any], data: Any = None) -> str:
    """A key path as users write it in scenarios: ``departments[sales].kpis[sales.x].target``."""
    text = ""
    node = data
    for segment in path:
        if isinstance(segment, int):
            item = node[segment] if isinstance(node, list) and segment < len(node) else None
            label = item.get("id") if isinstance(item, dict) else None
            text += f"[{label}]" if isinstance(label, str) else f"[{segment}]"
            node = item
        else:
            text += f".{segment}" if text else str(segment)
            node = node.get(segment) if isinstance(node, dict) else None
    return text


def _clean_loc(loc: Sequence[Any]) -> tuple[Key, ...]:
    # pydantic adds segments for union members and tagged validators, e.g. 'function-after[...]'
    cleaned: list[Key] = []
    for segment in loc:
        if isinstance(segment, str) and ("[" in segment and "]" in segment and "(" in segment):
            continue
        if segment in ("[key]",):
            continue
        if isinstance(segment, str) and segment in (
            "LevelPoints",
            "list[tuple[float,float]]",
            "list[tuple[Annotated[float, BeforeValidator], Annotated[float, BeforeValidator]]]",
        ):
            continue
        cleaned.append(segment)
    return tuple(cleaned)


def _clip(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def problems_from_validation(
    exc: ValidationError, model: type[BaseModel], data: Any, source: str, locate: Locate
) -> list[Problem]:
    """pydantic's errors as our problems, each located by ``locate`` (a key path -> line and
    column), with the key path as users write it and a suggestion where one exists."""
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    errors = exc.errors(include_url=False)
    for position, error in enumerate(errors):
        if len(problems) >= MAX_PROBLEMS - 1:
            # Locating and suggesting for 200,000 unknown keys took seconds; they are counted.
            rest = len(errors) - position
            problems.append(Problem(f"... and {rest:,} more problems", source))
            break
        context = error.get("ctx") or {}
        if error["type"] == "reference":
            for item in context.get("problems", []):
                path = tuple(item["path"])
                line, column = locate(path)
                message = item["message"]
                for label, where in item.get("related", []):
                    other, _ = locate(tuple(where))
                    if other is not None:
                        message += f"; {label} is at line {other}"
                problems.append(
                    Problem(
                        message,
                        source,
                        line,
                        column,
                        _dotted(path, data),
                        item.get("suggestion"),
                    )
                )
            continue
        loc = _clean_loc(error["loc"])
        if any(isinstance(s, str) and s.startswith(("function-", "tagged-union")) for s in loc):
            loc = tuple(
                s
                for s in loc
                if not (isinstance(s, str) and s.startswith(("function-", "tagged-union")))
            )
        line, column = locate(loc)
        message = error["msg"]
        suggestion = None
        if error["type"] == "extra_forbidden" and loc:
            allowed = _keys_at(model, loc[:-1])
            unknown = str(loc[-1])
            message = f"unknown key '{unknown}'"
            suggestion = did_you_mean(unknown, allowed)
            if suggestion is None and allowed:
                suggestion = "expected one of: " + ", ".join(sorted(allowed))
        elif error["type"] == "missing":
            message = f"missing required key '{loc[-1]}'" if loc else "missing required key"
        elif error["type"] in ("enum", "literal_error"):
            expected = context.get("expected", "")
            given = error.get("input")
            options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",")]
            message = f"{given!r} is not allowed here; expected {expected}"
            suggestion = did_you_mean(str(given), [o for o in options if o])
        elif error["type"] == "string_pattern_mismatch" and "\\x00" in str(context.get("pattern")):
            message = f"{_clip(error.get('input'))} is not an id"
            suggestion = "ids have no spaces, brackets or control characters"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        fingerprint = (loc, message)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        problems.append(
            Problem(message, source, line, column, _dotted(loc, data) or None, suggestion)
        )
    return problems


def validated(model: type[ModelT], data: Any, source: str, locate: Locate | None = None) -> ModelT:
    """Validate plain data against a model; every problem becomes an InputError, located by
    ``locate`` where the data came from a file."""
    try:
        with collector_paused():
            return model.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, model, data, source, locate or _nowhere)
        raise InputError(problems=problems) from None


def _nowhere(path: Sequence[Any]) -> tuple[int | None, int | None]:
    return None, None
