"""Schema migrations (Alembic), run on a connection we hold, without an ``alembic.ini``.

Policy when a database is opened: an empty or older SQLite database is upgraded on the spot (a
SQLite file is a private store this engine created); PostgreSQL is never changed behind the
operator's back: an older schema is an error telling them to run ``alignment-engine db upgrade``.
A database newer than this engine, or one with foreign tables and no revision, is always an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from alignment_engine.errors import StorageError
from alignment_engine.storage.connection import write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS",
    "SchemaState",
    "check_schema",
    "head_revision",
    "make_revision",
    "schema_state",
    "upgrade_schema",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions (a test keeps them equal). Knowing it without
# importing Alembic keeps opening an up-to-date database fast.
HEAD_REVISION = "0007"
_MIGRATION_LOCK = "alignment-engine:migrations"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision, as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StorageError("alignment-engine ships no migrations; the installation is broken")
    return head


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands relative to this engine's migrations."""

    current: str | None
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        """The current revision is one of ours (or the database is empty)."""
        if self.current is None:
            return not self.has_tables
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(_config())
        return any(rev.revision == self.current for rev in script.walk_revisions())


def _state(connection: Connection) -> SchemaState:
    tables = set(inspect(connection).get_table_names())
    current = None
    if "alembic_version" in tables:
        current = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return SchemaState(
        current=current, head=HEAD_REVISION, has_tables=bool(tables - {"alembic_version"})
    )


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        return _state(connection)


def upgrade_schema(engine: Engine) -> tuple[str | None, str]:
    """Upgrade to the newest revision in one transaction; returns (before, after).

    Concurrent upgraders queue on a lock, and the second finds nothing left to do.
    """
    with write_transaction(engine, _MIGRATION_LOCK) as connection:
        state = _state(connection)
        if not state.known:
            raise StorageError(_unknown_message(state))
        if not state.up_to_date:
            from alembic import command

            command.upgrade(_config(connection), "head")
        return state.current, state.head


def _unknown_message(state: SchemaState) -> str:
    if state.current is None:
        return (
            "this database has tables but is not an alignment-engine database "
            "(no alembic_version); use an empty database"
        )
    return (
        f"this database is at schema revision {state.current!r}, which this engine "
        f"(newest {state.head!r}) does not know: upgrade alignment-engine"
    )


def check_schema(state: SchemaState, url_for_message: str) -> None:
    """Raise a clear StorageError unless the schema is exactly this engine's."""
    if not state.known:
        raise StorageError(_unknown_message(state))
    if not state.up_to_date:
        where = f" --db '{url_for_message}'"
        raise StorageError(
            f"the database schema is at revision {state.current or 'none (empty database)'}, "
            f"this engine needs {state.head}: run `alignment-engine db upgrade{where}`"
        )


def make_revision(message: str) -> None:  # pragma: no cover - a developer tool
    """Autogenerate a new revision file from ``orm.py`` (developers only)."""
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")
        command.revision(_config(connection), message=message, autogenerate=True)
