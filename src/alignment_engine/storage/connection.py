"""Engines and write transactions that behave the same on SQLite and PostgreSQL.

SQLite: WAL mode (readers never wait for the writer), a busy timeout, foreign keys on, and write
transactions that start with ``BEGIN IMMEDIATE`` so two writers queue for the lock instead of
failing halfway with "database is locked" (a deferred transaction that reads first and writes
later cannot wait for the lock: SQLite gives up at once to avoid a deadlock).
Writers on one SQLite file also queue on a lock of their own (a thread lock, then ``flock`` on
``<database>-writer.lock``) before ``BEGIN IMMEDIATE``: SQLite's busy handler polls with sleeps
of up to 100 ms, so several processes writing at once (``serve --workers N``) would each wait far
longer than the write takes; a writer blocked on ``flock`` wakes as soon as the lock is free.
PostgreSQL: a write transaction may take a transaction-scoped advisory lock on a key (a kind and
period), so checks such as "is this period final?" and the insert that follows see one order.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import StaticPool

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy timeout alone serialises writers
    fcntl = None  # type: ignore[assignment]

from alignment_engine.errors import StorageError
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
            _set_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _set_wal(cursor: Any) -> None:
    """Switch a file to WAL. Switching needs the file to itself, and SQLite does not always
    wait for that through the busy timeout (two processes opening a new file at once: one
    is creating the schema), so "locked" is retried for as long as the busy timeout."""
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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
            # Decision threads and the request threads read at once; a connection is costly to
            # open (WAL, pragmas), so keep enough of them.
            engine = create_engine(parsed, pool_size=8, max_overflow=24)
        _configure_sqlite(engine, in_memory)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


class _WriterQueue:
    """One SQLite file's writers, in order: threads of this process, then processes.

    Waiting is bounded by the same busy timeout SQLite has: a writer that cannot get the lock
    in time gets StorageError, as it would from SQLite, rather than waiting for ever behind a
    process that hangs while holding it."""

    def __init__(self, database: Path) -> None:
        self._thread_lock = threading.Lock()
        self._path = Path(f"{database}-writer.lock")

    @contextmanager
    def held(self) -> Iterator[None]:
        timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise _locked(self._path)
        try:
            try:
                # Opened per write (microseconds) so that no file stays open past a Store.
                handle = self._path.open("ab")
            except OSError:
                yield  # a read-only folder: SQLite's own busy timeout still serialises writers
                return
            with handle:
                if fcntl is not None:
                    _lock_file(handle.fileno(), deadline, self._path)  # released when closed
                yield
        finally:
            self._thread_lock.release()


def _lock_file(descriptor: int, deadline: float, path: Path) -> None:
    """``flock`` with a deadline: at once when free, else polled every millisecond or two (a
    write holds the lock for a few milliseconds)."""
    pause = 0.0005
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _locked(path) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


def _locked(path: Path) -> StorageError:
    return StorageError(
        f"the database is locked: another writer held {path.name} for more than "
        f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s"
    )


_WRITER_QUEUES: dict[str, _WriterQueue] = {}
_WRITER_QUEUES_LOCK = threading.Lock()


def _writer_queue(engine: Engine) -> _WriterQueue | None:
    """The queue of a SQLite file's writers (None for PostgreSQL and in-memory SQLite)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    key = os.path.realpath(database)
    with _WRITER_QUEUES_LOCK:
        queue = _WRITER_QUEUES.get(key)
        if queue is None:
            queue = _WRITER_QUEUES[key] = _WriterQueue(Path(key))
        return queue


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def write_transaction(engine: Engine, *lock_names: str) -> Iterator[Connection]:
    """A connection inside one write transaction: committed at the end, rolled back on error.

    ``lock_names`` serialise writers that touch the same logical thing (PostgreSQL advisory
    locks; SQLite's write lock already serialises every writer).
    """
    queue = _writer_queue(engine)
    with queue.held() if queue is not None else nullcontext(), engine.connect() as connection:
        connection.execution_options(**{_IMMEDIATE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                for name in sorted(set(lock_names)):
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)}
                    )
            yield connection
