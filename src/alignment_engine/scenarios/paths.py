"""Override paths: ``departments[sales].kpis[sales.market_share].target`` as segments.

Brackets pick a list item by its ``id`` (response curves by ``kpi`` or ``kpi@resource``) or a
mapping entry by its key (keys with dots, such as KPI ids, need brackets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alignment_engine.errors import ScenarioError


@dataclass(frozen=True)
class PathSegment:
    """``name`` or ``name[selector]``: a key, then optionally an id (list) or a key (mapping)."""

    name: str
    selector: str | None = None

    def __str__(self) -> str:
        return self.name if self.selector is None else f"{self.name}[{self.selector}]"


_SEGMENT = re.compile(r"([^.\[\]]+)(?:\[([^\[\]]+)\])?")


def parse_path(text: str) -> tuple[PathSegment, ...]:
    """Split ``departments[sales].kpis[sales.market_share].target`` into segments."""
    segments: list[PathSegment] = []
    position = 0
    while True:
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ScenarioError(
                f"path {text!r} is not of the form key[id].key[id].field",
                key=text,
                suggestion="e.g. departments[sales].kpis[sales.market_share].target",
            )
        segments.append(PathSegment(match.group(1), match.group(2)))
        position = match.end()
        if position == len(text):
            return tuple(segments)
        if text[position] != ".":
            raise ScenarioError(
                f"path {text!r}: expected '.' after '{segments[-1]}' at character {position + 1}",
                key=text,
            )
        position += 1
