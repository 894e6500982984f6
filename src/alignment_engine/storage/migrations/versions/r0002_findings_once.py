"""Findings are stored once: the run's result document holds them whole, the findings table
keeps the columns a query filters on (rule, kind, severity, message) and no copy of each one.

A 40,000-KPI check has 228,000 findings; their second copy as JSON text in ``detail`` doubled
what storing the run wrote. ``Store.findings`` reads them from the result instead.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:  # SQLite rebuilds the table
        batch.drop_column("detail")


def downgrade() -> None:
    # The copies are gone; each finding is still whole in its run's result document.
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default="{}"))
