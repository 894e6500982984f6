"""Tables (actuals, employees, history) from CSV, Parquet or XLSX, with row-level errors.

Cells are read as text and typed column by column (vectorised), so a bad cell is named with
its row and column: ``actuals.csv:row 7: column 'actual': not a number 'abc'``.
Rows are numbered as a person sees them in the file: the header is row 1 in CSV and XLSX.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignment_engine.errors import InputError, Problem
from alignment_engine.loading import regular_file
from alignment_engine.model import did_you_mean

__all__ = [
    "ACTUALS",
    "ADJUSTMENTS",
    "EMPLOYEES",
    "FX",
    "HISTORY",
    "HISTORY_ALLOCATIONS",
    "TableSpec",
    "complete_columns",
    "history_tables",
    "read_history",
    "read_table",
    "split_history",
    "table_from_records",
    "table_from_text",
]

PERIOD_PATTERN = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"
THOUSANDS_PATTERN = r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?"
MAX_REPORTED = 20


@dataclass(frozen=True)
class TableSpec:
    """The columns a table kind has and how each is typed."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    numbers: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    periods: frozenset[str] = frozenset()
    # Groups of columns of which one complete group must be present (actuals: kpi+actual or
    # measure+value).
    one_of: tuple[tuple[str, ...], ...] = ()
    defaults: dict[str, object] = field(default_factory=dict)
    # Text columns carried through to the outputs when present (cost centre, grade), and a
    # prefix for a company's own (``x_region``); absent, they are not added, so a table
    # without them stays exactly what it was (its stored bytes and the run hash with them).
    carried: tuple[str, ...] = ()
    carried_prefix: str | None = None
    # Known columns that are not added when absent (for the same reason as carried ones).
    only_when_given: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        extra = tuple(c for group in self.one_of for c in group)
        return self.required + extra + self.optional

    def is_carried(self, column: str) -> bool:
        return column in self.carried or bool(
            self.carried_prefix and column.startswith(self.carried_prefix)
        )

    def carried_in(self, columns: Iterable[str]) -> list[str]:
        """The carried columns among ``columns``: the named ones in their declared order, then
        the prefixed ones in the order given (one order, whatever order a file has them in)."""
        present = [c for c in columns if c not in self.columns and self.is_carried(c)]
        named = [c for c in self.carried if c in present]
        return named + [c for c in present if c not in self.carried]


ACTUALS = TableSpec(
    name="actuals",
    required=("period", "scope"),
    one_of=(("kpi", "actual"), ("measure", "value")),
    numbers=frozenset({"actual", "value"}),
    periods=frozenset({"period"}),
)
EMPLOYEES = TableSpec(
    name="employees",
    required=("employee_id", "department"),
    # The target bonus as an amount, or as a percentage of a salary.
    one_of=(("target_bonus",), ("salary", "target_bonus_percent")),
    optional=("individual_score", "start_date", "end_date", "currency", "name"),
    numbers=frozenset({"target_bonus", "salary", "target_bonus_percent", "individual_score"}),
    only_when_given=("salary", "target_bonus_percent"),
    dates=frozenset({"start_date", "end_date"}),
    defaults={"individual_score": 1.0},
    carried=("cost_centre", "grade"),
    carried_prefix="x_",
)
ADJUSTMENTS = TableSpec(
    name="adjustments",
    required=("employee_id", "amount", "reason"),
    optional=("note",),
    # Read as text: an amount must be exact in cents, which a float may not say.
)
FX = TableSpec(
    name="fx",
    required=("period", "currency", "rate"),
    numbers=frozenset({"rate"}),
    periods=frozenset({"period"}),
)
HISTORY_ALLOCATIONS = TableSpec(
    name="history allocations",
    required=("period", "department", "resource", "amount"),
    numbers=frozenset({"amount"}),
    periods=frozenset({"period"}),
)
DISTRIBUTIONS = TableSpec(
    name="distributions",
    required=("kpi", "distribution"),
    optional=("mean", "sd", "low", "mode", "high"),
    numbers=frozenset({"mean", "sd", "low", "mode", "high"}),
)


def _read_csv(path: Path, spec: TableSpec, source: str) -> pd.DataFrame:
    """Text columns as text; number columns parsed by pandas' C parser (ten times faster than
    converting text), falling back to text for a column that holds something else, so that
    ``_typed`` can name the bad cells."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig", skipinitialspace=True)
    names = [str(c) for c in header.columns]
    if len(names) == 1 and ";" in names[0]:  # what a spreadsheet in a decimal-comma locale saves
        raise InputError(
            f"this file is separated by ';', not ',' (header {names[0]!r})",
            file=source,
            line=1,
            suggestion='save it as "CSV UTF-8 (comma delimited)" with decimal points, e.g. 10.5',
        )
    text_columns = {str(c): str for c in header.columns if str(c).strip() not in spec.numbers}
    return pd.read_csv(
        path,
        dtype=text_columns,
        keep_default_na=False,
        na_values={str(c): [""] for c in header.columns if str(c).strip() in spec.numbers},
        encoding="utf-8-sig",
        skipinitialspace=True,
    )


_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")


def _read_raw(path: Path, source: str, spec: TableSpec) -> tuple[pd.DataFrame, int]:
    """The file as text columns, and the file row number of the first data row."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ""):
            raw = path.read_bytes()
            try:
                raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                raise InputError(
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                    file=source,
                    line=line,
                    suggestion="save the file as UTF-8 CSV",
                ) from None
            return _read_csv(path, spec, source), 2
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            return frame.astype(object).where(frame.notna(), "").astype(str), 1
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
            return frame, 2
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=source) from None
    except pd.errors.ParserError as exc:
        found = _FIELD_COUNT.search(str(exc))
        if found is None:
            raise InputError(f"cannot read as a CSV table: {exc}", file=source) from None
        expected, line, saw = (int(v) for v in found.groups())
        raise InputError(
            f"row {line} has {saw} fields where the header names {expected} columns",
            file=source,
            line=line,
            suggestion="a value with a comma in it (a decimal comma like 10,5, or a name) must "
            'be quoted ("10,5") or written with a point (10.5)',
        ) from None
    except (ValueError, OSError, KeyError) as exc:
        raise InputError(
            f"cannot read as a {suffix.lstrip('.').upper()} table: {exc}", file=source
        ) from None
    raise InputError(
        f"unsupported table format '{suffix}'",
        file=source,
        suggestion="use .csv, .parquet or .xlsx",
    )


def _check_columns(frame: pd.DataFrame, spec: TableSpec, source: str) -> list[str]:
    columns = [str(c).strip() for c in frame.columns]
    problems = []
    known = set(spec.columns)
    for column in columns:
        if column not in known and not spec.is_carried(column):
            problems.append(
                Problem(
                    f"unknown column '{column}' in {spec.name}",
                    source,
                    1,
                    None,
                    column,
                    did_you_mean(column, [*known, *spec.carried])
                    or "expected: "
                    + ", ".join([*spec.columns, *spec.carried])
                    + (
                        f", or your own as {spec.carried_prefix}NAME" if spec.carried_prefix else ""
                    ),
                )
            )
    for column in spec.required:
        if column not in columns:
            problems.append(
                Problem(
                    f"missing column '{column}' ({spec.name} need {', '.join(spec.required)})",
                    source,
                    1,
                    None,
                    column,
                )
            )
    if spec.one_of:
        complete = [g for g in spec.one_of if all(c in columns for c in g)]
        if not complete:
            groups = " or ".join("+".join(g) for g in spec.one_of)
            problems.append(Problem(f"{spec.name} need the columns {groups}", source, 1))
    if problems:
        raise InputError(problems=problems)
    return columns


def _typed(frame: pd.DataFrame, spec: TableSpec, source: str, first_row: int) -> pd.DataFrame:
    """Convert text columns to their types, naming every bad cell (up to a limit)."""
    problems: list[Problem] = []
    rows = np.arange(len(frame)) + first_row

    def report(mask: np.ndarray, column: str, what: str) -> None:
        for index in np.flatnonzero(mask)[:MAX_REPORTED]:
            value = frame[column].iloc[index]
            if isinstance(value, np.generic):  # inf, not np.float64(inf)
                value = value.item()
            hint = None
            if isinstance(value, str) and _DECIMAL_COMMA.fullmatch(value.strip()):
                hint = f"looks like a decimal comma: write {value.strip().replace(',', '.')}"
            problems.append(
                Problem(
                    f"{what} {value!r}", source, key=column, suggestion=hint, row=int(rows[index])
                )
            )

    result: dict[str, object] = {}
    for column in frame.columns:
        if column in spec.numbers and pd.api.types.is_numeric_dtype(frame[column].dtype):
            values = frame[column].to_numpy(dtype=float)
            report(np.isinf(values), column, "not a number")
            result[column] = values
            if column in spec.required:
                report(np.isnan(values), column, "is empty:")
            continue
        text = frame[column].astype(str).str.strip()
        blank = (text == "").to_numpy()
        nul = text.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
        if nul.any():  # PostgreSQL cannot store it; found here, the row is named
            report(nul, column, "contains a NUL character (\\x00):")
        if column in spec.numbers:
            # Commas are read as thousands separators only where they group digits by three
            # ("1,250,000.5"); "1,5" (a decimal comma) is not silently read as 15.
            grouped = text.str.fullmatch(THOUSANDS_PATTERN).fillna(False).to_numpy(dtype=bool)
            plain = text.where(~grouped, text.str.replace(",", "", regex=False))
            numbers = pd.to_numeric(plain, errors="coerce")
            values = numbers.to_numpy(dtype=float)
            report((~blank) & ~np.isfinite(values), column, "not a number")
            result[column] = values
        elif column in spec.dates:
            dates = pd.to_datetime(text.where(~blank, None), errors="coerce", format="%Y-%m-%d")
            report((~blank) & dates.isna().to_numpy(), column, "not a date (YYYY-MM-DD)")
            result[column] = dates
        elif column in spec.periods:
            valid = text.str.match(PERIOD_PATTERN).to_numpy()
            report(~valid, column, "not a period (2026, 2026-Q3 or 2026-07)")
            result[column] = text.to_numpy(dtype=object)
        else:
            result[column] = text.to_numpy(dtype=object)
        if column in spec.required:
            report(blank, column, "is empty:")
    if problems:
        raise InputError(problems=problems)
    return complete_columns(pd.DataFrame(result), spec)


def complete_columns(typed: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Every column of the table kind, in order: absent ones empty or at their default, and
    empty numbers at their default (``individual_score`` 1)."""
    columns = [c for c in spec.columns if c in typed.columns or c not in spec.only_when_given]
    for column in columns:
        default = spec.defaults.get(column)
        fill = float(default) if isinstance(default, int | float) else np.nan
        if column not in typed.columns:
            if column in spec.numbers:
                typed[column] = fill
            elif column in spec.dates:
                typed[column] = pd.NaT
            else:
                typed[column] = ""
        elif default is not None and column in spec.numbers:
            values = typed[column].to_numpy(dtype=float)
            typed[column] = np.where(np.isnan(values), fill, values)
    return typed[[*columns, *spec.carried_in(typed.columns)]]


def read_table(path: str | Path, spec: TableSpec, source: str | None = None) -> pd.DataFrame:
    """A table file as a typed DataFrame with ``attrs['source']`` and ``attrs['row_offset']``.

    ``row_offset`` turns a positional index into the file's row number (index + offset).
    ``source``: the name errors give the file (an upload's name rather than its temporary path).
    """
    target = regular_file(path)
    source = str(path) if source is None else source
    frame, first_row = _read_raw(target, source, spec)
    frame.columns = _check_columns(frame, spec, source)
    if frame.empty:
        raise InputError(f"{spec.name} file has no rows", file=source)
    typed = _typed(frame, spec, source, first_row)
    typed.attrs["source"] = source
    typed.attrs["row_offset"] = first_row
    return typed


def table_from_records(
    records: list[dict[str, object]], spec: TableSpec, source: str
) -> pd.DataFrame:
    """The same checks for rows given as JSON objects (HTTP requests); rows count from 1."""
    if not records:
        raise InputError(f"{spec.name} have no rows", file=source)
    frame = pd.DataFrame.from_records(records)
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    frame.columns = _check_columns(frame, spec, source)
    typed = _typed(frame, spec, source, 1)
    typed.attrs["source"] = source
    typed.attrs["row_offset"] = 1
    return typed


def table_from_text(frame: pd.DataFrame, spec: TableSpec, source: str) -> pd.DataFrame:
    """The same checks for a frame of text cells (a stored table read back); rows count from
    1. Column-wise, so a million stored rows take what reading the file took."""
    if frame.empty:
        raise InputError(f"{spec.name} have no rows", file=source)
    frame.columns = _check_columns(frame, spec, source)
    typed = _typed(frame, spec, source, 1)
    typed.attrs["source"] = source
    typed.attrs["row_offset"] = 1
    return typed


HISTORY = TableSpec(
    name="history",
    required=("period",),
    optional=("scope", "kpi", "actual", "department", "resource", "amount"),
    numbers=frozenset({"actual", "amount"}),
    periods=frozenset({"period"}),
)
_RESULT_COLUMNS = ("period", "scope", "kpi", "actual")
_AMOUNT_COLUMNS = ("period", "department", "resource", "amount")


def split_history(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A typed HISTORY table's KPI results and allocations, each row checked for its kind."""
    source, offset = (
        str(frame.attrs.get("source", "history")),
        int(frame.attrs.get("row_offset", 1)),
    )
    is_result = (frame["kpi"] != "").to_numpy()
    is_amount = (frame["resource"] != "").to_numpy()
    problems: list[Problem] = []

    def report(mask: np.ndarray, message: str) -> None:
        for index in np.flatnonzero(mask)[:MAX_REPORTED]:
            problems.append(Problem(message, source, row=int(index + offset)))

    report(
        is_result & is_amount,
        "a row is either a KPI result (kpi) or an allocation (resource), not both",
    )
    report(
        ~is_result & ~is_amount, "a row needs a kpi (a KPI result) or a resource (an allocation)"
    )
    report(is_result & (frame["scope"] == "").to_numpy(), "column 'scope': is empty")
    report(is_result & np.isnan(frame["actual"].to_numpy(dtype=float)), "column 'actual': is empty")
    report(is_amount & (frame["department"] == "").to_numpy(), "column 'department': is empty")
    report(is_amount & np.isnan(frame["amount"].to_numpy(dtype=float)), "column 'amount': is empty")
    if problems:
        raise InputError(problems=problems)
    return frame.loc[is_result, list(_RESULT_COLUMNS)], frame.loc[is_amount, list(_AMOUNT_COLUMNS)]


def history_tables(frames: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KPI results and allocations from typed HISTORY tables; both kinds must be there."""
    results, amounts = (
        zip(*(split_history(frame) for frame in frames), strict=True) if frames else ((), ())
    )
    found_results = pd.concat(results, ignore_index=True) if results else pd.DataFrame()
    found_amounts = pd.concat(amounts, ignore_index=True) if amounts else pd.DataFrame()
    if found_results.empty or found_amounts.empty:
        missing = (
            "KPI results (period,scope,kpi,actual)"
            if found_results.empty
            else "allocations (period,department,resource,amount)"
        )
        raise InputError(
            f"the history has no {missing}; fitting needs both",
            suggestion="give a file of each with --history twice, or one file holding both kinds of rows",
        )
    return found_results, found_amounts


def read_history(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KPI results (period,scope,kpi,actual) and allocations (period,department,resource,amount)
    over past periods, from one file holding both kinds of rows or from one file of each."""
    return history_tables([read_table(path, HISTORY) for path in paths])
