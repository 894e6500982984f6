"""JSON text of results: one writer, so every command and the stored runs agree byte for byte.

orjson is about ten times faster than the standard library on million-row results and its output
matches ``json.dumps(indent=2, ensure_ascii=False)`` except that exponents are written without
padding (``1e-7``, not ``1e-07``).
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps"]


def dumps(data: Any) -> str:
    """Indented UTF-8 JSON; numpy numbers and arrays are written as plain numbers and lists."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
