"""Canonical bytes of inputs, so equal inputs get equal hashes wherever they came from.

A document (plan, policy, rule pack, scenario) is canonical JSON: keys sorted, no spaces, UTF-8,
floats as Python prints them (the shortest text that reads back to the same double). A table is
canonical CSV: its columns in order, its rows in order, ``\\n`` line ends, text quoted, floats in
their shortest exact form, missing values empty (see :func:`canonical_table_bytes`). Hashes are
sha256 of those bytes, in hex.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from alignment_engine.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "JsonDocument",
    "canonical_json",
    "canonical_table_bytes",
    "content_hash",
    "document_content",
    "table_from_bytes",
]

JsonDocument = Mapping[str, Any] | BaseModel


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseModel):
        return document_content(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text (sorted keys, no whitespace, no NaN)."""
    try:
        return json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot store a value that is not plain JSON: {exc}") from exc


def content_hash(data: bytes | str) -> str:
    """sha256 of the bytes (text is encoded as UTF-8), in hex."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def document_content(document: JsonDocument) -> dict[str, Any]:
    """A document as plain JSON data. Models are dumped the way ``document_to_yaml`` writes them
    (aliases, defaults left out, ``kind`` first), so the stored copy loads back to an equal model.
    """
    if isinstance(document, BaseModel):
        data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if "kind" in type(document).model_fields:
            data = {"kind": dict(document)["kind"], **data}
        return data
    loaded: dict[str, Any] = json.loads(canonical_json(dict(document)))
    return loaded


def canonical_table_bytes(frame: pd.DataFrame) -> bytes:
    """A table as canonical CSV bytes (the index is not part of a table).

    Written by Arrow's CSV writer, several times faster than pandas' on the million-row tables
    a quarter-end run stores: text always quoted (so an empty text and a missing value differ),
    numbers in their shortest exact form, dates as YYYY-MM-DD. A column Arrow cannot type (mixed
    Python objects) sends the whole table through pandas' writer instead."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    if frame.columns.empty:
        return b""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue().encode("utf-8")
    columns = [
        pc.strftime(column, format="%Y-%m-%d") if pa.types.is_timestamp(column.type) else column
        for column in table.columns
    ]
    table = pa.Table.from_arrays(columns, names=[str(name) for name in frame.columns])
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(quoting_style="needed", eol="\n"))
    return sink.getvalue()


def table_from_bytes(data: bytes) -> pd.DataFrame:
    """Canonical CSV bytes back as a frame of text cells, exactly as stored (empty for missing).

    Types are left to the table loader that checks the columns, as for any file a user gives.
    """
    import pandas as pd

    if not data.strip():
        return pd.DataFrame()
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
