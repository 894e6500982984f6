"""Migrations: they build exactly the ORM tables, and opening an old database is handled.

Policy: a SQLite database that is empty or older is upgraded when opened; PostgreSQL is never
changed behind the operator's back (a clear error says to run `alignment-engine db upgrade`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from alignment_engine.errors import StorageError
from alignment_engine.storage import Store, head_revision
from alignment_engine.storage.migrate import HEAD_REVISION
from alignment_engine.storage.orm import Base


def test_the_known_head_is_the_newest_migration() -> None:
    assert head_revision() == HEAD_REVISION


def test_migrations_build_exactly_the_orm_tables(db_url: str) -> None:
    with Store.open(db_url) as store, store._engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_an_empty_database(blank_db_url: str) -> None:
    if blank_db_url.startswith("sqlite"):
        with Store.open(blank_db_url) as store:
            assert store.schema_state().up_to_date
            assert store.list_runs() == []
        return
    with pytest.raises(StorageError, match="run `alignment-engine db upgrade --db"):
        Store.open(blank_db_url)
    with Store.open(blank_db_url, check_schema=False) as store:
        assert not store.schema_state().up_to_date
        assert store.upgrade() == (None, HEAD_REVISION)
        assert store.upgrade() == (HEAD_REVISION, HEAD_REVISION)
        assert [e.action for e in store.audit_log()] == ["db.upgraded"]
    with Store.open(blank_db_url) as store:
        assert store.list_runs() == []


def test_a_database_newer_than_the_engine_is_refused(db_url: str) -> None:
    with Store.open(db_url) as store, store._engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError, match="revision '9999', which this engine"):
        Store.open(db_url)
    with Store.open(db_url, check_schema=False) as store, pytest.raises(StorageError):
        store.upgrade()


def test_a_foreign_sqlite_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "someone-else.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER)")
    connection.close()
    with pytest.raises(StorageError, match="not an alignment-engine database"):
        Store.open(str(path))


def test_an_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="unable to open database file"):
        Store.open(f"sqlite:///{tmp_path}/missing-dir/x.db")
    with pytest.raises(StorageError, match="failed"):
        Store.open(f"postgresql://nobody@/db?host={tmp_path}&port=1")
