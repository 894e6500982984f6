"""Stored releases: a plan or policy version deployed once under a name and a version label,
with the period it is effective in, and referenced by requests instead of sent with each.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("version", NAME, nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_hash"], ["documents.hash"], name="fk_releases_document_hash_documents"
        ),
        sa.PrimaryKeyConstraint("kind", "name", "version", name="pk_releases"),
    )


def downgrade() -> None:
    op.drop_table("releases")
