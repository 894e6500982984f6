"""Which database: ``--db URL``, else ``ALIGNMENT_DB_URL``, else ``./alignment-engine.db``.

PostgreSQL URLs are pinned to psycopg 3 (``postgresql://`` and ``postgres://`` become
``postgresql+psycopg://``). Anything without a ``scheme://`` is a SQLite file path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from alignment_engine.errors import InputError, StorageError

__all__ = [
    "DEFAULT_SQLITE_FILE",
    "ENVIRONMENT_VARIABLE",
    "display_url",
    "is_sqlite",
    "parse_url",
    "resolve_database_url",
]

ENVIRONMENT_VARIABLE = "ALIGNMENT_DB_URL"
DEFAULT_SQLITE_FILE = "alignment-engine.db"

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def resolve_database_url(
    url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """The SQLAlchemy URL to open: the one given, the environment's, or the default file."""
    environment = os.environ if environ is None else environ
    chosen = url or environment.get(ENVIRONMENT_VARIABLE) or ""
    chosen = chosen.strip()
    base = cwd or Path.cwd()
    if not chosen:
        return f"sqlite:///{(base / DEFAULT_SQLITE_FILE).resolve()}"
    if "://" not in chosen:
        path = Path(chosen).expanduser()
        return f"sqlite:///{(path if path.is_absolute() else base / path).resolve()}"
    scheme, rest = chosen.split("://", 1)
    if scheme.lower() in _POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    if scheme.lower() in ("sqlite", "sqlite+pysqlite"):
        return chosen
    raise InputError(
        f"unsupported database URL scheme {scheme!r}",
        key="--db",
        suggestion="use sqlite:///PATH, a file path, or postgresql://USER@HOST/DB",
    )


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"cannot parse database URL {url!r}: {exc}") from exc


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].lower().startswith("sqlite")
