"""Pay across periods: each score run's ledger entries (deferrals, advances, recoveries).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(length=200)
PERIOD = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("employee_id", NAME, nullable=False),
        sa.Column("lot", sa.String(length=16), nullable=False),
        sa.Column("origin", PERIOD, nullable=False),
        sa.Column("due", PERIOD, nullable=False),
        sa.Column("entry", sa.String(length=16), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_ledger_entries"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
