"""Shared building blocks of the document models: strict config, ids, suggestions."""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError


class Document(BaseModel):
    """Base of every model read from a file: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s\[\]\x00-\x1f\x7f]+$")]
"""An identifier: any language, no whitespace, brackets (they address ids in scenario paths) or
control characters (a NUL cannot be stored in PostgreSQL)."""


def _parse_number(value: Any) -> Any:
    """Accept ``"40%"`` as 0.4; reject NaN and infinities (also written as text), which no
    plan or policy means."""
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        percent = text.endswith("%")
        try:
            number = float(text[:-1] if percent else text)
        except ValueError:
            if percent:
                raise PydanticCustomError(
                    "number",
                    "expected a number or a percentage like '40%', got {value}",
                    {"value": repr(value)},  # pydantic fills in {value}, not {value!r}
                ) from None
            return value  # not a number at all: the field's own validation says so
        # Decimal: "99.9%" is 0.999, not 99.9 / 100 = 0.9990000000000001.
        value = float(Decimal(text[:-1]) / 100) if percent else number
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError(
            "finite_number", "expected a finite number, got {value}", {"value": value}
        )
    return value


Number = Annotated[float, BeforeValidator(_parse_number)]

_APPLIES_TO = re.compile(r"^(all|company|department:[^\s]+|kpi:[^\s]+)$")


def _applies_to(value: str) -> str:
    if not _APPLIES_TO.match(value):
        raise ValueError(
            f"applies_to must be all, company, department:<id> or kpi:<id>; got {value!r}"
        )
    return value


AppliesTo = Annotated[str, AfterValidator(_applies_to)]
"""What a gate's or decision table's effect changes: ``all``, ``company``,
``department:<id>`` or ``kpi:<id>``."""


@dataclass(frozen=True)
class ReferenceProblem:
    """A broken cross-reference, located by its key path inside the document."""

    path: tuple[str | int, ...]
    message: str
    suggestion: str | None = None
    # Other places the problem involves, each (what it is, key path): "row 2" of a table.
    related: tuple[tuple[str, tuple[str | int, ...]], ...] = ()


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean" hint from the closest choices, or None when nothing is close. The word
    itself is never suggested (a key valid elsewhere but not here: "did you mean 'actuals'?"
    for 'actuals' helped nobody)."""
    options = sorted(set(choices) - {word})
    same_letters = [o for o in options if o.casefold() == word.casefold()]
    if same_letters:  # 'IT' for 'it': no difflib ratio sees these as close
        return f"did you mean '{same_letters[0]}'?"
    by_folded: dict[str, str] = {}
    for option in options:
        by_folded.setdefault(option.casefold(), option)
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{by_folded[close[0]]}'?"
    return None


def raise_reference_problems(problems: Sequence[ReferenceProblem]) -> None:
    """Report all broken references as one validation error; the loader locates each one."""
    if not problems:
        return
    summary = "; ".join(
        f"{'.'.join(str(p) for p in problem.path)}: {problem.message}" for problem in problems
    )
    raise PydanticCustomError(
        "reference",
        "{summary}",
        {
            "summary": summary,
            "problems": [
                {
                    "path": list(p.path),
                    "message": p.message,
                    "suggestion": p.suggestion,
                    "related": [[label, list(where)] for label, where in p.related],
                }
                for p in problems
            ],
        },
    )


def duplicate_ids(
    items: Sequence[Any], path: tuple[str | int, ...], seen: dict[str, tuple[str | int, ...]]
) -> list[ReferenceProblem]:
    """Problems for ids already seen (``seen`` maps id -> where it was first defined)."""
    problems = []
    for index, item in enumerate(items):
        item_path = (*path, index, "id")
        if item.id in seen:
            first = ".".join(str(p) for p in seen[item.id])
            problems.append(
                ReferenceProblem(item_path, f"duplicate id '{item.id}' (first defined at {first})")
            )
        else:
            seen[item.id] = item_path
    return problems


def annotation_types(annotation: Any) -> list[Any]:
    """The concrete types a field annotation may hold (Optional, Union, Annotated stripped):
    what walking a model by key path needs, for error locations and scenario overrides."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return annotation_types(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                found += annotation_types(arg)
        return found
    return [annotation]
