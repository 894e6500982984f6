"""Initial schema: documents, input tables, runs and their results, audit log, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(length=64)
RUN_ID = sa.String(length=32)
NAME = sa.String(length=200)


def _when() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _run_id_column() -> sa.Column[str]:
    return sa.Column("run_id", RUN_ID, nullable=False)


def _run_foreign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.id"], name=f"fk_{table}_run_id_runs", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("hash", HASH, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document_id", NAME, nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("hash", name="pk_documents"),
    )
    op.create_table(
        "input_tables",
        sa.Column("hash", HASH, nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("hash", name="pk_input_tables"),
    )
    op.create_table(
        "runs",
        sa.Column("id", RUN_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=True),
        sa.Column("run_hash", HASH, nullable=False),
        sa.Column("engine_version", sa.String(length=32), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalised_by", NAME, nullable=True),
        sa.Column("payout_decimals", sa.Integer(), nullable=True),
        sa.Column("result_hash", HASH, nullable=False),
        sa.Column("result_size", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_finished_at", "runs", ["finished_at"])
    op.create_index("ix_runs_kind_period", "runs", ["kind", "period"])
    op.create_index("ix_runs_run_hash", "runs", ["run_hash"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index(
        "uq_runs_final_period",
        "runs",
        ["kind", "period"],
        unique=True,
        sqlite_where=sa.text("status = 'final'"),
        postgresql_where=sa.text("status = 'final'"),
    )
    op.create_table(
        "run_documents",
        _run_id_column(),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("document_hash", HASH, nullable=False),
        sa.ForeignKeyConstraint(
            ["document_hash"], ["documents.hash"], name="fk_run_documents_document_hash_documents"
        ),
        _run_foreign_key("run_documents"),
        sa.PrimaryKeyConstraint("run_id", "role", name="pk_run_documents"),
    )
    op.create_index("ix_run_documents_document_hash", "run_documents", ["document_hash"])
    op.create_table(
        "run_tables",
        _run_id_column(),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("table_hash", HASH, nullable=False),
        _run_foreign_key("run_tables"),
        sa.ForeignKeyConstraint(
            ["table_hash"], ["input_tables.hash"], name="fk_run_tables_table_hash_input_tables"
        ),
        sa.PrimaryKeyConstraint("run_id", "role", name="pk_run_tables"),
    )
    op.create_index("ix_run_tables_table_hash", "run_tables", ["table_hash"])
    op.create_table(
        "payouts",
        _run_id_column(),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("employee_id", NAME, nullable=False),
        sa.Column("department", NAME, nullable=False),
        sa.Column("payout_units", sa.BigInteger(), nullable=False),
        sa.Column("factor", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_payouts"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "findings",
        _run_id_column(),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", NAME, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        _run_foreign_key("findings"),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_findings"),
    )
    op.create_table(
        "allocations",
        _run_id_column(),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resource", NAME, nullable=False),
        sa.Column("department", NAME, nullable=False),
        sa.Column("current", sa.Double(), nullable=True),
        sa.Column("proposed", sa.Double(), nullable=True),
        sa.Column("change", sa.Double(), nullable=True),
        sa.Column("marginal_value", sa.Double(), nullable=True),
        _run_foreign_key("allocations"),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_allocations"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", NAME, nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        _when(),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", NAME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("name", name="uq_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_tokens_token_hash"),
    )


def downgrade() -> None:
    for table in (
        "tokens",
        "audit_log",
        "allocations",
        "findings",
        "payouts",
        "run_tables",
        "run_documents",
        "runs",
        "input_tables",
        "documents",
    ):
        op.drop_table(table)
