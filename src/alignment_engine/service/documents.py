"""Request members -> the engine's inputs, with every problem located by JSON path.

Documents (plan, policy, scenario) are validated by the same loader as files
(:func:`~alignment_engine.loading.model_from_data`), so an HTTP client gets the same messages and
"did you mean" suggestions as the CLI. The loader locates problems by line and column; for JSON
we give every value of the document an ordinal as its "line", which maps a problem back to the
exact JSON path of the value it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from alignment_engine import Plan, Policy, Scenario
from alignment_engine.errors import InputError, Problem
from alignment_engine.loading import LoadedYaml, model_from_data
from alignment_engine.tables import (
    ACTUALS,
    ADJUSTMENTS,
    EMPLOYEES,
    FX,
    HISTORY,
    TableSpec,
    table_from_records,
)

__all__ = [
    "DOCUMENT_MODELS",
    "actuals_table",
    "document_from_json",
    "document_problems",
    "employees_table",
    "json_path",
]

DOCUMENT_MODELS: dict[str, type[BaseModel]] = {"plan": Plan, "policy": Policy, "scenario": Scenario}

ModelT = TypeVar("ModelT", bound=BaseModel)
_Path = tuple[str | int, ...]
_MISSING = re.compile(r"^missing required key '(.+)'$")
# A problem naming a second place ("row 2 is at line 17"): in a request member the "line" is
# the ordinal of a value, which the client knows as a JSON path.
_RELATED_LINE = re.compile(r" is at line (\d+)")
_PLAIN_KEY = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def json_path(segments: Iterable[Any]) -> str:
    """``("departments", 0, "kpis", 1, "target")`` -> ``departments[0].kpis[1].target``.

    Keys that are not plain words are quoted: ``allocation["north.east"]``.
    """
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif isinstance(segment, str) and segment and set(segment) <= _PLAIN_KEY:
            text += f".{segment}" if text else segment
        else:
            quoted = str(segment).replace("\\", "\\\\").replace('"', '\\"')
            text += f'["{quoted}"]'
    return text


def _ordinals(data: Any) -> tuple[dict[_Path, tuple[int, int]], list[_Path]]:
    """Every path in ``data``, numbered from 1 (as if each value sat on its own line)."""
    positions: dict[_Path, tuple[int, int]] = {}
    paths: list[_Path] = []
    stack: list[tuple[_Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        paths.append(path)
        positions[path] = (len(paths), 1)
        if isinstance(value, Mapping):
            stack += [((*path, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*path, i), v) for i, v in enumerate(value)]
    return positions, paths


def _validated(model: type[ModelT], member: str, data: Any) -> ModelT:
    positions, paths = _ordinals(data)
    loaded = LoadedYaml(data=data, source=member, positions=positions)
    try:
        return model_from_data(model, loaded)
    except InputError as exc:
        problems = []
        for problem in exc.problems:
            where = paths[problem.line - 1] if problem.line else ()
            message = _RELATED_LINE.sub(
                lambda found: f" is at {member}.{json_path(paths[int(found[1]) - 1])}",
                problem.message,
            )
            missing = _MISSING.match(problem.message)
            if missing and (not where or where[-1] != missing[1]):
                where = (*where, missing[1])  # point at the key that should be there
            problems.append(
                Problem(
                    message,
                    member,
                    None,
                    None,
                    json_path(where) or None,
                    problem.suggestion,
                )
            )
        raise InputError(problems=problems) from None


def document_problems(member: str, data: Any) -> list[Problem]:
    """Why ``data`` is not a valid ``member`` document (plan, policy, scenario); [] if it is."""
    try:
        _validated(DOCUMENT_MODELS[member], member, data)
    except InputError as exc:
        return exc.problems
    return []


def document_from_json(model: type[ModelT], member: str, data: Any) -> ModelT:
    """A document given as JSON (a request member, or a stored version's content)."""
    return _validated(model, member, data)


def _records(rows: Sequence[BaseModel]) -> list[dict[str, object]]:
    records = []
    for row in rows:
        record: dict[str, object] = {}
        for key, value in row.model_dump(exclude_none=True).items():
            record[key] = value.isoformat() if isinstance(value, date) else value
        records.append(record)
    return records


def _typed_rows(rows: Sequence[BaseModel], spec: TableSpec, source: str) -> pd.DataFrame | None:
    """The table :func:`~alignment_engine.tables.table_from_records` builds, made directly from
    rows the API models have already typed (no text round trip, one DataFrame built at the end:
    a request's few rows cost microseconds, not the milliseconds of pandas calls per column).
    None when a row needs the loader's own checks (a blank required cell, a missing column
    group): the loader then reports it. A test keeps the two equal, column types included."""
    if not rows:
        return None
    cells = {column: [getattr(row, column, None) for row in rows] for column in spec.columns}
    given = {column for column, values in cells.items() if any(v is not None for v in values)}
    for column in spec.only_when_given:
        if column not in given:
            del cells[column]
    if any(c not in given for c in spec.required):
        return None
    if spec.one_of and not any(all(c in given for c in group) for group in spec.one_of):
        return None
    result: dict[str, object] = {}
    for column, values in cells.items():
        default = spec.defaults.get(column)
        fill = float(default) if isinstance(default, int | float) else np.nan
        if column in spec.numbers:
            result[column] = np.array([fill if v is None else v for v in values], dtype=float)
        elif column in spec.dates and column not in given:
            result[column] = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
        elif column in spec.dates:
            texts = [v.isoformat() if isinstance(v, date) else None for v in values]
            result[column] = pd.to_datetime(
                pd.Series(texts, dtype=object), errors="coerce", format="%Y-%m-%d"
            )
        else:
            text = ["" if v is None else str(v).strip() for v in values]
            if column in spec.required and "" in text:
                return None
            result[column] = np.array(text, dtype=object)
    for column in spec.carried:  # only when some row gives it, as the file loader does
        carried = [getattr(row, column, None) for row in rows]
        if any(v is not None for v in carried):
            result[column] = np.array(
                ["" if v is None else str(v).strip() for v in carried], dtype=object
            )
    typed = pd.DataFrame(result)
    typed.attrs["source"] = source
    typed.attrs["row_offset"] = 1
    return typed


def _table(rows: Sequence[BaseModel], spec: TableSpec, source: str) -> pd.DataFrame:
    typed = _typed_rows(rows, spec, source)
    return typed if typed is not None else table_from_records(_records(rows), spec, source)


def actuals_table(rows: Sequence[BaseModel]) -> pd.DataFrame:
    """Actuals rows as the table the engine reads from a file (same checks, same messages)."""
    return _table(rows, ACTUALS, "actuals")


def employees_table(rows: Sequence[BaseModel]) -> pd.DataFrame:
    return _table(rows, EMPLOYEES, "employees")


def adjustments_table(rows: Sequence[BaseModel]) -> pd.DataFrame:
    return _table(rows, ADJUSTMENTS, "adjustments")


def fx_table(rows: Sequence[BaseModel]) -> pd.DataFrame:
    return _table(rows, FX, "fx")


def history_table(rows: Sequence[BaseModel]) -> pd.DataFrame:
    """History rows as the table ``fit``/``optimise --history`` read from a file."""
    return _table(rows, HISTORY, "history")
