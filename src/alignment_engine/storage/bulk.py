"""Many rows at once: COPY on PostgreSQL, one C-level executemany on SQLite.

A million payout rows go in as one stream, never as a million ORM objects (see
``benchmarks/storage.py`` for how much that matters). Both paths run on the caller's connection,
inside its transaction, so a failure leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Table

from alignment_engine.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PAYOUT_COLUMNS", "insert_frame", "insert_records", "payout_rows", "read_payouts"]

PAYOUT_COLUMNS = ("run_id", "position", "employee_id", "department", "payout_units", "factor")
_COPY_CHUNK_ROWS = 200_000


def payout_rows(run_id: str, payouts: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """The payouts table's rows for a run, from a frame with ``employee_id``, ``department``,
    ``payout`` (currency, already rounded) or ``payout_units`` (integers), and ``factor``."""
    import pandas as pd

    from alignment_engine.scoring.money import to_units

    missing = [c for c in ("employee_id", "department") if c not in payouts.columns]
    if "payout" not in payouts.columns and "payout_units" not in payouts.columns:
        missing.append("payout")
    if missing:
        raise InputError(f"payouts to store lack the columns {', '.join(missing)}")
    if "payout_units" in payouts.columns:
        units = _numbers(payouts["payout_units"])
    else:
        values = _numbers(payouts["payout"])
        units = np.where(np.isfinite(values), 0.0, np.nan)
        finite = np.isfinite(values)
        units[finite] = to_units(values[finite], decimals, "half_even")
    if not np.all(np.isfinite(units)):
        row = int(np.flatnonzero(~np.isfinite(units))[0])
        raise InputError(f"payout row {row + 1} has no amount")
    identifiers = payouts["employee_id"]
    departments = payouts["department"]
    if identifiers.isna().any() or departments.isna().any():
        raise InputError("every payout row needs an employee_id and a department")
    factor = (
        _numbers(payouts["factor"])
        if "factor" in payouts.columns
        else np.full(len(payouts), np.nan)
    )
    return pd.DataFrame(
        {
            "run_id": _objects(np.full(len(payouts), run_id, dtype=object)),
            "position": np.arange(1, len(payouts) + 1, dtype=np.int64),
            "employee_id": _objects(_texts(identifiers)),
            "department": _objects(_texts(departments)),
            "payout_units": units.astype(np.int64),
            "factor": factor,
        },
        columns=list(PAYOUT_COLUMNS),
    )


def _texts(series: pd.Series) -> npt.NDArray[np.object_]:
    """A column as an array of Python strings, converted only where it holds something else."""
    values = series.to_numpy(dtype=object)
    if all(type(value) is str for value in values):
        return values
    return series.astype(str).to_numpy(dtype=object)


def _objects(values: npt.NDArray[np.object_]) -> pd.Series:
    """Text kept as Python objects: pandas would convert it to Arrow strings and the insert
    back again, a second per million rows each way."""
    import pandas as pd

    return pd.Series(values, dtype=object, copy=False)


def _numbers(series: pd.Series) -> npt.NDArray[np.float64]:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert every row of ``frame`` (columns named as the table's) in one bulk operation."""
    if frame.empty:
        return
    if connection.dialect.name == "postgresql":
        _copy_postgresql(connection, table, frame)
    else:
        _executemany(connection, table, frame)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows given as tuples in ``columns`` order, in one bulk operation, without a frame
    in between (the findings of a large check: a frame of them doubled the memory)."""
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no driver connection")
    if connection.dialect.name == "postgresql":
        statement = f'COPY "{table.name}" ({names}) FROM STDIN'
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    driver.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def _python_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Columns as Python lists, NaN as None (numpy's tolist is one C loop per column)."""
    columns: list[list[Any]] = []
    for name in frame.columns:
        series = frame[name]
        if series.dtype.kind == "f":
            values = series.to_numpy()
            missing = np.isnan(values)
            column: list[Any] = values.tolist()
            for index in np.flatnonzero(missing).tolist():
                column[index] = None
            columns.append(column)
        else:
            columns.append(series.to_numpy().tolist())
    return columns


def _executemany(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no driver connection")
    # sqlite3's executemany pulls the rows from the iterator in C: no list of a million tuples.
    rows = zip(*_python_columns(frame), strict=True)
    driver.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def _copy_postgresql(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = ", ".join(f'"{c}"' for c in frame.columns)
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no driver connection")
    # Text is always quoted, so an empty string stays a string; missing numbers are written as
    # "" too (pandas quotes its NaN text), and FORCE_NULL reads those back as NULL.
    numbers = [f'"{c}"' for c in frame.columns if frame[c].dtype.kind == "f"]
    force_null = f", FORCE_NULL ({', '.join(numbers)})" if numbers else ""
    statement = f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT csv{force_null})'
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(frame), _COPY_CHUNK_ROWS):
            chunk = frame.iloc[start : start + _COPY_CHUNK_ROWS]
            buffer = io.StringIO()
            chunk.to_csv(
                buffer,
                index=False,
                header=False,
                lineterminator="\n",
                quoting=csv.QUOTE_NONNUMERIC,
            )
            copy.write(buffer.getvalue().encode("utf-8"))


def insert_records(connection: Connection, table: Table, records: Sequence[dict[str, Any]]) -> None:
    """Insert a few rows (findings, allocations) through SQLAlchemy Core."""
    if records:
        connection.execute(table.insert(), list(records))


def read_payouts(connection: Connection, run_id: str) -> pd.DataFrame:
    """A run's payout rows in output order: ``employee_id``, ``department``, ``payout_units``,
    ``factor`` (COPY TO on PostgreSQL; one fetch on SQLite, built column by column)."""
    import pandas as pd

    query = (
        "SELECT employee_id, department, payout_units, factor FROM payouts "
        "WHERE run_id = {} ORDER BY position"
    )
    names = ["employee_id", "department", "payout_units", "factor"]
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no driver connection")
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        statement = f"COPY ({query.format('%s')}) TO STDOUT WITH (FORMAT csv)"
        with driver.cursor() as cursor, cursor.copy(statement, (run_id,)) as copy:
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        if not buffer.getbuffer().nbytes:
            return _empty_payouts()
        return pd.read_csv(
            buffer,
            header=None,
            names=names,
            dtype={
                "employee_id": "str",
                "department": "str",
                "payout_units": "int64",
                "factor": "float64",
            },
            keep_default_na=False,
            na_values={"factor": [""]},
        )
    # pandas builds the columns from the fetched tuples in C (zip(*rows) is several times slower).
    frame = pd.read_sql(query.format("?"), driver, params=(run_id,))
    return _payout_frame(frame) if len(frame) else _empty_payouts()


def _payout_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(
        {"employee_id": "str", "department": "str", "payout_units": "int64", "factor": "float64"}
    )


def _empty_payouts() -> pd.DataFrame:
    import pandas as pd

    return _payout_frame(
        pd.DataFrame({"employee_id": [], "department": [], "payout_units": [], "factor": []})
    )
