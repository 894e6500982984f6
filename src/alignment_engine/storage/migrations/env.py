"""Alembic environment: always run programmatically on a connection the Store provides."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from alignment_engine.storage.orm import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "alignment-engine migrations run through `alignment-engine db upgrade` "
        "(or Store.upgrade()), which passes the connection; they have no alembic.ini"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
