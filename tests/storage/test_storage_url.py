"""Which database a command uses: --db, else ALIGNMENT_DB_URL, else ./alignment-engine.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignment_engine.errors import InputError
from alignment_engine.storage import display_url, resolve_database_url


@pytest.mark.parametrize(
    ("given", "environment", "expected"),
    [
        (None, {}, "sqlite:////work/alignment-engine.db"),
        ("", {"ALIGNMENT_DB_URL": ""}, "sqlite:////work/alignment-engine.db"),
        (None, {"ALIGNMENT_DB_URL": "runs.db"}, "sqlite:////work/runs.db"),
        ("other.db", {"ALIGNMENT_DB_URL": "runs.db"}, "sqlite:////work/other.db"),
        ("/data/x.db", {}, "sqlite:////data/x.db"),
        ("sqlite:///rel.db", {}, "sqlite:///rel.db"),
        ("sqlite://", {}, "sqlite://"),
        ("postgresql://u@h/db", {}, "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", {}, "postgresql+psycopg://u@h/db"),
        (None, {"ALIGNMENT_DB_URL": "postgresql+psycopg://h/db"}, "postgresql+psycopg://h/db"),
    ],
)
def test_resolution(given: str | None, environment: dict[str, str], expected: str) -> None:
    assert resolve_database_url(given, environ=environment, cwd=Path("/work")) == expected


def test_unsupported_schemes_are_refused() -> None:
    with pytest.raises(InputError, match="unsupported database URL scheme 'mysql'"):
        resolve_database_url("mysql://u@h/db", environ={})


def test_passwords_are_hidden() -> None:
    assert display_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
