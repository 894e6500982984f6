"""Locating problems in input tables: which file, which row, which column.

The loader hands over pandas DataFrames with ``attrs["source"]`` (e.g. ``"actuals.csv"``) and
``attrs["row_offset"]`` (the file row of the frame's first position: 2 for a CSV with a header
row). Tables built in code (or from an HTTP request) have neither; their rows are then numbered
from 1 and named after the table ("actuals", "employees").

A problem with one row is located the way :mod:`alignment_engine.tables` (the file reader)
locates it, so every message about a cell reads alike whichever layer found it:
``actuals.csv:row 12: column 'kpi': ...`` (see :func:`row_problem`).

Checks are vectorised: they find the bad rows with array operations and only then build messages,
at most :data:`MAX_PROBLEMS_PER_CHECK` per check, so a million bad rows cost one summary line, not
a million messages.

Tables of at most :data:`SMALL_TABLE_ROWS` rows (an HTTP request's) take plain Python paths in
the few helpers where pandas' fixed cost per call (tens of microseconds) dwarfs the work; the
results are the same either way, and a test holds both paths to that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.model.common import did_you_mean

MAX_PROBLEMS_PER_CHECK = 20
SMALL_TABLE_ROWS = 512


@dataclass(frozen=True)
class TableSource:
    name: str
    row_offset: int

    @classmethod
    def of(cls, frame: pd.DataFrame, default_name: str) -> TableSource:
        name = frame.attrs.get("source")
        offset = frame.attrs.get("row_offset", 1)
        return cls(
            name=str(name) if name else default_name,
            row_offset=int(offset) if isinstance(offset, int | np.integer) else 1,
        )

    def line(self, position: int) -> int:
        return int(position) + self.row_offset


def row_problem(
    file: str, row: int, column: str | None, message: str, suggestion: str | None = None
) -> Problem:
    """A problem with one row, rendered ``{file}:row {row}: column '{column}': {message}``."""
    return Problem(message=message, file=file, key=column, suggestion=suggestion, row=row)


@dataclass
class ProblemCollector:
    """Gathers row problems from several checks, each check capped, then raises them at once."""

    source: TableSource
    problems: list[Problem] = field(default_factory=list)
    _rows: list[int | None] = field(default_factory=list)  # each problem's row, for ordering
    # Within a row, problems are listed in this order of columns (else in the order found).
    column_order: tuple[str, ...] = ()

    def add(
        self,
        position: int | None,
        column: str | None,
        message: str,
        suggestion: str | None = None,
    ) -> None:
        """A problem at row ``position`` (0-based), or about the whole table when None."""
        if position is None:
            self._rows.append(None)
            self.problems.append(
                Problem(message=message, file=self.source.name, key=column, suggestion=suggestion)
            )
            return
        row = self.source.line(position)
        self._rows.append(row)
        self.problems.append(row_problem(self.source.name, row, column, message, suggestion))

    def add_rows(
        self,
        bad: npt.NDArray[np.bool_],
        column: str | None,
        describe: Callable[[int], tuple[str, str | None]],
    ) -> None:
        """One problem per bad row (``describe(position) -> (message, suggestion)``), capped."""
        positions = np.flatnonzero(bad)
        for position in positions[:MAX_PROBLEMS_PER_CHECK]:
            message, suggestion = describe(int(position))
            self.add(int(position), column, message, suggestion)
        hidden = positions.size - MAX_PROBLEMS_PER_CHECK
        if hidden > 0:
            self.add(None, column, f"... and {hidden} more rows with the same kind of problem")

    def raise_if_any(self, error: type[InputError] = InputError) -> None:
        """Raise every problem found, in row order (summary lines without a row last)."""
        if self.problems:
            rank = {column: position for position, column in enumerate(self.column_order)}
            order = sorted(
                range(len(self.problems)),
                key=lambda i: (
                    self._rows[i] is None,
                    self._rows[i] or 0,
                    rank.get(self.problems[i].key or "", len(rank)),
                ),
            )
            raise error(problems=[self.problems[i] for i in order])


def require_columns(frame: pd.DataFrame, source: TableSource, required: Sequence[str]) -> None:
    """Raise InputError naming every missing column (with a suggestion from the ones present)."""
    present = [str(c) for c in frame.columns]
    collector = ProblemCollector(source)
    for column in required:
        if column not in present:
            collector.add(
                None,
                column,
                f"missing column '{column}' (columns found: {', '.join(present) or 'none'})",
                did_you_mean(column, present),
            )
    collector.raise_if_any()


def text_column(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    """A column as stripped Python strings, None where empty. Whole-number floats print without
    '.0' (an id column with a blank cell is read as float by pandas)."""
    series = frame[column]
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers))
        texts = pd.Series(numbers.astype(str), dtype=object)
        texts[whole] = numbers[whole].astype(np.int64).astype(str)
        texts[np.isnan(numbers)] = None
        return texts.to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        texts = series.astype(str).astype(object).where(series.notna(), None)
        return texts.to_numpy(dtype=object)
    is_text = pd.api.types.is_string_dtype(series.dtype) and series.dtype != object
    if is_text and len(series) <= SMALL_TABLE_ROWS:
        stripped_cells = [
            (v.strip() or None) if isinstance(v, str) else None for v in series.tolist()
        ]
        return np.array(stripped_cells, dtype=object)
    if not is_text:
        # Mixed cells (a spreadsheet column of numbers and text): every cell as its text.
        cells = series.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        series = cells.where(frame[column].notna(), None)
    stripped = series.str.strip()
    empty = (stripped.isna() | (stripped == "")).to_numpy(dtype=np.bool_)
    result: npt.NDArray[np.object_] = np.array(stripped.to_numpy(dtype=object), dtype=object)
    result[empty] = None
    return result


def first_positions(values: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
    """For each position, the first position holding the same value (None counts as a value)."""
    if len(values) <= SMALL_TABLE_ROWS:
        first: dict[object, int] = {}
        return np.array([first.setdefault(v, i) for i, v in enumerate(values)], dtype=np.int64)
    positions = pd.Series(np.arange(len(values), dtype=np.int64))
    grouped = positions.groupby(pd.Series(values, dtype=object), sort=False, dropna=False)
    return grouped.transform("min").to_numpy(dtype=np.int64)


def is_in(values: npt.NDArray[np.object_], known: Iterable[object]) -> npt.NDArray[np.bool_]:
    """Which values are in ``known``."""
    if len(values) <= SMALL_TABLE_ROWS:
        members = set(known)
        return np.array([v in members for v in values], dtype=np.bool_)
    return pd.Series(values, dtype=object).isin(list(known)).to_numpy(dtype=np.bool_)


def looked_up(
    values: npt.NDArray[np.object_], table: Mapping[Any, object]
) -> npt.NDArray[np.object_]:
    """Each value's entry in ``table``, None where it has none."""
    if len(values) <= SMALL_TABLE_ROWS:
        return np.array([table.get(v) for v in values], dtype=object)
    mapped = pd.Series(values, dtype=object).map(table)
    return mapped.astype(object).where(mapped.notna(), None).to_numpy(dtype=object)


def codes_of(values: npt.NDArray[np.object_], known: Sequence[str]) -> npt.NDArray[np.int64]:
    """Each value's position in ``known`` (the first, if repeated), -1 where it is not there."""
    if len(values) <= SMALL_TABLE_ROWS:
        index: dict[object, int] = {}
        for position, name in enumerate(known):
            index.setdefault(name, position)
        return np.array([index.get(v, -1) for v in values], dtype=np.int64)
    table = pd.Index(list(known), dtype=object)
    return table.get_indexer(pd.Index(values, dtype=object)).astype(np.int64)


def numeric_column(
    frame: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(values, empty, not_a_number): NaN where empty or unreadable, plus which was which."""
    series = frame[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        values = np.full(len(series), np.nan)
        return values, np.zeros(len(series), dtype=np.bool_), np.ones(len(series), dtype=np.bool_)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
        return values, empty, np.zeros(len(series), dtype=np.bool_)
    texts = series.astype(object).where(series.notna(), None)
    stripped = texts.map(lambda v: v.strip() if isinstance(v, str) else v)
    empty = stripped.map(lambda v: v is None or v == "").to_numpy(dtype=np.bool_)
    parsed = pd.to_numeric(stripped.where(~empty, None), errors="coerce")
    values = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    not_a_number = np.isnan(values) & ~empty
    return values, empty, not_a_number


def suggestion_for(word: str, choices: Iterable[str]) -> str | None:
    return did_you_mean(word, choices)
