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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.model.common import did_you_mean

MAX_PROBLEMS_PER_CHECK = 20


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
    """A problem with one row: ``{file}:row {row}: column '{column}': {message}``, the form
    :mod:`alignment_engine.tables` uses (the row is part of ``file``; ``line`` stays None)."""
    text = message if column is None else f"column '{column}': {message}"
    return Problem(message=text, file=f"{file}:row {row}", suggestion=suggestion)


@dataclass
class ProblemCollector:
    """Gathers row problems from several checks, each check capped, then raises them at once."""

    source: TableSource
    problems: list[Problem] = field(default_factory=list)
    _rows: list[int | None] = field(default_factory=list)  # each problem's row, for ordering

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
            order = sorted(
                range(len(self.problems)),
                key=lambda i: (self._rows[i] is None, self._rows[i] or 0),
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
    if not (pd.api.types.is_string_dtype(series.dtype) and series.dtype != object):
        # Mixed cells (a spreadsheet column of numbers and text): every cell as its text.
        cells = series.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        series = cells.where(frame[column].notna(), None)
    stripped = series.str.strip()
    empty = (stripped.isna() | (stripped == "")).to_numpy(dtype=np.bool_)
    result: npt.NDArray[np.object_] = np.array(stripped.to_numpy(dtype=object), dtype=object)
    result[empty] = None
    return result


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
