"""Write a run's output files all at once or not at all.

Files are written into a temporary folder beside the destination and moved into place only when
every one of them was written, so a failed run leaves nothing behind (and never a half-written
file: each move is an atomic rename on the same file system).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from alignment_engine.errors import InputError

if TYPE_CHECKING:  # pandas loads in half a second: only the commands that write tables pay it
    import pandas as pd

__all__ = ["Writer", "ensure_writable", "flat_frame", "write_atomically", "write_table"]

Writer = Callable[[Path], None]
"""Writes one output file at the path it is given."""


def _cannot_write(destination: Path, exc: OSError) -> InputError:
    return InputError(
        f"cannot write outputs here: {exc.strerror or exc}",
        file=str(destination),
        key="--out",
        suggestion="choose a folder you can write to",
    )


def ensure_writable(out_dir: str | Path) -> None:
    """Fail early, before any work is stored, when ``out_dir`` cannot take the outputs."""
    destination = Path(out_dir)
    if destination.exists() and not destination.is_dir():
        raise InputError("--out must be a folder, this is a file", file=str(destination))
    try:
        parent = destination.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=parent)).rmdir()
    except OSError as exc:
        raise _cannot_write(destination, exc) from None


def write_atomically(out_dir: str | Path, writers: Mapping[str, Writer]) -> list[Path]:
    """Write each named file into ``out_dir``; all of them appear, or none."""
    destination = Path(out_dir)
    ensure_writable(destination)
    try:
        return _write_staged(destination, writers)
    except OSError as exc:
        raise _cannot_write(destination, exc) from None


def _write_staged(destination: Path, writers: Mapping[str, Writer]) -> list[Path]:
    parent = destination.resolve().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=parent))
    created_destination = False
    try:
        for name, write in writers.items():
            write(staging / name)
        if not destination.exists():
            destination.mkdir()
            created_destination = True
        written = []
        for name in writers:
            target = destination / name
            (staging / name).replace(target)
            written.append(target)
        return written
    except BaseException:
        if created_destination:
            with contextlib.suppress(OSError):
                shutil.rmtree(destination)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested values (lists, mappings) as JSON text, for formats whose cells are scalars."""
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].dtype != object or _all_scalar_text(flat[column]):
            continue
        if flat[column].map(lambda v: isinstance(v, list | dict)).any():
            flat[column] = flat[column].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
            )
    return flat


def _all_scalar_text(values: pd.Series) -> bool:
    """Whether an object column holds only strings (and missing values): pandas answers in C,
    where a per-cell check cost a second per million rows."""
    import pandas as pd

    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


FORMULA_START = "=+-@\t\r"
"""A text cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection
list): ``=HYPERLINK(...)``, ``+1+2``, ``-2+3``, ``@SUM(...)``."""


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as formulas, with a ``'`` in front (shown, not run);
    numbers, including negative ones, are left as they are."""
    import pandas as pd

    safe = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue  # numbers, dates and flags are never formulas
        if values.dtype == object:
            if not _all_scalar_text(values):
                # Only text can be a formula; numbers in a mixed column stay as they are.
                values = values.map(lambda v: v if isinstance(v, str) else None)
            # Arrow strings match in C++; Python's re took a second per million cells.
            values = values.astype("string[pyarrow]")
        risky = values.str.match(f"[{re.escape(FORMULA_START)}]", na=False).to_numpy(dtype=bool)
        if risky.any():
            if safe is frame:
                safe = frame.copy()
            column_values = safe[column].astype(object)
            column_values[risky] = "'" + values[risky].astype(str)
            safe[column] = column_values
    return safe


def write_table(frame: pd.DataFrame, path: Path, fmt: str, *, raw: bool = False) -> None:
    """A table as CSV (pyarrow's writer: several times faster than pandas' on million-row
    tables), Parquet or XLSX. CSV and XLSX text cells that a spreadsheet would run are
    neutralised (:func:`spreadsheet_safe`) unless ``raw``; Parquet keeps values as they are."""
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
        return
    flat = flat_frame(frame)
    if not raw:
        flat = spreadsheet_safe(flat)
    if fmt == "xlsx":
        flat.to_excel(path, index=False)
        return
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    pa_csv.write_csv(pa.Table.from_pandas(flat, preserve_index=False), path)
