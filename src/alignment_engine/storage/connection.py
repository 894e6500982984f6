"""Engines and write transactions that behave the same on SQLite and PostgreSQL.

SQLite: WAL mode (readers never wait for the writer), a busy timeout, foreign keys on, and write
transactions that start with ``BEGIN IMMEDIATE`` so two writers queue for the lock instead of
failing halfway with "database is locked" (a deferred transaction that reads first and writes
later cannot wait for the lock: SQLite gives up at once to avoid a deadlock).
PostgreSQL: a write transaction may take a transaction-scoped advisory lock on a key (a kind and
period), so checks such as "is this period final?" and the insert that follows see one order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import StaticPool

from alignment_engine.storage.url import is_sqlite, parse_url

__all__ = ["engine_for_url", "write_transaction"]

SQLITE_BUSY_TIMEOUT_MS = 60_000
_IMMEDIATE = "alignment_immediate"


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, instead of pysqlite guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def engine_for_url(url: str) -> Engine:
    """An engine for a resolved URL (see :func:`resolve_database_url`)."""
    parsed = parse_url(url)
    if is_sqlite(url):
        in_memory = parsed.database in (None, "", ":memory:")
        if in_memory:
            engine = create_engine(
                parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            engine = create_engine(parsed)
        _configure_sqlite(engine, in_memory)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def write_transaction(engine: Engine, *lock_names: str) -> Iterator[Connection]:
    """A connection inside one write transaction: committed at the end, rolled back on error.

    ``lock_names`` serialise writers that touch the same logical thing (PostgreSQL advisory
    locks; SQLite's write lock already serialises every writer).
    """
    with engine.connect() as connection:
        connection.execution_options(**{_IMMEDIATE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                for name in sorted(set(lock_names)):
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)}
                    )
            yield connection
