"""Write a run's output files all at once or not at all.

Files are written into a staging folder beside the destination and put in place only when every
one of them was written: a new folder is the staging folder renamed, a folder of a previous run's
outputs is swapped with it in one atomic step (see :func:`write_atomically`). A failed or killed
run leaves the previous outputs as they were, never a mix of two runs or a half-written file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from alignment_engine.errors import InputError

if TYPE_CHECKING:  # pandas loads in half a second: only the commands that write tables pay it
    import pandas as pd

__all__ = [
    "Writer",
    "ensure_writable",
    "flat_frame",
    "text_writer",
    "write_atomically",
    "write_table",
]

Writer = Callable[[Path], None]


def text_writer(text: str | bytes) -> Writer:
    """A writer of ``text`` as UTF-8 (bytes are written as they are), for
    :func:`write_atomically`."""

    def write(path: Path) -> None:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return write


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
        Path(tempfile.mkdtemp(prefix=f".{destination.name}.probe-", dir=parent)).rmdir()
    except OSError as exc:
        raise _cannot_write(destination, exc) from None


def write_atomically(out_dir: str | Path, writers: Mapping[str, Writer]) -> list[Path]:
    """Write each named file into ``out_dir``; all of them appear, or none.

    Every file is written into a staging folder beside ``out_dir`` first. Then:

    - a new ``out_dir`` is the staging folder renamed (one atomic step);
    - an ``out_dir`` holding only files of these names (a previous run's outputs) is swapped
      with the staging folder in one atomic step (``renameat2(RENAME_EXCHANGE)``), so readers
      see the old set or the new set, never a mix, whatever kills the process;
    - an ``out_dir`` holding other things too (or where the swap is not supported) gets each
      file replaced by an atomic rename, after checking that every one of them can be.

    Staging folders left by a killed process are removed by the next write to the same folder.
    """
    destination = Path(out_dir)
    ensure_writable(destination)
    try:
        return _write_staged(destination, writers)
    except OSError as exc:
        raise _cannot_write(destination, exc) from None


_STAGING = ".{name}.staging-{pid}-"


def _write_staged(destination: Path, writers: Mapping[str, Writer]) -> list[Path]:
    parent = destination.resolve().parent
    _remove_abandoned_staging(parent, destination.name)
    staging = Path(
        tempfile.mkdtemp(prefix=_STAGING.format(name=destination.name, pid=os.getpid()), dir=parent)
    )
    try:
        for name, write in writers.items():
            write(staging / name)
        written = [destination / name for name in writers]
        if not destination.exists():
            staging.rename(destination)
            return written
        _check_replaceable(destination, writers)
        if _holds_only(destination, writers) and _exchange(staging, destination):
            return written  # the previous outputs are now in ``staging``, removed below
        for name in writers:
            (staging / name).replace(destination / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_replaceable(destination: Path, writers: Mapping[str, Writer]) -> None:
    """Refuse before replacing anything where one replacement would fail (a folder named like
    an output), so a run never leaves some files new and some old."""
    for name in writers:
        target = destination / name
        if target.is_dir() and not target.is_symlink():
            raise InputError(
                f"cannot write {name}: the output folder holds a folder of that name",
                file=str(target),
                key="--out",
                suggestion="move or rename it, or choose another --out folder",
            )


def _holds_only(destination: Path, writers: Mapping[str, Writer]) -> bool:
    """Whether the folder holds nothing but files this write replaces (and is not the working
    directory or above it, which a swap would pull away from under the shell)."""
    resolved = destination.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return False
    with os.scandir(destination) as entries:
        return all(entry.name in writers and entry.is_file() for entry in entries)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2); False where not supported."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # the file system cannot swap
        return False
    raise OSError(error, os.strerror(error), str(second))


def _remove_abandoned_staging(parent: Path, name: str) -> None:
    """Staging folders of processes that died before cleaning up (killed mid-write)."""
    prefix = f".{name}.staging-"
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
                continue
            pid_text = entry.name[len(prefix) :].split("-", 1)[0]
            if pid_text.isdigit() and not _alive(int(pid_text)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
