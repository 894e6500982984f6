"""The scenario: a plan (and optionally a policy and forecast actuals) with overrides."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignment_engine.model.common import Document, Id

# A path addresses a value by ids: departments[sales].kpis[sales.market_share].target
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\[\]]+\])?(\.[^.\[\]]+(\[[^\[\]]+\])?)*$")


def _check_path(value: str) -> str:
    if not _PATH.match(value):
        raise ValueError(
            f"path {value!r} is not of the form key[id].key[id].field "
            "(e.g. departments[sales].kpis[sales.market_share].target)"
        )
    return value


class Override(Document):
    path: str
    value: Any

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _check_path(value)


class Sweep(Document):
    path: str
    values: list[Any] = Field(min_length=1, max_length=1000)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _check_path(value)


class Scenario(Document):
    """A what-if (docs/file-formats.md, "Scenario"): a plan it extends, overrides of its values,
    an optional sweep over one value, and optionally a policy and forecast actuals."""

    kind: Literal["scenario"] = "scenario"
    id: Id
    name: str = ""
    description: str = ""
    extends: str = Field(min_length=1)
    policy: str | None = None
    actuals: str | None = None
    employees: str | None = None
    period: str | None = None
    set: list[Override] = Field(default_factory=list)
    sweep: Sweep | None = None

    @model_validator(mode="after")
    def _no_duplicate_paths(self) -> Scenario:
        paths = [o.path for o in self.set]
        duplicated = sorted({p for p in paths if paths.count(p) > 1})
        if duplicated:
            raise ValueError(f"the same path is set twice: {duplicated}")
        return self
